//! End-to-end: the demo's server, loss proxy and simulated devices on loopback.

use lwm2m_fota::demo::{self, DemoOptions, Forge};
use lwm2m_fota::server::Mode;
use lwm2m_fota::{State, UpdateResult};
use std::time::Duration;

fn small(devices: usize, loss: f64, mode: Mode) -> DemoOptions {
    DemoOptions {
        devices,
        loss,
        mode,
        image_size: 24 * 1024,
        ack_timeout: Duration::from_millis(100),
        deadline: Duration::from_secs(50),
        ..DemoOptions::default()
    }
}

fn report(s: &demo::DemoSummary) {
    for d in &s.per_device {
        eprintln!(
            "{} {:?} state {:?} result {:?} new {} reboots {} retries {} served {} outcome {:?}",
            d.status.endpoint,
            d.status.delivery,
            d.state,
            d.result,
            d.flash_is_new,
            d.reboots,
            d.status.retries,
            d.status.package_bytes_served,
            d.status.outcome
        );
    }
}

#[test]
fn one_device_push_no_loss() {
    let s = demo::run(&small(1, 0.0, Mode::Push), |_, _| {}).unwrap();
    report(&s);
    assert_eq!(s.updated, 1);
}

#[test]
fn twenty_devices_ten_percent_loss_five_power_cuts() {
    let opts = DemoOptions {
        power_cuts: 5,
        delta: false,
        ..small(20, 10.0, Mode::Mixed)
    };
    let s = demo::run(&opts, |_, _| {}).unwrap();
    report(&s);
    assert_eq!(s.updated, 20, "all devices updated");
    assert!(s.per_device.iter().all(|d| d.flash_is_new
        && (d.state, d.result) == (State::Idle, UpdateResult::Success)
        && d.flash_version == demo::NEW_VERSION
        && d.status.version == demo::NEW_VERSION));
    assert!(
        s.per_device
            .iter()
            .any(|d| d.status.delivery == Some(Mode::Pull))
            && s.per_device
                .iter()
                .any(|d| d.status.delivery == Some(Mode::Push)),
        "mixed: both deliveries"
    );
    assert!(
        s.per_device.iter().take(5).all(|d| d.reboots >= 2),
        "power cuts happened"
    );
    assert!(s.dropped > 0);
}

#[test]
fn package_failing_verification_keeps_old_firmware_with_result_5() {
    // A full image with one byte flipped after signing: the manifest holds, the digest of
    // the staging slot read back at Execute does not.
    let opts = DemoOptions {
        corrupt_package: true,
        delta: false,
        ..small(1, 0.0, Mode::Push)
    };
    let s = demo::run(&opts, |_, _| {}).unwrap();
    report(&s);
    let d = &s.per_device[0];
    assert_eq!(
        (d.state, d.result),
        (State::Idle, UpdateResult::IntegrityFailure)
    );
    assert!(d.flash_is_old && !d.flash_is_new);
    assert_eq!(s.updated, 0);
}

#[test]
fn corrupt_delta_fails_with_result_5_and_keeps_old_firmware() {
    let opts = DemoOptions {
        corrupt_package: true,
        ..small(1, 0.0, Mode::Push)
    };
    let s = demo::run(&opts, |_, _| {}).unwrap();
    report(&s);
    let d = &s.per_device[0];
    assert_eq!(
        (d.state, d.result),
        (State::Idle, UpdateResult::IntegrityFailure)
    );
    assert!(d.flash_is_old);
}

#[test]
fn delta_resumed_after_power_cuts_from_the_patcher_checkpoint() {
    let opts = DemoOptions {
        power_cuts: 3,
        image_size: 256 * 1024,
        seed: 9,
        ..small(3, 5.0, Mode::Mixed)
    };
    let s = demo::run(&opts, |_, _| {}).unwrap();
    report(&s);
    assert!(
        s.delta && s.package_bytes > 2048,
        "a multi-block delta: {} bytes",
        s.package_bytes
    );
    assert_eq!(s.updated, 3);
    assert!(
        s.per_device.iter().all(|d| d.reboots >= 2),
        "every device was cut"
    );
}

#[test]
fn full_image_push_with_power_cuts() {
    let opts = DemoOptions {
        delta: false,
        power_cuts: 2,
        ..small(4, 5.0, Mode::Push)
    };
    let s = demo::run(&opts, |_, _| {}).unwrap();
    report(&s);
    assert_eq!(s.updated, 4);
}

