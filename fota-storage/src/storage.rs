//! [`Storage`]: the device functions of the seeds in one place — erase the download area, write
//! bytes, count stored bytes, check validity, start the update, confirm.

use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::journal::{BootRecord, BootState, IdentityDigest, Journal, PackageIdentity};
use crate::layout::{Layout, Region};
use crate::manifest::{self, Digest32, Manifest, Policy};
use crate::writer::{SlotReader, SlotWriter};

/// Firmware storage of a device: owns the flash, the [`Layout`], the [`Journal`] and the
/// staging slot's [`SlotWriter`].
///
/// A download: [`begin`](Storage::begin) (or [`resume`](Storage::resume) after a reboot) →
/// [`write`](Storage::write)… with [`sync`](Storage::sync) now and then →
/// [`finish`](Storage::finish) → [`mark_pending`](Storage::mark_pending) (verifies what is in
/// flash) → reboot into [`boot::boot`](crate::boot::boot) → [`confirm`](Storage::confirm).
#[derive(Debug)]
pub struct Storage<F> {
    flash: F,
    layout: Layout,
    journal: Journal,
    writer: SlotWriter,
}

impl<F: NorFlash> Storage<F> {
    /// Reads the journal and positions the writer at the durable offset of the download it
    /// records (if any).
    pub fn mount(mut flash: F, layout: Layout) -> Result<Self, Error> {
        let journal = Journal::mount(&mut flash, &layout)?;
        let cap = layout.max_image_size();
        let writer = if journal.identity().is_some() {
            SlotWriter::resume(
                &mut flash,
                &layout,
                layout.staging(),
                cap,
                journal.durable(),
            )?
        } else {
            SlotWriter::new(&layout, layout.staging(), cap)
        };
        Ok(Storage {
            flash,
            layout,
            journal,
            writer,
        })
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The journal (identity, checkpoint, boot record, anti-rollback counter).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The flash, e.g. to read the active image.
    pub fn flash_mut(&mut self) -> &mut F {
        &mut self.flash
    }

    /// Gives the flash back.
    pub fn release(self) -> F {
        self.flash
    }

    /// Bytes of the download durable in flash and journalled: the resume point, /5/0/26500.
    pub fn stored_bytes(&self) -> u32 {
        self.journal.durable()
    }

    /// Bytes of the download in flash: what the next [`Storage::sync`] journals (a checkpoint
    /// given to it must describe this offset).
    pub fn flushed_bytes(&self) -> u32 {
        self.writer.durable()
    }

    /// Bytes accepted by [`Storage::write`] so far (some may still be buffered in RAM).
    pub fn written_bytes(&self) -> u32 {
        self.writer.position()
    }

    /// The package being downloaded, as the check value [`Storage::begin`] recorded
    /// (compare with [`PackageIdentity::digest`]).
    pub fn identity(&self) -> Option<IdentityDigest> {
        self.journal.identity()
    }

    /// The checkpoint recorded with [`Storage::stored_bytes`].
    pub fn checkpoint(&self) -> &[u8] {
        self.journal.checkpoint()
    }

    /// The boot hand-off record.
    pub fn boot_record(&self) -> BootRecord {
        self.journal.boot()
    }

    /// The anti-rollback counter.
    pub fn min_version(&self) -> u32 {
        self.journal.min_version()
    }

    /// Largest image the device takes (a larger one is Update Result 2).
    pub fn capacity(&self) -> u32 {
        self.layout.max_image_size()
    }

    fn may_download(&self) -> Result<(), Error> {
        match self.journal.boot().state {
            // Staging holds the old image (or is being swapped): downloading would destroy
            // the way back.
            BootState::Swapping | BootState::Testing | BootState::Reverting => {
                Err(Error::InvalidState)
            }
            _ => Ok(()),
        }
    }

    /// Starts a new download of `identity` at offset 0. A pending (not yet booted) update is
    /// dropped. Staging sectors are erased as they are reached.
    pub fn begin(&mut self, identity: PackageIdentity<'_>) -> Result<(), Error> {
        self.may_download()?;
        if self.journal.boot().state == BootState::Pending {
            self.journal.set_boot(&mut self.flash, BootRecord::IDLE)?;
        }
        self.journal.begin(&mut self.flash, Some(identity))?;
        self.writer = SlotWriter::new(&self.layout, self.layout.staging(), self.capacity());
        Ok(())
    }

    /// Continues the recorded download if it is of `identity`: returns the offset of the next
    /// byte wanted (the durable count). `None` if the journal records another package or none
    /// (call [`Storage::begin`]).
    pub fn resume(&mut self, identity: PackageIdentity<'_>) -> Option<u32> {
        if self.may_download().is_err() || !self.journal.is_download_of(identity) {
            return None;
        }
        Some(self.writer.position())
    }

    /// Forgets the download (cancel, or a reset by an empty Package URI).
    pub fn cancel(&mut self) -> Result<(), Error> {
        self.may_download()?;
        if self.journal.boot().state == BootState::Pending {
            self.journal.set_boot(&mut self.flash, BootRecord::IDLE)?;
        }
        self.journal.begin(&mut self.flash, None)?;
        self.writer = SlotWriter::new(&self.layout, self.layout.staging(), self.capacity());
        Ok(())
    }

    /// Erases the whole download area now (otherwise sectors are erased as they are reached).
    pub fn erase_staging(&mut self) -> Result<(), Error> {
        self.may_download()?;
        self.writer.erase_all(&mut self.flash)
    }

    /// Appends `data` to the download. Past the capacity: [`Error::OutOfSpace`] (result 2).
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.journal.identity().is_none() {
            return Err(Error::InvalidState);
        }
        self.writer.write(&mut self.flash, data)
    }

