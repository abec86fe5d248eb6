//! The state machine of one Firmware Update instance.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::types::*;
use crate::uri::check_uri;

/// Capacity of PkgName (resource 6) and PkgVersion (resource 7) in bytes: 32 with the
/// `pkg-info` feature (default), else 0 (a device without these optional resources saves the
/// RAM, flash and record bytes; non-empty values are then refused with 4.00).
pub const PKG_FIELD_CAP: usize = if cfg!(feature = "pkg-info") { 32 } else { 0 };

/// What the machine is fixed to by the firmware, and the initial values of the writable
/// resources 11, 13 and 14.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Config {
    /// The object (and version) implemented.
    pub version: ObjectVersion,
    /// Resource 9.
    pub delivery: DeliveryMethod,
    /// Resource 8: the schemes a Package URI may use.
    pub protocols: ProtocolSupport,
    /// Initial Severity (resource 11; default Mandatory).
    pub severity: Severity,
    /// Initial Maximum Defer Period in seconds (resource 13; 0 = deferring not allowed).
    pub max_defer_period: u32,
    /// Initial Automatic Upgrade at Download (resource 14).
    pub auto_upgrade: bool,
}

impl Config {
    /// A configuration for `version` with push and pull over plain CoAP, Severity Mandatory,
    /// no deferring and no automatic upgrade.
    pub const fn new(version: ObjectVersion) -> Self {
        Self {
            version,
            delivery: DeliveryMethod::Both,
            protocols: ProtocolSupport::COAP,
            severity: Severity::Mandatory,
            max_defer_period: 0,
            auto_upgrade: false,
        }
    }
}

/// One input to the machine: an LwM2M request on `/5/0` or something the device observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event<'a> {
    /// Write of Package (`/5/0/0`) starting at block 0 (or a non-block-wise write) whose payload
    /// is not a reset (see [`is_reset_package`]). `identity` names the package (e.g. a hash of
    /// Request-Tag, Size1 and the first block): a new push never inherits the old offset.
    PushStarted {
        /// Caller-chosen identity of the pushed package.
        identity: u32,
    },
    /// `len` bytes of the package were stored in staging at byte `offset` (push or pull):
    /// the download progress. A chunk past Transferred Bytes is refused (4.00: the caller
    /// answers 4.08); a chunk wholly below it is a duplicate.
    ChunkStored {
        /// Byte offset of the chunk in the package.
        offset: u32,
        /// Length of the chunk.
        len: u32,
    },
    /// Write of Package URI (`/5/0/1`). Empty: reset. Otherwise validated (results 7, 9) and,
    /// when valid in Idle, the pull download starts.
    PackageUriWritten(&'a [u8]),
    /// Write of Package with one NUL byte (or nothing): reset.
    PackageReset,
    /// The last byte of the package is stored: verify it.
    DownloadFinished,
    /// The download failed.
    DownloadFailed(DownloadFailure),
    /// The stored package passed its integrity check: Downloaded (or, with Automatic Upgrade
    /// at Download, Updating).
    IntegrityVerified,
    /// The stored package failed its integrity check: Idle with result 5.
    IntegrityFailed,
    /// Execute of Update (`/5/0/2`), accepted by the device now.
    ExecuteUpdate,
    /// Execute of Update (`/5/0/2`) that the device (or its user) defers (v1.1+): stays
    /// Downloaded with result 11, within Maximum Defer Period and Severity.
    Defer,
    /// The device starts the update by itself (after a deferral or in a maintenance window).
    UpdateStarted,
    /// The new image runs (without a reboot, or confirmed after one).
    UpdateSucceeded,
    /// Applying the update failed.
    UpdateFailed {
        /// Why.
        cause: UpdateFailure,
        /// Whether the staged image is still there to retry (→ Downloaded) or not (→ Idle).
        image_usable: bool,
    },
    /// Execute of Cancel (`/5/0/10`, v1.1+).
    Cancel,
    /// The device booted: reconcile the restored record with the running image.
    Booted {
        /// Whether the image the update installed is the one running.
        new_image_running: bool,
    },
    /// Execute of Switch to Download State (`/5/0/26501`): resume a download broken with
    /// result 4 from Transferred Bytes.
    SwitchToDownload,
    /// The package changed under a download in progress (e.g. the ETag of a pulled Package
    /// URI changed between blocks): the same job starts over at offset 0 with staging erased,
    /// so that bytes of two packages are never stitched together.
    DownloadRestarted,
    /// Write of Severity (`/5/0/11`).
    SeverityWritten(i64),
    /// Write of Maximum Defer Period (`/5/0/13`).
    MaxDeferPeriodWritten(i64),
    /// Write of Automatic Upgrade at Download (`/5/0/14`).
    AutoUpgradeWritten(bool),
    /// PkgName and PkgVersion learnt from the package (at most 32 bytes each).
    PackageInfo {
        /// PkgName (resource 6).
        name: &'a str,
        /// PkgVersion (resource 7).
        version: &'a str,
    },
}

