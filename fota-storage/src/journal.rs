//! The progress journal in the state area: append-only, CRC-checked records, compacted by
//! rotating banks, robust to torn writes and erases.
//!
//! # On flash (format 2)
//!
//! The state area is split into banks of whole sectors. A bank holds records, each starting at a
//! `WRITE_SIZE`-aligned offset and written with one flash write:
//!
//! ```text
//! kind u8 | format 0x02 | payload length u16 LE | sequence u32 LE | payload | CRC-32 LE of all before | 0xFF padding
//! ```
//!
//! Five kinds, all read and written by the same code: package identity (session u32, kind,
//! lengths, URI or push identity, ETag), progress (durable u32, checkpoint), boot record,
//! anti-rollback counter, and the seal that ends a rotation's snapshot.
//!
//! Every operation appends one record to the current bank. When the bank has no room, or after
//! a mount (the bytes after the last good record are not trusted: a torn write may have left
//! bits there), the next bank in the ring is erased and gets a snapshot of the whole state (the
//! new record included) followed by a seal. Mounting reads every bank front to back up to the
//! first record that does not check, picks the sealed bank whose first record is newest, and
//! replays it in order: the last record of each kind wins, and an identity record drops the
//! progress before it (a new download). A bank without a seal is an interrupted rotation and is
//! ignored, so the previous bank, which still holds the whole state, is erased only once a
//! complete snapshot exists elsewhere. A written word is never programmed again.
//!
//! Every journal operation changes the record of one kind only, so after a cut the state is
//! the one before or the one after the operation. The anti-rollback counter is the last counter
//! record, or the version of the boot record if that is confirmed and higher; counter records
//! are only ever written with a value at least the counter's, and a confirmed boot record is
//! replaced only once a counter record holds its version.

use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::layout::{Layout, Nor, Region};
use crate::{ERASED, MAX_WRITE_SIZE, crc32_update};

/// Largest checkpoint blob a progress record holds.
pub const CHECKPOINT_MAX: usize = 128;
/// Largest Package URI of a pull identity (resource /5/0/1).
pub const URI_MAX: usize = 255;
/// Largest ETag of a pull identity or identity of a push download.
pub const TAG_MAX: usize = 32;

const IDENTITY_MAX: usize = 3 + URI_MAX + TAG_MAX;
const HEADER: usize = 8;
const CRC_LEN: usize = 4;
const PAYLOAD_MAX: usize = 4 + IDENTITY_MAX;

/// On-flash format of the records (format 1 had a zero here).
const FORMAT: u8 = 2;
/// Kind byte of the first kind; kind `k` is stored as `KIND_BASE + k`.
const KIND_BASE: u8 = 0xA1;
/// The first two bytes of a record of the first kind, as a little-endian number.
const KIND_WORD: u32 = KIND_BASE as u32 | (FORMAT as u32) << 8;
const K_IDENTITY: usize = 0;
const K_PROGRESS: usize = 1;
const K_BOOT: usize = 2;
const K_MIN: usize = 3;
/// Ends a rotation's snapshot: a bank without it is an interrupted rotation.
const K_SEAL: usize = 4;
const KINDS: usize = 5;

const BOOT_LEN: usize = 13;
const PROGRESS_MAX: usize = 4 + CHECKPOINT_MAX;

/// Where each kind's newest payload lives in [`Journal`]'s state buffer (kind `k` at
/// `OFF[k]..OFF[k + 1]`, its largest payload).
const OFF: [usize; KINDS + 1] = {
    let a = PAYLOAD_MAX;
    let b = a + PROGRESS_MAX;
    let c = b + BOOT_LEN;
    let d = c + 4;
    [0, a, b, c, d, d]
};
const STATE_LEN: usize = OFF[KINDS];
const O_BOOT: usize = OFF[K_BOOT];
const O_MIN: usize = OFF[K_MIN];

/// CRC-32 register after a record followed by its own (inverted, little-endian) CRC.
const CRC_RESIDUE: u32 = 0xDEBB_20E3;

/// A whole record (largest payload), rounded up to the largest write granule.
const RECORD_BUF: usize =
    (HEADER + PAYLOAD_MAX + CRC_LEN).div_ceil(MAX_WRITE_SIZE) * MAX_WRITE_SIZE;

