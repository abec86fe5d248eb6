//! The object-implementation side of the dispatcher: response codes, values, the
//! [`ObjectHandler`] hooks and the request/response types.

use crate::link::CONTENT_FORMAT_LINK;
use crate::model::ObjectDef;
use crate::path::Path;
use crate::text::Writer;

/// CoAP Content-Format of `text/plain;charset=utf-8`.
pub const CONTENT_FORMAT_TEXT: u16 = 0;
/// CoAP Content-Format of `application/octet-stream`.
pub const CONTENT_FORMAT_OPAQUE: u16 = 42;
/// CoAP Content-Format of LwM2M TLV.
pub const CONTENT_FORMAT_TLV: u16 = lwm2m_tlv::CONTENT_FORMAT_TLV;
/// The pre-registration Content-Format number of LwM2M TLV, accepted like 11542.
pub const CONTENT_FORMAT_TLV_LEGACY: u16 = lwm2m_tlv::CONTENT_FORMAT_TLV_LEGACY;

/// A CoAP response code as the dispatcher and the object hooks use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ResponseCode {
    /// 2.01 Created.
    Created = 0x41,
    /// 2.02 Deleted.
    Deleted = 0x42,
    /// 2.04 Changed.
    Changed = 0x44,
    /// 2.05 Content.
    Content = 0x45,
    /// 4.00 Bad Request: a malformed payload, a wrongly typed or out-of-range value.
    BadRequest = 0x80,
    /// 4.01 Unauthorized.
    Unauthorized = 0x81,
    /// 4.04 Not Found: no such object, instance, resource or resource instance.
    NotFound = 0x84,
    /// 4.05 Method Not Allowed: the definition (or the object's state) forbids the operation.
    MethodNotAllowed = 0x85,
    /// 4.06 Not Acceptable: the Accept option names a format the target cannot be read in.
    NotAcceptable = 0x86,
    /// 4.08 Request Entity Incomplete (block-wise transfers).
    RequestEntityIncomplete = 0x88,
    /// 4.13 Request Entity Too Large.
    RequestEntityTooLarge = 0x8D,
    /// 4.15 Unsupported Content-Format.
    UnsupportedContentFormat = 0x8F,
    /// 5.00 Internal Server Error (also: the response does not fit the output buffer).
    InternalServerError = 0xA0,
    /// 5.03 Service Unavailable.
    ServiceUnavailable = 0xA3,
}

impl ResponseCode {
    /// The code byte of the CoAP header (class in the top 3 bits, detail in the low 5).
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The class: 2 success, 4 client error, 5 server error.
    pub const fn class(self) -> u8 {
        (self as u8) >> 5
    }

    /// The detail (the `04` of 4.04).
    pub const fn detail(self) -> u8 {
        (self as u8) & 0x1F
    }

    /// Whether the code is a success (2.xx).
    pub const fn is_success(self) -> bool {
        self.class() == 2
    }
}

