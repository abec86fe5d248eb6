//! Behaviour of the sans-IO engines, wired together in memory.
use coap_block::*;

fn put_block(
    buf: &mut [u8],
    mid: u16,
    block: Block,
    size1: Option<u32>,
    tag: &[u8],
    data: &[u8],
) -> usize {
    let mut b =
        MessageBuilder::new(buf, MessageType::Confirmable, Code::PUT, mid, &[mid as u8]).unwrap();
    b.path("5/0/0").unwrap();
    b.block(OptionNumber::BLOCK1, block).unwrap();
    if let Some(s) = size1 {
        b.uint_option(OptionNumber::SIZE1, s).unwrap();
    }
    if !tag.is_empty() {
        b.option(OptionNumber::REQUEST_TAG, tag).unwrap();
    }
    b.payload(data).unwrap()
}

fn rx_step(
    rx: &mut Block1Receiver<u8>,
    sink: &mut SliceSink<'_>,
    req: &[u8],
    out: &mut [u8],
) -> (Block1Event, usize) {
    let m = Message::parse(req).unwrap();
    let mut reply = MessageBuilder::response_to(out, &m, Code::EMPTY, 0).unwrap();
    let ev = rx.handle(1, &m, sink, &mut reply).unwrap();
    (ev, reply.finish())
}

fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 256) as u8).collect()
}

#[test]
fn block1_receiver_in_order_duplicates_and_gaps() {
    let data = body(100);
    let mut store = [0u8; 128];
    let mut sink = SliceSink::new(&mut store);
    let mut rx = Block1Receiver::new(6);
    let (mut req, mut out) = ([0u8; 128], [0u8; 64]);

    let n = put_block(
        &mut req,
        1,
        Block::new(0, true, 1).unwrap(),
        Some(100),
        &[],
        &data[..32],
    );
    let (ev, rn) = rx_step(&mut rx, &mut sink, &req[..n], &mut out);
    assert_eq!(ev, Block1Event::Stored { offset: 0, len: 32 });
    let r = Message::parse(&out[..rn]).unwrap();
    assert_eq!(r.code(), Code::CONTINUE);
    assert_eq!(r.message_type(), MessageType::Acknowledgement);
    assert_eq!(r.block1().unwrap(), Some(Block::new(0, true, 1).unwrap()));

    // Block 0 again with a new Message ID: a duplicate, not a new transfer.
    let n = put_block(
        &mut req,
        2,
        Block::new(0, true, 1).unwrap(),
        Some(100),
        &[],
        &data[..32],
    );
    assert_eq!(
        rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
        Block1Event::Duplicate
    );
    assert_eq!(rx.bytes_received(), 32);

    // A gap: block 2 before block 1.
    let n = put_block(
        &mut req,
        3,
        Block::new(2, true, 1).unwrap(),
        None,
        &[],
        &data[64..96],
    );
    let (ev, rn) = rx_step(&mut rx, &mut sink, &req[..n], &mut out);
    assert_eq!(ev, Block1Event::Rejected(Code::REQUEST_ENTITY_INCOMPLETE));
    assert_eq!(
        Message::parse(&out[..rn]).unwrap().code(),
        Code::REQUEST_ENTITY_INCOMPLETE
    );

    for (num, mid) in [(1u32, 4u16), (2, 5)] {
        let o = num as usize * 32;
        let n = put_block(
            &mut req,
            mid,
            Block::new(num, true, 1).unwrap(),
            None,
            &[],
            &data[o..o + 32],
        );
        assert!(matches!(
            rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
            Block1Event::Stored { .. }
        ));
    }
    let n = put_block(
        &mut req,
        6,
        Block::new(3, false, 1).unwrap(),
        None,
        &[],
        &data[96..],
    );
    let (ev, rn) = rx_step(&mut rx, &mut sink, &req[..n], &mut out);
    assert_eq!(ev, Block1Event::Complete { total: 100 });
    assert_eq!(Message::parse(&out[..rn]).unwrap().code(), Code::CHANGED);
    // The final block again: answered 2.04 again, nothing written.
    assert_eq!(
        rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
        Block1Event::Duplicate
    );
    assert!(rx.is_complete());
    assert_eq!(sink.data(), &data[..]);

    // A new transfer at NUM 0 restarts cleanly.
    let n = put_block(
        &mut req,
        7,
        Block::new(0, true, 1).unwrap(),
        None,
        &[],
        &data[32..64],
    );
    assert_eq!(
        rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
        Block1Event::Stored { offset: 0, len: 32 }
    );
    assert_eq!(rx.bytes_received(), 32);
    assert_eq!(sink.data(), &data[32..64]);
}

