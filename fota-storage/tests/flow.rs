//! Behaviour of a whole update on the simulated flash: download, resume, verify, swap, confirm,
//! rollback, journal rotation.

use fota_storage::boot::{BootOutcome, boot};
use fota_storage::sim::{Fault, SimFlash};
use fota_storage::{
    BootState, Error, Layout, Manifest, PackageIdentity, Region, SlotReader, SlotWriter, Storage,
};
use sha2::{Digest, Sha256};

type Flash = SimFlash<4, 1024>;

fn layout(f: &Flash) -> Layout {
    // active 16 KiB, staging 17 KiB, state 4 KiB (two 2 KiB banks... here 4 banks of 1 KiB).
    Layout::new(
        f,
        Region::new(0, 16 * 1024),
        Region::new(16 * 1024, 17 * 1024),
        Region::new(33 * 1024, 4 * 1024),
    )
    .unwrap()
}

fn image(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

fn manifest(img: &[u8], version: u32) -> Manifest<'static> {
    Manifest {
        version,
        image_size: img.len() as u32,
        payload_size: img.len() as u32,
        digest: Sha256::digest(img).into(),
        base: None,
        delta: false,
        class: b"class",
    }
}

const ID: PackageIdentity<'static> = PackageIdentity::Pull {
    uri: b"coap://192.0.2.1/fw",
    etag: b"e1",
};

#[test]
fn layout_is_checked() {
    let f = Flash::new(40);
    let bad = Layout::new(
        &f,
        Region::new(100, 1024),
        Region::new(2048, 2048),
        Region::new(8192, 4096),
    );
    assert!(matches!(bad, Err(Error::Misaligned { .. })));
    let overlap = Layout::new(
        &f,
        Region::new(0, 2048),
        Region::new(1024, 3072),
        Region::new(8192, 4096),
    );
    assert!(matches!(overlap, Err(Error::BadRegion { .. })));
    let small_staging = Layout::new(
        &f,
        Region::new(0, 2048),
        Region::new(2048, 2048),
        Region::new(8192, 4096),
    );
    assert!(matches!(small_staging, Err(Error::BadRegion { .. })));
    let outside = Layout::new(
        &f,
        Region::new(0, 2048),
        Region::new(2048, 3072),
        Region::new(40 * 1024, 4096),
    );
    assert!(matches!(outside, Err(Error::BadRegion { .. })));
    let one_bank = Layout::new(
        &f,
        Region::new(0, 2048),
        Region::new(2048, 3072),
        Region::new(8192, 1024),
    );
    assert!(matches!(one_bank, Err(Error::BadRegion { .. })));
}

#[test]
fn full_update_and_confirm() {
    let mut f = Flash::new(37);
    let l = layout(&f);
    let old = image(12_000, 1);
    f.as_bytes_mut()[..old.len()].copy_from_slice(&old);
    let new = image(15_001, 2);
    let m = manifest(&new, 3);
    let mut s = Storage::mount(f, l).unwrap();
    s.check_manifest(&m, b"class").unwrap();
    s.begin(ID).unwrap();
    for c in new.chunks(777) {
        s.write(c).unwrap();
        s.sync(&[]).unwrap();
    }
    assert_eq!(s.finish().unwrap(), new.len() as u32);
    assert_eq!(s.stored_bytes(), new.len() as u32);
    s.mark_pending(&m).unwrap();
    let mut f = s.release();
    assert_eq!(boot(&mut f, &l, &mut [0; 256]).unwrap(), BootOutcome::Trial);
    assert_eq!(&f.as_bytes()[..new.len()], &new[..]);
    let mut s = Storage::mount(f, l).unwrap();
    assert_eq!(s.boot_record().state, BootState::Testing);
    s.confirm().unwrap();
    assert_eq!(s.min_version(), 3);
    assert!(s.identity().is_none());
    let mut f = s.release();
    assert_eq!(
        boot(&mut f, &l, &mut [0; 256]).unwrap(),
        BootOutcome::Unchanged
    );
    // Older versions are refused from now on.
    let mut s = Storage::mount(f, l).unwrap();
    assert!(matches!(
        s.check_manifest(&manifest(&old, 2), b"class"),
        Err(Error::Rollback {
            version: 2,
            minimum: 3
        })
    ));
}

