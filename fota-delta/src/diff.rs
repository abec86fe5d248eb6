//! The generator (std): bsdiff-style approximate matching over a suffix array of the old image,
//! then the native encoder.

use std::vec;
use std::vec::Vec;

use sha2::{Digest, Sha256};

use crate::header::{HEADER_LEN, Header};
use crate::rc::{Encoder, Model, Record};

/// Options of [`diff_with`].
pub struct DiffOptions<'a> {
    /// Restart the coder every `1 << interval_log2` new-image bytes so that the patcher can
    /// checkpoint there (12..=31), or 0 for a single block (smallest patch, no resume).
    pub interval_log2: u8,
    /// Called now and then with (new-image bytes matched, new-image size).
    pub progress: Option<&'a mut dyn FnMut(u64, u64)>,
}

/// Default checkpoint interval: every 64 KiB of new image.
pub const DEFAULT_INTERVAL_LOG2: u8 = 16;

impl Default for DiffOptions<'_> {
    fn default() -> Self {
        DiffOptions {
            interval_log2: DEFAULT_INTERVAL_LOG2,
            progress: None,
        }
    }
}

/// Suffix array of `old` (divsufsort: linear memory, explicit stacks instead of recursion) with
/// the start of each two-byte bucket, so that a search begins in a range of a few hundred
/// suffixes instead of the whole array (fewer cache-missing probes).
struct Index {
    sa: Vec<i32>,
    /// `bucket[k]`: number of suffixes that sort before every suffix starting with the two bytes
    /// `k` (big-endian); `bucket[65536]` = all of them.
    bucket: Vec<u32>,
}

fn suffix_array(old: &[u8]) -> Index {
    let mut sa = vec![0i32; old.len()];
    if !old.is_empty() {
        divsufsort::sort_in_place(old, &mut sa);
    }
    let mut bucket = vec![0u32; (1 << 16) + 1];
    for w in old.windows(2) {
        bucket[(usize::from(w[0]) << 8 | usize::from(w[1])) + 1] += 1;
    }
    // The one-byte suffix (the last byte) sorts before every longer suffix with its first byte.
    if let Some(&last) = old.last() {
        bucket[usize::from(last) << 8] += 1;
    }
    for k in 1..bucket.len() {
        bucket[k] += bucket[k - 1];
    }
    Index { sa, bucket }
}

fn match_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Longest match of `target` among the suffixes of `old`: (position, length).
///
/// Binary search for `target`'s place in suffix order, keeping the common-prefix lengths with
/// both bracketing suffixes: every suffix in between shares the smaller of the two, so each probe
/// compares from there (long matches cost their length once, not once per probe).
fn search(ix: &Index, old: &[u8], target: &[u8]) -> (usize, usize, usize) {
    let sa = &ix.sa[..];
    // Every suffix before the bucket of target's first two bytes sorts before target, every one
    // from the next bucket on after it.
    let (mut lo, mut hi) = match target {
        [a, b, ..] => {
            let k = usize::from(*a) << 8 | usize::from(*b);
            (ix.bucket[k] as usize, ix.bucket[k + 1] as usize)
        }
        _ => (0, sa.len()),
    };
    let (bucket_lo, bucket_hi) = (lo, hi);
    let (mut lo_lcp, mut hi_lcp) = (0usize, 0usize);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let s = &old[sa[mid] as usize..];
        let start = lo_lcp.min(hi_lcp);
        let m = start + match_len(&s[start..], &target[start..]);
        let less = match (s.get(m), target.get(m)) {
            (Some(a), Some(b)) => a < b,
            (None, Some(_)) => true,
            _ => false,
        };
        if less {
            lo = mid + 1;
            lo_lcp = m;
        } else {
            hi = mid;
            hi_lcp = m;
        }
    }
    // A bracketing suffix outside the bucket was never probed: measure it.
    let lcp_at = |i: usize| match_len(&old[sa[i] as usize..], target);
    if lo == bucket_lo && lo > 0 {
        lo_lcp = lcp_at(lo - 1);
    }
    if lo == bucket_hi && lo < sa.len() {
        hi_lcp = lcp_at(lo);
    }
    // The longest match is next to the insertion point: just before it or at it.
    let before = lo
        .checked_sub(1)
        .and_then(|i| sa.get(i))
        .map(|&p| (p as usize, lo_lcp));
    let at = sa.get(lo).map(|&p| (p as usize, hi_lcp));
    let (p, l) = match (before, at) {
        (Some(b), Some(a)) => {
            if a.1 > b.1 {
                a
            } else {
                b
            }
        }
        (Some(b), None) => b,
        (None, Some(a)) => a,
        (None, None) => (0, 0),
    };
    (p, l, lo)
}

/// Longest-match searches shared by the tunings that scan the same images side by side: they
/// search at nearly all the same positions (99 % on the MCU pairs), so whichever thread comes
/// first searches and the other reads the result (ev3 and primehub diffs 3–10 % faster on one
/// core). Per new-image position: 0 (not yet), or, from the top, a set bit, the suffix-array
/// insertion point (30 bits), which neighbour matched (1 bit) and the match length (32 bits).
/// The result is the same whichever thread searched, so the patch does not depend on timing.
struct Searches(Vec<std::sync::atomic::AtomicU64>);

