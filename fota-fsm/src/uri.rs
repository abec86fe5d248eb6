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

// Character classes of RFC 3986 §2.
const UNRESERVED: u8 = 1;
const SUB_DELIM: u8 = 2;
const HEX: u8 = 4;

/// Class bits of one byte.
fn class(b: u8) -> u8 {
    match b {
        b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => UNRESERVED | HEX,
        b'g'..=b'z' | b'G'..=b'Z' | b'-' | b'.' | b'_' | b'~' => UNRESERVED,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => SUB_DELIM,
        _ => 0,
    }
}

/// Checks `s` (starting at `base` in the URI) against `unreserved / pct-encoded / sub-delims /
/// extra`, where `extra` lists further allowed bytes.
fn check_chars(s: &[u8], base: usize, extra: &[u8]) -> Result<(), usize> {
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let ok = |j: usize| s.get(j).is_some_and(|&h| class(h) & HEX != 0);
            if !(ok(i + 1) && ok(i + 2)) {
                return Err(base + i);
            }
            i += 3;
            continue;
        }
        if class(b) & (UNRESERVED | SUB_DELIM) == 0 && !extra.contains(&b) {
            return Err(base + i);
        }
        i += 1;
    }
    Ok(())
}

/// Position of the first `needle` in `s`.
fn find(s: &[u8], needle: u8) -> Option<usize> {
    s.iter().position(|&b| b == needle)
}

/// Validates the authority (`[userinfo "@"] host [":" port]`); returns whether the host is empty.
fn check_authority(a: &[u8], base: usize) -> Result<bool, usize> {
    let (a, base) = match find(a, b'@') {
        Some(at) => {
            check_chars(a.get(..at).unwrap_or(&[]), base, b":")?;
            (a.get(at + 1..).unwrap_or(&[]), base + at + 1)
        }
        None => (a, base),
    };
    let (host_len, rest) = if a.first() == Some(&b'[') {
        let close = find(a, b']').ok_or(base + a.len())?;
        let inner = a.get(1..close).unwrap_or(&[]);
        // IPv6address or IPvFuture: a loose check of the character set (full IPv6 grammar
        // buys nothing here: the resolver rejects what it cannot parse).
        let future = matches!(inner.first(), Some(b'v' | b'V'));
        let bad = inner.iter().position(|&b| {
            !(class(b) & HEX != 0 || b == b':' || b == b'.' || future && class(b) != 0)
        });
        if let Some(p) = bad {
            return Err(base + 1 + p);
        }
        if !future && find(inner, b':').is_none() {
            return Err(base + 1);
        }
        (close + 1, a.get(close + 1..).unwrap_or(&[]))
    } else {
        let end = find(a, b':').unwrap_or(a.len());
        check_chars(a.get(..end).unwrap_or(&[]), base, b"")?;
        (end, a.get(end..).unwrap_or(&[]))
    };
    let base = base + host_len;
    match rest.split_first() {
        None => {}
        Some((b':', port)) => {
            let mut v: u32 = 0;
            for (i, &d) in port.iter().enumerate() {
                if !d.is_ascii_digit() {
                    return Err(base + 1 + i);
                }
                v = v * 10 + u32::from(d - b'0');
                if v > 65535 {
                    return Err(base + 1 + i);
                }
            }
        }
        Some(_) => return Err(base),
    }
    Ok(host_len == 0)
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
    let syntax = |offset: usize| UriError::Syntax {
        offset: offset.min(255) as u8,
    };
    if uri.len() > MAX_URI_LEN {
        return Err(UriError::TooLong);
    }
    let colon = find(uri, b':').ok_or(syntax(uri.len()))?;
    let scheme = uri.get(..colon).unwrap_or(&[]);
    match scheme.first() {
        Some(b) if b.is_ascii_alphabetic() => {}
        _ => return Err(syntax(0)),
    }
    if let Some(p) = scheme
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
    {
        return Err(syntax(p));
    }
    let start = colon + 1;
    let rest = uri.get(start..).unwrap_or(&[]);
    let hash = find(rest, b'#');
    let before_frag = rest.get(..hash.unwrap_or(rest.len())).unwrap_or(&[]);
    if let Some(h) = hash {
        check_chars(rest.get(h + 1..).unwrap_or(&[]), start + h + 1, b":@/?").map_err(syntax)?;
    }
    let q = find(before_frag, b'?');
    let hier = before_frag
        .get(..q.unwrap_or(before_frag.len()))
        .unwrap_or(&[]);
    if let Some(q) = q {
        check_chars(
            before_frag.get(q + 1..).unwrap_or(&[]),
            start + q + 1,
            b":@/?",
        )
        .map_err(syntax)?;
    }
    let mut empty_host = true;
    let path_at = if let Some(after) = hier.strip_prefix(b"//") {
        let end = find(after, b'/').unwrap_or(after.len());
        empty_host = check_authority(after.get(..end).unwrap_or(&[]), start + 2).map_err(syntax)?;
        2 + end
    } else {
        0
    };
    check_chars(hier.get(path_at..).unwrap_or(&[]), start + path_at, b":@/").map_err(syntax)?;
    let protocol = Protocol::from_scheme(scheme)
        .filter(|p| protocols.contains(*p))
        .ok_or(UriError::UnsupportedProtocol)?;
    if empty_host {
        return Err(syntax(start));
    }
    let coap_family = !matches!(protocol, Protocol::Http | Protocol::Https);
    if let (true, Some(h)) = (coap_family, hash) {
        return Err(syntax(start + h));
    }
    Ok(protocol)
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
