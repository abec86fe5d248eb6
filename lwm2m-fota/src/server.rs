//! The FOTA server (std): registration directory, one update job per device, push with Block1
//! resumed from /5/0/26500, pull by hosting the package with Block2 and a content-hash ETag,
//! Observe of State/Result/version, precondition checks, a retry policy, and a status view.
//!
//! The core is driven like the device client: [`Server::handle`] for each datagram,
//! [`Server::poll`] when [`Server::next_timeout`] passes; [`run`] does that on a UDP socket.
//! Jobs are kept apart from the directory so that campaigns (groups, scheduling, pause,
//! persistence) can own and create them later.

use crate::Error;
use crate::coap::format as cf;
use crate::coap::{Block, Builder, Code, Message, MessageType, OptionNumber};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, UdpSocket};
use std::prelude::rust_2024::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
#[allow(unused_imports)]
use std::{format, vec};

/// Vendor/class id the simulated devices are provisioned with by default.
pub const DEMO_CLASS: &[u8] = b"lwm2m-fota-sim";

/// Firmware version number on the manifest's monotonic scale from `major.minor.patch`
/// (`major` up to 65535, the others up to 255; missing parts are 0): `"1.2.3"` is
/// `0x0001_0203`.
pub fn parse_version(text: &str) -> Option<u32> {
    let mut parts = text.trim().split('.');
    let major: u16 = parts.next()?.parse().ok()?;
    let minor: u8 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    let patch: u8 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if parts.next().is_some() {
        return None;
    }
    Some(u32::from(major) << 16 | u32::from(minor) << 8 | u32::from(patch))
}

/// The `major.minor.patch` text of a version number (what /3/0/3 shows).
pub fn version_string(version: u32) -> String {
    format!(
        "{}.{}.{}",
        version >> 16,
        (version >> 8) & 0xff,
        version & 0xff
    )
}

/// Signs packages: a `fota-storage` [`Manifest`](fota_storage::Manifest) (format version,
/// firmware version, image size and SHA-256, base-image size and SHA-256 for a delta, class
/// id) with its Ed25519 signature, zero padding to a multiple of 16 bytes, then the payload
/// (the image or the patch).
pub struct PackageSigner {
    key: ed25519_dalek::SigningKey,
    class: Vec<u8>,
}

impl core::fmt::Debug for PackageSigner {
    // Never print the secret half.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PackageSigner")
            .field("public_key", &hex::encode(self.public_key()))
            .field("class", &String::from_utf8_lossy(&self.class))
            .finish()
    }
}

impl PackageSigner {
    /// The demo key: derived deterministically from a fixed text, so every demo run and every
    /// simulated device agree on it. Not a secret: real deployments pass their own key.
    pub fn demo() -> Self {
        let seed: [u8; 32] =
            Sha256::digest(b"lwm2m-fota demo signing key (public, not secret)").into();
        Self::from_seed(seed, DEMO_CLASS)
    }

    /// A signer from a 32-byte Ed25519 secret seed for devices of `class`.
    pub fn from_seed(seed: [u8; 32], class: &[u8]) -> Self {
        PackageSigner {
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
            class: class.to_vec(),
        }
    }

    /// Reads the secret seed from a file: 32 raw bytes, or 64 hex digits.
    pub fn from_key_file(path: &std::path::Path, class: &[u8]) -> Result<Self, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::io(format!("read key {}", path.display()), e))?;
        let seed: [u8; 32] = match bytes.as_slice().try_into() {
            Ok(raw) => raw,
            Err(_) => {
                let text = String::from_utf8_lossy(&bytes);
                let v = hex::decode(text.trim()).map_err(|_| {
                    Error::Usage(format!(
                        "{}: a key is 32 raw bytes or 64 hex digits",
                        path.display()
                    ))
                })?;
                v.as_slice().try_into().map_err(|_| {
                    Error::Usage(format!(
                        "{}: a key is 32 raw bytes or 64 hex digits",
                        path.display()
                    ))
                })?
            }
        };
        Ok(Self::from_seed(seed, class))
    }

    /// The same key for devices of another class.
    pub fn with_class(mut self, class: &[u8]) -> Self {
        self.class = class.to_vec();
        self
    }

    /// The public key provisioned to the devices.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The class id put in manifests.
    pub fn class(&self) -> &[u8] {
        &self.class
    }

    fn sign(
        &self,
        manifest: &fota_storage::Manifest<'_>,
        payload: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; fota_storage::manifest::MANIFEST_MAX];
        let n = manifest
            .sign(&self.key, &mut out)
            .map_err(|e| Error::Usage(format!("sign manifest: {e}")))?;
        // Zero padding: the payload starts on a block (and so flash granule) boundary.
        out.resize(n.next_multiple_of(crate::sim::HEADER_ALIGN), 0);
        out.extend_from_slice(payload);
        Ok(out)
    }

    /// The signed package of a full image at `version`.
    pub fn sign_image(&self, version: u32, image: &[u8]) -> Result<Vec<u8>, Error> {
        let size = len32(image)?;
        let m = fota_storage::Manifest {
            version,
            image_size: size,
            payload_size: size,
            digest: fota_storage::manifest::sha256(image),
            base: None,
            delta: false,
            class: &self.class,
        };
        self.sign(&m, image)
    }

    /// The signed package of `patch`, which turns `old` into `new` (at `version`).
    pub fn sign_delta(
        &self,
        version: u32,
        old: &[u8],
        new: &[u8],
        patch: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let m = fota_storage::Manifest {
            version,
            image_size: len32(new)?,
            payload_size: len32(patch)?,
            digest: fota_storage::manifest::sha256(new),
            base: Some((len32(old)?, fota_storage::manifest::sha256(old))),
            delta: true,
            class: &self.class,
        };
        self.sign(&m, patch)
    }
}

