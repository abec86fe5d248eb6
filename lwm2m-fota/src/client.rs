//! The sans-IO LwM2M device client core: registration, objects 0/1/3/4/5, Observe, Block1 push
//! reception into staging with progress in /5/0/26500, Block2 pull of a `coap://` Package URI
//! resumed from the persisted offset with the ETag checked, Execute Update with verification,
//! install, reboot and boot reconciliation. No sockets, clocks, files or allocation: feed
//! datagrams with [`Client::handle`], poll with [`Client::poll_transmit`] and [`Client::poll_event`],
//! sleep until [`Client::poll_timeout`].

use crate::coap::{Block, Code, Message, MessageType, OptionNumber, format};
use crate::record::{Delivery, MAX_URI, MAX_VERSION, Record};
use crate::{State, UpdateResult};
use coap_block::MessageBuilder;

/// Where a datagram goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The LwM2M server.
    Server,
    /// The host named by the Package URI (pull).
    PackageHost,
}

/// A datagram written into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub peer: Peer,
    /// Length written.
    pub len: usize,
}

/// Something the driver or application should know or do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// State or Update Result changed.
    StateChanged {
        /// New State.
        state: State,
        /// New Update Result.
        result: UpdateResult,
    },
    /// Registered (or re-registered) with the server.
    Registered,
    /// The package is installed: restart the device from flash (the bootloader takes it).
    Reboot,
}

/// Readings of the device the server checks before an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Battery level in percent (/3/0/9).
    pub battery: u8,
    /// Free memory in KiB (/3/0/10).
    pub free_memory_kib: u32,
    /// Radio signal strength in dBm (/4/0/2).
    pub signal_dbm: i32,
}

/// The device underneath the client: staging flash, persisted record, verification, install.
/// Package bytes arrive in order; a platform that understands delta packages patches them into
/// staging as they arrive.
pub trait Platform {
    /// Loads the persisted record, `None` if there is none or it is corrupt.
    fn load_record(&mut self) -> Option<Record>;
    /// Persists the record (atomically, or with a fallback to the previous good one).
    fn store_record(&mut self, record: &Record) -> bool;
    /// Starts a new package: erases the staging area. `size` is the announced package size.
    fn begin_package(&mut self, size: Option<u32>) -> Result<(), UpdateResult>;
    /// Stores package bytes at `offset` (always the previous end). Durable on return.
    fn write_package(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult>;
    /// The whole package (`len` bytes) has arrived.
    fn finish_package(&mut self, len: u32) -> Result<(), UpdateResult>;
    /// Verifies the staged image as read back from flash.
    fn verify(&mut self) -> Result<(), UpdateResult>;
    /// Marks the staged image for the bootloader; the client then asks for a reboot.
    fn install(&mut self) -> Result<(), UpdateResult>;
    /// Writes the running firmware's version into `out`, returns its length.
    fn firmware_version(&mut self, out: &mut [u8]) -> usize;
    /// Current readings.
    fn device_info(&mut self) -> DeviceInfo;
    /// Largest package the staging area takes.
    fn capacity(&self) -> u32;
    /// A random number (message IDs, tokens, jitter).
    fn random(&mut self) -> u32;
}

/// Client configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `ep=` and the endpoint name: the Register query as it is sent.
    endpoint: [u8; 35],
    endpoint_len: u8,
    /// Registration lifetime in seconds.
    pub lifetime: u32,
    /// Initial retransmission timeout in ms (RFC 7252 ACK_TIMEOUT: 2000). Keep it below 2^28 ms
    /// (about 74 hours): the Register backoff (up to 16 times this) is 32-bit math on a device.
    pub ack_timeout_ms: u32,
    /// Retransmissions before an exchange fails (RFC 7252 MAX_RETRANSMIT: 4).
    pub max_retransmit: u8,
    /// Block size exponent for pull requests and the preferred Block1 size (6 = 1024 bytes).
    pub szx: u8,
    /// Failed pull exchanges in a row before the download fails with Result 4.
    pub max_pull_failures: u8,
}

