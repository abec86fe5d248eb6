//! Block2 (response body) transfers: the serving end ([`Block2Server`], a server hosting a
//! package for pull) and the fetching end ([`Block2Client`], a device downloading it).

use crate::io::{BlockSink, BlockSource, FNV_BASIS, fnv1a, read_exact};
use crate::{Block, Code, Error, Message, MessageBuilder, OptionNumber, Token, size_of_szx};

/// A content-hash ETag (8 bytes of FNV-1a 64 over the whole body), read through `source`.
pub fn content_etag<S: BlockSource + ?Sized>(source: &mut S) -> Result<Token, Error> {
    let mut h = FNV_BASIS;
    let mut buf = [0u8; 64];
    let total = source.size();
    let mut off = 0u32;
    while off < total {
        let n = (total - off).min(buf.len() as u32) as usize;
        let chunk = buf.get_mut(..n).ok_or(Error::Storage)?;
        read_exact(source, off, chunk)?;
        h = fnv1a(h, chunk);
        off += n as u32;
    }
    h = fnv1a(h, &total.to_be_bytes());
    Ok(Token::from_u64(h, 8))
}

/// Block2 server: answers GETs for one body with any requested NUM/SZX (random access), with
/// the ETag and Size2 on every block.
#[derive(Debug, Clone, Copy)]
pub struct Block2Server {
    max_szx: u8,
    etag: Token,
    content_format: Option<u16>,
}

impl Block2Server {
    /// Serves blocks of at most `2^(max_szx + 4)` bytes (clamped to 6), tagged with `etag`
    /// (see [`content_etag`]) and, when given, a Content-Format.
    pub fn new(max_szx: u8, etag: Token, content_format: Option<u16>) -> Self {
        Block2Server {
            max_szx: max_szx.min(6),
            etag,
            content_format,
        }
    }

    /// The ETag sent on every block.
    pub fn etag(&self) -> Token {
        self.etag
    }

    /// Answers `req` (a GET of the body) into `reply` (started by the caller with
    /// [`MessageBuilder::response_to`], no options above 4 added); returns the reply length.
    /// A block beyond the end gets 4.02 Bad Option.
    pub fn respond<S: BlockSource + ?Sized>(
        &self,
        req: &Message<'_>,
        source: &mut S,
        mut reply: MessageBuilder<'_>,
    ) -> Result<usize, Error> {
        // With a smaller SZX than asked, the block holding the requested offset.
        let (want, szx, asked) = match req.block2() {
            Ok(Some(b)) => (b.offset(), b.szx.min(self.max_szx), true),
            Ok(None) => (0, self.max_szx, false),
            Err(_) => {
                reply.set_code(Code::BAD_OPTION);
                return Ok(reply.finish());
            }
        };
        let total = source.size();
        let block = Block::at_offset(want, false, szx)?;
        let offset = block.offset();
        if offset > total {
            reply.set_code(Code::BAD_OPTION);
            return Ok(reply.finish());
        }
        let size = size_of_szx(szx);
        let len = (total - offset).min(size);
        let more = offset + len < total;
        reply.set_code(Code::CONTENT);
        let etag = self.etag;
        if !etag.as_slice().is_empty() {
            reply.option(OptionNumber::ETAG, etag.as_slice())?;
        }
        if let Some(cf) = self.content_format {
            reply.uint_option(OptionNumber::CONTENT_FORMAT, cf as u32)?;
        }
        if asked || more {
            reply.block(OptionNumber::BLOCK2, Block { more, ..block })?;
        }
        reply.uint_option(OptionNumber::SIZE2, total)?;
        reply.payload_with(len as usize, |buf| {
            read_exact(source, offset, buf)?;
            Ok(buf.len())
        })
    }
}

/// What a response meant to a [`Block2Client`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block2Event {
    /// Bytes were stored; request the next block.
    Continue,
    /// The body is complete.
    Complete {
        /// Body size in bytes.
        total: u32,
    },
}

/// Block2 client: downloads a body into a [`BlockSink`] block by block.
///
/// Asks for its preferred SZX from the first request (early negotiation) and follows a
/// smaller SZX from the server; compares the ETag on every block (a change is reported as
/// [`Error::EtagChanged`] and the client starts over from offset 0); starts at any byte offset
/// (resume after reboot); copes with a missing Size2 and an empty final block.
#[derive(Debug, Clone, Copy)]
pub struct Block2Client {
    offset: u32,
    szx: u8,
    etag: Option<Token>,
    size2: Option<u32>,
    begun: bool,
    done: bool,
}

impl Block2Client {
    /// A download from offset 0 in blocks of `2^(szx + 4)` bytes (clamped to 6).
    pub const fn new(szx: u8) -> Self {
        Block2Client {
            offset: 0,
            szx: if szx > 6 { 6 } else { szx },
            etag: None,
            size2: None,
            begun: false,
            done: false,
        }
    }

    /// Resumes at byte `offset` (the sink holds `0..offset`), expecting `etag` when known (a
    /// different ETag then means the package changed). [`BlockSink::begin`] is not called.
    pub fn starting_at(mut self, offset: u32, etag: Option<Token>) -> Self {
        self.offset = offset;
        self.etag = etag;
        self.begun = offset > 0;
        self
    }

