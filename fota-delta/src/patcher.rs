//! The push-style streaming patcher (`no_std`, no allocation, fixed RAM).

use crate::Error;
use crate::header::{HEADER_LEN, Header};
use crate::rc::{Decoder, INIT_BYTES, MAX_BYTE_BYTES, MAX_RECORD_BYTES, Model, RING, RcState};
use crate::sha::Sha;

/// Failure reported by an [`OldImage`] or [`NewImage`] implementation (flash error, say). The
/// patcher turns it into [`Error::OldRead`] or [`Error::NewWrite`] with the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageIoError;

/// The old image, read at random offsets (typically the running firmware slot in flash).
pub trait OldImage {
    /// Fills `buf` with the bytes at `offset..offset + buf.len()`; the patcher only asks for
    /// ranges inside the old size given in the patch header.
    fn read_at(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), ImageIoError>;

    /// The SHA-256 compression function used for both image digests: one 64-byte block into
    /// `state`. The default is the `sha2` crate's software implementation; override it to share
    /// the firmware's one SHA-256 (the one that verifies slots) or to use a hardware engine.
    fn sha256_compress(&mut self, state: &mut [u32; 8], block: &[u8; 64]) {
        crate::sha::soft_compress(state, block);
    }
}

/// The new image, written strictly forward (typically the staging slot in flash).
pub trait NewImage {
    /// Appends `data` after everything written before.
    fn write(&mut self, data: &[u8]) -> Result<(), ImageIoError>;
}

fn read_slice(image: &[u8], offset: u32, buf: &mut [u8]) -> Result<(), ImageIoError> {
    let start = usize::try_from(offset).map_err(|_| ImageIoError)?;
    let end = start.checked_add(buf.len()).ok_or(ImageIoError)?;
    buf.copy_from_slice(image.get(start..end).ok_or(ImageIoError)?);
    Ok(())
}

impl OldImage for [u8] {
    fn read_at(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), ImageIoError> {
        read_slice(self, offset, buf)
    }
}

impl OldImage for &[u8] {
    fn read_at(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), ImageIoError> {
        read_slice(self, offset, buf)
    }
}

#[cfg(feature = "std")]
impl NewImage for std::vec::Vec<u8> {
    #[inline]
    fn write(&mut self, data: &[u8]) -> Result<(), ImageIoError> {
        // The patcher hands one byte per call: a push, not a `memmove` call per byte.
        if let [b] = data {
            self.push(*b);
        } else {
            self.extend_from_slice(data);
        }
        Ok(())
    }
}

const IN_BUF: usize = RING;
const OLD_BUF: usize = 64;
/// Largest RAM the patcher may take; asserted at compile time.
pub const PATCHER_RAM_LIMIT: usize = 12 * 1024;
/// RAM taken by one [`Patcher`] (all of its state: model, buffers, digest), in bytes.
pub const PATCHER_RAM: usize = core::mem::size_of::<Patcher>();
const _: () = assert!(PATCHER_RAM <= PATCHER_RAM_LIMIT);
/// Bytes of an encoded [`Checkpoint`].
pub const CHECKPOINT_LEN: usize = 90;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Header,
    BlockStart,
    Record,
    /// The diff and then the extra bytes of a record.
    Data,
    /// All of the new image was written; `finish` checks its digest.
    Done,
    /// `finish` found the new image's digest right.
    Verified,
    Failed,
}

/// What one [`Patcher::feed`] call achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the new image handed to the sink so far.
    pub new_written: u32,
    /// Size of the new image, once the header was read.
    pub new_size: Option<u32>,
    /// Set when a checkpoint boundary was passed during this call: persist it (after the sink
    /// has made the written bytes durable) to resume from there after a power cut.
    pub checkpoint: Option<Checkpoint>,
}

/// Resumable state at a block boundary: everything needed to continue from byte
/// [`Checkpoint::patch_offset`] of the patch, with the sink positioned at
/// [`Checkpoint::new_offset`]. It is its [`CHECKPOINT_LEN`] encoded bytes, validated.
///
/// Layout: version 2 (1 byte), checkpoint interval log2 (1), then little-endian u32s: patch
/// offset, new offset, old position, old size, new size, SHA-256 mid-state of the new image
/// (8 words); then the SHA-256 of the new image (32 bytes) and an FNV-1a check of all that (u32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint([u8; CHECKPOINT_LEN]);

