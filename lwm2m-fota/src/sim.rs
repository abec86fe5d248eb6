//! A simulated device for std: its flash is one `fota-storage` [`FileFlash`] file (active slot,
//! staging slot one sector larger, two journal banks) driven by `fota-storage`'s [`Storage`]:
//! the download goes into the staging slot with its progress (and the delta patcher's
//! checkpoint) in the journal, Execute marks the verified image pending and the next power-up
//! runs `fota-storage`'s bootloader swap. A device "loses power" by dropping its client and
//! restarts from what is in flash.
//!
//! Packages are signed: a `fota-storage` [`Manifest`] with its Ed25519 signature, then the
//! payload (the new image itself, or a `fota-delta` patch). The device holds the vendor's
//! public key and its class id (provisioned at [`SimDevice::create_with`]). As soon as the
//! manifest has arrived, before any payload byte is written, the device checks the signature
//! (Result 5), class and anti-rollback counter (Result 6), size (Result 2) and for a delta the
//! digest of the running image the patch applies to (Result 5). Execute Update checks the
//! signature and policy again and hashes the staging slot as read back from flash against the
//! manifest's digest (Result 5). Verification lives here, in the [`Platform`]: the client core
//! stays crypto-free.
//!
//! Beside the flash, small files stand for what a real device keeps in its own small areas:
//! the Firmware Update record, the manifest received, the running and pending image's version
//! and size, the trust anchor, and for a delta the patch bytes received since the patcher's
//! last checkpoint (re-fed after a power cut). Images are raw bytes: a real firmware file
//! works as the image itself; its version is the manifest's.

use crate::client::{DeviceInfo, Platform};
use crate::image;
use crate::record::{RECORD_LEN, Record};
use crate::server::{PackageSigner, version_string};
use crate::{Error, UpdateResult};
use fota_delta::{Checkpoint, ImageIoError, NewImage, Patcher};
use fota_storage::boot::{BootOutcome, boot};
use fota_storage::sim::FileFlash;
use fota_storage::{Layout, Manifest, PackageIdentity, Policy, Region, SignedManifest, Storage};
use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::vec::Vec;
#[allow(unused_imports)]
use std::{format, vec};

/// The simulated NOR flash: 8-byte program granule, 4 KiB sectors.
pub type Flash = FileFlash<8, 4096>;
const SECTOR: u32 = 4096;
const FLASH: &str = "flash.bin";
const RECORD: &str = "record.bin";
const PACKAGE: &str = "package.bin";
const MANIFEST: &str = "manifest.bin";
const FIRMWARE: &str = "firmware.bin";
const PENDING: &str = "pending.bin";
const TRUST: &str = "trust.bin";
/// Every push or pull is this one package slot: the journal's identity for resumption.
const IDENTITY: PackageIdentity<'static> = PackageIdentity::Push {
    id: b"lwm2m-fota/5/0",
};
/// Manifest bytes before the optional base digest and the class id.
const MANIFEST_FIXED: usize = 52;
/// The payload starts at a multiple of this in the package: the smallest CoAP block, so every
/// block's payload part starts on a flash write granule (8) and is durable when written.
pub const HEADER_ALIGN: usize = 16;

/// The running (or pending) image: version (the manifest's, monotonic) and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ImageInfo {
    version: u32,
    size: u32,
}

impl ImageInfo {
    fn load(path: &Path) -> Option<Self> {
        let b = fs::read(path).ok()?;
        let b: [u8; 8] = b.as_slice().try_into().ok()?;
        Some(ImageInfo {
            version: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            size: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        })
    }

    fn store(&self, path: &Path) -> Result<(), Error> {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&self.version.to_le_bytes());
        b[4..].copy_from_slice(&self.size.to_le_bytes());
        write_atomic(path, &b)
    }
}

/// Write then rename: a cut leaves the old or the new file, never a torn one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes)
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| Error::io(format!("write {}", path.display()), e))
}

/// A file-backed simulated device.
pub struct SimDevice {
    dir: PathBuf,
    storage: Storage<Flash>,
    capacity: u32,
    rng: u64,
    /// Readings reported in /3/0/9, /3/0/10 and /4/0/2.
    pub info: DeviceInfo,
    running: ImageInfo,
    version: Vec<u8>,
    public_key: [u8; 32],
    class: Vec<u8>,
    /// The signed manifest received so far (complete once its length is reached).
    manifest: Vec<u8>,
    patcher: Option<Box<Patcher>>,
    /// The checkpoint last journalled (its new-image offset is at most the durable count).
    checkpoint: Option<Checkpoint>,
    /// New-image offset of the patcher's next output byte.
    patch_out: u32,
    old: Option<Vec<u8>>,
}

