#![no_main]
//! Journal recovery from arbitrary flash contents, and manifest parsing.
//!
//! The input is the state area as found after any crash or corruption (its first bytes; the rest
//! stays erased); mounting must return, and the journal must then take records and read them
//! back. The same bytes are parsed as a signed manifest.

use fota_storage::journal::{BootRecord, BootState, Journal, PackageIdentity};
use fota_storage::sim::SimFlash;
use fota_storage::{Layout, Region, SignedManifest};
use libfuzzer_sys::fuzz_target;

type Flash = SimFlash<8, 256>;

fuzz_target!(|data: &[u8]| {
    if let Ok((m, used)) = SignedManifest::parse(data) {
        assert!(used <= data.len());
        assert_eq!(m.signed.len() + 64, used);
        let mut buf = [0u8; 300];
        let n = m
            .manifest
            .encode(&mut buf)
            .expect("a parsed manifest encodes");
        assert_eq!(&buf[..n], m.signed);
    }

    let mut f = Flash::new(17);
    let layout = Layout::new(
        &f,
        Region::new(0, 512),
        Region::new(512, 768),
        Region::new(1280, 3072),
    )
    .expect("valid layout");
    let state = &mut f.as_bytes_mut()[1280..];
    let n = data.len().min(state.len());
    // NOR can only hold what programming and partial erases leave: any bytes.
    state[..n].copy_from_slice(&data[..n]);
    let Ok(mut j) = Journal::mount(&mut f, &layout) else {
        panic!("mount must not fail on a healthy flash");
    };
    let _ = (
        j.identity(),
        j.durable(),
        j.checkpoint(),
        j.boot(),
        j.min_version(),
    );
    let min = j.min_version();
    j.begin(&mut f, Some(PackageIdentity::Push { id: b"fuzz" }))
        .expect("begin");
    j.record_progress(&mut f, 4096, &data[..data.len().min(128)])
        .expect("progress");
    let rec = BootRecord {
        state: BootState::Pending,
        step: 0,
        image_size: 4096,
        version: 9,
    };
    j.set_boot(&mut f, rec).expect("boot record");
    let again = Journal::mount(&mut f, &layout).expect("remount");
    assert_eq!(again.durable(), 4096);
    assert_eq!(again.checkpoint(), &data[..data.len().min(128)]);
    assert_eq!(again.boot(), rec);
    assert_eq!(
        again.identity(),
        Some(PackageIdentity::Push { id: b"fuzz" }.digest())
    );
    assert!(again.is_download_of(PackageIdentity::Push { id: b"fuzz" }));
    assert!(again.min_version() >= min);
});
