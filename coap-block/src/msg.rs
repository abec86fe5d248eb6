//! RFC 7252 message codec: a checked zero-copy view ([`Message`]) and a builder
//! ([`MessageBuilder`]) that emits into a caller buffer.

use crate::{Block, Error};

/// Message type (RFC 7252 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Confirmable: retransmitted until acknowledged.
    Confirmable = 0,
    /// Non-confirmable.
    NonConfirmable = 1,
    /// Acknowledgement.
    Acknowledgement = 2,
    /// Reset.
    Reset = 3,
}

impl MessageType {
    /// The type from the two header bits.
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => MessageType::Confirmable,
            1 => MessageType::NonConfirmable,
            2 => MessageType::Acknowledgement,
            _ => MessageType::Reset,
        }
    }
}

/// Method or response code, `class << 5 | detail` as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub u8);

impl Code {
    /// 0.00 Empty message.
    pub const EMPTY: Code = Code::new(0, 0);
    /// 0.01 GET.
    pub const GET: Code = Code::new(0, 1);
    /// 0.02 POST.
    pub const POST: Code = Code::new(0, 2);
    /// 0.03 PUT.
    pub const PUT: Code = Code::new(0, 3);
    /// 0.04 DELETE.
    pub const DELETE: Code = Code::new(0, 4);
    /// 0.05 FETCH.
    pub const FETCH: Code = Code::new(0, 5);
    /// 2.01 Created.
    pub const CREATED: Code = Code::new(2, 1);
    /// 2.02 Deleted.
    pub const DELETED: Code = Code::new(2, 2);
    /// 2.03 Valid.
    pub const VALID: Code = Code::new(2, 3);
    /// 2.04 Changed.
    pub const CHANGED: Code = Code::new(2, 4);
    /// 2.05 Content.
    pub const CONTENT: Code = Code::new(2, 5);
    /// 2.31 Continue (RFC 7959).
    pub const CONTINUE: Code = Code::new(2, 31);
    /// 4.00 Bad Request.
    pub const BAD_REQUEST: Code = Code::new(4, 0);
    /// 4.01 Unauthorized.
    pub const UNAUTHORIZED: Code = Code::new(4, 1);
    /// 4.02 Bad Option.
    pub const BAD_OPTION: Code = Code::new(4, 2);
    /// 4.03 Forbidden.
    pub const FORBIDDEN: Code = Code::new(4, 3);
    /// 4.04 Not Found.
    pub const NOT_FOUND: Code = Code::new(4, 4);
    /// 4.05 Method Not Allowed.
    pub const METHOD_NOT_ALLOWED: Code = Code::new(4, 5);
    /// 4.06 Not Acceptable.
    pub const NOT_ACCEPTABLE: Code = Code::new(4, 6);
    /// 4.08 Request Entity Incomplete (RFC 7959).
    pub const REQUEST_ENTITY_INCOMPLETE: Code = Code::new(4, 8);
    /// 4.12 Precondition Failed.
    pub const PRECONDITION_FAILED: Code = Code::new(4, 12);
    /// 4.13 Request Entity Too Large.
    pub const REQUEST_ENTITY_TOO_LARGE: Code = Code::new(4, 13);
    /// 4.15 Unsupported Content-Format.
    pub const UNSUPPORTED_CONTENT_FORMAT: Code = Code::new(4, 15);
    /// 5.00 Internal Server Error.
    pub const INTERNAL_SERVER_ERROR: Code = Code::new(5, 0);
    /// 5.01 Not Implemented.
    pub const NOT_IMPLEMENTED: Code = Code::new(5, 1);
    /// 5.03 Service Unavailable.
    pub const SERVICE_UNAVAILABLE: Code = Code::new(5, 3);

    /// A code from class (0..=7) and detail (0..=31).
    pub const fn new(class: u8, detail: u8) -> Code {
        Code(((class & 7) << 5) | (detail & 31))
    }
    /// Class (0 request, 2 success, 4 client error, 5 server error).
    pub const fn class(self) -> u8 {
        self.0 >> 5
    }
    /// Detail (0..=31).
    pub const fn detail(self) -> u8 {
        self.0 & 31
    }
    /// 0.00.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// A method (0.01..=0.31).
    pub const fn is_request(self) -> bool {
        self.class() == 0 && self.0 != 0
    }
    /// A response (class 2..=5).
    pub const fn is_response(self) -> bool {
        self.class() >= 2
    }
    /// A 2.xx response.
    pub const fn is_success(self) -> bool {
        self.class() == 2
    }
}

/// An option number with the constants LwM2M needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionNumber(pub u16);