impl core::fmt::Debug for SimDevice {
    // `fota_delta::Patcher` has no Debug: show whether one is running.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimDevice")
            .field("dir", &self.dir)
            .field("capacity", &self.capacity)
            .field("info", &self.info)
            .field("version", &String::from_utf8_lossy(&self.version))
            .field("patching", &self.patcher.is_some())
            .finish()
    }
}

/// The staging slot as the patcher's sink: `Storage::write_at` from the patcher's new-image
/// offset, so bytes re-produced after a resume that are already in flash are skipped.
struct StagingSink<'a> {
    storage: &'a mut Storage<Flash>,
    offset: u32,
}

impl NewImage for StagingSink<'_> {
    fn write(&mut self, data: &[u8]) -> Result<(), ImageIoError> {
        self.storage
            .write_at(self.offset, data)
            .map_err(|_| ImageIoError)?;
        self.offset = self
            .offset
            .checked_add(data.len() as u32)
            .ok_or(ImageIoError)?;
        Ok(())
    }
}

fn delta_error(e: fota_delta::Error) -> UpdateResult {
    match e {
        fota_delta::Error::BadMagic
        | fota_delta::Error::UnsupportedVersion { .. }
        | fota_delta::Error::UnsupportedCompression { .. }
        | fota_delta::Error::BadHeader { .. } => UpdateResult::UnsupportedPackageType,
        fota_delta::Error::NewWrite { .. } => UpdateResult::NotEnoughFlash,
        _ => UpdateResult::IntegrityFailure,
    }
}

fn storage_error(e: fota_storage::Error) -> UpdateResult {
    UpdateResult::from_u8(e.update_result()).unwrap_or(UpdateResult::UpdateFailed)
}

/// Length of the package header (signed manifest, signature, zero padding to
/// [`HEADER_ALIGN`]) announced by its first 8 bytes. Anything but a manifest in front of the
/// package is an integrity failure: this device takes signed packages only.
fn manifest_len(head: &[u8]) -> Result<Option<usize>, UpdateResult> {
    let n = head.len().min(4);
    if head.get(..n) != fota_storage::manifest::MAGIC.get(..n) {
        return Err(UpdateResult::IntegrityFailure);
    }
    let (Some(&flags), Some(&class_len)) = (head.get(5), head.get(6)) else {
        return Ok(None);
    };
    let base = if flags & 1 != 0 { 36 } else { 0 };
    let signed =
        MANIFEST_FIXED + base + usize::from(class_len) + fota_storage::manifest::SIGNATURE_LEN;
    Ok(Some(signed.next_multiple_of(HEADER_ALIGN)))
}

/// Active, staging (one sector more: the swap's spare) and two journal banks for a flash of
/// `sectors` sectors.
fn layout(flash: &Flash, sectors: u32) -> Result<Layout, Error> {
    let slot = sectors.saturating_sub(3) / 2 * SECTOR;
    Layout::new(
        flash,
        Region::new(0, slot),
        Region::new(slot, slot + SECTOR),
        Region::new(2 * slot + SECTOR, 2 * SECTOR),
    )
    .map_err(|e| Error::Usage(format!("flash layout: {e}")))
}

impl SimDevice {
    /// Creates a device in `dir` running `firmware` and trusting the demo signer
    /// ([`PackageSigner::demo`]). The running version is the one in an [`image`]-format
    /// header, else 1.0.0. See [`SimDevice::create_with`].
    pub fn create(dir: &Path, firmware: &[u8]) -> Result<Self, Error> {
        let version = image::version(firmware)
            .and_then(|v| core::str::from_utf8(v).ok())
            .and_then(crate::server::parse_version)
            .unwrap_or(0x01_00_00);
        let signer = PackageSigner::demo();
        Self::create_with(dir, firmware, version, &signer.public_key(), signer.class())
    }

