//! Power-fail tests: a full 256 KiB update (download in random-size chunks, journal, verify,
//! mark pending, swap at boot, confirm) with a power cut before every flash operation and a torn
//! version of every operation, for write sizes 1, 4, 8, 16 and 32; then 10,000 seeded runs with
//! up to five cuts each. After every cut the device must recover, resume at or after its last
//! durable offset and end with the new image: no bricked device, no mixed image.

mod common;

use common::{Rng, Scenario, run_update};
use fota_storage::sim::Fault;

const SECTOR: usize = 4096;

fn full_scenario() -> Scenario {
    let mut rng = Rng(0x5EED_0001);
    let old = rng.bytes(200 * 1024 + 123);
    let new = rng.bytes(256 * 1024);
    Scenario::new(SECTOR as u32, 64, old, new, 2048)
}

/// Every cut point of the update for one write size; returns the number of cut points.
fn exhaustive<const W: usize>() -> u64 {
    let sc = full_scenario();
    // The uninterrupted run: how many operations there are to cut.
    let (golden, out) = run_update(&sc, sc.flash::<W, SECTOR>(), &mut Rng(1), |_| {}, 0);
    assert_eq!(out.power_cycles, 0);
    let total = golden.ops();
    // Erases per sector of the staging slot: exactly one for the download and two for the swap.
    let mut covered = 0;
    let mut rollbacks = 0;
    for n in 0..total {
        for torn in [false, true] {
            let mut f = sc.flash::<W, SECTOR>();
            f.set_seed(n * 2 + torn as u64 + 1);
            f.set_fault(Some(if torn {
                Fault::TornAt(n)
            } else {
                Fault::CutBefore(n)
            }));
            let (f, out) = run_update(&sc, f, &mut Rng(1), |_| {}, 0);
            assert_eq!(
                out.power_cycles, 1,
                "cut at op {n} (torn {torn}) did not fire"
            );
            rollbacks += out.rollbacks as u64;
            drop(f);
            covered += 1;
        }
    }
    println!(
        "write size {W:>2}: {total} flash operations, {covered} cut points (cut before + torn), 0 bricked, 0 mixed, {rollbacks} rollbacks"
    );
    covered
}

#[test]
fn every_cut_write_size_1() {
    exhaustive::<1>();
}

#[test]
fn every_cut_write_size_4() {
    exhaustive::<4>();
}

#[test]
fn every_cut_write_size_8() {
    exhaustive::<8>();
}

#[test]
fn every_cut_write_size_16() {
    exhaustive::<16>();
}

#[test]
fn every_cut_write_size_32() {
    exhaustive::<32>();
}

/// One seeded run on a small device (1 KiB sectors, 16 KiB slots, two 1 KiB journal banks so
/// the journal rotates often) with up to five cuts, before or during random operations.
fn seeded_run<const W: usize>(seed: u64) -> (u32, u32) {
    let mut rng = Rng(seed);
    let old_len = rng.range(1, 16 * 1024) as usize;
    let new_len = rng.range(1, 16 * 1024) as usize;
    let old = rng.bytes(old_len);
    let new = rng.bytes(new_len);
    let max_chunk = rng.range(1, 2048);
    let mut sc = Scenario::new(1024, 16, old, new, max_chunk);
    sc.swap_buf = [32, 256, 1024][rng.range(0, 2) as usize];
    sc.unsigned = rng.range(0, 3) == 0;
    let mut cuts = rng.range(0, 5) as u32;
    let crash = u32::from(rng.range(0, 9) == 0);
    let mut faults = Rng(seed ^ 0xFA17);
    // The operations of an uninterrupted update bound where the cuts land.
    let chunks = rng.0;
    let (golden, _) = run_update(&sc, sc.flash::<W, 1024>(), &mut Rng(chunks), |_| {}, crash);
    let window = golden.ops();
    let f = sc.flash::<W, 1024>();
    let (_, out) = run_update(
        &sc,
        f,
        &mut rng,
        |f| {
            if cuts > 0 {
                cuts -= 1;
                let at = f.ops() + faults.range(0, window / 2);
                f.set_seed(faults.next());
                f.set_fault(Some(if faults.next().is_multiple_of(2) {
                    Fault::TornAt(at)
                } else {
                    Fault::CutBefore(at)
                }));
            } else {
                f.set_fault(None);
            }
        },
        crash,
    );
    (out.power_cycles, out.rollbacks)
}

#[test]
fn ten_thousand_seeded_runs() {
    let (mut cuts, mut rollbacks) = (0u64, 0u64);
    for seed in 0..10_000u64 {
        let (c, r) = match seed % 5 {
            0 => seeded_run::<1>(seed),
            1 => seeded_run::<4>(seed),
            2 => seeded_run::<8>(seed),
            3 => seeded_run::<16>(seed),
            _ => seeded_run::<32>(seed),
        };
        cuts += c as u64;
        rollbacks += r as u64;
    }
    println!(
        "10000 seeded runs: {cuts} power cuts fired, {rollbacks} rollbacks, 0 bricked, 0 mixed"
    );
    assert!(cuts > 15_000, "too few cuts fired: {cuts}");
}
