//! The operation dispatcher: checks an LwM2M operation against the object definitions and
//! calls the registered object implementations.
//!
//! Written for size on a device: one non-generic core over `&mut dyn ObjectHandler`; one tree
//! walker for Read and Discover (the operation is data) and one TLV record walker for every
//! Write, Create and Bootstrap-Write payload; one writer for TLV, text and links (no
//! `core::fmt`), one value decoder and one value writer for TLV and plain text; few arguments
//! per call (past the fourth they cost stack traffic at every call site on a Cortex-M);
//! checked slicing only (no panicking paths), and every Write checked whole before the first
//! value is written.

#[cfg(feature = "attributes")]
use crate::attr::AttributeSlot;
use crate::handler::{
    CONTENT_FORMAT_OPAQUE, CONTENT_FORMAT_TEXT, CONTENT_FORMAT_TLV, CONTENT_FORMAT_TLV_LEGACY,
    ObjectHandler, Operation, Request, Response, ResponseCode, VALUE_BARE, VALUE_OPAQUE,
    VALUE_OTHER, VALUE_TLV, Value, ValueOut,
};
use crate::link::CONTENT_FORMAT_LINK;
use crate::model::{ObjectDef, Operations, ResourceDef, ResourceType};
use crate::path::MAX_ID;
use crate::profile::{
    asks_resources, decodes, has, instance_writes, multiple_writes, reads_to,
    resource_instance_paths, serves, serves_all,
};
use crate::text::{self, Full, Writer};

type Outcome<T> = Result<T, ResponseCode>;

// TLV type bits (the top two bits of a record's type byte).
const OBJECT_INSTANCE: u8 = 0;
const RESOURCE_INSTANCE: u8 = 1;
const MULTIPLE_RESOURCE: u8 = 2;
const RESOURCE: u8 = 3;

/// Stands in for the resource of a request above resource depth (never read there).
static NO_RESOURCE: ResourceDef = ResourceDef::new(0, "", Operations::None, ResourceType::None);

const fn is_tlv(format: u16) -> bool {
    format == CONTENT_FORMAT_TLV || format == CONTENT_FORMAT_TLV_LEGACY
}

fn bad<E>(_: E) -> ResponseCode {
    ResponseCode::BadRequest
}

/// One TLV record as the dispatcher walks it.
struct Record<'a> {
    /// The two type bits (`OBJECT_INSTANCE` .. `RESOURCE`).
    kind: u8,
    id: u16,
    /// The value, or the nested records of a container.
    value: &'a [u8],
}

/// The record at the start of `data` and the bytes after it (4.00 if malformed). A few lines
/// of its own: the header is one loop over the id and length bytes, and the kinds stay the
/// two type bits the walker matches on.
// Inlined into its two callers: 12 bytes smaller on the probe, the client unchanged.
#[inline(always)]
fn record(data: &[u8]) -> Outcome<(Record<'_>, &[u8])> {
    let (&ty, rest) = data.split_first().ok_or(ResponseCode::BadRequest)?;
    let id_len = 1 + usize::from((ty >> 5) & 1);
    let len_len = usize::from((ty >> 3) & 3);
    let header = id_len + len_len;
    let mut id = 0usize;
    let mut len = if len_len == 0 { usize::from(ty & 7) } else { 0 };
    for (i, &b) in rest
        .get(..header)
        .ok_or(ResponseCode::BadRequest)?
        .iter()
        .enumerate()
    {
        if i < id_len {
            id = id << 8 | usize::from(b);
        } else {
            len = len << 8 | usize::from(b);
        }
    }
    let (value, after) = rest
        .get(header..)
        .and_then(|r| r.split_at_checked(len))
        .ok_or(ResponseCode::BadRequest)?;
    Ok((
        Record {
            kind: ty >> 6,
            id: id as u16,
            value,
        },
        after,
    ))
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
/// `P` is its [`Profile`](crate::Profile): [`new`](Self::new) handles every resource type
/// and operation; [`with_profile`](Self::with_profile) leaves out the code for the types and
/// operations a device does not use.
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
///             1 => Ok(Value::String(&self.uri[..self.uri_len])),
///             3 => Ok(Value::Integer(self.state)),
///             _ => Ok(Value::Integer(0)),
///         }
///     }
///     fn write(&mut self, _i: u16, r: u16, _ri: Option<u16>, v: Value<'_>) -> Result<(), ResponseCode> {
///         match (r, v) {
///             (1, Value::String(s)) if s.len() <= 64 => {
///                 self.uri[..s.len()].copy_from_slice(s);
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
pub struct Dispatcher<'a, 'h, const P: u32 = { u32::MAX }> {
    objects: &'a mut [&'h mut dyn ObjectHandler],
    #[cfg(feature = "attributes")]
    attributes: &'a mut [AttributeSlot],
}

/// The attribute table as the Discover code reads it (nothing without the `attributes`
/// feature).
#[cfg(feature = "attributes")]
type Table<'x> = &'x [AttributeSlot];
#[cfg(not(feature = "attributes"))]
type Table<'x> = core::marker::PhantomData<&'x ()>;

/// With the `attributes` feature: the attributes set on `ids` (`effective`: also the ones
/// it inherits from its instance and object), after its link.
fn put_attributes(
    w: &mut Writer<'_>,
    table: Table<'_>,
    ids: &[u16],
    effective: bool,
) -> Result<(), Full> {
    #[cfg(feature = "attributes")]
    {
        let mut path = crate::Path::ROOT;
        for (slot, &id) in path.ids.iter_mut().zip(ids) {
            *slot = id;
            path.len += 1;
        }
        crate::attr::put(w, table, path, effective)?;
    }
    #[cfg(not(feature = "attributes"))]
    let _ = (w, table, ids, effective);
    Ok(())
}

impl<'a, 'h> Dispatcher<'a, 'h> {
    /// A dispatcher over these objects (one per object id; the first wins on duplicates),
    /// handling every resource type ([`Profile::ALL`](crate::Profile::ALL)).
    pub fn new(objects: &'a mut [&'h mut dyn ObjectHandler]) -> Self {
        Dispatcher {
            objects,
            #[cfg(feature = "attributes")]
            attributes: &mut [],
        }
    }
}