/// Whether the payload of a Package write is a reset (one NUL byte, or empty).
pub fn is_reset_package(payload: &[u8]) -> bool {
    matches!(payload, [] | [0])
}

/// What one event did and what the caller must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Outcome {
    /// The response to the LwM2M request (for device events: accepted or rejected).
    pub code: ResponseCode,
    /// Side effects to perform.
    pub actions: Actions,
    /// Resources whose value changed (notify observers of these).
    pub changed: Resources,
}

impl Outcome {
    /// An accepted event with what its step changed and asks for.
    const fn done(d: Delta) -> Self {
        Self {
            code: ResponseCode::Changed,
            actions: Actions((d >> 16) as u8),
            changed: Resources(d as u16),
        }
    }

    const fn reject(code: ResponseCode) -> Self {
        Self {
            code,
            actions: Actions::NONE,
            changed: Resources::NONE,
        }
    }
}

/// Who delivers the current package.
const JOB_NONE: u8 = 0;
const JOB_PUSH: u8 = 1;
const JOB_PULL: u8 = 2;

/// What a transition step changed and asks for, in one word that stays in a register while
/// the steps of an event are combined: the changed resources' [`Resources`] bits in bits
/// 0..16, the [`Actions`] bits from bit 16.
type Delta = u32;

/// The [`Delta`] bit of a changed resource.
const fn changed(id: u16) -> Delta {
    Resources::NONE.with(id).0 as Delta
}

/// The [`Delta`] bits of actions.
const fn act(a: Actions) -> Delta {
    (a.0 as Delta) << 16
}

const PERSIST: Delta = act(Actions::PERSIST);

/// What starting the update asks for besides the State change.
const START_UPDATE: Delta = act(Actions::APPLY) | act(Actions::REBOOT) | PERSIST;

/// One Firmware Update object instance: its resources and the machine that moves them.
/// See the [crate docs](crate) for the transition table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
// Field order: the fields `new` sets to zero come in runs of at most 16 bytes between the
// configured ones, so that `new` compiles to a few stores instead of a memset call (footprint).
#[repr(C)]
pub struct FirmwareUpdate {
    pub(crate) state: State,
    pub(crate) result: UpdateResult,
    /// JOB_NONE, JOB_PUSH or JOB_PULL.
    pub(crate) job: u8,
    pub(crate) auto_upgrade: bool,
    pub(crate) last_change: u32,
    pub(crate) identity: u32,
    /// When the first deferral of the current Downloaded package happened.
    pub(crate) deferred_since: u32,
    pub(crate) version: ObjectVersion,
    pub(crate) delivery: DeliveryMethod,
    pub(crate) protocols: ProtocolSupport,
    pub(crate) severity: Severity,
    pub(crate) transferred: u32,
    pub(crate) max_defer: u32,
    /// Sequence number of the last saved record.
    pub(crate) seq: u16,
    pub(crate) name_len: u8,
    pub(crate) pkg_version_len: u8,
    pub(crate) name: [u8; PKG_FIELD_CAP],
    pub(crate) pkg_version: [u8; PKG_FIELD_CAP],
}