impl Config {
    /// Defaults for endpoint `name` (at most 32 bytes): lifetime 300 s, RFC 7252 timers,
    /// 1024-byte blocks.
    pub fn new(name: &str) -> Option<Self> {
        let mut endpoint = [0u8; 35];
        copy(&mut endpoint, b"ep=");
        copy(endpoint.get_mut(3..3 + name.len())?, name.as_bytes());
        Some(Config {
            endpoint,
            endpoint_len: name.len() as u8,
            lifetime: 300,
            ack_timeout_ms: 2000,
            max_retransmit: 4,
            szx: 6,
            max_pull_failures: 12,
        })
    }
    /// The endpoint name.
    pub fn endpoint(&self) -> &str {
        core::str::from_utf8(self.name()).unwrap_or("")
    }
    /// The endpoint name's bytes.
    fn name(&self) -> &[u8] {
        self.ep_query().get(3..).unwrap_or(&[])
    }
    /// `ep=` and the name.
    fn ep_query(&self) -> &[u8] {
        self.endpoint
            .get(..3 + usize::from(self.endpoint_len))
            .unwrap_or(&[])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Out {
    Register,
    Update,
    Deregister,
    Notify(u8),
    Pull,
}

#[derive(Debug, Clone, Copy)]
struct Inflight {
    kind: Out,
    mid: u16,
    token: [u8; 4],
}

#[derive(Debug, Clone, Copy)]
struct Observation {
    token: [u8; 8],
    token_len: u8,
    tlv: bool,
    dirty: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Recent {
    mid: u16,
    /// The answer's code (`Code` has no `Default`); 0 (Empty, never an answer): no entry.
    code: u8,
}

/// What `Client::build` has the dispatcher write as the payload of a Register or a
/// notification: its request (none: the Register links) and the format it must answer in.
type Body = (Option<lwm2m_objects::Request<'static>>, u16);

/// The observable resources (object, resource of instance 0); observation `i` is of the
/// `i`-th, so notifications go out in this order.
const OBSERVABLE: [(u16, u16); 3] = [(5, 3), (5, 5), (3, 3)];
const RECENT: usize = 8;

/// The device client core over a [`Platform`].
#[derive(Debug)]
// Laid out by hand (C order): the fields most code touches first, where Thumb's 16-bit loads
// and stores reach them (byte fields within 32 bytes, words within 128); the big arrays last.
// No run of fields that start at zero begins at a multiple of 8 (the Message ID and token are
// random): clearing them never links an 8-aligned memset routine (`__aeabi_memclr8`, 174 B).
#[repr(C)]
pub struct Client<P: Platform> {
    mid: u16,
    /// At offset 2, after the Message ID (see above).
    location: [u8; 24],
    location_len: u8,
    reg_failures: u8,
    token: u32,
    observe_seq: u32,
    registered: bool,
    deregister: bool,
    execute_pending: bool,
    pull_failures: u8,
    /// Seconds for `fota-fsm` (Last State Change Time), from the last `now` seen.
    now_s: u32,
    recent_pos: usize,
    next_register: u64,
    next_update: u64,
    pull_at: u64,
    /// One exchange in flight per peer (RFC 7252 NSTART = 1): [server, package host].
    inflight: [Option<Inflight>; 2],
    observations: [Option<Observation>; 3],
    events: [Option<Event>; 4],
    rec: Record,
    cfg: Config,
    /// `coap-block`'s Block1 receiver for pushes of /5/0/0; one
    /// resource takes pushes, so transfers are told apart by nothing but their blocks.
    rx: coap_block::Block1Receiver<()>,
    /// `coap-block`'s CON retransmission and response matching, one exchange per peer:
    /// [server, package host].
    rel: [coap_block::Reliability<false>; 2],
    recent: [Recent; RECENT],
    platform: P,
}

/// Objects 0, 1, 3, 4 and 5 served through `lwm2m-objects`: their
/// definitions, one [`ObjectHandler`](lwm2m_objects::ObjectHandler) per object over a snapshot
/// of the client's state, and its [`Dispatcher`](lwm2m_objects::Dispatcher) for Read, Write,
/// Execute, Discover and the Register payload.
mod composed {
    use super::{Config, DeviceInfo};
    use crate::record::Record;
    use core::cell::Cell;
    use lwm2m_objects::{
        CONNECTIVITY_MONITORING, DEVICE, FIRMWARE_UPDATE_V1_1_OPERATOR, ObjectDef, ObjectHandler,
        Operation, Profile, ResourceDef, ResponseCode, SECURITY, SERVER, Value, ValueOut,
    };

    /// The rows of `ids` (increasing) from `def`'s resources, as the registry defines them
    /// (evaluated at compile time: an id `def` lacks fails the build).
    const fn rows<const N: usize>(def: &ObjectDef, ids: [u16; N]) -> [ResourceDef; N] {
        let all = def.resources();
        let mut out = [all[0]; N];
        let (mut i, mut j) = (0, 0);
        while i < N {
            while all[j].id() != ids[i] {
                j += 1;
            }
            out[i] = all[j];
            i += 1;
        }
        out
    }

    /// `def` with only the resources this client implements (`rows`): Discover lists them
    /// and the dispatcher answers 4.04 for any other, with no per-request check of ours.
    const fn served(def: &ObjectDef, rows: &'static [ResourceDef]) -> ObjectDef {
        let (major, minor) = def.version();
        let (lw_major, lw_minor) = def.lwm2m_version();
        let mut d = ObjectDef::new(def.id(), def.name(), def.urn(), rows)
            .with_ranges(def.ranges())
            .with_version(major, minor)
            .with_lwm2m_version(lw_major, lw_minor);
        if def.is_multiple() {
            d = d.multiple();
        }
        if def.is_mandatory() {
            d = d.mandatory();
        }
        d
    }

    const R0: [ResourceDef; 4] = rows(&SECURITY, [0, 1, 2, 10]);
    const R1: [ResourceDef; 5] = rows(&SERVER, [0, 1, 6, 7, 8]);
    const R3: [ResourceDef; 8] = rows(&DEVICE, [0, 1, 2, 3, 9, 10, 11, 16]);
    const R4: [ResourceDef; 2] = rows(&CONNECTIVITY_MONITORING, [0, 2]);
    const R5: [ResourceDef; 15] = rows(
        &FIRMWARE_UPDATE_V1_1_OPERATOR,
        [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 26500, 26501],
    );

    /// Objects 0, 1, 3, 4 and 5 as `lwm2m-objects` defines them, with the resources this
    /// client implements; object 5 is version 1.1 with the operator resources 26500 and 26501
    /// (resource 14 is 1.2).
    const DEFINITIONS: [ObjectDef; 5] = [
        served(&SECURITY, &R0),
        served(&SERVER, &R1),
        served(&DEVICE, &R3),
        served(&CONNECTIVITY_MONITORING, &R4),
        served(&FIRMWARE_UPDATE_V1_1_OPERATOR, &R5),
    ];
    pub(super) static OBJECTS: [ObjectDef; 5] = DEFINITIONS;

    /// What the dispatcher is built for: the resource types of these objects; Read, Discover,
    /// Execute and Writes of one resource (the client answers 4.05 to the rest itself: Create,
    /// Delete, partial updates and instance writes never reach the dispatcher).
    pub(super) const PROFILE: u32 = {
        let [d0, d1, d3, d4, d5] = &DEFINITIONS;
        Profile::of(&[d0, d1, d3, d4, d5])
            .without(Operation::Create)
            .without(Operation::Delete)
            .without(Operation::WriteUpdate)
            .without(Operation::BootstrapWrite)
            .without(Operation::WriteAttributes)
            .without_instance_writes()
            .with_read_to()
            // The definitions hold only the implemented resources (`served`).
            .with_every_resource()
            // The route answers 4.04 to /O/I/R/RI itself.
            .without_resource_instance_paths()
            .bits()
    };

    #[cfg(all(test, feature = "std"))]
    pub(super) fn has_resource(obj: u16, res: u16) -> bool {
        OBJECTS
            .iter()
            .any(|d| d.id() == obj && d.resource(res).is_some())
    }

    /// What the objects show, read from the client before a request: the handlers borrow
    /// nothing of it, so their writes and executes come back as an [`Action`] (one per
    /// request, kept here for all five handlers).
    pub(super) struct Snapshot<'a> {
        /// Where the request's payload starts (a written Package URI is a part of it).
        pub payload: usize,
        pub action: Cell<Option<Action>>,
        pub cfg: &'a Config,
        pub rec: &'a Record,
        pub version: &'a [u8],
        pub info: DeviceInfo,
    }

    /// A write or execute the dispatcher accepted, applied by the client afterwards (it may
    /// still refuse it: `fota-fsm` decides).
    #[derive(Clone, Copy)]
    pub(super) enum Action {
        Lifetime(u32),
        /// Package URI: where it starts in the request's payload, its length (no copy).
        Uri(usize, usize),
        /// Package (/5/0/0) in one TLV record: where its value starts in the payload, length.
        Package(usize, usize),
        // Narrowed here as `fota-fsm` narrows them (what does not fit is 4.00 either way): no
        // 64-bit values in the action.
        Severity(u8),
        MaxDefer(u32),
        Execute(u16, u16),
    }

    /// One object over the snapshot.
    pub(super) struct Handler<'s, 'a> {
        def: &'static ObjectDef,
        snap: &'s Snapshot<'a>,
    }

    impl<'s, 'a> Handler<'s, 'a> {
        pub fn new(def: &'static ObjectDef, snap: &'s Snapshot<'a>) -> Self {
            Handler { def, snap }
        }
        /// Where `part` (of the request's payload: the dispatcher hands over parts of it)
        /// starts in the payload.
        fn at(&self, part: &[u8]) -> usize {
            (part.as_ptr() as usize).wrapping_sub(self.snap.payload)
        }
    }

    impl ObjectHandler for Handler<'_, '_> {
        fn definition(&self) -> &ObjectDef {
            self.def
        }
        fn next_instance(&self, after: Option<u16>) -> Option<u16> {
            after.is_none().then_some(0)
        }
        // The multiple resources served (Error Code, Protocol Support) have one instance 0.
        fn next_resource_instance(&self, _: u16, _: u16, after: Option<u16>) -> Option<u16> {
            after.is_none().then_some(0)
        }
        fn read_to(
            &self,
            _: u16,
            resource: u16,
            _: Option<u16>,
            out: &mut ValueOut<'_>,
        ) -> Result<(), ResponseCode> {
            let s = self.snap;
            let fw = &s.rec.fw;
            match (self.def.id(), resource) {
                (1, 0) => out.integer(1),
                (1, 1) => out.integer(i64::from(s.cfg.lifetime)),
                (1, 6) => out.boolean(false),
                (1, 7) | (3, 16) => out.string(b"U"),
                (3, 0) => out.string(b"lwm2m-fota"),
                (3, 1) => out.string(b"sim-device"),
                (3, 2) => out.string(s.cfg.name()),
                (3, 3) => out.string(s.version),
                (3, 9) => out.integer(i64::from(s.info.battery)),
                (3, 10) => out.integer(i64::from(s.info.free_memory_kib)),
                (3, 11) => out.integer(0),
                (4, 0) => out.integer(6),
                (4, 2) => out.integer(i64::from(s.info.signal_dbm)),
                (5, 1) => out.string(s.rec.uri()),
                (5, 3) => out.integer(fw.state() as i64),
                (5, 5) => out.integer(fw.update_result() as i64),
                (5, 6) | (5, 7) => out.string(b""),
                (5, 8) => out.integer(0),
                (5, 9) => out.integer(2),
                (5, 11) => out.integer(fw.severity().map_or(1, |s| s as i64)),
                (5, 12) => out.time(i64::from(fw.last_state_change_time().unwrap_or(0))),
                (5, 13) => out.unsigned(u64::from(fw.max_defer_period().unwrap_or(0))),
                (5, 26500) => out.integer(i64::from(fw.transferred_bytes())),
                _ => Err(ResponseCode::NotFound),
            }
        }
        fn write(
            &mut self,
            _: u16,
            resource: u16,
            _: Option<u16>,
            value: Value<'_>,
        ) -> Result<(), ResponseCode> {
            let action = match (self.def.id(), resource, value) {
                (1, 1, Value::Integer(v)) => match u32::try_from(v) {
                    Ok(lt) if lt > 0 => Action::Lifetime(lt),
                    _ => return Err(ResponseCode::BadRequest),
                },
                // Refused in Updating by the client (4.05) when it applies the action.
                (5, 1, Value::String(uri)) => Action::Uri(self.at(uri), uri.len()),
                (5, 0, Value::Opaque(package)) => Action::Package(self.at(package), package.len()),
                (5, 11, Value::Integer(v)) => {
                    Action::Severity(u8::try_from(v).map_err(|_| ResponseCode::BadRequest)?)
                }
                // Unsigned Integer: the dispatcher decodes no other type for it.
                (5, 13, Value::Unsigned(v)) => {
                    Action::MaxDefer(u32::try_from(v).map_err(|_| ResponseCode::BadRequest)?)
                }
                _ => return Err(ResponseCode::MethodNotAllowed),
            };
            self.snap.action.set(Some(action));
            Ok(())
        }
        fn execute(&mut self, _: u16, resource: u16, _: &[u8]) -> Result<(), ResponseCode> {
            self.snap
                .action
                .set(Some(Action::Execute(self.def.id(), resource)));
            Ok(())
        }
    }
}

/// The resource table, Discover and Register payload the client served with its own request
/// code before it composed `lwm2m-objects`: kept as the tests' reference, which the
/// dispatcher's answers must agree with.
#[cfg(all(test, feature = "std"))]
mod fixed {
    const OBJ3: &[u16] = &[0, 1, 2, 3, 9, 10, 11, 16];

    /// The resources this client implements per object (Discover lists them; any other is 4.04).
    /// Object 5 is version 1.1 (resource 14 is 1.2).
    fn resources(obj: u16) -> &'static [u16] {
        match obj {
            0 => &[0, 1, 2, 10],
            1 => &[0, 1, 6, 7, 8],
            3 => OBJ3,
            4 => &[0, 2],
            5 => &[0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 26500, 26501],
            _ => &[],
        }
    }

    /// Whether a resource can be read: not executable, not write-only, not in object 0 (whose
    /// credentials are never read by a server).
    pub(super) fn readable(obj: u16, res: u16) -> bool {
        obj != 0 && !matches!((obj, res), (1, 8) | (5, 0) | (5, 2) | (5, 10) | (5, 26501))
    }

    pub(super) fn has_resource(obj: u16, res: u16) -> bool {
        resources(obj).contains(&res)
    }

    pub(super) fn resource_ids(obj: u16) -> impl Iterator<Item = u16> {
        resources(obj).iter().copied()
    }

    pub(super) fn registration_links() -> &'static [u8] {
        b"</>;rt=\"oma.lwm2m\",</1/0>,</3/0>,</4/0>,</5>;ver=1.1,</5/0>"
    }
}

impl<P: Platform> Client<P> {
    /// Boots the client from the platform's persisted record (boot reconciliation: a device
    /// that restarts in Updating reports Result 1 if the new image runs, else 8).
    pub fn new(mut platform: P, cfg: Config, now: u64) -> Self {
        let mut rec = platform.load_record().unwrap_or_default();
        let now_s = (now / 1000) as u32;
        let mut changed = false;
        match rec.fw.state() {
            State::Updating => {
                let mut v = [0u8; MAX_VERSION];
                let n = platform.firmware_version(&mut v);
                let running = v.get(..n).unwrap_or(&[]);
                // fota-fsm reconciles: the new version running gives Result 1, else 8.
                rec.fw.booted(running != rec.old_version(), now_s);
                rec.delivery = Delivery::None;
                changed = true;
            }
            State::Downloading => {
                // fota-fsm reads a reboot mid-download as a lost connection (Idle, Result 4,
                // job kept); this device resumes the job at once, from /5/0/26500.
                rec.fw.booted(false, now_s);
                rec.fw.switch_to_download(now_s);
            }
            State::Idle | State::Downloaded => {}
        }
        let seed = platform.random();
        let rel = {
            let p = coap_block::TransmissionParams {
                ack_timeout_ms: cfg.ack_timeout_ms,
                max_retransmit: cfg.max_retransmit,
                // After an empty ACK, as long as the whole exchange could have taken.
                separate_response_ms: cfg.ack_timeout_ms.saturating_mul(8),
                ..coap_block::TransmissionParams::RFC7252
            };
            [
                coap_block::Reliability::with_params(p, seed),
                coap_block::Reliability::with_params(p, seed.rotate_left(16)),
            ]
        };
        let mut events = [None; 4];
        if changed {
            // Persisted and reported before the client is built: it is built in place.
            let _ = platform.store_record(&rec);
            events[0] = Some(Event::StateChanged {
                state: rec.fw.state(),
                result: rec.fw.update_result(),
            });
        }
        Client {
            rx: coap_block::Block1Receiver::new(cfg.szx),
            platform,
            cfg,
            rec,
            location: [0; 24],
            location_len: 0,
            registered: false,
            deregister: false,
            next_register: now,
            next_update: u64::MAX,
            reg_failures: 0,
            mid: seed as u16,
            token: seed.rotate_left(16),
            inflight: [None; 2],
            observations: [None; 3],
            observe_seq: 1,
            recent: [Recent::default(); RECENT],
            recent_pos: 0,
            pull_at: now,
            pull_failures: 0,
            execute_pending: false,
            events,
            now_s,
            rel,
        }
    }

