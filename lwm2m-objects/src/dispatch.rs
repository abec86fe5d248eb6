//! The operation dispatcher: checks an LwM2M operation against the object definitions and
//! calls the registered object implementations.

use lwm2m_tlv::{Kind, Tlv};

use crate::handler::{
    CONTENT_FORMAT_OPAQUE, CONTENT_FORMAT_TEXT, CONTENT_FORMAT_TLV, CONTENT_FORMAT_TLV_LEGACY,
    ObjectHandler, Operation, Request, Response, ResponseCode, Value,
};
use crate::link::{CONTENT_FORMAT_LINK, LinkWriter};
use crate::model::{ObjectDef, ResourceDef, ResourceType};
use crate::path::Path;
use crate::text::{self, Writer};

/// Writes one value as a resource (or, with `instance`, a resource instance) record.
///
/// The value bytes are laid out here rather than through the encoder's typed values: its float
/// width choice compares floats, which costs soft-float code on a Cortex-M. Floats are always
/// written in 8 bytes, which every reader accepts.
///
/// The value is borrowed: moving a `Value` out of its `Result` makes the compiler copy the
/// payload with a `memcpy` call on a Cortex-M.
fn put(w: &mut lwm2m_tlv::Writer<'_>, instance: bool, id: u16, value: &Value<'_>) -> Outcome<()> {
    let kind = if instance {
        Kind::ResourceInstance
    } else {
        Kind::Resource
    };
    let scratch;
    let bytes: &[u8] = match *value {
        Value::String(v) | Value::CoreLnk(v) => v.as_bytes(),
        Value::Opaque(v) => v,
        // Numbers: the last `len` bytes of one big-endian 64-bit word.
        _ => {
            let (number, len) = match *value {
                Value::Integer(v) | Value::Time(v) => (v as u64, lwm2m_tlv::int_len(v)),
                Value::Unsigned(v) => (v, lwm2m_tlv::uint_len(v)),
                Value::Float(v) => (v.to_bits(), 8),
                Value::Boolean(v) => (u64::from(v), 1),
                Value::ObjLnk(o, i) => (u64::from(o) << 16 | u64::from(i), 4),
                _ => (0, 0),
            };
            scratch = number.to_be_bytes();
            scratch.get(8usize.saturating_sub(len)..).unwrap_or(&[])
        }
    };
    w.record(kind, id, bytes).map_err(overflow)
}

type Outcome<T> = Result<T, ResponseCode>;

/// The record of a decoder item, borrowed: moving a `Tlv` out of its `Result` makes the
/// compiler call `memcpy` (744 bytes of compiler-builtins on a Cortex-M).
fn record<'a, 'p>(item: &'a Result<Tlv<'p>, lwm2m_tlv::Error>) -> Outcome<&'a Tlv<'p>> {
    item.as_ref().map_err(bad)
}

const fn is_tlv(format: u16) -> bool {
    format == CONTENT_FORMAT_TLV || format == CONTENT_FORMAT_TLV_LEGACY
}

fn overflow<E>(_: E) -> ResponseCode {
    ResponseCode::InternalServerError
}

fn bad<E>(_: E) -> ResponseCode {
    ResponseCode::BadRequest
}

/// Routes LwM2M operations to the registered objects, checking each against its definition.
///
/// It answers 4.04 for a missing target, 4.05 for an operation the definition does not allow,
/// 4.00 for a malformed, wrongly typed or out-of-range value, 4.15 for a payload format the
/// target cannot take and 4.06 for an Accept it cannot be read in. Formats: TLV everywhere;
/// plain text and (for Opaque resources) octet-stream on single resources and resource
/// instances. A Read of a single resource without Accept answers plain text (octet-stream for
/// Opaque), anything larger TLV. A Write is checked whole before the first value is written.
///
/// ```
/// use lwm2m_objects::*;
///
/// struct Fw { state: i64, uri: [u8; 64], uri_len: usize }
/// impl ObjectHandler for Fw {
///     fn definition(&self) -> &ObjectDef { &FIRMWARE_UPDATE_V1_0 }
///     fn next_instance(&self, after: Option<u16>) -> Option<u16> {
///         if after.is_none() { Some(0) } else { None }
///     }
///     fn read(&self, _i: u16, r: u16, _ri: Option<u16>) -> Result<Value<'_>, ResponseCode> {
///         match r {
///             1 => Ok(Value::String(core::str::from_utf8(&self.uri[..self.uri_len]).unwrap_or(""))),
///             3 => Ok(Value::Integer(self.state)),
///             _ => Ok(Value::Integer(0)),
///         }
///     }
///     fn write(&mut self, _i: u16, r: u16, _ri: Option<u16>, v: Value<'_>) -> Result<(), ResponseCode> {
///         match (r, v) {
///             (1, Value::String(s)) if s.len() <= 64 => {
///                 self.uri[..s.len()].copy_from_slice(s.as_bytes());
///                 self.uri_len = s.len();
///                 Ok(())
///             }
///             _ => Err(ResponseCode::BadRequest),
///         }
///     }
/// }
///
/// let mut fw = Fw { state: 0, uri: [0; 64], uri_len: 0 };
/// let mut objects: [&mut dyn ObjectHandler; 1] = [&mut fw];
/// let mut dispatcher = Dispatcher::new(&mut objects);
/// let mut out = [0u8; 256];
///
/// let uri = Request::new(Operation::WriteReplace, Path::new_resource(5, 0, 1))
///     .with_payload(Some(CONTENT_FORMAT_TEXT), b"coap://[::1]/fw");
/// assert_eq!(dispatcher.handle(&uri, &mut out).code, ResponseCode::Changed);
///
/// let state = Request::new(Operation::WriteReplace, Path::new_resource(5, 0, 3))
///     .with_payload(Some(CONTENT_FORMAT_TEXT), b"2");
/// assert_eq!(dispatcher.handle(&state, &mut out).code, ResponseCode::MethodNotAllowed);
///
/// let read = Request::new(Operation::Read, Path::new_resource(5, 0, 1));
/// let resp = dispatcher.handle(&read, &mut out);
/// assert_eq!((resp.code, &out[..resp.len]), (ResponseCode::Content, &b"coap://[::1]/fw"[..]));
///
/// let n = dispatcher.registration_links(&mut out).unwrap();
/// assert_eq!(&out[..n], br#"</>;rt="oma.lwm2m",</5/0>"#);
/// ```
pub struct Dispatcher<'a, 'h> {
    objects: &'a mut [&'h mut dyn ObjectHandler],
}

