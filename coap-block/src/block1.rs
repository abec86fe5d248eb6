//! Block1 (request body) transfers: the receiving end ([`Block1Receiver`], a device taking a
//! push to `/5/0/0`) and the sending end ([`Block1Sender`], a server pushing a package).

use crate::io::{BlockSink, BlockSource, FNV32_BASIS, fnv1a32, read_exact};
use crate::{Block, Code, Error, Message, MessageBuilder, OptionNumber, Token, size_of_szx};

/// What [`Block1Receiver::handle`] did with a request (the reply is already in the builder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block1Event {
    /// A block was stored; more are expected (answered 2.31 Continue).
    Stored {
        /// Offset of the stored bytes.
        offset: u32,
        /// Number of bytes stored.
        len: u32,
    },
    /// The final block was stored and the sink completed (answered 2.04 Changed).
    Complete {
        /// Body size in bytes.
        total: u32,
    },
    /// A block already stored (a retransmission with a new Message ID): answered again, not
    /// written twice.
    Duplicate,
    /// The request was refused with this code (4.00, 4.08, 4.13, 5.00).
    Rejected(Code),
}

#[derive(Debug, Clone, Copy)]
struct RxState<P> {
    peer: P,
    key: u32,
    next: u32,
    /// Offset of the last block stored (a state exists only once a block is stored).
    last_offset: u32,
    complete: bool,
}

/// Block1 receiver: hands each block of a request body to a [`BlockSink`] as it arrives.
///
/// One transfer at a time, matched by peer + Uri-Path/Uri-Query + Request-Tag (never by token:
/// some clients use a new token per block). Answers 2.31 Continue with its preferred SZX (late
/// negotiation), 2.04 at the end, 4.08 on a gap, 4.13 with Size1 when the announced or actual
/// size exceeds the sink's capacity. A repeated block is a duplicate, never written twice; a
/// new transfer starting at NUM 0 restarts cleanly.
#[derive(Debug, Clone)]
pub struct Block1Receiver<P> {
    preferred_szx: u8,
    state: Option<RxState<P>>,
    /// Offset a push may continue at after a reboot (0: none; a transfer may always start at 0).
    resume: u32,
}

impl<P: PartialEq + Copy> Block1Receiver<P> {
    /// A receiver preferring blocks of `2^(preferred_szx + 4)` bytes (clamped to 6).
    pub const fn new(preferred_szx: u8) -> Self {
        let s = if preferred_szx > 6 { 6 } else { preferred_szx };
        Block1Receiver {
            preferred_szx: s,
            state: None,
            resume: 0,
        }
    }

    /// Bytes of the current body received so far (for `/5/0/26500`); after
    /// [`resume_at`](Self::resume_at) and before a block arrives, the resume offset.
    pub fn bytes_received(&self) -> u32 {
        match &self.state {
            Some(s) => s.next,
            None => self.resume,
        }
    }