impl OptionNumber {
    /// If-Match (1).
    pub const IF_MATCH: OptionNumber = OptionNumber(1);
    /// Uri-Host (3).
    pub const URI_HOST: OptionNumber = OptionNumber(3);
    /// ETag (4).
    pub const ETAG: OptionNumber = OptionNumber(4);
    /// If-None-Match (5).
    pub const IF_NONE_MATCH: OptionNumber = OptionNumber(5);
    /// Observe (6, RFC 7641).
    pub const OBSERVE: OptionNumber = OptionNumber(6);
    /// Uri-Port (7).
    pub const URI_PORT: OptionNumber = OptionNumber(7);
    /// Location-Path (8).
    pub const LOCATION_PATH: OptionNumber = OptionNumber(8);
    /// Uri-Path (11).
    pub const URI_PATH: OptionNumber = OptionNumber(11);
    /// Content-Format (12).
    pub const CONTENT_FORMAT: OptionNumber = OptionNumber(12);
    /// Max-Age (14).
    pub const MAX_AGE: OptionNumber = OptionNumber(14);
    /// Uri-Query (15).
    pub const URI_QUERY: OptionNumber = OptionNumber(15);
    /// Accept (17).
    pub const ACCEPT: OptionNumber = OptionNumber(17);
    /// Location-Query (20).
    pub const LOCATION_QUERY: OptionNumber = OptionNumber(20);
    /// Block2 (23, RFC 7959).
    pub const BLOCK2: OptionNumber = OptionNumber(23);
    /// Block1 (27, RFC 7959).
    pub const BLOCK1: OptionNumber = OptionNumber(27);
    /// Size2 (28, RFC 7959).
    pub const SIZE2: OptionNumber = OptionNumber(28);
    /// Proxy-Uri (35).
    pub const PROXY_URI: OptionNumber = OptionNumber(35);
    /// Proxy-Scheme (39).
    pub const PROXY_SCHEME: OptionNumber = OptionNumber(39);
    /// Size1 (60).
    pub const SIZE1: OptionNumber = OptionNumber(60);
    /// No-Response (258, RFC 7967).
    pub const NO_RESPONSE: OptionNumber = OptionNumber(258);
    /// Request-Tag (292, RFC 9175).
    pub const REQUEST_TAG: OptionNumber = OptionNumber(292);

    /// Critical options (odd numbers) must be understood or the request rejected with 4.02.
    pub const fn is_critical(self) -> bool {
        self.0 & 1 == 1
    }

    /// One of the options this crate knows (the constants above).
    pub const fn is_known(self) -> bool {
        matches!(
            self.0,
            1 | 3
                | 4
                | 5
                | 6
                | 7
                | 8
                | 11
                | 12
                | 14
                | 15
                | 17
                | 20
                | 23
                | 27
                | 28
                | 35
                | 39
                | 60
                | 258
                | 292
        )
    }
}

/// A token (0..=8 bytes) held by value, for state machines that match responses.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
#[repr(C, align(4))] // word-aligned: copies stay a few loads and stores on small cores
pub struct Token {
    // The bytes first (two words), the length word last: measured smaller in the codec and
    // engines probes than the other order.
    bytes: [u8; 8],
    len: TokenLen,
}

// Shown length first, as before the fields were reordered.
impl core::fmt::Debug for Token {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Token")
            .field("len", &self.len)
            .field("bytes", &self.bytes)
            .finish()
    }
}

/// A token length, 0..=8: its unused values let `Option<Token>` need no tag of its own (a
/// token moves as three words). A whole word, so a move is three word copies, never a byte
/// and an 11-byte `memcpy` call.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
#[repr(u32)]
enum TokenLen {
    #[default]
    L0 = 0,
    L1,
    L2,
    L3,
    L4,
    L5,
    L6,
    L7,
    L8,
}

// Shown as the number it is (a token's `Debug` reads as before).
impl core::fmt::Debug for TokenLen {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&(*self as u8), f)
    }
}

impl TokenLen {
    /// The length `n`, clamped to 8.
    const fn of(n: usize) -> TokenLen {
        match n {
            0 => TokenLen::L0,
            1 => TokenLen::L1,
            2 => TokenLen::L2,
            3 => TokenLen::L3,
            4 => TokenLen::L4,
            5 => TokenLen::L5,
            6 => TokenLen::L6,
            7 => TokenLen::L7,
            _ => TokenLen::L8,
        }
    }
}

impl Token {
    /// The empty token.
    pub const EMPTY: Token = Token {
        len: TokenLen::L0,
        bytes: [0; 8],
    };

    /// A token from 0..=8 bytes.
    pub fn new(bytes: &[u8]) -> Result<Token, Error> {
        if bytes.len() > 8 {
            return Err(Error::TokenLength(bytes.len() as u8));
        }
        let mut t = Token::EMPTY;
        copy_bytes(&mut t.bytes, bytes);
        t.len = TokenLen::of(bytes.len());
        Ok(t)
    }

    /// Sets the token to the first 8 (at most) bytes of `bytes`, in place.
    pub(crate) fn set(&mut self, bytes: &[u8]) {
        copy_bytes(&mut self.bytes, bytes);
        self.len = TokenLen::of(bytes.len());
    }

