//! `fota-delta`: build, apply and inspect delta patches.
//!
//! ```text
//! fota-delta diff OLD NEW PATCH [--format native|bsdiff40] [--interval LOG2]
//! fota-delta apply OLD PATCH OUT
//! fota-delta info PATCH
//! ```

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use fota_delta::{
    BSDIFF40_MAGIC, DiffOptions, Header, ImageIoError, MAGIC, NewImage, PATCHER_RAM, Patcher,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Images above this size get a progress bar.
const PROGRESS_MIN: u64 = 1 << 20;
/// Chunk size for feeding the patcher, like a CoAP block.
const FEED_CHUNK: usize = 1024;

#[derive(Parser)]
#[command(
    name = "fota-delta",
    version,
    about = "Delta patches for firmware updates"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Streaming range-coded format, applied on the device by the no_std patcher.
    Native,
    /// Classic bsdiff 4 format (bzip2), for Debian's bspatch.
    Bsdiff40,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build a patch turning OLD into NEW.
    Diff {
        /// Old image.
        old: PathBuf,
        /// New image.
        new: PathBuf,
        /// Patch to write.
        patch: PathBuf,
        /// Patch format.
        #[arg(long, value_enum, default_value = "native")]
        format: Format,
        /// Native only: checkpoint every 2^LOG2 new-image bytes (12..=31), 0 for none.
        #[arg(long, default_value_t = fota_delta::DEFAULT_INTERVAL_LOG2)]
        interval: u8,
    },
    /// Apply PATCH (native or BSDIFF40) to OLD, writing OUT.
    Apply {
        /// Old image.
        old: PathBuf,
        /// Patch.
        patch: PathBuf,
        /// New image to write.
        out: PathBuf,
    },
    /// Show a patch's format, sizes, digests and the device RAM it needs.
    Info {
        /// Patch.
        patch: PathBuf,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes through a temporary file in the target's directory, renamed into place on success.
fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), String>,
) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))?;
    let mut w = BufWriter::new(tmp);
    fill(&mut w)?;
    let tmp = w
        .into_inner()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

fn bar(len: u64, what: &str) -> Option<ProgressBar> {
    (len > PROGRESS_MIN).then(|| {
        let b = ProgressBar::new(len);
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_message(what.to_owned());
        b
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

struct Sink<'a>(&'a mut dyn Write);

impl NewImage for Sink<'_> {
    fn write(&mut self, data: &[u8]) -> Result<(), ImageIoError> {
        self.0.write_all(data).map_err(|_| ImageIoError)
    }
}

fn diff(old: &Path, new: &Path, patch: &Path, format: Format, interval: u8) -> Result<(), String> {
    let (o, n) = (read(old)?, read(new)?);
    if u32::try_from(o.len()).is_err() || u32::try_from(n.len()).is_err() {
        return Err("images of 4 GiB or more are not supported".into());
    }
    let out = match format {
        Format::Native => {
            if interval != 0 && !(12..=31).contains(&interval) {
                return Err(format!("--interval must be 0 or 12..=31, not {interval}"));
            }
            let pb = bar(n.len() as u64, "diff");
            let mut cb = |done: u64, _total: u64| {
                if let Some(b) = &pb {
                    b.set_position(done);
                }
            };
            let p = fota_delta::diff_with(
                &o,
                &n,
                DiffOptions {
                    interval_log2: interval,
                    progress: Some(&mut cb),
                },
            );
            if let Some(b) = &pb {
                b.finish_and_clear();
            }
            p
        }
        Format::Bsdiff40 => fota_delta::bsdiff40::diff(&o, &n),
    };
    write_atomic(patch, |w| {
        w.write_all(&out)
            .map_err(|e| format!("cannot write {}: {e}", patch.display()))
    })?;
    eprintln!(
        "{}: {} bytes ({:.2}% of the new image)",
        patch.display(),
        out.len(),
        100.0 * out.len() as f64 / n.len().max(1) as f64
    );
    Ok(())
}

fn apply(old: &Path, patch: &Path, out: &Path) -> Result<(), String> {
    let (o, p) = (read(old)?, read(patch)?);
    let bad = |e: fota_delta::Error| format!("{}: {e}", patch.display());
    if p.starts_with(BSDIFF40_MAGIC) {
        let n = fota_delta::bsdiff40::apply(&o, &p).map_err(bad)?;
        return write_atomic(out, |w| {
            w.write_all(&n)
                .map_err(|e| format!("cannot write {}: {e}", out.display()))
        });
    }
    if !p.starts_with(MAGIC) {
        return Err(format!(
            "{}: neither a native nor a BSDIFF40 patch",
            patch.display()
        ));
    }
    write_atomic(out, |w| {
        let mut sink = Sink(w);
        let mut patcher = Patcher::new();
        let pb = bar(p.len() as u64, "apply");
        let mut src = o.as_slice();
        for (i, chunk) in p.chunks(FEED_CHUNK).enumerate() {
            patcher.feed(chunk, &mut src, &mut sink).map_err(bad)?;
            if let Some(b) = &pb {
                b.set_position(((i + 1) * FEED_CHUNK).min(p.len()) as u64);
            }
        }
        patcher.finish(&mut src, &mut sink).map_err(bad)?;
        if let Some(b) = &pb {
            b.finish_and_clear();
        }
        Ok(())
    })
}

fn info(patch: &Path) -> Result<(), String> {
    let p = read(patch)?;
    if p.starts_with(BSDIFF40_MAGIC) {
        let (c, d, n) =
            fota_delta::bsdiff40::header(&p).map_err(|e| format!("{}: {e}", patch.display()))?;
        println!("format:        BSDIFF40 (bzip2)");
        println!("patch size:    {}", p.len());
        println!("new size:      {n}");
        println!(
            "blocks:        control {c}, diff {d}, extra {} bytes (compressed)",
            p.len() as u64 - 32 - c - d
        );
        println!(
            "device RAM:    not streamable (old and new image in RAM plus three bzip2 decoders)"
        );
        return Ok(());
    }
    let hb: &[u8; fota_delta::HEADER_LEN] = p
        .get(..fota_delta::HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| format!("{}: too short for a patch header", patch.display()))?;
    let h = Header::parse(hb).map_err(|e| format!("{}: {e}", patch.display()))?;
    println!(
        "format:        fota-delta native v{} (adaptive range coder, id {})",
        fota_delta::VERSION,
        fota_delta::COMPRESSION_RANGE_CODER
    );
    println!("patch size:    {}", p.len());
    println!("old size:      {}", h.old_size);
    println!("new size:      {}", h.new_size);
    println!("old sha256:    {}", hex(&h.old_sha256));
    println!("new sha256:    {}", hex(&h.new_sha256));
    match h.interval_log2 {
        0 => println!("checkpoints:   none (single block)"),
        l => println!("checkpoints:   every {} new-image bytes", 1u64 << l),
    }
    println!("device RAM:    {PATCHER_RAM} bytes (patcher state, fixed)");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Diff {
            old,
            new,
            patch,
            format,
            interval,
        } => diff(&old, &new, &patch, format, interval),
        Cmd::Apply { old, patch, out } => apply(&old, &patch, &out),
        Cmd::Info { patch } => info(&patch),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fota-delta: error: {e}");
            ExitCode::FAILURE
        }
    }
}
