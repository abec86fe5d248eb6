//! The encoder: [`Writer`] over a caller buffer, typed [`Value`]s and exact lengths.

use crate::decode::COMPACT;
use crate::{Error, Kind, ObjLnk};

/// Largest value length a TLV header can express (24-bit length field).
pub const MAX_VALUE_LEN: usize = 0xFF_FFFF;

/// Header length of a record with this id and value length, in the smallest form
/// (8-bit id when it fits; length in the type byte up to 7, else an 8-, 16- or 24-bit field).
#[inline]
pub const fn header_len(id: u16, value_len: usize) -> usize {
    let id_len = if id > 0xFF { 2 } else { 1 };
    let len_len = if value_len < 8 {
        0
    } else if value_len <= 0xFF {
        1
    } else if value_len <= 0xFFFF {
        2
    } else {
        3
    };
    1 + id_len + len_len
}

/// Exact encoded length (header plus value) of a record with this id and value length.
/// For containers, `value_len` is the encoded length of the nested records.
#[inline]
pub const fn encoded_len(id: u16, value_len: usize) -> usize {
    header_len(id, value_len) + value_len
}

/// Writes the smallest header for (`kind`, `id`, `len`) into `out`; returns its length.
#[inline]
pub(crate) fn write_header(out: &mut [u8; 6], kind: Kind, id: u16, len: usize) -> usize {
    let mut ty = kind.bits() << 6;
    let [id_hi, id_lo] = id.to_be_bytes();
    let [_, l2, l1, l0] = (len as u32).to_be_bytes();
    let mut n = 2;
    if id > 0xFF {
        ty |= 0x20;
        out[1] = id_hi;
        out[2] = id_lo;
        n = 3;
    } else {
        out[1] = id_lo;
    }
    if len < 8 {
        ty |= len as u8;
    } else if len <= 0xFF {
        ty |= 0x08;
        out[n] = l0;
        n += 1;
    } else if len <= 0xFFFF {
        ty |= 0x10;
        out[n] = l1;
        out[n + 1] = l0;
        n += 2;
    } else {
        ty |= 0x18;
        out[n] = l2;
        out[n + 1] = l1;
        out[n + 2] = l0;
        n += 3;
    }
    out[0] = ty;
    n
}

/// Smallest width (1, 2, 4 or 8 bytes) holding `v` as a signed two's complement integer.
#[inline]
pub const fn int_len(v: i64) -> usize {
    // 32-bit comparisons once the high word is known to be a sign extension (cheaper on
    // 32-bit targets).
    let lo = v as i32;
    if lo as i64 != v {
        8
    } else if lo as i8 as i32 == lo {
        1
    } else if lo as i16 as i32 == lo {
        2
    } else {
        4
    }
}

/// Smallest width (1, 2, 4 or 8 bytes) holding `v` as an unsigned integer.
#[inline]
pub const fn uint_len(v: u64) -> usize {
    if v <= 0xFF {
        1
    } else if v <= 0xFFFF {
        2
    } else if v <= 0xFFFF_FFFF {
        4
    } else {
        8
    }
}

