//! The value types of object 5, named as the spec names them.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// Firmware Update State (resource 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum State {
    /// 0: no package (before downloading or after a successful update).
    Idle = 0,
    /// 1: the package is being transferred (push or pull).
    Downloading = 1,
    /// 2: the whole package is stored and verified.
    Downloaded = 2,
    /// 3: the update is being applied.
    Updating = 3,
}

impl State {
    /// The value of resource 3.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The state with resource value `v`, if any.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Idle),
            1 => Some(Self::Downloading),
            2 => Some(Self::Downloaded),
            3 => Some(Self::Updating),
            _ => None,
        }
    }
}

/// Update Result (resource 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum UpdateResult {
    /// 0: initial value; set whenever a download or an update starts.
    Initial = 0,
    /// 1: firmware updated successfully.
    Success = 1,
    /// 2: not enough flash memory for the new package.
    NotEnoughFlash = 2,
    /// 3: out of RAM during the download.
    OutOfRam = 3,
    /// 4: connection lost during the download.
    ConnectionLost = 4,
    /// 5: integrity check failure of the package.
    IntegrityFailure = 5,
    /// 6: unsupported package type.
    UnsupportedPackageType = 6,
    /// 7: invalid URI.
    InvalidUri = 7,
    /// 8: firmware update failed.
    UpdateFailed = 8,
    /// 9: unsupported protocol (URI scheme).
    UnsupportedProtocol = 9,
    /// 10: update cancelled (object version 1.1 and later).
    Cancelled = 10,
    /// 11: deferred (object version 1.1 and later).
    Deferred = 11,
    /// 12: conflicting state (Advanced Firmware Update object 33629 only).
    ConflictingState = 12,
    /// 13: dependency error (Advanced Firmware Update object 33629 only).
    DependencyError = 13,
}

impl UpdateResult {
    /// The value of resource 5.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The result with resource value `v`, if any (0..=13).
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Initial,
            1 => Self::Success,
            2 => Self::NotEnoughFlash,
            3 => Self::OutOfRam,
            4 => Self::ConnectionLost,
            5 => Self::IntegrityFailure,
            6 => Self::UnsupportedPackageType,
            7 => Self::InvalidUri,
            8 => Self::UpdateFailed,
            9 => Self::UnsupportedProtocol,
            10 => Self::Cancelled,
            11 => Self::Deferred,
            12 => Self::ConflictingState,
            13 => Self::DependencyError,
            _ => return None,
        })
    }

    /// Whether this result can appear in object version `version`.
    pub const fn allowed_in(self, version: ObjectVersion) -> bool {
        self as u8 <= version.max_result()
    }
}

/// Which object the machine implements: object 5 in version 1.0, 1.1 or 1.2, or the Advanced
/// Firmware Update object 33629 (one instance per component).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum ObjectVersion {
    /// `urn:oma:lwm2m:oma:5`: results 0–9, no resources 10–14.
    V1_0 = 0,
    /// `urn:oma:lwm2m:oma:5:1.1`: adds Cancel (10), Severity (11), Last State Change Time (12),
    /// Maximum Defer Period (13) and results 10, 11.
    V1_1 = 1,
    /// `urn:oma:lwm2m:oma:5:1.2`: adds Automatic Upgrade at Download (14).
    V1_2 = 2,
    /// Object 33629 (Advanced Firmware Update): the 1.1 resources plus results 12 and 13;
    /// its resource 14 is Component Name, so automatic upgrade does not exist there.
    Advanced = 3,
}

impl ObjectVersion {
    /// Whether Cancel, Severity, Last State Change Time and Maximum Defer Period exist.
    pub const fn has_v1_1(self) -> bool {
        !matches!(self, Self::V1_0)
    }

    /// Whether Automatic Upgrade at Download (resource 14) exists.
    pub const fn has_auto_upgrade(self) -> bool {
        matches!(self, Self::V1_2)
    }

    /// The highest Update Result value of this version.
    pub const fn max_result(self) -> u8 {
        match self {
            Self::V1_0 => 9,
            Self::V1_1 | Self::V1_2 => 11,
            Self::Advanced => 13,
        }
    }

