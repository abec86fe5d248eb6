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

/// Firmware Update State (/5/0/3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// 0: Idle.
    Idle = 0,
    /// 1: Downloading.
    Downloading = 1,
    /// 2: Downloaded.
    Downloaded = 2,
    /// 3: Updating.
    Updating = 3,
}

impl State {
    /// From the resource value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => State::Idle,
            1 => State::Downloading,
            2 => State::Downloaded,
            3 => State::Updating,
            _ => return None,
        })
    }
}

/// Update Result (/5/0/5), LwM2M 1.0 codes 0..=9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum UpdateResult {
    /// 0: initial value.
    Initial = 0,
    /// 1: firmware updated successfully.
    Success = 1,
    /// 2: not enough flash for the package.
    NotEnoughFlash = 2,
    /// 3: out of RAM during download.
    OutOfRam = 3,
    /// 4: connection lost during download.
    ConnectionLost = 4,
    /// 5: integrity check failure.
    IntegrityFailure = 5,
    /// 6: unsupported package type.
    UnsupportedPackage = 6,
    /// 7: invalid URI.
    InvalidUri = 7,
    /// 8: firmware update failed.
    UpdateFailed = 8,
    /// 9: unsupported protocol.
    UnsupportedProtocol = 9,
}

impl UpdateResult {
    /// From the resource value.
    pub fn from_u8(v: u8) -> Option<Self> {
        use UpdateResult::*;
        Some(match v {
            0 => Initial,
            1 => Success,
            2 => NotEnoughFlash,
            3 => OutOfRam,
            4 => ConnectionLost,
            5 => IntegrityFailure,
            6 => UnsupportedPackage,
            7 => InvalidUri,
            8 => UpdateFailed,
            9 => UnsupportedProtocol,
            _ => return None,
        })
    }
}

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