impl<'a, 'h> Dispatcher<'a, 'h> {
    /// A dispatcher over these objects (one per object id; the first wins on duplicates).
    pub fn new(objects: &'a mut [&'h mut dyn ObjectHandler]) -> Self {
        Dispatcher { objects }
    }

    /// The registered object with this id.
    pub fn object(&self, id: u16) -> Option<&dyn ObjectHandler> {
        self.objects
            .iter()
            .find(|o| o.definition().id() == id)
            .map(|o| &**o as &dyn ObjectHandler)
    }

    /// The registered object with this id, mutably.
    pub fn object_mut(&mut self, id: u16) -> Option<&mut (dyn ObjectHandler + 'h)> {
        self.objects
            .iter_mut()
            .find(|o| o.definition().id() == id)
            .map(|o| &mut **o)
    }

    /// Handles one request; a body (for 2.05) is written at the start of `out`.
    pub fn handle(&mut self, request: &Request<'_>, out: &mut [u8]) -> Response {
        match self.dispatch(request, out) {
            Ok(response) => response,
            Err(code) => Response::code(code),
        }
    }

    fn dispatch(&mut self, req: &Request<'_>, out: &mut [u8]) -> Outcome<Response> {
        let path = req.path;
        let object_id = path.object().ok_or(ResponseCode::MethodNotAllowed)?;
        let obj = self.object_mut(object_id).ok_or(ResponseCode::NotFound)?;
        let def = *obj.definition();
        // The target must exist (Create names an instance that must not; Bootstrap-Write
        // creates it).
        let creates = matches!(req.operation, Operation::Create | Operation::BootstrapWrite);
        if let Some(instance) = path.instance()
            && !creates
            && !has_instance(obj, instance)
        {
            return Err(ResponseCode::NotFound);
        }
        let res = match path.resource() {
            Some(rid) => Some(find_resource(obj, &def, path.instance().unwrap_or(0), rid)?),
            None => None,
        };
        if let (Some(r), Some(riid)) = (res, path.resource_instance()) {
            // A resource instance exists only in a multiple resource, and only when listed
            // (a Write may add one).
            if !r.is_multiple() {
                return Err(ResponseCode::NotFound);
            }
            let instance = path.instance().unwrap_or(0);
            if !matches!(
                req.operation,
                Operation::WriteReplace | Operation::BootstrapWrite
            ) && !has_resource_instance(obj, instance, r.id(), riid)
            {
                return Err(ResponseCode::NotFound);
            }
        }
        match req.operation {
            Operation::Read => read(obj, &def, path, res, req.accept, out),
            Operation::Discover => discover(obj, &def, path, res, out),
            Operation::WriteReplace | Operation::WriteUpdate | Operation::BootstrapWrite => {
                write(obj, &def, req, res)?;
                Ok(Response::code(ResponseCode::Changed))
            }
            Operation::Execute => {
                let (instance, r) = match (path.instance(), res, path.resource_instance()) {
                    (Some(i), Some(r), None) => (i, r),
                    _ => return Err(ResponseCode::MethodNotAllowed),
                };
                if !r.executable() {
                    return Err(ResponseCode::MethodNotAllowed);
                }
                obj.execute(instance, r.id(), req.payload)?;
                Ok(Response::code(ResponseCode::Changed))
            }
            Operation::Create => create(obj, &def, req),
            Operation::Delete => match (path.instance(), path.resource()) {
                (Some(instance), None) => {
                    obj.delete(instance)?;
                    Ok(Response::code(ResponseCode::Deleted))
                }
                _ => Err(ResponseCode::MethodNotAllowed),
            },
        }
    }

    /// Writes the Register (and Update) payload: `</>;rt="oma.lwm2m"`, then for every object
    /// but Security (0) and OSCORE (21) its instances (`</3/0>`), or `</O>` when it has none;
    /// objects of a version other than 1.0 get `</O>;ver=X.Y` first.
    pub fn registration_links(&self, out: &mut [u8]) -> Result<usize, crate::Error> {
        let mut links = LinkWriter::new(out);
        links.root_lwm2m()?;
        for obj in self.objects.iter() {
            let def = obj.definition();
            let id = def.id();
            if id == 0 || id == 21 {
                continue;
            }
            let first = obj.next_instance(None);
            let (major, minor) = def.version();
            if (major, minor) != (1, 0) || first.is_none() {
                links.link(Path::new_object(id))?;
                if (major, minor) != (1, 0) {
                    links.attr_version(major, minor)?;
                }
            }
            let mut next = first;
            while let Some(instance) = next {
                links.link(Path::new_instance(id, instance))?;
                next = bounded_next(next, obj.next_instance(next));
            }
        }
        Ok(links.finish())
    }
}

