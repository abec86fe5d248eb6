//! Package URI validation: length, RFC 3986 syntax, scheme in the protocol set.

use crate::types::{Protocol, ProtocolSupport, UpdateResult};

/// Maximum length of Package URI (resource 1) in bytes.
pub const MAX_URI_LEN: usize = 255;

/// Why a Package URI was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UriError {
    /// Longer than 255 bytes (result 7).
    TooLong,
    /// Not an RFC 3986 URI, or no host for a network scheme (result 7); the byte offset where
    /// the syntax broke.
    Syntax {
        /// Offset of the offending byte (the length when something is missing at the end).
        offset: u8,
    },
    /// The scheme is not one of the configured protocols (result 9).
    UnsupportedProtocol,
}

impl UriError {
    /// The Update Result this error sets: 7 or 9.
    pub const fn result(self) -> UpdateResult {
        match self {
            Self::UnsupportedProtocol => UpdateResult::UnsupportedProtocol,
            _ => UpdateResult::InvalidUri,
        }
    }
}

/// A set of ASCII bytes as a bitmap (bit `b % 32` of word `b / 32`): one load and a shift per
/// test, and no code per character (footprint).
#[derive(Clone, Copy)]
struct Set([u32; 4]);

impl Set {
    const fn with(mut self, chars: &[u8]) -> Self {
        let mut i = 0;
        while i < chars.len() {
            let b = chars[i];
            self.0[(b >> 5) as usize] |= 1 << (b & 31);
            i += 1;
        }
        self
    }

    const fn range(mut self, lo: u8, hi: u8) -> Self {
        let mut b = lo;
        while b <= hi {
            self.0[(b >> 5) as usize] |= 1 << (b & 31);
            b += 1;
        }
        self
    }

    fn has(&self, b: u8) -> bool {
        self.0
            .get(usize::from(b >> 5))
            .is_some_and(|w| w >> (b & 31) & 1 != 0)
    }
}

// Character classes of RFC 3986 §2 and the sets of each component.
const EMPTY: Set = Set([0; 4]);
const HEX: Set = EMPTY.range(b'0', b'9').range(b'a', b'f').range(b'A', b'F');
const ALNUM: Set = EMPTY.range(b'0', b'9').range(b'a', b'z').range(b'A', b'Z');
/// unreserved / sub-delims: reg-name.
const REG_NAME: Set = ALNUM.with(b"-._~!$&'()*+,;=");
const USERINFO: Set = REG_NAME.with(b":");
const PATH: Set = REG_NAME.with(b":@/");
const QUERY: Set = PATH.with(b"?");
const SCHEME: Set = ALNUM.with(b"+-.");
const IPV6: Set = HEX.with(b":.");
const IP_FUTURE: Set = USERINFO;

/// Checks `u[i..end]` against `set / pct-encoded`; the offset of the first bad byte.
fn scan(u: &[u8], mut i: usize, end: usize, set: &Set) -> Result<(), usize> {
    while i < end {
        let b = u.get(i).copied().unwrap_or(0);
        // A `%` and the two hex digits after it (before `end`), or one byte of `set`.
        i += match u.get(i + 1..i + 3) {
            Some(&[h, l]) if b == b'%' && i + 2 < end && HEX.has(h) && HEX.has(l) => 3,
            _ if b != b'%' && set.has(b) => 1,
            _ => return Err(i),
        };
    }
    Ok(())
}

/// Position of the first `needle` in `u[from..to]`, or `to`.
fn find(u: &[u8], mut from: usize, to: usize, needle: u8) -> usize {
    while from < to && u.get(from) != Some(&needle) {
        from += 1;
    }
    from
}

/// Validates a Package URI: at most 255 bytes, RFC 3986 syntax, a scheme of `protocols`, and a
/// non-empty host (all six schemes need one; CoAP URIs carry no fragment, RFC 7252 §6).
///
/// ```
/// use fota_fsm::{check_uri, Protocol, ProtocolSupport, UriError};
/// let coap = ProtocolSupport::COAP;
/// assert_eq!(check_uri(b"coap://[2001:db8::1]:5683/fw?v=2", coap), Ok(Protocol::Coap));
/// assert_eq!(check_uri(b"https://example.com/fw", coap), Err(UriError::UnsupportedProtocol));
/// assert!(matches!(check_uri(b"coap://ex ample/fw", coap), Err(UriError::Syntax { .. })));
/// ```
pub fn check_uri(uri: &[u8], protocols: ProtocolSupport) -> Result<Protocol, UriError> {
    if uri.len() > MAX_URI_LEN {
        return Err(UriError::TooLong);
    }
    let syntax = |offset: usize| UriError::Syntax {
        offset: offset.min(255) as u8,
    };
    let parts = parse(uri).map_err(syntax)?;
    let protocol = Protocol::from_scheme(uri.get(..parts.colon).unwrap_or(&[]))
        .filter(|p| protocols.contains(*p))
        .ok_or(UriError::UnsupportedProtocol)?;
    if parts.empty_host {
        return Err(syntax(parts.colon + 1));
    }
    let coap_family = !matches!(protocol, Protocol::Http | Protocol::Https);
    if coap_family && parts.hash < uri.len() {
        return Err(syntax(parts.hash));
    }
    Ok(protocol)
}

/// Where the parts of a syntactically valid URI are.
struct Parts {
    colon: usize,
    hash: usize,
    empty_host: bool,
}

