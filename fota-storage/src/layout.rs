//! Where the slots and the state area live in flash, checked against the flash geometry.

use embedded_storage::nor_flash::NorFlash;

use crate::MAX_WRITE_SIZE;
use crate::error::{Error, FlashOp, RegionKind};

/// A contiguous range of flash: `offset..offset + size` (absolute flash offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First byte.
    pub offset: u32,
    /// Length in bytes.
    pub size: u32,
}

impl Region {
    /// A region of `size` bytes at `offset`.
    pub const fn new(offset: u32, size: u32) -> Self {
        Region { offset, size }
    }

    /// One past the last byte (saturating).
    pub const fn end(&self) -> u32 {
        self.offset.saturating_add(self.size)
    }

    const fn overlaps(&self, other: &Region) -> bool {
        self.offset < other.end() && other.offset < self.end()
    }
}

/// The flash layout of an updatable device: the active slot (the image that runs), the staging
/// slot (downloads go here) and the state area (the progress journal, boot hand-off record and
/// anti-rollback counter).
///
/// Built with [`Layout::new`], which checks every region against the flash geometry: aligned to
/// `ERASE_SIZE` (hence to `WRITE_SIZE`), inside the flash, not overlapping; the staging slot has
/// one sector more than the active slot (the swap needs it); the state area holds at least two
/// journal banks of [`MIN_BANK_SIZE`](crate::MIN_BANK_SIZE) bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    active: Region,
    staging: Region,
    state: Region,
    erase_size: u32,
    write_size: u32,
    read_size: u32,
}

impl Layout {
    /// Checks the regions against `flash`'s geometry and capacity.
    pub fn new<F: NorFlash>(
        flash: &F,
        active: Region,
        staging: Region,
        state: Region,
    ) -> Result<Self, Error> {
        Self::with_geometry(
            F::ERASE_SIZE,
            F::WRITE_SIZE,
            F::READ_SIZE,
            flash.capacity(),
            active,
            staging,
            state,
        )
    }

    /// Like [`Layout::new`] for a flash whose capacity is known when the firmware is built:
    /// usable in a `const`, so a fixed flash map is checked at compile time and costs no code.
    ///
    /// ```
    /// # #[cfg(feature = "alloc")] {
    /// use fota_storage::sim::SimFlash;
    /// use fota_storage::{Layout, Region};
    ///
    /// const LAYOUT: Layout = match Layout::for_flash::<SimFlash<8, 4096>>(
    ///     19 * 4096,
    ///     Region::new(0, 0x8000),
    ///     Region::new(0x8000, 0x9000),
    ///     Region::new(0x11000, 0x2000),
    /// ) {
    ///     Ok(layout) => layout,
    ///     Err(_) => panic!("bad flash layout"),
    /// };
    /// assert_eq!(LAYOUT.banks(), 2);
    /// # }
    /// ```
    pub const fn for_flash<F: NorFlash>(
        capacity: usize,
        active: Region,
        staging: Region,
        state: Region,
    ) -> Result<Self, Error> {
        Self::with_geometry(
            F::ERASE_SIZE,
            F::WRITE_SIZE,
            F::READ_SIZE,
            capacity,
            active,
            staging,
            state,
        )
    }

    /// Like [`Layout::new`] with the geometry given as numbers (for tools and tests; usable
    /// in a `const`).
    pub const fn with_geometry(
        erase_size: usize,
        write_size: usize,
        read_size: usize,
        capacity: usize,
        active: Region,
        staging: Region,
        state: Region,
    ) -> Result<Self, Error> {
        const fn ok_size(s: usize) -> bool {
            s != 0 && s.is_power_of_two()
        }
        if !ok_size(erase_size)
            || !ok_size(write_size)
            || !ok_size(read_size)
            || write_size > MAX_WRITE_SIZE
            || read_size > MAX_WRITE_SIZE
            || write_size > erase_size
            || read_size > erase_size
            || erase_size > u32::MAX as usize / 2
        {
            return Err(Error::Geometry);
        }
        let erase = erase_size as u32;
        let capacity = if capacity > u32::MAX as usize {
            u32::MAX
        } else {
            capacity as u32
        };
        let regions = [
            (RegionKind::Active, active),
            (RegionKind::Staging, staging),
            (RegionKind::State, state),
        ];
        let mut i = 0;
        while i < regions.len() {
            let (kind, r) = regions[i];
            // `erase` is a power of two: a mask, no division (no panicking path).
            let m = erase.wrapping_sub(1);
            if r.offset & m != 0 || r.size & m != 0 || r.size == 0 {
                return Err(Error::Misaligned {
                    region: kind,
                    offset: r.offset,
                    size: r.size,
                    align: erase,
                });
            }
            let inside = match r.offset.checked_add(r.size) {
                Some(e) => e <= capacity,
                None => false,
            };
            let mut overlap = false;
            let mut j = 0;
            while j < regions.len() {
                overlap |= j != i && r.overlaps(&regions[j].1);
                j += 1;
            }
            if !inside || overlap {
                return Err(Error::BadRegion {
                    region: kind,
                    offset: r.offset,
                    size: r.size,
                });
            }
            i += 1;
        }
        if staging.size < active.size.saturating_add(erase) {
            return Err(Error::BadRegion {
                region: RegionKind::Staging,
                offset: staging.offset,
                size: staging.size,
            });
        }
        let bank = bank_size(erase);
        if state.size < bank.saturating_mul(2) {
            return Err(Error::BadRegion {
                region: RegionKind::State,
                offset: state.offset,
                size: state.size,
            });
        }
        Ok(Layout {
            active,
            staging,
            state,
            erase_size: erase,
            write_size: write_size as u32,
            read_size: read_size as u32,
        })
    }