fn len32(b: &[u8]) -> Result<u32, Error> {
    u32::try_from(b.len()).map_err(|_| Error::Usage("package larger than 4 GiB".into()))
}

/// The manifest in front of a signed package, if `package` is one.
pub fn package_manifest(package: &[u8]) -> Option<fota_storage::Manifest<'_>> {
    fota_storage::SignedManifest::parse(package)
        .ok()
        .map(|(m, _)| m.manifest)
}

/// How a job delivers the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Block1 writes of /5/0/0.
    Push,
    /// Package URI, the device GETs it block-wise.
    Pull,
    /// Alternate by device (half push, half pull), within what /5/0/9 allows.
    Mixed,
    /// Push when /5/0/9 allows it (operator practice), else pull.
    Auto,
}

/// Retry policy of a job.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Failed attempts (exchanges that timed out, failed downloads, unmet preconditions)
    /// before the job fails.
    pub max_retries: u32,
    /// Minimum wait before an attempt is retried.
    pub min_interval: Duration,
}

/// Thresholds checked before Execute Update.
#[derive(Debug, Clone, Copy)]
pub struct Preconditions {
    /// Minimum battery level in percent (/3/0/9).
    pub min_battery: i64,
    /// Minimum radio signal strength in dBm (/4/0/2).
    pub min_signal_dbm: i64,
    /// Minimum free memory in KiB (/3/0/10).
    pub min_free_kib: i64,
}

/// Server configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The package (full image or delta).
    pub package: Vec<u8>,
    /// Length of the full new image (for the bytes-on-air comparison).
    pub full_image_len: u64,
    /// Version string the devices must end on (/3/0/3).
    pub target_version: String,
    /// Delivery mode.
    pub mode: Mode,
    /// Block size exponent for push (6 = 1024 bytes).
    pub szx: u8,
    /// Initial retransmission timeout.
    pub ack_timeout: Duration,
    /// Retransmissions per exchange.
    pub max_retransmit: u32,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Precondition thresholds.
    pub preconditions: Preconditions,
    /// Address devices reach this server at (put in Package URIs); the socket's if `None`.
    pub public_addr: Option<SocketAddr>,
    /// How long to wait for a device to come back after Execute before reading its state.
    pub update_wait: Duration,
}

impl ServerConfig {
    /// Defaults for `package` updating to `target_version`: push preferred, 1024-byte blocks,
    /// RFC 7252 timers, 10 retries at least 1 s apart, battery ≥ 20 %, signal ≥ -110 dBm,
    /// free memory ≥ 8 KiB.
    pub fn new(package: Vec<u8>, target_version: &str) -> Self {
        ServerConfig {
            full_image_len: package.len() as u64,
            package,
            target_version: target_version.to_string(),
            mode: Mode::Auto,
            szx: 6,
            ack_timeout: Duration::from_secs(2),
            max_retransmit: 4,
            retry: RetryPolicy {
                max_retries: 10,
                min_interval: Duration::from_secs(1),
            },
            preconditions: Preconditions {
                min_battery: 20,
                min_signal_dbm: -110,
                min_free_kib: 8,
            },
            public_addr: None,
            update_wait: Duration::from_secs(5),
        }
    }
}

/// Final outcome of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The device runs the target version and reports Result 1.
    Updated,
    /// The device already ran the target version.
    AlreadyCurrent,
    /// The job gave up.
    Failed(String),
}

/// What a job is doing (the status view's phase).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Observe(u8),
    ReadVersion,
    ReadState,
    ReadResult,
    ReadDelivery,
    ReadOffset,
    Push { offset: u32, szx: u8, sent: u32 },
    WriteUri,
    WaitDownload(Instant),
    Check(u8),
    Execute,
    WaitUpdate(Instant),
    Backoff(Instant),
    Done,
}

impl Step {
    fn name(&self) -> &'static str {
        match self {
            Step::Observe(_) => "observe",
            Step::ReadVersion | Step::ReadState | Step::ReadResult | Step::ReadDelivery => "read",
            Step::ReadOffset => "resume",
            Step::Push { .. } => "push",
            Step::WriteUri | Step::WaitDownload(_) => "pull",
            Step::Check(_) => "check",
            Step::Execute | Step::WaitUpdate(_) => "update",
            Step::Backoff(_) => "retry-wait",
            Step::Done => "done",
        }
    }
}

