//! Property tests: journal operations are atomic under a cut or torn write at any point, the
//! journal mounts from any flash content, manifests round-trip and never panic the parser.

use fota_storage::journal::{BootRecord, BootState, IdentityDigest, Journal, PackageIdentity};
use fota_storage::sim::{Fault, SimFlash};
use fota_storage::{Layout, Manifest, Region, SignedManifest};
use proptest::prelude::*;

type Flash = SimFlash<8, 256>;

fn layout(f: &Flash) -> Layout {
    // Banks are 1 KiB (4 sectors); three of them.
    Layout::new(
        f,
        Region::new(0, 512),
        Region::new(512, 768),
        Region::new(1280, 3072),
    )
    .unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    Begin(Option<(Vec<u8>, Vec<u8>)>),
    Progress(u32, Vec<u8>),
    Boot(u8, u32, u32, u32),
    MinVersion(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => proptest::option::of((
            proptest::collection::vec(any::<u8>(), 0..255),
            proptest::collection::vec(any::<u8>(), 0..32)
        ))
        .prop_map(Op::Begin),
        6 => (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..128))
            .prop_map(|(d, c)| Op::Progress(d, c)),
        2 => (0u8..7, any::<u32>(), any::<u32>(), any::<u32>())
            .prop_map(|(s, a, b, c)| Op::Boot(s, a, b, c)),
        1 => any::<u32>().prop_map(Op::MinVersion),
    ]
}

fn state(s: u8) -> BootState {
    [
        BootState::Idle,
        BootState::Pending,
        BootState::Swapping,
        BootState::Testing,
        BootState::Confirmed,
        BootState::Reverting,
        BootState::RolledBack,
    ][s as usize]
}

/// Everything a journal exposes, owned.
#[derive(Debug, Clone, PartialEq)]
struct View {
    identity: Option<IdentityDigest>,
    durable: u32,
    checkpoint: Vec<u8>,
    boot: BootRecord,
    min: u32,
}

fn view(j: &Journal) -> View {
    View {
        identity: j.identity(),
        durable: j.durable(),
        checkpoint: j.checkpoint().to_vec(),
        boot: j.boot(),
        min: j.min_version(),
    }
}

