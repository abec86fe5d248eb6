//! Behaviour: generated patches rebuild the new image through the streaming patcher, fed in
//! chunks of any size, and resume from checkpoints.
#![cfg(feature = "std")]

use fota_delta::{CHECKPOINT_LEN, Checkpoint, DiffOptions, Error, Patcher, apply, diff, diff_with};

fn sample(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x % 7) as u8 * 37
        })
        .collect()
}

fn edited(old: &[u8]) -> Vec<u8> {
    let mut new = old.to_vec();
    for i in (0..new.len()).step_by(97) {
        new[i] = new[i].wrapping_add(4);
    }
    new.splice(1000..1000, b"inserted code".iter().copied());
    new.drain(5000..5100);
    new.extend_from_slice(&sample(3000, 9));
    new
}

/// A patch whose coder restarts every 4 KiB of new image: a checkpoint falls at each restart.
fn patch_in_4k_blocks(old: &[u8], new: &[u8]) -> Vec<u8> {
    let opts = DiffOptions {
        interval_log2: 12,
        progress: None,
    };
    diff_with(old, new, opts)
}

#[test]
fn roundtrip_chunk_sizes() {
    let old = sample(40_000, 1);
    let new = edited(&old);
    let patch = diff(&old, &new);
    for chunk in [1, 7, 64, 1024, patch.len()] {
        let mut p = Patcher::new();
        let mut out = Vec::new();
        for c in patch.chunks(chunk) {
            p.feed(c, &mut old.as_slice(), &mut out).unwrap();
        }
        p.finish(&mut old.as_slice(), &mut out).unwrap();
        assert_eq!(out, new, "chunk {chunk}");
    }
}

#[test]
fn empty_and_tiny_images() {
    for (old, new) in [
        (vec![], vec![]),
        (vec![], vec![1, 2, 3]),
        (vec![1, 2, 3], vec![]),
        (vec![5; 10], vec![5; 11]),
    ] {
        let patch = diff(&old, &new);
        assert_eq!(apply(&old, &patch).unwrap(), new);
    }
}

#[test]
fn long_zero_runs() {
    // bsdiff-rs overflowed its stack here; the suffix sort must not recurse per byte.
    let old = vec![0u8; 320 * 1024];
    let mut new = old.clone();
    new[100_000] = 1;
    new.extend_from_slice(&[0; 1000]);
    let patch = diff(&old, &new);
    assert!(patch.len() < 1000, "{}", patch.len());
    assert_eq!(apply(&old, &patch).unwrap(), new);
}

#[test]
fn resume_from_every_checkpoint() {
    let old = sample(20_000, 3);
    let new = edited(&old);
    let patch = patch_in_4k_blocks(&old, &new);
    let mut p = Patcher::new();
    let mut out = Vec::new();
    let mut cps = Vec::new();
    for c in patch.chunks(50) {
        if let Some(cp) = p.feed(c, &mut old.as_slice(), &mut out).unwrap().checkpoint {
            cps.push(cp.to_bytes());
        }
    }
    p.finish(&mut old.as_slice(), &mut out).unwrap();
    assert_eq!(out, new);
    assert!(cps.len() >= 4, "{}", cps.len());
    for bytes in cps {
        let cp = Checkpoint::from_bytes(&bytes).unwrap();
        let mut p = Patcher::resume(&cp);
        let mut out = new[..cp.new_offset() as usize].to_vec();
        for c in patch[cp.patch_offset() as usize..].chunks(33) {
            p.feed(c, &mut old.as_slice(), &mut out).unwrap();
        }
        p.finish(&mut old.as_slice(), &mut out).unwrap();
        assert_eq!(out, new);
    }
}

