#![no_main]
//! The device client core fed arbitrary datagrams from the server and the package host, with
//! time moving forward: it never panics, answers within the caller's buffer, and stores package
//! bytes strictly in order, never twice and never past the staging capacity.

use libfuzzer_sys::fuzz_target;
use lwm2m_fota::UpdateResult;
use lwm2m_fota::client::{Client, Config, DeviceInfo, Peer, Platform};
use lwm2m_fota::record::Record;

const CAPACITY: u32 = 2048;

struct Ram {
    record: Option<Record>,
    stored: u32,
}

impl Platform for Ram {
    fn load_record(&mut self) -> Option<Record> {
        self.record.clone()
    }
    fn store_record(&mut self, record: &Record) -> bool {
        self.record = Some(record.clone());
        true
    }
    fn begin_package(&mut self, _size: Option<u32>) -> Result<(), UpdateResult> {
        self.stored = 0;
        Ok(())
    }
    fn write_package(&mut self, offset: u32, data: &[u8]) -> Result<(), UpdateResult> {
        assert_eq!(offset, self.stored, "package bytes in order, never twice");
        let end = offset as u64 + data.len() as u64;
        if end > u64::from(CAPACITY) {
            return Err(UpdateResult::NotEnoughFlash);
        }
        self.stored = end as u32;
        Ok(())
    }
    fn finish_package(&mut self, len: u32) -> Result<(), UpdateResult> {
        assert!(len <= CAPACITY);
        Ok(())
    }
    fn verify(&mut self) -> Result<(), UpdateResult> {
        Ok(())
    }
    fn install(&mut self) -> Result<(), UpdateResult> {
        Ok(())
    }
    fn firmware_version(&mut self, out: &mut [u8]) -> usize {
        let v = b"1.0";
        let n = v.len().min(out.len());
        out[..n].copy_from_slice(&v[..n]);
        n
    }
    fn device_info(&mut self) -> DeviceInfo {
        DeviceInfo {
            battery: 80,
            free_memory_kib: 64,
            signal_dbm: -70,
        }
    }
    fn capacity(&self) -> u32 {
        CAPACITY
    }
    fn random(&mut self) -> u32 {
        0x1234_5678
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(cfg) = Config::new("fuzz") else {
        return;
    };
    let ram = Ram {
        record: None,
        stored: 0,
    };
    let mut client = Client::new(ram, cfg, 0);
    let mut now = 0u64;
    let mut out = [0u8; 1152];
    // Input: records of [control, len, len bytes]. Control bit 0 picks the peer, the rest moves
    // time forward in 64 ms steps.
    let mut rest = data;
    while let [control, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (datagram, next) = tail.split_at(n);
        rest = next;
        now += u64::from(control >> 1) * 64;
        let peer = if control & 1 == 0 {
            Peer::Server
        } else {
            Peer::PackageHost
        };
        if let Some(tx) = client.handle(now, peer, datagram, &mut out) {
            assert!(tx.len <= out.len());
        }
        while let Some(tx) = client.poll_transmit(now, &mut out) {
            assert!(tx.len <= out.len());
        }
        while client.poll_event().is_some() {}
        let _ = client.poll_timeout();
    }
});
