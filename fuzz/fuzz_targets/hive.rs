//! A hive and (optionally) one transaction log, opened, replayed and analysed.
//! Input: 4-byte little-endian length of the hive part, the hive, then the log.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::registry::hive::HiveInput;
use netsession_scan::{Catalog, Warnings};

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    let Some((len, rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let split = (u32::from_le_bytes(*len) as usize).min(rest.len());
    let (hive, log) = rest.split_at(split);
    let logs = if log.is_empty() {
        Vec::new()
    } else {
        vec![("NTUSER.DAT.LOG1".to_string(), log.to_vec())]
    };
    let input = HiveInput {
        bytes: hive.to_vec(),
        logs,
        evidence_path: "NTUSER.DAT".into(),
        source: "fuzz".into(),
        user_hint: Some("fuzz".into()),
        sha256: String::new(),
    };
    let catalog = Catalog::embedded().expect("embedded catalog");
    let _ = netsession_scan::internals::registry::analyze_hives(&[input], &catalog, &Warnings::new());
});
