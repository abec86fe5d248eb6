#![no_main]
//! Feeds a Block1 receiver arbitrary sequences of requests (well-formed block-wise PUTs with
//! fuzzed NUM/M/SZX/lengths/tags/sizes from several peers, and raw datagrams). The receiver must
//! never panic, never write outside the sink's capacity, write only contiguously from the start
//! of a transfer (or the resume offset), never write a byte twice within a transfer, and always
//! produce a reply that parses. A twin receiver driven through `Block1Request::from_message` +
//! `receive` + `Block1Reply::write_to` must decide and answer exactly as `handle` does.

use arbitrary::Arbitrary;
use coap_block::{
    Block, Block1Event, Block1Receiver, Block1Request, BlockSink, Code, Error, Message,
    MessageBuilder, MessageType, OptionNumber,
};
use libfuzzer_sys::fuzz_target;

const CAPACITY: u32 = 4096;

#[derive(Arbitrary, Debug)]
enum Step {
    Put {
        peer: u8,
        num: u16,
        more: bool,
        szx: u8,
        len: u16,
        tag: Option<u8>,
        size1: Option<u32>,
        other_path: bool,
        con: bool,
    },
    Raw(Vec<u8>),
    Resume(u16),
    Reset,
}

#[derive(Arbitrary, Debug)]
struct Input {
    preferred_szx: u8,
    steps: Vec<Step>,
}

struct CheckSink {
    /// Next offset a write may start at.
    next: u32,
    begun: bool,
}

impl BlockSink for CheckSink {
    fn begin(&mut self, _size: Option<u32>) -> Result<(), Error> {
        self.next = 0;
        self.begun = true;
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        assert!(self.begun, "write before begin or resume");
        assert_eq!(
            offset, self.next,
            "writes are contiguous and never repeated"
        );
        let end = offset as u64 + data.len() as u64;
        assert!(end <= CAPACITY as u64, "write beyond capacity");
        self.next = end as u32;
        Ok(())
    }
    fn capacity(&self) -> u32 {
        CAPACITY
    }
}

fuzz_target!(|input: Input| {
    let mut rx: Block1Receiver<u8> = Block1Receiver::new(input.preferred_szx);
    let mut sink = CheckSink {
        next: 0,
        begun: false,
    };
    let mut twin: Block1Receiver<u8> = Block1Receiver::new(input.preferred_szx);
    let mut twin_sink = CheckSink {
        next: 0,
        begun: false,
    };
    let mut twin_out = [0u8; 64];
    let mut req = [0u8; 1400];
    let mut out = [0u8; 64];
    let payload = [0x5au8; 1100];
    for (i, step) in input.steps.iter().enumerate().take(64) {
        let mid = i as u16;
        let (peer, n) = match step {
            Step::Resume(off) => {
                // The caller resumes at what its storage holds, never beyond its capacity.
                let off = *off as u32 % (CAPACITY + 1);
                rx.resume_at(off);
                sink.next = off;
                sink.begun = true;
                twin.resume_at(off);
                twin_sink.next = off;
                twin_sink.begun = true;
                continue;
            }
            Step::Reset => {
                rx.reset();
                twin.reset();
                continue;
            }
            Step::Raw(bytes) => {
                let n = bytes.len().min(req.len());
                req[..n].copy_from_slice(&bytes[..n]);
                (0u8, n)
            }
            Step::Put {
                peer,
                num,
                more,
                szx,
                len,
                tag,
                size1,
                other_path,
                con,
            } => {
                let ty = if *con {
                    MessageType::Confirmable
                } else {
                    MessageType::NonConfirmable
                };
                let mut b = MessageBuilder::new(&mut req, ty, Code::PUT, mid, &[i as u8]).unwrap();
                b.path(if *other_path { "5/0/1" } else { "5/0/0" }).unwrap();
                let block = Block {
                    num: *num as u32 & 0xfffff,
                    more: *more,
                    szx: szx % 7,
                };
                b.block(OptionNumber::BLOCK1, block).unwrap();
                if let Some(s) = size1 {
                    b.uint_option(OptionNumber::SIZE1, *s).unwrap();
                }
                if let Some(t) = tag {
                    b.option(OptionNumber::REQUEST_TAG, &[*t]).unwrap();
                }
                let len = (*len as usize) % (payload.len() + 1);
                (*peer % 3, b.payload(&payload[..len]).unwrap())
            }
        };
        let Ok(m) = Message::parse(&req[..n]) else {
            continue;
        };
        let Ok(mut reply) = MessageBuilder::response_to(&mut out, &m, Code::EMPTY, 1) else {
            continue;
        };
        let before = sink.next;
        let event = rx.handle(peer, &m, &mut sink, &mut reply);
        // The twin: parts decoded apart, the reply written by the caller.
        let Ok(mut twin_reply) = MessageBuilder::response_to(&mut twin_out, &m, Code::EMPTY, 1)
        else {
            unreachable!("the same request and buffer size as above");
        };
        let twin_event = match Block1Request::from_message(&m) {
            Ok(parts) => {
                let r = twin.receive(peer, &parts, &mut twin_sink);
                r.write_to(&mut twin_reply).map(|()| r.event)
            }
            Err(_) => {
                twin_reply.set_code(Code::BAD_OPTION);
                Ok(Block1Event::Rejected(Code::BAD_OPTION))
            }
        };
        assert_eq!(event, twin_event, "receive decides as handle does");
        assert_eq!(twin_sink.next, sink.next, "receive stores as handle does");
        let tk = twin_reply.finish();
        match event {
            Ok(Block1Event::Duplicate) | Ok(Block1Event::Rejected(_)) => {
                assert_eq!(
                    sink.next, before,
                    "nothing written for a duplicate or a rejection"
                );
            }
            Ok(Block1Event::Stored { offset, len }) => assert_eq!(sink.next, offset + len),
            Ok(Block1Event::Complete { total }) => assert_eq!(sink.next, total),
            Err(_) => {}
        }
        let k = reply.finish();
        assert_eq!(out[..k], twin_out[..tk], "receive answers as handle does");
        let r = Message::parse(&out[..k]).expect("reply parses");
        assert!(r.code().is_response());
        assert!(rx.bytes_received() <= CAPACITY);
    }
});
