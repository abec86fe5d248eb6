//! lwm2m-tlv benchmarks (issue figures: Wakaama parses the 121-byte Device object in ~1.2 µs,
//! the 65,749-byte payload at 27.6 MB/s into its tree, serialises it at 1.6 GB/s).
//!
//! `cargo bench -p benches --bench tlv`
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lwm2m_tlv::{Error, Kind, Node, Records, Writer};

/// The Device object instance of SPEC §2 as resource TLVs (121 bytes).
fn device_resources() -> Vec<u8> {
    let mut buf = vec![0u8; 256];
    let mut w = Writer::new(&mut buf);
    let write = |w: &mut Writer<'_>| -> Result<(), Error> {
        w.resource_str(0, "Open Mobile Alliance")?;
        w.resource_str(1, "Lightweight M2M Client")?;
        w.resource_str(2, "345000123")?;
        w.resource_str(3, "1.0")?;
        for (id, values) in [(6u16, &[1i64, 5][..]), (7, &[3800, 5000]), (8, &[125, 900])] {
            w.begin_multiple(id)?;
            for (i, v) in values.iter().enumerate() {
                w.resource_instance_i64(i as u16, *v)?;
            }
            w.end()?;
        }
        w.resource_i64(9, 100)?;
        w.resource_i64(10, 15)?;
        w.begin_multiple(11)?;
        w.resource_instance_i64(0, 0)?;
        w.end()?;
        w.resource_time(13, 1_367_491_215)?;
        w.resource_str(14, "+02:00")?;
        w.resource_str(16, "U")
    };
    write(&mut w).unwrap();
    let n = w.finish().unwrap();
    buf.truncate(n);
    assert_eq!(n, 121);
    buf
}

/// Typed walk of the Device object: strings checked as UTF-8, integers decoded.
fn walk_device(payload: &[u8]) -> Result<u64, Error> {
    let mut acc = 0u64;
    for r in Records::new(payload) {
        let r = r?;
        acc += match (r.kind(), r.id()) {
            (Kind::MultipleResource, _) => {
                let mut sum = 0u64;
                for ri in r.children() {
                    sum += ri?.as_i64()? as u64;
                }
                sum
            }
            (_, 0 | 1 | 2 | 3 | 14 | 16) => r.as_str()?.len() as u64,
            _ => r.as_i64()? as u64,
        };
    }
    Ok(acc)
}

const RESOURCES: u16 = 2000;

fn value(i: u16) -> String {
    let s = format!("resource value number {i:07}");
    debug_assert_eq!(s.len(), 29);
    s
}

fn encode_large(buf: &mut [u8], values: &[String]) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    w.begin_instance(0)?;
    for (i, v) in values.iter().enumerate() {
        w.resource_str(i as u16, v)?;
    }
    w.end()?;
    w.finish()
}

/// Decode of the large payload: every record, every string checked as UTF-8.
fn decode_large(payload: &[u8]) -> Result<usize, Error> {
    let mut total = 0;
    for inst in Records::new(payload) {
        for r in inst?.children() {
            total += r?.as_str()?.len();
        }
    }
    Ok(total)
}

fn benches(c: &mut Criterion) {
    let device = device_resources();
    let mut g = c.benchmark_group("tlv/device");
    g.throughput(Throughput::Bytes(device.len() as u64));
    g.bench_function("typed_walk_121B", |b| {
        b.iter(|| walk_device(black_box(&device)).unwrap())
    });
    g.bench_function("owned_tree_121B", |b| {
        b.iter(|| Node::parse_all(black_box(&device)).unwrap())
    });
    g.finish();

    let values: Vec<String> = (0..RESOURCES).map(value).collect();
    let mut buf = vec![0u8; 70_000];
    let n = encode_large(&mut buf, &values).unwrap();
    assert_eq!(n, 65_749);
    let payload = buf[..n].to_vec();
    assert_eq!(decode_large(&payload).unwrap(), 29 * usize::from(RESOURCES));

    let mut g = c.benchmark_group("tlv/large_65749B");
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function("decode_typed", |b| {
        b.iter(|| decode_large(black_box(&payload)).unwrap())
    });
    g.bench_function("decode_owned_tree", |b| {
        b.iter(|| Node::parse_all(black_box(&payload)).unwrap())
    });
    g.bench_function("encode", |b| {
        b.iter(|| encode_large(black_box(&mut buf), black_box(&values)).unwrap())
    });
    g.finish();
}

criterion_group!(tlv, benches);
criterion_main!(tlv);