    /// The version with record value `v`.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::V1_0),
            1 => Some(Self::V1_1),
            2 => Some(Self::V1_2),
            3 => Some(Self::Advanced),
            _ => None,
        }
    }

    /// Whether resource `id` exists in this version (0–14, 26500, 26501; there is no 4).
    pub const fn has_resource(self, id: u16) -> bool {
        match id {
            0..=3 | 5..=9 | 26500 | 26501 => true,
            10..=13 => self.has_v1_1(),
            14 => self.has_auto_upgrade(),
            _ => false,
        }
    }
}

/// Firmware Update Delivery Method (resource 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum DeliveryMethod {
    /// 0: pull only (Package URI).
    PullOnly = 0,
    /// 1: push only (Package).
    PushOnly = 1,
    /// 2: both.
    Both = 2,
}

impl DeliveryMethod {
    /// The value of resource 9.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
    /// Whether writes of Package (push) are accepted.
    pub const fn push(self) -> bool {
        !matches!(self, Self::PullOnly)
    }
    /// Whether Package URI downloads (pull) are accepted.
    pub const fn pull(self) -> bool {
        !matches!(self, Self::PushOnly)
    }
}

/// A download protocol: one value of Firmware Update Protocol Support (resource 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum Protocol {
    /// 0: CoAP (RFC 7252) with block-wise transfer, scheme `coap`.
    Coap = 0,
    /// 1: CoAPS (RFC 7252), scheme `coaps`.
    Coaps = 1,
    /// 2: HTTP/1.1 (RFC 7230), scheme `http`.
    Http = 2,
    /// 3: HTTPS/1.1 (RFC 7230), scheme `https`.
    Https = 3,
    /// 4: CoAP over TCP (RFC 8323), scheme `coap+tcp`.
    CoapTcp = 4,
    /// 5: CoAP over TLS (RFC 8323), scheme `coaps+tcp`.
    CoapsTcp = 5,
}

impl Protocol {
    /// Every protocol, in resource-value order.
    pub const ALL: [Protocol; 6] = [
        Self::Coap,
        Self::Coaps,
        Self::Http,
        Self::Https,
        Self::CoapTcp,
        Self::CoapsTcp,
    ];

    /// The value in resource 8.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The URI scheme (lower case).
    pub const fn scheme(self) -> &'static str {
        match self {
            Self::Coap => "coap",
            Self::Coaps => "coaps",
            Self::Http => "http",
            Self::Https => "https",
            Self::CoapTcp => "coap+tcp",
            Self::CoapsTcp => "coaps+tcp",
        }
    }

    /// The protocol of a URI scheme, compared case-insensitively (RFC 3986 §3.1).
    pub fn from_scheme(scheme: &[u8]) -> Option<Self> {
        // `coap` or `http`, an optional `s`, then (CoAP only) an optional `+tcp`: words of a
        // lower-cased, zero-padded copy compared at fixed offsets (no string table, no loop
        // per candidate), the length deciding that nothing else follows.
        let mut s = [0u8; 12];
        if scheme.len() > 9 {
            return None;
        }
        for (d, b) in s.iter_mut().zip(scheme) {
            *d = b.to_ascii_lowercase();
        }
        let word = |w: [u8; 4]| u32::from_le_bytes(w);
        let secure = s[4] == b's';
        let tail = if secure {
            word([s[5], s[6], s[7], s[8]])
        } else {
            word([s[4], s[5], s[6], s[7]])
        };
        let tcp = tail == word(*b"+tcp");
        if scheme.len() != 4 + usize::from(secure) + 4 * usize::from(tcp) {
            return None;
        }
        let head = word([s[0], s[1], s[2], s[3]]);
        let value = if head == word(*b"coap") {
            4 * u8::from(tcp)
        } else if head == word(*b"http") && !tcp {
            2
        } else {
            return None;
        };
        Self::ALL
            .get(usize::from(value + u8::from(secure)))
            .copied()
    }
}

