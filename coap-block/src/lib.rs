//! Sans-IO CoAP (RFC 7252) message codec with block-wise transfer (RFC 7959) and
//! retransmission: state machines fed messages and `now`, polled for output and timeouts.
//!
//! ```
//! use coap_block::{Block, Code, Message, MessageBuilder, MessageType, OptionNumber};
//!
//! let mut buf = [0u8; 64];
//! let mut b = MessageBuilder::new(&mut buf, MessageType::Confirmable, Code::GET, 7, &[0xaa])?;
//! b.path("/fw/image.bin")?;
//! b.block(OptionNumber::BLOCK2, Block::new(2, false, 6)?)?;
//! let n = b.finish();
//!
//! let msg = Message::parse(&buf[..n])?;
//! assert_eq!(msg.code(), Code::GET);
//! assert!(msg.path_is("fw/image.bin"));
//! assert_eq!(msg.block2()?.map(|b| b.offset()), Some(2048));
//! # Ok::<(), coap_block::Error>(())
//! ```
#![no_std]

#[cfg(feature = "std")]
extern crate std;

mod block;
mod block1;
mod block2;
mod error;
mod io;
pub mod layer;
mod msg;
#[cfg(feature = "std")]
pub mod udp;

pub use block::{Block, MAX_BLOCK_NUM, size_of_szx};
pub use block1::{
    Block1Event, Block1Receiver, Block1Reply, Block1Request, Block1SendEvent, Block1Sender,
};
pub use block2::{Block2Client, Block2Event, Block2Server, content_etag};
pub use error::Error;
pub use io::{BlockSink, BlockSource, SliceSink};
pub use layer::{Dedup, DedupCache, Incoming, Reliability, TimeoutAction, TransmissionParams};
pub use msg::{
    CoapOption, Code, Message, MessageBuilder, MessageType, OptionNumber, Options, Token,
    decode_uint,
};

/// Largest block size exponent usable over UDP (SZX 6 = 1024 bytes; 7 is BERT, TCP only).
pub const MAX_SZX_UDP: u8 = 6;