    /// Whether the last transfer completed.
    pub fn is_complete(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.complete)
    }

    /// After a reboot: accept a push that continues at byte `offset` (the sink already holds
    /// bytes `0..offset`) from any peer, without calling [`BlockSink::begin`].
    pub fn resume_at(&mut self, offset: u32) {
        self.state = None;
        self.resume = offset;
    }

    /// Forgets the current transfer.
    pub fn reset(&mut self) {
        self.state = None;
        self.resume = 0;
    }

    /// Handles one request (PUT/POST to the body's resource) from `peer`: stores its block in
    /// `sink` and writes the reply's code, Block1 and Size1 options into `reply` (started by the
    /// caller with [`MessageBuilder::response_to`], options below 27 already added).
    pub fn handle<S: BlockSink + ?Sized>(
        &mut self,
        peer: P,
        req: &Message<'_>,
        sink: &mut S,
        reply: &mut MessageBuilder<'_>,
    ) -> Result<Block1Event, Error> {
        match Block1Request::from_message(req) {
            Ok(r) => self.handle_request(peer, &r, sink, reply),
            Err(_) => {
                reply.set_code(Code::BAD_OPTION);
                Ok(Block1Event::Rejected(Code::BAD_OPTION))
            }
        }
    }

    /// [`handle`](Self::handle) for a request whose Block1, Size1 and transfer key the caller
    /// decoded already (one option pass for a caller that needs them itself).
    pub fn handle_request<S: BlockSink + ?Sized>(
        &mut self,
        peer: P,
        req: &Block1Request<'_>,
        sink: &mut S,
        reply: &mut MessageBuilder<'_>,
    ) -> Result<Block1Event, Error> {
        let (event, size1) = self.step(peer, req, sink);
        let block = req.block1.unwrap_or(Block {
            num: 0,
            more: false,
            szx: 6,
        });
        let (code, number, value) = match event {
            Block1Event::Rejected(c) => (c, OptionNumber::SIZE1, size1),
            // The reply's Block1: this block, at this receiver's preferred size while more
            // follow (only for a blockwise request).
            _ => (
                if block.more {
                    Code::CONTINUE
                } else {
                    Code::CHANGED
                },
                OptionNumber::BLOCK1,
                Block {
                    szx: if block.more {
                        block.szx.min(self.preferred_szx)
                    } else {
                        block.szx
                    },
                    ..block
                }
                .to_uint(),
            ),
        };
        reply.set_code(code);
        // One option at most: Block1 echoed, or Size1 with 4.13.
        if number == OptionNumber::BLOCK1 && req.block1.is_some()
            || code == Code::REQUEST_ENTITY_TOO_LARGE
        {
            reply.uint_option(number, value)?;
        }
        Ok(event)
    }

    /// [`handle_request`](Self::handle_request) without writing the reply: what to answer is
    /// returned, for a caller that writes its replies itself (a device client answering every
    /// request through one reply writer).
    ///
    /// ```
    /// use coap_block::{Block, Block1Receiver, Block1Request, Code, SliceSink};
    ///
    /// let mut staging = [0u8; 256];
    /// let mut sink = SliceSink::new(&mut staging);
    /// let mut rx: Block1Receiver<u8> = Block1Receiver::new(2); // prefers 64-byte blocks
    /// // Block 0 of a push in 128-byte blocks, its Block1 and Size1 decoded by the caller.
    /// let req = Block1Request {
    ///     key: 0, // one resource takes pushes: transfers told apart by peer
    ///     block1: Some(Block::new(0, true, 3)?),
    ///     size1: Some(200),
    ///     payload: &[7; 128],
    /// };
    /// let r = rx.receive(1, &req, &mut sink);
    /// assert_eq!(r.code, Code::CONTINUE);
    /// assert_eq!(r.block1, Some(Block::new(0, true, 2)?)); // late negotiation: 64 bytes
    /// assert_eq!(rx.bytes_received(), 128);
    /// # Ok::<(), coap_block::Error>(())
    /// ```
    pub fn receive<S: BlockSink + ?Sized>(
        &mut self,
        peer: P,
        req: &Block1Request<'_>,
        sink: &mut S,
    ) -> Block1Reply {
        let (event, size1) = self.step(peer, req, sink);
        match (event, req.block1) {
            (Block1Event::Rejected(code), _) => Block1Reply {
                event,
                code,
                block1: None,
                size1: (code == Code::REQUEST_ENTITY_TOO_LARGE).then_some(size1),
            },
            // The reply's Block1: this block, at this receiver's preferred size while more
            // follow (only for a blockwise request).
            (_, block) => {
                let more = block.is_some_and(|b| b.more);
                Block1Reply {
                    event,
                    code: if more { Code::CONTINUE } else { Code::CHANGED },
                    block1: block.map(|b| Block {
                        szx: if more {
                            b.szx.min(self.preferred_szx)
                        } else {
                            b.szx
                        },
                        ..b
                    }),
                    size1: None,
                }
            }
        }
    }

    /// The transfer step: the event and, for 4.13, the Size1 value.
    fn step<S: BlockSink + ?Sized>(
        &mut self,
        peer: P,
        req: &Block1Request<'_>,
        sink: &mut S,
    ) -> (Block1Event, u32) {
        let payload = req.payload;
        let len = payload.len() as u32; // a datagram is far below 4 GiB
        let block = req.block1.unwrap_or(Block {
            num: 0,
            more: false,
            szx: 6,
        });
        let size = block.size();
        if req.block1.is_some() && (len > size || block.more && len != size) {
            return rejected(Code::BAD_REQUEST, 0);
        }
        let offset = block.offset();
        let capacity = sink.capacity();
        let end = offset.saturating_add(len);
        if end > capacity || req.size1.is_some_and(|s| s > capacity) {
            return rejected(Code::REQUEST_ENTITY_TOO_LARGE, capacity);
        }
        let key = req.key;
        // The transfer this block continues, if it is one of the current transfer.
        let mut cont = None;
        // A block already stored (a retransmission with a new MID, or its reply was lost).
        let mut dup = false;
        if let Some(s) = self.state
            && s.peer == peer
            && s.key == key
        {
            if offset == s.last_offset && end == s.next {
                // The last block again (before a restart at 0: block 0 repeated is no restart).
                return (Block1Event::Duplicate, 0);
            }
            dup = end <= s.next;
            if offset == s.next && !s.complete {
                cont = Some(s);
            }
        }
        let mut st = match cont {
            Some(s) => s,
            None if offset == 0 || offset == self.resume => {
                self.state = None;
                if offset == 0
                    && let Err(e) = sink.begin(req.size1)
                {
                    return sink_failed(e, capacity);
                }
                RxState {
                    peer,
                    key,
                    next: offset,
                    last_offset: offset,
                    complete: false,
                }
            }
            None if dup => return (Block1Event::Duplicate, 0),
            None => return rejected(Code::REQUEST_ENTITY_INCOMPLETE, 0),
        };
        if let Err(e) = sink.write(offset, payload) {
            return sink_failed(e, capacity);
        }
        st.next = end;
        st.last_offset = offset;
        self.resume = 0;
        self.state = Some(st);
        let event = if block.more {
            Block1Event::Stored { offset, len }
        } else {
            if let Err(e) = sink.complete(end) {
                return sink_failed(e, capacity);
            }
            st.complete = true;
            self.state = Some(st);
            Block1Event::Complete { total: end }
        };
        (event, 0)
    }
}

