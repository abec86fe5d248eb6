//! The OMA DDF XML loader (`std`): reads object definition files in the registry's format
//! (`LWM2M` / `Object` / `Resources` / `Item`) into owned definitions, checks them, compares
//! them with the const tables and generates const tables from them.
//!
//! ```
//! use lwm2m_objects::ddf::load_ddf_str;
//! let xml = r#"<LWM2M><Object ObjectType="MODefinition">
//!   <Name>Counter</Name><ObjectID>33000</ObjectID><ObjectURN>urn:oma:lwm2m:x:33000</ObjectURN>
//!   <MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
//!   <Resources><Item ID="0"><Name>Count</Name><Operations>R</Operations>
//!     <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
//!     <Type>Integer</Type><RangeEnumeration>0..100</RangeEnumeration><Units></Units>
//!   </Item></Resources></Object></LWM2M>"#;
//! let objects = load_ddf_str("counter.xml", xml)?;
//! let counter = &objects[0];
//! assert_eq!((counter.id, counter.name.as_str(), counter.resources.len()), (33000, "Counter", 1));
//! assert_eq!(counter.resources[0].range.map(|r| r.max), Some(100));
//!
//! // A broken file names the file, line and element.
//! let err = load_ddf_str("bad.xml", &xml.replace("<Type>Integer", "<Type>Int")).unwrap_err();
//! assert!(err.to_string().starts_with("bad.xml:6: <Item ID=\"0\"/Type>"), "{err}");
//! # Ok::<(), lwm2m_objects::Error>(())
//! ```

use std::borrow::ToOwned;
use std::boxed::Box;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

use roxmltree::{Document, Node};

use crate::Error;
use crate::model::{ObjectDef, Operations, Range, RangeDef, ResourceDef, ResourceType};

/// One object definition loaded from a DDF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdfObject {
    /// `ObjectID`.
    pub id: u16,
    /// `Name`, as written in the file.
    pub name: String,
    /// `ObjectURN` (derived as `urn:oma:lwm2m:oma:ID[:X.Y]` when absent).
    pub urn: String,
    /// `ObjectVersion` (1.0 when absent).
    pub version: (u8, u8),
    /// `LWM2MVersion` (1.0 when absent).
    pub lwm2m_version: (u8, u8),
    /// `MultipleInstances` is `Multiple`.
    pub multiple: bool,
    /// `Mandatory` is `Mandatory`.
    pub mandatory: bool,
    /// `Description1`.
    pub description: String,
    /// The resources, sorted by id.
    pub resources: Vec<DdfResource>,
}

/// One resource (`Item`) of a [`DdfObject`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdfResource {
    /// The `ID` attribute.
    pub id: u16,
    /// `Name`, as written in the file.
    pub name: String,
    /// `Operations`.
    pub operations: Operations,
    /// `MultipleInstances` is `Multiple`.
    pub multiple: bool,
    /// `Mandatory` is `Mandatory`.
    pub mandatory: bool,
    /// `Type`.
    pub kind: ResourceType,
    /// `Type` as written in the file (trimmed; empty for none).
    pub type_text: String,
    /// `RangeEnumeration` as written in the file (trimmed).
    pub range_text: String,
    /// The range, when `RangeEnumeration` states one (see [`Range::parse`]).
    pub range: Option<Range>,
    /// `Units`.
    pub units: String,
    /// `Description`.
    pub description: String,
}

/// Loads every object of a DDF file.
pub fn load_ddf(path: impl AsRef<std::path::Path>) -> Result<Vec<DdfObject>, Error> {
    let path = path.as_ref();
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Ddf {
        file: label.clone(),
        element: "file".to_owned(),
        line: 0,
        reason: e.to_string(),
    })?;
    load_ddf_str(&label, &text)
}

