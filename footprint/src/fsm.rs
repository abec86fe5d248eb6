//! Probe for the `fsm` component: a full push → update cycle of the Firmware Update machine
//! (record restored from two slots at boot, boot reconciled, push started, chunks stored,
//! download finished, verified, Execute Update, record saved for the reboot).
//!
//! A device keeps the machine between events (and across reboots in its record), so the
//! machine is opaque to the optimiser and every event's arguments come from opaque input: no
//! transition is evaluated at compile time.

use fota_fsm::{Config, FirmwareUpdate, ObjectVersion, RECORD_LEN};

/// The little-endian word at `at` of the opaque input.
fn word(data: &[u8], at: usize) -> u32 {
    match data.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Drives the cycle through the per-event methods, as a push-only device does.
pub fn probe() {
    let data = crate::input(20);
    let now = word(data, 0);
    let identity = word(data, 4);
    let len = word(data, 8);
    let chunks = word(data, 12);
    let new_image_running = data.get(16).is_some_and(|b| b & 1 != 0);
    let mut fw = FirmwareUpdate::new(Config::new(ObjectVersion::V1_1));
    // The machine as a device keeps it: opaque, so no path is folded away.
    let fw = core::hint::black_box(&mut fw);
    // Boot: the two record slots as read back from flash, then reconciliation.
    let a = crate::input(RECORD_LEN);
    let b = crate::input(RECORD_LEN);
    crate::keep(fw.restore_into(a, b).is_ok());
    crate::keep(fw.booted(new_image_running, now));
    // A push: Block1 writes of /5/0/0.
    crate::keep(fw.push_started(identity, now));
    let mut offset: u32 = 0;
    for _ in 0..chunks {
        crate::keep(fw.chunk_stored(offset, len));
        offset = offset.wrapping_add(len);
    }
    crate::keep(fw.download_finished());
    crate::keep(fw.integrity_verified(now));
    crate::keep(fw.execute_update(now));
    // The record and the slot to write it to, then reboot.
    let (slot, record) = fw.save();
    crate::keep(slot);
    crate::keep(&record);
    crate::keep(fw.state());
    crate::keep(fw.update_result());
}
