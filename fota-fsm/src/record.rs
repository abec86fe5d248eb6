//! The persisted record: fixed size, versioned, CRC-32 protected, written alternately to two
//! slots so that a torn write falls back to the previous good copy.

use crate::Error;
use crate::machine::{Config, FirmwareUpdate, PKG_FIELD_CAP};
use crate::types::{ObjectVersion, Severity, State, UpdateResult};

/// Size of one record in bytes.
pub const RECORD_LEN: usize = 100;
/// Format version in byte 0 of the record.
pub const RECORD_FORMAT: u8 = 1;

// Layout (little-endian):
//  0 format | 1..3 seq | 3 state | 4 result | 5 object version | 6 severity | 7 flags
//  8..12 last state change | 12..16 max defer | 16..20 deferred since | 20..24 transferred
//  24..28 identity | 28 name len | 29..61 name | 61 version len | 62..94 version
//  94..96 reserved (0) | 96..100 CRC-32 of bytes 0..96
const O_SEQ: usize = 1;
const O_STATE: usize = 3;
const O_RESULT: usize = 4;
const O_VERSION: usize = 5;
const O_SEVERITY: usize = 6;
const O_FLAGS: usize = 7;
const O_LSCT: usize = 8;
const O_MAX_DEFER: usize = 12;
const O_DEFERRED: usize = 16;
const O_TRANSFERRED: usize = 20;
const O_IDENTITY: usize = 24;
const O_NAME: usize = 28;
const O_PKG_VERSION: usize = O_NAME + 1 + PKG_FIELD_CAP;
const O_CRC: usize = 96;

/// CRC-32 (IEEE 802.3, reflected), bitwise: no table in flash.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = (c >> 1) ^ (0xEDB8_8320 & (c & 1).wrapping_neg());
        }
    }
    !c
}

fn put(buf: &mut [u8; RECORD_LEN], at: usize, v: u32) {
    if let Some(d) = buf.get_mut(at..at + 4) {
        d.copy_from_slice(&v.to_le_bytes());
    }
}

fn get(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = buf.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    u32::from_le_bytes(b)
}

/// Which of the two record slots to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The first slot.
    A,
    /// The second slot.
    B,
}

impl FirmwareUpdate {
    /// The record of the current values with the next sequence number, and the slot to write
    /// it to: slots alternate, so the other slot keeps the previous good record while this one
    /// is written.
    pub fn save(&mut self) -> (Slot, [u8; RECORD_LEN]) {
        self.seq = self.seq.wrapping_add(1);
        let slot = if self.seq & 1 == 1 { Slot::A } else { Slot::B };
        (slot, self.encode())
    }

