//! Zero-copy, `no_std` codec for the OMA LwM2M TLV payload format (CoAP content format 11542,
//! legacy 1542).
//!
//! The decoder is a checked view over a byte slice that yields [`Tlv`] records borrowing their
//! values; the [`Writer`] encodes into a caller buffer. Neither allocates. Malformed input gives
//! a typed [`Error`] naming what is wrong and at which offset; nothing panics.
//!
//! ```
//! use lwm2m_tlv::{Kind, Path, Writer, check_path, decode};
//!
//! // Encode /3/0 with a few resources, nested containers included.
//! let mut buf = [0u8; 64];
//! let mut w = Writer::new(&mut buf);
//! w.begin_instance(0)?;
//! w.resource_str(0, "Open Mobile Alliance")?;
//! w.begin_multiple(6)?;
//! w.resource_instance_i64(0, 1)?;
//! w.resource_instance_i64(1, 5)?;
//! w.end()?;
//! w.resource_i64(9, 100)?;
//! w.end()?;
//! let n = w.finish()?;
//! let payload = &buf[..n];
//!
//! // Decode it: records borrow from `payload`.
//! let instance = decode(payload).next().unwrap()?;
//! assert_eq!((instance.kind(), instance.id()), (Kind::ObjectInstance, 0));
//! for res in instance.children() {
//!     let res = res?;
//!     match (res.kind(), res.id()) {
//!         (Kind::Resource, 0) => assert_eq!(res.as_str()?, "Open Mobile Alliance"),
//!         (Kind::MultipleResource, 6) => {
//!             let sources: Result<Vec<i64>, _> =
//!                 res.children().map(|ri| ri?.as_i64()).collect();
//!             assert_eq!(sources?, [1, 5]);
//!         }
//!         (Kind::Resource, 9) => assert_eq!(res.as_i64()?, 100),
//!         _ => unreachable!(),
//!     }
//! }
//!
//! // Check a Write to /3/0 against its path and get the resources it carries.
//! assert_eq!(check_path(payload, Path::Instance(3, 0))?.count(), 3);
//! assert!(check_path(payload, Path::Instance(3, 1)).is_err());
//! # Ok::<(), lwm2m_tlv::Error>(())
//! ```
//!
//! Features: `alloc` adds [`Writer::append`] onto a `Vec<u8>`, the owned tree [`Node`] and
//! encoding into [`bytes::BufMut`]; `std` adds `std::error::Error`; `serde` derives
//! `Serialize`/`Deserialize` for the owned tree and the small types.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod decode;
mod encode;
mod error;
#[cfg(feature = "alloc")]
mod owned;
mod path;

pub use decode::{Records, Tlv, decode, validate};
pub use encode::{MAX_VALUE_LEN, Sink, Value, Writer, encoded_len, header_len, int_len, uint_len};
pub use error::{DataType, Error};
#[cfg(feature = "alloc")]
pub use owned::{Content, Node, put_header};
pub use path::{Path, check_path};

#[cfg(feature = "alloc")]
pub use bytes;

/// CoAP Content-Format number of LwM2M TLV (`application/vnd.oma.lwm2m+tlv`).
pub const CONTENT_FORMAT_TLV: u16 = 11542;
/// Legacy pre-registration Content-Format number of LwM2M TLV (same codec).
pub const CONTENT_FORMAT_TLV_LEGACY: u16 = 1542;

/// Whether a CoAP Content-Format number denotes LwM2M TLV (11542 or the legacy 1542).
#[inline]
pub const fn is_tlv_content_format(cf: u16) -> bool {
    cf == CONTENT_FORMAT_TLV || cf == CONTENT_FORMAT_TLV_LEGACY
}

/// The kind of a TLV record (bits 7-6 of the type byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Kind {
    /// Object instance (`00`): holds resources and multiple resources.
    ObjectInstance,
    /// Resource instance (`01`): one value of a multiple resource.
    ResourceInstance,
    /// Multiple resource (`10`): holds resource instances.
    MultipleResource,
    /// Resource with a value (`11`).
    Resource,
}

impl Kind {
    /// The kind from the two type bits (only the low two bits of `bits` are used).
    #[inline]
    pub const fn from_bits(bits: u8) -> Kind {
        match bits & 3 {
            0 => Kind::ObjectInstance,
            1 => Kind::ResourceInstance,
            2 => Kind::MultipleResource,
            _ => Kind::Resource,
        }
    }

    /// The two type bits of this kind.
    #[inline]
    pub const fn bits(self) -> u8 {
        match self {
            Kind::ObjectInstance => 0,
            Kind::ResourceInstance => 1,
            Kind::MultipleResource => 2,
            Kind::Resource => 3,
        }
    }

    /// Whether records of this kind hold nested records rather than a value.
    #[inline]
    pub const fn is_container(self) -> bool {
        matches!(self, Kind::ObjectInstance | Kind::MultipleResource)
    }

    /// Whether a record of this kind may hold a record of kind `child`.
    #[inline]
    pub const fn may_contain(self, child: Kind) -> bool {
        // Bit `4 * parent + child`: object instance (0) holds multiple resources (2) and
        // resources (3); a multiple resource (2) holds resource instances (1).
        const ALLOWED: u16 = (1 << 2) | (1 << 3) | (1 << (4 * 2 + 1));
        (ALLOWED >> (4 * self.bits() + child.bits())) & 1 != 0
    }

    /// Short name: `instance`, `resource-instance`, `multiple` or `resource` (as printed by
    /// the `tlv_dump` example).
    #[inline]
    pub const fn name(self) -> &'static str {
        match self {
            Kind::ObjectInstance => "instance",
            Kind::ResourceInstance => "resource-instance",
            Kind::MultipleResource => "multiple",
            Kind::Resource => "resource",
        }
    }
}

impl core::fmt::Display for Kind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// An object link value: object ID and object instance ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ObjLnk {
    /// Object ID.
    pub object_id: u16,
    /// Object instance ID.
    pub instance_id: u16,
}

impl ObjLnk {
    /// The link to `/object_id/instance_id`.
    #[inline]
    pub const fn new(object_id: u16, instance_id: u16) -> Self {
        ObjLnk {
            object_id,
            instance_id,
        }
    }
}
