//! Footprint probes: one module per device-side component, each enabled by the feature of the
//! same name. `./measure` builds the binary once per component and once with none, and reports
//! the difference, so every byte a component pulls in (its own code, `core`, compiler builtins)
//! is charged to it, except the memory primitives (`memcpy`, `memmove`, `memset`, `memcmp` and
//! their ARM EABI entry points): every firmware image links those once, and the C figures we
//! compare with (object-file sizes at -Os) leave libc out too, so the baseline links them.
#![no_std]
#![no_main]

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "coap")]
mod coap;
#[cfg(feature = "coap-codec")]
mod coap_engines;
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

/// Links the memory primitives into every image, the baseline included (see the crate docs).
#[inline(never)]
fn memory_primitives() {
    let n = core::hint::black_box(32usize).min(32);
    let src = input(n);
    let mut bytes = [0u8; 64];
    bytes[..n].copy_from_slice(src); // memcpy
    bytes.copy_within(..n, 1); // memmove
    keep(bytes[1..=n] == src[..n]); // memcmp / bcmp
    keep(core::hint::black_box(&bytes[..n]).cmp(src)); // memcmp ordering
    bytes[..n].fill(core::hint::black_box(0xA5)); // memset
    bytes[1..=n].fill(0); // memclr
    let mut words = [0u32; 16];
    let m = core::hint::black_box(8usize).min(8);
    words[..m].fill(0); // memclr4
    let copy = core::hint::black_box([7u32; 16]);
    words[m..].copy_from_slice(&copy[m..]); // memcpy4
    keep(&bytes);
    keep(&words);
}

/// Entry point of the probe image: runs every enabled probe.
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    // The input buffer belongs to the baseline, not to the first probe that reads it.
    keep(input(512));
    memory_primitives();
    #[cfg(feature = "tlv")]
    tlv::probe();
    #[cfg(feature = "coap")]
    coap::probe();
    #[cfg(feature = "coap-codec")]
    coap_engines::probe();
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
