//! Behaviour beyond the single-step matrix: whole scenarios, deferral, automatic upgrade,
//! resume, delivery methods, reboots.

use fota_fsm::{
    Actions, Config, DeliveryMethod, DownloadFailure, Event, FirmwareUpdate, ObjectVersion,
    Protocol, ProtocolSupport, ResponseCode, Severity, State, UpdateFailure, UpdateResult,
};

const URI: &[u8] = b"coap://fw.example/pkg";

fn cfg(version: ObjectVersion) -> Config {
    Config {
        max_defer_period: 100,
        ..Config::new(version)
    }
}

fn downloaded(version: ObjectVersion, config: Config) -> FirmwareUpdate {
    let mut m = FirmwareUpdate::new(Config { version, ..config });
    assert!(m.handle(Event::PackageUriWritten(URI), 1).code.is_success());
    assert!(
        m.handle(Event::ChunkStored { offset: 0, len: 10 }, 2)
            .code
            .is_success()
    );
    assert!(m.handle(Event::IntegrityVerified, 3).code.is_success());
    assert_eq!(m.state(), State::Downloaded);
    m
}

#[test]
fn mandatory_deferral_is_bounded_by_maximum_defer_period() {
    let mut m = downloaded(ObjectVersion::V1_1, cfg(ObjectVersion::V1_1));
    let out = m.handle(Event::Defer, 1000);
    assert_eq!(out.code, ResponseCode::Changed);
    assert_eq!(m.update_result(), UpdateResult::Deferred);
    assert!(out.changed.contains(5) && !out.changed.contains(3));
    assert_eq!(m.defer_deadline(), Some(1100));
    // Deferring again inside the period keeps the first deadline.
    assert!(m.handle(Event::Defer, 1050).code.is_success());
    assert_eq!(m.defer_deadline(), Some(1100));
    // After it, the device must update.
    assert_eq!(
        m.handle(Event::Defer, 1100).code,
        ResponseCode::MethodNotAllowed
    );
    let out = m.handle(Event::UpdateStarted, 1100);
    assert!(out.actions.contains(Actions::APPLY));
    assert_eq!(
        (m.state(), m.update_result()),
        (State::Updating, UpdateResult::Initial)
    );
}

#[test]
fn severity_decides_whether_and_how_long_to_defer() {
    let mut m = downloaded(ObjectVersion::V1_1, cfg(ObjectVersion::V1_1));
    assert!(m.handle(Event::SeverityWritten(0), 5).changed.contains(11));
    assert_eq!(
        m.handle(Event::Defer, 10).code,
        ResponseCode::MethodNotAllowed
    );
    assert!(m.handle(Event::SeverityWritten(2), 5).code.is_success());
    assert!(m.handle(Event::Defer, 10).code.is_success());
    // Optional: no deadline.
    assert_eq!(m.defer_deadline(), None);
    assert!(m.handle(Event::Defer, 1_000_000).code.is_success());
    // Maximum Defer Period 0 forbids deferring.
    let mut m = downloaded(ObjectVersion::V1_2, Config::new(ObjectVersion::V1_2));
    assert_eq!(
        m.handle(Event::Defer, 10).code,
        ResponseCode::MethodNotAllowed
    );
    // Version 1.0 has no deferral at all.
    let mut m = downloaded(ObjectVersion::V1_0, cfg(ObjectVersion::V1_0));
    assert_eq!(
        m.handle(Event::Defer, 10).code,
        ResponseCode::MethodNotAllowed
    );
    assert_eq!(
        m.handle(Event::SeverityWritten(1), 10).code,
        ResponseCode::NotFound
    );
}

#[test]
fn automatic_upgrade_at_download_starts_the_update_in_1_2_only() {
    for (version, auto_works) in [
        (ObjectVersion::V1_0, false),
        (ObjectVersion::V1_1, false),
        (ObjectVersion::V1_2, true),
        (ObjectVersion::Advanced, false),
    ] {
        let config = Config {
            auto_upgrade: true,
            ..Config::new(version)
        };
        let mut m = FirmwareUpdate::new(config);
        assert_eq!(m.auto_upgrade(), auto_works.then_some(true));
        m.handle(Event::PushStarted { identity: 1 }, 1);
        let out = m.handle(Event::IntegrityVerified, 2);
        if auto_works {
            assert_eq!(m.state(), State::Updating);
            assert!(out.actions.contains(Actions::APPLY | Actions::REBOOT));
        } else {
            assert_eq!(m.state(), State::Downloaded);
            assert!(!out.actions.contains(Actions::APPLY));
        }
    }
    // Written by the server.
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_2));
    assert!(
        m.handle(Event::AutoUpgradeWritten(true), 0)
            .changed
            .contains(14)
    );
    m.handle(Event::PushStarted { identity: 1 }, 1);
    m.handle(Event::IntegrityVerified, 2);
    assert_eq!(m.state(), State::Updating);
}