/// `candidate` if it moves strictly forward from `previous` (guards against a handler that
/// repeats ids, which would loop forever).
fn bounded_next(previous: Option<u16>, candidate: Option<u16>) -> Option<u16> {
    match (previous, candidate) {
        (Some(p), Some(c)) if c > p => Some(c),
        (None, c) => c,
        _ => None,
    }
}

fn has_instance(obj: &dyn ObjectHandler, instance: u16) -> bool {
    let after = instance.checked_sub(1);
    obj.next_instance(after) == Some(instance)
}

fn has_resource_instance(obj: &dyn ObjectHandler, instance: u16, rid: u16, riid: u16) -> bool {
    obj.next_resource_instance(instance, rid, riid.checked_sub(1)) == Some(riid)
}

fn find_resource(
    obj: &dyn ObjectHandler,
    def: &ObjectDef,
    instance: u16,
    rid: u16,
) -> Outcome<&'static ResourceDef> {
    def.resource(rid)
        .filter(|_| obj.has_resource(instance, rid))
        .ok_or(ResponseCode::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Read

fn read(
    obj: &mut dyn ObjectHandler,
    def: &ObjectDef,
    path: Path,
    res: Option<&ResourceDef>,
    accept: Option<u16>,
    out: &mut [u8],
) -> Outcome<Response> {
    let instance = path.instance();
    if let (Some(instance), Some(r)) = (instance, res) {
        if !r.readable() {
            return Err(ResponseCode::MethodNotAllowed);
        }
        // One value: plain text, opaque or TLV.
        let single = path.resource_instance().or(if r.is_multiple() {
            None
        } else {
            Some(u16::MAX)
        });
        if let Some(riid) = single {
            let ri = path.resource_instance();
            let format = accept.unwrap_or(if r.kind() == ResourceType::Opaque {
                CONTENT_FORMAT_OPAQUE
            } else {
                CONTENT_FORMAT_TEXT
            });
            let read = obj.read(instance, r.id(), ri);
            let value = read.as_ref().map_err(|e| *e)?;
            let len = if is_tlv(format) {
                let mut w = lwm2m_tlv::Writer::new(out);
                let id = if ri.is_some() { riid } else { r.id() };
                put(&mut w, ri.is_some(), id, value)?;
                w.finish().map_err(overflow)?
            } else {
                write_plain(value, format, out)?
            };
            return Ok(content(format, len));
        }
    }
    // Several values: TLV only.
    let format = accept.unwrap_or(CONTENT_FORMAT_TLV);
    if !is_tlv(format) {
        return Err(ResponseCode::NotAcceptable);
    }
    let mut w = lwm2m_tlv::Writer::new(out);
    match (instance, res) {
        (Some(instance), Some(r)) => write_multiple(&mut w, obj, instance, r)?,
        (Some(instance), None) => write_instance(&mut w, obj, def, instance)?,
        _ => {
            let mut next = obj.next_instance(None);
            while let Some(instance) = next {
                w.begin_instance(instance).map_err(overflow)?;
                write_instance(&mut w, obj, def, instance)?;
                w.end().map_err(overflow)?;
                next = bounded_next(next, obj.next_instance(next));
            }
        }
    }
    Ok(content(format, w.finish().map_err(overflow)?))
}

const fn content(format: u16, len: usize) -> Response {
    Response {
        code: ResponseCode::Content,
        content_format: Some(format),
        len,
        created: None,
    }
}

fn write_instance(
    w: &mut lwm2m_tlv::Writer<'_>,
    obj: &dyn ObjectHandler,
    def: &ObjectDef,
    instance: u16,
) -> Outcome<()> {
    for r in def.resources() {
        if !r.readable() || !obj.has_resource(instance, r.id()) {
            continue;
        }
        if r.is_multiple() {
            write_multiple(w, obj, instance, r)?;
        } else {
            match obj.read(instance, r.id(), None) {
                Ok(ref v) => put(w, false, r.id(), v)?,
                // An optional resource without a value is left out of an instance read.
                Err(ResponseCode::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn write_multiple(
    w: &mut lwm2m_tlv::Writer<'_>,
    obj: &dyn ObjectHandler,
    instance: u16,
    r: &ResourceDef,
) -> Outcome<()> {
    w.begin_multiple(r.id()).map_err(overflow)?;
    let mut next = obj.next_resource_instance(instance, r.id(), None);
    while let Some(riid) = next {
        let read = obj.read(instance, r.id(), Some(riid));
        put(w, true, riid, read.as_ref().map_err(|e| *e)?)?;
        next = bounded_next(next, obj.next_resource_instance(instance, r.id(), next));
    }
    w.end().map_err(overflow)
}

fn write_plain(value: &Value<'_>, format: u16, out: &mut [u8]) -> Outcome<usize> {
    if format == CONTENT_FORMAT_OPAQUE {
        return match *value {
            Value::Opaque(bytes) => {
                let mut w = Writer::new(out);
                w.put(bytes).map_err(overflow)?;
                Ok(w.len())
            }
            _ => Err(ResponseCode::NotAcceptable),
        };
    }
    if format != CONTENT_FORMAT_TEXT {
        return Err(ResponseCode::NotAcceptable);
    }
    let mut w = Writer::new(out);
    match *value {
        Value::Integer(v) | Value::Time(v) => w.put_i64(v),
        Value::Unsigned(v) => w.put_u64(v),
        #[cfg(feature = "float-text")]
        Value::Float(v) => w.put_f64(v),
        #[cfg(not(feature = "float-text"))]
        Value::Float(_) => return Err(ResponseCode::NotAcceptable),
        Value::Boolean(v) => w.put(if v { b"1" } else { b"0" }),
        Value::String(s) | Value::CoreLnk(s) => w.put(s.as_bytes()),
        Value::ObjLnk(o, i) => w
            .put_u64(u64::from(o))
            .and_then(|()| w.put(b":"))
            .and_then(|()| w.put_u64(u64::from(i))),
        Value::Opaque(_) => return Err(ResponseCode::NotAcceptable),
    }
    .map_err(overflow)?;
    Ok(w.len())
}

// ---------------------------------------------------------------------------------------------
// Discover

fn discover(
    obj: &dyn ObjectHandler,
    def: &ObjectDef,
    path: Path,
    res: Option<&ResourceDef>,
    out: &mut [u8],
) -> Outcome<Response> {
    if path.resource_instance().is_some() {
        return Err(ResponseCode::MethodNotAllowed);
    }
    let mut links = LinkWriter::new(out);
    let object = def.id();
    match (path.instance(), res) {
        (Some(instance), Some(r)) => discover_resource(&mut links, obj, object, instance, r)?,
        (Some(instance), None) => discover_instance(&mut links, obj, def, instance)?,
        _ => {
            links.link(path).map_err(overflow)?;
            let (major, minor) = def.version();
            if (major, minor) != (1, 0) {
                links.attr_version(major, minor).map_err(overflow)?;
            }
            let mut next = obj.next_instance(None);
            while let Some(instance) = next {
                discover_instance(&mut links, obj, def, instance)?;
                next = bounded_next(next, obj.next_instance(next));
            }
        }
    }
    Ok(content(CONTENT_FORMAT_LINK, links.finish()))
}

fn discover_instance(
    links: &mut LinkWriter<'_>,
    obj: &dyn ObjectHandler,
    def: &ObjectDef,
    instance: u16,
) -> Outcome<()> {
    links
        .link(Path::new_instance(def.id(), instance))
        .map_err(overflow)?;
    for r in def.resources() {
        if obj.has_resource(instance, r.id()) {
            links
                .link(Path::new_resource(def.id(), instance, r.id()))
                .map_err(overflow)?;
            if r.is_multiple() {
                links
                    .attr_u64("dim", count_instances(obj, instance, r.id()))
                    .map_err(overflow)?;
            }
        }
    }
    Ok(())
}

fn discover_resource(
    links: &mut LinkWriter<'_>,
    obj: &dyn ObjectHandler,
    object: u16,
    instance: u16,
    r: &ResourceDef,
) -> Outcome<()> {
    links
        .link(Path::new_resource(object, instance, r.id()))
        .map_err(overflow)?;
    if r.is_multiple() {
        links
            .attr_u64("dim", count_instances(obj, instance, r.id()))
            .map_err(overflow)?;
        let mut next = obj.next_resource_instance(instance, r.id(), None);
        while let Some(riid) = next {
            links
                .link(Path::new_resource_instance(object, instance, r.id(), riid))
                .map_err(overflow)?;
            next = bounded_next(next, obj.next_resource_instance(instance, r.id(), next));
        }
    }
    Ok(())
}

fn count_instances(obj: &dyn ObjectHandler, instance: u16, rid: u16) -> u64 {
    let mut count = 0;
    let mut next = obj.next_resource_instance(instance, rid, None);
    while next.is_some() {
        count += 1;
        next = bounded_next(next, obj.next_resource_instance(instance, rid, next));
    }
    count
}

// ---------------------------------------------------------------------------------------------
// Write and Create

/// Decodes one value of resource `r` from a TLV record.
fn tlv_value<'p>(r: &ResourceDef, tlv: &Tlv<'p>) -> Outcome<Value<'p>> {
    // The value bytes are read here rather than through the decoder's typed accessors: their
    // detailed errors (built, then dropped for a 4.00) cost flash on a Cortex-M.
    if tlv.is_container() {
        return Err(ResponseCode::BadRequest);
    }
    let bytes = tlv.value();
    let value = match r.kind() {
        ResourceType::String => Value::String(utf8(bytes)?),
        ResourceType::Integer => Value::Integer(tlv_int(bytes, true)? as i64),
        ResourceType::UnsignedInteger => Value::Unsigned(tlv_int(bytes, false)?),
        ResourceType::Float => Value::Float(tlv_float(bytes)?),
        ResourceType::Boolean => match bytes {
            [0] => Value::Boolean(false),
            [1] => Value::Boolean(true),
            _ => return Err(ResponseCode::BadRequest),
        },
        ResourceType::Opaque => Value::Opaque(bytes),
        ResourceType::Time => Value::Time(tlv_int(bytes, true)? as i64),
        ResourceType::Objlnk => match *bytes {
            [a, b, c, d] => Value::ObjLnk(u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])),
            _ => return Err(ResponseCode::BadRequest),
        },
        ResourceType::Corelnk => Value::CoreLnk(utf8(bytes)?),
        ResourceType::None => return Err(ResponseCode::BadRequest),
    };
    Ok(value)
}

/// A TLV integer: 1, 2, 4 or 8 bytes, big-endian, sign-extended when `signed`.
fn tlv_int(bytes: &[u8], signed: bool) -> Outcome<u64> {
    if !matches!(bytes.len(), 1 | 2 | 4 | 8) {
        return Err(ResponseCode::BadRequest);
    }
    let negative = signed && bytes.first().is_some_and(|b| b & 0x80 != 0);
    let init = if negative { u64::MAX } else { 0 };
    Ok(bytes.iter().fold(init, |acc, &b| (acc << 8) | u64::from(b)))
}

/// A TLV Float value (4 or 8 bytes, big-endian), widened in integer code: the soft-float
/// `f32` to `f64` conversion costs a Cortex-M 138 bytes of compiler-builtins.
fn tlv_float(bytes: &[u8]) -> Outcome<f64> {
    if let Ok(b) = <[u8; 8]>::try_from(bytes) {
        return Ok(f64::from_be_bytes(b));
    }
    let b = <[u8; 4]>::try_from(bytes).map_err(bad)?;
    let bits = u32::from_be_bytes(b);
    let sign = u64::from(bits >> 31) << 63;
    let exp = (bits >> 23) & 0xFF;
    let mantissa = bits & 0x7F_FFFF;
    let wide = match exp {
        0 if mantissa == 0 => 0,
        // Subnormal f32: normalise (the value is mantissa * 2^-149).
        0 => normalised(mantissa, 874),
        // Infinity and NaN (payload kept).
        0xFF => 0x7FF0_0000_0000_0000 | u64::from(mantissa) << 29,
        _ => u64::from(exp + 896) << 52 | u64::from(mantissa) << 29,
    };
    Ok(f64::from_bits(sign | wide))
}

/// The exponent and fraction fields of an `f64` worth `m * 2^(bias - 1023)` (`m` not zero),
/// with 32-bit shifts only (a variable 64-bit shift is a compiler-builtins call on a Cortex-M).
fn normalised(m: u32, bias: u32) -> u64 {
    let zeros = m.leading_zeros();
    // The bits after the leading one, left-aligned.
    let fraction = (m << zeros) << 1;
    u64::from(31 - zeros + bias) << 52 | u64::from(fraction) << 20
}

/// `v` as an `f64`, exactly, in integer code: the soft-float conversion costs a Cortex-M 92
/// bytes of compiler-builtins.
fn int_to_f64(v: i32) -> f64 {
    let magnitude = v.unsigned_abs();
    if magnitude == 0 {
        return 0.0;
    }
    f64::from_bits(u64::from(v < 0) << 63 | normalised(magnitude, 1023))
}

/// `bytes` as a string if they are UTF-8 (4.00 if not).
fn utf8(bytes: &[u8]) -> Outcome<&str> {
    let mut chunks = bytes.utf8_chunks();
    match chunks.next() {
        None => Ok(""),
        Some(chunk) if chunk.invalid().is_empty() => Ok(chunk.valid()),
        Some(_) => Err(ResponseCode::BadRequest),
    }
}

/// Decodes one value of resource `r` from a plain-text or opaque payload.
fn plain_value<'p>(r: &ResourceDef, format: u16, payload: &'p [u8]) -> Outcome<Value<'p>> {
    if format == CONTENT_FORMAT_OPAQUE {
        return match r.kind() {
            ResourceType::Opaque => Ok(Value::Opaque(payload)),
            _ => Err(ResponseCode::UnsupportedContentFormat),
        };
    }
    if format != CONTENT_FORMAT_TEXT {
        return Err(ResponseCode::UnsupportedContentFormat);
    }
    let string = || utf8(payload);
    let value = match r.kind() {
        ResourceType::String => Value::String(string()?),
        ResourceType::Corelnk => Value::CoreLnk(string()?),
        ResourceType::Integer => Value::Integer(text::parse_i64(payload).ok_or(bad(()))?),
        ResourceType::Time => Value::Time(text::parse_i64(payload).ok_or(bad(()))?),
        ResourceType::UnsignedInteger => Value::Unsigned(text::parse_u64(payload).ok_or(bad(()))?),
        #[cfg(feature = "float-text")]
        ResourceType::Float => Value::Float(text::parse_f64(payload).ok_or(bad(()))?),
        #[cfg(not(feature = "float-text"))]
        ResourceType::Float => return Err(ResponseCode::UnsupportedContentFormat),
        ResourceType::Boolean => match payload {
            b"0" => Value::Boolean(false),
            b"1" => Value::Boolean(true),
            _ => return Err(ResponseCode::BadRequest),
        },
        ResourceType::Objlnk => {
            let at = payload
                .iter()
                .position(|&b| b == b':')
                .ok_or(ResponseCode::BadRequest)?;
            let object = text::parse_u64(payload.get(..at).unwrap_or(&[]));
            let instance = text::parse_u64(payload.get(at + 1..).unwrap_or(&[]));
            match (object, instance) {
                (Some(o), Some(i)) if o <= 65535 && i <= 65535 => Value::ObjLnk(o as u16, i as u16),
                _ => return Err(ResponseCode::BadRequest),
            }
        }
        ResourceType::Opaque => return Err(ResponseCode::UnsupportedContentFormat),
        ResourceType::None => return Err(ResponseCode::BadRequest),
    };
    Ok(value)
}

