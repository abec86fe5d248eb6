//! The `fota-delta` command-line tool.
#![cfg(feature = "std")]

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fota-delta"))
}

#[test]
fn diff_apply_info() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let old: Vec<u8> = (0..50_000u32).map(|i| (i * 13 % 241) as u8).collect();
    let mut new = old.clone();
    new[1000..1010].fill(0xAA);
    new.extend_from_slice(b"more");
    std::fs::write(p("old"), &old).unwrap();
    std::fs::write(p("new"), &new).unwrap();
    for format in ["native", "bsdiff40"] {
        let st = bin()
            .arg("diff")
            .args([p("old"), p("new"), p("patch")])
            .args(["--format", format])
            .status()
            .unwrap();
        assert!(st.success());
        let st = bin()
            .arg("apply")
            .args([p("old"), p("patch"), p("out")])
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(std::fs::read(p("out")).unwrap(), new);
        let info = bin().arg("info").arg(p("patch")).output().unwrap();
        assert!(info.status.success());
        let text = String::from_utf8(info.stdout).unwrap();
        assert!(text.contains("new size:      50004"), "{text}");
        std::fs::remove_file(p("out")).unwrap();
    }
}

#[test]
fn bad_input_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("old"), b"old image").unwrap();
    std::fs::write(p("junk"), b"FOTADP\x01\x01 not really a patch").unwrap();
    let out = bin()
        .arg("apply")
        .args([p("old"), p("junk"), p("out")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("fota-delta: error:"));
    assert!(!p("out").exists(), "half-written output left behind");
    // A wrong old image: the digest check fails before anything is written.
    std::fs::write(p("new"), b"new image").unwrap();
    assert!(
        bin()
            .arg("diff")
            .args([p("old"), p("new"), p("patch")])
            .status()
            .unwrap()
            .success()
    );
    std::fs::write(p("other"), b"other img").unwrap();
    let out = bin()
        .arg("apply")
        .args([p("other"), p("patch"), p("out")])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("old image digest"));
    assert!(!p("out").exists());
    assert!(
        !bin()
            .arg("info")
            .arg(p("missing"))
            .status()
            .unwrap()
            .success()
    );
}
