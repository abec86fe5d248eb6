//! The signed manifest that travels in front of an image, streaming SHA-256 of flash, and the
//! checks that map to Update Result 5 and 6.
//!
//! # Format (little-endian)
//!
//! ```text
//! 0   "FOTM"
//! 4   format version (1)
//! 5   flags: bit 0 base-image digest present, bit 1 payload is a delta; others 0
//! 6   class id length (0..=32)
//! 7   0
//! 8   firmware version u32 (monotonic)
//! 12  image size u32 (the new image, as installed)
//! 16  payload size u32 (bytes after the manifest: the image or the delta)
//! 20  SHA-256 of the image [32]
//! 52  if flag 0: base image size u32, SHA-256 of the base image [32]
//! ..  class id (vendor/device class)
//! ..  Ed25519 signature [64] of everything before it
//! ```

use embedded_storage::nor_flash::NorFlash;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::layout::{self, Region};

/// First bytes of every manifest.
pub const MAGIC: [u8; 4] = *b"FOTM";
/// The manifest format version this crate reads and writes.
pub const FORMAT_VERSION: u8 = 1;
/// Longest vendor/class id.
pub const CLASS_MAX: usize = 32;
/// Length of the Ed25519 signature after the signed bytes.
pub const SIGNATURE_LEN: usize = 64;
/// Longest manifest including its signature.
pub const MANIFEST_MAX: usize = 52 + 36 + CLASS_MAX + SIGNATURE_LEN;

const FLAG_BASE: u8 = 1;
const FLAG_DELTA: u8 = 2;

/// A SHA-256 digest.
pub type Digest32 = [u8; 32];

/// The manifest's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Manifest<'a> {
    /// Monotonic firmware version (checked against the anti-rollback counter).
    pub version: u32,
    /// Size of the installed image.
    pub image_size: u32,
    /// Bytes of payload following the manifest (the image, or the delta).
    pub payload_size: u32,
    /// SHA-256 of the installed image.
    pub digest: Digest32,
    /// For a delta: size and SHA-256 of the image it applies to.
    pub base: Option<(u32, Digest32)>,
    /// The payload is a delta (to be patched against the base).
    pub delta: bool,
    /// Vendor / device class the image is built for.
    pub class: &'a [u8],
}

/// A parsed manifest with the bytes its signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedManifest<'a> {
    /// The fields.
    pub manifest: Manifest<'a>,
    /// The bytes the signature covers (the manifest without its signature).
    pub signed: &'a [u8],
    /// The Ed25519 signature.
    pub signature: &'a [u8],
}

/// What the device accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy<'a> {
    /// The device's vendor/class id: a manifest for another is refused (Update Result 6).
    pub class: &'a [u8],
    /// The anti-rollback counter: lower versions are refused (Update Result 6).
    pub min_version: u32,
}

fn get<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    out.copy_from_slice(
        b.get(at..at + N)
            .ok_or(Error::BadManifest { offset: at as u32 })?,
    );
    Ok(out)
}

impl<'a> Manifest<'a> {
    /// Length of the encoded manifest without the signature.
    pub fn encoded_len(&self) -> usize {
        52 + if self.base.is_some() { 36 } else { 0 } + self.class.len()
    }

    /// Writes the signed part of the manifest into `out`; returns its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let len = self.encoded_len();
        if self.class.len() > CLASS_MAX {
            return Err(Error::TooLarge {
                len: self.class.len() as u32,
                max: CLASS_MAX as u32,
            });
        }
        let room = out.len() as u32;
        let out = out.get_mut(..len).ok_or(Error::TooLarge {
            len: len as u32,
            max: room,
        })?;
        out[..4].copy_from_slice(&MAGIC);
        out[4] = FORMAT_VERSION;
        out[5] = if self.base.is_some() { FLAG_BASE } else { 0 }
            | if self.delta { FLAG_DELTA } else { 0 };
        out[6] = self.class.len() as u8;
        out[7] = 0;
        out[8..12].copy_from_slice(&self.version.to_le_bytes());
        out[12..16].copy_from_slice(&self.image_size.to_le_bytes());
        out[16..20].copy_from_slice(&self.payload_size.to_le_bytes());
        out[20..52].copy_from_slice(&self.digest);
        let mut at = 52;
        if let Some((size, digest)) = self.base {
            out[52..56].copy_from_slice(&size.to_le_bytes());
            out[56..88].copy_from_slice(&digest);
            at = 88;
        }
        out[at..].copy_from_slice(self.class);
        Ok(len)
    }

    /// Encodes and signs with `key`: `out` receives manifest and signature; returns the length.
    #[cfg(feature = "ed25519")]
    pub fn sign(&self, key: &ed25519_dalek::SigningKey, out: &mut [u8]) -> Result<usize, Error> {
        use ed25519_dalek::Signer;
        let len = self.encode(out)?;
        let sig = key.sign(out.get(..len).unwrap_or(&[])).to_bytes();
        let room = out.len() as u32;
        out.get_mut(len..len + SIGNATURE_LEN)
            .ok_or(Error::TooLarge {
                len: (len + SIGNATURE_LEN) as u32,
                max: room,
            })?
            .copy_from_slice(&sig);
        Ok(len + SIGNATURE_LEN)
    }

    /// Checks the manifest against the device's `policy`: class (6), version (6), sizes.
    pub fn check(&self, policy: &Policy<'_>, max_image_size: u32) -> Result<(), Error> {
        if self.class != policy.class {
            return Err(Error::WrongClass);
        }
        if self.version < policy.min_version {
            return Err(Error::Rollback {
                version: self.version,
                minimum: policy.min_version,
            });
        }
        if self.image_size > max_image_size {
            return Err(Error::OutOfSpace {
                offset: 0,
                len: self.image_size,
                capacity: max_image_size,
            });
        }
        Ok(())
    }
}