impl Searches {
    fn new(len: usize) -> Self {
        Searches((0..len).map(|_| Default::default()).collect())
    }

    /// [`search`] of `new[at..]`, the same result whichever thread searched.
    fn search(&self, ix: &Index, old: &[u8], new: &[u8], at: usize) -> (usize, usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let target = &new[at..];
        let cached = self.0[at].load(Relaxed);
        // Set only below 2^30 insertion points and 2^32 lengths (checked where stored).
        if cached != 0 {
            let hi = (cached >> 32) as usize;
            let lo = (hi & 0x7FFF_FFFF) >> 1;
            let p = ix.sa[lo - (hi & 1)] as usize;
            return (p, cached as u32 as usize, lo);
        }
        let (p, l, lo) = search(ix, old, target);
        let before = match ix.sa.get(lo) {
            Some(&q) => q as usize != p,
            None => true,
        };
        if lo < 1 << 30 && l <= u32::MAX as usize && (lo > 0 || !before) {
            let hi = 1 << 31 | (lo as u64) << 1 | u64::from(before);
            self.0[at].store(hi << 32 | l as u64, Relaxed);
        }
        (p, l, lo)
    }
}

/// Among the suffixes next to suffix-array index `at` that match `target` for `len` bytes too
/// (at most `NEAR_PROBES` each way), the one closest to old position `want`: a repeated
/// sequence is best taken where the running displacement already points, so that the bytes
/// after it keep matching and the seek codes as zero.
fn nearest(
    sa: &[i32],
    old: &[u8],
    target: &[u8],
    at: usize,
    len: usize,
    best: usize,
    want: isize,
) -> usize {
    let target = &target[..len];
    let dist = |p: usize| (p as isize - want).unsigned_abs();
    // Nothing beats the running displacement itself (the common case inside moved code).
    if best as isize == want
        || usize::try_from(want).is_ok_and(|w| old.get(w..w + len) == Some(target))
    {
        return want as usize;
    }
    let mut best = best;
    let probe = |i: usize| {
        let p = sa[i] as usize;
        let s = old.get(p..p + len)?;
        // Neighbours share a long prefix with the target: their last byte rejects most at once.
        (s.last() == target.last() && s == target).then_some(p)
    };
    for i in (at.saturating_sub(NEAR_PROBES)..at).rev() {
        match probe(i) {
            Some(p) if dist(p) < dist(best) => best = p,
            Some(_) => {}
            None => break,
        }
    }
    for i in at..sa.len().min(at + NEAR_PROBES) {
        match probe(i) {
            Some(p) if dist(p) < dist(best) => best = p,
            Some(_) => {}
            None => break,
        }
    }
    best
}

/// How eagerly matches are extended and abandoned.
#[derive(Clone, Copy)]
struct Tuning {
    /// An extension is kept while `matches * ext_num - length * ext_den` grows: bsdiff's 2:1
    /// means half the bytes matching; 5:2 keeps extensions down to 40 %, which suits a coder
    /// whose mismatched delta costs about what a literal does.
    ext_num: isize,
    ext_den: isize,
    /// A new exact match replaces the running displacement once it beats it by more than this
    /// many bytes (bsdiff: 8).
    switch: isize,
    /// Lazy matching with the cost-aware clean-up ([`merge_records`]); off for bsdiff's own
    /// records.
    lazy: bool,
}

/// bsdiff's own choices (kept for the BSDIFF40 output).
const BSDIFF: Tuning = Tuning {
    ext_num: 2,
    ext_den: 1,
    switch: 8,
    lazy: false,
};

/// The settings [`diff_with`] tries side by side on images under [`BIG_IMAGE`], one per core,
/// keeping the smaller patch. The scan is chaotic in these parameters (one early switch changes
/// every later choice), so no single setting wins on every image; measured on the corpus, these
/// two cover the MCU firmware (a third, the switch at 6, gave the smallest patch on none of the
/// images under 1 MiB and cost a third scan).
const PORTFOLIO: [Tuning; 2] = [
    Tuning {
        ext_num: 5,
        ext_den: 2,
        switch: 8,
        lazy: true,
    },
    Tuning {
        ext_num: 5,
        ext_den: 2,
        switch: 5,
        lazy: true,
    },
];

/// The one setting for images of at least [`BIG_IMAGE`] (best on large shared objects): their
/// scan is split in pieces instead, several at once. An eager switch (4) finds the most
/// matches; lazy matching and [`merge_records`] then drop the ones that do not pay for their
/// displacement jumps (without them, switch 4 was 1 % worse than 6 on pydantic-core).
const BIG_TUNING: Tuning = Tuning {
    ext_num: 2,
    ext_den: 1,
    switch: 4,
    lazy: true,
};

/// Lazy matching looks this many bytes ahead of a match before taking it.
const LAZY_AHEAD: usize = 2;

