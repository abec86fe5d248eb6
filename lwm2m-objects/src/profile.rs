//! What a dispatcher must handle, known when the device is built: [`Profile`].

use crate::handler::Operation;
use crate::model::{ObjectDef, ResourceDef, ResourceType};

/// Bit of the first operation (the resource types take the bits below).
const OPERATIONS: u32 = 16;
/// Bit of Write replace / partial update of a whole instance (and Bootstrap-Write of an
/// object).
const INSTANCE_WRITES: u32 = 1 << 30;
/// Some folded definition has a writable multiple resource.
const WRITABLE_MULTIPLE: u32 = 1 << 27;
/// Some folded definition has a multiple resource with a value (which Create and
/// Bootstrap-Write may set whatever its operations).
const VALUED_MULTIPLE: u32 = 1 << 26;
/// Requests may name a resource instance (`/O/I/R/RI`, set) or not (clear: 4.05).
const RESOURCE_INSTANCE_PATHS: u32 = 1 << 28;
/// Every instance has the resources its definition lists unless [`ObjectHandler::has_resource`]
/// says otherwise (set), or has all of them and the hook is never called (clear).
///
/// [`ObjectHandler::has_resource`]: crate::ObjectHandler::has_resource
const ASK_RESOURCES: u32 = 1 << 29;
/// The bits that say a folded definition has a writable resource of a type (bits 10 to 15
/// and 25, see [`written_bit`]): the value decoder is built for these types only, unless
/// Create or Bootstrap-Write (which set any resource) is served.
const WRITTEN: u32 = 0xFC00 | 1 << 25;
/// Values read through [`ObjectHandler::read`](crate::ObjectHandler::read) (set) or
/// [`read_to`](crate::ObjectHandler::read_to) (clear).
const READ_VALUES: u32 = 1 << 31;

/// What a [`Dispatcher`](crate::Dispatcher) handles, as the bits of its const parameter: the
/// resource types its objects use, the operations it serves and whether a Write may carry a
/// whole instance. A device knows its objects and its server's use of them when it is
/// built, so it pays in flash only for the value decoders, checks and operations it needs.
///
/// [`Dispatcher::new`](crate::Dispatcher::new) handles everything ([`Profile::ALL`]);
/// [`with_profile`](crate::Dispatcher::with_profile) narrows a dispatcher to a profile built
/// at compile time, usually folded from the definitions with [`Profile::of`]. Objects 0, 1, 3
/// and 5 have no Float or Corelnk resource: their profile leaves out the `f32` widening and
/// the float range check. The value decoder is built only for the types of writable
/// resources (reads need none) unless Create or Bootstrap-Write, which set any resource, is
/// served: Device's one Objlnk resource is read-only, so a profile of objects 0, 1, 3 and 5
/// without those two has no Objlnk decoder. A device whose server only reads, discovers, writes single
/// resources and executes ([`without`](Profile::without) Create, Delete and partial update,
/// [`without_instance_writes`](Profile::without_instance_writes)) leaves out the instance and
/// Create payload handling too. `lwm2m-objects/README.md` has the figures.
///
/// Answers outside the profile: an operation it leaves out, or a Write of a whole instance
/// without instance writes, answers 4.05 Method Not Allowed; a value of a type it leaves out
/// (a definition the profile was not folded from, or a read hook that returns such a value)
/// answers 5.00 Internal Server Error: the device was built without the code for it; so does a
/// Write of a multiple resource when no folded definition needs that code (none has a
/// writable multiple resource, and Create and Bootstrap-Write, which set any resource, are
/// left out or no definition has a multiple resource: [`Profile::of`] notes both). Types
/// that share their code with one in the profile (Integer and Time, String and Corelnk) are
/// still handled.
///
/// ```
/// use lwm2m_objects::*;
///
/// const DEFINITIONS: [&ObjectDef; 2] = [&DEVICE, &FIRMWARE_UPDATE_V1_1];
/// const PROFILE: u32 = Profile::of(&DEFINITIONS).without(Operation::Create).bits();
/// // Checked at compile time: every type of the objects is covered.
/// const _: () = assert!(Profile::from_bits(PROFILE).covers(&DEVICE));
/// assert!(!Profile::from_bits(PROFILE).has(ResourceType::Float));
///
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
/// let mut dispatcher = Dispatcher::new(&mut objects).with_profile::<PROFILE>();
/// let mut out = [0u8; 64];
/// let read = Request::new(Operation::Read, Path::new_resource(5, 0, 3));
/// assert_eq!(dispatcher.handle(&read, &mut out).code, ResponseCode::Content);
/// let create = Request::new(Operation::Create, Path::new_object(5));
/// assert_eq!(dispatcher.handle(&create, &mut out).code, ResponseCode::MethodNotAllowed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Profile {
    bits: u32,
}

