//! The const object model: object and resource definitions.
//!
//! Every type here is `Copy` and const-constructible, so definitions live in flash as
//! `const` tables. Fields are private and read through accessors, which keeps the table layout
//! free to shrink without breaking users. The descriptive strings (object and resource names,
//! URN, units) are kept only with the `names` feature (on by default): a device that only
//! dispatches does not need them, and they are most of a table's flash.

/// The operations a resource allows, as the DDF `Operations` element spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Operations {
    /// No operation (`-` or empty): the resource is only set through bootstrap (e.g. Security).
    None,
    /// Read (`R`).
    Read,
    /// Write (`W`).
    Write,
    /// Read and write (`RW`).
    ReadWrite,
    /// Execute (`E`).
    Execute,
}

impl Operations {
    /// The DDF spelling: `-`, `R`, `W`, `RW` or `E`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operations::None => "-",
            Operations::Read => "R",
            Operations::Write => "W",
            Operations::ReadWrite => "RW",
            Operations::Execute => "E",
        }
    }

    /// Parses the DDF spelling (`R`, `W`, `RW`, `E`; empty or `-` is [`Operations::None`]).
    pub fn from_ddf(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "" | "-" => Operations::None,
            "R" => Operations::Read,
            "W" => Operations::Write,
            "RW" => Operations::ReadWrite,
            "E" => Operations::Execute,
            _ => return None,
        })
    }

    /// Whether a Read is allowed.
    pub const fn readable(self) -> bool {
        matches!(self, Operations::Read | Operations::ReadWrite)
    }

    /// Whether a Write is allowed.
    pub const fn writable(self) -> bool {
        matches!(self, Operations::Write | Operations::ReadWrite)
    }

    /// Whether an Execute is allowed.
    pub const fn executable(self) -> bool {
        matches!(self, Operations::Execute)
    }
}

/// The data type of a resource, as the DDF `Type` element names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ResourceType {
    /// No type: executable resources.
    None,
    /// UTF-8 string.
    String,
    /// Signed 64-bit integer.
    Integer,
    /// Unsigned 64-bit integer.
    UnsignedInteger,
    /// IEEE 754 float (32 or 64 bits).
    Float,
    /// Boolean.
    Boolean,
    /// Opaque bytes.
    Opaque,
    /// Seconds since the Unix epoch (signed integer).
    Time,
    /// Object link: object ID and instance ID.
    Objlnk,
    /// CoRE link (RFC 6690) as a string.
    Corelnk,
}

impl ResourceType {
    /// The DDF spelling: `String`, `Integer`, `Unsigned Integer`, `Float`, `Boolean`, `Opaque`,
    /// `Time`, `Objlnk`, `Corelnk`, or the empty string for [`ResourceType::None`].
    pub const fn ddf_name(self) -> &'static str {
        match self {
            ResourceType::None => "",
            ResourceType::String => "String",
            ResourceType::Integer => "Integer",
            ResourceType::UnsignedInteger => "Unsigned Integer",
            ResourceType::Float => "Float",
            ResourceType::Boolean => "Boolean",
            ResourceType::Opaque => "Opaque",
            ResourceType::Time => "Time",
            ResourceType::Objlnk => "Objlnk",
            ResourceType::Corelnk => "Corelnk",
        }
    }

    /// Parses the DDF spelling (case-insensitive; empty is [`ResourceType::None`]).
    pub fn from_ddf(text: &str) -> Option<Self> {
        const ALL: [ResourceType; 10] = [
            ResourceType::None,
            ResourceType::String,
            ResourceType::Integer,
            ResourceType::UnsignedInteger,
            ResourceType::Float,
            ResourceType::Boolean,
            ResourceType::Opaque,
            ResourceType::Time,
            ResourceType::Objlnk,
            ResourceType::Corelnk,
        ];
        let text = text.trim();
        ALL.into_iter()
            .find(|t| t.ddf_name().eq_ignore_ascii_case(text))
    }

    /// Whether a range on this type bounds the value's length in bytes (String, Opaque,
    /// Corelnk) rather than its numeric value.
    pub const fn range_is_length(self) -> bool {
        matches!(
            self,
            ResourceType::String | ResourceType::Opaque | ResourceType::Corelnk
        )
    }
}