/// New images at least this big are scanned in pieces with [`BIG_TUNING`].
const BIG_IMAGE: usize = 1 << 20;

/// Suffix-array neighbours [`nearest`] looks at on each side.
const NEAR_PROBES: usize = 32;

/// bsdiff's control records (diff length, extra length, seek) turning `old` into `new`: every
/// diff range lies inside `old`, every record is non-empty.
pub fn records(old: &[u8], new: &[u8], progress: Option<&mut dyn FnMut(u64, u64)>) -> Vec<Record> {
    normalize(records_tuned(
        &suffix_array(old),
        old,
        new,
        BSDIFF,
        None,
        progress,
    ))
}

fn records_tuned(
    ix: &Index,
    old: &[u8],
    new: &[u8],
    t: Tuning,
    shared: Option<&Searches>,
    mut progress: Option<&mut dyn FnMut(u64, u64)>,
) -> Vec<Record> {
    let search = |at: isize| match shared {
        Some(c) => c.search(ix, old, new, at as usize),
        None => search(ix, old, &new[at as usize..]),
    };
    let (oldsize, newsize) = (old.len() as isize, new.len() as isize);
    let mut out = Vec::new();
    let (mut scan, mut len, mut pos) = (0isize, 0isize, 0isize);
    let (mut lastscan, mut lastpos, mut lastoffset) = (0isize, 0isize, 0isize);
    let mut next_report = 0isize;
    // Searches made ahead by the lazy check: (scan position, result).
    let mut ahead = [(-1isize, (0usize, 0usize, 0usize)); LAZY_AHEAD];
    let old_at = |i: isize| old[i as usize];
    let new_at = |i: isize| new[i as usize];
    while scan < newsize {
        let mut oldscore = 0isize;
        scan += len;
        let mut scsc = scan;
        // Where the last search of this scan was made (scan position, suffix-array index).
        let mut searched = None;
        while scan < newsize {
            // The lazy check below may have searched here already.
            let (p, l, at) = match ahead.iter().find(|(s, _)| *s == scan) {
                Some(&(_, r)) => r,
                None => search(scan),
            };
            searched = Some((scan, at));
            pos = p as isize;
            len = l as isize;
            while scsc < scan + len {
                if scsc + lastoffset < oldsize
                    && scsc + lastoffset >= 0
                    && old_at(scsc + lastoffset) == new_at(scsc)
                {
                    oldscore += 1;
                }
                scsc += 1;
            }
            if len == oldscore && len != 0 {
                break;
            }
            // Lazy matching (as in LZ77 coders): a match is passed over when one starting a
            // byte or two later ends further on by more than a byte (the backward extension
            // finds its start again). Greedy bsdiff takes the first and pays a second jump.
            if len > oldscore + t.switch
                && !(t.lazy
                    && (1..=LAZY_AHEAD).any(|k| {
                        let at = scan + k as isize;
                        at < newsize && {
                            let r = search(at);
                            ahead[k - 1] = (at, r);
                            at + r.1 as isize > scan + len + 1
                        }
                    }))
            {
                break;
            }
            if scan + lastoffset < oldsize
                && scan + lastoffset >= 0
                && old_at(scan + lastoffset) == new_at(scan)
            {
                oldscore -= 1;
            }
            scan += 1;
        }
        // Only the match the scan stopped at is used: choose its copy now, not at every search.
        if let Some((at_scan, at)) = searched
            && len > 0
        {
            pos = nearest(
                &ix.sa,
                old,
                &new[at_scan as usize..],
                at,
                len as usize,
                pos as usize,
                at_scan + lastoffset,
            ) as isize;
        }
        if len != oldscore || scan == newsize {
            // Extend the previous match forwards and this one backwards, splitting any overlap.
            let (mut s, mut sf, mut lenf) = (0isize, 0isize, 0isize);
            let mut i = 0isize;
            while lastscan + i < scan && lastpos + i < oldsize {
                if old_at(lastpos + i) == new_at(lastscan + i) {
                    s += 1;
                }
                i += 1;
                if s * t.ext_num - i * t.ext_den > sf * t.ext_num - lenf * t.ext_den {
                    sf = s;
                    lenf = i;
                }
            }
            let mut lenb = 0isize;
            if scan < newsize {
                let (mut s, mut sb) = (0isize, 0isize);
                let mut i = 1isize;
                while scan >= lastscan + i && pos >= i {
                    if old_at(pos - i) == new_at(scan - i) {
                        s += 1;
                    }
                    if s * t.ext_num - i * t.ext_den > sb * t.ext_num - lenb * t.ext_den {
                        sb = s;
                        lenb = i;
                    }
                    i += 1;
                }
            }
            if lastscan + lenf > scan - lenb {
                let overlap = (lastscan + lenf) - (scan - lenb);
                let (mut s, mut ss, mut lens) = (0isize, 0isize, 0isize);
                for i in 0..overlap {
                    if new_at(lastscan + lenf - overlap + i) == old_at(lastpos + lenf - overlap + i)
                    {
                        s += 1;
                    }
                    if new_at(scan - lenb + i) == old_at(pos - lenb + i) {
                        s -= 1;
                    }
                    if s > ss {
                        ss = s;
                        lens = i + 1;
                    }
                }
                lenf += lens - overlap;
                lenb -= lens;
            }
            out.push(Record {
                diff: lenf as u64,
                extra: ((scan - lenb) - (lastscan + lenf)) as u64,
                seek: ((pos - lenb) - (lastpos + lenf)) as i64,
            });
            lastscan = scan - lenb;
            lastpos = pos - lenb;
            lastoffset = pos - scan;
        }
        if let Some(cb) = progress.as_mut()
            && scan >= next_report
        {
            cb(scan.min(newsize) as u64, newsize as u64);
            next_report = scan + (1 << 16);
        }
    }
    if let Some(cb) = progress.as_mut() {
        cb(newsize as u64, newsize as u64);
    }
    out
}

