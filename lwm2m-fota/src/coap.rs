//! A minimal CoAP (RFC 7252) message view and builder: the subset the client core and the server
//! need. Thin adapter until `coap-block`'s codec is composed in; checked, never panics on input.

use crate::Error;

/// Message type: confirmable.
pub const CON: u8 = 0;
/// Message type: non-confirmable.
pub const NON: u8 = 1;
/// Message type: acknowledgement.
pub const ACK: u8 = 2;
/// Message type: reset.
pub const RST: u8 = 3;

/// Codes as `class << 5 | detail`.
pub mod code {
    /// Empty message.
    pub const EMPTY: u8 = 0;
    /// GET.
    pub const GET: u8 = 1;
    /// POST.
    pub const POST: u8 = 2;
    /// PUT.
    pub const PUT: u8 = 3;
    /// DELETE.
    pub const DELETE: u8 = 4;
    /// 2.01 Created.
    pub const CREATED: u8 = 0x41;
    /// 2.02 Deleted.
    pub const DELETED: u8 = 0x42;
    /// 2.04 Changed.
    pub const CHANGED: u8 = 0x44;
    /// 2.05 Content.
    pub const CONTENT: u8 = 0x45;
    /// 2.31 Continue.
    pub const CONTINUE: u8 = 0x5f;
    /// 4.00 Bad Request.
    pub const BAD_REQUEST: u8 = 0x80;
    /// 4.02 Bad Option.
    pub const BAD_OPTION: u8 = 0x82;
    /// 4.04 Not Found.
    pub const NOT_FOUND: u8 = 0x84;
    /// 4.05 Method Not Allowed.
    pub const METHOD_NOT_ALLOWED: u8 = 0x85;
    /// 4.06 Not Acceptable.
    pub const NOT_ACCEPTABLE: u8 = 0x86;
    /// 4.08 Request Entity Incomplete.
    pub const INCOMPLETE: u8 = 0x88;
    /// 4.13 Request Entity Too Large.
    pub const TOO_LARGE: u8 = 0x8d;
    /// 4.15 Unsupported Content-Format.
    pub const UNSUPPORTED_FORMAT: u8 = 0x8f;
    /// 5.00 Internal Server Error.
    pub const INTERNAL: u8 = 0xa0;
}

/// Option numbers used here.
pub mod opt {
    /// ETag.
    pub const ETAG: u16 = 4;
    /// Observe.
    pub const OBSERVE: u16 = 6;
    /// Location-Path.
    pub const LOCATION_PATH: u16 = 8;
    /// Uri-Path.
    pub const URI_PATH: u16 = 11;
    /// Content-Format.
    pub const CONTENT_FORMAT: u16 = 12;
    /// Uri-Query.
    pub const URI_QUERY: u16 = 15;
    /// Accept.
    pub const ACCEPT: u16 = 17;
    /// Block2.
    pub const BLOCK2: u16 = 23;
    /// Block1.
    pub const BLOCK1: u16 = 27;
    /// Size2.
    pub const SIZE2: u16 = 28;
    /// Size1.
    pub const SIZE1: u16 = 60;
}

/// Content formats used by LwM2M.
pub mod format {
    /// text/plain.
    pub const TEXT: u16 = 0;
    /// application/link-format.
    pub const LINK: u16 = 40;
    /// application/octet-stream.
    pub const OCTETS: u16 = 42;
    /// LwM2M TLV.
    pub const TLV: u16 = 11542;
}

/// A parsed message borrowing the datagram.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// Type (CON, NON, ACK, RST).
    pub ty: u8,
    /// Code.
    pub code: u8,
    /// Message ID.
    pub mid: u16,
    /// Token (0..=8 bytes).
    pub token: &'a [u8],
    options: &'a [u8],
    /// Payload (after the 0xFF marker).
    pub payload: &'a [u8],
}

fn ext(data: &[u8], pos: &mut usize, nibble: u8, at: usize) -> Result<u32, Error> {
    match nibble {
        13 => {
            let b = *data.get(*pos).ok_or(Error::Malformed { at })?;
            *pos += 1;
            Ok(u32::from(b) + 13)
        }
        14 => {
            let hi = *data.get(*pos).ok_or(Error::Malformed { at })?;
            let lo = *data.get(*pos + 1).ok_or(Error::Malformed { at })?;
            *pos += 2;
            Ok(u32::from(u16::from_be_bytes([hi, lo])) + 269)
        }
        15 => Err(Error::Malformed { at }),
        n => Ok(u32::from(n)),
    }
}

/// Iterator over `(number, value)` options.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    data: &'a [u8],
    pos: usize,
    number: u32,
}