    /// The platform (for the driver's reboot).
    pub fn into_platform(self) -> P {
        self.platform
    }
    /// The platform, borrowed.
    pub fn platform(&mut self) -> &mut P {
        &mut self.platform
    }
    /// Current State.
    pub fn state(&self) -> State {
        self.rec.fw.state()
    }
    /// Current Update Result.
    pub fn result(&self) -> UpdateResult {
        self.rec.fw.update_result()
    }
    /// Package bytes stored (/5/0/26500).
    pub fn transferred(&self) -> u32 {
        self.rec.fw.transferred_bytes()
    }
    /// Whether the registration is current.
    pub fn is_registered(&self) -> bool {
        self.registered
    }
    /// The Package URI being pulled, if any (the driver resolves its host).
    pub fn package_uri(&self) -> Option<&str> {
        if self.rec.delivery == Delivery::Pull {
            core::str::from_utf8(self.rec.uri()).ok()
        } else {
            None
        }
    }

    fn push_event(&mut self, e: Event) {
        if let Some(slot) = self.events.iter_mut().find(|s| s.is_none()) {
            *slot = Some(e);
        } else {
            // Full: drop the oldest, so the newest (a Reboot, say) is never lost.
            self.events.rotate_left(1);
            if let Some(last) = self.events.last_mut() {
                *last = Some(e);
            }
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        let first = self.events.first_mut()?.take();
        self.events.rotate_left(1);
        first
    }

    fn persist(&mut self) {
        // A failed store leaves the previous record; the download then resumes from there.
        let _ = self.platform.store_record(&self.rec);
    }

    /// A new value for observation `i` (of `OBSERVABLE[i]`), if there is one.
    fn mark(&mut self, i: usize) {
        if let Some(Some(o)) = self.observations.get_mut(i) {
            o.dirty = true;
        }
    }

    /// Performs what a `fota-fsm` step asks: Observe marks for the changed State / Result, a
    /// persisted record when anything changed, an event for the application.
    fn apply(&mut self, out: fota_fsm::Outcome) {
        let c = out.changed;
        if c.contains(3) {
            self.mark(0);
        }
        if c.contains(5) {
            self.mark(1);
        }
        if !c.is_empty() || !out.actions.is_empty() {
            self.persist();
        }
        if c.contains(3) || c.contains(5) {
            self.push_event(Event::StateChanged {
                state: self.rec.fw.state(),
                result: self.rec.fw.update_result(),
            });
        }
    }

    /// A download that cannot go on: `fota-fsm`'s Download Failed with the platform's reason.
    /// Writes one chunk of the package to the platform and records it in the Firmware Update
    /// state (/5/0/26500); a refused write fails the download. `false` when it failed.
    fn store_chunk(&mut self, offset: u32, data: &[u8]) -> bool {
        if let Err(r) = self.platform.write_package(offset, data) {
            self.fail(r);
            return false;
        }
        let out = self.rec.fw.chunk_stored(offset, data.len() as u32);
        self.apply(out);
        true
    }

    fn fail(&mut self, r: UpdateResult) {
        use fota_fsm::DownloadFailure as F;
        let now = self.now_s;
        let cause = match r {
            UpdateResult::IntegrityFailure => F::IntegrityFailure,
            UpdateResult::NotEnoughFlash => F::NotEnoughFlash,
            UpdateResult::OutOfRam => F::OutOfRam,
            UpdateResult::UnsupportedPackageType => F::UnsupportedPackageType,
            UpdateResult::InvalidUri => F::InvalidUri,
            UpdateResult::UnsupportedProtocol => F::UnsupportedProtocol,
            _ => F::ConnectionLost,
        };
        let out = self.rec.fw.download_failed(cause, now);
        self.apply(out);
    }

    fn next_mid(&mut self) -> u16 {
        self.mid = self.mid.wrapping_add(1);
        self.mid
    }

    /// When the exchange in flight in `slot` needs attention.
    fn deadline(&self, slot: usize) -> u64 {
        self.rel
            .get(slot)
            .and_then(|r| r.poll_timeout())
            .unwrap_or(u64::MAX)
    }

    /// When [`Client::poll_transmit`] should be called next (absolute ms).
    pub fn poll_timeout(&self) -> u64 {
        if self.execute_pending {
            return 0;
        }
        let mut t = u64::MAX;
        match &self.inflight[0] {
            Some(_) => t = t.min(self.deadline(0)),
            None => {
                t = t.min(match (self.registered, self.deregister) {
                    (true, true) => 0,
                    (true, false) => self.next_update,
                    (false, true) => u64::MAX,
                    (false, false) => self.next_register,
                });
                if self.registered && self.observations.iter().flatten().any(|o| o.dirty) {
                    t = 0;
                }
            }
        }
        match &self.inflight[1] {
            Some(_) => t = t.min(self.deadline(1)),
            None if self.rec.fw.state() == State::Downloading
                && self.rec.delivery == Delivery::Pull =>
            {
                t = t.min(self.pull_at)
            }
            None => {}
        }
        t
    }

    /// Deregisters (DELETE of the registration) at the next poll and registers no more.
    pub fn deregister(&mut self) {
        self.deregister = true;
    }

    /// Asks for a registration update at the next poll (e.g. after a change).
    pub fn trigger_update(&mut self) {
        self.next_update = 0;
    }

    /// Polls for a datagram to send (registration, update, notification, pull request, or a
    /// retransmission). Call until it returns `None`, then again at [`Client::poll_timeout`].
    pub fn poll_transmit(&mut self, now: u64, buf: &mut [u8]) -> Option<Transmit> {
        self.now_s = (now / 1000) as u32;
        if self.execute_pending {
            self.execute_pending = false;
            self.run_update();
            return None;
        }
        for slot in 0..2 {
            let Some(f) = self.inflight.get(slot).copied().flatten() else {
                continue;
            };
            let action = self.rel.get_mut(slot).map(|r| r.handle_timeout(now));
            match action {
                Some(coap_block::TimeoutAction::Retransmit) => {
                    return self.build(f.kind, f.mid, &f.token, buf);
                }
                Some(coap_block::TimeoutAction::GiveUp) => {
                    if let Some(s) = self.inflight.get_mut(slot) {
                        *s = None;
                    }
                    self.exchange_failed(now, f.kind);
                }
                _ => {}
            }
        }
        let mut kind = None;
        if self.inflight[0].is_none() {
            kind = if self.deregister {
                self.registered.then_some(Out::Deregister)
            } else if !self.registered {
                (now >= self.next_register).then_some(Out::Register)
            } else if now >= self.next_update {
                Some(Out::Update)
            } else if let Some((i, o)) = self
                .observations
                .iter_mut()
                .enumerate()
                .find_map(|(i, o)| o.as_mut().filter(|o| o.dirty).map(|o| (i, o)))
            {
                o.dirty = false;
                Some(Out::Notify(i as u8))
            } else {
                None
            };
        }
        if kind.is_none()
            && self.inflight[1].is_none()
            && self.rec.fw.state() == State::Downloading
            && self.rec.delivery == Delivery::Pull
            && now >= self.pull_at
        {
            kind = Some(Out::Pull);
        }
        let kind = kind?;
        let slot = usize::from(kind == Out::Pull);
        let mid = self.next_mid();
        self.token = self.token.wrapping_add(1);
        let token = self.token.to_be_bytes();
        let f = Inflight { kind, mid, token };
        let tx = self.build(kind, mid, &token, buf);
        if let Some(s) = self.inflight.get_mut(slot) {
            *s = tx.map(|_| f);
        }
        if tx.is_some()
            && let Some(r) = self.rel.get_mut(slot)
        {
            let t = coap_block::Token::from_array(token);
            // A CON: retransmitted until acknowledged, then matched to its response (the slot
            // was free, so nothing Reliability still tracks is wanted).
            r.cancel();
            let _ = r.start_request(now, mid, t, true);
        }
        tx
    }

    fn exchange_failed(&mut self, now: u64, kind: Out) {
        match kind {
            Out::Deregister => self.registered = false,
            Out::Register | Out::Update => {
                self.registered = false;
                self.reg_failures = self.reg_failures.saturating_add(1);
                // 32-bit math (no 64-bit shift): 2 to 16 times the ACK timeout (an ACK timeout
                // beyond 2^28 ms, 74 hours, would wrap).
                let backoff = self.cfg.ack_timeout_ms << self.reg_failures.min(4);
                self.next_register = now.saturating_add(u64::from(backoff));
            }
            // A lost notification: the server re-reads; keep the value fresh for the next one.
            Out::Notify(i) => self.mark(usize::from(i)),
            Out::Pull => {
                self.pull_failures = self.pull_failures.saturating_add(1);
                if self.pull_failures >= self.cfg.max_pull_failures {
                    self.fail(UpdateResult::ConnectionLost);
                } else {
                    // Block-level recovery: resume from the last durable offset after a pause.
                    self.pull_at = now.saturating_add(u64::from(self.cfg.ack_timeout_ms));
                }
            }
        }
    }

    fn build(&mut self, kind: Out, mid: u16, token: &[u8], buf: &mut [u8]) -> Option<Transmit> {
        let code = match kind {
            Out::Register | Out::Update => Code::POST,
            Out::Deregister => Code::DELETE,
            Out::Notify(_) => Code::CONTENT,
            Out::Pull => Code::GET,
        };
        // A notification goes out with its observation's token (borrowed, not copied: the
        // builder copies it into the datagram) and in the format it was asked in.
        let (token, tlv) = match kind {
            Out::Notify(i) => {
                let o = self.observations.get(usize::from(i))?.as_ref()?;
                (o.token.get(..usize::from(o.token_len))?, o.tlv)
            }
            _ => (token, false),
        };
        let mut b = MessageBuilder::new(buf, MessageType::Confirmable, code, mid, token).ok()?;
        // Register and notifications carry a payload: the dispatcher writes it (the links, or
        // a Read's value) in one place below.
        let body: Body = match kind {
            Out::Register => {
                // "lt=" and the lifetime's digits, written backwards from the end (at most
                // ten digits: the prefix always fits in front).
                let mut lt = [0u8; 13];
                let (mut at, mut v) = (lt.len(), self.cfg.lifetime);
                loop {
                    at = at.checked_sub(1)?;
                    *lt.get_mut(at)? = b'0' + (v % 10) as u8;
                    v /= 10;
                    if v == 0 {
                        break;
                    }
                }
                at = at.checked_sub(3)?;
                copy(lt.get_mut(at..)?, b"lt=");
                // One call site for the six options (Content-Format 40 is the byte 40).
                let (path, query) = (OptionNumber::URI_PATH, OptionNumber::URI_QUERY);
                for (number, value) in [
                    (path, &b"rd"[..]),
                    (OptionNumber::CONTENT_FORMAT, &[format::LINK as u8]),
                    (query, self.cfg.ep_query()),
                    (query, lt.get(at..)?),
                    (query, b"lwm2m=1.1"),
                    (query, b"b=U"),
                ] {
                    b.option(number, value).ok()?;
                }
                (None, format::LINK)
            }
            Out::Update | Out::Deregister => {
                let loc = self.location.get(..usize::from(self.location_len))?;
                segments(&mut b, OptionNumber::URI_PATH, loc, b'/')?;
                return Some(Transmit {
                    peer: Peer::Server,
                    len: b.finish(),
                });
            }
            Out::Notify(i) => {
                let (obj, res) = *OBSERVABLE.get(usize::from(i))?;
                self.observe_seq = self.observe_seq.wrapping_add(1) & 0xff_ffff;
                b.uint_option(OptionNumber::OBSERVE, self.observe_seq)
                    .ok()?;
                // The observable resources are numbers: text/plain unless TLV was asked for.
                {
                    use lwm2m_objects::{Operation, Path, Request};
                    let fmt = if tlv { format::TLV } else { format::TEXT };
                    b.uint_option(OptionNumber::CONTENT_FORMAT, u32::from(fmt))
                        .ok()?;
                    let req = Request::new(Operation::Read, Path::new_resource(obj, 0, res));
                    (Some(req.with_accept(Some(fmt))), fmt)
                }
            }
            Out::Pull => {
                let path = uri_path_bytes(self.rec.uri())?;
                let (p, query) = match path.iter().position(|c| *c == b'?') {
                    Some(i) => (path.get(..i)?, path.get(i + 1..)),
                    None => (path, None),
                };
                segments(&mut b, OptionNumber::URI_PATH, p, b'/')?;
                segments(&mut b, OptionNumber::URI_QUERY, query.unwrap_or(&[]), b'&')?;
                self.pull_client().add_request_options(&mut b).ok()?;
                return Some(Transmit {
                    peer: Peer::PackageHost,
                    len: b.finish(),
                });
            }
        };
        // The dispatcher's answer written straight into the datagram: only a 2.05 in the
        // format asked for goes out.
        let len = {
            let (req, fmt) = body;
            let cap = b.payload_capacity();
            b.payload_with(cap, |out| {
                let (resp, _) = self.objects(req.as_ref(), out);
                match (resp.code, resp.content_format) {
                    (lwm2m_objects::ResponseCode::Content, Some(f)) if f == fmt => Ok(resp.len),
                    _ => Err(coap_block::Error::BufferTooSmall),
                }
            })
            .ok()?
        };
        Some(Transmit {
            peer: Peer::Server,
            len,
        })
    }

    /// Feeds one datagram from `peer`; returns the immediate reply written into `buf`, if any.
    pub fn handle(
        &mut self,
        now: u64,
        peer: Peer,
        datagram: &[u8],
        buf: &mut [u8],
    ) -> Option<Transmit> {
        self.now_s = (now / 1000) as u32;
        let msg = Message::parse(datagram).ok()?;
        if msg.code().is_request() {
            // Requests are answered whoever sends them (the driver replies to the sender):
            // a management tool such as coap-client may act as the server.
            return self.request(now, &msg, buf).map(|t| Transmit { peer, ..t });
        }
        // ACK/RST/response to one of our in-flight exchanges.
        let (slot, con) = {
            use coap_block::Incoming;
            let mut found = None;
            for (i, (f, r)) in self.inflight.iter_mut().zip(&mut self.rel).enumerate() {
                let Some(kind) = f.map(|f| f.kind) else {
                    continue;
                };
                match r.handle_incoming(now, &msg) {
                    Incoming::Unrelated => continue,
                    // A separate response follows (Reliability waits for it) — or the ACK of
                    // a notification, which ends its exchange.
                    Incoming::EmptyAck => {
                        if matches!(kind, Out::Notify(_)) {
                            *f = None;
                            r.cancel();
                        }
                        return None;
                    }
                    Incoming::Reset => found = Some((i, false)),
                    Incoming::Response { ack_needed } => found = Some((i, ack_needed)),
                }
                break;
            }
            // An unknown confirmable response is acknowledged too, so the peer stops (no
            // slot: nothing else is done).
            found.unwrap_or((usize::MAX, msg.message_type() == MessageType::Confirmable))
        };
        let ack = if con {
            MessageBuilder::empty(buf, msg.message_id(), false).ok()
        } else {
            None
        };
        let Some(f) = self.inflight.get_mut(slot).and_then(Option::take) else {
            return ack.map(|len| Transmit { peer, len });
        };
        match f.kind {
            Out::Register if msg.code() == Code::CREATED => {
                // The Location-Path, joined with '/' (segments that do not fit are left out).
                let loc = &mut self.location;
                let mut n = 0usize;
                for v in msg.location_path() {
                    if n + v.len() < loc.len() {
                        if n > 0 {
                            if let Some(slash) = loc.get_mut(n) {
                                *slash = b'/';
                            }
                            n += 1;
                        }
                        if let Some(d) = loc.get_mut(n..n + v.len()) {
                            copy(d, v);
                        }
                        n += v.len();
                    }
                }
                self.location_len = n as u8;
                self.registered = true;
                self.reg_failures = 0;
                self.observations = [None; 3];
                self.next_update = now.saturating_add(u64::from(self.cfg.lifetime) * 500);
                self.push_event(Event::Registered);
            }
            Out::Register => self.exchange_failed(now, Out::Register),
            Out::Deregister => self.registered = false,
            Out::Update if msg.code() == Code::CHANGED => {
                self.next_update = now.saturating_add(u64::from(self.cfg.lifetime) * 500);
            }
            Out::Update => {
                // 4.04: the server forgot us: register again.
                self.registered = false;
                self.next_register = now;
            }
            Out::Notify(i) => {
                if msg.message_type() == MessageType::Reset
                    && let Some(slot) = self.observations.get_mut(usize::from(i))
                {
                    *slot = None;
                }
            }
            Out::Pull => self.pull_response(now, &msg),
        }
        ack.map(|len| Transmit { peer, len })
    }

    fn pull_response(&mut self, now: u64, msg: &Message<'_>) {
        if self.rec.fw.state() != State::Downloading || self.rec.delivery != Delivery::Pull {
            return;
        }
        if msg.code() != Code::CONTENT {
            let r = if msg.code() == Code::NOT_FOUND {
                UpdateResult::InvalidUri
            } else {
                UpdateResult::ConnectionLost
            };
            self.fail(r);
            return;
        }
        self.pull_failures = 0;
        self.pull_at = now;
        self.receive_pull(msg);
    }

    fn download_complete(&mut self) {
        match self
            .platform
            .finish_package(self.rec.fw.transferred_bytes())
        {
            Ok(()) => self.downloaded(),
            Err(r) => self.fail(r),
        }
    }

    /// The platform accepted the whole package (length, delta applied): fota-fsm's Verify step
    /// passes here; the image itself is verified again at Execute.
    fn downloaded(&mut self) {
        let out = self.rec.fw.download_finished();
        self.apply(out);
        let out = self.rec.fw.integrity_verified(self.now_s);
        self.apply(out);
    }

    fn run_update(&mut self) {
        use fota_fsm::UpdateFailure as F;
        if let Err(r) = self
            .platform
            .verify()
            .and_then(|()| self.platform.install())
        {
            // The old firmware keeps running; fota-fsm drops a package that failed its check.
            let cause = match r {
                UpdateResult::IntegrityFailure => F::IntegrityFailure,
                UpdateResult::UnsupportedPackageType => F::UnsupportedPackageType,
                UpdateResult::NotEnoughFlash => F::NotEnoughFlash,
                UpdateResult::OutOfRam => F::OutOfRam,
                _ => F::Failed,
            };
            let out = self.rec.fw.update_failed(cause, false, self.now_s);
            self.apply(out);
            return;
        }
        self.persist();
        self.push_event(Event::Reboot);
    }

    fn request(&mut self, now: u64, msg: &Message<'_>, buf: &mut [u8]) -> Option<Transmit> {
        let con = msg.message_type() == MessageType::Confirmable;
        let mid = if con {
            msg.message_id()
        } else {
            self.next_mid()
        };
        // De-duplication: a repeated confirmable write/execute gets the same answer, not a redo.
        let repeated = self
            .recent
            .iter()
            .find(|r| r.code != 0 && r.mid == msg.message_id())
            .copied()
            .filter(|_| con && msg.code() != Code::GET);
        let code = match repeated {
            Some(r) => Code(r.code),
            None => match self.route(now, msg, buf, mid) {
                Ok(tx) => return Some(tx),
                Err(c) => {
                    if msg.code() != Code::GET {
                        self.remember(msg, c);
                    }
                    c
                }
            },
        };
        // A reply that is only this code.
        Some(finish(
            MessageBuilder::response_to(buf, msg, code, mid).ok()?,
        ))
    }

    /// Execute of a resource.
    fn execute(&mut self, obj: u16, res: u16, now_ms: u64) -> Code {
        let now = self.now_s;
        let out = match (obj, res) {
            (5, 2) => {
                let out = self.rec.fw.execute_update(now);
                // APPLY and REBOOT are done by run_update on the next poll.
                self.execute_pending = out.code.is_success();
                out
            }
            // Cancel (v1.1): the job is dropped, Idle with Result 10.
            (5, 10) => self.rec.fw.cancel(now),
            // Switch to Download State: a job broken with Result 4 goes on from /5/0/26500.
            (5, 26501) => {
                let out = self.rec.fw.switch_to_download(now);
                self.pull_at = now_ms;
                self.pull_failures = 0;
                out
            }
            (1, 8) => {
                self.next_update = now_ms;
                return Code::CHANGED;
            }
            _ => return Code::METHOD_NOT_ALLOWED,
        };
        self.fsm(out)
    }

    /// Applies an accepted `fota-fsm` step; the step's answer as a CoAP code.
    fn fsm(&mut self, out: fota_fsm::Outcome) -> Code {
        let c = Code(out.code.as_u8());
        if out.code.is_success() {
            self.apply(out);
        }
        c
    }

    // Inlined into its callers (smaller on Cortex-M than out of line).
    #[inline(always)]
    fn remember(&mut self, msg: &Message<'_>, c: Code) {
        if msg.message_type() != MessageType::Confirmable {
            return;
        }
        if let Some(slot) = self.recent.get_mut(self.recent_pos % RECENT) {
            *slot = Recent {
                mid: msg.message_id(),
                code: c.0,
            };
        }
        self.recent_pos = self.recent_pos.wrapping_add(1);
    }

    /// Observe (0) or cancel (1) of resource `res` of `obj`'s instance 0; whether an
    /// observation of it is active.
    fn observe(&mut self, msg: &Message<'_>, obj: u16, res: u16, tlv: bool) -> bool {
        // OBSERVABLE's order (checked at compile time below).
        const _: () = assert!(matches!(OBSERVABLE, [(5, 3), (5, 5), (3, 3)]));
        let slot = match (obj, res) {
            (5, 3) => &mut self.observations[0],
            (5, 5) => &mut self.observations[1],
            (3, 3) => &mut self.observations[2],
            _ => return false,
        };
        match msg.uint_option(OptionNumber::OBSERVE).ok().flatten() {
            Some(0) => {
                // Written in place (a parsed token has at most 8 bytes).
                let t = msg.token();
                let o = slot.insert(Observation {
                    token: [0; 8],
                    token_len: t.len() as u8,
                    tlv,
                    dirty: false,
                });
                copy(&mut o.token, t);
                true
            }
            Some(1) => {
                *slot = None;
                false
            }
            _ => false,
        }
    }

    /// A write of the Package URI.
    fn write_uri(&mut self, now: u64, uri: &[u8]) -> Code {
        if self.rec.fw.state() == State::Updating {
            return Code::METHOD_NOT_ALLOWED;
        }
        if uri.is_empty() {
            // Reset: cancel any download.
            self.rec.uri_len = 0;
            let out = self.rec.fw.package_reset(self.now_s);
            self.apply(out);
            return Code::CHANGED;
        }
        if self.rec.fw.state() == State::Downloading
            && self.rec.delivery == Delivery::Pull
            && uri == self.rec.uri()
        {
            // The same package again: keep the offset and go on.
            self.pull_at = now;
            return Code::CHANGED;
        }
        if self.rec.fw.state() != State::Idle {
            // Another package: the current one is dropped first.
            let out = self.rec.fw.package_reset(self.now_s);
            self.apply(out);
        }
        // fota-fsm checks RFC 3986 syntax and the scheme (Result 7 or 9) and starts the job;
        // this device pulls over plain CoAP only and stores at most MAX_URI bytes.
        let out = self.rec.fw.package_uri_written(uri, self.now_s);
        self.apply(out);
        if self.rec.fw.state() != State::Downloading {
            return Code::CHANGED;
        }
        let usable = uri_path_bytes(uri).is_some();
        if uri.len() > MAX_URI || !usable {
            self.fail(UpdateResult::InvalidUri);
            return Code::CHANGED;
        }
        // The URI, then zeros (one loop: no memset of an 8-aligned field).
        for (i, d) in self.rec.uri.iter_mut().enumerate() {
            *d = uri.get(i).copied().unwrap_or(0);
        }
        self.rec.uri_len = uri.len() as u8;
        match self.start_download(Delivery::Pull, None) {
            Ok(()) => self.pull_at = now,
            Err(r) => self.fail(r),
        }
        Code::CHANGED
    }

    // Inlined into its callers (smaller on Cortex-M than out of line).
    #[inline(always)]
    fn start_download(
        &mut self,
        delivery: Delivery,
        size: Option<u32>,
    ) -> Result<(), UpdateResult> {
        self.platform.begin_package(size)?;
        prepare(&mut self.platform, &mut self.rec, delivery, self.cfg.szx);
        self.pull_failures = 0;
        self.persist();
        Ok(())
    }

    /// A write of /5/0/0, streamed to the platform block by block (2.31 with this device's
    /// block size, 4.08 on a gap, 4.13 + Size1 over capacity, duplicates acknowledged and never
    /// written twice); `fota-fsm` follows every stored block.
    fn write_package(
        &mut self,
        msg: &Message<'_>,
        buf: &mut [u8],
        mid: u16,
        data: &[u8],
    ) -> Answer {
        let block = msg.block1().ok().flatten();
        let b = block.unwrap_or(Block {
            num: 0,
            more: false,
            szx: 6,
        });
        // Code-only answers (remembered for a repeated request like every other).
        if self.rec.fw.state() == State::Updating {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        if b.num == 0 && !b.more && data == [0] {
            let out = self.rec.fw.package_reset(self.now_s);
            self.apply(out);
            return Err(Code::CHANGED);
        }
        // A let-else, not `map_err(..)?`: no copy of the builder through memcpy.
        let Ok(reply) = MessageBuilder::response_to(buf, msg, Code::METHOD_NOT_ALLOWED, mid) else {
            return Err(Code::INTERNAL_SERVER_ERROR);
        };
        let tx = self.receive_package(msg, reply, block, data);
        tx.ok_or(Code::INTERNAL_SERVER_ERROR)
    }
}

impl<P: Platform> Client<P> {
    /// Serves `req` with `lwm2m-objects`' dispatcher over objects 0, 1, 3, 4 and 5 (their
    /// handlers read a snapshot of the client), the answer's body in `out`; without a request,
    /// writes the Register payload (a 5.00 answer if it does not fit). Also returns the write or
    /// execute the dispatcher accepted.
    // One out-of-line function for every use: the snapshot and the handlers are built once.
    #[inline(never)]
    fn objects(
        &mut self,
        req: Option<&lwm2m_objects::Request<'_>>,
        out: &mut [u8],
    ) -> (lwm2m_objects::Response, Option<composed::Action>) {
        use composed::{Handler, OBJECTS, Snapshot};
        use lwm2m_objects::{Dispatcher, ObjectHandler, Response, ResponseCode};
        let mut version = [0u8; MAX_VERSION];
        let n = self.platform.firmware_version(&mut version);
        let info = self.platform.device_info();
        let snap = Snapshot {
            payload: req.map_or(0, |r| r.payload().as_ptr() as usize),
            action: core::cell::Cell::new(None),
            cfg: &self.cfg,
            rec: &self.rec,
            version: version.get(..n).unwrap_or(&[]),
            info,
        };
        let [o0, o1, o3, o4, o5] = &OBJECTS;
        let mut h = [
            Handler::new(o0, &snap),
            Handler::new(o1, &snap),
            Handler::new(o3, &snap),
            Handler::new(o4, &snap),
            Handler::new(o5, &snap),
        ];
        let r = {
            let [h0, h1, h3, h4, h5] = &mut h;
            let mut objects: [&mut dyn ObjectHandler; 5] = [h0, h1, h3, h4, h5];
            let mut d = Dispatcher::new(&mut objects).with_profile::<{ composed::PROFILE }>();
            match req {
                Some(req) => d.handle(req, out),
                None => {
                    let links = d.registration_links(out);
                    Response {
                        code: match links {
                            Ok(_) => ResponseCode::Content,
                            Err(_) => ResponseCode::InternalServerError,
                        },
                        content_format: Some(lwm2m_objects::CONTENT_FORMAT_LINK),
                        len: links.unwrap_or(0),
                        created: None,
                    }
                }
            }
        };
        (r, snap.action.get())
    }

    /// Parses the path and serves the request through the dispatcher; a write of the package
    /// (/5/0/0) goes to the block-wise stream instead, never through a `Value`.
    #[inline(never)]
    fn route(&mut self, now: u64, msg: &Message<'_>, buf: &mut [u8], mid: u16) -> Answer {
        use lwm2m_objects::{Operation, Path, Request};
        let ([obj, inst, res, _], depth) = uri_ids(msg)?;
        let path = match depth {
            1 => Path::new_object(obj),
            2 => Path::new_instance(obj, inst),
            3 => Path::new_resource(obj, inst, res),
            _ => return Err(Code::NOT_FOUND),
        };
        let option = |n| msg.uint_option(n).ok().flatten().map(|v| v as u16);
        let accept = option(OptionNumber::ACCEPT);
        let op =
            Operation::from_coap(msg.code().0, &path, accept).ok_or(Code::METHOD_NOT_ALLOWED)?;
        let read = matches!(op, Operation::Read | Operation::Discover);
        let format = option(OptionNumber::CONTENT_FORMAT);
        if (obj, inst, res, depth) == (5, 0, 0, 3) && op == Operation::WriteReplace {
            // The package: streamed as it comes (Block1 or not), never through a `Value`. One
            // TLV record without Block1 goes to the dispatcher, which decodes it (its action
            // then hands the record's value to the stream).
            match format {
                None | Some(format::TEXT) | Some(format::OCTETS) => {
                    return self.write_package(msg, buf, mid, msg.payload());
                }
                Some(format::TLV | 1542) if msg.block1().ok().flatten().is_none() => {}
                _ => return Err(Code::UNSUPPORTED_CONTENT_FORMAT),
            }
        }
        // Object 0's credentials are never read; writes and executes address one resource.
        if (op == Operation::Read && obj == 0) || (!read && depth != 3) {
            return Err(Code::METHOD_NOT_ALLOWED);
        }
        let req = Request::new(op, path)
            .with_accept(accept)
            .with_payload(format, msg.payload());
        let mut body = [0u8; 512];
        let (resp, action) = self.objects(Some(&req), &mut body);
        let code = Code(resp.code.code());
        if !resp.code.is_success() {
            return Err(code);
        }
        if let Some(a) = action {
            if let composed::Action::Package(at, n) = a {
                let data = msg.payload().get(at..).and_then(|p| p.get(..n));
                let data = data.ok_or(Code::INTERNAL_SERVER_ERROR)?;
                return self.write_package(msg, buf, mid, data);
            }
            return Err(self.act(now, msg, a));
        }
        if !read {
            return Err(code);
        }
        let tlv = resp.content_format == Some(format::TLV);
        let observed = op == Operation::Read && depth == 3 && self.observe(msg, obj, res, tlv);
        let extra = observed.then_some((OptionNumber::OBSERVE, self.observe_seq));
        let payload = body.get(..resp.len).unwrap_or(&[]);
        reply(buf, msg, mid, code, resp.content_format, payload, extra)
            .ok_or(Code::INTERNAL_SERVER_ERROR)
    }

    /// Applies a write or execute the dispatcher accepted; the answer's code.
    fn act(&mut self, now: u64, msg: &Message<'_>, action: composed::Action) -> Code {
        use composed::Action;
        match action {
            Action::Lifetime(lt) => {
                self.cfg.lifetime = lt;
                self.next_update = now;
                Code::CHANGED
            }
            Action::Uri(at, n) => {
                let uri = msg.payload().get(at..).and_then(|p| p.get(..n));
                match uri {
                    Some(uri) => self.write_uri(now, uri),
                    None => Code::INTERNAL_SERVER_ERROR,
                }
            }
            // Streamed by the route itself.
            Action::Package(..) => Code::INTERNAL_SERVER_ERROR,
            Action::Severity(v) => {
                let out = self.rec.fw.severity_written(i64::from(v));
                self.fsm(out)
            }
            Action::MaxDefer(v) => {
                let out = self.rec.fw.max_defer_period_written(i64::from(v));
                self.fsm(out)
            }
            Action::Execute(obj, res) => self.execute(obj, res, now),
        }
    }
}

impl<P: Platform> Client<P> {
    /// A write of /5/0/0 through `coap-block`'s Block1 receiver: 2.31
    /// with this device's block size, 4.08 on a gap, 4.13 + Size1 over capacity, duplicates
    /// acknowledged and never written twice, a push continued at the persisted offset after a
    /// reboot; `fota-fsm` follows every stored block through [`PushSink`].
    fn receive_package(
        &mut self,
        msg: &Message<'_>,
        mut reply: MessageBuilder<'_>,
        block: Option<Block>,
        data: &[u8],
    ) -> Option<Transmit> {
        let state = self.rec.fw.state();
        let pushing = self.rec.delivery == Delivery::Push
            && matches!(state, State::Downloading | State::Downloaded);
        if !pushing {
            // Nothing to continue (fota-fsm dropped the job, or it is a pull): only a new push
            // starting at block 0 is taken.
            self.rx.reset();
        } else if state == State::Downloading
            && self.rx.bytes_received() != self.rec.fw.transferred_bytes()
        {
            // After a reboot (or a job fota-fsm resumed): go on from the persisted offset.
            self.rx.resume_at(self.rec.fw.transferred_bytes());
        }
        let req = coap_block::Block1Request {
            key: 0,
            block1: block,
            size1: msg.size1().ok().flatten(),
            payload: data,
        };
        let mut rx = self.rx.clone();
        let mut sink = PushSink {
            client: self,
            outcome: None,
        };
        let r = rx.receive((), &req, &mut sink);
        let outcome = sink.outcome;
        self.rx = rx;
        let code = match outcome {
            // Refused by fota-fsm (4.05), over capacity (4.13 + Size1), or a storage failure
            // reported through Update Result (2.04: the write itself is done).
            Some(c) => {
                reply.set_code(c);
                if c == Code::REQUEST_ENTITY_TOO_LARGE {
                    reply
                        .uint_option(OptionNumber::SIZE1, self.platform.capacity())
                        .ok()?;
                }
                c
            }
            None => {
                r.write_to(&mut reply).ok()?;
                r.code
            }
        };
        if outcome.is_some() || r.block1.is_none() {
            self.remember(msg, code);
        }
        Some(finish(reply))
    }
}

/// The staging area as `coap-block`'s Block1 receiver sees it: the platform, with `fota-fsm`
/// told of every step.
struct PushSink<'c, P: Platform> {
    client: &'c mut Client<P>,
    /// The reply's code when the client, not the receiver, decides it.
    outcome: Option<Code>,
}

impl<P: Platform> coap_block::BlockSink for PushSink<'_, P> {
    fn begin(&mut self, size: Option<u32>) -> Result<(), coap_block::Error> {
        let c = &mut *self.client;
        // fota-fsm: Package written (a new push job), then this device's checks.
        let out = c.rec.fw.push_started(size.unwrap_or(0), c.now_s);
        if out.code != fota_fsm::ResponseCode::Changed {
            self.outcome = Some(Code::METHOD_NOT_ALLOWED);
            return Err(coap_block::Error::Storage);
        }
        c.apply(out);
        // Over capacity: fota-fsm's job fails for lack of flash (the sink tells the receiver
        // no capacity of its own, so this is the one check, as the announced Size1).
        if size.is_some_and(|s| s > c.platform.capacity()) {
            c.fail(UpdateResult::NotEnoughFlash);
            self.outcome = Some(Code::REQUEST_ENTITY_TOO_LARGE);
            return Err(coap_block::Error::Storage);
        }
        if let Err(r) = c.start_download(Delivery::Push, size) {
            c.fail(r);
            self.outcome = Some(Code::CHANGED);
            return Err(coap_block::Error::Storage);
        }
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), coap_block::Error> {
        if !self.client.store_chunk(offset, data) {
            self.outcome = Some(Code::CHANGED);
            return Err(coap_block::Error::Storage);
        }
        Ok(())
    }
    fn complete(&mut self, _: u32) -> Result<(), coap_block::Error> {
        // A package the platform refuses is reported through Update Result.
        self.client.download_complete();
        Ok(())
    }
    // The announced size is checked in `begin`; a platform that runs out of staging space
    // refuses the write itself (reported through Update Result).
    fn capacity(&self) -> u32 {
        u32::MAX
    }
}

impl<P: Platform> Client<P> {
    /// `coap-block`'s Block2 client for the persisted pull: offset (/5/0/26500), ETag and
    /// block size all come from the record, so a reboot resumes where it stopped.
    fn pull_client(&self) -> coap_block::Block2Client {
        let etag = coap_block::Token::new(self.rec.etag())
            .ok()
            .filter(|t| !t.as_slice().is_empty());
        coap_block::Block2Client::new(self.rec.szx)
            .starting_at(self.rec.fw.transferred_bytes(), etag)
    }

