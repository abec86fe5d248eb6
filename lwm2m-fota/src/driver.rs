//! The std UDP driver of the device client: one socket, the sans-IO core, and the simulated
//! device's reboot (drop the core, run the bootloader, boot again from flash).

use crate::client::{Client, Config, Event, Peer, uri_authority};
use crate::sim::SimDevice;
use crate::{Error, State, UpdateResult};
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::{Path, PathBuf};
use std::prelude::rust_2024::*;
use std::time::{Duration, Instant};
#[allow(unused_imports)]
use std::{format, vec};

/// A simulated device on a UDP socket.
#[derive(Debug)]
pub struct DeviceRunner {
    socket: UdpSocket,
    server: SocketAddr,
    dir: PathBuf,
    cfg: Config,
    client: Option<Client<SimDevice>>,
    epoch: Instant,
    buf: Vec<u8>,
    out: Vec<u8>,
    /// Reboots so far (updates and power cuts).
    pub reboots: u32,
}

impl DeviceRunner {
    /// Boots the device whose flash is `dir` and talks to `server` from `socket`.
    pub fn new(
        socket: UdpSocket,
        server: SocketAddr,
        dir: &Path,
        cfg: Config,
    ) -> Result<Self, Error> {
        let epoch = Instant::now();
        let client = Client::new(SimDevice::open(dir)?, cfg.clone(), 0);
        Ok(DeviceRunner {
            socket,
            server,
            dir: dir.to_path_buf(),
            cfg,
            client: Some(client),
            epoch,
            buf: vec![0; 2048],
            out: vec![0; 1536],
            reboots: 0,
        })
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// The client core.
    pub fn client(&self) -> Option<&Client<SimDevice>> {
        self.client.as_ref()
    }

    /// State and Update Result (Idle/0 while powered off).
    pub fn status(&self) -> (State, UpdateResult) {
        self.client
            .as_ref()
            .map_or((State::Idle, UpdateResult::Initial), |c| {
                (c.state(), c.result())
            })
    }

    /// Cuts the power: everything in RAM is lost; the device boots from flash again.
    pub fn power_cycle(&mut self) -> Result<(), Error> {
        self.client = None;
        self.reboots += 1;
        let now = self.now();
        self.client = Some(Client::new(
            SimDevice::open(&self.dir)?,
            self.cfg.clone(),
            now,
        ));
        Ok(())
    }

    /// Deregisters and runs until the server answers or `within` passes.
    pub fn deregister(&mut self, within: Duration) -> Result<(), Error> {
        let Some(c) = self.client.as_mut() else {
            return Ok(());
        };
        c.deregister();
        let start = Instant::now();
        while self.client.as_ref().is_some_and(|c| c.is_registered()) && start.elapsed() < within {
            self.step(Duration::from_millis(50))?;
        }
        Ok(())
    }

    /// Discards every datagram waiting on the socket (they arrived while the power was off).
    pub fn drain(&mut self) {
        let _ = self.socket.set_nonblocking(true);
        while self.socket.recv_from(&mut self.buf).is_ok() {}
        let _ = self.socket.set_nonblocking(false);
    }

    fn destination(&self, peer: Peer) -> Option<SocketAddr> {
        match peer {
            Peer::Server => Some(self.server),
            Peer::PackageHost => {
                let auth = uri_authority(self.client.as_ref()?.package_uri()?)?;
                let with_port = if auth
                    .rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                {
                    auth.to_string()
                } else {
                    format!("{auth}:{}", crate::DEFAULT_PORT)
                };
                with_port.to_socket_addrs().ok()?.next()
            }
        }
    }

    /// Runs for at most `max_wait`: receives, answers, sends what is due, handles events.
    /// Returns the events that happened.
    pub fn step(&mut self, max_wait: Duration) -> Result<Vec<Event>, Error> {
        let mut events = Vec::new();
        self.flush(&mut events)?;
        let now = self.now();
        let due = self.client.as_ref().map_or(u64::MAX, |c| c.poll_timeout());
        let wait = Duration::from_millis(due.saturating_sub(now))
            .min(max_wait)
            .max(Duration::from_millis(1));
        self.socket
            .set_read_timeout(Some(wait))
            .map_err(|e| Error::io("socket timeout", e))?;
        match self.socket.recv_from(&mut self.buf) {
            Ok((n, from)) => {
                let now = self.now();
                let peer = if from == self.server {
                    Peer::Server
                } else {
                    Peer::PackageHost
                };
                let Some(client) = self.client.as_mut() else {
                    return Ok(events);
                };
                if let Some(tx) = client.handle(now, peer, &self.buf[..n], &mut self.out) {
                    let _ = self.socket.send_to(&self.out[..tx.len], from);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(Error::io("receive", e)),
        }
        self.flush(&mut events)?;
        Ok(events)
    }

    fn flush(&mut self, events: &mut Vec<Event>) -> Result<(), Error> {
        loop {
            let now = self.now();
            let Some(client) = self.client.as_mut() else {
                return Ok(());
            };
            let tx = client.poll_transmit(now, &mut self.out);
            let mut reboot = false;
            while let Some(e) = self.client.as_mut().and_then(|c| c.poll_event()) {
                reboot |= e == Event::Reboot;
                events.push(e);
            }
            if reboot {
                self.power_cycle()?;
                continue;
            }
            let Some(tx) = tx else { return Ok(()) };
            if let Some(to) = self.destination(tx.peer) {
                let _ = self.socket.send_to(&self.out[..tx.len], to);
            }
        }
    }
}