/// A typed value to encode as a resource or resource instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'v> {
    /// Signed integer, written in the smallest of 1, 2, 4 or 8 bytes.
    Integer(i64),
    /// Unsigned integer, written in the smallest of 1, 2, 4 or 8 bytes.
    Unsigned(u64),
    /// Float, written in 4 bytes when `f32` holds it exactly, else 8.
    Float(f64),
    /// Boolean, one byte.
    Boolean(bool),
    /// UTF-8 string.
    String(&'v str),
    /// Opaque bytes.
    Opaque(&'v [u8]),
    /// Time: seconds since the Unix epoch, written as an integer.
    Time(i64),
    /// Object link.
    ObjLnk(ObjLnk),
    /// CoRE link (RFC 6690 link format), written as a string.
    CoreLnk(&'v str),
}

impl<'v> Value<'v> {
    /// Exact length of the encoded value (without header).
    #[inline]
    pub fn len(&self) -> usize {
        match *self {
            Value::Integer(v) | Value::Time(v) => int_len(v),
            Value::Unsigned(v) => uint_len(v),
            Value::Float(v) => {
                if float_fits_f32(v) {
                    4
                } else {
                    8
                }
            }
            Value::Boolean(_) => 1,
            Value::String(s) | Value::CoreLnk(s) => s.len(),
            Value::Opaque(b) => b.len(),
            Value::ObjLnk(_) => 4,
        }
    }

    /// Whether the encoded value is empty (an empty string or opaque).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value bytes: borrowed for strings and opaque, else built in `scratch`.
    #[inline]
    pub fn bytes<'s>(&'s self, scratch: &'s mut [u8; 8]) -> &'s [u8] {
        let n = match *self {
            Value::Integer(v) | Value::Time(v) => {
                *scratch = v.to_be_bytes();
                int_len(v)
            }
            Value::Unsigned(v) => {
                *scratch = v.to_be_bytes();
                uint_len(v)
            }
            Value::Float(v) => {
                if float_fits_f32(v) {
                    let [a, b, c, d] = (v as f32).to_be_bytes();
                    *scratch = [0, 0, 0, 0, a, b, c, d];
                    4
                } else {
                    *scratch = v.to_be_bytes();
                    8
                }
            }
            Value::Boolean(b) => {
                scratch[7] = u8::from(b);
                1
            }
            Value::ObjLnk(l) => {
                let [a, b] = l.object_id.to_be_bytes();
                let [c, d] = l.instance_id.to_be_bytes();
                *scratch = [0, 0, 0, 0, a, b, c, d];
                4
            }
            Value::String(s) | Value::CoreLnk(s) => return s.as_bytes(),
            Value::Opaque(b) => return b,
        };
        scratch.get(8 - n..).unwrap_or(&[])
    }
}

/// Whether `v` survives a round trip through `f32` bit for bit.
#[inline]
fn float_fits_f32(v: f64) -> bool {
    f64::from(v as f32).to_bits() == v.to_bits()
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for [u8] {}
    #[cfg(feature = "alloc")]
    impl Sealed for alloc::vec::Vec<u8> {}
}

/// Storage a [`Writer`] can write into: a fixed `[u8]` (errors when full) or, with `alloc`,
/// a growing `Vec<u8>`. Sealed.
pub trait Sink: sealed::Sealed {
    /// Makes the first `end` bytes writable; `false` when a fixed buffer is too small.
    #[doc(hidden)]
    fn ensure(&mut self, end: usize) -> bool;
    /// The writable bytes.
    #[doc(hidden)]
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Drops bytes past `len` (a growing buffer shrinks; a fixed one keeps them).
    #[doc(hidden)]
    fn cut(&mut self, len: usize);
    /// Bytes available in a fixed buffer.
    #[doc(hidden)]
    fn capacity(&self) -> usize;
}

impl Sink for [u8] {
    #[inline]
    fn ensure(&mut self, end: usize) -> bool {
        end <= self.len()
    }
    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    #[inline]
    fn cut(&mut self, _len: usize) {}
    #[inline]
    fn capacity(&self) -> usize {
        self.len()
    }
}

#[cfg(feature = "alloc")]
impl Sink for alloc::vec::Vec<u8> {
    #[inline]
    fn ensure(&mut self, end: usize) -> bool {
        if self.len() < end {
            self.resize(end, 0);
        }
        true
    }
    #[inline]
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    #[inline]
    fn cut(&mut self, len: usize) {
        self.truncate(len);
    }
    #[inline]
    fn capacity(&self) -> usize {
        usize::MAX
    }
}

/// An open container: where its header goes and where its content starts.
#[derive(Debug, Clone, Copy)]
struct Open {
    kind: Kind,
    id: u16,
    header_at: usize,
}

impl Open {
    /// Where the content starts: after the header reserved in its largest form.
    #[inline]
    fn value_at(&self) -> usize {
        self.header_at + header_len(self.id, MAX_VALUE_LEN)
    }
}

const NO_OPEN: Open = Open {
    kind: Kind::ObjectInstance,
    id: 0,
    header_at: 0,
};

/// Encoder of TLV records into a caller buffer.
///
/// Records are written in order, each with the smallest header. Containers are opened with
/// [`begin_instance`](Writer::begin_instance) / [`begin_multiple`](Writer::begin_multiple) and
/// closed with [`end`](Writer::end): the header is reserved in its largest form and written on
/// `end`, moving the content down when a shorter form fits, so no second buffer is needed.
/// A write that does not fit returns [`Error::BufferTooSmall`] and leaves the writer as it was.
///
/// ```
/// use lwm2m_tlv::Writer;
/// let mut buf = [0u8; 32];
/// let mut w = Writer::new(&mut buf);
/// w.begin_instance(0)?;
/// w.resource_i64(3, 1)?;
/// w.resource_str(6, "fw")?;
/// w.end()?;
/// let n = w.finish()?;
/// assert_eq!(&buf[..n], &[0x07, 0x00, 0xc1, 0x03, 0x01, 0xc2, 0x06, b'f', b'w']);
/// # Ok::<(), lwm2m_tlv::Error>(())
/// ```
#[derive(Debug)]
pub struct Writer<'b, B: ?Sized + Sink = [u8]> {
    buf: &'b mut B,
    start: usize,
    pos: usize,
    open: [Open; 2],
    depth: usize,
}

impl<'b> Writer<'b, [u8]> {
    /// A writer filling `buf` from its start.
    #[inline]
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer {
            buf,
            start: 0,
            pos: 0,
            open: [NO_OPEN; 2],
            depth: 0,
        }
    }
}

