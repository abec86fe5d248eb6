//! The bootloader's half of the hand-off: a power-fail-safe swap of the staging image into the
//! active slot, and the revert when the application did not confirm it.
//!
//! The swap moves sector by sector, from the last sector of the new image down (as
//! embassy-boot does): old sector `i` goes to staging sector `i + 1`, then new sector `i` to
//! active sector `i`. The staging slot's extra sector takes the first move. Every copy's source
//! stays intact until the copy after next, and the journal records each completed copy, so a cut
//! anywhere only repeats the interrupted copy. The revert runs the same moves the other way and
//! leaves the new image back in staging.

use embedded_storage::nor_flash::NorFlash;

use crate::ERASED_BYTE;
use crate::error::Error;
use crate::journal::{BootRecord, BootState, Journal};
use crate::layout::{self, Layout};

/// What the bootloader decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootOutcome {
    /// No update pending: boot the active image as it is.
    Unchanged,
    /// The new image was swapped in and runs on trial: the application must confirm it.
    Trial,
    /// The new image was not confirmed: the old one is back in the active slot.
    RolledBack,
}

/// Runs the bootloader's part: finishes or starts a swap or a revert as the boot record asks,
/// then tells which image to boot (always the active slot's). `buf` is the copy buffer (any
/// size from the write size up; larger is faster).
pub fn boot<F: NorFlash>(
    flash: &mut F,
    layout: &Layout,
    buf: &mut [u8],
) -> Result<BootOutcome, Error> {
    let mut journal = Journal::mount(flash, layout)?;
    let rec = journal.boot();
    let active = matches!(
        rec.state,
        BootState::Pending | BootState::Swapping | BootState::Testing | BootState::Reverting
    );
    if active && rec.image_size > layout.max_image_size() {
        // Never written by `Storage`; refuse to move sectors outside the slots.
        journal.set_boot(flash, BootRecord::IDLE)?;
        return Ok(BootOutcome::Unchanged);
    }
    // Sectors are a power of two: shifts and masks, no division (no panicking path).
    let e = layout.erase_size();
    let sectors =
        (rec.image_size >> e.trailing_zeros()) + u32::from(rec.image_size & e.wrapping_sub(1) != 0);
    let steps = 2 * sectors;
    match rec.state {
        BootState::Pending | BootState::Swapping => {
            let mut step = if rec.state == BootState::Pending {
                0
            } else {
                rec.step
            };
            while step < steps {
                let i = sectors - 1 - step / 2;
                if step % 2 == 0 {
                    copy(flash, layout, Slot::Active, i, Slot::Staging, i + 1, buf)?;
                } else {
                    copy(flash, layout, Slot::Staging, i, Slot::Active, i, buf)?;
                }
                step += 1;
                let state = if step < steps {
                    BootState::Swapping
                } else {
                    BootState::Testing
                };
                journal.set_boot(flash, BootRecord { state, step, ..rec })?;
            }
            if steps == 0 {
                journal.set_boot(
                    flash,
                    BootRecord {
                        state: BootState::Testing,
                        ..rec
                    },
                )?;
            }
            Ok(BootOutcome::Trial)
        }
        BootState::Testing | BootState::Reverting => {
            let mut step = if rec.state == BootState::Testing {
                0
            } else {
                rec.step
            };
            while step < steps {
                let i = step / 2;
                if step % 2 == 0 {
                    copy(flash, layout, Slot::Active, i, Slot::Staging, i, buf)?;
                } else {
                    copy(flash, layout, Slot::Staging, i + 1, Slot::Active, i, buf)?;
                }
                step += 1;
                let state = if step < steps {
                    BootState::Reverting
                } else {
                    BootState::RolledBack
                };
                journal.set_boot(flash, BootRecord { state, step, ..rec })?;
            }
            if steps == 0 {
                journal.set_boot(
                    flash,
                    BootRecord {
                        state: BootState::RolledBack,
                        ..rec
                    },
                )?;
            }
            Ok(BootOutcome::RolledBack)
        }
        _ => Ok(BootOutcome::Unchanged),
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Active,
    Staging,
}

/// Erases sector `to_i` of slot `to`, then copies sector `from_i` of slot `from` into it
/// (words that are all `0xFF` need no programming).
fn copy<F: NorFlash>(
    flash: &mut F,
    layout: &Layout,
    from: Slot,
    from_i: u32,
    to: Slot,
    to_i: u32,
    buf: &mut [u8],
) -> Result<(), Error> {
    let e = layout.erase_size();
    let base = |s: Slot| match s {
        Slot::Active => layout.active().offset,
        Slot::Staging => layout.staging().offset,
    };
    let src = base(from) + from_i * e;
    let dst = base(to) + to_i * e;
    let w = layout.write_size() as usize;
    let chunk = buf.len().min(e as usize) & !w.wrapping_sub(1);
    let buf = buf
        .get_mut(..chunk)
        .filter(|b| !b.is_empty())
        .ok_or(Error::Geometry)?;
    layout::erase(flash, dst, dst + e)?;
    let mut done = 0u32;
    while done < e {
        let n = (e - done).min(chunk as u32) as usize;
        let b = buf.get_mut(..n).ok_or(Error::InvalidState)?;
        layout::read(flash, src + done, b)?;
        if b.iter().any(|&x| x != ERASED_BYTE) {
            layout::write(flash, dst + done, b)?;
        }
        done += n as u32;
    }
    Ok(())
}