impl<'a> Iterator for Options<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let at = self.pos;
        let first = *self.data.get(self.pos)?;
        self.pos += 1;
        let delta = ext(self.data, &mut self.pos, first >> 4, at).ok()?;
        let len = ext(self.data, &mut self.pos, first & 15, at).ok()? as usize;
        self.number = self.number.checked_add(delta)?;
        let value = self.data.get(self.pos..self.pos.checked_add(len)?)?;
        self.pos += len;
        Some((u16::try_from(self.number).ok()?, value))
    }
}

/// Decodes a CoAP unsigned integer option value.
pub fn uint(value: &[u8]) -> Option<u32> {
    if value.len() > 4 {
        return None;
    }
    Some(value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

/// A Block1/Block2 option value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Block number.
    pub num: u32,
    /// More blocks follow.
    pub more: bool,
    /// Size exponent: size = 2^(szx + 4).
    pub szx: u8,
}

impl Block {
    /// Block size in bytes.
    pub fn size(self) -> u32 {
        16u32 << self.szx.min(6)
    }
    /// Byte offset of this block.
    pub fn offset(self) -> Option<u32> {
        self.num.checked_mul(self.size())
    }
    /// Decodes an option value (SZX 7 is rejected: BERT is TCP only).
    pub fn decode(value: &[u8]) -> Option<Self> {
        let v = uint(value)?;
        if value.len() > 3 || v & 7 == 7 {
            return None;
        }
        Some(Block {
            num: v >> 4,
            more: v & 8 != 0,
            szx: (v & 7) as u8,
        })
    }
    /// Encoded numeric value.
    pub fn value(self) -> u32 {
        (self.num << 4) | (u32::from(self.more) << 3) | u32::from(self.szx & 7)
    }
}

impl<'a> Message<'a> {
    /// Parses a datagram.
    pub fn parse(data: &'a [u8]) -> Result<Self, Error> {
        let head = data.get(..4).ok_or(Error::Malformed { at: 0 })?;
        if head[0] >> 6 != 1 {
            return Err(Error::Malformed { at: 0 });
        }
        let tkl = usize::from(head[0] & 15);
        if tkl > 8 {
            return Err(Error::Malformed { at: 0 });
        }
        let token = data.get(4..4 + tkl).ok_or(Error::Malformed { at: 4 })?;
        let rest = data.get(4 + tkl..).unwrap_or(&[]);
        // Find the payload marker by walking the options.
        let mut pos = 0usize;
        let mut number = 0u32;
        while let Some(&first) = rest.get(pos) {
            if first == 0xff {
                break;
            }
            let at = 4 + tkl + pos;
            pos += 1;
            let delta = ext(rest, &mut pos, first >> 4, at)?;
            let len = ext(rest, &mut pos, first & 15, at)? as usize;
            number = number.checked_add(delta).ok_or(Error::Malformed { at })?;
            if number > u32::from(u16::MAX) {
                return Err(Error::Malformed { at });
            }
            pos = pos.checked_add(len).ok_or(Error::Malformed { at })?;
            if pos > rest.len() {
                return Err(Error::Malformed { at });
            }
        }
        let options = rest.get(..pos).unwrap_or(&[]);
        let payload = match rest.get(pos) {
            Some(_) => {
                let p = rest.get(pos + 1..).unwrap_or(&[]);
                if p.is_empty() {
                    return Err(Error::Malformed { at: 4 + tkl + pos });
                }
                p
            }
            None => &[],
        };
        Ok(Message {
            ty: (head[0] >> 4) & 3,
            code: head[1],
            mid: u16::from_be_bytes([head[2], head[3]]),
            token,
            options,
            payload,
        })
    }

    /// All options in order.
    pub fn options(&self) -> Options<'a> {
        Options {
            data: self.options,
            pos: 0,
            number: 0,
        }
    }

    /// The first value of option `number`.
    pub fn option(&self, number: u16) -> Option<&'a [u8]> {
        self.options().find(|(n, _)| *n == number).map(|(_, v)| v)
    }

    /// An unsigned option value.
    pub fn uint_option(&self, number: u16) -> Option<u32> {
        self.option(number).and_then(uint)
    }

    /// A Block1/Block2 option.
    pub fn block(&self, number: u16) -> Option<Block> {
        self.option(number).and_then(Block::decode)
    }

    /// Whether this is a request (code class 0, not empty).
    pub fn is_request(&self) -> bool {
        self.code != 0 && self.code < 32
    }

    /// First unknown critical option (odd number) the LwM2M layer does not handle.
    pub fn unknown_critical(&self) -> Option<u16> {
        self.options()
            .map(|(n, _)| n)
            .find(|n| n % 2 == 1 && !matches!(*n, 1 | 3 | 5 | 7 | 11 | 15 | 17 | 23 | 27 | 35 | 39))
    }
}