#[test]
fn block1_receiver_too_large_and_bad_input() {
    let mut store = [0u8; 64];
    let mut sink = SliceSink::new(&mut store);
    let mut rx = Block1Receiver::new(6);
    let (mut req, mut out) = ([0u8; 128], [0u8; 64]);
    let n = put_block(
        &mut req,
        1,
        Block::new(0, true, 1).unwrap(),
        Some(1000),
        &[],
        &[0; 32],
    );
    let (ev, rn) = rx_step(&mut rx, &mut sink, &req[..n], &mut out);
    assert_eq!(ev, Block1Event::Rejected(Code::REQUEST_ENTITY_TOO_LARGE));
    assert_eq!(
        Message::parse(&out[..rn]).unwrap().size1().unwrap(),
        Some(64)
    );
    // Beyond capacity without Size1.
    let n = put_block(
        &mut req,
        2,
        Block::new(2, true, 1).unwrap(),
        None,
        &[],
        &[0; 32],
    );
    assert_eq!(
        rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
        Block1Event::Rejected(Code::REQUEST_ENTITY_TOO_LARGE)
    );
    // A non-final block of the wrong size.
    let n = put_block(
        &mut req,
        3,
        Block::new(0, true, 1).unwrap(),
        None,
        &[],
        &[0; 31],
    );
    assert_eq!(
        rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
        Block1Event::Rejected(Code::BAD_REQUEST)
    );
}

#[test]
fn block1_transfers_keyed_by_request_tag() {
    let mut store = [0u8; 128];
    let mut sink = SliceSink::new(&mut store);
    let mut rx = Block1Receiver::new(6);
    let (mut req, mut out) = ([0u8; 128], [0u8; 64]);
    let n = put_block(
        &mut req,
        1,
        Block::new(0, true, 0).unwrap(),
        None,
        &[1],
        &[1; 16],
    );
    assert!(matches!(
        rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
        Block1Event::Stored { .. }
    ));
    // Block 1 of another tag is not a continuation.
    let n = put_block(
        &mut req,
        2,
        Block::new(1, true, 0).unwrap(),
        None,
        &[2],
        &[2; 16],
    );
    assert_eq!(
        rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
        Block1Event::Rejected(Code::REQUEST_ENTITY_INCOMPLETE)
    );
    let n = put_block(
        &mut req,
        3,
        Block::new(1, false, 0).unwrap(),
        None,
        &[1],
        &[3; 16],
    );
    assert_eq!(
        rx_step(&mut rx, &mut sink, &req[..n], &mut out).0,
        Block1Event::Complete { total: 32 }
    );
}

/// Drives a sender against a receiver in memory; returns the request count.
fn push(
    data: &[u8],
    tx: &mut Block1Sender,
    rx: &mut Block1Receiver<u8>,
    sink: &mut SliceSink<'_>,
) -> usize {
    let (mut req, mut out) = ([0u8; 1200], [0u8; 64]);
    let mut src: &[u8] = data;
    let mut count = 0;
    while !tx.is_complete() {
        count += 1;
        assert!(count < 10_000);
        let mut b = MessageBuilder::new(
            &mut req,
            MessageType::Confirmable,
            Code::PUT,
            count as u16,
            &[],
        )
        .unwrap();
        b.path("5/0/0").unwrap();
        let n = tx.write_request(b, &mut src).unwrap();
        let (_, rn) = rx_step(rx, sink, &req[..n], &mut out);
        tx.handle_response(&Message::parse(&out[..rn]).unwrap())
            .unwrap();
    }
    count
}

