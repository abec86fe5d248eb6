//! The object-implementation side of the dispatcher: response codes, values, the
//! [`ObjectHandler`] hooks and the request/response types.

use crate::link::CONTENT_FORMAT_LINK;
use crate::model::ObjectDef;
use crate::path::Path;

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
/// [`next_instance`](Self::next_instance) and [`read`](Self::read) must be written; the other
/// hooks default to "not allowed" or "nothing to do".
pub trait ObjectHandler {
    /// The definition this object implements.
    fn definition(&self) -> &ObjectDef;

    /// The instances, in increasing id order: the first id greater than `after` (the first of
    /// all when `after` is `None`), or `None` when there is no further instance.
    fn next_instance(&self, after: Option<u16>) -> Option<u16>;

    /// Whether `instance` implements the (defined) resource; optional resources may be left
    /// out. The default is every resource of the definition.
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

    /// Reads a resource (`resource_instance` is `None`) or a resource instance.
    fn read(
        &self,
        instance: u16,
        resource: u16,
        resource_instance: Option<u16>,
    ) -> Result<Value<'_>, ResponseCode>;

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