impl Profile {
    /// Every resource type and operation: the profile of
    /// [`Dispatcher::new`](crate::Dispatcher::new).
    pub const ALL: Profile = Profile { bits: u32::MAX };

    /// The resource types these definitions use, with every operation, and whether they
    /// have multiple resources that Writes (writable ones) or Create and Bootstrap-Write
    /// (any with a value) may set. The types of the writable resources are noted apart: a
    /// profile without Create and Bootstrap-Write decodes values of these types only (reads
    /// need no decoder).
    pub const fn of(definitions: &[&ObjectDef]) -> Profile {
        let mut profile = Profile {
            bits: !((1 << OPERATIONS) - 1) & !(WRITABLE_MULTIPLE | VALUED_MULTIPLE | WRITTEN),
        };
        let mut i = 0;
        while i < definitions.len() {
            let rows = definitions[i].resources();
            let mut j = 0;
            while j < rows.len() {
                profile.bits |= type_bit(rows[j].kind()) | multiple_bits(&rows[j]);
                if rows[j].operations().writable() {
                    profile.bits |= written_bit(rows[j].kind());
                }
                j += 1;
            }
            i += 1;
        }
        profile
    }

    /// This profile and resource type `kind` (read and written).
    pub const fn with(self, kind: ResourceType) -> Profile {
        Profile {
            bits: self.bits | type_bit(kind) | written_bit(kind),
        }
    }

    /// This profile without operation `operation` (it answers 4.05).
    pub const fn without(self, operation: Operation) -> Profile {
        Profile {
            bits: self.bits & !operation_bit(operation),
        }
    }

    /// This profile with Writes of single resources and resource instances only: a Write
    /// replace or partial update of a whole instance (and a Bootstrap-Write of an object or
    /// instance) answers 4.05.
    pub const fn without_instance_writes(self) -> Profile {
        Profile {
            bits: self.bits & !INSTANCE_WRITES,
        }
    }

    /// This profile reading every value through
    /// [`ObjectHandler::read_to`](crate::ObjectHandler::read_to): the handlers write their
    /// values straight into the response, and the dispatcher leaves out its own value writer
    /// (smaller when every handler implements `read_to`; [`read`](crate::ObjectHandler::read)
    /// is then never called). Without it the dispatcher reads through `read` (the default).
    pub const fn with_read_to(self) -> Profile {
        Profile {
            bits: self.bits & !READ_VALUES,
        }
    }

    /// This profile without requests that name a resource instance (`/O/I/R/RI`): they
    /// answer 4.05 Method Not Allowed, and the code for that depth is left out of the
    /// build. A multiple resource is still read, written and discovered whole (`/O/I/R`),
    /// its instances included.
    pub const fn without_resource_instance_paths(self) -> Profile {
        Profile {
            bits: self.bits & !RESOURCE_INSTANCE_PATHS,
        }
    }

    /// Whether the profile serves requests that name a resource instance (not after
    /// [`without_resource_instance_paths`](Self::without_resource_instance_paths)).
    pub const fn serves_resource_instance_paths(self) -> bool {
        resource_instance_paths(self.bits)
    }

    /// This profile for objects whose every instance has every resource of its definition
    /// (definitions trimmed to the resources the device implements, as the rows of the
    /// registry's tables): [`ObjectHandler::has_resource`](crate::ObjectHandler::has_resource)
    /// is never called, and its call sites are left out of the build. A handler that
    /// overrides it to leave a resource out must not be served under this profile.
    pub const fn with_every_resource(self) -> Profile {
        Profile {
            bits: self.bits & !ASK_RESOURCES,
        }
    }

    /// Whether the profile calls
    /// [`ObjectHandler::has_resource`](crate::ObjectHandler::has_resource) (not after
    /// [`with_every_resource`](Self::with_every_resource)).
    pub const fn asks_resources(self) -> bool {
        asks_resources(self.bits)
    }