    /// The record of the current values with the current sequence number.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut r = [0u8; RECORD_LEN];
        r[0] = RECORD_FORMAT;
        r[O_SEQ..O_SEQ + 2].copy_from_slice(&self.seq.to_le_bytes());
        r[O_STATE] = self.state as u8;
        r[O_RESULT] = self.result as u8;
        r[O_VERSION] = self.version as u8;
        r[O_SEVERITY] = self.severity as u8;
        r[O_FLAGS] = u8::from(self.auto_upgrade) | self.job << 1;
        put(&mut r, O_LSCT, self.last_change);
        put(&mut r, O_MAX_DEFER, self.max_defer);
        put(&mut r, O_DEFERRED, self.deferred_since);
        put(&mut r, O_TRANSFERRED, self.transferred);
        put(&mut r, O_IDENTITY, self.identity);
        r[O_NAME] = self.name_len;
        r[O_NAME + 1..O_NAME + 1 + PKG_FIELD_CAP].copy_from_slice(&self.name);
        r[O_PKG_VERSION] = self.pkg_version_len;
        r[O_PKG_VERSION + 1..O_PKG_VERSION + 1 + PKG_FIELD_CAP].copy_from_slice(&self.pkg_version);
        let crc = crc32(&r[..O_CRC]);
        put(&mut r, O_CRC, crc);
        r
    }

    /// Decodes one record for `config`. The configured object version must match the stored
    /// one (a firmware that changes it starts afresh).
    pub fn decode(config: Config, record: &[u8]) -> Result<Self, Error> {
        if record.len() != RECORD_LEN {
            return Err(Error::RecordLength { len: record.len() });
        }
        if record.iter().all(|&b| b == 0xff) {
            return Err(Error::RecordErased);
        }
        let crc = get(record, O_CRC);
        if crc32(record.get(..O_CRC).unwrap_or(&[])) != crc {
            return Err(Error::RecordChecksum);
        }
        let byte = |at: usize| record.get(at).copied().unwrap_or(0);
        if byte(0) != RECORD_FORMAT {
            return Err(Error::RecordFormat { found: byte(0) });
        }
        let bad = |offset: usize| Error::RecordField { offset };
        let state = State::from_u8(byte(O_STATE)).ok_or(bad(O_STATE))?;
        let version = ObjectVersion::from_u8(byte(O_VERSION)).ok_or(bad(O_VERSION))?;
        if version != config.version {
            return Err(bad(O_VERSION));
        }
        let result = UpdateResult::from_u8(byte(O_RESULT))
            .filter(|r| r.allowed_in(version))
            .ok_or(bad(O_RESULT))?;
        let severity = Severity::from_u8(byte(O_SEVERITY)).ok_or(bad(O_SEVERITY))?;
        let flags = byte(O_FLAGS);
        let job = flags >> 1;
        if flags > 5 || (job == 0 && state != State::Idle) {
            return Err(bad(O_FLAGS));
        }
        let field = |at: usize| -> Result<(u8, [u8; PKG_FIELD_CAP]), Error> {
            let len = byte(at);
            if usize::from(len) > PKG_FIELD_CAP {
                return Err(bad(at));
            }
            let mut v = [0u8; PKG_FIELD_CAP];
            if let Some(s) = record.get(at + 1..at + 1 + PKG_FIELD_CAP) {
                v.copy_from_slice(s);
            }
            Ok((len, v))
        };
        let (name_len, name) = field(O_NAME)?;
        let (pkg_version_len, pkg_version) = field(O_PKG_VERSION)?;
        let mut seq = [0u8; 2];
        if let Some(s) = record.get(O_SEQ..O_SEQ + 2) {
            seq.copy_from_slice(s);
        }
        let mut m = FirmwareUpdate::new(config);
        m.state = state;
        m.result = result;
        m.severity = severity;
        m.auto_upgrade = flags & 1 != 0;
        m.job = job;
        m.last_change = get(record, O_LSCT);
        m.max_defer = get(record, O_MAX_DEFER);
        m.deferred_since = get(record, O_DEFERRED);
        m.transferred = get(record, O_TRANSFERRED);
        m.identity = get(record, O_IDENTITY);
        m.name_len = name_len;
        m.name = name;
        m.pkg_version_len = pkg_version_len;
        m.pkg_version = pkg_version;
        m.seq = u16::from_le_bytes(seq);
        Ok(m)
    }

    /// Restores from the two slots: the valid record with the newer sequence number wins, so a
    /// torn (or erased) slot falls back to the other one. Feed [`crate::Event::Booted`] next.
    /// When neither slot is valid the error of slot A is returned; start with
    /// [`FirmwareUpdate::new`] then.
    pub fn restore(config: Config, a: &[u8], b: &[u8]) -> Result<Self, Error> {
        match (Self::decode(config, a), Self::decode(config, b)) {
            (Ok(x), Ok(y)) => {
                // Serial-number arithmetic: the sequence wraps.
                if (y.seq.wrapping_sub(x.seq) as i16) > 0 {
                    Ok(y)
                } else {
                    Ok(x)
                }
            }
            (Ok(x), Err(_)) => Ok(x),
            (Err(_), Ok(y)) => Ok(y),
            (Err(e), Err(_)) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