fn check32(b: &[u8]) -> u32 {
    // FNV-1a: catches torn or stale checkpoint records, not an adversary.
    let mut h: u32 = 0x811c_9dc5;
    for &x in b {
        h = (h ^ u32::from(x)).wrapping_mul(0x0100_0193);
    }
    h
}

/// Little-endian word into `b` at `at` (bytes past the end are dropped).
#[inline(never)]
fn put_u32(b: &mut [u8], at: usize, v: u32) {
    for (i, x) in v.to_le_bytes().iter().enumerate() {
        if let Some(slot) = b.get_mut(at + i) {
            *slot = *x;
        }
    }
}

/// Little-endian word from `b` at `at` (zeros past the end).
#[inline(never)]
pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    (0..4).rev().fold(0, |acc, i| {
        acc << 8 | u32::from(b.get(at + i).copied().unwrap_or(0))
    })
}

/// Checkpoint format version (the first byte).
const CP_VERSION: u8 = 2;
/// Words of a checkpoint (and of the patcher's snapshot), from byte `CP_WORDS` on.
const CP_WORDS: usize = 2;
const W_PATCH: usize = 0;
const W_NEW: usize = 1;
const W_OLD_POS: usize = 2;
const W_OLD_SIZE: usize = 3;
const W_NEW_SIZE: usize = 4;
const W_SHA: usize = 5;
const N_WORDS: usize = 13;
const CP_NEW_SHA: usize = CP_WORDS + 4 * N_WORDS;
const CP_CHECK: usize = CP_NEW_SHA + 32;
const _: () = assert!(CP_CHECK + 4 == CHECKPOINT_LEN);

/// Checks an encoded checkpoint (length, version, check value, consistent fields).
fn validate(b: &[u8]) -> Result<&[u8; CHECKPOINT_LEN], Error> {
    let b: &[u8; CHECKPOINT_LEN] = b.try_into().map_err(|_| Error::BadCheckpoint)?;
    let word = |i: usize| get_u32(b, CP_WORDS + 4 * i);
    let interval = b[1];
    let new_offset = word(W_NEW);
    if b[0] != CP_VERSION
        || get_u32(b, CP_CHECK) != check32(&b[..CP_CHECK])
        || !(crate::header::MIN_INTERVAL_LOG2..=crate::header::MAX_INTERVAL_LOG2)
            .contains(&interval)
        || new_offset >= word(W_NEW_SIZE)
        || new_offset.trailing_zeros() < u32::from(interval)
        || (word(W_PATCH) as usize) < HEADER_LEN
    {
        return Err(Error::BadCheckpoint);
    }
    Ok(b)
}

impl Checkpoint {
    /// Patch offset to resume feeding from.
    pub fn patch_offset(&self) -> u32 {
        get_u32(&self.0, CP_WORDS + 4 * W_PATCH)
    }

    /// New-image bytes already written and covered by this checkpoint.
    pub fn new_offset(&self) -> u32 {
        get_u32(&self.0, CP_WORDS + 4 * W_NEW)
    }

    /// The encoded checkpoint (with its check value), to store as it is.
    pub fn to_bytes(&self) -> [u8; CHECKPOINT_LEN] {
        self.0
    }

    /// Parses a checkpoint written by [`Checkpoint::to_bytes`] or
    /// [`Patcher::write_checkpoint`].
    pub fn from_bytes(b: &[u8]) -> Result<Checkpoint, Error> {
        validate(b).map(|b| Checkpoint(*b))
    }
}

/// A window of the old image.
struct OldCache {
    buf: [u8; OLD_BUF],
    at: u32,
    len: usize,
}

impl OldCache {
    /// The old byte at `pos` (below `size`), or `None` when reading the image failed.
    fn get<O: OldImage + ?Sized>(&mut self, src: &mut O, pos: u32, size: u32) -> Option<u8> {
        let mut rel = pos.wrapping_sub(self.at) as usize;
        if rel >= self.len {
            // `pos < size`: the record check put the diff inside the old image.
            let len = (size.wrapping_sub(pos) as usize).min(OLD_BUF);
            src.read_at(pos, self.buf.get_mut(..len)?).ok()?;
            self.at = pos;
            self.len = len;
            rel = 0;
        }
        self.buf.get(rel).copied()
    }
}

