//! The classic BSDIFF40 format (std): written by [`diff`], read by [`apply`].
//!
//! Layout: `BSDIFF40`, then three 8-byte sign-magnitude integers (length of the bzip2-compressed
//! control block, length of the compressed diff block, new size), then the three bzip2 streams.
//! Control triples are (diff length, extra length, seek). [`apply`] is strict where Debian's
//! `bspatch` was exploitable: negative lengths (CVE-2014-9862), bounds checks that overflow
//! (CVE-2020-14315) and "negative zero" are errors, and output is bounded by a size limit.

use std::io::{Read, Write};
use std::vec;
use std::vec::Vec;

use bzip2::Compression;
use bzip2::read::BzDecoder;
use bzip2::write::BzEncoder;

use crate::{BSDIFF40_MAGIC, Error};

/// Largest new image [`apply`] builds (a hostile header cannot make it allocate more).
pub const DEFAULT_MAX_NEW_SIZE: u64 = 1 << 30;

fn put(out: &mut Vec<u8>, x: i64) {
    let mut b = x.unsigned_abs().to_le_bytes();
    if x < 0 {
        b[7] |= 0x80;
    }
    out.extend_from_slice(&b);
}

/// Reads a sign-magnitude integer; "negative zero" is rejected (bsdiff never writes it).
fn get(b: &[u8; 8]) -> Option<i64> {
    let mut m = *b;
    let neg = m[7] & 0x80 != 0;
    m[7] &= 0x7f;
    let mag = i64::from_le_bytes(m);
    match (neg, mag) {
        (true, 0) => None,
        (true, v) => Some(-v),
        (false, v) => Some(v),
    }
}

fn bz(data: &[u8]) -> Vec<u8> {
    let mut e = BzEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail.
    e.write_all(data).expect("bzip2 into memory");
    e.finish().expect("bzip2 into memory")
}

/// Builds a BSDIFF40 patch (that Debian's `bspatch` applies) with this crate's generator.
pub fn diff(old: &[u8], new: &[u8]) -> Vec<u8> {
    let recs = crate::records(old, new, None);
    let (mut ctrl, mut db, mut eb) = (Vec::new(), Vec::new(), Vec::new());
    let (mut op, mut np) = (0usize, 0usize);
    for r in &recs {
        put(&mut ctrl, r.diff as i64);
        put(&mut ctrl, r.extra as i64);
        put(&mut ctrl, r.seek);
        let d = r.diff as usize;
        db.extend(
            new[np..np + d]
                .iter()
                .zip(&old[op..op + d])
                .map(|(n, o)| n.wrapping_sub(*o)),
        );
        np += d;
        op += d;
        eb.extend_from_slice(&new[np..np + r.extra as usize]);
        np += r.extra as usize;
        op = (op as i64 + r.seek) as usize;
    }
    let (c, d, e) = (bz(&ctrl), bz(&db), bz(&eb));
    let mut out = Vec::with_capacity(32 + c.len() + d.len() + e.len());
    out.extend_from_slice(BSDIFF40_MAGIC);
    put(&mut out, c.len() as i64);
    put(&mut out, d.len() as i64);
    put(&mut out, new.len() as i64);
    out.extend_from_slice(&c);
    out.extend_from_slice(&d);
    out.extend_from_slice(&e);
    out
}

/// Sizes announced by a BSDIFF40 header: (control block length, diff block length, new size).
pub fn header(patch: &[u8]) -> Result<(u64, u64, u64), Error> {
    let h = patch.get(..32).ok_or(Error::Bsdiff40Header)?;
    if h[..8] != BSDIFF40_MAGIC[..] {
        return Err(Error::Bsdiff40Header);
    }
    let field = |i: usize| -> Result<u64, Error> {
        let b: &[u8; 8] = h[8 + 8 * i..16 + 8 * i]
            .try_into()
            .map_err(|_| Error::Bsdiff40Header)?;
        let v = get(b).ok_or(Error::Bsdiff40Header)?;
        u64::try_from(v).map_err(|_| Error::Bsdiff40Header)
    };
    let (c, d, n) = (field(0)?, field(1)?, field(2)?);
    let end = 32u64
        .checked_add(c)
        .and_then(|x| x.checked_add(d))
        .ok_or(Error::Bsdiff40Header)?;
    if end > patch.len() as u64 {
        return Err(Error::Bsdiff40Header);
    }
    Ok((c, d, n))
}

