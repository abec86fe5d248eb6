#![no_main]
//! Arbitrary patches against a fixed old image, fed to the streaming patcher in chunks of a
//! size taken from the input: it must return typed errors, never panic, never write past the
//! announced size, and only succeed with the promised digest. The same bytes also go to the
//! BSDIFF40 reader.

use fota_delta::{Error, Patcher, bsdiff40};
use libfuzzer_sys::fuzz_target;

/// The fixed old image (seeds are patches against it).
fn old_image() -> Vec<u8> {
    (0..4096u32)
        .map(|i| (i.wrapping_mul(31) % 253) as u8)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let old = old_image();
    let Some((&chunk, patch)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut p = Patcher::new();
    let mut out = Vec::new();
    let mut result: Result<(), Error> = Ok(());
    for c in patch.chunks(chunk) {
        if let Err(e) = p.feed(c, &mut old.as_slice(), &mut out) {
            result = Err(e);
            break;
        }
    }
    if result.is_ok() {
        result = p.finish(&mut old.as_slice(), &mut out);
    }
    if let Some(h) = p.header() {
        assert!(out.len() <= h.new_size as usize);
    }
    if result.is_ok() {
        assert!(p.is_done());
    }
    let _ = bsdiff40::apply_limited(&old, patch, 1 << 20);
});