/// Writes a message into a caller buffer; options must be added in ascending order.
#[derive(Debug)]
pub struct Builder<'b> {
    buf: &'b mut [u8],
    len: usize,
    last: u16,
    ok: bool,
}

impl<'b> Builder<'b> {
    /// Starts a message.
    pub fn new(buf: &'b mut [u8], ty: u8, code: u8, mid: u16, token: &[u8]) -> Self {
        let mut b = Builder {
            buf,
            len: 0,
            last: 0,
            ok: token.len() <= 8,
        };
        let tkl = token.len().min(8) as u8;
        let [m0, m1] = mid.to_be_bytes();
        b.put(&[0x40 | (ty & 3) << 4 | tkl, code, m0, m1]);
        b.put(token.get(..usize::from(tkl)).unwrap_or(&[]));
        b
    }

    fn put(&mut self, data: &[u8]) {
        let end = self.len + data.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) if self.ok => {
                dst.copy_from_slice(data);
                self.len = end;
            }
            _ => self.ok = false,
        }
    }

    fn nibble(v: usize) -> (u8, [u8; 2], usize) {
        if v < 13 {
            (v as u8, [0, 0], 0)
        } else if v < 269 {
            (13, [(v - 13) as u8, 0], 1)
        } else {
            let e = ((v - 269) as u16).to_be_bytes();
            (14, e, 2)
        }
    }

    /// Replaces the code written by [`Builder::new`].
    pub fn with_code(self, c: u8) -> Self {
        if let Some(b) = self.buf.get_mut(1) {
            *b = c;
        }
        self
    }

    /// Adds an option (numbers must not decrease).
    pub fn option(mut self, number: u16, value: &[u8]) -> Self {
        if number < self.last || value.len() > 1034 {
            self.ok = false;
            return self;
        }
        let (dn, de, dl) = Self::nibble(usize::from(number - self.last));
        let (ln, le, ll) = Self::nibble(value.len());
        self.put(&[dn << 4 | ln]);
        self.put(de.get(..dl).unwrap_or(&[]));
        self.put(le.get(..ll).unwrap_or(&[]));
        self.put(value);
        self.last = number;
        self
    }

    /// Adds an unsigned option in its shortest form.
    pub fn uint(self, number: u16, value: u32) -> Self {
        let bytes = value.to_be_bytes();
        let skip = (value.leading_zeros() / 8) as usize;
        self.option(number, bytes.get(skip..).unwrap_or(&[]))
    }

    /// Adds each `/`-separated segment of `path` as option `number`.
    pub fn path(mut self, number: u16, path: &str) -> Self {
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            self = self.option(number, seg.as_bytes());
        }
        self
    }

    /// Adds the payload and returns the message length.
    pub fn payload(mut self, payload: &[u8]) -> Result<usize, Error> {
        if !payload.is_empty() {
            self.put(&[0xff]);
            self.put(payload);
        }
        self.finish()
    }

    /// Returns the message length (no payload).
    pub fn finish(self) -> Result<usize, Error> {
        if self.ok {
            Ok(self.len)
        } else {
            Err(Error::BufferTooSmall)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = [0u8; 128];
        let n = Builder::new(&mut buf, CON, code::PUT, 0x1234, &[1, 2])
            .path(opt::URI_PATH, "/5/0/0")
            .uint(opt::CONTENT_FORMAT, 42)
            .uint(
                opt::BLOCK1,
                Block {
                    num: 20,
                    more: true,
                    szx: 6,
                }
                .value(),
            )
            .uint(opt::SIZE1, 300_000)
            .payload(b"abc")
            .unwrap();
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(
            (m.ty, m.code, m.mid, m.token),
            (CON, code::PUT, 0x1234, &[1u8, 2][..])
        );
        let path = m.options().filter(|o| o.0 == opt::URI_PATH).count();
        assert_eq!(path, 3);
        assert_eq!(
            m.block(opt::BLOCK1),
            Some(Block {
                num: 20,
                more: true,
                szx: 6
            })
        );
        assert_eq!(m.uint_option(opt::SIZE1), Some(300_000));
        assert_eq!(m.payload, b"abc");
    }

    #[test]
    fn garbage_never_panics() {
        for len in 0..40 {
            for seed in 0..200u32 {
                let data: [u8; 40] = core::array::from_fn(|i| {
                    (seed.wrapping_mul(2654435761).rotate_left(i as u32) >> 3) as u8
                });
                if let Ok(m) = Message::parse(&data[..len]) {
                    for _ in m.options() {}
                }
            }
        }
    }
}
