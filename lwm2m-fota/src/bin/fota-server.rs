//! The FOTA server on its own: devices register, and each gets an update job for the package.

use clap::{Parser, ValueEnum};
use lwm2m_fota::server::{self, Mode, Server, ServerConfig};
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Auto,
    Push,
    Pull,
}

/// An LwM2M FOTA server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5683")]
    listen: String,
    /// The package (full image or delta).
    #[arg(long)]
    package: PathBuf,
    /// Version the devices must end on (/3/0/3).
    #[arg(long)]
    target_version: String,
    /// Delivery: push when the device allows it (auto), or forced.
    #[arg(long, value_enum, default_value_t = ModeArg::Auto)]
    mode: ModeArg,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let package = match std::fs::read(&args.package) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("fota-server: read {}: {e}", args.package.display());
            return ExitCode::FAILURE;
        }
    };
    let socket = match UdpSocket::bind(&args.listen) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fota-server: bind {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let local = socket.local_addr().expect("bound socket has an address");
    let mut cfg = ServerConfig::new(package, &args.target_version);
    cfg.mode = match args.mode {
        ModeArg::Auto => Mode::Auto,
        ModeArg::Push => Mode::Push,
        ModeArg::Pull => Mode::Pull,
    };
    let server = Arc::new(Mutex::new(Server::new(cfg, local)));
    println!(
        "fota-server: listening on {local}, package at {}",
        server.lock().map(|s| s.package_uri()).unwrap_or_default()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (s, st) = (server.clone(), stop.clone());
    let worker = std::thread::spawn(move || server::run(socket, s, st));
    let mut last = String::new();
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_secs(1));
        if let Ok(s) = server.lock() {
            let t = s.totals();
            let line = format!(
                "devices {} updated {} failed {} retries {} bytes on air {}",
                t.devices, t.updated, t.failed, t.retries, t.bytes_on_air
            );
            if line != last {
                println!("{line}");
                for d in s.status() {
                    println!(
                        "  {} {} state {:?} result {:?} version {} progress {}",
                        d.endpoint, d.phase, d.state, d.result, d.version, d.progress
                    );
                }
                last = line;
            }
        }
    }
    match worker.join() {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("fota-server: {e}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    }
}
