//! Adaptive binary range coder (LZMA-style: 11-bit probabilities, 32-bit range, carry-propagating
//! encoder) and the context model of the native patch stream, shared by encoder and decoder.
//!
//! The decoder normalises *before* each binary decision, so one adaptive decision consumes at
//! most two input bytes (probabilities stay within [7, 2041]/2048 with the fastest rate) and a
//! direct bit at most one: a record needs at most [`MAX_RECORD_BYTES`] bytes, which lets the
//! push-style patcher decode only when that much input is buffered instead of suspending in the
//! middle of a symbol.

const PROB_BITS: u32 = 11;
const PROB_ONE: u32 = 1 << PROB_BITS;
const PROB_INIT: u16 = (PROB_ONE / 2) as u16;
const TOP: u32 = 1 << 24;

/// Largest number of patch bytes one control record can consume: 26 adaptive decisions (three
/// 6-bit length trees, three times two mantissa bits, two flags) at two bytes, 3 × 62 direct
/// bits at one byte.
pub(crate) const MAX_RECORD_BYTES: usize = 240;
/// Largest number of patch bytes one diff or extra byte can consume (nine decisions).
pub(crate) const MAX_BYTE_BYTES: usize = 20;
/// Bytes at the start of every block (the encoder's first byte is always zero).
pub(crate) const INIT_BYTES: usize = 5;

/// One binary decision: the encoder codes `bit`, the decoder ignores it and returns what it read.
pub(crate) trait Coder {
    fn bit(&mut self, prob: &mut u16, bit: u32, shift: u32) -> u32;
    fn direct(&mut self, bit: u32) -> u32;
}

/// Probabilities are stored XOR `PROB_INIT`, so that a fresh model is all zeros: resetting it is
/// a memory clear instead of a copy of a 10 KiB template kept in flash.
#[inline]
fn load(prob: &u16) -> u32 {
    u32::from(*prob ^ PROB_INIT)
}

/// Adaptation rates (shift of the update) by kind of data, chosen on the corpus: delta bytes
/// change statistics fast, control integers less, literals of new code slowly.
const INT_SHIFT: u32 = 3;
const DELTA_SHIFT: u32 = 3;
const LIT_SHIFT: u32 = 4;

#[inline]
fn adapt(prob: &mut u16, bit: u32, shift: u32) {
    let p = load(prob);
    *prob = PROB_INIT
        ^ if bit == 0 {
            p + ((PROB_ONE - p) >> shift)
        } else {
            p - (p >> shift)
        } as u16;
}

/// Range decoder state (8 bytes: it goes into no checkpoint since blocks restart it).
#[derive(Clone, Copy)]
pub(crate) struct RcState {
    pub(crate) range: u32,
    pub(crate) code: u32,
}

/// Size of the patcher's input ring (a power of two).
pub(crate) const RING: usize = 256;

/// Decoder over `len` bytes of a ring buffer from `start`; reading past them sets `starved`
/// and yields zeros.
pub(crate) struct Decoder<'a> {
    pub(crate) st: RcState,
    pub(crate) ring: &'a [u8; RING],
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) pos: usize,
    pub(crate) starved: bool,
}

impl Decoder<'_> {
    /// One input byte (once per byte of patch: not worth inlining at every use).
    #[inline(never)]
    fn byte(&mut self) -> u32 {
        if self.pos < self.len {
            let b = self.ring[(self.start + self.pos) % RING];
            self.pos += 1;
            u32::from(b)
        } else {
            self.starved = true;
            0
        }
    }

    #[inline]
    pub(crate) fn normalize(&mut self) {
        while self.st.range < TOP {
            self.st.range <<= 8;
            self.st.code = (self.st.code << 8) | self.byte();
        }
    }

    /// Starts a block: returns false when the first byte is not zero.
    pub(crate) fn init(&mut self) -> bool {
        let first = self.byte();
        self.st.range = u32::MAX;
        self.st.code = 0;
        let mut i = 0;
        while i < 4 {
            self.st.code = (self.st.code << 8) | self.byte();
            i += 1;
        }
        first == 0 && self.st.code != u32::MAX
    }
}

