//! The OMA LwM2M object model: const object and resource definitions, the core objects,
//! an operation dispatcher, CoRE Link Format output and (with `std`) the OMA DDF XML loader.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

/// Object ID of the Firmware Update object.
pub const FIRMWARE_UPDATE_OBJECT_ID: u16 = 5;