/// An inclusive range: of the value for numbers, of the length in bytes for strings and opaque
/// values (see [`ResourceType::range_is_length`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Range {
    /// Smallest allowed value (or length).
    pub min: i64,
    /// Largest allowed value (or length).
    pub max: i64,
}

impl Range {
    /// Whether `value` lies within the range.
    pub const fn contains(&self, value: i64) -> bool {
        value >= self.min && value <= self.max
    }

    /// Parses a DDF `RangeEnumeration` that states one range: `0..255`, `0-255`, `1..65534`,
    /// `-128..127`, `0..255 bytes`, `6 bytes`, `6`. Anything else (enumerations such as
    /// `16,32,48`, prose) is not a range and gives `None`.
    pub fn parse(text: &str) -> Option<Range> {
        let text = text.trim();
        let text = text
            .strip_suffix("bytes")
            .or_else(|| text.strip_suffix("byte"))
            .unwrap_or(text)
            .trim();
        if text.is_empty() {
            return None;
        }
        let (min, max) = if let Some((a, b)) = text.split_once("..") {
            (a, b)
        } else {
            // `a-b`: the separator is the first '-' after the first character (a may be negative).
            match text.get(1..).and_then(|rest| rest.find('-')) {
                Some(at) => (&text[..at + 1], &text[at + 2..]),
                None => (text, text),
            }
        };
        let min: i64 = min.trim().parse().ok()?;
        let max: i64 = max.trim().parse().ok()?;
        (min <= max).then_some(Range { min, max })
    }
}

/// One entry of an object's range table: the inclusive range of one resource (of the value
/// for numbers, of the length in bytes for strings and opaque values).
///
/// Ranges sit in a table beside the resource rows because few resources have one: the rows
/// stay 4 bytes on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
// 10 bytes, 2-aligned: a Cortex-M3 loads unaligned words (an M0 loads bytes), 30 bytes
// less for the probe's 18 ranges.
#[repr(C, packed(2))]
pub struct RangeDef {
    // i32 keeps the table small; every range in the OMA registry's core objects fits.
    min: i32,
    max: i32,
    resource: u16,
}

impl RangeDef {
    /// The range `min..=max` of resource `resource`.
    pub const fn new(resource: u16, min: i32, max: i32) -> Self {
        RangeDef { min, max, resource }
    }

    /// The resource id.
    pub const fn resource(&self) -> u16 {
        self.resource
    }

    /// The range.
    pub const fn range(&self) -> Range {
        Range {
            min: self.min as i64,
            max: self.max as i64,
        }
    }

    /// The bounds as the table stores them.
    pub(crate) const fn bounds(&self) -> (i32, i32) {
        (self.min, self.max)
    }
}

const OPS: u8 = 7;
const MULTIPLE: u8 = 8;
const MANDATORY: u8 = 16;

/// The definition of one resource: id, name, operations, instances, mandatory, type and units
/// (its range, if any, is in the object's table: [`ObjectDef::range`]).
///
/// Built in const context with [`ResourceDef::new`] and the chained setters; a range goes
/// into the object's table ([`ObjectDef::with_ranges`]):
///
/// ```
/// use lwm2m_objects::{Operations, ResourceDef, ResourceType};
/// const STATE: ResourceDef = ResourceDef::new(3, "State", Operations::Read, ResourceType::Integer)
///     .mandatory();
/// assert!(STATE.is_mandatory() && !STATE.is_multiple());
/// // Without the `names` feature a row is 4 bytes: id, type and one byte of flags.
/// # #[cfg(not(feature = "names"))]
/// assert_eq!(core::mem::size_of::<ResourceDef>(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceDef {
    #[cfg(feature = "names")]
    name: &'static str,
    #[cfg(feature = "names")]
    units: &'static str,
    id: u16,
    kind: ResourceType,
    // Operations in the low 3 bits, then MULTIPLE and MANDATORY: without `names` a row is 4
    // bytes. Ranges live in the object's range table (few resources have one).
    flags: u8,
}

