//! The LwM2M Firmware Update object (object 5) state machine: four states, the Update Result
//! codes, every transition of object versions 1.0, 1.1 and 1.2 (and the Advanced Firmware
//! Update object 33629), the operator resume resources and a persisted record.
//! `no_std`, no allocation, no I/O: the caller feeds events and the time, and performs the
//! side effects the machine returns.
//!
//! ```
//! use fota_fsm::{Actions, Config, Event, FirmwareUpdate, ObjectVersion, ResponseCode, State,
//!                UpdateResult};
//!
//! let mut fw = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
//! // The server pushes a package: Block1 writes of /5/0/0.
//! let out = fw.handle(Event::PushStarted { identity: 0x5eed }, 1_700_000_000);
//! assert_eq!(out.code, ResponseCode::Changed);
//! assert!(out.actions.contains(Actions::ERASE_STAGING));
//! assert!(out.changed.contains(3) && out.changed.contains(12)); // notify State, LSCT
//! fw.handle(Event::ChunkStored { offset: 0, len: 512 }, 1_700_000_001);
//! fw.handle(Event::ChunkStored { offset: 512, len: 100 }, 1_700_000_002);
//! assert_eq!(fw.transferred_bytes(), 612);
//! let out = fw.handle(Event::DownloadFinished, 1_700_000_003);
//! assert!(out.actions.contains(Actions::VERIFY));
//! fw.handle(Event::IntegrityVerified, 1_700_000_004);
//! assert_eq!(fw.state(), State::Downloaded);
//! // Execute /5/0/2: apply, persist and reboot.
//! let out = fw.handle(Event::ExecuteUpdate, 1_700_000_010);
//! assert!(out.actions.contains(Actions::APPLY | Actions::REBOOT | Actions::PERSIST));
//! let (_slot, record) = fw.save();
//! // ... after the reboot, restore from the two record slots and reconcile.
//! let mut fw = FirmwareUpdate::restore(Config::new(ObjectVersion::V1_1), &record, &[0xff; 100])
//!     .unwrap();
//! fw.handle(Event::Booted { new_image_running: true }, 1_700_000_060);
//! assert_eq!((fw.state(), fw.update_result()), (State::Idle, UpdateResult::Success));
//! // Execute Update is only allowed in Downloaded.
//! assert_eq!(fw.handle(Event::ExecuteUpdate, 1_700_000_061).code,
//!            ResponseCode::MethodNotAllowed);
//! ```
//!
//! # Persistence
//!
//! [`FirmwareUpdate::save`] returns a [`RECORD_LEN`]-byte record (format version, sequence
//! number, CRC-32) and the [`Slot`] to write it to; slots alternate so that the previous good
//! record survives a torn write. [`FirmwareUpdate::restore`] picks the newest valid slot.
//! Save whenever an outcome carries [`Actions::PERSIST`]; Transferred Bytes changes do not ask
//! for it (keep the resume point in the storage journal, or save every few chunks).
//!
//! # Features
//!
//! - `pkg-info` (default): PkgName and PkgVersion (resources 6 and 7, optional in object 5) are
//!   stored, 32 bytes each, in the instance and the record ([`RECORD_LEN`] 100 instead of 36).
//!   Note that the workspace dependency turns default features off: enable it explicitly.
//! - `serde`: `Serialize`/`Deserialize` for the value types, [`Config`] and [`FirmwareUpdate`].
//! - `std`: `std::error::Error` through `thiserror`.
//!
//! # Choices where the spec is silent
//!
//! - A non-empty Package URI or a new push is refused (4.05) in Downloaded and Updating, and a
//!   Package URI while Downloading: reset with an empty Package URI first. A push starting at
//!   block 0 again while a push is Downloading restarts it from offset 0.
//! - A push-only device has no protocol (resource 8 empty): a Package URI gets result 9.
//! - A lost connection (result 4) keeps the package identity and Transferred Bytes, so Switch
//!   to Download State (26501) resumes, and Cancel (v1.1) discards it (result 10); every other
//!   failure erases staging.
//! - A reboot while Downloading is a lost connection (result 4); after a reboot in Updating
//!   the old image running means result 8 and Idle.
//! - Severity Critical cannot be deferred; Mandatory can until Maximum Defer Period after the
//!   first deferral; Optional without a deadline; Maximum Defer Period 0 forbids deferral.
//! - With Automatic Upgrade at Download (v1.2), a verified package goes straight from
//!   Downloading to Updating.
//!
#![doc = include_str!("../TRANSITIONS.md")]
#![no_std]

#[cfg(feature = "std")]
extern crate std;

mod machine;
mod record;
mod types;
mod uri;

pub use machine::{Config, Event, FirmwareUpdate, Outcome, PKG_FIELD_CAP, is_reset_package};
pub use record::{RECORD_FORMAT, RECORD_LEN, Slot};
pub use types::{
    Actions, DeliveryMethod, DownloadFailure, ObjectVersion, Protocol, ProtocolSupport, Resources,
    ResponseCode, Severity, State, UpdateFailure, UpdateResult,
};
pub use uri::{MAX_URI_LEN, UriError, check_uri};

/// Number of states of the Firmware Update object (Idle, Downloading, Downloaded, Updating).
pub const STATE_COUNT: usize = 4;

/// Errors of this crate: a persisted record that cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Error {
    /// The record is not [`RECORD_LEN`] bytes long.
    #[error("record is {len} bytes, expected {RECORD_LEN}")]
    RecordLength {
        /// The length given.
        len: usize,
    },
    /// The slot is erased flash (format byte 0xFF and no valid checksum): never written.
    #[error("record slot is erased")]
    RecordErased,
    /// The CRC-32 does not match: a torn or corrupted write.
    #[error("record checksum mismatch (torn write?)")]
    RecordChecksum,
    /// Unknown record format version.
    #[error("record format {found} is not {RECORD_FORMAT}")]
    RecordFormat {
        /// The format byte found.
        found: u8,
    },
    /// A field holds an impossible value (or another object version than configured).
    #[error("record field at offset {offset} is invalid")]
    RecordField {
        /// Byte offset of the field.
        offset: usize,
    },
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
