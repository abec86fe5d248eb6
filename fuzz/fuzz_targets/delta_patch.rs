#![no_main]
//! Arbitrary patches against a fixed old image, fed to the streaming patcher in chunks of a
//! size taken from the input: it must return typed errors, never panic, never write past the
//! announced size, and only succeed with the promised digest. The same bytes also go to the
//! BSDIFF40 reader. When a checkpoint was passed, a second patcher restored from its bytes
//! finishes the patch with the same outcome.

use fota_delta::{CHECKPOINT_LEN, Checkpoint, Error, Patcher, bsdiff40};
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
    let mut checkpoint = None;
    for c in patch.chunks(chunk) {
        match p.push(c, &mut old.as_slice(), &mut out) {
            Ok(passed) => {
                let mut b = [0u8; CHECKPOINT_LEN];
                if passed && p.write_checkpoint(&mut b) {
                    checkpoint = Some(b);
                }
            }
            Err(e) => {
                result = Err(e);
                break;
            }
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
    // Resume from the last checkpoint, in place, and feed the rest again: the same outcome.
    // (The sink may have received bytes past the checkpoint: it restarts at its new offset.)
    if let Some(b) = checkpoint {
        let mut q = Patcher::new();
        q.restore(&b).expect("own checkpoint");
        let cp = Checkpoint::from_bytes(&b).expect("own checkpoint");
        let mut out2 = out[..cp.new_offset() as usize].to_vec();
        let mut r2: Result<(), Error> = Ok(());
        for c in patch[cp.patch_offset() as usize..].chunks(chunk) {
            if let Err(e) = q.push(c, &mut old.as_slice(), &mut out2) {
                r2 = Err(e);
                break;
            }
        }
        if r2.is_ok() {
            r2 = q.finish(&mut old.as_slice(), &mut out2);
        }
        assert_eq!(r2.is_ok(), result.is_ok());
        if result.is_ok() {
            assert_eq!(out2, out);
        }
    }
    let _ = bsdiff40::apply_limited(&old, patch, 1 << 20);
});