#[test]
fn push_write_checkpoint_and_restore_in_place() {
    let old = sample(20_000, 4);
    let new = edited(&old);
    let patch = patch_in_4k_blocks(&old, &new);
    // The device flow: one patcher, `push`, checkpoint bytes into a buffer, `restore`.
    let mut p = Patcher::new();
    let mut out = Vec::new();
    let mut cps = Vec::new();
    for c in patch.chunks(77) {
        if p.push(c, &mut old.as_slice(), &mut out).unwrap() {
            let mut b = [0u8; CHECKPOINT_LEN];
            assert!(p.write_checkpoint(&mut b));
            assert_eq!(Some(Checkpoint::from_bytes(&b).unwrap()), p.checkpoint());
            cps.push(b);
        }
    }
    p.finish(&mut old.as_slice(), &mut out).unwrap();
    assert_eq!(out, new);
    assert!(cps.len() >= 4, "{}", cps.len());
    let mut torn = cps[1];
    torn[7] ^= 1;
    assert_eq!(p.restore(&torn), Err(Error::BadCheckpoint));
    assert_eq!(p.restore(&torn[..40]), Err(Error::BadCheckpoint));
    for bytes in cps {
        p.restore(&bytes).unwrap();
        let cp = p.checkpoint().unwrap();
        assert_eq!(cp.to_bytes(), bytes);
        let mut out = new[..cp.new_offset() as usize].to_vec();
        for c in patch[cp.patch_offset() as usize..].chunks(41) {
            p.push(c, &mut old.as_slice(), &mut out).unwrap();
        }
        p.finish(&mut old.as_slice(), &mut out).unwrap();
        assert_eq!(out, new);
    }
}

#[test]
fn wrong_old_image_writes_nothing() {
    let old = sample(10_000, 5);
    let new = edited(&old);
    let patch = diff(&old, &new);
    let mut other = old.clone();
    other[9_999] ^= 1;
    let mut p = Patcher::new();
    let mut out = Vec::new();
    assert_eq!(
        p.feed(&patch, &mut other.as_slice(), &mut out),
        Err(Error::OldDigestMismatch)
    );
    assert!(out.is_empty());
    assert_eq!(
        p.feed(&[], &mut other.as_slice(), &mut out),
        Err(Error::Finished)
    );
}

#[test]
fn progress_callback_reaches_the_end() {
    let old = sample(30_000, 11);
    let new = edited(&old);
    let mut seen = Vec::new();
    let mut cb = |done: u64, total: u64| seen.push((done, total));
    let patch = diff_with(
        &old,
        &new,
        DiffOptions {
            interval_log2: 0,
            progress: Some(&mut cb),
        },
    );
    assert_eq!(seen.last(), Some(&(new.len() as u64, new.len() as u64)));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    let h = fota_delta::Header::parse(patch[..fota_delta::HEADER_LEN].try_into().unwrap()).unwrap();
    assert_eq!(
        (h.old_size as usize, h.new_size as usize, h.interval_log2),
        (old.len(), new.len(), 0)
    );
    assert_eq!(apply(&old, &patch).unwrap(), new);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any edit script round-trips through diff and the streaming patcher, in any chunking,
        /// with or without checkpoint blocks.
        #[test]
        fn diff_then_patch_is_identity(
            seed in any::<u32>(),
            len in 0usize..6000,
            edits in proptest::collection::vec((any::<u16>(), any::<u8>(), 0u8..4), 0..12),
            chunk in 1usize..300,
            blocks in any::<bool>(),
        ) {
            let old = sample(len, seed);
            let mut new = old.clone();
            for (at, byte, kind) in edits {
                let at = usize::from(at) % (new.len() + 1);
                match kind {
                    0 if at < new.len() => new[at] = byte,
                    1 => new.insert(at, byte),
                    2 if at < new.len() => { new.remove(at); }
                    _ => new.splice(at..at, std::iter::repeat_n(byte, 40)).for_each(drop),
                }
            }
            let interval_log2 = if blocks { 12 } else { 0 };
            let patch = diff_with(&old, &new, DiffOptions { interval_log2, progress: None });
            let mut p = Patcher::new();
            let mut out = Vec::new();
            for c in patch.chunks(chunk) {
                p.feed(c, &mut old.as_slice(), &mut out).unwrap();
            }
            p.finish(&mut old.as_slice(), &mut out).unwrap();
            prop_assert_eq!(out, new);
        }
    }
}

#[test]
fn patcher_debug_is_a_summary() {
    let p = Patcher::new();
    let s = format!("{p:?}");
    assert!(
        s.starts_with("Patcher {") && s.contains("patch_offset: 0") && s.len() < 200,
        "{s}"
    );
}
