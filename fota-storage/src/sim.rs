//! Simulated NOR flash for tests and demos: RAM-backed [`SimFlash`] with fault injection and,
//! with `std`, the file-backed [`FileFlash`].

use alloc::vec;
use alloc::vec::Vec;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use crate::ERASED_BYTE;

/// Errors of the simulated flashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// Offset or length not aligned to the operation's granule.
    #[error("not aligned")]
    NotAligned,
    /// Outside the flash.
    #[error("out of bounds")]
    OutOfBounds,
    /// A write would turn a 0 bit back into 1 at `offset` (NOR needs an erase first).
    #[error("write to non-erased bits at offset {offset:#x}")]
    NotErased {
        /// Absolute offset of the first offending byte.
        offset: u32,
    },
    /// The power is off (an injected cut): nothing works until [`SimFlash::power_on`].
    #[error("power cut")]
    PowerCut,
    /// An I/O error of the backing file.
    #[error("i/o error")]
    Io,
}

impl NorFlashError for SimError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            SimError::NotAligned => NorFlashErrorKind::NotAligned,
            SimError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// A fault to inject at one operation (erases and writes are counted from 0; reads are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Power is cut just before operation `n`: it does nothing.
    CutBefore(u64),
    /// Power is cut during operation `n`: a write programs a prefix of its bytes and some bits
    /// of the next byte; an erase erases a prefix of its range and some bits of the next byte.
    TornAt(u64),
}

fn check(capacity: usize, align: usize, offset: u32, len: usize) -> Result<(), SimError> {
    let offset = offset as usize;
    if len > capacity || offset > capacity - len {
        return Err(SimError::OutOfBounds);
    }
    if !offset.is_multiple_of(align) || !len.is_multiple_of(align) {
        return Err(SimError::NotAligned);
    }
    Ok(())
}

/// RAM-backed NOR flash with `WRITE`-byte write granules and `ERASE`-byte sectors.
///
/// Enforces the NOR rules: erase sets whole sectors to `0xFF`, a write may only clear bits,
/// writes and erases must be aligned. Counts operations and erases per sector, and injects a
/// [`Fault`] (power cut before or during an operation). After a fault every operation fails
/// with [`SimError::PowerCut`] until [`SimFlash::power_on`].
#[derive(Debug, Clone)]
pub struct SimFlash<const WRITE: usize, const ERASE: usize> {
    mem: Vec<u8>,
    erases: Vec<u32>,
    ops: u64,
    writes: u64,
    fault: Option<Fault>,
    off: bool,
    rng: u64,
}

