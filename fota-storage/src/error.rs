//! The crate's one error type and its mapping to LwM2M Update Result codes.

use embedded_storage::nor_flash::NorFlashErrorKind;

/// Everything that can go wrong in `fota-storage`.
///
/// Each variant says what was wrong and where; [`Error::update_result`] maps it to the
/// Firmware Update object's Update Result (resource /5/0/5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The flash driver failed (or power was cut) during an operation at `offset`.
    #[error("flash {op:?} failed at offset {offset:#x}: {kind:?}")]
    Flash {
        /// Which operation failed.
        op: FlashOp,
        /// Absolute flash offset of the operation.
        offset: u32,
        /// The driver's error kind.
        kind: NorFlashErrorKind,
    },
    /// A region of the layout is not aligned to the flash's erase or write size.
    #[error("region {region:?} at {offset:#x}+{size:#x} is not aligned to {align} bytes")]
    Misaligned {
        /// Which region.
        region: RegionKind,
        /// Its start offset.
        offset: u32,
        /// Its size.
        size: u32,
        /// The alignment it must have.
        align: u32,
    },
    /// A region lies outside the flash or overlaps another region.
    #[error("region {region:?} at {offset:#x}+{size:#x} is out of the flash or overlaps another")]
    BadRegion {
        /// Which region.
        region: RegionKind,
        /// Its start offset.
        offset: u32,
        /// Its size.
        size: u32,
    },
    /// The flash geometry is not supported (write or read size above
    /// [`MAX_WRITE_SIZE`](crate::MAX_WRITE_SIZE), sizes not powers of two, slot too small).
    #[error("unsupported flash geometry")]
    Geometry,
    /// Writing `len` bytes at `offset` would go past the slot's `capacity`: not enough flash
    /// (Update Result 2).
    #[error("{len} bytes at offset {offset} do not fit in {capacity} bytes of slot")]
    OutOfSpace {
        /// Offset in the slot where the write starts.
        offset: u32,
        /// Bytes asked for.
        len: u32,
        /// Capacity of the slot.
        capacity: u32,
    },
    /// A write arrived for `offset` while the slot expects the next byte at `expected`.
    #[error("write at offset {offset} but the next byte expected is {expected}")]
    OutOfOrder {
        /// Offset the write asked for.
        offset: u32,
        /// Next offset the writer accepts.
        expected: u32,
    },
    /// A read at `offset` of `len` bytes goes past the end of the slot.
    #[error("read of {len} bytes at offset {offset} is outside the slot")]
    ReadOutOfBounds {
        /// Offset in the slot.
        offset: u32,
        /// Length asked for.
        len: u32,
    },
    /// A journal record payload is larger than the journal allows.
    #[error("journal payload of {len} bytes exceeds {max}")]
    TooLarge {
        /// Length given.
        len: u32,
        /// Maximum allowed.
        max: u32,
    },
    /// The operation is not allowed in the current boot or download state.
    #[error("operation not allowed in the current state")]
    InvalidState,
    /// The manifest is malformed at `offset` (Update Result 5).
    #[error("malformed manifest at byte {offset}")]
    BadManifest {
        /// Byte offset of the first bad field.
        offset: u32,
    },
    /// The manifest's format version is not supported (Update Result 6).
    #[error("unsupported manifest format version {version}")]
    UnsupportedFormat {
        /// The version found.
        version: u8,
    },
    /// The manifest signature does not verify (Update Result 5).
    #[error("manifest signature does not verify")]
    BadSignature,
    /// The manifest is for another vendor or device class (Update Result 6).
    #[error("manifest is for another vendor or device class")]
    WrongClass,
    /// The manifest's firmware version is below the anti-rollback counter (Update Result 6).
    #[error("firmware version {version} is below the anti-rollback counter {minimum}")]
    Rollback {
        /// Version in the manifest.
        version: u32,
        /// Lowest version the device accepts.
        minimum: u32,
    },
    /// The image in flash does not have the manifest's size or digest (Update Result 5).
    #[error("image digest mismatch")]
    DigestMismatch,
    /// The active image is not the base the delta was made for (Update Result 5).
    #[error("base image digest mismatch")]
    BaseMismatch,
}

/// A flash operation, for [`Error::Flash`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashOp {
    /// `ReadNorFlash::read`.
    Read,
    /// `NorFlash::write`.
    Write,
    /// `NorFlash::erase`.
    Erase,
}

/// A region of the [`Layout`](crate::Layout), for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// The slot the device boots from.
    Active,
    /// The slot a download is written to.
    Staging,
    /// The state area holding the journal.
    State,
}

impl Error {
    /// The LwM2M Update Result (resource /5/0/5) this error reports: 2 not enough flash,
    /// 5 integrity check failure, 6 unsupported package type, 8 update failed otherwise.
    pub fn update_result(&self) -> u8 {
        match self {
            Error::OutOfSpace { .. } => 2,
            Error::BadManifest { .. }
            | Error::BadSignature
            | Error::DigestMismatch
            | Error::BaseMismatch => 5,
            Error::UnsupportedFormat { .. } | Error::WrongClass | Error::Rollback { .. } => 6,
            _ => 8,
        }
    }

    pub(crate) fn flash<E: embedded_storage::nor_flash::NorFlashError>(
        op: FlashOp,
        offset: u32,
        e: E,
    ) -> Self {
        Error::Flash {
            op,
            offset,
            kind: e.kind(),
        }
    }
}
