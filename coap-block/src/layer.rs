//! Message layer (RFC 7252 §4): CON retransmission with exponential back-off or an adaptive
//! timeout from RTT estimates (CoCoA style), response matching, and a Message-ID
//! de-duplication cache that answers a duplicate with the same response.
//!
//! Time is a caller-supplied monotonic `now` in milliseconds.

use crate::{Code, Error, Message, MessageType, Token};

/// Transmission parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransmissionParams {
    /// Initial timeout (ACK_TIMEOUT), milliseconds. Also the adaptive estimator's start value.
    pub ack_timeout_ms: u32,
    /// ACK_RANDOM_FACTOR in thousandths (1500 = 1.5).
    pub ack_random_factor_milli: u32,
    /// MAX_RETRANSMIT.
    pub max_retransmit: u8,
    /// Adapt the timeout to measured round trips (CoCoA: strong and weak estimators,
    /// variable back-off) instead of the fixed ACK_TIMEOUT.
    pub adaptive: bool,
    /// Lower bound of the adaptive timeout, milliseconds.
    pub min_rto_ms: u32,
    /// Upper bound of any timeout, milliseconds.
    pub max_rto_ms: u32,
    /// How long to wait for a separate response after an empty ACK, milliseconds.
    pub separate_response_ms: u32,
}

impl TransmissionParams {
    /// RFC 7252 defaults: ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4.
    pub const RFC7252: TransmissionParams = TransmissionParams {
        ack_timeout_ms: 2000,
        ack_random_factor_milli: 1500,
        max_retransmit: 4,
        adaptive: false,
        min_rto_ms: 20,
        max_rto_ms: 60_000,
        separate_response_ms: 93_000,
    };

    /// RFC 7252 values with the adaptive (CoCoA-style) timeout enabled.
    pub const ADAPTIVE: TransmissionParams = TransmissionParams {
        adaptive: true,
        ..Self::RFC7252
    };
}

impl Default for TransmissionParams {
    fn default() -> Self {
        Self::RFC7252
    }
}

/// RTT estimator in milliseconds ×8 fixed point (CoCoA: strong/weak estimators, RFC 6298 style).
#[derive(Debug, Clone, Copy)]
struct Estimator {
    /// The adaptive timeout; with the RFC 7252 timeout, its fixed random range.
    rto: u32,
    strong: Option<(u32, u32)>,
    weak: Option<(u32, u32)>,
}

fn update(est: &mut Option<(u32, u32)>, rtt8: u32) -> (u32, u32) {
    let next = match *est {
        None => (rtt8, rtt8 / 2),
        Some((srtt, var)) => {
            let diff = srtt.abs_diff(rtt8);
            let var = var - var / 4 + diff / 4;
            let srtt = srtt - srtt / 8 + rtt8 / 8;
            (srtt, var)
        }
    };
    *est = Some(next);
    next
}

impl Estimator {
    fn sample(&mut self, rtt_ms: u32, retransmits: u8, p: &TransmissionParams) {
        let rtt8 = rtt_ms.min(600_000) * 8;
        self.rto = match retransmits {
            0 => {
                let (srtt, var) = update(&mut self.strong, rtt8);
                let e = (srtt + 4 * var) / 8;
                (e + self.rto) / 2
            }
            1 | 2 => {
                let (srtt, var) = update(&mut self.weak, rtt8);
                let e = (srtt + var) / 8;
                (e + 3 * self.rto) / 4
            }
            _ => self.rto,
        }
        .min(p.max_rto_ms)
        .max(p.min_rto_ms);
    }
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    mid: u16,
    token: Token,
    confirmable: bool,
    /// Time of the last transmission (ms, truncated to 32 bits; differences wrap correctly).
    sent: u32,
    deadline: u64,
    timeout: u32,
    retransmits: u8,
    acked: bool,
}

/// xorshift32: cheap and good enough for jitter, first Message IDs and token uniqueness.
fn xorshift(mut x: u32) -> u32 {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    x
}

