#![no_main]
//! Fuzzes the Package URI checker (`fota_fsm::check_uri`): the first byte picks the supported
//! protocols, the rest is the URI. It must never panic, and its verdicts must agree with each
//! other: the length rule, a syntax offset inside the input, an accepted scheme that is in the
//! set, and the same verdict with every protocol supported unless the scheme decided it.

use fota_fsm::{MAX_URI_LEN, ProtocolSupport, UriError, check_uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&bits, uri)) = data.split_first() else {
        return;
    };
    let protocols = ProtocolSupport::from_bits(bits);
    let verdict = check_uri(uri, protocols);
    let any = check_uri(uri, ProtocolSupport::ALL);
    assert_eq!(uri.len() > MAX_URI_LEN, verdict == Err(UriError::TooLong));
    if let Err(UriError::Syntax { offset }) = verdict {
        assert!(
            usize::from(offset) <= uri.len(),
            "offset {offset} past {}",
            uri.len()
        );
    }
    match (verdict, any) {
        // Accepted: the scheme is one of the set, and every protocol set accepts it too.
        (Ok(p), _) => {
            assert!(protocols.contains(p));
            assert_eq!(any, Ok(p));
        }
        // Refused for the protocol (checked before the rest of the syntax): if every set
        // accepts it, the scheme is one this set lacks.
        (Err(UriError::UnsupportedProtocol), any) => {
            if let Ok(p) = any {
                assert!(!protocols.contains(p));
            }
        }
        // Refused for its length or syntax: no protocol set makes it acceptable.
        (Err(e), any) => assert_eq!(any, Err(e)),
    }
});