#[test]
fn unconfirmed_image_rolls_back() {
    let mut f = Flash::new(37);
    let l = layout(&f);
    let old = image(16 * 1024, 7);
    f.as_bytes_mut()[..old.len()].copy_from_slice(&old);
    let new = image(9_000, 8);
    let m = manifest(&new, 1);
    let mut s = Storage::mount(f, l).unwrap();
    s.begin(ID).unwrap();
    s.write(&new).unwrap();
    s.finish().unwrap();
    s.mark_pending(&m).unwrap();
    let mut f = s.release();
    assert_eq!(boot(&mut f, &l, &mut [0; 64]).unwrap(), BootOutcome::Trial);
    // The new firmware crashes before confirming: the next boot restores the old one.
    assert_eq!(
        boot(&mut f, &l, &mut [0; 64]).unwrap(),
        BootOutcome::RolledBack
    );
    assert_eq!(&f.as_bytes()[..old.len()], &old[..]);
    let mut s = Storage::mount(f, l).unwrap();
    assert_eq!(s.boot_record().state, BootState::RolledBack);
    assert_eq!(s.min_version(), 0);
    // The staging slot holds the new image again, still verifiable.
    s.verify(&m).unwrap();
}

#[test]
fn resume_after_cut_continues_at_durable_offset() {
    let f = Flash::new(37);
    let l = layout(&f);
    let new = image(10_000, 3);
    let mut s = Storage::mount(f, l).unwrap();
    s.begin(ID).unwrap();
    s.write(&new[..5003]).unwrap();
    assert_eq!(s.sync(&[1, 2, 3]).unwrap(), 5000);
    let mut f = s.release();
    f.set_fault(Some(Fault::CutBefore(f.ops())));
    let mut s = Storage::mount(f, l).unwrap();
    assert!(s.write(&new[..100]).is_err());
    let mut f = s.release();
    f.power_on();
    let mut s = Storage::mount(f, l).unwrap();
    assert_eq!(s.stored_bytes(), 5000);
    assert_eq!(s.checkpoint(), &[1, 2, 3]);
    let other = PackageIdentity::Pull {
        uri: b"coap://192.0.2.1/fw",
        etag: b"e2",
    };
    assert_eq!(s.resume(other), None);
    assert_eq!(s.resume(ID), Some(5000));
    // A retransmitted block overlapping the resume point is trimmed.
    s.write_at(4000, &new[4000..6000]).unwrap();
    s.write_at(6000, &new[6000..]).unwrap();
    assert!(matches!(
        s.write_at(20_000, &[0]),
        Err(Error::OutOfSpace { .. }) | Err(Error::OutOfOrder { .. })
    ));
    s.finish().unwrap();
    s.verify(&manifest(&new, 1)).unwrap();
}

#[test]
fn flush_makes_every_byte_durable_and_the_download_goes_on() {
    let f = Flash::new(37);
    let l = layout(&f);
    let new = image(9_999, 7);
    let mut s = Storage::mount(f, l).unwrap();
    s.begin(ID).unwrap();
    s.write(&new[..1001]).unwrap();
    assert_eq!(s.flushed_bytes(), 1000);
    // The partial word goes to flash padded; the journal then covers all 1,001 bytes.
    assert_eq!(s.flush().unwrap(), 1001);
    assert_eq!(s.sync(&[9]).unwrap(), 1001);
    // More bytes in the same word (programmed again, with the new bytes in the padding).
    s.write(&new[1001..1002]).unwrap();
    assert_eq!(s.flush().unwrap(), 1002);
    assert_eq!(s.flush().unwrap(), 1002);
    s.write(&new[1002..3003]).unwrap();
    assert_eq!(s.flush().unwrap(), 3003);
    assert_eq!(s.sync(&[]).unwrap(), 3003);
    // Power cut: the device resumes at the unaligned durable offset, the partial word read
    // back from flash.
    let mut s = Storage::mount(s.release(), l).unwrap();
    assert_eq!(s.stored_bytes(), 3003);
    assert_eq!(s.resume(ID), Some(3003));
    s.write_at(3003, &new[3003..]).unwrap();
    assert_eq!(s.finish().unwrap(), new.len() as u32);
    let m = manifest(&new, 1);
    s.mark_pending(&m).unwrap();
    let mut f = s.release();
    assert_eq!(boot(&mut f, &l, &mut [0; 256]).unwrap(), BootOutcome::Trial);
    assert_eq!(&f.as_bytes()[..new.len()], &new[..]);
}