#[test]
fn block1_sender_follows_late_negotiation() {
    let data = body(1000);
    let mut store = [0u8; 1024];
    let mut sink = SliceSink::new(&mut store);
    let mut rx = Block1Receiver::new(2); // prefers 64-byte blocks
    let mut tx = Block1Sender::new(1000, 6, Token::new(&[7]).unwrap());
    let n = push(&data, &mut tx, &mut rx, &mut sink);
    assert_eq!(n, 1); // one 1000-byte block: the body ends in the first request
    assert_eq!(sink.data(), &data[..]);

    let data = body(3000);
    let mut store = [0u8; 4096];
    let mut sink = SliceSink::new(&mut store);
    let mut rx = Block1Receiver::new(3);
    let mut tx = Block1Sender::new(3000, 6, Token::EMPTY);
    let n = push(&data, &mut tx, &mut rx, &mut sink);
    assert_eq!(n, 1 + (3000usize - 1024).div_ceil(128));
    assert_eq!(tx.szx(), 3);
    assert_eq!(sink.data(), &data[..]);
}

#[test]
fn block1_push_resume() {
    let data = body(2000);
    let mut store = [0u8; 2048];
    store[..640].copy_from_slice(&data[..640]);
    let mut sink = SliceSink::new(&mut store);
    let mut rx = Block1Receiver::new(6);
    rx.resume_at(640);
    let mut tx = Block1Sender::new(2000, 6, Token::EMPTY).starting_at(640);
    assert_eq!(tx.szx(), 3); // 640 = 5 * 128
    push(&data, &mut tx, &mut rx, &mut sink);
    let _ = sink.data();
    assert_eq!(&store[..2000], &data[..]);
}

#[test]
fn block1_sender_error_responses() {
    let mut tx = Block1Sender::new(5000, 6, Token::EMPTY);
    let mut src: &[u8] = &[0u8; 5000];
    let (mut req, mut out) = ([0u8; 1200], [0u8; 64]);
    let mut send = |tx: &mut Block1Sender, code: Code, size1: Option<u32>, blk: Option<Block>| {
        let b = MessageBuilder::new(&mut req, MessageType::Confirmable, Code::PUT, 1, &[]).unwrap();
        tx.write_request(b, &mut src).unwrap();
        let mut r =
            MessageBuilder::new(&mut out, MessageType::Acknowledgement, code, 1, &[]).unwrap();
        if let Some(b) = blk {
            r.block(OptionNumber::BLOCK1, b).unwrap();
        }
        if let Some(s) = size1 {
            r.uint_option(OptionNumber::SIZE1, s).unwrap();
        }
        let n = r.finish();
        tx.handle_response(&Message::parse(&out[..n]).unwrap())
    };
    assert_eq!(
        send(&mut tx, Code::CONTINUE, None, None),
        Ok(Block1SendEvent::Continue)
    );
    assert_eq!(tx.confirmed_offset(), 1024);
    assert_eq!(
        send(&mut tx, Code::REQUEST_ENTITY_INCOMPLETE, None, None),
        Ok(Block1SendEvent::Restart)
    );
    assert_eq!(tx.confirmed_offset(), 0);
    assert_eq!(
        send(
            &mut tx,
            Code::REQUEST_ENTITY_TOO_LARGE,
            None,
            Some(Block::new(0, true, 4).unwrap())
        ),
        Ok(Block1SendEvent::Resized)
    );
    assert_eq!(tx.szx(), 4);
    assert_eq!(
        send(&mut tx, Code::REQUEST_ENTITY_TOO_LARGE, Some(4000), None),
        Err(Error::TooLarge { capacity: 4000 })
    );
    assert_eq!(
        send(&mut tx, Code::FORBIDDEN, None, None),
        Err(Error::Response(Code::FORBIDDEN.0))
    );
}

/// Pulls a body from a Block2 server into a Vec; returns the request count.
fn pull(
    server: &Block2Server,
    data: &[u8],
    client: &mut Block2Client,
    sink: &mut Vec<u8>,
) -> Result<usize, Error> {
    let (mut req, mut out) = ([0u8; 64], [0u8; 1200]);
    let mut src: &[u8] = data;
    let mut count = 0;
    loop {
        count += 1;
        assert!(count < 10_000);
        let mut b = MessageBuilder::new(
            &mut req,
            MessageType::Confirmable,
            Code::GET,
            count as u16,
            &[1],
        )
        .unwrap();
        b.path("fw").unwrap();
        client.add_request_options(&mut b).unwrap();
        let n = b.finish();
        let m = Message::parse(&req[..n]).unwrap();
        let reply = MessageBuilder::response_to(&mut out, &m, Code::EMPTY, 0).unwrap();
        let rn = server.respond(&m, &mut src, reply).unwrap();
        let r = Message::parse(&out[..rn]).unwrap();
        assert_eq!(r.size2().unwrap(), Some(data.len() as u32));
        // Both entry points, alternately: the ETag looked up here or by the client.
        let event = if count % 2 == 0 {
            client.handle_response_tagged(&r, r.etag(), sink)?
        } else {
            client.handle_response(&r, sink)?
        };
        if let Block2Event::Complete { total } = event {
            assert_eq!(total as usize, data.len());
            return Ok(count);
        }
    }
}

