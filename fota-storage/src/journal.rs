//! The progress journal in the state area: append-only, CRC-checked records with sequence
//! numbers, compacted by rotating banks, robust to torn writes and erases.
//!
//! # On flash
//!
//! The state area is split into banks of whole sectors. A bank holds records, each starting at a
//! `WRITE_SIZE`-aligned offset:
//!
//! ```text
//! kind u8 | 0x00 | payload length u16 LE | sequence u32 LE | payload | CRC-32 LE of all before | 0xFF padding
//! ```
//!
//! A record is written front to back in 32-byte pieces; a cut between them leaves a record whose
//! CRC fails. Reading a bank stops at the first record that does not check; the bytes after it
//! must be erased for the bank to take more records, otherwise (a torn write) the next record
//! starts a fresh bank. A written word is never programmed again. When the current bank is full
//! or torn, the next bank in the ring is erased and gets a snapshot of the live state
//! (anti-rollback counter, package identity, progress, boot record) and then a seal record. A
//! bank whose snapshot has no seal is an interrupted rotation: the rotation is redone before
//! anything else is appended, so the previous bank (which still holds the state) is erased only
//! once a complete snapshot exists elsewhere. Mounting reads all banks and keeps, per kind, the
//! record with the highest sequence number (the largest value for the anti-rollback counter);
//! progress counts only for the download session of the newest identity record.
//!
//! The anti-rollback counter is the largest anti-rollback record, or the version of the boot
//! record if that is confirmed. It never moves backwards: a rotation's snapshot writes the
//! counter with the confirmed version folded in, and a confirmed boot record is replaced only
//! once an anti-rollback record holds its version.

use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::layout::{self, Layout, Region};
use crate::{ERASED, ERASED_BYTE, MAX_WRITE_SIZE, crc32_update};

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

const KIND_IDENTITY: u8 = 0xA1;
const KIND_PROGRESS: u8 = 0xA2;
const KIND_BOOT: u8 = 0xA3;
const KIND_MIN_VERSION: u8 = 0xA4;
/// Ends a rotation's snapshot: a bank without it is an interrupted rotation.
const KIND_SEAL: u8 = 0xA5;

