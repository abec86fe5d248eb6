//! The Package URI rules against their previous implementation: the checker was rewritten for
//! size, and these tests keep the accept/reject rules what they were.

use fota_fsm::{MAX_URI_LEN, Protocol, ProtocolSupport, UriError, check_uri};
use proptest::prelude::*;

/// The previous `Protocol::from_scheme`: every scheme compared case-insensitively.
fn from_scheme_before(scheme: &[u8]) -> Option<Protocol> {
    Protocol::ALL
        .into_iter()
        .find(|p| scheme.eq_ignore_ascii_case(p.scheme().as_bytes()))
}

// The previous Package URI checker, as it was (`check_uri` before the one-pass rewrite).

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
fn check_uri_before(uri: &[u8], protocols: ProtocolSupport) -> Result<Protocol, UriError> {
    if uri.len() > MAX_URI_LEN {
        return Err(UriError::TooLong);
    }
    let syntax = |offset: usize| UriError::Syntax {
        offset: offset.min(255) as u8,
    };
    let parts = parse(uri).map_err(syntax)?;
    let protocol = from_scheme_before(uri.get(..parts.colon).unwrap_or(&[]))
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

/// Every upper/lower-case spelling of `s`.
fn spellings(s: &str) -> Vec<Vec<u8>> {
    let b = s.as_bytes();
    (0..1u32 << b.len())
        .map(|mask| {
            b.iter()
                .enumerate()
                .map(|(i, c)| {
                    if mask >> i & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        *c
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn from_scheme_matches_the_previous_rules_on_near_misses() {
    let mut n = 0;
    for p in Protocol::ALL {
        for s in spellings(p.scheme()) {
            assert_eq!(Protocol::from_scheme(&s), Some(p), "{s:?}");
            // Truncated, extended, or with one byte changed: as before.
            let mut cases = vec![s[..s.len() - 1].to_vec(), [&s[..], b"s"].concat()];
            cases.push([&s[..], b"+tcp"].concat());
            cases.push([&s[..], b"\0"].concat());
            for i in 0..s.len() {
                for b in [0u8, b'+', b'S', b'x', 0x0b, 0xe0, s[i] ^ 0x20, s[i] ^ 0x80] {
                    let mut t = s.clone();
                    t[i] = b;
                    cases.push(t);
                }
            }
            for c in cases {
                assert_eq!(Protocol::from_scheme(&c), from_scheme_before(&c), "{c:?}");
                n += 1;
            }
        }
    }
    assert!(n > 10_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn from_scheme_matches_the_previous_rules(
        scheme in prop::collection::vec(
            prop_oneof![
                prop::sample::select(b"coapCOAPhtpHTPsS+tcTC\0".to_vec()),
                any::<u8>(),
            ],
            0..12,
        )
    ) {
        prop_assert_eq!(Protocol::from_scheme(&scheme), from_scheme_before(&scheme));
    }
}

/// The same verdict: the protocol, or the same kind of error (a syntax error's offset may
/// differ: the previous checker scanned the fragment and the query before the authority).
fn same_verdict(uri: &[u8], protocols: ProtocolSupport) -> Result<(), TestCaseError> {
    let kind = |r: Result<Protocol, UriError>| {
        r.map_err(|e| match e {
            UriError::Syntax { .. } => UriError::Syntax { offset: 0 },
            e => e,
        })
    };
    let (now, before) = (check_uri(uri, protocols), check_uri_before(uri, protocols));
    prop_assert_eq!(
        kind(now),
        kind(before),
        "{:?}: {:?} vs {:?}",
        String::from_utf8_lossy(uri),
        now,
        before
    );
    Ok(())
}

/// URI-shaped input: pieces of the grammar's delimiters, hosts and escapes, glued at random.
fn uri_like() -> impl Strategy<Value = Vec<u8>> {
    const PIECES: [&[u8]; 40] = [
        b"coap",
        b"COAPS",
        b"http",
        b"https",
        b"coap+tcp",
        b"coaps+tcp",
        b"ftp",
        b"1x",
        b":",
        b"//",
        b"/",
        b"?",
        b"#",
        b"@",
        b"[",
        b"]",
        b"[::1]",
        b"[v1.a+b]",
        b"[V7.x]",
        b"[1.2]",
        b"h",
        b"example.com",
        b":5683",
        b":65535",
        b":65536",
        b":0",
        b":x",
        b"u:p@",
        b"%41",
        b"%4",
        b"%zz",
        b"%",
        b" ",
        b"~!$&'()*+,;=",
        b"-._",
        b"\0",
        b"\x7f",
        b"\xc3\xa9",
        b"v",
        b"::",
    ];
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(&PIECES[..]).prop_map(<[u8]>::to_vec),
            1 => any::<u8>().prop_map(|b| vec![b]),
        ],
        0..14,
    )
    .prop_map(|parts| parts.concat())
}

#[test]
fn check_uri_matches_the_previous_rules_on_hand_made_uris() {
    let all = ProtocolSupport::ALL;
    for uri in [
        &b"coap://h/fw"[..],
        b"COAPS://h:5684/fw",
        b"http://u:p@h.example/a/b?c=d#e",
        b"coap+tcp://10.0.0.1/x%20y",
        b"coaps+tcp://[v1.fe80::a+en1]/",
        b"coap://[::1]:0/",
        b"coap://h/%41?%7e",
        b"coap://h:/",
        b"coap://@h/",
        b"coap://u@@h/",
        b"coap://u@[::1]:1/",
        b"coap://[::1]x/",
        b"coap://[::1]@h/",
        b"coap://h:56[@x/",
        b"coap://h:5683@x/",
        b"coap://[v]/",
        b"coap://[]/",
        b"coap://[:]/",
        b"coap://[1%3A2]/",
        b"coap://[::1%41]/",
        b"coap://h#f",
        b"http://h#f#g",
        b"http://h?a#b?c/d",
        b"coap:?q",
        b"coap:#",
        b"coap://",
        b"coap://h:00000000080/",
        b"coap://h%4/",
        b"coap://h/%4",
        b"c:",
        b":",
        b"",
    ] {
        same_verdict(uri, all).unwrap();
        same_verdict(uri, ProtocolSupport::COAP).unwrap();
    }
    let mut long = [b'a'; MAX_URI_LEN + 1];
    long[..9].copy_from_slice(b"coap://h/");
    same_verdict(&long, all).unwrap();
    same_verdict(&long[..MAX_URI_LEN], all).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn check_uri_matches_the_previous_rules(uri in uri_like(), bits in 0u8..64) {
        same_verdict(&uri, ProtocolSupport::from_bits(bits))?;
    }

    #[test]
    fn check_uri_matches_the_previous_rules_on_any_bytes(
        uri in prop::collection::vec(any::<u8>(), 0..40)
    ) {
        same_verdict(&uri, ProtocolSupport::ALL)?;
    }
}

/// The generator reaches both verdicts often enough for the comparison to mean something.
#[test]
fn uri_like_input_is_often_accepted_and_often_refused() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut syntax, mut other) = (0, 0, 0);
    for _ in 0..4096 {
        let uri = uri_like().new_tree(&mut runner).unwrap().current();
        // A valid prefix makes acceptance likely: the comparison covers both sides.
        let uri = [&b"coap://"[..], &uri].concat();
        same_verdict(&uri, ProtocolSupport::ALL).unwrap();
        match check_uri(&uri, ProtocolSupport::ALL) {
            Ok(_) => ok += 1,
            Err(UriError::Syntax { .. }) => syntax += 1,
            Err(_) => other += 1,
        }
    }
    assert!(
        ok > 200 && syntax > 200,
        "{ok} accepted, {syntax} syntax, {other} other"
    );
}
