//! The core object definitions, as the OMA LwM2M registry defines them.
//!
//! Object 5 comes in versions 1.0, 1.1 and 1.2, each also with the operator resources 26500 and
//! 26501 of the workspace specification; the other objects are given in version 1.0 (the
//! version every LwM2M 1.0 and 1.1 server knows, registered without a `ver` attribute), objects
//! 0, 1 and 3 also in version 1.1 (`SECURITY_V1_1`, `SERVER_V1_1`, `DEVICE_V1_1`, registered
//! with `ver=1.1`), and the Advanced Firmware Update object in its only version 1.0. `tests/definitions.rs` checks every
//! table against a DDF file in `ddf/`.

use crate::model::{ObjectDef, Operations, RangeDef, ResourceDef, ResourceType};

/// LwM2M Security (object 0), version 1.0 (`urn:oma:lwm2m:oma:0`, LwM2M 1.0).
pub const SECURITY: ObjectDef = ObjectDef::new(
    0,
    "LWM2M Security",
    "urn:oma:lwm2m:oma:0",
    &[
        rows::R0_0,
        rows::R0_1,
        rows::R0_2,
        rows::R0_3,
        rows::R0_4,
        rows::R0_5,
        rows::R0_6,
        rows::R0_7,
        rows::R0_8,
        rows::R0_9,
        rows::R0_10,
        rows::R0_11,
        rows::R0_12,
    ],
)
.with_ranges(&[
    RangeDef::new(0, 0, 255),
    RangeDef::new(2, 0, 4),
    RangeDef::new(6, 0, 255),
    RangeDef::new(7, 6, 6),
    RangeDef::new(10, 1, 65534),
])
.multiple()
.mandatory();

/// LwM2M Server (object 1), version 1.0 (`urn:oma:lwm2m:oma:1`, LwM2M 1.0).
pub const SERVER: ObjectDef = ObjectDef::new(
    1,
    "LwM2M Server",
    "urn:oma:lwm2m:oma:1",
    &[
        ResourceDef::new(
            0,
            "Short Server ID",
            Operations::Read,
            ResourceType::Integer,
        )
        .mandatory(),
        rows::R1_1,
        rows::R1_2,
        rows::R1_3,
        rows::R1_4,
        rows::R1_5,
        rows::R1_6,
        rows::R1_7,
        rows::R1_8,
    ],
)
.with_ranges(&[RangeDef::new(0, 1, 65535)])
.multiple()
.mandatory();

/// LwM2M Access Control (object 2), version 1.0 (`urn:oma:lwm2m:oma:2`, LwM2M 1.0).
pub const ACCESS_CONTROL: ObjectDef = ObjectDef::new(
    2,
    "LwM2M Access Control",
    "urn:oma:lwm2m:oma:2",
    &[
        ResourceDef::new(0, "Object ID", Operations::Read, ResourceType::Integer).mandatory(),
        ResourceDef::new(
            1,
            "Object Instance ID",
            Operations::Read,
            ResourceType::Integer,
        )
        .mandatory(),
        ResourceDef::new(2, "ACL", Operations::ReadWrite, ResourceType::Integer).multiple(),
        ResourceDef::new(
            3,
            "Access Control Owner",
            Operations::ReadWrite,
            ResourceType::Integer,
        )
        .mandatory(),
    ],
)
.with_ranges(&[
    RangeDef::new(0, 1, 65534),
    RangeDef::new(1, 0, 65535),
    RangeDef::new(3, 0, 65535),
])
.multiple();

/// Device (object 3), version 1.0 (`urn:oma:lwm2m:oma:3`, LwM2M 1.0), resources 0 to 22.
pub const DEVICE: ObjectDef = ObjectDef::new(
    3,
    "Device",
    "urn:oma:lwm2m:oma:3",
    &[
        rows::R3_0,
        rows::R3_1,
        rows::R3_2,
        rows::R3_3,
        rows::R3_4,
        rows::R3_5,
        rows::R3_6,
        ResourceDef::new(
            7,
            "Power Source Voltage",
            Operations::Read,
            ResourceType::Integer,
        )
        .multiple()
        .with_units("mV"),
        ResourceDef::new(
            8,
            "Power Source Current",
            Operations::Read,
            ResourceType::Integer,
        )
        .multiple()
        .with_units("mA"),
        rows::R3_9,
        ResourceDef::new(10, "Memory Free", Operations::Read, ResourceType::Integer)
            .with_units("KB"),
        rows::R3_11,
        rows::R3_12,
        rows::R3_13,
        rows::R3_14,
        rows::R3_15,
        rows::R3_16,
        rows::R3_17,
        rows::R3_18,
        rows::R3_19,
        rows::R3_20,
        rows::R3_21,
        rows::R3_22,
    ],
)
.with_ranges(ranges::DEVICE_RANGES)
.mandatory();

