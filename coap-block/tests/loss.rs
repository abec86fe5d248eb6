//! Lossy links: a seeded UDP proxy on 127.0.0.1 drops datagrams in both directions. 256 KiB
//! must arrive intact (SHA-256) with the adaptive timeout and block-level resume.
mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use coap_block::udp::Client;
use coap_block::{Block1Sender, Block2Client, Error, Token, TransmissionParams};
use common::*;

const SIZE: usize = 256 * 1024;

fn get_through_loss(loss: f64, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let data = body(SIZE, seed as u32);
    std::fs::write(dir.path().join("fw.bin"), &data).unwrap();
    let server = Server::start(dir.path(), 6);
    let proxy = LossProxy::start(server.addr, loss, seed);
    let start = Instant::now();
    let mut client = Client::connect(proxy.addr, TransmissionParams::ADAPTIVE).unwrap();
    let mut b2 = Block2Client::new(6);
    let mut sink = Vec::new();
    let total = client.get("fw.bin", &mut b2, &mut sink).unwrap();
    assert_eq!(total as usize, SIZE);
    assert_eq!(sha256(&sink), sha256(&data));
    eprintln!(
        "GET 256 KiB at {:.0}% loss: {:?}, {:?}, dropped {} forwarded {}",
        loss * 100.0,
        start.elapsed(),
        client.stats,
        proxy.dropped.load(Ordering::Relaxed),
        proxy.forwarded.load(Ordering::Relaxed)
    );
}

#[test]
fn get_256k_at_5_percent_loss() {
    get_through_loss(0.05, 5);
}

#[test]
fn get_256k_at_20_percent_loss() {
    get_through_loss(0.20, 20);
}

#[test]
fn put_256k_at_20_percent_loss() {
    let dir = tempfile::tempdir().unwrap();
    let data = body(SIZE, 7);
    let server = Server::start(dir.path(), 6);
    let proxy = LossProxy::start(server.addr, 0.20, 7);
    let start = Instant::now();
    let mut client = Client::connect(proxy.addr, TransmissionParams::ADAPTIVE).unwrap();
    let mut tx = Block1Sender::new(SIZE as u32, 6, Token::new(&[0x42]).unwrap());
    let mut src: &[u8] = &data;
    client.put("5/0/0", Some(42), &mut tx, &mut src).unwrap();
    assert_eq!(sha256_file(&dir.path().join("5/0/0")), sha256(&data));
    eprintln!(
        "PUT 256 KiB at 20% loss: {:?}, {:?}",
        start.elapsed(),
        client.stats
    );
}

/// The link goes down mid-transfer until the client gives up; a new client resumes from the
/// bytes it has, with the ETag it saw, and the result is intact.
#[test]
fn get_resumes_after_the_link_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let data = body(SIZE, 9);
    std::fs::write(dir.path().join("fw.bin"), &data).unwrap();
    let server = Server::start(dir.path(), 6);
    let proxy = LossProxy::start(server.addr, 0.05, 9);
    let params = TransmissionParams {
        max_retransmit: 2,
        ..TransmissionParams::ADAPTIVE
    };
    let mut sink = Vec::new();
    let mut client = Client::connect(proxy.addr, params).unwrap();
    client.max_exchange_failures = 0;
    // A sink that cuts the link after 100 KiB.
    struct Cut<'a>(&'a mut Vec<u8>, &'a std::sync::atomic::AtomicBool);
    impl coap_block::BlockSink for Cut<'_> {
        fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
            if offset >= 100 * 1024 {
                self.1.store(true, Ordering::Relaxed);
            }
            self.0.write(offset, data)
        }
    }
    let mut b2 = Block2Client::new(6);
    let r = client.get("fw.bin", &mut b2, &mut Cut(&mut sink, &proxy.blackout));
    assert_eq!(r, Err(Error::Timeout));
    let (offset, etag) = (b2.offset(), b2.etag());
    assert!(offset as usize >= 100 * 1024 && (offset as usize) < SIZE);
    assert_eq!(sink.len(), offset as usize);

    proxy.blackout.store(false, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(30));
    let mut client = Client::connect(proxy.addr, TransmissionParams::ADAPTIVE).unwrap();
    let mut b2 = Block2Client::new(5).starting_at(offset, etag);
    client.get("fw.bin", &mut b2, &mut sink).unwrap();
    assert_eq!(sha256(&sink), sha256(&data));
}
