//! CoRE Link Format (RFC 6690) output: the Register payload and Discover answers.

use crate::Error;
use crate::path::Path;
use crate::text::{Full, Writer};

/// CoAP Content-Format of `application/link-format`.
pub const CONTENT_FORMAT_LINK: u16 = 40;

/// Writes a link-format list (`</1/0>,</3/0>;ver=1.1,...`) into a caller buffer.
///
/// ```
/// use lwm2m_objects::{LinkWriter, Path};
/// let mut buf = [0u8; 64];
/// let mut links = LinkWriter::new(&mut buf);
/// links.root_lwm2m()?;
/// links.link(Path::new_object(5))?;
/// links.attr_version(1, 1)?;
/// links.link(Path::new_instance(5, 0))?;
/// let n = links.finish();
/// assert_eq!(&buf[..n], br#"</>;rt="oma.lwm2m",</5>;ver=1.1,</5/0>"#);
/// # Ok::<(), lwm2m_objects::Error>(())
/// ```
pub struct LinkWriter<'a> {
    out: Writer<'a>,
    links: usize,
}

impl<'a> LinkWriter<'a> {
    /// A writer filling `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        LinkWriter {
            out: Writer::new(buf),
            links: 0,
        }
    }

    /// The call's result; a call that did not fit leaves nothing of itself (the writer is
    /// taken back to `before`, its length when the call started).
    fn done(&mut self, before: usize, result: Result<(), Full>) -> Result<(), Error> {
        result.map_err(|Full| {
            self.out.set_len(before);
            self.out.too_small()
        })
    }

    /// Starts the next link: `,<path>` (no comma before the first).
    pub fn link(&mut self, path: Path) -> Result<(), Error> {
        let first = self.links == 0;
        let before = self.out.len();
        let r = if path.depth() == 0 {
            self.out
                .put(b",</>".get(usize::from(first)..).unwrap_or(&[]))
        } else {
            self.out.link(path.ids())
        };
        self.links += 1;
        self.done(before, r)
    }

    /// The root link of a Register payload: `</>;rt="oma.lwm2m"`. No `ct=` attribute: some
    /// servers (Wakaama) reject a Register whose root link carries one.
    pub fn root_lwm2m(&mut self) -> Result<(), Error> {
        self.link(Path::ROOT)?;
        let before = self.out.len();
        let r = self.out.put(br#";rt="oma.lwm2m""#);
        self.done(before, r)
    }

    /// Adds `;name=value` with a decimal value to the current link (e.g. `dim`, `pmin`).
    pub fn attr_u64(&mut self, name: &str, value: u64) -> Result<(), Error> {
        let before = self.out.len();
        let r = self.attr_name(name).and_then(|()| self.out.put_u64(value));
        self.done(before, r)
    }

    /// Adds `;ver=major.minor` to the current link.
    pub fn attr_version(&mut self, major: u8, minor: u8) -> Result<(), Error> {
        let before = self.out.len();
        let r = self.out.version((major, minor));
        self.done(before, r)
    }

    /// Adds `;name="value"` to the current link (`value` must not contain a double quote).
    pub fn attr_quoted(&mut self, name: &str, value: &str) -> Result<(), Error> {
        let before = self.out.len();
        let r = self
            .attr_name(name)
            .and_then(|()| self.out.put(b"\""))
            .and_then(|()| self.out.put(value.as_bytes()))
            .and_then(|()| self.out.put(b"\""));
        self.done(before, r)
    }

    fn attr_name(&mut self, name: &str) -> Result<(), Full> {
        self.out.put(b";")?;
        self.out.put(name.as_bytes())?;
        self.out.put(b"=")
    }

    /// How many links were started.
    pub fn links(&self) -> usize {
        self.links
    }

    /// The number of bytes written.
    pub fn finish(self) -> usize {
        self.out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_links_first_or_later() {
        let mut buf = [0u8; 32];
        let mut links = LinkWriter::new(&mut buf);
        links.link(Path::ROOT).unwrap();
        links.link(Path::new_instance(3, 0)).unwrap();
        links.link(Path::ROOT).unwrap();
        let n = links.finish();
        assert_eq!(&buf[..n], b"</>,</3/0>,</>");
        let mut small = [0u8; 2];
        let mut links = LinkWriter::new(&mut small);
        assert!(links.link(Path::ROOT).is_err());
        // A call that does not fit leaves nothing of itself; the writer goes on after it.
        let mut buf = [0u8; 12];
        let mut links = LinkWriter::new(&mut buf);
        links.link(Path::new_instance(3, 0)).unwrap();
        assert!(links.attr_quoted("rt", "too long").is_err());
        assert!(links.link(Path::new_instance(50, 1)).is_err());
        assert!(links.attr_u64("dim", 2).is_ok());
        let n = links.finish();
        assert_eq!(&buf[..n], b"</3/0>;dim=2");
    }
}