/// A record with where it starts in both images (every diff range lies inside the old one).
#[derive(Clone, Copy)]
struct Placed {
    ns: usize,
    os: i64,
    diff: usize,
    extra: usize,
    /// Changed by the previous pass of [`merge_records`] (or the first pass is running).
    fresh: bool,
    /// Changed by the running pass.
    touched: bool,
}

impl Placed {
    fn disp(&self) -> i64 {
        self.os - self.ns as i64
    }
}

/// A static approximation of the native coder's costs, in tenths of bits, for choosing
/// records (the real model adapts; these are its typical figures on the corpus).
mod cost {
    /// A delta byte that is zero, one that is not (flag and 8-bit tree), a literal byte.
    pub(super) const ZERO: i64 = 5;
    pub(super) const NONZERO: i64 = 95;
    pub(super) const LITERAL: i64 = 60;

    /// One control integer: its bit-length tree, then the bits below the leading one.
    pub(super) fn int(v: u64) -> i64 {
        let n = i64::from(64 - v.leading_zeros());
        30 + 10 * (n - 1).max(0)
    }

    /// A control record with lengths `diff`, `extra` and displacement change `dd`.
    pub(super) fn record(diff: usize, extra: usize, dd: i64) -> i64 {
        let d = if dd == 0 {
            5
        } else {
            20 + int(dd.unsigned_abs() - 1)
        };
        int(diff as u64) + int(extra as u64) + d
    }
}

/// Records longer than this are never folded into their predecessor (they pay for themselves,
/// and the estimate stays linear in the image size).
const MERGE_MAX: usize = 4096;

/// Drops records where the estimated coded size shrinks: a short match elsewhere in the old
/// image costs a control record and two displacement jumps (there and back), which can be more
/// than its bytes cost otherwise. A dropped record's bytes are split three ways, the cheapest
/// split by the estimate: the predecessor's diff runs on into them (at its displacement, when
/// it has no literals), then literals, then the successor's diff starts earlier (at its
/// displacement). Diff ranges stay inside `old`; the bytes and the final old position are
/// unchanged.
fn merge_records(old: &[u8], new: &[u8], recs: &[Record]) -> Vec<Record> {
    let mut placed = Vec::with_capacity(recs.len());
    let (mut ns, mut os) = (0usize, 0i64);
    for r in recs {
        placed.push(Placed {
            ns,
            os,
            diff: r.diff as usize,
            extra: r.extra as usize,
            fresh: true,
            touched: false,
        });
        ns += (r.diff + r.extra) as usize;
        os += r.diff as i64 + r.seek;
    }
    // Where the stream continues after the last record (its final seek is kept).
    let end = Placed {
        ns,
        os,
        diff: 0,
        extra: 0,
        fresh: false,
        touched: false,
    };
    // A second pass finds folds the first one made possible (pydantic-core -0.24 %; a third
    // gave -0.05 %). It looks only where the first one changed something: elsewhere it
    // would decide as the first did.
    let once = merge_pass(old, new, placed, &end);
    let out = merge_pass(old, new, once, &end);
    out.iter()
        .enumerate()
        .map(|(i, p)| Record {
            diff: p.diff as u64,
            extra: p.extra as u64,
            seek: out.get(i + 1).unwrap_or(&end).os - (p.os + p.diff as i64),
        })
        .collect()
}

