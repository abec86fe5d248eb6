//! Probe for the `coap` component: the message codec, the Block1 receiver, the Block2 client
//! and the message layer (retransmission in the RFC 7252 mode, de-duplication), as a device
//! uses them. The engines' state is opaque to the optimiser (a device keeps it between
//! datagrams) and the sink can fail (as flash can), so no path is folded away.

use coap_block::{
    Block1Receiver, Block2Client, BlockSink, Code, DedupCache, Error, Message, MessageBuilder,
    MessageType, Reliability, TransmissionParams,
};

/// Stands in for a flash staging area (its calls kept, its results opaque).
struct ProbeSink;

/// The sink's result: it can fail, as flash writes can (one copy: a real sink's error mapping
/// is the caller's code).
#[inline(never)]
fn outcome() -> Result<(), Error> {
    if core::hint::black_box(false) {
        Err(Error::TooLarge {
            capacity: core::hint::black_box(0),
        })
    } else {
        Ok(())
    }
}

impl BlockSink for ProbeSink {
    fn begin(&mut self, size: Option<u32>) -> Result<(), Error> {
        crate::keep(size);
        outcome()
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        crate::keep((offset, data.as_ptr(), data.len()));
        outcome()
    }
    fn complete(&mut self, total: u32) -> Result<(), Error> {
        crate::keep(total);
        outcome()
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
    let mut rel = Reliability::<false>::with_params(TransmissionParams::RFC7252, 1);
    let mut dedup: DedupCache<u8, 2, 24> = const { DedupCache::new() };
    // The state as a device keeps it between datagrams: opaque, so no path is folded away.
    let (rx, client, rel, dedup) = (
        core::hint::black_box(&mut rx),
        core::hint::black_box(&mut client),
        core::hint::black_box(&mut rel),
        core::hint::black_box(&mut dedup),
    );
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    // Server role: a push to /5/0/0 (Block1) from a peer, de-duplicated by Message ID.
    let peer = core::hint::black_box(1u8);
    crate::keep(dedup.check(0, peer, &msg));
    if msg.unknown_critical_option().is_none()
        && let Ok(mut reply) = MessageBuilder::response_to(&mut out, &msg, Code::EMPTY, 1)
    {
        crate::keep(rx.handle(peer, &msg, &mut sink, &mut reply));
        let n = reply.finish();
        dedup.store(peer, msg.message_id(), out.get(..n).unwrap_or(&[]));
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
        crate::keep(req.finish());
        crate::keep(rel.start_request(0, mid, token, true));
    }
    crate::keep(rel.handle_timeout(core::hint::black_box(3000)));
    crate::keep(rel.handle_incoming(10, &msg));
    crate::keep(client.handle_response(&msg, &mut sink));
    crate::keep(rel.poll_timeout());
}
