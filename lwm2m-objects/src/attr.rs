//! Write-Attributes: the notification attributes `pmin`, `pmax`, `gt`, `lt` and `st` of an
//! object, instance or resource, kept in a fixed-capacity table the caller owns and reported
//! by Discover.

use crate::ResponseCode;
use crate::model::ResourceType;
use crate::path::Path;
use crate::text;

/// A `gt`, `lt` or `st` threshold: a decimal number kept in millionths, so that a device
/// parses, checks, compares and prints it with integer code (no soft-float).
///
/// ```
/// use lwm2m_objects::Threshold;
/// let t = Threshold::parse(b"-25.5").unwrap();
/// assert_eq!(t.micros(), -25_500_000);
/// assert_eq!(Threshold::parse(b"1.0E-4").map(Threshold::micros), Some(100));
/// assert_eq!(Threshold::parse(b"abc"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(i64);

impl Threshold {
    /// A threshold of `micros` millionths.
    pub const fn from_micros(micros: i64) -> Self {
        Threshold(micros)
    }

    /// The value in millionths.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Parses `[-+]digits[.digits][e[-+]digits]` (digits past the sixth decimal are dropped).
    /// `None` for anything else or a value beyond ±9.2e12.
    #[inline(never)]
    pub fn parse(text: &[u8]) -> Option<Threshold> {
        let (negative, rest) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, text),
        };
        let (number, exponent) = match rest.iter().position(|&b| b | 0x20 == b'e') {
            // Beyond ±64 every value is zero or too large: clamping keeps the loops short.
            Some(at) => (
                rest.get(..at)?,
                text::parse_i64(rest.get(at + 1..)?)?.clamp(-64, 64) as i32,
            ),
            None => (rest, 0),
        };
        // The value is mantissa * 10^(scale - 6).
        let mut mantissa: u64 = 0;
        let mut scale = exponent + 6;
        let mut digits = false;
        let mut dot = false;
        for &b in number {
            if b == b'.' && !dot {
                dot = true;
                continue;
            }
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            digits = true;
            // Digits past 18 only move the scale.
            if mantissa < 100_000_000_000_000_000 {
                mantissa = mantissa * 10 + u64::from(digit);
                scale -= i32::from(dot);
            } else {
                scale += i32::from(!dot);
            }
        }
        if !digits {
            return None;
        }
        // Both loops end within 20 steps: the mantissa overflows or reaches zero.
        while scale > 0 && mantissa != 0 {
            if mantissa > u64::MAX / 10 {
                return None;
            }
            mantissa *= 10;
            scale -= 1;
        }
        while scale < 0 && mantissa != 0 {
            mantissa = text::div10(mantissa);
            scale += 1;
        }
        let value = i64::try_from(mantissa).ok()?;
        Some(Threshold(if negative { -value } else { value }))
    }

    /// Writes the decimal text (`-25.5`, `3`, `0.0001`).
    #[inline(never)]
    fn put(self, w: &mut text::Writer<'_>) -> Result<(), text::Full> {
        let mut digits = [b'0'; 21];
        let end = digits.len();
        let mut start = end;
        text::decimal(self.0.unsigned_abs(), |digit| {
            // 21 places hold the 20 digits of any u64.
            start = start.saturating_sub(1);
            if let Some(place) = digits.get_mut(start) {
                *place = digit;
            }
            Ok(())
        })?;
        // At least seven digits, so that there is a whole part before the six decimals.
        let start = start.min(end - 7);
        if self.0 < 0 {
            w.put(b"-")?;
        }
        let (whole, fraction) = digits.split_at(end - 6);
        w.put(whole.get(start..).unwrap_or(&[]))?;
        let used = fraction
            .iter()
            .rposition(|&d| d != b'0')
            .map_or(0, |p| p + 1);
        if used > 0 {
            w.put(b".")?;
            w.put(fraction.get(..used).unwrap_or(&[]))?;
        }
        Ok(())
    }
}

/// The notification attributes of one object, instance or resource (LwM2M 1.0 §5.1.2).
///
/// `None` means "not set here" (a resource then inherits its instance's and object's values).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Attributes {
    /// Minimum period between notifications, in seconds.
    pub pmin: Option<u32>,
    /// Maximum period between notifications, in seconds.
    pub pmax: Option<u32>,
    /// Greater Than: notify when the value crosses above it (numeric resources).
    pub gt: Option<Threshold>,
    /// Less Than: notify when the value crosses below it (numeric resources).
    pub lt: Option<Threshold>,
    /// Step: notify when the value moved by at least this much (numeric resources).
    pub st: Option<Threshold>,
}

