//! Owned TLV tree (feature `alloc`), for users who want one.

use alloc::vec::Vec;

use bytes::BufMut;

use crate::encode::{MAX_VALUE_LEN, Sink, Value};
use crate::{Error, Kind, Records, Tlv, Writer, encoded_len};

/// What a [`Node`] holds: a value or nested records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Content {
    /// The value bytes of a resource or resource instance.
    Value(Vec<u8>),
    /// The nested records of an object instance or multiple resource.
    Children(Vec<Node>),
}

/// An owned TLV record and, for containers, its nested records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Node {
    /// The record's kind.
    pub kind: Kind,
    /// The record's id.
    pub id: u16,
    /// Its value or children: `Value` for resources and resource instances, `Children` for
    /// object instances and multiple resources.
    pub content: Content,
}

impl Node {
    /// An object instance holding `resources`.
    pub fn instance(id: u16, resources: Vec<Node>) -> Self {
        Node {
            kind: Kind::ObjectInstance,
            id,
            content: Content::Children(resources),
        }
    }

    /// A multiple resource holding `instances`.
    pub fn multiple(id: u16, instances: Vec<Node>) -> Self {
        Node {
            kind: Kind::MultipleResource,
            id,
            content: Content::Children(instances),
        }
    }

    /// A resource with a typed value.
    pub fn resource(id: u16, value: Value<'_>) -> Self {
        Self::scalar(Kind::Resource, id, value)
    }

    /// A resource instance with a typed value.
    pub fn resource_instance(id: u16, value: Value<'_>) -> Self {
        Self::scalar(Kind::ResourceInstance, id, value)
    }

    fn scalar(kind: Kind, id: u16, value: Value<'_>) -> Self {
        let mut scratch = [0u8; 8];
        Node {
            kind,
            id,
            content: Content::Value(value.bytes(&mut scratch).to_vec()),
        }
    }

    /// Decodes a whole payload into owned trees (checking the structure like
    /// [`validate`](crate::validate)).
    pub fn parse_all(payload: &[u8]) -> Result<Vec<Node>, Error> {
        collect(Records::new(payload))
    }

    /// Copies a decoded record, and its nested records, into an owned tree.
    pub fn from_tlv(tlv: &Tlv<'_>) -> Result<Node, Error> {
        let content = if tlv.is_container() {
            Content::Children(collect(tlv.children())?)
        } else {
            Content::Value(tlv.value().to_vec())
        };
        Ok(Node {
            kind: tlv.kind(),
            id: tlv.id(),
            content,
        })
    }

    /// Length of the value (for containers: of the encoded children).
    pub fn value_len(&self) -> usize {
        match &self.content {
            Content::Value(v) => v.len(),
            Content::Children(c) => c.iter().map(Node::encoded_len).sum(),
        }
    }

    /// Exact encoded length of this record (header, value, nested records).
    pub fn encoded_len(&self) -> usize {
        encoded_len(self.id, self.value_len())
    }

    fn shape_error(&self, offset: usize) -> Error {
        Error::BadNesting {
            offset,
            parent: self.kind,
            kind: self.kind,
        }
    }

    /// Writes this record (and its children) with a [`Writer`].
    pub fn write<B: ?Sized + Sink>(&self, w: &mut Writer<'_, B>) -> Result<(), Error> {
        match (&self.content, self.kind.is_container()) {
            (Content::Value(v), false) => w.record(self.kind, self.id, v),
            (Content::Children(children), true) => {
                match self.kind {
                    Kind::ObjectInstance => w.begin_instance(self.id)?,
                    _ => w.begin_multiple(self.id)?,
                }
                for child in children {
                    child.write(w)?;
                }
                w.end()
            }
            _ => Err(self.shape_error(w.len())),
        }
    }

    /// Encodes `nodes` into `buf`; returns the number of bytes written.
    pub fn encode_all(nodes: &[Node], buf: &mut [u8]) -> Result<usize, Error> {
        let mut w = Writer::new(buf);
        for n in nodes {
            n.write(&mut w)?;
        }
        w.finish()
    }

    /// Encodes `nodes` into a new `Vec<u8>` of exactly their encoded length.
    pub fn to_vec(nodes: &[Node]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(nodes.iter().map(Node::encoded_len).sum());
        Node::put_all(nodes, &mut out)?;
        Ok(out)
    }

    /// Encodes `nodes` into a [`BufMut`] (exact lengths are computed first, so nothing is
    /// written back). Fails without writing when `buf` has less room than needed.
    pub fn put_all<B: BufMut>(nodes: &[Node], buf: &mut B) -> Result<(), Error> {
        let needed: usize = nodes.iter().map(Node::encoded_len).sum();
        if buf.remaining_mut() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.remaining_mut(),
            });
        }
        let mut at = 0;
        for n in nodes {
            n.check(None, at)?;
            at += n.encoded_len();
        }
        for n in nodes {
            n.put(buf);
        }
        Ok(())
    }

    /// Checks kinds, nesting and lengths before anything is written.
    fn check(&self, parent: Option<Kind>, offset: usize) -> Result<(), Error> {
        if let Some(p) = parent
            && !p.may_contain(self.kind)
        {
            return Err(Error::BadNesting {
                offset,
                parent: p,
                kind: self.kind,
            });
        }
        let len = self.value_len();
        if len > MAX_VALUE_LEN {
            return Err(Error::ValueTooLong { len });
        }
        match (&self.content, self.kind.is_container()) {
            (Content::Value(_), false) => Ok(()),
            (Content::Children(children), true) => {
                let mut at = offset + self.encoded_len() - len;
                for c in children {
                    c.check(Some(self.kind), at)?;
                    at += c.encoded_len();
                }
                Ok(())
            }
            _ => Err(self.shape_error(offset)),
        }
    }

    fn put<B: BufMut>(&self, buf: &mut B) {
        put_header(buf, self.kind, self.id, self.value_len());
        match &self.content {
            Content::Value(v) => buf.put_slice(v),
            Content::Children(children) => children.iter().for_each(|c| c.put(buf)),
        }
    }
}

/// Copies `records` into owned nodes, sizing the vector first (a header-only pass is cheaper
/// than growing it).
fn collect(records: Records<'_>) -> Result<Vec<Node>, Error> {
    let mut nodes = Vec::with_capacity(records.clone().take_while(Result::is_ok).count());
    for r in records {
        nodes.push(Node::from_tlv(&r?)?);
    }
    Ok(nodes)
}

/// Writes the smallest record header for (`kind`, `id`, `value_len`) into a [`BufMut`].
///
/// For streaming into a `BufMut` without the owned tree: write the header with the exact
/// length (see [`encoded_len`]) and then the value or nested records. Lengths above
/// [`MAX_VALUE_LEN`] are cut to 24 bits: check them first. Panics like [`BufMut::put_slice`]
/// when `buf` has no room.
pub fn put_header<B: BufMut>(buf: &mut B, kind: Kind, id: u16, value_len: usize) {
    let mut hdr = [0u8; 6];
    let h = crate::encode::write_header(&mut hdr, kind, id, value_len);
    buf.put_slice(hdr.get(..h).unwrap_or(&[]));
}