/// Connectivity Monitoring (object 4), version 1.0 (`urn:oma:lwm2m:oma:4`, LwM2M 1.0).
pub const CONNECTIVITY_MONITORING: ObjectDef = ObjectDef::new(
    4,
    "Connectivity Monitoring",
    "urn:oma:lwm2m:oma:4",
    &[
        ResourceDef::new(0, "Network Bearer", Operations::Read, ResourceType::Integer).mandatory(),
        ResourceDef::new(
            1,
            "Available Network Bearer",
            Operations::Read,
            ResourceType::Integer,
        )
        .multiple()
        .mandatory(),
        ResourceDef::new(
            2,
            "Radio Signal Strength",
            Operations::Read,
            ResourceType::Integer,
        )
        .mandatory()
        .with_units("dBm"),
        ResourceDef::new(3, "Link Quality", Operations::Read, ResourceType::Integer),
        ResourceDef::new(4, "IP Addresses", Operations::Read, ResourceType::String)
            .multiple()
            .mandatory(),
        ResourceDef::new(
            5,
            "Router IP Addresses",
            Operations::Read,
            ResourceType::String,
        )
        .multiple(),
        ResourceDef::new(
            6,
            "Link Utilization",
            Operations::Read,
            ResourceType::Integer,
        )
        .with_units("%"),
        ResourceDef::new(7, "APN", Operations::Read, ResourceType::String).multiple(),
        ResourceDef::new(8, "Cell ID", Operations::Read, ResourceType::Integer),
        ResourceDef::new(9, "SMNC", Operations::Read, ResourceType::Integer).with_units("%"),
        ResourceDef::new(10, "SMCC", Operations::Read, ResourceType::Integer),
    ],
)
.with_ranges(&[
    RangeDef::new(0, 0, 50),
    RangeDef::new(1, 0, 50),
    RangeDef::new(6, 0, 100),
    RangeDef::new(9, 0, 999),
    RangeDef::new(10, 0, 999),
]);

/// Firmware Update (object 5), version 1.0 (`urn:oma:lwm2m:oma:5`, LwM2M 1.0).
pub const FIRMWARE_UPDATE_V1_0: ObjectDef = ObjectDef::new(
    5,
    "Firmware Update",
    "urn:oma:lwm2m:oma:5",
    &[
        rows::R5_0,
        rows::R5_1,
        rows::R5_2,
        rows::R5_3,
        rows::R5_5,
        rows::R5_6,
        rows::R5_7,
        rows::R5_8,
        rows::R5_9,
    ],
)
.with_ranges(ranges::FIRMWARE_UPDATE_V1_0_RANGES);

/// [`FIRMWARE_UPDATE_V1_0`] plus the operator resources 26500 Transferred Bytes (R, Integer) and 26501 Switch to Download State (E).
pub const FIRMWARE_UPDATE_V1_0_OPERATOR: ObjectDef = ObjectDef::new(
    5,
    "Firmware Update",
    "urn:oma:lwm2m:oma:5",
    &[
        rows::R5_0,
        rows::R5_1,
        rows::R5_2,
        rows::R5_3,
        rows::R5_5,
        rows::R5_6,
        rows::R5_7,
        rows::R5_8,
        rows::R5_9,
        rows::R5_26500,
        rows::R5_26501,
    ],
)
.with_ranges(ranges::FIRMWARE_UPDATE_V1_0_RANGES);

/// Firmware Update (object 5), version 1.1 (`urn:oma:lwm2m:oma:5:1.1`, LwM2M 1.1): adds Cancel, Severity, Last State Change Time, Maximum Defer Period.
pub const FIRMWARE_UPDATE_V1_1: ObjectDef = ObjectDef::new(
    5,
    "Firmware Update",
    "urn:oma:lwm2m:oma:5:1.1",
    &[
        rows::R5_0,
        rows::R5_1,
        rows::R5_2,
        rows::R5_3,
        rows::R5_5,
        rows::R5_6,
        rows::R5_7,
        rows::R5_8,
        rows::R5_9,
        rows::R5_10,
        rows::R5_11,
        rows::R5_12,
        rows::R5_13,
    ],
)
.with_ranges(ranges::FIRMWARE_UPDATE_V1_1_RANGES)
.with_version(1, 1)
.with_lwm2m_version(1, 1);

