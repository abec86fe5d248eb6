#![no_main]
//! Placeholder until the owning crate's issue fills this target in.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = data.len();
});
