//! Sans-IO CoAP (RFC 7252) message codec with block-wise transfer (RFC 7959) and
//! retransmission: state machines fed messages and `now`, polled for output and timeouts.
#![no_std]

#[cfg(feature = "std")]
extern crate std;

/// Largest block size exponent usable over UDP (SZX 6 = 1024 bytes; 7 is BERT, TCP only).
pub const MAX_SZX_UDP: u8 = 6;
