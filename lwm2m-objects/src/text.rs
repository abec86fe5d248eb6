//! Small text helpers without `core::fmt`: a bounded writer, decimal integers and floats.

use crate::Error;

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

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let available = self.buf.len();
        let end = self
            .len
            .checked_add(bytes.len())
            .filter(|&end| end <= available)
            .ok_or(Error::BufferTooSmall { available })?;
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            copy(dst, bytes);
        }
        self.len = end;
        Ok(())
    }

    /// Decimal digits by long division of four 16-bit limbs with 32-bit divisions (one
    /// instruction on a Cortex-M3): a 64-bit division would pull in almost a kilobyte of
    /// compiler-builtins.
    pub(crate) fn put_u64(&mut self, value: u64) -> Result<(), Error> {
        let (high, low) = ((value >> 32) as u32, value as u32);
        let mut limbs = [high >> 16, high & 0xFFFF, low >> 16, low & 0xFFFF];
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            let mut rem = 0u32;
            let mut rest = 0u32;
            for limb in limbs.iter_mut() {
                let cur = rem << 16 | *limb;
                *limb = cur / 10;
                rem = cur % 10;
                rest |= *limb;
            }
            at -= 1;
            if let Some(d) = digits.get_mut(at) {
                *d = b'0' + rem as u8;
            }
            if rest == 0 || at == 0 {
                break;
            }
        }
        self.put(digits.get(at..).unwrap_or(&[]))
    }

    pub(crate) fn put_i64(&mut self, value: i64) -> Result<(), Error> {
        if value < 0 {
            self.put(b"-")?;
        }
        self.put_u64(value.unsigned_abs())
    }

    /// Writes a float as plain decimal text (`-12.5`, `3`, `1.5e20`), up to 9 fraction digits.
    #[cfg(feature = "float-text")]
    pub(crate) fn put_f64(&mut self, value: f64) -> Result<(), Error> {
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
            self.put(b"e")?;
            self.put_i64(i64::from(exp))?;
        }
        Ok(())
    }
}

/// Copies `src` into the start of `dst` (callers pass equal lengths).
#[cfg(not(target_os = "none"))]
fn copy(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
}

/// On bare metal a byte loop the optimiser does not turn into a `memcpy` call: the
/// compiler-builtins `memcpy` is larger than the whole dispatcher, and values are short.
#[cfg(target_os = "none")]
fn copy(dst: &mut [u8], src: &[u8]) {
    for (i, s) in src.iter().enumerate() {
        if let Some(d) = dst.get_mut(i) {
            *d = *s;
        }
    }
}

/// Parses a decimal signed integer (`-12`, `+7`, `0`).
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

    fn show(f: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>) -> std::string::String {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        f(&mut w).unwrap();
        let n = w.len();
        std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn integers() {
        assert_eq!(show(|w| w.put_i64(i64::MIN)), "-9223372036854775808");
        assert_eq!(show(|w| w.put_u64(u64::MAX)), "18446744073709551615");
        assert_eq!(show(|w| w.put_i64(0)), "0");
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
