//! The exhaustive matrix: every situation × event × object version is asserted against the
//! transition table of the crate docs (`TRANSITIONS.md`, parsed here), which is written apart
//! from the implementation.

#![cfg(feature = "pkg-info")]

use fota_fsm::{
    Actions, Config, DeliveryMethod, DownloadFailure, Event, FirmwareUpdate, ObjectVersion,
    Protocol, ProtocolSupport, ResponseCode, Severity, State, UpdateFailure, UpdateResult,
};

const TABLE: &str = include_str!("../TRANSITIONS.md");

const VERSIONS: [(&str, ObjectVersion); 4] = [
    ("1.0", ObjectVersion::V1_0),
    ("1.1", ObjectVersion::V1_1),
    ("1.2", ObjectVersion::V1_2),
    ("33629", ObjectVersion::Advanced),
];

const SITUATIONS: [&str; 9] = [
    "Idle",
    "Idle(4)",
    "Idle(4/push)",
    "Downloading(push)",
    "Downloading(pull)",
    "Downloading(auto)",
    "Downloaded",
    "Downloaded(11)",
    "Updating",
];

const URI: &[u8] = b"coap://fw.example/pkg";

fn long_uri() -> [u8; 256] {
    let mut u = [b'a'; 256];
    u[..URI.len()].copy_from_slice(URI);
    u
}

const LONG_NAME: &str = "abcdefghijklmnopqrstuvwxyz0123456";

fn event(name: &str, long: &[u8; 256]) -> Event<'static> {
    // The long URI is leaked into 'static only for the test's convenience.
    let long: &'static [u8] = Box::leak(Box::new(*long));
    let fail = |c| Event::DownloadFailed(c);
    let upd = |cause, image_usable| Event::UpdateFailed {
        cause,
        image_usable,
    };
    match name {
        "push-start" => Event::PushStarted { identity: 9 },
        "chunk" => Event::ChunkStored {
            offset: 64,
            len: 64,
        },
        "chunk-dup" => Event::ChunkStored { offset: 0, len: 32 },
        "chunk-gap" => Event::ChunkStored {
            offset: 1000,
            len: 64,
        },
        "uri" => Event::PackageUriWritten(URI),
        "uri-bad" => Event::PackageUriWritten(b"coap://fw example/pkg"),
        "uri-scheme" => Event::PackageUriWritten(b"https://fw.example/pkg"),
        "uri-long" => Event::PackageUriWritten(long),
        "uri-empty" => Event::PackageUriWritten(b""),
        "package-nul" => Event::PackageReset,
        "finished" => Event::DownloadFinished,
        "failed-2" => fail(DownloadFailure::NotEnoughFlash),
        "failed-3" => fail(DownloadFailure::OutOfRam),
        "failed-4" => fail(DownloadFailure::ConnectionLost),
        "failed-5" => fail(DownloadFailure::IntegrityFailure),
        "failed-6" => fail(DownloadFailure::UnsupportedPackageType),
        "failed-7" => fail(DownloadFailure::InvalidUri),
        "failed-9" => fail(DownloadFailure::UnsupportedProtocol),
        "verified" => Event::IntegrityVerified,
        "integrity-failed" => Event::IntegrityFailed,
        "execute" => Event::ExecuteUpdate,
        "defer" => Event::Defer,
        "start" => Event::UpdateStarted,
        "succeeded" => Event::UpdateSucceeded,
        "update-failed-8" => upd(UpdateFailure::Failed, true),
        "update-failed-5" => upd(UpdateFailure::IntegrityFailure, false),
        "update-failed-12" => upd(UpdateFailure::ConflictingState, true),
        "update-failed-13" => upd(UpdateFailure::DependencyError, false),
        "cancel" => Event::Cancel,
        "boot-new" => Event::Booted {
            new_image_running: true,
        },
        "boot-old" => Event::Booted {
            new_image_running: false,
        },
        "switch" => Event::SwitchToDownload,
        "restart" => Event::DownloadRestarted,
        "severity-0" => Event::SeverityWritten(0),
        "severity-3" => Event::SeverityWritten(3),
        "max-defer" => Event::MaxDeferPeriodWritten(60),
        "max-defer-neg" => Event::MaxDeferPeriodWritten(-1),
        "auto-upgrade" => Event::AutoUpgradeWritten(true),
        "pkg-info" => Event::PackageInfo {
            name: "fw",
            version: "2.0",
        },
        "pkg-info-long" => Event::PackageInfo {
            name: LONG_NAME,
            version: "2.0",
        },
        other => panic!("unknown event {other}"),
    }
}

