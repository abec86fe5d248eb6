//! Property tests: random event sequences keep the invariants, and records survive round
//! trips and torn writes.

use fota_fsm::{
    Actions, Config, DeliveryMethod, DownloadFailure, Event, FirmwareUpdate, ObjectVersion,
    Protocol, ProtocolSupport, RECORD_LEN, ResponseCode, Severity, Slot, State, UpdateFailure,
    UpdateResult,
};
use proptest::prelude::*;

const URIS: [&[u8]; 6] = [
    b"coap://fw.example/a",
    b"coaps://[2001:db8::1]:5684/b",
    b"https://fw.example/c",
    b"coap://bad host/",
    b"ftp://fw.example/d",
    b"",
];
const NAMES: [&str; 3] = ["", "fw", "a-32-byte-package-name-for-tests"];

fn version() -> impl Strategy<Value = ObjectVersion> {
    prop_oneof![
        Just(ObjectVersion::V1_0),
        Just(ObjectVersion::V1_1),
        Just(ObjectVersion::V1_2),
        Just(ObjectVersion::Advanced),
    ]
}

fn download_failure() -> impl Strategy<Value = DownloadFailure> {
    prop_oneof![
        Just(DownloadFailure::NotEnoughFlash),
        Just(DownloadFailure::OutOfRam),
        Just(DownloadFailure::ConnectionLost),
        Just(DownloadFailure::IntegrityFailure),
        Just(DownloadFailure::UnsupportedPackageType),
        Just(DownloadFailure::InvalidUri),
        Just(DownloadFailure::UnsupportedProtocol),
    ]
}

fn update_failure() -> impl Strategy<Value = UpdateFailure> {
    prop_oneof![
        Just(UpdateFailure::Failed),
        Just(UpdateFailure::NotEnoughFlash),
        Just(UpdateFailure::OutOfRam),
        Just(UpdateFailure::IntegrityFailure),
        Just(UpdateFailure::UnsupportedPackageType),
        Just(UpdateFailure::ConflictingState),
        Just(UpdateFailure::DependencyError),
    ]
}

fn event() -> impl Strategy<Value = Event<'static>> {
    prop_oneof![
        1 => (0u32..4).prop_map(|identity| Event::PushStarted { identity }),
        // Mostly chunks near the stored offset, sometimes anywhere (gaps, overflow).
        4 => (0u32..2048, 0u32..512).prop_map(|(offset, len)| Event::ChunkStored { offset, len }),
        1 => (any::<u32>(), any::<u32>()).prop_map(|(offset, len)| Event::ChunkStored { offset, len }),
        2 => (0usize..URIS.len()).prop_map(|i| Event::PackageUriWritten(URIS[i])),
        1 => Just(Event::PackageReset),
        2 => Just(Event::DownloadFinished),
        1 => download_failure().prop_map(Event::DownloadFailed),
        2 => Just(Event::IntegrityVerified),
        1 => Just(Event::IntegrityFailed),
        2 => Just(Event::ExecuteUpdate),
        1 => Just(Event::Defer),
        1 => Just(Event::UpdateStarted),
        1 => Just(Event::UpdateSucceeded),
        1 => (update_failure(), any::<bool>()).prop_map(|(cause, image_usable)| Event::UpdateFailed {
            cause,
            image_usable
        }),
        1 => Just(Event::Cancel),
        1 => any::<bool>().prop_map(|new_image_running| Event::Booted { new_image_running }),
        1 => Just(Event::SwitchToDownload),
        1 => Just(Event::DownloadRestarted),
        1 => (-1i64..4).prop_map(Event::SeverityWritten),
        1 => prop_oneof![Just(-1i64), Just(0), Just(30), Just(1 << 33)].prop_map(Event::MaxDeferPeriodWritten),
        1 => any::<bool>().prop_map(Event::AutoUpgradeWritten),
        1 => (0usize..NAMES.len(), 0usize..NAMES.len())
            .prop_map(|(n, v)| Event::PackageInfo { name: NAMES[n], version: NAMES[v] }),
    ]
}

fn config(version: ObjectVersion, delivery: u8, auto: bool) -> Config {
    Config {
        version,
        delivery: match delivery {
            0 => DeliveryMethod::PullOnly,
            1 => DeliveryMethod::PushOnly,
            _ => DeliveryMethod::Both,
        },
        protocols: ProtocolSupport::COAP.with(Protocol::Coaps),
        severity: Severity::Mandatory,
        max_defer_period: 60,
        auto_upgrade: auto,
    }
}