#[test]
fn a_broken_download_resumes_from_transferred_bytes() {
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
    m.handle(Event::PackageUriWritten(URI), 1);
    m.handle(
        Event::ChunkStored {
            offset: 0,
            len: 512,
        },
        2,
    );
    m.handle(
        Event::ChunkStored {
            offset: 512,
            len: 512,
        },
        3,
    );
    let out = m.handle(Event::DownloadFailed(DownloadFailure::ConnectionLost), 4);
    assert!(out.actions.contains(Actions::ABORT_DOWNLOAD));
    assert!(!out.actions.contains(Actions::ERASE_STAGING));
    assert_eq!(
        (m.state(), m.update_result()),
        (State::Idle, UpdateResult::ConnectionLost)
    );
    assert_eq!(m.transferred_bytes(), 1024);
    let id = m.package_identity();
    let out = m.handle(Event::SwitchToDownload, 5);
    assert!(out.actions.contains(Actions::START_DOWNLOAD));
    assert!(!out.actions.contains(Actions::ERASE_STAGING));
    assert_eq!(m.transferred_bytes(), 1024);
    assert_eq!(m.package_identity(), id);
    // A gap is refused, a block overlapping the resume point is accepted.
    assert_eq!(
        m.handle(
            Event::ChunkStored {
                offset: 2048,
                len: 512
            },
            6
        )
        .code,
        ResponseCode::BadRequest
    );
    assert!(
        m.handle(
            Event::ChunkStored {
                offset: 1000,
                len: 100
            },
            6
        )
        .code
        .is_success()
    );
    assert_eq!(m.transferred_bytes(), 1100);
}

#[test]
fn a_new_package_never_inherits_the_previous_offset() {
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
    m.handle(Event::PushStarted { identity: 1 }, 1);
    m.handle(
        Event::ChunkStored {
            offset: 0,
            len: 4096,
        },
        2,
    );
    // The server restarts at block 0 with another package.
    let out = m.handle(Event::PushStarted { identity: 2 }, 3);
    assert!(out.actions.contains(Actions::ERASE_STAGING));
    assert!(out.changed.contains(26500));
    assert_eq!(m.transferred_bytes(), 0);
    assert_eq!(m.package_identity(), Some(2));
    // The offset of a lost download is not reused by another URI either.
    m.handle(
        Event::ChunkStored {
            offset: 0,
            len: 4096,
        },
        4,
    );
    m.handle(Event::DownloadFailed(DownloadFailure::ConnectionLost), 5);
    let out = m.handle(Event::PackageUriWritten(b"coap://other.example/fw"), 6);
    assert!(
        out.actions
            .contains(Actions::ERASE_STAGING | Actions::START_DOWNLOAD)
    );
    assert_eq!(m.transferred_bytes(), 0);
    // A chunk for the old offset is now a gap.
    assert_eq!(
        m.handle(
            Event::ChunkStored {
                offset: 4096,
                len: 16
            },
            7
        )
        .code,
        ResponseCode::BadRequest
    );
}

#[test]
fn cancel_works_after_the_network_dropped() {
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
    m.handle(Event::PackageUriWritten(URI), 1);
    m.handle(Event::ChunkStored { offset: 0, len: 64 }, 2);
    // Still Downloading, the link is dead: Cancel aborts cleanly.
    let out = m.handle(Event::Cancel, 3);
    assert!(
        out.actions
            .contains(Actions::ABORT_DOWNLOAD | Actions::ERASE_STAGING)
    );
    assert_eq!(
        (m.state(), m.update_result()),
        (State::Idle, UpdateResult::Cancelled)
    );
    // After the device gave up (result 4), Cancel discards the pending download.
    m.handle(Event::PackageUriWritten(URI), 4);
    m.handle(Event::DownloadFailed(DownloadFailure::ConnectionLost), 5);
    let out = m.handle(Event::Cancel, 6);
    assert!(out.actions.contains(Actions::ERASE_STAGING));
    assert_eq!(m.update_result(), UpdateResult::Cancelled);
    assert_eq!(
        m.handle(Event::SwitchToDownload, 7).code,
        ResponseCode::MethodNotAllowed
    );
    assert_eq!(
        m.handle(Event::Cancel, 8).code,
        ResponseCode::MethodNotAllowed
    );
}

