//! Property tests of the message codec: parsing never panics; built messages parse back.
use coap_block::{Block, Code, Message, MessageBuilder, MessageType, OptionNumber};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(m) = Message::parse(&data) {
            for o in m.options() {
                let _ = o.uint();
            }
            let _ = m.block1();
            let _ = m.block2();
            let _ = m.unknown_critical_option();
            prop_assert!(m.payload().len() <= data.len());
        }
    }

    #[test]
    fn build_then_parse(
        token in proptest::collection::vec(any::<u8>(), 0..=8),
        mid in any::<u16>(),
        mut opts in proptest::collection::vec((0u16..2000, proptest::collection::vec(any::<u8>(), 0..300)), 0..6),
        payload in proptest::collection::vec(any::<u8>(), 0..100),
        num in 0u32..(1 << 20), more in any::<bool>(), szx in 0u8..7,
    ) {
        opts.sort_by_key(|o| o.0);
        let mut buf = [0u8; 4096];
        let mut b = MessageBuilder::new(&mut buf, MessageType::NonConfirmable, Code::CONTENT, mid, &token).unwrap();
        for (n, v) in &opts {
            b.option(OptionNumber(*n), v).unwrap();
        }
        let block = Block::new(num, more, szx).unwrap();
        b.block(OptionNumber(2001), block).unwrap();
        let n = b.payload(&payload).unwrap();
        let m = Message::parse(&buf[..n]).unwrap();
        prop_assert_eq!(m.token(), &token[..]);
        prop_assert_eq!(m.message_id(), mid);
        prop_assert_eq!(m.payload(), &payload[..]);
        let got: Vec<_> = m.options().map(|o| (o.number.0, o.value.to_vec())).collect();
        let mut want: Vec<_> = opts.clone();
        want.push((2001, {
            let v = block.to_uint().to_be_bytes();
            let skip = (block.to_uint().leading_zeros() / 8) as usize;
            v[skip..].to_vec()
        }));
        prop_assert_eq!(got, want);
        let bv = m.option(OptionNumber(2001)).unwrap();
        prop_assert_eq!(Block::decode(bv, 2001).unwrap(), block);
    }
}
