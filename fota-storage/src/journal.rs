//! The progress journal in the state area: append-only, CRC-checked records of the whole state,
//! compacted by rotating banks, robust to torn writes and erases.
//!
//! # On flash (format 3)
//!
//! The state area is split into banks of whole sectors. A bank holds records, each starting at a
//! `WRITE_SIZE`-aligned offset and written with one flash write. Every record holds the whole
//! state:
//!
//! ```text
//! 0xA5 | format 0x03 | payload length u16 LE | sequence u32 LE | payload | CRC-32 LE of all before | 0xFF padding
//!
//! payload: session u32 | identity digest [8] | identity kind u8 (0 none, 1 pull, 2 push)
//!        | boot state u8 | 0 0 | boot step u32 | image size u32 | version u32
//!        | anti-rollback counter u32 | durable bytes u32 | checkpoint (0..=128 bytes)
//! ```
//!
//! Every operation changes the state in RAM and appends one record to the current bank. When
//! the bank has no room, or after a mount (the bytes after the last good record are not trusted:
//! a torn write may have left bits there), the next bank in the ring is erased first. Mounting
//! reads every bank front to back up to the first record that does not check and keeps the
//! record with the highest sequence number. A cut or torn write leaves a record whose CRC fails,
//! so the state is the one before or the one after the operation; a rotation erases a bank that
//! does not hold the newest record. A written word is never programmed again.
//!
//! The package identity is stored as a 64-bit check value (CRC-32 and CRC-32C of its kind,
//! lengths and bytes, [`IdentityDigest`]), so a record has a fixed size apart from the
//! checkpoint: 48 bytes without one. The anti-rollback counter is the counter field, or the
//! version of the boot record if that is confirmed and higher; a record that replaces a confirmed
//! boot record raises the counter to its version in the same write.

use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::layout::{Layout, Nor, Region};
use crate::{CRC32, CRC32C, ERASED, MAX_WRITE_SIZE, crc32_with};

/// Largest checkpoint blob a progress record holds.
pub const CHECKPOINT_MAX: usize = 128;
/// Largest Package URI of a pull identity (resource /5/0/1).
pub const URI_MAX: usize = 255;
/// Largest ETag of a pull identity or identity of a push download.
pub const TAG_MAX: usize = 32;

const HEADER: usize = 8;
const CRC_LEN: usize = 4;

/// On-flash format of the records (format 2 had one record per kind).
const FORMAT: u8 = 3;
/// The first two bytes of a record, as a little-endian number.
const MAGIC: u32 = 0xA5 | (FORMAT as u32) << 8;

// Offsets in the record (header included).
const O_SESSION: usize = HEADER;
const O_DIGEST: usize = O_SESSION + 4;
const O_KIND: usize = O_DIGEST + 8;
const O_BOOT: usize = O_KIND + 1;
const O_STEP: usize = O_BOOT + 3;
const O_SIZE: usize = O_STEP + 4;
const O_VERSION: usize = O_SIZE + 4;
const O_MIN: usize = O_VERSION + 4;
const O_DURABLE: usize = O_MIN + 4;
const O_CHECKPOINT: usize = O_DURABLE + 4;
/// Payload bytes before the checkpoint.
const FIXED: usize = O_CHECKPOINT - HEADER;
const PAYLOAD_MAX: usize = FIXED + CHECKPOINT_MAX;

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

    /// The 64-bit check value the journal stores for this identity.
    pub fn digest(&self) -> IdentityDigest {
        let (kind, a, b) = self.parts();
        // Kind and the first part's length make the split unambiguous.
        let head = [kind, a.len() as u8, b.len() as u8];
        let crc = |poly| {
            [&head[..], a, b]
                .into_iter()
                .fold(!0, |c, part| crc32_with(poly, c, part))
        };
        IdentityDigest((u64::from(crc(CRC32)) | u64::from(crc(CRC32C)) << 32).to_le_bytes())
    }
}

/// What the journal keeps of a [`PackageIdentity`]: CRC-32 and CRC-32C of its kind, lengths and
/// bytes (a check value, not a cryptographic hash: an identity that collides resumes the wrong
/// bytes, which the image digest then rejects). Showing the Package URI (/5/0/1) is the
/// caller's job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentityDigest(pub [u8; 8]);

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