impl<const WRITE: usize, const ERASE: usize> SimFlash<WRITE, ERASE> {
    /// An erased flash of `sectors` sectors.
    pub fn new(sectors: usize) -> Self {
        SimFlash {
            mem: vec![ERASED_BYTE; sectors * ERASE],
            erases: vec![0; sectors],
            ops: 0,
            writes: 0,
            fault: None,
            off: false,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Arms `fault` (replacing any other); the operation count keeps running.
    pub fn set_fault(&mut self, fault: Option<Fault>) {
        self.fault = fault;
    }

    /// Seeds the generator that picks how much of a torn operation happens.
    pub fn set_seed(&mut self, seed: u64) {
        self.rng = seed | 1;
    }

    /// Restores power after a cut and disarms the fault.
    pub fn power_on(&mut self) {
        self.off = false;
        self.fault = None;
    }

    /// Whether an injected cut has happened (and power is still off).
    pub fn is_off(&self) -> bool {
        self.off
    }

    /// Erases and writes attempted so far (including a cut or torn one).
    pub fn ops(&self) -> u64 {
        self.ops
    }

    /// Write operations attempted so far.
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Erase count of every sector.
    pub fn erase_counts(&self) -> &[u32] {
        &self.erases
    }

    /// Zeroes the operation and erase counters.
    pub fn reset_counters(&mut self) {
        self.ops = 0;
        self.writes = 0;
        self.erases.iter_mut().for_each(|e| *e = 0);
    }

    /// The whole content.
    pub fn as_bytes(&self) -> &[u8] {
        &self.mem
    }

    /// The whole content, writable without NOR rules (to set up or corrupt a test).
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.mem
    }

    fn next_rand(&mut self) -> u64 {
        // xorshift64*: deterministic per seed.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Counts an operation and applies the fault: `Ok(None)` run it, `Ok(Some(k))` tear it
    /// after `k` of `len` bytes, `Err` cut before it.
    fn begin_op(&mut self, len: usize) -> Result<Option<usize>, SimError> {
        if self.off {
            return Err(SimError::PowerCut);
        }
        let n = self.ops;
        self.ops += 1;
        match self.fault {
            Some(Fault::CutBefore(at)) if at == n => {
                self.off = true;
                Err(SimError::PowerCut)
            }
            Some(Fault::TornAt(at)) if at == n => {
                self.off = true;
                let k = if len == 0 {
                    0
                } else {
                    (self.next_rand() % len as u64) as usize
                };
                Ok(Some(k))
            }
            _ => Ok(None),
        }
    }
}

impl<const WRITE: usize, const ERASE: usize> ErrorType for SimFlash<WRITE, ERASE> {
    type Error = SimError;
}

impl<const WRITE: usize, const ERASE: usize> ReadNorFlash for SimFlash<WRITE, ERASE> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        if self.off {
            return Err(SimError::PowerCut);
        }
        check(self.mem.len(), 1, offset, bytes.len())?;
        let at = offset as usize;
        bytes.copy_from_slice(&self.mem[at..at + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.mem.len()
    }
}

impl<const WRITE: usize, const ERASE: usize> NorFlash for SimFlash<WRITE, ERASE> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        if self.off {
            return Err(SimError::PowerCut);
        }
        if from > to {
            return Err(SimError::OutOfBounds);
        }
        check(self.mem.len(), ERASE, from, (to - from) as usize)?;
        let (from, to) = (from as usize, to as usize);
        let torn = self.begin_op(to - from)?;
        let end = torn.map_or(to, |k| from + k);
        self.mem[from..end].fill(ERASED_BYTE);
        for s in from / ERASE..end.div_ceil(ERASE) {
            self.erases[s] += 1;
        }
        if torn.is_some() {
            if end < to {
                // The interrupted byte has some of its bits erased.
                let bits = self.next_rand() as u8;
                self.mem[end] |= bits;
                if end % ERASE == 0 {
                    self.erases[end / ERASE] += 1;
                }
            }
            return Err(SimError::PowerCut);
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        if self.off {
            return Err(SimError::PowerCut);
        }
        check(self.mem.len(), WRITE, offset, bytes.len())?;
        let at = offset as usize;
        let old = &self.mem[at..at + bytes.len()];
        if let Some(i) = old.iter().zip(bytes).position(|(o, n)| n & !o != 0) {
            return Err(SimError::NotErased {
                offset: offset + i as u32,
            });
        }
        self.writes += 1;
        let torn = self.begin_op(bytes.len())?;
        let n = torn.unwrap_or(bytes.len());
        for (m, b) in self.mem[at..at + n].iter_mut().zip(bytes) {
            *m &= *b;
        }
        if torn.is_some() {
            if n < bytes.len() {
                // Some of the bits the interrupted byte should clear are cleared.
                let keep = self.next_rand() as u8;
                self.mem[at + n] &= bytes[n] | keep;
            }
            return Err(SimError::PowerCut);
        }
        Ok(())
    }
}

/// File-backed NOR flash (`std`): the same rules as [`SimFlash`], kept across runs of a
/// program (the demo's default flash). A new file starts erased.
#[cfg(feature = "std")]
#[derive(Debug)]
pub struct FileFlash<const WRITE: usize, const ERASE: usize> {
    file: std::fs::File,
    capacity: usize,
}

#[cfg(feature = "std")]
impl<const WRITE: usize, const ERASE: usize> FileFlash<WRITE, ERASE> {
    /// Opens (or creates, erased) the flash file at `path` with `sectors` sectors. An existing
    /// file of another size is an error.
    pub fn open(path: &std::path::Path, sectors: usize) -> std::io::Result<Self> {
        use std::io::{Seek, SeekFrom, Write};
        let capacity = sectors * ERASE;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        if len == 0 {
            file.seek(SeekFrom::Start(0))?;
            file.write_all(&vec![ERASED_BYTE; capacity])?;
            file.sync_data()?;
        } else if len != capacity as u64 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "flash file has another size",
            ));
        }
        Ok(FileFlash { file, capacity })
    }

    fn read_at(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), SimError> {
        use std::io::{Read, Seek, SeekFrom};
        self.file
            .seek(SeekFrom::Start(offset as u64))
            .and_then(|_| self.file.read_exact(buf))
            .map_err(|_| SimError::Io)
    }

    fn write_at(&mut self, offset: u32, buf: &[u8]) -> Result<(), SimError> {
        use std::io::{Seek, SeekFrom, Write};
        self.file
            .seek(SeekFrom::Start(offset as u64))
            .and_then(|_| self.file.write_all(buf))
            .map_err(|_| SimError::Io)
    }
}