/// A resource value, read from or written to an object implementation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Signed integer.
    Integer(i64),
    /// Unsigned integer.
    Unsigned(u64),
    /// Float.
    Float(f64),
    /// Boolean.
    Boolean(bool),
    /// UTF-8 string, as its bytes: a Write hands over checked UTF-8 (4.00 otherwise); a
    /// device rarely needs a `&str`, and checking a slice into one costs flash.
    String(&'a [u8]),
    /// Opaque bytes.
    Opaque(&'a [u8]),
    /// Seconds since the Unix epoch.
    Time(i64),
    /// Object link: object ID, instance ID.
    ObjLnk(u16, u16),
    /// CoRE link (RFC 6690): UTF-8 text, as its bytes (checked on Write like a string).
    CoreLnk(&'a [u8]),
}

/// One object implementation, registered with a [`Dispatcher`](crate::Dispatcher).
///
/// The dispatcher has already checked the path against the definition (the object, instance,
/// resource exist; the operation is allowed; the value has the resource's type and range)
/// before it calls a hook. Hooks answer with a [`ResponseCode`] error when the object's state
/// forbids the operation (e.g. [`ResponseCode::MethodNotAllowed`] for Update outside the
/// Downloaded state). Only [`definition`](Self::definition),
/// [`next_instance`](Self::next_instance) and one read hook must be written: [`read`](Self::read),
/// or [`read_to`](Self::read_to) for a dispatcher on a
/// [`with_read_to`](crate::Profile::with_read_to) profile (which never calls `read`). The
/// other hooks default to "not allowed" or "nothing to do"; either read hook left unwritten
/// answers 5.00, which the first test of a read shows.
pub trait ObjectHandler {
    /// The definition this object implements.
    fn definition(&self) -> &ObjectDef;

    /// The instances, in increasing id order: the first id greater than `after` (the first of
    /// all when `after` is `None`), or `None` when there is no further instance.
    fn next_instance(&self, after: Option<u16>) -> Option<u16>;

    /// Whether `instance` implements the (defined) resource; optional resources may be left
    /// out. The default is every resource of the definition. A dispatcher whose profile is
    /// [`with_every_resource`](crate::Profile::with_every_resource) never calls it.
    fn has_resource(&self, instance: u16, resource: u16) -> bool {
        let _ = (instance, resource);
        true
    }

    /// For a multiple resource: the first resource instance id greater than `after`.
    /// The default has none.
    fn next_resource_instance(
        &self,
        instance: u16,
        resource: u16,
        after: Option<u16>,
    ) -> Option<u16> {
        let _ = (instance, resource, after);
        None
    }

    /// Reads a resource (`resource_instance` is `None`) or a resource instance: the read hook
    /// of every dispatcher but one on a [`with_read_to`](crate::Profile::with_read_to)
    /// profile. The default answers 5.00 (a handler written on [`read_to`](Self::read_to)).
    fn read(
        &self,
        instance: u16,
        resource: u16,
        resource_instance: Option<u16>,
    ) -> Result<Value<'_>, ResponseCode> {
        let _ = (instance, resource, resource_instance);
        Err(ResponseCode::InternalServerError)
    }

    /// Reads a resource (`resource_instance` is `None`) or a resource instance straight into
    /// the response: one [`ValueOut`] call, e.g. `out.integer(self.battery)`. A dispatcher
    /// on a profile made [`with_read_to`](crate::Profile::with_read_to) reads every value
    /// through this hook and never calls [`read`](Self::read); the others never call it.
    /// Written this way, no [`Value`] is moved through memory at each read and the dispatcher
    /// has no match on it: smaller on a device. `out.value(self.read(i, r, ri)?)` writes what
    /// `read` returns.
    ///
    /// The default answers 5.00 (a handler left on [`read`](Self::read) under such a profile).
    /// An error answers the request as [`read`](Self::read)'s would (a
    /// [`ResponseCode::NotFound`] leaves an optional resource out of an instance read); what
    /// was written before it is dropped.
    fn read_to(
        &self,
        instance: u16,
        resource: u16,
        resource_instance: Option<u16>,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ResponseCode> {
        let _ = (instance, resource, resource_instance, out);
        Err(ResponseCode::InternalServerError)
    }

    /// Writes a resource (`resource_instance` is `None`) or one instance of a multiple
    /// resource.
    fn write(
        &mut self,
        instance: u16,
        resource: u16,
        resource_instance: Option<u16>,
        value: Value<'_>,
    ) -> Result<(), ResponseCode> {
        let _ = (instance, resource, resource_instance, value);
        Err(ResponseCode::MethodNotAllowed)
    }

    /// Removes every instance of a multiple resource (or resets a single one) before a Write
    /// that replaces it. The default does nothing.
    fn clear(&mut self, instance: u16, resource: u16) -> Result<(), ResponseCode> {
        let _ = (instance, resource);
        Ok(())
    }

    /// Executes a resource with the Execute arguments (raw payload, possibly empty).
    fn execute(
        &mut self,
        instance: u16,
        resource: u16,
        arguments: &[u8],
    ) -> Result<(), ResponseCode> {
        let _ = (instance, resource, arguments);
        Err(ResponseCode::MethodNotAllowed)
    }

    /// Creates an empty instance; its resources follow as [`write`](Self::write) calls.
    fn create(&mut self, instance: u16) -> Result<(), ResponseCode> {
        let _ = instance;
        Err(ResponseCode::MethodNotAllowed)
    }

    /// Deletes an instance.
    fn delete(&mut self, instance: u16) -> Result<(), ResponseCode> {
        let _ = instance;
        Err(ResponseCode::MethodNotAllowed)
    }
}

/// Where [`ObjectHandler::read_to`] writes the value of a resource or resource instance: the
/// dispatcher's output, in the format the request asked for (a TLV record's value, plain text
/// or octet-stream). Each method writes one value and answers what the hook returns: 4.06
/// ([`ResponseCode::NotAcceptable`]) when the format cannot carry it (an opaque value as
/// text, anything but an opaque value as octet-stream, a float as text without the
/// `float-text` feature), 5.00 when the output is full. Write one value per read (a second
/// one would be appended to the first). The methods write any type, whatever the
/// dispatcher's [`Profile`](crate::Profile) (`read`'s values of a type outside it answer
/// 5.00).
///
/// A dispatcher calls [`read_to`](ObjectHandler::read_to) on a profile made
/// [`with_read_to`](crate::Profile::with_read_to):
///
/// ```
/// use lwm2m_objects::*;
///
/// struct Device { battery: u8 }
/// impl ObjectHandler for Device {
///     fn definition(&self) -> &ObjectDef { &DEVICE }
///     fn next_instance(&self, after: Option<u16>) -> Option<u16> {
///         if after.is_none() { Some(0) } else { None }
///     }
///     fn has_resource(&self, _i: u16, resource: u16) -> bool {
///         matches!(resource, 0 | 9 | 16)
///     }
///     fn read_to(
///         &self,
///         _i: u16,
///         resource: u16,
///         _ri: Option<u16>,
///         out: &mut ValueOut<'_>,
///     ) -> Result<(), ResponseCode> {
///         match resource {
///             0 => out.string(b"ACME"),
///             9 => out.integer(i64::from(self.battery)),
///             16 => out.string(b"U"),
///             _ => Err(ResponseCode::NotFound),
///         }
///     }
/// }
///
/// let mut device = Device { battery: 87 };
/// let mut objects: [&mut dyn ObjectHandler; 1] = [&mut device];
/// const PROFILE: u32 = Profile::of(&[&DEVICE]).with_read_to().bits();
/// let mut dispatcher = Dispatcher::new(&mut objects).with_profile::<PROFILE>();
/// let mut out = [0u8; 64];
/// let battery = Request::new(Operation::Read, Path::new_resource(3, 0, 9));
/// let resp = dispatcher.handle(&battery, &mut out);
/// assert_eq!((resp.code, &out[..resp.len]), (ResponseCode::Content, &b"87"[..]));
/// let resp = dispatcher.handle(&battery.with_accept(Some(CONTENT_FORMAT_TLV)), &mut out);
/// assert_eq!(&out[..resp.len], &[0xC1, 9, 87]);
/// // The instance as TLV: Manufacturer, Battery Level, Binding (in id order).
/// let resp = dispatcher.handle(&Request::new(Operation::Read, Path::new_instance(3, 0)), &mut out);
/// assert_eq!(&out[..resp.len], b"\xC4\x00ACME\xC1\x09\x57\xC1\x10U");
/// ```
pub struct ValueOut<'a> {
    pub(crate) w: Writer<'a>,
    /// What the format carries: the `VALUE_*` bits.
    pub(crate) form: u8,
}

/// [`ValueOut::form`] bits: numbers as the big-endian bytes of a TLV value (text without it).
pub(crate) const VALUE_BARE: u8 = 1;
/// Opaque values.
pub(crate) const VALUE_OPAQUE: u8 = 2;
/// Every value but opaque ones.
pub(crate) const VALUE_OTHER: u8 = 4;
/// TLV: every value, numbers as bytes.
pub(crate) const VALUE_TLV: u8 = VALUE_BARE | VALUE_OPAQUE | VALUE_OTHER;

impl ValueOut<'_> {
    /// A signed Integer.
    pub fn integer(&mut self, value: i64) -> Result<(), ResponseCode> {
        self.number(value as u64, lwm2m_tlv::int_len(value), true)
    }

    /// An Unsigned Integer.
    pub fn unsigned(&mut self, value: u64) -> Result<(), ResponseCode> {
        self.number(value, lwm2m_tlv::uint_len(value), false)
    }

    /// A Boolean.
    pub fn boolean(&mut self, value: bool) -> Result<(), ResponseCode> {
        self.number(u64::from(value), 1, false)
    }

    /// A Time: seconds since the Unix epoch.
    pub fn time(&mut self, value: i64) -> Result<(), ResponseCode> {
        self.integer(value)
    }

    /// An Objlnk: object id, instance id (`object:instance` as text).
    pub fn objlnk(&mut self, object: u16, instance: u16) -> Result<(), ResponseCode> {
        if self.form == VALUE_OTHER {
            let _ = self.w.put_u64(u64::from(object));
            let _ = self.w.put(b":");
            return Ok(self.w.put_u64(u64::from(instance))?);
        }
        self.number(u64::from(object) << 16 | u64::from(instance), 4, false)
    }

    /// A Float (8 bytes in TLV; as text with the `float-text` feature, 4.06 without it).
    pub fn float(&mut self, value: f64) -> Result<(), ResponseCode> {
        if self.form == VALUE_OTHER {
            #[cfg(feature = "float-text")]
            return Ok(self.w.put_f64(value)?);
            #[cfg(not(feature = "float-text"))]
            return Err(ResponseCode::NotAcceptable);
        }
        self.number(value.to_bits(), 8, false)
    }

    /// A String: UTF-8 text, as its bytes (not checked).
    pub fn string(&mut self, value: &[u8]) -> Result<(), ResponseCode> {
        self.bytes(value, VALUE_OTHER)
    }

    /// A Corelnk: CoRE Link Format text, as its bytes (not checked).
    pub fn corelnk(&mut self, value: &[u8]) -> Result<(), ResponseCode> {
        self.bytes(value, VALUE_OTHER)
    }

    /// An Opaque value.
    pub fn opaque(&mut self, value: &[u8]) -> Result<(), ResponseCode> {
        self.bytes(value, VALUE_OPAQUE)
    }

    /// Any value, e.g. the one [`ObjectHandler::read`] returns.
    pub fn value(&mut self, value: Value<'_>) -> Result<(), ResponseCode> {
        match value {
            Value::Integer(v) | Value::Time(v) => self.integer(v),
            Value::Unsigned(v) => self.unsigned(v),
            Value::Boolean(v) => self.boolean(v),
            Value::ObjLnk(o, i) => self.objlnk(o, i),
            Value::Float(v) => self.float(v),
            Value::String(v) | Value::CoreLnk(v) => self.string(v),
            Value::Opaque(v) => self.opaque(v),
        }
    }

    // Inlined into `string`, `corelnk` and `opaque`: 40 bytes smaller on the probe, the
    // client unchanged.
    #[inline(always)]
    fn bytes(&mut self, value: &[u8], needs: u8) -> Result<(), ResponseCode> {
        if self.form & needs == 0 {
            return Err(ResponseCode::NotAcceptable);
        }
        Ok(self.w.put(value)?)
    }

    /// One number out: its last `len` big-endian bytes (a TLV value), or decimal text
    /// (`signed`: the 64 bits are an `i64`). 4.06 where the format carries no number.
    fn number(&mut self, mut number: u64, len: usize, signed: bool) -> Result<(), ResponseCode> {
        if self.form & VALUE_OTHER == 0 {
            return Err(ResponseCode::NotAcceptable);
        }
        let w = &mut self.w;
        if self.form & VALUE_BARE != 0 {
            let bytes = number.to_be_bytes();
            Ok(w.put(bytes.get(8usize.saturating_sub(len)..).unwrap_or(&[]))?)
        } else {
            if signed && (number as i64) < 0 {
                // A full writer stays full: the digits' result is the sign's too.
                let _ = w.put(b"-");
                number = number.wrapping_neg();
            }
            Ok(w.put_u64(number)?)
        }
    }
}