/// One left-to-right pass of [`merge_records`] over records that `end` follows.
fn merge_pass(old: &[u8], new: &[u8], mut placed: Vec<Placed>, end: &Placed) -> Vec<Placed> {
    let end = *end;
    let delta = |(o, n): (&u8, &u8)| if o == n { cost::ZERO } else { cost::NONZERO };
    // Old bytes from `from` for at most `len` bytes, as far as the image goes.
    let old_from = |from: i64, len: usize| -> &[u8] {
        usize::try_from(from)
            .ok()
            .and_then(|f| old.get(f..))
            .map_or(&[], |o| &o[..len.min(o.len())])
    };
    let mut out: Vec<Placed> = Vec::with_capacity(placed.len());
    for i in 0..placed.len() {
        let b = placed[i];
        let blen = b.diff + b.extra;
        let c = placed.get(i + 1).copied().unwrap_or(end);
        let d = placed.get(i + 2).unwrap_or(&end);
        let a = match out.last_mut() {
            Some(a)
                if blen <= MERGE_MAX
                    && (a.fresh || a.touched || b.fresh || b.touched || c.fresh || d.fresh) =>
            {
                a
            }
            _ => {
                out.push(b);
                continue;
            }
        };
        let c_dd = d.disp() - c.disp();
        let nb = &new[b.ns..b.ns + blen];
        let before = cost::record(a.diff, a.extra, b.disp() - a.disp())
            + cost::record(b.diff, b.extra, c.disp() - b.disp())
            + b.extra as i64 * cost::LITERAL
            + old_from(b.os, b.diff)
                .iter()
                .zip(nb)
                .map(delta)
                .sum::<i64>();
        // B's bytes without B: A's diff may run on into them at A's displacement (when A has
        // no literals), C's diff may start earlier at C's, literals in between. The old bytes
        // A would run on into, and those just before C's diff (from B's byte `c_from` on).
        let ao = if a.extra == 0 {
            old_from(a.os + a.diff as i64, blen)
        } else {
            &[]
        };
        let (co, c_from) = if i + 1 < placed.len() && c.os <= old.len() as i64 {
            let m = blen.min(c.os.max(0) as usize);
            (&old[c.os as usize - m..c.os as usize], blen - m)
        } else {
            (&[][..], blen)
        };
        let c_all: i64 = co.iter().zip(&nb[c_from..]).map(delta).sum();
        // Best split: A's diff runs on by `run` (<= j) bytes, literals up to byte j, C's diff
        // from j on; `lead` is the best A part so far (cost minus literals saved, length).
        const NO: i64 = i64::MAX / 4;
        let (mut best, mut run, mut lits) = (NO, 0usize, 0usize);
        let (mut lead, mut a_run, mut c_run) = ((0i64, 0usize), 0i64, 0i64);
        for j in 0..=blen {
            if j > 0 {
                let n = nb[j - 1];
                if let Some(&o) = ao.get(j - 1) {
                    a_run += delta((&o, &n));
                    if a_run - j as i64 * cost::LITERAL < lead.0 {
                        lead = (a_run - j as i64 * cost::LITERAL, j);
                    }
                }
                if j > c_from {
                    c_run += delta((&co[j - 1 - c_from], &n));
                }
            }
            if j >= c_from {
                let total = lead.0 + j as i64 * cost::LITERAL + c_all - c_run;
                if total < best {
                    (best, run, lits) = (total, lead.1, j - lead.1);
                }
            }
        }
        let back_len = blen - run - lits;
        let after = cost::record(a.diff + run, a.extra + lits, c.disp() - a.disp())
            + cost::record(c.diff + back_len, c.extra, c_dd)
            - cost::record(c.diff, c.extra, c_dd)
            + best;
        if after < before {
            a.diff += run;
            a.extra += lits;
            a.touched = true;
            if back_len > 0 {
                let c = &mut placed[i + 1];
                c.ns -= back_len;
                c.os -= back_len as i64;
                c.diff += back_len;
                c.touched = true;
            }
        } else {
            out.push(b);
        }
    }
    for p in &mut out {
        (p.fresh, p.touched) = (p.touched, false);
    }
    out
}

/// Folds empty records into their neighbours so that every record makes progress.
fn normalize(recs: Vec<Record>) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::with_capacity(recs.len());
    let mut lead_seek = 0i64;
    for r in recs {
        if r.diff == 0 && r.extra == 0 {
            match out.last_mut() {
                Some(prev) => prev.seek += r.seek,
                None => lead_seek += r.seek,
            }
            continue;
        }
        if out.is_empty() && lead_seek != 0 {
            // The stream starts at old offset 0: spend the first new byte as an extra byte so
            // that the seek after it can move to where the first diff starts.
            if r.diff == 0 {
                out.push(Record {
                    diff: 0,
                    extra: r.extra,
                    seek: r.seek + lead_seek,
                });
            } else {
                out.push(Record {
                    diff: 0,
                    extra: 1,
                    seek: lead_seek + 1,
                });
                if r.diff > 1 || r.extra > 0 {
                    out.push(Record {
                        diff: r.diff - 1,
                        extra: r.extra,
                        seek: r.seek,
                    });
                } else if let Some(prev) = out.last_mut() {
                    prev.seek += r.seek;
                }
            }
            lead_seek = 0;
            continue;
        }
        out.push(r);
    }
    out
}

/// Encodes records into the native compressed stream (after a header), splitting records at
/// block boundaries.
pub(crate) fn encode(
    old: &[u8],
    new: &[u8],
    recs: &[Record],
    interval_log2: u8,
    digests: &([u8; 32], [u8; 32]),
) -> Vec<u8> {
    let header = header_for(old, new, interval_log2, digests);
    let mut out = Vec::with_capacity(HEADER_LEN + new.len() / 8);
    out.extend_from_slice(&header.to_bytes());
    encode_stream(old, new, recs, &header, 0, &mut out);
    out
}

