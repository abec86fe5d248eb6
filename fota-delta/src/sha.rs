//! SHA-256 with an exposed mid-state, so that a checkpoint can carry the running digest of the new
//! image in 32 bytes (checkpoints fall on 64-byte boundaries, where no partial block is pending).

use sha2::digest::generic_array::GenericArray;

use crate::OldImage;

/// The `sha2` crate's (software) SHA-256 compression function.
pub(crate) fn soft_compress(state: &mut [u32; 8], block: &[u8; 64]) {
    let b = GenericArray::from(*block);
    sha2::compress256(state, core::slice::from_ref(&b));
}
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Streaming SHA-256.
#[derive(Clone)]
#[repr(C)]
pub(crate) struct Sha {
    buf: [u8; 64],
    fill: usize,
    pub(crate) len: u32,
    pub(crate) state: [u32; 8],
}

impl Sha {
    /// A digest to [`Sha::start`] before use: all zeros, so that a patcher's initial state is a
    /// plain memory clear.
    pub(crate) const fn zeroed() -> Self {
        Sha {
            state: [0; 8],
            buf: [0; 64],
            fill: 0,
            len: 0,
        }
    }

    /// (Re)starts the digest, in place.
    // Out of line: called twice (old image, then new image) on the device path.
    #[inline(never)]
    pub(crate) fn start(&mut self) {
        self.state = H0;
        self.fill = 0;
        self.len = 0;
    }

    #[cfg(test)]
    pub(crate) fn new() -> Self {
        let mut s = Self::zeroed();
        s.start();
        s
    }

    /// One byte into the pending block (compressed when full). Byte by byte, one small loop:
    /// the device code is sized by bytes of flash, and the compression dominates the time.
    fn push<O: OldImage + ?Sized>(&mut self, c: &mut O, byte: u8) {
        if let Some(slot) = self.buf.get_mut(self.fill) {
            *slot = byte;
        }
        self.fill += 1;
        if self.fill >= 64 {
            c.sha256_compress(&mut self.state, &self.buf);
            self.fill = 0;
        }
    }

    pub(crate) fn update<O: OldImage + ?Sized>(&mut self, c: &mut O, data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u32);
        for &byte in data {
            self.push(c, byte);
        }
    }

    /// Appends the padding and the bit length.
    fn pad<O: OldImage + ?Sized>(&mut self, c: &mut O) {
        let bits = u64::from(self.len) << 3;
        self.push(c, 0x80);
        while self.fill != 56 {
            self.push(c, 0);
        }
        for b in bits.to_be_bytes() {
            self.push(c, b);
        }
    }

    /// Ends the digest and compares it with `want` (word by word, without `memcmp`).
    pub(crate) fn matches<O: OldImage + ?Sized>(&mut self, c: &mut O, want: &[u8; 32]) -> bool {
        self.pad(c);
        let mut diff = 0;
        for (i, w) in self.state.iter().enumerate() {
            diff |= w ^ crate::patcher::get_u32(want, 4 * i).swap_bytes();
        }
        diff == 0
    }

    #[cfg(test)]
    pub(crate) fn finish<O: OldImage + ?Sized>(&mut self, c: &mut O) -> [u8; 32] {
        self.pad(c);
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = (self.state[i / 4 % 8] >> (24 - 8 * (i % 4))) as u8;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn matches_sha2() {
        let data: std::vec::Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in [0, 1, 55, 56, 63, 64, 65, 128, 1000] {
            let mut s = Sha::new();
            let mut c: &[u8] = &[];
            s.update(&mut c, &data[..n / 2]);
            s.update(&mut c, &data[n / 2..n]);
            assert_eq!(
                s.finish(&mut c)[..],
                sha2::Sha256::digest(&data[..n])[..],
                "n={n}"
            );
        }
    }
}
