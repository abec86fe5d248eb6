//! Probe for the `fsm` component: a full push → update cycle of the Firmware Update machine
//! (push started, chunks stored, download finished, verified, Execute Update, record saved,
//! reboot, record restored from two slots, boot reconciled), on opaque input.

use fota_fsm::{Config, FirmwareUpdate, ObjectVersion};

/// Drives the cycle through the per-event methods, as a push-only device does.
pub fn probe() {
    let data = crate::input(16);
    let now = u32::from(data.first().copied().unwrap_or(0));
    let len = data.len() as u32;
    let config = Config::new(ObjectVersion::V1_1);
    let mut fw = FirmwareUpdate::new(config);
    crate::keep(fw.push_started(now, now));
    let mut offset = 0;
    while offset < 4 * len {
        crate::keep(fw.chunk_stored(offset, len));
        offset += len;
    }
    crate::keep(fw.download_finished());
    crate::keep(fw.integrity_verified(now));
    crate::keep(fw.execute_update(now));
    // Straight into the flash write buffer.
    crate::keep(fw.save_with(|b| crate::keep(b)));
    // Reboot: the two slots as read back from flash.
    let a = crate::input(fota_fsm::RECORD_LEN);
    let b = crate::input(fota_fsm::RECORD_LEN);
    crate::keep(fw.restore_into(a, b).is_ok());
    crate::keep(fw.booted(data.len() > 1, now));
    crate::keep(fw.update_result());
}