#[cfg(feature = "alloc")]
impl<'b> Writer<'b, alloc::vec::Vec<u8>> {
    /// A writer appending to `vec` (it grows as needed).
    pub fn append(vec: &'b mut alloc::vec::Vec<u8>) -> Self {
        let start = vec.len();
        Writer {
            buf: vec,
            start,
            pos: start,
            open: [NO_OPEN; 2],
            depth: 0,
        }
    }
}

macro_rules! typed_writers {
    ($( $(#[$doc:meta])* $res:ident, $inst:ident, $ty:ty, $how:ident; )*) => {
        $(
            $(#[$doc])*
            #[doc = "\n\nWritten as a resource record."]
            #[inline]
            pub fn $res(&mut self, id: u16, v: $ty) -> Result<(), Error> {
                self.$how(Kind::Resource, id, v)
            }

            $(#[$doc])*
            #[doc = "\n\nWritten as a resource instance record (inside a multiple resource)."]
            #[inline]
            pub fn $inst(&mut self, id: u16, v: $ty) -> Result<(), Error> {
                self.$how(Kind::ResourceInstance, id, v)
            }
        )*
    };
}

impl<'b, B: ?Sized + Sink> Writer<'b, B> {
    /// Bytes written so far (containers still open count with their reserved headers).
    #[inline]
    pub fn len(&self) -> usize {
        self.pos - self.start
    }

    /// Whether nothing has been written yet.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos == self.start
    }

    /// How many containers are open.
    #[inline]
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The innermost open container.
    #[inline]
    fn parent(&self) -> Option<&Open> {
        self.open.get(self.depth.checked_sub(1)?)
    }

    /// The open container that cannot hold a record of `kind`, if any.
    #[inline]
    fn misplaced(&self, kind: Kind) -> Option<Kind> {
        let parent = self.parent()?.kind;
        (!parent.may_contain(kind)).then_some(parent)
    }

    #[inline]
    fn too_small(&self, needed: usize) -> Error {
        Error::BufferTooSmall {
            needed,
            available: self.buf.capacity(),
        }
    }

    /// Writes a resource or resource instance record with raw value bytes.
    ///
    /// Containers are written with [`begin_instance`](Self::begin_instance) and friends;
    /// `kind` must not be a container kind here.
    // Inlined into each typed writer on hosts (the encode speed), shared on bare metal.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    pub fn record(&mut self, kind: Kind, id: u16, value: &[u8]) -> Result<(), Error> {
        // Errors are built right where they are returned: on small targets, moving a
        // finished `Error` through `?` costs a `memcpy`.
        let offset = self.pos - self.start;
        if kind.is_container() {
            return Err(Error::BadNesting {
                offset,
                parent: kind,
                kind,
            });
        }
        if let Some(parent) = self.misplaced(kind) {
            return Err(Error::BadNesting {
                offset,
                parent,
                kind,
            });
        }
        let len = value.len();
        if len > MAX_VALUE_LEN {
            return Err(Error::ValueTooLong { len });
        }
        let mut hdr = [0u8; 6];
        let h = write_header(&mut hdr, kind, id, len);
        let pos = self.pos;
        // No overflow: `pos` is at most the buffer length, `h + len` at most 2^24 + 5.
        let end = pos + h + len;
        if !self.buf.ensure(end) {
            return Err(self.too_small(end));
        }
        if let Some(dst) = self.buf.bytes_mut().get_mut(pos..end)
            && let Some((dh, dv)) = dst.split_at_mut_checked(h)
        {
            copy(dh, &hdr);
            copy(dv, value);
        }
        self.pos = end;
        Ok(())
    }

    /// Writes a resource record with a typed value.
    #[inline]
    pub fn resource(&mut self, id: u16, value: Value<'_>) -> Result<(), Error> {
        let mut scratch = [0u8; 8];
        self.record(Kind::Resource, id, value.bytes(&mut scratch))
    }

    /// Writes a resource instance record with a typed value.
    #[inline]
    pub fn resource_instance(&mut self, id: u16, value: Value<'_>) -> Result<(), Error> {
        let mut scratch = [0u8; 8];
        self.record(Kind::ResourceInstance, id, value.bytes(&mut scratch))
    }

    /// Writes a record of `kind` with the last `n` bytes of `bytes` as its value.
    #[inline]
    fn tail(&mut self, kind: Kind, id: u16, bytes: &[u8; 8], n: usize) -> Result<(), Error> {
        self.record(kind, id, bytes.get(8 - n..).unwrap_or(&[]))
    }

    #[inline]
    fn int(&mut self, kind: Kind, id: u16, v: i64) -> Result<(), Error> {
        self.tail(kind, id, &v.to_be_bytes(), int_len(v))
    }

    #[inline]
    fn uint(&mut self, kind: Kind, id: u16, v: u64) -> Result<(), Error> {
        self.tail(kind, id, &v.to_be_bytes(), uint_len(v))
    }

    #[inline]
    fn float(&mut self, kind: Kind, id: u16, v: f64) -> Result<(), Error> {
        let mut scratch = [0u8; 8];
        self.record(kind, id, Value::Float(v).bytes(&mut scratch))
    }

    #[inline]
    fn boolean(&mut self, kind: Kind, id: u16, v: bool) -> Result<(), Error> {
        self.record(kind, id, &[u8::from(v)])
    }

    #[inline]
    fn string(&mut self, kind: Kind, id: u16, v: &str) -> Result<(), Error> {
        self.record(kind, id, v.as_bytes())
    }

    #[inline]
    fn objlnk(&mut self, kind: Kind, id: u16, v: ObjLnk) -> Result<(), Error> {
        let [a, b] = v.object_id.to_be_bytes();
        let [c, d] = v.instance_id.to_be_bytes();
        self.record(kind, id, &[a, b, c, d])
    }

    typed_writers! {
        /// Signed integer in the smallest of 1, 2, 4 or 8 bytes.
        resource_i64, resource_instance_i64, i64, int;
        /// Unsigned integer in the smallest of 1, 2, 4 or 8 bytes.
        resource_u64, resource_instance_u64, u64, uint;
        /// Float in 4 bytes when `f32` holds it exactly, else 8.
        resource_f64, resource_instance_f64, f64, float;
        /// Boolean (one byte, 0 or 1).
        resource_bool, resource_instance_bool, bool, boolean;
        /// UTF-8 string.
        resource_str, resource_instance_str, &str, string;
        /// Opaque bytes.
        resource_opaque, resource_instance_opaque, &[u8], record;
        /// Time (seconds since the Unix epoch) as an integer.
        resource_time, resource_instance_time, i64, int;
        /// Object link (object ID, instance ID).
        resource_objlnk, resource_instance_objlnk, ObjLnk, objlnk;
        /// CoRE link (RFC 6690 link format) as a string.
        resource_corelnk, resource_instance_corelnk, &str, string;
    }

    fn begin(&mut self, kind: Kind, id: u16) -> Result<(), Error> {
        let offset = self.pos - self.start;
        // Checked nesting bounds the depth at 2 (instance > multiple).
        if let Some(parent) = self.misplaced(kind) {
            return Err(Error::BadNesting {
                offset,
                parent,
                kind,
            });
        }
        // Largest header form: type byte, id, 24-bit length (no overflow: `pos` is at most
        // the buffer length).
        let end = self.pos + header_len(id, MAX_VALUE_LEN);
        if !self.buf.ensure(end) {
            return Err(Error::BufferTooSmall {
                needed: end,
                available: self.buf.capacity(),
            });
        }
        let Some(slot) = self.open.get_mut(self.depth) else {
            return Err(Error::BadNesting {
                offset,
                parent: kind,
                kind,
            });
        };
        *slot = Open {
            kind,
            id,
            header_at: self.pos,
        };
        self.depth += 1;
        self.pos = end;
        Ok(())
    }

    /// Opens an object instance record (top level only); close it with [`end`](Self::end).
    #[inline]
    pub fn begin_instance(&mut self, id: u16) -> Result<(), Error> {
        self.begin(Kind::ObjectInstance, id)
    }

    /// Opens a multiple resource record (top level or in an object instance); close it with
    /// [`end`](Self::end).
    #[inline]
    pub fn begin_multiple(&mut self, id: u16) -> Result<(), Error> {
        self.begin(Kind::MultipleResource, id)
    }

    /// Closes the innermost open container: writes its header in the smallest form.
    pub fn end(&mut self) -> Result<(), Error> {
        let unbalanced = Error::Unbalanced {
            offset: self.pos - self.start,
        };
        let open = *self.parent().ok_or(unbalanced)?;
        let len = self.pos - open.value_at();
        if len > MAX_VALUE_LEN {
            return Err(Error::ValueTooLong { len });
        }
        let mut hdr = [0u8; 6];
        let h = write_header(&mut hdr, open.kind, open.id, len);
        let value_at = open.header_at + h;
        let bytes = self.buf.bytes_mut();
        if let Some(region) = bytes.get_mut(open.header_at..self.pos) {
            let reserved = open.value_at() - open.header_at;
            if reserved > h {
                // Move the content down over the unused part of the reserved header.
                move_down(region, reserved, h, len);
            }
            // Exactly `h` bytes: the content already follows the header.
            if let Some(dh) = region.get_mut(..h) {
                copy(dh, &hdr);
            }
        }
        self.pos = value_at + len;
        self.buf.cut(self.pos);
        self.depth -= 1;
        Ok(())
    }

    /// Checks that every container is closed; returns the number of bytes written.
    pub fn finish(self) -> Result<usize, Error> {
        if self.depth != 0 {
            return Err(Error::Unbalanced {
                offset: self.pos - self.start,
            });
        }
        Ok(self.pos - self.start)
    }
}

/// Copies `src` into the start of `dst` (as much as fits), without a panicking path.
#[inline]
fn copy(dst: &mut [u8], src: &[u8]) {
    if COMPACT {
        copy_bytes(dst, src);
    } else {
        let n = dst.len().min(src.len());
        if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
            d.copy_from_slice(s);
        }
    }
}

/// [`copy`] on bare metal: a byte loop the optimiser cannot turn into a `memcpy` call: the
/// compiler-builtins `memcpy` is larger than this whole codec, and device values are short.
#[inline]
fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    // Checked indexing inside the loop keeps it from being recognised as a `memcpy`.
    for (i, s) in src.iter().enumerate() {
        if let Some(d) = dst.get_mut(i) {
            *d = *s;
        }
    }
}

