//! Interop with real peers: libcoap 4.3 (`coap-client-notls`, `coap-server-notls`) and aiocoap.
//! Every transfer is checked by SHA-256 (libcoap exits 0 even when a transfer failed).
mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
#[ignore = "needs libcoap3-bin; run by .ci/run"]
fn libcoap_client_gets_every_block_size() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("aligned.bin", body(20 * 1024, 1)),
        ("odd.bin", body(20_001, 2)),
    ];
    for (name, data) in &files {
        std::fs::write(dir.path().join(name), data).unwrap();
    }
    let server = Server::start(dir.path(), 6);
    for szx in 0..=6u32 {
        let size = 16 << szx;
        for (name, data) in &files {
            let out = dir.path().join(format!("out-{size}-{name}"));
            let uri = format!("coap://{}/{name}", server.addr);
            run(
                Command::new("coap-client-notls")
                    .args(["-B", "20", "-b", &size.to_string(), "-o"])
                    .arg(&out)
                    .arg(&uri),
                LIMIT,
            );
            assert_eq!(
                sha256_file(&out),
                sha256(data),
                "GET {name} with {size}-byte blocks"
            );
        }
    }
}

#[test]
#[ignore = "needs libcoap3-bin; run by .ci/run"]
fn libcoap_client_puts_300k_at_1024_and_512() {
    let dir = tempfile::tempdir().unwrap();
    let data = body(300_000, 3);
    let src = dir.path().join("src.bin");
    std::fs::write(&src, &data).unwrap();
    std::fs::create_dir_all(dir.path().join("root")).unwrap();
    let server = Server::start(&dir.path().join("root"), 6);
    for size in ["1024", "512"] {
        let uri = format!("coap://{}/5/0/0-{size}", server.addr);
        run(
            Command::new("coap-client-notls")
                .args(["-B", "20", "-m", "put", "-t", "42", "-b", size, "-f"])
                .arg(&src)
                .arg(&uri),
            LIMIT,
        );
        let got = dir.path().join("root/5/0").join(format!("0-{size}"));
        assert_eq!(
            sha256_file(&got),
            sha256(&data),
            "PUT with {size}-byte blocks"
        );
    }
}

#[test]
#[ignore = "needs libcoap3-bin; run by .ci/run"]
fn coap_fetch_from_libcoap_server_full_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let data = body(300_000, 4);
    let src = dir.path().join("fw.bin");
    std::fs::write(&src, &data).unwrap();
    let port = free_port();
    let _peer = Peer(
        Command::new("coap-server-notls")
            .args(["-A", "127.0.0.1", "-p", &port.to_string(), "-d", "10"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("coap-server-notls"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let uri = format!("coap://127.0.0.1:{port}/fw");
    run(
        Command::new("coap-client-notls")
            .args(["-B", "20", "-m", "put", "-b", "1024", "-f"])
            .arg(&src)
            .arg(&uri),
        LIMIT,
    );
    let fetch = example("coap_fetch");
    let out = dir.path().join("out.bin");
    let (ok, stdout) = run(Command::new(&fetch).arg(&uri).arg(&out), LIMIT);
    assert!(
        ok,
        "coap_fetch failed: {}",
        String::from_utf8_lossy(&stdout)
    );
    assert_eq!(sha256_file(&out), sha256(&data));

    // Resume: the first 100,000 bytes are there; fetch the rest with 512-byte blocks.
    let part = dir.path().join("part.bin");
    std::fs::write(&part, &data[..100_000]).unwrap();
    let (ok, stdout) = run(
        Command::new(&fetch)
            .args(["--szx", "5", "--offset", "100000"])
            .arg(&uri)
            .arg(&part),
        LIMIT,
    );
    assert!(
        ok,
        "coap_fetch --offset failed: {}",
        String::from_utf8_lossy(&stdout)
    );
    assert_eq!(sha256_file(&part), sha256(&data));
}

#[test]
#[ignore = "needs aiocoap (pip); run by .ci/run"]
fn aiocoap_client_get_and_put() {
    let dir = tempfile::tempdir().unwrap();
    let data = body(100_000, 5);
    std::fs::write(dir.path().join("fw.bin"), &data).unwrap();
    let server = Server::start(dir.path(), 6);
    let (_, got) = run(
        Command::new("aiocoap-client").arg(format!("coap://{}/fw.bin", server.addr)),
        LIMIT,
    );
    assert_eq!(sha256(&got), sha256(&data), "aiocoap GET");

    let src = dir.path().join("fw.bin");
    run(
        Command::new("aiocoap-client")
            .args([
                "-m",
                "PUT",
                "--content-format",
                "application/octet-stream",
                "--payload",
            ])
            .arg(format!("@{}", src.display()))
            .arg(format!("coap://{}/5/0/0", server.addr)),
        LIMIT,
    );
    assert_eq!(
        sha256_file(&dir.path().join("5/0/0")),
        sha256(&data),
        "aiocoap PUT"
    );
}