const R_STATE: u16 = 3;
const R_RESULT: u16 = 5;
const R_NAME: u16 = 6;
const R_VERSION: u16 = 7;
const R_SEVERITY: u16 = 11;
const R_LSCT: u16 = 12;
const R_MAX_DEFER: u16 = 13;
const R_AUTO: u16 = 14;
const R_TRANSFERRED: u16 = 26500;

/// Stores `src` (at most the capacity) into a fixed field; whether the value changed.
fn store(dst: &mut [u8; PKG_FIELD_CAP], len: &mut u8, src: &[u8]) -> bool {
    let mut changed = usize::from(*len) != src.len();
    for (i, d) in dst.iter_mut().enumerate() {
        let b = src.get(i).copied().unwrap_or(0);
        changed |= *d != b;
        *d = b;
    }
    *len = src.len().min(dst.len()) as u8;
    changed
}

/// FNV-1a, to give a pulled package an identity from its URI.
fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

impl FirmwareUpdate {
    /// Every field at its zero value: the base `decode` loads a record into.
    pub(crate) const ZEROED: FirmwareUpdate = FirmwareUpdate::new(Config {
        version: ObjectVersion::V1_0,
        delivery: DeliveryMethod::PullOnly,
        protocols: ProtocolSupport::EMPTY,
        severity: Severity::Critical,
        max_defer_period: 0,
        auto_upgrade: false,
    });

    /// A fresh instance: Idle, result 0, Last State Change Time 0.
    pub const fn new(config: Config) -> Self {
        Self {
            version: config.version,
            delivery: config.delivery,
            protocols: config.protocols,
            state: State::Idle,
            result: UpdateResult::Initial,
            severity: config.severity,
            // Only true where resource 14 exists, so that the transitions test it alone.
            auto_upgrade: config.auto_upgrade && config.version.has_auto_upgrade(),
            job: JOB_NONE,
            last_change: 0,
            max_defer: config.max_defer_period,
            deferred_since: 0,
            transferred: 0,
            identity: 0,
            name_len: 0,
            name: [0; PKG_FIELD_CAP],
            pkg_version_len: 0,
            pkg_version: [0; PKG_FIELD_CAP],
            seq: 0,
        }
    }

    /// Object version.
    pub fn object_version(&self) -> ObjectVersion {
        self.version
    }

    /// State (resource 3).
    pub fn state(&self) -> State {
        self.state
    }

    /// Update Result (resource 5).
    pub fn update_result(&self) -> UpdateResult {
        self.result
    }

    /// PkgName (resource 6); empty when unknown.
    pub fn pkg_name(&self) -> &[u8] {
        self.name.get(..usize::from(self.name_len)).unwrap_or(&[])
    }

    /// PkgVersion (resource 7); empty when unknown.
    pub fn pkg_version(&self) -> &[u8] {
        self.pkg_version
            .get(..usize::from(self.pkg_version_len))
            .unwrap_or(&[])
    }

    /// Firmware Update Protocol Support (resource 8); empty for a push-only device.
    pub fn protocol_support(&self) -> ProtocolSupport {
        self.effective_protocols()
    }

    /// Firmware Update Delivery Method (resource 9).
    pub fn delivery_method(&self) -> DeliveryMethod {
        self.delivery
    }

    /// Severity (resource 11); `None` in version 1.0.
    pub fn severity(&self) -> Option<Severity> {
        self.version.has_v1_1().then_some(self.severity)
    }

    /// Last State Change Time (resource 12) in seconds since the epoch; `None` in version 1.0.
    pub fn last_state_change_time(&self) -> Option<u32> {
        self.version.has_v1_1().then_some(self.last_change)
    }

    /// Maximum Defer Period (resource 13) in seconds; `None` in version 1.0.
    pub fn max_defer_period(&self) -> Option<u32> {
        self.version.has_v1_1().then_some(self.max_defer)
    }

    /// Automatic Upgrade at Download (resource 14); `None` unless version 1.2.
    pub fn auto_upgrade(&self) -> Option<bool> {
        self.version.has_auto_upgrade().then_some(self.auto_upgrade)
    }