/// [`FIRMWARE_UPDATE_V1_1`] plus the operator resources 26500 Transferred Bytes (R, Integer) and 26501 Switch to Download State (E).
pub const FIRMWARE_UPDATE_V1_1_OPERATOR: ObjectDef = ObjectDef::new(
    5,
    "Firmware Update",
    "urn:oma:lwm2m:oma:5:1.1",
    &[
        rows::R5_0,
        rows::R5_1,
        rows::R5_2,
        rows::R5_3,
        rows::R5_5,
        rows::R5_6,
        rows::R5_7,
        rows::R5_8,
        rows::R5_9,
        rows::R5_10,
        rows::R5_11,
        rows::R5_12,
        rows::R5_13,
        rows::R5_26500,
        rows::R5_26501,
    ],
)
.with_ranges(ranges::FIRMWARE_UPDATE_V1_1_RANGES)
.with_version(1, 1)
.with_lwm2m_version(1, 1);

/// Firmware Update (object 5), version 1.2 (`urn:oma:lwm2m:oma:5:1.2`, LwM2M 1.1): adds Automatic Upgrade at Download.
pub const FIRMWARE_UPDATE_V1_2: ObjectDef = ObjectDef::new(
    5,
    "Firmware Update",
    "urn:oma:lwm2m:oma:5:1.2",
    &[
        rows::R5_0,
        rows::R5_1,
        rows::R5_2,
        rows::R5_3,
        rows::R5_5,
        rows::R5_6,
        rows::R5_7,
        rows::R5_8,
        rows::R5_9,
        rows::R5_10,
        rows::R5_11,
        rows::R5_12,
        rows::R5_13,
        rows::R5_14,
    ],
)
.with_ranges(ranges::FIRMWARE_UPDATE_V1_1_RANGES)
.with_version(1, 2)
.with_lwm2m_version(1, 1);

/// [`FIRMWARE_UPDATE_V1_2`] plus the operator resources 26500 Transferred Bytes (R, Integer) and 26501 Switch to Download State (E).
pub const FIRMWARE_UPDATE_V1_2_OPERATOR: ObjectDef = ObjectDef::new(
    5,
    "Firmware Update",
    "urn:oma:lwm2m:oma:5:1.2",
    &[
        rows::R5_0,
        rows::R5_1,
        rows::R5_2,
        rows::R5_3,
        rows::R5_5,
        rows::R5_6,
        rows::R5_7,
        rows::R5_8,
        rows::R5_9,
        rows::R5_10,
        rows::R5_11,
        rows::R5_12,
        rows::R5_13,
        rows::R5_14,
        rows::R5_26500,
        rows::R5_26501,
    ],
)
.with_ranges(ranges::FIRMWARE_UPDATE_V1_1_RANGES)
.with_version(1, 2)
.with_lwm2m_version(1, 1);

/// Location (object 6), version 1.0 (`urn:oma:lwm2m:oma:6`, LwM2M 1.0).
pub const LOCATION: ObjectDef = ObjectDef::new(
    6,
    "Location",
    "urn:oma:lwm2m:oma:6",
    &[
        ResourceDef::new(0, "Latitude", Operations::Read, ResourceType::Float)
            .mandatory()
            .with_units("lat"),
        ResourceDef::new(1, "Longitude", Operations::Read, ResourceType::Float)
            .mandatory()
            .with_units("lon"),
        ResourceDef::new(2, "Altitude", Operations::Read, ResourceType::Float).with_units("m"),
        ResourceDef::new(3, "Radius", Operations::Read, ResourceType::Float).with_units("m"),
        ResourceDef::new(4, "Velocity", Operations::Read, ResourceType::Opaque),
        ResourceDef::new(5, "Timestamp", Operations::Read, ResourceType::Time).mandatory(),
        ResourceDef::new(6, "Speed", Operations::Read, ResourceType::Float).with_units("m/s"),
    ],
);

