//! Path-aware checks of request payloads, and the encoder's errors.

use lwm2m_tlv::{Error, Kind, Path, Writer, check_path};

fn ids(payload: &[u8], path: Path) -> Result<Vec<(Kind, u16)>, Error> {
    check_path(payload, path)?
        .map(|r| r.map(|t| (t.kind(), t.id())))
        .collect()
}

const INSTANCE_0: &[u8] = &[
    0x08, 0x00, 0x08, 0xc1, 0x01, 0x05, 0x83, 0x02, 0x41, 0x00, 0x07,
];
const RESOURCES: &[u8] = &[0xc1, 0x01, 0x05, 0x83, 0x02, 0x41, 0x00, 0x07];

#[test]
fn object_path() {
    let two = [INSTANCE_0, &[0x00, 0x01]].concat();
    assert_eq!(
        ids(&two, Path::Object(3)),
        Ok(vec![(Kind::ObjectInstance, 0), (Kind::ObjectInstance, 1)])
    );
    assert_eq!(
        ids(RESOURCES, Path::Object(3)),
        Err(Error::UnexpectedKind {
            offset: 0,
            kind: Kind::Resource
        })
    );
    assert_eq!(
        ids(&[], Path::Object(3)),
        Err(Error::MissingRecord { offset: 0 })
    );
    // Nested structure is checked too.
    let bad = [0x03, 0x00, 0x41, 0x00, 0x01];
    assert!(matches!(
        ids(&bad, Path::Object(3)),
        Err(Error::BadNesting { offset: 2, .. })
    ));
}

#[test]
fn instance_path() {
    let want = Ok(vec![(Kind::Resource, 1), (Kind::MultipleResource, 2)]);
    assert_eq!(ids(INSTANCE_0, Path::Instance(3, 0)), want);
    assert_eq!(ids(RESOURCES, Path::Instance(3, 0)), want);
    assert_eq!(
        ids(INSTANCE_0, Path::Instance(3, 1)),
        Err(Error::IdMismatch {
            offset: 0,
            kind: Kind::ObjectInstance,
            expected: 1,
            found: 0
        })
    );
    let two = [INSTANCE_0, &[0x00, 0x00]].concat();
    assert_eq!(
        ids(&two, Path::Instance(3, 0)),
        Err(Error::ExtraRecord { offset: 11 })
    );
    let mixed = [RESOURCES, &[0x00, 0x00]].concat();
    assert_eq!(
        ids(&mixed, Path::Instance(3, 0)),
        Err(Error::UnexpectedKind {
            offset: 8,
            kind: Kind::ObjectInstance
        })
    );
    assert_eq!(
        ids(&[0x41, 0x00, 0x01], Path::Instance(3, 0)),
        Err(Error::UnexpectedKind {
            offset: 0,
            kind: Kind::ResourceInstance
        })
    );
}

#[test]
fn resource_path() {
    assert_eq!(
        ids(&[0xc1, 0x01, 0x05], Path::Resource(5, 0, 1)),
        Ok(vec![(Kind::Resource, 1)])
    );
    assert_eq!(
        ids(&[0x83, 0x08, 0x41, 0x00, 0x00], Path::Resource(5, 0, 8)),
        Ok(vec![(Kind::MultipleResource, 8)])
    );
    assert_eq!(
        ids(RESOURCES, Path::Resource(5, 0, 1)),
        Err(Error::ExtraRecord { offset: 3 })
    );
    assert_eq!(
        ids(INSTANCE_0, Path::Resource(5, 0, 1)),
        Err(Error::UnexpectedKind {
            offset: 0,
            kind: Kind::ObjectInstance
        })
    );
    assert_eq!(
        ids(&[], Path::Resource(5, 0, 1)),
        Err(Error::MissingRecord { offset: 0 })
    );
    // Trailing garbage after the one record is an error too.
    assert_eq!(
        ids(&[0xc1, 0x01, 0x05, 0xc1], Path::Resource(5, 0, 1)),
        Err(Error::TruncatedHeader { offset: 3 })
    );
}

