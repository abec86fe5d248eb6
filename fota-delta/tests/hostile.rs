//! Hostile patches: typed errors, never a panic, nothing written past the checks.
#![cfg(feature = "std")]

use fota_delta::raw::RawStream;
use fota_delta::{Error, Header, Patcher, Record, apply, bsdiff40, diff};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn header(old: &[u8], new: &[u8]) -> Header {
    Header {
        old_size: old.len() as u32,
        new_size: new.len() as u32,
        interval_log2: 0,
        old_sha256: Sha256::digest(old).into(),
        new_sha256: Sha256::digest(new).into(),
    }
}

fn old_image() -> Vec<u8> {
    (0..4096u32).map(|i| (i * 31 % 253) as u8).collect()
}

fn run(old: &[u8], patch: &[u8]) -> Result<Vec<u8>, Error> {
    apply(old, patch)
}

#[test]
fn valid_raw_stream_applies() {
    let old = old_image();
    let new: Vec<u8> = old[..100].iter().map(|b| b ^ 1).chain(*b"xyz").collect();
    let patch = RawStream::new(&header(&old, &new))
        .record(Record {
            diff: 100,
            extra: 3,
            seek: 0,
        })
        .deltas(&old[..100], &new[..100])
        .literals(b"xyz")
        .end_block()
        .bytes();
    assert_eq!(run(&old, &patch).unwrap(), new);
}

#[test]
fn record_past_new_size() {
    let old = old_image();
    let new = vec![7u8; 10];
    for diff in [11u64, u64::from(u32::MAX), 1 << 40, u64::MAX >> 1] {
        let patch = RawStream::new(&header(&old, &new))
            .record(Record {
                diff,
                extra: 0,
                seek: 0,
            })
            .end_block()
            .bytes();
        assert!(
            matches!(
                run(&old, &patch),
                Err(Error::NewOverrun { new_offset: 0, .. })
            ),
            "{diff}"
        );
    }
    // diff + extra overflowing 64 bits must not wrap into range (CVE-2020-14315 shape).
    let patch = RawStream::new(&header(&old, &new))
        .record(Record {
            diff: i64::MAX as u64,
            extra: i64::MAX as u64,
            seek: 0,
        })
        .end_block()
        .bytes();
    assert!(matches!(run(&old, &patch), Err(Error::NewOverrun { .. })));
}

#[test]
fn old_reads_out_of_bounds() {
    let old = old_image();
    let new = vec![7u8; 20];
    // Reads past the end of the old image.
    let mut s = RawStream::new(&header(&old, &new));
    s.record(Record {
        diff: 0,
        extra: 1,
        seek: 4090,
    })
    .literals(&[7]);
    s.record(Record {
        diff: 19,
        extra: 0,
        seek: 0,
    });
    assert!(matches!(
        run(&old, &s.end_block().bytes()),
        Err(Error::OldOutOfBounds { new_offset: 1 })
    ));
    // Reads before its start (negative position).
    let mut s = RawStream::new(&header(&old, &new));
    s.record(Record {
        diff: 0,
        extra: 1,
        seek: -5,
    })
    .literals(&[7]);
    s.record(Record {
        diff: 3,
        extra: 0,
        seek: 0,
    });
    assert!(matches!(
        run(&old, &s.end_block().bytes()),
        Err(Error::OldOutOfBounds { new_offset: 1 })
    ));
    // Seeks far away are refused before any arithmetic can overflow.
    let mut s = RawStream::new(&header(&old, &new));
    s.record(Record {
        diff: 0,
        extra: 1,
        seek: i64::MAX - 1,
    })
    .literals(&[7]);
    assert!(matches!(
        run(&old, &s.end_block().bytes()),
        Err(Error::SeekOutOfRange { new_offset: 0 })
    ));
}

#[test]
fn empty_record_rejected() {
    let old = old_image();
    let new = vec![7u8; 20];
    let patch = RawStream::new(&header(&old, &new))
        .record(Record {
            diff: 0,
            extra: 0,
            seek: 3,
        })
        .end_block()
        .bytes();
    assert_eq!(run(&old, &patch), Err(Error::EmptyRecord { new_offset: 0 }));
}

#[test]
fn truncated_and_trailing() {
    let old = old_image();
    let mut new = old.clone();
    new[100] = 0;
    new.extend_from_slice(b"tail");
    let patch = diff(&old, &new);
    for cut in 0..patch.len() {
        assert!(run(&old, &patch[..cut]).is_err(), "prefix {cut} accepted");
    }
    let mut long = patch.clone();
    long.push(0);
    assert!(matches!(run(&old, &long), Err(Error::TrailingData { .. })));
    // A wrong promised digest is caught at the end.
    let mut bad = patch.clone();
    bad[60] ^= 1;
    assert_eq!(run(&old, &bad), Err(Error::NewDigestMismatch));
}

#[test]
fn bad_headers() {
    let old = old_image();
    let patch = diff(&old, &old);
    let mut p = patch.clone();
    p[0] = b'X';
    assert_eq!(run(&old, &p), Err(Error::BadMagic));
    let mut p = patch.clone();
    p[6] = 9;
    assert_eq!(run(&old, &p), Err(Error::UnsupportedVersion { version: 9 }));
    let mut p = patch.clone();
    p[7] = 0;
    assert_eq!(run(&old, &p), Err(Error::UnsupportedCompression { id: 0 }));
    let mut p = patch;
    p[16] = 3;
    assert_eq!(run(&old, &p), Err(Error::BadHeader { offset: 16 }));
}

fn sm(x: i64) -> [u8; 8] {
    let mut b = x.unsigned_abs().to_le_bytes();
    if x < 0 {
        b[7] |= 0x80;
    }
    b
}

