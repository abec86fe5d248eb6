//! Prints an OMA DDF object definition in a line format that other tools read.
//!
//! ```text
//! cargo run -p lwm2m-objects --features std --example ddf -- FILE.xml
//! object <id> <name> <single|multiple> <mandatory|optional>
//! <id> <name> <ops> <single|multiple> <mandatory|optional> <type>     (one line per resource, id order)
//! ```
//!
//! `ops` is `R`, `W`, `RW`, `E` or `-`; `type` is the DDF `Type` lower-cased or `none`. On bad
//! input it prints one line naming the file, line and element to stderr and exits with 1.

use std::io::Write;
use std::process::ExitCode;

use lwm2m_objects::ddf::load_ddf;

fn word(yes: bool, a: &'static str, b: &'static str) -> &'static str {
    if yes { a } else { b }
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(file), None) = (args.next(), args.next()) else {
        eprintln!("usage: ddf FILE.xml");
        return ExitCode::from(2);
    };
    let objects = match load_ddf(&file) {
        Ok(objects) => objects,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = String::new();
    for o in &objects {
        out.push_str(&format!(
            "object {} {} {} {}\n",
            o.id,
            o.name,
            word(o.multiple, "multiple", "single"),
            word(o.mandatory, "mandatory", "optional"),
        ));
        for r in &o.resources {
            out.push_str(&format!(
                "{} {} {} {} {} {}\n",
                r.id,
                r.name,
                r.operations.as_str(),
                word(r.multiple, "multiple", "single"),
                word(r.mandatory, "mandatory", "optional"),
                r.type_label(),
            ));
        }
    }
    if std::io::stdout().write_all(out.as_bytes()).is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