    /// Writes `data` that starts at download `offset`: bytes already written are skipped (a
    /// retransmitted block), a gap is [`Error::OutOfOrder`].
    pub fn write_at(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        let pos = self.writer.position();
        if offset > pos {
            return Err(Error::OutOfOrder {
                offset,
                expected: pos,
            });
        }
        let skip = (pos - offset) as usize;
        self.write(data.get(skip..).unwrap_or(&[]))
    }

    /// Journals the bytes now durable in flash with the patcher's `checkpoint` for that offset
    /// (empty for a plain download); returns the durable count. Bytes still buffered (less than
    /// one write granule) are not counted and will be asked for again after a power cut.
    pub fn sync(&mut self, checkpoint: &[u8]) -> Result<u32, Error> {
        let durable = self.writer.durable();
        if durable != self.journal.durable() || checkpoint != self.journal.checkpoint() {
            self.journal
                .record_progress(&mut self.flash, durable, checkpoint)?;
        }
        Ok(durable)
    }

    /// Writes the bytes still buffered (less than one write granule, padded with `0xFF`) to
    /// flash, so that [`Storage::flushed_bytes`] is every byte written so far; returns it. A
    /// [`Storage::sync`] then journals it. The download may go on: the padded word is
    /// programmed again with the next bytes (NOR only clears bits).
    pub fn flush(&mut self) -> Result<u32, Error> {
        if self.journal.identity().is_none() {
            return Err(Error::InvalidState);
        }
        self.writer.flush(&mut self.flash)
    }

    /// Ends the download: writes the buffered tail and journals the final size.
    pub fn finish(&mut self) -> Result<u32, Error> {
        if self.journal.identity().is_none() {
            return Err(Error::InvalidState);
        }
        self.writer.flush(&mut self.flash)?;
        self.sync(&[])
    }

    /// Checks a manifest before anything is written: vendor/class, anti-rollback counter,
    /// size, and for a delta the digest of the active image it applies to.
    pub fn check_manifest(&mut self, manifest: &Manifest<'_>, class: &[u8]) -> Result<(), Error> {
        let policy = Policy {
            class,
            min_version: self.min_version(),
        };
        manifest.check(&policy, self.capacity())?;
        if let Some((size, digest)) = manifest.base
            && (size > self.layout.active().size
                || manifest::digest_region(&mut self.flash, self.layout.active(), size)? != digest)
        {
            return Err(Error::BaseMismatch);
        }
        Ok(())
    }

