//! A deterministic, seeded UDP loss proxy on loopback (`tc netem` is not available here).
//!
//! Clients send to the proxy's front address; for each client the proxy opens its own upstream
//! socket, so the server sees one address per client. Each direction of each link drops
//! datagrams with its probability from its own seeded generator (links are numbered in order of
//! their first datagram), and never more than `max_burst` in a row, so a link is lossy but never
//! dead. Bytes forwarded in each direction are counted.

use crate::Error;
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::prelude::rust_2024::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;
#[allow(unused_imports)]
use std::{format, vec};

/// Loss settings.
#[derive(Debug, Clone, Copy)]
pub struct LossConfig {
    /// Drop probability client → server, clamped to 0..=0.9.
    pub up: f64,
    /// Drop probability server → client, clamped to 0..=0.9.
    pub down: f64,
    /// Longest run of consecutive drops in one direction of one link.
    pub max_burst: u32,
    /// Seed of the drop decisions.
    pub seed: u64,
}

impl LossConfig {
    /// The same loss `percent` both ways.
    pub fn symmetric(percent: f64, seed: u64) -> Self {
        LossConfig {
            up: percent / 100.0,
            down: percent / 100.0,
            max_burst: 6,
            seed,
        }
    }
}

/// Counters of the proxy.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Datagram bytes sent by clients (dropped or not).
    pub bytes_up: AtomicU64,
    /// Datagram bytes sent by the server (dropped or not).
    pub bytes_down: AtomicU64,
    /// Datagrams dropped client → server.
    pub dropped_up: AtomicU64,
    /// Datagrams dropped server → client.
    pub dropped_down: AtomicU64,
}

#[derive(Debug)]
struct Dropper {
    state: u64,
    p: f64,
    run: u32,
    max_burst: u32,
}

impl Dropper {
    fn new(seed: u64, p: f64, max_burst: u32) -> Self {
        Dropper {
            state: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            p: p.clamp(0.0, 0.9),
            run: 0,
            max_burst,
        }
    }
    fn drop_next(&mut self) -> bool {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let u = (self.state >> 11) as f64 / (1u64 << 53) as f64;
        if u < self.p && self.run < self.max_burst {
            self.run += 1;
            true
        } else {
            self.run = 0;
            false
        }
    }
}

struct Link {
    upstream: Arc<UdpSocket>,
    drop_up: Dropper,
}

/// A running proxy; it stops when dropped.
#[derive(Debug)]
pub struct LossProxy {
    addr: SocketAddr,
    stats: Arc<ProxyStats>,
    stop: Arc<AtomicBool>,
}

impl LossProxy {
    /// Starts a proxy on 127.0.0.1 (ephemeral port) in front of `server`.
    pub fn spawn(server: SocketAddr, loss: LossConfig) -> Result<Self, Error> {
        let front =
            Arc::new(UdpSocket::bind("127.0.0.1:0").map_err(|e| Error::io("proxy bind", e))?);
        front
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| Error::io("proxy socket", e))?;
        let addr = front
            .local_addr()
            .map_err(|e| Error::io("proxy address", e))?;
        let stats = Arc::new(ProxyStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (f, s, st) = (front.clone(), stats.clone(), stop.clone());
        thread::Builder::new()
            .name("loss-proxy".into())
            .stack_size(256 * 1024)
            .spawn(move || front_loop(f, server, loss, s, st))
            .map_err(|e| Error::io("proxy thread", e))?;
        Ok(LossProxy { addr, stats, stop })
    }

    /// The address clients send to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters.
    pub fn stats(&self) -> &ProxyStats {
        &self.stats
    }

    /// Bytes sent both ways (the bytes on air).
    pub fn bytes_on_air(&self) -> u64 {
        self.stats.bytes_up.load(Ordering::Relaxed) + self.stats.bytes_down.load(Ordering::Relaxed)
    }
}

impl Drop for LossProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn front_loop(
    front: Arc<UdpSocket>,
    server: SocketAddr,
    loss: LossConfig,
    stats: Arc<ProxyStats>,
    stop: Arc<AtomicBool>,
) {
    let mut links: HashMap<SocketAddr, Link> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = front.recv_from(&mut buf) else {
            continue;
        };
        let index = links.len() as u64;
        #[allow(clippy::map_entry)] // the entry is made only if the link's thread starts
        if !links.contains_key(&from) {
            let Ok(up) = UdpSocket::bind("127.0.0.1:0") else {
                continue;
            };
            let up = Arc::new(up);
            let _ = up.set_read_timeout(Some(Duration::from_millis(100)));
            let seed = loss.seed ^ index.wrapping_mul(0xa076_1d64_78bd_642f);
            let (u, f, s, st) = (up.clone(), front.clone(), stats.clone(), stop.clone());
            let down = Dropper::new(seed ^ 0xd00d, loss.down, loss.max_burst);
            let spawned = thread::Builder::new()
                .name("loss-proxy-link".into())
                .stack_size(128 * 1024)
                .spawn(move || back_loop(u, f, from, down, s, st));
            if spawned.is_err() {
                continue;
            }
            links.insert(
                from,
                Link {
                    upstream: up,
                    drop_up: Dropper::new(seed, loss.up, loss.max_burst),
                },
            );
        }
        let Some(link) = links.get_mut(&from) else {
            continue;
        };
        stats.bytes_up.fetch_add(n as u64, Ordering::Relaxed);
        if link.drop_up.drop_next() {
            stats.dropped_up.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let _ = link.upstream.send_to(&buf[..n], server);
    }
}

fn back_loop(
    up: Arc<UdpSocket>,
    front: Arc<UdpSocket>,
    client: SocketAddr,
    mut drop: Dropper,
    stats: Arc<ProxyStats>,
    stop: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, _)) = up.recv_from(&mut buf) else {
            continue;
        };
        stats.bytes_down.fetch_add(n as u64, Ordering::Relaxed);
        if drop.drop_next() {
            stats.dropped_down.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let _ = front.send_to(&buf[..n], client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropper_is_deterministic_and_bounded() {
        let mut a = Dropper::new(7, 0.9, 3);
        let mut b = Dropper::new(7, 0.9, 3);
        let sa: Vec<bool> = (0..1000).map(|_| a.drop_next()).collect();
        let sb: Vec<bool> = (0..1000).map(|_| b.drop_next()).collect();
        assert_eq!(sa, sb);
        assert!(sa.windows(4).all(|w| !w.iter().all(|d| *d)));
        let mut c = Dropper::new(9, 0.1, 6);
        let drops = (0..100_000).filter(|_| c.drop_next()).count();
        assert!((9000..11000).contains(&drops), "{drops}");
    }
}