/// What is being downloaded: resumption continues only the same package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageIdentity<'a> {
    /// Pull: the Package URI (/5/0/1) and the ETag the server gave it (empty if none).
    Pull {
        /// The URI, at most [`URI_MAX`] bytes.
        uri: &'a [u8],
        /// The ETag, at most [`TAG_MAX`] bytes.
        etag: &'a [u8],
    },
    /// Push (writes of /5/0/0): an identity the device derives, e.g. the manifest digest.
    Push {
        /// At most [`TAG_MAX`] bytes.
        id: &'a [u8],
    },
}

impl<'a> PackageIdentity<'a> {
    fn parts(&self) -> (u8, &'a [u8], &'a [u8]) {
        match *self {
            PackageIdentity::Pull { uri, etag } => (1, uri, etag),
            PackageIdentity::Push { id } => (2, &[], id),
        }
    }

    fn decode(bytes: &'a [u8]) -> Option<Self> {
        let ([kind, alen, blen], rest) = bytes.split_first_chunk::<3>()?;
        let (a, b) = rest.split_at_checked(*alen as usize)?;
        if b.len() != *blen as usize {
            return None;
        }
        match kind {
            1 => Some(PackageIdentity::Pull { uri: a, etag: b }),
            2 if a.is_empty() => Some(PackageIdentity::Push { id: b }),
            _ => None,
        }
    }
}

/// Where the update hand-off between application and bootloader stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum BootState {
    /// Nothing to do: the active image runs.
    Idle = 0,
    /// The staging slot holds a verified image; the bootloader swaps it in at the next boot.
    Pending = 1,
    /// The bootloader is swapping (`step` copies done).
    Swapping = 2,
    /// The new image runs on trial: the application must confirm it, else the next boot
    /// rolls back.
    Testing = 3,
    /// The application confirmed the new image (Update Result 1).
    Confirmed = 4,
    /// The bootloader is restoring the old image (`step` copies done).
    Reverting = 5,
    /// The new image was not confirmed and the old one is back (Update Result 8).
    RolledBack = 6,
}

impl BootState {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => BootState::Idle,
            1 => BootState::Pending,
            2 => BootState::Swapping,
            3 => BootState::Testing,
            4 => BootState::Confirmed,
            5 => BootState::Reverting,
            6 => BootState::RolledBack,
            _ => return None,
        })
    }
}

/// The boot hand-off record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootRecord {
    /// Where the hand-off stands.
    pub state: BootState,
    /// Swap or revert copies completed.
    pub step: u32,
    /// Size of the new image.
    pub image_size: u32,
    /// Firmware version of the new image (from its manifest).
    pub version: u32,
}

impl BootRecord {
    /// No update in progress.
    pub const IDLE: BootRecord = BootRecord {
        state: BootState::Idle,
        step: 0,
        image_size: 0,
        version: 0,
    };
}

/// [`Error::TooLarge`] if `len` is over `max`.
fn fits(len: usize, max: usize) -> Result<(), Error> {
    if len > max {
        return Err(Error::TooLarge {
            len: len as u32,
            max: max as u32,
        });
    }
    Ok(())
}

/// The little-endian `u32` at `at` (0 past the end).
fn le32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[b0, b1, b2, b3]) => u32::from_le_bytes([b0, b1, b2, b3]),
        _ => 0,
    }
}

/// Copies `parts` one after the other into `dst` (as much as fits); returns the bytes copied.
fn fill(dst: &mut [u8], parts: &[&[u8]]) -> usize {
    let mut n = 0;
    for p in parts {
        n += copy(dst.get_mut(n..).unwrap_or_default(), p);
    }
    n
}

/// Copies as much of `src` as fits into `dst`; returns the bytes copied.
fn copy(dst: &mut [u8], src: &[u8]) -> usize {
    // A byte loop: no length check that could panic, and the records are short.
    let mut n = 0;
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
        n += 1;
    }
    n
}

/// The journal's state in RAM, loaded by [`Journal::mount`]; every change is appended to flash
/// before the call returns.
#[derive(Debug, Clone)]
pub struct Journal {
    log: Log,
    data: Data,
}

/// The newest payload of each kind.
#[derive(Debug, Clone)]
struct Data {
    /// Kind `k`'s at `OFF[k]`.
    state: [u8; STATE_LEN],
    /// Their lengths (0: no record of that kind yet).
    lens: [u16; KINDS],
}

/// Where records go: the append point in the ring of banks.
#[derive(Debug, Clone)]
struct Log {
    area: Region,
    bank: u32,
    banks: u32,
    write: u32,
    cur_bank: u32,
    cur_off: u32,
    /// The bytes from `cur_off` to the bank's end are erased.
    clean: bool,
    /// Sequence number of the next record.
    seq: u32,
}

