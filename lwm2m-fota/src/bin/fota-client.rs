//! One simulated LwM2M device that registers with any LwM2M server and takes firmware updates.

use clap::Parser;
use lwm2m_fota::client::{Config, Event};
use lwm2m_fota::driver::DeviceRunner;
use lwm2m_fota::server::{PackageSigner, parse_version};
use lwm2m_fota::sim::SimDevice;
use lwm2m_fota::{client::uri_authority, image};
use std::net::{ToSocketAddrs, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// A simulated LwM2M device with file-backed flash.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// LwM2M server, `coap://HOST:PORT`.
    #[arg(long, default_value = "coap://127.0.0.1:5683")]
    server: String,
    /// Endpoint name.
    #[arg(long, default_value = "fota-client")]
    endpoint: String,
    /// Flash directory (created with a generated 1.0.0 image when empty; the device then trusts
    /// packages signed with the demo key for class `lwm2m-fota-sim`).
    #[arg(long)]
    flash: PathBuf,
    /// Factory image when the flash directory is empty (default: a generated 64 KiB image).
    #[arg(long)]
    image: Option<PathBuf>,
    /// Version of the factory image, major.minor.patch.
    #[arg(long, default_value = "1.0.0")]
    firmware_version: String,
    /// Vendor's Ed25519 public key (64 hex digits) provisioned when the flash directory is
    /// empty (default: the public demo key).
    #[arg(long)]
    public_key: Option<String>,
    /// Device class id provisioned when the flash directory is empty.
    #[arg(long, default_value = "lwm2m-fota-sim")]
    class: String,
    /// Local UDP port (0: any).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Registration lifetime in seconds.
    #[arg(long, default_value_t = 300)]
    lifetime: u32,
    /// Exit after this many seconds (0: run until killed).
    #[arg(long, default_value_t = 0)]
    exit_after: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fota-client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let auth = uri_authority(&args.server).ok_or("--server must be coap://HOST:PORT")?;
    let server = auth
        .to_socket_addrs()
        .map_err(|e| format!("resolve {auth}: {e}"))?
        .next()
        .ok_or(format!("resolve {auth}: no address"))?;
    if !SimDevice::is_provisioned(&args.flash) {
        // Factory state: the image, its version and the trust anchor.
        let img = match &args.image {
            Some(p) => std::fs::read(p).map_err(|e| format!("read {}: {e}", p.display()))?,
            None => image::generate_body(1, 64 * 1024),
        };
        let version = parse_version(&args.firmware_version)
            .ok_or("--firmware-version: expected major.minor.patch")?;
        let key = match &args.public_key {
            Some(h) => hex32(h).ok_or("--public-key: 64 hex digits")?,
            None => PackageSigner::demo().public_key(),
        };
        SimDevice::create_with(&args.flash, &img, version, &key, args.class.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let socket = UdpSocket::bind(("127.0.0.1", args.port)).map_err(|e| format!("bind: {e}"))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let mut cfg = Config::new(&args.endpoint).ok_or("--endpoint: at most 32 bytes")?;
    cfg.lifetime = args.lifetime;
    let mut runner =
        DeviceRunner::new(socket, server, &args.flash, cfg).map_err(|e| e.to_string())?;
    println!("fota-client: {} on {local}, server {server}", args.endpoint);
    let start = std::time::Instant::now();
    loop {
        for e in runner
            .step(Duration::from_millis(200))
            .map_err(|e| e.to_string())?
        {
            match e {
                Event::StateChanged { state, result } => {
                    println!(
                        "state {} result {} ({state:?}, {result:?})",
                        state as u8, result as u8
                    )
                }
                Event::Registered => println!("registered"),
                Event::Reboot => println!("rebooting into the new image"),
            }
        }
        if args.exit_after > 0 && start.elapsed() >= Duration::from_secs(args.exit_after) {
            runner
                .deregister(Duration::from_secs(2))
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
    }
}

fn hex32(text: &str) -> Option<[u8; 32]> {
    let t = text.trim().as_bytes();
    if t.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(t.chunks_exact(2)) {
        *o = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}
