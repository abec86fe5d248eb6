//! CoAP for the client core and the server: `coap-block`'s codec ([`Message`],
//! [`MessageBuilder`], [`Block`], [`Code`], [`OptionNumber`]), the LwM2M content formats, and
//! [`Builder`], a chaining front for `MessageBuilder` that carries the first error to the end.

pub use coap_block::{Block, Code, Message, MessageBuilder, MessageType, OptionNumber};

/// Content formats used by LwM2M.
pub mod format {
    /// text/plain.
    pub const TEXT: u16 = 0;
    /// application/link-format.
    pub const LINK: u16 = 40;
    /// application/octet-stream.
    pub const OCTETS: u16 = 42;
    /// LwM2M TLV.
    pub const TLV: u16 = 11542;
}

/// [`MessageBuilder`] by value: each step consumes and returns the builder, the first error
/// is kept and reported by [`Builder::payload`] or [`Builder::finish`].
#[derive(Debug)]
pub struct Builder<'b>(Result<MessageBuilder<'b>, coap_block::Error>);

impl<'b> Builder<'b> {
    /// Starts a message: header and token.
    pub fn new(buf: &'b mut [u8], ty: MessageType, code: Code, mid: u16, token: &[u8]) -> Self {
        Builder(MessageBuilder::new(buf, ty, code, mid, token))
    }

    /// Replaces the code given to [`Builder::new`].
    pub fn with_code(mut self, code: Code) -> Self {
        if let Ok(b) = &mut self.0 {
            b.set_code(code);
        }
        self
    }

    /// Adds an option (numbers must not decrease).
    pub fn option(self, number: OptionNumber, value: &[u8]) -> Self {
        Builder(self.0.and_then(|mut b| {
            b.option(number, value)?;
            Ok(b)
        }))
    }

    /// Adds an unsigned option in its shortest form.
    pub fn uint(self, number: OptionNumber, value: u32) -> Self {
        Builder(self.0.and_then(|mut b| {
            b.uint_option(number, value)?;
            Ok(b)
        }))
    }

    /// Adds each non-empty `/`-separated segment of `path` as option `number` (Uri-Path or
    /// Location-Path). A byte loop: no `str` searching code on small cores.
    pub fn path(self, number: OptionNumber, path: impl AsRef<[u8]>) -> Self {
        let mut me = self;
        for seg in path.as_ref().split(|b| *b == b'/') {
            if !seg.is_empty() {
                me = me.option(number, seg);
            }
        }
        me
    }

    /// Adds the payload (none when empty) and returns the message length.
    pub fn payload(self, payload: &[u8]) -> Result<usize, crate::Error> {
        Ok(self.0?.payload(payload)?)
    }

    /// Returns the message length (no payload).
    pub fn finish(self) -> Result<usize, crate::Error> {
        Ok(self.0?.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_through_coap_block() {
        let mut buf = [0u8; 128];
        let n = Builder::new(
            &mut buf,
            MessageType::Confirmable,
            Code::PUT,
            0x1234,
            &[1, 2],
        )
        .path(OptionNumber::URI_PATH, "/5/0/0")
        .uint(OptionNumber::CONTENT_FORMAT, 42)
        .uint(
            OptionNumber::BLOCK1,
            Block::new(20, true, 6).unwrap().to_uint(),
        )
        .uint(OptionNumber::SIZE1, 300_000)
        .payload(b"abc")
        .unwrap();
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(m.message_type(), MessageType::Confirmable);
        assert_eq!(
            (m.code(), m.message_id(), m.token()),
            (Code::PUT, 0x1234, &[1u8, 2][..])
        );
        assert!(m.path_is("5/0/0"));
        assert_eq!(m.block1().unwrap(), Some(Block::new(20, true, 6).unwrap()));
        assert_eq!(m.size1().unwrap(), Some(300_000));
        assert_eq!(m.payload(), b"abc");
    }

    #[test]
    fn location_path_and_errors() {
        let mut buf = [0u8; 32];
        let n = Builder::new(
            &mut buf,
            MessageType::Acknowledgement,
            Code::CREATED,
            7,
            &[],
        )
        .path(OptionNumber::LOCATION_PATH, "rd/7")
        .finish()
        .unwrap();
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(m.location_path().count(), 2);
        let mut small = [0u8; 6];
        let r = Builder::new(&mut small, MessageType::Confirmable, Code::GET, 1, &[])
            .uint(OptionNumber::ACCEPT, 11542)
            .uint(OptionNumber::OBSERVE, 0)
            .finish();
        assert!(r.is_err());
    }
}