    /// Creates a device in `dir` running `firmware` (raw bytes) at `version`, provisioned
    /// with the vendor's Ed25519 `public_key` and its `class` id: a new flash whose slots
    /// hold twice the image (at least 64 KiB), the image in the active slot.
    pub fn create_with(
        dir: &Path,
        firmware: &[u8],
        version: u32,
        public_key: &[u8; 32],
        class: &[u8],
    ) -> Result<Self, Error> {
        fs::create_dir_all(dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        for f in [FLASH, RECORD, PACKAGE, MANIFEST, FIRMWARE, PENDING, TRUST] {
            let _ = fs::remove_file(dir.join(f));
        }
        if class.len() > fota_storage::manifest::CLASS_MAX {
            return Err(Error::Usage("class id longer than 32 bytes".into()));
        }
        let size = u32::try_from(firmware.len())
            .map_err(|_| Error::Usage("firmware larger than 4 GiB".into()))?;
        let slot = size.saturating_mul(2).max(64 * 1024).div_ceil(SECTOR);
        let sectors = 2 * slot + 3;
        let mut flash =
            Flash::open(&dir.join(FLASH), sectors as usize).map_err(|e| Error::io("flash", e))?;
        // The factory image: raw flash writes in whole granules (erased padding).
        let mut padded = firmware.to_vec();
        padded.resize(firmware.len().div_ceil(8) * 8, 0xff);
        {
            use fota_storage::embedded_storage::nor_flash::NorFlash;
            flash
                .write(0, &padded)
                .map_err(|e| Error::Usage(format!("write factory image: {e:?}")))?;
        }
        drop(flash);
        let mut trust = public_key.to_vec();
        trust.extend_from_slice(class);
        write_atomic(&dir.join(TRUST), &trust)?;
        ImageInfo { version, size }.store(&dir.join(FIRMWARE))?;
        Self::open(dir)
    }

    /// Whether `dir` already holds a device's flash (else [`SimDevice::create`] one).
    pub fn is_provisioned(dir: &Path) -> bool {
        dir.join(FLASH).exists()
    }

    /// Powers the device up from `dir`: runs `fota-storage`'s bootloader (a pending image is
    /// swapped in), confirms the image on trial (the simulated firmware always starts; the
    /// anti-rollback counter rises to its version), and reads the running version.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let path = dir.join(FLASH);
        let len = fs::metadata(&path)
            .map_err(|e| Error::io("flash", e))?
            .len();
        let sectors = (len / u64::from(SECTOR)) as u32;
        let mut flash = Flash::open(&path, sectors as usize).map_err(|e| Error::io("flash", e))?;
        let layout = layout(&flash, sectors)?;
        let mut buf = vec![0u8; SECTOR as usize];
        let outcome = boot(&mut flash, &layout, &mut buf)
            .map_err(|e| Error::Usage(format!("bootloader: {e}")))?;
        let mut storage =
            Storage::mount(flash, layout).map_err(|e| Error::Usage(format!("mount: {e}")))?;
        if outcome == BootOutcome::Trial {
            storage
                .confirm()
                .map_err(|e| Error::Usage(format!("confirm: {e}")))?;
        }
        let mut running = ImageInfo::load(&dir.join(FIRMWARE)).ok_or(Error::BadImage {
            what: "no running image record (firmware.bin)",
        })?;
        // The image marked pending at Execute runs now: it becomes the running one (also
        // when the power failed between the confirmation and this promotion).
        if let Some(p) = ImageInfo::load(&dir.join(PENDING)) {
            if outcome == BootOutcome::Trial
                || (storage.min_version() >= p.version && p.version > running.version)
            {
                p.store(&dir.join(FIRMWARE))?;
                running = p;
            }
            let _ = fs::remove_file(dir.join(PENDING));
        }
        let trust = fs::read(dir.join(TRUST)).unwrap_or_default();
        let (public_key, class) = match trust.split_first_chunk::<32>() {
            Some((k, c)) => (*k, c.to_vec()),
            None => {
                let s = PackageSigner::demo();
                (s.public_key(), s.class().to_vec())
            }
        };
        // A new seed at every boot: message IDs must not repeat across reboots.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = nanos ^ (dir.as_os_str().len() as u64) << 32 ^ u64::from(std::process::id());
        let checkpoint = Checkpoint::from_bytes(storage.checkpoint()).ok();
        let manifest = fs::read(dir.join(MANIFEST)).unwrap_or_default();
        Ok(SimDevice {
            dir: dir.to_path_buf(),
            capacity: storage.capacity(),
            storage,
            rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            info: DeviceInfo {
                battery: 87,
                free_memory_kib: 48,
                signal_dbm: -85,
            },
            version: version_string(running.version).into_bytes(),
            running,
            public_key,
            class,
            manifest,
            patcher: None,
            checkpoint,
            patch_out: 0,
            old: None,
        })
    }