/// The random part of a timeout based on `base`: `0..base * (ACK_RANDOM_FACTOR - 1)`, ms.
fn jitter_range(base: u32, p: &TransmissionParams) -> u32 {
    // 32-bit arithmetic only: no 64-bit division helpers on small cores.
    let spread = p.ack_random_factor_milli.saturating_sub(1000).min(4000);
    base.saturating_mul(spread) / 1000
}

/// What a timeout means for the exchange in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutAction {
    /// Nothing due yet.
    None,
    /// Send the same datagram again now.
    Retransmit,
    /// The exchange failed: retransmissions ran out (or no separate response came).
    GiveUp,
}

/// What an incoming message means for the exchange in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// The response to our request (piggybacked or separate); the exchange is over. When
    /// `ack_needed`, answer it with an empty ACK of its Message ID.
    Response {
        /// A separate CON response that must be acknowledged.
        ack_needed: bool,
    },
    /// An empty ACK: stop retransmitting, a separate response follows.
    EmptyAck,
    /// The peer reset the exchange; it failed.
    Reset,
    /// Not about the exchange in flight (late duplicate, other traffic).
    Unrelated,
}

/// Client-side reliability for one request in flight (lock-step transfers): Message IDs,
/// tokens, retransmission timers and response matching. The caller keeps the datagram and
/// sends it again on [`TimeoutAction::Retransmit`].
///
/// `ADAPTIVE` (default `true`) compiles in the adaptive (CoCoA-style) timeout, used when
/// [`TransmissionParams::adaptive`] is set. A device that only needs the RFC 7252 timeout uses
/// `Reliability<false>` (built with [`with_params`](Self::with_params)): the RTT estimators
/// and the variable back-off are then not in the image, and `params.adaptive` is ignored.
///
/// ```
/// use coap_block::{Reliability, TransmissionParams};
///
/// let mut rel = Reliability::<false>::with_params(TransmissionParams::RFC7252, 0x5eed);
/// let (mid, token) = (rel.next_message_id(), rel.next_token());
/// // ... build and send a CON request with `mid` and `token`, then:
/// rel.start_request(0, mid, token, true)?;
/// assert!((2000..=3000).contains(&rel.poll_timeout().unwrap()));
/// # Ok::<(), coap_block::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Reliability<const ADAPTIVE: bool = true> {
    params: TransmissionParams,
    est: Estimator,
    rng: u32,
    next_mid: u16,
    in_flight: Option<InFlight>,
}

impl Reliability {
    /// A message layer with `params` (RFC 7252 or adaptive timeout, chosen at run time);
    /// `seed` randomises the first Message ID, tokens and the random factor (use a hardware
    /// random number or a boot counter).
    pub fn new(params: TransmissionParams, seed: u32) -> Self {
        Self::with_params(params, seed)
    }
}

impl<const ADAPTIVE: bool> Reliability<ADAPTIVE> {
    /// A message layer with `params` and `seed` (see [`Reliability::new`]); with
    /// `ADAPTIVE = false` the timeout is RFC 7252's whatever `params.adaptive` says.
    // Always inlined: the range below folds with the caller's constant parameters (out of
    // line, the whole struct is returned through a copy routine).
    #[inline(always)]
    pub fn with_params(params: TransmissionParams, seed: u32) -> Self {
        let rng = xorshift(seed | 1);
        Reliability {
            params,
            est: Estimator {
                // The RFC 7252 timeout's random range is fixed: worked out once, here, and
                // kept where the adaptive estimate would be.
                rto: if ADAPTIVE && params.adaptive {
                    params.ack_timeout_ms
                } else {
                    jitter_range(params.ack_timeout_ms, &params)
                },
                strong: None,
                weak: None,
            },
            rng,
            next_mid: rng as u16,
            in_flight: None,
        }
    }