/// Applies a native patch while it arrives, in fixed RAM ([`PATCHER_RAM`] bytes).
///
/// Feed the patch in chunks of any size with [`Patcher::feed`]; the patcher reads the old image
/// through an [`OldImage`] and writes the new one forward through a [`NewImage`]. Once the header
/// is in, it hashes the whole old image and refuses to write anything if the digest differs. Call
/// [`Patcher::finish`] after the last chunk: it decodes what is still buffered and checks the new
/// image's digest. Any error is final (later calls return [`Error::Finished`]).
// `repr(C)`, scalars first and the 10 KiB model last: every other field is then within reach
// of a load's immediate offset on Thumb-2 (no address arithmetic per access).
#[repr(C)]
pub struct Patcher {
    phase: Phase,
    /// Set when a checkpoint is taken; `push` clears it.
    new_checkpoint: bool,
    in_start: usize,
    in_len: usize,
    patch_offset: u32,
    rc: RcState,
    new_offset: u32,
    /// Position in the old image, modulo 2^32 (every diff read is checked against the size).
    old_pos: u32,
    diff_left: u32,
    extra_left: u32,
    seek: u32,
    /// New-image offset where the current block ends (set at its start).
    block_end: u32,
    /// The latest checkpoint's words (`W_*`); `W_PATCH` is zero while there is none.
    snapshot: [u32; N_WORDS],
    header: Header,
    old: OldCache,
    /// The running digest of the new image (of the old one while it is checked).
    sha: Sha,
    inbuf: [u8; IN_BUF],
    model: Model,
}

impl core::fmt::Debug for Patcher {
    /// A summary (phase and offsets), not the model's 10 KiB of probabilities.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Patcher")
            .field("phase", &self.phase)
            .field("patch_offset", &self.patch_offset)
            .field("new_offset", &self.new_offset)
            .field("new_size", &self.header().map(|h| h.new_size))
            .field(
                "checkpoint",
                &(self.snapshot[W_PATCH] != 0).then_some(self.snapshot[W_PATCH]),
            )
            .finish()
    }
}

impl Default for Patcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Patcher {
    /// A patcher expecting the first byte of a patch.
    #[inline(never)]
    pub const fn new() -> Self {
        Patcher {
            phase: Phase::Header,
            header: Header {
                old_size: 0,
                new_size: 0,
                interval_log2: 0,
                old_sha256: [0; 32],
                new_sha256: [0; 32],
            },
            inbuf: [0; IN_BUF],
            in_start: 0,
            in_len: 0,
            patch_offset: 0,
            rc: RcState { range: 0, code: 0 },
            model: Model::NEW,
            new_offset: 0,
            old_pos: 0,
            diff_left: 0,
            extra_left: 0,
            seek: 0,
            block_end: 0,
            old: OldCache {
                buf: [0; OLD_BUF],
                at: 0,
                len: 0,
            },
            sha: Sha::zeroed(),
            snapshot: [0; N_WORDS],
            new_checkpoint: false,
        }
    }

    /// A patcher continuing from a checkpoint: feed the patch from
    /// [`Checkpoint::patch_offset`] on, with the sink positioned at [`Checkpoint::new_offset`].
    /// The old image was verified before the checkpoint was taken and is not hashed again.
    pub fn resume(cp: &Checkpoint) -> Self {
        let mut p = Self::new();
        // Cannot fail: a `Checkpoint` is validated.
        let _ = p.restore(&cp.0);
        p
    }

    /// Restarts this patcher from encoded checkpoint bytes ([`Patcher::write_checkpoint`],
    /// [`Checkpoint::to_bytes`]), in place: the device's way to [`Patcher::resume`] without a
    /// second patcher or a checkpoint value. Feed the patch from the checkpoint's patch offset
    /// on, with the sink positioned at its new offset. On error the patcher is unchanged.
    pub fn restore(&mut self, checkpoint: &[u8]) -> Result<(), Error> {
        let b = validate(checkpoint)?;
        *self = Self::new();
        self.phase = Phase::BlockStart;
        self.header.interval_log2 = b[1];
        for (i, w) in self.snapshot.iter_mut().enumerate() {
            *w = get_u32(b, CP_WORDS + 4 * i);
        }
        for (d, s) in self.header.new_sha256.iter_mut().zip(&b[CP_NEW_SHA..]) {
            *d = *s;
        }
        for (w, s) in self.sha.state.iter_mut().zip(&self.snapshot[W_SHA..]) {
            *w = *s;
        }
        let s = &self.snapshot;
        self.header.old_size = s[W_OLD_SIZE];
        self.header.new_size = s[W_NEW_SIZE];
        self.patch_offset = s[W_PATCH];
        self.new_offset = s[W_NEW];
        self.old_pos = s[W_OLD_POS];
        // Checkpoints fall on 64-byte boundaries: no partial SHA block is pending.
        self.sha.len = s[W_NEW];
        Ok(())
    }