/// Connectivity Statistics (object 7), version 1.0 (`urn:oma:lwm2m:oma:7`, LwM2M 1.0).
pub const CONNECTIVITY_STATISTICS: ObjectDef = ObjectDef::new(
    7,
    "Connectivity Statistics",
    "urn:oma:lwm2m:oma:7",
    &[
        ResourceDef::new(0, "SMS Tx Counter", Operations::Read, ResourceType::Integer),
        ResourceDef::new(1, "SMS Rx Counter", Operations::Read, ResourceType::Integer),
        ResourceDef::new(2, "Tx Data", Operations::Read, ResourceType::Integer),
        ResourceDef::new(3, "Rx Data", Operations::Read, ResourceType::Integer),
        ResourceDef::new(
            4,
            "Max Message Size",
            Operations::Read,
            ResourceType::Integer,
        )
        .with_units("B"),
        ResourceDef::new(
            5,
            "Average Message Size",
            Operations::Read,
            ResourceType::Integer,
        )
        .with_units("B"),
        ResourceDef::new(6, "Start", Operations::Execute, ResourceType::None).mandatory(),
        ResourceDef::new(7, "Stop", Operations::Execute, ResourceType::None).mandatory(),
        ResourceDef::new(
            8,
            "Collection Period",
            Operations::ReadWrite,
            ResourceType::Integer,
        )
        .with_units("s"),
    ],
);

/// Advanced Firmware Update (object 33629), version 1.0 (`urn:oma:lwm2m:oma:33629`, LwM2M 1.1): one instance per firmware component.
pub const ADVANCED_FIRMWARE_UPDATE: ObjectDef = ObjectDef::new(
    33629,
    "Advanced Firmware Update",
    "urn:oma:lwm2m:oma:33629",
    &[
        rows::R5_0,
        rows::R5_1,
        rows::R5_2,
        rows::R5_3,
        ResourceDef::new(5, "Update Result", Operations::Read, ResourceType::Integer).mandatory(),
        rows::R5_6,
        rows::R5_7,
        rows::R5_8,
        rows::R5_9,
        rows::R5_10,
        rows::R5_11,
        rows::R5_12,
        rows::R5_13,
        ResourceDef::new(14, "Component Name", Operations::Read, ResourceType::String).mandatory(),
        ResourceDef::new(
            15,
            "Current Version",
            Operations::Read,
            ResourceType::String,
        )
        .mandatory(),
        ResourceDef::new(
            16,
            "Linked Instances",
            Operations::Read,
            ResourceType::Objlnk,
        )
        .multiple(),
        ResourceDef::new(
            17,
            "Conflicting Instances",
            Operations::Read,
            ResourceType::Objlnk,
        )
        .multiple(),
    ],
)
.with_ranges(&[
    RangeDef::new(1, 0, 255),
    RangeDef::new(3, 0, 3),
    RangeDef::new(5, 0, 13),
    RangeDef::new(6, 0, 255),
    RangeDef::new(7, 0, 255),
    RangeDef::new(8, 0, 5),
    RangeDef::new(9, 0, 2),
    RangeDef::new(11, 0, 2),
])
.with_lwm2m_version(1, 1)
.multiple();

/// LwM2M Security (object 0), version 1.1 (`urn:oma:lwm2m:oma:0:1.1`, LwM2M 1.1).
pub const SECURITY_V1_1: ObjectDef = ObjectDef::new(
    0,
    "LWM2M Security",
    "urn:oma:lwm2m:oma:0:1.1",
    &[
        rows::R0_0,
        rows::R0_1,
        rows::R0_2,
        rows::R0_3,
        rows::R0_4,
        rows::R0_5,
        rows::R0_6,
        rows::R0_7,
        rows::R0_8,
        rows::R0_9,
        rows::R0_10,
        rows::R0_11,
        rows::R0_12,
        ResourceDef::new(
            13,
            "Matching Type",
            Operations::None,
            ResourceType::UnsignedInteger,
        )
        .with_units("s"),
        ResourceDef::new(14, "SNI", Operations::None, ResourceType::String),
        ResourceDef::new(
            15,
            "Certificate Usage",
            Operations::None,
            ResourceType::UnsignedInteger,
        )
        .with_units("s"),
        ResourceDef::new(
            16,
            "DTLS/TLS Ciphersuite",
            Operations::None,
            ResourceType::UnsignedInteger,
        )
        .multiple(),
        ResourceDef::new(
            17,
            "OSCORE Security Mode",
            Operations::None,
            ResourceType::Objlnk,
        ),
    ],
)
.with_ranges(&[
    RangeDef::new(0, 0, 255),
    RangeDef::new(2, 0, 4),
    RangeDef::new(6, 0, 255),
    RangeDef::new(7, 6, 6),
    RangeDef::new(10, 1, 65534),
    RangeDef::new(13, 0, 3),
    RangeDef::new(15, 0, 3),
])
.with_version(1, 1)
.with_lwm2m_version(1, 1)
.multiple()
.mandatory();

