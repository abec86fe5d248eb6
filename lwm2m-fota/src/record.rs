//! The device's persisted Firmware Update record: a fixed-size, versioned, checksummed byte
//! record (no alloc) so State, Update Result, the resume offset (/5/0/26500) and the package
//! identity (URI + ETag) survive a reboot. A torn or foreign record reads as `None`.

use crate::{State, UpdateResult};

/// Size of the encoded record in bytes.
pub const RECORD_LEN: usize = 224;
/// Longest Package URI the device stores.
pub const MAX_URI: usize = 128;
/// Longest firmware version string the device stores.
pub const MAX_VERSION: usize = 32;
const MAGIC: [u8; 2] = [0xf0, 0x7a];
const FORMAT: u8 = 1;

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
    /// Firmware Update State (/5/0/3).
    pub state: State,
    /// Update Result (/5/0/5).
    pub result: UpdateResult,
    /// How the package arrives.
    pub delivery: Delivery,
    /// Pull block size exponent in use.
    pub szx: u8,
    /// Package bytes durable in staging (/5/0/26500).
    pub transferred: u32,
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
            state: State::Idle,
            result: UpdateResult::Initial,
            delivery: Delivery::None,
            szx: 6,
            transferred: 0,
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
        out[3] = self.state as u8;
        out[4] = self.result as u8;
        out[5] = self.delivery as u8;
        out[6] = self.szx;
        out[7] = self.etag_len.min(8);
        out[8..16].copy_from_slice(&self.etag);
        out[16..20].copy_from_slice(&self.transferred.to_be_bytes());
        out[20] = self.uri_len.min(MAX_URI as u8);
        out[21..21 + MAX_URI].copy_from_slice(&self.uri);
        out[149] = self.old_version_len.min(MAX_VERSION as u8);
        out[150..150 + MAX_VERSION].copy_from_slice(&self.old_version);
        let sum = fnv1a(&out[..RECORD_LEN - 4]);
        out[RECORD_LEN - 4..].copy_from_slice(&sum.to_be_bytes());
        out
    }

    /// Decodes; `None` for a torn, foreign or inconsistent record.
    pub fn decode(data: &[u8; RECORD_LEN]) -> Option<Self> {
        let (body, sum) = data.split_at(RECORD_LEN - 4);
        if body.get(0..2)? != MAGIC || body[2] != FORMAT || fnv1a(body).to_be_bytes() != *sum {
            return None;
        }
        let mut r = Record {
            state: State::from_u8(body[3])?,
            result: UpdateResult::from_u8(body[4])?,
            delivery: match body[5] {
                0 => Delivery::None,
                1 => Delivery::Push,
                2 => Delivery::Pull,
                _ => return None,
            },
            szx: body[6].min(6),
            etag_len: body[7].min(8),
            transferred: u32::from_be_bytes(body[16..20].try_into().ok()?),
            uri_len: body[20].min(MAX_URI as u8),
            old_version_len: body[149].min(MAX_VERSION as u8),
            ..Record::default()
        };
        r.etag.copy_from_slice(&body[8..16]);
        r.uri.copy_from_slice(&body[21..21 + MAX_URI]);
        r.old_version.copy_from_slice(&body[150..150 + MAX_VERSION]);
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_torn() {
        let mut r = Record {
            state: State::Downloading,
            transferred: 4096,
            ..Record::default()
        };
        r.uri[..5].copy_from_slice(b"coap:");
        r.uri_len = 5;
        let bytes = r.encode();
        assert_eq!(Record::decode(&bytes), Some(r));
        for i in 0..RECORD_LEN {
            let mut torn = bytes;
            torn[i] ^= 0x10;
            assert_eq!(Record::decode(&torn), None, "flip at {i}");
        }
    }
}