/// The LwM2M operation of a [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Read (CoAP GET).
    Read,
    /// Discover (CoAP GET with Accept: application/link-format).
    Discover,
    /// Write, replace (CoAP PUT).
    WriteReplace,
    /// Write, partial update (CoAP POST on an object instance).
    WriteUpdate,
    /// Execute (CoAP POST on a resource).
    Execute,
    /// Create (CoAP POST on an object).
    Create,
    /// Delete (CoAP DELETE).
    Delete,
    /// Write-Attributes (CoAP PUT with a Uri-Query such as `pmin=10&pmax=60`, see
    /// [`Request::with_query`]): sets the notification attributes of an object, instance or
    /// resource (the `attributes` feature; without it 4.05).
    WriteAttributes,
    /// Bootstrap-Write (CoAP PUT from the Bootstrap-Server): writes any value-carrying
    /// resource whatever its operations (e.g. the Security object's), creating the instance
    /// when it does not exist; `/O` takes object instance records (the `bootstrap` feature,
    /// on by default; without it 4.05).
    BootstrapWrite,
}

impl Operation {
    /// The operation a CoAP request without Uri-Query stands for: `method` is the CoAP code
    /// (1 GET, 2 POST, 3 PUT, 4 DELETE), `accept` the Accept option. `None` for other methods.
    pub fn from_coap(method: u8, path: &Path, accept: Option<u16>) -> Option<Operation> {
        Operation::from_coap_query(method, path, accept, false)
    }