    /// Sets the staging capacity (result 2 beyond it; never more than the slot).
    pub fn with_capacity(mut self, bytes: u32) -> Self {
        self.capacity = bytes.min(self.storage.capacity());
        self
    }

    /// The running image's version as /3/0/3 shows it (`major.minor.patch`).
    pub fn version(&self) -> &[u8] {
        &self.version
    }

    /// The running image's version number (the anti-rollback scale).
    pub fn version_number(&self) -> u32 {
        self.running.version
    }

    /// The running image, read from the active slot.
    pub fn active_image(&mut self) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; self.running.size as usize];
        self.storage
            .read_active(0, &mut out)
            .map_err(|e| Error::Usage(format!("read image: {e}")))?;
        Ok(out)
    }

    /// The complete manifest received, parsed; `None` while it is incomplete.
    fn parsed(&self) -> Option<SignedManifest<'_>> {
        let len = manifest_len(&self.manifest).ok()??;
        if self.manifest.len() < len {
            return None;
        }
        SignedManifest::parse(&self.manifest).ok().map(|(m, _)| m)
    }

    /// Length of the complete manifest in front of the payload.
    fn header_len(&self) -> Option<u32> {
        let len = manifest_len(&self.manifest).ok()??;
        (self.manifest.len() >= len).then_some(len as u32)
    }

    fn is_delta(&self) -> bool {
        self.parsed().is_some_and(|m| m.manifest.delta)
    }

    /// Signature (Result 5), class and anti-rollback counter (6), sizes (2), and for a delta
    /// the digest of the running image it applies to (5): before anything is written, and
    /// again at Execute.
    fn check_manifest(&mut self) -> Result<Manifest<'static>, UpdateResult> {
        let (m, used) =
            SignedManifest::parse(&self.manifest).map_err(|_| UpdateResult::IntegrityFailure)?;
        // The padding is not signed: it must be zeros.
        if self
            .manifest
            .get(used..)
            .unwrap_or(&[])
            .iter()
            .any(|b| *b != 0)
        {
            return Err(UpdateResult::IntegrityFailure);
        }
        m.verify_signature(&self.public_key)
            .map_err(storage_error)?;
        let policy = Policy {
            class: &self.class,
            // The counter, and never below what runs now.
            min_version: self.storage.min_version().max(self.running.version),
        };
        m.manifest
            .check(&policy, self.capacity)
            .map_err(storage_error)?;
        if m.manifest.payload_size > self.capacity {
            return Err(UpdateResult::NotEnoughFlash);
        }
        let base = m.manifest.base;
        if m.manifest.delta {
            let (size, digest) = base.ok_or(UpdateResult::IntegrityFailure)?;
            if size != self.running.size
                || self.storage.active_digest(size).map_err(storage_error)? != digest
            {
                return Err(UpdateResult::IntegrityFailure);
            }
        }
        let m = m.manifest;
        Ok(Manifest {
            version: m.version,
            image_size: m.image_size,
            payload_size: m.payload_size,
            digest: m.digest,
            base: m.base,
            delta: m.delta,
            class: &[],
        })
    }

    /// The old image for the patcher, read through `fota-storage`'s slot reader.
    fn old_image(&mut self) -> Result<Vec<u8>, UpdateResult> {
        if self.old.is_none() {
            self.old = Some(
                self.active_image()
                    .map_err(|_| UpdateResult::UpdateFailed)?,
            );
        }
        Ok(self.old.clone().unwrap_or_default())
    }

    /// Brings the patcher to payload offset `upto`: after a reboot it resumes from the
    /// journalled checkpoint and re-feeds the patch bytes received since then.
    fn patcher_at(&mut self, upto: u32) -> Result<(), UpdateResult> {
        if self.patcher.is_some() {
            return Ok(());
        }
        let (patcher, from, new_off) = match self.checkpoint {
            Some(cp) if cp.patch_offset() <= upto => {
                (Patcher::resume(&cp), cp.patch_offset(), cp.new_offset())
            }
            _ => (Patcher::new(), 0, 0),
        };
        let mut patcher = Box::new(patcher);
        let package = if upto == 0 {
            Vec::new()
        } else {
            fs::read(self.dir.join(PACKAGE)).map_err(|_| UpdateResult::ConnectionLost)?
        };
        let redo = package
            .get(from as usize..upto as usize)
            .ok_or(UpdateResult::ConnectionLost)?
            .to_vec();
        let old = self.old_image()?;
        let mut src: &[u8] = &old;
        let mut sink = StagingSink {
            storage: &mut self.storage,
            offset: new_off,
        };
        patcher
            .feed(&redo, &mut src, &mut sink)
            .map_err(delta_error)?;
        self.patch_out = sink.offset;
        self.patcher = Some(patcher);
        Ok(())
    }

    /// Journals the durable staging bytes with the newest checkpoint that lies within them.
    fn sync(&mut self, fresh: Option<Checkpoint>) -> Result<(), UpdateResult> {
        if let Some(cp) = fresh
            && cp.new_offset() <= self.storage.flushed_bytes()
        {
            self.checkpoint = Some(cp);
        }
        let bytes = self.checkpoint.map(|c| c.to_bytes());
        self.storage
            .sync(bytes.as_ref().map_or(&[][..], |b| &b[..]))
            .map_err(storage_error)?;
        Ok(())
    }

    /// Takes manifest bytes at package `offset`; returns the rest of `data` (payload).
    fn take_manifest<'d>(&mut self, offset: u32, data: &'d [u8]) -> Result<&'d [u8], UpdateResult> {
        let have = self.manifest.len();
        let skip = have.saturating_sub(offset as usize);
        let mut data = data.get(skip..).unwrap_or(&[]);
        while !data.is_empty() {
            // Eight bytes tell the header's length.
            let want = manifest_len(&self.manifest)?.unwrap_or(8);
            if self.manifest.len() >= want {
                break;
            }
            let n = (want - self.manifest.len()).min(data.len());
            self.manifest
                .extend_from_slice(data.get(..n).unwrap_or(&[]));
            data = data.get(n..).unwrap_or(&[]);
            manifest_len(&self.manifest)?;
        }
        if self.header_len().is_some() {
            // Complete: nothing is written before the manifest passes.
            self.check_manifest()?;
        }
        write_atomic(&self.dir.join(MANIFEST), &self.manifest)
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        Ok(data)
    }

    /// Stores payload bytes at payload `offset` (staging, or through the patcher).
    fn write_payload(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        if data.is_empty() {
            return Ok(());
        }
        let end = offset
            .checked_add(data.len() as u32)
            .ok_or(UpdateResult::NotEnoughFlash)?;
        if end > self.capacity {
            return Err(UpdateResult::NotEnoughFlash);
        }
        if self.storage.resume(IDENTITY).is_none() {
            return Err(UpdateResult::ConnectionLost);
        }
        if !self.is_delta() {
            // Straight into staging; a block already in flash (the record lagged the journal
            // at a power cut) is skipped by write_at. Blocks are whole write granules, so
            // each block is durable and journalled before the client counts it.
            self.storage.write_at(offset, data).map_err(storage_error)?;
            return self.sync(None);
        }
        // A delta: keep the patch bytes (re-fed from the checkpoint after a cut) and patch
        // into staging as they arrive.
        self.patcher_at(offset)?;
        let mut pkg = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(self.dir.join(PACKAGE))
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        pkg.set_len(u64::from(offset))
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        pkg.seek(SeekFrom::Start(u64::from(offset)))
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        pkg.write_all(data)
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        let mut patcher = self.patcher.take().ok_or(UpdateResult::UpdateFailed)?;
        let old = self.old_image()?;
        let mut src: &[u8] = &old;
        let progress = {
            let mut sink = StagingSink {
                storage: &mut self.storage,
                offset: self.patch_out,
            };
            let p = patcher
                .feed(data, &mut src, &mut sink)
                .map_err(delta_error)?;
            self.patch_out = sink.offset;
            p
        };
        self.patcher = Some(patcher);
        self.sync(progress.checkpoint)
    }
}

