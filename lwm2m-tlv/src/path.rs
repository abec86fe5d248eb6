//! LwM2M request paths and the checks of a payload's shape against them.

use crate::decode::{Records, validate_children};
use crate::{Error, Kind, Tlv};

/// The target of an LwM2M request: `/O`, `/O/I`, `/O/I/R` or `/O/I/R/RI`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Path {
    /// `/O`: an object.
    Object(u16),
    /// `/O/I`: an object instance.
    Instance(u16, u16),
    /// `/O/I/R`: a resource.
    Resource(u16, u16, u16),
    /// `/O/I/R/RI`: a resource instance.
    ResourceInstance(u16, u16, u16, u16),
}

impl Path {
    /// The object ID.
    pub fn object(&self) -> u16 {
        match *self {
            Path::Object(o)
            | Path::Instance(o, _)
            | Path::Resource(o, _, _)
            | Path::ResourceInstance(o, _, _, _) => o,
        }
    }

    /// The object instance ID, if the path has one.
    pub fn instance(&self) -> Option<u16> {
        match *self {
            Path::Object(_) => None,
            Path::Instance(_, i) | Path::Resource(_, i, _) | Path::ResourceInstance(_, i, _, _) => {
                Some(i)
            }
        }
    }

    /// The resource ID, if the path has one.
    pub fn resource(&self) -> Option<u16> {
        match *self {
            Path::Object(_) | Path::Instance(..) => None,
            Path::Resource(_, _, r) | Path::ResourceInstance(_, _, r, _) => Some(r),
        }
    }

    /// The resource instance ID, if the path has one.
    pub fn resource_instance(&self) -> Option<u16> {
        match *self {
            Path::ResourceInstance(_, _, _, ri) => Some(ri),
            _ => None,
        }
    }
}

/// Checks that a payload's shape and ids match the request path, and the structure of every
/// record in it; returns the records the path addresses.
///
/// - `/O`: one or more object instance records (any ids); returns them.
/// - `/O/I`: either exactly one object instance record with id `I`, or one or more resource
///   and multiple resource records at the top level (both forms are in use); returns the
///   resource-level records.
/// - `/O/I/R`: exactly one resource or multiple resource record with id `R`; returns it.
/// - `/O/I/R/RI`: exactly one resource instance record with id `RI`; returns it.
///
/// An empty payload is an error ([`Error::MissingRecord`]).
pub fn check_path(payload: &[u8], path: Path) -> Result<Records<'_>, Error> {
    let mut top = Records::new(payload);
    let first = match top.next() {
        Some(first) => first?,
        None => return Err(Error::MissingRecord { offset: 0 }),
    };
    let unexpected = |t: &Tlv<'_>| Error::UnexpectedKind {
        offset: t.offset(),
        kind: t.kind(),
    };
    let id_check = |t: &Tlv<'_>, expected: u16| {
        if t.id() == expected {
            Ok(())
        } else {
            Err(Error::IdMismatch {
                offset: t.offset(),
                kind: t.kind(),
                expected,
                found: t.id(),
            })
        }
    };
    match path {
        Path::Object(_) => {
            for rec in Records::new(payload) {
                let rec = rec?;
                if rec.kind() != Kind::ObjectInstance {
                    return Err(unexpected(&rec));
                }
                validate_children(&rec)?;
            }
            Ok(Records::new(payload))
        }
        Path::Instance(_, i) => {
            if first.kind() == Kind::ObjectInstance {
                id_check(&first, i)?;
                validate_children(&first)?;
                single(top)?;
                Ok(first.children())
            } else {
                for rec in Records::new(payload) {
                    let rec = rec?;
                    if !matches!(rec.kind(), Kind::Resource | Kind::MultipleResource) {
                        return Err(unexpected(&rec));
                    }
                    validate_children(&rec)?;
                }
                Ok(Records::new(payload))
            }
        }
        Path::Resource(_, _, r) => {
            if !matches!(first.kind(), Kind::Resource | Kind::MultipleResource) {
                return Err(unexpected(&first));
            }
            id_check(&first, r)?;
            validate_children(&first)?;
            single(top)?;
            Ok(Records::new(payload))
        }
        Path::ResourceInstance(_, _, _, ri) => {
            if first.kind() != Kind::ResourceInstance {
                return Err(unexpected(&first));
            }
            id_check(&first, ri)?;
            single(top)?;
            Ok(Records::new(payload))
        }
    }
}

/// Fails when `rest` still holds a record (or bytes that do not parse).
fn single(mut rest: Records<'_>) -> Result<(), Error> {
    let offset = rest.offset();
    match rest.next() {
        None => Ok(()),
        Some(Err(e)) => Err(e),
        Some(Ok(_)) => Err(Error::ExtraRecord { offset }),
    }
}