    /// As [`from_coap`](Self::from_coap); a PUT that carries a Uri-Query (`has_query`) is
    /// Write-Attributes.
    pub fn from_coap_query(
        method: u8,
        path: &Path,
        accept: Option<u16>,
        has_query: bool,
    ) -> Option<Operation> {
        Some(match method {
            1 if accept == Some(CONTENT_FORMAT_LINK) => Operation::Discover,
            1 => Operation::Read,
            2 => match path.depth() {
                0 | 1 => Operation::Create,
                2 => Operation::WriteUpdate,
                _ => Operation::Execute,
            },
            3 if has_query => Operation::WriteAttributes,
            3 => Operation::WriteReplace,
            4 => Operation::Delete,
            _ => return None,
        })
    }
}

/// One request to the [`Dispatcher`](crate::Dispatcher).
///
/// ```
/// use lwm2m_objects::{CONTENT_FORMAT_TEXT, Operation, Path, Request};
/// let req = Request::new(Operation::WriteReplace, Path::new_resource(1, 0, 1))
///     .with_payload(Some(CONTENT_FORMAT_TEXT), b"300");
/// assert_eq!(req.payload(), b"300");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request<'p> {
    pub(crate) operation: Operation,
    pub(crate) path: Path,
    pub(crate) content_format: Option<u16>,
    pub(crate) accept: Option<u16>,
    pub(crate) payload: &'p [u8],
    pub(crate) query: &'p [u8],
}

