//! Helpers shared by the interop and loss tests.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use coap_block::udp::FileServer;
use sha2::{Digest, Sha256};

/// Deterministic pseudo-random bytes.
pub fn body(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn sha256_file(path: &Path) -> [u8; 32] {
    sha256(&std::fs::read(path).unwrap_or_default())
}

/// An in-process `coap_serve` on 127.0.0.1 (ephemeral port), stopped on drop.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(root: &Path, szx: u8) -> Server {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let root = root.to_path_buf();
        let thread = std::thread::spawn(move || {
            FileServer::new(root, szx).run(&socket, &s).unwrap();
        });
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A free UDP port on 127.0.0.1 (for peers that need one on the command line).
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a command with a time limit; returns (exit success, stdout). Never trusted alone.
pub fn run(cmd: &mut Command, limit: Duration) -> (bool, Vec<u8>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let out = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut o) = out {
            use std::io::Read;
            let _ = o.read_to_end(&mut v);
        }
        v
    });
    let start = Instant::now();
    let ok = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.success();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (ok, reader.join().unwrap_or_default())
}

/// A peer process killed on drop.
pub struct Peer(pub Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Path of one of this package's examples (built by `cargo test`).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let p = dir.join("examples").join(name);
    assert!(p.exists(), "example {name} not built at {}", p.display());
    p
}

/// A seeded UDP loss proxy on 127.0.0.1: drops each datagram with probability `loss`
/// (independently in both directions), or all of them while `blackout` is set.
pub struct LossProxy {
    pub addr: SocketAddr,
    pub blackout: Arc<AtomicBool>,
    pub dropped: Arc<AtomicU64>,
    pub forwarded: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LossProxy {
    pub fn start(server: SocketAddr, loss: f64, seed: u64) -> LossProxy {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let blackout = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let (st, bo, dr, fw) = (
            stop.clone(),
            blackout.clone(),
            dropped.clone(),
            forwarded.clone(),
        );
        let threshold = (loss * u32::MAX as f64) as u64;
        let thread = std::thread::spawn(move || {
            let mut rng = seed | 1;
            let mut client: Option<SocketAddr> = None;
            let mut buf = [0u8; 2048];
            while !st.load(Ordering::Relaxed) {
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
                if bo.load(Ordering::Relaxed) || (rng >> 32) < threshold {
                    dr.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                fw.fetch_add(1, Ordering::Relaxed);
                let _ = sock.send_to(&buf[..n], to);
            }
        });
        LossProxy {
            addr,
            blackout,
            dropped,
            forwarded,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for LossProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
