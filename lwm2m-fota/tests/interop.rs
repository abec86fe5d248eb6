//! Interop with libcoap's command-line peers: `coap-client-notls` acting as the LwM2M server
//! against `fota-client` (Block1 push of /5/0/0, TLV reads of /5/0/3 and /5/0/5, Execute), and
//! `fota-client` pulling its package from `coap-server-notls`. libcoap's exit code is never
//! trusted: the device's state and version are read back. Packages are signed with the demo
//! key that `fota-client`'s device is provisioned with.

use lwm2m_fota::image;
use lwm2m_fota::server::{PackageSigner, parse_version};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signed(version: &str, image: &[u8]) -> Vec<u8> {
    PackageSigner::demo()
        .sign_image(parse_version(version).unwrap(), image)
        .unwrap()
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `fota-client` on `port`; its registrations go to a socket nobody answers.
fn start_client(port: u16, flash: &Path) -> (Kill, UdpSocket) {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = format!("coap://{}", sink.local_addr().unwrap());
    let child = Command::new(env!("CARGO_BIN_EXE_fota-client"))
        .args([
            "--server",
            &server,
            "--endpoint",
            "interop",
            "--port",
            &port.to_string(),
        ])
        .arg("--flash")
        .arg(flash)
        .args(["--exit-after", "80"])
        .stdout(Stdio::null())
        .spawn()
        .expect("fota-client runs");
    thread::sleep(Duration::from_millis(300));
    (Kill(child), sink)
}

fn coap(args: &[&str]) -> Vec<u8> {
    let out = Command::new("coap-client-notls")
        .args(["-B", "20"])
        .args(args)
        .output()
        .expect("coap-client-notls runs");
    out.stdout
}

/// GET `path` with Accept TLV: the single resource's integer value.
fn read_tlv_int(port: u16, path: &str) -> Option<i64> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    coap(&[
        "-m",
        "get",
        "-A",
        "11542",
        "-o",
        file.to_str().unwrap(),
        &format!("coap://127.0.0.1:{port}/{path}"),
    ]);
    let body = std::fs::read(&file).ok()?;
    let (_, id, value, used) = lwm2m_fota::tlv::read(&body)?;
    let want: u16 = path.rsplit('/').next()?.parse().ok()?;
    (id == want && used == body.len()).then_some(())?;
    lwm2m_fota::tlv::int(value)
}

fn read_text(port: u16, path: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    coap(&[
        "-m",
        "get",
        "-o",
        file.to_str().unwrap(),
        &format!("coap://127.0.0.1:{port}/{path}"),
    ]);
    String::from_utf8_lossy(&std::fs::read(&file).unwrap_or_default()).into_owned()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

fn push_and_update(block: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (_client, _sink) = start_client(port, &dir.path().join("flash"));
    // A package signed with the demo key the simulated device trusts.
    let fw = signed("2.0.0", &image::generate_body(3, 40_000));
    let fw_file = dir.path().join("fw.bin");
    std::fs::write(&fw_file, &fw).unwrap();
    coap(&[
        "-m",
        "put",
        "-b",
        block,
        "-t",
        "42",
        "-f",
        fw_file.to_str().unwrap(),
        &format!("coap://127.0.0.1:{port}/5/0/0"),
    ]);
    assert_eq!(
        read_tlv_int(port, "5/0/3"),
        Some(2),
        "State Downloaded after the push"
    );
    assert_eq!(read_tlv_int(port, "5/0/5"), Some(0));
    assert_eq!(read_tlv_int(port, "5/0/26500"), Some(fw.len() as i64));
    coap(&["-m", "post", &format!("coap://127.0.0.1:{port}/5/0/2")]);
    wait_for("Result 1", || read_tlv_int(port, "5/0/5") == Some(1));
    assert_eq!(read_text(port, "3/0/3"), "2.0.0");
    assert_eq!(read_tlv_int(port, "5/0/3"), Some(0));
}

#[test]
#[ignore = "needs libcoap3-bin; run by .ci/run"]
fn coap_client_pushes_with_512_byte_blocks_then_executes() {
    push_and_update("512");
}

#[test]
#[ignore = "needs libcoap3-bin; run by .ci/run"]
fn coap_client_pushes_with_1024_byte_blocks_then_executes() {
    push_and_update("1024");
}

#[test]
#[ignore = "needs libcoap3-bin; run by .ci/run"]
fn fota_client_pulls_from_coap_server() {
    let dir = tempfile::tempdir().unwrap();
    let host = free_port();
    let _server = Kill(
        Command::new("coap-server-notls")
            .args(["-A", "127.0.0.1", "-p", &host.to_string(), "-d", "10"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("coap-server-notls runs"),
    );
    thread::sleep(Duration::from_millis(300));
    let fw = signed("3.0.0", &image::generate_body(5, 30_000));
    let fw_file = dir.path().join("fw.bin");
    std::fs::write(&fw_file, &fw).unwrap();
    coap(&[
        "-m",
        "put",
        "-b",
        "1024",
        "-f",
        fw_file.to_str().unwrap(),
        &format!("coap://127.0.0.1:{host}/fw"),
    ]);

    let port = free_port();
    let (_client, _sink) = start_client(port, &dir.path().join("flash"));
    let uri = format!("coap://127.0.0.1:{host}/fw");
    coap(&[
        "-m",
        "put",
        "-t",
        "0",
        "-e",
        &uri,
        &format!("coap://127.0.0.1:{port}/5/0/1"),
    ]);
    wait_for("State Downloaded", || {
        read_tlv_int(port, "5/0/3") == Some(2)
    });
    coap(&["-m", "post", &format!("coap://127.0.0.1:{port}/5/0/2")]);
    wait_for("Result 1", || read_tlv_int(port, "5/0/5") == Some(1));
    assert_eq!(read_text(port, "3/0/3"), "3.0.0");
}
