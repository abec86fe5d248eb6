//! `fota-server` updates a `fota-client`, both as separate processes on loopback; its flags
//! (delivery mode, signing key, delta, thresholds, retry policy) change what happens.

use lwm2m_fota::image;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines a child prints, as they come.
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits up to `secs` for a line starting with (or, for the server, containing) `want`.
fn expect(rx: &mpsc::Receiver<String>, want: &str, secs: u64) -> Vec<String> {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = line.contains(want);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no {want:?}; saw: {seen:#?}");
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server on a free port with `args` (plus --listen and --target-version 2.0.0) and a
/// client registered to it; returns both with their output lines.
fn start(
    dir: &Path,
    package: &Path,
    args: &[&str],
) -> (Kill, mpsc::Receiver<String>, Kill, mpsc::Receiver<String>) {
    start_with(dir, package, args, &[])
}

fn start_with(
    dir: &Path,
    package: &Path,
    args: &[&str],
    client_args: &[&str],
) -> (Kill, mpsc::Receiver<String>, Kill, mpsc::Receiver<String>) {
    let port = free_port();
    let mut server = Kill(
        Command::new(env!("CARGO_BIN_EXE_fota-server"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--target-version",
                "2.0.0",
                "--ack-timeout",
                "0.5",
            ])
            .arg("--package")
            .arg(package)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let server_lines = lines(&mut server.0);
    expect(&server_lines, "listening on", 10);
    let mut client = Kill(
        Command::new(env!("CARGO_BIN_EXE_fota-client"))
            .args([
                "--server",
                &format!("coap://127.0.0.1:{port}"),
                "--endpoint",
                "bin-test",
                "--exit-after",
                "40",
            ])
            .arg("--flash")
            .arg(dir.join("flash"))
            .args(client_args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let client_lines = lines(&mut client.0);
    (server, server_lines, client, client_lines)
}

fn new_image(dir: &Path) -> PathBuf {
    let package = dir.join("fw-2.0.0.bin");
    std::fs::write(&package, image::generate_body(2, 20_000)).unwrap();
    package
}

fn update(mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let package = new_image(dir.path());
    let (_s, _sl, _c, client) = start(dir.path(), &package, &["--mode", mode]);
    expect(&client, "state 0 result 1", 40);
}

#[test]
fn server_pushes_to_client() {
    update("push");
}

#[test]
fn client_pulls_from_server() {
    update("pull");
}

#[test]
fn auto_mode_follows_the_delivery_method() {
    // The simulated device allows both (/5/0/9 = 2): auto pushes.
    let dir = tempfile::tempdir().unwrap();
    let package = new_image(dir.path());
    let (_s, server, _c, client) = start(dir.path(), &package, &["--mode", "auto"]);
    expect(&client, "state 0 result 1", 40);
    expect(&server, "updated 1", 10);
}

#[test]
fn delta_from_the_devices_image() {
    // fota-client's factory image is generate_body(1, 64 KiB) at 1.0.0.
    let dir = tempfile::tempdir().unwrap();
    let old = image::generate_body(1, 64 * 1024);
    let new = image::evolve_body(&old, 2);
    std::fs::write(dir.path().join("old.bin"), &old).unwrap();
    std::fs::write(dir.path().join("new.bin"), &new).unwrap();
    let old_path = dir.path().join("old.bin");
    let (_s, server, _c, client) = start(
        dir.path(),
        &dir.path().join("new.bin"),
        &["--delta-from", old_path.to_str().unwrap()],
    );
    expect(&client, "state 0 result 1", 40);
    let seen = expect(&server, "updated 1", 10);
    let on_air: u64 = seen
        .last()
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        on_air < new.len() as u64 / 4,
        "a delta: {on_air} bytes on air for a {} byte image",
        new.len()
    );
}

#[test]
fn package_signed_with_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let package = new_image(dir.path());
    let key = dir.path().join("vendor.key");
    std::fs::write(&key, format!("{}\n", "17".repeat(32))).unwrap();
    let (_s, server, _c, client) = start(
        dir.path(),
        &package,
        &["--key", key.to_str().unwrap(), "--mode", "push"],
    );
    expect(&client, "state 0 result 5", 40);
    expect(&server, "Result 5", 10);
}

#[test]
fn vendor_key_and_class_provisioned_on_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let package = new_image(dir.path());
    let key = dir.path().join("vendor.key");
    std::fs::write(&key, [0x17u8; 32]).unwrap();
    let public = lwm2m_fota::server::PackageSigner::from_seed([0x17; 32], b"acme/board-7")
        .public_key()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let (_s, server, _c, client) = start_with(
        dir.path(),
        &package,
        &["--key", key.to_str().unwrap(), "--class", "acme/board-7"],
        &["--public-key", &public, "--class", "acme/board-7"],
    );
    expect(&client, "state 0 result 1", 40);
    expect(&server, "updated 1", 10);
}

#[test]
fn thresholds_and_retry_policy() {
    // The simulated device reports 87 % battery: --min-battery 90 holds Execute back; after
    // one retry at least 0.2 s later the job fails, the image stays Downloaded.
    let dir = tempfile::tempdir().unwrap();
    let package = new_image(dir.path());
    let start_at = Instant::now();
    let (_s, server, _c, client) = start(
        dir.path(),
        &package,
        &[
            "--min-battery",
            "90",
            "--min-signal",
            "-100",
            "--min-free-memory",
            "16",
            "--max-retries",
            "1",
            "--retry-interval",
            "0.2",
        ],
    );
    expect(&client, "state 2 result 0", 40);
    expect(&server, "battery too low (after 1 retries)", 20);
    assert!(start_at.elapsed() >= Duration::from_millis(200));
    assert!(client.try_iter().all(|l| !l.contains("result 1")));

    // Signal and memory thresholds pass for the device (-85 dBm, 48 KiB); a stricter signal
    // threshold fails the same way.
    let dir = tempfile::tempdir().unwrap();
    let package = new_image(dir.path());
    let (_s, server, _c, _client) = start(
        dir.path(),
        &package,
        &[
            "--min-signal",
            "-80",
            "--max-retries",
            "0",
            "--retry-interval",
            "0",
        ],
    );
    expect(&server, "signal too weak (after 0 retries)", 30);
    let dir = tempfile::tempdir().unwrap();
    let package = new_image(dir.path());
    let (_s, server, _c, _client) = start(
        dir.path(),
        &package,
        &["--min-free-memory", "64", "--max-retries", "0"],
    );
    expect(&server, "not enough free memory (after 0 retries)", 30);
}

#[test]
fn help_documents_every_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_fota-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--public-addr",
        "--package",
        "--delta-from",
        "--target-version",
        "--key",
        "--class",
        "--mode",
        "--min-battery",
        "--min-signal",
        "--min-free-memory",
        "--max-retries",
        "--retry-interval",
        "--ack-timeout",
    ] {
        assert!(help.contains(flag), "{flag} in --help:\n{help}");
    }
    for mode in ["auto", "push", "pull", "/5/0/9"] {
        assert!(help.contains(mode), "{mode} in --help");
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let package = new_image(dir.path());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fota-server"))
            .args(["--listen", "127.0.0.1:0", "--package"])
            .arg(&package)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--target-version", "two"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("major.minor.patch"));
    let out = run(&["--target-version", "2.0.0", "--mode", "sideways"]);
    assert!(!out.status.success());
    let out = run(&["--target-version", "2.0.0", "--retry-interval", "-1"]);
    assert!(!out.status.success());
    // A signed package for another version than the target.
    let signed = dir.path().join("signed.bin");
    std::fs::write(
        &signed,
        lwm2m_fota::server::PackageSigner::demo()
            .sign_image(0x0003_0000, b"firmware")
            .unwrap(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fota-server"))
        .args(["--listen", "127.0.0.1:0", "--target-version", "2.0.0"])
        .arg("--package")
        .arg(&signed)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("signed for 3.0.0"));
}

fn demo(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_fota-demo"))
        .args(["--json", "--image-size", "12000", "--devices", "3"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("one JSON object ({e}): {text}"));
    (out.status.code().unwrap_or(-1), json)
}

#[test]
fn fota_demo_json_summary_and_exit_status() {
    let (code, j) = demo(&["--loss", "5", "--mode", "mixed", "--power-cuts", "1"]);
    assert_eq!(code, 0, "{j}");
    for key in [
        "devices",
        "updated",
        "failed",
        "retries",
        "bytes_on_air",
        "full_image_bytes",
        "seconds",
    ] {
        assert!(j.get(key).is_some(), "{key} in {j}");
    }
    assert_eq!(
        (j["devices"].as_u64(), j["updated"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(j["bytes_on_air"].as_u64().unwrap() < j["full_image_bytes"].as_u64().unwrap());

    // A package the devices refuse: nobody updated, exit status 1.
    let (code, j) = demo(&["--loss", "0", "--forge", "wrong-class"]);
    assert_eq!(code, 1, "{j}");
    assert_eq!(
        (j["updated"].as_u64(), j["failed"].as_u64()),
        (Some(0), Some(3))
    );
}
