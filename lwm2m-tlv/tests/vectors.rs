//! Byte-exact vectors: every record kind, every header form, the Device object instance.

use lwm2m_tlv::{Kind, ObjLnk, Records, Tlv, Writer, decode, encoded_len, header_len, validate};

/// Bytes from hex with optional spaces.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn one(bytes: &[u8]) -> Tlv<'_> {
    let (tlv, rest) = Tlv::parse(bytes).unwrap();
    assert!(rest.is_empty());
    assert_eq!(tlv.encoded_len(), bytes.len());
    tlv
}

fn encode(f: impl FnOnce(&mut Writer<'_>) -> Result<(), lwm2m_tlv::Error>) -> Vec<u8> {
    let mut buf = vec![0u8; 80_000];
    let mut w = Writer::new(&mut buf);
    f(&mut w).unwrap();
    let n = w.finish().unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn every_kind() {
    // Resource 1 = 5, resource instance 2 = 6, multiple resource 3 {0: 7}, instance 4 {res 1}.
    let cases: [(&str, Kind, u16, &str); 4] = [
        ("c1 01 05", Kind::Resource, 1, "05"),
        ("41 02 06", Kind::ResourceInstance, 2, "06"),
        ("83 03 41 00 07", Kind::MultipleResource, 3, "41 00 07"),
        ("03 04 c1 01 05", Kind::ObjectInstance, 4, "c1 01 05"),
    ];
    for (bytes, kind, id, value) in cases {
        let bytes = hex(bytes);
        let tlv = one(&bytes);
        assert_eq!(
            (tlv.kind(), tlv.id(), tlv.value()),
            (kind, id, &hex(value)[..])
        );
        assert_eq!(
            validate(&bytes),
            Ok(if kind.is_container() { 2 } else { 1 })
        );
    }
    assert_eq!(encode(|w| w.resource_i64(1, 5)), hex("c1 01 05"));
    assert_eq!(encode(|w| w.resource_instance_i64(2, 6)), hex("41 02 06"));
    assert_eq!(
        encode(|w| {
            w.begin_multiple(3)?;
            w.resource_instance_i64(0, 7)?;
            w.end()
        }),
        hex("83 03 41 00 07")
    );
    assert_eq!(
        encode(|w| {
            w.begin_instance(4)?;
            w.resource_i64(1, 5)?;
            w.end()
        }),
        hex("03 04 c1 01 05")
    );
}

#[test]
fn every_header_form() {
    // (id, value length, expected header)
    let cases: [(u16, usize, &str); 10] = [
        (0, 0, "c0 00"),
        (7, 7, "c7 07"),
        (255, 8, "c8 ff 08"),
        (9, 255, "c8 09 ff"),
        (9, 256, "d0 09 01 00"),
        (9, 65535, "d0 09 ff ff"),
        (9, 65536, "d8 09 01 00 00"),
        (256, 3, "e3 01 00"),
        (0xffff, 300, "f0 ff ff 01 2c"),
        (0x1234, 70_000, "f8 12 34 01 11 70"),
    ];
    for (id, len, header) in cases {
        let header = hex(header);
        assert_eq!(header_len(id, len), header.len(), "id {id} len {len}");
        assert_eq!(encoded_len(id, len), header.len() + len);
        let value: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let bytes = encode(|w| w.resource_opaque(id, &value));
        assert_eq!(&bytes[..header.len()], &header[..], "id {id} len {len}");
        assert_eq!(&bytes[header.len()..], &value[..]);
        let tlv = one(&bytes);
        assert_eq!(
            (tlv.kind(), tlv.id(), tlv.value()),
            (Kind::Resource, id, &value[..])
        );
        assert_eq!(tlv.value_offset(), header.len());
    }
}

#[test]
fn decoder_accepts_longer_header_forms() {
    // 16-bit id 1 and a 24-bit length field for a 1-byte value: legal, if not smallest.
    let bytes = hex("f8 00 01 00 00 01 2a");
    let tlv = one(&bytes);
    assert_eq!((tlv.id(), tlv.as_i64()), (1, Ok(42)));
    // 8-bit length field for a short value.
    assert_eq!(one(&hex("c8 05 01 01")).as_bool(), Ok(true));
}

#[test]
fn typed_values() {
    type Case = (&'static str, fn(&Tlv<'_>) -> String, &'static str);
    let cases: [Case; 14] = [
        ("c1 00 7f", |t| t.as_i64().unwrap().to_string(), "127"),
        ("c1 00 80", |t| t.as_i64().unwrap().to_string(), "-128"),
        ("c2 00 00 81", |t| t.as_i64().unwrap().to_string(), "129"),
        (
            "c4 00 80 00 00 00",
            |t| t.as_i64().unwrap().to_string(),
            "-2147483648",
        ),
        (
            "c8 00 08 80 00 00 00 00 00 00 00",
            |t| t.as_i64().unwrap().to_string(),
            "-9223372036854775808",
        ),
        ("c1 00 81", |t| t.as_u64().unwrap().to_string(), "129"),
        (
            "c8 00 08 ff ff ff ff ff ff ff ff",
            |t| t.as_u64().unwrap().to_string(),
            "18446744073709551615",
        ),
        (
            "c4 00 3f c0 00 00",
            |t| t.as_f64().unwrap().to_string(),
            "1.5",
        ),
        (
            "c8 00 08 3f b9 99 99 99 99 99 9a",
            |t| t.as_f64().unwrap().to_string(),
            "0.1",
        ),
        ("c1 00 01", |t| t.as_bool().unwrap().to_string(), "true"),
        ("c1 00 00", |t| t.as_bool().unwrap().to_string(), "false"),
        (
            "c4 00 00 03 00 01",
            |t| format!("{:?}", t.as_objlnk().unwrap()),
            "ObjLnk { object_id: 3, instance_id: 1 }",
        ),
        (
            "c4 00 51 82 42 8f",
            |t| t.as_time().unwrap().to_string(),
            "1367491215",
        ),
        (
            "c4 00 3c 2f 33 3e",
            |t| t.as_corelnk().unwrap().to_string(),
            "</3>",
        ),
    ];
    for (bytes, get, want) in cases {
        assert_eq!(get(&one(&hex(bytes))), want, "{bytes}");
    }
    let e = hex("c3 00 e2 82 ac");
    assert_eq!(one(&e).as_str(), Ok("€"));
    assert_eq!(one(&e).as_opaque(), Ok(&[0xe2, 0x82, 0xac][..]));
}

#[test]
fn typed_writers() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (encode(|w| w.resource_i64(0, 0)), "c1 00 00"),
        (encode(|w| w.resource_i64(0, -1)), "c1 00 ff"),
        (encode(|w| w.resource_i64(0, 127)), "c1 00 7f"),
        (encode(|w| w.resource_i64(0, 128)), "c2 00 00 80"),
        (encode(|w| w.resource_i64(0, 129)), "c2 00 00 81"),
        (encode(|w| w.resource_i64(0, -129)), "c2 00 ff 7f"),
        (encode(|w| w.resource_i64(0, 32768)), "c4 00 00 00 80 00"),
        (
            encode(|w| w.resource_i64(0, 1 << 31)),
            "c8 00 08 00 00 00 00 80 00 00 00",
        ),
        (
            encode(|w| w.resource_i64(0, i64::MIN)),
            "c8 00 08 80 00 00 00 00 00 00 00",
        ),
        (encode(|w| w.resource_u64(0, 255)), "c1 00 ff"),
        (encode(|w| w.resource_u64(0, 256)), "c2 00 01 00"),
        (
            encode(|w| w.resource_u64(0, u64::MAX)),
            "c8 00 08 ff ff ff ff ff ff ff ff",
        ),
        (encode(|w| w.resource_f64(0, 1.5)), "c4 00 3f c0 00 00"),
        (
            encode(|w| w.resource_f64(0, 0.1)),
            "c8 00 08 3f b9 99 99 99 99 99 9a",
        ),
        (encode(|w| w.resource_bool(0, true)), "c1 00 01"),
        (encode(|w| w.resource_str(0, "")), "c0 00"),
        (
            encode(|w| w.resource_objlnk(1, ObjLnk::new(3, 1))),
            "c4 01 00 03 00 01",
        ),
        (
            encode(|w| w.resource_time(13, 1367491215)),
            "c4 0d 51 82 42 8f",
        ),
        (
            encode(|w| w.resource_corelnk(0, "</3>")),
            "c4 00 3c 2f 33 3e",
        ),
        (encode(|w| w.resource_instance_str(2, "x")), "41 02 78"),
    ];
    for (got, want) in cases {
        assert_eq!(got, hex(want), "{want}");
    }
}

