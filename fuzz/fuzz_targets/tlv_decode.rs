#![no_main]
//! Decodes arbitrary bytes as TLV with a full typed walk: every record, every accessor, the
//! structure check, the path checks and the owned tree. Nothing may panic, every value must
//! lie inside the input, and whatever decodes must re-encode to the same tree.

use libfuzzer_sys::fuzz_target;
use lwm2m_tlv::{Error, Node, Path, Records, check_path, validate};

fn walk(records: Records<'_>, input: &[u8], depth: usize) -> Result<usize, Error> {
    let range = input.as_ptr_range();
    let mut n = 0;
    for rec in records {
        let r = rec?;
        assert!(
            depth <= 2,
            "nesting deeper than instance > multiple > instance"
        );
        n += 1;
        let v = r.value().as_ptr_range();
        assert!(range.start <= v.start && v.end <= range.end);
        assert_eq!(
            input.get(r.value_offset()..r.value_offset() + r.len()),
            Some(r.value())
        );
        assert_eq!(r.encoded_len(), r.value_offset() - r.offset() + r.len());
        let _ = (
            r.as_i64(),
            r.as_u64(),
            r.as_f64(),
            r.as_bool(),
            r.as_objlnk(),
            r.as_time(),
        );
        if let Ok(s) = r.as_str() {
            assert_eq!(s.as_bytes(), r.value());
        }
        assert_eq!(r.as_opaque().is_ok(), !r.is_container());
        n += walk(r.children(), input, depth + 1)?;
    }
    Ok(n)
}

fuzz_target!(|data: &[u8]| {
    let walked = walk(Records::new(data), data, 0);
    let validated = validate(data);
    assert_eq!(walked, validated);
    for path in [
        Path::Object(3),
        Path::Instance(3, 0),
        Path::Resource(5, 0, 1),
        Path::ResourceInstance(3, 0, 6, 1),
    ] {
        if let Ok(records) = check_path(data, path) {
            assert!(validated.is_ok());
            for r in records {
                r.unwrap();
            }
        }
    }
    match Node::parse_all(data) {
        Ok(nodes) => {
            assert!(validated.is_ok());
            let bytes = Node::to_vec(&nodes).unwrap();
            assert_eq!(Node::parse_all(&bytes).unwrap(), nodes);
            assert!(
                bytes.len() <= data.len(),
                "smallest headers never grow a payload"
            );
        }
        Err(e) => assert_eq!(validated, Err(e)),
    }
});