/// Codes `recs`, which start at new-image offset `new_start` (a block start) and old offset 0,
/// into `out`, ending blocks where the header says.
fn encode_stream(
    old: &[u8],
    new: &[u8],
    recs: &[Record],
    header: &Header,
    new_start: usize,
    out: &mut Vec<u8>,
) {
    let mut enc = Encoder::new();
    let mut model = Model::NEW;
    let (mut new_pos, mut old_pos) = (new_start, 0i64);
    let mut pending: Vec<Record> = recs.iter().rev().copied().collect();
    while let Some(mut r) = pending.pop() {
        let left = u64::from(header.block_left(new_pos as u32));
        if r.diff + r.extra > left {
            // Split at the block boundary.
            let rest = if r.diff >= left {
                let rest = Record {
                    diff: r.diff - left,
                    extra: r.extra,
                    seek: r.seek,
                };
                r = Record {
                    diff: left,
                    extra: 0,
                    seek: 0,
                };
                rest
            } else {
                let k = left - r.diff;
                let rest = Record {
                    diff: 0,
                    extra: r.extra - k,
                    seek: r.seek,
                };
                r = Record {
                    diff: r.diff,
                    extra: k,
                    seek: 0,
                };
                rest
            };
            pending.push(rest);
        }
        // The device keeps the old position modulo 2^32: code the displacement change as its
        // smallest representative (the same value for every image under 2 GiB).
        let disp = r.seek.wrapping_sub(r.extra as i64) as i32;
        r.seek = i64::from(disp) + r.extra as i64;
        model.record(&mut enc, &r);
        for i in 0..r.diff as usize {
            let o = old[old_pos as usize + i];
            let n = new[new_pos + i];
            model.delta(&mut enc, (new_pos + i) as u32, o, n.wrapping_sub(o));
            model.saw_new(n);
        }
        new_pos += r.diff as usize;
        old_pos += r.diff as i64;
        for &b in &new[new_pos..new_pos + r.extra as usize] {
            model.literal(&mut enc, b);
        }
        new_pos += r.extra as usize;
        old_pos = (old_pos + r.seek) & 0xFFFF_FFFF;
        if header.is_block_end(new_pos as u32) {
            out.extend_from_slice(&core::mem::replace(&mut enc, Encoder::new()).flush());
            model = Model::NEW;
        }
    }
}

/// Builds a native patch from `old` to `new` with default options (64 KiB checkpoint blocks).
///
/// # Panics
/// When an image is 4 GiB or larger.
pub fn diff(old: &[u8], new: &[u8]) -> Vec<u8> {
    diff_with(old, new, DiffOptions::default())
}

/// Builds a native patch with explicit options.
///
/// # Panics
/// When an image is 4 GiB or larger, or `interval_log2` is neither 0 nor in 12..=31.
pub fn diff_with(old: &[u8], new: &[u8], opts: DiffOptions<'_>) -> Vec<u8> {
    assert!(
        u32::try_from(old.len()).is_ok() && u32::try_from(new.len()).is_ok(),
        "image of 4 GiB or more"
    );
    let i = opts.interval_log2;
    assert!(
        i == 0
            || (crate::header::MIN_INTERVAL_LOG2..=crate::header::MAX_INTERVAL_LOG2).contains(&i)
    );
    // The images are hashed once, beside the suffix sort.
    let (ix, digests) = std::thread::scope(|scope| {
        let h = scope.spawn(|| -> ([u8; 32], [u8; 32]) {
            (Sha256::digest(old).into(), Sha256::digest(new).into())
        });
        let ix = suffix_array(old);
        (ix, h.join().expect("hashing thread panicked"))
    });
    if new.len() >= BIG_IMAGE {
        return split_patch(&ix, old, new, PIECES, i, &digests, opts.progress);
    }
    let progress = opts.progress;
    let shared = Searches::new(new.len());
    std::thread::scope(|scope| {
        let (ix, digests, shared) = (&ix, &digests, &shared);
        let other = scope.spawn(move || {
            let recs = records_tuned(ix, old, new, PORTFOLIO[1], Some(shared), None);
            let recs = normalize(merge_records(old, new, &recs));
            encode(old, new, &recs, i, digests)
        });
        // The first setting reports progress, on this thread (the callback need not be Send).
        let recs = records_tuned(ix, old, new, PORTFOLIO[0], Some(shared), progress);
        let recs = normalize(merge_records(old, new, &recs));
        let best = encode(old, new, &recs, i, digests);
        let p = other.join().expect("generator thread panicked");
        if p.len() < best.len() { p } else { best }
    })
}

/// Pieces the new image is cut into for [`split_patch`]: matching cost varies a lot along an
/// image (one half of pydantic-core took twice as long as the other), so the cores take pieces
/// in turn rather than one half each.
const PIECES: usize = 8;

