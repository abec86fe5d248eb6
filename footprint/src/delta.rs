//! Probe for the `delta` component: the streaming patcher with its range decoder, fed a patch
//! in blocks, reading the old image at random offsets and writing the new one forward; plus a
//! checkpoint written into a buffer and an in-place restore from its bytes.
//!
//! The patcher's RAM ([`fota_delta::PATCHER_RAM`], asserted at compile time to be at most
//! 12 KiB) lives where the caller puts it: on the stack here, so it is not in the static RAM
//! column; the probe keeps the constant so that the figure is at hand.

use fota_delta::{ImageIoError, NewImage, OldImage, Patcher};

/// Stands for the old slot in flash. SHA-256 is the firmware's shared one (the `sha256`
/// component, measured apart): a device passes it in through `sha256_compress`, so here a
/// stand-in takes its place.
struct Flash(&'static [u8]);

impl OldImage for Flash {
    fn read_at(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), ImageIoError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = *self.0.get(offset as usize + i).ok_or(ImageIoError)?;
        }
        Ok(())
    }

    fn sha256_compress(&mut self, state: &mut [u32; 8], block: &[u8; 64]) {
        crate::keep((&*state, block));
    }
}

/// Stands for the staging slot: folds written bytes into a checksum.
struct Sink(u32);

impl NewImage for Sink {
    fn write(&mut self, data: &[u8]) -> Result<(), ImageIoError> {
        for &b in data {
            self.0 = self.0.rotate_left(5) ^ u32::from(b);
        }
        Ok(())
    }
}

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    let mut old = Flash(crate::input(512));
    let mut sink = Sink(0);
    let mut p = Patcher::new();
    let mut r = Ok(());
    for block in crate::input(256).chunks(64) {
        match p.push(block, &mut old, &mut sink) {
            Ok(passed) => {
                // A checkpoint boundary was passed: its bytes go to the journal.
                let mut cp = [0u8; fota_delta::CHECKPOINT_LEN];
                if passed && p.write_checkpoint(&mut cp) {
                    crate::keep(&cp);
                }
            }
            Err(e) => {
                r = Err(e);
                break;
            }
        }
    }
    if r.is_ok() {
        r = p.finish(&mut old, &mut sink);
    }
    crate::keep(r.is_ok());
    // After a power cut: the same patcher restarts from the journalled checkpoint bytes.
    if p.restore(crate::input(fota_delta::CHECKPOINT_LEN)).is_ok() {
        crate::keep(p.push(crate::input(32), &mut old, &mut sink).is_ok());
    }
    crate::keep(sink.0);
    crate::keep(fota_delta::PATCHER_RAM);
}
