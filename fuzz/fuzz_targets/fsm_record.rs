#![no_main]
//! Fuzzes the persisted-record decoder (two slots, torn or forged) and then drives the
//! restored machine with a random event sequence, checking the invariants at every step.

use fota_fsm::{
    Config, DeliveryMethod, DownloadFailure, Event, FirmwareUpdate, ObjectVersion, ProtocolSupport,
    RECORD_LEN, Severity, State, UpdateFailure,
};
use libfuzzer_sys::fuzz_target;

const URIS: [&[u8]; 4] = [
    b"coap://h/fw",
    b"coaps://[::1]/x",
    b"http://h/",
    b"coap://h /",
];

fn config(b: u8) -> Config {
    Config {
        version: match b & 3 {
            0 => ObjectVersion::V1_0,
            1 => ObjectVersion::V1_1,
            2 => ObjectVersion::V1_2,
            _ => ObjectVersion::Advanced,
        },
        delivery: match (b >> 2) & 3 {
            0 => DeliveryMethod::PullOnly,
            1 => DeliveryMethod::PushOnly,
            _ => DeliveryMethod::Both,
        },
        protocols: ProtocolSupport::from_bits(b >> 4),
        severity: Severity::Mandatory,
        max_defer_period: u32::from(b),
        auto_upgrade: b & 0x80 != 0,
    }
}

fn event<'a>(op: u8, arg: u8, rest: &'a [u8]) -> Event<'a> {
    let dl = [
        DownloadFailure::NotEnoughFlash,
        DownloadFailure::OutOfRam,
        DownloadFailure::ConnectionLost,
        DownloadFailure::IntegrityFailure,
        DownloadFailure::UnsupportedPackageType,
        DownloadFailure::InvalidUri,
        DownloadFailure::UnsupportedProtocol,
    ];
    let up = [
        UpdateFailure::Failed,
        UpdateFailure::NotEnoughFlash,
        UpdateFailure::OutOfRam,
        UpdateFailure::IntegrityFailure,
        UpdateFailure::UnsupportedPackageType,
        UpdateFailure::ConflictingState,
        UpdateFailure::DependencyError,
    ];
    let a = usize::from(arg);
    match op % 21 {
        0 => Event::PushStarted {
            identity: u32::from(arg),
        },
        1 => Event::ChunkStored {
            offset: u32::from(arg) * 16,
            len: 64,
        },
        2 => Event::ChunkStored {
            offset: u32::MAX - u32::from(arg),
            len: u32::from(arg),
        },
        3 => Event::PackageUriWritten(URIS[a % URIS.len()]),
        // Arbitrary URI bytes from the input.
        4 => Event::PackageUriWritten(&rest[..a.min(rest.len())]),
        5 => Event::PackageReset,
        6 => Event::DownloadFinished,
        7 => Event::DownloadFailed(dl[a % dl.len()]),
        8 => Event::IntegrityVerified,
        9 => Event::IntegrityFailed,
        10 => Event::ExecuteUpdate,
        11 => Event::Defer,
        12 => Event::UpdateStarted,
        13 => Event::UpdateSucceeded,
        14 => Event::UpdateFailed {
            cause: up[a % up.len()],
            image_usable: arg & 0x80 != 0,
        },
        15 => Event::Cancel,
        16 => Event::Booted {
            new_image_running: arg & 1 != 0,
        },
        17 => Event::SwitchToDownload,
        18 => Event::SeverityWritten(i64::from(arg as i8)),
        19 => Event::MaxDeferPeriodWritten(i64::from(arg as i8) << 28),
        _ => Event::AutoUpgradeWritten(arg & 1 != 0),
    }
}

fn check(m: &FirmwareUpdate) {
    let v = m.object_version();
    assert!(m.update_result().allowed_in(v));
    assert!(m.pkg_name().len() <= fota_fsm::PKG_FIELD_CAP);
    assert!(m.state() == State::Idle || m.package_identity().is_some());
    if !v.has_v1_1() {
        assert!(m.severity().is_none() && m.last_state_change_time().is_none());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg_byte, data)) = data.split_first() else {
        return;
    };
    let cfg = config(cfg_byte);
    let n = data.len().min(RECORD_LEN);
    let (a, rest) = data.split_at(n);
    let n = rest.len().min(RECORD_LEN);
    let (b, events) = rest.split_at(n);
    // Single-record decoding is idempotent through encode.
    for slot in [a, b] {
        if let Ok(m) = FirmwareUpdate::decode(cfg, slot) {
            check(&m);
            assert_eq!(FirmwareUpdate::decode(cfg, &m.encode()).unwrap(), m);
        }
    }
    let mut m = FirmwareUpdate::restore(cfg, a, b).unwrap_or_else(|_| FirmwareUpdate::new(cfg));
    check(&m);
    let mut now = 0u32;
    let mut i = 0;
    while i + 1 < events.len() {
        let (op, arg) = (events[i], events[i + 1]);
        let e = event(op, arg, &events[i + 2..]);
        let before = m.clone();
        now = now.wrapping_add(u32::from(arg));
        let out = m.handle(e, now);
        if !out.code.is_success() {
            assert_eq!(m, before);
        } else {
            check(&m);
            assert_eq!(out.changed.contains(3), before.state() != m.state());
            if before.state() == State::Downloading
                && m.state() == State::Downloading
                && !out.actions.contains(fota_fsm::Actions::ERASE_STAGING)
            {
                assert!(m.transferred_bytes() >= before.transferred_bytes());
            }
        }
        let (_, rec) = m.save();
        assert_eq!(FirmwareUpdate::decode(cfg, &rec).unwrap(), m);
        i += 2;
    }
});