#[test]
fn an_unsigned_image_is_marked_pending_and_keeps_the_counter() {
    let f = Flash::new(37);
    let l = layout(&f);
    let new = image(6_001, 8);
    let mut s = Storage::mount(f, l).unwrap();
    // Nothing downloaded yet.
    assert_eq!(s.mark_pending_unsigned(), Err(Error::InvalidState));
    s.begin(ID).unwrap();
    s.write(&new).unwrap();
    s.sync(&[]).unwrap();
    // A byte still buffered: the image is not all in flash.
    assert_eq!(s.mark_pending_unsigned(), Err(Error::InvalidState));
    s.finish().unwrap();
    assert_eq!(
        s.staging_digest(new.len() as u32).unwrap(),
        <[u8; 32]>::from(Sha256::digest(&new))
    );
    s.mark_pending_unsigned().unwrap();
    assert_eq!(s.boot_record().state, BootState::Pending);
    assert_eq!(s.boot_record().image_size, new.len() as u32);
    let mut f = s.release();
    assert_eq!(boot(&mut f, &l, &mut [0; 256]).unwrap(), BootOutcome::Trial);
    assert_eq!(&f.as_bytes()[..new.len()], &new[..]);
    let mut s = Storage::mount(f, l).unwrap();
    s.confirm().unwrap();
    assert_eq!(s.min_version(), 0);
}

#[test]
fn out_of_space_is_result_2_and_writes_nothing() {
    let f = Flash::new(37);
    let l = layout(&f);
    let mut s = Storage::mount(f, l).unwrap();
    s.begin(ID).unwrap();
    let ops = s.flash_mut().ops();
    let e = s.write(&vec![0u8; 16 * 1024 + 1]).unwrap_err();
    assert_eq!(e.update_result(), 2);
    assert_eq!(s.flash_mut().ops(), ops);
    s.write(&vec![0u8; 16 * 1024]).unwrap();
    assert_eq!(s.write(&[0]).unwrap_err().update_result(), 2);
}

#[test]
fn writer_erases_each_sector_once_and_reader_bounds() {
    let mut f = SimFlash::<16, 1024>::new(40);
    let l = Layout::new(
        &f,
        Region::new(0, 8192),
        Region::new(8192, 9216),
        Region::new(20 * 1024, 4096),
    )
    .unwrap();
    let mut w = SlotWriter::new(&l, l.staging(), l.max_image_size());
    let data = image(8192, 9);
    let mut at = 0;
    for n in [1usize, 3, 15, 16, 17, 100, 1000, 2047].iter().cycle() {
        let end = (at + n).min(data.len());
        w.write(&mut f, &data[at..end]).unwrap();
        at = end;
        if at == data.len() {
            break;
        }
    }
    assert_eq!(w.flush(&mut f).unwrap(), 8192);
    assert_eq!(&f.erase_counts()[8..16], &[1; 8]);
    assert_eq!(f.erase_counts()[16], 0);
    let r = SlotReader::new(l.staging());
    let mut buf = [0u8; 10];
    r.read(&mut f, 8000, &mut buf).unwrap();
    assert_eq!(&buf, &data[8000..8010]);
    assert!(matches!(
        r.read(&mut f, 9210, &mut buf),
        Err(Error::ReadOutOfBounds { .. })
    ));
}

#[test]
fn journal_rotates_and_keeps_state() {
    let f = Flash::new(37);
    let l = layout(&f);
    let mut s = Storage::mount(f, l).unwrap();
    s.begin(ID).unwrap();
    let data = image(16 * 1024, 4);
    // Hundreds of records: the 1 KiB banks rotate many times.
    for (i, c) in data.chunks(16).enumerate() {
        s.write(c).unwrap();
        s.sync(&[(i % 256) as u8; 40]).unwrap();
    }
    let f = s.release();
    let counts = f.erase_counts()[33..37].to_vec();
    assert!(counts.iter().all(|&c| c > 3), "{counts:?}");
    let s = Storage::mount(f, l).unwrap();
    assert_eq!(s.stored_bytes(), 16 * 1024);
    assert_eq!(s.identity(), Some(ID.digest()));
    assert_eq!(s.checkpoint(), &[((16 * 1024 / 16 - 1) % 256) as u8; 40]);
}