impl<'a, 'h, const P: u32> Dispatcher<'a, 'h, P> {
    /// The same dispatcher handling only the resource types and operations of profile `Q`
    /// ([`Profile::bits`](crate::Profile::bits)): the code for the others is left out of
    /// the build; an operation outside it answers 4.05, a value of a type outside it 5.00.
    /// See [`Profile`](crate::Profile).
    pub fn with_profile<const Q: u32>(self) -> Dispatcher<'a, 'h, Q> {
        Dispatcher {
            objects: self.objects,
            #[cfg(feature = "attributes")]
            attributes: self.attributes,
        }
    }

    /// Keeps Write-Attributes in `table` (fixed capacity: a Write-Attributes on a new path
    /// when every entry is taken answers 5.00). Without a table, Write-Attributes answers 5.00
    /// and Discover reports no attributes.
    ///
    /// ```
    /// use lwm2m_objects::*;
    /// # struct Fw;
    /// # impl ObjectHandler for Fw {
    /// #     fn definition(&self) -> &ObjectDef { &FIRMWARE_UPDATE_V1_1 }
    /// #     fn next_instance(&self, after: Option<u16>) -> Option<u16> {
    /// #         if after.is_none() { Some(0) } else { None }
    /// #     }
    /// #     fn read(&self, _: u16, _: u16, _: Option<u16>) -> Result<Value<'_>, ResponseCode> {
    /// #         Ok(Value::Integer(0))
    /// #     }
    /// # }
    /// let mut fw = Fw;
    /// let mut objects: [&mut dyn ObjectHandler; 1] = [&mut fw];
    /// let mut table = [AttributeSlot::EMPTY; 4];
    /// let mut dispatcher = Dispatcher::new(&mut objects).with_attributes(&mut table);
    /// let mut out = [0u8; 256];
    ///
    /// let attrs = Request::new(Operation::WriteAttributes, Path::new_resource(5, 0, 3))
    ///     .with_query(b"pmin=10&pmax=60&gt=1");
    /// assert_eq!(dispatcher.handle(&attrs, &mut out).code, ResponseCode::Changed);
    /// let bad = Request::new(Operation::WriteAttributes, Path::new_resource(5, 0, 3))
    ///     .with_query(b"pmin=70"); // pmin > pmax
    /// assert_eq!(dispatcher.handle(&bad, &mut out).code, ResponseCode::BadRequest);
    ///
    /// let discover = Request::new(Operation::Discover, Path::new_resource(5, 0, 3));
    /// let resp = dispatcher.handle(&discover, &mut out);
    /// assert_eq!(&out[..resp.len], b"</5/0/3>;pmin=10;pmax=60;gt=1");
    /// assert_eq!(dispatcher.attributes(Path::new_resource(5, 0, 3)).pmax, Some(60));
    /// ```
    #[cfg(feature = "attributes")]
    pub fn with_attributes(mut self, table: &'a mut [AttributeSlot]) -> Self {
        self.attributes = table;
        self
    }

    /// The attributes in force on `path` (set on it or inherited from its instance and
    /// object), for an Observe implementation.
    #[cfg(feature = "attributes")]
    pub fn attributes(&self, path: crate::Path) -> crate::Attributes {
        crate::attr::effective(self.attributes, path)
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
        // A depth outside the profile (its code is left out of the build).
        if !const { resource_instance_paths(P) } && request.path.depth() == 4 {
            return Response::code(ResponseCode::MethodNotAllowed);
        }
        match self.dispatch(request, out) {
            Ok(response) => response,
            Err(code) => Response::code(code),
        }
    }

    fn dispatch(&mut self, req: &Request<'_>, out: &mut [u8]) -> Outcome<Response> {
        let path = req.path;
        let depth = path.depth();
        let [oid, iid, rid, riid] = path.ids;
        let op = req.operation;
        // An operation or a depth outside the profile (its code is left out of the build).
        if depth == 0 || !(const { serves_all(P) } || serves(P, op)) {
            return Err(ResponseCode::MethodNotAllowed);
        }
        let obj: &mut dyn ObjectHandler = *self
            .objects
            .iter_mut()
            .find(|o| o.definition().id() == oid)
            .ok_or(ResponseCode::NotFound)?;
        let def = *obj.definition();
        // The target must exist (Create names an instance that must not; Bootstrap-Write
        // creates it).
        let creates = matches!(op, Operation::Create | Operation::BootstrapWrite);
        if depth >= 2 && !creates && !has_instance(obj, iid) {
            return Err(ResponseCode::NotFound);
        }
        let r = if depth >= 3 {
            find_resource::<P>(obj, &def, iid, rid)?
        } else {
            &NO_RESOURCE
        };
        if depth == 4 {
            // A resource instance exists only in a multiple resource, and only when listed
            // (a Write may add one).
            let writes = matches!(op, Operation::WriteReplace | Operation::BootstrapWrite);
            if !r.is_multiple() || (!writes && !has_resource_instance(obj, iid, rid, riid)) {
                return Err(ResponseCode::NotFound);
            }
        }
        let ri = (depth == 4).then_some(riid);
        let mut w = Writer::new(out);
        let (code, format) = match op {
            // Read and Discover share the tree walker.
            Operation::Read | Operation::Discover => {
                #[cfg(feature = "attributes")]
                let table: Table<'_> = self.attributes;
                #[cfg(not(feature = "attributes"))]
                let table: Table<'_> = Table::default();
                let discover =
                    const { serves(P, Operation::Discover) } && op == Operation::Discover;
                let mut walk = Walk::<P> {
                    w: &mut w,
                    obj,
                    def: &def,
                    table,
                    discover,
                    depth,
                    ids: path.ids,
                };
                let format = if discover {
                    if depth == 4 {
                        return Err(ResponseCode::MethodNotAllowed);
                    }
                    walk.node(depth, r)?;
                    CONTENT_FORMAT_LINK
                } else if const { serves(P, Operation::Read) } {
                    read(&mut walk, r, ri, req.accept)?
                } else {
                    return Err(ResponseCode::MethodNotAllowed);
                };
                if w.overflowed() {
                    return Err(ResponseCode::InternalServerError);
                }
                (ResponseCode::Content, Some(format))
            }
            // Create is a Write of a new instance: one walker for both.
            Operation::WriteReplace
            | Operation::WriteUpdate
            | Operation::BootstrapWrite
            | Operation::Create => {
                let instance = write::<P>(obj, &def, req, depth, iid, r, ri)?;
                if const { serves(P, Operation::Create) } && op == Operation::Create {
                    return Ok(Response {
                        code: ResponseCode::Created,
                        content_format: None,
                        len: 0,
                        created: Some(instance),
                    });
                }
                (ResponseCode::Changed, None)
            }
            Operation::Execute if const { serves(P, Operation::Execute) } => {
                if depth != 3 || !r.executable() {
                    return Err(ResponseCode::MethodNotAllowed);
                }
                obj.execute(iid, rid, req.payload)?;
                (ResponseCode::Changed, None)
            }
            #[cfg(feature = "attributes")]
            Operation::WriteAttributes => {
                if depth == 4 {
                    return Err(ResponseCode::MethodNotAllowed);
                }
                let kind = (depth == 3).then(|| r.kind());
                crate::attr::write(self.attributes, path, kind, req.query)?;
                (ResponseCode::Changed, None)
            }
            Operation::Delete if const { serves(P, Operation::Delete) } => {
                if depth != 2 {
                    return Err(ResponseCode::MethodNotAllowed);
                }
                obj.delete(iid)?;
                (ResponseCode::Deleted, None)
            }
            // Write-Attributes without the `attributes` feature, and operations outside the
            // profile.
            _ => return Err(ResponseCode::MethodNotAllowed),
        };
        Ok(Response {
            code,
            content_format: format,
            len: w.len(),
            created: None,
        })
    }

