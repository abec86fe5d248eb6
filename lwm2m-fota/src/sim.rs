//! A simulated device for std: its flash is one `fota-storage` [`FileFlash`] file (active slot,
//! staging slot one sector larger, two journal banks) driven by `fota-storage`'s [`Storage`]:
//! the download goes into the staging slot with its progress (and the delta patcher's
//! checkpoint) in the journal, Execute marks the verified image pending and the next power-up
//! runs `fota-storage`'s bootloader swap. A device "loses power" by dropping its client and
//! restarts from what is in flash. Beside the flash, two files stand for what a real device
//! keeps in its own small areas: the Firmware Update record and, for a delta, the patch bytes
//! received since the patcher's last checkpoint (re-fed after a power cut).

use crate::client::{DeviceInfo, Platform};
use crate::image;
use crate::record::{RECORD_LEN, Record};
use crate::{Error, UpdateResult};
use fota_delta::{Checkpoint, ImageIoError, NewImage, Patcher};
use fota_storage::boot::{BootOutcome, boot};
use fota_storage::sim::FileFlash;
use fota_storage::{Layout, Manifest, PackageIdentity, Region, Storage};
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
/// Every push or pull is this one package slot: the journal's identity for resumption.
const IDENTITY: PackageIdentity<'static> = PackageIdentity::Push {
    id: b"lwm2m-fota/5/0",
};

/// A file-backed simulated device.
pub struct SimDevice {
    dir: PathBuf,
    storage: Storage<Flash>,
    capacity: u32,
    rng: u64,
    /// Readings reported in /3/0/9, /3/0/10 and /4/0/2.
    pub info: DeviceInfo,
    version: Vec<u8>,
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
    /// Creates a device in `dir` running `firmware` (an [`image`] built image): a new flash
    /// whose slots hold twice the image (at least 64 KiB), the image in the active slot.
    pub fn create(dir: &Path, firmware: &[u8]) -> Result<Self, Error> {
        fs::create_dir_all(dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        for f in [FLASH, RECORD, PACKAGE] {
            let _ = fs::remove_file(dir.join(f));
        }
        let slot = (firmware.len() as u32)
            .saturating_mul(2)
            .max(64 * 1024)
            .div_ceil(SECTOR);
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
        Self::open(dir)
    }

    /// Whether `dir` already holds a device's flash (else [`SimDevice::create`] one).
    pub fn is_provisioned(dir: &Path) -> bool {
        dir.join(FLASH).exists()
    }

    /// Powers the device up from `dir`: runs `fota-storage`'s bootloader (a pending image is
    /// swapped in), confirms the image on trial (the simulated firmware always starts), and
    /// reads the running version.
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
        let mut head = [0u8; image::HEADER_LEN];
        storage
            .read_active(0, &mut head)
            .map_err(|e| Error::Usage(format!("read active image: {e}")))?;
        let version = image::version(&head)
            .ok_or(Error::BadImage {
                what: "no image header",
            })?
            .to_vec();
        // A new seed at every boot: message IDs must not repeat across reboots.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = nanos ^ (dir.as_os_str().len() as u64) << 32 ^ u64::from(std::process::id());
        let checkpoint = Checkpoint::from_bytes(storage.checkpoint()).ok();
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
            version,
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

    /// The running image's version.
    pub fn version(&self) -> &[u8] {
        &self.version
    }

    /// The running image, read from the active slot.
    pub fn active_image(&mut self) -> Result<Vec<u8>, Error> {
        self.read_image(true)
    }

    fn read_image(&mut self, active: bool) -> Result<Vec<u8>, Error> {
        let mut head = [0u8; image::HEADER_LEN];
        let read = |s: &mut Storage<Flash>, off: u32, buf: &mut [u8]| {
            if active {
                s.read_active(off, buf)
            } else {
                s.read_staging(off, buf)
            }
        };
        read(&mut self.storage, 0, &mut head)
            .map_err(|e| Error::Usage(format!("read image: {e}")))?;
        let len = image::total_len(&head).ok_or(Error::BadImage {
            what: "no image header",
        })?;
        let mut out = vec![0u8; len];
        read(&mut self.storage, 0, &mut out)
            .map_err(|e| Error::Usage(format!("read image: {e}")))?;
        Ok(out)
    }

    /// Whether the package being received is a delta patch (from its first bytes as kept).
    fn is_delta(&self) -> bool {
        fs::read(self.dir.join(PACKAGE)).is_ok_and(|p| p.starts_with(fota_delta::MAGIC))
    }

    /// The old image for the patcher, read through `fota-storage`'s slot reader.
    fn old_image(&mut self) -> Result<Vec<u8>, UpdateResult> {
        if self.old.is_none() {
            self.old = Some(
                self.read_image(true)
                    .map_err(|_| UpdateResult::UpdateFailed)?,
            );
        }
        Ok(self.old.clone().unwrap_or_default())
    }

    /// Brings the patcher to package offset `upto`: after a reboot it resumes from the
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
}

impl Platform for SimDevice {
    fn load_record(&mut self) -> Option<Record> {
        let bytes = fs::read(self.dir.join(RECORD)).ok()?;
        Record::decode(bytes.as_slice().try_into().ok()?)
    }

