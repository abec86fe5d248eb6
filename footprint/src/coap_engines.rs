//! Probes for the `coap-codec` and `coap-engines` components: what coap-block's engines cost a
//! device client that already has the message codec.
//!
//! `coap-codec` is the codec as the `lwm2m-fota` client core uses it (parse, option lookups,
//! responses and requests with options and payload, empty ACKs). `coap-engines` is the same
//! codec code plus the three device-side engines: the Block1 receiver (a push to /5/0/0), the
//! Block2 client (a pull resumed at an offset with a known ETag) and `Reliability` in the
//! RFC 7252 mode. The engines' cost is `coap-engines` minus `coap-codec`.

use coap_block::{
    Block, BlockSink, Code, Error, Message, MessageBuilder, MessageType, OptionNumber,
};
#[cfg(feature = "coap-engines")]
use coap_block::{
    Block1Receiver, Block1Request, Block2Client, Incoming, Reliability, TimeoutAction, Token,
    TransmissionParams,
};

/// Stands in for the platform's staging area (begin, write and finish a package), which the
/// client calls with or without the engines. Its calls can fail (as flash writes can), so the
/// storage-error paths are kept: the optimiser sees neither outcome.
struct ProbeSink;

/// The sink's result (one copy: a real sink's error mapping is the client's code).
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

/// The codec calls the client core makes, from as many call sites as it makes them (so what
/// the client keeps out of line is out of line here too): a Write of /5/0/0 answered with
/// Block1 (or 4.13 with Size1), any other request answered with content, the pull response's
/// lookups, empty ACKs.
fn codec(msg: &Message<'_>, out: &mut [u8]) {
    crate::keep((msg.message_type(), msg.code(), msg.message_id()));
    crate::keep((msg.token(), msg.payload()));
    crate::keep(msg.uint_option(OptionNumber::ACCEPT));
    crate::keep(msg.uint_option(OptionNumber::OBSERVE));
    for seg in msg.uri_path() {
        crate::keep(seg);
    }
    if let Ok(Some(block)) = msg.block1() {
        if let Ok(mut reply) = MessageBuilder::response_to(out, msg, Code::METHOD_NOT_ALLOWED, 1) {
            let size1 = msg.size1().ok().flatten();
            let (code, echo, size1) = push(msg, block, size1);
            reply.set_code(code);
            if let Some(b) = echo {
                let _ = reply.block(OptionNumber::BLOCK1, b);
            }
            if let Some(s) = size1 {
                let _ = reply.uint_option(OptionNumber::SIZE1, s);
            }
            crate::keep(reply.finish());
        }
    } else if let Ok(mut reply) = MessageBuilder::response_to(out, msg, Code::CONTENT, 1) {
        crate::keep(msg.block1());
        let _ = reply.uint_option(OptionNumber::CONTENT_FORMAT, 11542);
        crate::keep(reply.payload(crate::input(8)));
    }
    crate::keep(msg.block2());
    crate::keep(msg.option(OptionNumber::ETAG));
    crate::keep(MessageBuilder::empty(out, msg.message_id(), false));
}

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    let data = crate::input(300);
    let mut out = [0u8; 64];
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    codec(&msg, &mut out);
    pull(&msg, &mut out);
}

/// A push (Block1 Write of /5/0/0) decided by the client core's own block logic: the platform
/// calls it makes and the reply's code, Block1 and Size1 (an opaque stand-in: that logic is
/// what the engines replace).
#[cfg(not(feature = "coap-engines"))]
fn push(msg: &Message<'_>, block: Block, size1: Option<u32>) -> (Code, Option<Block>, Option<u32>) {
    store(block.offset(), msg.payload(), size1);
    core::hint::black_box((Code::CONTINUE, Some(block), size1))
}

/// The platform calls of the client core's own push and pull handling: begin (a new package),
/// write, finish.
#[cfg(not(feature = "coap-engines"))]
fn store(offset: u32, data: &[u8], size: Option<u32>) {
    let mut sink = ProbeSink;
    crate::keep((
        sink.begin(size),
        sink.write(offset, data),
        sink.complete(offset),
    ));
}

/// A push decided by the Block1 receiver, resumable after a reboot. The client looked up
/// Block1 and Size1 already (it needs them itself) and writes the reply itself, so it uses
/// `receive` with the decoded parts; one resource takes pushes, so transfers are told apart by
/// peer alone (key 0).
#[cfg(feature = "coap-engines")]
fn push(msg: &Message<'_>, block: Block, size1: Option<u32>) -> (Code, Option<Block>, Option<u32>) {
    // State as a client keeps it between datagrams: opaque, not constant-folded.
    let mut rx: Block1Receiver<u8> = Block1Receiver::new(6);
    rx.resume_at(core::hint::black_box(0));
    let rx = core::hint::black_box(&mut rx);
    let req = Block1Request {
        key: 0,
        block1: Some(block),
        size1,
        payload: msg.payload(),
    };
    let r = rx.receive(core::hint::black_box(1), &req, &mut ProbeSink);
    crate::keep(r.event);
    crate::keep(rx.bytes_received());
    (r.code, r.block1, r.size1)
}

/// Pull: the request for the block at the persisted offset, retransmitted, and the response.
/// Without the engines, the request as the client core builds it (the rest is its own code).
fn pull(msg: &Message<'_>, out: &mut [u8]) {
    let offset = core::hint::black_box(4096);
    #[cfg(feature = "coap-engines")]
    let (mut client, mut rel) = (
        Block2Client::new(6).starting_at(offset, Token::new(crate::input(4)).ok()),
        Reliability::<false>::with_params(TransmissionParams::RFC7252, core::hint::black_box(1)),
    );
    #[cfg(feature = "coap-engines")]
    let (client, rel) = core::hint::black_box((&mut client, &mut rel));
    #[cfg(feature = "coap-engines")]
    let (mid, token) = (rel.next_message_id(), rel.next_token());
    #[cfg(not(feature = "coap-engines"))]
    let (mid, token) = (core::hint::black_box(2u16), core::hint::black_box([0u8; 4]));
    let Ok(mut req) = MessageBuilder::new(
        out,
        MessageType::Confirmable,
        Code::GET,
        mid,
        token.as_slice(),
    ) else {
        return;
    };
    let _ = req.option(OptionNumber::URI_PATH, b"fw");
    #[cfg(feature = "coap-engines")]
    let _ = client.add_request_options(&mut req);
    #[cfg(not(feature = "coap-engines"))]
    if let Ok(b) = Block::at_offset(offset, false, core::hint::black_box(6)) {
        let _ = req.block(OptionNumber::BLOCK2, b);
    }
    let n = req.finish();
    crate::keep(out.get(..n));
    #[cfg(feature = "coap-engines")]
    {
        crate::keep(rel.start_request(0, mid, token, true));
        crate::keep(rel.poll_timeout());
        crate::keep(rel.handle_timeout(core::hint::black_box(3000)) == TimeoutAction::Retransmit);
        if let Incoming::Response { ack_needed } = rel.handle_incoming(10, msg) {
            crate::keep(ack_needed);
            // As the client does: the ETag it looked up for its sink handed over.
            let tag = msg.option(OptionNumber::ETAG);
            crate::keep(client.handle_response_tagged(msg, tag, &mut ProbeSink));
        }
        crate::keep((client.offset(), client.etag()));
    }
    #[cfg(not(feature = "coap-engines"))]
    store(offset, msg.payload(), None);
}