/// Copies as much of `src` as fits into `dst`.
fn copy(dst: &mut [u8], src: &[u8]) {
    // A byte loop: no length check that could panic, and the fields are short.
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// The journal's state in RAM, loaded by [`Journal::mount`]; every change is appended to flash
/// before the call returns.
#[derive(Debug, Clone)]
pub struct Journal {
    log: Log,
    /// The newest record: header, payload and room for its CRC and padding.
    rec: [u8; RECORD_BUF],
    /// Its payload length.
    len: usize,
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
    /// Reads the journal from the state area of `layout`: the newest record that checks.
    pub fn mount<F: NorFlash>(flash: &mut F, layout: &Layout) -> Result<Self, Error> {
        Self::mount_dyn(flash, layout)
    }

    fn mount_dyn(flash: &mut dyn Nor, layout: &Layout) -> Result<Self, Error> {
        let banks = layout.banks();
        let mut j = Journal {
            log: Log {
                area: layout.state(),
                bank: layout.bank_size(),
                banks,
                write: layout.write_size(),
                // Fresh state area: the first append rotates into bank 0. (A layout has at
                // least two banks.)
                cur_bank: banks.wrapping_sub(1),
                cur_off: 0,
                // Whatever follows the last good record (a torn write, stray bits) is not
                // trusted: the first append after a mount starts a fresh bank.
                clean: false,
                seq: 0,
            },
            rec: [0; RECORD_BUF],
            len: FIXED,
        };
        let bank = j.log.bank;
        let mut buf = [0u8; RECORD_BUF];
        for b in 0..banks {
            let base = j.log.area.offset + b * bank;
            let mut p = 0u32;
            // One read per record: as much as the largest record, or the rest of the bank.
            while let Some(r) = buf.get_mut(..(bank - p).min(RECORD_BUF as u32) as usize) {
                flash.read_at(base + p, r)?;
                // magic | format | length: one word.
                let head = le32(r, 0);
                let len = (head >> 16) as usize;
                let total = HEADER + len + CRC_LEN;
                // A good record followed by its CRC leaves the residue.
                if head & 0xFFFF != MAGIC
                    || !(FIXED..=PAYLOAD_MAX).contains(&len)
                    || crc32_with(CRC32, !0, r.get(..total).unwrap_or(&[1])) != CRC_RESIDUE
                {
                    break;
                }
                let seq = le32(r, 4);
                if seq >= j.log.seq {
                    j.rec = buf;
                    j.len = len;
                    j.log.seq = seq.wrapping_add(1);
                    j.log.cur_bank = b;
                }
                p += j.log.round(total as u32);
            }
        }
        // The next append rotates into the bank after the newest record's: whatever that holds
        // is older, or an interrupted rotation.
        Ok(j)
    }

    fn u32_at(&self, at: usize) -> u32 {
        le32(&self.rec, at)
    }

    fn set_u32(&mut self, at: usize, v: u32) {
        copy(self.rec.get_mut(at..).unwrap_or_default(), &v.to_le_bytes());
    }

    /// Whether a download is recorded (begun with an identity, not forgotten).
    fn downloading(&self) -> bool {
        self.rec.get(O_KIND).is_some_and(|&k| k != 0)
    }

    /// The package being downloaded (the check value [`Journal::begin`] stored), if any.
    pub fn identity(&self) -> Option<IdentityDigest> {
        let d = self.rec.get(O_DIGEST..O_KIND)?;
        if !self.downloading() {
            return None;
        }
        let mut out = [0u8; 8];
        copy(&mut out, d);
        Some(IdentityDigest(out))
    }

    /// Whether the download recorded is of `identity`.
    pub fn is_download_of(&self, identity: PackageIdentity<'_>) -> bool {
        self.downloading() && self.rec.get(O_DIGEST..O_KIND) == Some(&identity.digest().0[..])
    }

    /// Number of the current download session (changes with every [`Journal::begin`]).
    pub fn session(&self) -> u32 {
        self.u32_at(O_SESSION)
    }

    /// Bytes of the current download durable in the staging slot: the resume point and the
    /// value of /5/0/26500.
    pub fn durable(&self) -> u32 {
        self.u32_at(O_DURABLE)
    }

    /// The checkpoint recorded with [`Journal::durable`] (empty if none).
    pub fn checkpoint(&self) -> &[u8] {
        self.rec
            .get(O_CHECKPOINT..HEADER + self.len)
            .unwrap_or_default()
    }

    /// The boot hand-off record.
    pub fn boot(&self) -> BootRecord {
        match self.rec.get(O_BOOT).copied().and_then(BootState::from_u8) {
            Some(state) => BootRecord {
                state,
                step: self.u32_at(O_STEP),
                image_size: self.u32_at(O_SIZE),
                version: self.u32_at(O_VERSION),
            },
            None => BootRecord::IDLE,
        }
    }

    /// The anti-rollback counter: the lowest firmware version the device accepts. It never
    /// decreases: it is the largest value given to [`Journal::raise_min_version`] or recorded as
    /// the version of a [`BootState::Confirmed`] boot record.
    pub fn min_version(&self) -> u32 {
        let min = self.u32_at(O_MIN);
        if self.rec.get(O_BOOT) == Some(&(BootState::Confirmed as u8)) {
            min.max(self.u32_at(O_VERSION))
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
        let (kind, digest) = match identity {
            Some(id) => {
                let (kind, a, b) = id.parts();
                fits(a.len(), URI_MAX)?;
                fits(b.len(), TAG_MAX)?;
                (kind, id.digest().0)
            }
            None => (0, [0; 8]),
        };
        // The session is the number of a record: unique, and never the one of an older begin.
        self.set_u32(O_SESSION, self.log.seq);
        copy(self.rec.get_mut(O_DIGEST..).unwrap_or_default(), &digest);
        if let Some(k) = self.rec.get_mut(O_KIND) {
            *k = kind;
        }
        self.progress(flash, 0, &[])
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
        self.progress(flash, durable, checkpoint)
    }

    /// Sets the progress (`checkpoint` checked by the caller to fit) and appends the state.
    fn progress(
        &mut self,
        flash: &mut dyn Nor,
        durable: u32,
        checkpoint: &[u8],
    ) -> Result<(), Error> {
        self.set_u32(O_DURABLE, durable);
        copy(
            self.rec.get_mut(O_CHECKPOINT..).unwrap_or_default(),
            checkpoint,
        );
        self.len = FIXED + checkpoint.len();
        self.commit(flash)
    }

    /// Replaces the boot hand-off record.
    pub fn set_boot<F: NorFlash>(
        &mut self,
        flash: &mut F,
        record: BootRecord,
    ) -> Result<(), Error> {
        // A confirmed version stays the floor once its record is replaced: same write.
        let min = self.min_version();
        self.set_u32(O_MIN, min);
        if let Some(s) = self.rec.get_mut(O_BOOT) {
            *s = record.state as u8;
        }
        self.set_u32(O_STEP, record.step);
        self.set_u32(O_SIZE, record.image_size);
        self.set_u32(O_VERSION, record.version);
        self.commit(flash)
    }

    /// Raises the anti-rollback counter to `version` (never lowers it).
    pub fn raise_min_version<F: NorFlash>(
        &mut self,
        flash: &mut F,
        version: u32,
    ) -> Result<(), Error> {
        if version <= self.min_version() {
            return Ok(());
        }
        self.set_u32(O_MIN, version);
        self.commit(flash)
    }

    /// Appends the state as one record: to the current bank if it is clean and has room, else
    /// to the next bank, erased first.
    fn commit(&mut self, flash: &mut dyn Nor) -> Result<(), Error> {
        let log = &mut self.log;
        let end = HEADER + self.len;
        let padded = log.round((end + CRC_LEN) as u32);
        let (mut bank, mut off) = (log.cur_bank, log.cur_off);
        if !log.clean || padded > log.bank - off {
            // Until a record lands there, the bank before stays the current one: a failed
            // erase or write is retried in the same bank, never in the one with the newest
            // record.
            bank = match bank + 1 {
                n if n < log.banks => n,
                _ => 0,
            };
            off = 0;
            log.clean = false;
            let from = log.area.offset + bank * log.bank;
            flash.erase_range(from, from + log.bank)?;
        }
        let head = MAGIC | (self.len as u32) << 16;
        copy(
            &mut self.rec,
            &(u64::from(head) | u64::from(log.seq) << 32).to_le_bytes(),
        );
        let crc = !crc32_with(CRC32, !0, self.rec.get(..end).unwrap_or_default());
        copy(
            self.rec.get_mut(end..).unwrap_or_default(),
            &crc.to_le_bytes(),
        );
        // Padding up to the write granule (copied: an 0xFF memset is not in every image).
        copy(
            self.rec.get_mut(end + CRC_LEN..).unwrap_or_default(),
            &ERASED,
        );
        let at = log.area.offset + bank * log.bank + off;
        // Whatever happens to this write, its words and its sequence number are used: a
        // failed write is followed by a rotation, and no two records share a number.
        log.seq = log.seq.wrapping_add(1);
        log.clean = false;
        flash.write_at(at, self.rec.get(..padded as usize).unwrap_or_default())?;
        let log = &mut self.log;
        log.cur_bank = bank;
        log.cur_off = off + padded;
        log.clean = true;
        Ok(())
    }
}

impl Log {
    /// `n` rounded up to the write granule (a power of two: no division).
    fn round(&self, n: u32) -> u32 {
        let m = self.write - 1;
        (n + m) & !m
    }
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::sim::{Fault, SimFlash};

    type Flash = SimFlash<8, 256>;
    const STATE: usize = 1280;

    /// Two banks of 1 KiB.
    fn layout(f: &Flash) -> Layout {
        Layout::new(
            f,
            Region::new(0, 512),
            Region::new(512, 768),
            Region::new(STATE as u32, 2048),
        )
        .unwrap()
    }

    #[test]
    fn record_format() {
        let mut f = Flash::new(13);
        let l = layout(&f);
        let mut j = Journal::mount(&mut f, &l).unwrap();
        let id = PackageIdentity::Push { id: b"x" };
        j.begin(&mut f, Some(id)).unwrap();
        j.record_progress(&mut f, 0x0102_0304, b"cp").unwrap();
        let r = &f.as_bytes()[STATE..STATE + 112];
        assert_eq!(&r[..8], &[0xA5, 3, 36, 0, 0, 0, 0, 0]);
        assert_eq!(&r[12..20], &id.digest().0);
        assert_eq!(r[20], 2);
        assert_eq!(!crc32_with(CRC32, !0, &r[..44]), le32(r, 44));
        // The progress record: the whole state again, sequence 1, the checkpoint at the end.
        assert_eq!(&r[48..56], &[0xA5, 3, 38, 0, 1, 0, 0, 0]);
        assert_eq!(&r[60..68], &id.digest().0);
        assert_eq!(le32(r, 88), 0x0102_0304);
        assert_eq!(&r[92..94], b"cp");
        assert_eq!(!crc32_with(CRC32, !0, &r[48..94]), le32(r, 94));
        assert_eq!(&r[98..112], &[0xFF; 14]);
        assert!(j.is_download_of(id));
        assert!(!j.is_download_of(PackageIdentity::Pull {
            uri: b"",
            etag: b"x"
        }));
    }

    /// A write or erase that fails without a reboot (the caller goes on) is retried in a fresh
    /// bank, never in the one holding the newest good record.
    #[test]
    fn failed_writes_never_erase_the_newest_record() {
        let mut f = Flash::new(13);
        let l = layout(&f);
        let mut j = Journal::mount(&mut f, &l).unwrap();
        j.begin(&mut f, Some(PackageIdentity::Push { id: b"x" }))
            .unwrap();
        j.record_progress(&mut f, 10, &[]).unwrap();
        // An append that fails: the rest of bank 0 is no longer trusted.
        f.set_fault(Some(Fault::CutBefore(f.ops())));
        assert!(j.record_progress(&mut f, 20, &[]).is_err());
        f.power_on();
        // The rotation into bank 1: erased, then its write torn.
        f.set_fault(Some(Fault::TornAt(f.ops() + 1)));
        assert!(j.record_progress(&mut f, 30, &[]).is_err());
        f.power_on();
        // Bank 0 holds the newest record: the retry goes to bank 1 again. Cut after its erase.
        f.set_fault(Some(Fault::CutBefore(f.ops() + 1)));
        assert!(j.record_progress(&mut f, 40, &[]).is_err());
        f.power_on();
        assert_eq!(Journal::mount(&mut f, &l).unwrap().durable(), 10);
        j.record_progress(&mut f, 50, &[]).unwrap();
        assert_eq!(Journal::mount(&mut f, &l).unwrap().durable(), 50);
    }
}
