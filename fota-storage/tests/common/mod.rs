//! A device that updates itself on a [`SimFlash`], power-cycled by the tests.
#![allow(dead_code)]

use fota_storage::boot::{BootOutcome, boot};
use fota_storage::sim::SimFlash;
use fota_storage::{BootState, Error, Layout, Manifest, PackageIdentity, Region, Storage};
use sha2::{Digest, Sha256};

/// splitmix64: small, seedable, good enough to pick sizes and cut points.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

pub const ID: PackageIdentity<'static> = PackageIdentity::Pull {
    uri: b"coap://192.0.2.7/fw/app.bin",
    etag: b"\x01\x02\x03\x04",
};
pub const CLASS: &[u8] = b"acme-sensor-v1";

/// One update: the device's flash geometry, the image it runs and the image it gets.
pub struct Scenario {
    pub layout: Layout,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
    pub version: u32,
    pub max_chunk: u64,
    pub swap_buf: usize,
    /// Mark the image pending without a manifest (`Storage::mark_pending_unsigned`).
    pub unsigned: bool,
}

impl Scenario {
    /// `sectors` sectors of `erase` bytes per slot.
    pub fn new(erase: u32, sectors: u32, old: Vec<u8>, new: Vec<u8>, max_chunk: u64) -> Self {
        let slot = erase * sectors;
        let bank = erase.max(1024);
        let layout = Layout::with_geometry(
            erase as usize,
            1,
            1,
            usize::MAX >> 1,
            Region::new(0, slot),
            Region::new(slot, slot + erase),
            Region::new(2 * slot + erase, 2 * bank),
        )
        .unwrap();
        Scenario {
            layout,
            old,
            new,
            version: 7,
            max_chunk,
            swap_buf: 1024,
            unsigned: false,
        }
    }

    pub fn flash_len(&self) -> usize {
        self.layout.state().end() as usize
    }

    pub fn manifest(&self) -> Manifest<'_> {
        Manifest {
            version: self.version,
            image_size: self.new.len() as u32,
            payload_size: self.new.len() as u32,
            digest: Sha256::digest(&self.new).into(),
            base: None,
            delta: false,
            class: CLASS,
        }
    }

    /// A flash with the old image in the active slot, version 5 confirmed.
    pub fn flash<const W: usize, const E: usize>(&self) -> SimFlash<W, E> {
        let layout = self.for_flash::<W, E>();
        let mut f = SimFlash::<W, E>::new(self.flash_len() / E);
        f.as_bytes_mut()[..self.old.len()].copy_from_slice(&self.old);
        let _ = layout;
        f.reset_counters();
        f
    }

    /// The layout re-checked against the flash type.
    pub fn for_flash<const W: usize, const E: usize>(&self) -> Layout {
        let f = SimFlash::<W, E>::new(self.flash_len() / E);
        Layout::new(
            &f,
            self.layout.active(),
            self.layout.staging(),
            self.layout.state(),
        )
        .unwrap()
    }
}

/// What the harness saw over one update.
#[derive(Default, Debug)]
pub struct Outcome {
    pub power_cycles: u32,
    pub rollbacks: u32,
    pub resumes: u32,
    pub restarts: u32,
}

enum Step {
    Done,
    Reboot,
}

/// Tracks what the device promised before a cut.
#[derive(Default)]
struct Promise {
    /// The last durable count `sync` reported for the current download.
    durable: Option<u32>,
}

/// Runs the device from power-on until the new image is confirmed, restoring power after each
/// injected cut (`on_power_on` may arm the next fault). The new firmware dies on trial
/// `crash_before_confirm` times. Panics on a bricked device, a mixed image or a lost resume point.
pub fn run_update<const W: usize, const E: usize>(
    sc: &Scenario,
    mut f: SimFlash<W, E>,
    rng: &mut Rng,
    mut on_power_on: impl FnMut(&mut SimFlash<W, E>),
    mut crash_before_confirm: u32,
) -> (SimFlash<W, E>, Outcome) {
    let layout = sc.for_flash::<W, E>();
    let m = sc.manifest();
    let mut out = Outcome::default();
    let mut promise = Promise::default();
    let mut buf = vec![0u8; sc.swap_buf];
    for _ in 0..200 {
        on_power_on(&mut f);
        let r = power_on(
            sc,
            &layout,
            &m,
            &mut f,
            &mut buf,
            rng,
            &mut out,
            &mut promise,
            &mut crash_before_confirm,
        );
        match r {
            Ok(Step::Done) => {
                let active = &f.as_bytes()[layout.active().offset as usize..];
                assert!(active[..sc.new.len()] == sc.new[..], "wrong final image");
                return (f, out);
            }
            Ok(Step::Reboot) => {}
            Err(e) => {
                assert!(f.is_off(), "device failed without a power cut: {e:?}");
                f.power_on();
                out.power_cycles += 1;
            }
        }
    }
    panic!("no progress after 200 power-ons: bricked");
}