    /// A token from an array of `N` bytes (`N` at most 8, checked at compile time): no error
    /// to handle, for a caller that keeps its tokens as arrays.
    ///
    /// ```
    /// use coap_block::Token;
    ///
    /// let t = Token::from_array([1, 2, 3, 4]);
    /// assert_eq!(t.as_slice(), &[1, 2, 3, 4]);
    /// assert_eq!(Ok(t), Token::new(&[1, 2, 3, 4]));
    /// ```
    pub const fn from_array<const N: usize>(bytes: [u8; N]) -> Token {
        const { assert!(N <= 8, "a token has at most 8 bytes") };
        let mut t = Token::EMPTY;
        // Always `Some` (`N <= 8`): an array assignment, no loop and no copy routine.
        if let Some(head) = t.bytes.first_chunk_mut::<N>() {
            *head = bytes;
        }
        t.len = TokenLen::of(N);
        t
    }

    /// A 4-byte token: `value`'s big-endian bytes.
    pub(crate) const fn from_word(value: u32) -> Token {
        let mut t = Token::EMPTY;
        let b = value.to_be_bytes();
        let mut i = 0;
        // A plain loop: measured smaller here than the array assignment of `from_array`.
        while i < 4 {
            t.bytes[i] = b[i];
            i += 1;
        }
        t.len = TokenLen::L4;
        t
    }

    /// A token of `len` (0..=8, clamped) bytes: the low `len` bytes of `value`, big-endian.
    pub fn from_u64(value: u64, len: u8) -> Token {
        let len = TokenLen::of(len as usize);
        let shifted = if len as u32 == 0 {
            0
        } else {
            value << (64 - 8 * len as u32)
        };
        Token {
            len,
            bytes: shifted.to_be_bytes(),
        }
    }

    /// The token bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len as usize).unwrap_or(&[])
    }
}

/// One option of a parsed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoapOption<'a> {
    /// Option number.
    pub number: OptionNumber,
    /// Raw value.
    pub value: &'a [u8],
}

impl CoapOption<'_> {
    /// The value as an unsigned integer (0..=4 bytes, big-endian).
    pub fn uint(&self) -> Result<u32, Error> {
        decode_uint(self.value, self.number.0)
    }
}

/// Copies `src` into the start of `dst` (the shorter length).
///
/// A plain byte loop: unlike `copy_from_slice` it has no length check that could panic. (It
/// no longer hides each byte from the optimiser: that kept the loop from becoming a `memcpy`
/// call when images did not link `memcpy`; every image links it now, and at `opt-level = "z"`
/// the loop stays a loop.) Out of line: one copy for every caller.
#[inline(never)]
pub(crate) fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Decodes a CoAP uint option value of 0..=4 bytes.
pub fn decode_uint(value: &[u8], number: u16) -> Result<u32, Error> {
    if value.len() > 4 {
        return Err(Error::BadOption { number });
    }
    let mut v = 0u32;
    for b in value {
        v = (v << 8) | *b as u32;
    }
    Ok(v)
}

/// How an option delta or length `v` (at most 65535 + 269) is written (RFC 7252 §3.1), packed
/// in one word: the nibble in bits 0..4, the extended field's width in bytes (0..=2) in bits
/// 4..6, its value from bit 8. Out of line: one copy serves delta and length.
#[inline(never)]
fn ext(v: u32) -> u32 {
    match v {
        0..13 => v,
        13..269 => (v - 13) << 8 | 1 << 4 | 13,
        _ => (v - 269) << 8 | 2 << 4 | 14,
    }
}

/// What [`step`] found instead of an option (in the first word, where an option's value
/// starts: above every offset, so `start > end` tells them apart).
const AT_MARKER: usize = usize::MAX;
const TRUNCATED: usize = usize::MAX - 1;
const RESERVED_NIBBLE: usize = usize::MAX - 2;
const NUMBER_OVERFLOW: usize = usize::MAX - 3;

/// One step of the option walk: decodes the option header at `pos` following option number
/// `*number`. An option gives its value's `(start, end)` in `buf` (`end` is where the next
/// header starts) and sets `*number` to its number. Otherwise the first word is one of the
/// codes above (`AT_MARKER` at the payload marker) and the second the error's offset;
/// `*number` is unchanged.
///
/// Two words in registers, so `buf.get(start..end)` is the value or `None` at the marker, the
/// end or a malformed option: one shared walk for `parse`, [`Options`] and the lookups.
fn step(buf: &[u8], pos: usize, number: &mut u16) -> (usize, usize) {
    let Some(&first) = buf.get(pos) else {
        return (TRUNCATED, pos);
    };
    if first == 0xff {
        return (AT_MARKER, pos);
    }
    let mut p = pos + 1;
    let mut fields = [(first >> 4) as usize, (first & 15) as usize];
    for f in fields.iter_mut() {
        if *f == 15 {
            return (RESERVED_NIBBLE, pos);
        }
        if *f >= 13 {
            // 13: one byte, 14: two bytes.
            let n = *f - 12;
            let Some(ext) = buf.get(p..p + n) else {
                return (TRUNCATED, buf.len());
            };
            // 13 + one byte, or 269 + two bytes (= 13 + 256 * (first + 1) + second): from
            // -1, each byte shifts in the running value plus one.
            let mut x = usize::MAX;
            for b in ext {
                x = (x.wrapping_add(1) << 8) | *b as usize;
            }
            *f = x.wrapping_add(13);
            p += n;
        }
    }
    let [delta, len] = fields;
    let n = *number as usize + delta;
    if n > u16::MAX as usize {
        return (NUMBER_OVERFLOW, pos);
    }
    let end = p + len;
    if end > buf.len() {
        return (TRUNCATED, buf.len());
    }
    *number = n as u16;
    (p, end)
}

