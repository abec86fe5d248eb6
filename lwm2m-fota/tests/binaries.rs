//! `fota-server` updates a `fota-client`, both as separate processes on loopback.

use lwm2m_fota::image;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn update(mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("fw-2.0.0.bin");
    std::fs::write(
        &package,
        image::build("2.0.0", &image::generate_body(2, 20_000)),
    )
    .unwrap();
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Kill(
        Command::new(env!("CARGO_BIN_EXE_fota-server"))
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--target-version",
                "2.0.0",
                "--mode",
                mode,
            ])
            .arg("--package")
            .arg(&package)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(Duration::from_millis(200));
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
            .arg(dir.path().join("flash"))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = client.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(40)) {
        let done = line.starts_with("state 0 result 1");
        lines.push(line);
        if done {
            return;
        }
    }
    panic!("no Result 1; client said: {lines:#?}");
}

#[test]
fn server_pushes_to_client() {
    update("push");
}

#[test]
fn client_pulls_from_server() {
    update("pull");
}