/// Loads every object of DDF text; `file` labels the errors.
pub fn load_ddf_str(file: &str, xml: &str) -> Result<Vec<DdfObject>, Error> {
    let doc = Document::parse(xml).map_err(|e| Error::Ddf {
        file: file.to_owned(),
        element: "document".to_owned(),
        line: e.pos().row,
        reason: e.to_string(),
    })?;
    let ctx = Ctx { file, doc: &doc };
    let root = doc.root_element();
    if root.tag_name().name() != "LWM2M" {
        return Err(ctx.err(
            root,
            root.tag_name().name(),
            "the root element must be LWM2M",
        ));
    }
    let mut objects = Vec::new();
    for node in root.children().filter(Node::is_element) {
        if node.tag_name().name() != "Object" {
            return Err(ctx.err(node, node.tag_name().name(), "expected Object"));
        }
        objects.push(ctx.object(node)?);
    }
    if objects.is_empty() {
        return Err(ctx.err(root, "LWM2M", "no Object element"));
    }
    Ok(objects)
}

struct Ctx<'d, 'x> {
    file: &'d str,
    doc: &'d Document<'x>,
}

impl Ctx<'_, '_> {
    fn err(&self, node: Node<'_, '_>, element: &str, reason: &str) -> Error {
        Error::Ddf {
            file: self.file.to_owned(),
            element: element.to_owned(),
            line: self.doc.text_pos_at(node.range().start).row,
            reason: reason.to_owned(),
        }
    }

