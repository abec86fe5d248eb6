//! The end-to-end FOTA demo: a server and simulated devices on loopback, over a lossy link.

use clap::{Parser, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lwm2m_fota::demo::{self, DemoOptions, DemoSummary, Forge};
use lwm2m_fota::server::{Mode, Outcome};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ForgeArg {
    /// Signed with another key: devices refuse it with Result 5.
    WrongKey,
    /// Signed for 0.9.0, below the running 1.0.0: anti-rollback, Result 6.
    OlderVersion,
    /// Signed for another device class: Result 6.
    WrongClass,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Push,
    Pull,
    Mixed,
}

/// Updates a fleet of simulated LwM2M devices over lossy UDP on 127.0.0.1.
///
/// A FOTA server, a seeded loss proxy and --devices simulated devices (each with file-backed
/// flash in a temporary directory, running 1.0.0) in one process; the server sends each a
/// signed package for 1.1.0 (a fota-delta patch unless --full-image). Exit status 0 only if
/// every device ends on the new image with Update Result 1; 1 otherwise; 2 on usage errors.
#[derive(Debug, Parser)]
#[command(version, about, long_about)]
struct Args {
    /// Number of simulated devices.
    #[arg(long, default_value_t = 8)]
    devices: usize,
    /// Percent of datagrams dropped in each direction.
    #[arg(long, default_value_t = 5.0)]
    loss: f64,
    /// Push (Block1 writes of /5/0/0), pull (Package URI), or half and half.
    #[arg(long, value_enum, default_value_t = ModeArg::Push)]
    mode: ModeArg,
    /// Devices that lose power mid-download and restart from flash.
    #[arg(long, default_value_t = 0)]
    power_cuts: usize,
    /// Old firmware file (default: a generated image).
    #[arg(long)]
    old: Option<PathBuf>,
    /// New firmware file (default: a generated image).
    #[arg(long)]
    new: Option<PathBuf>,
    /// Seed for the generated images and the loss.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Size in bytes of the generated old image.
    #[arg(long, default_value_t = 96 * 1024)]
    image_size: usize,
    /// Send the full new image instead of a fota-delta patch.
    #[arg(long)]
    full_image: bool,
    /// Print the summary as one JSON object (no progress bars).
    #[arg(long)]
    json: bool,
    /// Send a wrongly signed package to show the devices' checks (every device keeps its
    /// firmware; the exit status is then 1).
    #[arg(long, value_enum)]
    forge: Option<ForgeArg>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.power_cuts > args.devices {
        eprintln!(
            "fota-demo: --power-cuts ({}) exceeds --devices ({})",
            args.power_cuts, args.devices
        );
        return ExitCode::from(2);
    }
    let opts = DemoOptions {
        devices: args.devices,
        loss: args.loss.clamp(0.0, 90.0),
        mode: match args.mode {
            ModeArg::Push => Mode::Push,
            ModeArg::Pull => Mode::Pull,
            ModeArg::Mixed => Mode::Mixed,
        },
        power_cuts: args.power_cuts,
        old: args.old,
        new: args.new,
        image_size: args.image_size,
        seed: args.seed,
        delta: !args.full_image,
        forge: match args.forge {
            None => Forge::None,
            Some(ForgeArg::WrongKey) => Forge::WrongKey,
            Some(ForgeArg::OlderVersion) => Forge::OlderVersion,
            Some(ForgeArg::WrongClass) => Forge::WrongClass,
        },
        deadline: Duration::from_secs(120 + args.devices as u64 / 2),
        ..DemoOptions::default()
    };
    let package_len = match demo::images(&opts) {
        Ok((_, new)) => new.len() as u64,
        Err(e) => {
            eprintln!("fota-demo: {e}");
            return ExitCode::from(2);
        }
    };
    if !args.json {
        println!(
            "fota-demo: {} devices, {}% loss, {:?} mode, {} power cuts, {} byte image ({}), on 127.0.0.1",
            opts.devices,
            opts.loss,
            args.mode,
            opts.power_cuts,
            package_len,
            if opts.delta {
                "sent as a delta"
            } else {
                "sent in full"
            }
        );
    }
    let multi = MultiProgress::with_draw_target(if args.json {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let style =
        ProgressStyle::with_template("{prefix:>16} [{bar:30}] {bytes:>9}/{total_bytes:9} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    let aggregate = opts.devices > 16;
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    let total_bar = aggregate.then(|| {
        let b = multi.add(ProgressBar::new(package_len * opts.devices as u64));
        b.set_style(style.clone());
        b.set_prefix("fleet");
        b
    });
    let result = demo::run(&opts, |status, totals| {
        let package_len = totals.package_bytes.max(1);
        if let Some(b) = &total_bar {
            b.set_length(package_len * opts.devices as u64);
            b.set_position(status.iter().map(|d| d.progress).sum());
            b.set_message(format!(
                "{}/{} registered, {} updated, {} failed, {} retries",
                totals.devices, opts.devices, totals.updated, totals.failed, totals.retries
            ));
            return;
        }
        for d in status {
            let bar = bars.entry(d.endpoint.clone()).or_insert_with(|| {
                let b = multi.add(ProgressBar::new(package_len));
                b.set_style(style.clone());
                b.set_prefix(d.endpoint.clone());
                b
            });
            bar.set_length(package_len);
            bar.set_position(d.progress.min(package_len));
            let msg = match &d.outcome {
                Some(Outcome::Updated) => format!("updated to {}", d.version),
                Some(Outcome::AlreadyCurrent) => "already current".to_string(),
                Some(Outcome::Failed(why)) => format!("FAILED: {why}"),
                None => format!("{} (retries {})", d.phase, d.retries),
            };
            bar.set_message(msg);
        }
    });
    for b in bars.values() {
        b.finish();
    }
    if let Some(b) = total_bar {
        b.finish();
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fota-demo: {e}");
            return ExitCode::from(2);
        }
    };
    if args.json {
        println!("{}", json(&summary));
    } else {
        table(&summary);
    }
    if summary.updated == summary.devices {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn json(s: &DemoSummary) -> serde_json::Value {
    serde_json::json!({
        "devices": s.devices,
        "updated": s.updated,
        "failed": s.failed,
        "retries": s.retries,
        "bytes_on_air": s.bytes_on_air,
        "bytes_on_air_per_device": s.bytes_on_air / s.devices.max(1) as u64,
        "full_image_bytes": s.full_image_bytes,
        "seconds": (s.seconds * 1000.0).round() / 1000.0,
        "package_bytes": s.package_bytes,
        "new_image_bytes": s.new_image_bytes,
        "delta": s.delta,
        "datagrams_dropped": s.dropped,
        "success_rate": if s.devices == 0 { 0.0 } else { s.updated as f64 / s.devices as f64 },
    })
}

fn table(s: &DemoSummary) {
    println!();
    if s.per_device.len() <= 32 {
        println!(
            "{:<16} {:<6} {:>8} {:>7} {:>9} {:>7} {:>7} {:<8} {:<6}",
            "device", "mode", "on air", "retries", "reboots", "state", "result", "version", "flash"
        );
        for d in &s.per_device {
            println!(
                "{:<16} {:<6} {:>8} {:>7} {:>9} {:>7} {:>7} {:<8} {:<6}",
                d.status.endpoint,
                d.status
                    .delivery
                    .map_or("-".into(), |m| format!("{m:?}").to_lowercase()),
                d.status.bytes_on_air,
                d.status.retries,
                d.reboots,
                d.state as u8,
                d.result as u8,
                d.flash_version,
                if d.flash_is_new {
                    "new"
                } else if d.flash_is_old {
                    "old"
                } else {
                    "OTHER"
                },
            );
        }
        println!();
    }
    println!("devices           {}", s.devices);
    println!(
        "updated           {} ({:.1} %)",
        s.updated,
        100.0 * s.updated as f64 / s.devices.max(1) as f64
    );
    println!("failed            {}", s.failed);
    println!("retries           {}", s.retries);
    println!("datagrams dropped {}", s.dropped);
    println!(
        "package           {} bytes ({}; new image {} bytes)",
        s.package_bytes,
        if s.delta { "delta" } else { "full image" },
        s.new_image_bytes
    );
    println!(
        "bytes on air      {} ({:.2}x the full-image bytes {}; {} per device)",
        s.bytes_on_air,
        s.bytes_on_air as f64 / s.full_image_bytes.max(1) as f64,
        s.full_image_bytes,
        s.bytes_on_air / s.devices.max(1) as u64
    );
    println!("seconds           {:.2}", s.seconds);
    for d in s
        .per_device
        .iter()
        .filter(|d| !(d.flash_is_new && d.result as u8 == 1))
    {
        println!(
            "NOT UPDATED: {} ({:?})",
            d.status.endpoint, d.status.outcome
        );
    }
}