/// Status view of one device.
#[derive(Debug, Clone)]
pub struct DeviceStatus {
    /// Endpoint name.
    pub endpoint: String,
    /// Current address.
    pub addr: SocketAddr,
    /// What the job is doing.
    pub phase: &'static str,
    /// Delivery chosen.
    pub delivery: Option<Mode>,
    /// Last known State (/5/0/3).
    pub state: Option<i64>,
    /// Last known Update Result (/5/0/5).
    pub result: Option<i64>,
    /// Last known firmware version (/3/0/3).
    pub version: String,
    /// Package bytes known to be on the device (progress).
    pub progress: u64,
    /// Datagram bytes sent to and received from the device.
    pub bytes_on_air: u64,
    /// Package bytes served to the device's Block2 requests (pull).
    pub package_bytes_served: u64,
    /// Retries spent.
    pub retries: u32,
    /// Registrations seen (a reboot registers again).
    pub registrations: u32,
    /// Final outcome.
    pub outcome: Option<Outcome>,
}

/// Totals over all devices.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Devices registered.
    pub devices: usize,
    /// Devices updated (Result 1 on the target version).
    pub updated: usize,
    /// Devices already on the target.
    pub already_current: usize,
    /// Jobs failed.
    pub failed: usize,
    /// Retries over all jobs.
    pub retries: u64,
    /// Datagram bytes to and from devices.
    pub bytes_on_air: u64,
    /// Bytes a full-image update of every device would have sent.
    pub full_image_bytes: u64,
    /// Size of the package being sent (a delta or the full image).
    pub package_bytes: u64,
}

impl Totals {
    /// Updated (or already current) over devices.
    pub fn success_rate(&self) -> f64 {
        if self.devices == 0 {
            0.0
        } else {
            (self.updated + self.already_current) as f64 / self.devices as f64
        }
    }
}

#[derive(Debug)]
struct Inflight {
    mid: u16,
    token: [u8; 4],
    bytes: Vec<u8>,
    deadline: Instant,
    timeout: Duration,
    tries: u32,
}

#[derive(Debug)]
struct Device {
    status: DeviceStatus,
    location: String,
    step: Step,
    mode: Option<Mode>,
    executed: bool,
    inflight: Option<Inflight>,
    observe_tokens: Vec<[u8; 4]>,
    index: usize,
}

/// The FOTA server core.
#[derive(Debug)]
pub struct Server {
    cfg: ServerConfig,
    block2: coap_block::Block2Server,
    package_path: String,
    local: SocketAddr,
    devices: BTreeMap<String, Device>,
    by_addr: HashMap<SocketAddr, String>,
    answered: HashMap<(SocketAddr, u16), Vec<u8>>,
    mid: u16,
    token: u32,
    next_location: u32,
    out: Vec<(SocketAddr, Vec<u8>)>,
}

/// The single resource value of a read or notification: TLV (decoded with `lwm2m-tlv`, the
/// resource record's value) or text/plain.
fn resource_value<'a>(msg: &Message<'a>) -> &'a [u8] {
    if msg.uint_option(OptionNumber::CONTENT_FORMAT).ok().flatten() == Some(u32::from(cf::TLV))
        && let Some(Ok(rec)) = lwm2m_tlv::decode(msg.payload()).next()
        && rec.kind() == lwm2m_tlv::Kind::Resource
    {
        return rec.value();
    }
    msg.payload()
}

/// An integer resource from a read or notification (TLV or text/plain).
fn text_int(msg: &Message<'_>) -> Option<i64> {
    if msg.uint_option(OptionNumber::CONTENT_FORMAT).ok().flatten() == Some(u32::from(cf::TLV)) {
        let rec = lwm2m_tlv::decode(msg.payload()).next()?.ok()?;
        return rec.as_i64().ok();
    }
    std::str::from_utf8(msg.payload()).ok()?.trim().parse().ok()
}

/// A string resource from a read or notification (TLV or text/plain).
fn text_str(msg: &Message<'_>) -> String {
    String::from_utf8_lossy(resource_value(msg)).into_owned()
}

impl Server {
    /// A server whose socket is `local`.
    pub fn new(cfg: ServerConfig, local: SocketAddr) -> Self {
        let digest = Sha256::digest(&cfg.package);
        let package_path = format!("fw/{}", hex::encode(&digest[..4]));
        // An 8-byte ETag from the first bytes of the package's SHA-256 (a content hash).
        let etag = coap_block::Token::new(&digest[..8]).unwrap_or_default();
        let block2 = coap_block::Block2Server::new(6, etag, Some(cf::OCTETS));
        Server {
            cfg,
            block2,
            package_path,
            local,
            devices: BTreeMap::new(),
            by_addr: HashMap::new(),
            answered: HashMap::new(),
            mid: 0x4000,
            token: 0x5eed_0000,
            next_location: 0,
            out: Vec::new(),
        }
    }