impl Journal {
    /// Reads the journal from the state area of `layout`: the records of the newest complete
    /// bank, replayed in order.
    pub fn mount<F: NorFlash>(flash: &mut F, layout: &Layout) -> Result<Self, Error> {
        Self::mount_dyn(flash, layout)
    }

    fn mount_dyn(flash: &mut dyn Nor, layout: &Layout) -> Result<Self, Error> {
        let mut j = Journal {
            log: Log {
                area: layout.state(),
                bank: layout.bank_size(),
                banks: layout.banks(),
                write: layout.write_size(),
                cur_bank: 0,
                cur_off: 0,
                // Whatever follows the last good record (a torn write, stray bits) is not
                // trusted: the first append after a mount starts a fresh bank.
                clean: false,
                seq: 0,
            },
            data: Data {
                state: [0; STATE_LEN],
                lens: [0; KINDS],
            },
        };
        let bank = j.log.bank;
        let banks = j.log.banks;
        let mut rec = [0u8; RECORD_BUF];
        // The newest sealed bank (a complete rotation: its snapshot holds the whole state) and
        // the sequence number of its first record, which orders the banks.
        let mut pick = banks;
        let mut pick_first = 0;
        // Banks 0.. are looked at; the last round replays the bank picked.
        let mut b = 0;
        loop {
            let replay = b >= banks;
            if replay {
                if pick == banks {
                    // Fresh state area: the first append rotates into bank 0. (A layout has
                    // at least two banks.)
                    pick = banks.wrapping_sub(1);
                    break;
                }
                b = pick;
            }
            let base = j.log.area.offset + b * bank;
            let mut p = 0u32;
            let mut first = 0;
            let mut sealed = false;
            // One read per record: as much as the largest record, or the rest of the bank.
            while let Some(buf) = rec.get_mut(..(bank - p).min(RECORD_BUF as u32) as usize) {
                flash.read_at(base + p, buf)?;
                // kind | format | length: one word (the format is part of the kind).
                let head = le32(buf, 0);
                let k = (head & 0xFFFF).wrapping_sub(KIND_WORD) as usize;
                let len = head >> 16;
                let total = len + (HEADER + CRC_LEN) as u32;
                let (Some(&lo), Some(&hi)) = (OFF.get(k), OFF.get(k + 1)) else {
                    break;
                };
                // A good record followed by its CRC leaves the residue. (A payload longer
                // than its kind's is cut to size below: only forged data can have one.)
                if crc32_update(!0, buf.get(..total as usize).unwrap_or(&[1])) != CRC_RESIDUE {
                    break;
                }
                let seq = le32(buf, 4);
                if p == 0 {
                    first = seq;
                }
                sealed |= k == K_SEAL;
                if replay {
                    // Records in a bank are in sequence order: the last of each kind wins.
                    let payload = buf.get(HEADER..HEADER + len as usize).unwrap_or_default();
                    let n = copy(j.data.state.get_mut(lo..hi).unwrap_or_default(), payload);
                    if let Some(l) = j.data.lens.get_mut(k) {
                        *l = n as u16;
                    }
                    // A new download: the progress before it is not its progress.
                    if k == K_IDENTITY {
                        j.data.lens[K_PROGRESS] = 0;
                    }
                    j.log.seq = seq.wrapping_add(1);
                }
                p += j.log.round(total);
            }
            if replay {
                break;
            }
            if sealed && first >= pick_first {
                pick = b;
                pick_first = first;
            }
            b += 1;
        }
        // The next append rotates into the bank after the one picked: whatever that holds is
        // older, or an interrupted rotation.
        j.log.cur_bank = pick;
        Ok(j)
    }

    /// Whether a download is recorded (an identity of kind 1 or 2, not a reset).
    fn downloading(&self) -> bool {
        self.payload(K_IDENTITY)
            .get(4)
            .is_some_and(|&kind| kind != 0)
    }

    fn payload(&self, k: usize) -> &[u8] {
        self.data.payload(k)
    }