/// What a [`Block1Receiver`] answers to one request: [`Block1Receiver::receive`]'s result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block1Reply {
    /// What happened to the request's block.
    pub event: Block1Event,
    /// The reply's code (2.31, 2.04, or the rejection's code).
    pub code: Code,
    /// The Block1 option of the reply (blockwise requests acknowledged).
    pub block1: Option<Block>,
    /// The Size1 option of the reply (with 4.13: how much the receiver can take).
    pub size1: Option<u32>,
}

impl Block1Reply {
    /// Sets the reply's code and adds its Block1 or Size1 option (`reply` started with
    /// [`MessageBuilder::response_to`], options below 27 already added).
    pub fn write_to(&self, reply: &mut MessageBuilder<'_>) -> Result<(), Error> {
        reply.set_code(self.code);
        if let Some(b) = self.block1 {
            reply.block(OptionNumber::BLOCK1, b)?;
        }
        if let Some(s) = self.size1 {
            reply.uint_option(OptionNumber::SIZE1, s)?;
        }
        Ok(())
    }
}

/// The parts of a Block1 request that [`Block1Receiver::handle_request`] needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block1Request<'a> {
    /// Transfer key: requests from one peer with different keys belong to different transfers
    /// ([`Block1Request::from_message`] hashes Uri-Path, Uri-Query and Request-Tag; a caller
    /// that routes one resource to the receiver may use the Request-Tag alone, or 0).
    pub key: u32,
    /// The Block1 option (`None`: the body is this request's payload alone).
    pub block1: Option<Block>,
    /// The Size1 option (announced body size).
    pub size1: Option<u32>,
    /// The request's payload.
    pub payload: &'a [u8],
}

impl<'a> Block1Request<'a> {
    /// The parts of `req` in one option pass; a malformed Block1 or Size1 is an
    /// [`Error::BadOption`] (to be answered with 4.02).
    pub fn from_message(req: &Message<'a>) -> Result<Self, Error> {
        let mut key = FNV32_BASIS;
        for o in req.options() {
            if matches!(
                o.number,
                OptionNumber::URI_PATH | OptionNumber::URI_QUERY | OptionNumber::REQUEST_TAG
            ) {
                key = fnv1a32(
                    key ^ ((o.number.0 as u32) << 16 | o.value.len() as u32),
                    o.value,
                );
            }
        }
        Ok(Block1Request {
            key,
            block1: req.block1()?,
            size1: req.size1()?,
            payload: req.payload(),
        })
    }
}

fn rejected(code: Code, size1: u32) -> (Block1Event, u32) {
    (Block1Event::Rejected(code), size1)
}

fn sink_failed(e: Error, capacity: u32) -> (Block1Event, u32) {
    match e {
        Error::TooLarge { capacity: c } => {
            rejected(Code::REQUEST_ENTITY_TOO_LARGE, c.min(capacity))
        }
        _ => rejected(Code::INTERNAL_SERVER_ERROR, 0),
    }
}

/// What a response meant to a [`Block1Sender`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block1SendEvent {
    /// The block was acknowledged (2.31); send the next one.
    Continue,
    /// The whole body was accepted (2.04/2.01, with or without a Block1 option).
    Complete,
    /// The receiver lost track (4.08): the transfer restarts from offset 0.
    Restart,
    /// The receiver asked for smaller blocks (4.13 with a smaller Block1 SZX): the same bytes
    /// are sent again in smaller blocks.
    Resized,
}