impl<'p> Request<'p> {
    /// A request without payload or Accept.
    pub const fn new(operation: Operation, path: Path) -> Self {
        Request {
            operation,
            path,
            content_format: None,
            accept: None,
            payload: &[],
            query: &[],
        }
    }

    /// Sets the payload and its Content-Format option.
    pub const fn with_payload(mut self, content_format: Option<u16>, payload: &'p [u8]) -> Self {
        self.content_format = content_format;
        self.payload = payload;
        self
    }

    /// Sets the Uri-Query of a Write-Attributes: the query options joined by `&`
    /// (`pmin=10&pmax=60&gt=25.5`; a name without value removes that attribute).
    pub const fn with_query(mut self, query: &'p [u8]) -> Self {
        self.query = query;
        self
    }

    /// The Uri-Query (Write-Attributes).
    pub const fn query(&self) -> &'p [u8] {
        self.query
    }

    /// Sets the Accept option.
    pub const fn with_accept(mut self, accept: Option<u16>) -> Self {
        self.accept = accept;
        self
    }

    /// The operation.
    pub const fn operation(&self) -> Operation {
        self.operation
    }

    /// The target path.
    pub const fn path(&self) -> Path {
        self.path
    }

    /// The Content-Format of the payload.
    pub const fn content_format(&self) -> Option<u16> {
        self.content_format
    }

    /// The Accept option.
    pub const fn accept(&self) -> Option<u16> {
        self.accept
    }

    /// The payload.
    pub const fn payload(&self) -> &'p [u8] {
        self.payload
    }
}

/// The dispatcher's answer: the response code, and for 2.05 the body's format and length in
/// the output buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Response {
    /// The CoAP response code.
    pub code: ResponseCode,
    /// The Content-Format of the body (for 2.05).
    pub content_format: Option<u16>,
    /// The body's length at the start of the output buffer.
    pub len: usize,
    /// For 2.01 Created: the new instance's id (its Location-Path is `/O/id`).
    pub created: Option<u16>,
}

impl Response {
    pub(crate) const fn code(code: ResponseCode) -> Self {
        Response {
            code,
            content_format: None,
            len: 0,
            created: None,
        }
    }
}
