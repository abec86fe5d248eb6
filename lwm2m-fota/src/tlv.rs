//! The small part of LwM2M TLV (content format 11542) the client core reads (single-resource
//! writes such as a Package URI) plus a minimal writer used by tests; the device's TLV answers are
//! written with `lwm2m-tlv`'s `Writer`.

/// Record kinds (type bits 7-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Object instance (00).
    Instance = 0,
    /// Resource instance (01).
    ResourceInstance = 1,
    /// Multiple resource (10).
    Multiple = 2,
    /// Resource with value (11).
    Resource = 3,
}

/// Writes one TLV header and value at `out[at..]`; returns the new end.
pub fn write(out: &mut [u8], at: usize, kind: Kind, id: u16, value: &[u8]) -> Option<usize> {
    let len = value.len();
    let mut head = [0u8; 6];
    let mut n = 1;
    let mut ty = (kind as u8) << 6;
    if id > 255 {
        ty |= 0x20;
        head[1..3].copy_from_slice(&id.to_be_bytes());
        n = 3;
    } else {
        head[1] = id as u8;
        n += 1;
    }
    if len < 8 {
        ty |= len as u8;
    } else if len < 0x100 {
        ty |= 0x08;
        head[n] = len as u8;
        n += 1;
    } else if len < 0x1_0000 {
        ty |= 0x10;
        head[n..n + 2].copy_from_slice(&(len as u16).to_be_bytes());
        n += 2;
    } else if len < 0x100_0000 {
        ty |= 0x18;
        let b = (len as u32).to_be_bytes();
        head[n..n + 3].copy_from_slice(&b[1..]);
        n += 3;
    } else {
        return None;
    }
    head[0] = ty;
    let end = at.checked_add(n)?.checked_add(len)?;
    let dst = out.get_mut(at..end)?;
    dst.get_mut(..n)?.copy_from_slice(head.get(..n)?);
    dst.get_mut(n..)?.copy_from_slice(value);
    Some(end)
}

/// The shortest big-endian two's complement form of `v` (1, 2, 4 or 8 bytes).
pub fn int_bytes(v: i64, buf: &mut [u8; 8]) -> &[u8] {
    *buf = v.to_be_bytes();
    let n = if i8::try_from(v).is_ok() {
        1
    } else if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    };
    buf.get(8 - n..).unwrap_or(&[])
}

/// One decoded record: kind, id, value, and the length consumed.
pub fn read(data: &[u8]) -> Option<(Kind, u16, &[u8], usize)> {
    let ty = *data.first()?;
    let kind = match ty >> 6 {
        0 => Kind::Instance,
        1 => Kind::ResourceInstance,
        2 => Kind::Multiple,
        _ => Kind::Resource,
    };
    let mut pos = 1;
    let id = if ty & 0x20 != 0 {
        pos += 2;
        u16::from_be_bytes([*data.get(1)?, *data.get(2)?])
    } else {
        pos += 1;
        u16::from(*data.get(1)?)
    };
    let ll = usize::from((ty >> 3) & 3);
    let len = if ll == 0 {
        usize::from(ty & 7)
    } else {
        let mut l = 0usize;
        for i in 0..ll {
            l = (l << 8) | usize::from(*data.get(pos + i)?);
        }
        pos += ll;
        l
    };
    let end = pos.checked_add(len)?;
    Some((kind, id, data.get(pos..end)?, end))
}

/// Decodes a big-endian two's complement integer of 1, 2, 4 or 8 bytes.
pub fn int(value: &[u8]) -> Option<i64> {
    match value.len() {
        1 | 2 | 4 | 8 => {
            let neg = value.first()? & 0x80 != 0;
            let init = if neg { -1i64 } else { 0 };
            Some(value.iter().fold(init, |acc, b| (acc << 8) | i64::from(*b)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        for v in [
            0i64,
            1,
            -1,
            127,
            128,
            -129,
            32767,
            40000,
            -40000,
            1 << 40,
            i64::MIN,
        ] {
            let mut b = [0; 8];
            let mut out = [0u8; 16];
            let end = write(&mut out, 0, Kind::Resource, 3, int_bytes(v, &mut b)).unwrap();
            let (k, id, val, used) = read(&out[..end]).unwrap();
            assert_eq!((k, id, used), (Kind::Resource, 3, end));
            assert_eq!(int(val), Some(v));
        }
    }

    #[test]
    fn long_ids_and_lengths() {
        let mut out = [0u8; 400];
        let end = write(&mut out, 0, Kind::Resource, 26500, &[7; 300]).unwrap();
        assert_eq!(&out[..4], &[0xf0, 0x67, 0x84, 0x01]);
        let (_, id, val, _) = read(&out[..end]).unwrap();
        assert_eq!((id, val.len()), (26500, 300));
    }
}
