//! `fota-delta` command-line tool.
fn main() {}