/// LwM2M Server (object 1), version 1.1 (`urn:oma:lwm2m:oma:1:1.1`, LwM2M 1.1).
pub const SERVER_V1_1: ObjectDef = ObjectDef::new(
    1,
    "LwM2M Server",
    "urn:oma:lwm2m:oma:1:1.1",
    &[
        ResourceDef::new(
            0,
            "Short Server ID",
            Operations::Read,
            ResourceType::Integer,
        )
        .mandatory(),
        rows::R1_1,
        rows::R1_2,
        rows::R1_3,
        rows::R1_4,
        rows::R1_5,
        rows::R1_6,
        rows::R1_7,
        rows::R1_8,
        ResourceDef::new(
            9,
            "Bootstrap-Request Trigger",
            Operations::Execute,
            ResourceType::None,
        ),
        ResourceDef::new(10, "APN Link", Operations::ReadWrite, ResourceType::Objlnk),
        ResourceDef::new(
            11,
            "TLS-DTLS Alert Code",
            Operations::Read,
            ResourceType::UnsignedInteger,
        ),
        ResourceDef::new(
            12,
            "Last Bootstrapped",
            Operations::Read,
            ResourceType::Time,
        ),
        ResourceDef::new(
            13,
            "Registration Priority Order",
            Operations::None,
            ResourceType::UnsignedInteger,
        ),
        ResourceDef::new(
            14,
            "Initial Registration Delay Timer",
            Operations::None,
            ResourceType::UnsignedInteger,
        )
        .with_units("s"),
        ResourceDef::new(
            15,
            "Registration Failure Block",
            Operations::None,
            ResourceType::Boolean,
        ),
        ResourceDef::new(
            16,
            "Bootstrap on Registration Failure",
            Operations::None,
            ResourceType::Boolean,
        ),
        ResourceDef::new(
            17,
            "Communication Retry Count",
            Operations::None,
            ResourceType::UnsignedInteger,
        ),
        ResourceDef::new(
            18,
            "Communication Retry Timer",
            Operations::None,
            ResourceType::UnsignedInteger,
        )
        .with_units("s"),
        ResourceDef::new(
            19,
            "Communication Sequence Delay Timer",
            Operations::None,
            ResourceType::UnsignedInteger,
        ),
        ResourceDef::new(
            20,
            "Communication Sequence Retry Count",
            Operations::None,
            ResourceType::UnsignedInteger,
        ),
        ResourceDef::new(21, "Trigger", Operations::ReadWrite, ResourceType::Boolean),
        ResourceDef::new(
            22,
            "Preferred Transport",
            Operations::ReadWrite,
            ResourceType::String,
        ),
        ResourceDef::new(
            23,
            "Mute Send",
            Operations::ReadWrite,
            ResourceType::Boolean,
        ),
    ],
)
.with_ranges(&[RangeDef::new(0, 1, 65534), RangeDef::new(11, 0, 255)])
.with_version(1, 1)
.with_lwm2m_version(1, 1)
.multiple()
.mandatory();

/// Device (object 3), version 1.1 (`urn:oma:lwm2m:oma:3:1.1`, LwM2M 1.1).
pub const DEVICE_V1_1: ObjectDef = ObjectDef::new(
    3,
    "Device",
    "urn:oma:lwm2m:oma:3:1.1",
    &[
        rows::R3_0,
        rows::R3_1,
        rows::R3_2,
        rows::R3_3,
        rows::R3_4,
        rows::R3_5,
        rows::R3_6,
        ResourceDef::new(
            7,
            "Power Source Voltage",
            Operations::Read,
            ResourceType::Integer,
        )
        .multiple(),
        ResourceDef::new(
            8,
            "Power Source Current",
            Operations::Read,
            ResourceType::Integer,
        )
        .multiple(),
        rows::R3_9,
        ResourceDef::new(10, "Memory Free", Operations::Read, ResourceType::Integer),
        rows::R3_11,
        rows::R3_12,
        rows::R3_13,
        rows::R3_14,
        rows::R3_15,
        rows::R3_16,
        rows::R3_17,
        rows::R3_18,
        rows::R3_19,
        rows::R3_20,
        rows::R3_21,
        rows::R3_22,
    ],
)
.with_ranges(ranges::DEVICE_RANGES)
.with_version(1, 1)
.with_lwm2m_version(1, 1)
.mandatory();