#[cfg(feature = "std")]
impl<const WRITE: usize, const ERASE: usize> ErrorType for FileFlash<WRITE, ERASE> {
    type Error = SimError;
}

#[cfg(feature = "std")]
impl<const WRITE: usize, const ERASE: usize> ReadNorFlash for FileFlash<WRITE, ERASE> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimError> {
        check(self.capacity, 1, offset, bytes.len())?;
        self.read_at(offset, bytes)
    }

    fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(feature = "std")]
impl<const WRITE: usize, const ERASE: usize> NorFlash for FileFlash<WRITE, ERASE> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimError> {
        if from > to {
            return Err(SimError::OutOfBounds);
        }
        check(self.capacity, ERASE, from, (to - from) as usize)?;
        self.write_at(from, &vec![ERASED_BYTE; (to - from) as usize])
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimError> {
        check(self.capacity, WRITE, offset, bytes.len())?;
        let mut old = vec![0u8; bytes.len()];
        self.read_at(offset, &mut old)?;
        if let Some(i) = old.iter().zip(bytes).position(|(o, n)| n & !o != 0) {
            return Err(SimError::NotErased {
                offset: offset + i as u32,
            });
        }
        let new: Vec<u8> = old.iter().zip(bytes).map(|(o, n)| o & n).collect();
        self.write_at(offset, &new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nor_rules() {
        let mut f = SimFlash::<4, 64>::new(2);
        assert_eq!(f.capacity(), 128);
        f.write(0, &[0x0F, 0xF0, 0x00, 0xFF]).unwrap();
        // Clearing more bits is fine, setting one is not.
        f.write(0, &[0x0E, 0xF0, 0x00, 0x7F]).unwrap();
        assert_eq!(
            f.write(0, &[0x1E, 0, 0, 0]),
            Err(SimError::NotErased { offset: 0 })
        );
        assert_eq!(f.write(2, &[0; 4]), Err(SimError::NotAligned));
        assert_eq!(f.write(128, &[0; 4]), Err(SimError::OutOfBounds));
        assert_eq!(f.erase(0, 32), Err(SimError::NotAligned));
        f.erase(0, 64).unwrap();
        assert!(f.as_bytes()[..64].iter().all(|&b| b == 0xFF));
        assert_eq!(f.erase_counts(), &[1, 0]);
        assert_eq!(f.ops(), 3);
    }

    #[test]
    fn faults() {
        let mut f = SimFlash::<4, 64>::new(2);
        f.set_fault(Some(Fault::CutBefore(1)));
        f.write(0, &[0; 4]).unwrap();
        assert_eq!(f.write(4, &[0; 4]), Err(SimError::PowerCut));
        assert!(f.is_off());
        let mut b = [0u8; 4];
        assert_eq!(f.read(0, &mut b), Err(SimError::PowerCut));
        f.power_on();
        f.read(4, &mut b).unwrap();
        assert_eq!(b, [0xFF; 4], "a cut before the write leaves nothing");
        for seed in 0..50 {
            let mut f = SimFlash::<4, 64>::new(2);
            f.set_seed(seed);
            f.set_fault(Some(Fault::TornAt(0)));
            assert_eq!(f.write(0, &[0; 64]), Err(SimError::PowerCut));
            let m = f.as_bytes();
            let k = m.iter().position(|&x| x != 0).unwrap_or(64);
            // A prefix is written, then at most one partial byte, then nothing.
            assert!(m.get(k + 1..64).unwrap_or(&[]).iter().all(|&x| x == 0xFF));
            let mut f2 = SimFlash::<4, 64>::new(2);
            f2.as_bytes_mut().fill(0);
            f2.set_seed(seed);
            f2.set_fault(Some(Fault::TornAt(0)));
            assert_eq!(f2.erase(0, 128), Err(SimError::PowerCut));
            let m = f2.as_bytes();
            let k = m.iter().position(|&x| x != 0xFF).unwrap_or(128);
            assert!(m.get(k + 1..).unwrap_or(&[]).iter().all(|&x| x == 0));
        }
    }
}
