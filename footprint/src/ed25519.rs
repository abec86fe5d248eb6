//! Probe for the `ed25519` component: verification of a manifest signature (strict).

use ed25519_dalek::{Signature, VerifyingKey};

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    let data = crate::input(200);
    let mut key = [0u8; 32];
    let mut sig = [0u8; 64];
    key.copy_from_slice(data.get(..32).unwrap_or(&[0; 32]));
    sig.copy_from_slice(data.get(32..96).unwrap_or(&[0; 64]));
    if let Ok(k) = VerifyingKey::from_bytes(&key) {
        let s = Signature::from_bytes(&sig);
        crate::keep(k.verify_strict(data.get(96..).unwrap_or(&[]), &s).is_ok());
    }
}
