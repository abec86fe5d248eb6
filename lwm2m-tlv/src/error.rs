//! The crate's one error type.

use crate::Kind;

/// What kind of value a typed accessor expected; named in [`Error::ValueLength`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// Signed integer (also Time): 1, 2, 4 or 8 bytes.
    Integer,
    /// Unsigned integer: 1, 2, 4 or 8 bytes.
    Unsigned,
    /// IEEE 754 float: 4 or 8 bytes.
    Float,
    /// Boolean: 1 byte.
    Boolean,
    /// Object link: 4 bytes (object ID, instance ID).
    ObjectLink,
}

impl DataType {
    /// The name used in error messages (`integer`, `unsigned`, `float`, `boolean`, `object link`).
    pub const fn name(self) -> &'static str {
        match self {
            DataType::Integer => "integer",
            DataType::Unsigned => "unsigned",
            DataType::Float => "float",
            DataType::Boolean => "boolean",
            DataType::ObjectLink => "object link",
        }
    }

    /// The value lengths this type allows, for error messages.
    pub const fn allowed_lengths(self) -> &'static str {
        match self {
            DataType::Integer | DataType::Unsigned => "1, 2, 4 or 8",
            DataType::Float => "4 or 8",
            DataType::Boolean => "1",
            DataType::ObjectLink => "4",
        }
    }
}

impl core::fmt::Display for DataType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong while decoding, checking or encoding TLV.
///
/// Decoding errors carry the byte offset (from the start of the payload given to the decoder)
/// of the record or byte at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The record header starting at `offset` runs past the end of the input or of its
    /// parent container.
    #[error("truncated TLV header at offset {offset}")]
    TruncatedHeader {
        /// Offset of the record's type byte.
        offset: usize,
    },
    /// The value length of the record at `offset` runs past the end of the input or of its
    /// parent container.
    #[error(
        "TLV value length {len} at offset {offset} runs past the end of its input or container (only {available} available)"
    )]
    ValueOverrun {
        /// Offset of the record's type byte.
        offset: usize,
        /// Value length given by the header.
        len: usize,
        /// Bytes left in the input or the parent after the header.
        available: usize,
    },
    /// A record of `kind` sits inside a `parent` that cannot hold it (object instance holds
    /// resources and multiple resources; multiple resource holds resource instances).
    #[error("{kind} record at offset {offset} cannot be nested in a {parent}")]
    BadNesting {
        /// Offset of the record's type byte (encoder: the write position).
        offset: usize,
        /// The container.
        parent: Kind,
        /// The misplaced record's kind.
        kind: Kind,
    },
    /// A typed accessor found a value length its type does not allow.
    #[error("{ty} value at offset {offset} has {len} bytes (allowed: {})", ty.allowed_lengths())]
    ValueLength {
        /// Offset of the record's type byte.
        offset: usize,
        /// The type asked for.
        ty: DataType,
        /// The value length found.
        len: usize,
    },
    /// A boolean value other than 0 or 1.
    #[error("boolean value {byte} at offset {offset} (must be 0 or 1)")]
    InvalidBoolean {
        /// Offset of the record's type byte.
        offset: usize,
        /// The byte found.
        byte: u8,
    },
    /// A string value that is not UTF-8.
    #[error("invalid UTF-8 at offset {offset}")]
    InvalidUtf8 {
        /// Offset of the first byte that is not valid UTF-8.
        offset: usize,
    },
    /// A typed accessor was used on a container record (object instance or multiple resource).
    #[error("{kind} record at offset {offset} has no scalar value")]
    NotAValue {
        /// Offset of the record's type byte.
        offset: usize,
        /// The record's kind.
        kind: Kind,
    },
    /// A record kind that the request path does not allow at this place.
    #[error("unexpected {kind} record at offset {offset} for the request path")]
    UnexpectedKind {
        /// Offset of the record's type byte.
        offset: usize,
        /// The record's kind.
        kind: Kind,
    },
    /// A record whose id differs from the one the request path names.
    #[error("{kind} record at offset {offset} has id {found}, the request path names {expected}")]
    IdMismatch {
        /// Offset of the record's type byte.
        offset: usize,
        /// The record's kind.
        kind: Kind,
        /// The id from the path.
        expected: u16,
        /// The id in the payload.
        found: u16,
    },
    /// The payload holds no record where the request path needs one.
    #[error("missing TLV record at offset {offset}")]
    MissingRecord {
        /// Offset where the record was expected.
        offset: usize,
    },
    /// The payload holds another record where the request path allows exactly one.
    #[error("extra TLV record at offset {offset} (the request path allows one)")]
    ExtraRecord {
        /// Offset of the extra record's type byte.
        offset: usize,
    },
    /// The encoder's buffer cannot hold the next record.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the buffer would need in total.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A value or container longer than the 2^24-1 bytes a TLV length can say.
    #[error("value of {len} bytes is longer than a TLV can hold (16777215)")]
    ValueTooLong {
        /// The length asked for.
        len: usize,
    },
    /// The encoder's containers are not balanced: `end` without an open container, or
    /// `finish` with containers still open.
    #[error("unbalanced TLV containers at offset {offset}")]
    Unbalanced {
        /// The write position.
        offset: usize,
    },
}
