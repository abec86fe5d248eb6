//! A generic in-memory object implementation for the dispatcher tests.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use lwm2m_objects::{ObjectDef, ObjectHandler, ResponseCode, Value, ValueOut};

/// An owned resource value.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    Time(i64),
    Link(u16, u16),
    Core(String),
}

impl Owned {
    pub fn from_value(v: Value<'_>) -> Owned {
        match v {
            Value::Integer(v) => Owned::Int(v),
            Value::Unsigned(v) => Owned::Uint(v),
            Value::Float(v) => Owned::Float(v),
            Value::Boolean(v) => Owned::Bool(v),
            Value::String(v) => Owned::Str(String::from_utf8(v.to_vec()).unwrap()),
            Value::Opaque(v) => Owned::Bytes(v.to_vec()),
            Value::Time(v) => Owned::Time(v),
            Value::ObjLnk(o, i) => Owned::Link(o, i),
            Value::CoreLnk(v) => Owned::Core(String::from_utf8(v.to_vec()).unwrap()),
        }
    }

    pub fn value(&self) -> Value<'_> {
        match self {
            Owned::Int(v) => Value::Integer(*v),
            Owned::Uint(v) => Value::Unsigned(*v),
            Owned::Float(v) => Value::Float(*v),
            Owned::Bool(v) => Value::Boolean(*v),
            Owned::Str(v) => Value::String(v.as_bytes()),
            Owned::Bytes(v) => Value::Opaque(v),
            Owned::Time(v) => Value::Time(*v),
            Owned::Link(o, i) => Value::ObjLnk(*o, *i),
            Owned::Core(v) => Value::CoreLnk(v.as_bytes()),
        }
    }
}

/// Key: (instance, resource, resource instance).
pub type Key = (u16, u16, Option<u16>);

/// Stores values per instance; records every Execute, Create, Delete and Clear. Reads through
/// both hooks: `read` (a [`Value`]) and `read_to` (the typed [`ValueOut`] calls).
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    pub def: &'static ObjectDef,
    pub instances: BTreeSet<u16>,
    pub values: BTreeMap<Key, Owned>,
    /// Resources this object leaves out (optional ones).
    pub absent: BTreeSet<u16>,
    pub log: Vec<String>,
    pub creatable: bool,
}

impl Store {
    pub fn new(def: &'static ObjectDef, instances: &[u16]) -> Store {
        Store {
            def,
            instances: instances.iter().copied().collect(),
            values: BTreeMap::new(),
            absent: BTreeSet::new(),
            log: Vec::new(),
            creatable: true,
        }
    }

    pub fn set(mut self, instance: u16, resource: u16, ri: Option<u16>, value: Owned) -> Store {
        self.values.insert((instance, resource, ri), value);
        self
    }

    pub fn without(mut self, resources: &[u16]) -> Store {
        self.absent.extend(resources.iter().copied());
        self
    }

    pub fn get(&self, instance: u16, resource: u16, ri: Option<u16>) -> Option<&Owned> {
        self.values.get(&(instance, resource, ri))
    }
}

impl ObjectHandler for Store {
    fn definition(&self) -> &ObjectDef {
        self.def
    }

    fn next_instance(&self, after: Option<u16>) -> Option<u16> {
        match after {
            None => self.instances.iter().next().copied(),
            Some(a) => self
                .instances
                .range(a.saturating_add(1)..)
                .next()
                .copied()
                .filter(|&i| i > a),
        }
    }

    fn has_resource(&self, _instance: u16, resource: u16) -> bool {
        !self.absent.contains(&resource)
    }

    fn next_resource_instance(
        &self,
        instance: u16,
        resource: u16,
        after: Option<u16>,
    ) -> Option<u16> {
        self.values
            .keys()
            .filter(|(i, r, ri)| *i == instance && *r == resource && ri.is_some())
            .filter_map(|(_, _, ri)| *ri)
            .find(|&ri| after.is_none_or(|a| ri > a))
    }

    fn read(
        &self,
        instance: u16,
        resource: u16,
        ri: Option<u16>,
    ) -> Result<Value<'_>, ResponseCode> {
        self.values
            .get(&(instance, resource, ri))
            .map(Owned::value)
            .ok_or(ResponseCode::NotFound)
    }

    fn read_to(
        &self,
        instance: u16,
        resource: u16,
        ri: Option<u16>,
        out: &mut ValueOut<'_>,
    ) -> Result<(), ResponseCode> {
        match self
            .values
            .get(&(instance, resource, ri))
            .ok_or(ResponseCode::NotFound)?
        {
            Owned::Int(v) => out.integer(*v),
            Owned::Uint(v) => out.unsigned(*v),
            Owned::Float(v) => out.float(*v),
            Owned::Bool(v) => out.boolean(*v),
            Owned::Str(v) => out.string(v.as_bytes()),
            Owned::Bytes(v) => out.opaque(v),
            Owned::Time(v) => out.time(*v),
            Owned::Link(o, i) => out.objlnk(*o, *i),
            Owned::Core(v) => out.corelnk(v.as_bytes()),
        }
    }

    fn write(
        &mut self,
        instance: u16,
        resource: u16,
        ri: Option<u16>,
        value: Value<'_>,
    ) -> Result<(), ResponseCode> {
        self.values
            .insert((instance, resource, ri), Owned::from_value(value));
        Ok(())
    }

    fn clear(&mut self, instance: u16, resource: u16) -> Result<(), ResponseCode> {
        self.log.push(format!("clear {instance}/{resource}"));
        self.values
            .retain(|(i, r, _), _| !(*i == instance && *r == resource));
        Ok(())
    }

    fn execute(
        &mut self,
        instance: u16,
        resource: u16,
        arguments: &[u8],
    ) -> Result<(), ResponseCode> {
        self.log.push(format!(
            "execute {instance}/{resource} {}",
            String::from_utf8_lossy(arguments)
        ));
        Ok(())
    }

    fn create(&mut self, instance: u16) -> Result<(), ResponseCode> {
        if !self.creatable {
            return Err(ResponseCode::MethodNotAllowed);
        }
        self.log.push(format!("create {instance}"));
        self.instances.insert(instance);
        Ok(())
    }

    fn delete(&mut self, instance: u16) -> Result<(), ResponseCode> {
        self.log.push(format!("delete {instance}"));
        self.instances.remove(&instance);
        self.values.retain(|(i, _, _), _| *i != instance);
        Ok(())
    }
}
