//! The persisted record: fixed size, versioned, CRC-32 protected, written alternately to two
//! slots so that a torn write falls back to the previous good copy.

use crate::Error;
use crate::machine::{Config, FirmwareUpdate, PKG_FIELD_CAP};
use crate::types::{ObjectVersion, Severity, State, UpdateResult};

/// Size of one record in bytes.
pub const RECORD_LEN: usize = O_CRC + 4;
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
const O_CRC: usize = O_PKG_VERSION + 1 + PKG_FIELD_CAP + 2;

/// CRC-32 (IEEE 802.3, reflected), bitwise: no table in flash. One copy for encode and check.
#[inline(never)]
fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| crc_step(c, b))
}

/// One byte of CRC-32 (without the final inversion).
fn crc_step(mut c: u32, b: u8) -> u32 {
    c ^= u32::from(b);
    for _ in 0..8 {
        c = (c >> 1) ^ (0xEDB8_8320 & (c & 1).wrapping_neg());
    }
    c
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
        let slot = self.next_slot();
        (slot, self.encode())
    }

    /// Like [`FirmwareUpdate::save`], handing the [`RECORD_LEN`] bytes to `put` one by one
    /// (e.g. straight into a flash write buffer) instead of returning an array.
    pub fn save_with(&mut self, put: impl FnMut(u8)) -> Slot {
        let slot = self.next_slot();
        self.encode_with(put);
        slot
    }

    fn next_slot(&mut self) -> Slot {
        self.seq = self.seq.wrapping_add(1);
        if self.seq & 1 == 1 { Slot::A } else { Slot::B }
    }

    /// The record of the current values with the current sequence number.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut r = [0u8; RECORD_LEN];
        // Constant indices into a fixed-size array: checked at compile time, and no
        // `copy_from_slice` (its length check would link a panic path).
        let word = |w: u32| w.to_le_bytes();
        r[0] = RECORD_FORMAT;
        [r[O_SEQ], r[O_SEQ + 1]] = self.seq.to_le_bytes();
        r[O_STATE] = self.state as u8;
        r[O_RESULT] = self.result as u8;
        r[O_VERSION] = self.version as u8;
        r[O_SEVERITY] = self.severity as u8;
        r[O_FLAGS] = u8::from(self.auto_upgrade) | self.job << 1;
        [r[O_LSCT], r[O_LSCT + 1], r[O_LSCT + 2], r[O_LSCT + 3]] = word(self.last_change);
        [
            r[O_MAX_DEFER],
            r[O_MAX_DEFER + 1],
            r[O_MAX_DEFER + 2],
            r[O_MAX_DEFER + 3],
        ] = word(self.max_defer);
        [
            r[O_DEFERRED],
            r[O_DEFERRED + 1],
            r[O_DEFERRED + 2],
            r[O_DEFERRED + 3],
        ] = word(self.deferred_since);
        [
            r[O_TRANSFERRED],
            r[O_TRANSFERRED + 1],
            r[O_TRANSFERRED + 2],
            r[O_TRANSFERRED + 3],
        ] = word(self.transferred);
        [
            r[O_IDENTITY],
            r[O_IDENTITY + 1],
            r[O_IDENTITY + 2],
            r[O_IDENTITY + 3],
        ] = word(self.identity);
        r[O_NAME] = self.name_len;
        r[O_PKG_VERSION] = self.pkg_version_len;
        // Whole-array stores (a `memcpy` with pkg-info), always `Some` for these offsets.
        if let Some((name, _)) = r[O_NAME + 1..].split_first_chunk_mut() {
            *name = self.name;
        }
        if let Some((version, _)) = r[O_PKG_VERSION + 1..].split_first_chunk_mut() {
            *version = self.pkg_version;
        }
        let [c0, c1, c2, c3] = crc32(&r[..O_CRC]).to_le_bytes();
        [r[O_CRC], r[O_CRC + 1], r[O_CRC + 2], r[O_CRC + 3]] = [c0, c1, c2, c3];
        r
    }

    /// The record of the current values, byte by byte in order, the CRC last (built on the
    /// stack first: one encoder for both forms).
    pub fn encode_with(&self, put: impl FnMut(u8)) {
        self.encode().iter().copied().for_each(put);
    }

    /// Decodes one record for `config`. The configured object version must match the stored
    /// one (a firmware that changes it starts afresh).
    pub fn decode(config: Config, record: &[u8]) -> Result<Self, Error> {
        check(config.version, record)?;
        // Every field but the configured ones comes from the record: no fresh instance first.
        let mut m = FirmwareUpdate {
            version: config.version,
            delivery: config.delivery,
            protocols: config.protocols,
            ..FirmwareUpdate::ZEROED
        };
        m.load(record);
        Ok(m)
    }

    /// Restores from the two slots: the valid record with the newer sequence number wins, so a
    /// torn (or erased) slot falls back to the other one. Feed [`crate::Event::Booted`] next.
    /// When neither slot is valid the error of slot A is returned; start with
    /// [`FirmwareUpdate::new`] then.
    pub fn restore(config: Config, a: &[u8], b: &[u8]) -> Result<Self, Error> {
        let mut m = FirmwareUpdate::new(config);
        m.restore_into(a, b)?;
        Ok(m)
    }

    /// Like [`FirmwareUpdate::restore`], into an existing instance (its configuration is kept);
    /// says which slot was used. On error the instance is unchanged.
    pub fn restore_into(&mut self, a: &[u8], b: &[u8]) -> Result<Slot, Error> {
        let (slot, rec) = match (check(self.version, a), check(self.version, b)) {
            // Serial-number arithmetic: the sequence wraps.
            (Ok(x), Ok(y)) if (y.wrapping_sub(x) as i16) > 0 => (Slot::B, b),
            (Ok(_), _) => (Slot::A, a),
            (Err(_), Ok(_)) => (Slot::B, b),
            (Err(e), Err(_)) => return Err(e),
        };
        self.load(rec);
        Ok(slot)
    }

    /// Loads a record that [`check`] accepted.
    fn load(&mut self, r: &[u8]) {
        let Ok(r) = <&[u8; RECORD_LEN]>::try_from(r) else {
            return;
        };
        let word = |at: usize| u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
        // `check` bounded State to 0..=3 and Update Result to at most 13: the mask and a
        // fallback that is the top value change nothing for a checked record, and compile to
        // fewer range tests than the other fallbacks (footprint).
        self.state = State::from_u8(r[O_STATE] & 3).unwrap_or(State::Idle);
        self.result = UpdateResult::from_u8(r[O_RESULT]).unwrap_or(UpdateResult::DependencyError);
        self.severity = Severity::from_u8(r[O_SEVERITY]).unwrap_or(Severity::Mandatory);
        self.auto_upgrade = r[O_FLAGS] & 1 != 0 && self.version.has_auto_upgrade();
        self.job = r[O_FLAGS] >> 1;
        self.last_change = word(O_LSCT);
        self.max_defer = word(O_MAX_DEFER);
        self.deferred_since = word(O_DEFERRED);
        self.transferred = word(O_TRANSFERRED);
        self.identity = word(O_IDENTITY);
        self.name_len = r[O_NAME];
        self.pkg_version_len = r[O_PKG_VERSION];
        // Zipped rather than indexed: without `pkg-info` the fields are empty.
        let fields = self.name.iter_mut().zip(self.pkg_version.iter_mut());
        for (i, (name, version)) in fields.enumerate() {
            *name = r[O_NAME + 1 + i];
            *version = r[O_PKG_VERSION + 1 + i];
        }
        self.seq = u16::from_le_bytes([r[O_SEQ], r[O_SEQ + 1]]);
    }
}