    /// The slot the device boots from.
    pub const fn active(&self) -> Region {
        self.active
    }

    /// The slot downloads are written to (one sector larger than the active slot).
    pub const fn staging(&self) -> Region {
        self.staging
    }

    /// The state area.
    pub const fn state(&self) -> Region {
        self.state
    }

    /// Largest image the device can install: the active slot's size.
    pub const fn max_image_size(&self) -> u32 {
        self.active.size
    }

    /// Erase sector size of the flash.
    pub const fn erase_size(&self) -> u32 {
        self.erase_size
    }

    /// Write granule of the flash.
    pub const fn write_size(&self) -> u32 {
        self.write_size
    }

    /// Read granule of the flash.
    pub const fn read_size(&self) -> u32 {
        self.read_size
    }

    /// Size of one journal bank (a whole number of sectors, at least
    /// [`MIN_BANK_SIZE`](crate::MIN_BANK_SIZE)).
    pub const fn bank_size(&self) -> u32 {
        bank_size(self.erase_size)
    }

    /// Number of journal banks in the state area.
    pub const fn banks(&self) -> u32 {
        match self.state.size.checked_div(self.bank_size()) {
            Some(n) => n,
            None => 0,
        }
    }
}

const fn bank_size(erase: u32) -> u32 {
    // Sectors and `MIN_BANK_SIZE` are powers of two: a smaller sector divides it.
    let min = crate::MIN_BANK_SIZE as u32;
    if erase >= min { erase } else { min }
}

/// Reads `buf.len()` bytes at absolute `offset`, honouring `READ_SIZE` (bounce-buffered when the
/// request is not aligned to it).
pub(crate) fn read<F: NorFlash>(flash: &mut F, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
    if F::READ_SIZE <= 1 {
        return flash
            .read(offset, buf)
            .map_err(|e| Error::flash(FlashOp::Read, offset, e));
    }
    let rs = F::READ_SIZE as u32;
    let mut done = 0usize;
    while done < buf.len() {
        let at = offset.wrapping_add(done as u32);
        let base = at - at % rs;
        let skip = (at - base) as usize;
        let rest = buf.len() - done;
        if skip == 0 && rest >= F::READ_SIZE {
            let n = rest - rest % F::READ_SIZE;
            let Some(dst) = buf.get_mut(done..done + n) else {
                break;
            };
            flash
                .read(at, dst)
                .map_err(|e| Error::flash(FlashOp::Read, at, e))?;
            done += n;
        } else {
            let mut bounce = [0u8; MAX_WRITE_SIZE];
            let Some(b) = bounce.get_mut(..F::READ_SIZE) else {
                return Err(Error::Geometry);
            };
            flash
                .read(base, b)
                .map_err(|e| Error::flash(FlashOp::Read, base, e))?;
            let n = (F::READ_SIZE - skip).min(rest);
            for i in 0..n {
                if let (Some(d), Some(s)) = (buf.get_mut(done + i), b.get(skip + i)) {
                    *d = *s;
                }
            }
            done += n;
        }
    }
    Ok(())
}

pub(crate) fn write<F: NorFlash>(flash: &mut F, offset: u32, data: &[u8]) -> Result<(), Error> {
    flash
        .write(offset, data)
        .map_err(|e| Error::flash(FlashOp::Write, offset, e))
}

pub(crate) fn erase<F: NorFlash>(flash: &mut F, from: u32, to: u32) -> Result<(), Error> {
    flash
        .erase(from, to)
        .map_err(|e| Error::flash(FlashOp::Erase, from, e))
}

/// Flash operations with this crate's errors, object-safe: the journal works on `&mut dyn Nor`,
/// so its code exists once whatever the number of flash types in the firmware.
pub(crate) trait Nor {
    fn read_at(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Error>;
    fn write_at(&mut self, offset: u32, data: &[u8]) -> Result<(), Error>;
    fn erase_range(&mut self, from: u32, to: u32) -> Result<(), Error>;
}

impl<F: NorFlash> Nor for F {
    fn read_at(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
        read(self, offset, buf)
    }

    fn write_at(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        write(self, offset, data)
    }

    fn erase_range(&mut self, from: u32, to: u32) -> Result<(), Error> {
        erase(self, from, to)
    }
}