    /// Transferred Bytes (resource 26500): bytes of the current package stored so far, the
    /// resume point; 0 at every new download.
    pub fn transferred_bytes(&self) -> u32 {
        self.transferred
    }

    /// Identity of the current package (the push identity, or a hash of the Package URI).
    pub fn package_identity(&self) -> Option<u32> {
        (self.job != JOB_NONE).then_some(self.identity)
    }

    /// Whether the current package is pulled from the Package URI (else pushed).
    pub fn is_pull(&self) -> bool {
        self.job == JOB_PULL
    }

    /// Until when (seconds since the epoch) a mandatory update may stay deferred; after that
    /// the device must start it ([`Event::UpdateStarted`]). `None` when not deferred or when the
    /// deferral has no deadline.
    pub fn defer_deadline(&self) -> Option<u32> {
        (self.result == UpdateResult::Deferred && self.severity == Severity::Mandatory)
            .then(|| self.deferred_since.saturating_add(self.max_defer))
    }

    fn effective_protocols(&self) -> ProtocolSupport {
        if self.delivery.pull() {
            self.protocols
        } else {
            ProtocolSupport::EMPTY
        }
    }

    /// Last State Change Time first, then State (spec: set before every State change).
    fn set_state(&mut self, s: State, now: u32) -> Delta {
        if s == self.state {
            return 0;
        }
        self.last_change = now;
        self.state = s;
        let lsct = if self.version.has_v1_1() {
            changed(R_LSCT)
        } else {
            0
        };
        changed(R_STATE) | lsct | PERSIST
    }

    /// Update Result, then State (with Last State Change Time): how every State change ends.
    // Out of line: one copy for the many steps that end in a State change.
    #[inline(never)]
    fn enter(&mut self, s: State, r: UpdateResult, now: u32) -> Delta {
        self.set_result(r) | self.set_state(s, now)
    }

    fn set_result(&mut self, r: UpdateResult) -> Delta {
        if r == self.result {
            return 0;
        }
        self.result = r;
        changed(R_RESULT) | PERSIST
    }

    fn set_transferred(&mut self, t: u32) -> Delta {
        if t == self.transferred {
            return 0;
        }
        self.transferred = t;
        changed(R_TRANSFERRED)
    }

    /// Transferred Bytes back to 0 and PkgName/PkgVersion cleared (a new or dropped package).
    fn clear_package(&mut self) -> Delta {
        self.set_transferred(0) | self.clear_info()
    }

    fn clear_info(&mut self) -> Delta {
        // A value of length 0 is empty whatever bytes follow, so the lengths alone tell what
        // changes; the fields are zeroed whole (no byte-by-byte compare).
        if PKG_FIELD_CAP == 0 {
            // Without `pkg-info` the lengths stay 0 (longer values are refused and records
            // with them fail `check`): PkgName and PkgVersion are always empty.
            return 0;
        }
        let mut d = 0;
        if self.name_len != 0 {
            d |= changed(R_NAME) | PERSIST;
        }
        if self.pkg_version_len != 0 {
            d |= changed(R_VERSION) | PERSIST;
        }
        self.name_len = 0;
        self.pkg_version_len = 0;
        self.name = [0; PKG_FIELD_CAP];
        self.pkg_version = [0; PKG_FIELD_CAP];
        d
    }

    /// A new package: offset 0, staging erased, result 0, Downloading.
    fn start_job(&mut self, job: u8, identity: u32, now: u32) -> Delta {
        self.job = job;
        self.identity = identity;
        self.fresh_package() | self.enter(State::Downloading, UpdateResult::Initial, now)
    }

    /// Staging erased and the package's progress cleared; a pull starts from the first block.
    fn fresh_package(&mut self) -> Delta {
        self.clear_package() | act(Actions::ERASE_STAGING) | PERSIST | self.pull_start()
    }

    /// Start Download when the package is pulled.
    fn pull_start(&self) -> Delta {
        if self.job == JOB_PULL {
            act(Actions::START_DOWNLOAD)
        } else {
            0
        }
    }

    /// Drops the package and goes Idle with `r`.
    fn abandon(&mut self, r: UpdateResult, now: u32) -> Delta {
        self.drop_job() | self.enter(State::Idle, r, now)
    }

