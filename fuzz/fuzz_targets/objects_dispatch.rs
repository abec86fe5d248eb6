#![no_main]
//! Feeds the dispatcher arbitrary requests: operation, Content-Format, Accept, a path given as
//! text and any payload (also the Write-Attributes query), against objects 0, 1, 2, 3 and 5. Nothing may panic, a body must fit
//! the output buffer, and a refused request must leave every object unchanged; a Read answers
//! the same through `read` and `read_to`.

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use lwm2m_objects::*;

#[derive(Clone, PartialEq, Debug)]
enum Owned {
    Int(i64),
    Uint(u64),
    Float(u64),
    Bool(bool),
    Bytes(Vec<u8>),
    Str(String),
    Link(u16, u16),
}

#[derive(Clone, PartialEq, Debug)]
struct Obj {
    def: &'static ObjectDef,
    instances: Vec<u16>,
    values: BTreeMap<(u16, u16, Option<u16>), Owned>,
}

impl ObjectHandler for Obj {
    fn definition(&self) -> &ObjectDef {
        self.def
    }
    fn next_instance(&self, after: Option<u16>) -> Option<u16> {
        self.instances
            .iter()
            .copied()
            .filter(|&i| after.is_none_or(|a| i > a))
            .min()
    }
    fn next_resource_instance(&self, i: u16, r: u16, after: Option<u16>) -> Option<u16> {
        self.values
            .keys()
            .filter_map(|&(ki, kr, ri)| (ki == i && kr == r).then_some(ri).flatten())
            .find(|&ri| after.is_none_or(|a| ri > a))
    }
    fn read(&self, i: u16, r: u16, ri: Option<u16>) -> Result<Value<'_>, ResponseCode> {
        Ok(
            match self.values.get(&(i, r, ri)).ok_or(ResponseCode::NotFound)? {
                Owned::Int(v) => Value::Integer(*v),
                Owned::Uint(v) => Value::Unsigned(*v),
                Owned::Float(v) => Value::Float(f64::from_bits(*v)),
                Owned::Bool(v) => Value::Boolean(*v),
                Owned::Bytes(v) => Value::Opaque(v),
                Owned::Str(v) => Value::String(v.as_bytes()),
                Owned::Link(o, i) => Value::ObjLnk(*o, *i),
            },
        )
    }
    fn read_to(
        &self,
        i: u16,
        r: u16,
        ri: Option<u16>,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ResponseCode> {
        match self.values.get(&(i, r, ri)).ok_or(ResponseCode::NotFound)? {
            Owned::Int(v) => out.integer(*v),
            Owned::Uint(v) => out.unsigned(*v),
            Owned::Float(v) => out.float(f64::from_bits(*v)),
            Owned::Bool(v) => out.boolean(*v),
            Owned::Bytes(v) => out.opaque(v),
            Owned::Str(v) => out.string(v.as_bytes()),
            Owned::Link(o, i) => out.objlnk(*o, *i),
        }
    }
    fn write(&mut self, i: u16, r: u16, ri: Option<u16>, v: Value<'_>) -> Result<(), ResponseCode> {
        let owned = match v {
            Value::Integer(v) | Value::Time(v) => Owned::Int(v),
            Value::Unsigned(v) => Owned::Uint(v),
            Value::Float(v) => Owned::Float(v.to_bits()),
            Value::Boolean(v) => Owned::Bool(v),
            Value::Opaque(v) => Owned::Bytes(v.to_vec()),
            Value::String(v) | Value::CoreLnk(v) => {
                // The dispatcher hands over UTF-8 only.
                Owned::Str(String::from_utf8(v.to_vec()).expect("UTF-8"))
            }
            Value::ObjLnk(o, i) => Owned::Link(o, i),
        };
        self.values.insert((i, r, ri), owned);
        Ok(())
    }
    fn clear(&mut self, i: u16, r: u16) -> Result<(), ResponseCode> {
        self.values.retain(|&(ki, kr, _), _| !(ki == i && kr == r));
        Ok(())
    }
    fn execute(&mut self, _: u16, _: u16, _: &[u8]) -> Result<(), ResponseCode> {
        Ok(())
    }
    fn create(&mut self, i: u16) -> Result<(), ResponseCode> {
        self.instances.push(i);
        Ok(())
    }
    fn delete(&mut self, i: u16) -> Result<(), ResponseCode> {
        self.instances.retain(|&x| x != i);
        self.values.retain(|&(ki, _, _), _| ki != i);
        Ok(())
    }
}

