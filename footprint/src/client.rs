//! Probe for the `client` component: the whole sans-IO device client core of `lwm2m-fota`
//! (CoAP codec, registration, objects 0/1/3/4/5 with Read/Write/Execute/Discover/Observe, Block1
//! push reception, Block2 pull, record persistence, boot reconciliation) over a platform whose
//! flash and verification are stubs: crypto and the flash driver are measured as their own
//! components.

use lwm2m_fota::UpdateResult;
use lwm2m_fota::client::{Client, Config, DeviceInfo, Platform};
use lwm2m_fota::record::Record;

/// A device with no real flash: it only counts what it is asked to store.
struct StubPlatform {
    record: Option<Record>,
    stored: u32,
}

impl Platform for StubPlatform {
    fn load_record(&mut self) -> Option<Record> {
        self.record.clone()
    }
    fn store_record(&mut self, record: &Record) -> bool {
        crate::keep(record.encode());
        true
    }
    fn begin_package(&mut self, size: Option<u32>) -> Result<(), UpdateResult> {
        self.stored = 0;
        if size.unwrap_or(0) > 1 << 20 {
            Err(UpdateResult::NotEnoughFlash)
        } else {
            Ok(())
        }
    }
    fn write_package(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        crate::keep(data);
        self.stored = offset.wrapping_add(data.len() as u32);
        Ok(())
    }
    fn finish_package(&mut self, len: u32) -> Result<(), UpdateResult> {
        if len == self.stored {
            Ok(())
        } else {
            Err(UpdateResult::IntegrityFailure)
        }
    }
    fn verify(&mut self) -> Result<(), UpdateResult> {
        if self.stored > 0 {
            Ok(())
        } else {
            Err(UpdateResult::IntegrityFailure)
        }
    }
    fn install(&mut self) -> Result<(), UpdateResult> {
        Ok(())
    }
    fn firmware_version(&mut self, out: &mut [u8]) -> usize {
        let v = crate::input(5);
        let n = v.len().min(out.len());
        out[..n].copy_from_slice(&v[..n]);
        n
    }
    fn device_info(&mut self) -> DeviceInfo {
        DeviceInfo {
            battery: 80,
            free_memory_kib: 16,
            signal_dbm: -90,
        }
    }
    fn capacity(&self) -> u32 {
        256 * 1024
    }
    // A hardware random number: opaque (a constant would fold the client's seeds away).
    fn random(&mut self) -> u32 {
        core::hint::black_box(self.stored.wrapping_mul(2_654_435_761))
    }
}

/// Boots the client, registers, and feeds it opaque datagrams from server and package host.
pub fn probe() {
    let data = crate::input(256);
    let record = Record::decode(
        crate::input(lwm2m_fota::record::RECORD_LEN)
            .try_into()
            .unwrap_or(&[0; lwm2m_fota::record::RECORD_LEN]),
    );
    let platform = StubPlatform { record, stored: 0 };
    let Some(cfg) = Config::new("probe") else {
        return;
    };
    let mut client = Client::new(platform, cfg, 0);
    let mut buf = [0u8; 1152];
    let now = u64::from(data.first().copied().unwrap_or(0));
    crate::keep(client.poll_transmit(now, &mut buf));
    let (a, b) = data.split_at(128);
    crate::keep(client.handle(now, lwm2m_fota::client::Peer::Server, a, &mut buf));
    crate::keep(client.handle(now, lwm2m_fota::client::Peer::PackageHost, b, &mut buf));
    crate::keep(client.poll_transmit(now + 1, &mut buf));
    crate::keep(client.poll_event());
    crate::keep(client.poll_timeout());
}