    /// Drops the package: staging erased, no resume.
    fn drop_job(&mut self) -> Delta {
        let mut d = act(Actions::ERASE_STAGING) | PERSIST;
        if self.state == State::Downloading && self.job == JOB_PULL {
            d |= act(Actions::ABORT_DOWNLOAD);
        }
        self.job = JOB_NONE;
        d
    }

    fn start_update(&mut self, now: u32) -> Delta {
        START_UPDATE | self.enter(State::Updating, UpdateResult::Initial, now)
    }

    /// Feeds one event at time `now` (seconds since the epoch) and says what to answer, what
    /// to do and what changed. A rejected event changes nothing. Each event also has its own
    /// method (e.g. [`FirmwareUpdate::push_started`]): a device that calls those directly links
    /// only the transitions it uses.
    pub fn handle(&mut self, event: Event<'_>, now: u32) -> Outcome {
        match event {
            Event::PushStarted { identity } => self.push_started(identity, now),
            Event::ChunkStored { offset, len } => self.chunk_stored(offset, len),
            Event::PackageUriWritten(uri) => self.package_uri_written(uri, now),
            Event::PackageReset => self.package_reset(now),
            Event::DownloadFinished => self.download_finished(),
            Event::DownloadFailed(cause) => self.download_failed(cause, now),
            Event::IntegrityVerified => self.integrity_verified(now),
            Event::IntegrityFailed => self.integrity_failed(now),
            Event::ExecuteUpdate => self.execute_update(now),
            Event::Defer => self.defer(now),
            Event::UpdateStarted => self.update_started(now),
            Event::UpdateSucceeded => self.update_succeeded(now),
            Event::UpdateFailed {
                cause,
                image_usable,
            } => self.update_failed(cause, image_usable, now),
            Event::Cancel => self.cancel(now),
            Event::Booted { new_image_running } => self.booted(new_image_running, now),
            Event::SwitchToDownload => self.switch_to_download(now),
            Event::DownloadRestarted => self.download_restarted(),
            Event::SeverityWritten(v) => self.severity_written(v),
            Event::MaxDeferPeriodWritten(v) => self.max_defer_period_written(v),
            Event::AutoUpgradeWritten(b) => self.auto_upgrade_written(b),
            Event::PackageInfo { name, version } => self.package_info(name, version),
        }
    }

