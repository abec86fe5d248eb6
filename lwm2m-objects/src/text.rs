//! Small output helpers without `core::fmt`: a bounded writer for text, CoRE links and TLV
//! records, decimal integers and floats.

use crate::Error;

/// The output buffer is full (the dispatcher answers 5.00, the public writers
/// [`Error::BufferTooSmall`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

impl From<Full> for crate::ResponseCode {
    fn from(_: Full) -> Self {
        crate::ResponseCode::InternalServerError
    }
}

/// Appends bytes to a caller buffer and fails instead of overflowing it.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// A writer over the same buffer from the same length: what it writes is taken back
    /// with [`set_len`](Self::set_len).
    pub(crate) fn view(&mut self) -> Writer<'_> {
        Writer {
            buf: &mut *self.buf,
            len: self.len,
        }
    }

    /// Takes back the length of a [`view`](Self::view).
    pub(crate) fn set_len(&mut self, len: usize) {
        self.len = len;
    }

    /// The error the public writers report when the buffer is full.
    pub(crate) fn too_small(&self) -> Error {
        Error::BufferTooSmall {
            available: self.buf.len(),
        }
    }

    /// Whether a write did not fit: once full, a writer stays full (its length past the
    /// buffer's, so every later write fails too) and a caller may check once at the end.
    pub(crate) fn overflowed(&self) -> bool {
        self.len > self.buf.len()
    }

    /// Marks the writer full (see [`overflowed`](Self::overflowed)).
    fn full(&mut self) -> Full {
        self.len = self.buf.len() + 1;
        Full
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len.wrapping_add(bytes.len());
        // Zipped copy: copy_from_slice brings a length-mismatch panic path.
        let Some(dest) = self.buf.get_mut(self.len..end) else {
            return Err(self.full());
        };
        for (d, &b) in dest.iter_mut().zip(bytes) {
            *d = b;
        }
        self.len = end;
        Ok(())
    }

    fn push(&mut self, byte: u8) -> Result<(), Full> {
        self.put(&[byte])
    }

    /// Decimal digits of `value`.
    pub(crate) fn put_u64(&mut self, value: u64) -> Result<(), Full> {
        // Each digit, least significant first, in front of the ones after it: no scratch.
        let start = self.len;
        decimal(value, |digit| self.insert(start, digit))
    }

    /// Makes the bytes written since `start` one TLV record: its header goes in before them
    /// (`kind` is the two type bits: 0 object instance, 1 resource instance, 2 multiple
    /// resource, 3 resource). One header writer for values and containers, and no room kept
    /// for a header while the value or the nested records are written.
    pub(crate) fn wrap(&mut self, start: usize, kind: u8, id: u16) -> Result<(), Full> {
        let len = self.len.saturating_sub(start);
        if len > 0xFF_FFFF {
            return Err(self.full());
        }
        // The header backwards, each byte in front of the ones after it: the length bytes
        // (none when the length fits the type byte, or as few as hold it: 1, 2 or 3), the id
        // (one byte or two: type bit 5), the type byte.
        // A full writer stays full: the type byte's result is the header's.
        let mut ty = kind << 6;
        if len > 7 {
            ty |= self.insert_number(start, len) << 3;
        } else {
            ty |= len as u8;
        }
        ty |= (self.insert_number(start, usize::from(id)) - 1) << 5;
        self.insert(start, ty)
    }

    /// Puts the big-endian bytes of `value` at `at`, as few as hold it (at least one), and
    /// returns how many (a full writer stays full: the caller's next write fails).
    // Inlined into its two uses in `wrap`: 26 bytes smaller on a Cortex-M.
    #[inline(always)]
    fn insert_number(&mut self, at: usize, mut value: usize) -> u8 {
        let mut count = 0;
        loop {
            let _ = self.insert(at, value as u8);
            value >>= 8;
            count += 1;
            if value == 0 {
                return count;
            }
        }
    }

    /// Puts `byte` at `at`, the bytes after it one place on.
    fn insert(&mut self, at: usize, byte: u8) -> Result<(), Full> {
        let end = self.len.wrapping_add(1);
        // Each byte takes the place of the next one: a forward loop without a panic path.
        let mut carry = byte;
        let Some(dest) = self.buf.get_mut(at..end) else {
            return Err(self.full());
        };
        for b in dest {
            core::mem::swap(b, &mut carry);
        }
        self.len = end;
        Ok(())
    }

    /// Starts a CoRE link: `,<` (no comma when the output is still empty: links are only ever
    /// written from the start of a buffer), the path, `>`. `ids` is not empty (the root link
    /// is written whole where it is needed).
    pub(crate) fn link(&mut self, ids: &[u16]) -> Result<(), Full> {
        // A full writer stays full: the last write's result is every write's.
        if self.len != 0 {
            let _ = self.push(b',');
        }
        let _ = self.push(b'<');
        for &id in ids {
            let _ = self.push(b'/');
            let _ = self.put_u64(u64::from(id));
        }
        self.push(b'>')
    }

    /// `;name=value` with a decimal value; `name` includes the `;` and the `=`.
    #[inline(always)]
    pub(crate) fn attr(&mut self, name: &[u8], value: u64) -> Result<(), Full> {
        let _ = self.put(name);
        self.put_u64(value)
    }

    /// `;ver=major.minor`.
    pub(crate) fn version(&mut self, (major, minor): (u8, u8)) -> Result<(), Full> {
        let _ = self.attr(b";ver=", u64::from(major));
        self.attr(b".", u64::from(minor))
    }

    /// Writes a float as plain decimal text (`-12.5`, `3`, `1.5e20`), up to 9 fraction digits.
    #[cfg(feature = "float-text")]
    pub(crate) fn put_f64(&mut self, value: f64) -> Result<(), Full> {
        if value.is_nan() {
            return self.put(b"NaN");
        }
        if value.is_sign_negative() && value != 0.0 {
            self.put(b"-")?;
        }
        let mut v = if value < 0.0 { -value } else { value };
        if v.is_infinite() {
            return self.put(b"Infinity");
        }
        // Scale huge and tiny values into [1, 10) and print an exponent.
        let mut exp: i32 = 0;
        if v >= 1e15 {
            while v >= 10.0 && exp < 400 {
                v /= 10.0;
                exp += 1;
            }
        } else if v != 0.0 && v < 1e-6 {
            while v < 1.0 && exp > -400 {
                v *= 10.0;
                exp -= 1;
            }
        }
        const SCALE: u64 = 1_000_000_000;
        let mut whole = v as u64;
        let mut frac = ((v - whole as f64) * SCALE as f64 + 0.5) as u64;
        if frac >= SCALE {
            whole += 1;
            frac -= SCALE;
        }
        self.put_u64(whole)?;
        if frac != 0 {
            let mut digits = [b'0'; 9];
            let mut f = frac;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (f % 10) as u8;
                f /= 10;
            }
            let used = digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
            self.put(b".")?;
            self.put(digits.get(..used).unwrap_or(&[]))?;
        }
        if exp != 0 {
            self.put(if exp < 0 { b"e-" } else { b"e" })?;
            self.put_u64(u64::from(exp.unsigned_abs()))?;
        }
        Ok(())
    }
}

