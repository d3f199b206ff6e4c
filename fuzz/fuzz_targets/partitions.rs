//! MBR (with extended chains) and GPT partition tables, and the file-system probe.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::partitions::read_partitions;

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    // The disk claims to be larger than the bytes given: reads past them fail, as a
    // truncated image's do.
    let read = |offset: u64, buf: &mut [u8]| -> Result<usize, String> {
        let start = usize::try_from(offset).map_err(|e| e.to_string())?;
        let Some(have) = data.get(start..) else {
            return Err("past the end".into());
        };
        let n = have.len().min(buf.len());
        buf[..n].copy_from_slice(&have[..n]);
        Ok(n)
    };
    let _ = read_partitions(&read, data.len() as u64 * 4);
});
