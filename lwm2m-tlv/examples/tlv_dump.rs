//! Prints the records of a TLV payload given in hex, one line per record, depth-first.
//!
//! ```text
//! cargo run -p lwm2m-tlv --example tlv_dump -- <hex>     # spaces allowed in the hex
//! echo <hex> | cargo run -p lwm2m-tlv --example tlv_dump -- -
//! ```
//!
//! Each line is `<kind> <id> <len>`, indented by two spaces per nesting level, where kind is
//! `instance`, `multiple`, `resource` or `resource-instance` and len is the value length in
//! bytes; resources and resource instances with a non-empty value add a space and the value in
//! lowercase hex. Exit status 0 when the input is well formed and fully consumed; otherwise 1,
//! nothing on stdout and a one-line error on stderr saying what is wrong and at which offset.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::process::ExitCode;

use lwm2m_tlv::{Error, Records};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let text = match args.as_slice() {
        [] => return fail("usage: tlv_dump <hex>... | tlv_dump - (hex on stdin)"),
        [dash] if dash == "-" => {
            let mut input = Vec::new();
            if let Err(e) = std::io::stdin().read_to_end(&mut input) {
                return fail(&format!("cannot read stdin: {e}"));
            }
            input
        }
        _ => args.join(" ").into_bytes(),
    };
    let payload = match parse_hex(&text) {
        Ok(payload) => payload,
        Err(msg) => return fail(&msg),
    };
    let mut out = String::new();
    if let Err(e) = dump(Records::new(&payload), 0, &mut out) {
        return fail(&e.to_string());
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error of the input.
    let _ = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush());
    ExitCode::SUCCESS
}

/// Prints `msg` as the one error line and returns the failure status.
fn fail(msg: &str) -> ExitCode {
    eprintln!("tlv_dump: error: {msg}");
    ExitCode::FAILURE
}

/// Hex digits with any ASCII whitespace between them; errors name the offset in the text.
fn parse_hex(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<(usize, u8)> = None;
    for (at, &c) in text.iter().enumerate() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => {
                return Err(format!(
                    "invalid hex digit {:?} at offset {at} of the hex text",
                    char::from(c)
                ));
            }
        };
        match high.take() {
            None => high = Some((at, digit)),
            Some((_, h)) => out.push(h << 4 | digit),
        }
    }
    if let Some((at, _)) = high {
        return Err(format!(
            "odd number of hex digits: lone digit at offset {at} of the hex text"
        ));
    }
    Ok(out)
}

/// Appends one line per record, depth-first; the first error stops the walk.
fn dump(records: Records<'_>, depth: usize, out: &mut String) -> Result<(), Error> {
    for rec in records {
        let rec = rec?;
        let indent = depth * 2;
        let _ = write!(
            out,
            "{:indent$}{} {} {}",
            "",
            rec.kind().name(),
            rec.id(),
            rec.len()
        );
        if rec.is_container() {
            out.push('\n');
            dump(rec.children(), depth + 1, out)?;
        } else {
            if !rec.is_empty() {
                out.push(' ');
                for b in rec.value() {
                    let _ = write!(out, "{b:02x}");
                }
            }
            out.push('\n');
        }
    }
    Ok(())
}
