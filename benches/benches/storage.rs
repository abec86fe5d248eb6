//! Slot-writer throughput through `SimFlash` against raw `SimFlash` writes of the same data
//! (goal: at most 1.1x the raw time), and erases per sector per update (goal: 1).
//!
//! `cargo bench -p benches --bench storage`
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fota_storage::boot::boot;
use fota_storage::embedded_storage::nor_flash::NorFlash;
use fota_storage::sim::SimFlash;
use fota_storage::{Layout, Manifest, PackageIdentity, Region, SlotWriter, Storage};

const SECTOR: usize = 4096;
const SLOT: u32 = 256 * 1024;
type Flash = SimFlash<8, SECTOR>;

fn setup() -> (Flash, Layout) {
    let f = Flash::new(2 * 64 + 1 + 2);
    let l = Layout::new(
        &f,
        Region::new(0, SLOT),
        Region::new(SLOT, SLOT + SECTOR as u32),
        Region::new(2 * SLOT + SECTOR as u32, 2 * SECTOR as u32),
    )
    .unwrap();
    (f, l)
}

fn image() -> Vec<u8> {
    (0..SLOT)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Raw: the caller erases each sector and writes aligned chunks itself.
fn raw(f: &mut Flash, base: u32, img: &[u8], chunk: usize) {
    let mut at = 0u32;
    for c in img.chunks(chunk) {
        let end = at + c.len() as u32;
        // Erase every sector this chunk reaches first.
        let mut s = at.div_ceil(SECTOR as u32) * SECTOR as u32;
        if at.is_multiple_of(SECTOR as u32) {
            s = at;
        }
        while s < end {
            f.erase(base + s, base + s + SECTOR as u32).unwrap();
            s += SECTOR as u32;
        }
        f.write(base + at, c).unwrap();
        at = end;
    }
}

fn writer(f: &mut Flash, l: &Layout, img: &[u8], chunk: usize) {
    let mut w = SlotWriter::new(l, l.staging(), l.max_image_size());
    for c in img.chunks(chunk) {
        w.write(f, c).unwrap();
    }
    w.flush(f).unwrap();
}

/// Median times of raw and writer runs taken alternately (round by round), so that a loaded
/// machine slows both alike; printed as the ratio the goal is about.
fn interleaved_ratio(f: &mut Flash, l: &Layout, img: &[u8], chunk: usize) {
    let (mut raw_t, mut writer_t) = (Vec::new(), Vec::new());
    for _ in 0..301 {
        let t = std::time::Instant::now();
        raw(f, l.staging().offset, black_box(img), chunk);
        raw_t.push(t.elapsed());
        let t = std::time::Instant::now();
        writer(f, l, black_box(img), chunk);
        writer_t.push(t.elapsed());
    }
    raw_t.sort();
    writer_t.sort();
    let (r, w) = (raw_t[150], writer_t[150]);
    eprintln!(
        "interleaved medians, {chunk}-byte chunks: raw {r:?}, slot writer {w:?}, ratio {:.2}",
        w.as_secs_f64() / r.as_secs_f64()
    );
}

fn throughput(c: &mut Criterion) {
    let (mut f, l) = setup();
    let img = image();
    for chunk in [1024usize, 64] {
        interleaved_ratio(&mut f, &l, &img, chunk);
    }
    let mut g = c.benchmark_group("storage/write-256KiB");
    g.throughput(Throughput::Bytes(img.len() as u64));
    for chunk in [1024usize, 64] {
        g.bench_with_input(
            BenchmarkId::new("raw-simflash", chunk),
            &chunk,
            |b, &chunk| b.iter(|| raw(&mut f, l.staging().offset, black_box(&img), chunk)),
        );
        g.bench_with_input(
            BenchmarkId::new("slot-writer", chunk),
            &chunk,
            |b, &chunk| b.iter(|| writer(&mut f, &l, black_box(&img), chunk)),
        );
    }
    // Unaligned block sizes (the writer buffers; raw flash cannot take them).
    g.bench_with_input(
        BenchmarkId::new("slot-writer", 1000),
        &1000usize,
        |b, &chunk| b.iter(|| writer(&mut f, &l, black_box(&img), chunk)),
    );
    g.finish();
}

/// A whole update (download in 1 KiB blocks with a journal record per block, verify, swap,
/// confirm); reports the erases of every staging and active sector.
fn update(c: &mut Criterion) {
    let img = image();
    let m = Manifest {
        version: 2,
        image_size: img.len() as u32,
        payload_size: img.len() as u32,
        digest: fota_storage::manifest::sha256(&img),
        base: None,
        delta: false,
        class: b"bench",
    };
    let run = |f: Flash, l: Layout| {
        let mut s = Storage::mount(f, l).unwrap();
        s.begin(PackageIdentity::Push { id: b"bench" }).unwrap();
        for block in img.chunks(1024) {
            s.write(block).unwrap();
            s.sync(&[]).unwrap();
        }
        s.finish().unwrap();
        s.mark_pending(&m).unwrap();
        let mut f = s.release();
        boot(&mut f, &l, &mut [0u8; 1024]).unwrap();
        let mut s = Storage::mount(f, l).unwrap();
        s.confirm().unwrap();
        s.release()
    };
    let (f, l) = setup();
    let done = run(f, l);
    let counts = done.erase_counts();
    let staging: Vec<u32> = counts[65..129].to_vec();
    let active: Vec<u32> = counts[..64].to_vec();
    let download_max = {
        let (f, l) = setup();
        let mut s = Storage::mount(f, l).unwrap();
        s.begin(PackageIdentity::Push { id: b"bench" }).unwrap();
        for block in img.chunks(1024) {
            s.write(block).unwrap();
            s.sync(&[]).unwrap();
        }
        s.finish().unwrap();
        let f = s.release();
        *f.erase_counts()[64..129].iter().max().unwrap()
    };
    eprintln!(
        "erases per staging sector during the download: {download_max} (max); over the whole update incl. swap: staging max {}, active max {} (swap: 1 per active sector, 2 per staging sector)",
        staging.iter().max().unwrap(),
        active.iter().max().unwrap()
    );
    let mut g = c.benchmark_group("storage/update-256KiB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(img.len() as u64));
    g.bench_function("download-verify-swap-confirm", |b| {
        b.iter_batched(setup, |(f, l)| run(f, l), criterion::BatchSize::LargeInput)
    });
    g.finish();
}

criterion_group!(benches, throughput, update);
criterion_main!(benches);