#[allow(clippy::too_many_arguments)]
fn power_on<const W: usize, const E: usize>(
    sc: &Scenario,
    layout: &Layout,
    m: &Manifest<'_>,
    f: &mut SimFlash<W, E>,
    buf: &mut [u8],
    rng: &mut Rng,
    out: &mut Outcome,
    promise: &mut Promise,
    crash_before_confirm: &mut u32,
) -> Result<Step, Error> {
    // The bootloader.
    let outcome = boot(f, layout, buf)?;
    let active = &f.as_bytes()[layout.active().offset as usize..];
    let is_new = active[..sc.new.len()] == sc.new[..];
    let is_old = active[..sc.old.len()] == sc.old[..];
    match outcome {
        BootOutcome::Trial => assert!(is_new, "mixed image after swap"),
        BootOutcome::RolledBack => assert!(is_old, "mixed image after revert"),
        BootOutcome::Unchanged => assert!(is_new || is_old, "mixed image at boot"),
    }
    // The application.
    let mut s = Storage::mount(&mut *f, *layout)?;
    match s.boot_record().state {
        BootState::Testing => {
            if *crash_before_confirm > 0 {
                *crash_before_confirm -= 1;
                return Ok(Step::Reboot);
            }
            assert!(is_new, "trial of a wrong image");
            s.confirm()?;
            if !sc.unsigned {
                assert!(s.min_version() >= sc.version);
            }
            return Ok(Step::Done);
        }
        BootState::Confirmed => {
            assert!(is_new, "confirmed a wrong image");
            return Ok(Step::Done);
        }
        BootState::Pending => return Ok(Step::Reboot),
        BootState::RolledBack => {
            out.rollbacks += 1;
        }
        BootState::Idle => {}
        BootState::Swapping | BootState::Reverting => panic!("bootloader left a swap unfinished"),
    }
    // The download (pull, resumed from the stored byte count).
    let mut off = match s.resume(ID) {
        Some(off) => {
            if let Some(d) = promise.durable {
                assert!(off >= d, "resumed at {off} before the durable offset {d}");
            }
            // The checkpoint always belongs to the durable count it was recorded with.
            let cp = s.checkpoint();
            if !cp.is_empty() {
                assert_eq!(
                    cp,
                    &checkpoint(s.stored_bytes())[..],
                    "checkpoint of another offset"
                );
            }
            out.resumes += 1;
            off
        }
        None => {
            assert!(
                promise
                    .durable
                    .is_none_or(|_| s.boot_record().state == BootState::RolledBack),
                "lost the download record"
            );
            s.check_manifest(m, CLASS)?;
            s.begin(ID)?;
            out.restarts += 1;
            promise.durable = None;
            0
        }
    } as usize;
    while off < sc.new.len() {
        let n = (rng.range(1, sc.max_chunk) as usize).min(sc.new.len() - off);
        s.write(&sc.new[off..off + n])?;
        off += n;
        // Now and then the partial last word goes to flash too (padded; the next bytes
        // program it again), so the durable count is every byte received.
        if rng.next().is_multiple_of(4) {
            assert_eq!(s.flush()?, off as u32);
        }
        let durable = s.flushed_bytes();
        let d = s.sync(&checkpoint(durable))?;
        promise.durable = Some(d);
    }
    let d = s.finish()?;
    promise.durable = Some(d);
    if sc.unsigned {
        s.mark_pending_unsigned()?;
    } else {
        s.mark_pending(m)?;
    }
    Ok(Step::Reboot)
}

/// The checkpoint the test device records with `durable` bytes: derived from it, so a
/// mismatch shows a torn pair.
pub fn checkpoint(durable: u32) -> Vec<u8> {
    let b = durable.to_le_bytes();
    b.iter().chain(b.iter()).chain(b"cp").copied().collect()
}