/// Checks a value against the resource's range (of the value, or of the length in bytes).
fn checked(r: &ResourceDef, value: &Value<'_>) -> Outcome<()> {
    let Some((min, max)) = r.bounds() else {
        return Ok(());
    };
    // One 64-bit comparison pair for every kind of value.
    let measure = match *value {
        Value::Integer(v) | Value::Time(v) => v,
        Value::Unsigned(v) => i64::try_from(v).map_err(bad)?,
        // total_cmp is integer code (no soft-float compares) and puts NaN outside any range.
        Value::Float(v) => {
            let inside =
                v.total_cmp(&int_to_f64(min)).is_ge() && v.total_cmp(&int_to_f64(max)).is_le();
            return if inside {
                Ok(())
            } else {
                Err(ResponseCode::BadRequest)
            };
        }
        Value::String(s) | Value::CoreLnk(s) => s.len() as i64,
        Value::Opaque(b) => b.len() as i64,
        Value::Boolean(_) | Value::ObjLnk(..) => return Ok(()),
    };
    if (i64::from(min)..=i64::from(max)).contains(&measure) {
        Ok(())
    } else {
        Err(ResponseCode::BadRequest)
    }
}

/// What a Write or Create does with each value once the payload has been checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Check,
    Apply,
}

fn write(
    obj: &mut dyn ObjectHandler,
    def: &ObjectDef,
    req: &Request<'_>,
    res: Option<&ResourceDef>,
) -> Outcome<()> {
    let path = req.path;
    let bootstrap = req.operation == Operation::BootstrapWrite;
    let format = req.content_format.unwrap_or(CONTENT_FORMAT_TEXT);
    let Some(instance) = path.instance() else {
        if bootstrap && is_tlv(format) {
            return bootstrap_object(obj, def, req.payload);
        }
        return Err(ResponseCode::MethodNotAllowed);
    };
    let replace = req.operation == Operation::WriteReplace;
    match res {
        Some(r) => {
            let allowed = if bootstrap {
                r.kind() != ResourceType::None
            } else {
                replace && r.writable()
            };
            if !allowed {
                return Err(ResponseCode::MethodNotAllowed);
            }
            let riid = path.resource_instance();
            if is_tlv(format) {
                // Exactly one record, of the target's kind and id.
                let mut records = lwm2m_tlv::decode(req.payload);
                let first = records.next();
                let tlv = record(first.as_ref().ok_or(ResponseCode::BadRequest)?)?;
                let expected = match riid {
                    Some(ri) => (Kind::ResourceInstance, ri),
                    None if r.is_multiple() => (Kind::MultipleResource, r.id()),
                    None => (Kind::Resource, r.id()),
                };
                if records.next().is_some() || (tlv.kind(), tlv.id()) != expected {
                    return Err(ResponseCode::BadRequest);
                }
                apply_resource(obj, Pass::Check, instance, r, tlv)?;
                ensure_instance(obj, bootstrap, instance)?;
                if riid.is_none() && r.is_multiple() {
                    obj.clear(instance, r.id())?;
                }
                apply_resource(obj, Pass::Apply, instance, r, tlv)
            } else {
                if r.is_multiple() && riid.is_none() {
                    return Err(ResponseCode::UnsupportedContentFormat);
                }
                let decoded = plain_value(r, format, req.payload);
                let value = decoded.as_ref().map_err(|e| *e)?;
                checked(r, value)?;
                ensure_instance(obj, bootstrap, instance)?;
                obj.write(instance, r.id(), riid, *value)
            }
        }
        None => {
            if !is_tlv(format) {
                return Err(ResponseCode::UnsupportedContentFormat);
            }
            let records = instance_records(req.payload, instance)?;
            for_each_resource(obj, def, Pass::Check, instance, records, bootstrap)?;
            ensure_instance(obj, bootstrap, instance)?;
            if replace {
                // Replace: writable resources absent from the payload lose their values.
                for r in def.resources() {
                    if r.writable() && obj.has_resource(instance, r.id()) {
                        obj.clear(instance, r.id())?;
                    }
                }
            }
            for_each_resource(obj, def, Pass::Apply, instance, records, bootstrap)
        }
    }
}

