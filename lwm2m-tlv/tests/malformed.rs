//! Malformed input and the bug shapes other stacks shipped: each gives a typed error with the
//! offset, never a panic or a read outside the input or the parent.

use lwm2m_tlv::{DataType, Error, Kind, Path, Records, Tlv, Writer, check_path, decode, validate};

fn walk(bytes: &[u8]) -> Result<usize, Error> {
    validate(bytes)
}

#[test]
fn truncated_headers() {
    for bytes in [
        &[0xe1][..],               // 16-bit id missing
        &[0xe1, 0x00],             // 16-bit id half there
        &[0xc8, 0x00],             // 8-bit length missing
        &[0xd0, 0x00, 0x01],       // 16-bit length half there
        &[0xd8, 0x00, 0x01, 0x00], // 24-bit length short
        &[0xc1],                   // id missing
    ] {
        assert_eq!(
            walk(bytes),
            Err(Error::TruncatedHeader { offset: 0 }),
            "{bytes:02x?}"
        );
    }
    // Second record truncated: the offset points at it.
    assert_eq!(
        walk(&[0xc1, 0x00, 0x01, 0xc8]),
        Err(Error::TruncatedHeader { offset: 3 })
    );
}

#[test]
fn length_past_the_end() {
    assert_eq!(
        walk(&[0xc3, 0x00, 0x01]),
        Err(Error::ValueOverrun {
            offset: 0,
            len: 3,
            available: 1
        })
    );
    assert_eq!(
        walk(&[0xd8, 0x00, 0xff, 0xff, 0xff, 0x00]),
        Err(Error::ValueOverrun {
            offset: 0,
            len: 0xff_ffff,
            available: 1
        })
    );
}

#[test]
fn length_past_the_parent() {
    // Instance of 3 bytes whose resource claims 4: the bytes after the instance must not be read.
    let bytes = [0x03, 0x00, 0xc4, 0x01, 0xaa, 0xc1, 0x02, 0x05];
    assert_eq!(
        walk(&bytes),
        Err(Error::ValueOverrun {
            offset: 2,
            len: 4,
            available: 1
        })
    );
    // Header of a child cut by the parent's end.
    let bytes = [0x81, 0x00, 0x41, 0x00, 0x00];
    assert_eq!(walk(&bytes), Err(Error::TruncatedHeader { offset: 2 }));
}

#[test]
fn bad_nesting() {
    // Instance inside an instance.
    assert_eq!(
        walk(&[0x02, 0x00, 0x00, 0x01]),
        Err(Error::BadNesting {
            offset: 2,
            parent: Kind::ObjectInstance,
            kind: Kind::ObjectInstance
        })
    );
    // Resource instance directly in an object instance.
    assert_eq!(
        walk(&[0x03, 0x00, 0x41, 0x00, 0x01]),
        Err(Error::BadNesting {
            offset: 2,
            parent: Kind::ObjectInstance,
            kind: Kind::ResourceInstance
        })
    );
    // Resource in a multiple resource.
    assert_eq!(
        walk(&[0x83, 0x05, 0xc1, 0x00, 0x01]),
        Err(Error::BadNesting {
            offset: 2,
            parent: Kind::MultipleResource,
            kind: Kind::Resource
        })
    );
    // Multiple resource in a multiple resource (deeper nesting).
    assert_eq!(
        walk(&[0x04, 0x00, 0x82, 0x01, 0x80, 0x00]),
        Err(Error::BadNesting {
            offset: 4,
            parent: Kind::MultipleResource,
            kind: Kind::MultipleResource
        })
    );
}

#[test]
fn iterator_stops_after_an_error() {
    let mut it = decode(&[0xc1, 0x00, 0x01, 0xc5, 0x01]);
    assert!(it.next().unwrap().is_ok());
    assert!(it.next().unwrap().is_err());
    assert!(it.next().is_none());
}

#[test]
fn zero_length_and_short_integers_and_floats() {
    let zero = [0xc0, 0x07];
    let t = Tlv::parse(&zero).unwrap().0;
    let len_err = |ty, len| Some(Error::ValueLength { offset: 0, ty, len });
    assert_eq!(t.as_i64().err(), len_err(DataType::Integer, 0));
    assert_eq!(t.as_u64().err(), len_err(DataType::Unsigned, 0));
    assert_eq!(t.as_f64().err(), len_err(DataType::Float, 0));
    assert_eq!(t.as_bool().err(), len_err(DataType::Boolean, 0));
    assert_eq!(t.as_objlnk().err(), len_err(DataType::ObjectLink, 0));
    for len in [3usize, 5, 6, 7, 9] {
        let mut bytes = vec![0xc8, 0x07, len as u8];
        bytes.extend(std::iter::repeat_n(0x11, len));
        let t = Tlv::parse(&bytes).unwrap().0;
        assert_eq!(t.as_i64().err(), len_err(DataType::Integer, len));
        assert_eq!(t.as_f64().err(), len_err(DataType::Float, len));
    }
    // A 2-byte float is not a float.
    let t = Tlv::parse(&[0xc2, 0x07, 0x3c, 0x00]).unwrap().0;
    assert_eq!(t.as_f64().err(), len_err(DataType::Float, 2));
}

