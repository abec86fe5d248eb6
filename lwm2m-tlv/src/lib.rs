//! Zero-copy, `no_std` codec for the OMA LwM2M TLV payload format (CoAP content format 11542).
//!
//! The decoder is a checked view over a byte slice that yields records borrowing their values;
//! the encoder writes into caller buffers. Neither allocates.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// CoAP Content-Format number of LwM2M TLV (`application/vnd.oma.lwm2m+tlv`).
pub const CONTENT_FORMAT_TLV: u16 = 11542;
/// Legacy pre-registration Content-Format number of LwM2M TLV (same codec).
pub const CONTENT_FORMAT_TLV_LEGACY: u16 = 1542;