impl ResourceDef {
    /// A single-instance, optional resource without range or units.
    pub const fn new(
        id: u16,
        name: &'static str,
        operations: Operations,
        kind: ResourceType,
    ) -> Self {
        #[cfg(not(feature = "names"))]
        let _ = name;
        ResourceDef {
            #[cfg(feature = "names")]
            name,
            #[cfg(feature = "names")]
            units: "",
            id,
            kind,
            flags: operations as u8,
        }
    }

    /// Marks the resource as multiple-instance.
    pub const fn multiple(mut self) -> Self {
        self.flags |= MULTIPLE;
        self
    }

    /// Marks the resource as mandatory.
    pub const fn mandatory(mut self) -> Self {
        self.flags |= MANDATORY;
        self
    }

    /// Sets the units (as the DDF `Units` element writes them, e.g. `s`, `%`, `mV`).
    pub const fn with_units(#[allow(unused_mut)] mut self, units: &'static str) -> Self {
        #[cfg(feature = "names")]
        {
            self.units = units;
        }
        #[cfg(not(feature = "names"))]
        let _ = units;
        self
    }

    /// The resource ID.
    pub const fn id(&self) -> u16 {
        self.id
    }

    /// The name, as the registry spells it (empty without the `names` feature).
    pub const fn name(&self) -> &'static str {
        #[cfg(feature = "names")]
        return self.name;
        #[cfg(not(feature = "names"))]
        ""
    }

    /// The operations allowed.
    pub const fn operations(&self) -> Operations {
        match self.flags & OPS {
            1 => Operations::Read,
            2 => Operations::Write,
            3 => Operations::ReadWrite,
            4 => Operations::Execute,
            _ => Operations::None,
        }
    }

    /// The data type.
    pub const fn kind(&self) -> ResourceType {
        self.kind
    }

    /// Whether the resource has multiple instances.
    pub const fn is_multiple(&self) -> bool {
        self.flags & MULTIPLE != 0
    }

    /// Whether the resource is mandatory.
    pub const fn is_mandatory(&self) -> bool {
        self.flags & MANDATORY != 0
    }

    /// Whether a Read is allowed (straight from the flags).
    pub(crate) const fn readable(&self) -> bool {
        matches!(self.flags & OPS, 1 | 3)
    }

    /// Whether a Write is allowed (straight from the flags).
    pub(crate) const fn writable(&self) -> bool {
        matches!(self.flags & OPS, 2 | 3)
    }

    /// Whether an Execute is allowed (straight from the flags).
    pub(crate) const fn executable(&self) -> bool {
        self.flags & OPS == 4
    }

    /// The units, or the empty string (always without the `names` feature).
    pub const fn units(&self) -> &'static str {
        #[cfg(feature = "names")]
        return self.units;
        #[cfg(not(feature = "names"))]
        ""
    }
}

/// The definition of one object: id, name, URN with version, single or multiple instances,
/// mandatory, and its resources in increasing id order.
///
/// ```
/// use lwm2m_objects::{FIRMWARE_UPDATE_V1_1, Operations};
/// let fw = &FIRMWARE_UPDATE_V1_1;
/// assert_eq!((fw.id(), fw.version(), fw.is_multiple()), (5, (1, 1), false));
/// // With the `names` feature (default): fw.urn() == "urn:oma:lwm2m:oma:5:1.1".
/// assert_eq!(fw.resource(2).map(|r| r.operations()), Some(Operations::Execute));
/// assert!(fw.resource(4).is_none());
/// assert_eq!(fw.range(3).map(|r| r.max), Some(3)); // State 0..3
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectDef {
    #[cfg(feature = "names")]
    name: &'static str,
    #[cfg(feature = "names")]
    urn: &'static str,
    resources: &'static [ResourceDef],
    ranges: &'static [RangeDef],
    id: u16,
    version: (u8, u8),
    lwm2m_version: (u8, u8),
    flags: u8,
}