#[test]
fn block2_pull_negotiation_resume_and_etag() {
    let data = body(5000);
    let mut src: &[u8] = &data;
    let etag = content_etag(&mut src).unwrap();
    let server = Block2Server::new(4, etag, Some(42)); // server caps at 256
    let mut sink = Vec::new();
    let mut client = Block2Client::new(6);
    let n = pull(&server, &data, &mut client, &mut sink).unwrap();
    assert_eq!(n, 5000usize.div_ceil(256));
    assert_eq!(client.szx(), 4);
    assert_eq!(sink, data);
    assert_eq!(client.etag(), Some(etag));

    // Resume from an unaligned offset with the known ETag.
    let mut sink = data[..1000].to_vec();
    let mut client = Block2Client::new(6).starting_at(1000, Some(etag));
    pull(&server, &data, &mut client, &mut sink).unwrap();
    assert_eq!(sink, data);

    // The package changed since: reported, client starts over.
    let other = body(4000);
    let mut o: &[u8] = &other;
    let server2 = Block2Server::new(6, content_etag(&mut o).unwrap(), None);
    let mut client = Block2Client::new(6).starting_at(1024, Some(etag));
    assert_eq!(
        pull(&server2, &other, &mut client, &mut sink),
        Err(Error::EtagChanged)
    );
    assert_eq!(client.offset(), 0);
    let mut sink = Vec::new();
    pull(&server2, &other, &mut client, &mut sink).unwrap();
    assert_eq!(sink, other);

    // A body that is a multiple of the block size, resumed at its end: empty final block.
    let data = body(2048);
    let server = Block2Server::new(6, Token::EMPTY, None);
    let mut sink = data.clone();
    let mut client = Block2Client::new(6).starting_at(2048, None);
    assert_eq!(pull(&server, &data, &mut client, &mut sink).unwrap(), 1);
    assert_eq!(sink, data);
}

#[test]
fn reliability_rfc_backoff() {
    let mut r = Reliability::new(TransmissionParams::RFC7252, 42);
    let mut buf = [0u8; 32];
    let mid = r.next_message_id();
    let tok = r.next_token();
    let n = MessageBuilder::new(
        &mut buf,
        MessageType::Confirmable,
        Code::GET,
        mid,
        tok.as_slice(),
    )
    .unwrap()
    .finish();
    let m = Message::parse(&buf[..n]).unwrap();
    r.start(0, &m).unwrap();
    assert_eq!(r.start(0, &m), Err(Error::Busy));
    let first = r.poll_timeout().unwrap();
    assert!((2000..=3000).contains(&first), "{first}");
    let mut now = first;
    let mut retransmits = 0;
    loop {
        match r.handle_timeout(now) {
            TimeoutAction::Retransmit => retransmits += 1,
            TimeoutAction::GiveUp => break,
            TimeoutAction::None => panic!("not due"),
        }
        now = r.poll_timeout().unwrap();
    }
    assert_eq!(retransmits, 4);
    // Total wait is MAX_TRANSMIT_WAIT-like: 2..3 s times (1+2+4+8+16).
    assert!((62_000..=93_000).contains(&now), "{now}");
}

