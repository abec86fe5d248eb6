//! Delta patches for firmware: a `no_std` streaming patcher that applies a patch while it is
//! downloaded, in a few KiB of fixed RAM, and resumes after a power cut; with `std`, a
//! bsdiff-class generator, BSDIFF40 interop and the `fota-delta` command-line tool.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use fota_delta::{Patcher, diff};
//!
//! let old: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
//! let mut new = old.clone();
//! new[100..110].copy_from_slice(b"new bytes!");
//! let patch = diff(&old, &new);
//!
//! // On the device: feed the patch as it arrives, e.g. one CoAP block at a time.
//! let mut patcher = Patcher::new();
//! let mut out = Vec::new();
//! for block in patch.chunks(64) {
//!     patcher.feed(block, &mut old.as_slice(), &mut out)?;
//! }
//! patcher.finish(&mut old.as_slice(), &mut out)?;
//! assert_eq!(out, new);
//! # }
//! # Ok::<(), fota_delta::Error>(())
//! ```
//!
//! The native patch is one sequential stream: an 84-byte [`Header`] (magic, version, sizes,
//! SHA-256 of both images, compression id, checkpoint interval) followed by bsdiff control,
//! diff and extra data interleaved record by record, coded by an adaptive binary range coder
//! with a context model of delta and literal bytes. Every `1 << interval_log2` new-image bytes
//! the coder restarts, which is where [`Checkpoint`]s fall.
#![no_std]

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
pub mod bsdiff40;
#[cfg(feature = "std")]
mod diff;
mod error;
mod header;
mod patcher;
mod rc;
mod sha;

#[cfg(feature = "std")]
pub use diff::{DEFAULT_INTERVAL_LOG2, DiffOptions, diff, diff_with, raw, records};
pub use error::Error;
pub use header::{COMPRESSION_RANGE_CODER, HEADER_LEN, Header, MAGIC, VERSION};
pub use patcher::{
    CHECKPOINT_LEN, Checkpoint, ImageIoError, NewImage, OldImage, PATCHER_RAM, PATCHER_RAM_LIMIT,
    Patcher, Progress,
};
pub use rc::Record;

/// Magic bytes of the classic bsdiff 4 patch format.
pub const BSDIFF40_MAGIC: &[u8; 8] = b"BSDIFF40";

/// Applies a native patch in memory through the streaming [`Patcher`] (fed in 1 KiB chunks).
#[cfg(feature = "std")]
pub fn apply(old: &[u8], patch: &[u8]) -> Result<std::vec::Vec<u8>, Error> {
    let mut p = Patcher::new();
    let mut out = std::vec::Vec::new();
    let mut src = old;
    for chunk in patch.chunks(1024) {
        p.feed(chunk, &mut src, &mut out)?;
    }
    p.finish(&mut src, &mut out)?;
    Ok(out)
}