/// Moves `len` bytes at `from` down to `to` (`to < from`) inside `region`.
#[inline]
fn move_down(region: &mut [u8], from: usize, to: usize, len: usize) {
    if COMPACT {
        move_down_bytes(region, from, to, len);
    } else if from.checked_add(len).is_some_and(|end| end <= region.len()) {
        region.copy_within(from..from + len, to);
    }
}

/// [`move_down`] on bare metal: a byte loop (see [`copy_bytes`]).
#[inline]
fn move_down_bytes(region: &mut [u8], from: usize, to: usize, len: usize) {
    for i in 0..len {
        if let Some(b) = region.get(from + i).copied()
            && let Some(d) = region.get_mut(to + i)
        {
            *d = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bare-metal byte loops do what the host `copy_from_slice`/`copy_within` do.
    #[test]
    fn byte_loops_agree_with_slice_copies() {
        let src: [u8; 12] = core::array::from_fn(|i| 0xa0 + i as u8);
        for dst_len in 0..=12 {
            for src_len in 0..=12 {
                let (mut a, mut b) = ([0u8; 12], [0u8; 12]);
                copy_bytes(&mut a[..dst_len], &src[..src_len]);
                let n = dst_len.min(src_len);
                b[..n].copy_from_slice(&src[..n]);
                assert_eq!(a, b, "{dst_len} {src_len}");
            }
        }
        for from in 0..=12 {
            for to in 0..from {
                for len in 0..=12 - from {
                    let (mut a, mut b) = (src, src);
                    move_down_bytes(&mut a, from, to, len);
                    b.copy_within(from..from + len, to);
                    assert_eq!(a, b, "{from} {to} {len}");
                }
            }
        }
    }
}