    fn store_record(&mut self, record: &Record) -> bool {
        // Write then rename: a cut leaves the old or the new record, never a torn one.
        let tmp = self.dir.join("record.tmp");
        let bytes: [u8; RECORD_LEN] = record.encode();
        fs::write(&tmp, bytes).is_ok() && fs::rename(&tmp, self.dir.join(RECORD)).is_ok()
    }

    fn begin_package(&mut self, size: Option<u32>) -> Result<(), UpdateResult> {
        if size.is_some_and(|s| s > self.capacity) {
            return Err(UpdateResult::NotEnoughFlash);
        }
        let _ = fs::remove_file(self.dir.join(PACKAGE));
        self.patcher = None;
        self.checkpoint = None;
        // A new journal session; staging sectors are erased as the writer reaches them.
        self.storage.begin(IDENTITY).map_err(storage_error)
    }

    fn write_package(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        let end = offset
            .checked_add(data.len() as u32)
            .ok_or(UpdateResult::NotEnoughFlash)?;
        if end > self.capacity {
            return Err(UpdateResult::NotEnoughFlash);
        }
        if self.storage.resume(IDENTITY).is_none() {
            return Err(UpdateResult::ConnectionLost);
        }
        // The first bytes say whether this is a delta; they are kept to decide after a reboot.
        let mut pkg = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(self.dir.join(PACKAGE))
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        let delta = if offset == 0 {
            data.starts_with(fota_delta::MAGIC)
        } else {
            self.is_delta()
        };
        if !delta {
            if offset == 0 {
                pkg.write_all(data.get(..8).unwrap_or(data))
                    .map_err(|_| UpdateResult::NotEnoughFlash)?;
            }
            // Straight into staging; a block already in flash (the record lagged the journal
            // at a power cut) is skipped by write_at. Blocks are whole write granules, so
            // each block is durable and journalled before the client counts it.
            self.storage.write_at(offset, data).map_err(storage_error)?;
            return self.sync(None);
        }
        // A delta: keep the patch bytes (re-fed from the checkpoint after a cut) and patch
        // into staging as they arrive.
        self.patcher_at(offset)?;
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

    fn finish_package(&mut self, len: u32) -> Result<(), UpdateResult> {
        if self.is_delta() {
            self.patcher_at(len)?;
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
        let mut head = [0u8; image::HEADER_LEN];
        self.storage
            .read_staging(0, &mut head)
            .map_err(|_| UpdateResult::UnsupportedPackageType)?;
        match image::total_len(&head) {
            Some(n) if n as u64 == u64::from(image_len) => Ok(()),
            Some(_) => Err(UpdateResult::IntegrityFailure),
            None => Err(UpdateResult::UnsupportedPackageType),
        }
    }

    fn verify(&mut self) -> Result<(), UpdateResult> {
        // Hash what is in flash, not what was received.
        let staged = self
            .read_image(false)
            .map_err(|_| UpdateResult::IntegrityFailure)?;
        if image::verify(&staged) {
            Ok(())
        } else {
            Err(UpdateResult::IntegrityFailure)
        }
    }

    fn install(&mut self) -> Result<(), UpdateResult> {
        // fota-storage verifies the staging slot against a manifest (size, SHA-256 read back
        // from flash) and marks it pending; its bootloader swaps it in at the next power-up.
        // The image format has no manifest of its own: the one here describes the verified
        // image (version 0: this demo has no anti-rollback counter).
        let len = self.storage.stored_bytes();
        let digest = self.storage.staging_digest(len).map_err(storage_error)?;
        let manifest = Manifest {
            version: 0,
            image_size: len,
            payload_size: len,
            digest,
            base: None,
            delta: false,
            class: b"",
        };
        self.storage.mark_pending(&manifest).map_err(storage_error)
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