#[test]
fn delivery_method_limits_push_and_pull() {
    let pull_only = Config {
        delivery: DeliveryMethod::PullOnly,
        ..Config::new(ObjectVersion::V1_0)
    };
    let mut m = FirmwareUpdate::new(pull_only);
    assert_eq!(
        m.handle(Event::PushStarted { identity: 1 }, 1).code,
        ResponseCode::MethodNotAllowed
    );
    let push_only = Config {
        delivery: DeliveryMethod::PushOnly,
        protocols: ProtocolSupport::ALL,
        ..Config::new(ObjectVersion::V1_0)
    };
    let mut m = FirmwareUpdate::new(push_only);
    assert_eq!(m.protocol_support(), ProtocolSupport::EMPTY);
    assert_eq!(m.delivery_method().as_u8(), 1);
    m.handle(Event::PackageUriWritten(URI), 1);
    assert_eq!(
        (m.state(), m.update_result()),
        (State::Idle, UpdateResult::UnsupportedProtocol)
    );
    // An empty URI still resets.
    m.handle(Event::PackageUriWritten(b""), 2);
    assert_eq!(m.update_result(), UpdateResult::Initial);
}

#[test]
fn protocol_set_picks_results_7_and_9() {
    let config = Config {
        protocols: ProtocolSupport::COAP.with(Protocol::Https),
        ..Config::new(ObjectVersion::V1_1)
    };
    let mut m = FirmwareUpdate::new(config);
    assert_eq!(
        m.protocol_support()
            .iter()
            .map(|p| p.as_u8())
            .collect::<Vec<_>>(),
        [0, 3]
    );
    m.handle(Event::PackageUriWritten(b"coaps://h/fw"), 1);
    assert_eq!(m.update_result(), UpdateResult::UnsupportedProtocol);
    m.handle(Event::PackageUriWritten(b"https://h/f w"), 2);
    assert_eq!(m.update_result(), UpdateResult::InvalidUri);
    let out = m.handle(Event::PackageUriWritten(b"HTTPS://h/fw"), 3);
    assert_eq!(m.state(), State::Downloading);
    assert!(out.actions.contains(Actions::START_DOWNLOAD));
}

#[test]
fn boot_reconciliation_after_an_update_reboot() {
    for (running_new, state, result) in [
        (true, State::Idle, UpdateResult::Success),
        (false, State::Idle, UpdateResult::UpdateFailed),
    ] {
        let config = Config::new(ObjectVersion::V1_1);
        let mut m = downloaded(ObjectVersion::V1_1, config);
        m.handle(
            Event::PackageInfo {
                name: "app",
                version: "2.1.0",
            },
            4,
        );
        m.handle(Event::ExecuteUpdate, 5);
        let (_, rec) = m.save();
        let mut after = FirmwareUpdate::restore(config, &rec, &[]).unwrap();
        assert_eq!(after.state(), State::Updating);
        let out = after.handle(
            Event::Booted {
                new_image_running: running_new,
            },
            60,
        );
        assert_eq!((after.state(), after.update_result()), (state, result));
        assert!(out.changed.contains(3) && out.changed.contains(5) && out.changed.contains(12));
        assert_eq!(after.last_state_change_time(), Some(60));
        assert_eq!(out.actions.contains(Actions::ERASE_STAGING), !running_new);
        #[cfg(feature = "pkg-info")]
        assert_eq!(after.pkg_version(), b"2.1.0");
    }
    // A reboot while Downloading is a lost connection, resumable.
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_0));
    m.handle(Event::PushStarted { identity: 3 }, 1);
    m.handle(
        Event::ChunkStored {
            offset: 0,
            len: 100,
        },
        2,
    );
    m.handle(
        Event::Booted {
            new_image_running: false,
        },
        3,
    );
    assert_eq!(
        (m.state(), m.update_result()),
        (State::Idle, UpdateResult::ConnectionLost)
    );
    assert!(m.handle(Event::SwitchToDownload, 4).code.is_success());
    assert_eq!(m.transferred_bytes(), 100);
    assert_eq!(m.last_state_change_time(), None);
}

#[test]
fn update_failures_keep_or_drop_the_image() {
    let config = Config::new(ObjectVersion::Advanced);
    for (cause, usable, state, result) in [
        (UpdateFailure::Failed, true, State::Downloaded, 8),
        (UpdateFailure::Failed, false, State::Idle, 8),
        (UpdateFailure::NotEnoughFlash, true, State::Downloaded, 2),
        (UpdateFailure::IntegrityFailure, true, State::Idle, 5),
        (UpdateFailure::UnsupportedPackageType, true, State::Idle, 6),
        (UpdateFailure::ConflictingState, true, State::Downloaded, 12),
        (UpdateFailure::DependencyError, false, State::Idle, 13),
    ] {
        let mut m = downloaded(ObjectVersion::Advanced, config);
        m.handle(Event::ExecuteUpdate, 4);
        let out = m.handle(
            Event::UpdateFailed {
                cause,
                image_usable: usable,
            },
            5,
        );
        assert_eq!(m.state(), state, "{cause:?}");
        assert_eq!(m.update_result().as_u8(), result, "{cause:?}");
        assert_eq!(
            out.actions.contains(Actions::ERASE_STAGING),
            state == State::Idle
        );
        // From Downloaded the server may try again.
        if state == State::Downloaded {
            assert!(m.handle(Event::ExecuteUpdate, 6).code.is_success());
        }
    }
    assert_eq!(
        UpdateFailure::ConflictingState.result(ObjectVersion::V1_2),
        UpdateResult::UpdateFailed
    );
}