impl Coder for Decoder<'_> {
    #[cfg_attr(not(feature = "std"), inline(never))]
    #[cfg_attr(feature = "std", inline)]
    fn bit(&mut self, prob: &mut u16, _bit: u32, shift: u32) -> u32 {
        self.normalize();
        let bound = (self.st.range >> PROB_BITS).wrapping_mul(load(prob));
        let bit = if self.st.code < bound {
            self.st.range = bound;
            0
        } else {
            self.st.range = self.st.range.wrapping_sub(bound);
            self.st.code = self.st.code.wrapping_sub(bound);
            1
        };
        adapt(prob, bit, shift);
        bit
    }

    #[inline]
    fn direct(&mut self, _bit: u32) -> u32 {
        self.normalize();
        self.st.range >>= 1;
        if self.st.code >= self.st.range {
            self.st.code = self.st.code.wrapping_sub(self.st.range);
            1
        } else {
            0
        }
    }
}

/// Range encoder writing into a `Vec`.
#[cfg(feature = "std")]
pub(crate) struct Encoder {
    low: u64,
    range: u32,
    cache: u8,
    cache_size: u64,
    out: std::vec::Vec<u8>,
}

#[cfg(feature = "std")]
impl Encoder {
    pub(crate) fn new() -> Self {
        Encoder {
            low: 0,
            range: u32::MAX,
            cache: 0,
            cache_size: 1,
            out: std::vec::Vec::new(),
        }
    }

    fn shift_low(&mut self) {
        if self.low < 0xFF00_0000 || self.low > 0xFFFF_FFFF {
            let carry = (self.low >> 32) as u8;
            let mut temp = self.cache;
            loop {
                self.out.push(temp.wrapping_add(carry));
                temp = 0xFF;
                self.cache_size -= 1;
                if self.cache_size == 0 {
                    break;
                }
            }
            self.cache = (self.low >> 24) as u8;
        }
        self.cache_size += 1;
        self.low = (self.low & 0x00FF_FFFF) << 8;
    }

    fn normalize(&mut self) {
        while self.range < TOP {
            self.range <<= 8;
            self.shift_low();
        }
    }

    /// Ends the block; the decoder consumes exactly the bytes written.
    pub(crate) fn flush(mut self) -> std::vec::Vec<u8> {
        for _ in 0..5 {
            self.shift_low();
        }
        self.out
    }
}

#[cfg(feature = "std")]
impl Coder for Encoder {
    fn bit(&mut self, prob: &mut u16, bit: u32, shift: u32) -> u32 {
        let bound = (self.range >> PROB_BITS) * load(prob);
        if bit == 0 {
            self.range = bound;
        } else {
            self.low += u64::from(bound);
            self.range -= bound;
        }
        adapt(prob, bit, shift);
        self.normalize();
        bit
    }

    fn direct(&mut self, bit: u32) -> u32 {
        self.range >>= 1;
        if bit != 0 {
            self.low += u64::from(self.range);
        }
        self.normalize();
        bit
    }
}

/// Codes the bits of `value` MSB first through a binary tree of `probs`, whose length (a power
/// of two) is the number of leaves: `1 << nbits` with `nbits` bits coded. One copy for every
/// tree (a slice, not an array per size); the walk ends when it leaves the slice.
#[cfg_attr(not(feature = "std"), inline(never))]
#[cfg_attr(feature = "std", inline)]
fn tree<C: Coder>(c: &mut C, probs: &mut [u16], value: u32, shift: u32) -> u32 {
    let leaves = probs.len();
    let mut i = leaves.trailing_zeros();
    let mut m = 1usize;
    while let Some(p) = probs.get_mut(m) {
        i = i.wrapping_sub(1);
        let b = c.bit(p, value.wrapping_shr(i) & 1, shift);
        m = (m << 1) | b as usize;
    }
    m.wrapping_sub(leaves) as u32
}

/// Adaptive model of one unsigned integer field: its bit length, then the two bits below the
/// leading one, then the rest as direct bits.
#[derive(Clone, Copy)]
pub(crate) struct IntModel {
    len: [u16; 64],
    mant: [[u16; 4]; 48],
}