#[test]
fn reliability_matching_and_adaptive() {
    let mut r = Reliability::new(TransmissionParams::ADAPTIVE, 7);
    let mut buf = [0u8; 32];
    let mut resp = [0u8; 32];
    for i in 0..20u64 {
        let mid = r.next_message_id();
        let tok = r.next_token();
        let n = MessageBuilder::new(
            &mut buf,
            MessageType::Confirmable,
            Code::GET,
            mid,
            tok.as_slice(),
        )
        .unwrap()
        .finish();
        r.start(i * 100, &Message::parse(&buf[..n]).unwrap())
            .unwrap();
        // An unrelated ACK is ignored.
        let k = MessageBuilder::empty(&mut resp, mid.wrapping_add(9), false).unwrap();
        assert_eq!(
            r.handle_incoming(i * 100, &Message::parse(&resp[..k]).unwrap()),
            Incoming::Unrelated
        );
        let k = MessageBuilder::new(
            &mut resp,
            MessageType::Acknowledgement,
            Code::CONTENT,
            mid,
            tok.as_slice(),
        )
        .unwrap()
        .finish();
        assert_eq!(
            r.handle_incoming(i * 100 + 1, &Message::parse(&resp[..k]).unwrap()),
            Incoming::Response { ack_needed: false }
        );
    }
    assert_eq!(r.rto_ms(), TransmissionParams::ADAPTIVE.min_rto_ms);

    // Empty ACK then a separate CON response.
    let mid = r.next_message_id();
    let tok = r.next_token();
    let n = MessageBuilder::new(
        &mut buf,
        MessageType::Confirmable,
        Code::GET,
        mid,
        tok.as_slice(),
    )
    .unwrap()
    .finish();
    r.start(5000, &Message::parse(&buf[..n]).unwrap()).unwrap();
    let k = MessageBuilder::empty(&mut resp, mid, false).unwrap();
    assert_eq!(
        r.handle_incoming(5001, &Message::parse(&resp[..k]).unwrap()),
        Incoming::EmptyAck
    );
    assert_eq!(r.handle_timeout(6000), TimeoutAction::None);
    let k = MessageBuilder::new(
        &mut resp,
        MessageType::Confirmable,
        Code::CONTENT,
        999,
        tok.as_slice(),
    )
    .unwrap()
    .finish();
    assert_eq!(
        r.handle_incoming(6000, &Message::parse(&resp[..k]).unwrap()),
        Incoming::Response { ack_needed: true }
    );
    assert!(!r.is_busy());
}

#[test]
fn dedup_replays_the_same_response() {
    let mut cache: DedupCache<u8, 4, 32> = DedupCache::new();
    let mut buf = [0u8; 16];
    let n = MessageBuilder::new(&mut buf, MessageType::Confirmable, Code::PUT, 77, &[])
        .unwrap()
        .finish();
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(cache.check(0, 1, &m), Dedup::New);
    assert_eq!(cache.check(10, 1, &m), Dedup::Reprocess);
    cache.store(1, 77, b"reply");
    assert_eq!(cache.check(20, 1, &m), Dedup::Replay(b"reply"));
    assert_eq!(cache.check(20, 2, &m), Dedup::New);
    assert_eq!(cache.check(300_000, 1, &m), Dedup::New);
    cache.store(1, 77, &[0; 40]);
    assert_eq!(cache.check(300_001, 1, &m), Dedup::Reprocess);
}

