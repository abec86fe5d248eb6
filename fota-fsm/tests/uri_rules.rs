//! The Package URI rules against their previous implementation: the checker was rewritten for
//! size, and these tests keep the accept/reject rules what they were.

use fota_fsm::Protocol;
use proptest::prelude::*;

/// The previous `Protocol::from_scheme`: every scheme compared case-insensitively.
fn from_scheme_before(scheme: &[u8]) -> Option<Protocol> {
    Protocol::ALL
        .into_iter()
        .find(|p| scheme.eq_ignore_ascii_case(p.scheme().as_bytes()))
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