const EVENTS: [&str; 40] = [
    "push-start",
    "chunk",
    "chunk-dup",
    "chunk-gap",
    "uri",
    "uri-bad",
    "uri-scheme",
    "uri-long",
    "uri-empty",
    "package-nul",
    "finished",
    "failed-2",
    "failed-3",
    "failed-4",
    "failed-5",
    "failed-6",
    "failed-7",
    "failed-9",
    "verified",
    "integrity-failed",
    "execute",
    "defer",
    "start",
    "succeeded",
    "update-failed-8",
    "update-failed-5",
    "update-failed-12",
    "update-failed-13",
    "cancel",
    "boot-new",
    "boot-old",
    "switch",
    "restart",
    "severity-0",
    "severity-3",
    "max-defer",
    "max-defer-neg",
    "auto-upgrade",
    "pkg-info",
    "pkg-info-long",
];

fn config(version: ObjectVersion) -> Config {
    Config {
        version,
        delivery: DeliveryMethod::Both,
        protocols: ProtocolSupport::COAP.with(Protocol::Coaps),
        severity: Severity::Mandatory,
        max_defer_period: 3600,
        auto_upgrade: false,
    }
}

fn ok(m: &mut FirmwareUpdate, e: Event<'_>, now: u32) {
    let out = m.handle(e, now);
    assert_eq!(out.code, ResponseCode::Changed, "set-up event {e:?}");
}

fn situation(name: &str, version: ObjectVersion) -> FirmwareUpdate {
    let mut cfg = config(version);
    cfg.auto_upgrade = name == "Downloading(auto)";
    let mut m = FirmwareUpdate::new(cfg);
    let stored = Event::ChunkStored { offset: 0, len: 64 };
    match name {
        "Idle" => {}
        "Idle(4)" => {
            ok(&mut m, Event::PackageUriWritten(URI), 100);
            ok(&mut m, stored, 101);
            ok(
                &mut m,
                Event::DownloadFailed(DownloadFailure::ConnectionLost),
                102,
            );
        }
        "Downloading(push)" | "Idle(4/push)" => {
            ok(&mut m, Event::PushStarted { identity: 7 }, 100);
            ok(&mut m, stored, 101);
            if name == "Idle(4/push)" {
                let lost = Event::DownloadFailed(DownloadFailure::ConnectionLost);
                ok(&mut m, lost, 102);
            }
        }
        "Downloading(pull)" | "Downloading(auto)" | "Downloaded" | "Downloaded(11)"
        | "Updating" => {
            ok(&mut m, Event::PackageUriWritten(URI), 100);
            ok(&mut m, stored, 101);
            if name.starts_with("Downloaded") || name == "Updating" {
                ok(&mut m, Event::DownloadFinished, 102);
                ok(&mut m, Event::IntegrityVerified, 103);
            }
            if name == "Updating" {
                ok(&mut m, Event::ExecuteUpdate, 104);
            }
            if name == "Downloaded(11)" {
                let out = m.handle(Event::Defer, 500);
                assert_eq!(out.code.is_success(), version.has_v1_1());
            }
        }
        other => panic!("unknown situation {other}"),
    }
    m
}

#[derive(Debug)]
struct Row {
    line: usize,
    states: Vec<String>,
    events: Vec<String>,
    versions: Vec<String>,
    next: String,
    result: String,
    code: String,
    actions: String,
}

fn list(cell: &str) -> Vec<String> {
    cell.split(',').map(|s| s.trim().to_string()).collect()
}

fn rows() -> Vec<Row> {
    let mut in_table = false;
    let mut out = Vec::new();
    for (i, line) in TABLE.lines().enumerate() {
        if line.starts_with("| State | Event | Version |") {
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 7, "line {}: {line}", i + 1);
        out.push(Row {
            line: i + 1,
            states: list(cells[0]),
            events: list(cells[1]),
            versions: list(cells[2]),
            next: cells[3].into(),
            result: cells[4].into(),
            code: cells[5].into(),
            actions: cells[6].into(),
        });
    }
    assert!(out.len() > 40, "table not found");
    out
}

fn matches(pat: &[String], v: &str) -> bool {
    pat.iter().any(|p| p == "*" || p == v)
}

fn code(s: &str) -> ResponseCode {
    match s {
        "2.04" => ResponseCode::Changed,
        "4.00" => ResponseCode::BadRequest,
        "4.04" => ResponseCode::NotFound,
        "4.05" => ResponseCode::MethodNotAllowed,
        other => panic!("unknown code {other}"),
    }
}