fn obj(
    def: &'static ObjectDef,
    instances: &[u16],
    values: &[((u16, u16, Option<u16>), Owned)],
) -> Obj {
    Obj {
        def,
        instances: instances.to_vec(),
        values: values.iter().cloned().collect(),
    }
}

const OPS: [Operation; 9] = [
    Operation::Read,
    Operation::Discover,
    Operation::WriteReplace,
    Operation::WriteUpdate,
    Operation::Execute,
    Operation::Create,
    Operation::Delete,
    Operation::BootstrapWrite,
    Operation::WriteAttributes,
];

fn format(selector: u8) -> Option<u16> {
    match selector % 6 {
        0 => None,
        1 => Some(CONTENT_FORMAT_TEXT),
        2 => Some(CONTENT_FORMAT_OPAQUE),
        3 => Some(CONTENT_FORMAT_TLV),
        4 => Some(CONTENT_FORMAT_LINK),
        _ => Some(u16::from(selector)),
    }
}

fuzz_target!(|data: &[u8]| {
    let [op, content, accept, out_len, rest @ ..] = data else {
        return;
    };
    // The path is the text up to the first newline; the payload follows it.
    let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let Ok(path) = Path::parse(&String::from_utf8_lossy(&rest[..split])) else {
        return;
    };
    let payload = rest.get(split + 1..).unwrap_or(&[]);

    let mut objects = vec![
        obj(
            &SECURITY,
            &[0],
            &[((0, 0, None), Owned::Str("coap://s".into()))],
        ),
        obj(
            &SERVER,
            &[0],
            &[
                ((0, 1, None), Owned::Int(300)),
                ((0, 6, None), Owned::Bool(false)),
            ],
        ),
        obj(
            &ACCESS_CONTROL,
            &[0, 3],
            &[((0, 2, Some(1)), Owned::Int(7))],
        ),
        obj(
            &DEVICE,
            &[0],
            &[
                ((0, 6, Some(0)), Owned::Int(1)),
                ((0, 0, None), Owned::Str("ACME".into())),
            ],
        ),
        obj(
            &FIRMWARE_UPDATE_V1_2_OPERATOR,
            &[0],
            &[((0, 1, None), Owned::Str(String::new()))],
        ),
        obj(
            &LOCATION,
            &[0],
            &[((0, 0, None), Owned::Float(45.5f64.to_bits()))],
        ),
    ];
    let before = objects.clone();
    let mut handlers: Vec<&mut dyn ObjectHandler> = objects
        .iter_mut()
        .map(|o| o as &mut dyn ObjectHandler)
        .collect();
    let mut table = [AttributeSlot::EMPTY; 2];
    let mut dispatcher = Dispatcher::new(&mut handlers).with_attributes(&mut table);
    let mut out = vec![0u8; usize::from(*out_len) * 4];
    // The payload doubles as the Write-Attributes query.
    let req = Request::new(OPS[usize::from(*op % 9)], path)
        .with_payload(format(*content), payload)
        .with_query(payload)
        .with_accept(format(*accept));
    let resp = dispatcher.handle(&req, &mut out);
    assert!(resp.len <= out.len());
    let body = out[..resp.len].to_vec();
    if resp.code == ResponseCode::Content {
        assert!(resp.content_format.is_some());
    }
    let _ = dispatcher.registration_links(&mut out);
    let attrs = dispatcher.attributes(path);
    if let (Some(min), Some(max)) = (attrs.pmin, attrs.pmax) {
        assert!(min <= max, "{attrs:?}");
    }
    drop(dispatcher);
    drop(handlers);
    if !resp.code.is_success() {
        assert_eq!(before, objects, "refused {req:?} changed state");
    }

    // Values read through `read_to` answer the same bytes (the hooks differ in Read only).
    let mut twins = before.clone();
    let mut handlers: Vec<&mut dyn ObjectHandler> = twins
        .iter_mut()
        .map(|o| o as &mut dyn ObjectHandler)
        .collect();
    let mut dispatcher = Dispatcher::new(&mut handlers).with_profile::<READ_TO>();
    let mut out3 = vec![0u8; out.len()];
    let resp3 = dispatcher.handle(&req, &mut out3);
    drop(dispatcher);
    drop(handlers);
    if req.operation() == Operation::Read {
        assert_eq!(resp, resp3, "{req:?}");
        assert_eq!(body, out3[..resp3.len], "{req:?}");
        assert_eq!(before, twins, "{req:?}");
    }

    // A device profile (the types of every object but Location's Float; reads, discovers,
    // writes of single resources, executes) answers as the full dispatcher within it; so does
    // the one folded without Access Control, whose writable multiple resources are then
    // outside it (5.00).
    let outside: &[u16] = if *op & 0x80 != 0 { &[6, 2] } else { &[6] };
    let mut profiled = before.clone();
    let mut handlers: Vec<&mut dyn ObjectHandler> = profiled
        .iter_mut()
        .map(|o| o as &mut dyn ObjectHandler)
        .collect();
    let mut out2 = vec![0u8; out.len()];
    let d = Dispatcher::new(&mut handlers);
    let resp2 = if outside.len() > 1 {
        d.with_profile::<SINGLE_VALUE_PROFILE>()
            .handle(&req, &mut out2)
    } else {
        d.with_profile::<DEVICE_PROFILE>().handle(&req, &mut out2)
    };
    drop(handlers);
    let op = req.operation();
    let whole_write = path.depth() < 3
        && matches!(
            op,
            Operation::WriteReplace | Operation::WriteUpdate | Operation::BootstrapWrite
        );
    // Resource instance paths are outside the profile too.
    if !Profile::from_bits(DEVICE_PROFILE).serves(op) || whole_write || path.depth() == 4 {
        assert!(
            matches!(
                resp2.code,
                ResponseCode::MethodNotAllowed | ResponseCode::NotFound
            ),
            "{req:?}: {resp2:?}"
        );
        assert_eq!(before, profiled);
    } else if resp2.code == ResponseCode::InternalServerError && resp.code != resp2.code {
        assert!(
            path.ids().first().is_some_and(|o| outside.contains(o)),
            "{req:?}"
        );
        assert_eq!(before, profiled);
    } else {
        assert_eq!(resp, resp2, "{req:?}");
        assert_eq!(body, out2[..resp2.len], "{req:?}");
        assert_eq!(objects, profiled, "{req:?}");
    }
});