/// The set of supported protocols (resource 8, multiple instances), a small bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ProtocolSupport(u8);

impl ProtocolSupport {
    /// No protocol (a push-only device).
    pub const EMPTY: Self = Self(0);
    /// Plain CoAP only, the protocol every object 5 client supports.
    pub const COAP: Self = Self(1);
    /// All six protocols.
    pub const ALL: Self = Self(0x3f);

    /// The set plus `p`.
    pub const fn with(self, p: Protocol) -> Self {
        Self(self.0 | 1 << p as u8)
    }

    /// Whether `p` is in the set.
    pub const fn contains(self, p: Protocol) -> bool {
        self.0 & 1 << p as u8 != 0
    }

    /// The raw bits (bit n = resource value n).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The set from raw bits (bits above 5 are dropped).
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits & 0x3f)
    }

    /// The values of resource 8, ascending.
    pub fn iter(self) -> impl Iterator<Item = Protocol> {
        Protocol::ALL.into_iter().filter(move |p| self.contains(*p))
    }
}

/// Severity (resource 11, object version 1.1 and later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum Severity {
    /// 0: critical: the update cannot be deferred.
    Critical = 0,
    /// 1: mandatory (the default): deferrable up to Maximum Defer Period.
    Mandatory = 1,
    /// 2: optional: deferrable without a deadline (if Maximum Defer Period is not 0).
    Optional = 2,
}

impl Severity {
    /// The value of resource 11.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
    /// The severity with resource value `v`.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Critical),
            1 => Some(Self::Mandatory),
            2 => Some(Self::Optional),
            _ => None,
        }
    }
}

/// Why a download failed (the Update Result it leads to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum DownloadFailure {
    /// Result 2.
    NotEnoughFlash = 2,
    /// Result 3.
    OutOfRam = 3,
    /// Result 4; the stored bytes are kept so that the download can resume.
    ConnectionLost = 4,
    /// Result 5.
    IntegrityFailure = 5,
    /// Result 6.
    UnsupportedPackageType = 6,
    /// Result 7 (e.g. the server behind the URI answered 4.04).
    InvalidUri = 7,
    /// Result 9 (e.g. a redirect to an unsupported scheme).
    UnsupportedProtocol = 9,
}

impl DownloadFailure {
    /// The Update Result this failure sets.
    pub const fn result(self) -> UpdateResult {
        match self {
            Self::NotEnoughFlash => UpdateResult::NotEnoughFlash,
            Self::OutOfRam => UpdateResult::OutOfRam,
            Self::ConnectionLost => UpdateResult::ConnectionLost,
            Self::IntegrityFailure => UpdateResult::IntegrityFailure,
            Self::UnsupportedPackageType => UpdateResult::UnsupportedPackageType,
            Self::InvalidUri => UpdateResult::InvalidUri,
            Self::UnsupportedProtocol => UpdateResult::UnsupportedProtocol,
        }
    }
}

/// Why applying an update failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum UpdateFailure {
    /// Result 8, firmware update failed.
    Failed = 8,
    /// Result 2.
    NotEnoughFlash = 2,
    /// Result 3.
    OutOfRam = 3,
    /// Result 5 (the image failed its check at install time); the image is dropped.
    IntegrityFailure = 5,
    /// Result 6; the image is dropped.
    UnsupportedPackageType = 6,
    /// Result 12 in the 33629 mode, 8 otherwise.
    ConflictingState = 12,
    /// Result 13 in the 33629 mode, 8 otherwise.
    DependencyError = 13,
}

impl UpdateFailure {
    /// The Update Result this failure sets in object version `version`.
    pub const fn result(self, version: ObjectVersion) -> UpdateResult {
        match self {
            Self::NotEnoughFlash => UpdateResult::NotEnoughFlash,
            Self::OutOfRam => UpdateResult::OutOfRam,
            Self::IntegrityFailure => UpdateResult::IntegrityFailure,
            Self::UnsupportedPackageType => UpdateResult::UnsupportedPackageType,
            Self::ConflictingState if matches!(version, ObjectVersion::Advanced) => {
                UpdateResult::ConflictingState
            }
            Self::DependencyError if matches!(version, ObjectVersion::Advanced) => {
                UpdateResult::DependencyError
            }
            _ => UpdateResult::UpdateFailed,
        }
    }
}