impl Platform for SimDevice {
    fn load_record(&mut self) -> Option<Record> {
        let bytes = fs::read(self.dir.join(RECORD)).ok()?;
        Record::decode(bytes.as_slice().try_into().ok()?)
    }

    fn store_record(&mut self, record: &Record) -> bool {
        let bytes: [u8; RECORD_LEN] = record.encode();
        write_atomic(&self.dir.join(RECORD), &bytes).is_ok()
    }

    fn begin_package(&mut self, size: Option<u32>) -> Result<(), UpdateResult> {
        if size.is_some_and(|s| s > self.capacity) {
            return Err(UpdateResult::NotEnoughFlash);
        }
        for f in [PACKAGE, MANIFEST, PENDING] {
            let _ = fs::remove_file(self.dir.join(f));
        }
        self.manifest.clear();
        self.patcher = None;
        self.checkpoint = None;
        self.patch_out = 0;
        // A new journal session; staging sectors are erased as the writer reaches them.
        self.storage.begin(IDENTITY).map_err(storage_error)
    }

    fn write_package(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        match self.header_len() {
            Some(h) if offset >= h => self.write_payload(offset - h, data),
            _ => {
                let rest = self.take_manifest(offset, data)?;
                match self.header_len() {
                    Some(h) => {
                        let at = (offset as usize + data.len() - rest.len()) as u32;
                        self.write_payload(at.saturating_sub(h), rest)
                    }
                    None => Ok(()),
                }
            }
        }
    }