fn apply(j: &mut Journal, f: &mut Flash, op: &Op) -> Result<(), fota_storage::Error> {
    match op {
        Op::Begin(None) => j.begin(f, None),
        Op::Begin(Some((uri, etag))) => j.begin(f, Some(PackageIdentity::Pull { uri, etag })),
        Op::Progress(d, c) => {
            if j.identity().is_none() {
                return Ok(());
            }
            j.record_progress(f, *d, c)
        }
        Op::Boot(s, a, b, c) => j.set_boot(
            f,
            BootRecord {
                state: state(*s),
                step: *a,
                image_size: *b,
                version: *c,
            },
        ),
        Op::MinVersion(v) => j.raise_min_version(f, *v),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// After every operation a remount shows exactly the journal's state; a cut or torn write
    /// during the next operation leaves the state before or after it, nothing else.
    #[test]
    fn journal_is_atomic(ops in proptest::collection::vec(op(), 1..60), cut in any::<u64>(), torn in any::<bool>()) {
        let mut f = Flash::new(17);
        let l = layout(&f);
        let mut j = Journal::mount(&mut f, &l).unwrap();
        // Every anti-rollback value the operations write: the counter is always one of them.
        let mut written = vec![0];
        for (i, o) in ops.iter().enumerate() {
            let before = view(&j);
            match o {
                Op::MinVersion(v) | Op::Boot(4, _, _, v) => written.push(*v),
                _ => {}
            }
            if i == ops.len() - 1 {
                // Cut somewhere inside the last operation (it may rotate: several flash ops).
                let at = f.ops() + cut % 8;
                f.set_seed(cut | 1);
                f.set_fault(Some(if torn { Fault::TornAt(at) } else { Fault::CutBefore(at) }));
                let mut after_j = j.clone();
                let mut shadow = f.clone();
                shadow.set_fault(None);
                apply(&mut after_j, &mut shadow, o).unwrap();
                let after = view(&after_j);
                let r = apply(&mut j, &mut f, o);
                f.power_on();
                let now = view(&Journal::mount(&mut f, &l).unwrap());
                prop_assert!(now.min >= before.min && written.contains(&now.min), "counter {}", now.min);
                if r.is_ok() {
                    prop_assert_eq!(now, after);
                } else {
                    prop_assert!(now == before || now == after, "state after cut: {:?}", now);
                }
                // And it keeps working after the cut.
                let mut j2 = Journal::mount(&mut f, &l).unwrap();
                j2.raise_min_version(&mut f, u32::MAX).unwrap();
                prop_assert_eq!(Journal::mount(&mut f, &l).unwrap().min_version(), u32::MAX);
            } else {
                apply(&mut j, &mut f, o).unwrap();
                let now = view(&Journal::mount(&mut f, &l).unwrap());
                prop_assert_eq!(&now, &view(&j));
                prop_assert!(now.min >= before.min && written.contains(&now.min), "counter {}", now.min);
            }
        }
    }

    /// Whatever the state area holds, mounting returns (no panic) and appending works after.
    #[test]
    fn journal_mounts_any_content(content in proptest::collection::vec(any::<u8>(), 3072), progress in any::<u32>()) {
        let mut f = Flash::new(17);
        let l = layout(&f);
        f.as_bytes_mut()[1280..].copy_from_slice(&content);
        let mut j = Journal::mount(&mut f, &l).unwrap();
        j.begin(&mut f, Some(PackageIdentity::Push { id: b"x" })).unwrap();
        j.record_progress(&mut f, progress, b"cp").unwrap();
        let j = Journal::mount(&mut f, &l).unwrap();
        prop_assert_eq!(j.durable(), progress);
        prop_assert_eq!(j.checkpoint(), b"cp");
    }

    /// Any bytes: the parser answers with a manifest or a typed error.
    #[test]
    fn manifest_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = SignedManifest::parse(&bytes);
    }

    /// encode → parse gives the same fields back.
    #[test]
    fn manifest_round_trips(version in any::<u32>(), size in any::<u32>(), payload in any::<u32>(),
                            digest in any::<[u8; 32]>(), base in proptest::option::of((any::<u32>(), any::<[u8; 32]>())),
                            delta in any::<bool>(), class in proptest::collection::vec(any::<u8>(), 0..=32),
                            sig in proptest::collection::vec(any::<u8>(), 64)) {
        let m = Manifest { version, image_size: size, payload_size: payload, digest, base, delta: delta && base.is_some(), class: &class };
        let mut buf = [0u8; 300];
        let n = m.encode(&mut buf).unwrap();
        buf[n..n + 64].copy_from_slice(&sig);
        let (p, used) = SignedManifest::parse(&buf[..n + 64]).unwrap();
        prop_assert_eq!(used, n + 64);
        prop_assert_eq!(p.manifest, m);
        prop_assert_eq!(p.signature, &sig[..]);
        prop_assert_eq!(p.signed, &buf[..n]);
    }
}