#[test]
fn resource_instance_path() {
    assert_eq!(
        ids(&[0x41, 0x03, 0x05], Path::ResourceInstance(3, 0, 6, 3)),
        Ok(vec![(Kind::ResourceInstance, 3)])
    );
    assert_eq!(
        ids(&[0x41, 0x02, 0x05], Path::ResourceInstance(3, 0, 6, 3)),
        Err(Error::IdMismatch {
            offset: 0,
            kind: Kind::ResourceInstance,
            expected: 3,
            found: 2
        })
    );
    assert_eq!(
        ids(&[0xc1, 0x03, 0x05], Path::ResourceInstance(3, 0, 6, 3)),
        Err(Error::UnexpectedKind {
            offset: 0,
            kind: Kind::Resource
        })
    );
}

#[test]
fn path_accessors() {
    let p = Path::ResourceInstance(3, 0, 6, 1);
    assert_eq!(
        (
            p.object(),
            p.instance(),
            p.resource(),
            p.resource_instance()
        ),
        (3, Some(0), Some(6), Some(1))
    );
    let p = Path::Object(5);
    assert_eq!(
        (
            p.object(),
            p.instance(),
            p.resource(),
            p.resource_instance()
        ),
        (5, None, None, None)
    );
}

#[test]
fn buffer_too_small_never_writes_past_the_end() {
    let write = |w: &mut Writer<'_>| -> Result<(), Error> {
        w.begin_instance(0)?;
        w.resource_str(0, "Open Mobile Alliance")?;
        w.begin_multiple(6)?;
        w.resource_instance_i64(0, 1)?;
        w.end()?;
        w.resource_i64(9, 100)?;
        w.end()
    };
    let mut full = [0u8; 64];
    let mut w = Writer::new(&mut full);
    write(&mut w).unwrap();
    let n = w.finish().unwrap();
    for size in 0..n + 8 {
        let mut buf = vec![0x5au8; size + 8];
        let (head, tail) = buf.split_at_mut(size);
        let mut w = Writer::new(head);
        let r = write(&mut w);
        // A buffer that cannot hold the reserved container header fails even when the final
        // (shorter) form would fit: the reservation needs up to 3 more bytes per open container.
        if size >= n + 5 {
            assert!(r.is_ok());
        }
        match r {
            Ok(()) => assert_eq!(w.finish().unwrap(), n),
            Err(e) => assert!(matches!(e, Error::BufferTooSmall { .. }), "{e:?}"),
        }
        assert!(tail.iter().all(|b| *b == 0x5a), "size {size}");
    }
}

#[test]
fn failed_write_leaves_the_writer_usable() {
    let mut buf = [0u8; 6];
    let mut w = Writer::new(&mut buf);
    w.resource_i64(1, 1).unwrap();
    assert_eq!(
        w.resource_str(2, "long"),
        Err(Error::BufferTooSmall {
            needed: 9,
            available: 6
        })
    );
    w.resource_i64(2, 2).unwrap();
    assert_eq!(w.finish(), Ok(6));
    assert_eq!(buf, [0xc1, 0x01, 0x01, 0xc1, 0x02, 0x02]);
}

#[test]
fn writer_nesting_rules() {
    let mut buf = [0u8; 64];
    let mut w = Writer::new(&mut buf);
    assert_eq!(w.end(), Err(Error::Unbalanced { offset: 0 }));
    w.begin_instance(0).unwrap();
    assert_eq!(
        w.begin_instance(1),
        Err(Error::BadNesting {
            offset: 5,
            parent: Kind::ObjectInstance,
            kind: Kind::ObjectInstance
        })
    );
    assert!(matches!(
        w.resource_instance_i64(0, 1),
        Err(Error::BadNesting { .. })
    ));
    w.begin_multiple(1).unwrap();
    assert!(matches!(
        w.resource_i64(0, 1),
        Err(Error::BadNesting { .. })
    ));
    assert!(matches!(w.begin_multiple(2), Err(Error::BadNesting { .. })));
    assert!(matches!(
        w.record(Kind::ObjectInstance, 1, &[]),
        Err(Error::BadNesting { .. })
    ));
    assert_eq!(w.depth(), 2);
    w.resource_instance_i64(0, 1).unwrap();
    w.end().unwrap();
    assert_eq!(w.len(), 5 + 5);
    assert_eq!(w.finish(), Err(Error::Unbalanced { offset: 10 }));

    // Resource instances and multiple resources at the top level are fine.
    let mut w = Writer::new(&mut buf);
    w.resource_instance_i64(0, 1).unwrap();
    w.begin_multiple(1).unwrap();
    w.end().unwrap();
    assert_eq!(w.finish(), Ok(5));
    assert_eq!(&buf[..5], &[0x41, 0x00, 0x01, 0x80, 0x01]);
}