    /// A 2.05 to a pull request through the Block2 client: the block
    /// at the persisted offset stored (never twice), the server's smaller block size followed,
    /// the ETag compared on every block (a change restarts the job at offset 0 with staging
    /// erased), a Size2 over capacity failing the job for lack of flash.
    fn receive_pull(&mut self, msg: &Message<'_>) {
        let mut pull = self.pull_client();
        // Longer than 8 bytes: refused by the Block2 client before anything is stored.
        let tag = msg.option(OptionNumber::ETAG);
        let mut sink = PullSink {
            client: self,
            etag: tag.unwrap_or(&[]),
            failed: false,
        };
        let r = pull.handle_response_tagged(msg, tag, &mut sink);
        if sink.failed {
            return; // fota-fsm was told (Download Failed)
        }
        match r {
            Ok(_) => self.rec.szx = pull.szx(),
            Err(coap_block::Error::EtagChanged) => {
                // The package changed under us: fota-fsm restarts the same job at offset 0
                // with staging erased, never stitching two versions together.
                if let Err(r) = self.platform.begin_package(None) {
                    return self.fail(r);
                }
                let out = self.rec.fw.download_restarted();
                self.apply(out);
                self.rec.etag_len = 0;
                self.persist();
            }
            Err(coap_block::Error::TooLarge { .. }) => self.fail(UpdateResult::NotEnoughFlash),
            // Not the block asked for: the next request asks again.
            Err(_) => {}
        }
    }
}

/// The staging area as `coap-block`'s Block2 client sees it: the platform, with `fota-fsm`
/// told of every stored block and the ETag recorded with the first.
struct PullSink<'c, 'm, P: Platform> {
    client: &'c mut Client<P>,
    /// The response's ETag (at most 8 bytes).
    etag: &'m [u8],
    failed: bool,
}

impl<P: Platform> coap_block::BlockSink for PullSink<'_, '_, P> {
    // Staging was erased when the job started (or restarted): nothing to do at offset 0.
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), coap_block::Error> {
        let c = &mut *self.client;
        if offset == 0 {
            // Persisted with the first block: a resume compares every later block with it.
            if let Some(d) = c.rec.etag.get_mut(..self.etag.len()) {
                copy(d, self.etag);
            }
            c.rec.etag_len = self.etag.len() as u8;
        }
        if !c.store_chunk(offset, data) {
            self.failed = true;
            return Err(coap_block::Error::Storage);
        }
        Ok(())
    }
    fn complete(&mut self, _: u32) -> Result<(), coap_block::Error> {
        self.client.download_complete();
        Ok(())
    }
    fn capacity(&self) -> u32 {
        self.client.platform.capacity()
    }
}