#[test]
fn version_1_0_never_shows_1_1_resources() {
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_0));
    assert_eq!(m.severity(), None);
    assert_eq!(m.max_defer_period(), None);
    assert_eq!(m.auto_upgrade(), None);
    assert_eq!(m.handle(Event::Cancel, 1).code, ResponseCode::NotFound);
    assert_eq!(
        m.handle(Event::MaxDeferPeriodWritten(5), 1).code,
        ResponseCode::NotFound
    );
    assert_eq!(
        m.handle(Event::AutoUpgradeWritten(true), 1).code,
        ResponseCode::NotFound
    );
    for id in 10..=14 {
        assert!(!ObjectVersion::V1_0.has_resource(id));
    }
    assert!(!ObjectVersion::V1_1.has_resource(14) && ObjectVersion::V1_2.has_resource(14));
    assert!(!ObjectVersion::V1_2.has_resource(4));
    assert_eq!(Severity::from_u8(1), Some(Severity::Mandatory));
}

#[test]
fn outcome_and_resources_helpers() {
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
    let out = m.handle(Event::PushStarted { identity: 1 }, 1);
    assert_eq!(out.changed.iter().collect::<Vec<_>>(), [3, 12]);
    let out = m.handle(Event::ChunkStored { offset: 0, len: 1 }, 2);
    assert_eq!(out.changed.iter().collect::<Vec<_>>(), [26500]);
    assert_eq!(out.changed.bits(), 1 << 16);
    assert_eq!(ResponseCode::MethodNotAllowed.as_u8(), 0x85);
    assert!(fota_fsm::is_reset_package(&[0]) && !fota_fsm::is_reset_package(&[0, 0]));
}

#[test]
fn instance_size() {
    let size = core::mem::size_of::<FirmwareUpdate>();
    let expected = if cfg!(feature = "pkg-info") { 96 } else { 32 };
    assert_eq!(size, expected);
    assert_eq!(fota_fsm::RECORD_LEN, expected + 4);
}

#[test]
fn a_changed_package_restarts_the_job_at_offset_zero() {
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
    m.handle(Event::PackageUriWritten(URI), 1);
    m.handle(
        Event::ChunkStored {
            offset: 0,
            len: 1024,
        },
        2,
    );
    let id = m.package_identity();
    // The pulled package's ETag changed: never resume onto the other package's bytes.
    let out = m.handle(Event::DownloadRestarted, 3);
    assert_eq!(out.code, ResponseCode::Changed);
    assert!(
        out.actions
            .contains(Actions::ERASE_STAGING | Actions::START_DOWNLOAD | Actions::PERSIST)
    );
    assert!(out.changed.contains(26500) && !out.changed.contains(3) && !out.changed.contains(5));
    assert_eq!(
        (m.state(), m.update_result(), m.transferred_bytes()),
        (State::Downloading, UpdateResult::Initial, 0)
    );
    assert_eq!(m.package_identity(), id);
    // The bytes of the old package are refused, the new package's first block is taken.
    assert_eq!(
        m.handle(
            Event::ChunkStored {
                offset: 1024,
                len: 512
            },
            4
        )
        .code,
        ResponseCode::BadRequest
    );
    assert!(
        m.handle(
            Event::ChunkStored {
                offset: 0,
                len: 512
            },
            4
        )
        .code
        .is_success()
    );
    // A push restarts too (no download to start); outside Downloading there is nothing to restart.
    let mut m = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
    m.handle(Event::PushStarted { identity: 3 }, 1);
    m.handle(Event::ChunkStored { offset: 0, len: 64 }, 2);
    let out = m.download_restarted();
    assert!(!out.actions.contains(Actions::START_DOWNLOAD));
    assert_eq!(m.transferred_bytes(), 0);
    m.handle(Event::DownloadFailed(DownloadFailure::ConnectionLost), 3);
    assert_eq!(
        m.handle(Event::DownloadRestarted, 4).code,
        ResponseCode::MethodNotAllowed
    );
}
