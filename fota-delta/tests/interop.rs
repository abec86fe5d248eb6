//! Interop with Debian's bsdiff 4.3 on every corpus pair, and native round trips on them.
//!
//! The corpus is read in place from `$FOTA_CORPUS` or `../shared/corpus` beside the workspace.
//! The workspace builds this crate with `opt-level = 2` even in test builds, so the 5 MB
//! pydantic-core pair takes about 40 s here (most of it in Debian's bsdiff).
#![cfg(feature = "std")]

use std::path::PathBuf;
use std::process::Command;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FOTA_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    dir.is_dir().then_some(dir)
}

fn pairs() -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let Some(dir) = corpus() else {
        eprintln!("corpus not found: skipped");
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("old.bin").is_file() && p.join("new.bin").is_file())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let old = std::fs::read(p.join("old.bin")).unwrap();
            let new = std::fs::read(p.join("new.bin")).unwrap();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                old,
                new,
            )
        })
        .collect()
}

#[test]
fn native_roundtrip_on_corpus() {
    for (name, old, new) in pairs() {
        let patch = fota_delta::diff(&old, &new);
        let mut p = fota_delta::Patcher::new();
        let mut out = Vec::new();
        for c in patch.chunks(512) {
            p.feed(c, &mut old.as_slice(), &mut out).unwrap();
        }
        p.finish(&mut old.as_slice(), &mut out).unwrap();
        assert!(out == new, "{name}");
        eprintln!("{name}: native patch {} bytes", patch.len());
    }
}

#[test]
#[ignore = "needs bsdiff; run by .ci/run"]
fn debian_bsdiff_interop() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, old, new) in pairs() {
        let (o, n) = (tmp.path().join("old"), tmp.path().join("new"));
        std::fs::write(&o, &old).unwrap();
        std::fs::write(&n, &new).unwrap();
        // Debian bsdiff output, applied by us.
        let theirs = tmp.path().join("theirs.patch");
        assert!(
            Command::new("bsdiff")
                .args([&o, &n, &theirs])
                .status()
                .unwrap()
                .success()
        );
        let applied = fota_delta::bsdiff40::apply(&old, &std::fs::read(&theirs).unwrap()).unwrap();
        assert!(applied == new, "{name}: our bspatch differs");
        // Our BSDIFF40 output, applied by Debian bspatch (argument order: OLD NEW PATCH).
        let ours = tmp.path().join("ours.patch");
        std::fs::write(&ours, fota_delta::bsdiff40::diff(&old, &new)).unwrap();
        let out = tmp.path().join("out");
        assert!(
            Command::new("bspatch")
                .args([&o, &out, &ours])
                .status()
                .unwrap()
                .success()
        );
        assert!(
            std::fs::read(&out).unwrap() == new,
            "{name}: bspatch of our patch differs"
        );
        // And the native format through the streaming patcher in CoAP-sized chunks.
        let patch = fota_delta::diff(&old, &new);
        let mut p = fota_delta::Patcher::new();
        let mut rebuilt = Vec::new();
        for c in patch.chunks(256) {
            p.feed(c, &mut old.as_slice(), &mut rebuilt).unwrap();
        }
        p.finish(&mut old.as_slice(), &mut rebuilt).unwrap();
        assert!(rebuilt == new, "{name}: native");
        eprintln!("{name}: ok");
    }
}
