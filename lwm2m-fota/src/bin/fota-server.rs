//! The FOTA server on its own: devices register, and each gets an update job for the package.

use clap::{Parser, ValueEnum};
use lwm2m_fota::server::{
    self, DEMO_CLASS, Mode, PackageSigner, Server, ServerConfig, package_manifest, parse_version,
    version_string,
};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Push when the device's /5/0/9 allows it (1 or 2), else pull.
    Auto,
    /// Block1 writes of /5/0/0 (pull if /5/0/9 says pull only).
    Push,
    /// Package URI; the device GETs the package block-wise (push if /5/0/9 says push only).
    Pull,
}

/// An LwM2M FOTA server: a registration directory and one update job per device.
///
/// Each registered device is read (/3/0/3: skipped when already on the target version;
/// /5/0/3, /5/0/5, /5/0/9), gets the package by push or pull (resumed from /5/0/26500 after any
/// interruption), is checked against the thresholds (/3/0/9, /4/0/2, /3/0/10) and then
/// executes the update. Failed attempts are retried up to --max-retries times, at least
/// --retry-interval apart; a package the device refuses (Result 2, 5, 6) is not retried.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// UDP address to listen on (LwM2M registrations, and the package for pull).
    #[arg(long, default_value = "127.0.0.1:5683")]
    listen: String,
    /// Address devices reach this server at, put in Package URIs (default: the --listen
    /// address; set it when listening on 0.0.0.0).
    #[arg(long)]
    public_addr: Option<SocketAddr>,
    /// The package: a signed package (fota-storage manifest + payload) is served as is; any
    /// other file is the new full image, signed here with --key at --target-version (or, with
    /// --delta-from, turned into a signed fota-delta patch).
    #[arg(long)]
    package: PathBuf,
    /// Build a fota-delta patch from this old image to --package (the new image) and send
    /// the patch; devices check that they run exactly this old image before patching.
    #[arg(long)]
    delta_from: Option<PathBuf>,
    /// Version the devices must end on, major.minor.patch (compared with /3/0/3; also the
    /// manifest's anti-rollback version when the server signs).
    #[arg(long)]
    target_version: String,
    /// Ed25519 signing key (32 raw bytes or 64 hex digits; default: the public demo key the
    /// simulated devices trust).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Vendor/device class id put in the manifest when the server signs.
    #[arg(long, default_value = "lwm2m-fota-sim")]
    class: String,
    /// Delivery: auto = from the device's /5/0/9 (push preferred when allowed), or forced
    /// (still within what /5/0/9 allows).
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    mode: ModeArg,
    /// Minimum battery level in percent (/3/0/9) before Execute Update.
    #[arg(long, default_value_t = 20, allow_negative_numbers = true)]
    min_battery: i64,
    /// Minimum radio signal strength in dBm (/4/0/2) before Execute Update.
    #[arg(long, default_value_t = -110, allow_negative_numbers = true)]
    min_signal: i64,
    /// Minimum free memory in KiB (/3/0/10) before Execute Update.
    #[arg(long, default_value_t = 8, allow_negative_numbers = true)]
    min_free_memory: i64,
    /// Failed attempts (unreachable device, failed download, unmet threshold) a job retries
    /// before it fails.
    #[arg(long, default_value_t = 10)]
    max_retries: u32,
    /// Minimum seconds between a failed attempt and its retry.
    #[arg(long, default_value_t = 1.0)]
    retry_interval: f64,
    /// Initial CoAP retransmission timeout in seconds (RFC 7252 ACK_TIMEOUT).
    #[arg(long, default_value_t = 2.0)]
    ack_timeout: f64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fota-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn seconds(what: &str, s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s).map_err(|_| format!("{what}: not a duration: {s}"))
}

fn run(args: Args) -> Result<(), String> {
    let target = parse_version(&args.target_version).ok_or(format!(
        "--target-version {}: expected major.minor.patch",
        args.target_version
    ))?;
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("read {}: {e}", p.display()));
    let file = read(&args.package)?;
    let package = if let Some(m) = package_manifest(&file) {
        if args.delta_from.is_some() {
            return Err("--delta-from: --package is already a signed package".into());
        }
        if m.version != target {
            return Err(format!(
                "--target-version {} but the package is signed for {}",
                version_string(target),
                version_string(m.version)
            ));
        }
        file
    } else {
        let signer = match &args.key {
            Some(k) => {
                PackageSigner::from_key_file(k, args.class.as_bytes()).map_err(|e| e.to_string())?
            }
            None => PackageSigner::demo().with_class(args.class.as_bytes()),
        };
        if args.key.is_none() && args.class.as_bytes() == DEMO_CLASS {
            println!("fota-server: signing with the public demo key (use --key for yours)");
        }
        match &args.delta_from {
            Some(old) => {
                let old = read(old)?;
                let patch = fota_delta::diff(&old, &file);
                signer.sign_delta(target, &old, &file, &patch)
            }
            None => signer.sign_image(target, &file),
        }
        .map_err(|e| e.to_string())?
    };
    let socket = UdpSocket::bind(&args.listen).map_err(|e| format!("bind {}: {e}", args.listen))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let full = package_manifest(&package).map_or(package.len() as u64, |m| u64::from(m.image_size));
    let mut cfg = ServerConfig::new(package, &version_string(target));
    cfg.full_image_len = full;
    cfg.mode = match args.mode {
        ModeArg::Auto => Mode::Auto,
        ModeArg::Push => Mode::Push,
        ModeArg::Pull => Mode::Pull,
    };
    cfg.preconditions.min_battery = args.min_battery;
    cfg.preconditions.min_signal_dbm = args.min_signal;
    cfg.preconditions.min_free_kib = args.min_free_memory;
    cfg.retry.max_retries = args.max_retries;
    cfg.retry.min_interval = seconds("--retry-interval", args.retry_interval)?;
    cfg.ack_timeout = seconds("--ack-timeout", args.ack_timeout)?;
    cfg.public_addr = args.public_addr;
    let package_len = cfg.package.len();
    if let Some(m) = package_manifest(&cfg.package) {
        println!(
            "fota-server: package {} for class {:?}: {} of a {} byte image, {} byte payload",
            version_string(m.version),
            String::from_utf8_lossy(m.class),
            if m.delta { "delta" } else { "full image" },
            m.image_size,
            m.payload_size
        );
    }
    let server = Arc::new(Mutex::new(Server::new(cfg, local)));
    println!(
        "fota-server: listening on {local}, target {}, {package_len} byte package at {}",
        version_string(target),
        server.lock().map(|s| s.package_uri()).unwrap_or_default()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (s, st) = (server.clone(), stop.clone());
    let worker = std::thread::spawn(move || server::run(socket, s, st));
    let mut last = String::new();
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(500));
        if let Ok(s) = server.lock() {
            let t = s.totals();
            let mut text = format!(
                "devices {} updated {} failed {} retries {} bytes on air {}\n",
                t.devices, t.updated, t.failed, t.retries, t.bytes_on_air
            );
            for d in s.status() {
                text.push_str(&format!(
                    "  {} {} state {:?} result {:?} version {} progress {} retries {} outcome {:?}\n",
                    d.endpoint,
                    d.phase,
                    d.state,
                    d.result,
                    d.version,
                    d.progress,
                    d.retries,
                    d.outcome
                ));
            }
            if text != last {
                print!("{text}");
                last = text;
            }
        }
    }
    match worker.join() {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err("server thread panicked".into()),
    }
}