impl IntModel {
    const NEW: Self = IntModel {
        len: [0; 64],
        mant: [[0; 4]; 48],
    };

    #[cfg(feature = "std")]
    fn code<C: Coder>(&mut self, c: &mut C, v: u64) -> u64 {
        let n = tree(c, &mut self.len, 64 - v.leading_zeros(), INT_SHIFT) % 64;
        if n <= 1 {
            return u64::from(n);
        }
        let mant = &mut self.mant[(n as usize) % 48];
        let mut r = 1u64;
        let mut m = 1usize;
        let mut i = n - 1;
        while i > 0 {
            i -= 1;
            let want = ((v >> i) & 1) as u32;
            let b = if m < 4 {
                let b = c.bit(&mut mant[m % 4], want, INT_SHIFT);
                m = (m << 1) | b as usize;
                b
            } else {
                c.direct(want)
            };
            r = (r << 1) | u64::from(b);
        }
        r
    }

    /// The device-side mirror of `code`, in 32-bit arithmetic: `None` when the value has more
    /// than 32 bits (no valid record has; the rest of its bits are not read).
    #[inline(never)]
    fn decode(&mut self, c: &mut Decoder<'_>) -> Option<u32> {
        let n = tree(c, &mut self.len, 0, INT_SHIFT);
        if n > 32 {
            return None;
        }
        if n <= 1 {
            return Some(n);
        }
        let mant = self.mant.get_mut(n as usize)?;
        let mut r = 1u32;
        let mut i = n - 1;
        while i > 0 {
            i -= 1;
            // The two bits below the leading one are adaptive, the rest direct.
            let b = match mant.get_mut(r as usize) {
                Some(p) if r < 4 => c.bit(p, 0, INT_SHIFT),
                _ => c.direct(0),
            };
            r = (r << 1) | b;
        }
        Some(r)
    }
}

/// A control record as the device decodes it: lengths in u32, the seek modulo 2^32 (the old
/// position is a u32 that every diff read checks against the old size).
pub(crate) struct DeviceRecord {
    pub(crate) diff: u32,
    pub(crate) extra: u32,
    pub(crate) seek: u32,
    /// The seek's magnitude did not fit in 32 bits.
    pub(crate) bad_seek: bool,
}

/// One control record in the native stream: add `diff` bytes (old + delta), copy `extra` bytes
/// literally, then move the old position so that it advances by `diff + seek` in total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Record {
    /// Bytes built as old byte plus delta byte.
    pub diff: u64,
    /// Bytes copied literally from the patch.
    pub extra: u64,
    /// Old-position adjustment after the record (bsdiff's third control value).
    pub seek: i64,
}

/// The whole adaptive model of one block (reset at every block start).
// `repr(C)`, small fields first: short load offsets on Thumb-2 for the ones used per byte.
#[derive(Clone)]
#[repr(C)]
pub(crate) struct Model {
    last_disp_nonzero: bool,
    prev_delta: u8,
    prev2_delta: u8,
    prev_byte: u8,
    disp_zero: [u16; 2],
    disp_sign: [u16; 2],
    delta_zero: [u16; 128],
    diff_len: IntModel,
    extra_len: IntModel,
    disp: IntModel,
    delta: [[u16; 256]; 8],
    lit: [[u16; 256]; 8],
}

impl Model {
    pub(crate) const NEW: Self = Model {
        diff_len: IntModel::NEW,
        extra_len: IntModel::NEW,
        disp: IntModel::NEW,
        disp_zero: [0; 2],
        disp_sign: [0; 2],
        delta_zero: [0; 128],
        delta: [[0; 256]; 8],
        lit: [[0; 256]; 8],
        last_disp_nonzero: false,
        prev_delta: 0,
        prev2_delta: 0,
        prev_byte: 0,
    };

    /// Back to the initial model, in place (no 10 KiB temporary).
    pub(crate) fn reset(&mut self) {
        *self = Model::NEW;
    }

