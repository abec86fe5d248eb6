//! Delta patches on every corpus pair, side by side in one run: fota-delta (native format,
//! streaming patcher fed 1 KiB chunks), the qbsdiff crate and Debian's bsdiff/bspatch (when
//! installed). Prints a patch-size table, then criterion measures diff and apply times.
//!
//! `cargo bench -p benches --bench delta` (corpus from `$FOTA_CORPUS` or `../shared/corpus`).
//! The 5 MB pydantic-core pair's diffs take seconds each: its diff group is timed once per tool
//! (printed in the table) unless `FOTA_BENCH_FULL=1`.
#![allow(missing_docs)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

struct Pair {
    name: String,
    dir: PathBuf,
    old: Vec<u8>,
    new: Vec<u8>,
}

fn corpus() -> Vec<Pair> {
    let dir = std::env::var_os("FOTA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("delta bench: no corpus at {}", dir.display());
        return Vec::new();
    };
    let mut pairs: Vec<Pair> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("old.bin").is_file() && p.join("new.bin").is_file())
        .map(|p| Pair {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            old: std::fs::read(p.join("old.bin")).unwrap(),
            new: std::fs::read(p.join("new.bin")).unwrap(),
            dir: p,
        })
        .collect();
    pairs.sort_by(|a, b| a.name.cmp(&b.name));
    pairs
}

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn debian_bsdiff(pair: &Pair, patch: &Path) {
    let st = Command::new("bsdiff")
        .arg(pair.dir.join("old.bin"))
        .arg(pair.dir.join("new.bin"))
        .arg(patch)
        .status();
    assert!(st.unwrap().success());
}

fn debian_bspatch(pair: &Pair, patch: &Path, out: &Path) {
    let st = Command::new("bspatch")
        .arg(pair.dir.join("old.bin"))
        .arg(out)
        .arg(patch)
        .status();
    assert!(st.unwrap().success());
}

fn ours_apply(old: &[u8], patch: &[u8]) -> Vec<u8> {
    let mut p = fota_delta::Patcher::new();
    let mut out = Vec::with_capacity(old.len());
    let mut src = old;
    for c in patch.chunks(1024) {
        p.push(c, &mut src, &mut out).unwrap();
    }
    p.finish(&mut src, &mut out).unwrap();
    out
}

fn qbsdiff_diff(old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut patch = Vec::new();
    qbsdiff::Bsdiff::new(old, new)
        .compare(Cursor::new(&mut patch))
        .unwrap();
    patch
}

fn qbsdiff_apply(old: &[u8], patch: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    qbsdiff::Bspatch::new(patch)
        .unwrap()
        .apply(old, Cursor::new(&mut out))
        .unwrap();
    out
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn delta(c: &mut Criterion) {
    let pairs = corpus();
    let debian = has("bsdiff") && has("bspatch");
    let full = std::env::var_os("FOTA_BENCH_FULL").is_some();
    let tmp = std::env::temp_dir().join(format!("fota-delta-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();

    // Sizes (and one timed diff per tool) first, all in this run.
    println!(
        "\n| pair | fota-delta native | Debian bsdiff | qbsdiff | native / Debian | one-shot diff time native / qbsdiff / Debian |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    let mut patches = Vec::new();
    for pair in &pairs {
        let (ours, t_ours) = timed(|| fota_delta::diff(&pair.old, &pair.new));
        assert!(ours_apply(&pair.old, &ours) == pair.new, "{}", pair.name);
        let (qb, t_qb) = timed(|| qbsdiff_diff(&pair.old, &pair.new));
        assert!(qbsdiff_apply(&pair.old, &qb) == pair.new);
        let deb = tmp.join(format!("{}.bsdiff", pair.name));
        let (deb_len, t_deb) = if debian {
            let ((), t) = timed(|| debian_bsdiff(pair, &deb));
            (std::fs::metadata(&deb).unwrap().len() as usize, Some(t))
        } else {
            (0, None)
        };
        let ratio = if deb_len > 0 {
            format!("{:.3}", ours.len() as f64 / deb_len as f64)
        } else {
            "–".into()
        };
        println!(
            "| {} | {} | {} | {} | {} | {:.2?} / {:.2?} / {} |",
            pair.name,
            ours.len(),
            if debian {
                deb_len.to_string()
            } else {
                "–".into()
            },
            qb.len(),
            ratio,
            t_ours,
            t_qb,
            t_deb.map_or("–".into(), |t| format!("{t:.2?}")),
        );
        patches.push((ours, qb, deb));
    }

    let mut g = c.benchmark_group("delta/diff");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for pair in &pairs {
        if pair.new.len() > 2_000_000 && !full {
            continue;
        }
        g.bench_function(BenchmarkId::new("fota-delta", &pair.name), |b| {
            b.iter(|| fota_delta::diff(&pair.old, &pair.new))
        });
        g.bench_function(BenchmarkId::new("qbsdiff", &pair.name), |b| {
            b.iter(|| qbsdiff_diff(&pair.old, &pair.new))
        });
        if debian {
            let out = tmp.join("bench.bsdiff");
            g.bench_function(BenchmarkId::new("debian-bsdiff", &pair.name), |b| {
                b.iter(|| debian_bsdiff(pair, &out))
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("delta/apply");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (pair, (ours, qb, deb)) in pairs.iter().zip(&patches) {
        g.bench_function(BenchmarkId::new("fota-delta", &pair.name), |b| {
            b.iter(|| ours_apply(&pair.old, ours))
        });
        g.bench_function(BenchmarkId::new("qbsdiff", &pair.name), |b| {
            b.iter(|| qbsdiff_apply(&pair.old, qb))
        });
        if debian {
            let out = tmp.join("bench.out");
            g.bench_function(BenchmarkId::new("debian-bspatch", &pair.name), |b| {
                b.iter(|| debian_bspatch(pair, deb, &out))
            });
        }
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&tmp);
}

criterion_group!(benches, delta);
criterion_main!(benches);
