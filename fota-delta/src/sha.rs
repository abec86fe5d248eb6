//! SHA-256 with an exposed mid-state, so that a checkpoint can carry the running digest of the new
//! image in 32 bytes (checkpoints fall on 64-byte boundaries, where no partial block is pending).

use sha2::digest::generic_array::GenericArray;

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
pub(crate) struct Sha {
    pub(crate) state: [u32; 8],
    buf: [u8; 64],
    fill: usize,
    pub(crate) len: u64,
}

impl Sha {
    pub(crate) const fn new() -> Self {
        Sha {
            state: H0,
            buf: [0; 64],
            fill: 0,
            len: 0,
        }
    }

    /// Restores a state taken at a 64-byte boundary.
    pub(crate) const fn from_mid(state: [u32; 8], len: u64) -> Self {
        Sha {
            state,
            buf: [0; 64],
            fill: 0,
            len,
        }
    }

    fn block(&mut self) {
        let b = GenericArray::from(self.buf);
        sha2::compress256(&mut self.state, core::slice::from_ref(&b));
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        for &byte in data {
            if let Some(slot) = self.buf.get_mut(self.fill) {
                *slot = byte;
            }
            self.fill += 1;
            if self.fill >= 64 {
                self.block();
                self.fill = 0;
            }
        }
    }

    pub(crate) fn finish(mut self) -> [u8; 32] {
        let bits = self.len.wrapping_mul(8);
        self.update(&[0x80]);
        while self.fill != 56 {
            self.update(&[0]);
        }
        for (i, b) in bits.to_be_bytes().iter().enumerate() {
            if let Some(slot) = self.buf.get_mut(56 + i) {
                *slot = *b;
            }
        }
        self.block();
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state.iter()) {
            chunk.copy_from_slice(&word.to_be_bytes());
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
            s.update(&data[..n / 2]);
            s.update(&data[n / 2..n]);
            assert_eq!(
                s.finish()[..],
                sha2::Sha256::digest(&data[..n])[..],
                "n={n}"
            );
        }
    }
}
