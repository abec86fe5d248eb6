//! Firmware slots on `embedded-storage` NOR flash: a sequential slot writer, a power-fail-safe
//! progress journal, image verification against a signed manifest, a boot hand-off with a
//! power-fail-safe swap and rollback, and a simulated flash that cuts power anywhere.
//!
//! Everything works on any [`NorFlash`](embedded_storage::nor_flash::NorFlash), so a HAL's
//! flash driver plugs in. `no_std` without `alloc`; feature `alloc` adds [`sim::SimFlash`],
//! `std` adds [`sim::FileFlash`], `ed25519` adds manifest signatures.
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use fota_storage::boot::{boot, BootOutcome};
//! use fota_storage::sim::SimFlash;
//! use fota_storage::{Layout, Manifest, PackageIdentity, Region, Storage};
//!
//! // 4 KiB sectors, 8-byte write granule: active 32 KiB, staging 36 KiB, state 8 KiB.
//! let flash = SimFlash::<8, 4096>::new(19);
//! let layout = Layout::new(
//!     &flash,
//!     Region::new(0, 0x8000),
//!     Region::new(0x8000, 0x9000),
//!     Region::new(0x11000, 0x2000),
//! )?;
//! let image = [0x5Au8; 10_000];
//! let manifest = Manifest {
//!     version: 2,
//!     image_size: image.len() as u32,
//!     payload_size: image.len() as u32,
//!     digest: sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&image)).into(),
//!     base: None,
//!     delta: false,
//!     class: b"acme-sensor",
//! };
//!
//! let mut storage = Storage::mount(flash, layout)?;
//! storage.check_manifest(&manifest, b"acme-sensor")?;
//! storage.begin(PackageIdentity::Pull { uri: b"coap://fw/2", etag: b"v2" })?;
//! for block in image.chunks(1024) {
//!     storage.write(block)?;
//!     storage.sync(&[])?; // the resume point survives a power cut: /5/0/26500
//! }
//! storage.finish()?;
//! storage.mark_pending(&manifest)?; // hashes what is in flash
//!
//! // Reboot: the bootloader swaps the image in; the new firmware confirms it.
//! let mut flash = storage.release();
//! assert_eq!(boot(&mut flash, &layout, &mut [0; 512])?, BootOutcome::Trial);
//! let mut storage = Storage::mount(flash, layout)?;
//! storage.confirm()?;
//! assert_eq!(storage.min_version(), 2);
//! # }
//! # Ok::<(), fota_storage::Error>(())
//! ```
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod boot;
mod error;
pub mod journal;
mod layout;
pub mod manifest;
#[cfg(feature = "alloc")]
pub mod sim;
mod storage;
mod writer;

/// The `embedded-storage` version this crate's traits come from.
pub use embedded_storage;
pub use error::{Error, FlashOp, RegionKind};
pub use journal::{
    BootRecord, BootState, CHECKPOINT_MAX, IdentityDigest, Journal, PackageIdentity,
};
pub use layout::{Layout, Region};
pub use manifest::{Manifest, Policy, SignedManifest};
pub use storage::Storage;
pub use writer::{SlotReader, SlotWriter};

/// Value of an erased NOR flash byte.
pub const ERASED_BYTE: u8 = 0xFF;

/// Largest flash write (and read) granule supported.
pub const MAX_WRITE_SIZE: usize = 32;

/// An erased word of the largest granule: padding is copied from here.
pub(crate) const ERASED: [u8; MAX_WRITE_SIZE] = [ERASED_BYTE; MAX_WRITE_SIZE];

/// Smallest journal bank: banks are whole sectors, at least this large.
pub const MIN_BANK_SIZE: usize = 1024;

/// CRC-32 (IEEE) polynomial, reflected.
pub(crate) const CRC32: u32 = 0xEDB8_8320;
/// CRC-32C (Castagnoli) polynomial, reflected: the second half of an identity's check value.
pub(crate) const CRC32C: u32 = 0x82F6_3B78;

/// Bitwise reflected CRC-32 with polynomial `poly` (small code, and the journal is small):
/// [`CRC32`] for records, both for an identity's check value.
pub(crate) fn crc32_with(poly: u32, mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (poly & mask);
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(!crc32_with(CRC32, 0xFFFF_FFFF, b"123456789"), 0xCBF4_3926);
        assert_eq!(!crc32_with(CRC32C, 0xFFFF_FFFF, b"123456789"), 0xE306_9283);
    }
}