impl Attributes {
    /// No attribute set.
    pub const NONE: Attributes = Attributes {
        pmin: None,
        pmax: None,
        gt: None,
        lt: None,
        st: None,
    };

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        *self == Attributes::NONE
    }

    /// These attributes, with the ones not set here taken from `parent` (the instance's for a
    /// resource, the object's for an instance).
    pub fn or(self, parent: Attributes) -> Attributes {
        Attributes {
            pmin: self.pmin.or(parent.pmin),
            pmax: self.pmax.or(parent.pmax),
            gt: self.gt.or(parent.gt),
            lt: self.lt.or(parent.lt),
            st: self.st.or(parent.st),
        }
    }
}

/// The attributes as the table keeps them: `pmin`, `pmax` (seconds), `gt`, `lt`, `st`
/// (millionths), `UNSET` where not set. One array: merging, parsing and printing are loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Raw([i64; 5]);

/// Not set (no period or threshold can be `i64::MIN`).
const UNSET: i64 = i64::MIN;

/// The query and link-format names, in `Raw` order.
const NAMES: [&[u8]; 5] = [b"pmin", b"pmax", b"gt", b"lt", b"st"];

impl Raw {
    const NONE: Raw = Raw([UNSET; 5]);

    fn is_empty(&self) -> bool {
        self.0.iter().all(|&v| v == UNSET)
    }

    /// Each value not set here taken from `parent`.
    fn or(mut self, parent: Raw) -> Raw {
        for (own, inherited) in self.0.iter_mut().zip(parent.0) {
            if *own == UNSET {
                *own = inherited;
            }
        }
        self
    }

    /// The spec's consistency rules: `pmin <= pmax`, `st >= 0`, `lt < gt` and, with a step,
    /// `lt + 2 * st < gt`.
    fn is_consistent(&self) -> bool {
        let [pmin, pmax, gt, lt, st] = self.0;
        let set = |v: i64| v != UNSET;
        if set(pmin) && set(pmax) && pmin > pmax {
            return false;
        }
        if set(st) && st < 0 {
            return false;
        }
        let step = if set(st) { st } else { 0 };
        // i128 cannot overflow here (and stays integer code).
        !(set(lt) && set(gt) && i128::from(lt) + 2 * i128::from(step) >= i128::from(gt))
    }

    fn public(self) -> Attributes {
        let [pmin, pmax, gt, lt, st] = self.0.map(|v| (v != UNSET).then_some(v));
        let period = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        Attributes {
            pmin: period(pmin),
            pmax: period(pmax),
            gt: gt.map(Threshold),
            lt: lt.map(Threshold),
            st: st.map(Threshold),
        }
    }
}

/// One entry of the attribute table: a path and its attributes. A free entry has the root
/// path.
///
/// ```
/// use lwm2m_objects::{AttributeSlot, Path};
/// let table = [AttributeSlot::EMPTY; 8];
/// assert!(table.iter().all(|slot| slot.path() == Path::ROOT));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeSlot {
    path: Path,
    raw: Raw,
}

impl AttributeSlot {
    /// A free entry.
    pub const EMPTY: AttributeSlot = AttributeSlot {
        path: Path::ROOT,
        raw: Raw::NONE,
    };

    /// The path (the root for a free entry).
    pub fn path(&self) -> Path {
        self.path
    }

    /// The attributes.
    pub fn attributes(&self) -> Attributes {
        self.raw.public()
    }
}

/// The attributes set on exactly `path`.
fn at(table: &[AttributeSlot], path: Path) -> Raw {
    table
        .iter()
        .find(|slot| slot.path == path && path.depth() > 0)
        .map_or(Raw::NONE, |slot| slot.raw)
}

/// The attributes in force on `path`: its own, then its parents' (resource, instance,
/// object).
fn effective_raw(table: &[AttributeSlot], path: Path) -> Raw {
    let mut attrs = Raw::NONE;
    let mut p = path;
    while p.depth() > 0 {
        attrs = attrs.or(at(table, p));
        p = p.parent();
    }
    attrs
}

/// The attributes in force on `path` (public form).
pub(crate) fn effective(table: &[AttributeSlot], path: Path) -> Attributes {
    effective_raw(table, path).public()
}