/// Every type and operation, values read through `ObjectHandler::read_to`.
const READ_TO: u32 = Profile::ALL.with_read_to().bits();

/// [`DEVICE_PROFILE`] folded from objects 0, 1, 3 and 5: none has a writable multiple
/// resource, so the resource-instance write code is left out.
const SINGLE_VALUE_PROFILE: u32 =
    Profile::of(&[&SECURITY, &SERVER, &DEVICE, &FIRMWARE_UPDATE_V1_2_OPERATOR])
        .without(Operation::Create)
        .without(Operation::Delete)
        .without(Operation::WriteUpdate)
        .without(Operation::BootstrapWrite)
        .without(Operation::WriteAttributes)
        .without_instance_writes()
        .without_resource_instance_paths()
        .bits();

/// Every type of objects 0, 1, 2, 3 and 5 (not Location's Float); no Create, Delete, partial
/// update, Bootstrap-Write, Write-Attributes, whole-instance writes or resource instance paths.
const DEVICE_PROFILE: u32 = Profile::of(&[
    &SECURITY,
    &SERVER,
    &ACCESS_CONTROL,
    &DEVICE,
    &FIRMWARE_UPDATE_V1_2_OPERATOR,
])
.without(Operation::Create)
.without(Operation::Delete)
.without(Operation::WriteUpdate)
.without(Operation::BootstrapWrite)
.without(Operation::WriteAttributes)
.without_instance_writes()
.without_resource_instance_paths()
.bits();
