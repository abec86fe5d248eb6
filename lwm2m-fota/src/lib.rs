//! LwM2M firmware over the air: a sans-IO device client core (usable without `std` or an
//! allocator), and with `std` a UDP driver, a FOTA server, a seeded loss proxy and the fleet demo.
//!
//! The device core is fed datagrams and `now` (milliseconds) and polled for datagrams to send;
//! everything the hardware does (staging flash, verification, install, versions) goes through the
//! [`Platform`](client::Platform) trait.
//!
//! ```
//! use lwm2m_fota::client::{Client, Config, Peer};
//! # #[cfg(feature = "std")] {
//! use lwm2m_fota::sim::SimDevice;
//! let dir = tempfile::tempdir().unwrap();
//! let device = SimDevice::create(dir.path(), &lwm2m_fota::image::build("1.0", &[7; 1000])).unwrap();
//! let mut client = Client::new(device, Config::new("dev-1").unwrap(), 0);
//! let mut buf = [0u8; 1280];
//! // The first datagram is the registration: POST /rd?ep=dev-1&lt=...
//! let tx = client.poll_transmit(0, &mut buf).unwrap();
//! assert_eq!(tx.peer, Peer::Server);
//! assert_eq!(client.state(), lwm2m_fota::State::Idle);
//! # }
//! ```
#![no_std]

#[cfg(feature = "std")]
extern crate std;

pub mod client;
pub mod coap;
pub mod image;
pub mod record;
pub mod tlv;

#[cfg(feature = "std")]
pub mod demo;
#[cfg(feature = "std")]
pub mod driver;
#[cfg(feature = "std")]
pub mod proxy;
#[cfg(feature = "std")]
pub mod server;
#[cfg(feature = "std")]
pub mod sim;

/// Default LwM2M server port over UDP.
pub const DEFAULT_PORT: u16 = 5683;

/// Firmware Update State (/5/0/3) and Update Result (/5/0/5): `fota-fsm`'s types, whose
/// [`FirmwareUpdate`](fota_fsm::FirmwareUpdate) drives them in the device core.
pub use fota_fsm::{State, UpdateResult};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A CoAP message could not be parsed or built (`coap-block`'s codec).
    #[error("CoAP: {0}")]
    Coap(#[from] coap_block::Error),
    /// A firmware image is malformed.
    #[error("bad firmware image: {what}")]
    BadImage {
        /// What is wrong.
        what: &'static str,
    },
    /// An I/O error on the std side (sockets, files).
    #[cfg(feature = "std")]
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: std::string::String,
        /// The cause.
        source: std::io::Error,
    },
    /// A std-side configuration or usage error.
    #[cfg(feature = "std")]
    #[error("{0}")]
    Usage(std::string::String),
}

#[cfg(feature = "std")]
impl Error {
    /// Wraps an I/O error with its context.
    pub fn io(context: impl Into<std::string::String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
