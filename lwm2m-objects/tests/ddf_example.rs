//! The `ddf` example is a contract read by outside tools: its output format and its errors.
#![cfg(feature = "std")]

use std::path::PathBuf;
use std::process::{Command, Output};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the example built beside this test (`cargo test` builds examples), or through cargo.
fn ddf(args: &[&str]) -> Output {
    let built = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("examples").join("ddf")))
        .filter(|p| p.exists());
    let mut cmd = match built {
        Some(exe) => Command::new(exe),
        None => {
            let mut c = Command::new(env!("CARGO"));
            c.args([
                "run",
                "-q",
                "-p",
                "lwm2m-objects",
                "--features",
                "std",
                "--example",
                "ddf",
                "--",
            ]);
            c
        }
    };
    cmd.current_dir(manifest())
        .args(args)
        .output()
        .expect("run the ddf example")
}

#[test]
fn prints_object_5_in_the_contract_format() {
    let out = ddf(&["ddf/5-1_2-operator.xml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "object 5 Firmware Update single optional\n\
         0 Package W single mandatory opaque\n\
         1 Package URI RW single mandatory string\n\
         2 Update E single mandatory none\n\
         3 State R single mandatory integer\n\
         5 Update Result R single mandatory integer\n\
         6 PkgName R single optional string\n\
         7 PkgVersion R single optional string\n\
         8 Firmware Update Protocol Support R multiple optional integer\n\
         9 Firmware Update Delivery Method R single mandatory integer\n\
         10 Cancel E single optional none\n\
         11 Severity RW single optional integer\n\
         12 Last State Change Time R single optional time\n\
         13 Maximum Defer Period RW single optional unsigned integer\n\
         14 Automatic Upgrade at Download RW single optional boolean\n\
         26500 Transferred Bytes R single optional integer\n\
         26501 Switch to Download State E single optional none\n"
    );
}

#[test]
fn sorts_resources_and_keeps_names_as_written() {
    let out = ddf(&["ddf/meter-33001.xml"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "object 33001 Meter multiple optional\n\
         0 Meter Reading R single mandatory float\n\
         1 Reset E single mandatory none\n\
         3 Set Point RW single mandatory unsigned integer\n"
    );
    let out = ddf(&["ddf/0.xml"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("object 0 LWM2M Security multiple mandatory\n0 LWM2M  Server URI - single mandatory string\n"));
    assert_eq!(text.lines().count(), 14);
}

#[test]
fn bad_input_exits_1_with_one_line_naming_the_element() {
    for (file, element) in [
        ("bad-type.xml", "<Item ID=\"2\"/Type>"),
        ("bad-operations.xml", "<Item ID=\"1\"/Operations>"),
        ("duplicate-id.xml", "<Item ID=\"0\">"),
        ("bad-object-id.xml", "<ObjectID>"),
        ("bad-urn.xml", "<ObjectURN>"),
        ("missing-name.xml", "<Name>"),
        ("truncated.xml", "<document>"),
        ("does-not-exist.xml", "<file>"),
    ] {
        let path = format!("tests/ddf-bad/{file}");
        let out = ddf(&[&path]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(out.stdout.is_empty(), "{file}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{file}: {err}");
        assert!(
            err.contains(&path) && err.contains(element),
            "{file}: {err}"
        );
    }
}