/// A checked, zero-copy view of a CoAP message over UDP (RFC 7252 §3).
///
/// [`Message::parse`] validates the header, token and every option once; the accessors then
/// cannot fail on structure (only option *values* are checked when decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    buf: &'a [u8],
    /// End of the token (4 + TKL).
    options_start: usize,
    options_end: usize,
    payload_start: usize,
}

impl<'a> Message<'a> {
    /// Parses and validates a datagram.
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        let b0 = *buf.first().ok_or(Error::Truncated { offset: 0 })?;
        if buf.len() < 4 {
            return Err(Error::Truncated { offset: buf.len() });
        }
        if b0 >> 6 != 1 {
            return Err(Error::Version(b0 >> 6));
        }
        let tkl = b0 & 15;
        if tkl > 8 {
            return Err(Error::TokenLength(tkl));
        }
        let options_start = 4 + tkl as usize;
        let mut pos = options_start;
        if pos > buf.len() {
            return Err(Error::Truncated { offset: buf.len() });
        }
        if buf.get(1) == Some(&0) && buf.len() != 4 {
            return Err(Error::EmptyMessage);
        }
        let mut number = 0u16;
        while pos < buf.len() {
            let (start, end) = step(buf, pos, &mut number);
            if start <= end {
                pos = end;
                continue;
            }
            // Errors are built only on their (cold) paths.
            return Err(match start {
                AT_MARKER if pos + 1 == buf.len() => Error::EmptyPayload { offset: pos },
                AT_MARKER => {
                    return Ok(Message {
                        buf,
                        options_start,
                        options_end: pos,
                        payload_start: pos + 1,
                    });
                }
                RESERVED_NIBBLE => Error::ReservedNibble { offset: end },
                NUMBER_OVERFLOW => Error::OptionNumber { offset: end },
                _ => Error::Truncated { offset: end },
            });
        }
        Ok(Message {
            buf,
            options_start,
            options_end: pos,
            payload_start: pos,
        })
    }

    /// The whole datagram.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
    /// Message type.
    pub fn message_type(&self) -> MessageType {
        MessageType::from_bits(self.buf.first().map_or(0, |b| b >> 4))
    }
    /// Code.
    pub fn code(&self) -> Code {
        Code(self.buf.get(1).copied().unwrap_or(0))
    }
    /// Message ID.
    pub fn message_id(&self) -> u16 {
        match (self.buf.get(2), self.buf.get(3)) {
            (Some(h), Some(l)) => ((*h as u16) << 8) | *l as u16,
            _ => 0,
        }
    }
    /// Token bytes (0..=8).
    pub fn token(&self) -> &'a [u8] {
        self.buf.get(4..self.options_start).unwrap_or(&[])
    }
    /// Token by value.
    pub fn token_value(&self) -> Token {
        // `parse` checked the length (0..=8); built in place, no `Result` to unwrap.
        let bytes = self.token();
        let mut t = Token::EMPTY;
        if bytes.len() <= 8 {
            copy_bytes(&mut t.bytes, bytes);
            t.len = TokenLen::of(bytes.len());
        }
        t
    }
    /// Payload (empty when there is none).
    pub fn payload(&self) -> &'a [u8] {
        self.buf.get(self.payload_start..).unwrap_or(&[])
    }
    /// All options in order (repeatable options appear once per instance).
    pub fn options(&self) -> Options<'a> {
        Options {
            buf: self.buf.get(..self.options_end).unwrap_or(&[]),
            pos: self.options_start,
            number: 0,
        }
    }
    /// The instances of one option number.
    pub fn options_of(&self, number: OptionNumber) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.options()
            .filter(move |o| o.number == number)
            .map(|o| o.value)
    }
    /// First instance of an option.
    pub fn option(&self, number: OptionNumber) -> Option<&'a [u8]> {
        for o in self.options() {
            if o.number == number {
                return Some(o.value);
            }
        }
        None
    }
    /// First instance of a uint option, decoded.
    pub fn uint_option(&self, number: OptionNumber) -> Result<Option<u32>, Error> {
        self.option(number)
            .map(|v| decode_uint(v, number.0))
            .transpose()
    }
    /// Block1 option, decoded.
    // Always inlined: a call with the number in a register is smaller than an out-of-line
    // wrapper that the optimiser otherwise keeps.
    #[inline(always)]
    pub fn block1(&self) -> Result<Option<Block>, Error> {
        self.block(OptionNumber::BLOCK1)
    }
    /// Block2 option, decoded.
    #[inline(always)]
    pub fn block2(&self) -> Result<Option<Block>, Error> {
        self.block(OptionNumber::BLOCK2)
    }
    /// Block1 or Block2 (one copy of the lookup for both).
    fn block(&self, number: OptionNumber) -> Result<Option<Block>, Error> {
        self.option(number)
            .map(|v| Block::decode(v, number.0))
            .transpose()
    }
    /// Size1 option.
    pub fn size1(&self) -> Result<Option<u32>, Error> {
        self.uint_option(OptionNumber::SIZE1)
    }
    /// Size2 option.
    pub fn size2(&self) -> Result<Option<u32>, Error> {
        self.uint_option(OptionNumber::SIZE2)
    }
    /// Content-Format option.
    pub fn content_format(&self) -> Result<Option<u32>, Error> {
        self.uint_option(OptionNumber::CONTENT_FORMAT)
    }
    /// Accept option.
    pub fn accept(&self) -> Result<Option<u32>, Error> {
        self.uint_option(OptionNumber::ACCEPT)
    }
    /// Observe option.
    pub fn observe(&self) -> Result<Option<u32>, Error> {
        self.uint_option(OptionNumber::OBSERVE)
    }
    /// First ETag (1..=8 bytes).
    pub fn etag(&self) -> Option<&'a [u8]> {
        self.option(OptionNumber::ETAG)
    }
    /// Request-Tag (0..=8 bytes).
    pub fn request_tag(&self) -> Option<&'a [u8]> {
        self.option(OptionNumber::REQUEST_TAG)
    }
    /// Uri-Path segments in order.
    pub fn uri_path(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.options_of(OptionNumber::URI_PATH)
    }
    /// Uri-Query items in order.
    pub fn uri_query(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.options_of(OptionNumber::URI_QUERY)
    }
    /// Location-Path segments in order.
    pub fn location_path(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        self.options_of(OptionNumber::LOCATION_PATH)
    }
    /// Whether the Uri-Path equals `path` (`"5/0/0"` or `"/5/0/0"`).
    pub fn path_is(&self, path: &str) -> bool {
        let mut want = path
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty());
        let mut have = self.uri_path();
        loop {
            match (want.next(), have.next()) {
                (None, None) => return true,
                (Some(w), Some(h)) if w.as_bytes() == h => {}
                _ => return false,
            }
        }
    }
    /// The first critical option this crate does not know: answer a request carrying one
    /// with 4.02 Bad Option (RFC 7252 §5.4.1).
    pub fn unknown_critical_option(&self) -> Option<OptionNumber> {
        // Known critical options as a bit set (all below 40): 1, 3, 5, 7, 11, 15, 17, 23, 27,
        // 35, 39.
        const LOW: u32 =
            1 << 1 | 1 << 3 | 1 << 5 | 1 << 7 | 1 << 11 | 1 << 15 | 1 << 17 | 1 << 23 | 1 << 27;
        const HIGH: u32 = 1 << (35 - 32) | 1 << (39 - 32);
        for o in self.options() {
            let n = o.number.0 as u32;
            let known = match n {
                0..32 => LOW >> n & 1 == 1,
                32..64 => HIGH >> (n - 32) & 1 == 1,
                _ => false,
            };
            if n & 1 == 1 && !known {
                return Some(o.number);
            }
        }
        None
    }
}

