//! Sequential slot writer (erase-before-first-use, buffered to `WRITE_SIZE`) and random-access
//! slot reader.

use embedded_storage::nor_flash::NorFlash;

use crate::error::Error;
use crate::layout::{self, Layout, Region};
use crate::{ERASED, MAX_WRITE_SIZE};

/// Writes an image into a slot front to back.
///
/// Any number of bytes per call; whole `WRITE_SIZE` words go to flash at once (straight from the
/// caller's buffer), a partial word waits in RAM for the next call or for [`SlotWriter::flush`].
/// Each sector is erased just before its first byte is written and never again by the same
/// writer. Writes past the slot's capacity fail with [`Error::OutOfSpace`] (Update Result 2)
/// before anything is written.
///
/// [`SlotWriter::flush`] programs a partial word padded with `0xFF` and more bytes may follow:
/// the word is then programmed again with the same bytes and the new ones in place of padding
/// (NOR only clears bits; flashes that forbid a second program of a word should flush only at
/// the end).
#[derive(Debug, Clone)]
pub struct SlotWriter {
    slot: Region,
    erase: u32,
    write: u32,
    capacity: u32,
    /// Whole words in flash, from the slot start.
    flushed: u32,
    /// Slot-relative end of the sectors erased by this writer.
    erased_to: u32,
    /// The partial word after `flushed`.
    buf: [u8; MAX_WRITE_SIZE],
    buf_len: u32,
    /// Bytes of `buf` in flash (padded) since the last flush.
    tail: u32,
}

impl SlotWriter {
    /// A writer at the start of `slot` (one of `layout`'s slots); nothing erased yet.
    ///
    /// `capacity` limits the bytes accepted (at most the slot size): the staging slot accepts
    /// [`Layout::max_image_size`] bytes, as the swap needs its last sector.
    pub fn new(layout: &Layout, slot: Region, capacity: u32) -> Self {
        SlotWriter {
            slot,
            erase: layout.erase_size(),
            write: layout.write_size(),
            capacity: capacity.min(slot.size),
            flushed: 0,
            erased_to: 0,
            // Its contents matter only up to `buf_len`.
            buf: [0; MAX_WRITE_SIZE],
            buf_len: 0,
            tail: 0,
        }
    }

    /// A writer that continues after `durable` bytes already in flash (from the journal after a
    /// power cut). The sector holding `durable` counts as erased by this update; the bytes of a
    /// partial last word are read back from flash, and bytes after `durable` are written again
    /// (NOR allows programming the same data twice). [`Error::InvalidState`] if `durable` is
    /// past the capacity (a journal that does not belong to this layout).
    pub fn resume<F: NorFlash>(
        flash: &mut F,
        layout: &Layout,
        slot: Region,
        capacity: u32,
        durable: u32,
    ) -> Result<Self, Error> {
        let mut w = SlotWriter::new(layout, slot, capacity);
        if durable > w.capacity {
            // A journal that does not fit this layout (it changed under the download).
            return Err(Error::InvalidState);
        }
        // Granules and sectors are powers of two: masks, no division.
        w.flushed = durable & !(w.write - 1);
        w.erased_to = (durable + w.erase - 1) & !(w.erase - 1);
        w.buf_len = durable - w.flushed;
        w.tail = w.buf_len;
        if w.tail > 0 {
            let at = slot.offset + w.flushed;
            layout::read(
                flash,
                at,
                w.buf.get_mut(..w.tail as usize).unwrap_or_default(),
            )?;
        }
        Ok(w)
    }

    /// Bytes accepted so far (in flash or buffered).
    pub fn position(&self) -> u32 {
        self.flushed + self.buf_len
    }

    /// Bytes in flash: the durable prefix a journal may record.
    pub fn durable(&self) -> u32 {
        self.flushed + self.tail
    }

    /// Most bytes this writer accepts.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// The slot written to.
    pub fn slot(&self) -> Region {
        self.slot
    }

    /// Appends `data`.
    #[inline]
    pub fn write<F: NorFlash>(&mut self, flash: &mut F, data: &[u8]) -> Result<(), Error> {
        let pos = self.position();
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        if len > self.capacity - pos {
            return Err(Error::OutOfSpace {
                offset: pos,
                len,
                capacity: self.capacity,
            });
        }
        if self.buf_len == 0 && !data.is_empty() && data.len() & (self.write as usize - 1) == 0 {
            // Whole words and nothing buffered (the usual block): straight to flash.
            return self.program(flash, data);
        }
        self.feed(flash, data)
    }