/// Runs `f(start, piece)` on the pieces of `new` (`piece` bytes each) on several cores (each
/// takes the next piece in turn), results in image order. This thread reports progress.
fn in_pieces<T: Send>(
    new: &[u8],
    piece: usize,
    f: impl Fn(usize, &[u8]) -> T + Sync,
    mut progress: Option<&mut dyn FnMut(u64, u64)>,
) -> Vec<T> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    let total = new.len() as u64;
    let chunks: Vec<&[u8]> = new.chunks(piece.max(1)).collect();
    let results: Vec<Mutex<Option<T>>> = chunks.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicU64::new(0);
    let work = || -> bool {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let Some(chunk) = chunks.get(k) else {
            return false;
        };
        let r = f(k * piece, chunk);
        *results[k].lock().expect("no panicking holder") = Some(r);
        done.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        true
    };
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 1..workers.min(chunks.len()) {
            scope.spawn(|| while work() {});
        }
        // The callback need not be Send: only this thread calls it.
        while work() {
            if let Some(cb) = progress.as_mut() {
                cb(done.load(Ordering::Relaxed), total);
            }
        }
    });
    if let Some(cb) = progress.as_mut() {
        cb(total, total);
    }
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .expect("no panicking holder")
                .expect("every piece done")
        })
        .collect()
}

/// [`BIG_TUNING`]'s records for one piece of the new image, matched from old offset 0; unless
/// the piece is the last one, its last seek returns there for the next piece.
fn piece_records(ix: &Index, old: &[u8], piece: &[u8], last: bool) -> Vec<Record> {
    let recs = records_tuned(ix, old, piece, BIG_TUNING, None, None);
    let mut recs = merge_records(old, piece, &recs);
    if !last {
        let end: i64 = recs.iter().map(|r| r.diff as i64 + r.seek).sum();
        if let Some(r) = recs.last_mut() {
            r.seek -= end;
        }
    }
    recs
}

/// A native patch of a large image, its new image cut in `pieces` pieces that are matched and
/// coded on several cores. Pieces end on checkpoint-block boundaries, where the coder restarts
/// anyway, so each piece's stream is coded where it was matched; with a single block the pieces'
/// records are joined and coded in one stream.
fn split_patch(
    ix: &Index,
    old: &[u8],
    new: &[u8],
    pieces: usize,
    interval_log2: u8,
    digests: &([u8; 32], [u8; 32]),
    progress: Option<&mut dyn FnMut(u64, u64)>,
) -> Vec<u8> {
    let mut piece = new.len().div_ceil(pieces.max(1)).max(1);
    if interval_log2 == 0 {
        let parts = in_pieces(
            new,
            piece,
            |start, p| piece_records(ix, old, p, start + p.len() == new.len()),
            progress,
        );
        return encode(old, new, &normalize(parts.concat()), 0, digests);
    }
    let block = 1usize << interval_log2;
    piece = piece.div_ceil(block) * block;
    let header = header_for(old, new, interval_log2, digests);
    let streams = in_pieces(
        new,
        piece,
        |start, p| {
            let recs = piece_records(ix, old, p, start + p.len() == new.len());
            let mut out = Vec::with_capacity(p.len() / 8);
            encode_stream(old, new, &normalize(recs), &header, start, &mut out);
            out
        },
        progress,
    );
    let mut out = header.to_bytes().to_vec();
    for s in streams {
        out.extend_from_slice(&s);
    }
    out
}

/// Raw access to the native stream encoder, without any validation: for hostile-patch tests,
/// fuzz seeds and experiments. Not a stable API.
#[doc(hidden)]
pub mod raw {
    use super::*;

    /// Codes exactly what it is told.
    pub struct RawStream {
        enc: Encoder,
        model: Model,
        out: Vec<u8>,
        at: u32,
    }

    impl RawStream {
        /// Starts a patch with `header`.
        pub fn new(header: &Header) -> Self {
            RawStream {
                enc: Encoder::new(),
                model: Model::NEW,
                out: header.to_bytes().to_vec(),
                at: 0,
            }
        }
        /// Codes a record.
        pub fn record(&mut self, r: Record) -> &mut Self {
            self.model.record(&mut self.enc, &r);
            self
        }
        /// Codes the delta bytes turning `old` into `new` (same lengths).
        pub fn deltas(&mut self, old: &[u8], new: &[u8]) -> &mut Self {
            for (&o, &n) in old.iter().zip(new) {
                self.model
                    .delta(&mut self.enc, self.at, o, n.wrapping_sub(o));
                self.model.saw_new(n);
                self.at = self.at.wrapping_add(1);
            }
            self
        }
        /// Codes literal bytes.
        pub fn literals(&mut self, d: &[u8]) -> &mut Self {
            for &b in d {
                self.model.literal(&mut self.enc, b);
                self.at = self.at.wrapping_add(1);
            }
            self
        }
        /// Ends a block.
        pub fn end_block(&mut self) -> &mut Self {
            let enc = core::mem::replace(&mut self.enc, Encoder::new());
            self.out.extend_from_slice(&enc.flush());
            self.model = Model::NEW;
            self
        }
        /// The patch bytes so far.
        pub fn bytes(&self) -> Vec<u8> {
            self.out.clone()
        }
    }
}