/// Invariants of one state, whatever led there.
fn check_state(m: &FirmwareUpdate) -> Result<(), TestCaseError> {
    let v = m.object_version();
    let r = m.update_result();
    prop_assert!(r.allowed_in(v), "result {r:?} in {v:?}");
    let ok = match m.state() {
        State::Downloading | State::Updating => r == UpdateResult::Initial,
        State::Downloaded => matches!(
            r,
            UpdateResult::Initial
                | UpdateResult::NotEnoughFlash
                | UpdateResult::OutOfRam
                | UpdateResult::UpdateFailed
                | UpdateResult::Deferred
                | UpdateResult::ConflictingState
                | UpdateResult::DependencyError
        ),
        State::Idle => r != UpdateResult::Deferred,
    };
    prop_assert!(ok, "state {:?} with result {r:?}", m.state());
    if !v.has_v1_1() {
        prop_assert_eq!(m.severity(), None);
        prop_assert_eq!(m.last_state_change_time(), None);
        prop_assert_eq!(m.max_defer_period(), None);
    }
    if v != ObjectVersion::V1_2 {
        prop_assert_eq!(m.auto_upgrade(), None);
    }
    prop_assert!(m.state() == State::Idle || m.package_identity().is_some());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_invariants(
        version in version(),
        delivery in 0u8..3,
        auto in any::<bool>(),
        events in prop::collection::vec((event(), 0u32..100), 1..60),
    ) {
        let cfg = config(version, delivery, auto);
        let mut m = FirmwareUpdate::new(cfg);
        let mut now = 1_000u32;
        for (e, dt) in events {
            now += dt;
            let before = m.clone();
            let out = m.handle(e, now);
            check_state(&m)?;
            if !out.code.is_success() {
                prop_assert_eq!(&m, &before, "rejected {:?} changed the machine", e);
                prop_assert!(out.actions.is_empty() && out.changed.is_empty());
                continue;
            }
            // Changed set agrees with the values.
            let state_changed = before.state() != m.state();
            prop_assert_eq!(out.changed.contains(3), state_changed);
            prop_assert_eq!(out.changed.contains(12), state_changed && version.has_v1_1());
            prop_assert_eq!(out.changed.contains(5), before.update_result() != m.update_result());
            prop_assert_eq!(
                out.changed.contains(26500),
                before.transferred_bytes() != m.transferred_bytes()
            );
            if state_changed {
                prop_assert!(out.actions.contains(Actions::PERSIST));
                if version.has_v1_1() {
                    prop_assert_eq!(m.last_state_change_time(), Some(now));
                }
            }
            for id in 10..=14u16 {
                prop_assert!(version.has_resource(id) || !out.changed.contains(id));
            }
            // 26500 is monotone within one download; a new download starts at 0.
            if before.state() == State::Downloading
                && m.state() == State::Downloading
                && !out.actions.contains(Actions::ERASE_STAGING)
            {
                prop_assert!(m.transferred_bytes() >= before.transferred_bytes());
            }
            if out.actions.contains(Actions::ERASE_STAGING) && m.state() == State::Downloading {
                prop_assert_eq!(m.transferred_bytes(), 0);
                prop_assert_eq!(m.update_result(), UpdateResult::Initial);
            }
            // Execute Update / apply only from Downloaded.
            if out.actions.contains(Actions::APPLY) {
                prop_assert_eq!(m.state(), State::Updating);
            }
            // The record round trip is exact at every step.
            let rec = m.encode();
            prop_assert_eq!(&FirmwareUpdate::decode(cfg, &rec).unwrap(), &m);
        }
    }

    #[test]
    fn a_torn_write_falls_back_to_the_previous_record(
        version in version(),
        events in prop::collection::vec(event(), 1..30),
        cut in 0usize..=RECORD_LEN,
        erased in any::<bool>(),
    ) {
        let cfg = config(version, 2, false);
        let mut m = FirmwareUpdate::new(cfg);
        let mut slots = [[0xffu8; RECORD_LEN]; 2];
        let mut previous: Option<FirmwareUpdate> = None;
        let mut now = 5;
        for e in events {
            now += 7;
            let _ = m.handle(e, now);
            let (slot, rec) = m.save();
            slots[slot as usize] = rec;
            previous = Some(m.clone());
        }
        let previous = previous.unwrap();
        // One more save, torn after `cut` bytes: the rest is erased flash or the old bytes.
        let _ = m.handle(Event::PackageReset, now + 1);
        let (slot, rec) = m.save();
        let i = slot as usize;
        for (k, b) in rec.iter().enumerate() {
            if k < cut {
                slots[i][k] = *b;
            } else if erased {
                slots[i][k] = 0xff;
            }
        }
        let restored = FirmwareUpdate::restore(cfg, &slots[0], &slots[1]).unwrap();
        if cut == RECORD_LEN || slots[i] == rec {
            prop_assert_eq!(&restored, &m);
        } else {
            prop_assert_eq!(&restored, &previous);
        }
    }

    #[test]
    fn uri_checker_is_total_and_consistent(
        uri in prop::collection::vec(
            prop_oneof![any::<u8>(), prop::sample::select(b"coap:/[]@%?#.0aF".to_vec())],
            0..300,
        ),
        bits in 0u8..64,
    ) {
        let set = ProtocolSupport::from_bits(bits);
        match fota_fsm::check_uri(&uri, set) {
            Ok(p) => {
                prop_assert!(uri.len() <= 255 && set.contains(p));
                let scheme = p.scheme().as_bytes();
                prop_assert!(uri.len() > scheme.len() + 3);
                prop_assert!(uri[..scheme.len()].eq_ignore_ascii_case(scheme));
                prop_assert_eq!(&uri[scheme.len()..scheme.len() + 3], b"://");
                prop_assert!(uri.iter().all(|b| b.is_ascii_graphic()));
            }
            Err(fota_fsm::UriError::TooLong) => prop_assert!(uri.len() > 255),
            Err(_) => {}
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let cfg = config(ObjectVersion::V1_1, 2, false);
        if let Ok(m) = FirmwareUpdate::decode(cfg, &bytes) {
            prop_assert_eq!(FirmwareUpdate::decode(cfg, &m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn records_with_a_valid_checksum_decode_to_valid_machines(
        body in prop::collection::vec(0u8..16, RECORD_LEN - 4),
        version in version(),
    ) {
        let mut rec = body;
        rec[0] = 1;
        let crc = crc32(&rec);
        rec.extend_from_slice(&crc.to_le_bytes());
        let cfg = config(version, 2, false);
        if let Ok(m) = FirmwareUpdate::decode(cfg, &rec) {
            check_state_lenient(&m)?;
            prop_assert_eq!(FirmwareUpdate::decode(cfg, &m.encode()).unwrap(), m);
        }
    }
}

/// A record can hold any result of the version in any state (the machine does not trust
/// what it never wrote beyond the ranges); the ranges themselves are checked.
// Without `pkg-info` the capacity is 0 and the length check is trivially an equality.
#[allow(clippy::absurd_extreme_comparisons)]
fn check_state_lenient(m: &FirmwareUpdate) -> Result<(), TestCaseError> {
    prop_assert!(m.update_result().allowed_in(m.object_version()));
    prop_assert!(m.pkg_name().len() <= fota_fsm::PKG_FIELD_CAP);
    prop_assert!(m.state() == State::Idle || m.package_identity().is_some());
    Ok(())
}

/// CRC-32/ISO-HDLC written independently of the crate's.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn slots_alternate_and_the_newest_wins() {
    let cfg = config(ObjectVersion::V1_1, 2, false);
    let mut m = FirmwareUpdate::new(cfg);
    let (s1, r1) = m.save();
    m.handle(Event::PushStarted { identity: 1 }, 10);
    let (s2, r2) = m.save();
    assert_eq!((s1, s2), (Slot::A, Slot::B));
    let restored = FirmwareUpdate::restore(cfg, &r1, &r2).unwrap();
    assert_eq!(restored.state(), State::Downloading);
    // Sequence numbers wrap: 0xffff then 0 — 0 is newer.
    let mut m = FirmwareUpdate::new(cfg);
    for _ in 0..0xfffe {
        let _ = m.save();
    }
    let (_, old) = m.save();
    m.handle(Event::PushStarted { identity: 2 }, 20);
    let (_, new) = m.save();
    let restored = FirmwareUpdate::restore(cfg, &new, &old).unwrap();
    assert_eq!(restored.package_identity(), Some(2));
    let restored = FirmwareUpdate::restore(cfg, &old, &new).unwrap();
    assert_eq!(restored.package_identity(), Some(2));
}

#[test]
fn record_errors_are_typed() {
    use fota_fsm::Error;
    let cfg = config(ObjectVersion::V1_1, 2, false);
    let m = FirmwareUpdate::new(cfg);
    let rec = m.encode();
    assert_eq!(
        FirmwareUpdate::decode(cfg, &rec[..10]),
        Err(Error::RecordLength { len: 10 })
    );
    assert_eq!(
        FirmwareUpdate::decode(cfg, &[0xff; RECORD_LEN]),
        Err(Error::RecordErased)
    );
    let mut bad = rec;
    bad[5] ^= 1;
    assert_eq!(
        FirmwareUpdate::decode(cfg, &bad),
        Err(Error::RecordChecksum)
    );
    // Another object version than configured.
    assert_eq!(
        FirmwareUpdate::decode(config(ObjectVersion::V1_0, 2, false), &rec),
        Err(Error::RecordField { offset: 5 })
    );
    // Another format version with a valid checksum.
    let mut other = rec;
    other[0] = 9;
    let crc = crc32(&other[..RECORD_LEN - 4]);
    other[RECORD_LEN - 4..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        FirmwareUpdate::decode(cfg, &other),
        Err(Error::RecordFormat { found: 9 })
    );
    assert_eq!(
        FirmwareUpdate::restore(cfg, &[0xff; RECORD_LEN], &[0; 3]),
        Err(Error::RecordErased)
    );
    // Every error displays without panicking.
    let _ = std::format!("{}", Error::RecordField { offset: 3 });
    let _ = ResponseCode::Changed;
}
