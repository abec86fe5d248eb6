//! Footprint probes: one module per device-side component, each enabled by the feature of the
//! same name. `./measure` builds the binary once per component and once with none, and reports
//! the difference, so every byte a component pulls in (its own code, `core`, compiler builtins)
//! is charged to it.
#![no_std]
#![no_main]

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "coap")]
mod coap;
#[cfg(feature = "delta")]
mod delta;
#[cfg(feature = "ed25519")]
mod ed25519;
#[cfg(feature = "fsm")]
mod fsm;
#[cfg(feature = "objects")]
mod objects;
#[cfg(feature = "sha256")]
mod sha256;
#[cfg(feature = "storage")]
mod storage;
#[cfg(feature = "tlv")]
mod tlv;

/// Input bytes the optimiser cannot see through: probes slice what they need from here.
static INPUT: [u8; 512] = [0; 512];

/// `len` bytes of opaque input (at most 512).
fn input(len: usize) -> &'static [u8] {
    let all: &'static [u8; 512] = core::hint::black_box(&INPUT);
    &all[..len.min(512)]
}

/// Marks a value as used so the code computing it is kept.
fn keep<T>(value: T) {
    core::hint::black_box(value);
}

/// Entry point of the probe image: runs every enabled probe.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    // The input buffer belongs to the baseline, not to the first probe that reads it.
    keep(input(512));
    #[cfg(feature = "tlv")]
    tlv::probe();
    #[cfg(feature = "coap")]
    coap::probe();
    #[cfg(feature = "fsm")]
    fsm::probe();
    #[cfg(feature = "delta")]
    delta::probe();
    #[cfg(feature = "storage")]
    storage::probe();
    #[cfg(feature = "sha256")]
    sha256::probe();
    #[cfg(feature = "ed25519")]
    ed25519::probe();
    #[cfg(feature = "objects")]
    objects::probe();
    #[cfg(feature = "client")]
    client::probe();
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
