//! The device's persisted Firmware Update record: `fota-fsm`'s own record (State, Update
//! Result, /5/0/26500, job identity; CRC-32 checked) plus what the client adds for pull and
//! boot reconciliation (delivery, block size, ETag, Package URI, version before the update),
//! in one fixed-size checksummed byte record (no alloc). A torn or foreign record reads as
//! `None`.

use fota_fsm::{FirmwareUpdate, ObjectVersion};

/// Longest Package URI the device stores.
pub const MAX_URI: usize = 128;
/// Longest firmware version string the device stores.
pub const MAX_VERSION: usize = 32;
const MAGIC: [u8; 2] = [0xf0, 0x7a];
const FORMAT: u8 = 2;
const O_ETAG: usize = 7;
const O_URI: usize = O_ETAG + 8 + 1;
const O_VERSION: usize = O_URI + MAX_URI + 1;
const O_FSM: usize = O_VERSION + MAX_VERSION;
const O_SUM: usize = O_FSM + fota_fsm::RECORD_LEN;
/// Size of the encoded record in bytes.
pub const RECORD_LEN: usize = O_SUM + 4;

/// The object 5 configuration of this device: version 1.1, push and pull over plain CoAP.
pub const FSM_CONFIG: fota_fsm::Config = fota_fsm::Config::new(ObjectVersion::V1_1);

/// How the current package is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// No package.
    None = 0,
    /// Push: Block1 writes of /5/0/0.
    Push = 1,
    /// Pull: Block2 GET of the Package URI.
    Pull = 2,
}

/// The persisted record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The Firmware Update machine (State, Update Result, /5/0/26500, job).
    pub fw: FirmwareUpdate,
    /// How the package arrives.
    pub delivery: Delivery,
    /// Pull block size exponent in use.
    pub szx: u8,
    /// ETag of the pulled package (0..=8 bytes).
    pub etag: [u8; 8],
    /// Length of `etag`.
    pub etag_len: u8,
    /// Package URI (/5/0/1).
    pub uri: [u8; MAX_URI],
    /// Length of `uri`.
    pub uri_len: u8,
    /// Firmware version before the update was started (boot reconciliation).
    pub old_version: [u8; MAX_VERSION],
    /// Length of `old_version`.
    pub old_version_len: u8,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            fw: FirmwareUpdate::new(FSM_CONFIG),
            delivery: Delivery::None,
            szx: 6,
            etag: [0; 8],
            etag_len: 0,
            uri: [0; MAX_URI],
            uri_len: 0,
            old_version: [0; MAX_VERSION],
            old_version_len: 0,
        }
    }
}

fn fnv1a(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

impl Record {
    /// The Package URI bytes.
    pub fn uri(&self) -> &[u8] {
        self.uri.get(..usize::from(self.uri_len)).unwrap_or(&[])
    }
    /// The ETag bytes.
    pub fn etag(&self) -> &[u8] {
        self.etag.get(..usize::from(self.etag_len)).unwrap_or(&[])
    }
    /// The version before the update.
    pub fn old_version(&self) -> &[u8] {
        self.old_version
            .get(..usize::from(self.old_version_len))
            .unwrap_or(&[])
    }

    /// Encodes into the fixed-size form with a trailing checksum.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut out = [0u8; RECORD_LEN];
        out[0..2].copy_from_slice(&MAGIC);
        out[2] = FORMAT;
        out[3] = self.delivery as u8;
        out[4] = self.szx;
        out[5] = self.etag_len.min(8);
        out[O_ETAG..O_ETAG + 8].copy_from_slice(&self.etag);
        out[O_URI - 1] = self.uri_len.min(MAX_URI as u8);
        out[O_URI..O_URI + MAX_URI].copy_from_slice(&self.uri);
        out[O_VERSION - 1] = self.old_version_len.min(MAX_VERSION as u8);
        out[O_VERSION..O_VERSION + MAX_VERSION].copy_from_slice(&self.old_version);
        out[O_FSM..O_SUM].copy_from_slice(&self.fw.encode());
        let sum = fnv1a(&out[..O_SUM]);
        out[O_SUM..].copy_from_slice(&sum.to_be_bytes());
        out
    }

    /// Decodes; `None` for a torn, foreign or inconsistent record.
    pub fn decode(data: &[u8; RECORD_LEN]) -> Option<Self> {
        let (body, sum) = data.split_at(O_SUM);
        if body.get(0..2)? != MAGIC || body[2] != FORMAT || fnv1a(body).to_be_bytes() != *sum {
            return None;
        }
        let mut r = Record {
            fw: FirmwareUpdate::decode(FSM_CONFIG, body.get(O_FSM..O_SUM)?).ok()?,
            delivery: match body[3] {
                0 => Delivery::None,
                1 => Delivery::Push,
                2 => Delivery::Pull,
                _ => return None,
            },
            szx: body[4].min(6),
            etag_len: body[5].min(8),
            uri_len: body[O_URI - 1].min(MAX_URI as u8),
            old_version_len: body[O_VERSION - 1].min(MAX_VERSION as u8),
            ..Record::default()
        };
        r.etag.copy_from_slice(&body[O_ETAG..O_ETAG + 8]);
        r.uri.copy_from_slice(&body[O_URI..O_URI + MAX_URI]);
        r.old_version
            .copy_from_slice(&body[O_VERSION..O_VERSION + MAX_VERSION]);
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::State;

    #[test]
    fn round_trip_and_torn() {
        let mut r = Record::default();
        r.fw.push_started(7, 100);
        r.fw.chunk_stored(0, 4096);
        r.uri[..5].copy_from_slice(b"coap:");
        r.uri_len = 5;
        let bytes = r.encode();
        let back = Record::decode(&bytes).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            (back.fw.state(), back.fw.transferred_bytes()),
            (State::Downloading, 4096)
        );
        for i in 0..RECORD_LEN {
            let mut torn = bytes;
            torn[i] ^= 0x10;
            assert_eq!(Record::decode(&torn), None, "flip at {i}");
        }
    }
}
