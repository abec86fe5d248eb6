//! Probe for the `coap` component (filled in by its crate's issue).

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    let data = crate::input(16);
    crate::keep(data.len());
}
