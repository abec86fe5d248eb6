//! The fleet demo as a library: a server, a loss proxy and N simulated devices (each with
//! file-backed flash in a temporary directory) in one process on 127.0.0.1. Used by the
//! `fota-demo` binary and the end-to-end tests.

use crate::client::{Config, Platform};
use crate::driver::DeviceRunner;
use crate::image;
use crate::proxy::{LossConfig, LossProxy};
use crate::server::{
    self, DEMO_CLASS, DeviceStatus, Mode, Outcome, PackageSigner, Server, ServerConfig, Totals,
    parse_version,
};
use crate::sim::SimDevice;
use crate::{Error, State, UpdateResult};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::prelude::rust_2024::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
#[allow(unused_imports)]
use std::{format, vec};

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of simulated devices.
    pub devices: usize,
    /// Percent of datagrams dropped in each direction.
    pub loss: f64,
    /// Delivery mode.
    pub mode: Mode,
    /// Devices that lose power mid-download.
    pub power_cuts: usize,
    /// Old firmware file (else generated).
    pub old: Option<PathBuf>,
    /// New firmware file (else generated).
    pub new: Option<PathBuf>,
    /// Size of the generated old image body.
    pub image_size: usize,
    /// Seed of images and loss.
    pub seed: u64,
    /// Initial CoAP retransmission timeout (loopback: far below RFC 7252's 2 s).
    pub ack_timeout: Duration,
    /// Give up after this long.
    pub deadline: Duration,
    /// Flip one byte of the package after building it (the update must fail with Result 5).
    pub corrupt_package: bool,
    /// Send a `fota-delta` patch from the old to the new image instead of the full image.
    pub delta: bool,
    /// Sign the package wrongly (the devices must refuse it and keep their firmware).
    pub forge: Forge,
}

/// Version the devices run before the update.
pub const OLD_VERSION: &str = "1.0.0";
/// Version the package carries (the server's target).
pub const NEW_VERSION: &str = "1.1.0";

/// A wrongly signed package, for the tests of the devices' checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Forge {
    /// Signed with the demo key for the devices' class at [`NEW_VERSION`].
    #[default]
    None,
    /// Signed with another key (Result 5).
    WrongKey,
    /// Signed at a version below the running one (anti-rollback: Result 6).
    OlderVersion,
    /// Signed for another vendor/device class (Result 6).
    WrongClass,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            devices: 8,
            loss: 5.0,
            mode: Mode::Push,
            power_cuts: 0,
            old: None,
            new: None,
            image_size: 96 * 1024,
            seed: 4,
            ack_timeout: Duration::from_millis(250),
            deadline: Duration::from_secs(300),
            corrupt_package: false,
            delta: true,
            forge: Forge::None,
        }
    }
}

/// What one device ended with, read back from its flash.
#[derive(Debug, Clone)]
pub struct DeviceSummary {
    /// The server's view.
    pub status: DeviceStatus,
    /// Version of the image in the device's active slot.
    pub flash_version: String,
    /// Whether the active slot holds exactly the new image.
    pub flash_is_new: bool,
    /// Whether the active slot holds exactly the old image.
    pub flash_is_old: bool,
    /// State persisted on the device.
    pub state: State,
    /// Update Result persisted on the device.
    pub result: UpdateResult,
    /// Reboots of the device (update and power cuts).
    pub reboots: u32,
    /// The power cut during the download, if this device had one.
    pub power_cut: Option<PowerCut>,
}

/// A power cut during a download, as the demo saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerCut {
    /// Package bytes the server had served this device when its power went.
    pub served_before: u64,
    /// The offset the device resumed from after the reboot (its persisted `/5/0/26500`).
    pub resumed_at: u32,
}

/// The demo's outcome.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// Devices.
    pub devices: usize,
    /// Devices on the new image with Result 1.
    pub updated: usize,
    /// Devices that are not.
    pub failed: usize,
    /// Retries over all jobs.
    pub retries: u64,
    /// UDP payload bytes both ways, as counted by the proxy.
    pub bytes_on_air: u64,
    /// Devices × new image size.
    pub full_image_bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// Package size.
    pub package_bytes: u64,
    /// New image size.
    pub new_image_bytes: u64,
    /// Whether the package is a delta.
    pub delta: bool,
    /// Datagrams dropped by the proxy.
    pub dropped: u64,
    /// Server totals.
    pub totals: Totals,
    /// Per device.
    pub per_device: Vec<DeviceSummary>,
}

