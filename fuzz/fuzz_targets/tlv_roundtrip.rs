#![no_main]
//! Drives the encoder with arbitrary operations (containers, typed values, misuse, small
//! buffers) beside a model tree; the payload must decode to exactly the model, failed
//! operations must leave the writer unchanged, and lengths must be exact.

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use lwm2m_tlv::{Content, Kind, Node, ObjLnk, Value, Writer, validate};

#[derive(Arbitrary, Debug)]
enum Val {
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Opaque(Vec<u8>),
    Time(i64),
    Link(u16, u16),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Instance(u16),
    Multiple(u16),
    End,
    Resource(u16, Val),
    ResourceInstance(u16, Val),
    Raw(u8, u16, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    capacity: u16,
    ops: Vec<Op>,
}

fn value(v: &Val) -> Value<'_> {
    match v {
        Val::Int(i) => Value::Integer(*i),
        Val::Uint(u) => Value::Unsigned(*u),
        Val::Float(f) => Value::Float(*f),
        Val::Bool(b) => Value::Boolean(*b),
        Val::Str(s) => Value::String(s),
        Val::Opaque(o) => Value::Opaque(o),
        Val::Time(t) => Value::Time(*t),
        Val::Link(o, i) => Value::ObjLnk(ObjLnk::new(*o, *i)),
    }
}

/// The model: finished top-level nodes and the stack of open containers.
struct Model {
    top: Vec<Node>,
    open: Vec<Node>,
}

impl Model {
    fn push(&mut self, node: Node) {
        match self.open.last_mut() {
            Some(Node {
                content: Content::Children(c),
                ..
            }) => c.push(node),
            _ => self.top.push(node),
        }
    }
}

fuzz_target!(|input: Input| {
    let mut buf = vec![0u8; usize::from(input.capacity)];
    let mut w = Writer::new(&mut buf);
    let mut model = Model {
        top: Vec::new(),
        open: Vec::new(),
    };
    for op in &input.ops {
        let before = (w.len(), w.depth());
        let result = match op {
            Op::Instance(id) => w.begin_instance(*id),
            Op::Multiple(id) => w.begin_multiple(*id),
            Op::End => w.end(),
            Op::Resource(id, v) => w.resource(*id, value(v)),
            Op::ResourceInstance(id, v) => w.resource_instance(*id, value(v)),
            Op::Raw(kind, id, bytes) => w.record(Kind::from_bits(*kind), *id, bytes),
        };
        if result.is_err() {
            assert_eq!(
                (w.len(), w.depth()),
                before,
                "a failed {op:?} changed the writer"
            );
            continue;
        }
        match op {
            Op::Instance(id) => model.open.push(Node::instance(*id, Vec::new())),
            Op::Multiple(id) => model.open.push(Node::multiple(*id, Vec::new())),
            Op::End => {
                let done = model
                    .open
                    .pop()
                    .expect("writer closed a container the model lacks");
                model.push(done);
            }
            Op::Resource(id, v) => model.push(Node::resource(*id, value(v))),
            Op::ResourceInstance(id, v) => model.push(Node::resource_instance(*id, value(v))),
            Op::Raw(kind, id, bytes) => model.push(Node {
                kind: Kind::from_bits(*kind),
                id: *id,
                content: Content::Value(bytes.clone()),
            }),
        }
        assert_eq!(w.depth(), model.open.len());
    }
    while w.depth() > 0 {
        w.end().unwrap();
        let done = model.open.pop().unwrap();
        model.push(done);
    }
    let n = w.finish().unwrap();
    let payload = &buf[..n];
    assert_eq!(n, model.top.iter().map(Node::encoded_len).sum::<usize>());
    validate(payload).unwrap();
    assert_eq!(Node::parse_all(payload).unwrap(), model.top);
    assert_eq!(Node::to_vec(&model.top).unwrap(), payload);
});
