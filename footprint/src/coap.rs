//! Probe for the `coap` component: the message codec, the Block1 receiver, the Block2 client
//! and the message layer (retransmission, de-duplication), as a device uses them.

use coap_block::{
    Block1Receiver, Block2Client, BlockSink, Code, DedupCache, Error, Message, MessageBuilder,
    MessageType, Reliability, TransmissionParams,
};

/// Stands in for a flash staging area: the probe only needs the calls kept.
struct ProbeSink;

impl BlockSink for ProbeSink {
    fn begin(&mut self, size: Option<u32>) -> Result<(), Error> {
        crate::keep(size);
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        crate::keep((offset, data.as_ptr(), data.len()));
        Ok(())
    }
    fn complete(&mut self, total: u32) -> Result<(), Error> {
        crate::keep(total);
        Ok(())
    }
    fn capacity(&self) -> u32 {
        core::hint::black_box(256 * 1024)
    }
}

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    let data = crate::input(300);
    let mut out = [0u8; 64];
    let mut sink = ProbeSink;
    let mut rx: Block1Receiver<u8> = Block1Receiver::new(6);
    let mut client = Block2Client::new(6);
    let mut rel = Reliability::new(TransmissionParams::ADAPTIVE, 1);
    let mut dedup: DedupCache<u8, 2, 24> = const { DedupCache::new() };
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    // Server role: a push to /5/0/0 (Block1), de-duplicated by Message ID.
    crate::keep(dedup.check(0, 1, &msg));
    if msg.unknown_critical_option().is_none()
        && let Ok(mut reply) = MessageBuilder::response_to(&mut out, &msg, Code::EMPTY, 1)
    {
        crate::keep(rx.handle(1, &msg, &mut sink, &mut reply));
        let n = reply.finish();
        dedup.store(1, msg.message_id(), out.get(..n).unwrap_or(&[]));
    }
    crate::keep(rx.bytes_received());
    // Client role: pulling a package (Block2) with retransmission.
    let mid = rel.next_message_id();
    let token = rel.next_token();
    if let Ok(mut req) = MessageBuilder::new(
        &mut out,
        MessageType::Confirmable,
        Code::GET,
        mid,
        token.as_slice(),
    ) {
        let _ = req.path("fw/pkg");
        let _ = client.add_request_options(&mut req);
        let n = req.finish();
        if let Some(Ok(sent)) = out.get(..n).map(Message::parse) {
            crate::keep(rel.start(0, &sent));
        }
    }
    crate::keep(rel.handle_timeout(core::hint::black_box(3000)));
    crate::keep(rel.handle_incoming(10, &msg));
    crate::keep(client.handle_response(&msg, &mut sink));
    crate::keep(rel.poll_timeout());
}