/// Old and new images: the `--old`/`--new` files byte for byte, else generated.
pub fn images(opts: &DemoOptions) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let read = |p: &PathBuf| {
        let bytes = std::fs::read(p).map_err(|e| Error::io(format!("read {}", p.display()), e))?;
        if bytes.is_empty() {
            return Err(Error::Usage(format!("{}: empty image", p.display())));
        }
        Ok(bytes)
    };
    let old = match &opts.old {
        Some(p) => read(p)?,
        None => image::generate_body(opts.seed, opts.image_size),
    };
    let new = match &opts.new {
        Some(p) => read(p)?,
        None => image::evolve_body(&old, opts.seed.wrapping_add(1)),
    };
    Ok((old, new))
}

/// The signed package the demo sends: manifest (signed with the demo key, or forged as
/// `opts.forge` says) and payload (a `fota-delta` patch, or the new image).
pub fn package(opts: &DemoOptions, old: &[u8], new: &[u8]) -> Result<Vec<u8>, Error> {
    let signer = match opts.forge {
        Forge::WrongKey => PackageSigner::from_seed([0x5a; 32], DEMO_CLASS),
        Forge::WrongClass => PackageSigner::demo().with_class(b"other-vendor/other-board"),
        Forge::None | Forge::OlderVersion => PackageSigner::demo(),
    };
    let version = match opts.forge {
        Forge::OlderVersion => parse_version("0.9.0"),
        _ => parse_version(NEW_VERSION),
    }
    .unwrap_or(0);
    let mut package = if opts.delta {
        signer.sign_delta(version, old, new, &fota_delta::diff(old, new))?
    } else {
        signer.sign_image(version, new)?
    };
    if opts.corrupt_package {
        // One payload byte: the signature still holds, the image digest does not.
        let payload = server::package_manifest(&package).map_or(0, |m| m.payload_size as usize);
        let header = package.len().saturating_sub(payload);
        let at = header + (package.len() - header) / 2;
        if let Some(b) = package.get_mut(at) {
            *b ^= 0x55;
        }
    }
    Ok(package)
}

