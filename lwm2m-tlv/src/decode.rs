//! The checked, zero-copy decoder: [`Tlv`] record views and the [`Records`] iterator.

use crate::{DataType, Error, Kind, ObjLnk};

/// Whether the compact code paths run: always on bare metal (smallest code), and on hosts with
/// the internal `compact` feature so that the test suite can run them (`cargo test -p lwm2m-tlv
/// --features compact`). Both paths are always compiled; the other one is dead code removed by
/// the optimiser, and unit tests compare the two on many inputs.
pub(crate) const COMPACT: bool = cfg!(any(target_os = "none", feature = "compact"));

/// One decoded TLV record: a checked view whose value borrows from the input.
///
/// A `Tlv` only exists once its header has been read and its value lies inside the input and
/// inside its parent container. Typed accessors check the value's length and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tlv<'a> {
    kind: Kind,
    id: u16,
    value: &'a [u8],
    offset: usize,
    value_offset: usize,
}

impl<'a> Tlv<'a> {
    /// Reads the one record at the start of `data`; returns it and the bytes after it.
    ///
    /// Offsets in the record and in errors count from the start of `data`. Nested records are
    /// not checked here: iterate [`Tlv::children`] (or use [`validate`]) for that.
    pub fn parse(data: &'a [u8]) -> Result<(Tlv<'a>, &'a [u8]), Error> {
        parse(data, 0)
    }

    /// The record's kind.
    #[inline]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The record's identifier (object instance, resource or resource instance ID).
    #[inline]
    pub fn id(&self) -> u16 {
        self.id
    }

    /// The raw value bytes (for containers: the nested records), borrowed from the input.
    #[inline]
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// Length of the value in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the value is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Offset of the record's type byte in the payload.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Offset of the record's first value byte in the payload.
    #[inline]
    pub fn value_offset(&self) -> usize {
        self.value_offset
    }

    /// Header length plus value length: the bytes this record takes in the payload.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        self.value_offset - self.offset + self.value.len()
    }

    /// Whether the record holds nested records (object instance or multiple resource).
    #[inline]
    pub fn is_container(&self) -> bool {
        self.kind.is_container()
    }

    /// The nested records of an object instance or multiple resource, checked for their
    /// nesting; empty for resources and resource instances.
    #[inline]
    pub fn children(&self) -> Records<'a> {
        let data = if self.kind.is_container() {
            self.value
        } else {
            &[]
        };
        Records {
            rest: data,
            offset: self.value_offset,
            parent: Some(self.kind),
        }
    }

    /// The value bytes of a resource or resource instance; an error for containers.
    #[inline]
    pub fn scalar(&self) -> Result<&'a [u8], Error> {
        if self.kind.is_container() {
            Err(Error::NotAValue {
                offset: self.offset,
                kind: self.kind,
            })
        } else {
            Ok(self.value)
        }
    }

    #[inline]
    fn length_error(&self, ty: DataType) -> Error {
        Error::ValueLength {
            offset: self.offset,
            ty,
            len: self.value.len(),
        }
    }

    /// The value as a 1, 2, 4 or 8-byte big-endian integer, sign-extended when `signed`.
    #[inline]
    fn integer(&self, ty: DataType, signed: bool) -> Result<u64, Error> {
        let v = self.scalar()?;
        let value = if COMPACT {
            int_compact(v, signed)
        } else {
            int_branchy(v, signed)
        };
        value.ok_or_else(|| self.length_error(ty))
    }

    /// Signed integer (1, 2, 4 or 8 bytes, big-endian two's complement).
    #[inline]
    pub fn as_i64(&self) -> Result<i64, Error> {
        self.integer(DataType::Integer, true).map(|v| v as i64)
    }

    /// Unsigned integer (1, 2, 4 or 8 bytes, big-endian).
    #[inline]
    pub fn as_u64(&self) -> Result<u64, Error> {
        self.integer(DataType::Unsigned, false)
    }

    /// Float (4 or 8 bytes IEEE 754, big-endian), widened to `f64`.
    #[inline]
    pub fn as_f64(&self) -> Result<f64, Error> {
        let v = self.scalar()?;
        if let Ok(b) = <[u8; 4]>::try_from(v) {
            Ok(f32::from_be_bytes(b).into())
        } else if let Ok(b) = <[u8; 8]>::try_from(v) {
            Ok(f64::from_be_bytes(b))
        } else {
            Err(self.length_error(DataType::Float))
        }
    }

    /// Boolean: exactly one byte, 0 or 1.
    #[inline]
    pub fn as_bool(&self) -> Result<bool, Error> {
        match self.scalar()? {
            [0] => Ok(false),
            [1] => Ok(true),
            [byte] => Err(Error::InvalidBoolean {
                offset: self.offset,
                byte: *byte,
            }),
            _ => Err(self.length_error(DataType::Boolean)),
        }
    }

    /// UTF-8 string, checked.
    #[inline]
    pub fn as_str(&self) -> Result<&'a str, Error> {
        let v = self.scalar()?;
        core::str::from_utf8(v).map_err(|e| Error::InvalidUtf8 {
            offset: self.value_offset + e.valid_up_to(),
        })
    }

    /// Opaque bytes (the value as it is).
    #[inline]
    pub fn as_opaque(&self) -> Result<&'a [u8], Error> {
        self.scalar()
    }

    /// Time: signed integer seconds since the Unix epoch.
    #[inline]
    pub fn as_time(&self) -> Result<i64, Error> {
        self.as_i64()
    }

    /// Object link: 16-bit object ID then 16-bit instance ID.
    #[inline]
    pub fn as_objlnk(&self) -> Result<ObjLnk, Error> {
        match self.scalar()? {
            [a, b, c, d] => Ok(ObjLnk {
                object_id: u16::from_be_bytes([*a, *b]),
                instance_id: u16::from_be_bytes([*c, *d]),
            }),
            _ => Err(self.length_error(DataType::ObjectLink)),
        }
    }

    /// CoRE link (RFC 6690 link format) as a UTF-8 string, checked for UTF-8 only.
    #[inline]
    pub fn as_corelnk(&self) -> Result<&'a str, Error> {
        self.as_str()
    }
}

