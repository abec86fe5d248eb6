//! The simulated devices' firmware image format: a 44-byte header (magic `LFW1`, version string,
//! body length), the body, then the SHA-256 of header and body. The version is what /3/0/3
//! reports; the digest is what verification checks in flash before an update is installed.

/// Header length in bytes.
pub const HEADER_LEN: usize = 44;
/// Trailer (SHA-256) length in bytes.
pub const DIGEST_LEN: usize = 32;
const MAGIC: &[u8; 4] = b"LFW1";

/// The version string of an image from its first [`HEADER_LEN`] bytes.
pub fn version(image: &[u8]) -> Option<&[u8]> {
    if image.get(..4)? != MAGIC {
        return None;
    }
    let len = usize::from(*image.get(4)?).min(32);
    image.get(5..5 + len)
}

/// The total image length announced by a header.
pub fn total_len(image: &[u8]) -> Option<usize> {
    if image.get(..4)? != MAGIC {
        return None;
    }
    let body = u32::from_be_bytes(image.get(40..44)?.try_into().ok()?) as usize;
    body.checked_add(HEADER_LEN + DIGEST_LEN)
}

#[cfg(feature = "std")]
mod build {
    use super::*;
    use sha2::{Digest, Sha256};
    use std::vec::Vec;

    /// Builds an image carrying `version` (at most 32 bytes) around `body`.
    pub fn build(version: &str, body: &[u8]) -> Vec<u8> {
        let v = version.as_bytes();
        let v = &v[..v.len().min(32)];
        let mut out = Vec::with_capacity(HEADER_LEN + body.len() + DIGEST_LEN);
        out.extend_from_slice(MAGIC);
        out.push(v.len() as u8);
        out.extend_from_slice(v);
        out.resize(40, 0);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(body);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Whether `image` is well formed and its digest matches.
    pub fn verify(image: &[u8]) -> bool {
        match total_len(image) {
            Some(n) if n == image.len() => {
                let (data, digest) = image.split_at(n - DIGEST_LEN);
                Sha256::digest(data).as_slice() == digest
            }
            _ => false,
        }
    }

    /// A deterministic pseudo-firmware body of `len` bytes: code-like, compressible runs.
    pub fn generate_body(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly small "instruction" words with an occasional literal pool.
            let word = if x.is_multiple_of(5) {
                x as u32
            } else {
                (x as u32) & 0x0fff_f0ff
            };
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    /// The "next release" of `old`: scattered edits, an inserted block and a grown tail, as a
    /// compiler would produce for a small change.
    pub fn evolve_body(old: &[u8], seed: u64) -> Vec<u8> {
        let mut new = old.to_vec();
        let mut x = seed | 1;
        let edits = (old.len() / 2048).max(4);
        for _ in 0..edits {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if new.is_empty() {
                break;
            }
            let at = (x as usize) % new.len();
            let end = (at + 8).min(new.len());
            for b in &mut new[at..end] {
                *b = b.wrapping_add((x >> 32) as u8 | 1);
            }
        }
        let mid = new.len() / 3;
        let insert = generate_body(seed.wrapping_add(7), 512);
        new.splice(mid..mid, insert);
        new.extend_from_slice(&generate_body(seed.wrapping_add(11), 1024));
        new
    }
}

#[cfg(feature = "std")]
pub use build::{build, evolve_body, generate_body, verify};

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    #[test]
    fn build_verify_version() {
        let img = build("2.1.0", &generate_body(1, 5000));
        assert!(verify(&img));
        assert_eq!(version(&img), Some(&b"2.1.0"[..]));
        assert_eq!(total_len(&img), Some(img.len()));
        let mut bad = img.clone();
        bad[100] ^= 1;
        assert!(!verify(&bad));
    }
}
