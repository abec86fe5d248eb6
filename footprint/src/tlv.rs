//! Probe for the `tlv` component: a checked decode walk (nesting, integers, strings) and a
//! nested encode, as a device client does for a Write and a Read.

use lwm2m_tlv::{Records, Writer};

/// Exercises the component's device-side code paths on opaque input.
pub fn probe() {
    // Decode: instances, resources and resource instances with typed accessors.
    let (acc, ok) = walk(Records::new(crate::input(64)));
    crate::keep((acc, ok));

    // Encode: an object instance with an opaque and an integer resource.
    let mut buf = [0u8; 16];
    let mut w = Writer::new(core::hint::black_box(&mut buf[..]));
    let r = (|| {
        w.begin_instance(0)?;
        w.resource_opaque(0, crate::input(8))?;
        w.resource_i64(3, acc)?;
        w.end()?;
        w.finish()
    })();
    crate::keep(r);
    crate::keep(&buf);
}

/// Sums integers and string lengths over a payload; `false` on the first malformed record.
fn walk(records: Records<'_>) -> (i64, bool) {
    let mut acc = 0i64;
    for rec in records {
        let Ok(r) = rec else { return (acc, false) };
        if r.is_container() {
            let (sub, ok) = walk(r.children());
            if !ok {
                return (acc, false);
            }
            acc = acc.wrapping_add(sub);
        } else if let Ok(v) = r.as_i64() {
            acc = acc.wrapping_add(v);
        }
    }
    (acc, true)
}