    /// The text of child `name` (trimmed), or `None` when absent.
    fn child<'a, 'x>(&self, parent: Node<'a, 'x>, name: &str) -> Option<(Node<'a, 'x>, String)> {
        parent
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == name)
            .map(|c| (c, c.text().unwrap_or("").trim().to_owned()))
    }

    fn required<'a, 'x>(
        &self,
        parent: Node<'a, 'x>,
        prefix: &str,
        name: &str,
    ) -> Result<(Node<'a, 'x>, String), Error> {
        self.child(parent, name).ok_or_else(|| {
            self.err(
                parent,
                &format!("{prefix}{name}"),
                "required element is missing",
            )
        })
    }

    fn flag(
        &self,
        parent: Node<'_, '_>,
        prefix: &str,
        name: &str,
        yes: &str,
        no: &str,
    ) -> Result<bool, Error> {
        let (node, text) = self.required(parent, prefix, name)?;
        if text == yes {
            Ok(true)
        } else if text == no {
            Ok(false)
        } else {
            Err(self.err(
                node,
                &format!("{prefix}{name}"),
                &format!("expected {yes} or {no}, found {text:?}"),
            ))
        }
    }

    fn version(&self, parent: Node<'_, '_>, name: &str) -> Result<(u8, u8), Error> {
        let Some((node, text)) = self.child(parent, name) else {
            return Ok((1, 0));
        };
        if text.is_empty() {
            return Ok((1, 0));
        }
        parse_version(&text).ok_or_else(|| {
            self.err(
                node,
                name,
                &format!("expected a version such as 1.1, found {text:?}"),
            )
        })
    }

    fn object(&self, node: Node<'_, '_>) -> Result<DdfObject, Error> {
        let (name_node, name) = self.required(node, "", "Name")?;
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(self.err(
                name_node,
                "Name",
                "empty object name or a control character in it",
            ));
        }
        let (id_node, id_text) = self.required(node, "", "ObjectID")?;
        let id = parse_id(&id_text).ok_or_else(|| {
            self.err(
                id_node,
                "ObjectID",
                &format!("expected an id 0..65534, found {id_text:?}"),
            )
        })?;
        let version = self.version(node, "ObjectVersion")?;
        let lwm2m_version = self.version(node, "LWM2MVersion")?;
        let urn = match self.child(node, "ObjectURN") {
            Some((urn_node, urn)) if !urn.is_empty() => {
                check_urn(&urn, id, version)
                    .map_err(|reason| self.err(urn_node, "ObjectURN", &reason))?;
                urn
            }
            _ => default_urn(id, version),
        };
        let multiple = self.flag(node, "", "MultipleInstances", "Multiple", "Single")?;
        let mandatory = self.flag(node, "", "Mandatory", "Mandatory", "Optional")?;
        let description = self
            .child(node, "Description1")
            .map(|(_, t)| t)
            .unwrap_or_default();
        let (resources_node, _) = self.required(node, "", "Resources")?;
        let mut resources: Vec<DdfResource> = Vec::new();
        for item in resources_node.children().filter(Node::is_element) {
            if item.tag_name().name() != "Item" {
                return Err(self.err(
                    item,
                    &format!("Resources/{}", item.tag_name().name()),
                    "expected Item",
                ));
            }
            let resource = self.item(item)?;
            if resources.iter().any(|r| r.id == resource.id) {
                return Err(self.err(
                    item,
                    &format!("Item ID=\"{}\"", resource.id),
                    "duplicate resource id",
                ));
            }
            resources.push(resource);
        }
        resources.sort_by_key(|r| r.id);
        Ok(DdfObject {
            id,
            name,
            urn,
            version,
            lwm2m_version,
            multiple,
            mandatory,
            description,
            resources,
        })
    }

    fn item(&self, item: Node<'_, '_>) -> Result<DdfResource, Error> {
        let id_text = item.attribute("ID").unwrap_or("");
        let id = parse_id(id_text.trim()).ok_or_else(|| {
            self.err(
                item,
                &format!("Item ID=\"{id_text}\""),
                "expected an ID attribute 0..65534",
            )
        })?;
        let prefix = format!("Item ID=\"{id}\"/");
        let (name_node, name) = self.required(item, &prefix, "Name")?;
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(self.err(
                name_node,
                &format!("{prefix}Name"),
                "empty resource name or a control character in it",
            ));
        }
        let (ops_node, ops_text) = self.required(item, &prefix, "Operations")?;
        let operations = Operations::from_ddf(&ops_text).ok_or_else(|| {
            self.err(
                ops_node,
                &format!("{prefix}Operations"),
                &format!("expected R, W, RW, E or nothing, found {ops_text:?}"),
            )
        })?;
        let multiple = self.flag(item, &prefix, "MultipleInstances", "Multiple", "Single")?;
        let mandatory = self.flag(item, &prefix, "Mandatory", "Mandatory", "Optional")?;
        let (type_node, type_text) = self.required(item, &prefix, "Type")?;
        let kind = ResourceType::from_ddf(&type_text).ok_or_else(|| {
            self.err(
                type_node,
                &format!("{prefix}Type"),
                &format!("unknown type {type_text:?}"),
            )
        })?;
        if operations == Operations::Execute && kind != ResourceType::None {
            return Err(self.err(
                type_node,
                &format!("{prefix}Type"),
                "an executable resource has no type",
            ));
        }
        let range_text = self
            .child(item, "RangeEnumeration")
            .map(|(_, t)| t)
            .unwrap_or_default();
        let range = Range::parse(&range_text);
        let units = self
            .child(item, "Units")
            .map(|(_, t)| t)
            .unwrap_or_default();
        let description = self
            .child(item, "Description")
            .map(|(_, t)| t)
            .unwrap_or_default();
        Ok(DdfResource {
            id,
            name,
            operations,
            multiple,
            mandatory,
            kind,
            type_text,
            range_text,
            range,
            units,
            description,
        })
    }
}

fn parse_id(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|&id| id <= crate::MAX_ID)
}

