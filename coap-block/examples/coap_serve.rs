//! Serves a directory over CoAP: Block2 GET of any file, Block1 PUT writes a file.
//!
//! `cargo run -p coap-block --features std --example coap_serve -- [--bind 127.0.0.1:5683] [--szx 6] ROOT`
use std::net::UdpSocket;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use coap_block::udp::FileServer;

fn main() -> ExitCode {
    let mut bind = String::from("0.0.0.0:5683");
    let mut szx = 6u8;
    let mut root = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bind" => bind = args.next().unwrap_or_default(),
            "--szx" => szx = args.next().and_then(|v| v.parse().ok()).unwrap_or(99),
            "-h" | "--help" => {
                println!("usage: coap_serve [--bind ADDR:PORT] [--szx 0..6] ROOT");
                return ExitCode::SUCCESS;
            }
            _ if root.is_none() => root = Some(a),
            _ => root = None,
        }
    }
    let (Some(root), true) = (root, szx <= 6) else {
        eprintln!("usage: coap_serve [--bind ADDR:PORT] [--szx 0..6] ROOT");
        return ExitCode::from(2);
    };
    let socket = match UdpSocket::bind(&bind) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("coap_serve: bind {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(a) = socket.local_addr() {
        println!(
            "coap_serve: serving {root} on coap://{a}/ (blocks up to {} bytes)",
            16 << szx
        );
    }
    let stop = AtomicBool::new(false);
    match FileServer::new(root, szx).run(&socket, &stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coap_serve: {e}");
            ExitCode::FAILURE
        }
    }
}
