//! Firmware slots on `embedded-storage` NOR flash: a sequential slot writer, a power-fail-safe
//! progress journal, image verification and a simulated flash that cuts power anywhere.
#![no_std]

#[cfg(feature = "std")]
extern crate std;

/// Value of an erased NOR flash byte.
pub const ERASED_BYTE: u8 = 0xFF;