/// A 1, 2, 4 or 8-byte big-endian integer with one loop: the smallest code (bare metal).
#[inline]
fn int_compact(v: &[u8], signed: bool) -> Option<u64> {
    if !matches!(v.len(), 1 | 2 | 4 | 8) {
        return None;
    }
    let negative = signed && v.first().is_some_and(|b| b & 0x80 != 0);
    let init = if negative { u64::MAX } else { 0 };
    Some(v.iter().fold(init, |acc, &b| (acc << 8) | u64::from(b)))
}

/// A 1, 2, 4 or 8-byte big-endian integer with one branch per width: the fast path on hosts.
#[inline(always)]
fn int_branchy(v: &[u8], signed: bool) -> Option<u64> {
    Some(match *v {
        [a] if signed => a as i8 as u64,
        [a] => u64::from(a),
        [a, b] if signed => i16::from_be_bytes([a, b]) as u64,
        [a, b] => u64::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] if signed => i32::from_be_bytes([a, b, c, d]) as u64,
        [a, b, c, d] => u64::from(u32::from_be_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => u64::from_be_bytes([a, b, c, d, e, f, g, h]),
        _ => return None,
    })
}

/// A record header: type byte, id, header length and value length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    ty: u8,
    id: u16,
    header: usize,
    len: usize,
}

/// Reads a header with loops over the field widths: the smallest code (used on bare metal,
/// and on hosts for the last few bytes of an input). `None` when the input ends inside it.
#[inline]
fn header_compact(rest: &[u8]) -> Option<Header> {
    let &ty = rest.first()?;
    let id_len = 1 + usize::from((ty >> 5) & 1);
    let len_len = usize::from((ty >> 3) & 3);
    let header = 1 + id_len + len_len;
    let fields = rest.get(1..header)?;
    // One pass over the id and length fields, both big-endian.
    let mut id = 0u16;
    let mut acc = 0usize;
    for (i, &b) in fields.iter().enumerate() {
        acc = (acc << 8) | usize::from(b);
        if i + 1 == id_len {
            id = acc as u16;
            acc = 0;
        }
    }
    let len = if len_len == 0 {
        usize::from(ty & 7)
    } else {
        acc
    };
    Some(Header {
        ty,
        id,
        header,
        len,
    })
}

