//! The crate's one error type.

#[cfg(feature = "std")]
use std::string::String;

/// Everything that can go wrong in this crate outside the dispatcher (which answers with a
/// [`ResponseCode`](crate::ResponseCode) instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A path that is not `/O`, `/O/I`, `/O/I/R` or `/O/I/R/RI` with ids 0 to 65534; `offset`
    /// is the byte (or, for CoAP Uri-Path options, the segment) at fault.
    #[error("invalid LwM2M path at offset {offset}")]
    InvalidPath {
        /// Offset of the first byte (or segment) that does not fit.
        offset: usize,
    },
    /// The output buffer cannot hold what is written into it.
    #[error("output buffer too small ({available} bytes)")]
    BufferTooSmall {
        /// Size of the buffer given.
        available: usize,
    },
    /// An OMA DDF file that cannot be read or does not describe a valid object.
    #[cfg(feature = "std")]
    #[error("{file}:{line}: <{element}>: {reason}")]
    Ddf {
        /// The file name (or the label given to [`load_ddf_str`](crate::ddf::load_ddf_str)).
        file: String,
        /// The element at fault (e.g. `Item ID="3"/Type`).
        element: String,
        /// 1-based line of the element (0 when unknown, e.g. an I/O error).
        line: u32,
        /// What is wrong.
        reason: String,
    },
}