/// Validates a record for object version `version`; its sequence number.
fn check(version: ObjectVersion, r: &[u8]) -> Result<u16, Error> {
    let Ok(r) = <&[u8; RECORD_LEN]>::try_from(r) else {
        return Err(Error::RecordLength { len: r.len() });
    };
    let byte = |at: usize| r[at];
    let (body, crc) = r.split_at(O_CRC);
    if crc32(body) != get(crc, 0) {
        // A format byte of 0xFF is erased NOR flash: the slot was never (fully) written.
        return Err(if r[0] == 0xff {
            Error::RecordErased
        } else {
            Error::RecordChecksum
        });
    }
    if r[0] != RECORD_FORMAT {
        return Err(Error::RecordFormat { found: r[0] });
    }
    let state = byte(O_STATE);
    let flags = byte(O_FLAGS);
    let bad = if state > 3 {
        O_STATE
    } else if byte(O_VERSION) != version as u8 {
        O_VERSION
    } else if byte(O_RESULT) > version.max_result() {
        O_RESULT
    } else if byte(O_SEVERITY) > 2 {
        O_SEVERITY
    } else if flags > 5 || (flags >> 1 == 0 && state != 0) {
        // Job 3 does not exist; only Idle may have no package.
        O_FLAGS
    } else if usize::from(byte(O_NAME)) > PKG_FIELD_CAP {
        O_NAME
    } else if usize::from(byte(O_PKG_VERSION)) > PKG_FIELD_CAP {
        O_PKG_VERSION
    } else {
        return Ok(u16::from_le_bytes([byte(O_SEQ), byte(O_SEQ + 1)]));
    };
    Err(Error::RecordField { offset: bad })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of a record, field by field as the layout above says (records in the field
    /// must stay readable: any change of encoder keeps these bytes).
    #[test]
    #[cfg(feature = "pkg-info")]
    fn record_bytes_follow_the_layout() {
        let mut fw = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
        fw.push_started(0x0102_0304, 0x1112_1314);
        fw.chunk_stored(0, 0x2122);
        fw.package_info("ab", "1.0");
        let (slot, r) = fw.save();
        assert_eq!(slot, Slot::A);
        let mut want = [0u8; RECORD_LEN];
        want[..8].copy_from_slice(&[RECORD_FORMAT, 1, 0, 1, 0, 1, 1, 1 << 1]);
        want[8..12].copy_from_slice(&0x1112_1314u32.to_le_bytes());
        want[20..24].copy_from_slice(&0x2122u32.to_le_bytes());
        want[24..28].copy_from_slice(&0x0102_0304u32.to_le_bytes());
        want[28..31].copy_from_slice(&[2, b'a', b'b']);
        want[61..65].copy_from_slice(&[3, b'1', b'.', b'0']);
        let crc = crc32(&want[..96]);
        want[96..].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(r, want);
        let mut with = [0u8; RECORD_LEN];
        let mut at = 0;
        fw.encode_with(|b| {
            with[at] = b;
            at += 1;
        });
        assert_eq!((at, with), (RECORD_LEN, want));
        let back = FirmwareUpdate::decode(Config::new(ObjectVersion::V1_1), &r).unwrap();
        assert_eq!(back, fw);
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
