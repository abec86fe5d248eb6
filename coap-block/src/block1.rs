//! Block1 (request body) transfers: the receiving end ([`Block1Receiver`], a device taking a
//! push to `/5/0/0`) and the sending end ([`Block1Sender`], a server pushing a package).

use crate::io::{BlockSink, BlockSource, FNV32_BASIS, fnv1a32, read_exact};
use crate::{
    Block, Code, Error, Message, MessageBuilder, OptionNumber, Token, decode_uint, size_of_szx,
};

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
    last_offset: u32,
    /// At least one block stored in this transfer (so `last_offset` is meaningful).
    any: bool,
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
    resume: Option<u32>,
}

impl<P: PartialEq + Copy> Block1Receiver<P> {
    /// A receiver preferring blocks of `2^(preferred_szx + 4)` bytes (clamped to 6).
    pub const fn new(preferred_szx: u8) -> Self {
        let s = if preferred_szx > 6 { 6 } else { preferred_szx };
        Block1Receiver {
            preferred_szx: s,
            state: None,
            resume: None,
        }
    }

    /// Bytes of the current body received so far (for `/5/0/26500`); after
    /// [`resume_at`](Self::resume_at) and before a block arrives, the resume offset.
    pub fn bytes_received(&self) -> u32 {
        match (&self.state, self.resume) {
            (Some(s), _) => s.next,
            (None, Some(r)) => r,
            _ => 0,
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
        self.resume = Some(offset);
    }

    /// Forgets the current transfer.
    pub fn reset(&mut self) {
        self.state = None;
        self.resume = None;
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
        let payload = req.payload();
        let len = payload.len() as u32; // a datagram is far below 4 GiB
        // One pass over the options: the transfer key (Uri-Path, Uri-Query, Request-Tag),
        // Block1 and Size1.
        let mut key = FNV32_BASIS;
        let (mut block1, mut size1) = (None, None);
        for o in req.options() {
            match o.number {
                OptionNumber::URI_PATH | OptionNumber::URI_QUERY | OptionNumber::REQUEST_TAG => {
                    key = fnv1a32(
                        key ^ ((o.number.0 as u32) << 16 | o.value.len() as u32),
                        o.value,
                    );
                }
                OptionNumber::BLOCK1 => block1 = Some(o.value),
                OptionNumber::SIZE1 => size1 = Some(o.value),
                _ => {}
            }
        }
        let (block, blockwise) = match block1 {
            Some(v) => match Block::decode(v, 27) {
                Ok(b) => (b, true),
                Err(_) => return reject(reply, Code::BAD_OPTION),
            },
            None => (
                Block {
                    num: 0,
                    more: false,
                    szx: 6,
                },
                false,
            ),
        };
        let size1 = match size1 {
            Some(v) => match decode_uint(v, 60) {
                Ok(v) => Some(v),
                Err(_) => return reject(reply, Code::BAD_OPTION),
            },
            None => None,
        };
        if blockwise && (len > block.size() || block.more && len != block.size()) {
            return reject(reply, Code::BAD_REQUEST);
        }
        let offset = block.offset();
        let capacity = sink.capacity();
        let end = offset.saturating_add(len);
        if end > capacity || size1.is_some_and(|s| s > capacity) {
            return too_large(reply, capacity);
        }

        let current = self.state.filter(|s| s.peer == peer && s.key == key);
        let mut st = match current {
            // The last block again (its reply was lost, or a retransmission with a new MID).
            Some(s) if s.any && offset == s.last_offset && end == s.next => {
                ack(reply, block, blockwise, self.preferred_szx)?;
                return Ok(Block1Event::Duplicate);
            }
            Some(s) if offset == s.next && !s.complete => s,
            _ if offset == 0 || self.resume == Some(offset) => {
                self.state = None;
                if offset == 0
                    && let Err(e) = sink.begin(size1)
                {
                    return sink_failed(reply, e, capacity);
                }
                RxState {
                    peer,
                    key,
                    next: offset,
                    last_offset: offset,
                    any: false,
                    complete: false,
                }
            }
            Some(s) if end <= s.next => {
                ack(reply, block, blockwise, self.preferred_szx)?;
                return Ok(Block1Event::Duplicate);
            }
            _ => return reject(reply, Code::REQUEST_ENTITY_INCOMPLETE),
        };
        if let Err(e) = sink.write(offset, payload) {
            return sink_failed(reply, e, capacity);
        }
        st.next = end;
        st.last_offset = offset;
        st.any = true;
        self.resume = None;
        self.state = Some(st);
        if !block.more {
            if let Err(e) = sink.complete(end) {
                return sink_failed(reply, e, capacity);
            }
            st.complete = true;
            self.state = Some(st);
        }
        ack(reply, block, blockwise, self.preferred_szx)?;
        Ok(if block.more {
            Block1Event::Stored { offset, len }
        } else {
            Block1Event::Complete { total: end }
        })
    }
}

fn too_large(reply: &mut MessageBuilder<'_>, capacity: u32) -> Result<Block1Event, Error> {
    reply.set_code(Code::REQUEST_ENTITY_TOO_LARGE);
    reply.uint_option(OptionNumber::SIZE1, capacity)?;
    Ok(Block1Event::Rejected(Code::REQUEST_ENTITY_TOO_LARGE))
}

fn reject(reply: &mut MessageBuilder<'_>, code: Code) -> Result<Block1Event, Error> {
    reply.set_code(code);
    Ok(Block1Event::Rejected(code))
}

fn sink_failed(
    reply: &mut MessageBuilder<'_>,
    e: Error,
    capacity: u32,
) -> Result<Block1Event, Error> {
    match e {
        Error::TooLarge { capacity: c } => too_large(reply, c.min(capacity)),
        _ => reject(reply, Code::INTERNAL_SERVER_ERROR),
    }
}

fn ack(
    reply: &mut MessageBuilder<'_>,
    block: Block,
    blockwise: bool,
    preferred: u8,
) -> Result<(), Error> {
    if block.more {
        reply.set_code(Code::CONTINUE);
    } else {
        reply.set_code(Code::CHANGED);
    }
    if blockwise {
        let szx = if block.more {
            block.szx.min(preferred)
        } else {
            block.szx
        };
        reply.block(
            OptionNumber::BLOCK1,
            Block {
                num: block.num,
                more: block.more,
                szx,
            },
        )?;
    }
    Ok(())
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