    /// Whether the adaptive timeout is in use (compiled in and asked for).
    #[inline]
    fn adaptive(&self) -> bool {
        ADAPTIVE && self.params.adaptive
    }

    fn random(&mut self) -> u32 {
        self.rng = xorshift(self.rng);
        self.rng
    }

    /// The parameters in use.
    pub fn params(&self) -> &TransmissionParams {
        &self.params
    }

    /// The current base timeout (ACK_TIMEOUT or the adaptive estimate), milliseconds.
    pub fn rto_ms(&self) -> u32 {
        if self.adaptive() {
            self.est.rto
        } else {
            self.params.ack_timeout_ms
        }
    }

    /// A fresh Message ID.
    pub fn next_message_id(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    /// A fresh random 4-byte token.
    pub fn next_token(&mut self) -> Token {
        Token::from_word(self.random())
    }

    /// Whether an exchange is in flight.
    pub fn is_busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Records that `msg` (a request) was just sent at `now`. A CON is retransmitted until
    /// acknowledged; a NON only waits for its response.
    pub fn start(&mut self, now: u64, msg: &Message<'_>) -> Result<(), Error> {
        self.start_request(
            now,
            msg.message_id(),
            msg.token_value(),
            msg.message_type() == MessageType::Confirmable,
        )
    }

    /// [`start`](Self::start) from what the caller put into the request it just sent (its
    /// Message ID, token and whether it is a CON): no need to parse one's own datagram.
    pub fn start_request(
        &mut self,
        now: u64,
        message_id: u16,
        token: Token,
        confirmable: bool,
    ) -> Result<(), Error> {
        if self.in_flight.is_some() {
            return Err(Error::Busy);
        }
        let timeout = if confirmable {
            let base = self.rto_ms();
            let range = if self.adaptive() {
                jitter_range(base, &self.params)
            } else {
                self.est.rto // see `with_params`
            };
            // Uniform in 0..range: the random word scales the range (a 32x32 -> 64-bit
            // multiply, no division by a random modulus).
            let jitter = ((range as u64 * self.random() as u64) >> 32) as u32;
            base.saturating_add(jitter)
        } else {
            self.params.separate_response_ms
        };
        self.in_flight = Some(InFlight {
            mid: message_id,
            token,
            confirmable,
            sent: now as u32,
            deadline: now.saturating_add(timeout as u64),
            timeout,
            retransmits: 0,
            acked: !confirmable,
        });
        Ok(())
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.in_flight.map(|f| f.deadline)
    }

    /// Advances the timers to `now`.
    pub fn handle_timeout(&mut self, now: u64) -> TimeoutAction {
        let Some(f) = self.in_flight.as_mut() else {
            return TimeoutAction::None;
        };
        if now < f.deadline {
            return TimeoutAction::None;
        }
        if f.acked || f.retransmits >= self.params.max_retransmit {
            self.in_flight = None;
            return TimeoutAction::GiveUp;
        }
        f.retransmits += 1;
        if ADAPTIVE {
            // Weak RTT samples are timed from the last transmission.
            f.sent = now as u32;
        }
        let t = f.timeout;
        let next = if ADAPTIVE && self.params.adaptive {
            // CoCoA variable back-off: steeper for short timeouts.
            match t {
                0..1000 => t.saturating_mul(3),
                1000..=3000 => t.saturating_mul(2),
                _ => t.saturating_mul(3) >> 1,
            }
        } else {
            t.saturating_mul(2)
        };
        f.timeout = next.min(self.params.max_rto_ms).max(1);
        f.deadline = now.saturating_add(f.timeout as u64);
        TimeoutAction::Retransmit
    }

    /// Forgets the exchange in flight.
    pub fn cancel(&mut self) {
        self.in_flight = None;
    }

    /// Matches an incoming message against the exchange in flight.
    #[inline]
    pub fn handle_incoming(&mut self, now: u64, msg: &Message<'_>) -> Incoming {
        self.incoming(msg, now)
    }

    /// [`handle_incoming`](Self::handle_incoming) with all arguments in registers on 32-bit
    /// cores (`now` after `msg`, not on the stack).
    // Kept out of line: inlined next to `start` it costs ~230 bytes more on Cortex-M.
    #[inline(never)]
    fn incoming(&mut self, msg: &Message<'_>, now: u64) -> Incoming {
        let Some(f) = self.in_flight.as_mut() else {
            return Incoming::Unrelated;
        };
        // The header in one bounds check (a parsed message has all four bytes).
        let &[b0, c, m0, m1, ..] = msg.as_bytes() else {
            return Incoming::Unrelated;
        };
        let ty = MessageType::from_bits(b0 >> 4);
        let code = Code(c);
        // An ACK or RST of our CON carries its Message ID; a response carries its token.
        let ours = f.confirmable && u16::from_be_bytes([m0, m1]) == f.mid;
        match ty {
            MessageType::Reset if ours => {
                self.in_flight = None;
                return Incoming::Reset;
            }
            MessageType::Acknowledgement if ours => {
                if !f.acked {
                    f.acked = true;
                    // Strong samples (no retransmission) time the whole exchange; weak ones
                    // (1-2 retransmissions) are timed from the last transmission, so a lost
                    // datagram does not inflate the estimate by the timeout it cost.
                    if ADAPTIVE && self.params.adaptive {
                        let rtt = (now as u32).wrapping_sub(f.sent);
                        self.est.sample(rtt, f.retransmits, &self.params);
                    }
                }
                if code.is_empty() {
                    f.deadline = now.saturating_add(self.params.separate_response_ms as u64);
                    return Incoming::EmptyAck;
                }
            }
            MessageType::Confirmable | MessageType::NonConfirmable if code.is_response() => {}
            _ => return Incoming::Unrelated,
        }
        // A piggybacked or separate response: its token must be ours (one compare for both).
        if msg.token() != f.token.as_slice() {
            return Incoming::Unrelated;
        }
        self.in_flight = None;
        Incoming::Response {
            ack_needed: ty == MessageType::Confirmable,
        }
    }
}

/// What [`DedupCache::check`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Dedup<'c> {
    /// First time: process it (and [`store`](DedupCache::store) the response).
    New,
    /// A duplicate: send this cached response again, do not process.
    Replay(&'c [u8]),
    /// A duplicate whose response was too large to keep (or not stored): process it again
    /// (the block engines recognise repeated blocks, so this is safe).
    Reprocess,
}

/// Message-ID de-duplication cache for a server: `E` entries, responses up to `R` bytes kept
/// for replay. Entries expire after EXCHANGE_LIFETIME (247 s).
#[derive(Debug, Clone)]
pub struct DedupCache<P, const E: usize, const R: usize> {
    // Struct of arrays: inserting touches a few words, never copies a response buffer.
    peers: [Option<P>; E],
    mids: [u16; E],
    /// Arrival time, milliseconds, truncated to 32 bits (compared with wrapping arithmetic).
    at: [u32; E],
    lens: [u16; E],
    resps: [[u8; R]; E],
}

/// EXCHANGE_LIFETIME with the RFC 7252 defaults, milliseconds.
pub const EXCHANGE_LIFETIME_MS: u64 = 247_000;

impl<P: PartialEq + Copy, const E: usize, const R: usize> Default for DedupCache<P, E, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: PartialEq + Copy, const E: usize, const R: usize> DedupCache<P, E, R> {
    /// An empty cache.
    pub const fn new() -> Self {
        DedupCache {
            peers: [None; E],
            mids: [0; E],
            at: [0; E],
            lens: [0; E],
            resps: [[0; R]; E],
        }
    }