    /// Whether the profile reads values through
    /// [`ObjectHandler::read_to`](crate::ObjectHandler::read_to).
    pub const fn reads_to(self) -> bool {
        reads_to(self.bits)
    }

    /// Whether the profile handles values of type `kind`.
    pub const fn has(self, kind: ResourceType) -> bool {
        has(self.bits, kind)
    }

    /// Whether the profile serves `operation`.
    pub const fn serves(self, operation: Operation) -> bool {
        serves(self.bits, operation)
    }

    /// Whether the profile handles every resource type of `definition`.
    pub const fn covers(self, definition: &ObjectDef) -> bool {
        let rows = definition.resources();
        let mut j = 0;
        while j < rows.len() {
            let mut needs = multiple_bits(&rows[j]);
            if rows[j].operations().writable() {
                needs |= written_bit(rows[j].kind());
            }
            if !self.has(rows[j].kind()) || self.bits & needs != needs {
                return false;
            }
            j += 1;
        }
        true
    }

    /// The bits, for the dispatcher's const parameter.
    pub const fn bits(self) -> u32 {
        self.bits
    }

    /// The profile these bits stand for.
    pub const fn from_bits(bits: u32) -> Profile {
        Profile { bits }
    }
}

/// The multiple-resource bits a resource row needs.
const fn multiple_bits(row: &ResourceDef) -> u32 {
    let mut bits = 0;
    if row.is_multiple() && !matches!(row.kind(), ResourceType::None) {
        bits |= VALUED_MULTIPLE;
        if row.operations().writable() {
            bits |= WRITABLE_MULTIPLE;
        }
    }
    bits
}

/// Whether a dispatcher on profile bits `p` may write the instances of a multiple resource:
/// a folded definition has a writable one, or one with a value and Create or Bootstrap-Write
/// is served (they set any resource).
pub(crate) const fn multiple_writes(p: u32) -> bool {
    p & WRITABLE_MULTIPLE != 0
        || (p & VALUED_MULTIPLE != 0
            && (serves(p, Operation::Create) || serves(p, Operation::BootstrapWrite)))
}

const fn type_bit(kind: ResourceType) -> u32 {
    1 << kind as u32
}

/// The bit that says a writable resource has type `kind` (String and Corelnk share one, as
/// they share their decoder; None and Opaque need no decoder).
const fn written_bit(kind: ResourceType) -> u32 {
    match kind {
        ResourceType::None | ResourceType::Opaque => 0,
        ResourceType::String | ResourceType::Corelnk => 1 << 10,
        ResourceType::Integer => 1 << 11,
        ResourceType::UnsignedInteger => 1 << 12,
        ResourceType::Float => 1 << 13,
        ResourceType::Boolean => 1 << 14,
        ResourceType::Time => 1 << 15,
        ResourceType::Objlnk => 1 << 25,
    }
}

const fn operation_bit(operation: Operation) -> u32 {
    1 << (OPERATIONS + operation as u32)
}

/// Whether profile bits `p` handle `kind` (a constant in the dispatcher's code).
pub(crate) const fn has(p: u32, kind: ResourceType) -> bool {
    p & type_bit(kind) != 0
}

/// Whether a dispatcher on profile bits `p` decodes values of type `kind`: the profile has
/// it, and a folded definition has a writable resource of that type or Create or
/// Bootstrap-Write (which set any resource) is served. A Write reaches the decoder only for a
/// resource it may set.
pub(crate) const fn decodes(p: u32, kind: ResourceType) -> bool {
    let bootstrap = cfg!(feature = "bootstrap") && serves(p, Operation::BootstrapWrite);
    has(p, kind) && (p & written_bit(kind) != 0 || serves(p, Operation::Create) || bootstrap)
}

/// Whether profile bits `p` serve `operation`.
pub(crate) const fn serves(p: u32, operation: Operation) -> bool {
    p & operation_bit(operation) != 0
}

/// Whether profile bits `p` take Writes of whole instances.
pub(crate) const fn instance_writes(p: u32) -> bool {
    p & INSTANCE_WRITES != 0
}

/// Whether profile bits `p` read values through `read_to`.
pub(crate) const fn reads_to(p: u32) -> bool {
    p & READ_VALUES == 0
}