/// A handler's answer: a reply written into the buffer, or `Err(code)` for a reply that is
/// only this code (written by [`Client::request`], which also remembers it for duplicates).
type Answer = Result<Transmit, Code>;

/// The reply to `msg`: code, an option below Content-Format (Observe), the Content-Format, an
/// option above it, and the payload.
fn reply(
    buf: &mut [u8],
    msg: &Message<'_>,
    mid: u16,
    c: Code,
    fmt: Option<u16>,
    payload: &[u8],
    extra: Option<(OptionNumber, u32)>,
) -> Option<Transmit> {
    let mut b = MessageBuilder::response_to(buf, msg, c, mid).ok()?;
    if let Some((n, v)) = extra {
        b.uint_option(n, v).ok()?;
    }
    if let Some(f) = fmt {
        b.uint_option(OptionNumber::CONTENT_FORMAT, u32::from(f))
            .ok()?;
    }
    let len = b.payload(payload).ok()?;
    Some(Transmit {
        peer: Peer::Server,
        len,
    })
}

fn finish(reply: MessageBuilder<'_>) -> Transmit {
    Transmit {
        peer: Peer::Server,
        len: reply.finish(),
    }
}

/// Records what a new download needs at boot reconciliation and for resuming.
fn prepare<P: Platform>(platform: &mut P, rec: &mut Record, delivery: Delivery, szx: u8) {
    let mut v = [0u8; MAX_VERSION];
    let n = platform.firmware_version(&mut v);
    rec.old_version = v;
    rec.old_version_len = n.min(MAX_VERSION) as u8;
    rec.delivery = delivery;
    rec.etag_len = 0;
    rec.szx = szx.min(6);
}