    fn find(&self, now: u32, peer: P, mid: u16) -> (Option<usize>, usize) {
        let mut slot = 0;
        let mut oldest = 0u32;
        for (i, (p, (m, t))) in self
            .peers
            .iter()
            .zip(self.mids.iter().zip(self.at.iter()))
            .enumerate()
        {
            let age = now.wrapping_sub(*t);
            match p {
                Some(p) if (age as u64) < EXCHANGE_LIFETIME_MS => {
                    if *p == peer && *m == mid {
                        return (Some(i), i);
                    }
                    if age > oldest {
                        oldest = age;
                        slot = i;
                    }
                }
                _ => {
                    oldest = u32::MAX;
                    slot = i;
                }
            }
        }
        (None, slot)
    }

    /// Checks a received CON or NON message from `peer`; new ones are remembered (evicting the
    /// oldest entry when full).
    pub fn check(&mut self, now: u64, peer: P, msg: &Message<'_>) -> Dedup<'_> {
        let mid = msg.message_id();
        let now = now as u32;
        match self.find(now, peer, mid) {
            (Some(i), _) => {
                let len = self.lens.get(i).copied().unwrap_or(0) as usize;
                match self.resps.get(i).and_then(|r| r.get(..len)) {
                    Some(r) if len > 0 => Dedup::Replay(r),
                    _ => Dedup::Reprocess,
                }
            }
            (None, slot) => {
                if let (Some(p), Some(m), Some(t), Some(l)) = (
                    self.peers.get_mut(slot),
                    self.mids.get_mut(slot),
                    self.at.get_mut(slot),
                    self.lens.get_mut(slot),
                ) {
                    *p = Some(peer);
                    *m = mid;
                    *t = now;
                    *l = 0;
                }
                Dedup::New
            }
        }
    }

    /// Remembers the response sent to `peer`'s message `mid` (kept when it fits in `R` bytes).
    pub fn store(&mut self, peer: P, mid: u16, response: &[u8]) {
        for (i, p) in self.peers.iter().enumerate() {
            if *p == Some(peer) && self.mids.get(i) == Some(&mid) {
                let dst = self
                    .resps
                    .get_mut(i)
                    .and_then(|r| r.get_mut(..response.len()));
                let len = match dst {
                    Some(d) => {
                        crate::msg::copy_bytes(d, response);
                        response.len() as u16
                    }
                    None => 0,
                };
                if let Some(l) = self.lens.get_mut(i) {
                    *l = len;
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first timeout of a CON, for `seed`.
    fn first<const A: bool>(p: TransmissionParams, seed: u32) -> u64 {
        let mut r = Reliability::<A>::with_params(p, seed);
        let (mid, token) = (r.next_message_id(), r.next_token());
        assert_eq!(r.start_request(5, mid, token, true), Ok(()));
        r.poll_timeout().unwrap_or(0) - 5
    }

    #[test]
    fn first_timeout_spans_the_random_factor_in_every_mode() {
        // ACK_TIMEOUT 1 s, ACK_RANDOM_FACTOR 2: 1..=2 s, whichever way the range is kept.
        let p = TransmissionParams {
            ack_timeout_ms: 1000,
            ack_random_factor_milli: 2000,
            ..TransmissionParams::RFC7252
        };
        let a = TransmissionParams {
            adaptive: true,
            ..p
        };
        for (name, f) in [
            ("rfc, compiled out", first::<false> as fn(_, _) -> u64),
            ("rfc, compiled in", first::<true>),
        ] {
            let t: [u64; 64] = core::array::from_fn(|s| f(p, s as u32));
            assert!(t.iter().all(|t| (1000..=2000).contains(t)), "{name}: {t:?}");
            assert!(
                t.iter().any(|t| *t > 1800) && t.iter().any(|t| *t < 1200),
                "{name}"
            );
        }
        let t: [u64; 64] = core::array::from_fn(|s| first::<true>(a, s as u32));
        assert!(
            t.iter().all(|t| (1000..=2000).contains(t)),
            "adaptive: {t:?}"
        );
        assert!(t.iter().any(|t| *t > 1800), "adaptive");
    }
}