#[test]
fn pull_resumed_after_a_cut_fetches_the_rest_plus_at_most_two_blocks() {
    let opts = DemoOptions {
        power_cuts: 1,
        delta: false,
        ..small(1, 0.0, Mode::Pull)
    };
    let s = demo::run(&opts, |_, _| {}).unwrap();
    report(&s);
    let d = &s.per_device[0];
    assert_eq!(s.updated, 1);
    assert_eq!(d.status.delivery, Some(Mode::Pull));
    assert!(d.reboots >= 2, "the cut and the update");
    // Measured from the cut: what the server served after it is at most what the device still
    // lacked at its persisted offset, plus two blocks (the one in flight when the power went
    // and one repeated after the reboot). A restart from 0 would exceed this.
    let cut = d.power_cut.expect("the device was cut mid-download");
    assert!(cut.resumed_at > 0, "resumed from a persisted offset, not 0");
    let after = d.status.package_bytes_served - cut.served_before;
    let remaining = s.package_bytes - u64::from(cut.resumed_at);
    eprintln!("{cut:?}: {after} bytes served after the cut, {remaining} remained");
    assert!(
        after <= remaining + 2 * 1024,
        "served {after} bytes after the cut; {remaining} remained at offset {} of {}",
        cut.resumed_at,
        s.package_bytes
    );
}

/// A forged package ends the job with the device Idle, the given Result, the old image in
/// flash and /3/0/3 unchanged; nothing is installed.
fn refused(forge: Forge, delta: bool, mode: Mode, want: UpdateResult) {
    let opts = DemoOptions {
        forge,
        delta,
        ..small(1, 5.0, mode)
    };
    let s = demo::run(&opts, |_, _| {}).unwrap();
    report(&s);
    let d = &s.per_device[0];
    assert_eq!((d.state, d.result), (State::Idle, want), "{forge:?}");
    assert!(
        d.flash_is_old && !d.flash_is_new,
        "{forge:?}: old firmware kept"
    );
    assert_eq!(d.flash_version, demo::OLD_VERSION);
    assert_eq!(d.reboots, 0, "{forge:?}: never installed");
    assert_eq!(s.updated, 0);
    assert!(
        matches!(
            d.status.outcome,
            Some(lwm2m_fota::server::Outcome::Failed(_))
        ),
        "the server gives up without retrying the same bytes"
    );
}

#[test]
fn package_signed_with_another_key_is_refused_with_result_5() {
    refused(
        Forge::WrongKey,
        true,
        Mode::Push,
        UpdateResult::IntegrityFailure,
    );
    refused(
        Forge::WrongKey,
        false,
        Mode::Pull,
        UpdateResult::IntegrityFailure,
    );
}

#[test]
fn older_version_is_refused_by_the_anti_rollback_check_with_result_6() {
    refused(
        Forge::OlderVersion,
        false,
        Mode::Push,
        UpdateResult::UnsupportedPackageType,
    );
}

#[test]
fn package_for_another_class_is_refused_with_result_6() {
    refused(
        Forge::WrongClass,
        true,
        Mode::Pull,
        UpdateResult::UnsupportedPackageType,
    );
}

#[test]
fn real_files_are_the_images_byte_for_byte() {
    // Odd sizes (not multiples of the flash granule or the block size), no header of any kind.
    let dir = tempfile::tempdir().unwrap();
    let old: Vec<u8> = (0..30_001u32).map(|i| ((i * 7) ^ (i >> 5)) as u8).collect();
    let mut new = old.clone();
    new[1234] ^= 0xff;
    new.extend_from_slice(b"release notes: fixed the widget\n");
    for (name, bytes) in [("old.bin", &old), ("new.bin", &new)] {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    for delta in [true, false] {
        let opts = DemoOptions {
            old: Some(dir.path().join("old.bin")),
            new: Some(dir.path().join("new.bin")),
            delta,
            ..small(2, 5.0, Mode::Mixed)
        };
        let s = demo::run(&opts, |_, _| {}).unwrap();
        report(&s);
        assert_eq!(s.updated, 2, "delta {delta}");
        assert_eq!(s.new_image_bytes, new.len() as u64);
        assert!(s.per_device.iter().all(|d| d.flash_is_new));
    }
}