#[test]
fn file_flash_keeps_a_download_across_restarts() {
    use fota_storage::embedded_storage::nor_flash::NorFlash;
    use fota_storage::sim::{FileFlash, SimError};
    let path = std::env::temp_dir().join(format!(
        "fota-storage-test-{}-{:?}.bin",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    let new = image(5000, 5);
    {
        let f = FileFlash::<4, 1024>::open(&path, 37).unwrap();
        let l = Layout::new(
            &f,
            Region::new(0, 16 * 1024),
            Region::new(16 * 1024, 17 * 1024),
            Region::new(33 * 1024, 4 * 1024),
        )
        .unwrap();
        let mut s = Storage::mount(f, l).unwrap();
        s.begin(ID).unwrap();
        s.write(&new[..3001]).unwrap();
        assert_eq!(s.sync(&[]).unwrap(), 3000);
        // NOR rules hold in the file too.
        let mut f = s.release();
        assert_eq!(
            f.write(16 * 1024, &[0xFF, 0xFF, 0xFF, 0xFF]),
            Err(SimError::NotErased { offset: 16 * 1024 })
        );
        assert_eq!(f.write(1, &[0; 4]), Err(SimError::NotAligned));
    }
    let f = FileFlash::<4, 1024>::open(&path, 37).unwrap();
    let l = Layout::new(
        &f,
        Region::new(0, 16 * 1024),
        Region::new(16 * 1024, 17 * 1024),
        Region::new(33 * 1024, 4 * 1024),
    )
    .unwrap();
    let mut s = Storage::mount(f, l).unwrap();
    assert_eq!(s.resume(ID), Some(3000));
    s.write(&new[3000..]).unwrap();
    s.finish().unwrap();
    s.verify(&manifest(&new, 1)).unwrap();
    assert!(
        FileFlash::<4, 1024>::open(&path, 36).is_err(),
        "another size is refused"
    );
    std::fs::remove_file(&path).unwrap();
}

/// A flash that reads in 4-byte units (like some ESP or external flashes).
struct Read4(Flash);

impl fota_storage::embedded_storage::nor_flash::ErrorType for Read4 {
    type Error = fota_storage::sim::SimError;
}

impl fota_storage::embedded_storage::nor_flash::ReadNorFlash for Read4 {
    const READ_SIZE: usize = 4;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        assert!(
            offset.is_multiple_of(4) && bytes.len().is_multiple_of(4),
            "unaligned read {offset}+{}",
            bytes.len()
        );
        self.0.read(offset, bytes)
    }

    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl fota_storage::embedded_storage::nor_flash::NorFlash for Read4 {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 1024;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.erase(from, to)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write(offset, bytes)
    }
}

#[test]
fn read_size_4_is_honoured() {
    use fota_storage::embedded_storage::nor_flash::ReadNorFlash;
    let mut f = Read4(Flash::new(37));
    let l = Layout::new(
        &f,
        Region::new(0, 16 * 1024),
        Region::new(16 * 1024, 17 * 1024),
        Region::new(33 * 1024, 4 * 1024),
    )
    .unwrap();
    let old = image(3001, 9);
    f.0.as_bytes_mut()[..old.len()].copy_from_slice(&old);
    let new = image(7003, 10);
    let m = manifest(&new, 1);
    let mut s = Storage::mount(f, l).unwrap();
    s.begin(PackageIdentity::Push { id: b"odd" }).unwrap();
    for c in new.chunks(333) {
        s.write(c).unwrap();
        s.sync(&[1, 2, 3, 4, 5]).unwrap();
    }
    s.finish().unwrap();
    let mut b = [0u8; 7];
    s.read_active(1, &mut b).unwrap();
    assert_eq!(&b, &old[1..8]);
    s.mark_pending(&m).unwrap();
    let f = s.release();
    let s = Storage::mount(f, l).unwrap();
    assert_eq!(s.boot_record().state, BootState::Pending);
    assert_eq!(
        s.identity(),
        Some(PackageIdentity::Push { id: b"odd" }.digest())
    );
    let mut f = s.release();
    assert_eq!(boot(&mut f, &l, &mut [0; 100]).unwrap(), BootOutcome::Trial);
    let mut got = vec![0u8; new.len()];
    f.0.read(0, &mut got).unwrap();
    assert_eq!(got, new);
}

#[test]
fn boot_ignores_a_record_larger_than_the_slot() {
    use fota_storage::{BootRecord, Journal};
    let mut f = Flash::new(37);
    let l = layout(&f);
    let old = image(4000, 1);
    f.as_bytes_mut()[..old.len()].copy_from_slice(&old);
    let mut j = Journal::mount(&mut f, &l).unwrap();
    let rec = BootRecord {
        state: BootState::Pending,
        step: 0,
        image_size: 16 * 1024 + 1,
        version: 1,
    };
    j.set_boot(&mut f, rec).unwrap();
    let before = f.as_bytes()[..33 * 1024].to_vec();
    assert_eq!(
        boot(&mut f, &l, &mut [0; 64]).unwrap(),
        BootOutcome::Unchanged
    );
    assert_eq!(&f.as_bytes()[..33 * 1024], &before[..]);
    assert_eq!(
        Journal::mount(&mut f, &l).unwrap().boot().state,
        BootState::Idle
    );
}
