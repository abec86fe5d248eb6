//! Delta patches for firmware: a `no_std` streaming patcher that applies a patch while it is
//! downloaded in a few KiB of RAM, and (with `std`) a bsdiff-class generator and BSDIFF40 interop.
#![no_std]

#[cfg(feature = "std")]
extern crate std;

/// Magic bytes of the classic bsdiff 4 patch format.
pub const BSDIFF40_MAGIC: &[u8; 8] = b"BSDIFF40";