    fn finish_package(&mut self, len: u32) -> Result<(), UpdateResult> {
        let header = self.header_len().ok_or(UpdateResult::IntegrityFailure)?;
        let m = self.check_manifest()?;
        let payload = len
            .checked_sub(header)
            .ok_or(UpdateResult::IntegrityFailure)?;
        if payload != m.payload_size {
            return Err(UpdateResult::IntegrityFailure);
        }
        if m.delta {
            self.patcher_at(payload)?;
            let mut patcher = self.patcher.take().ok_or(UpdateResult::UpdateFailed)?;
            let old = self.old_image()?;
            let mut src: &[u8] = &old;
            let mut sink = StagingSink {
                storage: &mut self.storage,
                offset: self.patch_out,
            };
            patcher.finish(&mut src, &mut sink).map_err(delta_error)?;
        }
        let image_len = self.storage.finish().map_err(storage_error)?;
        if image_len != m.image_size {
            return Err(UpdateResult::IntegrityFailure);
        }
        Ok(())
    }

    fn verify(&mut self) -> Result<(), UpdateResult> {
        // The manifest again (signature, class, counter, base), then the image as read back
        // from flash against its digest: what is installed, not what was received.
        let m = self.check_manifest()?;
        self.storage.verify(&m).map_err(storage_error)
    }

    fn install(&mut self) -> Result<(), UpdateResult> {
        // fota-storage verifies the staging slot against the manifest once more and marks it
        // pending; its bootloader swaps it in at the next power-up, and the confirmation
        // raises the anti-rollback counter to the manifest's version.
        let m = self.check_manifest()?;
        self.storage.mark_pending(&m).map_err(storage_error)?;
        ImageInfo {
            version: m.version,
            size: m.image_size,
        }
        .store(&self.dir.join(PENDING))
        .map_err(|_| UpdateResult::UpdateFailed)
    }

    fn firmware_version(&mut self, out: &mut [u8]) -> usize {
        let n = self.version.len().min(out.len());
        out[..n].copy_from_slice(&self.version[..n]);
        n
    }

    fn device_info(&mut self) -> DeviceInfo {
        self.info
    }

    fn capacity(&self) -> u32 {
        self.capacity
    }

