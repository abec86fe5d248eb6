//! LwM2M paths: `/O`, `/O/I`, `/O/I/R` and `/O/I/R/RI`.

use crate::Error;

/// The largest id allowed in a path; 65535 is reserved by the specification.
pub const MAX_ID: u16 = 65534;

/// A path into the object tree: the root, an object, an instance, a resource or a resource
/// instance.
///
/// ```
/// use lwm2m_objects::Path;
/// let path = Path::parse("/5/0/1").unwrap();
/// assert_eq!((path.object(), path.instance(), path.resource()), (Some(5), Some(0), Some(1)));
/// let mut buf = [0u8; 24];
/// let n = path.write_to(&mut buf).unwrap();
/// assert_eq!(&buf[..n], b"/5/0/1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
// Word-aligned (12 bytes): a 10-byte, 2-aligned copy is a `memcpy` call on a Cortex-M.
#[repr(align(4))]
pub struct Path {
    pub(crate) len: u8,
    pub(crate) ids: [u16; 4],
}

impl Path {
    /// The root path `/`.
    pub const ROOT: Path = Path {
        len: 0,
        ids: [0; 4],
    };

    /// `/O`.
    pub const fn new_object(object: u16) -> Path {
        Path {
            len: 1,
            ids: [object, 0, 0, 0],
        }
    }

    /// `/O/I`.
    pub const fn new_instance(object: u16, instance: u16) -> Path {
        Path {
            len: 2,
            ids: [object, instance, 0, 0],
        }
    }

    /// `/O/I/R`.
    pub const fn new_resource(object: u16, instance: u16, resource: u16) -> Path {
        Path {
            len: 3,
            ids: [object, instance, resource, 0],
        }
    }

    /// `/O/I/R/RI`.
    pub const fn new_resource_instance(
        object: u16,
        instance: u16,
        resource: u16,
        resource_instance: u16,
    ) -> Path {
        Path {
            len: 4,
            ids: [object, instance, resource, resource_instance],
        }
    }

    /// How many ids the path has: 0 (root) to 4 (resource instance).
    pub const fn depth(&self) -> usize {
        self.len as usize
    }

    /// The ids, outermost first.
    pub fn ids(&self) -> &[u16] {
        self.ids.get(..self.depth()).unwrap_or(&[])
    }

    const fn id(&self, level: usize) -> Option<u16> {
        if level < self.len as usize {
            Some(self.ids[level])
        } else {
            None
        }
    }

    /// The object id.
    pub const fn object(&self) -> Option<u16> {
        self.id(0)
    }

    /// The object instance id.
    pub const fn instance(&self) -> Option<u16> {
        self.id(1)
    }

    /// The resource id.
    pub const fn resource(&self) -> Option<u16> {
        self.id(2)
    }

    /// The resource instance id.
    pub const fn resource_instance(&self) -> Option<u16> {
        self.id(3)
    }

    /// Parses `/O[/I[/R[/RI]]]` (the leading slash is optional, `/` or the empty string is the
    /// root; a trailing slash is allowed). Ids are decimal, 0 to 65534.
    pub fn parse(text: &str) -> Result<Path, Error> {
        let bytes = text.as_bytes();
        let mut at = usize::from(bytes.first() == Some(&b'/'));
        let mut path = Path::ROOT;
        while at < bytes.len() {
            let end = bytes
                .get(at..)
                .and_then(|rest| rest.iter().position(|&b| b == b'/'))
                .map_or(bytes.len(), |p| at + p);
            let segment = bytes.get(at..end).unwrap_or(&[]);
            let id = parse_id(segment).ok_or(Error::InvalidPath { offset: at })?;
            path = path.push(id).ok_or(Error::InvalidPath { offset: at })?;
            at = end + 1;
        }
        Ok(path)
    }

    /// Builds a path from CoAP Uri-Path option values, one id per segment (no segments: the
    /// root). The error offset is the index of the segment at fault.
    pub fn from_segments<'s, I>(segments: I) -> Result<Path, Error>
    where
        I: IntoIterator<Item = &'s [u8]>,
    {
        let mut path = Path::ROOT;
        for (index, segment) in segments.into_iter().enumerate() {
            let id = parse_id(segment).ok_or(Error::InvalidPath { offset: index })?;
            path = path.push(id).ok_or(Error::InvalidPath { offset: index })?;
        }
        Ok(path)
    }

