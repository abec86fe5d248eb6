//! A simulated device for std: its flash is a directory (the active image, the staging slot, the
//! persisted record, the bootloader's pending mark), so a device "loses power" by dropping its
//! client and restarts from what is on disk.

use crate::client::{DeviceInfo, Platform};
use crate::image;
use crate::record::{RECORD_LEN, Record};
use crate::{Error, UpdateResult};
use fota_delta::{Checkpoint, ImageIoError, NewImage, Patcher};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::vec::Vec;
#[allow(unused_imports)]
use std::{format, vec};

const ACTIVE: &str = "active.bin";
const STAGING: &str = "staging.bin";
const RECORD: &str = "record.bin";
const PENDING: &str = "pending";
const PACKAGE: &str = "package.bin";
const CHECKPOINT: &str = "patch.checkpoint";

/// A file-backed simulated device.
pub struct SimDevice {
    dir: PathBuf,
    capacity: u32,
    rng: u64,
    /// Readings reported in /3/0/9, /3/0/10 and /4/0/2.
    pub info: DeviceInfo,
    version: Vec<u8>,
    patcher: Option<Box<Patcher>>,
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

/// The staging slot as the patcher's sink: appends.
struct StagingSink(File);

impl NewImage for StagingSink {
    fn write(&mut self, data: &[u8]) -> Result<(), ImageIoError> {
        self.0.write_all(data).map_err(|_| ImageIoError)
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

impl SimDevice {
    /// Creates a device in `dir` running `firmware` (an [`image`] built image).
    pub fn create(dir: &Path, firmware: &[u8]) -> Result<Self, Error> {
        fs::create_dir_all(dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        fs::write(dir.join(ACTIVE), firmware).map_err(|e| Error::io("write active image", e))?;
        for f in [STAGING, RECORD, PENDING, PACKAGE, CHECKPOINT] {
            let _ = fs::remove_file(dir.join(f));
        }
        Self::open(dir)
    }

    /// Powers the device up from `dir`: runs the simulated bootloader (a pending staged image
    /// becomes the active one) and reads the running version.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        if dir.join(PENDING).exists() {
            fs::copy(dir.join(STAGING), dir.join(ACTIVE))
                .map_err(|e| Error::io("bootloader copy", e))?;
            fs::remove_file(dir.join(PENDING)).map_err(|e| Error::io("bootloader clear", e))?;
        }
        let mut head = [0u8; image::HEADER_LEN];
        let mut f = File::open(dir.join(ACTIVE)).map_err(|e| Error::io("open active image", e))?;
        f.read_exact(&mut head)
            .map_err(|e| Error::io("read active image", e))?;
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
        Ok(SimDevice {
            dir: dir.to_path_buf(),
            capacity: 4 << 20,
            rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            info: DeviceInfo {
                battery: 87,
                free_memory_kib: 48,
                signal_dbm: -85,
            },
            version,
            patcher: None,
            old: None,
        })
    }

    /// Sets the staging capacity (result 2 beyond it).
    pub fn with_capacity(mut self, bytes: u32) -> Self {
        self.capacity = bytes;
        self
    }

    /// The running image's version.
    pub fn version(&self) -> &[u8] {
        &self.version
    }

    /// The running image, read from flash.
    pub fn active_image(&self) -> Result<Vec<u8>, Error> {
        fs::read(self.dir.join(ACTIVE)).map_err(|e| Error::io("read active image", e))
    }

    /// Whether the package being received is a delta patch (from its first bytes in flash).
    fn is_delta(&self) -> bool {
        let mut head = [0u8; 6];
        File::open(self.dir.join(PACKAGE))
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
            && &head == fota_delta::MAGIC
    }

    fn old_image(&mut self) -> Result<&[u8], UpdateResult> {
        if self.old.is_none() {
            self.old =
                Some(fs::read(self.dir.join(ACTIVE)).map_err(|_| UpdateResult::UpdateFailed)?);
        }
        Ok(self.old.as_deref().unwrap_or(&[]))
    }

    /// Brings the patcher to package offset `upto`: after a reboot it resumes from the last
    /// checkpoint (staging cut back to it) and re-feeds the stored patch bytes since then.
    fn patcher_at(&mut self, upto: u32) -> Result<(), UpdateResult> {
        if self.patcher.is_some() {
            return Ok(());
        }
        let cp = fs::read(self.dir.join(CHECKPOINT))
            .ok()
            .and_then(|b| Checkpoint::from_bytes(&b).ok());
        let (patcher, from, new_len) = match cp {
            Some(cp) if cp.patch_offset() <= upto => {
                (Patcher::resume(&cp), cp.patch_offset(), cp.new_offset())
            }
            _ => (Patcher::new(), 0, 0),
        };
        let mut patcher = Box::new(patcher);
        let staging = self
            .staging(true)
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        staging
            .set_len(u64::from(new_len))
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        let package = if upto == 0 {
            Vec::new()
        } else {
            fs::read(self.dir.join(PACKAGE)).map_err(|_| UpdateResult::ConnectionLost)?
        };
        let redo = package
            .get(from as usize..upto as usize)
            .ok_or(UpdateResult::ConnectionLost)?
            .to_vec();
        let mut sink = StagingSink(staging);
        let old = self.old_image()?;
        let mut src: &[u8] = old;
        patcher
            .feed(&redo, &mut src, &mut sink)
            .map_err(delta_error)?;
        self.patcher = Some(patcher);
        Ok(())
    }

    fn staging(&self, append: bool) -> std::io::Result<File> {
        OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(self.dir.join(STAGING))
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
        for f in [PENDING, PACKAGE, CHECKPOINT] {
            let _ = fs::remove_file(self.dir.join(f));
        }
        self.patcher = None;
        self.staging(false)
            .map(|_| ())
            .map_err(|_| UpdateResult::NotEnoughFlash)
    }

    fn write_package(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        let end = offset
            .checked_add(data.len() as u32)
            .ok_or(UpdateResult::NotEnoughFlash)?;
        if end > self.capacity {
            return Err(UpdateResult::NotEnoughFlash);
        }
        let delta = if offset == 0 {
            data.starts_with(fota_delta::MAGIC)
        } else {
            self.is_delta()
        };
        if !delta {
            let mut f = self
                .staging(true)
                .map_err(|_| UpdateResult::NotEnoughFlash)?;
            // Bytes past `offset` are from a write the record never acknowledged: drop them.
            f.set_len(u64::from(offset))
                .map_err(|_| UpdateResult::NotEnoughFlash)?;
            f.seek(SeekFrom::Start(u64::from(offset)))
                .map_err(|_| UpdateResult::NotEnoughFlash)?;
            return f.write_all(data).map_err(|_| UpdateResult::NotEnoughFlash);
        }
        // A delta: keep the patch (the resume point) and patch into staging as it arrives.
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
        let staging = self
            .staging(true)
            .map_err(|_| UpdateResult::NotEnoughFlash)?;
        let mut sink = StagingSink(staging);
        let mut patcher = self.patcher.take().ok_or(UpdateResult::UpdateFailed)?;
        let old = self.old_image()?;
        let mut src: &[u8] = old;
        let progress = patcher
            .feed(data, &mut src, &mut sink)
            .map_err(delta_error)?;
        if let Some(cp) = progress.checkpoint {
            let tmp = self.dir.join("checkpoint.tmp");
            let _ = fs::write(&tmp, cp.to_bytes())
                .and_then(|()| fs::rename(&tmp, self.dir.join(CHECKPOINT)));
        }
        self.patcher = Some(patcher);
        Ok(())
    }

    fn finish_package(&mut self, len: u32) -> Result<(), UpdateResult> {
        let mut image_len = u64::from(len);
        if self.is_delta() {
            self.patcher_at(len)?;
            let staging = self
                .staging(true)
                .map_err(|_| UpdateResult::NotEnoughFlash)?;
            let mut sink = StagingSink(staging);
            let mut patcher = self.patcher.take().ok_or(UpdateResult::UpdateFailed)?;
            let old = self.old_image()?;
            let mut src: &[u8] = old;
            patcher.finish(&mut src, &mut sink).map_err(delta_error)?;
            image_len = fs::metadata(self.dir.join(STAGING))
                .map_err(|_| UpdateResult::IntegrityFailure)?
                .len();
        }
        let mut head = [0u8; image::HEADER_LEN];
        let mut f =
            File::open(self.dir.join(STAGING)).map_err(|_| UpdateResult::UnsupportedPackageType)?;
        f.read_exact(&mut head)
            .map_err(|_| UpdateResult::UnsupportedPackageType)?;
        match image::total_len(&head) {
            Some(n) if n as u64 == image_len => Ok(()),
            Some(_) => Err(UpdateResult::IntegrityFailure),
            None => Err(UpdateResult::UnsupportedPackageType),
        }
    }

    fn verify(&mut self) -> Result<(), UpdateResult> {
        // Hash what is in flash, not what was received.
        let staged =
            fs::read(self.dir.join(STAGING)).map_err(|_| UpdateResult::IntegrityFailure)?;
        if image::verify(&staged) {
            Ok(())
        } else {
            Err(UpdateResult::IntegrityFailure)
        }
    }

    fn install(&mut self) -> Result<(), UpdateResult> {
        fs::write(self.dir.join(PENDING), b"1").map_err(|_| UpdateResult::UpdateFailed)
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