/// The case `journal_is_atomic` shrank to (no cut needed): the bank fills up, so raising the
/// counter while a boot record is confirmed rotates first. The rotation folded the confirmed
/// version (3,117,858,956) into the counter and wrote it to flash, then the raise overwrote the
/// counter in RAM with its smaller value (3), and setting the boot record to idle made the RAM
/// value what it had been before the confirmation: remounting then showed 3,117,858,956 where
/// the journal in RAM held 3.
#[test]
fn regression_rotation_keeps_confirmed_floor() {
    let z = |n: usize| vec![0u8; n];
    let idle = Op::Boot(0, 0, 0, 0);
    let ops = [
        idle.clone(),
        idle.clone(),
        idle.clone(),
        Op::Begin(None),
        idle.clone(),
        idle.clone(),
        Op::Begin(None),
        Op::Begin(Some((z(49), z(13)))),
        Op::Progress(0, z(69)),
        idle.clone(),
        Op::Progress(0, z(37)),
        Op::Progress(0, z(5)),
        Op::MinVersion(1),
        Op::Progress(0, z(29)),
        Op::Progress(0, z(61)),
        Op::Progress(0, z(69)),
        Op::MinVersion(2),
        Op::Begin(None),
        idle.clone(),
        idle.clone(),
        idle.clone(),
        idle.clone(),
        idle.clone(),
        Op::Boot(4, 0, 0, 3_117_858_956),
        Op::MinVersion(3),
        idle.clone(),
        Op::Begin(None),
    ];
    let mut f = Flash::new(17);
    let l = layout(&f);
    let mut j = Journal::mount(&mut f, &l).unwrap();
    let mut floor = 0;
    for o in &ops {
        apply(&mut j, &mut f, o).unwrap();
        assert_eq!(
            view(&Journal::mount(&mut f, &l).unwrap()),
            view(&j),
            "{o:?}"
        );
        assert!(j.min_version() >= floor, "{o:?}: counter moved backwards");
        floor = j.min_version();
    }
    assert_eq!(floor, 3_117_858_956);
}

/// Leaving the confirmed state keeps its version as the floor (no rotation in between), and a
/// cut or torn write anywhere in that step or the rotations after it leaves the counter at that
/// version: never lower, never a value that was not written.
#[test]
fn confirmed_version_stays_the_floor_after_any_cut() {
    const V: u32 = 46_036_305;
    let script = |j: &mut Journal, f: &mut Flash| -> Result<(), fota_storage::Error> {
        j.set_boot(
            f,
            BootRecord {
                state: BootState::Confirmed,
                step: 0,
                image_size: 9,
                version: V,
            },
        )?;
        j.set_boot(
            f,
            BootRecord {
                state: BootState::Pending,
                step: 0,
                image_size: 7,
                version: 2_854_626_877,
            },
        )?;
        j.set_boot(
            f,
            BootRecord {
                state: BootState::Reverting,
                step: 1,
                image_size: 7,
                version: 2_854_626_877,
            },
        )?;
        // Enough records for two rotations: the confirmed record's bank gets erased.
        for i in 0..40u32 {
            j.set_boot(
                f,
                BootRecord {
                    state: BootState::RolledBack,
                    step: i,
                    image_size: 7,
                    version: 2_854_626_877,
                },
            )?;
        }
        Ok(())
    };
    let mut clean = Flash::new(17);
    let l = layout(&clean);
    let mut j = Journal::mount(&mut clean, &l).unwrap();
    j.raise_min_version(&mut clean, 5).unwrap();
    let start = clean.ops();
    let mut done = clean.clone();
    let mut jd = j.clone();
    script(&mut jd, &mut done).unwrap();
    assert_eq!(jd.min_version(), V);
    assert_eq!(Journal::mount(&mut done, &l).unwrap().min_version(), V);
    let total = done.ops() - start;
    for at in start..start + total {
        for fault in [Fault::CutBefore(at), Fault::TornAt(at)] {
            for seed in [1u64, 0x9E37_79B9_7F4A_7C15, 0xDEAD_BEEF] {
                let mut f = clean.clone();
                let mut j = j.clone();
                f.set_seed(seed);
                f.set_fault(Some(fault));
                assert!(script(&mut j, &mut f).is_err());
                f.power_on();
                let m = Journal::mount(&mut f, &l).unwrap().min_version();
                assert!(m == 5 || m == V, "{fault:?} seed {seed:#x}: counter {m}");
            }
        }
    }
}
