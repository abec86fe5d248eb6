//! coap-block benchmarks, side by side with libcoap 4.3 (`coap-client-notls`/`coap-server-notls`,
//! spawned when installed) in the same run:
//!
//! - `coap/engine/*`: per-block engine cost (parse the request, step the engine, emit the reply);
//! - `coap/loopback/{get,put}-1MiB-{1024,512}/{coap-block,libcoap}`: 1 MiB over loopback, one
//!   request in flight (ours: `udp::Client` against `udp::FileServer`; libcoap: its client
//!   against its server, process start included);
//! - with `COAP_BENCH_LOSS=1`: 256 KiB GET through a seeded 5 % loss proxy, ours with the
//!   adaptive RTO against libcoap with its defaults (one run each; minutes for libcoap).
//!
//! `cargo bench -p benches --bench coap` (figures in coap-block/README.md).
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use coap_block::udp::{Client, FileServer};
use coap_block::{
    Block, Block1Receiver, Block2Client, Block2Server, BlockSink, Code, Error, Message,
    MessageBuilder, MessageType, OptionNumber, Token, TransmissionParams,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn body(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9u32;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A sink that only counts (the engine cost without storage).
struct Null(u64);

impl BlockSink for Null {
    fn write(&mut self, _offset: u32, data: &[u8]) -> Result<(), Error> {
        self.0 += data.len() as u64;
        Ok(())
    }
}

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("coap/engine");
    g.throughput(Throughput::Elements(1));
    let data = body(1024);

    // Block1 receiver: a 1024-byte PUT block in, 2.31 out.
    let mut req = vec![0u8; 1200];
    let mut b = MessageBuilder::new(
        &mut req,
        MessageType::Confirmable,
        Code::PUT,
        1,
        &[1, 2, 3, 4],
    )
    .unwrap();
    b.path("5/0/0").unwrap();
    b.block(OptionNumber::BLOCK1, Block::new(7, true, 6).unwrap())
        .unwrap();
    b.uint_option(OptionNumber::SIZE1, 1 << 20).unwrap();
    let n = b.payload(&data).unwrap();
    req.truncate(n);
    let mut rx: Block1Receiver<u8> = Block1Receiver::new(6);
    let mut sink = Null(0);
    let mut out = [0u8; 64];
    g.bench_function("block1-receive-1024", |bch| {
        bch.iter(|| {
            rx.resume_at(7 * 1024);
            let m = Message::parse(black_box(&req)).unwrap();
            let mut reply = MessageBuilder::response_to(&mut out, &m, Code::EMPTY, 0).unwrap();
            black_box(rx.handle(1, &m, &mut sink, &mut reply).unwrap());
            black_box(reply.finish())
        })
    });

    // Block2 server: a GET for block 7 in, a 1024-byte block out.
    let image = body(1 << 20);
    let mut src: &[u8] = &image;
    let server = Block2Server::new(6, coap_block::content_etag(&mut src).unwrap(), Some(42));
    let mut get = [0u8; 64];
    let mut b = MessageBuilder::new(
        &mut get,
        MessageType::Confirmable,
        Code::GET,
        1,
        &[1, 2, 3, 4],
    )
    .unwrap();
    b.path("fw/image.bin").unwrap();
    b.block(OptionNumber::BLOCK2, Block::new(7, false, 6).unwrap())
        .unwrap();
    let gn = b.finish();
    let mut resp = vec![0u8; 1200];
    g.bench_function("block2-serve-1024", |bch| {
        bch.iter(|| {
            let m = Message::parse(black_box(&get[..gn])).unwrap();
            let reply = MessageBuilder::response_to(&mut resp, &m, Code::EMPTY, 0).unwrap();
            let mut s: &[u8] = &image;
            black_box(server.respond(&m, &mut s, reply).unwrap())
        })
    });

    // Block2 client: a 1024-byte block in, the next request out.
    let m = Message::parse(&get[..gn]).unwrap();
    let reply = MessageBuilder::response_to(&mut resp, &m, Code::EMPTY, 0).unwrap();
    let mut s: &[u8] = &image;
    let rn = server.respond(&m, &mut s, reply).unwrap();
    let block7 = resp[..rn].to_vec();
    let etag = server.etag();
    let mut next = [0u8; 64];
    g.bench_function("block2-client-1024", |bch| {
        bch.iter(|| {
            let mut client = Block2Client::new(6).starting_at(7 * 1024, Some(etag));
            let r = Message::parse(black_box(&block7)).unwrap();
            black_box(client.handle_response(&r, &mut sink).unwrap());
            let mut b = MessageBuilder::new(
                &mut next,
                MessageType::Confirmable,
                Code::GET,
                2,
                &[1, 2, 3, 4],
            )
            .unwrap();
            b.path("fw/image.bin").unwrap();
            client.add_request_options(&mut b).unwrap();
            black_box(b.finish())
        })
    });
    g.finish();
}

fn installed(tool: &str) -> bool {
    Command::new(tool)
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let p = std::env::temp_dir().join(format!("coap-bench-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct OurServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl OurServer {
    fn start(root: &Path) -> OurServer {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let root = root.to_path_buf();
        let thread = std::thread::spawn(move || FileServer::new(root, 6).run(&socket, &s).unwrap());
        OurServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for OurServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn libcoap_server() -> (Peer, u16) {
    let port = free_port();
    let child = Command::new("coap-server-notls")
        .args(["-A", "127.0.0.1", "-p", &port.to_string(), "-d", "10"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    (Peer(child), port)
}

fn libcoap_client(args: &[&str], uri: &str) {
    let st = Command::new("coap-client-notls")
        .args(["-B", "60"])
        .args(args)
        .arg(uri)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
}

fn loopback(c: &mut Criterion) {
    let scratch = Scratch::new();
    let image = body(1 << 20);
    let file = scratch.0.join("fw.bin");
    std::fs::write(&file, &image).unwrap();
    let ours = OurServer::start(&scratch.0);
    let libcoap = installed("coap-client-notls") && installed("coap-server-notls");
    if !libcoap {
        eprintln!("coap bench: libcoap3-bin not installed, measuring coap-block only");
    }
    let (_peer, port) = if libcoap {
        libcoap_server()
    } else {
        (Peer(Command::new("true").spawn().unwrap()), 0)
    };
    let luri = format!("coap://127.0.0.1:{port}/fw");
    if libcoap {
        libcoap_client(
            &["-m", "put", "-b", "1024", "-f", file.to_str().unwrap()],
            &luri,
        );
    }
    let out = scratch.0.join("out.bin");

    let mut g = c.benchmark_group("coap/loopback");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Bytes(image.len() as u64));
    for szx in [6u8, 5] {
        let size = 16u32 << szx;
        g.bench_function(format!("get-1MiB-{size}/coap-block"), |b| {
            b.iter(|| {
                let mut client = Client::connect(ours.addr, TransmissionParams::RFC7252).unwrap();
                let mut b2 = Block2Client::new(szx);
                let mut sink = Vec::with_capacity(1 << 20);
                assert_eq!(client.get("fw.bin", &mut b2, &mut sink).unwrap(), 1 << 20);
                black_box(sink.len())
            })
        });
        if libcoap {
            g.bench_function(format!("get-1MiB-{size}/libcoap"), |b| {
                b.iter(|| {
                    libcoap_client(
                        &["-b", &size.to_string(), "-o", out.to_str().unwrap()],
                        &luri,
                    );
                })
            });
            assert_eq!(std::fs::read(&out).unwrap(), image, "libcoap GET result");
        }
        g.bench_function(format!("put-1MiB-{size}/coap-block"), |b| {
            b.iter(|| {
                let mut client = Client::connect(ours.addr, TransmissionParams::RFC7252).unwrap();
                let mut tx = coap_block::Block1Sender::new(1 << 20, szx, Token::new(&[1]).unwrap());
                let mut src: &[u8] = &image;
                client.put("up.bin", Some(42), &mut tx, &mut src).unwrap();
            })
        });
        assert_eq!(
            std::fs::read(scratch.0.join("up.bin")).unwrap(),
            image,
            "our PUT result"
        );
        if libcoap {
            let up = format!("coap://127.0.0.1:{port}/up");
            g.bench_function(format!("put-1MiB-{size}/libcoap"), |b| {
                b.iter(|| {
                    libcoap_client(
                        &[
                            "-m",
                            "put",
                            "-t",
                            "42",
                            "-b",
                            &size.to_string(),
                            "-f",
                            file.to_str().unwrap(),
                        ],
                        &up,
                    );
                })
            });
        }
    }
    g.finish();
}

/// A seeded loss proxy (drops each datagram with probability `loss`, both directions).
fn loss_proxy(
    server: SocketAddr,
    loss: f64,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> (SocketAddr, JoinHandle<()>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let addr = sock.local_addr().unwrap();
    let threshold = (loss * u32::MAX as f64) as u64;
    let t = std::thread::spawn(move || {
        let mut rng = seed | 1;
        let mut client = None;
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let to = if from == server {
                match client {
                    Some(c) => c,
                    None => continue,
                }
            } else {
                client = Some(from);
                server
            };
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if (rng >> 32) >= threshold {
                let _ = sock.send_to(&buf[..n], to);
            }
        }
    });
    (addr, t)
}

fn lossy(_c: &mut Criterion) {
    if std::env::var_os("COAP_BENCH_LOSS").is_none() {
        eprintln!("coap bench: set COAP_BENCH_LOSS=1 for the 256 KiB at 5 % loss comparison");
        return;
    }
    let scratch = Scratch::new();
    let image = body(256 * 1024);
    let file = scratch.0.join("fw.bin");
    std::fs::write(&file, &image).unwrap();
    let ours = OurServer::start(&scratch.0);
    for seed in [5u64, 6, 7] {
        let stop = Arc::new(AtomicBool::new(false));
        let (proxy, t) = loss_proxy(ours.addr, 0.05, seed, stop.clone());
        let start = Instant::now();
        let mut client = Client::connect(proxy, TransmissionParams::ADAPTIVE).unwrap();
        let mut sink = Vec::new();
        let r = client.get("fw.bin", &mut Block2Client::new(6), &mut sink);
        let ok = r.is_ok() && sink == image;
        println!(
            "coap/loss5/get-256KiB/coap-block seed {seed}: {:?} ok={ok} {:?}",
            start.elapsed(),
            client.stats
        );
        stop.store(true, Ordering::Relaxed);
        let _ = t.join();
    }
    if !(installed("coap-client-notls") && installed("coap-server-notls")) {
        return;
    }
    let (_peer, port) = libcoap_server();
    libcoap_client(
        &["-m", "put", "-b", "1024", "-f", file.to_str().unwrap()],
        &format!("coap://127.0.0.1:{port}/fw"),
    );
    let server: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    for seed in [5u64, 6, 7] {
        let stop = Arc::new(AtomicBool::new(false));
        let (proxy, t) = loss_proxy(server, 0.05, seed, stop.clone());
        let out = scratch.0.join(format!("out-{seed}.bin"));
        let start = Instant::now();
        let _ = Command::new("coap-client-notls")
            .args(["-b", "1024", "-o", out.to_str().unwrap()])
            .arg(format!("coap://{proxy}/fw"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let ok = std::fs::read(&out).map(|d| d == image).unwrap_or(false);
        println!(
            "coap/loss5/get-256KiB/libcoap seed {seed}: {:?} ok={ok}",
            start.elapsed()
        );
        stop.store(true, Ordering::Relaxed);
        let _ = t.join();
    }
}

criterion_group!(benches, engine, loopback, lossy);
criterion_main!(benches);