    /// The path one level deeper, or `None` at a resource instance or for an id above
    /// [`MAX_ID`].
    pub fn push(&self, id: u16) -> Option<Path> {
        if id > MAX_ID {
            return None;
        }
        let mut next = *self;
        *next.ids.get_mut(self.depth())? = id;
        next.len += 1;
        Some(next)
    }

    /// The path one level up (the root stays the root).
    pub fn parent(&self) -> Path {
        let mut up = *self;
        if let Some(len) = self.len.checked_sub(1) {
            up.len = len;
            if let Some(id) = up.ids.get_mut(usize::from(len)) {
                *id = 0;
            }
        }
        up
    }

    /// Writes the path as text (`/5/0/1`; the root is `/`) and returns its length.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut w = crate::text::Writer::new(out);
        // A full writer stays full: one check at the end.
        if self.len == 0 {
            let _ = w.put(b"/");
        }
        for &id in self.ids() {
            let _ = w.put(b"/");
            let _ = w.put_u64(u64::from(id));
        }
        if w.overflowed() {
            return Err(w.too_small());
        }
        Ok(w.len())
    }
}

/// A decimal id of 1 to 5 digits, at most [`MAX_ID`].
// Inlined: 8 bytes smaller on a Cortex-M.
#[inline(always)]
fn parse_id(segment: &[u8]) -> Option<u16> {
    if segment.is_empty() || segment.len() > 5 {
        return None;
    }
    let mut value: u32 = 0;
    for &b in segment {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    u16::try_from(value).ok().filter(|&id| id <= MAX_ID)
}

impl core::fmt::Display for Path {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.len == 0 {
            return f.write_str("/");
        }
        for id in self.ids() {
            write!(f, "/{id}")?;
        }
        Ok(())
    }
}

impl core::str::FromStr for Path {
    type Err = Error;

    fn from_str(text: &str) -> Result<Path, Error> {
        Path::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_depth() {
        assert_eq!(Path::parse("/").unwrap(), Path::ROOT);
        assert_eq!(Path::parse("").unwrap(), Path::ROOT);
        assert_eq!(Path::parse("/3").unwrap(), Path::new_object(3));
        assert_eq!(Path::parse("3/0").unwrap(), Path::new_instance(3, 0));
        assert_eq!(Path::parse("/3/0/7/").unwrap(), Path::new_resource(3, 0, 7));
        assert_eq!(
            Path::parse("/3/0/7/1").unwrap(),
            Path::new_resource_instance(3, 0, 7, 1)
        );
        assert_eq!(
            Path::parse("/65534/65534").unwrap(),
            Path::new_instance(65534, 65534)
        );
    }

    #[test]
    fn rejects_bad_paths_with_offsets() {
        for (text, offset) in [
            ("/65535", 1),
            ("/3//0", 3),
            ("/3/x", 3),
            ("/1/2/3/4/5", 9),
            ("/-1", 1),
            ("/123456", 1),
            ("//", 1),
        ] {
            assert_eq!(
                Path::parse(text),
                Err(Error::InvalidPath { offset }),
                "{text}"
            );
        }
    }

    #[test]
    fn parents() {
        let p = Path::new_resource_instance(3, 0, 7, 1);
        assert_eq!(p.parent(), Path::new_resource(3, 0, 7));
        assert_eq!(p.parent().parent().parent(), Path::new_object(3));
        assert_eq!(Path::new_object(3).parent(), Path::ROOT);
        assert_eq!(Path::ROOT.parent(), Path::ROOT);
    }

    #[test]
    fn segments_and_formatting() {
        let p = Path::from_segments([&b"5"[..], b"0", b"26500"]).unwrap();
        assert_eq!(p, Path::new_resource(5, 0, 26500));
        let mut buf = [0u8; 32];
        let n = p.write_to(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"/5/0/26500");
        let mut root = [0u8; 1];
        assert_eq!(Path::ROOT.write_to(&mut root), Ok(1));
        assert_eq!(
            Path::from_segments([&b"5"[..], b""]),
            Err(Error::InvalidPath { offset: 1 })
        );
        let mut small = [0u8; 3];
        assert!(p.write_to(&mut small).is_err());
    }
}
