//! Caller-provided body storage: where received blocks go ([`BlockSink`]) and where sent blocks
//! come from ([`BlockSource`]).

use crate::Error;

/// Receives a body block by block, in order, without a reassembly buffer (flash, a file, ...).
pub trait BlockSink {
    /// A new transfer starts at offset 0 (`size` is the announced total, when known):
    /// forget what was stored before (erase the staging area).
    fn begin(&mut self, size: Option<u32>) -> Result<(), Error> {
        let _ = size;
        Ok(())
    }
    /// Stores `data` at byte `offset`. Offsets arrive contiguously and each byte once; `data`
    /// may be empty (an empty body or final block).
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error>;
    /// The body is complete with `total` bytes.
    fn complete(&mut self, total: u32) -> Result<(), Error> {
        let _ = total;
        Ok(())
    }
    /// Largest body the sink can take (answered with 4.13 and Size1 when exceeded).
    fn capacity(&self) -> u32 {
        u32::MAX
    }
}

/// Provides a body at random offsets (the file or image being served or pushed).
pub trait BlockSource {
    /// Total body size in bytes.
    fn size(&self) -> u32;
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at the end).
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<usize, Error>;
}

impl BlockSource for &[u8] {
    fn size(&self) -> u32 {
        u32::try_from(self.len()).unwrap_or(u32::MAX)
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<usize, Error> {
        let rest = self.get(offset as usize..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        if let (Some(d), Some(s)) = (buf.get_mut(..n), rest.get(..n)) {
            d.copy_from_slice(s);
        }
        Ok(n)
    }
}

/// A [`BlockSink`] over a fixed caller buffer (capacity = buffer length).
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceSink<'a> {
    /// A sink writing into `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceSink { buf, len: 0 }
    }
    /// The bytes stored so far (up to the highest written offset).
    pub fn data(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl BlockSink for SliceSink<'_> {
    fn begin(&mut self, _size: Option<u32>) -> Result<(), Error> {
        self.len = 0;
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        let start = offset as usize;
        let end = start.checked_add(data.len()).ok_or(Error::TooLarge {
            capacity: self.capacity(),
        })?;
        let cap = self.capacity();
        let dst = self
            .buf
            .get_mut(start..end)
            .ok_or(Error::TooLarge { capacity: cap })?;
        dst.copy_from_slice(data);
        self.len = self.len.max(end);
        Ok(())
    }
    fn capacity(&self) -> u32 {
        u32::try_from(self.buf.len()).unwrap_or(u32::MAX)
    }
}

#[cfg(feature = "std")]
impl BlockSink for std::vec::Vec<u8> {
    fn begin(&mut self, _size: Option<u32>) -> Result<(), Error> {
        self.clear();
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        let start = offset as usize;
        if self.len() < start {
            self.resize(start, 0);
        }
        self.truncate(start);
        self.extend_from_slice(data);
        Ok(())
    }
}

#[cfg(feature = "std")]
impl BlockSource for std::vec::Vec<u8> {
    fn size(&self) -> u32 {
        u32::try_from(self.len()).unwrap_or(u32::MAX)
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<usize, Error> {
        let mut s: &[u8] = self;
        s.read(offset, buf)
    }
}

/// Reads exactly `buf.len()` bytes at `offset` (a short source is a [`Error::Storage`]).
pub(crate) fn read_exact<S: BlockSource + ?Sized>(
    src: &mut S,
    mut offset: u32,
    mut buf: &mut [u8],
) -> Result<(), Error> {
    while !buf.is_empty() {
        let n = src.read(offset, buf)?;
        if n == 0 || n > buf.len() {
            return Err(Error::Storage);
        }
        offset = offset.checked_add(n as u32).ok_or(Error::Storage)?;
        buf = buf.get_mut(n..).unwrap_or(&mut []);
    }
    Ok(())
}

/// 64-bit FNV-1a, used for content-hash ETags and transfer keys (not cryptographic).
pub(crate) fn fnv1a(mut h: u64, data: &[u8]) -> u64 {
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// FNV-1a offset basis.
pub(crate) const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// 32-bit FNV-1a (transfer keys: cheap on 32-bit cores).
pub(crate) fn fnv1a32(mut h: u32, data: &[u8]) -> u32 {
    for b in data {
        h ^= *b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// 32-bit FNV-1a offset basis.
pub(crate) const FNV32_BASIS: u32 = 0x811c_9dc5;
