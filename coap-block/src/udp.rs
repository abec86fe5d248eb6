//! Blocking UDP helpers (`std` feature): a client driving the engines over a socket (GET into a
//! sink, PUT from a source, with block-level resume) and a file server (Block2 GET of any file
//! under a root, Block1 PUT writing a file). The examples `coap_serve` and `coap_fetch` are
//! thin wrappers around these.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{ErrorKind, Seek, SeekFrom, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};
use std::vec::Vec;

use crate::{
    Block1Event, Block1Receiver, Block1SendEvent, Block1Sender, Block2Client, Block2Event,
    Block2Server, BlockSink, BlockSource, Code, Dedup, DedupCache, Error, Incoming, Message,
    MessageBuilder, MessageType, OptionNumber, Reliability, TimeoutAction, Token,
    TransmissionParams, content_etag,
};

/// Largest datagram the helpers send or accept.
pub const MAX_DATAGRAM: usize = 1280;

/// Counters of a [`Client`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests sent (first transmissions).
    pub requests: u64,
    /// Retransmissions.
    pub retransmissions: u64,
    /// Exchanges that failed after all retransmissions (each resumed at block level).
    pub exchange_failures: u64,
}

/// A blocking CoAP client over a UDP socket: one confirmable request in flight.
#[derive(Debug)]
pub struct Client {
    socket: UdpSocket,
    peer: SocketAddr,
    rel: Reliability,
    epoch: Instant,
    /// Consecutive failed exchanges tolerated before a transfer gives up (block-level resume:
    /// each failure resends from the last confirmed offset). Default 20.
    pub max_exchange_failures: u32,
    /// Counters.
    pub stats: ClientStats,
}

fn io_err(_: std::io::Error) -> Error {
    Error::Io
}

impl Client {
    /// A client on `socket` talking to `peer`.
    pub fn new(socket: UdpSocket, peer: SocketAddr, params: TransmissionParams, seed: u32) -> Self {
        Client {
            socket,
            peer,
            rel: Reliability::new(params, seed),
            epoch: Instant::now(),
            max_exchange_failures: 20,
            stats: ClientStats::default(),
        }
    }

    /// Binds an ephemeral socket on the matching loopback/unspecified address.
    pub fn connect(peer: SocketAddr, params: TransmissionParams) -> Result<Self, Error> {
        let bind: SocketAddr = if peer.is_ipv4() {
            "0.0.0.0:0".parse().map_err(|_| Error::Io)?
        } else {
            "[::]:0".parse().map_err(|_| Error::Io)?
        };
        let socket = UdpSocket::bind(bind).map_err(io_err)?;
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() ^ d.as_secs() as u32);
        Ok(Self::new(socket, peer, params, seed))
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// The message layer (for its current timeout).
    pub fn reliability(&self) -> &Reliability {
        &self.rel
    }

    /// Sends `req` (a CON request) and waits for its response, retransmitting as the message
    /// layer says; returns the response's length in `resp`.
    pub fn exchange(&mut self, req: &[u8], resp: &mut [u8]) -> Result<usize, Error> {
        let m = Message::parse(req)?;
        self.rel.start(self.now(), &m)?;
        self.socket.send_to(req, self.peer).map_err(io_err)?;
        self.stats.requests += 1;
        loop {
            let now = self.now();
            let deadline = self.rel.poll_timeout().unwrap_or(now);
            if now >= deadline {
                match self.rel.handle_timeout(now) {
                    TimeoutAction::Retransmit => {
                        self.stats.retransmissions += 1;
                        self.socket.send_to(req, self.peer).map_err(io_err)?;
                    }
                    TimeoutAction::GiveUp => return Err(Error::Timeout),
                    TimeoutAction::None => {}
                }
                continue;
            }
            let wait = Duration::from_millis((deadline - now).max(1));
            self.socket.set_read_timeout(Some(wait)).map_err(io_err)?;
            let (n, from) = match self.socket.recv_from(resp) {
                Ok(x) => x,
                // Timeouts, and ICMP errors (peer not up yet): the retransmission timer decides.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock
                            | ErrorKind::TimedOut
                            | ErrorKind::ConnectionRefused
                            | ErrorKind::ConnectionReset
                            | ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(io_err(e)),
            };
            if from != self.peer {
                continue;
            }
            let Some(msg) = resp.get(..n).and_then(|b| Message::parse(b).ok()) else {
                continue;
            };
            match self.rel.handle_incoming(self.now(), &msg) {
                Incoming::Response { ack_needed } => {
                    if ack_needed {
                        let mut ack = [0u8; 4];
                        let k = MessageBuilder::empty(&mut ack, msg.message_id(), false)?;
                        self.socket.send_to(&ack[..k], self.peer).map_err(io_err)?;
                    }
                    return Ok(n);
                }
                Incoming::EmptyAck => {}
                Incoming::Reset => return Err(Error::Reset),
                Incoming::Unrelated => {
                    // A retransmitted separate response we already took: acknowledge again.
                    if msg.message_type() == MessageType::Confirmable {
                        let mut ack = [0u8; 4];
                        let k = MessageBuilder::empty(&mut ack, msg.message_id(), false)?;
                        self.socket.send_to(&ack[..k], self.peer).map_err(io_err)?;
                    }
                }
            }
        }
    }