    /// The `coap://` URI the package is hosted at.
    pub fn package_uri(&self) -> String {
        format!(
            "coap://{}/{}",
            self.cfg.public_addr.unwrap_or(self.local),
            self.package_path
        )
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.cfg
    }

    /// Status of every registered device, by endpoint.
    pub fn status(&self) -> Vec<DeviceStatus> {
        self.devices.values().map(|d| d.status.clone()).collect()
    }

    /// Totals over all devices.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            devices: self.devices.len(),
            ..Totals::default()
        };
        for d in self.devices.values() {
            match &d.status.outcome {
                Some(Outcome::Updated) => t.updated += 1,
                Some(Outcome::AlreadyCurrent) => t.already_current += 1,
                Some(Outcome::Failed(_)) => t.failed += 1,
                None => {}
            }
            t.retries += u64::from(d.status.retries);
            t.bytes_on_air += d.status.bytes_on_air;
        }
        t.full_image_bytes = self.cfg.full_image_len * t.devices as u64;
        t.package_bytes = self.cfg.package.len() as u64;
        t
    }

    /// Whether every registered device's job has finished.
    pub fn all_done(&self) -> bool {
        self.devices.values().all(|d| d.status.outcome.is_some())
    }

    /// Datagrams to send, drained.
    pub fn drain(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        std::mem::take(&mut self.out)
    }

    fn send(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        if let Some(ep) = self.by_addr.get(&to)
            && let Some(d) = self.devices.get_mut(ep)
        {
            d.status.bytes_on_air += bytes.len() as u64;
        }
        self.out.push((to, bytes));
    }

    /// Feeds one datagram from `from`.
    pub fn handle(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if let Some(ep) = self.by_addr.get(&from)
            && let Some(d) = self.devices.get_mut(ep)
        {
            d.status.bytes_on_air += data.len() as u64;
        }
        let Ok(msg) = Message::parse(data) else {
            return;
        };
        if msg.code().is_request() {
            if msg.message_type() == MessageType::Confirmable
                && let Some(resp) = self.answered.get(&(from, msg.message_id()))
            {
                let resp = resp.clone();
                self.send(from, resp);
                return;
            }
            let resp = self.request(now, from, &msg, data);
            if let Some(resp) = resp {
                if msg.message_type() == MessageType::Confirmable {
                    if self.answered.len() > 65536 {
                        self.answered.clear();
                    }
                    self.answered.insert((from, msg.message_id()), resp.clone());
                }
                self.send(from, resp);
            }
            return;
        }
        let Some(ep) = self.by_addr.get(&from).cloned() else {
            return;
        };
        // Observe notifications.
        if msg.option(OptionNumber::OBSERVE).is_some() && msg.code() == Code::CONTENT {
            let is_notification = self.devices.get(&ep).is_some_and(|d| {
                d.observe_tokens.iter().any(|t| t[..] == *msg.token())
                    && d.inflight
                        .as_ref()
                        .is_none_or(|f| f.token[..] != *msg.token())
            });
            if is_notification {
                if msg.message_type() == MessageType::Confirmable {
                    self.send(from, empty_ack(msg.message_id()));
                }
                self.notification(now, &ep, &msg);
                return;
            }
        }
        let Some(d) = self.devices.get_mut(&ep) else {
            return;
        };
        let Some(f) = &d.inflight else { return };
        let ours = (msg.message_type() == MessageType::Acknowledgement
            && msg.message_id() == f.mid)
            || msg.token() == f.token;
        if !ours {
            return;
        }
        if msg.message_type() == MessageType::Acknowledgement && msg.code() == Code::EMPTY {
            return; // separate response follows
        }
        if msg.message_type() == MessageType::Confirmable {
            self.send(from, empty_ack(msg.message_id()));
        }
        if msg.message_type() == MessageType::Reset {
            let Some(d) = self.devices.get_mut(&ep) else {
                return;
            };
            d.inflight = None;
            self.exchange_failed(now, &ep);
            return;
        }
        let Some(d) = self.devices.get_mut(&ep) else {
            return;
        };
        d.inflight = None;
        self.response(now, &ep, &msg);
        self.drive(now, &ep);
    }

    fn notification(&mut self, now: Instant, ep: &str, msg: &Message<'_>) {
        let Some(d) = self.devices.get_mut(ep) else {
            return;
        };
        let Some(i) = d.observe_tokens.iter().position(|t| t[..] == *msg.token()) else {
            return;
        };
        match i {
            0 => d.status.state = text_int(msg),
            1 => d.status.result = text_int(msg),
            _ => d.status.version = text_str(msg),
        }
        if matches!(d.step, Step::WaitDownload(_) | Step::WaitUpdate(_)) {
            d.step = Step::ReadState;
            self.drive(now, ep);
        }
    }

    fn request(
        &mut self,
        now: Instant,
        from: SocketAddr,
        msg: &Message<'_>,
        raw: &[u8],
    ) -> Option<Vec<u8>> {
        let mut path = Vec::new();
        let mut query = Vec::new();
        for o in msg.options() {
            let v = o.value;
            match o.number {
                OptionNumber::URI_PATH => path.push(String::from_utf8_lossy(v).into_owned()),
                OptionNumber::URI_QUERY => query.push(String::from_utf8_lossy(v).into_owned()),
                _ => {}
            }
        }
        let (ty, mid) = if msg.message_type() == MessageType::Confirmable {
            (MessageType::Acknowledgement, msg.message_id())
        } else {
            (MessageType::NonConfirmable, self.next_mid())
        };
        let mut buf = vec![0u8; 1400];
        let simple = |buf: &mut Vec<u8>, c: Code| -> Option<Vec<u8>> {
            let n = Builder::new(buf, ty, c, mid, msg.token()).finish().ok()?;
            buf.truncate(n);
            Some(buf.clone())
        };
        let joined = path.join("/");
        if msg.code() == Code::GET && joined == self.package_path {
            return self.serve_block(from, raw, mid);
        }
        if path.first().map(String::as_str) != Some("rd") {
            return simple(&mut buf, Code::NOT_FOUND);
        }
        match (msg.code(), path.len()) {
            (Code::POST, 1) => {
                let ep = query
                    .iter()
                    .find_map(|q| q.strip_prefix("ep="))
                    .map(str::to_string);
                let Some(ep) = ep else {
                    return simple(&mut buf, Code::BAD_REQUEST);
                };
                let location = self.register(now, from, &ep);
                let mut b = Builder::new(&mut buf, ty, Code::CREATED, mid, msg.token());
                b = b.path(OptionNumber::LOCATION_PATH, &location);
                let n = b.finish().ok()?;
                buf.truncate(n);
                self.drive(now, &ep);
                Some(buf)
            }
            (Code::POST, 2) | (Code::DELETE, 2) => {
                let loc = joined;
                let ep = self
                    .devices
                    .iter()
                    .find(|(_, d)| d.location == loc)
                    .map(|(e, _)| e.clone());
                let Some(ep) = ep else {
                    return simple(&mut buf, Code::NOT_FOUND);
                };
                if msg.code() == Code::DELETE {
                    return simple(&mut buf, Code::DELETED);
                }
                if let Some(d) = self.devices.get_mut(&ep)
                    && d.status.addr != from
                {
                    self.by_addr.remove(&d.status.addr);
                    d.status.addr = from;
                    self.by_addr.insert(from, ep.clone());
                }
                simple(&mut buf, Code::CHANGED)
            }
            _ => simple(&mut buf, Code::METHOD_NOT_ALLOWED),
        }
    }

    fn register(&mut self, now: Instant, from: SocketAddr, ep: &str) -> String {
        let index = self.devices.len();
        let mixed_pull = self.cfg.mode == Mode::Mixed && index % 2 == 1;
        let target = self.cfg.target_version.clone();
        let location = match self.devices.get(ep) {
            Some(d) => d.location.clone(),
            None => {
                self.next_location += 1;
                format!("rd/{}", self.next_location)
            }
        };
        let d = self
            .devices
            .entry(ep.to_string())
            .or_insert_with(|| Device {
                status: DeviceStatus {
                    endpoint: ep.to_string(),
                    addr: from,
                    phase: "registered",
                    delivery: None,
                    state: None,
                    result: None,
                    version: String::new(),
                    progress: 0,
                    bytes_on_air: 0,
                    package_bytes_served: 0,
                    retries: 0,
                    registrations: 0,
                    outcome: None,
                },
                location: location.clone(),
                step: Step::Observe(0),
                mode: if mixed_pull { Some(Mode::Pull) } else { None },
                executed: false,
                inflight: None,
                observe_tokens: Vec::new(),
                index,
            });
        let _ = (now, target, d.index);
        self.by_addr.remove(&d.status.addr);
        d.status.addr = from;
        d.status.registrations += 1;
        d.inflight = None;
        d.observe_tokens.clear();
        if d.status.outcome.is_none() {
            d.step = Step::Observe(0);
        }
        self.by_addr.insert(from, ep.to_string());
        location
    }

    /// Hosts the package through `coap-block`'s Block2 server: any NUM/SZX, content-hash ETag
    /// and Size2 on every block.
    fn serve_block(&mut self, from: SocketAddr, raw: &[u8], mid: u16) -> Option<Vec<u8>> {
        let req = coap_block::Message::parse(raw).ok()?;
        let mut buf = vec![0u8; 1024 + 128];
        let reply =
            coap_block::MessageBuilder::response_to(&mut buf, &req, coap_block::Code::CONTENT, mid)
                .ok()?;
        let mut source: &[u8] = &self.cfg.package;
        let n = self.block2.respond(&req, &mut source, reply).ok()?;
        buf.truncate(n);
        if let Ok(m) = Message::parse(&buf)
            && m.code() == Code::CONTENT
            && let Some(ep) = self.by_addr.get(&from)
            && let Some(d) = self.devices.get_mut(ep)
        {
            let offset = m.block2().ok().flatten().map_or(0, |b| b.offset());
            let end = u64::from(offset) + m.payload().len() as u64;
            d.status.progress = d.status.progress.max(end);
            d.status.package_bytes_served += m.payload().len() as u64;
        }
        Some(buf)
    }

    fn next_mid(&mut self) -> u16 {
        self.mid = self.mid.wrapping_add(1);
        self.mid
    }

    /// Builds and sends a request for `ep`'s current step.
    fn send_request(
        &mut self,
        now: Instant,
        ep: &str,
        build: impl FnOnce(Builder<'_>) -> Option<usize>,
    ) {
        let mid = self.next_mid();
        self.token = self.token.wrapping_add(1);
        let token = self.token.to_be_bytes();
        let mut buf = vec![0u8; 1500];
        let Some(n) = build(Builder::new(
            &mut buf,
            MessageType::Confirmable,
            Code::EMPTY,
            mid,
            &token,
        )) else {
            return;
        };
        buf.truncate(n);
        let Some(d) = self.devices.get_mut(ep) else {
            return;
        };
        let to = d.status.addr;
        d.inflight = Some(Inflight {
            mid,
            token,
            bytes: buf.clone(),
            deadline: now + self.cfg.ack_timeout,
            timeout: self.cfg.ack_timeout,
            tries: 0,
        });
        self.send(to, buf);
    }

    fn get(&mut self, now: Instant, ep: &str, path: &str, observe: bool) {
        self.send_request(now, ep, |b| {
            let mut b = b;
            b = set_code(b, Code::GET);
            if observe {
                b = b.uint(OptionNumber::OBSERVE, 0);
            }
            // TLV: what every LwM2M 1.0+ client answers.
            b.path(OptionNumber::URI_PATH, path)
                .uint(OptionNumber::ACCEPT, u32::from(cf::TLV))
                .finish()
                .ok()
        });
        if observe
            && let Some(d) = self.devices.get_mut(ep)
            && let Some(f) = &d.inflight
        {
            let t = f.token;
            d.observe_tokens.push(t);
        }
    }

    /// Advances `ep`'s job when it has nothing in flight.
    fn drive(&mut self, now: Instant, ep: &str) {
        let Some(d) = self.devices.get_mut(ep) else {
            return;
        };
        if d.inflight.is_some() {
            return;
        }
        d.status.phase = d.step.name();
        let step = d.step.clone();
        match step {
            Step::Observe(i) => {
                let path = ["5/0/3", "5/0/5", "3/0/3"][usize::from(i.min(2))];
                self.get(now, ep, path, true);
            }
            Step::ReadVersion => self.get(now, ep, "3/0/3", false),
            Step::ReadState => self.get(now, ep, "5/0/3", false),
            Step::ReadResult => self.get(now, ep, "5/0/5", false),
            Step::ReadDelivery => self.get(now, ep, "5/0/9", false),
            Step::ReadOffset => self.get(now, ep, "5/0/26500", false),
            Step::Check(i) => self.get(
                now,
                ep,
                ["3/0/9", "4/0/2", "3/0/10"][usize::from(i.min(2))],
                false,
            ),
            Step::Push { offset, szx, .. } => {
                let total = self.cfg.package.len();
                let size = 16usize << szx;
                let start = (offset as usize).min(total);
                let end = (start + size).min(total);
                let block = Block {
                    num: (start / size) as u32,
                    more: end < total,
                    szx,
                };
                let data = self.cfg.package[start..end].to_vec();
                if let Some(d) = self.devices.get_mut(ep) {
                    d.step = Step::Push {
                        offset,
                        szx,
                        sent: (end - start) as u32,
                    };
                }
                self.send_request(now, ep, |b| {
                    set_code(b, Code::PUT)
                        .path(OptionNumber::URI_PATH, "5/0/0")
                        .uint(OptionNumber::CONTENT_FORMAT, u32::from(cf::OCTETS))
                        .uint(OptionNumber::BLOCK1, block.to_uint())
                        .uint(OptionNumber::SIZE1, total as u32)
                        .payload(&data)
                        .ok()
                });
            }
            Step::WriteUri => {
                let uri = self.package_uri();
                self.send_request(now, ep, |b| {
                    set_code(b, Code::PUT)
                        .path(OptionNumber::URI_PATH, "5/0/1")
                        .uint(OptionNumber::CONTENT_FORMAT, u32::from(cf::TEXT))
                        .payload(uri.as_bytes())
                        .ok()
                });
            }
            Step::Execute => {
                if let Some(d) = self.devices.get_mut(ep) {
                    d.executed = true;
                }
                self.send_request(now, ep, |b| {
                    set_code(b, Code::POST)
                        .path(OptionNumber::URI_PATH, "5/0/2")
                        .finish()
                        .ok()
                });
            }
            Step::WaitDownload(t) | Step::WaitUpdate(t) | Step::Backoff(t) => {
                if now >= t
                    && let Some(d) = self.devices.get_mut(ep)
                {
                    // After a wait, start from the version: the device may have updated.
                    d.step = if matches!(step, Step::WaitDownload(_)) {
                        Step::ReadState
                    } else {
                        Step::ReadVersion
                    };
                    self.drive(now, ep);
                }
            }
            Step::Done => {}
        }
    }

    fn finish(&mut self, ep: &str, outcome: Outcome) {
        if let Some(d) = self.devices.get_mut(ep) {
            d.step = Step::Done;
            d.status.phase = "done";
            d.status.outcome = Some(outcome);
        }
    }

    /// One more failed attempt: back off, or fail the job past the retry budget.
    fn retry(&mut self, now: Instant, ep: &str, why: &str) {
        let max = self.cfg.retry.max_retries;
        let wait = self.cfg.retry.min_interval;
        let Some(d) = self.devices.get_mut(ep) else {
            return;
        };
        d.status.retries += 1;
        if d.status.retries > max {
            self.finish(ep, Outcome::Failed(format!("{why} (after {max} retries)")));
        } else {
            d.step = Step::Backoff(now + wait);
        }
    }

    fn exchange_failed(&mut self, now: Instant, ep: &str) {
        self.retry(now, ep, "device unreachable");
    }

    #[allow(clippy::needless_return)] // early exits read better as returns in this table
    fn response(&mut self, now: Instant, ep: &str, msg: &Message<'_>) {
        let Some(d) = self.devices.get_mut(ep) else {
            return;
        };
        let ok = msg.code() == Code::CONTENT
            || msg.code() == Code::CHANGED
            || msg.code() == Code::CONTINUE;
        let value = text_int(msg);
        let pre = self.cfg.preconditions;
        let target = self.cfg.target_version.clone();
        let step = d.step.clone();
        match step {
            Step::Observe(i) => {
                match i {
                    0 => d.status.state = value,
                    1 => d.status.result = value,
                    _ => d.status.version = text_str(msg),
                }
                d.step = if i < 2 {
                    Step::Observe(i + 1)
                } else {
                    Step::ReadVersion
                };
            }
            Step::ReadVersion => {
                if ok {
                    d.status.version = text_str(msg);
                }
                d.step = if d.status.version == target {
                    Step::ReadResult
                } else {
                    Step::ReadState
                };
            }
            Step::ReadState => {
                d.status.state = value;
                d.step = match value {
                    Some(0) => Step::ReadResult,
                    Some(1) if d.mode == Some(Mode::Pull) => {
                        Step::WaitDownload(now + Duration::from_secs(2))
                    }
                    Some(1) => Step::ReadOffset,
                    Some(2) => Step::Check(0),
                    Some(3) => Step::WaitUpdate(now + self.cfg.update_wait),
                    _ => Step::ReadDelivery,
                };
            }
            Step::ReadResult => {
                d.status.result = value;
                let on_target = d.status.version == target;
                match (on_target, value) {
                    (true, Some(1)) => return self.finish(ep, Outcome::Updated),
                    (true, _) if !d.executed => return self.finish(ep, Outcome::AlreadyCurrent),
                    (true, _) => return self.finish(ep, Outcome::Updated),
                    (false, Some(1)) if d.executed => {
                        return self.retry(
                            now,
                            ep,
                            "Result 1 but /3/0/3 is not the target version",
                        );
                    }
                    (false, Some(5)) => {
                        // The package fails verification: retrying sends the same bytes.
                        return self.finish(
                            ep,
                            Outcome::Failed("integrity check failure (Result 5)".into()),
                        );
                    }
                    (false, Some(2 | 6)) => {
                        let r = value.unwrap_or(0);
                        return self.finish(
                            ep,
                            Outcome::Failed(format!("device refused the package (Result {r})")),
                        );
                    }
                    (false, Some(r)) if r >= 3 => {
                        d.executed = false;
                        return self.retry(
                            now,
                            ep,
                            &format!("download or update failed (Result {r})"),
                        );
                    }
                    _ => d.step = Step::ReadDelivery,
                }
            }
            Step::ReadDelivery => {
                let allowed = value.unwrap_or(2);
                let want = match (d.mode, self.cfg.mode) {
                    (Some(m), _) => m,
                    (None, Mode::Pull) => Mode::Pull,
                    _ => Mode::Push,
                };
                let mode = match (want, allowed) {
                    (Mode::Pull, 1) | (Mode::Push, 0) | (Mode::Auto, 0) => {
                        if allowed == 0 {
                            Mode::Pull
                        } else {
                            Mode::Push
                        }
                    }
                    (m, _) => m,
                };
                d.mode = Some(mode);
                d.status.delivery = Some(mode);
                d.status.progress = 0;
                d.step = if mode == Mode::Pull {
                    Step::WriteUri
                } else {
                    Step::Push {
                        offset: 0,
                        szx: self.cfg.szx,
                        sent: 0,
                    }
                };
            }
            Step::ReadOffset => {
                let off = value.unwrap_or(0).max(0) as u32;
                d.status.progress = u64::from(off);
                if d.mode.is_none() {
                    d.mode = Some(Mode::Push);
                    d.status.delivery = Some(Mode::Push);
                }
                let szx = self.cfg.szx;
                // Resume at the block holding the next byte (offsets are block multiples).
                let size = 16u32 << szx;
                d.step = Step::Push {
                    offset: off - off % size,
                    szx,
                    sent: 0,
                };
            }
            Step::Push { offset, szx, sent } => match msg.code() {
                Code::CONTINUE => {
                    let theirs = msg.block1().ok().flatten().map_or(szx, |b| b.szx.min(szx));
                    let next = offset + sent;
                    d.status.progress = u64::from(next);
                    d.step = Step::Push {
                        offset: next,
                        szx: theirs,
                        sent: 0,
                    };
                }
                Code::CHANGED => {
                    d.status.progress = u64::from(offset + sent);
                    d.step = Step::ReadState;
                }
                Code::REQUEST_ENTITY_INCOMPLETE => d.step = Step::ReadOffset,
                Code::REQUEST_ENTITY_TOO_LARGE => {
                    let s = msg
                        .uint_option(OptionNumber::SIZE1)
                        .ok()
                        .flatten()
                        .unwrap_or(0);
                    return self.finish(
                        ep,
                        Outcome::Failed(format!("package too large: device takes {s} bytes")),
                    );
                }
                _ => d.step = Step::ReadState,
            },
            Step::WriteUri => {
                d.step = if ok {
                    Step::WaitDownload(now + Duration::from_secs(2))
                } else {
                    Step::ReadState
                };
            }
            Step::Check(i) => {
                let v = value.unwrap_or(i64::MIN);
                let (pass, what) = match i {
                    0 => (v >= pre.min_battery, "battery too low"),
                    1 => (v >= pre.min_signal_dbm, "signal too weak"),
                    _ => (v >= pre.min_free_kib, "not enough free memory"),
                };
                if !pass {
                    return self.retry(now, ep, what);
                }
                d.step = if i < 2 {
                    Step::Check(i + 1)
                } else {
                    Step::Execute
                };
            }
            Step::Execute => {
                d.step = if msg.code() == Code::CHANGED {
                    Step::WaitUpdate(now + self.cfg.update_wait)
                } else {
                    Step::ReadState
                };
            }
            Step::WaitDownload(_) | Step::WaitUpdate(_) | Step::Backoff(_) | Step::Done => {}
        }
    }

    /// Runs timers: retransmissions, exchanges that failed, waits that ended.
    pub fn poll(&mut self, now: Instant) {
        let eps: Vec<String> = self.devices.keys().cloned().collect();
        for ep in eps {
            let Some(d) = self.devices.get_mut(&ep) else {
                continue;
            };
            if let Some(f) = &mut d.inflight {
                if now < f.deadline {
                    continue;
                }
                if f.tries < self.cfg.max_retransmit {
                    f.tries += 1;
                    f.timeout *= 2;
                    f.deadline = now + f.timeout;
                    let (to, bytes) = (d.status.addr, f.bytes.clone());
                    self.send(to, bytes);
                    continue;
                }
                d.inflight = None;
                if matches!(d.step, Step::Execute) {
                    // The device may have rebooted before its answer got through.
                    d.step = Step::WaitUpdate(now + self.cfg.update_wait);
                } else {
                    self.exchange_failed(now, &ep);
                }
            }
            self.drive(now, &ep);
        }
    }

    /// The next instant [`Server::poll`] has work.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.devices
            .values()
            .filter_map(|d| match (&d.inflight, &d.step) {
                (Some(f), _) => Some(f.deadline),
                (None, Step::WaitDownload(t) | Step::WaitUpdate(t) | Step::Backoff(t)) => Some(*t),
                _ => None,
            })
            .min()
    }
}