/// `handle_request` with parts decoded by the caller, and `receive` with the reply written by
/// the caller, behave like `handle`.
#[test]
fn block1_handle_request_and_receive_match_handle() {
    let data = body(100);
    let (mut a_store, mut b_store, mut c_store) = ([0u8; 128], [0u8; 128], [0u8; 128]);
    let mut a_sink = SliceSink::new(&mut a_store);
    let mut b_sink = SliceSink::new(&mut b_store);
    let mut c_sink = SliceSink::new(&mut c_store);
    let (mut a, mut b, mut c) = (
        Block1Receiver::new(1),
        Block1Receiver::new(1),
        Block1Receiver::new(1),
    );
    let mut out_c = [0u8; 64];
    let (mut req, mut out_a, mut out_b) = ([0u8; 128], [0u8; 64], [0u8; 64]);
    // In order, a duplicate, a gap, the rest, the final block again, a too-large one.
    let steps: [(u16, u32, bool, usize, usize, Option<u32>); 7] = [
        (1, 0, true, 0, 32, Some(100)),
        (2, 0, true, 0, 32, None),
        (3, 2, true, 64, 96, None),
        (4, 1, true, 32, 64, None),
        (5, 2, true, 64, 96, None),
        (6, 3, false, 96, 100, None),
        (7, 0, true, 0, 32, Some(1000)),
    ];
    for (mid, num, more, from, to, size1) in steps {
        let n = put_block(
            &mut req,
            mid,
            Block::new(num, more, 1).unwrap(),
            size1,
            &[],
            &data[from..to],
        );
        let m = Message::parse(&req[..n]).unwrap();
        let (ev_a, na) = rx_step(&mut a, &mut a_sink, &req[..n], &mut out_a);
        let parts = Block1Request {
            key: 0,
            block1: m.block1().unwrap(),
            size1: m.size1().unwrap(),
            payload: m.payload(),
        };
        let mut reply = MessageBuilder::response_to(&mut out_b, &m, Code::EMPTY, 0).unwrap();
        let ev_b = b
            .handle_request(1, &parts, &mut b_sink, &mut reply)
            .unwrap();
        let nb = reply.finish();
        assert_eq!(ev_a, ev_b, "step {mid}");
        assert_eq!(out_a[..na], out_b[..nb], "step {mid}");
        let r = c.receive(1, &parts, &mut c_sink);
        let mut reply = MessageBuilder::response_to(&mut out_c, &m, Code::EMPTY, 0).unwrap();
        r.write_to(&mut reply).unwrap();
        let nc = reply.finish();
        assert_eq!(r.event, ev_a, "step {mid}");
        assert_eq!(out_a[..na], out_c[..nc], "step {mid}");
    }
    assert_eq!(a_sink.data(), &data[..]);
    assert_eq!(b_sink.data(), &data[..]);
    assert_eq!(c_sink.data(), &data[..]);
    // A malformed Block1 option: 4.02 from `handle`, an error from the parts decoder.
    let mut buf = [0u8; 32];
    let mut mb =
        MessageBuilder::new(&mut buf, MessageType::Confirmable, Code::PUT, 9, &[]).unwrap();
    mb.option(OptionNumber::BLOCK1, &[0x0f]).unwrap();
    let n = mb.payload(&[1]).unwrap();
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(
        Block1Request::from_message(&m),
        Err(Error::BadOption { number: 27 })
    );
    let mut reply = MessageBuilder::response_to(&mut out_a, &m, Code::EMPTY, 0).unwrap();
    assert_eq!(
        a.handle(1, &m, &mut a_sink, &mut reply).unwrap(),
        Block1Event::Rejected(Code::BAD_OPTION)
    );
}

/// `Reliability<false>`: the RFC 7252 timeout whatever the parameters say, and requests
/// registered from their parts.
#[test]
fn reliability_without_adaptive_timeout() {
    let mut r = Reliability::<false>::with_params(TransmissionParams::ADAPTIVE, 7);
    let mut resp = [0u8; 32];
    for i in 0..10u64 {
        let (mid, tok) = (r.next_message_id(), r.next_token());
        r.start_request(i * 100, mid, tok, true).unwrap();
        assert_eq!(r.start_request(i * 100, mid, tok, true), Err(Error::Busy));
        let k = MessageBuilder::new(
            &mut resp,
            MessageType::Acknowledgement,
            Code::CONTENT,
            mid,
            tok.as_slice(),
        )
        .unwrap()
        .finish();
        assert_eq!(
            r.handle_incoming(i * 100 + 1, &Message::parse(&resp[..k]).unwrap()),
            Incoming::Response { ack_needed: false }
        );
    }
    // Fast answers do not shrink the timeout: it stays ACK_TIMEOUT.
    assert_eq!(r.rto_ms(), 2000);
    // A NON waits for its response (no retransmission), then gives up.
    let tok = r.next_token();
    r.start_request(0, 1, tok, false).unwrap();
    assert_eq!(
        r.poll_timeout(),
        Some(TransmissionParams::RFC7252.separate_response_ms as u64)
    );
    assert_eq!(r.handle_timeout(93_000), TimeoutAction::GiveUp);
    // A response with another token is not ours.
    let (mid, tok) = (r.next_message_id(), r.next_token());
    r.start_request(0, mid, tok, true).unwrap();
    let k = MessageBuilder::new(
        &mut resp,
        MessageType::NonConfirmable,
        Code::CONTENT,
        5,
        &[1, 2, 3],
    )
    .unwrap()
    .finish();
    assert_eq!(
        r.handle_incoming(1, &Message::parse(&resp[..k]).unwrap()),
        Incoming::Unrelated
    );
    assert!(r.is_busy());
}
