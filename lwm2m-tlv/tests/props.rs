//! Property tests: encode→decode identity over arbitrary trees, typed value round trips, and
//! decoding arbitrary bytes never panics nor yields a value outside the input.
#![cfg(feature = "alloc")]

use lwm2m_tlv::{Content, Kind, Node, ObjLnk, Records, Tlv, Value, Writer, validate};
use proptest::prelude::*;

fn value_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..12),
        2 => proptest::collection::vec(any::<u8>(), 12..300),
        1 => proptest::collection::vec(any::<u8>(), 65_530..65_540),
    ]
}

fn id() -> impl Strategy<Value = u16> {
    prop_oneof![3 => 0u16..=255, 1 => any::<u16>()]
}

fn scalar(kind: Kind) -> impl Strategy<Value = Node> {
    (id(), value_bytes()).prop_map(move |(id, v)| Node {
        kind,
        id,
        content: Content::Value(v),
    })
}

fn multiple() -> impl Strategy<Value = Node> {
    (
        id(),
        proptest::collection::vec(scalar(Kind::ResourceInstance), 0..4),
    )
        .prop_map(|(id, c)| Node::multiple(id, c))
}

fn resource_level() -> impl Strategy<Value = Node> {
    prop_oneof![3 => scalar(Kind::Resource), 1 => multiple()]
}

fn instance() -> impl Strategy<Value = Node> {
    (id(), proptest::collection::vec(resource_level(), 0..5))
        .prop_map(|(id, c)| Node::instance(id, c))
}

/// Any payload shape a request or response may carry.
fn payload() -> impl Strategy<Value = Vec<Node>> {
    prop_oneof![
        proptest::collection::vec(instance(), 0..3),
        proptest::collection::vec(resource_level(), 0..5),
        proptest::collection::vec(scalar(Kind::ResourceInstance), 0..3),
    ]
}

fn encode(nodes: &[Node]) -> Vec<u8> {
    let total: usize = nodes.iter().map(Node::encoded_len).sum();
    // Room for the reserved container headers while they are open.
    let mut buf = vec![0u8; total + 16];
    let n = Node::encode_all(nodes, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// Walks everything with every typed accessor; returns how many records there were.
fn typed_walk(records: Records<'_>, input: &[u8]) -> Result<usize, lwm2m_tlv::Error> {
    let range = input.as_ptr_range();
    let mut n = 0;
    for r in records {
        let r = r?;
        n += 1;
        let v = r.value().as_ptr_range();
        assert!(
            range.start <= v.start && v.end <= range.end,
            "value outside the input"
        );
        assert!(r.value_offset() + r.len() <= input.len());
        assert_eq!(
            &input[r.value_offset()..r.value_offset() + r.len()],
            r.value()
        );
        let _ = (
            r.as_i64(),
            r.as_u64(),
            r.as_f64(),
            r.as_bool(),
            r.as_str(),
            r.as_objlnk(),
        );
        n += typed_walk(r.children(), input)?;
    }
    Ok(n)
}

fn count(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|n| match &n.content {
            Content::Value(_) => 1,
            Content::Children(c) => 1 + count(c),
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encode_decode_identity(nodes in payload()) {
        let bytes = encode(&nodes);
        prop_assert_eq!(bytes.len(), nodes.iter().map(Node::encoded_len).sum::<usize>());
        prop_assert_eq!(Node::parse_all(&bytes).unwrap(), nodes.clone());
        prop_assert_eq!(validate(&bytes), Ok(count(&nodes)));
        prop_assert_eq!(typed_walk(Records::new(&bytes), &bytes), Ok(count(&nodes)));
        // Writer onto a Vec and BufMut encoding give the same bytes.
        let mut vec = vec![0xee];
        let mut w = Writer::append(&mut vec);
        for n in &nodes {
            n.write(&mut w).unwrap();
        }
        prop_assert_eq!(w.finish().unwrap(), bytes.len());
        prop_assert_eq!(&vec[1..], &bytes[..]);
        prop_assert_eq!(Node::to_vec(&nodes).unwrap(), bytes.clone());
        let mut bm = lwm2m_tlv::bytes::BytesMut::new();
        Node::put_all(&nodes, &mut bm).unwrap();
        prop_assert_eq!(&bm[..], &bytes[..]);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let walked = typed_walk(Records::new(&bytes), &bytes);
        let validated = validate(&bytes);
        prop_assert_eq!(walked.is_ok(), validated.is_ok());
        if let Ok(n) = validated {
            prop_assert_eq!(walked, Ok(n));
            // Whatever decodes re-encodes to a payload that decodes to the same tree.
            let nodes = Node::parse_all(&bytes).unwrap();
            prop_assert_eq!(Node::parse_all(&encode(&nodes)).unwrap(), nodes);
        }
        let _ = Tlv::parse(&bytes);
    }

    #[test]
    fn typed_values_round_trip(i in any::<i64>(), u in any::<u64>(), f in any::<f64>(), b in any::<bool>(),
                               s in ".{0,20}", o in any::<u16>(), oi in any::<u16>()) {
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        w.resource_i64(0, i).unwrap();
        w.resource_u64(1, u).unwrap();
        w.resource_f64(2, f).unwrap();
        w.resource_bool(3, b).unwrap();
        w.resource_str(4, &s).unwrap();
        w.resource_objlnk(5, ObjLnk::new(o, oi)).unwrap();
        w.resource_time(6, i).unwrap();
        let n = w.finish().unwrap();
        let recs: Vec<Tlv<'_>> = Records::new(&buf[..n]).map(Result::unwrap).collect();
        prop_assert_eq!(recs[0].as_i64(), Ok(i));
        prop_assert_eq!(recs[0].len(), lwm2m_tlv::int_len(i));
        prop_assert_eq!(recs[1].as_u64(), Ok(u));
        prop_assert_eq!(recs[1].len(), lwm2m_tlv::uint_len(u));
        prop_assert_eq!(recs[2].as_f64().map(f64::to_bits), Ok(f.to_bits()));
        prop_assert_eq!(recs[2].len(), Value::Float(f).len());
        prop_assert_eq!(recs[3].as_bool(), Ok(b));
        prop_assert_eq!(recs[4].as_str(), Ok(s.as_str()));
        prop_assert_eq!(recs[5].as_objlnk(), Ok(ObjLnk::new(o, oi)));
        prop_assert_eq!(recs[6].as_time(), Ok(i));
        // Each record has the smallest header.
        for r in &recs {
            prop_assert_eq!(r.encoded_len(), lwm2m_tlv::encoded_len(r.id(), r.len()));
        }
    }

    #[test]
    fn small_buffers_error_and_never_overrun(nodes in payload(), cut in 0usize..64) {
        let bytes = encode(&nodes);
        let size = bytes.len().saturating_sub(cut);
        let mut buf = vec![0x5au8; size + 32];
        let (head, tail) = buf.split_at_mut(size);
        let r = Node::encode_all(&nodes, head);
        prop_assert!(tail.iter().all(|b| *b == 0x5a));
        if let Ok(n) = r {
            prop_assert_eq!(&head[..n], &bytes[..]);
        }
    }
}
