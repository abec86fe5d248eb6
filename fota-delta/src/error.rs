//! The crate's one error type.

/// Everything that can go wrong while reading, applying or writing a patch.
///
/// Offsets name where the problem was found: `patch_offset` counts bytes of the patch stream,
/// `new_offset` bytes of the new image, `old_offset` bytes of the old image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The patch does not start with the native magic `FOTADP`.
    #[error("not a fota-delta patch (bad magic)")]
    BadMagic,
    /// The patch's format version is not one this crate reads.
    #[error("unsupported patch format version {version}")]
    UnsupportedVersion {
        /// Version byte found in the header (a `u32` like every other payload: one error
        /// layout keeps error construction small on the device).
        version: u32,
    },
    /// The patch uses a compression id this crate does not know.
    #[error("unsupported compression id {id}")]
    UnsupportedCompression {
        /// Compression id found in the header.
        id: u32,
    },
    /// A header field is out of range (reserved bytes not zero, bad checkpoint interval).
    #[error("invalid patch header field at byte {offset}")]
    BadHeader {
        /// Offset of the offending header byte.
        offset: u32,
    },
    /// The old image on the device is not the one the patch was made against.
    #[error("old image digest does not match the patch")]
    OldDigestMismatch,
    /// The rebuilt new image does not have the digest the patch promised.
    #[error("new image digest does not match the patch")]
    NewDigestMismatch,
    /// The compressed stream is corrupt (a block does not start with a zero byte).
    #[error("corrupt compressed stream at patch byte {patch_offset}")]
    CorruptStream {
        /// Offset in the patch.
        patch_offset: u32,
    },
    /// A control record copies and adds nothing (it would make no progress).
    #[error("empty control record at new byte {new_offset}")]
    EmptyRecord {
        /// Offset in the new image.
        new_offset: u32,
    },
    /// A control record writes past the end of the new image or across a checkpoint block.
    #[error("control record at new byte {new_offset} overruns the image or block")]
    NewOverrun {
        /// Offset in the new image where the record starts.
        new_offset: u32,
    },
    /// A control record reads the old image outside its bounds.
    #[error("control record at new byte {new_offset} reads the old image out of bounds")]
    OldOutOfBounds {
        /// Offset in the new image where the record starts.
        new_offset: u32,
    },
    /// A seek moves the old-image position beyond any meaningful range.
    #[error("seek out of range at new byte {new_offset}")]
    SeekOutOfRange {
        /// Offset in the new image.
        new_offset: u32,
    },
    /// The patch ended before the new image was complete.
    #[error("patch truncated at byte {patch_offset}")]
    Truncated {
        /// Bytes of patch received.
        patch_offset: u32,
    },
    /// Bytes follow the end of the patch stream.
    #[error("trailing data after the end of the patch at byte {patch_offset}")]
    TrailingData {
        /// Offset of the first extra byte.
        patch_offset: u32,
    },
    /// The patch is larger than 4 GiB, or an image size does not fit the device's address space.
    #[error("size out of range")]
    TooLarge,
    /// Reading the old image failed.
    #[error("reading the old image at {offset} failed")]
    OldRead {
        /// Offset of the read.
        offset: u32,
    },
    /// Writing the new image failed.
    #[error("writing the new image at {offset} failed")]
    NewWrite {
        /// Offset of the write.
        offset: u32,
    },
    /// `feed` or `finish` was called after the patch was finished or failed.
    #[error("patcher already finished or failed")]
    Finished,
    /// A stored checkpoint is corrupt or from another version.
    #[error("invalid checkpoint")]
    BadCheckpoint,
    /// A BSDIFF40 patch has a bad header.
    #[error("not a BSDIFF40 patch or bad header")]
    Bsdiff40Header,
    /// A BSDIFF40 integer is negative where it must not be, or "negative zero".
    #[error("invalid BSDIFF40 integer at control entry {index}")]
    Bsdiff40Integer {
        /// Index of the control triple (saturated).
        index: u32,
    },
    /// A BSDIFF40 bzip2 stream is corrupt or too short.
    #[error("corrupt or short bzip2 stream in BSDIFF40 patch")]
    Bsdiff40Stream,
}