/// Iterator over the options of a [`Message`].
#[derive(Debug, Clone)]
pub struct Options<'a> {
    buf: &'a [u8],
    pos: usize,
    number: u16,
}

impl<'a> Iterator for Options<'a> {
    type Item = CoapOption<'a>;
    fn next(&mut self) -> Option<CoapOption<'a>> {
        // At the end, the payload marker or a malformed option the decoder answers the same
        // way every time: the iterator stays done without a state of its own.
        let (start, end) = step(self.buf, self.pos, &mut self.number);
        let value = self.buf.get(start..end)?;
        self.pos = end;
        Some(CoapOption {
            number: OptionNumber(self.number),
            value,
        })
    }
}

/// Builds a message into a caller buffer. Options must be added in non-decreasing number
/// order (an out-of-order option is an [`Error::OptionOrder`]); the payload comes last.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    len: usize,
    last: u16,
}

impl<'b> MessageBuilder<'b> {
    /// Starts a message: header and token.
    pub fn new(
        buf: &'b mut [u8],
        ty: MessageType,
        code: Code,
        message_id: u16,
        token: &[u8],
    ) -> Result<Self, Error> {
        if token.len() > 8 {
            return Err(Error::TokenLength(token.len() as u8));
        }
        let head = buf
            .get_mut(..4 + token.len())
            .ok_or(Error::BufferTooSmall)?;
        let [b0, b1, b2, b3, rest @ ..] = head else {
            return Err(Error::BufferTooSmall);
        };
        *b0 = 0x40 | ((ty as u8) << 4) | token.len() as u8;
        *b1 = code.0;
        [*b2, *b3] = message_id.to_be_bytes();
        copy_bytes(rest, token);
        Ok(MessageBuilder {
            buf,
            len: 4 + token.len(),
            last: 0,
        })
    }

