//! The native patch header.

use crate::Error;

/// Magic bytes at the start of a native patch.
pub const MAGIC: &[u8; 6] = b"FOTADP";
/// Format version written and read by this crate.
pub const VERSION: u8 = 1;
/// Compression id of the adaptive binary range coder with the bsdiff context model.
pub const COMPRESSION_RANGE_CODER: u8 = 1;
/// Length of the native header in bytes.
pub const HEADER_LEN: usize = 84;
/// Smallest checkpoint interval (log2 of new-image bytes per block).
pub const MIN_INTERVAL_LOG2: u8 = 12;
/// Largest checkpoint interval (log2); 0 means a single block (no checkpoints).
pub const MAX_INTERVAL_LOG2: u8 = 31;

/// Parsed native patch header.
///
/// Layout (little-endian): magic `FOTADP` (6), version (1), compression id (1), old size (u32),
/// new size (u32), checkpoint interval log2 (u8, 0 = none), 3 reserved zero bytes, SHA-256 of
/// the old image (32), SHA-256 of the new image (32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Size of the old image in bytes.
    pub old_size: u32,
    /// Size of the new image in bytes.
    pub new_size: u32,
    /// The stream restarts its coder every `1 << interval_log2` new-image bytes (a checkpoint
    /// can be taken there); 0 when it never restarts.
    pub interval_log2: u8,
    /// SHA-256 of the old image.
    pub old_sha256: [u8; 32],
    /// SHA-256 of the new image.
    pub new_sha256: [u8; 32],
}

impl Header {
    /// Parses and validates a header.
    pub fn parse(b: &[u8; HEADER_LEN]) -> Result<Header, Error> {
        let mut h = Header {
            old_size: 0,
            new_size: 0,
            interval_log2: 0,
            old_sha256: [0; 32],
            new_sha256: [0; 32],
        };
        h.read(b)?;
        Ok(h)
    }

    /// Validates `b` and then overwrites `self` with it (in place: no header-sized moves on the
    /// device path); on error `self` is unchanged.
    pub(crate) fn read(&mut self, b: &[u8; HEADER_LEN]) -> Result<(), Error> {
        if b[..6] != MAGIC[..] {
            return Err(Error::BadMagic);
        }
        if b[6] != VERSION {
            return Err(Error::UnsupportedVersion {
                version: b[6].into(),
            });
        }
        if b[7] != COMPRESSION_RANGE_CODER {
            return Err(Error::UnsupportedCompression { id: b[7].into() });
        }
        let interval_log2 = b[16];
        if interval_log2 != 0 && !(MIN_INTERVAL_LOG2..=MAX_INTERVAL_LOG2).contains(&interval_log2) {
            return Err(Error::BadHeader { offset: 16 });
        }
        if let Some(at) = (17..20).find(|&at| b[at] != 0) {
            return Err(Error::BadHeader { offset: at as u32 });
        }
        // Byte loops rather than `copy_from_slice`: keeps `memcpy` out of device builds.
        for (i, (o, n)) in self
            .old_sha256
            .iter_mut()
            .zip(self.new_sha256.iter_mut())
            .enumerate()
        {
            *o = b[20 + i];
            *n = b[52 + i];
        }
        self.old_size = crate::patcher::get_u32(b, 8);
        self.new_size = crate::patcher::get_u32(b, 12);
        self.interval_log2 = interval_log2;
        Ok(())
    }

    /// Serialises the header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..6].copy_from_slice(MAGIC);
        b[6] = VERSION;
        b[7] = COMPRESSION_RANGE_CODER;
        b[8..12].copy_from_slice(&self.old_size.to_le_bytes());
        b[12..16].copy_from_slice(&self.new_size.to_le_bytes());
        b[16] = self.interval_log2;
        b[20..52].copy_from_slice(&self.old_sha256);
        b[52..84].copy_from_slice(&self.new_sha256);
        b
    }

    /// True when `new_offset` ends a block (a checkpoint boundary or the end of the image).
    #[cfg(feature = "std")]
    pub(crate) fn is_block_end(&self, new_offset: u32) -> bool {
        new_offset == self.new_size
            || (self.interval_log2 != 0
                && new_offset.trailing_zeros() >= u32::from(self.interval_log2))
    }

    /// Bytes left in the current block from `new_offset`.
    pub(crate) fn block_left(&self, new_offset: u32) -> u32 {
        let to_end = self.new_size.saturating_sub(new_offset);
        // In u32: 64-bit shifts and divisions are libcalls on Cortex-M. The interval is 0 or
        // 12..=31 (header and checkpoint checks); 0 (no checkpoints) makes `size` 1 << 0 and
        // is taken apart below.
        let size = 1u32.wrapping_shl(u32::from(self.interval_log2));
        if size == 1 {
            return to_end;
        }
        to_end.min(size - (new_offset & (size - 1)))
    }
}
