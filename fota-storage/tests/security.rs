//! Security: every single-bit flip of manifest, signature and image is rejected; an older
//! version is rejected; a wrong base-image digest is rejected before anything is written.
#![cfg(feature = "ed25519")]

use ed25519_dalek::SigningKey;
use fota_storage::manifest::MANIFEST_MAX;
use fota_storage::sim::SimFlash;
use fota_storage::{Error, Layout, Manifest, PackageIdentity, Region, SignedManifest, Storage};
use sha2::{Digest, Sha256};

type Flash = SimFlash<8, 1024>;

const CLASS: &[u8] = b"acme-sensor-v1";
const ID: PackageIdentity<'static> = PackageIdentity::Push { id: b"push-1" };

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn setup(old: &[u8]) -> (Storage<Flash>, Layout) {
    let mut f = Flash::new(16);
    let l = Layout::new(
        &f,
        Region::new(0, 4096),
        Region::new(4096, 5120),
        Region::new(10 * 1024, 2048),
    )
    .unwrap();
    f.as_bytes_mut()[..old.len()].copy_from_slice(old);
    (Storage::mount(f, l).unwrap(), l)
}

fn manifest<'a>(img: &[u8], version: u32, base: Option<(u32, [u8; 32])>) -> Manifest<'a> {
    Manifest {
        version,
        image_size: img.len() as u32,
        payload_size: img.len() as u32,
        digest: Sha256::digest(img).into(),
        base,
        delta: base.is_some(),
        class: CLASS,
    }
}

/// The device's whole acceptance path for a package: parse, signature, policy, download,
/// verification of what is in flash. Returns the error that rejected it.
fn accept(s: &mut Storage<Flash>, package: &[u8], image: &[u8]) -> Result<(), Error> {
    let public = key().verifying_key().to_bytes();
    let (signed, _) = SignedManifest::parse(package)?;
    signed.verify_signature(&public)?;
    s.check_manifest(&signed.manifest, CLASS)?;
    s.begin(ID)?;
    s.write(image)?;
    s.finish()?;
    s.verify(&signed.manifest)
}

#[test]
fn every_bit_flip_of_manifest_and_signature_is_rejected() {
    let img: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 1) as u8).collect();
    let base = Some((1000, Sha256::digest([0u8; 1000]).into()));
    for m in [manifest(&img, 3, None), manifest(&img, 3, base)] {
        let mut package = [0u8; MANIFEST_MAX];
        let len = m.sign(&key(), &mut package).unwrap();
        let package = &package[..len];
        let public = key().verifying_key().to_bytes();
        let (ok, used) = SignedManifest::parse(package).unwrap();
        assert_eq!(used, len);
        assert_eq!(ok.manifest, m);
        ok.verify_signature(&public).unwrap();
        let mut flips = 0;
        for bit in 0..len * 8 {
            let mut bad = package.to_vec();
            bad[bit / 8] ^= 1 << (bit % 8);
            let rejected = match SignedManifest::parse(&bad) {
                Err(e) => e.update_result() == 5 || e.update_result() == 6,
                Ok((s, _)) => s.verify_signature(&public) == Err(Error::BadSignature),
            };
            assert!(rejected, "bit {bit} flipped was accepted");
            flips += 1;
        }
        assert_eq!(flips, len * 8);
    }
}

#[test]
fn every_bit_flip_of_the_image_is_rejected() {
    let img: Vec<u8> = (0..1024u32).map(|i| (i * 13 + 5) as u8).collect();
    let m = manifest(&img, 1, None);
    let mut package = [0u8; MANIFEST_MAX];
    let len = m.sign(&key(), &mut package).unwrap();
    let (mut s, _) = setup(&[]);
    accept(&mut s, &package[..len], &img).unwrap();
    for bit in 0..img.len() * 8 {
        let mut bad = img.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let e = accept(&mut s, &package[..len], &bad).unwrap_err();
        assert_eq!(e, Error::DigestMismatch);
        assert_eq!(e.update_result(), 5);
    }
    // The same holds for corruption in flash after a good download: the hash is of flash.
    accept(&mut s, &package[..len], &img).unwrap();
    let staging = 4096;
    s.flash_mut().as_bytes_mut()[staging + 500] ^= 0x10;
    assert_eq!(s.verify(&m), Err(Error::DigestMismatch));
    assert_eq!(s.mark_pending(&m), Err(Error::DigestMismatch));
}

#[test]
fn an_older_version_is_rejected() {
    let img = [1u8; 100];
    let (mut s, l) = setup(&[]);
    let m5 = manifest(&img, 5, None);
    s.begin(ID).unwrap();
    s.write(&img).unwrap();
    s.finish().unwrap();
    s.mark_pending(&m5).unwrap();
    let mut f = s.release();
    fota_storage::boot::boot(&mut f, &l, &mut [0; 64]).unwrap();
    let mut s = Storage::mount(f, l).unwrap();
    s.confirm().unwrap();
    assert_eq!(s.min_version(), 5);
    let m4 = manifest(&img, 4, None);
    let e = s.check_manifest(&m4, CLASS).unwrap_err();
    assert_eq!(
        e,
        Error::Rollback {
            version: 4,
            minimum: 5
        }
    );
    assert_eq!(e.update_result(), 6);
    // Even past the check, an old image is never marked pending.
    s.begin(ID).unwrap();
    s.write(&img).unwrap();
    s.finish().unwrap();
    assert!(matches!(s.mark_pending(&m4), Err(Error::Rollback { .. })));
    // The same version is allowed again (re-install), a newer one too.
    s.check_manifest(&m5, CLASS).unwrap();
    s.check_manifest(&manifest(&img, 6, None), CLASS).unwrap();
}

#[test]
fn wrong_class_is_rejected() {
    let img = [1u8; 100];
    let (mut s, _) = setup(&[]);
    let e = s
        .check_manifest(&manifest(&img, 1, None), b"other-class")
        .unwrap_err();
    assert_eq!(e, Error::WrongClass);
    assert_eq!(e.update_result(), 6);
}

#[test]
fn wrong_base_digest_is_rejected_before_anything_is_written() {
    let old: Vec<u8> = (0..3000u32).map(|i| (i * 3) as u8).collect();
    let (mut s, _) = setup(&old);
    let new = [9u8; 2000];
    let good = manifest(&new, 2, Some((3000, Sha256::digest(&old).into())));
    s.check_manifest(&good, CLASS).unwrap();
    let before = s.flash_mut().as_bytes().to_vec();
    let ops = s.flash_mut().ops();
    for (size, digest) in [
        (3000, Sha256::digest(&old[..2999]).into()),
        (2999, Sha256::digest(&old).into()),
        (3000, [0u8; 32]),
        (5000, Sha256::digest(&old).into()),
    ] {
        let bad = manifest(&new, 2, Some((size, digest)));
        let e = s.check_manifest(&bad, CLASS).unwrap_err();
        assert_eq!(e, Error::BaseMismatch);
        assert_eq!(e.update_result(), 5);
    }
    assert_eq!(s.flash_mut().ops(), ops, "no erase or write");
    assert_eq!(s.flash_mut().as_bytes(), &before[..]);
}

#[test]
fn too_large_image_is_result_2() {
    let (mut s, _) = setup(&[]);
    let mut m = manifest(&[0; 10], 1, None);
    m.image_size = 4097;
    assert_eq!(s.check_manifest(&m, CLASS).unwrap_err().update_result(), 2);
}