/// Applies a BSDIFF40 patch in memory (new size at most [`DEFAULT_MAX_NEW_SIZE`]).
pub fn apply(old: &[u8], patch: &[u8]) -> Result<Vec<u8>, Error> {
    apply_limited(old, patch, DEFAULT_MAX_NEW_SIZE)
}

/// Applies a BSDIFF40 patch, refusing new images larger than `max_new_size`.
///
/// Like `bspatch`, diff bytes whose old position lies outside the old image add to zero.
pub fn apply_limited(old: &[u8], patch: &[u8], max_new_size: u64) -> Result<Vec<u8>, Error> {
    let (c, d, n) = header(patch)?;
    if n > max_new_size {
        return Err(Error::TooLarge);
    }
    let (c, d) = (c as usize, d as usize);
    let mut ctrl = BzDecoder::new(&patch[32..32 + c]);
    let mut diff = BzDecoder::new(&patch[32 + c..32 + c + d]);
    let mut extra = BzDecoder::new(&patch[32 + c + d..]);
    let newsize = n as i64;
    let oldsize = old.len() as i64;
    let mut out: Vec<u8> = Vec::with_capacity(n.min(1 << 24) as usize);
    let (mut oldpos, mut newpos) = (0i64, 0i64);
    let mut index = 0u32;
    let mut buf = vec![0u8; 1 << 16];
    while newpos < newsize {
        let mut t = [0u8; 24];
        ctrl.read_exact(&mut t).map_err(|_| Error::Bsdiff40Stream)?;
        let mut v = [0i64; 3];
        for (i, x) in v.iter_mut().enumerate() {
            let b: &[u8; 8] = t[8 * i..8 * i + 8]
                .try_into()
                .map_err(|_| Error::Bsdiff40Stream)?;
            *x = get(b).ok_or(Error::Bsdiff40Integer { index })?;
        }
        let [dl, el, seek] = v;
        // CVE-2014-9862: negative lengths; CVE-2020-14315: sums that overflow past the check.
        let fits =
            |len: i64, at: i64| len >= 0 && at.checked_add(len).is_some_and(|e| e <= newsize);
        if !fits(dl, newpos) {
            return Err(Error::Bsdiff40Integer { index });
        }
        let mut left = dl as usize;
        while left > 0 {
            let k = left.min(buf.len());
            diff.read_exact(&mut buf[..k])
                .map_err(|_| Error::Bsdiff40Stream)?;
            for &db in &buf[..k] {
                let o = if (0..oldsize).contains(&oldpos) {
                    old[oldpos as usize]
                } else {
                    0
                };
                out.push(o.wrapping_add(db));
                oldpos = oldpos
                    .checked_add(1)
                    .ok_or(Error::Bsdiff40Integer { index })?;
            }
            left -= k;
        }
        newpos += dl;
        if !fits(el, newpos) {
            return Err(Error::Bsdiff40Integer { index });
        }
        let mut left = el as usize;
        while left > 0 {
            let k = left.min(buf.len());
            extra
                .read_exact(&mut buf[..k])
                .map_err(|_| Error::Bsdiff40Stream)?;
            out.extend_from_slice(&buf[..k]);
            left -= k;
        }
        newpos += el;
        oldpos = oldpos
            .checked_add(seek)
            .ok_or(Error::Bsdiff40Integer { index })?;
        index = index.saturating_add(1);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_magnitude() {
        for x in [0i64, 1, -1, 300, -300, i64::MAX, -i64::MAX] {
            let mut v = Vec::new();
            put(&mut v, x);
            assert_eq!(get(v.as_slice().try_into().unwrap()), Some(x));
        }
        assert_eq!(get(&[0, 0, 0, 0, 0, 0, 0, 0x80]), None);
    }
}
