//! The OMA LwM2M object model for devices and servers: const object and resource definitions,
//! the core objects as the OMA registry defines them, an operation dispatcher that checks every
//! request against the definitions, CoRE Link Format output and (with `std`) the OMA DDF XML
//! loader.
//!
//! Everything but the DDF loader is `no_std` without an allocator.
//!
//! ```
//! use lwm2m_objects::*;
//!
//! // A Device object (3) with one instance that exposes a few resources.
//! struct Device { battery: i64 }
//! impl ObjectHandler for Device {
//!     fn definition(&self) -> &ObjectDef { &DEVICE }
//!     fn next_instance(&self, after: Option<u16>) -> Option<u16> {
//!         if after.is_none() { Some(0) } else { None }
//!     }
//!     fn has_resource(&self, _instance: u16, resource: u16) -> bool {
//!         matches!(resource, 0 | 3 | 4 | 9 | 11 | 16)
//!     }
//!     fn next_resource_instance(&self, _i: u16, _r: u16, after: Option<u16>) -> Option<u16> {
//!         if after.is_none() { Some(0) } else { None } // Error Code has one instance
//!     }
//!     fn read(&self, _i: u16, resource: u16, _ri: Option<u16>) -> Result<Value<'_>, ResponseCode> {
//!         Ok(match resource {
//!             0 => Value::String(b"ACME"),
//!             3 => Value::String(b"1.0.3"),
//!             9 => Value::Integer(self.battery),
//!             11 => Value::Integer(0),
//!             16 => Value::String(b"U"),
//!             _ => return Err(ResponseCode::NotFound),
//!         })
//!     }
//!     fn execute(&mut self, _i: u16, _resource: u16, _args: &[u8]) -> Result<(), ResponseCode> {
//!         Ok(()) // Reboot
//!     }
//! }
//!
//! let mut device = Device { battery: 87 };
//! let mut objects: [&mut dyn ObjectHandler; 1] = [&mut device];
//! let mut dispatcher = Dispatcher::new(&mut objects);
//! let mut out = [0u8; 128];
//!
//! // Read /3/0/9 as plain text; writing it is not allowed (R only); /3/0/5 is not implemented.
//! let resp = dispatcher.handle(&Request::new(Operation::Read, Path::parse("/3/0/9")?), &mut out);
//! assert_eq!((resp.code, &out[..resp.len]), (ResponseCode::Content, &b"87"[..]));
//! let write = Request::new(Operation::WriteReplace, Path::parse("/3/0/9")?)
//!     .with_payload(Some(CONTENT_FORMAT_TEXT), b"50");
//! assert_eq!(dispatcher.handle(&write, &mut out).code, ResponseCode::MethodNotAllowed);
//! let reset = Request::new(Operation::Execute, Path::parse("/3/0/5")?);
//! assert_eq!(dispatcher.handle(&reset, &mut out).code, ResponseCode::NotFound);
//!
//! // Read the whole instance as TLV.
//! let resp = dispatcher.handle(&Request::new(Operation::Read, Path::parse("/3/0")?), &mut out);
//! assert_eq!(resp.content_format, Some(CONTENT_FORMAT_TLV));
//!
//! // The Register payload.
//! let n = dispatcher.registration_links(&mut out)?;
//! assert_eq!(&out[..n], br#"</>;rt="oma.lwm2m",</3/0>"#);
//! # Ok::<(), Error>(())
//! ```
//!
//! Features: `names` (default: names, URNs and units in the tables), `attributes` (default:
//! Write-Attributes kept in a caller-owned table and reported by Discover), `bootstrap` (default: Bootstrap-Write), `float-text` (plain-text Float
//! values), `alloc` (nothing extra yet), `std` adds the [`ddf`] loader (OMA DDF XML, via
//! `roxmltree`), `std::error::Error` and all of the above. A device builds with
//! `default-features = false` and keeps every operation but Bootstrap-Write and
//! Write-Attributes.
//!
//! Implementing an object for a device: one [`ObjectHandler`] per object, which names its
//! [`ObjectDef`], lists its instances (and the instances of its multiple resources) in
//! increasing id order, and reads, writes and executes resources. The dispatcher checks every
//! request against the definition (existence, operations, types, ranges, formats) before a
//! hook runs, and checks a whole Write before its first value is written. A [`Profile`]
//! folded from the definitions at compile time leaves out of the build the code for the
//! resource types and operations the device does not use; on a profile made
//! [`with_read_to`](Profile::with_read_to) the handlers write their values straight into the
//! response ([`ObjectHandler::read_to`], [`ValueOut`]) and the dispatcher's value writer is
//! left out too.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(feature = "attributes")]
mod attr;
#[cfg(feature = "std")]
pub mod ddf;
mod dispatch;
mod error;
mod handler;
mod link;
mod model;
mod path;
mod profile;
mod registry;
mod text;

#[cfg(feature = "attributes")]
pub use attr::{AttributeSlot, Attributes, Threshold};
pub use dispatch::Dispatcher;
pub use error::Error;
pub use handler::{
    CONTENT_FORMAT_OPAQUE, CONTENT_FORMAT_TEXT, CONTENT_FORMAT_TLV, CONTENT_FORMAT_TLV_LEGACY,
    ObjectHandler, Operation, Request, Response, ResponseCode, Value, ValueOut,
};
pub use link::{CONTENT_FORMAT_LINK, LinkWriter};
pub use model::{ObjectDef, Operations, Range, RangeDef, ResourceDef, ResourceType};
pub use path::{MAX_ID, Path};
pub use profile::Profile;
pub use registry::*;

/// Object ID of the Firmware Update object.
pub const FIRMWARE_UPDATE_OBJECT_ID: u16 = 5;