fn empty_ack(mid: u16) -> Vec<u8> {
    let [a, b] = mid.to_be_bytes();
    vec![0x60, 0, a, b]
}

fn set_code(b: Builder<'_>, c: Code) -> Builder<'_> {
    b.with_code(c)
}

/// Serves `server` on `socket` until `stop` is set.
pub fn run(
    socket: UdpSocket,
    server: Arc<Mutex<Server>>,
    stop: Arc<AtomicBool>,
) -> Result<(), Error> {
    let mut buf = vec![0u8; 2048];
    let mut next_poll = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let wait = next_poll
            .saturating_duration_since(now)
            .clamp(Duration::from_millis(1), Duration::from_millis(50));
        socket
            .set_read_timeout(Some(wait))
            .map_err(|e| Error::io("server socket", e))?;
        let received = socket.recv_from(&mut buf);
        let mut s = server
            .lock()
            .map_err(|_| Error::Usage("server state poisoned".into()))?;
        let now = Instant::now();
        match received {
            Ok((n, from)) => s.handle(now, from, &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(Error::io("server receive", e)),
        }
        if now >= next_poll {
            s.poll(now);
            next_poll = s
                .next_timeout()
                .unwrap_or(now + Duration::from_millis(50))
                .min(now + Duration::from_millis(50));
        }
        for (to, bytes) in s.drain() {
            let _ = socket.send_to(&bytes, to);
        }
    }
    Ok(())
}
