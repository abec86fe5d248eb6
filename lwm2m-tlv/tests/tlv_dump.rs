//! The `tlv_dump` example is a contract for outside tools: output format, `-` for stdin,
//! spaces in the hex, exit codes and the one-line error with its offset.
#![cfg(feature = "std")]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The example binary: the one `cargo test` built beside this test, else a fresh build in a
/// separate target directory (so the outer cargo's lock is not needed).
fn binary() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
        let name = format!("tlv_dump{}", std::env::consts::EXE_SUFFIX);
        let built = profile_dir.join("examples").join(&name);
        if built.is_file() {
            return built;
        }
        let target = profile_dir.join("tlv_dump-test");
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "lwm2m-tlv",
                "--features",
                "std",
                "--example",
                "tlv_dump",
            ])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success());
        target.join("debug").join("examples").join(name)
    })
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: Option<&str>) -> String {
    let out = run(args, stdin);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

/// Exit 1, nothing on stdout, one stderr line; returns it.
fn fails(args: &[&str], stdin: Option<&str>) -> String {
    let out = run(args, stdin);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.ends_with('\n'));
    err
}

const DEVICE: &str = "08 00 79
    c8 00 14 4f 70 65 6e 20 4d 6f 62 69 6c 65 20 41 6c 6c 69 61 6e 63 65
    c8 01 16 4c 69 67 68 74 77 65 69 67 68 74 20 4d 32 4d 20 43 6c 69 65 6e 74
    c8 02 09 33 34 35 30 30 30 31 32 33
    c3 03 31 2e 30
    86 06 41 00 01 41 01 05
    88 07 08 42 00 0e d8 42 01 13 88
    87 08 41 00 7d 42 01 03 84
    c1 09 64
    c1 0a 0f
    83 0b 41 00 00
    c4 0d 51 82 42 8f
    c6 0e 2b 30 32 3a 30 30
    c1 10 55";

const DEVICE_DUMP: &str = "\
instance 0 121
  resource 0 20 4f70656e204d6f62696c6520416c6c69616e6365
  resource 1 22 4c69676874776569676874204d324d20436c69656e74
  resource 2 9 333435303030313233
  resource 3 3 312e30
  multiple 6 6
    resource-instance 0 1 01
    resource-instance 1 1 05
  multiple 7 8
    resource-instance 0 2 0ed8
    resource-instance 1 2 1388
  multiple 8 7
    resource-instance 0 1 7d
    resource-instance 1 2 0384
  resource 9 1 64
  resource 10 1 0f
  multiple 11 3
    resource-instance 0 1 00
  resource 13 4 5182428f
  resource 14 6 2b30323a3030
  resource 16 1 55
";

#[test]
fn device_object_from_argument_and_stdin() {
    assert_eq!(ok(&[DEVICE], None), DEVICE_DUMP);
    assert_eq!(ok(&["-"], Some(DEVICE)), DEVICE_DUMP);
    assert_eq!(
        ok(&["-"], Some(&format!("{}\n", DEVICE.to_uppercase()))),
        DEVICE_DUMP
    );
    // Without spaces, and split over several arguments.
    let compact: String = DEVICE.split_whitespace().collect();
    assert_eq!(ok(&[&compact], None), DEVICE_DUMP);
    let words: Vec<&str> = DEVICE.split_whitespace().collect();
    assert_eq!(ok(&words, None), DEVICE_DUMP);
}

#[test]
fn empty_values_print_no_hex() {
    assert_eq!(
        ok(&["c0 05 40 01 e0 01 00 80 02 00 00"], None),
        "resource 5 0\nresource-instance 1 0\nresource 256 0\nmultiple 2 0\ninstance 0 0\n"
    );
    // Sixteen-bit lengths and ids.
    let long = format!("f0 01 00 01 00 {}", "ab ".repeat(256));
    assert_eq!(
        ok(&[&long], None),
        format!("resource 256 256 {}\n", "ab".repeat(256))
    );
    // An empty payload has no records.
    assert_eq!(ok(&[""], None), "");
    assert_eq!(ok(&["-"], Some("\n")), "");
}

#[test]
fn malformed_input_exits_1_with_the_offset() {
    // Value past the end of the input.
    let e = fails(&["c1 00 01 c3 00 01"], None);
    assert!(e.contains("offset 3"), "{e}");
    // Value past the end of its container.
    let e = fails(&["03 00 c4 01 aa c1 02 05"], None);
    assert!(e.contains("offset 2"), "{e}");
    // Truncated header at the end (not fully consumed).
    let e = fails(&["-"], Some("c1 00 01 e1 00"));
    assert!(e.contains("truncated") && e.contains("offset 3"), "{e}");
    // Bad nesting.
    let e = fails(&["03 00 41 00 01"], None);
    assert!(e.contains("offset 2"), "{e}");
    // Not hex, odd digits, no argument.
    let e = fails(&["c1 0g 01"], None);
    assert!(e.contains("offset 4"), "{e}");
    let e = fails(&["c1 00 0"], None);
    assert!(e.contains("offset 6"), "{e}");
    fails(&[], None);
}