/// The Device object instance of SPEC §2, computed from the encoding rules.
const DEVICE_RESOURCES: &str = "
    c8 00 14 4f 70 65 6e 20 4d 6f 62 69 6c 65 20 41 6c 6c 69 61 6e 63 65
    c8 01 16 4c 69 67 68 74 77 65 69 67 68 74 20 4d 32 4d 20 43 6c 69 65 6e 74
    c8 02 09 33 34 35 30 30 30 31 32 33
    c3 03 31 2e 30
    86 06 41 00 01 41 01 05
    88 07 08 42 00 0e d8 42 01 13 88
    87 08 41 00 7d 42 01 03 84
    c1 09 64
    c1 0a 0f
    83 0b 41 00 00
    c4 0d 51 82 42 8f
    c6 0e 2b 30 32 3a 30 30
    c1 10 55";

fn write_device(w: &mut Writer<'_>) -> Result<(), lwm2m_tlv::Error> {
    w.resource_str(0, "Open Mobile Alliance")?;
    w.resource_str(1, "Lightweight M2M Client")?;
    w.resource_str(2, "345000123")?;
    w.resource_str(3, "1.0")?;
    for (id, values) in [
        (6, &[1, 5][..]),
        (7, &[3800, 5000]),
        (8, &[125, 900]),
        (11, &[0]),
    ] {
        if id == 11 {
            w.resource_i64(9, 100)?;
            w.resource_i64(10, 15)?;
        }
        w.begin_multiple(id)?;
        for (i, v) in values.iter().enumerate() {
            w.resource_instance_i64(i as u16, *v)?;
        }
        w.end()?;
    }
    w.resource_time(13, 1367491215)?;
    w.resource_str(14, "+02:00")?;
    w.resource_str(16, "U")
}