/// Whether profile bits `p` serve requests that name a resource instance.
pub(crate) const fn resource_instance_paths(p: u32) -> bool {
    p & RESOURCE_INSTANCE_PATHS != 0
}

/// Whether profile bits `p` ask the handlers which resources an instance has.
pub(crate) const fn asks_resources(p: u32) -> bool {
    p & ASK_RESOURCES != 0
}

/// Whether profile bits `p` serve every operation (Bootstrap-Write is the last one).
pub(crate) const fn serves_all(p: u32) -> bool {
    let all = (operation_bit(Operation::BootstrapWrite) << 1) - (1 << OPERATIONS);
    p & all == all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoder_types_come_from_the_writable_resources() {
        use crate::{DEVICE, FIRMWARE_UPDATE_V1_1};
        // The written-type bits are apart from the types, the operations and the flags.
        let flags = WRITABLE_MULTIPLE | VALUED_MULTIPLE | RESOURCE_INSTANCE_PATHS;
        let flags = flags | ASK_RESOURCES | INSTANCE_WRITES | READ_VALUES;
        let ops = (operation_bit(Operation::BootstrapWrite) << 1) - (1 << OPERATIONS);
        assert_eq!(WRITTEN & (flags | ops | 0x3FF), 0);
        // Device's only Objlnk resource (22) is read-only: a profile without Create and
        // Bootstrap-Write reads it but has no Objlnk decoder.
        let p = Profile::of(&[&DEVICE, &FIRMWARE_UPDATE_V1_1]);
        assert!(p.has(ResourceType::Objlnk) && decodes(p.bits(), ResourceType::Objlnk));
        let writes = p.without(Operation::BootstrapWrite);
        assert!(decodes(writes.bits(), ResourceType::Objlnk));
        let writes = writes.without(Operation::Create);
        assert!(writes.has(ResourceType::Objlnk));
        assert!(!decodes(writes.bits(), ResourceType::Objlnk));
        for kind in [ResourceType::Time, ResourceType::String] {
            assert!(decodes(writes.bits(), kind), "{kind:?}");
        }
        assert!(decodes(
            writes.with(ResourceType::Objlnk).bits(),
            ResourceType::Objlnk
        ));
        assert!(writes.covers(&DEVICE) && !Profile::of(&[&DEVICE]).covers(&FIRMWARE_UPDATE_V1_1));
        assert!(decodes(Profile::ALL.bits(), ResourceType::Corelnk));
    }

    #[test]
    fn every_operation_has_its_own_bit_below_the_flags() {
        let all = [
            Operation::Read,
            Operation::Discover,
            Operation::WriteReplace,
            Operation::WriteUpdate,
            Operation::Execute,
            Operation::Create,
            Operation::Delete,
            Operation::WriteAttributes,
            Operation::BootstrapWrite,
        ];
        let mut bits = 0;
        for op in all {
            assert_eq!(bits & operation_bit(op), 0, "{op:?}");
            bits |= operation_bit(op);
            assert!(!serves_all(bits) || op == Operation::BootstrapWrite);
        }
        assert!(serves_all(bits) && bits & (INSTANCE_WRITES | READ_VALUES | ASK_RESOURCES) == 0);
        assert!(Profile::ALL.asks_resources() && Profile::of(&[]).asks_resources());
        assert!(!Profile::ALL.with_every_resource().asks_resources());
        let bits = bits | INSTANCE_WRITES | READ_VALUES | ASK_RESOURCES;
        assert_eq!(bits & RESOURCE_INSTANCE_PATHS, 0);
        assert!(Profile::ALL.serves_resource_instance_paths());
        assert!(Profile::of(&[]).serves_resource_instance_paths());
        let p = Profile::ALL.without_resource_instance_paths();
        assert!(!p.serves_resource_instance_paths() && p.reads_to() == Profile::ALL.reads_to());
        assert!(!Profile::ALL.reads_to() && !Profile::of(&[]).reads_to());
        assert!(Profile::ALL.with_read_to().reads_to());
        assert_eq!(Profile::ALL.with_read_to().bits(), !READ_VALUES);
        assert!(bits & ((1 << OPERATIONS) - 1) == 0);
        let p = Profile::ALL.without(Operation::Delete);
        assert!(!p.serves(Operation::Delete) && p.serves(Operation::Create));
        assert!(!serves_all(p.bits()));
    }
}
