//! GETs a CoAP URI block-wise into a file, optionally resuming at a byte offset.
//!
//! `cargo run -p coap-block --features std --example coap_fetch -- [--szx 6] [--offset N]
//!  [--etag HEX] [--adaptive-rto] coap://HOST:PORT/PATH OUTFILE`
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::process::ExitCode;

use coap_block::udp::{Client, parse_uri};
use coap_block::{Block2Client, BlockSink, Error, Token, TransmissionParams};

/// Writes blocks at their offsets into the output file.
struct FileOut(File);

impl BlockSink for FileOut {
    fn begin(&mut self, _size: Option<u32>) -> Result<(), Error> {
        self.0.set_len(0).map_err(|_| Error::Storage)
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        self.0
            .seek(SeekFrom::Start(offset as u64))
            .and_then(|_| self.0.write_all(data))
            .map_err(|_| Error::Storage)
    }
    fn complete(&mut self, total: u32) -> Result<(), Error> {
        self.0.set_len(total as u64).map_err(|_| Error::Storage)
    }
}

const USAGE: &str = "usage: coap_fetch [--szx 0..6] [--offset BYTES] [--etag HEX] [--adaptive-rto] coap://HOST:PORT/PATH OUTFILE";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn main() -> ExitCode {
    let mut szx = 6u8;
    let mut offset = 0u32;
    let mut etag = None;
    let mut adaptive = false;
    let mut pos = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--szx" => szx = args.next().and_then(|v| v.parse().ok()).unwrap_or(99),
            "--offset" => offset = args.next().and_then(|v| v.parse().ok()).unwrap_or(u32::MAX),
            "--etag" => {
                let h = args.next().unwrap_or_default();
                let bytes: Option<Vec<u8>> = (0..h.len())
                    .step_by(2)
                    .map(|i| h.get(i..i + 2).and_then(|s| u8::from_str_radix(s, 16).ok()))
                    .collect();
                etag = bytes.and_then(|b| Token::new(&b).ok());
                if etag.is_none() {
                    eprintln!("coap_fetch: bad --etag");
                    return ExitCode::from(2);
                }
            }
            "--adaptive-rto" => adaptive = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => pos.push(a),
        }
    }
    let [uri, out] = pos.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if szx > 6 || offset == u32::MAX {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let run = || -> Result<(u32, Client, Block2Client), Error> {
        let uri = parse_uri(uri)?;
        let params = if adaptive {
            TransmissionParams::ADAPTIVE
        } else {
            TransmissionParams::RFC7252
        };
        let mut client = Client::connect(uri.peer, params)?;
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(offset == 0)
            .open(out)
            .map_err(|_| Error::Storage)?;
        let mut sink = FileOut(file);
        let mut b2 = Block2Client::new(szx).starting_at(offset, etag);
        let total = loop {
            match client.get(&uri.path, &mut b2, &mut sink) {
                // The resource changed mid-transfer: start over from 0 with the new one.
                Err(Error::EtagChanged) => eprintln!("coap_fetch: ETag changed, starting over"),
                r => break r?,
            }
        };
        Ok((total, client, b2))
    };
    match run() {
        Ok((total, client, b2)) => {
            println!(
                "coap_fetch: {total} bytes from offset {offset} into {out}; ETag {}; {} requests, {} retransmissions, {} resumed exchanges",
                b2.etag()
                    .map_or(String::from("none"), |t| hex(t.as_slice())),
                client.stats.requests,
                client.stats.retransmissions,
                client.stats.exchange_failures
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("coap_fetch: {e}");
            ExitCode::FAILURE
        }
    }
}