impl<'a> SignedManifest<'a> {
    /// Parses a manifest and its signature from the start of `bytes`; returns it and the number
    /// of bytes it takes (the payload follows).
    pub fn parse(bytes: &'a [u8]) -> Result<(Self, usize), Error> {
        if bytes.get(..4) != Some(&MAGIC[..]) {
            return Err(Error::BadManifest { offset: 0 });
        }
        let [format, flags, class_len, zero] = get::<4>(bytes, 4)?;
        if format != FORMAT_VERSION {
            return Err(Error::UnsupportedFormat { version: format });
        }
        if flags & !(FLAG_BASE | FLAG_DELTA) != 0 {
            return Err(Error::BadManifest { offset: 5 });
        }
        if class_len as usize > CLASS_MAX {
            return Err(Error::BadManifest { offset: 6 });
        }
        if zero != 0 {
            return Err(Error::BadManifest { offset: 7 });
        }
        let version = u32::from_le_bytes(get(bytes, 8)?);
        let image_size = u32::from_le_bytes(get(bytes, 12)?);
        let payload_size = u32::from_le_bytes(get(bytes, 16)?);
        let digest = get::<32>(bytes, 20)?;
        let mut at = 52;
        let base = if flags & FLAG_BASE != 0 {
            at = 88;
            Some((u32::from_le_bytes(get(bytes, 52)?), get::<32>(bytes, 56)?))
        } else {
            None
        };
        let delta = flags & FLAG_DELTA != 0;
        if delta && base.is_none() {
            return Err(Error::BadManifest { offset: 5 });
        }
        let end = at + class_len as usize;
        let class = bytes
            .get(at..end)
            .ok_or(Error::BadManifest { offset: at as u32 })?;
        let signature = bytes
            .get(end..end + SIGNATURE_LEN)
            .ok_or(Error::BadManifest { offset: end as u32 })?;
        let signed = bytes.get(..end).ok_or(Error::BadManifest { offset: 0 })?;
        let manifest = Manifest {
            version,
            image_size,
            payload_size,
            digest,
            base,
            delta,
            class,
        };
        Ok((
            SignedManifest {
                manifest,
                signed,
                signature,
            },
            end + SIGNATURE_LEN,
        ))
    }

    /// Verifies the Ed25519 signature with the vendor's 32-byte public key (strict
    /// verification: no malleable signatures, no weak keys). Failure is Update Result 5.
    #[cfg(feature = "ed25519")]
    pub fn verify_signature(&self, public_key: &[u8; 32]) -> Result<(), Error> {
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(public_key).map_err(|_| Error::BadSignature)?;
        let sig = ed25519_dalek::Signature::from_slice(self.signature)
            .map_err(|_| Error::BadSignature)?;
        key.verify_strict(self.signed, &sig)
            .map_err(|_| Error::BadSignature)
    }
}

/// SHA-256 of `bytes` (for the side that builds manifests).
pub fn sha256(bytes: &[u8]) -> Digest32 {
    Sha256::digest(bytes).into()
}

/// SHA-256 of `len` bytes at the start of `region`, read back from flash in small chunks.
pub fn digest_region<F: NorFlash>(
    flash: &mut F,
    region: Region,
    len: u32,
) -> Result<Digest32, Error> {
    if len > region.size {
        return Err(Error::ReadOutOfBounds { offset: 0, len });
    }
    let mut h = Sha256::new();
    let mut buf = [0u8; 256];
    let mut done = 0u32;
    while done < len {
        let n = (len - done).min(buf.len() as u32) as usize;
        let b = buf.get_mut(..n).ok_or(Error::InvalidState)?;
        layout::read(flash, region.offset + done, b)?;
        h.update(&*b);
        done += n as u32;
    }
    Ok(h.finalize().into())
}

/// Checks that the first `manifest.image_size` bytes of `region` hash to the manifest's digest
/// (Update Result 5 otherwise).
pub fn verify_image<F: NorFlash>(
    flash: &mut F,
    region: Region,
    manifest: &Manifest<'_>,
) -> Result<(), Error> {
    if manifest.image_size > region.size {
        return Err(Error::DigestMismatch);
    }
    let d = digest_region(flash, region, manifest.image_size)?;
    if d != manifest.digest {
        return Err(Error::DigestMismatch);
    }
    Ok(())
}
