#![no_main]
//! Loads arbitrary text as an OMA DDF file. Nothing may panic; whatever loads has sorted,
//! unique resource ids, and its generated const source and labels can be produced.

use libfuzzer_sys::fuzz_target;
use lwm2m_objects::ddf::load_ddf_str;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match load_ddf_str("fuzz.xml", &text) {
        Ok(objects) => {
            assert!(!objects.is_empty());
            for o in &objects {
                assert!(o.resources.windows(2).all(|w| w[0].id < w[1].id));
                let _ = o.to_rust("FUZZ");
                for r in &o.resources {
                    assert!(!r.type_label().is_empty());
                    assert!(!r.name.chars().any(char::is_control));
                }
            }
        }
        Err(e) => {
            // One line, naming the file.
            let msg = e.to_string();
            assert!(msg.starts_with("fuzz.xml:"), "{msg}");
        }
    }
});