/// Hands the decimal digits of `value` to `digit`, least significant first.
///
/// Long division of four 16-bit limbs with 32-bit divisions (one instruction on a Cortex-M3):
/// a 64-bit division would pull in almost a kilobyte of compiler-builtins.
#[inline(always)]
pub(crate) fn decimal(
    value: u64,
    mut digit: impl FnMut(u8) -> Result<(), Full>,
) -> Result<(), Full> {
    let (high, low) = ((value >> 32) as u32, value as u32);
    let mut limbs = [high >> 16, high & 0xFFFF, low >> 16, low & 0xFFFF];
    loop {
        let mut rem = 0u32;
        let mut rest = 0u32;
        for limb in limbs.iter_mut() {
            let cur = rem << 16 | *limb;
            *limb = cur / 10;
            rem = cur % 10;
            rest |= *limb;
        }
        digit(b'0' + rem as u8)?;
        if rest == 0 {
            return Ok(());
        }
    }
}

#[cfg(feature = "attributes")]
/// `value / 10` with 32-bit divisions (a 64-bit division is almost a kilobyte of
/// compiler-builtins on a Cortex-M).
pub(crate) fn div10(value: u64) -> u64 {
    let (high, low) = ((value >> 32) as u32, value as u32);
    let mut quotient = 0u64;
    let mut rem = 0u32;
    for limb in [high >> 16, high & 0xFFFF, low >> 16, low & 0xFFFF] {
        let cur = rem << 16 | limb;
        quotient = quotient << 16 | u64::from(cur / 10);
        rem = cur % 10;
    }
    quotient
}

/// Parses a decimal signed integer (`-12`, `+7`, `0`). The dispatcher's value decoder has
/// its own sign handling (one number path with unsigned values).
#[cfg(any(feature = "attributes", feature = "float-text", test))]
pub(crate) fn parse_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let magnitude = parse_u64(digits)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Parses a decimal unsigned integer.
pub(crate) fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(value)
}