fn actions(s: &str) -> Actions {
    let mut a = Actions::NONE;
    if s == "-" {
        return a;
    }
    for c in s.chars() {
        a = a | match c {
            'S' => Actions::START_DOWNLOAD,
            'A' => Actions::ABORT_DOWNLOAD,
            'E' => Actions::ERASE_STAGING,
            'V' => Actions::VERIFY,
            'U' => Actions::APPLY,
            'R' => Actions::REBOOT,
            'P' => Actions::PERSIST,
            other => panic!("unknown action {other}"),
        };
    }
    a
}

fn state(s: &str) -> State {
    match s {
        "Idle" => State::Idle,
        "Downloading" => State::Downloading,
        "Downloaded" => State::Downloaded,
        "Updating" => State::Updating,
        other => panic!("unknown state {other}"),
    }
}

#[test]
fn every_cell_matches_the_documented_table() {
    let rows = rows();
    let mut used = vec![false; rows.len()];
    let long = long_uri();
    let mut cells = 0usize;
    for (vname, version) in VERSIONS {
        for sit in SITUATIONS {
            for ev in EVENTS {
                let Some(ri) = rows.iter().position(|r| {
                    matches(&r.states, sit) && matches(&r.events, ev) && matches(&r.versions, vname)
                }) else {
                    panic!("no row for {sit} × {ev} × {vname}");
                };
                let row = &rows[ri];
                used[ri] = true;
                let mut m = situation(sit, version);
                let before = m.clone();
                let out = m.handle(event(ev, &long), 1000);
                let at = format!("{sit} × {ev} × {vname} (table line {})", row.line);
                assert_eq!(out.code, code(&row.code), "code of {at}");
                assert_eq!(out.actions, actions(&row.actions), "actions of {at}");
                let want_state = if row.next == "=" {
                    before.state()
                } else {
                    state(&row.next)
                };
                assert_eq!(m.state(), want_state, "state of {at}");
                let want_result = if row.result == "=" {
                    before.update_result()
                } else {
                    UpdateResult::from_u8(row.result.parse().unwrap()).unwrap()
                };
                assert_eq!(m.update_result(), want_result, "result of {at}");
                if !out.code.is_success() {
                    assert_eq!(m, before, "a rejected event changed something: {at}");
                    assert!(out.changed.is_empty(), "{at}");
                }
                check_changed(&before, &m, out.changed, &at);
                cells += 1;
            }
        }
    }
    for (r, u) in rows.iter().zip(&used) {
        assert!(u, "table line {} matches no cell", r.line);
    }
    assert_eq!(cells, 4 * 9 * EVENTS.len());
    println!("matrix: {cells} cells asserted");
}

/// The changed set agrees with the values before and after.
fn check_changed(
    before: &FirmwareUpdate,
    after: &FirmwareUpdate,
    changed: fota_fsm::Resources,
    at: &str,
) {
    let v11 = after.object_version().has_v1_1();
    let state_changed = before.state() != after.state();
    assert_eq!(changed.contains(3), state_changed, "3 of {at}");
    assert_eq!(changed.contains(12), state_changed && v11, "12 of {at}");
    if state_changed && v11 {
        assert_eq!(after.last_state_change_time(), Some(1000), "LSCT of {at}");
    }
    assert_eq!(
        changed.contains(5),
        before.update_result() != after.update_result(),
        "5 of {at}"
    );
    assert_eq!(
        changed.contains(26500),
        before.transferred_bytes() != after.transferred_bytes(),
        "26500 of {at}"
    );
    assert_eq!(
        changed.contains(6),
        before.pkg_name() != after.pkg_name(),
        "6 of {at}"
    );
    assert_eq!(
        changed.contains(7),
        before.pkg_version() != after.pkg_version(),
        "7 of {at}"
    );
    assert_eq!(
        changed.contains(11),
        before.severity() != after.severity(),
        "11 of {at}"
    );
    assert_eq!(
        changed.contains(13),
        before.max_defer_period() != after.max_defer_period(),
        "13 of {at}"
    );
    assert_eq!(
        changed.contains(14),
        before.auto_upgrade() != after.auto_upgrade(),
        "14 of {at}"
    );
    if !v11 {
        for id in 10..=14 {
            assert!(!changed.contains(id), "{id} in 1.0: {at}");
        }
    }
    for id in [0u16, 1, 2, 4, 8, 9, 10] {
        assert!(!changed.contains(id), "{id} of {at}");
    }
}
