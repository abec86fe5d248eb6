//! The owned tree (feature `alloc`), `BufMut` encoding and `serde` support.
#![cfg(feature = "alloc")]

use lwm2m_tlv::{Content, Error, Kind, Node, Value, Writer, bytes::BytesMut, put_header};

fn sample() -> Vec<Node> {
    vec![Node::instance(
        0,
        vec![
            Node::resource(0, Value::String("Open Mobile Alliance")),
            Node::multiple(6, vec![Node::resource_instance(0, Value::Integer(1))]),
            Node::resource(9, Value::Integer(100)),
        ],
    )]
}

#[test]
fn tree_round_trip_and_exact_length() {
    let nodes = sample();
    let bytes = Node::to_vec(&nodes).unwrap();
    assert_eq!(bytes.len(), nodes[0].encoded_len());
    assert_eq!(Node::parse_all(&bytes).unwrap(), nodes);
    let mut buf = [0u8; 64];
    let n = Node::encode_all(&nodes, &mut buf).unwrap();
    assert_eq!(&buf[..n], &bytes[..]);
    let mut vec = Vec::new();
    let mut w = Writer::append(&mut vec);
    nodes[0].write(&mut w).unwrap();
    assert_eq!(w.finish(), Ok(bytes.len()));
    assert_eq!(vec, bytes);
}

#[test]
fn bufmut_encoding_checks_room_and_shape() {
    let nodes = sample();
    let mut out = BytesMut::new();
    Node::put_all(&nodes, &mut out).unwrap();
    assert_eq!(&out[..], &Node::to_vec(&nodes).unwrap()[..]);

    let mut small = [0u8; 4];
    let mut slice: &mut [u8] = &mut small;
    assert!(matches!(
        Node::put_all(&nodes, &mut slice),
        Err(Error::BufferTooSmall { .. })
    ));
    assert_eq!(small, [0; 4], "nothing written when it does not fit");

    // A resource holding children, and a resource instance directly in an instance.
    let bad = vec![Node {
        kind: Kind::Resource,
        id: 1,
        content: Content::Children(vec![]),
    }];
    assert!(matches!(Node::to_vec(&bad), Err(Error::BadNesting { .. })));
    let bad = vec![Node::instance(
        0,
        vec![Node::resource_instance(0, Value::Boolean(true))],
    )];
    assert!(matches!(
        Node::to_vec(&bad),
        Err(Error::BadNesting { offset: 2, .. })
    ));
    assert!(matches!(
        Node::encode_all(&bad, &mut [0u8; 16]),
        Err(Error::BadNesting { .. })
    ));

    let mut hdr = BytesMut::new();
    put_header(&mut hdr, Kind::Resource, 300, 70_000);
    assert_eq!(&hdr[..], &[0xf8, 0x01, 0x2c, 0x01, 0x11, 0x70]);
}

#[cfg(feature = "serde")]
#[test]
fn serde_json_round_trip() {
    let nodes = sample();
    let json = serde_json::to_string(&nodes).unwrap();
    assert!(json.contains("\"ObjectInstance\""), "{json}");
    let back: Vec<Node> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, nodes);
    let path: lwm2m_tlv::Path = serde_json::from_str(r#"{"Resource":[5,0,1]}"#).unwrap();
    assert_eq!(path, lwm2m_tlv::Path::Resource(5, 0, 1));
}