/// The header of a patch from `old` to `new` (sizes already checked to fit in 32 bits).
fn header_for(old: &[u8], new: &[u8], interval_log2: u8, digests: &([u8; 32], [u8; 32])) -> Header {
    Header {
        old_size: old.len() as u32,
        new_size: new.len() as u32,
        interval_log2,
        old_sha256: digests.0,
        new_sha256: digests.1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_into_one_patch() {
        // Blocks of the old image moved around, with a few changed bytes and new ones.
        let old: Vec<u8> = (0..40_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut new = Vec::new();
        for (k, at) in [30_000usize, 0, 12_000, 25_000, 5_000].iter().enumerate() {
            new.extend_from_slice(&old[*at..at + 6_000]);
            new.extend_from_slice(&[k as u8; 7]);
        }
        new[9_000] ^= 0x55;
        let ix = suffix_array(&old);
        let digests = (Sha256::digest(&old).into(), Sha256::digest(&new).into());
        // One block (records joined, one stream) and 4 KiB blocks (a stream per piece), in
        // five pieces and in one.
        for (interval, pieces) in [(0, 5), (12, 5), (12, 1), (0, 1)] {
            let mut last = (0, 0);
            let mut cb = |d: u64, t: u64| last = (d, t);
            let patch = split_patch(&ix, &old, &new, pieces, interval, &digests, Some(&mut cb));
            assert_eq!(last, (new.len() as u64, new.len() as u64));
            assert_eq!(
                crate::apply(&old, &patch).unwrap(),
                new,
                "{interval} {pieces}"
            );
        }
    }

    #[test]
    fn a_short_far_match_is_folded_into_its_predecessor() {
        let old: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        // 300 bytes copied from 1,000, with 5 bytes in the middle that also occur at 15,000.
        let mut new = old[1_000..1_300].to_vec();
        new[150..155].copy_from_slice(&old[15_000..15_005]);
        let rec = |diff, seek| Record {
            diff,
            extra: 0,
            seek,
        };
        let recs = [
            rec(0, 1_000),
            rec(150, 15_000 - 1_150),
            rec(5, 1_155 - 15_005),
            rec(145, 0),
        ];
        let merged = merge_records(&old, &new, &recs);
        assert_eq!(merged.len(), 3, "{merged:?}");
        // Same new bytes, same final old position, every diff range inside the old image.
        let (mut o, mut n) = (0i64, 0u64);
        for r in &merged {
            assert!(o >= 0 && o as u64 + r.diff <= old.len() as u64);
            o += r.diff as i64 + r.seek;
            n += r.diff + r.extra;
        }
        assert_eq!((o, n), (1_300, new.len() as u64));
        let digests = (Sha256::digest(&old).into(), Sha256::digest(&new).into());
        let patch = encode(&old, &new, &normalize(merged), 0, &digests);
        assert_eq!(crate::apply(&old, &patch).unwrap(), new);
        // Bytes that continue the successor's copy go to the successor's diff.
        let new2 = [&old[1_000..1_100], &old[3_000..3_100]].concat();
        let recs2 = [
            rec(0, 1_000),
            rec(100, 15_000 - 1_100),
            rec(5, 3_005 - 15_005),
            rec(95, 0),
        ];
        let merged2 = merge_records(&old, &new2, &recs2);
        assert_eq!(
            merged2[1..],
            [rec(100, 3_000 - 1_100), rec(100, 0)],
            "{merged2:?}"
        );
        // A long match elsewhere pays for its jump and stays.
        let far = [rec(0, 5_000), rec(2_000, 0)];
        assert_eq!(merge_records(&old, &old[5_000..7_000], &far), far);
    }

    #[test]
    fn shared_searches_give_the_searched_result() {
        let old: Vec<u8> = (0..5_000u32).map(|i| ((i * i) >> 7) as u8).collect();
        let new: Vec<u8> = old[1_000..3_000].iter().rev().copied().collect();
        let ix = suffix_array(&old);
        let shared = Searches::new(new.len());
        for round in 0..2 {
            for at in 0..new.len() {
                let want = search(&ix, &old, &new[at..]);
                assert_eq!(shared.search(&ix, &old, &new, at), want, "{round} {at}");
            }
        }
    }

    #[test]
    fn nearest_prefers_the_running_displacement() {
        // "match!" occurs at 0, 20 and 40; the longest-match search may return any of them.
        let mut old = vec![0u8; 60];
        for at in [0, 20, 40] {
            old[at..at + 6].copy_from_slice(b"match!");
            old[at + 6] = at as u8 + 1;
        }
        let ix = suffix_array(&old);
        let sa = &ix.sa;
        let target = b"match!?";
        let (p, l, at) = search(&ix, &old, target);
        assert_eq!(l, 6);
        for want in [0isize, 19, 42] {
            let got = nearest(sa, &old, target, at, l, p, want);
            assert_eq!(got, [0, 20, 40][(want as usize + 9) / 20]);
        }
    }
}