    /// Codes a record. The seek is carried as the change of displacement (`seek - extra`), which
    /// is zero or repeats when code moved as a block.
    #[cfg(feature = "std")]
    pub(crate) fn record<C: Coder>(&mut self, c: &mut C, r: &Record) -> Record {
        let diff = self.diff_len.code(c, r.diff);
        let extra = self.extra_len.code(c, r.extra);
        let want = r.seek.wrapping_sub(r.extra as i64);
        let z = c.bit(
            &mut self.disp_zero[usize::from(self.last_disp_nonzero)],
            u32::from(want == 0),
            INT_SHIFT,
        );
        let disp = if z == 1 {
            0i64
        } else {
            let neg = c.bit(&mut self.disp_sign[0], u32::from(want < 0), INT_SHIFT);
            let mag = self
                .disp
                .code(c, want.unsigned_abs().wrapping_sub(1))
                .wrapping_add(1);
            let mag = mag.min(1 << 62) as i64;
            if neg == 1 { -mag } else { mag }
        };
        self.last_disp_nonzero = z == 0;
        Record {
            diff,
            extra,
            seek: disp.wrapping_add(extra.min(1 << 62) as i64),
        }
    }

    /// Decodes a record on the device (see [`DeviceRecord`]); mirrors `record`. Lengths of more
    /// than 32 bits come back as `u32::MAX`, which no block can hold.
    #[inline(always)]
    pub(crate) fn decode_record(&mut self, c: &mut Decoder<'_>) -> DeviceRecord {
        let diff = self.diff_len.decode(c).unwrap_or(u32::MAX);
        let extra = self.extra_len.decode(c).unwrap_or(u32::MAX);
        let z = c.bit(
            &mut self.disp_zero[usize::from(self.last_disp_nonzero)],
            0,
            INT_SHIFT,
        );
        let mut disp = Some(0);
        if z == 0 {
            let neg = c.bit(&mut self.disp_sign[0], 0, INT_SHIFT);
            disp = self.disp.decode(c).map(|m| {
                let mag = m.wrapping_add(1);
                if neg == 1 { mag.wrapping_neg() } else { mag }
            });
        }
        self.last_disp_nonzero = z == 0;
        DeviceRecord {
            diff,
            extra,
            seek: disp.unwrap_or(0).wrapping_add(extra),
            bad_seek: disp.is_none(),
        }
    }

    /// Codes one delta byte (new minus old) at new-image offset `at`, over old byte `old`.
    ///
    /// Whether it is zero depends on the position in the 32-bit word, on the two previous
    /// deltas and on the old byte (its top bits, and whether it is zero: padding and small
    /// constants change less than addresses).
    #[cfg_attr(not(feature = "std"), inline(never))]
    #[cfg_attr(feature = "std", inline)]
    pub(crate) fn delta<C: Coder>(&mut self, c: &mut C, at: u32, old: u8, d: u8) -> u8 {
        let pos = (at & 3) as usize;
        let ctx = pos
            | usize::from(self.prev_delta != 0) << 2
            | usize::from(self.prev2_delta != 0) << 3
            | usize::from(old >> 6) << 4
            | usize::from(old == 0) << 6;
        let nz = c.bit(
            &mut self.delta_zero[ctx % 128],
            u32::from(d != 0),
            DELTA_SHIFT,
        );
        let v = if nz == 0 {
            0
        } else {
            let t = &mut self.delta[(pos | usize::from(self.prev_delta != 0) << 2) % 8];
            // Non-zero: code d - 1 so that all 256 tree leaves are usable.
            (tree(c, t, u32::from(d.wrapping_sub(1)), DELTA_SHIFT) as u8).wrapping_add(1)
        };
        self.prev2_delta = self.prev_delta;
        self.prev_delta = v;
        self.prev_byte = v; // refined by the caller via `saw_new`
        v
    }

    /// Records the new byte just produced (context for literals).
    #[inline]
    pub(crate) fn saw_new(&mut self, b: u8) {
        self.prev_byte = b;
    }

    /// Codes one literal (extra) byte.
    #[inline]
    pub(crate) fn literal<C: Coder>(&mut self, c: &mut C, b: u8) -> u8 {
        let t = &mut self.lit[usize::from(self.prev_byte >> 5)];
        let v = tree(c, t, u32::from(b), LIT_SHIFT) as u8;
        self.prev_byte = v;
        v
    }
}