fn parse_version(text: &str) -> Option<(u8, u8)> {
    let (major, minor) = text.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn default_urn(id: u16, version: (u8, u8)) -> String {
    if version == (1, 0) {
        format!("urn:oma:lwm2m:oma:{id}")
    } else {
        format!("urn:oma:lwm2m:oma:{id}:{}.{}", version.0, version.1)
    }
}

/// `urn:oma:lwm2m:{oma|ext|x}:ID[:X.Y]`, with the object's id and (from 1.1 on) version.
fn check_urn(urn: &str, id: u16, version: (u8, u8)) -> Result<(), String> {
    let rest = [
        "urn:oma:lwm2m:oma:",
        "urn:oma:lwm2m:ext:",
        "urn:oma:lwm2m:x:",
    ]
    .iter()
    .find_map(|p| urn.strip_prefix(p))
    .ok_or_else(|| format!("{urn:?} does not start with urn:oma:lwm2m:oma|ext|x:"))?;
    let (urn_id, urn_version) = match rest.split_once(':') {
        Some((i, v)) => (i, Some(v)),
        None => (rest, None),
    };
    if parse_id(urn_id) != Some(id) {
        return Err(format!("{urn:?} does not name object {id}"));
    }
    match urn_version {
        Some(v) if parse_version(v) != Some(version) => Err(format!(
            "{urn:?} does not match ObjectVersion {}.{}",
            version.0, version.1
        )),
        None if version != (1, 0) => Err(format!(
            "{urn:?} lacks the version {}.{} (required from 1.1 on)",
            version.0, version.1
        )),
        _ => Ok(()),
    }
}

impl DdfResource {
    /// The type as the `ddf` example prints it: the DDF text lower-cased, or `none`.
    pub fn type_label(&self) -> String {
        if self.type_text.is_empty() {
            "none".to_owned()
        } else {
            self.type_text.to_lowercase()
        }
    }

    /// The const definition of this resource.
    fn to_static(&self) -> ResourceDef {
        let name: &'static str = Box::leak(self.name.clone().into_boxed_str());
        let units: &'static str = Box::leak(self.units.clone().into_boxed_str());
        let mut def = ResourceDef::new(self.id, name, self.operations, self.kind).with_units(units);
        if self.multiple {
            def = def.multiple();
        }
        if self.mandatory {
            def = def.mandatory();
        }
        def
    }

    /// The range table entry of this resource, if it has a range (clamped to `i32`).
    fn range_def(&self) -> Option<RangeDef> {
        let clamp = |v: i64| v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        self.range
            .map(|range| RangeDef::new(self.id, clamp(range.min), clamp(range.max)))
    }
}

impl DdfObject {
    /// The resource with this id.
    pub fn resource(&self, id: u16) -> Option<&DdfResource> {
        self.resources.iter().find(|r| r.id == id)
    }

    /// Turns the definition into a const-model [`ObjectDef`] for the dispatcher. The strings
    /// and the resource table are leaked: load definitions once, at start-up. Ranges beyond
    /// `i32` are clamped.
    pub fn to_static(&self) -> &'static ObjectDef {
        let resources: Vec<ResourceDef> =
            self.resources.iter().map(DdfResource::to_static).collect();
        let resources: &'static [ResourceDef] = Box::leak(resources.into_boxed_slice());
        let ranges: Vec<RangeDef> = self
            .resources
            .iter()
            .filter_map(DdfResource::range_def)
            .collect();
        let ranges: &'static [RangeDef] = Box::leak(ranges.into_boxed_slice());
        let name: &'static str = Box::leak(self.name.clone().into_boxed_str());
        let urn: &'static str = Box::leak(self.urn.clone().into_boxed_str());
        let mut def = ObjectDef::new(self.id, name, urn, resources)
            .with_ranges(ranges)
            .with_version(self.version.0, self.version.1)
            .with_lwm2m_version(self.lwm2m_version.0, self.lwm2m_version.1);
        if self.multiple {
            def = def.multiple();
        }
        if self.mandatory {
            def = def.mandatory();
        }
        Box::leak(Box::new(def))
    }

    /// The differences between this definition and a const one (empty when they agree on
    /// ids, names, URN, versions, instances, mandatory, operations, types, ranges and units).
    pub fn differences(&self, def: &ObjectDef) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |what: &str, ddf: String, konst: String| {
            if ddf != konst {
                out.push(format!("{what}: DDF {ddf:?}, const {konst:?}"));
            }
        };
        check("ObjectID", self.id.to_string(), def.id().to_string());
        check("Name", self.name.clone(), def.name().to_owned());
        check("ObjectURN", self.urn.clone(), def.urn().to_owned());
        check(
            "ObjectVersion",
            format!("{:?}", self.version),
            format!("{:?}", def.version()),
        );
        check(
            "LWM2MVersion",
            format!("{:?}", self.lwm2m_version),
            format!("{:?}", def.lwm2m_version()),
        );
        check(
            "MultipleInstances",
            self.multiple.to_string(),
            def.is_multiple().to_string(),
        );
        check(
            "Mandatory",
            self.mandatory.to_string(),
            def.is_mandatory().to_string(),
        );
        let ids = |v: Vec<u16>| format!("{v:?}");
        check(
            "resource ids",
            ids(self.resources.iter().map(|r| r.id).collect()),
            ids(def.resources().iter().map(|r| r.id()).collect()),
        );
        for r in &self.resources {
            let Some(k) = def.resource(r.id) else {
                continue;
            };
            let p = format!("Item {}", r.id);
            check(&format!("{p} Name"), r.name.clone(), k.name().to_owned());
            check(
                &format!("{p} Operations"),
                r.operations.as_str().to_owned(),
                k.operations().as_str().to_owned(),
            );
            check(
                &format!("{p} MultipleInstances"),
                r.multiple.to_string(),
                k.is_multiple().to_string(),
            );
            check(
                &format!("{p} Mandatory"),
                r.mandatory.to_string(),
                k.is_mandatory().to_string(),
            );
            check(
                &format!("{p} Type"),
                format!("{:?}", r.kind),
                format!("{:?}", k.kind()),
            );
            check(
                &format!("{p} Range"),
                format!("{:?}", r.range),
                format!("{:?}", def.range(r.id)),
            );
            check(&format!("{p} Units"), r.units.clone(), k.units().to_owned());
        }
        out
    }

    /// Rust source of a const [`ObjectDef`] named `const_name` for this definition (the
    /// generator behind the tables in this crate).
    pub fn to_rust(&self, const_name: &str) -> String {
        let mut s = format!(
            "/// {} (object {}), version {}.{} (`{}`).\npub const {const_name}: ObjectDef = ObjectDef::new(\n    {},\n    {:?},\n    {:?},\n    &[\n",
            self.name,
            self.id,
            self.version.0,
            self.version.1,
            self.urn,
            self.id,
            self.name,
            self.urn
        );
        for r in &self.resources {
            s.push_str(&format!(
                "        ResourceDef::new({}, {:?}, Operations::{:?}, ResourceType::{:?})",
                r.id, r.name, r.operations, r.kind
            ));
            if r.multiple {
                s.push_str(".multiple()");
            }
            if r.mandatory {
                s.push_str(".mandatory()");
            }
            if !r.units.is_empty() {
                s.push_str(&format!(".with_units({:?})", r.units));
            }
            s.push_str(",\n");
        }
        s.push_str("    ],\n)");
        let ranges: Vec<String> = self
            .resources
            .iter()
            .filter_map(DdfResource::range_def)
            .map(|r| {
                let Range { min, max } = r.range();
                format!("RangeDef::new({}, {min}, {max})", r.resource())
            })
            .collect();
        if !ranges.is_empty() {
            s.push_str(&format!("\n.with_ranges(&[{}])", ranges.join(", ")));
        }
        if self.version != (1, 0) {
            s.push_str(&format!(
                "\n.with_version({}, {})",
                self.version.0, self.version.1
            ));
        }
        if self.lwm2m_version != (1, 0) {
            s.push_str(&format!(
                "\n.with_lwm2m_version({}, {})",
                self.lwm2m_version.0, self.lwm2m_version.1
            ));
        }
        if self.multiple {
            s.push_str("\n.multiple()");
        }
        if self.mandatory {
            s.push_str("\n.mandatory()");
        }
        s.push_str(";\n");
        s
    }
}