/// Block1 sender: pushes a body from a [`BlockSource`] block by block.
///
/// Follows the receiver's smaller SZX mid-transfer (renumbering from the byte offset), handles
/// 2.31, 2.04, 4.08 and 4.13 + Size1, and can start at any byte offset (push resume). When an
/// exchange finally fails, call [`abandon`](Self::abandon) and the next request resends from
/// the last confirmed offset.
#[derive(Debug, Clone)]
pub struct Block1Sender {
    total: u32,
    confirmed: u32,
    szx: u8,
    in_flight: Option<(u32, u32)>,
    request_tag: Token,
    done: bool,
}

impl Block1Sender {
    /// Sends a body of `total` bytes in blocks of `2^(szx + 4)` (clamped to 6), tagging every
    /// request with `request_tag` (omitted when empty).
    pub fn new(total: u32, szx: u8, request_tag: Token) -> Self {
        Block1Sender {
            total,
            confirmed: 0,
            szx: szx.min(6),
            in_flight: None,
            request_tag,
            done: false,
        }
    }

    /// Starts at byte `offset` (push resume; the receiver holds `0..offset`). The block size
    /// shrinks until `offset` is a block boundary (down to 16; below that, rounded down).
    pub fn starting_at(mut self, offset: u32) -> Self {
        let offset = offset.min(self.total) & !15;
        while self.szx > 0 && !offset.is_multiple_of(size_of_szx(self.szx)) {
            self.szx -= 1;
        }
        self.confirmed = offset;
        self
    }

    /// Bytes confirmed by the receiver so far.
    pub fn confirmed_offset(&self) -> u32 {
        self.confirmed
    }
    /// Total body size.
    pub fn total(&self) -> u32 {
        self.total
    }
    /// Current block size exponent.
    pub fn szx(&self) -> u8 {
        self.szx
    }
    /// Whether the receiver accepted the whole body.
    pub fn is_complete(&self) -> bool {
        self.done
    }

    /// Forgets the block in flight (its exchange failed): the next request resends from the
    /// last confirmed offset.
    pub fn abandon(&mut self) {
        self.in_flight = None;
    }

    /// Finishes the next request: adds Block1, Size1, Request-Tag and the block's payload to
    /// `req` (started by the caller with method, Uri-Path and Content-Format); returns its length.
    pub fn write_request<S: BlockSource + ?Sized>(
        &mut self,
        mut req: MessageBuilder<'_>,
        source: &mut S,
    ) -> Result<usize, Error> {
        if self.done {
            return Err(Error::Unexpected);
        }
        let size = size_of_szx(self.szx);
        let offset = self.confirmed;
        let len = self.total.saturating_sub(offset).min(size);
        let more = offset + len < self.total;
        req.block(
            OptionNumber::BLOCK1,
            Block::at_offset(offset, more, self.szx)?,
        )?;
        req.uint_option(OptionNumber::SIZE1, self.total)?;
        if !self.request_tag.as_slice().is_empty() {
            req.option(OptionNumber::REQUEST_TAG, self.request_tag.as_slice())?;
        }
        let n = req.payload_with(len as usize, |buf| {
            read_exact(source, offset, buf)?;
            Ok(buf.len())
        })?;
        self.in_flight = Some((offset, len));
        Ok(n)
    }

    /// Handles the response to the request in flight.
    pub fn handle_response(&mut self, resp: &Message<'_>) -> Result<Block1SendEvent, Error> {
        let (offset, len) = self.in_flight.ok_or(Error::Unexpected)?;
        let code = resp.code();
        let block = resp.block1().ok().flatten();
        let last = offset + len >= self.total;
        if code == Code::CONTINUE || (code.is_success() && block.is_some_and(|b| b.more)) {
            if last {
                return Err(Error::Unexpected);
            }
            if let Some(b) = block
                && b.szx < self.szx
            {
                self.szx = b.szx;
            }
            self.confirmed = offset + len;
            self.in_flight = None;
            return Ok(Block1SendEvent::Continue);
        }
        if code.is_success() {
            if !last {
                return Err(Error::Unexpected);
            }
            self.confirmed = self.total;
            self.in_flight = None;
            self.done = true;
            return Ok(Block1SendEvent::Complete);
        }
        self.in_flight = None;
        if code == Code::REQUEST_ENTITY_INCOMPLETE {
            self.confirmed = 0;
            return Ok(Block1SendEvent::Restart);
        }
        if code == Code::REQUEST_ENTITY_TOO_LARGE {
            if let Ok(Some(s)) = resp.size1()
                && s < self.total
            {
                return Err(Error::TooLarge { capacity: s });
            }
            if let Some(b) = block
                && b.szx < self.szx
            {
                self.szx = b.szx;
                return Ok(Block1SendEvent::Resized);
            }
        }
        Err(Error::Response(code.0))
    }
}
