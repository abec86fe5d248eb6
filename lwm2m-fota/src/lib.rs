//! LwM2M firmware over the air: composes the workspace crates into a sans-IO device client,
//! a FOTA server (with `std`) and the fleet demo.
#![no_std]

#[cfg(feature = "std")]
extern crate std;

/// Default LwM2M server port over UDP.
pub const DEFAULT_PORT: u16 = 5683;