/// Reads a header from one 8-byte big-endian load with shifts and masks, no loop or branch
/// per form: the fast path on hosts. `None` when fewer than 8 bytes are left (a header has
/// at most 6, so the load always covers it).
#[inline(always)]
fn header_wide(rest: &[u8]) -> Option<Header> {
    let word = u64::from_be_bytes(*rest.first_chunk::<8>()?);
    let ty = (word >> 56) as u8;
    let wide = u32::from((ty >> 5) & 1);
    let len_len = u32::from((ty >> 3) & 3);
    let id_bits = 8 + 8 * wide;
    let id = ((word >> (56 - id_bits)) & ((1 << id_bits) - 1)) as u16;
    let len = if len_len == 0 {
        u64::from(ty & 7)
    } else {
        // Drop the type and id bytes, keep the `len_len` bytes that follow.
        (word << (8 + id_bits)) >> (64 - 8 * len_len)
    };
    Some(Header {
        ty,
        id,
        header: 2 + (wide + len_len) as usize,
        len: len as usize,
    })
}

/// Reads the two commonest headers on their own: 8-bit id and the length in the type byte
/// (short values such as integers and booleans) or in one length byte (strings up to 255
/// bytes). `None` for any other form.
#[inline(always)]
fn header_short(rest: &[u8]) -> Option<Header> {
    match *rest {
        [ty, id, ..] if ty & 0x38 == 0 => Some(Header {
            ty,
            id: u16::from(id),
            header: 2,
            len: usize::from(ty & 7),
        }),
        [ty, id, len, ..] if ty & 0x38 == 0x08 => Some(Header {
            ty,
            id: u16::from(id),
            header: 3,
            len: usize::from(len),
        }),
        _ => None,
    }
}

/// Reads the record at the start of `rest`, which sits at `offset` in the payload.
/// Returns the record and its encoded length.
#[inline(always)]
fn parse(rest: &[u8], offset: usize) -> Result<(Tlv<'_>, &[u8]), Error> {
    parse_as::<COMPACT>(rest, offset)
}

/// [`parse`] through the compact (`true`) or the host (`false`) header readers.
#[inline(always)]
fn parse_as<const COMPACT_PATH: bool>(
    rest: &[u8],
    offset: usize,
) -> Result<(Tlv<'_>, &[u8]), Error> {
    let header = if COMPACT_PATH {
        header_compact(rest)
    } else {
        header_short(rest)
            .or_else(|| header_wide(rest))
            .or_else(|| header_compact(rest))
    };
    let Some(Header {
        ty,
        id,
        header,
        len,
    }) = header
    else {
        return Err(Error::TruncatedHeader { offset });
    };
    // One split gives the value and the bytes after it: no second bounds check for those.
    let Some((value, after)) = rest.get(header..).and_then(|r| r.split_at_checked(len)) else {
        return Err(Error::ValueOverrun {
            offset,
            len,
            available: rest.len().saturating_sub(header),
        });
    };
    Ok((
        Tlv {
            kind: Kind::from_bits(ty >> 6),
            id,
            value,
            offset,
            value_offset: offset + header,
        },
        after,
    ))
}

/// Iterator over the records of a payload or of a container, in order.
///
/// Each item is a checked [`Tlv`] or the first error; after an error the iterator ends. Inside
/// a container it also checks nesting: an object instance holds resources and multiple
/// resources, a multiple resource holds resource instances. At the top level any kind is
/// accepted (use [`crate::check_path`] to check a payload against a request path).
#[derive(Debug, Clone)]
pub struct Records<'a> {
    rest: &'a [u8],
    offset: usize,
    parent: Option<Kind>,
}

impl<'a> Records<'a> {
    /// Iterates the top-level records of a TLV payload.
    #[inline]
    pub fn new(payload: &'a [u8]) -> Self {
        Records {
            rest: payload,
            offset: 0,
            parent: None,
        }
    }

    /// Offset (in the payload) of the next record to be read.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether every byte has been read (no further record), or an error ended the iteration.
    #[inline]
    pub fn is_at_end(&self) -> bool {
        self.rest.is_empty()
    }