    /// The patch header, once it has been received.
    pub fn header(&self) -> Option<&Header> {
        (self.phase != Phase::Header).then_some(&self.header)
    }

    /// Patch bytes consumed by the decoder so far (buffered bytes not included).
    pub fn patch_offset(&self) -> u32 {
        self.patch_offset
    }

    /// New-image bytes handed to the sink so far.
    pub fn new_written(&self) -> u32 {
        self.new_offset
    }

    /// The latest checkpoint passed (or resumed from), if any.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        let mut b = [0u8; CHECKPOINT_LEN];
        self.write_checkpoint(&mut b).then_some(Checkpoint(b))
    }

    /// Encodes the latest checkpoint passed (or resumed from) into `out`, the bytes
    /// [`Checkpoint::from_bytes`] reads; false (and `out` untouched) when there is none yet.
    /// The lean alternative to [`Patcher::checkpoint`] for devices: no checkpoint value moves.
    pub fn write_checkpoint(&self, out: &mut [u8; CHECKPOINT_LEN]) -> bool {
        if self.snapshot[W_PATCH] == 0 {
            return false;
        }
        out[0] = CP_VERSION;
        out[1] = self.header.interval_log2;
        for (i, w) in self.snapshot.iter().enumerate() {
            put_u32(out, CP_WORDS + 4 * i, *w);
        }
        for (i, b) in self.header.new_sha256.iter().enumerate() {
            out[(CP_NEW_SHA + i) % CHECKPOINT_LEN] = *b;
        }
        let check = check32(&out[..CP_CHECK]);
        put_u32(out, CP_CHECK, check);
        true
    }

    /// True once the whole new image was written and verified.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Verified
    }

    /// Feeds the next chunk of the patch (any size, including empty). All of `chunk` is taken.
    pub fn feed<O, N>(&mut self, chunk: &[u8], old: &mut O, new: &mut N) -> Result<Progress, Error>
    where
        O: OldImage + ?Sized,
        N: NewImage + ?Sized,
    {
        let passed = self.push(chunk, old, new)?;
        Ok(Progress {
            new_written: self.new_offset,
            new_size: self.header().map(|h| h.new_size),
            checkpoint: if passed { self.checkpoint() } else { None },
        })
    }

    /// [`Patcher::feed`] without the [`Progress`] value: returns true when a checkpoint boundary
    /// was passed during this call; then store [`Patcher::write_checkpoint`]'s bytes (after the
    /// sink has made the written bytes durable). The smallest device code path.
    pub fn push<O, N>(&mut self, chunk: &[u8], old: &mut O, new: &mut N) -> Result<bool, Error>
    where
        O: OldImage + ?Sized,
        N: NewImage + ?Sized,
    {
        if self.phase == Phase::Failed {
            return Err(Error::Finished);
        }
        self.new_checkpoint = false;
        let mut rest = chunk;
        loop {
            // Copy into the ring byte by byte: no memmove/memcpy pulled in on bare metal.
            while self.in_len < IN_BUF {
                let Some((&b, tail)) = rest.split_first() else {
                    break;
                };
                self.inbuf[(self.in_start + self.in_len) % IN_BUF] = b;
                self.in_len += 1;
                rest = tail;
            }
            if let Err(e) = self.run(old, new, false) {
                self.phase = Phase::Failed;
                return Err(e);
            }
            if rest.is_empty() {
                break;
            }
        }
        Ok(self.new_checkpoint)
    }

    /// Ends the patch: decodes the buffered rest, checks that the stream ends exactly there and
    /// that the new image has the promised digest.
    pub fn finish<O, N>(&mut self, old: &mut O, new: &mut N) -> Result<(), Error>
    where
        O: OldImage + ?Sized,
        N: NewImage + ?Sized,
    {
        if self.phase == Phase::Failed {
            return Err(Error::Finished);
        }
        if self.phase == Phase::Verified {
            return Ok(());
        }
        let mut r = self.run(old, new, true);
        if r.is_ok() {
            // The one place the new image's digest is checked.
            r = if self.phase != Phase::Done {
                Err(Error::Truncated {
                    patch_offset: self.patch_offset,
                })
            } else if !self.sha.matches(old, &self.header.new_sha256) {
                Err(Error::NewDigestMismatch)
            } else {
                self.phase = Phase::Verified;
                Ok(())
            };
        }
        if r.is_err() {
            self.phase = Phase::Failed;
        }
        r
    }

    /// Hashes the old image (through the output's digest, restarted afterwards for the new
    /// image: one SHA state in RAM and no temporary).
    fn verify_old<O: OldImage + ?Sized>(&mut self, src: &mut O) -> Result<(), Error> {
        let sha = &mut self.sha;
        sha.start();
        let mut at: u32 = 0;
        while at < self.header.old_size {
            let len = ((self.header.old_size - at) as usize).min(OLD_BUF);
            let buf = self.old.buf.get_mut(..len).ok_or(Error::TooLarge)?;
            src.read_at(at, buf)
                .map_err(|_| Error::OldRead { offset: at })?;
            sha.update(src, buf);
            at += len as u32;
        }
        self.old.len = 0;
        if !sha.matches(src, &self.header.old_sha256) {
            return Err(Error::OldDigestMismatch);
        }
        sha.start();
        Ok(())
    }

    fn run<O, N>(&mut self, old: &mut O, new: &mut N, last: bool) -> Result<(), Error>
    where
        O: OldImage + ?Sized,
        N: NewImage + ?Sized,
    {
        loop {
            match self.phase {
                Phase::Header => {
                    if self.in_len < HEADER_LEN {
                        if last {
                            return Err(Error::Truncated {
                                patch_offset: self.patch_offset,
                            });
                        }
                        return Ok(());
                    }
                    // The header is the first thing a fresh patcher receives: it sits at the
                    // start of the ring, contiguous, and is parsed where it lies.
                    if let Some(hb) = self.inbuf.first_chunk::<HEADER_LEN>() {
                        self.header.read(hb)?;
                    }
                    self.in_start = HEADER_LEN;
                    self.in_len -= HEADER_LEN;
                    self.patch_offset = HEADER_LEN as u32;
                    self.verify_old(old)?;
                    self.phase = if self.header.new_size == 0 {
                        Phase::Done
                    } else {
                        Phase::BlockStart
                    };
                }
                Phase::Done | Phase::Verified => {
                    if self.in_len > 0 {
                        return Err(Error::TrailingData {
                            patch_offset: self.patch_offset,
                        });
                    }
                    return Ok(());
                }
                Phase::Failed => return Err(Error::Finished),
                // Block phases: `step` decodes while enough input is buffered (all of it in
                // the last call, where a symbol that needs input that is not there sets
                // `starved`, reported as truncation); it returns true at the end of a block.
                Phase::BlockStart | Phase::Record | Phase::Data => {
                    if !self.step(old, new, last)? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Decodes as much as the buffered input allows in the current block; true when the block
    /// ended.
    fn step<O, N>(&mut self, old: &mut O, new: &mut N, last: bool) -> Result<bool, Error>
    where
        O: OldImage + ?Sized,
        N: NewImage + ?Sized,
    {
        let mut dec = Decoder {
            st: self.rc,
            ring: &self.inbuf,
            start: self.in_start,
            len: self.in_len,
            pos: 0,
            starved: false,
        };
        let margin =
            |dec: &Decoder<'_>, need: usize| last || dec.len.saturating_sub(dec.pos) >= need;
        let mut block_done = false;
        let result = (|| -> Result<(), Error> {
            loop {
                match self.phase {
                    Phase::BlockStart => {
                        if !margin(&dec, INIT_BYTES) {
                            return Ok(());
                        }
                        if !dec.init() {
                            return Err(Error::CorruptStream {
                                patch_offset: self.patch_offset,
                            });
                        }
                        self.model.reset();
                        // At most the new size: no overflow. Records stay inside the block, so
                        // `new_offset <= block_end` below.
                        self.block_end = self.new_offset + self.header.block_left(self.new_offset);
                        self.phase = Phase::Record;
                    }
                    Phase::Record => {
                        if !margin(&dec, MAX_RECORD_BYTES) {
                            return Ok(());
                        }
                        let r = self.model.decode_record(&mut dec);
                        if dec.starved {
                            return Ok(());
                        }
                        let at = self.new_offset;
                        let total = u64::from(r.diff) + u64::from(r.extra);
                        if total == 0 {
                            return Err(Error::EmptyRecord { new_offset: at });
                        }
                        if total > u64::from(self.block_end - at) {
                            return Err(Error::NewOverrun { new_offset: at });
                        }
                        if r.diff > 0
                            && u64::from(self.old_pos) + u64::from(r.diff)
                                > u64::from(self.header.old_size)
                        {
                            return Err(Error::OldOutOfBounds { new_offset: at });
                        }
                        if r.bad_seek {
                            return Err(Error::SeekOutOfRange { new_offset: at });
                        }
                        self.diff_left = r.diff;
                        self.extra_left = r.extra;
                        self.seek = r.seek;
                        self.phase = Phase::Data;
                    }
                    Phase::Data => {
                        // Diff bytes, then extra bytes: one loop, one copy of the output path.
                        loop {
                            let in_diff = self.diff_left > 0;
                            if !in_diff && self.extra_left == 0 {
                                break;
                            }
                            if !margin(&dec, MAX_BYTE_BYTES) {
                                return Ok(());
                            }
                            let b = if in_diff {
                                // In range: the record check put the diff inside the old image.
                                let o = self
                                    .old
                                    .get(old, self.old_pos, self.header.old_size)
                                    .ok_or(Error::OldRead {
                                        offset: self.old_pos,
                                    })?;
                                let d = self.model.delta(&mut dec, self.new_offset, o, 0);
                                o.wrapping_add(d)
                            } else {
                                self.model.literal(&mut dec, 0)
                            };
                            if dec.starved {
                                return Ok(());
                            }
                            if in_diff {
                                self.model.saw_new(b);
                                self.old_pos = self.old_pos.wrapping_add(1);
                                self.diff_left -= 1;
                            } else {
                                self.extra_left -= 1;
                            }
                            // Unbuffered: the sink (a flash writer) buffers to its write
                            // granule anyway, and the patcher's code stays smaller.
                            if new.write(core::slice::from_ref(&b)).is_err() {
                                return Err(Error::NewWrite {
                                    offset: self.new_offset,
                                });
                            }
                            self.sha.update(old, &[b]);
                            self.new_offset += 1;
                        }
                        // The record ends: move in the old image (modulo 2^32), maybe end
                        // the block.
                        self.old_pos = self.old_pos.wrapping_add(self.seek);
                        if self.new_offset == self.block_end {
                            dec.normalize();
                            if dec.starved {
                                return Ok(());
                            }
                            block_done = true;
                            return Ok(());
                        }
                        self.phase = Phase::Record;
                    }
                    Phase::Header | Phase::Done | Phase::Verified | Phase::Failed => {
                        return Ok(());
                    }
                }
            }
        })();
        // The decoder worked on a copy of the coder state (direct field access in `bit`).
        self.rc = dec.st;
        let starved = dec.starved;
        let used = dec.pos;
        self.in_start = (self.in_start + used) % IN_BUF;
        self.in_len = self.in_len.saturating_sub(used);
        // Wrapping: only a patch of more than 4 GiB could wrap, and the offset only labels
        // errors and checkpoints.
        self.patch_offset = self.patch_offset.wrapping_add(used as u32);
        result?;
        if starved {
            return Err(Error::Truncated {
                patch_offset: self.patch_offset,
            });
        }
        if block_done {
            if self.new_offset == self.header.new_size {
                self.phase = Phase::Done;
            } else {
                self.phase = Phase::BlockStart;
                self.new_checkpoint = true;
                let s = &mut self.snapshot;
                s[W_PATCH] = self.patch_offset;
                s[W_NEW] = self.new_offset;
                s[W_OLD_POS] = self.old_pos;
                s[W_OLD_SIZE] = self.header.old_size;
                s[W_NEW_SIZE] = self.header.new_size;
                for (d, w) in s.iter_mut().skip(W_SHA).zip(&self.sha.state) {
                    *d = *w;
                }
            }
        }
        Ok(block_done)
    }
}
