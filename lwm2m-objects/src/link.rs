//! CoRE Link Format (RFC 6690) output: the Register payload and Discover answers.

use crate::Error;
use crate::path::Path;
use crate::text::Writer;

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

    /// Starts the next link: `,<path>` (no comma before the first).
    pub fn link(&mut self, path: Path) -> Result<(), Error> {
        if self.links > 0 {
            self.out.put(b",")?;
        }
        self.links += 1;
        self.out.put(b"<")?;
        if path.depth() == 0 {
            self.out.put(b"/")?;
        }
        for &id in path.ids() {
            self.out.put(b"/")?;
            self.out.put_u64(u64::from(id))?;
        }
        self.out.put(b">")
    }

    /// The root link of a Register payload: `</>;rt="oma.lwm2m"`. No `ct=` attribute: some
    /// servers (Wakaama) reject a Register whose root link carries one.
    pub fn root_lwm2m(&mut self) -> Result<(), Error> {
        self.link(Path::ROOT)?;
        self.out.put(br#";rt="oma.lwm2m""#)
    }

    /// Adds `;name=value` with a decimal value to the current link (e.g. `dim`, `pmin`).
    pub fn attr_u64(&mut self, name: &str, value: u64) -> Result<(), Error> {
        self.attr_name(name)?;
        self.out.put_u64(value)
    }

    /// Adds `;ver=major.minor` to the current link.
    pub fn attr_version(&mut self, major: u8, minor: u8) -> Result<(), Error> {
        self.attr_name("ver")?;
        self.out.put_u64(u64::from(major))?;
        self.out.put(b".")?;
        self.out.put_u64(u64::from(minor))
    }

    /// Adds `;name="value"` to the current link (`value` must not contain a double quote).
    pub fn attr_quoted(&mut self, name: &str, value: &str) -> Result<(), Error> {
        self.attr_name(name)?;
        self.out.put(b"\"")?;
        self.out.put(value.as_bytes())?;
        self.out.put(b"\"")
    }

    fn attr_name(&mut self, name: &str) -> Result<(), Error> {
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