    /// Starts the response to `request`: a piggybacked ACK with the same Message ID for a CON,
    /// otherwise a NON with `message_id`; the token is copied.
    pub fn response_to(
        buf: &'b mut [u8],
        request: &Message<'_>,
        code: Code,
        message_id: u16,
    ) -> Result<Self, Error> {
        // The request's type bits and Message ID in one bounds check (a parsed message has
        // its four header bytes).
        let (ty, mid) = match request.as_bytes() {
            &[b0, _, m0, m1, ..] if b0 >> 4 & 3 == MessageType::Confirmable as u8 => {
                (MessageType::Acknowledgement, u16::from_be_bytes([m0, m1]))
            }
            _ => (MessageType::NonConfirmable, message_id),
        };
        Self::new(buf, ty, code, mid, request.token())
    }

    /// An empty ACK (or, with `reset`, RST) for `message_id`; returns its length (4).
    pub fn empty(buf: &mut [u8], message_id: u16, reset: bool) -> Result<usize, Error> {
        // Version 1, type ACK (2) or RST (3), no token, code 0.00: written directly.
        let Some([b0, b1, b2, b3]) = buf.first_chunk_mut::<4>() else {
            return Err(Error::BufferTooSmall);
        };
        *b0 = 0x60 | (reset as u8) << 4;
        *b1 = 0;
        [*b2, *b3] = message_id.to_be_bytes();
        Ok(4)
    }

    /// Replaces the code (allowed at any time before [`finish`](Self::finish)).
    pub fn set_code(&mut self, code: Code) {
        if let Some(b) = self.buf.get_mut(1) {
            *b = code.0;
        }
    }

    /// The code written so far.
    pub fn code(&self) -> Code {
        Code(self.buf.get(1).copied().unwrap_or(0))
    }

    /// Largest option number added so far (0 when none).
    pub fn last_option(&self) -> u16 {
        self.last
    }

    fn put(&mut self, byte: u8) -> Result<(), Error> {
        let slot = self.buf.get_mut(self.len).ok_or(Error::BufferTooSmall)?;
        *slot = byte;
        self.len += 1;
        Ok(())
    }

    /// Appends an option.
    pub fn option(&mut self, number: OptionNumber, value: &[u8]) -> Result<&mut Self, Error> {
        let Some(delta) = number.0.checked_sub(self.last) else {
            return Err(Error::OptionOrder { number: number.0 });
        };
        if value.len() > 65535 + 269 {
            return Err(Error::BufferTooSmall);
        }
        let (d, l) = (ext(u32::from(delta)), ext(value.len() as u32));
        // Both extended fields as one big-endian word of `w` (0..=4) bytes.
        let (dw, lw) = (d >> 4 & 3, l >> 4 & 3);
        let w = dw + lw;
        let fields = (d >> 8) << (8 * lw) | l >> 8;
        // The space is checked first so a full buffer leaves the message unchanged.
        let end = self.len + 1 + w as usize + value.len();
        let Some(dst) = self.buf.get_mut(self.len..end) else {
            return Err(Error::BufferTooSmall);
        };
        let Some((head, rest)) = dst.split_first_mut() else {
            return Err(Error::BufferTooSmall);
        };
        *head = (d << 4 | l & 15) as u8;
        let mut k = w;
        for b in rest.iter_mut().take(w as usize) {
            k -= 1;
            *b = (fields >> (8 * k)) as u8;
        }
        copy_bytes(rest.get_mut(w as usize..).unwrap_or(&mut []), value);
        self.len = end;
        self.last = number.0;
        Ok(self)
    }

    /// Appends a uint option in the fewest bytes (0 is the empty value).
    pub fn uint_option(&mut self, number: OptionNumber, value: u32) -> Result<&mut Self, Error> {
        let be = value.to_be_bytes();
        let skip = (value.leading_zeros() / 8) as usize;
        self.option(number, be.get(skip..).unwrap_or(&[]))
    }

    /// Appends a Block1 or Block2 option.
    #[inline]
    pub fn block(&mut self, number: OptionNumber, block: Block) -> Result<&mut Self, Error> {
        self.uint_option(number, block.to_uint())
    }

