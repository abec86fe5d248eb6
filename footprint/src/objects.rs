//! Probe for the `objects` component.
//!
//! The full probe (`full` below: the dispatcher with the definitions of objects 0, 1, 3 and 5
//! (v1.1 with the operator resources) registered under the profile folded from those
//! definitions (their resource types, every operation, values read through `read_to`: the
//! handler writes them itself; every instance with every resource of its definition, so
//! `has_resource` is never asked), one `handle` call site on an opaque request whose operation
//! and Uri-Path segments come from the input, and the Register payload; `lwm2m-objects`
//! without default features, so without Bootstrap-Write and Write-Attributes) measures about
//! 5.6 KB, above the 2,500-byte goal; lwm2m-objects/README.md breaks the figure down
//! per operation (and gives the figure of the same handler on `read`).

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    full::probe();
}

mod full {
    use lwm2m_objects::{
        DEVICE, Dispatcher, FIRMWARE_UPDATE_V1_1_OPERATOR, ObjectDef, ObjectHandler, Operation,
        Path, Profile, Request, ResponseCode, SECURITY, SERVER, Value, ValueOut,
    };

    /// One object with a single instance whose resources read back opaque input.
    struct Probe {
        def: &'static ObjectDef,
        last: i64,
    }

    impl ObjectHandler for Probe {
        fn definition(&self) -> &ObjectDef {
            self.def
        }

        fn next_instance(&self, after: Option<u16>) -> Option<u16> {
            if after.is_none() { Some(0) } else { None }
        }

        fn next_resource_instance(&self, _: u16, _: u16, after: Option<u16>) -> Option<u16> {
            if after.is_none() { Some(0) } else { None }
        }

        fn read_to(
            &self,
            _: u16,
            resource: u16,
            _: Option<u16>,
            out: &mut ValueOut<'_>,
        ) -> Result<(), ResponseCode> {
            let def = self.def.resource(resource).ok_or(ResponseCode::NotFound)?;
            match def.kind() {
                lwm2m_objects::ResourceType::String => out.string(b"probe"),
                lwm2m_objects::ResourceType::Opaque => out.opaque(crate::input(4)),
                _ => out.integer(self.last),
            }
        }

        fn write(
            &mut self,
            _: u16,
            r: u16,
            _: Option<u16>,
            v: Value<'_>,
        ) -> Result<(), ResponseCode> {
            self.last = match v {
                Value::Integer(v) => v,
                _ => i64::from(r),
            };
            Ok(())
        }

        fn execute(&mut self, _: u16, resource: u16, _: &[u8]) -> Result<(), ResponseCode> {
            self.last = i64::from(resource);
            Ok(())
        }
    }

    /// Exercises the component's device-side code paths on opaque input.
    pub fn probe() {
        let mut security = Probe {
            def: &SECURITY,
            last: 0,
        };
        let mut server = Probe {
            def: &SERVER,
            last: 0,
        };
        let mut device = Probe {
            def: &DEVICE,
            last: 0,
        };
        let mut firmware = Probe {
            def: &FIRMWARE_UPDATE_V1_1_OPERATOR,
            last: 0,
        };
        let mut objects: [&mut dyn ObjectHandler; 4] =
            [&mut security, &mut server, &mut device, &mut firmware];
        // The device's profile: the resource types of its four objects (no Float, no
        // Corelnk), every operation, values read through `read_to`, every instance with
        // every resource of its definition (the handler leaves none out).
        const DEFINITIONS: [&ObjectDef; 4] =
            [&SECURITY, &SERVER, &DEVICE, &FIRMWARE_UPDATE_V1_1_OPERATOR];
        const PROFILE: u32 = Profile::of(&DEFINITIONS)
            .with_read_to()
            .with_every_resource()
            .bits();
        let mut dispatcher =
            Dispatcher::new(core::hint::black_box(&mut objects)).with_profile::<PROFILE>();
        let mut out = [0u8; 128];

        let input = crate::input(32);
        // The Uri-Path segments as a CoAP layer hands them over (none to four of them).
        let depth = usize::from(input.first().copied().unwrap_or(0) >> 5);
        let segments = input.get(1..9).unwrap_or(&[]).chunks(2).take(depth);
        let path = Path::from_segments(segments).unwrap_or(Path::ROOT);
        let format = core::hint::black_box(Some(lwm2m_objects::CONTENT_FORMAT_TLV));
        // One call site, as in a device's request loop; the operation comes from the input.
        const OPS: [Operation; 7] = [
            Operation::Read,
            Operation::Discover,
            Operation::WriteReplace,
            Operation::WriteUpdate,
            Operation::Execute,
            Operation::Create,
            Operation::Delete,
        ];
        let op = core::hint::black_box(&OPS)
            .get(usize::from(input.first().copied().unwrap_or(0) % 7))
            .copied()
            .unwrap_or(Operation::Read);
        let req = Request::new(op, path)
            .with_payload(format, input.get(8..).unwrap_or(&[]))
            .with_accept(core::hint::black_box(None));
        crate::keep(dispatcher.handle(&req, &mut out));
        crate::keep(dispatcher.registration_links(&mut out));
        crate::keep(&out);
    }
}