    /// Writes the Register (and Update) payload: `</>;rt="oma.lwm2m"`, then for every object
    /// but Security (0) and OSCORE (21) its instances (`</3/0>`), or `</O>` when it has none;
    /// objects of a version other than 1.0 get `</O>;ver=X.Y` first.
    pub fn registration_links(&self, out: &mut [u8]) -> Result<usize, crate::Error> {
        let mut w = Writer::new(out);
        match self.write_registration(&mut w) {
            Ok(()) => Ok(w.len()),
            Err(Full) => Err(w.too_small()),
        }
    }

    fn write_registration(&self, w: &mut Writer<'_>) -> Result<(), Full> {
        w.put(br#"</>;rt="oma.lwm2m""#)?;
        for obj in self.objects.iter() {
            let def = obj.definition();
            let id = def.id();
            if id == 0 || id == 21 {
                continue;
            }
            // The Discover walker in its Register mode (depth 0): the object's link and its
            // instances' links. Its only failure is a full buffer.
            let mut walk = Walk::<P> {
                w,
                obj: &**obj,
                def,
                table: Table::default(),
                discover: true,
                depth: 0,
                ids: [id, 0, 0, 0],
            };
            walk.node(1, &NO_RESOURCE).map_err(|_| Full)?;
        }
        if w.overflowed() { Err(Full) } else { Ok(()) }
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

/// The instance after `previous` (the first for `None`), moving strictly forward.
// Inlining left to the compiler: after the walker rewrite, 30 bytes smaller than forced out
// of line on a Cortex-M.
fn next_instance(obj: &dyn ObjectHandler, previous: Option<u16>) -> Option<u16> {
    bounded_next(previous, obj.next_instance(previous))
}

/// The resource instance after `previous` (the first for `None`), moving strictly forward.
fn next_resource_instance(
    obj: &dyn ObjectHandler,
    instance: u16,
    rid: u16,
    previous: Option<u16>,
) -> Option<u16> {
    bounded_next(
        previous,
        obj.next_resource_instance(instance, rid, previous),
    )
}

// Inlined (forced out of line: 16 bytes larger on the client; forced in: 4 bytes smaller on
// the probe).
#[inline(always)]
fn has_instance(obj: &dyn ObjectHandler, instance: u16) -> bool {
    obj.next_instance(instance.checked_sub(1)) == Some(instance)
}

fn has_resource_instance(obj: &dyn ObjectHandler, instance: u16, rid: u16, riid: u16) -> bool {
    obj.next_resource_instance(instance, rid, riid.checked_sub(1)) == Some(riid)
}

/// Whether `instance` has resource `rid` of its definition: always under a profile
/// `with_every_resource` (no hook call), else as the handler says.
fn has_resource<const P: u32>(obj: &dyn ObjectHandler, instance: u16, rid: u16) -> bool {
    !const { asks_resources(P) } || obj.has_resource(instance, rid)
}

// Inlining left to the compiler (forced either way: 6 bytes larger on a Cortex-M).
fn find_resource<const P: u32>(
    obj: &dyn ObjectHandler,
    def: &ObjectDef,
    instance: u16,
    rid: u16,
) -> Outcome<&'static ResourceDef> {
    def.resource(rid)
        .filter(|_| has_resource::<P>(obj, instance, rid))
        .ok_or(ResponseCode::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Read

/// Writes the Read answer and returns its Content-Format.
// Out of line: smaller on a Cortex-M than inlined into the dispatcher.
#[inline(never)]
fn read<const P: u32>(
    walk: &mut Walk<'_, '_, P>,
    r: &'static ResourceDef,
    ri: Option<u16>,
    accept: Option<u16>,
) -> Outcome<u16> {
    let depth = walk.depth;
    if depth >= 3 && !r.readable() {
        return Err(ResponseCode::MethodNotAllowed);
    }
    // One value: plain text or opaque by default, TLV on request; several values: TLV only.
    let single = depth == 4 || (depth == 3 && !r.is_multiple());
    let format = accept.unwrap_or(if !single {
        CONTENT_FORMAT_TLV
    } else if r.kind() == ResourceType::Opaque {
        CONTENT_FORMAT_OPAQUE
    } else {
        CONTENT_FORMAT_TEXT
    });
    if is_tlv(format) {
        walk.node(depth, r)?;
    } else {
        if !single {
            return Err(ResponseCode::NotAcceptable);
        }
        if const { reads_to(P) } {
            // What the format carries: an opaque value as its bytes (as in TLV) in
            // octet-stream, any other as text in plain text, nothing in other formats.
            let form = match format {
                CONTENT_FORMAT_OPAQUE => VALUE_BARE | VALUE_OPAQUE,
                CONTENT_FORMAT_TEXT => VALUE_OTHER,
                _ => 0,
            };
            walk.read_to(r, ri, form)?;
        } else {
            let value = walk.obj.read(walk.ids[1], r.id(), ri);
            // An opaque value goes out as its bytes, as in TLV.
            let bare = match (format, &value) {
                (CONTENT_FORMAT_OPAQUE, Ok(Value::Opaque(_))) => true,
                (CONTENT_FORMAT_TEXT, _) | (_, Err(_)) => false,
                _ => return Err(ResponseCode::NotAcceptable),
            };
            put_value::<P>(walk.w, bare, value)?;
        }
    }
    Ok(format)
}

/// One walk over the object tree below a request's path, shared by Read (TLV records: values,
/// object instance and multiple resource containers) and Discover (one link per node, with
/// `;ver`, `;dim` and the attributes): the operation is data, the tree walk is written once.
struct Walk<'d, 'b, const P: u32> {
    w: &'d mut Writer<'b>,
    obj: &'d dyn ObjectHandler,
    def: &'d ObjectDef,
    table: Table<'d>,
    discover: bool,
    /// The request's depth.
    depth: usize,
    /// The path of the node being written (the ids below its level are scratch).
    ids: [u16; 4],
}

impl<const P: u32> Walk<'_, '_, P> {
    /// The value the handler's `read_to` writes for resource `r` of the instance (its
    /// instance `ri`) in the form `form` (the `VALUE_*` bits); nothing on an error.
    fn read_to(&mut self, r: &ResourceDef, ri: Option<u16>, form: u8) -> Outcome<()> {
        // The output is full: 5.00 before any further hook runs (the walker's own writes
        // are checked here and at the end, not one by one).
        if self.w.overflowed() {
            return Err(ResponseCode::InternalServerError);
        }
        // The hook writes into a view of the buffer; its length is taken back on success.
        let mut out = ValueOut {
            w: self.w.view(),
            form,
        };
        self.obj.read_to(self.ids[1], r.id(), ri, &mut out)?;
        let len = out.w.len();
        self.w.set_len(len);
        Ok(())
    }

    /// The child of the node at `level` after `previous` (instances, the resources an
    /// instance has, resource instances), with the resource it belongs to.
    fn child(
        &self,
        level: usize,
        r: &'static ResourceDef,
        previous: Option<u16>,
    ) -> Option<(u16, &'static ResourceDef)> {
        match level {
            1 => next_instance(self.obj, previous).map(|i| (i, r)),
            2 => self
                .def
                .resources()
                .iter()
                .find(|c| {
                    previous.is_none_or(|p| c.id() > p)
                        && (self.discover || c.readable())
                        && has_resource::<P>(self.obj, self.ids[1], c.id())
                })
                .map(|c| (c.id(), c)),
            _ => next_resource_instance(self.obj, self.ids[1], self.ids[2], previous)
                .map(|ri| (ri, r)),
        }
    }

    /// Writes the node `ids[..level]` (`r`: its resource from level 3) and everything below.
    fn node(&mut self, level: usize, r: &'static ResourceDef) -> Outcome<()> {
        let ids = self.ids;
        let multiple = level == 3 && r.is_multiple();
        let leaf = level == 4 || (level == 3 && !multiple);
        let path = ids.get(..level).unwrap_or(&[]);
        // Register (depth 0): an object's own link only when it has a version or no instance,
        // its instances' links, no attributes.
        let register = self.depth == 0;
        let start = self.w.len();
        if self.discover {
            let versioned = level == 1 && self.def.version() != (1, 0);
            if !register || level != 1 || versioned || next_instance(self.obj, None).is_none() {
                let _ = self.w.link(path);
            }
            if versioned {
                let _ = self.w.version(self.def.version());
            }
            if multiple {
                let mut count = 0;
                let mut next = self.child(3, r, None);
                while let Some((id, _)) = next {
                    count += 1;
                    next = self.child(3, r, Some(id));
                }
                let _ = self.w.attr(b";dim=", count);
            }
            if level < 4 {
                // A resource's own Discover reports the attributes it inherits too.
                let _ = put_attributes(self.w, self.table, path, level == 3 && self.depth == 3);
            }
            // Resource instances are listed only by a Discover of their resource.
            if level == 4
                || (level == 3 && (self.depth < 3 || !multiple))
                || (register && level == 2)
            {
                return Ok(());
            }
        } else if leaf {
            let ri = (level == 4).then_some(ids[3]);
            if const { reads_to(P) } {
                self.read_to(r, ri, VALUE_TLV)?;
            } else {
                if self.w.overflowed() {
                    return Err(ResponseCode::InternalServerError);
                }
                put_value::<P>(self.w, true, self.obj.read(ids[1], r.id(), ri))?;
            }
        }
        let mut next = if leaf {
            None
        } else {
            self.child(level, r, None)
        };
        while let Some((id, child)) = next {
            if let Some(slot) = self.ids.get_mut(level) {
                *slot = id;
            }
            match self.node(level + 1, child) {
                // An optional resource without a value is left out of an instance read.
                Err(ResponseCode::NotFound) if level == 2 && !child.is_multiple() => {}
                other => other?,
            }
            next = self.child(level, r, Some(id));
        }
        // Read: a value becomes a record, the instances of an object and the instances of a
        // multiple resource a container, its header put in front of what was written.
        if !self.discover && (leaf || multiple || (level == 2 && self.depth == 1)) {
            // From the flags already known (no second test of the level).
            let kind = match (leaf, level == 4, multiple) {
                (true, true, _) => RESOURCE_INSTANCE,
                (true, false, _) => RESOURCE,
                (false, _, true) => MULTIPLE_RESOURCE,
                (false, _, false) => OBJECT_INSTANCE,
            };
            let id = ids.get(level - 1).copied().unwrap_or(0);
            let _ = self.w.wrap(start, kind, id);
        }
        Ok(())
    }
}

/// One value out, as a bare value (`tlv`: a TLV record's value, its header written around
/// it by the caller; also an opaque value read as octet-stream) or as plain text (numbers in
/// decimal, an object link as `object:instance`; 4.06 for opaque). One match for both: a
/// number is taken apart once into its 64 bits, TLV length and signedness. Floats go out in
/// 8 bytes in TLV, which every reader accepts (choosing the width would compare floats:
/// soft-float code on a Cortex-M).
// Out of line (one copy for the walker and the single-value Read): smaller on a Cortex-M
// since the TLV records are written around it.
#[inline(never)]
fn put_value<const P: u32>(
    w: &mut Writer<'_>,
    tlv: bool,
    value: Outcome<Value<'_>>,
) -> Outcome<()> {
    // Taken as the hook's result: no copy of the value at the call sites.
    let value = value?;
    let (mut number, len, signed) = match value {
        Value::Opaque(_) if !tlv => return Err(ResponseCode::NotAcceptable),
        // Outside the profile: the build has no code for these.
        Value::Float(_) if !const { has(P, ResourceType::Float) } => {
            return Err(ResponseCode::InternalServerError);
        }
        Value::ObjLnk(..) if !const { has(P, ResourceType::Objlnk) } => {
            return Err(ResponseCode::InternalServerError);
        }
        Value::String(v) | Value::CoreLnk(v) | Value::Opaque(v) => return Ok(w.put(v)?),
        Value::Integer(v) | Value::Time(v) => (v as u64, lwm2m_tlv::int_len(v), true),
        Value::Unsigned(v) => (v, lwm2m_tlv::uint_len(v), false),
        Value::Boolean(v) => (u64::from(v), 1, false),
        Value::ObjLnk(o, i) => (u64::from(o) << 16 | u64::from(i), 4, false),
        #[cfg(feature = "float-text")]
        Value::Float(v) if !tlv => return Ok(w.put_f64(v)?),
        #[cfg(not(feature = "float-text"))]
        Value::Float(_) if !tlv => return Err(ResponseCode::NotAcceptable),
        Value::Float(v) => (v.to_bits(), 8, false),
    };
    match tlv {
        true => {
            let bytes = number.to_be_bytes();
            w.put(bytes.get(8usize.saturating_sub(len)..).unwrap_or(&[]))?;
        }
        false if const { has(P, ResourceType::Objlnk) } && matches!(value, Value::ObjLnk(..)) => {
            w.put_u64(number >> 16)?;
            w.put(b":")?;
            w.put_u64(number & 0xFFFF)?;
        }
        false => {
            if signed && (number as i64) < 0 {
                w.put(b"-")?;
                number = number.wrapping_neg();
            }
            w.put_u64(number)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Values in

/// How the payload carries a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Tlv,
    Text,
    Opaque,
}

/// Decodes one value of a resource of type `kind` from a TLV value, plain text or an opaque
/// payload (4.00 if it is not a value of that type, 4.15 if the format cannot carry it).
fn decode<const P: u32>(kind: ResourceType, bytes: &[u8], format: Format) -> Outcome<Value<'_>> {
    let text = format == Format::Text;
    if format == Format::Opaque || (text && kind == ResourceType::Opaque) {
        return match (format, kind) {
            (Format::Opaque, ResourceType::Opaque) => Ok(Value::Opaque(bytes)),
            _ => Err(ResponseCode::UnsupportedContentFormat),
        };
    }
    Ok(match kind {
        ResourceType::String | ResourceType::Corelnk
            if const { decodes(P, ResourceType::String) }
                || const { decodes(P, ResourceType::Corelnk) } =>
        {
            let text = utf8(bytes)?;
            if const { decodes(P, ResourceType::Corelnk) } && kind == ResourceType::Corelnk {
                Value::CoreLnk(text)
            } else {
                Value::String(text)
            }
        }
        // Outside the profile: the build has no code for these.
        ResourceType::UnsignedInteger if !const { decodes(P, ResourceType::UnsignedInteger) } => {
            return Err(ResponseCode::InternalServerError);
        }
        ResourceType::Integer | ResourceType::Time
            if !const { decodes(P, ResourceType::Integer) || decodes(P, ResourceType::Time) } =>
        {
            return Err(ResponseCode::InternalServerError);
        }
        ResourceType::Integer | ResourceType::Time | ResourceType::UnsignedInteger => {
            // One number path for TLV and text: the 64 bits, then a check per type.
            let signed = kind != ResourceType::UnsignedInteger;
            let v = if text {
                let (negative, digits) = match bytes.split_first() {
                    Some((b'-', rest)) if signed => (true, rest),
                    Some((b'+', rest)) if signed => (false, rest),
                    _ => (false, bytes),
                };
                let magnitude = text::parse_u64(digits).ok_or(ResponseCode::BadRequest)?;
                let v = if negative {
                    magnitude.wrapping_neg()
                } else {
                    magnitude
                };
                // A signed value keeps its sign (zero aside: `-0` is 0).
                if signed && ((v as i64) < 0) != negative && v != 0 {
                    return Err(ResponseCode::BadRequest);
                }
                v
            } else {
                tlv_int(bytes, signed)?
            };
            if !signed {
                Value::Unsigned(v)
            } else if const { decodes(P, ResourceType::Time) } && kind == ResourceType::Time {
                Value::Time(v as i64)
            } else {
                Value::Integer(v as i64)
            }
        }
        ResourceType::Boolean if const { decodes(P, ResourceType::Boolean) } => match bytes {
            [b] if b.wrapping_sub(if text { b'0' } else { 0 }) <= 1 => Value::Boolean(b & 1 == 1),
            _ => return Err(ResponseCode::BadRequest),
        },
        ResourceType::Objlnk if const { decodes(P, ResourceType::Objlnk) } => {
            let link = if text {
                // `object:instance`, each a decimal 0..=65535 (leading zeros allowed): one
                // scan, no call to the 64-bit parser.
                let mut object = None;
                let mut id = 0u32;
                let mut digits = 0usize;
                for &b in bytes {
                    let digit = u32::from(b.wrapping_sub(b'0'));
                    if b == b':' && object.is_none() && digits > 0 {
                        object = Some(id as u16);
                        id = 0;
                        digits = 0;
                    } else if digit <= 9 && id * 10 + digit <= 0xFFFF {
                        id = id * 10 + digit;
                        digits += 1;
                    } else {
                        return Err(ResponseCode::BadRequest);
                    }
                }
                match object {
                    Some(object) if digits > 0 => (object, id as u16),
                    _ => return Err(ResponseCode::BadRequest),
                }
            } else {
                let [a, b, c, d] = *bytes else {
                    return Err(ResponseCode::BadRequest);
                };
                (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]))
            };
            Value::ObjLnk(link.0, link.1)
        }
        ResourceType::Float if !const { decodes(P, ResourceType::Float) } => {
            return Err(ResponseCode::InternalServerError);
        }
        ResourceType::Float if !text => Value::Float(tlv_float(bytes)?),
        #[cfg(feature = "float-text")]
        ResourceType::Float => {
            Value::Float(text::parse_f64(bytes).ok_or(ResponseCode::BadRequest)?)
        }
        #[cfg(not(feature = "float-text"))]
        ResourceType::Float => return Err(ResponseCode::UnsupportedContentFormat),
        ResourceType::Opaque => Value::Opaque(bytes),
        ResourceType::None => return Err(ResponseCode::BadRequest),
        // Outside the profile: the build has no code for this type.
        _ => return Err(ResponseCode::InternalServerError),
    })
}

/// A TLV integer: 1, 2, 4 or 8 bytes, big-endian, sign-extended when `signed`.
// Inlined into its two callers: 44 bytes smaller on a Cortex-M than one out-of-line copy.
#[inline(always)]
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
// Inlined (as `checked` and `Writer::attr`): 12 bytes smaller together on a Cortex-M.
#[inline(always)]
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

/// `bytes` if they are UTF-8 (4.00 if not). A plain loop: core's validator and its
/// 256-byte width table cost a Cortex-M over half a kilobyte.
fn utf8(bytes: &[u8]) -> Outcome<&[u8]> {
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        if b < 0x80 {
            continue;
        }
        // The sequence length is the lead byte's leading ones (2 to 4; a stray continuation
        // byte has 1, 0xF8 and above 5 or more: refused below, once the bytes are read).
        let len = b.leading_ones();
        let mut cp = u32::from(b) & (0x7F >> len);
        for _ in 1..len {
            match bytes.get(i) {
                Some(&c) if c & 0xC0 == 0x80 => cp = cp << 6 | u32::from(c & 0x3F),
                _ => return Err(ResponseCode::BadRequest),
            }
            i += 1;
        }
        // The smallest code point of each length (2^7, 2^11, 2^16: shorter forms are
        // overlong), the last one, and the surrogates (0xD800 to 0xDFFF).
        let min = 1 << (4 * len - 1 + u32::from(len == 4));
        if !(2..=4).contains(&len) || cp < min || cp > 0x10_FFFF || cp >> 11 == 0x1B {
            return Err(ResponseCode::BadRequest);
        }
    }
    Ok(bytes)
}

/// Checks a value against the resource's range (of the value, or of the length in bytes).
#[inline(always)]
fn checked<const P: u32>(def: &ObjectDef, r: &ResourceDef, value: &Value<'_>) -> Outcome<()> {
    let Some((min, max)) = def.bounds(r.id()) else {
        return Ok(());
    };
    // One 64-bit comparison pair for every kind of value.
    let measure = match *value {
        Value::Integer(v) | Value::Time(v) => v,
        Value::Unsigned(v) => i64::try_from(v).map_err(bad)?,
        // total_cmp is integer code (no soft-float compares) and puts NaN outside any range.
        Value::Float(v) if const { has(P, ResourceType::Float) } => {
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
        Value::Boolean(_) | Value::ObjLnk(..) | Value::Float(_) => return Ok(()),
    };
    if (i64::from(min)..=i64::from(max)).contains(&measure) {
        Ok(())
    } else {
        Err(ResponseCode::BadRequest)
    }
}

// ---------------------------------------------------------------------------------------------
// Write and Create

/// One Write, Create or Bootstrap-Write in progress: values are only checked (`apply`
/// false) or written. Bundled so that the walker below passes one pointer, not six arguments.
struct Target<'t, const P: u32> {
    obj: &'t mut dyn ObjectHandler,
    def: &'t ObjectDef,
    instance: u16,
    apply: bool,
    /// Create and Bootstrap-Write set any value-carrying resource; a Write only writable ones.
    any: bool,
    /// Bootstrap-Write: an object instance record creates its instance when missing.
    bootstrap: bool,
}

impl<const P: u32> Target<'_, P> {
    /// 4.05 unless this operation may set resource `r`.
    fn allowed(&self, r: &ResourceDef) -> Outcome<()> {
        let allowed = if self.any {
            r.kind() != ResourceType::None
        } else {
            r.writable()
        };
        if allowed {
            Ok(())
        } else {
            Err(ResponseCode::MethodNotAllowed)
        }
    }

    /// Checks or writes one value.
    fn value(
        &mut self,
        r: &ResourceDef,
        resource_instance: Option<u16>,
        bytes: &[u8],
        format: Format,
    ) -> Outcome<()> {
        let value = decode::<P>(r.kind(), bytes, format)?;
        checked::<P>(self.def, r, &value)?;
        if self.apply {
            self.obj
                .write(self.instance, r.id(), resource_instance, value)?;
        }
        Ok(())
    }

    /// Checks or writes the TLV records in `bytes`, one walker for every payload shape: object
    /// instance records (`level` 1: Bootstrap-Write of an object), resource records of the
    /// instance (2) or resource instance records of the multiple resource `r` (3). `only`:
    /// exactly one record, with this id (a Write of one resource or resource instance).
    fn records(
        &mut self,
        bytes: &[u8],
        level: u8,
        r: &ResourceDef,
        only: Option<u16>,
    ) -> Outcome<()> {
        if only.is_some() && bytes.is_empty() {
            return Err(ResponseCode::BadRequest);
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let (tlv, after) = record(rest)?;
            let kind = tlv.kind;
            if only.is_some_and(|id| id != tlv.id || !after.is_empty()) {
                return Err(ResponseCode::BadRequest);
            }
            match (level, kind) {
                (1, OBJECT_INSTANCE) if tlv.id <= MAX_ID => {
                    self.instance = tlv.id;
                    if self.apply {
                        ensure_instance(self.obj, self.bootstrap, tlv.id)?;
                    }
                    self.records(tlv.value, 2, r, None)?;
                }
                (2, RESOURCE | MULTIPLE_RESOURCE) => {
                    // A profile whose Writes name one resource: the record is that resource's
                    // (`only`), found and allowed already; no second lookup.
                    let r = if const { resource_writes_only(P) } {
                        r
                    } else {
                        let r = find_resource::<P>(self.obj, self.def, self.instance, tlv.id)?;
                        self.allowed(r)?;
                        r
                    };
                    match (kind == MULTIPLE_RESOURCE, r.is_multiple()) {
                        (true, true) if const { multiple_writes(P) } => {
                            self.records(tlv.value, 3, r, None)?
                        }
                        // Outside the profile: the build has no code for these.
                        (true, true) => return Err(ResponseCode::InternalServerError),
                        (false, false) => self.value(r, None, tlv.value, Format::Tlv)?,
                        _ => return Err(ResponseCode::BadRequest),
                    }
                }
                (3, RESOURCE_INSTANCE) if const { multiple_writes(P) } => {
                    self.value(r, Some(tlv.id), tlv.value, Format::Tlv)?;
                }
                _ => return Err(ResponseCode::BadRequest),
            }
            rest = after;
        }
        Ok(())
    }
}

/// Whether every Write of profile `P` names one resource or resource instance (no
/// whole-instance Write, no Create, no Bootstrap-Write): the records walker then meets level 2
/// only for the record of the request's own resource.
const fn resource_writes_only(p: u32) -> bool {
    let bootstrap = cfg!(feature = "bootstrap") && serves(p, Operation::BootstrapWrite);
    !(instance_writes(p) || serves(p, Operation::Create) || bootstrap)
}

/// Bootstrap-Write creates the instance it names when it does not exist yet.
fn ensure_instance(obj: &mut dyn ObjectHandler, bootstrap: bool, instance: u16) -> Outcome<()> {
    if bootstrap && !has_instance(obj, instance) {
        obj.create(instance)?;
    }
    Ok(())
}

/// The resource records of a Write or Create payload: either bare resource records, or one
/// object instance record (its id returned too).
// Inlined into its one caller: 64 bytes smaller on a Cortex-M.
#[inline(always)]
fn instance_records(payload: &[u8]) -> Outcome<(Option<u16>, &[u8])> {
    if payload.is_empty() {
        return Ok((None, payload));
    }
    let (tlv, after) = record(payload)?;
    if tlv.kind != OBJECT_INSTANCE {
        return Ok((None, payload));
    }
    if !after.is_empty() {
        return Err(ResponseCode::BadRequest);
    }
    Ok((Some(tlv.id), tlv.value))
}

fn write<const P: u32>(
    obj: &mut dyn ObjectHandler,
    def: &ObjectDef,
    req: &Request<'_>,
    depth: usize,
    instance: u16,
    r: &ResourceDef,
    ri: Option<u16>,
) -> Outcome<u16> {
    let op = req.operation;
    // Bootstrap-Write is not in every device's profile (the `bootstrap` feature, on by
    // default): without it, it answers 4.05 and its code is left out.
    let bootstrap =
        const { serves(P, Operation::BootstrapWrite) } && op == Operation::BootstrapWrite;
    if bootstrap && !cfg!(feature = "bootstrap") {
        return Err(ResponseCode::MethodNotAllowed);
    }
    let create = const { serves(P, Operation::Create) } && op == Operation::Create;
    // A profile without whole-instance writes serves Writes of one resource only.
    if !const { instance_writes(P) } && depth < 3 && !create {
        return Err(ResponseCode::MethodNotAllowed);
    }
    let content_format = req.content_format.unwrap_or(if create {
        CONTENT_FORMAT_TLV
    } else {
        CONTENT_FORMAT_TEXT
    });
    let format = match content_format {
        CONTENT_FORMAT_TEXT => Format::Text,
        CONTENT_FORMAT_OPAQUE => Format::Opaque,
        f if is_tlv(f) => Format::Tlv,
        _ => return Err(ResponseCode::UnsupportedContentFormat),
    };
    let tlv = format == Format::Tlv;
    let mut t = Target::<P> {
        obj,
        def,
        instance,
        apply: false,
        any: create || bootstrap,
        bootstrap,
    };
    // The payload's shape: the records walker's level, its records, the one id it must name.
    let mut records = req.payload;
    let (level, only) = match depth {
        1 if bootstrap && tlv => (1, None),
        1 | 2 if create || depth == 2 => {
            if !tlv {
                return Err(ResponseCode::UnsupportedContentFormat);
            }
            let named;
            (named, records) = instance_records(records)?;
            if create {
                // The new id: from the path, from an object instance record, or the lowest
                // free one.
                if depth == 1 {
                    t.instance = match named {
                        Some(i) => i,
                        None => {
                            lowest_free_instance(t.obj).ok_or(ResponseCode::InternalServerError)?
                        }
                    };
                }
                if t.instance > MAX_ID || has_instance(t.obj, t.instance) {
                    return Err(ResponseCode::BadRequest);
                }
                if !def.is_multiple() && t.obj.next_instance(None).is_some() {
                    return Err(ResponseCode::BadRequest);
                }
            }
            if named.is_some_and(|id| id != t.instance) {
                return Err(ResponseCode::BadRequest);
            }
            (2, None)
        }
        3 | 4 if !create => {
            if const { serves(P, Operation::WriteUpdate) } && op == Operation::WriteUpdate {
                return Err(ResponseCode::MethodNotAllowed);
            }
            t.allowed(r)?;
            // A multiple resource the profile's definitions do not write: the build has no
            // code for it.
            if !const { multiple_writes(P) } && r.is_multiple() {
                return Err(ResponseCode::InternalServerError);
            }
            if !tlv && ri.is_none() && r.is_multiple() {
                return Err(ResponseCode::UnsupportedContentFormat);
            }
            // One record: the resource's (level 2) or the resource instance's (level 3).
            match ri {
                Some(ri) => (3, Some(ri)),
                None => (2, Some(r.id())),
            }
        }
        _ => return Err(ResponseCode::MethodNotAllowed),
    };
    let instance = t.instance;
    let mut apply = false;
    loop {
        if apply {
            // Between the check of the whole payload and its first value.
            if create {
                t.obj.create(instance)?;
            } else if depth >= 2 {
                ensure_instance(t.obj, bootstrap, instance)?;
            }
            // A multiple resource is replaced whole; a Write replace of an instance clears
            // the writable resources absent from the payload. One loop for both.
            let replace =
                const { instance_writes(P) } && depth == 2 && op == Operation::WriteReplace;
            if replace || (const { multiple_writes(P) } && depth == 3 && r.is_multiple()) {
                for c in def.resources() {
                    let cleared = if depth == 3 {
                        c.id() == r.id()
                    } else {
                        c.writable()
                    };
                    if cleared && has_resource::<P>(t.obj, instance, c.id()) {
                        t.obj.clear(instance, c.id())?;
                    }
                }
            }
        }
        t.apply = apply;
        if depth >= 3 && !tlv {
            t.value(r, ri, req.payload, format)?;
        } else {
            t.records(records, level, r, only)?;
        }
        if apply {
            return Ok(t.instance);
        }
        apply = true;
    }
}

// Inlining left to the compiler (forced out of line: 18 bytes larger on a Cortex-M).
fn lowest_free_instance(obj: &dyn ObjectHandler) -> Option<u16> {
    // The existence check reused: one hook call per taken id, no walk state of its own.
    let mut candidate: u16 = 0;
    while has_instance(obj, candidate) {
        candidate = candidate.checked_add(1)?;
    }
    (candidate <= MAX_ID).then_some(candidate)
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
                utf8(bytes).is_ok(),
                core::str::from_utf8(bytes).is_ok(),
                "{bytes:?}"
            );
        }
        // Every 2-byte input, and 3- and 4-byte ones around the continuation-byte edges.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let bytes = [a, b];
                assert_eq!(utf8(&bytes).is_ok(), core::str::from_utf8(&bytes).is_ok());
            }
        }
        let edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0];
        for a in 0xE0..=0xF5u8 {
            for &b in &edges {
                for &c in &edges {
                    for &d in &edges {
                        let bytes = [a, b, c, d];
                        assert_eq!(
                            utf8(&bytes).is_ok(),
                            core::str::from_utf8(&bytes).is_ok(),
                            "{bytes:?}"
                        );
                        assert_eq!(
                            utf8(&bytes[..3]).is_ok(),
                            core::str::from_utf8(&bytes[..3]).is_ok(),
                            "{bytes:?}"
                        );
                    }
                }
            }
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
                utf8(&bytes).is_ok(),
                core::str::from_utf8(&bytes).is_ok(),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn tlv_values_agree_with_the_decoder() {
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
            w.record(lwm2m_tlv::Kind::Resource, 1, value).unwrap();
            let n = w.finish().unwrap();
            let tlv = lwm2m_tlv::decode(&buf[..n]).next().unwrap().unwrap();
            let get = |kind| decode::<{ u32::MAX }>(kind, tlv.value(), Format::Tlv).ok();
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
    fn text_numbers_agree_with_the_parsers() {
        let samples: [&[u8]; 22] = [
            b"0",
            b"-0",
            b"+0",
            b"7",
            b"+7",
            b"-7",
            b"-",
            b"+",
            b"",
            b"--1",
            b"+-1",
            b"1a",
            b"9223372036854775807",
            b"9223372036854775808",
            b"-9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551615",
            b"18446744073709551616",
            b"-18446744073709551615",
            b"-18446744073709551616",
            b" 1",
            b"00012",
        ];
        for bytes in samples {
            let get = |kind| decode::<{ u32::MAX }>(kind, bytes, Format::Text).ok();
            let signed = text::parse_i64(bytes);
            assert_eq!(
                get(ResourceType::Integer),
                signed.map(Value::Integer),
                "{bytes:?}"
            );
            assert_eq!(
                get(ResourceType::Time),
                signed.map(Value::Time),
                "{bytes:?}"
            );
            assert_eq!(
                get(ResourceType::UnsignedInteger),
                text::parse_u64(bytes).map(Value::Unsigned),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn text_object_links_agree_with_the_parser() {
        // The rule: `object:instance`, each part what parse_u64 takes, at most 65535.
        let reference = |bytes: &[u8]| {
            let at = bytes.iter().position(|&b| b == b':')?;
            let id = |part: &[u8]| text::parse_u64(part).and_then(|v| u16::try_from(v).ok());
            Some(Value::ObjLnk(id(&bytes[..at])?, id(&bytes[at + 1..])?))
        };
        let samples: [&[u8]; 18] = [
            b"3:0",
            b"65535:65535",
            b"65536:0",
            b"0:65536",
            b"00003:000",
            b":1",
            b"1:",
            b":",
            b"",
            b"1",
            b"1:2:3",
            b"1::2",
            b"+1:2",
            b"1:-2",
            b"99999999999999999999:1",
            b"1: 2",
            b"4294967296:1",
            b"a:b",
        ];
        for bytes in samples {
            let ours = decode::<{ u32::MAX }>(ResourceType::Objlnk, bytes, Format::Text).ok();
            assert_eq!(ours, reference(bytes), "{bytes:?}");
        }
    }

    #[test]
    fn records_agree_with_the_tlv_decoder() {
        let mut seed = 0x0bad_cafeu32;
        for _ in 0..20_000 {
            let mut bytes = [0u8; 12];
            for b in bytes.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                *b = seed as u8;
            }
            // Short lengths often enough that records fit.
            bytes[0] &= 0xE7 | (seed as u8 & 0x18);
            if seed & 0x100 != 0 {
                bytes[2] %= 8;
                bytes[3] %= 8;
            }
            let cut = (seed >> 9) as usize % 13;
            let data = &bytes[..cut];
            let ours = record(data)
                .ok()
                .map(|(r, after)| (r.kind, r.id, r.value, after));
            let theirs = lwm2m_tlv::Tlv::parse(data)
                .ok()
                .map(|(t, after)| (t.kind() as u8, t.id(), t.value(), after));
            assert_eq!(ours, theirs, "{data:?}");
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
