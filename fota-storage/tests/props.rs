//! Property tests: journal operations are atomic under a cut or torn write at any point, the
//! journal mounts from any flash content, manifests round-trip and never panic the parser.

use fota_storage::journal::{BootRecord, BootState, Journal, PackageIdentity};
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
    identity: Option<(u8, Vec<u8>, Vec<u8>)>,
    durable: u32,
    checkpoint: Vec<u8>,
    boot: BootRecord,
    min: u32,
}

fn view(j: &Journal) -> View {
    View {
        identity: j.identity().map(|i| match i {
            PackageIdentity::Pull { uri, etag } => (1, uri.to_vec(), etag.to_vec()),
            PackageIdentity::Push { id } => (2, vec![], id.to_vec()),
        }),
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
        for (i, o) in ops.iter().enumerate() {
            let before = view(&j);
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
                prop_assert!(now != before || now == view(&j));
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