/// Adds each non-empty `sep`-separated part of `value` as option `number`.
fn segments(b: &mut MessageBuilder<'_>, number: OptionNumber, value: &[u8], sep: u8) -> Option<()> {
    for seg in value.split(|c| *c == sep).filter(|s| !s.is_empty()) {
        b.option(number, seg).ok()?;
    }
    Some(())
}

/// Copies the common prefix of `src` into `dst` (a byte loop: no length-mismatch panic).
fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// The Uri-Path as numeric ids (up to four: object, instance, resource, resource instance) and
/// how many there are; a segment that is not an id, or a fifth one, is 4.04, and an unknown
/// critical option 4.02.
// One caller; inlined there (30 B smaller on Cortex-M than out of line).
#[inline(always)]
fn uri_ids(msg: &Message<'_>) -> Result<([u16; 4], usize), Code> {
    let mut ids = [0u16; 4];
    let mut depth = 0usize;
    for v in msg.uri_path() {
        let seg = parse_u32(v).and_then(|n| u16::try_from(n).ok());
        match (seg, ids.get_mut(depth)) {
            (Some(id), Some(slot)) => *slot = id,
            _ => return Err(Code::NOT_FOUND),
        }
        depth += 1;
    }
    if msg.unknown_critical_option().is_some() {
        return Err(Code::BAD_OPTION);
    }
    Ok((ids, depth))
}

/// A decimal number of 1..=10 digits that fits `u32` (no sign, no spaces).
fn parse_u32(text: &[u8]) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    let mut n = 0u32;
    for b in text {
        let d = b.checked_sub(b'0').filter(|d| *d < 10)?;
        n = n.checked_mul(10)?.checked_add(u32::from(d))?;
    }
    Some(n)
}

/// [`uri_path`] on bytes (the device core avoids `str` searching code).
fn uri_path_bytes(uri: &[u8]) -> Option<&[u8]> {
    let rest = uri.strip_prefix(b"coap://")?;
    let start = rest.iter().position(|b| *b == b'/').unwrap_or(rest.len());
    rest.get(start..)
}

/// The path (and query) of a `coap://host[:port]/path` URI; `None` for other schemes.
pub fn uri_path(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("coap://")?;
    Some(rest.find('/').and_then(|i| rest.get(i..)).unwrap_or(""))
}