#[test]
fn device_object_instance() {
    let resources = hex(DEVICE_RESOURCES);
    assert_eq!(resources.len(), 121);
    assert_eq!(encode(write_device), resources);

    let mut instance = hex("08 00 79");
    instance.extend_from_slice(&resources);
    assert_eq!(
        encode(|w| {
            w.begin_instance(0)?;
            write_device(w)?;
            w.end()
        }),
        instance
    );
    assert_eq!(validate(&instance), Ok(1 + 13 + 7));

    // Typed walk of the instance.
    let inst = decode(&instance).next().unwrap().unwrap();
    assert_eq!(
        (inst.kind(), inst.id(), inst.len()),
        (Kind::ObjectInstance, 0, 121)
    );
    let mut seen = Vec::new();
    for r in inst.children() {
        let r = r.unwrap();
        let text = match (r.kind(), r.id()) {
            (Kind::Resource, 0 | 1 | 2 | 3 | 14 | 16) => r.as_str().unwrap().to_string(),
            (Kind::Resource, 9 | 10 | 13) => r.as_i64().unwrap().to_string(),
            (Kind::MultipleResource, _) => r
                .children()
                .map(|ri| {
                    let ri = ri.unwrap();
                    format!("{}={}", ri.id(), ri.as_i64().unwrap())
                })
                .collect::<Vec<_>>()
                .join(","),
            other => panic!("unexpected {other:?}"),
        };
        seen.push(format!("{}:{text}", r.id()));
    }
    assert_eq!(
        seen.join(" "),
        "0:Open Mobile Alliance 1:Lightweight M2M Client 2:345000123 3:1.0 6:0=1,1=5 \
         7:0=3800,1=5000 8:0=125,1=900 9:100 10:15 11:0=0 13:1367491215 14:+02:00 16:U"
    );
}

#[test]
fn nested_offsets_are_absolute() {
    let bytes = hex("08 00 08 86 06 41 00 01 41 01 05");
    let inst = one(&bytes);
    let multi = inst.children().next().unwrap().unwrap();
    assert_eq!((multi.offset(), multi.value_offset()), (3, 5));
    let offsets: Vec<usize> = multi.children().map(|r| r.unwrap().offset()).collect();
    assert_eq!(offsets, [5, 8]);
}

#[test]
fn containers_move_content_for_shorter_headers() {
    // Contents of 0, 7, 8, 255, 256 and 65535 bytes: each picks a different header form.
    for content in [0usize, 7, 8, 255, 256, 65535, 65536] {
        let value = vec![0xabu8; content];
        let bytes = encode(|w| {
            w.begin_multiple(300)?;
            if content > 0 {
                // A resource instance with a value of `content - 3` bytes, header of 3
                // (id 8-bit + 8-bit length) or so: adjust so the content is exactly `content`.
                let v = &value[..content - header_overhead(content)];
                w.resource_instance_opaque(1, v)?;
            }
            w.end()
        });
        assert_eq!(bytes.len(), encoded_len(300, content), "content {content}");
        let tlv = one(&bytes);
        assert_eq!(
            (tlv.kind(), tlv.id(), tlv.len()),
            (Kind::MultipleResource, 300, content)
        );
        if content > 0 {
            let ri = tlv.children().next().unwrap().unwrap();
            assert!(ri.value().iter().all(|b| *b == 0xab));
        }
    }
}

/// Header length of a resource instance with id 1 whose whole record is `total` bytes.
fn header_overhead(total: usize) -> usize {
    (2..=5).find(|h| header_len(1, total - h) == *h).unwrap()
}

#[test]
fn empty_payload_has_no_records() {
    assert_eq!(Records::new(&[]).count(), 0);
    assert_eq!(validate(&[]), Ok(0));
}