/// Bootstrap-Write creates the instance it names when it does not exist yet.
fn ensure_instance(obj: &mut dyn ObjectHandler, bootstrap: bool, instance: u16) -> Outcome<()> {
    if bootstrap && !has_instance(obj, instance) {
        obj.create(instance)?;
    }
    Ok(())
}

/// Bootstrap-Write of `/O`: object instance records, each created when missing.
fn bootstrap_object(obj: &mut dyn ObjectHandler, def: &ObjectDef, payload: &[u8]) -> Outcome<()> {
    for pass in [Pass::Check, Pass::Apply] {
        for item in lwm2m_tlv::decode(payload) {
            let tlv = record(&item)?;
            if tlv.kind() != Kind::ObjectInstance || tlv.id() > crate::path::MAX_ID {
                return Err(ResponseCode::BadRequest);
            }
            if pass == Pass::Apply {
                ensure_instance(obj, true, tlv.id())?;
            }
            for_each_resource(obj, def, pass, tlv.id(), tlv.value(), true)?;
        }
    }
    Ok(())
}

/// The resource records of a Write or Create payload for `instance`: either bare resource
/// records or one object instance record with that id.
///
/// The records are returned as their bytes: a `Records` moved out of a `Result` costs a
/// `memcpy` call on a Cortex-M. Records nested wrongly inside the instance are refused by
/// [`for_each_resource`] (4.00) just as the decoder's nesting check would.
fn instance_records(payload: &[u8], instance: u16) -> Outcome<&[u8]> {
    let mut top = lwm2m_tlv::decode(payload);
    let Some(item) = top.next() else {
        return Ok(payload);
    };
    let tlv = record(&item)?;
    if tlv.kind() != Kind::ObjectInstance {
        return Ok(payload);
    }
    if tlv.id() != instance || top.next().is_some() {
        return Err(ResponseCode::BadRequest);
    }
    Ok(tlv.value())
}

