//! Decoding and encoding allocate nothing: a counting global allocator (stats_alloc, no
//! `unsafe` here) watches a full typed walk, path checks and a nested encode.
//!
//! Runs without the test harness (`harness = false`) so no other thread allocates meanwhile.

use std::alloc::System;

use lwm2m_tlv::{Kind, Path, Records, Writer, check_path, validate};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn encode(buf: &mut [u8]) -> Result<usize, lwm2m_tlv::Error> {
    let mut w = Writer::new(buf);
    w.begin_instance(0)?;
    w.resource_str(0, "Open Mobile Alliance")?;
    w.resource_str(1, "Lightweight M2M Client")?;
    w.begin_multiple(7)?;
    w.resource_instance_i64(0, 3800)?;
    w.resource_instance_i64(1, 5000)?;
    w.end()?;
    w.resource_f64(20, 0.1)?;
    w.resource_bool(21, true)?;
    w.resource_objlnk(22, lwm2m_tlv::ObjLnk::new(3, 0))?;
    w.resource_time(13, 1_367_491_215)?;
    w.resource_opaque(300, &[0xab; 300])?;
    w.end()?;
    w.finish()
}

fn walk(records: Records<'_>) -> Result<u64, lwm2m_tlv::Error> {
    let mut acc = 0u64;
    for r in records {
        let r = r?;
        acc += match (r.kind(), r.id()) {
            (Kind::Resource, 0 | 1) => r.as_str()?.len() as u64,
            (Kind::Resource, 20) => r.as_f64()? as u64,
            (Kind::Resource, 21) => u64::from(r.as_bool()?),
            (Kind::Resource, 22) => u64::from(r.as_objlnk()?.object_id),
            (Kind::Resource, 13) => r.as_time()? as u64,
            (Kind::ResourceInstance, _) => r.as_u64()?,
            (Kind::Resource, _) => r.as_opaque()?.len() as u64,
            _ => walk(r.children())?,
        };
    }
    Ok(acc)
}

fn main() {
    let mut buf = vec![0u8; 1024];
    // Malformed inputs for the error paths, made before counting starts.
    let bad: Vec<Vec<u8>> = vec![
        vec![0xc8, 0x00],
        vec![0x03, 0x00, 0xc4, 0x01, 0xaa],
        vec![0xc3, 0x01, 0xff, 0xfe, 0xfd],
    ];

    let region = Region::new(GLOBAL);
    let n = encode(&mut buf).unwrap();
    let payload = &buf[..n];
    let sum = walk(Records::new(payload)).unwrap();
    let count = validate(payload).unwrap();
    let at_path = check_path(payload, Path::Instance(3, 0)).unwrap().count();
    let errors = bad
        .iter()
        .filter(|b| walk(Records::new(b)).is_err())
        .count();
    let stats = region.change();

    assert_eq!((count, at_path, errors), (11, 8, 3));
    assert!(sum > 0);
    assert_eq!(
        (
            stats.allocations,
            stats.reallocations,
            stats.bytes_allocated
        ),
        (0, 0, 0),
        "decoding or encoding allocated: {stats:?}"
    );
    println!("no_alloc: ok ({n} bytes encoded, {count} records decoded, 0 allocations)");
    println!("1 passed, 0 failed");
}