    /// GETs `path` block-wise into `sink` with `client` (fresh or resumed); returns the body
    /// size. A failed exchange is retried from the last stored offset, up to
    /// [`max_exchange_failures`](Self::max_exchange_failures) times in a row.
    pub fn get<S: BlockSink + ?Sized>(
        &mut self,
        path: &str,
        client: &mut Block2Client,
        sink: &mut S,
    ) -> Result<u32, Error> {
        let mut req = [0u8; 256];
        let mut resp = [0u8; MAX_DATAGRAM];
        let mut failures = 0;
        loop {
            let mid = self.rel.next_message_id();
            let token = self.rel.next_token();
            let mut b = MessageBuilder::new(
                &mut req,
                MessageType::Confirmable,
                Code::GET,
                mid,
                token.as_slice(),
            )?;
            b.path(path)?;
            client.add_request_options(&mut b)?;
            let n = b.finish();
            let rn = match self.exchange(req.get(..n).unwrap_or(&[]), &mut resp) {
                Ok(rn) => rn,
                Err(Error::Timeout) => {
                    self.stats.exchange_failures += 1;
                    failures += 1;
                    if failures > self.max_exchange_failures {
                        return Err(Error::Timeout);
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            failures = 0;
            let msg = Message::parse(resp.get(..rn).unwrap_or(&[]))?;
            if let Block2Event::Complete { total } = client.handle_response(&msg, sink)? {
                return Ok(total);
            }
        }
    }

    /// PUTs a body from `source` to `path` block-wise with `sender` (fresh or resumed), with
    /// the given Content-Format. Failed exchanges resend from the last confirmed offset.
    pub fn put<S: BlockSource + ?Sized>(
        &mut self,
        path: &str,
        content_format: Option<u16>,
        sender: &mut Block1Sender,
        source: &mut S,
    ) -> Result<(), Error> {
        let mut req = [0u8; MAX_DATAGRAM];
        let mut resp = [0u8; MAX_DATAGRAM];
        let mut failures = 0;
        let mut restarts = 0;
        while !sender.is_complete() {
            let mid = self.rel.next_message_id();
            let token = self.rel.next_token();
            let mut b = MessageBuilder::new(
                &mut req,
                MessageType::Confirmable,
                Code::PUT,
                mid,
                token.as_slice(),
            )?;
            b.path(path)?;
            if let Some(cf) = content_format {
                b.uint_option(OptionNumber::CONTENT_FORMAT, cf as u32)?;
            }
            let n = sender.write_request(b, source)?;
            let rn = match self.exchange(req.get(..n).unwrap_or(&[]), &mut resp) {
                Ok(rn) => rn,
                Err(Error::Timeout) => {
                    self.stats.exchange_failures += 1;
                    failures += 1;
                    sender.abandon();
                    if failures > self.max_exchange_failures {
                        return Err(Error::Timeout);
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            failures = 0;
            let msg = Message::parse(resp.get(..rn).unwrap_or(&[]))?;
            if sender.handle_response(&msg)? == Block1SendEvent::Restart {
                restarts += 1;
                if restarts > 3 {
                    return Err(Error::Response(Code::REQUEST_ENTITY_INCOMPLETE.0));
                }
            }
        }
        Ok(())
    }
}

/// Resolves a request's Uri-Path under `root`, refusing `..` and absolute components.
fn local_path(root: &Path, req: &Message<'_>) -> Option<PathBuf> {
    let mut p = root.to_path_buf();
    let mut any = false;
    for seg in req.uri_path() {
        let seg = core::str::from_utf8(seg).ok()?;
        let mut comps = Path::new(seg).components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(c)), None) => p.push(c),
            _ => return None,
        }
        any = true;
    }
    any.then_some(p)
}

struct Cached {
    modified: Option<SystemTime>,
    data: Vec<u8>,
    etag: Token,
}

/// Writes an upload to `<target>.part`, renamed to the target when complete.
struct FileSink {
    target: PathBuf,
    file: Option<File>,
}

impl FileSink {
    fn part(&self) -> PathBuf {
        let mut s = self.target.clone().into_os_string();
        s.push(".part");
        PathBuf::from(s)
    }
}

impl BlockSink for FileSink {
    fn begin(&mut self, _size: Option<u32>) -> Result<(), Error> {
        if let Some(dir) = self.target.parent() {
            fs::create_dir_all(dir).map_err(|_| Error::Storage)?;
        }
        self.file = Some(File::create(self.part()).map_err(|_| Error::Storage)?);
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Error> {
        if self.file.is_none() {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(self.part())
                .map_err(|_| Error::Storage)?;
            self.file = Some(f);
        }
        let f = self.file.as_mut().ok_or(Error::Storage)?;
        f.seek(SeekFrom::Start(offset as u64))
            .and_then(|_| f.write_all(data))
            .map_err(|_| Error::Storage)
    }
    fn complete(&mut self, total: u32) -> Result<(), Error> {
        let f = self.file.take().ok_or(Error::Storage)?;
        f.set_len(total as u64).map_err(|_| Error::Storage)?;
        drop(f);
        fs::rename(self.part(), &self.target).map_err(|_| Error::Storage)
    }
}

/// A CoAP file server: Block2 GET of any file under a root directory (content-hash ETag,
/// Size2, random access), Block1 PUT writing a file (2.31/2.04, 4.08 on gaps).
pub struct FileServer {
    root: PathBuf,
    max_szx: u8,
    cache: HashMap<PathBuf, Cached>,
    rx: Block1Receiver<SocketAddr>,
    upload: Option<FileSink>,
    dedup: DedupCache<SocketAddr, 32, 96>,
    next_mid: u16,
    epoch: Instant,
}

impl core::fmt::Debug for FileServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileServer")
            .field("root", &self.root)
            .finish()
    }
}

impl FileServer {
    /// Serves `root` with blocks of at most `2^(max_szx + 4)` bytes (Block2) and prefers that
    /// size for uploads (Block1).
    pub fn new(root: impl Into<PathBuf>, max_szx: u8) -> Self {
        FileServer {
            root: root.into(),
            max_szx: max_szx.min(6),
            cache: HashMap::new(),
            rx: Block1Receiver::new(max_szx),
            upload: None,
            dedup: DedupCache::new(),
            next_mid: 1,
            epoch: Instant::now(),
        }
    }

    /// Handles one datagram from `peer`; returns the reply's length in `out`, if any.
    pub fn handle(&mut self, peer: SocketAddr, datagram: &[u8], out: &mut [u8]) -> Option<usize> {
        let msg = Message::parse(datagram).ok()?;
        let ty = msg.message_type();
        if !msg.code().is_request()
            || matches!(ty, MessageType::Acknowledgement | MessageType::Reset)
        {
            // Pings (empty CON) get a Reset; ACK/RST and stray responses are dropped.
            if ty == MessageType::Confirmable {
                return MessageBuilder::empty(out, msg.message_id(), true).ok();
            }
            return None;
        }
        let now = self.epoch.elapsed().as_millis() as u64;
        match self.dedup.check(now, peer, &msg) {
            Dedup::Replay(r) => {
                let dst = out.get_mut(..r.len())?;
                dst.copy_from_slice(r);
                return Some(r.len());
            }
            Dedup::New | Dedup::Reprocess => {}
        }
        self.next_mid = self.next_mid.wrapping_add(1);
        let n = self.respond(peer, &msg, out)?;
        if let Some(r) = out.get(..n) {
            self.dedup.store(peer, msg.message_id(), r);
        }
        Some(n)
    }

    fn respond(&mut self, peer: SocketAddr, msg: &Message<'_>, out: &mut [u8]) -> Option<usize> {
        let mut reply = MessageBuilder::response_to(out, msg, Code::EMPTY, self.next_mid).ok()?;
        if msg.unknown_critical_option().is_some() {
            reply.set_code(Code::BAD_OPTION);
            return Some(reply.finish());
        }
        let Some(path) = local_path(&self.root, msg) else {
            reply.set_code(Code::NOT_FOUND);
            return Some(reply.finish());
        };
        match msg.code() {
            Code::GET => {
                let max_szx = self.max_szx;
                let Some(entry) = self.load(&path) else {
                    reply.set_code(Code::NOT_FOUND);
                    return Some(reply.finish());
                };
                let server = Block2Server::new(max_szx, entry.etag, None);
                let mut src: &[u8] = &entry.data;
                server.respond(msg, &mut src, reply).ok()
            }
            Code::PUT | Code::POST => {
                if self.upload.as_ref().is_none_or(|u| u.target != path) {
                    self.upload = Some(FileSink {
                        target: path.clone(),
                        file: None,
                    });
                }
                let sink = self.upload.as_mut()?;
                match self.rx.handle(peer, msg, sink, &mut reply) {
                    Ok(Block1Event::Complete { .. }) => {
                        self.cache.remove(&path);
                    }
                    Ok(_) => {}
                    Err(_) => reply.set_code(Code::INTERNAL_SERVER_ERROR),
                }
                Some(reply.finish())
            }
            _ => {
                reply.set_code(Code::METHOD_NOT_ALLOWED);
                Some(reply.finish())
            }
        }
    }

    fn load(&mut self, path: &Path) -> Option<&Cached> {
        let meta = fs::metadata(path).ok().filter(|m| m.is_file())?;
        let modified = meta.modified().ok();
        let fresh = self
            .cache
            .get(path)
            .is_some_and(|c| c.modified == modified && c.data.len() as u64 == meta.len());
        if !fresh {
            let data = fs::read(path).ok()?;
            let mut src: &[u8] = &data;
            let etag = content_etag(&mut src).ok()?;
            self.cache.insert(
                path.to_path_buf(),
                Cached {
                    modified,
                    data,
                    etag,
                },
            );
        }
        self.cache.get(path)
    }

    /// Serves on `socket` until `stop` is set (checked every 50 ms).
    pub fn run(&mut self, socket: &UdpSocket, stop: &AtomicBool) -> Result<(), Error> {
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(io_err)?;
        let mut buf = [0u8; MAX_DATAGRAM];
        let mut out = [0u8; MAX_DATAGRAM];
        while !stop.load(Ordering::Relaxed) {
            let (n, peer) = match socket.recv_from(&mut buf) {
                Ok(x) => x,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    continue;
                }
                // ICMP errors from earlier sends to peers that went away.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionReset
                            | ErrorKind::ConnectionRefused
                            | ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                Err(e) => return Err(io_err(e)),
            };
            if let Some(k) = self.handle(peer, buf.get(..n).unwrap_or(&[]), &mut out) {
                let _ = socket.send_to(out.get(..k).unwrap_or(&[]), peer);
            }
        }
        Ok(())
    }
}

/// A parsed `coap://host:port/path` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoapUri {
    /// Resolved peer address.
    pub peer: SocketAddr,
    /// Path without the leading `/`.
    pub path: std::string::String,
}

/// Parses a `coap://host[:port]/path` URI (default port 5683), resolving the host.
pub fn parse_uri(uri: &str) -> Result<CoapUri, Error> {
    use std::net::ToSocketAddrs;
    let rest = uri.strip_prefix("coap://").ok_or(Error::Unexpected)?;
    let (auth, path) = rest.split_once('/').unwrap_or((rest, ""));
    let with_port = if auth.starts_with('[') {
        if auth.contains("]:") {
            auth.to_string()
        } else {
            std::format!("{auth}:5683")
        }
    } else if auth.contains(':') {
        auth.to_string()
    } else {
        std::format!("{auth}:5683")
    };
    let peer = with_port
        .to_socket_addrs()
        .map_err(io_err)?
        .next()
        .ok_or(Error::Io)?;
    Ok(CoapUri {
        peer,
        path: path.to_string(),
    })
}

use std::string::ToString;