/// Parses a decimal float (`-12.5`, `3`, `1e-3`, `.5`); close to, not always exactly, the
/// nearest double (the core parser would cost kilobytes of flash).
#[cfg(feature = "float-text")]
pub(crate) fn parse_f64(text: &[u8]) -> Option<f64> {
    let (negative, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut exp: i32 = 0;
    let mut digits = 0usize;
    let mut seen_dot = false;
    let mut at = 0usize;
    while let Some(&b) = rest.get(at) {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if mantissa < 1_000_000_000_000_000_000 {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                    if seen_dot {
                        exp -= 1;
                    }
                } else if !seen_dot {
                    exp += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            b'e' | b'E' => break,
            _ => return None,
        }
        at += 1;
    }
    if digits == 0 {
        return None;
    }
    if let Some(exp_text) = rest.get(at + 1..).filter(|_| at < rest.len()) {
        let e = parse_i64(exp_text)?.clamp(-1000, 1000) as i32;
        exp += e;
    }
    let mut value = mantissa as f64;
    let mut e = exp.clamp(-400, 400);
    while e > 0 {
        value *= 10.0;
        e -= 1;
    }
    while e < 0 {
        value /= 10.0;
        e += 1;
    }
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(f: impl FnOnce(&mut Writer<'_>) -> Result<(), Full>) -> std::string::String {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        f(&mut w).unwrap();
        let n = w.len();
        std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn tlv_records_and_containers_match_lwm2m_tlv() {
        // Value lengths around every header form (3-bit, 8-, 16- and 24-bit lengths) and ids
        // on both sides of 255.
        for len in [0usize, 7, 8, 255, 256, 65_535, 65_536] {
            for id in [0u16, 255, 256, 65_534] {
                let value = std::vec![0xA5u8; len];
                let mut ours = std::vec![0u8; len + 32];
                let mut w = Writer::new(&mut ours);
                let start = w.len();
                w.put(&value).unwrap();
                w.wrap(start, 1, id).unwrap();
                w.wrap(start, 2, id).unwrap();
                let n = w.len();
                let mut theirs = std::vec![0u8; len + 32];
                let mut t = lwm2m_tlv::Writer::new(&mut theirs);
                t.begin_multiple(id).unwrap();
                t.record(lwm2m_tlv::Kind::ResourceInstance, id, &value)
                    .unwrap();
                t.end().unwrap();
                let m = t.finish().unwrap();
                assert_eq!(ours[..n], theirs[..m], "len {len} id {id}");
            }
        }
        // A full buffer is an error, never a panic.
        let mut small = [0u8; 8];
        let mut w = Writer::new(&mut small);
        w.put(&[1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(w.wrap(0, 3, 1), Ok(()));
        assert_eq!(w.wrap(0, 0, 0), Err(Full));
        // Full stays full: every later write fails too, and one check at the end suffices.
        assert!(w.overflowed());
        assert_eq!(w.put(&[]), Err(Full));
        assert_eq!(w.insert(0, 1), Err(Full));
        assert!(w.overflowed());
    }

    #[test]
    #[cfg(feature = "attributes")]
    fn division_by_ten() {
        for v in [
            0u64,
            9,
            10,
            65_535,
            655_359,
            u64::from(u32::MAX),
            1 << 40,
            u64::MAX,
        ] {
            assert_eq!(div10(v), v / 10, "{v}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(show(|w| w.put_u64(1 << 63)), "9223372036854775808");
        assert_eq!(show(|w| w.put_u64(u64::MAX)), "18446744073709551615");
        assert_eq!(show(|w| w.put_u64(0)), "0");
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"+7"), Some(7));
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_u64(b"18446744073709551616"), None);
    }

    #[test]
    #[cfg(feature = "float-text")]
    fn floats() {
        assert_eq!(show(|w| w.put_f64(-12.5)), "-12.5");
        assert_eq!(show(|w| w.put_f64(3.0)), "3");
        assert_eq!(show(|w| w.put_f64(0.0)), "0");
        assert_eq!(show(|w| w.put_f64(1.5e20)), "1.5e20");
        assert_eq!(parse_f64(b"-12.5"), Some(-12.5));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"1e"), None);
        assert_eq!(parse_f64(b"."), None);
        assert_eq!(parse_f64(b"1.2.3"), None);
        assert!((parse_f64(b"45.123456").unwrap() - 45.123456).abs() < 1e-12);
    }
}