/// The `host:port` of a `coap://` URI (port 5683 when absent is left to the caller).
pub fn uri_authority(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("coap://")?;
    Some(rest.find('/').and_then(|i| rest.get(..i)).unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coap::Builder;
    use crate::tlv::{self, Kind};

    struct Ram {
        record: Option<Record>,
        staged: [u8; 4096],
        len: u32,
        installed: bool,
    }

    impl Platform for Ram {
        fn load_record(&mut self) -> Option<Record> {
            self.record.clone()
        }
        fn store_record(&mut self, record: &Record) -> bool {
            self.record = Some(record.clone());
            true
        }
        fn begin_package(&mut self, _: Option<u32>) -> Result<(), UpdateResult> {
            self.len = 0;
            Ok(())
        }
        fn write_package(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
            assert_eq!(offset, self.len, "strictly sequential, never twice");
            let end = offset as usize + data.len();
            self.staged
                .get_mut(offset as usize..end)
                .ok_or(UpdateResult::NotEnoughFlash)?
                .copy_from_slice(data);
            self.len = end as u32;
            Ok(())
        }
        fn finish_package(&mut self, _: u32) -> Result<(), UpdateResult> {
            Ok(())
        }
        fn verify(&mut self) -> Result<(), UpdateResult> {
            Ok(())
        }
        fn install(&mut self) -> Result<(), UpdateResult> {
            self.installed = true;
            Ok(())
        }
        fn firmware_version(&mut self, out: &mut [u8]) -> usize {
            out[..3].copy_from_slice(b"1.0");
            3
        }
        fn device_info(&mut self) -> DeviceInfo {
            DeviceInfo {
                battery: 50,
                free_memory_kib: 10,
                signal_dbm: -80,
            }
        }
        fn capacity(&self) -> u32 {
            4096
        }
        fn random(&mut self) -> u32 {
            7
        }
    }

    fn client() -> Client<Ram> {
        let ram = Ram {
            record: None,
            staged: [0; 4096],
            len: 0,
            installed: false,
        };
        Client::new(ram, Config::new("t").unwrap(), 0)
    }

    fn put_block(
        c: &mut Client<Ram>,
        mid: u16,
        num: u32,
        more: bool,
        data: &[u8],
    ) -> (Code, Option<Block>) {
        let mut req = [0u8; 1200];
        let n = Builder::new(&mut req, MessageType::Confirmable, Code::PUT, mid, &[1])
            .path(OptionNumber::URI_PATH, "5/0/0")
            .uint(OptionNumber::CONTENT_FORMAT, 42)
            .uint(OptionNumber::BLOCK1, Block { num, more, szx: 2 }.to_uint())
            .payload(data)
            .unwrap();
        let mut out = [0u8; 256];
        let tx = c.handle(0, Peer::Server, &req[..n], &mut out).unwrap();
        let m = Message::parse(&out[..tx.len]).unwrap();
        (m.code(), m.block1().unwrap())
    }

    fn get(c: &mut Client<Ram>, path: &str, accept: Option<u32>) -> ([u8; 256], usize, Code) {
        let mut req = [0u8; 64];
        let mut b = Builder::new(&mut req, MessageType::Confirmable, Code::GET, 9, &[2])
            .path(OptionNumber::URI_PATH, path);
        if let Some(a) = accept {
            b = b.uint(OptionNumber::ACCEPT, a);
        }
        let n = b.finish().unwrap();
        let mut out = [0u8; 256];
        let tx = c.handle(0, Peer::Server, &req[..n], &mut out).unwrap();
        let m = Message::parse(&out[..tx.len]).unwrap();
        let mut body = [0u8; 256];
        body[..m.payload().len()].copy_from_slice(m.payload());
        (body, m.payload().len(), m.code())
    }

    #[test]
    fn registers_with_the_link_payload() {
        let mut c = client();
        let mut buf = [0u8; 256];
        let tx = c.poll_transmit(0, &mut buf).unwrap();
        let m = Message::parse(&buf[..tx.len]).unwrap();
        assert_eq!(m.code(), Code::POST);
        let q = m
            .options()
            .filter(|o| o.number == OptionNumber::URI_QUERY)
            .count();
        assert_eq!(q, 4);
        assert!(m.payload().starts_with(b"</>;rt=\"oma.lwm2m\""));
    }

    /// Served through `lwm2m-objects`, the client shows what its former fixed table showed: the same Register payload, the same resources (Discover lists them, others are
    /// 4.04), readable exactly where the fixed table says so.
    #[cfg(feature = "std")]
    #[test]
    fn objects_served_by_the_dispatcher_agree_with_the_fixed_table() {
        let mut c = client();
        let mut a = [0u8; 512];
        let (links, _) = c.objects(None, &mut a);
        assert_eq!(&a[..links.len], fixed::registration_links());
        for obj in 0..=6u16 {
            for res in (0..=20).chain([26500, 26501]) {
                let has = composed::has_resource(obj, res);
                assert_eq!(has, fixed::has_resource(obj, res), "/{obj}/0/{res}");
                let path = std::format!("{obj}/0/{res}");
                let (body, n, code) = get(&mut c, &path, Some(40));
                if has {
                    let link = std::format!("</{obj}/0/{res}>");
                    assert!(body[..n].starts_with(link.as_bytes()), "{path}");
                    let (_, _, code) = get(&mut c, &path, None);
                    let readable = obj != 0 && fixed::readable(obj, res);
                    assert_eq!(code == Code::CONTENT, readable, "{path}: {code:?}");
                } else {
                    assert_eq!(code, Code::NOT_FOUND, "{path}");
                }
            }
        }
        for obj in [1u16, 3, 4] {
            let (body, n, code) = get(&mut c, &std::format!("{obj}/0"), Some(40));
            assert_eq!(code, Code::CONTENT);
            let text = core::str::from_utf8(&body[..n]).unwrap();
            for res in fixed::resource_ids(obj) {
                assert!(text.contains(&std::format!("</{obj}/0/{res}>")), "{text}");
            }
        }
    }

    #[test]
    fn block1_push_with_duplicates_and_gaps() {
        let mut c = client();
        assert_eq!(put_block(&mut c, 1, 0, true, &[1; 64]).0, Code::CONTINUE);
        // A retransmission (same MID) and a duplicate block (new MID) are acknowledged, not stored.
        assert_eq!(put_block(&mut c, 1, 0, true, &[1; 64]).0, Code::CONTINUE);
        assert_eq!(put_block(&mut c, 2, 0, true, &[1; 64]).0, Code::CONTINUE);
        assert_eq!(c.transferred(), 64);
        // A gap.
        assert_eq!(
            put_block(&mut c, 3, 2, true, &[3; 64]).0,
            Code::REQUEST_ENTITY_INCOMPLETE
        );
        assert_eq!(put_block(&mut c, 4, 1, true, &[2; 64]).0, Code::CONTINUE);
        assert_eq!(c.state(), State::Downloading);
        let (resp, b1) = put_block(&mut c, 5, 2, false, &[3; 10]);
        assert_eq!(resp, Code::CHANGED);
        assert_eq!(
            b1,
            Some(Block {
                num: 2,
                more: false,
                szx: 2
            })
        );
        assert_eq!((c.state(), c.transferred()), (State::Downloaded, 138));
        let (body, n, _) = get(&mut c, "5/0/26500", None);
        assert_eq!(&body[..n], b"138");
    }

    #[test]
    fn tlv_reads_and_execute_rules() {
        let mut c = client();
        let (body, n, code_) = get(&mut c, "5/0/3", Some(11542));
        assert_eq!((code_, &body[..n]), (Code::CONTENT, &[0xc1, 3, 0][..]));
        assert_eq!(
            request(&mut c, 0, Code::POST, "5/0/2", b""),
            Code::METHOD_NOT_ALLOWED
        );
        let (_, _, code_) = get(&mut c, "7/0/1", None);
        assert_eq!(code_, Code::NOT_FOUND);
        // Instance reads decode with the workspace TLV codec and match their paths.
        let (body, n, _) = get(&mut c, "3/0", Some(11542));
        let resources = lwm2m_tlv::check_path(&body[..n], lwm2m_tlv::Path::Instance(3, 0)).unwrap();
        assert_eq!(resources.count(), 8); // 0, 1, 2, 3, 9, 10, 11, 16
        let (body, n, _) = get(&mut c, "5", Some(11542));
        let instance = lwm2m_tlv::decode(&body[..n]).next().unwrap().unwrap();
        assert_eq!(
            (instance.kind(), instance.id()),
            (lwm2m_tlv::Kind::ObjectInstance, 0)
        );
        let (body, n, _) = get(&mut c, "5/0", None);
        let (kind, id, _, _) = tlv::read(&body[..n]).unwrap();
        assert_eq!((kind, id), (Kind::Resource, 1));
    }

    #[test]
    fn update_reboots_and_reconciles() {
        let mut c = client();
        put_block(&mut c, 1, 0, false, &[9; 20]);
        assert_eq!(c.state(), State::Downloaded);
        request(&mut c, 0, Code::POST, "5/0/2", b"");
        let mut out = [0u8; 64];
        assert_eq!(c.poll_transmit(1, &mut out), None);
        let events: [Option<Event>; 8] = core::array::from_fn(|_| c.poll_event());
        assert!(events.contains(&Some(Event::Reboot)));
        // The same version runs after the reboot: the update failed (Result 8).
        let p = c.into_platform();
        assert!(p.installed);
        let c = Client::new(p, Config::new("t").unwrap(), 0);
        assert_eq!(
            (c.state(), c.result()),
            (State::Idle, UpdateResult::UpdateFailed)
        );
    }

    #[test]
    fn reboot_mid_push_resumes_the_fota_fsm_job() {
        let mut c = client();
        assert_eq!(put_block(&mut c, 1, 0, true, &[1; 64]).0, Code::CONTINUE);
        let p = c.into_platform();
        // The persisted record is fota-fsm's: Downloading with 64 bytes.
        let rec = p.record.clone().unwrap();
        assert_eq!(
            (rec.fw.state(), rec.fw.transferred_bytes()),
            (State::Downloading, 64)
        );
        // Booted reads the cut as a lost connection; the device resumes the job at once.
        let mut c = Client::new(p, Config::new("t").unwrap(), 5_000);
        assert_eq!(
            (c.state(), c.result(), c.transferred()),
            (State::Downloading, UpdateResult::Initial, 64)
        );
        assert_eq!(put_block(&mut c, 2, 1, false, &[2; 10]).0, Code::CHANGED);
        assert_eq!((c.state(), c.transferred()), (State::Downloaded, 74));
        // Execute is refused outside Downloaded by fota-fsm (4.05), accepted here.
        assert_eq!(
            request(&mut c, 6_000, Code::POST, "5/0/2", b""),
            Code::CHANGED
        );
        assert_eq!(c.state(), State::Updating);
    }

    #[test]
    fn package_uri_validation() {
        let mut c = client();
        for (uri, want) in [
            ("http://x/fw", UpdateResult::UnsupportedProtocol),
            ("coaps://x/fw", UpdateResult::UnsupportedProtocol),
            ("not a uri", UpdateResult::InvalidUri),
        ] {
            assert_eq!(c.write_uri(0, uri.as_bytes()), Code::CHANGED);
            assert_eq!((c.state(), c.result()), (State::Idle, want), "{uri}");
        }
        c.write_uri(0, b"coap://127.0.0.1:5683/fw");
        assert_eq!(c.state(), State::Downloading);
        assert_eq!(c.package_uri(), Some("coap://127.0.0.1:5683/fw"));
        c.write_uri(0, b"");
        assert_eq!(
            (c.state(), c.result()),
            (State::Idle, UpdateResult::Initial)
        );
    }

    /// Answers the pull request in `buf` with block `num` (16 bytes each) tagged `etag`.
    fn pull_answer(c: &mut Client<Ram>, req: &[u8], num: u32, more: bool, etag: &[u8]) {
        let m = Message::parse(req).unwrap();
        let mut resp = [0u8; 128];
        let n = Builder::new(
            &mut resp,
            MessageType::Acknowledgement,
            Code::CONTENT,
            m.message_id(),
            m.token(),
        )
        .option(OptionNumber::ETAG, etag)
        .uint(OptionNumber::BLOCK2, Block { num, more, szx: 0 }.to_uint())
        .payload(&[num as u8 + 1; 16])
        .unwrap();
        let mut out = [0u8; 64];
        c.handle(0, Peer::PackageHost, &resp[..n], &mut out);
    }

    #[test]
    fn a_changed_etag_restarts_the_pull_at_offset_zero() {
        let mut c = client();
        c.cfg.szx = 0;
        c.write_uri(0, b"coap://127.0.0.1/fw");
        let mut buf = [0u8; 128];
        // Skip the registration; the package host gets the GETs.
        let next_pull = |c: &mut Client<Ram>, buf: &mut [u8; 128]| loop {
            let tx = c.poll_transmit(0, buf).unwrap();
            if tx.peer == Peer::PackageHost {
                let m = Message::parse(&buf[..tx.len]).unwrap();
                return (m.block2().unwrap().unwrap().num, tx.len);
            }
        };
        let (num, n) = next_pull(&mut c, &mut buf);
        assert_eq!(num, 0);
        pull_answer(&mut c, &buf[..n], 0, true, b"A");
        assert_eq!(c.transferred(), 16);
        let (num, n) = next_pull(&mut c, &mut buf);
        assert_eq!(num, 1);
        // The package changed: fota-fsm restarts the same job at offset 0, staging erased.
        pull_answer(&mut c, &buf[..n], 1, true, b"B");
        assert_eq!((c.state(), c.transferred()), (State::Downloading, 0));
        assert_eq!(c.platform().len, 0);
        let (num, n) = next_pull(&mut c, &mut buf);
        assert_eq!(num, 0);
        pull_answer(&mut c, &buf[..n], 0, false, b"B");
        assert_eq!((c.state(), c.transferred()), (State::Downloaded, 16));
        assert_eq!(&c.platform().staged[..16], &[1; 16]);
    }

    /// Sends one confirmable request (message id `now`) and returns the answer's code.
    fn request(c: &mut Client<Ram>, now: u64, code: Code, path: &str, body: &[u8]) -> Code {
        let mut req = [0u8; 64];
        let n = Builder::new(&mut req, MessageType::Confirmable, code, now as u16, &[5])
            .path(OptionNumber::URI_PATH, path)
            .payload(body)
            .unwrap();
        let mut out = [0u8; 64];
        let tx = c.handle(now, Peer::Server, &req[..n], &mut out).unwrap();
        Message::parse(&out[..tx.len]).unwrap().code()
    }

    #[test]
    fn object5_version_1_1_resources() {
        let mut c = client();
        let mut buf = [0u8; 256];
        let tx = c.poll_transmit(0, &mut buf).unwrap();
        let reg = Message::parse(&buf[..tx.len]).unwrap();
        assert!(reg.payload().ends_with(b",</5>;ver=1.1,</5/0>"));
        // Severity and Maximum Defer Period: read-write, kept in the persisted record.
        assert_eq!(request(&mut c, 1, Code::PUT, "5/0/11", b"0"), Code::CHANGED);
        assert_eq!(
            request(&mut c, 2, Code::PUT, "5/0/11", b"3"),
            Code::BAD_REQUEST
        );
        assert_eq!(
            request(&mut c, 3, Code::PUT, "5/0/13", b"3600"),
            Code::CHANGED
        );
        let (body, n, _) = get(&mut c, "5/0/11", None);
        assert_eq!(&body[..n], b"0");
        let (body, n, _) = get(&mut c, "5/0/13", None);
        assert_eq!(&body[..n], b"3600");
        let rec = c.platform().record.clone().unwrap();
        assert_eq!(rec.fw.max_defer_period(), Some(3600));
        assert_eq!(rec.fw.severity(), Some(fota_fsm::Severity::Critical));
        // Cancel: nothing to cancel in Idle; a download goes back to Idle with Result 10,
        // and Last State Change Time says when.
        assert_eq!(
            request(&mut c, 4, Code::POST, "5/0/10", b""),
            Code::METHOD_NOT_ALLOWED
        );
        assert_eq!(put_block(&mut c, 5, 0, true, &[1; 64]).0, Code::CONTINUE);
        assert_eq!(
            request(&mut c, 7_000, Code::POST, "5/0/10", b""),
            Code::CHANGED
        );
        assert_eq!(
            (c.state(), c.result()),
            (State::Idle, UpdateResult::Cancelled)
        );
        let (body, n, _) = get(&mut c, "5/0/12", None);
        assert_eq!(&body[..n], b"7");
        // Switch to Download State resumes a job broken by a lost connection, from 26500.
        assert_eq!(put_block(&mut c, 8, 0, true, &[1; 64]).0, Code::CONTINUE);
        c.fail(UpdateResult::ConnectionLost);
        assert_eq!(
            (c.state(), c.result()),
            (State::Idle, UpdateResult::ConnectionLost)
        );
        assert_eq!(
            request(&mut c, 9, Code::POST, "5/0/26501", b""),
            Code::CHANGED
        );
        assert_eq!((c.state(), c.transferred()), (State::Downloading, 64));
        assert_eq!(put_block(&mut c, 10, 1, false, &[2; 10]).0, Code::CHANGED);
        assert_eq!(c.state(), State::Downloaded);
        assert_eq!(
            request(&mut c, 11, Code::POST, "5/0/26501", b""),
            Code::METHOD_NOT_ALLOWED
        );
        // Resources 10 and 26501 are executable only; 14 is object 5 version 1.2.
        assert_eq!(get(&mut c, "5/0/10", None).2, Code::METHOD_NOT_ALLOWED);
        assert_eq!(get(&mut c, "5/0/14", None).2, Code::NOT_FOUND);
    }

    #[test]
    fn a_small_package_written_as_tlv() {
        let mut c = client();
        let mut tlv = [0u8; 32];
        let mut w = lwm2m_tlv::Writer::new(&mut tlv);
        w.record(lwm2m_tlv::Kind::Resource, 0, &[9; 20]).unwrap();
        let n = w.finish().unwrap();
        let mut req = [0u8; 64];
        let len = Builder::new(&mut req, MessageType::Confirmable, Code::PUT, 40, &[6])
            .path(OptionNumber::URI_PATH, "5/0/0")
            .uint(OptionNumber::CONTENT_FORMAT, 11542)
            .payload(&tlv[..n])
            .unwrap();
        let mut out = [0u8; 64];
        let tx = c.handle(0, Peer::Server, &req[..len], &mut out).unwrap();
        assert_eq!(
            Message::parse(&out[..tx.len]).unwrap().code(),
            Code::CHANGED
        );
        assert_eq!((c.state(), c.transferred()), (State::Downloaded, 20));
        assert_eq!(&c.platform().staged[..20], &[9; 20]);
    }

    #[test]
    fn registration_update_and_deregistration() {
        let mut c = client();
        let mut buf = [0u8; 256];
        let tx = c.poll_transmit(0, &mut buf).unwrap();
        let reg = Message::parse(&buf[..tx.len]).unwrap();
        let (mid, token) = (reg.message_id(), [buf[4], buf[5], buf[6], buf[7]]);
        let mut resp = [0u8; 64];
        let n = Builder::new(
            &mut resp,
            MessageType::Acknowledgement,
            Code::CREATED,
            mid,
            &token,
        )
        .path(OptionNumber::LOCATION_PATH, "rd/7")
        .finish()
        .unwrap();
        assert_eq!(c.handle(1, Peer::Server, &resp[..n], &mut buf), None);
        assert!(c.is_registered());
        // Half the lifetime later: an update of /rd/7.
        assert_eq!(c.poll_transmit(1000, &mut buf), None);
        let tx = c.poll_transmit(150_001, &mut buf).unwrap();
        let up = Message::parse(&buf[..tx.len]).unwrap();
        assert_eq!(up.code(), Code::POST);
        assert_eq!(
            up.options()
                .filter(|o| o.number == OptionNumber::URI_PATH)
                .count(),
            2
        );
        c.inflight = [None; 2];
        c.deregister();
        let tx = c.poll_transmit(150_002, &mut buf).unwrap();
        assert_eq!(Message::parse(&buf[..tx.len]).unwrap().code(), Code::DELETE);
    }

    #[test]
    fn client_state_is_small() {
        let size = core::mem::size_of::<Client<()>>();
        assert!(size <= 1024, "{size} bytes");
    }

    impl Platform for () {
        fn load_record(&mut self) -> Option<Record> {
            None
        }
        fn store_record(&mut self, _: &Record) -> bool {
            true
        }
        fn begin_package(&mut self, _: Option<u32>) -> Result<(), UpdateResult> {
            Ok(())
        }
        fn write_package(&mut self, _: u32, _: &[u8]) -> Result<(), UpdateResult> {
            Ok(())
        }
        fn finish_package(&mut self, _: u32) -> Result<(), UpdateResult> {
            Ok(())
        }
        fn verify(&mut self) -> Result<(), UpdateResult> {
            Ok(())
        }
        fn install(&mut self) -> Result<(), UpdateResult> {
            Ok(())
        }
        fn firmware_version(&mut self, _: &mut [u8]) -> usize {
            0
        }
        fn device_info(&mut self) -> DeviceInfo {
            DeviceInfo {
                battery: 0,
                free_memory_kib: 0,
                signal_dbm: 0,
            }
        }
        fn capacity(&self) -> u32 {
            0
        }
        fn random(&mut self) -> u32 {
            0
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_datagrams_never_panic(datagrams in proptest::collection::vec(proptest::collection::vec(0u8..=255, 0..80), 1..20)) {
            let mut c = client();
            let mut out = [0u8; 1280];
            for d in &datagrams {
                let _ = c.handle(0, Peer::Server, d, &mut out);
                let _ = c.poll_transmit(10, &mut out);
            }
        }
    }
}
