//! Probe for the `storage` component: the slot writer and the progress journal on a flash
//! driver that reads opaque bytes (SHA-256 and Ed25519 are measured as their own components).

use fota_storage::embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};
use fota_storage::journal::{Journal, PackageIdentity};
use fota_storage::{Error, Layout, Region, SlotWriter};

/// A stand-in for a HAL flash driver: 8-byte words, 4 KiB sectors, contents the optimiser
/// cannot predict.
struct ProbeFlash;

impl ErrorType for ProbeFlash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for ProbeFlash {
    const READ_SIZE: usize = 1;

    #[inline(never)]
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let src = crate::input(512);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = src
                .get((offset as usize + i) % 512)
                .copied()
                .unwrap_or(0xFF);
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        core::hint::black_box(1 << 20)
    }
}

impl NorFlash for ProbeFlash {
    const WRITE_SIZE: usize = 8;
    const ERASE_SIZE: usize = 4096;

    #[inline(never)]
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        crate::keep((from, to));
        Ok(())
    }

    #[inline(never)]
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        crate::keep((offset, bytes.as_ptr(), bytes.len()));
        Ok(())
    }
}

/// The device's flash map, checked when the firmware is built (a bad map fails to compile).
const LAYOUT: Layout = match Layout::for_flash::<ProbeFlash>(
    1 << 20,
    Region::new(0x8000, 0x40000),
    Region::new(0x48000, 0x41000),
    Region::new(0x89000, 0x2000),
) {
    Ok(layout) => layout,
    Err(_) => panic!("bad flash layout"),
};

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    crate::keep(update().is_ok());
}

/// What a device does when a block of a download arrives: mount the journal, continue the
/// download or start it, write the block, make it durable and journal it.
fn update() -> Result<(), Error> {
    let mut flash = ProbeFlash;
    let layout = LAYOUT;
    let mut journal = Journal::mount(&mut flash, &layout)?;
    let data = crate::input(300);
    let uri = data.get(..40).unwrap_or(&[]);
    let identity = PackageIdentity::Pull { uri, etag: b"e" };
    if !journal.is_download_of(identity) {
        journal.begin(&mut flash, Some(identity))?;
    }
    let mut writer = SlotWriter::resume(
        &mut flash,
        &layout,
        layout.staging(),
        layout.max_image_size(),
        journal.durable(),
    )?;
    writer.write(&mut flash, data)?;
    writer.flush(&mut flash)?;
    journal.record_progress(&mut flash, writer.durable(), data.get(..16).unwrap_or(&[]))?;
    crate::keep(journal.durable());
    Ok(())
}