const BOOT_LEN: usize = 13;

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

    /// Encoded length, checking the limits.
    fn encoded_len(&self) -> Result<usize, Error> {
        let (_, a, b) = self.parts();
        if a.len() > URI_MAX {
            return Err(Error::TooLarge {
                len: a.len() as u32,
                max: URI_MAX as u32,
            });
        }
        if b.len() > TAG_MAX {
            return Err(Error::TooLarge {
                len: b.len() as u32,
                max: TAG_MAX as u32,
            });
        }
        Ok(3 + a.len() + b.len())
    }

    /// Writes the encoding (length checked by `encoded_len`) into `out`.
    fn encode(&self, out: &mut [u8]) {
        let (kind, a, b) = self.parts();
        let mut at = 0;
        for chunk in [&[kind, a.len() as u8][..], a, &[b.len() as u8], b] {
            if let Some(dst) = out.get_mut(at..at + chunk.len()) {
                dst.copy_from_slice(chunk);
            }
            at += chunk.len();
        }
    }

    fn decode(bytes: &'a [u8]) -> Option<Self> {
        let (&kind, rest) = bytes.split_first()?;
        let (&alen, rest) = rest.split_first()?;
        let (a, rest) = rest.split_at_checked(alen as usize)?;
        let (&blen, rest) = rest.split_first()?;
        let (b, rest) = rest.split_at_checked(blen as usize)?;
        if !rest.is_empty() {
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

    fn encode(&self) -> [u8; BOOT_LEN] {
        let mut out = [0u8; BOOT_LEN];
        out[0] = self.state as u8;
        out[1..5].copy_from_slice(&self.step.to_le_bytes());
        out[5..9].copy_from_slice(&self.image_size.to_le_bytes());
        out[9..13].copy_from_slice(&self.version.to_le_bytes());
        out
    }

    fn decode(b: &[u8]) -> Option<Self> {
        if b.len() != BOOT_LEN {
            return None;
        }
        Some(BootRecord {
            state: BootState::from_u8(*b.first()?)?,
            step: le32(b, 1),
            image_size: le32(b, 5),
            version: le32(b, 9),
        })
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        v.copy_from_slice(s);
    }
    u32::from_le_bytes(v)
}

/// The journal's state in RAM, loaded by [`Journal::mount`]; every change is appended to flash
/// before the call returns.
#[derive(Debug, Clone)]
pub struct Journal {
    log: Log,
    session: u32,
    identity: [u8; IDENTITY_MAX],
    identity_len: usize,
    durable: u32,
    checkpoint: [u8; CHECKPOINT_MAX],
    checkpoint_len: usize,
    boot: BootRecord,
    min_version: u32,
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
    clean: bool,
    seq: u32,
}

/// Largest payload per kind (`KIND_IDENTITY..=KIND_SEAL`).
const KIND_MAX: [u16; 5] = [
    PAYLOAD_MAX as u16,
    8 + CHECKPOINT_MAX as u16,
    BOOT_LEN as u16,
    4,
    0,
];

/// CRC-32 register after a record followed by its own (inverted, little-endian) CRC.
const CRC_RESIDUE: u32 = 0xDEBB_20E3;

/// A whole record (largest payload), rounded up to the largest write granule.
const RECORD_BUF: usize =
    (HEADER + PAYLOAD_MAX + CRC_LEN).div_ceil(MAX_WRITE_SIZE) * MAX_WRITE_SIZE;

/// Whether a record with `seq` is newer than the newest of its kind so far (and makes it so).
fn newer(best: &mut Option<u32>, seq: u32) -> bool {
    let n = best.is_none_or(|b| seq > b);
    if n {
        *best = Some(seq);
    }
    n
}

impl Journal {
    /// Reads the journal from the state area of `layout`: the newest valid records win.
    pub fn mount<F: NorFlash>(flash: &mut F, layout: &Layout) -> Result<Self, Error> {
        let mut j = Journal {
            log: Log {
                area: layout.state(),
                bank: layout.bank_size(),
                banks: layout.banks(),
                write: layout.write_size(),
                cur_bank: 0,
                cur_off: 0,
                clean: true,
                seq: 0,
            },
            session: 0,
            identity: [0; IDENTITY_MAX],
            identity_len: 0,
            durable: 0,
            checkpoint: [0; CHECKPOINT_MAX],
            checkpoint_len: 0,
            boot: BootRecord::IDLE,
            min_version: 0,
        };
        // Sequence numbers of the newest identity, progress and boot records, whose contents
        // are taken as they are found; the session the newest progress record belongs to.
        let mut best = [None; 3];
        let mut prog_session = 0;
        // Sequence number of the newest record of all; its bank's end and seal.
        let mut newest = None;
        // The bank holding it (`u32::MAX`: none yet).
        let mut newest_bank = u32::MAX;
        let mut cur_end = 0;
        let mut cur_sealed = false;
        let bank = j.log.bank;
        let mut rec = [0u8; RECORD_BUF];
        for b in 0..j.log.banks {
            let base = j.log.area.offset + b * bank;
            let mut p = 0u32;
            let mut sealed = false;
            while p + (HEADER + CRC_LEN) as u32 <= bank {
                let (hdr, rest) = rec.split_at_mut(HEADER);
                layout::read(flash, base + p, hdr)?;
                let kind = hdr[0];
                let len = u16::from_le_bytes([hdr[2], hdr[3]]) as usize;
                let seq = le32(hdr, 4);
                let k = kind.wrapping_sub(KIND_IDENTITY) as usize;
                let total = (len + HEADER + CRC_LEN) as u32;
                let fits = KIND_MAX.get(k).is_some_and(|&m| len <= m as usize);
                if !fits || len > PAYLOAD_MAX || hdr[1] != 0 || total > bank - p {
                    break;
                }
                let tail = rest.get_mut(..len + CRC_LEN).unwrap_or_default();
                layout::read(flash, base + p + HEADER as u32, tail)?;
                // A good record followed by its CRC leaves the residue.
                let r = rec.get(..total as usize).unwrap_or_default();
                if crc32_update(0xFFFF_FFFF, r) != CRC_RESIDUE {
                    break;
                }
                let payload = r.get(HEADER..HEADER + len).unwrap_or_default();
                let after = |at: usize| payload.get(at..).unwrap_or_default();
                // Identity, progress and anti-rollback records start with a u32.
                let first = le32(payload, 0);
                let is_newer = best.get_mut(k).is_some_and(|s| newer(s, seq));
                match kind {
                    KIND_IDENTITY if is_newer => {
                        j.session = first;
                        // An empty identity (a reset) or a stale layout: no download to resume.
                        let id = after(4);
                        j.identity_len = match PackageIdentity::decode(id) {
                            Some(_) => copy(&mut j.identity, id),
                            None => 0,
                        };
                    }
                    KIND_PROGRESS if is_newer => {
                        prog_session = first;
                        j.durable = le32(payload, 4);
                        j.checkpoint_len = copy(&mut j.checkpoint, after(8));
                    }
                    KIND_BOOT if is_newer => {
                        j.boot = BootRecord::decode(payload).unwrap_or(BootRecord::IDLE);
                    }
                    KIND_MIN_VERSION => j.min_version = j.min_version.max(first),
                    KIND_SEAL => sealed = true,
                    _ => {}
                }
                if newer(&mut newest, seq) {
                    newest_bank = b;
                }
                p += j.log.round(total);
            }
            if newest_bank == b {
                cur_end = p;
                cur_sealed = sealed;
            }
        }
        // Progress counts only for the download session of the newest identity.
        if prog_session != j.session || j.identity_len == 0 {
            j.durable = 0;
            j.checkpoint_len = 0;
        }
        match newest {
            Some(seq) if cur_sealed => {
                j.log.seq = seq.wrapping_add(1);
                j.log.cur_bank = newest_bank;
                j.log.cur_off = cur_end;
                j.log.clean = j.log.erased_from(flash, cur_end)?;
            }
            Some(seq) => {
                // A rotation into that bank was cut before its seal: its records are copies of
                // state the previous bank still holds. Redo that rotation at the next append.
                j.log.seq = seq.wrapping_add(1);
                j.log.cur_bank = newest_bank.checked_sub(1).unwrap_or(j.log.banks - 1);
                j.log.clean = false;
            }
            None => {
                // Fresh state area: the first append rotates into bank 0.
                j.log.cur_bank = j.log.banks - 1;
                j.log.clean = false;
            }
        }
        Ok(j)
    }
}

/// Copies as much of `src` as fits into `dst`; returns the bytes copied.
fn copy(dst: &mut [u8], src: &[u8]) -> usize {
    let n = src.len().min(dst.len());
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
    n
}

impl Log {
    fn erased_from<F: NorFlash>(&self, flash: &mut F, from: u32) -> Result<bool, Error> {
        let base = self.area.offset + self.cur_bank * self.bank;
        let mut chunk = [0u8; 32];
        let mut p = from;
        while p < self.bank {
            let n = (self.bank - p).min(32) as usize;
            let c = chunk.get_mut(..n).ok_or(Error::InvalidState)?;
            layout::read(flash, base + p, c)?;
            if c.iter().any(|&b| b != ERASED_BYTE) {
                return Ok(false);
            }
            p += n as u32;
        }
        Ok(true)
    }
}

impl Journal {
    /// The package being downloaded, if any.
    pub fn identity(&self) -> Option<PackageIdentity<'_>> {
        if self.identity_len == 0 {
            return None;
        }
        PackageIdentity::decode(self.identity.get(..self.identity_len)?)
    }

    /// Number of the current download session (changes with every [`Journal::begin`]).
    pub fn session(&self) -> u32 {
        self.session
    }

    /// Bytes of the current download durable in the staging slot: the resume point and the
    /// value of /5/0/26500.
    pub fn durable(&self) -> u32 {
        self.durable
    }

    /// The checkpoint recorded with [`Journal::durable`] (empty if none).
    pub fn checkpoint(&self) -> &[u8] {
        self.checkpoint.get(..self.checkpoint_len).unwrap_or(&[])
    }

    /// The boot hand-off record.
    pub fn boot(&self) -> BootRecord {
        self.boot
    }

    /// The anti-rollback counter: the lowest firmware version the device accepts. It never
    /// decreases: it is the largest value given to [`Journal::raise_min_version`] or recorded as
    /// the version of a [`BootState::Confirmed`] boot record.
    pub fn min_version(&self) -> u32 {
        if self.boot.state == BootState::Confirmed {
            self.min_version.max(self.boot.version)
        } else {
            self.min_version
        }
    }

    /// Starts a new download session for `identity` at offset 0 (`None` forgets the download).
    pub fn begin<F: NorFlash>(
        &mut self,
        flash: &mut F,
        identity: Option<PackageIdentity<'_>>,
    ) -> Result<(), Error> {
        let len = match identity {
            Some(id) => id.encoded_len()?,
            None => 0,
        };
        // Rotate first: the snapshot must carry the old identity, not the new one.
        self.make_room(flash, 4 + len)?;
        if let Some(id) = identity {
            id.encode(&mut self.identity);
        }
        self.identity_len = len;
        let session = self.log.seq;
        self.session = session;
        self.durable = 0;
        self.checkpoint_len = 0;
        let ident = self.identity.get(..len).unwrap_or(&[]);
        self.log
            .put(flash, KIND_IDENTITY, &[&session.to_le_bytes(), ident])
    }

    /// Records that `durable` bytes of the current download are in flash, with the patcher's
    /// `checkpoint` (at most [`CHECKPOINT_MAX`] bytes) for that point.
    pub fn record_progress<F: NorFlash>(
        &mut self,
        flash: &mut F,
        durable: u32,
        checkpoint: &[u8],
    ) -> Result<(), Error> {
        if checkpoint.len() > CHECKPOINT_MAX {
            return Err(Error::TooLarge {
                len: checkpoint.len() as u32,
                max: CHECKPOINT_MAX as u32,
            });
        }
        if self.identity_len == 0 {
            return Err(Error::InvalidState);
        }
        self.make_room(flash, 8 + checkpoint.len())?;
        let parts: [&[u8]; 3] = [
            &self.session.to_le_bytes(),
            &durable.to_le_bytes(),
            checkpoint,
        ];
        self.log.put(flash, KIND_PROGRESS, &parts)?;
        self.durable = durable;
        self.checkpoint_len = copy(&mut self.checkpoint, checkpoint);
        Ok(())
    }

    /// Replaces the boot hand-off record.
    pub fn set_boot<F: NorFlash>(
        &mut self,
        flash: &mut F,
        record: BootRecord,
    ) -> Result<(), Error> {
        // A confirmed version stays the floor once its record is replaced: to flash first.
        let old = self.boot;
        if old.state == BootState::Confirmed && old.version > self.min_version {
            self.put_min_version(flash, old.version)?;
        }
        self.make_room(flash, BOOT_LEN)?;
        self.log.put(flash, KIND_BOOT, &[&record.encode()])?;
        self.boot = record;
        Ok(())
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

    /// Appends an anti-rollback record; `version` is at least the counter (`min_version()`).
    fn put_min_version<F: NorFlash>(&mut self, flash: &mut F, version: u32) -> Result<(), Error> {
        self.make_room(flash, 4)?;
        self.log
            .put(flash, KIND_MIN_VERSION, &[&version.to_le_bytes()])?;
        // A rotation in `make_room` may have folded a confirmed version in: never lower it.
        self.min_version = self.min_version.max(version);
        Ok(())
    }

    /// Rotates to a fresh bank unless the current one is clean and has room for a record with
    /// `len` payload bytes.
    fn make_room<F: NorFlash>(&mut self, flash: &mut F, len: usize) -> Result<(), Error> {
        let padded = self.log.padded(len);
        if !self.log.clean || padded > self.log.bank - self.log.cur_off {
            self.rotate(flash)?;
        }
        Ok(())
    }

    /// Moves to the next bank: erase it, then write a snapshot of the live state and a seal.
    fn rotate<F: NorFlash>(&mut self, flash: &mut F) -> Result<(), Error> {
        let log = &mut self.log;
        let next = match log.cur_bank + 1 {
            n if n < log.banks => n,
            _ => 0,
        };
        let from = log.area.offset + next * log.bank;
        log.clean = false;
        log.cur_bank = next;
        log.cur_off = 0;
        layout::erase(flash, from, from + log.bank)?;
        log.clean = true;
        let min = self.min_version();
        self.min_version = min;
        let log = &mut self.log;
        if min > 0 {
            log.put(flash, KIND_MIN_VERSION, &[&min.to_le_bytes()])?;
        }
        let session = self.session.to_le_bytes();
        let ident = self.identity.get(..self.identity_len).unwrap_or(&[]);
        log.put(flash, KIND_IDENTITY, &[&session, ident])?;
        if self.identity_len > 0 && (self.durable > 0 || self.checkpoint_len > 0) {
            let cp = self.checkpoint.get(..self.checkpoint_len).unwrap_or(&[]);
            log.put(
                flash,
                KIND_PROGRESS,
                &[&session, &self.durable.to_le_bytes(), cp],
            )?;
        }
        if self.boot != BootRecord::IDLE {
            log.put(flash, KIND_BOOT, &[&self.boot.encode()])?;
        }
        log.put(flash, KIND_SEAL, &[])
    }
}

impl Log {
    fn padded(&self, len: usize) -> u32 {
        let total = (HEADER + len + CRC_LEN) as u32;
        self.round(total)
    }

    /// `n` rounded up to the write granule (a power of two: no division).
    fn round(&self, n: u32) -> u32 {
        let m = self.write - 1;
        (n + m) & !m
    }

    /// Writes one record at the append point (which must have room), assembled in RAM and
    /// written in `MAX_WRITE_SIZE` pieces: a cut between them leaves a record whose CRC fails.
    fn put<F: NorFlash>(&mut self, flash: &mut F, kind: u8, parts: &[&[u8]]) -> Result<(), Error> {
        let mut len = 0usize;
        for p in parts {
            len += p.len();
        }
        let padded = self.padded(len);
        if len > PAYLOAD_MAX || padded > self.bank - self.cur_off {
            return Err(Error::TooLarge {
                len: len as u32,
                max: PAYLOAD_MAX as u32,
            });
        }
        let mut rec = [0; RECORD_BUF];
        // Zeroed as a whole (memclr4, which every image has), not around the header.
        let rec = core::hint::black_box(&mut rec);
        let seq = self.seq;
        let l = (len as u16).to_le_bytes();
        let s = seq.to_le_bytes();
        let mut at = HEADER;
        for p in parts {
            copy(rec.get_mut(at..).unwrap_or_default(), p);
            at += p.len();
        }
        copy(rec, &[kind, 0, l[0], l[1], s[0], s[1], s[2], s[3]]);
        // The parts fill exactly `len` bytes (checked above to fit).
        let end = HEADER + len;
        let crc = !crc32_update(0xFFFF_FFFF, rec.get(..end).unwrap_or_default());
        copy(rec.get_mut(end..).unwrap_or_default(), &crc.to_le_bytes());
        // Padding up to the write granule (copied: an 0xFF memset is not in every image).
        copy(rec.get_mut(end + CRC_LEN..).unwrap_or_default(), &ERASED);
        let at = self.area.offset + self.cur_bank * self.bank + self.cur_off;
        // Whatever happens to these writes, their words are used: never program them again.
        self.cur_off += padded;
        self.seq = seq.wrapping_add(1);
        self.clean = false;
        let mut done = 0;
        for piece in rec.chunks(MAX_WRITE_SIZE) {
            if done >= padded {
                break;
            }
            let n = (padded - done).min(MAX_WRITE_SIZE as u32) as usize;
            layout::write(flash, at + done, piece.get(..n).unwrap_or_default())?;
            done += n as u32;
        }
        self.clean = true;
        Ok(())
    }
}