    /// Programs `data` after the bytes accepted so far: whole words straight from `data`
    /// (all of it when nothing is buffered and it is a whole number of words), a partial word
    /// through the buffer, which is programmed once it is whole.
    #[inline]
    fn feed<F: NorFlash>(&mut self, flash: &mut F, data: &[u8]) -> Result<(), Error> {
        let w = self.write as usize;
        let mut rest = data;
        while !rest.is_empty() {
            let have = self.buf_len as usize;
            // The buffered word, copied: `program` borrows the writer.
            let word: [u8; MAX_WRITE_SIZE];
            let words = if have == 0 && rest.len() >= w {
                let (words, tail) = rest.split_at(rest.len() & !(w - 1));
                rest = tail;
                words
            } else {
                let (head, tail) = rest.split_at((w - have).min(rest.len()));
                rest = tail;
                copy(self.buf.get_mut(have..).unwrap_or_default(), head);
                self.buf_len += head.len() as u32;
                if self.buf_len < self.write {
                    continue;
                }
                self.buf_len = 0;
                self.tail = 0;
                word = self.buf;
                word.get(..w).unwrap_or_default()
            };
            self.program(flash, words)?;
        }
        Ok(())
    }

    /// Writes the buffered partial word, padded with `0xFF`, and returns the bytes now in flash
    /// ([`SlotWriter::durable`], now equal to [`SlotWriter::position`]). Writing may go on.
    pub fn flush<F: NorFlash>(&mut self, flash: &mut F) -> Result<u32, Error> {
        let n = self.buf_len;
        if n > self.tail {
            // Padding copied, not filled: memcpy is in every image already, an 0xFF memset
            // is not.
            let mut word = ERASED;
            let pad = word
                .get_mut(n as usize..self.write as usize)
                .unwrap_or_default();
            if self.erased_to > self.flushed {
                // The sector was erased by this download, but after a resume the rest of the
                // word may hold its next bytes already (written before the power cut): pad
                // with what is there, as programming 0xFF over them would set bits.
                layout::read(flash, self.slot.offset + self.flushed + n, pad)?;
            }
            self.feed(flash, pad)?;
            // The word stays the partial one: the next bytes go into it.
            self.flushed -= self.write;
            self.buf_len = n;
            self.tail = n;
        }
        Ok(self.durable())
    }

    /// Erases every sector of the slot not yet erased by this writer ("erase the download area").
    pub fn erase_all<F: NorFlash>(&mut self, flash: &mut F) -> Result<(), Error> {
        let end = self.slot.size;
        if self.erased_to < end {
            let from = self.slot.offset + self.erased_to;
            layout::erase(flash, from, self.slot.offset + end)?;
            self.erased_to = end;
        }
        Ok(())
    }

    /// Programs whole words at the flushed position, erasing sectors first as needed.
    #[inline]
    fn program<F: NorFlash>(&mut self, flash: &mut F, words: &[u8]) -> Result<(), Error> {
        let len = words.len() as u32;
        let end = self.flushed + len;
        while self.erased_to < end {
            let from = self.slot.offset + self.erased_to;
            layout::erase(flash, from, from + self.erase)?;
            self.erased_to += self.erase;
        }
        layout::write(flash, self.slot.offset + self.flushed, words)?;
        self.flushed = end;
        Ok(())
    }
}

/// Copies as much of `src` as fits into `dst`.
fn copy(dst: &mut [u8], src: &[u8]) {
    // A byte loop: at most one word, and no length check that could panic.
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Random-access reads inside one slot, bounds-checked: the delta patcher's old-image source and
/// the verifier's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotReader {
    slot: Region,
}

impl SlotReader {
    /// A reader over `slot`.
    pub fn new(slot: Region) -> Self {
        SlotReader { slot }
    }

    /// Size of the slot.
    pub fn len(&self) -> u32 {
        self.slot.size
    }

    /// Whether the slot is empty (never for a checked layout).
    pub fn is_empty(&self) -> bool {
        self.slot.size == 0
    }

    /// Reads `buf.len()` bytes at slot-relative `offset`.
    pub fn read<F: NorFlash>(
        &self,
        flash: &mut F,
        offset: u32,
        buf: &mut [u8],
    ) -> Result<(), Error> {
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        if offset > self.slot.size || len > self.slot.size - offset {
            return Err(Error::ReadOutOfBounds { offset, len });
        }
        layout::read(flash, self.slot.offset + offset, buf)
    }
}
