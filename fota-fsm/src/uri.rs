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

/// A set of printable ASCII bytes as a bitmap (bit `b % 32` of word `b / 32 - 1`): one load
/// and a shift per test, and no code per character (footprint).
#[derive(Clone, Copy)]
struct Set([u32; 3]);

impl Set {
    const fn with(mut self, chars: &[u8]) -> Self {
        let mut i = 0;
        while i < chars.len() {
            let b = chars[i];
            self.0[(b >> 5) as usize - 1] |= 1 << (b & 31);
            i += 1;
        }
        self
    }

    const fn range(mut self, lo: u8, hi: u8) -> Self {
        let mut b = lo;
        while b <= hi {
            self.0[(b >> 5) as usize - 1] |= 1 << (b & 31);
            b += 1;
        }
        self
    }

    fn has(&self, b: u8) -> bool {
        // Word k holds bytes 32 (k + 1) ..: controls (below 32) wrap to an index past the end.
        self.0
            .get(usize::from(b >> 5).wrapping_sub(1))
            .is_some_and(|w| w >> (b & 31) & 1 != 0)
    }
}

// Character classes of RFC 3986 §2 and the sets of each component.
const EMPTY: Set = Set([0; 3]);
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

/// The byte at `i`, or 0 past the end (0 is in no set and is no delimiter).
fn at(u: &[u8], i: usize) -> u8 {
    u.get(i).copied().unwrap_or(0)
}

/// Consumes bytes of `set` and `%` escapes (a `%` and two hex digits) from `i`; the offset of
/// the first other byte (the length at the end). No set holds `%` or a delimiter of the
/// component it is used for, so a component ends at the first byte that is not its own.
fn scan(u: &[u8], mut i: usize, set: &Set) -> usize {
    loop {
        let b = at(u, i);
        i += match u.get(i + 1..i + 3) {
            Some(&[h, l]) if b == b'%' && HEX.has(h) && HEX.has(l) => 3,
            _ if set.has(b) => 1,
            _ => return i,
        };
    }
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
    /// The `#` of the fragment, or the length.
    hash: usize,
    empty_host: bool,
}

/// The generic RFC 3986 syntax in one pass, each component scanned up to the first byte that
/// is not its own, which must then be the delimiter of the next; the offset of the first bad
/// byte.
fn parse(u: &[u8]) -> Result<Parts, usize> {
    // scheme ":" — ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let mut i = 0;
    loop {
        let b = at(u, i);
        if b == b':' && i > 0 {
            break;
        }
        // The first byte a letter: of the scheme bytes only letters are `a`..=`z` once
        // bit 5 is set.
        if !(SCHEME.has(b) && (i > 0 || (b | 0x20).wrapping_sub(b'a') < 26)) {
            return Err(i);
        }
        i += 1;
    }
    let colon = i;
    i += 1;
    let mut empty_host = true;
    // hier-part: "//" authority path-abempty, or a path.
    if at(u, i) == b'/' && at(u, i + 1) == b'/' {
        let auth = i + 2;
        // [ userinfo "@" ]: userinfo bytes up to an `@` (the host and the port hold none).
        let stop = scan(u, auth, &USERINFO);
        let host = if at(u, stop) == b'@' { stop + 1 } else { auth };
        if at(u, host) == b'[' {
            // IPv6address or IPvFuture: their character sets (the full IPv6 grammar buys
            // nothing here: the resolver rejects what it cannot parse); an IPv6 one has a `:`.
            let future = matches!(at(u, host + 1), b'v' | b'V');
            let close = scan(u, host + 1, if future { &IP_FUTURE } else { &IPV6 });
            if at(u, close) != b']' {
                return Err(close);
            }
            let mut k = host + 1;
            while !future && at(u, k) != b':' {
                if k >= close {
                    return Err(host + 1);
                }
                k += 1;
            }
            empty_host = false;
            i = close + 1;
        } else {
            i = scan(u, host, &REG_NAME);
            empty_host = i == host;
        }
        if at(u, i) == b':' {
            let mut port: u32 = 0;
            loop {
                i += 1;
                let d = at(u, i);
                if !d.is_ascii_digit() {
                    break;
                }
                port = port * 10 + u32::from(d - b'0');
                if port > 65535 {
                    return Err(i);
                }
            }
        }
        // The authority ends at the path, the query, the fragment or the end.
        if i < u.len() && !matches!(at(u, i), b'/' | b'?' | b'#') {
            return Err(i);
        }
    }
    i = scan(u, i, &PATH);
    if at(u, i) == b'?' {
        i = scan(u, i + 1, &QUERY);
    }
    let hash = i;
    if at(u, i) == b'#' {
        i = scan(u, i + 1, &QUERY);
    }
    if i < u.len() {
        return Err(i);
    }
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