/// The generic RFC 3986 syntax; the offset of the first bad byte.
fn parse(uri: &[u8]) -> Result<Parts, usize> {
    let n = uri.len();
    // scheme ":" — ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let colon = find(uri, 0, n, b':');
    let mut i = 0;
    while i < colon {
        let b = uri.get(i).copied().unwrap_or(0);
        if !(SCHEME.has(b) && (i > 0 || b.is_ascii_alphabetic())) {
            return Err(i);
        }
        i += 1;
    }
    if colon == 0 || colon == n {
        return Err(colon);
    }
    let start = colon + 1;
    let hash = find(uri, start, n, b'#');
    let query = find(uri, start, hash, b'?');
    scan(uri, hash + 1, n, &QUERY)?;
    scan(uri, query + 1, hash, &QUERY)?;
    // hier-part: "//" authority path-abempty, or a path.
    let mut path = start;
    let mut empty_host = true;
    if uri.get(start) == Some(&b'/') && uri.get(start + 1) == Some(&b'/') {
        let auth = start + 2;
        let auth_end = find(uri, auth, query, b'/');
        path = auth_end;
        // [ userinfo "@" ] host [ ":" port ]
        let at = find(uri, auth, auth_end, b'@');
        let mut host = auth;
        if at < auth_end {
            scan(uri, auth, at, &USERINFO)?;
            host = at + 1;
        }
        let host_end = if uri.get(host) == Some(&b'[') {
            // IPv6address or IPvFuture: their character sets (the full IPv6 grammar buys
            // nothing here: the resolver rejects what it cannot parse).
            let close = find(uri, host, auth_end, b']');
            if close == auth_end {
                return Err(close);
            }
            let future = matches!(uri.get(host + 1), Some(b'v' | b'V'));
            scan(
                uri,
                host + 1,
                close,
                if future { &IP_FUTURE } else { &IPV6 },
            )?;
            if !future && find(uri, host + 1, close, b':') == close {
                return Err(host + 1);
            }
            empty_host = false;
            close + 1
        } else {
            let end = find(uri, host, auth_end, b':');
            scan(uri, host, end, &REG_NAME)?;
            empty_host = end == host;
            end
        };
        if host_end < auth_end {
            if uri.get(host_end) != Some(&b':') {
                return Err(host_end);
            }
            let mut port: u32 = 0;
            for k in host_end + 1..auth_end {
                let d = uri.get(k).copied().unwrap_or(0);
                port = port * 10 + u32::from(d.wrapping_sub(b'0'));
                if !d.is_ascii_digit() || port > 65535 {
                    return Err(k);
                }
            }
        }
    }
    scan(uri, path, query, &PATH)?;
    Ok(Parts {
        colon,
        hash,
        empty_host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(uri: &str) -> Result<Protocol, UriError> {
        check_uri(uri.as_bytes(), ProtocolSupport::ALL)
    }

    #[test]
    fn accepts_the_six_schemes() {
        assert_eq!(all("coap://h/fw"), Ok(Protocol::Coap));
        assert_eq!(all("COAPS://h:5684/fw"), Ok(Protocol::Coaps));
        assert_eq!(all("http://u:p@h.example/a/b?c=d#e"), Ok(Protocol::Http));
        assert_eq!(all("https://h"), Ok(Protocol::Https));
        assert_eq!(all("coap+tcp://10.0.0.1/x%20y"), Ok(Protocol::CoapTcp));
        assert_eq!(all("coaps+tcp://[v1.fe80::a+en1]/"), Ok(Protocol::CoapsTcp));
        assert_eq!(all("coap://[::1]:0/"), Ok(Protocol::Coap));
        assert_eq!(all("coap://h/%41?%7e"), Ok(Protocol::Coap));
    }

    #[test]
    fn syntax_errors_are_result_7() {
        for bad in [
            "",
            "coap",
            "://h/fw",
            "1coap://h",
            "co ap://h",
            "coap://h/f w",
            "coap://h/%2",
            "coap://h/%zz",
            "coap://h/%4?1",
            "coap://h/%?12",
            "coap://h:65536/",
            "coap://h:8x/",
            "coap://[::1/",
            "coap://[zz]/",
            "coap://[1.2.3.4]/",
            "coap:///fw",
            "coap:/fw",
            "coap:fw",
            "coap://h/fw#frag",
            "coap://h/fw?a=<b>",
            "coap://h]/",
        ] {
            let r = all(bad);
            assert!(matches!(r, Err(UriError::Syntax { .. })), "{bad}: {r:?}");
            assert_eq!(r.unwrap_err().result(), UpdateResult::InvalidUri);
        }
        let long = [b'a'; 256];
        assert_eq!(
            check_uri(&long, ProtocolSupport::ALL),
            Err(UriError::TooLong)
        );
    }

    #[test]
    fn unsupported_schemes_are_result_9() {
        for uri in ["ftp://h/fw", "mailto:a@b", "urn:isbn:1", "coap-tcp://h/"] {
            assert_eq!(all(uri), Err(UriError::UnsupportedProtocol), "{uri}");
        }
        assert_eq!(
            check_uri(b"https://h/fw", ProtocolSupport::COAP),
            Err(UriError::UnsupportedProtocol)
        );
        assert_eq!(
            check_uri(b"coap://h/fw", ProtocolSupport::EMPTY),
            Err(UriError::UnsupportedProtocol)
        );
    }

    #[test]
    fn exactly_255_bytes_is_accepted() {
        let mut uri = [b'a'; 255];
        uri[..9].copy_from_slice(b"coap://h/");
        assert_eq!(check_uri(&uri, ProtocolSupport::COAP), Ok(Protocol::Coap));
    }
}