    /// Forgets the progress: the next request starts at offset 0 (after an ETag change).
    pub fn restart(&mut self) {
        self.offset = 0;
        self.etag = None;
        self.size2 = None;
        self.begun = false;
        self.done = false;
    }

    /// Bytes stored so far (the next offset to fetch).
    pub fn offset(&self) -> u32 {
        self.offset
    }
    /// The ETag seen (or given at resume).
    pub fn etag(&self) -> Option<Token> {
        self.etag
    }
    /// The Size2 announced by the server, if any.
    pub fn size2(&self) -> Option<u32> {
        self.size2
    }
    /// Current block size exponent.
    pub fn szx(&self) -> u8 {
        self.szx
    }
    /// Whether the body is complete.
    pub fn is_complete(&self) -> bool {
        self.done
    }

    /// The Block2 option value of the next request (the block holding the next offset).
    pub fn next_block(&self) -> Result<Block, Error> {
        Block::at_offset(self.offset, false, self.szx)
    }

    /// Adds the Block2 option of the next request to `req` (started by the caller with GET and
    /// Uri-Path; options up to 23 allowed before).
    pub fn add_request_options(&self, req: &mut MessageBuilder<'_>) -> Result<(), Error> {
        // `next_block` without its SZX check: the client's SZX is always 0..=6.
        let num = self.offset >> (4 + (self.szx as u32 & 7));
        if num > crate::MAX_BLOCK_NUM {
            return Err(Error::BlockNumber);
        }
        match req.uint_option(OptionNumber::BLOCK2, num << 4 | self.szx as u32) {
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Handles a response to the request for [`next_block`](Self::next_block).
    pub fn handle_response<S: BlockSink + ?Sized>(
        &mut self,
        resp: &Message<'_>,
        sink: &mut S,
    ) -> Result<Block2Event, Error> {
        self.response(resp, None, sink)
    }

    /// [`handle_response`](Self::handle_response) for a caller that already looked up the
    /// response's first ETag (`resp.etag()`): the options are not searched for it again.
    pub fn handle_response_tagged<S: BlockSink + ?Sized>(
        &mut self,
        resp: &Message<'_>,
        etag: Option<&[u8]>,
        sink: &mut S,
    ) -> Result<Block2Event, Error> {
        self.response(resp, Some(etag), sink)
    }

    // `found`: the caller's ETag lookup, or `None` to look it up here (where `handle_response`
    // always did). Always inlined: each entry point folds it and has the whole body.
    #[inline(always)]
    fn response<S: BlockSink + ?Sized>(
        &mut self,
        resp: &Message<'_>,
        found: Option<Option<&[u8]>>,
        sink: &mut S,
    ) -> Result<Block2Event, Error> {
        if self.done {
            return Ok(Block2Event::Complete { total: self.offset });
        }
        let code = resp.code();
        if !code.is_success() {
            return Err(Error::Response(code.0));
        }
        // The codec's own lookups (a device links them anyway): first ETag, Block2, Size2.
        let block = resp.block2()?;
        let etag = match found {
            Some(etag) => etag,
            None => resp.etag(),
        };
        if let Some(tag) = etag {
            if tag.len() > 8 {
                return Err(Error::BadOption { number: 4 });
            }
            match &self.etag {
                Some(old) => {
                    if old.as_slice() != tag {
                        self.restart();
                        return Err(Error::EtagChanged);
                    }
                }
                None => self.etag.insert(Token::EMPTY).set(tag),
            }
        }
        if let Some(s) = resp.size2()? {
            self.size2 = Some(s);
            let capacity = sink.capacity();
            if s > capacity {
                return Err(Error::TooLarge { capacity });
            }
        }
        let payload = resp.payload();
        let len = payload.len() as u32; // a datagram is far below 4 GiB
        let (start, more, szx) = match block {
            Some(b) => {
                if len > b.size() || b.more && len != b.size() {
                    return Err(Error::BlockPayload { num: b.num });
                }
                (b.offset(), b.more, b.szx)
            }
            // No Block2: the whole body in one response.
            None => (0, false, self.szx),
        };
        let end = start.saturating_add(len);
        if more && end <= self.offset {
            // The server answered with smaller blocks from the start of the block we asked
            // for: adopt its size and ask again for the block holding our offset.
            if szx < self.szx {
                self.szx = szx;
                return Ok(Block2Event::Continue);
            }
            return Err(Error::Unexpected);
        }
        if start > self.offset || end < self.offset {
            return Err(Error::Unexpected);
        }
        let data = payload.get((self.offset - start) as usize..).unwrap_or(&[]);
        if !self.begun {
            sink.begin(self.size2)?;
            self.begun = true;
        }
        // An empty final block is an empty write (the sink's contract allows it).
        sink.write(self.offset, data)?;
        self.offset = end;
        self.szx = self.szx.min(szx);
        if more {
            Ok(Block2Event::Continue)
        } else {
            sink.complete(end)?;
            self.done = true;
            Ok(Block2Event::Complete { total: end })
        }
    }
}
