//! Every core definition against its DDF file in `ddf/` (written for these tests from the OMA
//! registry's facts), through the loader: same ids, names, URN, versions, operations,
//! instances, mandatory flags, types, ranges and units.
#![cfg(feature = "std")]

use lwm2m_objects::ddf::load_ddf;
use lwm2m_objects::*;

fn ddf(file: &str) -> lwm2m_objects::ddf::DdfObject {
    let path = format!("{}/ddf/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut objects = load_ddf(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(objects.len(), 1, "{file}");
    objects.remove(0)
}

#[test]
fn core_definitions_match_their_ddf() {
    let cases: [(&str, &ObjectDef); 17] = [
        ("0.xml", &SECURITY),
        ("1.xml", &SERVER),
        ("2.xml", &ACCESS_CONTROL),
        ("3.xml", &DEVICE),
        ("4.xml", &CONNECTIVITY_MONITORING),
        ("5-1_0.xml", &FIRMWARE_UPDATE_V1_0),
        ("5-1_1.xml", &FIRMWARE_UPDATE_V1_1),
        ("5-1_2.xml", &FIRMWARE_UPDATE_V1_2),
        ("5-1_2-operator.xml", &FIRMWARE_UPDATE_V1_2_OPERATOR),
        ("6.xml", &LOCATION),
        ("7.xml", &CONNECTIVITY_STATISTICS),
        ("33629.xml", &ADVANCED_FIRMWARE_UPDATE),
        ("0-1_1.xml", &SECURITY_V1_1),
        ("1-1_1.xml", &SERVER_V1_1),
        ("3-1_1.xml", &DEVICE_V1_1),
        ("0.xml", CORE_OBJECTS[0]),
        ("33629.xml", CORE_OBJECTS[8]),
    ];
    for (file, def) in cases {
        let loaded = ddf(file);
        let diff = loaded.differences(def);
        assert!(diff.is_empty(), "{file}: {diff:#?}");
        // The owned definition turned into the const model is the very same table.
        assert_eq!(loaded.to_static(), def, "{file}");
    }
}

#[test]
fn operator_variants_extend_each_version() {
    for (base, ext) in [
        (&FIRMWARE_UPDATE_V1_0, &FIRMWARE_UPDATE_V1_0_OPERATOR),
        (&FIRMWARE_UPDATE_V1_1, &FIRMWARE_UPDATE_V1_1_OPERATOR),
        (&FIRMWARE_UPDATE_V1_2, &FIRMWARE_UPDATE_V1_2_OPERATOR),
    ] {
        assert_eq!(&ext.resources()[..base.resources().len()], base.resources());
        let extra: Vec<_> = ext.resources()[base.resources().len()..]
            .iter()
            .map(|r| (r.id(), r.name(), r.operations(), r.kind()))
            .collect();
        assert_eq!(
            extra,
            [
                (
                    26500,
                    "Transferred Bytes",
                    Operations::Read,
                    ResourceType::Integer
                ),
                (
                    26501,
                    "Switch to Download State",
                    Operations::Execute,
                    ResourceType::None
                ),
            ]
        );
        assert_eq!((ext.urn(), ext.version()), (base.urn(), base.version()));
    }
}

#[test]
fn tables_are_sorted_and_unique() {
    let all = [
        &SECURITY,
        &SECURITY_V1_1,
        &SERVER,
        &SERVER_V1_1,
        &DEVICE_V1_1,
        &ACCESS_CONTROL,
        &DEVICE,
        &CONNECTIVITY_MONITORING,
        &FIRMWARE_UPDATE_V1_0,
        &FIRMWARE_UPDATE_V1_1,
        &FIRMWARE_UPDATE_V1_2,
        &FIRMWARE_UPDATE_V1_0_OPERATOR,
        &FIRMWARE_UPDATE_V1_1_OPERATOR,
        &FIRMWARE_UPDATE_V1_2_OPERATOR,
        &LOCATION,
        &CONNECTIVITY_STATISTICS,
        &ADVANCED_FIRMWARE_UPDATE,
    ];
    for def in all {
        let ids: Vec<u16> = def.resources().iter().map(|r| r.id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{}", def.name());
        for r in def.resources() {
            // Executable resources carry no type, and only they do not.
            assert_eq!(
                r.operations() == Operations::Execute,
                r.kind() == ResourceType::None,
                "{} {}",
                def.name(),
                r.name()
            );
        }
    }
    // No resource 4 in object 5; Update Result ranges per version.
    assert!(FIRMWARE_UPDATE_V1_2.resource(4).is_none());
    let result_max = |d: &ObjectDef| d.range(5).map(|r| r.max);
    assert_eq!(result_max(&FIRMWARE_UPDATE_V1_0), Some(9));
    assert_eq!(result_max(&FIRMWARE_UPDATE_V1_1), Some(11));
    assert_eq!(result_max(&ADVANCED_FIRMWARE_UPDATE), Some(13));
}

#[test]
fn generator_output_loads_the_same_table() {
    // The generator writes the const source the tables in src/registry.rs were made from.
    let fw = ddf("5-1_1.xml");
    let src = fw.to_rust("FIRMWARE_UPDATE_V1_1");
    assert!(src.contains("pub const FIRMWARE_UPDATE_V1_1: ObjectDef = ObjectDef::new("));
    assert!(src.contains(
        r#"ResourceDef::new(13, "Maximum Defer Period", Operations::ReadWrite, ResourceType::UnsignedInteger).with_units("s")"#
    ));
    assert!(src.contains(".with_ranges(&[RangeDef::new(1, 0, 255), RangeDef::new(3, 0, 3), "));
    assert!(src.contains(".with_version(1, 1)\n.with_lwm2m_version(1, 1);"));
}