    /// The package being downloaded, if any.
    pub fn identity(&self) -> Option<PackageIdentity<'_>> {
        PackageIdentity::decode(self.payload(K_IDENTITY).get(4..)?)
    }

    /// Whether the download recorded is of `identity` (what comparing [`Journal::identity`]
    /// tells, without decoding).
    pub fn is_download_of(&self, identity: PackageIdentity<'_>) -> bool {
        let (kind, a, b) = identity.parts();
        let stored = self.payload(K_IDENTITY).get(4..).unwrap_or_default();
        let (head, rest) = stored.split_at_checked(3).unwrap_or_default();
        head == [kind, a.len() as u8, b.len() as u8]
            && rest.len() == a.len() + b.len()
            && rest.starts_with(a)
            && rest.ends_with(b)
    }

    /// Number of the current download session (changes with every [`Journal::begin`]).
    pub fn session(&self) -> u32 {
        le32(&self.data.state, 0)
    }

    /// Bytes of the current download durable in the staging slot: the resume point and the
    /// value of /5/0/26500.
    pub fn durable(&self) -> u32 {
        le32(self.payload(K_PROGRESS), 0)
    }

    /// The checkpoint recorded with [`Journal::durable`] (empty if none).
    pub fn checkpoint(&self) -> &[u8] {
        self.payload(K_PROGRESS).get(4..).unwrap_or_default()
    }

    /// The boot hand-off record.
    pub fn boot(&self) -> BootRecord {
        let b = self.data.state.get(O_BOOT..).unwrap_or_default();
        match b.first().copied().and_then(BootState::from_u8) {
            Some(state) => BootRecord {
                state,
                step: le32(b, 1),
                image_size: le32(b, 5),
                version: le32(b, 9),
            },
            None => BootRecord::IDLE,
        }
    }

    /// The anti-rollback counter: the lowest firmware version the device accepts. It never
    /// decreases: it is the largest value given to [`Journal::raise_min_version`] or recorded as
    /// the version of a [`BootState::Confirmed`] boot record.
    pub fn min_version(&self) -> u32 {
        let min = le32(&self.data.state, O_MIN);
        if self.data.state.get(O_BOOT) == Some(&(BootState::Confirmed as u8)) {
            min.max(le32(&self.data.state, O_BOOT + 9))
        } else {
            min
        }
    }

    /// Starts a new download session for `identity` at offset 0 (`None` forgets the download).
    pub fn begin<F: NorFlash>(
        &mut self,
        flash: &mut F,
        identity: Option<PackageIdentity<'_>>,
    ) -> Result<(), Error> {
        let (kind, a, b) = identity.map_or((0, &[][..], &[][..]), |i| i.parts());
        fits(a.len(), URI_MAX)?;
        fits(b.len(), TAG_MAX)?;
        // The session is the number of a record: unique, and never the one of an older begin.
        let s = self.log.seq.to_le_bytes();
        let head = [s[0], s[1], s[2], s[3], kind, a.len() as u8, b.len() as u8];
        self.data.lens[K_PROGRESS] = 0;
        self.record(flash, K_IDENTITY, &[&head, a, b])
    }

    /// Records that `durable` bytes of the current download are in flash, with the patcher's
    /// `checkpoint` (at most [`CHECKPOINT_MAX`] bytes) for that point.
    pub fn record_progress<F: NorFlash>(
        &mut self,
        flash: &mut F,
        durable: u32,
        checkpoint: &[u8],
    ) -> Result<(), Error> {
        fits(checkpoint.len(), CHECKPOINT_MAX)?;
        if !self.downloading() {
            return Err(Error::InvalidState);
        }
        self.record(flash, K_PROGRESS, &[&durable.to_le_bytes(), checkpoint])
    }

    /// Replaces the boot hand-off record.
    pub fn set_boot<F: NorFlash>(
        &mut self,
        flash: &mut F,
        record: BootRecord,
    ) -> Result<(), Error> {
        // A confirmed version stays the floor once its record is replaced: to flash first.
        let old = self.boot();
        if old.state == BootState::Confirmed && old.version > le32(&self.data.state, O_MIN) {
            self.put_min_version(flash, old.version)?;
        }
        self.record(
            flash,
            K_BOOT,
            &[
                &[record.state as u8],
                &record.step.to_le_bytes(),
                &record.image_size.to_le_bytes(),
                &record.version.to_le_bytes(),
            ],
        )
    }

    /// Raises the anti-rollback counter to `version` (never lowers it).
    pub fn raise_min_version<F: NorFlash>(
        &mut self,
        flash: &mut F,
        version: u32,
    ) -> Result<(), Error> {
        // Against the counter with the confirmed version folded in, as a rotation stores it.
        if version <= self.min_version() {
            return Ok(());
        }
        self.put_min_version(flash, version)
    }

    /// Appends a counter record; `version` is at least the counter (`min_version()`).
    fn put_min_version(&mut self, flash: &mut dyn Nor, version: u32) -> Result<(), Error> {
        self.record(flash, K_MIN, &[&version.to_le_bytes()])
    }

    /// Makes `parts` (checked by the caller to fit) the payload of kind `k` and puts it on
    /// flash.
    fn record(&mut self, flash: &mut dyn Nor, k: usize, parts: &[&[u8]]) -> Result<(), Error> {
        if let (Some(&lo), Some(&hi), Some(l)) =
            (OFF.get(k), OFF.get(k + 1), self.data.lens.get_mut(k))
        {
            *l = fill(self.data.state.get_mut(lo..hi).unwrap_or_default(), parts) as u16;
        }
        self.commit(flash, k)
    }

    /// Puts kind `k`'s payload on flash: appended to the current bank if it is clean and has
    /// room, else as part of a rotation's snapshot.
    fn commit(&mut self, flash: &mut dyn Nor, k: usize) -> Result<(), Error> {
        let len = self.payload(k).len();
        let append = self.log.clean && self.log.padded(len) <= self.log.bank - self.log.cur_off;
        if !append {
            // Rotation: move to the next bank and erase it; every kind's payload and then the
            // seal (the last kind, no payload) follow.
            let log = &mut self.log;
            let next = match log.cur_bank + 1 {
                n if n < log.banks => n,
                _ => 0,
            };
            let from = log.area.offset + next * log.bank;
            log.clean = false;
            log.cur_bank = next;
            log.cur_off = 0;
            flash.erase_range(from, from + log.bank)?;
            log.clean = true;
        }
        for j in 0..KINDS {
            let p = self.data.payload(j);
            let put = if append {
                j == k
            } else {
                j == K_SEAL || !p.is_empty()
            };
            if put {
                self.log.put(flash, j, p)?;
            }
        }
        Ok(())
    }
}