    /// Appends one Uri-Path option per non-empty `/`-separated segment of `path`.
    pub fn path(&mut self, path: &str) -> Result<&mut Self, Error> {
        // A byte loop rather than `str::split`: smaller on small cores.
        let bytes = path.as_bytes();
        let mut start = 0;
        for i in 0..=bytes.len() {
            if bytes.get(i).is_none_or(|b| *b == b'/') {
                if let Some(seg) = bytes.get(start..i)
                    && !seg.is_empty()
                {
                    self.option(OptionNumber::URI_PATH, seg)?;
                }
                start = i + 1;
            }
        }
        Ok(self)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing but the header yet? (Never true: the header is always written.)
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left for a payload after the marker.
    pub fn payload_capacity(&self) -> usize {
        self.buf.len().saturating_sub(self.len + 1)
    }

    /// Finishes with a payload (none when empty); returns the message length.
    pub fn payload(self, data: &[u8]) -> Result<usize, Error> {
        if data.is_empty() {
            return Ok(self.len);
        }
        // The marker and the payload in one bounds check.
        let end = self.len + 1 + data.len();
        let Some((marker, dst)) = self
            .buf
            .get_mut(self.len..end)
            .and_then(|d| d.split_first_mut())
        else {
            return Err(Error::BufferTooSmall);
        };
        *marker = 0xff;
        copy_bytes(dst, data);
        Ok(end)
    }

    /// Finishes with a payload written by `fill` into at most `max` bytes of the buffer
    /// (zero-copy from a source); `fill` returns how many bytes it wrote.
    pub fn payload_with<F>(mut self, max: usize, fill: F) -> Result<usize, Error>
    where
        F: FnOnce(&mut [u8]) -> Result<usize, Error>,
    {
        let start = self.len + 1;
        let end = start.checked_add(max).ok_or(Error::BufferTooSmall)?;
        let dst = self.buf.get_mut(start..end).ok_or(Error::BufferTooSmall)?;
        let n = fill(dst)?.min(max);
        if n == 0 {
            return Ok(self.len);
        }
        self.put(0xff)?;
        self.len += n;
        Ok(self.len)
    }

    /// Finishes without payload; returns the message length.
    pub fn finish(self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let mut buf = [0u8; 128];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::Confirmable,
            Code::PUT,
            0x1234,
            &[1, 2],
        )
        .unwrap();
        b.path("/5/0/0").unwrap();
        b.uint_option(OptionNumber::CONTENT_FORMAT, 42).unwrap();
        b.block(OptionNumber::BLOCK1, Block::new(3, true, 6).unwrap())
            .unwrap();
        b.uint_option(OptionNumber::SIZE1, 300_000).unwrap();
        b.option(OptionNumber::REQUEST_TAG, &[9]).unwrap();
        assert_eq!(
            b.option(OptionNumber::ETAG, &[1]).unwrap_err(),
            Error::OptionOrder { number: 4 }
        );
        let n = b.payload(b"hello").unwrap();
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(m.message_type(), MessageType::Confirmable);
        assert_eq!(m.code(), Code::PUT);
        assert_eq!(m.message_id(), 0x1234);
        assert_eq!(m.token(), &[1, 2]);
        assert!(m.path_is("5/0/0"));
        assert!(!m.path_is("5/0"));
        assert_eq!(m.content_format(), Ok(Some(42)));
        assert_eq!(m.block1(), Ok(Some(Block::new(3, true, 6).unwrap())));
        assert_eq!(m.size1(), Ok(Some(300_000)));
        assert_eq!(m.request_tag(), Some(&[9u8][..]));
        assert_eq!(m.payload(), b"hello");
        assert_eq!(m.unknown_critical_option(), None);
    }