    fn random(&mut self) -> u32 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 16) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::parse_version;

    fn old() -> Vec<u8> {
        image::generate_body(3, 20_000)
    }

    fn new() -> Vec<u8> {
        image::evolve_body(&old(), 4)
    }

    /// Begin, write `package` in `block`-byte pieces, finish.
    fn download(dev: &mut SimDevice, package: &[u8], block: usize) -> Result<(), UpdateResult> {
        dev.begin_package(Some(package.len() as u32))?;
        for (i, chunk) in package.chunks(block).enumerate() {
            dev.write_package((i * block) as u32, chunk)?;
        }
        dev.finish_package(package.len() as u32)
    }

    fn install(dev: &mut SimDevice, dir: &Path) -> SimDevice {
        dev.verify().unwrap();
        dev.install().unwrap();
        SimDevice::open(dir).unwrap()
    }

    #[test]
    fn manifest_in_small_blocks_survives_a_power_cut_in_the_middle() {
        let dir = tempfile::tempdir().unwrap();
        let mut dev = SimDevice::create(dir.path(), &old()).unwrap();
        assert_eq!(dev.version(), b"1.0.0");
        let package = PackageSigner::demo()
            .sign_image(parse_version("2.0.0").unwrap(), &new())
            .unwrap();
        dev.begin_package(Some(package.len() as u32)).unwrap();
        for i in 0..3 {
            dev.write_package(i * 16, &package[i as usize * 16..][..16])
                .unwrap();
        }
        // Power cut with 48 manifest bytes received; then the rest in 16-byte blocks.
        drop(dev);
        let mut dev = SimDevice::open(dir.path()).unwrap();
        for (i, chunk) in package.chunks(16).enumerate().skip(3) {
            dev.write_package(i as u32 * 16, chunk).unwrap();
        }
        dev.finish_package(package.len() as u32).unwrap();
        let mut dev = install(&mut dev, dir.path());
        assert_eq!(dev.version(), b"2.0.0");
        assert_eq!(dev.active_image().unwrap(), new());
    }

    #[test]
    fn unsigned_or_badly_padded_packages_are_integrity_failures() {
        let dir = tempfile::tempdir().unwrap();
        let mut dev = SimDevice::create(dir.path(), &old()).unwrap();
        assert_eq!(
            download(&mut dev, &new(), 1024),
            Err(UpdateResult::IntegrityFailure)
        );
        let mut package = PackageSigner::demo()
            .sign_image(0x0002_0000, &new())
            .unwrap();
        let payload_at = package.len() - new().len();
        package[payload_at - 1] = 1;
        assert_eq!(
            download(&mut dev, &package, 1024),
            Err(UpdateResult::IntegrityFailure)
        );
        assert_eq!(dev.storage.written_bytes(), 0, "nothing written");
    }

    #[test]
    fn delta_for_another_base_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut dev = SimDevice::create(dir.path(), &old()).unwrap();
        let other = image::generate_body(9, 20_000);
        let patch = fota_delta::diff(&other, &new());
        let package = PackageSigner::demo()
            .sign_delta(0x0002_0000, &other, &new(), &patch)
            .unwrap();
        assert_eq!(
            download(&mut dev, &package, 512),
            Err(UpdateResult::IntegrityFailure)
        );
        assert_eq!(dev.storage.written_bytes(), 0);
        // The right base goes through, and patches into staging.
        let patch = fota_delta::diff(&old(), &new());
        let package = PackageSigner::demo()
            .sign_delta(0x0002_0000, &old(), &new(), &patch)
            .unwrap();
        download(&mut dev, &package, 512).unwrap();
        let mut dev = install(&mut dev, dir.path());
        assert_eq!(dev.active_image().unwrap(), new());
    }

    #[test]
    fn the_anti_rollback_counter_follows_the_installed_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut dev = SimDevice::create(dir.path(), &old()).unwrap();
        let signer = PackageSigner::demo();
        let v = |t| parse_version(t).unwrap();
        download(
            &mut dev,
            &signer.sign_image(v("3.0.0"), &new()).unwrap(),
            1024,
        )
        .unwrap();
        let mut dev = install(&mut dev, dir.path());
        assert_eq!(dev.version_number(), v("3.0.0"));
        for older in ["2.9.9", "1.0.0"] {
            assert_eq!(
                download(
                    &mut dev,
                    &signer.sign_image(v(older), &old()).unwrap(),
                    1024
                ),
                Err(UpdateResult::UnsupportedPackageType),
                "{older}"
            );
        }
        // Another class, or a package larger than the slot.
        let foreign = PackageSigner::demo().with_class(b"acme");
        assert_eq!(
            download(
                &mut dev,
                &foreign.sign_image(v("4.0.0"), &old()).unwrap(),
                1024
            ),
            Err(UpdateResult::UnsupportedPackageType)
        );
        let huge = vec![0u8; dev.capacity() as usize + 1];
        assert_eq!(
            download(
                &mut dev,
                &signer.sign_image(v("4.0.0"), &huge).unwrap(),
                1024
            ),
            Err(UpdateResult::NotEnoughFlash)
        );
        // The same version again is allowed (a reinstall).
        download(
            &mut dev,
            &signer.sign_image(v("3.0.0"), &old()).unwrap(),
            1024,
        )
        .unwrap();
    }
}
