//! Probe for the `sha256` component: the streaming SHA-256 the verifier runs over flash.

use sha2::{Digest, Sha256};

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    let mut h = Sha256::new();
    h.update(crate::input(200));
    h.update(crate::input(64));
    let out: [u8; 32] = h.finalize().into();
    crate::keep(out);
}