/// The response code for the LwM2M request that caused an event. For events the device raises
/// itself, [`ResponseCode::Changed`] means accepted and any other code means rejected (nothing
/// changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[repr(u8)]
pub enum ResponseCode {
    /// 2.04 Changed: accepted (also for a Write whose error is reported in Update Result).
    Changed = 0x44,
    /// 4.00 Bad Request: a value out of range or a chunk past the stored bytes.
    BadRequest = 0x80,
    /// 4.04 Not Found: the resource does not exist in this object version.
    NotFound = 0x84,
    /// 4.05 Method Not Allowed: not allowed in the current state.
    MethodNotAllowed = 0x85,
}

impl ResponseCode {
    /// The CoAP code byte (class << 5 | detail), e.g. 0x44 for 2.04.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
    /// Whether the event was accepted.
    pub const fn is_success(self) -> bool {
        matches!(self, Self::Changed)
    }
}

/// Side effects the caller must perform, a bit set. Perform them in this order: abort the
/// download, erase staging, start the download, verify, persist, apply, reboot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Actions(pub(crate) u8);

impl Actions {
    /// Nothing to do.
    pub const NONE: Self = Self(0);
    /// Start (or resume from Transferred Bytes) the pull download of the Package URI.
    pub const START_DOWNLOAD: Self = Self(1);
    /// Stop the running pull download.
    pub const ABORT_DOWNLOAD: Self = Self(2);
    /// Erase the staging area (a new package starts or the stored one is discarded).
    pub const ERASE_STAGING: Self = Self(4);
    /// Verify the stored package, then raise `IntegrityVerified` or `IntegrityFailed`.
    pub const VERIFY: Self = Self(8);
    /// Install the staged image (e.g. mark it for the bootloader).
    pub const APPLY: Self = Self(16);
    /// Reboot into the new image once the response is sent and the record persisted.
    pub const REBOOT: Self = Self(32);
    /// Persist the record ([`crate::FirmwareUpdate::save`]): a persisted value changed.
    pub const PERSIST: Self = Self(64);

    /// Whether every action of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
    /// The union.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
    /// Whether no action is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }
}

impl core::ops::BitOr for Actions {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

/// The set of resources whose value changed, for Observe notifications: resources 0–14 and
/// Transferred Bytes (26500). Kept in 16 bits so that an [`crate::Outcome`] fits in a register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Resources(pub(crate) u16);

/// Bit of resource 26500 in [`Resources`] (object 5 has no resource 15).
const TRANSFERRED_BIT: u16 = 1 << 15;

impl Resources {
    /// No resource.
    pub const NONE: Self = Self(0);

    /// The bit of resource `id`, or 0 for ids this set cannot hold.
    const fn bit(id: u16) -> u16 {
        match id {
            0..=14 => 1 << id,
            26500 => TRANSFERRED_BIT,
            _ => 0,
        }
    }

    /// The set with resource `id` (0–14 or 26500; other ids are ignored).
    pub const fn with(self, id: u16) -> Self {
        Self(self.0 | Self::bit(id))
    }

    /// Whether resource `id` changed.
    pub const fn contains(self, id: u16) -> bool {
        let b = Self::bit(id);
        b != 0 && self.0 & b != 0
    }

    /// Whether nothing changed.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set as bits: bit n = resource n for n ≤ 14, bit 16 = resource 26500.
    pub const fn bits(self) -> u32 {
        (self.0 & 0x7fff) as u32 | ((self.0 & TRANSFERRED_BIT) as u32) << 1
    }

    /// The changed resource ids, ascending.
    pub fn iter(self) -> impl Iterator<Item = u16> {
        (0u16..15)
            .chain(core::iter::once(26500))
            .filter(move |id| self.contains(*id))
    }
}