impl ObjectDef {
    /// A single-instance, optional object of version 1.0 for LwM2M 1.0.
    ///
    /// `urn` is the object's URN as the registry gives it (`urn:oma:lwm2m:oma:5`, with `:1.1`
    /// appended from version 1.1 on); `resources` must be in increasing id order.
    pub const fn new(
        id: u16,
        name: &'static str,
        urn: &'static str,
        resources: &'static [ResourceDef],
    ) -> Self {
        #[cfg(not(feature = "names"))]
        let _ = (name, urn);
        ObjectDef {
            #[cfg(feature = "names")]
            name,
            #[cfg(feature = "names")]
            urn,
            resources,
            ranges: &[],
            id,
            version: (1, 0),
            lwm2m_version: (1, 0),
            flags: 0,
        }
    }

    /// Sets the range table: one entry per resource that has a range, in increasing id order.
    pub const fn with_ranges(mut self, ranges: &'static [RangeDef]) -> Self {
        self.ranges = ranges;
        self
    }

    /// Sets the object version (`ObjectVersion`).
    pub const fn with_version(mut self, major: u8, minor: u8) -> Self {
        self.version = (major, minor);
        self
    }

    /// Sets the LwM2M version the object was defined for (`LWM2MVersion`).
    pub const fn with_lwm2m_version(mut self, major: u8, minor: u8) -> Self {
        self.lwm2m_version = (major, minor);
        self
    }

    /// Marks the object as multiple-instance.
    pub const fn multiple(mut self) -> Self {
        self.flags |= MULTIPLE;
        self
    }

    /// Marks the object as mandatory.
    pub const fn mandatory(mut self) -> Self {
        self.flags |= MANDATORY;
        self
    }

    /// The object ID.
    pub const fn id(&self) -> u16 {
        self.id
    }

    /// The name, as the registry spells it (empty without the `names` feature).
    pub const fn name(&self) -> &'static str {
        #[cfg(feature = "names")]
        return self.name;
        #[cfg(not(feature = "names"))]
        ""
    }

    /// The URN, with the version from 1.1 on (`urn:oma:lwm2m:oma:5:1.1`; empty without the
    /// `names` feature).
    pub const fn urn(&self) -> &'static str {
        #[cfg(feature = "names")]
        return self.urn;
        #[cfg(not(feature = "names"))]
        ""
    }

    /// The object version (major, minor).
    pub const fn version(&self) -> (u8, u8) {
        self.version
    }

    /// The LwM2M version the object was defined for (major, minor).
    pub const fn lwm2m_version(&self) -> (u8, u8) {
        self.lwm2m_version
    }

    /// Whether the object may have several instances.
    pub const fn is_multiple(&self) -> bool {
        self.flags & MULTIPLE != 0
    }

    /// Whether the object is mandatory.
    pub const fn is_mandatory(&self) -> bool {
        self.flags & MANDATORY != 0
    }

    /// The resources in increasing id order.
    pub const fn resources(&self) -> &'static [ResourceDef] {
        self.resources
    }

    /// The resource with this id.
    pub fn resource(&self, id: u16) -> Option<&'static ResourceDef> {
        self.resources.iter().find(|r| r.id == id)
    }

    /// The range table.
    pub const fn ranges(&self) -> &'static [RangeDef] {
        self.ranges
    }

    /// The range of resource `id`, if the definition states one.
    pub fn range(&self, id: u16) -> Option<Range> {
        self.bounds(id).map(|(min, max)| Range {
            min: i64::from(min),
            max: i64::from(max),
        })
    }

    /// The range bounds of resource `id` as the table stores them.
    pub(crate) fn bounds(&self, id: u16) -> Option<(i32, i32)> {
        self.ranges
            .iter()
            .find(|r| r.resource == id)
            .map(RangeDef::bounds)
    }
}