fn bz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A BSDIFF40 patch with raw control entries (8-byte sign-magnitude fields as given).
fn bsdiff40_raw(ctrl: &[[u8; 8]], diff: &[u8], extra: &[u8], new_size: [u8; 8]) -> Vec<u8> {
    let c = bz(&ctrl.concat());
    let d = bz(diff);
    let mut p = b"BSDIFF40".to_vec();
    p.extend_from_slice(&sm(c.len() as i64));
    p.extend_from_slice(&sm(d.len() as i64));
    p.extend_from_slice(&new_size);
    p.extend(c);
    p.extend(d);
    p.extend(bz(extra));
    p
}

#[test]
fn cve_2014_9862_negative_lengths() {
    let old = old_image();
    for ctrl in [
        [sm(-1), sm(0), sm(0)],
        [sm(0), sm(-16), sm(0)],
        [sm(i64::MIN + 1), sm(4), sm(0)],
    ] {
        let p = bsdiff40_raw(&ctrl, &[0; 16], &[0; 16], sm(16));
        assert!(
            matches!(
                bsdiff40::apply(&old, &p),
                Err(Error::Bsdiff40Integer { index: 0 })
            ),
            "{ctrl:?}"
        );
    }
}

#[test]
fn cve_2020_14315_overflowing_bounds() {
    let old = old_image();
    // newpos + len wraps around in i64 if added unchecked.
    let p = bsdiff40_raw(
        &[sm(4), sm(0), sm(0), sm(i64::MAX - 1), sm(0), sm(0)],
        &[1; 8],
        &[],
        sm(16),
    );
    assert!(matches!(
        bsdiff40::apply(&old, &p),
        Err(Error::Bsdiff40Integer { index: 1 })
    ));
    let p = bsdiff40_raw(&[sm(4), sm(i64::MAX), sm(0)], &[1; 8], &[], sm(16));
    assert!(matches!(
        bsdiff40::apply(&old, &p),
        Err(Error::Bsdiff40Integer { index: 0 })
    ));
    // Seek overflow.
    let p = bsdiff40_raw(
        &[sm(4), sm(0), sm(i64::MAX), sm(4), sm(0), sm(i64::MAX)],
        &[1; 8],
        &[],
        sm(16),
    );
    assert!(bsdiff40::apply(&old, &p).is_err());
}

#[test]
fn negative_zero() {
    let old = old_image();
    let neg0 = [0, 0, 0, 0, 0, 0, 0, 0x80];
    let p = bsdiff40_raw(&[neg0, sm(4), sm(0)], &[], &[9; 4], sm(4));
    assert_eq!(
        bsdiff40::apply(&old, &p),
        Err(Error::Bsdiff40Integer { index: 0 })
    );
    let p = bsdiff40_raw(&[sm(0), sm(4), neg0], &[], &[9; 4], sm(4));
    assert_eq!(
        bsdiff40::apply(&old, &p),
        Err(Error::Bsdiff40Integer { index: 0 })
    );
    let p = bsdiff40_raw(&[sm(0), sm(4), sm(0)], &[], &[9; 4], neg0);
    assert_eq!(bsdiff40::apply(&old, &p), Err(Error::Bsdiff40Header));
    // The same entry with a plain zero is fine.
    let p = bsdiff40_raw(&[sm(0), sm(4), sm(0)], &[], &[9; 4], sm(4));
    assert_eq!(bsdiff40::apply(&old, &p).unwrap(), vec![9; 4]);
    // The native format cannot even express it: a zero seek is one flag.
}

#[test]
fn bsdiff40_limits_and_short_streams() {
    let old = old_image();
    let p = bsdiff40_raw(&[sm(0), sm(4), sm(0)], &[], &[9; 4], sm(1 << 40));
    assert_eq!(bsdiff40::apply(&old, &p), Err(Error::TooLarge));
    let p = bsdiff40_raw(&[sm(0), sm(40), sm(0)], &[], &[9; 4], sm(40));
    assert_eq!(bsdiff40::apply(&old, &p), Err(Error::Bsdiff40Stream));
    let mut p = bsdiff40_raw(&[sm(0), sm(4), sm(0)], &[], &[9; 4], sm(4));
    p[8] = 0xff; // control length beyond the patch
    assert_eq!(bsdiff40::apply(&old, &p), Err(Error::Bsdiff40Header));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_stream_never_panics(body in proptest::collection::vec(any::<u8>(), 0..600), chunk in 1usize..80) {
        let old = old_image();
        let new = vec![0u8; 3000];
        let mut patch = header(&old, &new).to_bytes().to_vec();
        patch.extend(body);
        let mut p = Patcher::new();
        let mut out = Vec::new();
        let mut r = Ok(());
        for c in patch.chunks(chunk) {
            if let Err(e) = p.feed(c, &mut old.as_slice(), &mut out) { r = Err(e); break; }
        }
        if r.is_ok() { r = p.finish(&mut old.as_slice(), &mut out); }
        prop_assert!(out.len() <= new.len());
        if r.is_ok() { prop_assert_eq!(out, new); }
    }

    #[test]
    fn mutated_patch_never_panics(pos in 84usize..400, byte in any::<u8>()) {
        let old = old_image();
        let mut new = old.clone();
        new[200..220].fill(1);
        new.extend_from_slice(&old[..300]);
        let mut patch = diff(&old, &new);
        let at = pos % patch.len().max(1);
        patch[at] = byte;
        if let Ok(out) = run(&old, &patch) { prop_assert_eq!(out, new); }
    }

    #[test]
    fn bsdiff40_arbitrary_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let old = old_image();
        let mut p = b"BSDIFF40".to_vec();
        p.extend(body);
        let _ = bsdiff40::apply(&old, &p);
    }
}