    /// The container these records are nested in (`None` at the top level).
    #[inline]
    pub fn parent(&self) -> Option<Kind> {
        self.parent
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Tlv<'a>, Error>;

    // Inlined into the caller's loop on hosts (the walk's speed), shared on bare metal.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let result = match parse(self.rest, self.offset) {
            Ok((tlv, after)) => match self.parent {
                Some(parent) if !parent.may_contain(tlv.kind) => Err(Error::BadNesting {
                    offset: tlv.offset,
                    parent,
                    kind: tlv.kind,
                }),
                _ => {
                    self.rest = after;
                    self.offset = tlv.value_offset + tlv.value.len();
                    return Some(Ok(tlv));
                }
            },
            Err(e) => Err(e),
        };
        // After an error the iteration ends.
        self.rest = &[];
        Some(result)
    }
}

impl core::iter::FusedIterator for Records<'_> {}

/// Iterates the top-level records of a TLV payload (same as [`Records::new`]).
#[inline]
pub fn decode(payload: &[u8]) -> Records<'_> {
    Records::new(payload)
}

/// Checks the structure of a whole payload: every header, every length against its input and
/// parent, and the nesting of containers. Values are not type-checked (that needs the object
/// model). Returns the number of records, nested ones included.
pub fn validate(payload: &[u8]) -> Result<usize, Error> {
    let mut count = 0usize;
    for rec in Records::new(payload) {
        count += 1 + validate_children(&rec?)?;
    }
    Ok(count)
}

/// Checks the nested records of `tlv` (two levels at most); returns how many there are.
pub(crate) fn validate_children(tlv: &Tlv<'_>) -> Result<usize, Error> {
    let mut count = 0usize;
    for child in tlv.children() {
        let child = child?;
        count += 1;
        for grandchild in child.children() {
            grandchild?;
            count += 1;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The host fast paths agree with the compact bare-metal ones on every type byte and
    /// many following bytes.
    #[test]
    fn wide_and_compact_headers_agree() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for ty in 0..=255u8 {
            for _ in 0..64 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut bytes = seed.to_be_bytes();
                bytes[0] = ty;
                assert_eq!(header_wide(&bytes), header_compact(&bytes), "{bytes:02x?}");
                if let Some(short) = header_short(&bytes) {
                    assert_eq!(Some(short), header_compact(&bytes), "{bytes:02x?}");
                }
                assert_eq!(header_short(&bytes[..2]).is_some(), ty & 0x38 == 0);
                assert_eq!(header_short(&bytes[..3]).is_some(), ty & 0x30 == 0);
                for cut in 0..8 {
                    if let Some(short) = header_short(&bytes[..cut]) {
                        assert_eq!(Some(short), header_compact(&bytes[..cut]), "{bytes:02x?}");
                    }
                }
                for cut in 0..8 {
                    assert_eq!(header_wide(&bytes[..cut]), None);
                }
            }
        }
    }

    /// The compact and host record parsers give the same record or the same error on random
    /// inputs of every length up to 16 bytes (values fit often: short lengths are common).
    #[test]
    fn compact_and_host_parsers_agree() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..4_000u32 {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&next().to_be_bytes());
            bytes[8..].copy_from_slice(&next().to_be_bytes());
            // Every type byte, and short length fields so that values often fit.
            bytes[0] = round as u8;
            if round & 0x100 != 0 {
                bytes[1] &= 0x07;
                bytes[2] &= 0x07;
            }
            for len in 0..=bytes.len() {
                let data = &bytes[..len];
                assert_eq!(
                    parse_as::<true>(data, 7),
                    parse_as::<false>(data, 7),
                    "{data:02x?}"
                );
            }
        }
    }

    #[test]
    fn branchy_and_compact_integers_agree() {
        let samples: [&[u8]; 9] = [
            &[],
            &[0x80],
            &[0x7f],
            &[0x80, 0x01],
            &[1, 2, 3],
            &[0xff, 0xfe, 0xfd, 0xfc],
            &[0x80, 0, 0, 0, 0, 0, 0, 1],
            &[1, 2, 3, 4, 5],
            &[0; 9],
        ];
        for v in samples {
            for signed in [false, true] {
                assert_eq!(
                    int_branchy(v, signed),
                    int_compact(v, signed),
                    "{v:02x?} {signed}"
                );
            }
        }
    }
}
