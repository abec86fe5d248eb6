//! The Block1/Block2 option value (RFC 7959 §2.2).

use crate::Error;

/// Largest block number: the option carries 20 bits.
pub const MAX_BLOCK_NUM: u32 = (1 << 20) - 1;

/// A Block1 or Block2 option value: block number, more flag and size exponent.
///
/// Block size is `2^(szx + 4)` bytes, 16..=1024 over UDP (SZX 7 is BERT, TCP only, rejected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Block number (0..=2^20 - 1).
    pub num: u32,
    /// More blocks follow (M bit).
    pub more: bool,
    /// Size exponent, 0..=6.
    pub szx: u8,
}

/// Block size in bytes for a size exponent (`16 << szx`).
#[inline]
pub const fn size_of_szx(szx: u8) -> u32 {
    16u32 << (szx & 7)
}

impl Block {
    /// A checked block value: `num` at most 2^20 - 1, `szx` at most 6.
    pub const fn new(num: u32, more: bool, szx: u8) -> Result<Self, Error> {
        if num > MAX_BLOCK_NUM {
            return Err(Error::BlockNumber);
        }
        if szx > crate::MAX_SZX_UDP {
            return Err(Error::BadOption { number: 0 });
        }
        Ok(Block { num, more, szx })
    }

    /// The block containing byte `offset` at size exponent `szx` (`offset` rounded down).
    pub const fn at_offset(offset: u32, more: bool, szx: u8) -> Result<Self, Error> {
        Self::new(offset >> (4 + (szx as u32 & 7)), more, szx)
    }

    /// Block size in bytes.
    #[inline]
    pub const fn size(&self) -> u32 {
        size_of_szx(self.szx)
    }

    /// Byte offset of the block's first byte (`num * size`; at most 2^30 - 1024).
    #[inline]
    pub const fn offset(&self) -> u32 {
        (self.num & MAX_BLOCK_NUM) << (4 + (self.szx as u32 & 7))
    }

    /// Decodes an option value of 0..=3 bytes (option `number` is used in errors only).
    pub fn decode(value: &[u8], number: u16) -> Result<Self, Error> {
        if value.len() > 3 {
            return Err(Error::BadOption { number });
        }
        let mut v = 0u32;
        for b in value {
            v = (v << 8) | *b as u32;
        }
        let szx = (v & 7) as u8;
        if szx == 7 {
            return Err(Error::BadOption { number });
        }
        Ok(Block {
            num: v >> 4,
            more: v & 8 != 0,
            szx,
        })
    }

    /// The option value as an unsigned integer (encoded in the fewest bytes by the builder).
    #[inline]
    pub const fn to_uint(&self) -> u32 {
        ((self.num & MAX_BLOCK_NUM) << 4) | ((self.more as u32) << 3) | (self.szx as u32 & 7)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_examples() {
        assert_eq!(
            Block::decode(&[], 23),
            Ok(Block {
                num: 0,
                more: false,
                szx: 0
            })
        );
        assert_eq!(
            Block::decode(&[0x0e], 27),
            Ok(Block {
                num: 0,
                more: true,
                szx: 6
            })
        );
        assert_eq!(Block::decode(&[0x1a], 27).unwrap().offset(), 64);
        assert_eq!(
            Block::decode(&[0x0f], 27),
            Err(Error::BadOption { number: 27 })
        );
        assert_eq!(
            Block::decode(&[1, 2, 3, 4], 23),
            Err(Error::BadOption { number: 23 })
        );
        let b = Block::decode(&[0xff, 0xff, 0xf6], 23).unwrap();
        assert_eq!(b.num, MAX_BLOCK_NUM);
        assert_eq!(b.offset(), MAX_BLOCK_NUM * 1024);
    }

    #[test]
    fn new_checks() {
        assert!(Block::new(MAX_BLOCK_NUM + 1, false, 0).is_err());
        assert!(Block::new(1, false, 7).is_err());
        assert_eq!(Block::at_offset(2048, true, 6).unwrap().num, 2);
    }
}