#[test]
fn int64_min() {
    let mut buf = [0u8; 16];
    let mut w = Writer::new(&mut buf);
    w.resource_i64(1, i64::MIN).unwrap();
    let n = w.finish().unwrap();
    assert_eq!(&buf[..n], &[0xc8, 0x01, 0x08, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(Tlv::parse(&buf[..n]).unwrap().0.as_i64(), Ok(i64::MIN));
    assert_eq!(Tlv::parse(&buf[..n]).unwrap().0.as_u64(), Ok(1 << 63));
}

#[test]
fn integer_129_takes_two_bytes() {
    let mut buf = [0u8; 8];
    let mut w = Writer::new(&mut buf);
    w.resource_i64(1, 129).unwrap();
    let n = w.finish().unwrap();
    assert_eq!(&buf[..n], &[0xc2, 0x01, 0x00, 0x81]);
    assert_eq!(Tlv::parse(&buf[..n]).unwrap().0.as_i64(), Ok(129));
    // One byte 0x81 is -127 as a signed integer (and 129 only as unsigned).
    let t = Tlv::parse(&[0xc1, 0x01, 0x81]).unwrap().0;
    assert_eq!((t.as_i64(), t.as_u64()), (Ok(-127), Ok(129)));
}

#[test]
fn single_resource_with_wrong_id_is_refused() {
    // A Write to /5/0/1 carrying resource 2.
    let payload = [0xc3, 0x02, b'a', b'b', b'c'];
    assert_eq!(
        check_path(&payload, Path::Resource(5, 0, 1)).err(),
        Some(Error::IdMismatch {
            offset: 0,
            kind: Kind::Resource,
            expected: 1,
            found: 2
        })
    );
}

#[test]
fn booleans_and_strings() {
    let t = Tlv::parse(&[0xc1, 0x00, 0x02]).unwrap().0;
    assert_eq!(
        t.as_bool(),
        Err(Error::InvalidBoolean { offset: 0, byte: 2 })
    );
    let t = Tlv::parse(&[0xc2, 0x00, 0x02, 0x00]).unwrap().0;
    assert_eq!(
        t.as_bool(),
        Err(Error::ValueLength {
            offset: 0,
            ty: DataType::Boolean,
            len: 2
        })
    );
    // Invalid UTF-8 at the fourth value byte of the second record.
    let bytes = [0xc1, 0x00, 0x01, 0xc4, 0x01, b'a', b'b', b'c', 0xff];
    let t = decode(&bytes).nth(1).unwrap().unwrap();
    assert_eq!(t.as_str(), Err(Error::InvalidUtf8 { offset: 8 }));
}

#[test]
fn accessors_on_containers() {
    let bytes = [0x83, 0x05, 0x41, 0x00, 0x01];
    let t = Tlv::parse(&bytes).unwrap().0;
    let err = Err(Error::NotAValue {
        offset: 0,
        kind: Kind::MultipleResource,
    });
    assert_eq!(t.as_i64(), err);
    assert_eq!(t.as_str().map(|_| 0), err);
    assert_eq!(t.as_opaque().map(|_| 0), err);
    // And children of a value are empty.
    let v = Tlv::parse(&[0xc1, 0x00, 0x00]).unwrap().0;
    assert_eq!(v.children().count(), 0);
}

#[test]
fn every_prefix_of_a_valid_payload_is_an_error_or_shorter() {
    let bytes = [
        0x08, 0x00, 0x0e, 0xc1, 0x00, 0x01, 0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05, 0xc1,
        0x09, 0x64,
    ];
    assert_eq!(walk(&bytes), Ok(6));
    for cut in 1..bytes.len() {
        assert!(walk(&bytes[..cut]).is_err(), "prefix of {cut} bytes");
    }
}

#[test]
fn errors_display_what_and_where() {
    let e = walk(&[0xc1, 0x00, 0x01, 0xc3, 0x00, 0x01]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "TLV value length 3 at offset 3 runs past the end of its input or container (only 1 available)"
    );
    let e = Tlv::parse(&[0xc3, 0x00, 1, 2, 3])
        .unwrap()
        .0
        .as_i64()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "integer value at offset 0 has 3 bytes (allowed: 1, 2, 4 or 8)"
    );
    let _ = Records::new(&[]);
}