impl Data {
    /// The newest payload of kind `k` (empty if none).
    fn payload(&self, k: usize) -> &[u8] {
        let len = self.lens.get(k).copied().unwrap_or(0) as usize;
        let at = OFF.get(k).copied().unwrap_or(0);
        self.state.get(at..at + len).unwrap_or_default()
    }
}

impl Log {
    /// A record with `len` payload bytes, padded to the write granule.
    fn padded(&self, len: usize) -> u32 {
        self.round((HEADER + len + CRC_LEN) as u32)
    }

    /// `n` rounded up to the write granule (a power of two: no division).
    fn round(&self, n: u32) -> u32 {
        let m = self.write - 1;
        (n + m) & !m
    }

    /// Writes one record of kind `k` at the append point, assembled in RAM and written with one
    /// flash write: a cut or torn write leaves a record whose CRC fails.
    fn put(&mut self, flash: &mut dyn Nor, k: usize, payload: &[u8]) -> Result<(), Error> {
        let len = payload.len();
        let padded = self.padded(len);
        // Never so for records of the state buffer's regions: `commit` checked the room of an
        // append, and a snapshot (at most 576 bytes) fits in a bank (at least 1 KiB).
        if len > PAYLOAD_MAX || padded > self.bank - self.cur_off {
            return Err(Error::InvalidState);
        }
        let mut rec = [0u8; RECORD_BUF];
        // Zeroed as a whole (memclr4, which every image has; memclr8 is not).
        let rec = core::hint::black_box(&mut rec);
        let head = u32::from(KIND_BASE + k as u8) | u32::from(FORMAT) << 8 | (len as u32) << 16;
        if let Some((h, rest)) = rec.split_first_chunk_mut::<HEADER>() {
            *h = (u64::from(head) | u64::from(self.seq) << 32).to_le_bytes();
            copy(rest, payload);
        }
        let end = HEADER + len;
        let crc = !crc32_update(!0, rec.get(..end).unwrap_or_default());
        copy(rec.get_mut(end..).unwrap_or_default(), &crc.to_le_bytes());
        // Padding up to the write granule (copied: an 0xFF memset is not in every image).
        copy(rec.get_mut(end + CRC_LEN..).unwrap_or_default(), &ERASED);
        let at = self.area.offset + self.cur_bank * self.bank + self.cur_off;
        // Whatever happens to this write, its words are used: never program them again.
        self.cur_off += padded;
        self.seq = self.seq.wrapping_add(1);
        self.clean = false;
        flash.write_at(at, rec.get(..padded as usize).unwrap_or_default())?;
        self.clean = true;
        Ok(())
    }
}
