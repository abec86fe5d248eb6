#![no_main]
//! Parses arbitrary bytes as a CoAP message and walks every accessor. Nothing may panic, every
//! option value and the payload must lie inside the input, and whatever parses must rebuild
//! with the builder into a message that parses to the same header, options and payload.

use coap_block::{Message, MessageBuilder, Token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::parse(data) else { return };
    let range = data.as_ptr_range();
    let inside = |s: &[u8]| {
        let r = s.as_ptr_range();
        s.is_empty() || (range.start <= r.start && r.end <= range.end)
    };
    assert!(inside(m.token()) && inside(m.payload()));
    assert!(m.token().len() <= 8);
    let _ = (
        m.block1(),
        m.block2(),
        m.size1(),
        m.size2(),
        m.content_format(),
        m.accept(),
    );
    let _ = (
        m.observe(),
        m.etag(),
        m.request_tag(),
        m.unknown_critical_option(),
    );
    let _ = m.path_is("5/0/0");
    let mut prev = 0u16;
    let mut count = 0usize;
    for o in m.options() {
        assert!(o.number.0 >= prev, "options come in order");
        prev = o.number.0;
        assert!(inside(o.value));
        let _ = o.uint();
        count += 1;
    }
    assert_eq!(
        Token::new(m.token()).map(|t| t.as_slice().len()),
        Ok(m.token().len())
    );

    let mut buf = vec![0u8; data.len() + 16];
    let mut b = MessageBuilder::new(
        &mut buf,
        m.message_type(),
        m.code(),
        m.message_id(),
        m.token(),
    )
    .expect("header fits");
    for o in m.options() {
        b.option(o.number, o.value).expect("options fit");
    }
    let n = b.payload(m.payload()).expect("payload fits");
    let again = Message::parse(&buf[..n]).expect("rebuilt message parses");
    assert_eq!(again.message_type(), m.message_type());
    assert_eq!(again.code(), m.code());
    assert_eq!(again.message_id(), m.message_id());
    assert_eq!(again.token(), m.token());
    assert_eq!(again.payload(), m.payload());
    assert!(again.options().eq(m.options()));
    assert_eq!(again.options().count(), count);
});