/// The core objects of this crate, one definition per object id (object 5 in version 1.1 with
/// the operator resources).
pub const CORE_OBJECTS: [&ObjectDef; 9] = [
    &SECURITY,
    &SERVER,
    &ACCESS_CONTROL,
    &DEVICE,
    &CONNECTIVITY_MONITORING,
    &FIRMWARE_UPDATE_V1_1_OPERATOR,
    &LOCATION,
    &CONNECTIVITY_STATISTICS,
    &ADVANCED_FIRMWARE_UPDATE,
];

/// Resource ids of the Firmware Update object (5) and the Advanced Firmware Update object
/// (33629), which shares ids 0 to 13.
pub mod firmware_update {
    /// Package (W, Opaque): the image, pushed block-wise.
    pub const PACKAGE: u16 = 0;
    /// Package URI (RW, String): pull from this URI.
    pub const PACKAGE_URI: u16 = 1;
    /// Update (E).
    pub const UPDATE: u16 = 2;
    /// State (R, Integer 0..3).
    pub const STATE: u16 = 3;
    /// Update Result (R, Integer).
    pub const UPDATE_RESULT: u16 = 5;
    /// PkgName (R, String).
    pub const PKG_NAME: u16 = 6;
    /// PkgVersion (R, String).
    pub const PKG_VERSION: u16 = 7;
    /// Firmware Update Protocol Support (R, multiple Integer 0..5).
    pub const PROTOCOL_SUPPORT: u16 = 8;
    /// Firmware Update Delivery Method (R, Integer 0..2).
    pub const DELIVERY_METHOD: u16 = 9;
    /// Cancel (E), from version 1.1.
    pub const CANCEL: u16 = 10;
    /// Severity (RW, Integer 0..2), from version 1.1.
    pub const SEVERITY: u16 = 11;
    /// Last State Change Time (R, Time), from version 1.1.
    pub const LAST_STATE_CHANGE_TIME: u16 = 12;
    /// Maximum Defer Period (RW, Unsigned Integer, s), from version 1.1.
    pub const MAXIMUM_DEFER_PERIOD: u16 = 13;
    /// Automatic Upgrade at Download (RW, Boolean), version 1.2.
    pub const AUTOMATIC_UPGRADE_AT_DOWNLOAD: u16 = 14;
    /// Transferred Bytes (R, Integer): operator extension, bytes stored so far.
    pub const TRANSFERRED_BYTES: u16 = 26500;
    /// Switch to Download State (E): operator extension.
    pub const SWITCH_TO_DOWNLOAD_STATE: u16 = 26501;
}

/// Resource rows that several object versions share, written once.
mod rows {
    use crate::model::{Operations, ResourceDef, ResourceType};

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_0: ResourceDef = ResourceDef::new(
        0,
        "LWM2M  Server URI",
        Operations::None,
        ResourceType::String,
    )
    .mandatory();

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_1: ResourceDef = ResourceDef::new(
        1,
        "Bootstrap-Server",
        Operations::None,
        ResourceType::Boolean,
    )
    .mandatory();

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_10: ResourceDef = ResourceDef::new(
        10,
        "Short Server ID",
        Operations::None,
        ResourceType::Integer,
    );

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_11: ResourceDef = ResourceDef::new(
        11,
        "Client Hold Off Time",
        Operations::None,
        ResourceType::Integer,
    )
    .with_units("s");

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_12: ResourceDef = ResourceDef::new(
        12,
        "Bootstrap-Server Account Timeout",
        Operations::None,
        ResourceType::Integer,
    )
    .with_units("s");

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_2: ResourceDef =
        ResourceDef::new(2, "Security Mode", Operations::None, ResourceType::Integer).mandatory();

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_3: ResourceDef = ResourceDef::new(
        3,
        "Public Key or Identity",
        Operations::None,
        ResourceType::Opaque,
    )
    .mandatory();

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_4: ResourceDef = ResourceDef::new(
        4,
        "Server Public Key",
        Operations::None,
        ResourceType::Opaque,
    )
    .mandatory();

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_5: ResourceDef =
        ResourceDef::new(5, "Secret Key", Operations::None, ResourceType::Opaque).mandatory();

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_6: ResourceDef = ResourceDef::new(
        6,
        "SMS Security Mode",
        Operations::None,
        ResourceType::Integer,
    );

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_7: ResourceDef = ResourceDef::new(
        7,
        "SMS Binding Key Parameters",
        Operations::None,
        ResourceType::Opaque,
    );

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_8: ResourceDef = ResourceDef::new(
        8,
        "SMS Binding Secret Key(s)",
        Operations::None,
        ResourceType::Opaque,
    );

    /// In SECURITY, SECURITY_V1_1.
    pub(super) const R0_9: ResourceDef = ResourceDef::new(
        9,
        "LwM2M Server SMS Number",
        Operations::None,
        ResourceType::String,
    );