    /// [`Event::PushStarted`].
    pub fn push_started(&mut self, identity: u32, now: u32) -> Outcome {
        let restart = self.state == State::Downloading && self.job == JOB_PUSH;
        if !self.delivery.push() || !(self.state == State::Idle || restart) {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(self.start_job(JOB_PUSH, identity, now))
    }

    /// [`Event::ChunkStored`].
    pub fn chunk_stored(&mut self, offset: u32, len: u32) -> Outcome {
        if self.state != State::Downloading {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        let end = match offset.checked_add(len) {
            Some(end) if offset <= self.transferred => end,
            _ => return Outcome::reject(ResponseCode::BadRequest),
        };
        let d = if end > self.transferred {
            self.set_transferred(end)
        } else {
            0
        };
        Outcome::done(d)
    }

    /// [`Event::PackageUriWritten`].
    pub fn package_uri_written(&mut self, uri: &[u8], now: u32) -> Outcome {
        if uri.is_empty() {
            return self.package_reset(now);
        }
        if self.state != State::Idle {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(match check_uri(uri, self.effective_protocols()) {
            Ok(_) => self.start_job(JOB_PULL, fnv1a(uri), now),
            Err(e) => self.set_result(e.result()),
        })
    }

    /// [`Event::PackageReset`] (also an empty Package URI).
    pub fn package_reset(&mut self, now: u32) -> Outcome {
        if self.state == State::Updating {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        let mut d = 0;
        if self.job != JOB_NONE {
            d = self.drop_job();
        }
        Outcome::done(
            d | self.clear_package() | self.enter(State::Idle, UpdateResult::Initial, now),
        )
    }

    /// [`Event::DownloadFinished`].
    pub fn download_finished(&mut self) -> Outcome {
        if self.state != State::Downloading {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(act(Actions::VERIFY))
    }

    /// [`Event::DownloadFailed`].
    pub fn download_failed(&mut self, cause: DownloadFailure, now: u32) -> Outcome {
        if self.state != State::Downloading {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        if cause != DownloadFailure::ConnectionLost {
            return Outcome::done(self.abandon(cause.result(), now));
        }
        // Keep the job and the stored bytes: Switch to Download State resumes.
        let d = if self.job == JOB_PULL {
            act(Actions::ABORT_DOWNLOAD)
        } else {
            0
        };
        Outcome::done(d | self.enter(State::Idle, cause.result(), now))
    }

    /// [`Event::IntegrityVerified`].
    pub fn integrity_verified(&mut self, now: u32) -> Outcome {
        if self.state != State::Downloading {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        // With Automatic Upgrade the update starts (as `start_update`); else Downloaded with the
        // result unchanged. One `enter` for both.
        let (d, s, r) = if self.auto_upgrade {
            (START_UPDATE, State::Updating, UpdateResult::Initial)
        } else {
            (0, State::Downloaded, self.result)
        };
        Outcome::done(d | self.enter(s, r, now))
    }

    /// [`Event::IntegrityFailed`].
    pub fn integrity_failed(&mut self, now: u32) -> Outcome {
        if !matches!(self.state, State::Downloading | State::Downloaded) {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(self.abandon(UpdateResult::IntegrityFailure, now))
    }

    /// [`Event::ExecuteUpdate`].
    pub fn execute_update(&mut self, now: u32) -> Outcome {
        self.update_started(now)
    }

    /// [`Event::UpdateStarted`].
    pub fn update_started(&mut self, now: u32) -> Outcome {
        if self.state != State::Downloaded {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(self.start_update(now))
    }

    /// [`Event::Defer`].
    pub fn defer(&mut self, now: u32) -> Outcome {
        let deferred = self.result == UpdateResult::Deferred;
        let expired = deferred
            && self.severity == Severity::Mandatory
            && now >= self.deferred_since.saturating_add(self.max_defer);
        if !self.version.has_v1_1()
            || self.state != State::Downloaded
            || self.severity == Severity::Critical
            || self.max_defer == 0
            || expired
        {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        if !deferred {
            self.deferred_since = now;
        }
        Outcome::done(self.set_result(UpdateResult::Deferred) | PERSIST)
    }

    /// [`Event::UpdateSucceeded`].
    pub fn update_succeeded(&mut self, now: u32) -> Outcome {
        if self.state != State::Updating {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(self.succeed(now))
    }

    /// [`Event::UpdateFailed`].
    pub fn update_failed(&mut self, cause: UpdateFailure, image_usable: bool, now: u32) -> Outcome {
        if self.state != State::Updating {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        // A package that fails its check or is of an unsupported type is never retried.
        let usable = image_usable
            && !matches!(
                cause,
                UpdateFailure::IntegrityFailure | UpdateFailure::UnsupportedPackageType
            );
        Outcome::done(self.fail_update(cause.result(self.version), usable, now))
    }

    /// [`Event::Cancel`].
    pub fn cancel(&mut self, now: u32) -> Outcome {
        if !self.version.has_v1_1() {
            return Outcome::reject(ResponseCode::NotFound);
        }
        // A download broken by a lost connection is still pending (26501 resumes it), so
        // Cancel discards it too; only Updating and a finished job refuse.
        let resumable = self.state == State::Idle
            && self.result == UpdateResult::ConnectionLost
            && self.job != JOB_NONE;
        if !(matches!(self.state, State::Downloading | State::Downloaded) || resumable) {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(self.abandon(UpdateResult::Cancelled, now))
    }

    /// [`Event::Booted`]: reconcile the restored record with the running image.
    pub fn booted(&mut self, new_image_running: bool, now: u32) -> Outcome {
        // Every case ends Idle: one `enter` for the three (as `succeed`, `fail_update` with an
        // unusable image, and a lost connection would do).
        let mut d = 0;
        let r = match self.state {
            State::Updating if new_image_running => UpdateResult::Success,
            // The bootloader fell back to the old image: the staged one is not usable.
            State::Updating => {
                d = act(Actions::ERASE_STAGING);
                UpdateResult::UpdateFailed
            }
            // A reboot broke the transfer: like a lost connection (resumable).
            State::Downloading => UpdateResult::ConnectionLost,
            State::Idle | State::Downloaded => return Outcome::done(0),
        };
        if self.state == State::Updating {
            self.job = JOB_NONE;
            d |= PERSIST;
        }
        Outcome::done(d | self.enter(State::Idle, r, now))
    }

    /// [`Event::SwitchToDownload`].
    pub fn switch_to_download(&mut self, now: u32) -> Outcome {
        if self.state != State::Idle
            || self.result != UpdateResult::ConnectionLost
            || self.job == JOB_NONE
        {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(
            self.pull_start() | self.enter(State::Downloading, UpdateResult::Initial, now),
        )
    }

    /// [`Event::DownloadRestarted`]: only while Downloading; State and Result stay, Transferred
    /// Bytes goes back to 0, PkgName/PkgVersion are cleared, staging is erased (and a pull
    /// starts again from the first block).
    pub fn download_restarted(&mut self) -> Outcome {
        if self.state != State::Downloading {
            return Outcome::reject(ResponseCode::MethodNotAllowed);
        }
        Outcome::done(self.fresh_package())
    }

    /// [`Event::SeverityWritten`].
    pub fn severity_written(&mut self, value: i64) -> Outcome {
        if !self.version.has_v1_1() {
            return Outcome::reject(ResponseCode::NotFound);
        }
        let Some(s) = u8::try_from(value).ok().and_then(Severity::from_u8) else {
            return Outcome::reject(ResponseCode::BadRequest);
        };
        if s == self.severity {
            return Outcome::done(0);
        }
        self.severity = s;
        Outcome::done(changed(R_SEVERITY) | PERSIST)
    }

    /// [`Event::MaxDeferPeriodWritten`].
    pub fn max_defer_period_written(&mut self, value: i64) -> Outcome {
        if !self.version.has_v1_1() {
            return Outcome::reject(ResponseCode::NotFound);
        }
        let Ok(p) = u32::try_from(value) else {
            return Outcome::reject(ResponseCode::BadRequest);
        };
        if p == self.max_defer {
            return Outcome::done(0);
        }
        self.max_defer = p;
        Outcome::done(changed(R_MAX_DEFER) | PERSIST)
    }

    /// [`Event::AutoUpgradeWritten`].
    pub fn auto_upgrade_written(&mut self, value: bool) -> Outcome {
        if !self.version.has_auto_upgrade() {
            return Outcome::reject(ResponseCode::NotFound);
        }
        if value == self.auto_upgrade {
            return Outcome::done(0);
        }
        self.auto_upgrade = value;
        Outcome::done(changed(R_AUTO) | PERSIST)
    }

    /// [`Event::PackageInfo`].
    pub fn package_info(&mut self, name: &str, version: &str) -> Outcome {
        let (name, version) = (name.as_bytes(), version.as_bytes());
        if name.len() > PKG_FIELD_CAP || version.len() > PKG_FIELD_CAP {
            return Outcome::reject(ResponseCode::BadRequest);
        }
        let mut d = 0;
        if store(&mut self.name, &mut self.name_len, name) {
            d |= changed(R_NAME) | PERSIST;
        }
        if store(&mut self.pkg_version, &mut self.pkg_version_len, version) {
            d |= changed(R_VERSION) | PERSIST;
        }
        Outcome::done(d)
    }

    fn succeed(&mut self, now: u32) -> Delta {
        self.job = JOB_NONE;
        PERSIST | self.enter(State::Idle, UpdateResult::Success, now)
    }

    fn fail_update(&mut self, r: UpdateResult, usable: bool, now: u32) -> Delta {
        PERSIST
            | if usable {
                self.enter(State::Downloaded, r, now)
            } else {
                self.abandon(r, now)
            }
    }
}
