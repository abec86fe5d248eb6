//! The crate's one error type.

/// Everything that can go wrong in this crate: malformed messages (with the byte offset),
/// bad option values (with the option number), buffers too small, and transfer failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
// The variant a whole word: what follows it starts at a word boundary, so a `Result` holding
// an `Error` or a builder/view moves as word copies (no byte plus odd-length `memcpy` call).
#[repr(u32)]
pub enum Error {
    /// The message ends before the 4-byte header, the token, an option or its extended fields.
    #[error("message truncated at byte {offset}")]
    Truncated {
        /// Offset where more bytes were expected.
        offset: usize,
    },
    /// The version field is not 1.
    #[error("unsupported CoAP version {0}")]
    Version(u8),
    /// Token length 9..=15 (reserved).
    #[error("token length {0} is reserved")]
    TokenLength(u8),
    /// Option delta or length nibble 15 outside the payload marker.
    #[error("reserved option nibble 15 at byte {offset}")]
    ReservedNibble {
        /// Offset of the option header byte.
        offset: usize,
    },
    /// The option number would exceed 65535.
    #[error("option number overflow at byte {offset}")]
    OptionNumber {
        /// Offset of the option header byte.
        offset: usize,
    },
    /// A payload marker is followed by no payload.
    #[error("payload marker without payload at byte {offset}")]
    EmptyPayload {
        /// Offset of the 0xFF marker.
        offset: usize,
    },
    /// A message with code 0.00 carries a token, options or payload.
    #[error("empty message (0.00) with content")]
    EmptyMessage,
    /// An option value is malformed (uint longer than 4 bytes, Block longer than 3, SZX 7, ...).
    #[error("bad value of option {number}")]
    BadOption {
        /// The option number.
        number: u16,
    },
    /// A Block NUM beyond 2^20 - 1 or an offset past the 32-bit range.
    #[error("block number out of range")]
    BlockNumber,
    /// A caller buffer (for a message, token or Request-Tag) is too small.
    #[error("buffer too small")]
    BufferTooSmall,
    /// Options must be added to a builder in non-decreasing number order.
    #[error("option {number} added after a larger option number")]
    OptionOrder {
        /// The option number that came out of order.
        number: u16,
    },
    /// A block payload does not match its Block option (wrong size for a non-final block).
    #[error("payload of block {num} has the wrong length")]
    BlockPayload {
        /// The block number.
        num: u32,
    },
    /// The body does not fit into the sink (or the peer's announced size exceeds its capacity).
    #[error("body too large: capacity {capacity} bytes")]
    TooLarge {
        /// What the receiving side can take.
        capacity: u32,
    },
    /// A caller-provided sink or source failed (flash write, file read, ...).
    #[error("sink or source failed")]
    Storage,
    /// The peer answered with an error code (class.detail as one byte).
    #[error("peer answered with code {0:#04x}")]
    Response(u8),
    /// A response does not belong to the transfer's state (wrong block, missing option).
    #[error("unexpected response")]
    Unexpected,
    /// The resource changed during the transfer (ETag mismatch).
    #[error("ETag changed during the transfer")]
    EtagChanged,
    /// Retransmissions ran out without an acknowledgement.
    #[error("no acknowledgement after all retransmissions")]
    Timeout,
    /// The peer answered with a Reset.
    #[error("peer answered with Reset")]
    Reset,
    /// An exchange is already in flight.
    #[error("an exchange is already in flight")]
    Busy,
    /// Socket or file error in the `std` helpers (the `std::io::ErrorKind` is not kept).
    #[error("I/O error")]
    Io,
}

#[cfg(test)]
mod tests {
    use super::Error;
    use core::mem::size_of;

    #[test]
    fn sizes() {
        // Two words (the variant, then an offset or a value), and `Option`/`Result` still
        // use the unused variant numbers: no tag of their own.
        assert_eq!(size_of::<Error>(), 2 * size_of::<usize>());
        assert_eq!(size_of::<Option<Error>>(), size_of::<Error>());
        assert_eq!(size_of::<Result<(), Error>>(), size_of::<Error>());
    }
}