    /// In SERVER, SERVER_V1_1.
    pub(super) const R1_1: ResourceDef =
        ResourceDef::new(1, "Lifetime", Operations::ReadWrite, ResourceType::Integer)
            .mandatory()
            .with_units("s");

    /// In SERVER, SERVER_V1_1.
    pub(super) const R1_2: ResourceDef = ResourceDef::new(
        2,
        "Default Minimum Period",
        Operations::ReadWrite,
        ResourceType::Integer,
    )
    .with_units("s");

    /// In SERVER, SERVER_V1_1.
    pub(super) const R1_3: ResourceDef = ResourceDef::new(
        3,
        "Default Maximum Period",
        Operations::ReadWrite,
        ResourceType::Integer,
    )
    .with_units("s");

    /// In SERVER, SERVER_V1_1.
    pub(super) const R1_4: ResourceDef =
        ResourceDef::new(4, "Disable", Operations::Execute, ResourceType::None);

    /// In SERVER, SERVER_V1_1.
    pub(super) const R1_5: ResourceDef = ResourceDef::new(
        5,
        "Disable Timeout",
        Operations::ReadWrite,
        ResourceType::Integer,
    )
    .with_units("s");

    /// In SERVER, SERVER_V1_1.
    pub(super) const R1_6: ResourceDef = ResourceDef::new(
        6,
        "Notification Storing When Disabled or Offline",
        Operations::ReadWrite,
        ResourceType::Boolean,
    )
    .mandatory();

    /// In SERVER, SERVER_V1_1.
    pub(super) const R1_7: ResourceDef =
        ResourceDef::new(7, "Binding", Operations::ReadWrite, ResourceType::String).mandatory();

    /// In SERVER, SERVER_V1_1.
    pub(super) const R1_8: ResourceDef = ResourceDef::new(
        8,
        "Registration Update Trigger",
        Operations::Execute,
        ResourceType::None,
    )
    .mandatory();

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_0: ResourceDef =
        ResourceDef::new(0, "Manufacturer", Operations::Read, ResourceType::String);

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_1: ResourceDef =
        ResourceDef::new(1, "Model Number", Operations::Read, ResourceType::String);

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_11: ResourceDef =
        ResourceDef::new(11, "Error Code", Operations::Read, ResourceType::Integer)
            .multiple()
            .mandatory();

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_12: ResourceDef = ResourceDef::new(
        12,
        "Reset Error Code",
        Operations::Execute,
        ResourceType::None,
    );

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_13: ResourceDef = ResourceDef::new(
        13,
        "Current Time",
        Operations::ReadWrite,
        ResourceType::Time,
    );

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_14: ResourceDef = ResourceDef::new(
        14,
        "UTC Offset",
        Operations::ReadWrite,
        ResourceType::String,
    );

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_15: ResourceDef =
        ResourceDef::new(15, "Timezone", Operations::ReadWrite, ResourceType::String);

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_16: ResourceDef = ResourceDef::new(
        16,
        "Supported Binding and Modes",
        Operations::Read,
        ResourceType::String,
    )
    .mandatory();

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_17: ResourceDef =
        ResourceDef::new(17, "Device Type", Operations::Read, ResourceType::String);

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_18: ResourceDef = ResourceDef::new(
        18,
        "Hardware Version",
        Operations::Read,
        ResourceType::String,
    );

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_19: ResourceDef = ResourceDef::new(
        19,
        "Software Version",
        Operations::Read,
        ResourceType::String,
    );

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_2: ResourceDef =
        ResourceDef::new(2, "Serial Number", Operations::Read, ResourceType::String);

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_20: ResourceDef = ResourceDef::new(
        20,
        "Battery Status",
        Operations::Read,
        ResourceType::Integer,
    );

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_21: ResourceDef =
        ResourceDef::new(21, "Memory Total", Operations::Read, ResourceType::Integer);

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_22: ResourceDef =
        ResourceDef::new(22, "ExtDevInfo", Operations::Read, ResourceType::Objlnk).multiple();

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_3: ResourceDef = ResourceDef::new(
        3,
        "Firmware Version",
        Operations::Read,
        ResourceType::String,
    );

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_4: ResourceDef =
        ResourceDef::new(4, "Reboot", Operations::Execute, ResourceType::None).mandatory();

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_5: ResourceDef =
        ResourceDef::new(5, "Factory Reset", Operations::Execute, ResourceType::None);

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_6: ResourceDef = ResourceDef::new(
        6,
        "Available Power Sources",
        Operations::Read,
        ResourceType::Integer,
    )
    .multiple();