/// Checks or writes the resource records of `instance`. `any` (Create, Bootstrap-Write) lets
/// every value-carrying resource be set; a Write sets only writable ones.
fn for_each_resource(
    obj: &mut dyn ObjectHandler,
    def: &ObjectDef,
    pass: Pass,
    instance: u16,
    records: &[u8],
    any: bool,
) -> Outcome<()> {
    for item in lwm2m_tlv::decode(records) {
        let tlv = record(&item)?;
        if !matches!(tlv.kind(), Kind::Resource | Kind::MultipleResource) {
            return Err(ResponseCode::BadRequest);
        }
        let r = find_resource(obj, def, instance, tlv.id())?;
        let allowed = if any {
            r.kind() != ResourceType::None
        } else {
            r.writable()
        };
        if !allowed {
            return Err(ResponseCode::MethodNotAllowed);
        }
        apply_resource(obj, pass, instance, r, tlv)?;
    }
    Ok(())
}

/// Checks or writes one resource record (a value or a multiple resource).
fn apply_resource(
    obj: &mut dyn ObjectHandler,
    pass: Pass,
    instance: u16,
    r: &ResourceDef,
    tlv: &Tlv<'_>,
) -> Outcome<()> {
    match tlv.kind() {
        Kind::MultipleResource if r.is_multiple() => {
            for item in tlv.children() {
                let child = record(&item)?;
                apply_value(obj, pass, instance, r, Some(child.id()), child)?;
            }
            Ok(())
        }
        Kind::Resource if !r.is_multiple() => apply_value(obj, pass, instance, r, None, tlv),
        Kind::ResourceInstance if r.is_multiple() => {
            apply_value(obj, pass, instance, r, Some(tlv.id()), tlv)
        }
        _ => Err(ResponseCode::BadRequest),
    }
}