/// Applies a Write-Attributes query (`pmin=10&pmax=60&gt=25.5`; a name without a value
/// removes that attribute) to `path`, whose resource type is `kind` (`None` above resource
/// depth). Nothing changes unless the whole query is valid (4.00 otherwise); 5.00 when the
/// table has no room for a new path.
pub(crate) fn write(
    table: &mut [AttributeSlot],
    path: Path,
    kind: Option<ResourceType>,
    query: &[u8],
) -> Result<(), ResponseCode> {
    let mut raw = at(table, path);
    let numeric = matches!(
        kind,
        Some(
            ResourceType::Integer
                | ResourceType::UnsignedInteger
                | ResourceType::Float
                | ResourceType::Time
        )
    );
    for part in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match part.iter().position(|&b| b == b'=') {
            Some(at) => (part.get(..at).unwrap_or(&[]), part.get(at + 1..)),
            None => (part, None),
        };
        let index = NAMES
            .iter()
            .position(|&n| n == name)
            .ok_or(ResponseCode::BadRequest)?;
        // gt, lt and st only on numeric resources.
        if index >= 2 && !numeric {
            return Err(ResponseCode::BadRequest);
        }
        let parsed = match value {
            None => Some(UNSET),
            Some(v) if index < 2 => text::parse_u64(v)
                .filter(|&v| v <= u64::from(u32::MAX))
                .map(|v| v as i64),
            Some(v) => Threshold::parse(v).map(Threshold::micros),
        };
        if let Some(slot) = raw.0.get_mut(index) {
            *slot = parsed.ok_or(ResponseCode::BadRequest)?;
        }
    }
    if !raw.is_consistent() {
        return Err(ResponseCode::BadRequest);
    }
    let existing = table.iter().position(|slot| slot.path == path);
    if existing.is_none() && raw.is_empty() {
        // Removing what was never set: nothing to store.
        return Ok(());
    }
    let free = table.iter().position(|slot| slot.path.depth() == 0);
    let slot = existing
        .or(free)
        .and_then(|i| table.get_mut(i))
        .ok_or(ResponseCode::InternalServerError)?;
    *slot = if raw.is_empty() {
        AttributeSlot::EMPTY
    } else {
        AttributeSlot { path, raw }
    };
    Ok(())
}

/// Writes `;pmin=..;pmax=..;gt=..;lt=..;st=..` for the attributes set on `path`
/// (`effective`: also the ones it inherits).
#[inline(never)]
pub(crate) fn put(
    w: &mut text::Writer<'_>,
    table: &[AttributeSlot],
    path: Path,
    effective: bool,
) -> Result<(), text::Full> {
    let raw = if effective {
        effective_raw(table, path)
    } else {
        at(table, path)
    };
    for (index, (&value, name)) in raw.0.iter().zip(NAMES).enumerate() {
        if value == UNSET {
            continue;
        }
        w.put(b";")?;
        w.put(name)?;
        w.put(b"=")?;
        if index < 2 {
            w.put_u64(value as u64)?;
        } else {
            Threshold(value).put(w)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(t: Threshold) -> std::string::String {
        let mut buf = [0u8; 32];
        let mut w = text::Writer::new(&mut buf);
        t.put(&mut w).unwrap();
        let n = w.len();
        std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn thresholds_parse_and_print_in_integer_code() {
        for (input, micros, text) in [
            (&b"25.5"[..], 25_500_000, "25.5"),
            (b"-3", -3_000_000, "-3"),
            (b"+0.000001", 1, "0.000001"),
            (b"0.0000019", 1, "0.000001"),
            (b"1e3", 1_000_000_000, "1000"),
            (b"1.0E-4", 100, "0.0001"),
            (b".5", 500_000, "0.5"),
            (b"5.", 5_000_000, "5"),
            (b"-0", 0, "0"),
            (b"9223372036854", 9_223_372_036_854_000_000, "9223372036854"),
            (b"00000000000000000000000012.5", 12_500_000, "12.5"),
        ] {
            let t = Threshold::parse(input).unwrap_or_else(|| panic!("{input:?}"));
            assert_eq!((t.micros(), shown(t).as_str()), (micros, text), "{input:?}");
        }
        for bad in [
            &b""[..],
            b"-",
            b".",
            b"1e",
            b"1.2.3",
            b"abc",
            b"9223372036855",
            b"1e400",
            b"1 ",
        ] {
            assert_eq!(Threshold::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            shown(Threshold::from_micros(i64::MIN)),
            "-9223372036854.775808"
        );
    }
}