/// Runs the demo; `progress` is called about ten times a second with the server's view.
pub fn run(
    opts: &DemoOptions,
    mut progress: impl FnMut(&[DeviceStatus], &Totals),
) -> Result<DemoSummary, Error> {
    let start = Instant::now();
    let (old, new) = images(opts)?;
    let package = package(opts, &old, &new)?;
    let tmp = tempfile::tempdir().map_err(|e| Error::io("temporary directory", e))?;

    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| Error::io("server bind", e))?;
    let server_addr = socket
        .local_addr()
        .map_err(|e| Error::io("server address", e))?;
    let proxy = LossProxy::spawn(server_addr, LossConfig::symmetric(opts.loss, opts.seed))?;
    let mut cfg = ServerConfig::new(package.clone(), NEW_VERSION);
    cfg.full_image_len = new.len() as u64;
    cfg.mode = opts.mode;
    cfg.ack_timeout = opts.ack_timeout;
    cfg.retry.min_interval = opts.ack_timeout * 2;
    cfg.retry.max_retries = 20;
    cfg.update_wait = opts.ack_timeout * 8;
    cfg.public_addr = Some(proxy.addr());
    let server = Arc::new(Mutex::new(Server::new(cfg, server_addr)));
    let stop = Arc::new(AtomicBool::new(false));
    let server_thread = {
        let (s, st) = (server.clone(), stop.clone());
        thread::Builder::new()
            .name("fota-server".into())
            .spawn(move || server::run(socket, s, st))
            .map_err(|e| Error::io("server thread", e))?
    };

    let mut devices = Vec::new();
    for i in 0..opts.devices {
        let dir = tmp.path().join(format!("dev-{i:04}"));
        let signer = PackageSigner::demo();
        SimDevice::create_with(
            &dir,
            &old,
            parse_version(OLD_VERSION).unwrap_or(0),
            &signer.public_key(),
            DEMO_CLASS,
        )?;
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| Error::io("device bind", e))?;
        let mut cfg = Config::new(&format!("fota-demo-{i:04}"))
            .ok_or(Error::Usage("endpoint too long".into()))?;
        cfg.ack_timeout_ms = opts.ack_timeout.as_millis() as u32;
        cfg.max_pull_failures = 30;
        // Cut somewhere in the middle, on a block boundary, never after the last block.
        let len = package.len() as u32;
        let frac = 0.3 + 0.4 * i as f64 / opts.power_cuts.max(1) as f64;
        let cut_at = (i < opts.power_cuts)
            .then(|| ((f64::from(len) * frac) as u32 / 1024 * 1024).max(1024))
            .filter(|at| *at < len);
        let ep = cfg.endpoint().to_owned();
        let runner = DeviceRunner::new(sock, proxy.addr(), &dir, cfg)?;
        let st = stop.clone();
        let srv = server.clone();
        let handle = thread::Builder::new()
            .name(format!("device-{i}"))
            .stack_size(256 * 1024)
            .spawn(move || device_loop(runner, cut_at, st, srv, ep))
            .map_err(|e| Error::io("device thread", e))?;
        devices.push((dir, handle));
    }

    let deadline = start + opts.deadline;
    loop {
        thread::sleep(Duration::from_millis(100));
        let (status, totals, done) = {
            let s = server
                .lock()
                .map_err(|_| Error::Usage("server state poisoned".into()))?;
            (
                s.status(),
                s.totals(),
                s.all_done() && s.totals().devices == opts.devices,
            )
        };
        progress(&status, &totals);
        if done || Instant::now() >= deadline {
            break;
        }
    }
    // Let the last registrations and acknowledgements settle.
    thread::sleep(opts.ack_timeout);
    stop.store(true, Ordering::Relaxed);
    let mut reboots = Vec::new();
    let mut dirs = Vec::new();
    for (dir, h) in devices {
        reboots.push(h.join().unwrap_or((0, None)));
        dirs.push(dir);
    }
    let _ = server_thread.join();
    let s = server
        .lock()
        .map_err(|_| Error::Usage("server state poisoned".into()))?;
    let status = s.status();
    let totals = s.totals();
    let mut per_device = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let mut dev = SimDevice::open(dir)?;
        let flash = dev.active_image()?;
        let rec = dev.load_record().unwrap_or_default();
        let ep = format!("fota-demo-{i:04}");
        let st = status
            .iter()
            .find(|d| d.endpoint == ep)
            .cloned()
            .unwrap_or_else(|| DeviceStatus {
                endpoint: ep,
                addr: server_addr,
                phase: "never registered",
                delivery: None,
                state: None,
                result: None,
                version: String::new(),
                progress: 0,
                bytes_on_air: 0,
                package_bytes_served: 0,
                retries: 0,
                registrations: 0,
                outcome: Some(Outcome::Failed("never registered".into())),
            });
        per_device.push(DeviceSummary {
            status: st,
            flash_version: String::from_utf8_lossy(dev.version()).into_owned(),
            flash_is_new: flash == new,
            flash_is_old: flash == old,
            state: rec.fw.state(),
            result: rec.fw.update_result(),
            reboots: reboots.get(i).map_or(0, |r| r.0),
            power_cut: reboots.get(i).and_then(|r| r.1),
        });
    }
    let updated = per_device
        .iter()
        .filter(|d| d.flash_is_new && d.result == UpdateResult::Success && d.state == State::Idle)
        .count();
    let stats = proxy.stats();
    Ok(DemoSummary {
        devices: opts.devices,
        updated,
        failed: opts.devices - updated,
        retries: totals.retries,
        bytes_on_air: proxy.bytes_on_air(),
        full_image_bytes: new.len() as u64 * opts.devices as u64,
        seconds: start.elapsed().as_secs_f64(),
        package_bytes: package.len() as u64,
        new_image_bytes: new.len() as u64,
        delta: opts.delta,
        dropped: stats.dropped_up.load(Ordering::Relaxed)
            + stats.dropped_down.load(Ordering::Relaxed),
        totals,
        per_device,
    })
}

/// Runs one device until `stop`; its reboots and its power cut (if `cut_at` fell in its
/// download).
fn device_loop(
    mut runner: DeviceRunner,
    cut_at: Option<u32>,
    stop: Arc<AtomicBool>,
    server: Arc<Mutex<Server>>,
    ep: String,
) -> (u32, Option<PowerCut>) {
    let mut cut_pending = cut_at;
    let mut power_cut = None;
    while !stop.load(Ordering::Relaxed) {
        if runner.step(Duration::from_millis(50)).is_err() {
            thread::sleep(Duration::from_millis(20));
        }
        if let Some(at) = cut_pending {
            let hit = runner
                .client()
                .is_some_and(|c| c.state() == State::Downloading && c.transferred() >= at);
            if hit {
                cut_pending = None;
                let served_before = server.lock().ok().map_or(0, |s| {
                    s.status()
                        .iter()
                        .find(|d| d.endpoint == ep)
                        .map_or(0, |d| d.package_bytes_served)
                });
                // Off for a while: whatever arrives meanwhile is lost with the RAM.
                thread::sleep(Duration::from_millis(300));
                runner.drain();
                if runner.power_cycle().is_err() {
                    break;
                }
                power_cut = Some(PowerCut {
                    served_before,
                    resumed_at: runner.client().map_or(0, |c| c.transferred()),
                });
            }
        }
    }
    (runner.reboots, power_cut)
}