    /// SHA-256 of the first `len` bytes of the staging slot, read back from flash.
    pub fn staging_digest(&mut self, len: u32) -> Result<Digest32, Error> {
        manifest::digest_region(&mut self.flash, self.layout.staging(), len)
    }

    /// SHA-256 of the first `len` bytes of the active slot.
    pub fn active_digest(&mut self, len: u32) -> Result<Digest32, Error> {
        manifest::digest_region(&mut self.flash, self.layout.active(), len)
    }

    /// Checks the downloaded image in flash against `manifest`: complete, right size, right
    /// digest (else [`Error::DigestMismatch`], Update Result 5).
    pub fn verify(&mut self, manifest: &Manifest<'_>) -> Result<(), Error> {
        if self.writer.position() != manifest.image_size
            || self.journal.durable() != manifest.image_size
        {
            return Err(Error::DigestMismatch);
        }
        manifest::verify_image(&mut self.flash, self.layout.staging(), manifest)
    }

    /// Verifies the staging image and marks it pending: the next boot swaps it in (Execute
    /// Update). The manifest must already have passed [`Storage::check_manifest`] and its
    /// signature check.
    pub fn mark_pending(&mut self, manifest: &Manifest<'_>) -> Result<(), Error> {
        self.may_download()?;
        if manifest.version < self.min_version() {
            return Err(Error::Rollback {
                version: manifest.version,
                minimum: self.min_version(),
            });
        }
        self.verify(manifest)?;
        self.journal.set_boot(
            &mut self.flash,
            BootRecord {
                state: BootState::Pending,
                step: 0,
                image_size: manifest.image_size,
                version: manifest.version,
            },
        )
    }

    /// Marks the downloaded image pending without a manifest (an unsigned package whose
    /// integrity the caller checked, e.g. against a digest of its own): the next boot swaps it in.
    /// The image is the whole download, every byte journalled (after [`Storage::finish`]); its
    /// version is the anti-rollback counter, which therefore does not move.
    pub fn mark_pending_unsigned(&mut self) -> Result<(), Error> {
        self.may_download()?;
        let size = self.journal.durable();
        if self.journal.identity().is_none() || size == 0 || self.writer.position() != size {
            return Err(Error::InvalidState);
        }
        let version = self.min_version();
        self.journal.set_boot(
            &mut self.flash,
            BootRecord {
                state: BootState::Pending,
                step: 0,
                image_size: size,
                version,
            },
        )
    }

    /// The application confirms the image on trial: the update is final and the anti-rollback
    /// counter rises to its version. The download record is dropped.
    pub fn confirm(&mut self) -> Result<(), Error> {
        let rec = self.journal.boot();
        match rec.state {
            BootState::Testing => {}
            BootState::Confirmed => return Ok(()),
            _ => return Err(Error::InvalidState),
        }
        self.journal.set_boot(
            &mut self.flash,
            BootRecord {
                state: BootState::Confirmed,
                step: 0,
                ..rec
            },
        )?;
        self.journal
            .raise_min_version(&mut self.flash, rec.version)?;
        self.journal.begin(&mut self.flash, None)?;
        self.writer = SlotWriter::new(&self.layout, self.layout.staging(), self.capacity());
        Ok(())
    }

    /// Reads the active image (the delta patcher's old image) at `offset`.
    pub fn read_active(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
        SlotReader::new(self.layout.active()).read(&mut self.flash, offset, buf)
    }

    /// Reads the staging slot at `offset`.
    pub fn read_staging(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
        SlotReader::new(self.layout.staging()).read(&mut self.flash, offset, buf)
    }

    /// The active slot.
    pub fn active(&self) -> Region {
        self.layout.active()
    }
}