    /// In DEVICE, DEVICE_V1_1.
    pub(super) const R3_9: ResourceDef =
        ResourceDef::new(9, "Battery Level", Operations::Read, ResourceType::Integer)
            .with_units("%");

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_0: ResourceDef =
        ResourceDef::new(0, "Package", Operations::Write, ResourceType::Opaque).mandatory();

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_1: ResourceDef = ResourceDef::new(
        1,
        "Package URI",
        Operations::ReadWrite,
        ResourceType::String,
    )
    .mandatory();

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_10: ResourceDef =
        ResourceDef::new(10, "Cancel", Operations::Execute, ResourceType::None);

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_11: ResourceDef =
        ResourceDef::new(11, "Severity", Operations::ReadWrite, ResourceType::Integer);

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_12: ResourceDef = ResourceDef::new(
        12,
        "Last State Change Time",
        Operations::Read,
        ResourceType::Time,
    );

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_13: ResourceDef = ResourceDef::new(
        13,
        "Maximum Defer Period",
        Operations::ReadWrite,
        ResourceType::UnsignedInteger,
    )
    .with_units("s");

    /// In FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_14: ResourceDef = ResourceDef::new(
        14,
        "Automatic Upgrade at Download",
        Operations::ReadWrite,
        ResourceType::Boolean,
    );

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_2: ResourceDef =
        ResourceDef::new(2, "Update", Operations::Execute, ResourceType::None).mandatory();

    /// In FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_26500: ResourceDef = ResourceDef::new(
        26500,
        "Transferred Bytes",
        Operations::Read,
        ResourceType::Integer,
    );

    /// In FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_26501: ResourceDef = ResourceDef::new(
        26501,
        "Switch to Download State",
        Operations::Execute,
        ResourceType::None,
    );

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_3: ResourceDef =
        ResourceDef::new(3, "State", Operations::Read, ResourceType::Integer).mandatory();

    /// In FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR.
    pub(super) const R5_5: ResourceDef =
        ResourceDef::new(5, "Update Result", Operations::Read, ResourceType::Integer).mandatory();

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_6: ResourceDef =
        ResourceDef::new(6, "PkgName", Operations::Read, ResourceType::String);

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_7: ResourceDef =
        ResourceDef::new(7, "PkgVersion", Operations::Read, ResourceType::String);

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_8: ResourceDef = ResourceDef::new(
        8,
        "Firmware Update Protocol Support",
        Operations::Read,
        ResourceType::Integer,
    )
    .multiple();

    /// In ADVANCED_FIRMWARE_UPDATE, FIRMWARE_UPDATE_V1_0, FIRMWARE_UPDATE_V1_0_OPERATOR, FIRMWARE_UPDATE_V1_1, FIRMWARE_UPDATE_V1_1_OPERATOR, FIRMWARE_UPDATE_V1_2, FIRMWARE_UPDATE_V1_2_OPERATOR.
    pub(super) const R5_9: ResourceDef = ResourceDef::new(
        9,
        "Firmware Update Delivery Method",
        Operations::Read,
        ResourceType::Integer,
    )
    .mandatory();
}

/// Range tables that several object versions share, written once.
mod ranges {
    use crate::RangeDef;

    pub(super) const DEVICE_RANGES: &[RangeDef] = &[
        RangeDef::new(6, 0, 7),
        RangeDef::new(9, 0, 100),
        RangeDef::new(11, 0, 8),
        RangeDef::new(20, 0, 6),
    ];

    pub(super) const FIRMWARE_UPDATE_V1_0_RANGES: &[RangeDef] = &[
        RangeDef::new(1, 0, 255),
        RangeDef::new(3, 0, 3),
        RangeDef::new(5, 0, 9),
        RangeDef::new(6, 0, 255),
        RangeDef::new(7, 0, 255),
        RangeDef::new(8, 0, 5),
        RangeDef::new(9, 0, 2),
    ];

    pub(super) const FIRMWARE_UPDATE_V1_1_RANGES: &[RangeDef] = &[
        RangeDef::new(1, 0, 255),
        RangeDef::new(3, 0, 3),
        RangeDef::new(5, 0, 11),
        RangeDef::new(6, 0, 255),
        RangeDef::new(7, 0, 255),
        RangeDef::new(8, 0, 5),
        RangeDef::new(9, 0, 2),
        RangeDef::new(11, 0, 2),
    ];
}
