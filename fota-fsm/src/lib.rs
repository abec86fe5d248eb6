//! The LwM2M Firmware Update object (object 5) state machine: four states, Update Result codes,
//! every transition of object versions 1.0, 1.1 and 1.2, and a persisted record.
#![no_std]

#[cfg(feature = "std")]
extern crate std;

/// Number of states of the Firmware Update object (Idle, Downloading, Downloaded, Updating).
pub const STATE_COUNT: usize = 4;