    #[test]
    fn malformed() {
        assert_eq!(Message::parse(&[]), Err(Error::Truncated { offset: 0 }));
        assert_eq!(
            Message::parse(&[0x40, 1, 0]),
            Err(Error::Truncated { offset: 3 })
        );
        assert_eq!(Message::parse(&[0x80, 1, 0, 0]), Err(Error::Version(2)));
        assert_eq!(Message::parse(&[0x49, 1, 0, 0]), Err(Error::TokenLength(9)));
        assert_eq!(
            Message::parse(&[0x42, 1, 0, 0, 1]),
            Err(Error::Truncated { offset: 5 })
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0xff]),
            Err(Error::EmptyPayload { offset: 4 })
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0xf1, 0]),
            Err(Error::ReservedNibble { offset: 4 })
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0x1f, 0]),
            Err(Error::ReservedNibble { offset: 4 })
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0x12, 0]),
            Err(Error::Truncated { offset: 6 })
        );
        assert_eq!(
            Message::parse(&[0x40, 0, 0, 0, 0x10]),
            Err(Error::EmptyMessage)
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0xe0, 0xfe, 0xf2, 0x10]),
            Err(Error::OptionNumber { offset: 7 })
        );
        let m = Message::parse(&[0x40, 1, 0, 0, 0xd0, 0x00]).unwrap();
        assert_eq!(m.unknown_critical_option(), Some(OptionNumber(13)));
    }

    #[test]
    fn extended_fields() {
        let mut buf = [0u8; 600];
        let long = [7u8; 300];
        let mut b =
            MessageBuilder::new(&mut buf, MessageType::NonConfirmable, Code::GET, 1, &[]).unwrap();
        b.option(OptionNumber(20), &long[..20]).unwrap();
        b.option(OptionNumber(400), &long).unwrap();
        b.option(OptionNumber(400), &[]).unwrap();
        let n = b.finish();
        let m = Message::parse(&buf[..n]).unwrap();
        let opts: heapless_free::Vec3 = m.options().map(|o| (o.number.0, o.value.len())).collect();
        assert_eq!(opts.0, [(20, 20), (400, 300), (400, 0)]);
    }

    #[test]
    fn option_header_boundaries() {
        // (delta, value length) -> header byte and extended fields (RFC 7252 §3.1).
        let cases: [(u16, usize, &[u8]); 6] = [
            (12, 12, &[0xcc]),
            (13, 13, &[0xdd, 0, 0]),
            (268, 268, &[0xdd, 255, 255]),
            (269, 269, &[0xee, 0, 0, 0, 0]),
            (270, 0, &[0xe0, 0, 1]),
            (65535, 1, &[0xe1, 0xfe, 0xf2]),
        ];
        let value = [5u8; 300];
        for (delta, len, head) in cases {
            let mut buf = [0u8; 320];
            let mut b =
                MessageBuilder::new(&mut buf, MessageType::Confirmable, Code::GET, 1, &[]).unwrap();
            b.option(OptionNumber(delta), &value[..len]).unwrap();
            let n = b.finish();
            assert_eq!(&buf[4..4 + head.len()], head, "delta {delta} len {len}");
            assert_eq!(n, 4 + head.len() + len);
            let m = Message::parse(&buf[..n]).unwrap();
            assert_eq!(m.option(OptionNumber(delta)), Some(&value[..len]));
        }
        // Too long for the 16-bit extended length, and no room: nothing is written.
        let mut buf = [0u8; 16];
        let mut b =
            MessageBuilder::new(&mut buf, MessageType::Confirmable, Code::GET, 1, &[]).unwrap();
        let huge = [0u8; 65535 + 270];
        assert_eq!(
            b.option(OptionNumber(1), &huge).unwrap_err(),
            Error::BufferTooSmall
        );
        assert_eq!(
            b.option(OptionNumber(1), &[0; 12]).unwrap_err(),
            Error::BufferTooSmall
        );
        b.option(OptionNumber(1), &[0; 11]).unwrap();
        assert_eq!(b.len(), 16);
    }

    #[test]
    fn empty_ack_and_reset() {
        let mut buf = [0u8; 8];
        assert_eq!(MessageBuilder::empty(&mut buf, 0x1234, false), Ok(4));
        assert_eq!(buf[..4], [0x60, 0, 0x12, 0x34]);
        let m = Message::parse(&buf[..4]).unwrap();
        assert_eq!(
            (m.message_type(), m.code(), m.message_id()),
            (MessageType::Acknowledgement, Code::EMPTY, 0x1234)
        );
        assert_eq!(MessageBuilder::empty(&mut buf, 7, true), Ok(4));
        assert_eq!(buf[..4], [0x70, 0, 0, 7]);
        assert_eq!(
            MessageBuilder::empty(&mut buf[..3], 7, true),
            Err(Error::BufferTooSmall)
        );
        // A piggybacked ACK keeps the CON's Message ID; a NON request gets a NON answer.
        let con = [0x41, 1, 0xab, 0xcd, 9];
        let req = Message::parse(&con).unwrap();
        let n = MessageBuilder::response_to(&mut buf, &req, Code::CONTENT, 5)
            .unwrap()
            .finish();
        assert_eq!(buf[..n], [0x61, 0x45, 0xab, 0xcd, 9]);
        let non = [0x50, 1, 0xab, 0xcd];
        let req = Message::parse(&non).unwrap();
        let n = MessageBuilder::response_to(&mut buf, &req, Code::CONTENT, 5)
            .unwrap()
            .finish();
        assert_eq!(buf[..n], [0x50, 0x45, 0, 5]);
    }

    #[test]
    fn token_lengths() {
        for n in 0..=8usize {
            let bytes = [7u8; 8];
            let t = Token::new(&bytes[..n]).unwrap();
            assert_eq!(t.as_slice(), &bytes[..n]);
            assert_eq!(Token::from_u64(0x0707_0707_0707_0707, n as u8), t);
        }
        assert_eq!(Token::from_u64(1, 200).as_slice().len(), 8);
        assert_eq!(Token::new(&[0; 9]), Err(Error::TokenLength(9)));
        // `Debug` shows the length as a number (a fixed buffer: no `alloc` here).
        struct Buf([u8; 64], usize);
        impl core::fmt::Write for Buf {
            fn write_str(&mut self, s: &str) -> core::fmt::Result {
                let end = self.1 + s.len();
                self.0[self.1..end].copy_from_slice(s.as_bytes());
                self.1 = end;
                Ok(())
            }
        }
        let mut b = Buf([0; 64], 0);
        core::fmt::Write::write_fmt(&mut b, format_args!("{:?}", Token::from_array([1, 2])))
            .unwrap();
        assert_eq!(
            &b.0[..b.1],
            b"Token { len: 2, bytes: [1, 2, 0, 0, 0, 0, 0, 0] }"
        );
        assert_eq!(
            core::mem::size_of::<Option<Token>>(),
            core::mem::size_of::<Token>()
        );
    }

    mod heapless_free {
        pub struct Vec3(pub [(u16, usize); 3]);
        impl FromIterator<(u16, usize)> for Vec3 {
            fn from_iter<I: IntoIterator<Item = (u16, usize)>>(iter: I) -> Self {
                let mut v = [(0, 0); 3];
                for (slot, x) in v.iter_mut().zip(iter) {
                    *slot = x;
                }
                Vec3(v)
            }
        }
    }
}