/// Checks or writes one value record.
fn apply_value(
    obj: &mut dyn ObjectHandler,
    pass: Pass,
    instance: u16,
    r: &ResourceDef,
    resource_instance: Option<u16>,
    tlv: &Tlv<'_>,
) -> Outcome<()> {
    // Borrowed out of its `Result`, then copied whole: a moved-out payload costs a `memcpy`.
    let decoded = tlv_value(r, tlv);
    let value = decoded.as_ref().map_err(|e| *e)?;
    checked(r, value)?;
    if pass == Pass::Apply {
        obj.write(instance, r.id(), resource_instance, *value)?;
    }
    Ok(())
}

fn create(obj: &mut dyn ObjectHandler, def: &ObjectDef, req: &Request<'_>) -> Outcome<Response> {
    let path = req.path;
    if path.depth() > 2 {
        return Err(ResponseCode::MethodNotAllowed);
    }
    let format = req.content_format.unwrap_or(CONTENT_FORMAT_TLV);
    if !is_tlv(format) {
        return Err(ResponseCode::UnsupportedContentFormat);
    }
    // The new id: from the path, from an object instance record, or the lowest free one.
    let first = lwm2m_tlv::decode(req.payload).next();
    let named = match &first {
        Some(item) => {
            let tlv = record(item)?;
            (tlv.kind() == Kind::ObjectInstance).then(|| tlv.id())
        }
        None => None,
    };
    let instance = match path.instance().or(named) {
        Some(i) => i,
        None => lowest_free_instance(obj).ok_or(ResponseCode::InternalServerError)?,
    };
    if instance > crate::path::MAX_ID || has_instance(obj, instance) {
        return Err(ResponseCode::BadRequest);
    }
    if !def.is_multiple() && obj.next_instance(None).is_some() {
        return Err(ResponseCode::BadRequest);
    }
    let records = instance_records(req.payload, instance)?;
    for_each_resource(obj, def, Pass::Check, instance, records, true)?;
    obj.create(instance)?;
    for_each_resource(obj, def, Pass::Apply, instance, records, true)?;
    Ok(Response {
        code: ResponseCode::Created,
        content_format: None,
        len: 0,
        created: Some(instance),
    })
}

