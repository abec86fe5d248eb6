//! Write-Attributes: the notification attributes `pmin`, `pmax`, `gt`, `lt` and `st` of an
//! object, instance or resource, kept in a fixed-capacity table the caller owns and reported
//! by Discover.

use crate::ResponseCode;
use crate::model::ResourceType;
use crate::path::Path;
use crate::text;

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
    pub gt: Option<f64>,
    /// Less Than: notify when the value crosses below it (numeric resources).
    pub lt: Option<f64>,
    /// Step: notify when the value moved by at least this much (numeric resources).
    pub st: Option<f64>,
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

    /// The spec's consistency rules: `pmin <= pmax`, `st >= 0`, `lt < gt` and, with a step,
    /// `lt + 2 * st < gt`.
    fn is_consistent(&self) -> bool {
        if let (Some(min), Some(max)) = (self.pmin, self.pmax)
            && min > max
        {
            return false;
        }
        if self.st.is_some_and(|st| st.is_nan() || st < 0.0) {
            return false;
        }
        if let (Some(lt), Some(gt)) = (self.lt, self.gt) {
            let step = self.st.unwrap_or(0.0);
            if lt.is_nan() || gt.is_nan() || lt + 2.0 * step >= gt {
                return false;
            }
        }
        true
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttributeSlot {
    path: Path,
    attributes: Attributes,
}

impl AttributeSlot {
    /// A free entry.
    pub const EMPTY: AttributeSlot = AttributeSlot {
        path: Path::ROOT,
        attributes: Attributes::NONE,
    };

    /// The path (the root for a free entry).
    pub fn path(&self) -> Path {
        self.path
    }

    /// The attributes.
    pub fn attributes(&self) -> Attributes {
        self.attributes
    }
}

/// The attributes set on exactly `path`.
pub(crate) fn at(table: &[AttributeSlot], path: Path) -> Attributes {
    table
        .iter()
        .find(|slot| slot.path == path && path.depth() > 0)
        .map_or(Attributes::NONE, |slot| slot.attributes)
}

/// The attributes in force on `path`: its own, then its parents' (resource, instance,
/// object).
pub(crate) fn effective(table: &[AttributeSlot], path: Path) -> Attributes {
    let mut attrs = Attributes::NONE;
    let mut p = path;
    while p.depth() > 0 {
        attrs = attrs.or(at(table, p));
        p = p.parent();
    }
    attrs
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
    let mut attrs = at(table, path);
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
            Some(at) => (
                part.get(..at).unwrap_or(&[]),
                Some(part.get(at + 1..).unwrap_or(&[])),
            ),
            None => (part, None),
        };
        let period = |v: Option<&[u8]>| match v {
            None => Ok(None),
            Some(v) => text::parse_u64(v)
                .and_then(|v| u32::try_from(v).ok())
                .map(Some)
                .ok_or(ResponseCode::BadRequest),
        };
        let threshold = |v: Option<&[u8]>| {
            if !numeric {
                return Err(ResponseCode::BadRequest);
            }
            match v {
                None => Ok(None),
                Some(v) => text::parse_f64(v)
                    .filter(|f| f.is_finite())
                    .map(Some)
                    .ok_or(ResponseCode::BadRequest),
            }
        };
        match name {
            b"pmin" => attrs.pmin = period(value)?,
            b"pmax" => attrs.pmax = period(value)?,
            b"gt" => attrs.gt = threshold(value)?,
            b"lt" => attrs.lt = threshold(value)?,
            b"st" => attrs.st = threshold(value)?,
            _ => return Err(ResponseCode::BadRequest),
        }
    }
    if !attrs.is_consistent() {
        return Err(ResponseCode::BadRequest);
    }
    let existing = table.iter().position(|slot| slot.path == path);
    if existing.is_none() && attrs.is_empty() {
        // Removing what was never set: nothing to store.
        return Ok(());
    }
    let free = table.iter().position(|slot| slot.path.depth() == 0);
    let slot = existing
        .or(free)
        .and_then(|i| table.get_mut(i))
        .ok_or(ResponseCode::InternalServerError)?;
    *slot = if attrs.is_empty() {
        AttributeSlot::EMPTY
    } else {
        AttributeSlot {
            path,
            attributes: attrs,
        }
    };
    Ok(())
}

/// Writes `;pmin=..;pmax=..;gt=..;lt=..;st=..` for the attributes set.
pub(crate) fn put(w: &mut text::Writer<'_>, attrs: &Attributes) -> Result<(), text::Full> {
    for (name, value) in [(&b";pmin="[..], attrs.pmin), (b";pmax=", attrs.pmax)] {
        if let Some(v) = value {
            w.attr(name, u64::from(v))?;
        }
    }
    for (name, value) in [
        (&b";gt="[..], attrs.gt),
        (b";lt=", attrs.lt),
        (b";st=", attrs.st),
    ] {
        if let Some(v) = value {
            w.put(name)?;
            w.put_f64(v)?;
        }
    }
    Ok(())
}