fn lowest_free_instance(obj: &dyn ObjectHandler) -> Option<u16> {
    let mut candidate: u16 = 0;
    let mut next = obj.next_instance(None);
    while let Some(id) = next {
        if id != candidate {
            break;
        }
        candidate = candidate.checked_add(1)?;
        next = bounded_next(next, obj.next_instance(next));
    }
    (candidate <= crate::path::MAX_ID).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_widening_matches_the_hardware_conversion() {
        let samples = [
            0.0f32,
            -0.0,
            1.0,
            -1.5,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            -f32::from_bits(0x0040_0001),
            f32::MAX,
            f32::INFINITY,
            f32::NEG_INFINITY,
            3.402_823e38,
            1e-40,
        ];
        for f in samples {
            let got = tlv_float(&f.to_be_bytes()).unwrap();
            assert_eq!(got.to_bits(), f64::from(f).to_bits(), "{f:e}");
        }
        assert!(tlv_float(&f32::NAN.to_be_bytes()).unwrap().is_nan());
        assert_eq!(tlv_float(&(-2.25f64).to_be_bytes()), Ok(-2.25));
        assert_eq!(tlv_float(&[0; 3]), Err(ResponseCode::BadRequest));
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..10_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let f = f32::from_bits(seed as u32);
            let got = tlv_float(&f.to_be_bytes()).unwrap();
            if f.is_nan() {
                assert!(got.is_nan());
            } else {
                assert_eq!(got.to_bits(), f64::from(f).to_bits(), "{f:e}");
            }
        }
    }

    #[test]
    fn utf8_agrees_with_core() {
        let samples: [&[u8]; 9] = [
            b"",
            b"coap://[::1]/fw",
            "\u{e9}t\u{e9} \u{1f600}".as_bytes(),
            b"\xff",
            b"ok\xc3",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"a\x80b",
            b"\xe2\x82",
        ];
        for bytes in samples {
            assert_eq!(
                utf8(bytes).ok(),
                core::str::from_utf8(bytes).ok(),
                "{bytes:?}"
            );
        }
        let mut seed = 0x9e37_79b9u32;
        for _ in 0..20_000 {
            let mut bytes = [0u8; 6];
            for b in bytes.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                *b = [b'a', 0x80, 0xbf, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xff][(seed % 9) as usize]
                    .wrapping_add((seed >> 8) as u8 % 2);
            }
            assert_eq!(
                utf8(&bytes).ok(),
                core::str::from_utf8(&bytes).ok(),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn tlv_values_agree_with_the_decoder() {
        let def = |kind| ResourceDef::new(1, "", crate::Operations::ReadWrite, kind);
        let mut seed = 0x1234_5678u32;
        for _ in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let len = (seed % 10) as usize;
            let bytes = [seed as u8, (seed >> 8) as u8, 1, 0, 0x80, 7, 0xff, 2, 3];
            let value = bytes.get(..len.min(bytes.len())).unwrap();
            let mut buf = [0u8; 16];
            let mut w = lwm2m_tlv::Writer::new(&mut buf);
            w.record(Kind::Resource, 1, value).unwrap();
            let n = w.finish().unwrap();
            let tlv = lwm2m_tlv::decode(&buf[..n]).next().unwrap().unwrap();
            let get = |kind| tlv_value(&def(kind), &tlv).ok();
            assert_eq!(
                get(ResourceType::Integer),
                tlv.as_i64().ok().map(Value::Integer)
            );
            assert_eq!(get(ResourceType::Time), tlv.as_time().ok().map(Value::Time));
            assert_eq!(
                get(ResourceType::UnsignedInteger),
                tlv.as_u64().ok().map(Value::Unsigned)
            );
            assert_eq!(
                get(ResourceType::Boolean),
                tlv.as_bool().ok().map(Value::Boolean)
            );
            assert_eq!(
                get(ResourceType::Objlnk),
                tlv.as_objlnk()
                    .ok()
                    .map(|l| Value::ObjLnk(l.object_id, l.instance_id))
            );
        }
    }

    #[test]
    fn integer_to_float_is_exact() {
        for v in [
            0,
            1,
            -1,
            255,
            65534,
            65535,
            -128,
            i32::MIN,
            i32::MAX,
            1 << 30,
        ] {
            assert_eq!(int_to_f64(v).to_bits(), f64::from(v).to_bits(), "{v}");
        }
    }
}
