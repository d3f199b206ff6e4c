//! Deleted keys and values recovered from hives' free cells (#17 item 3).

use netsession_scan::internals::registry::base_block::BaseBlock;
use netsession_scan::internals::registry::deleted::{self, Recovered, value::Data};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/registry/deleted/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn recover(name: &str) -> Recovered {
    let bytes = fixture(name);
    let base = BaseBlock::parse_header(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    deleted::recover(&bytes, base.root_cell_offset, base.hive_bins_data_size)
}

fn dump(r: &Recovered) -> String {
    let mut out = String::new();
    for k in &r.keys {
        out.push_str(&format!("key {:#x} {:?} complete={} values={:?} lost={:?} {:?}\n", k.cell, k.path, k.complete, k.values, k.lost, k.last_written.map(|t| t.to_iso8601())));
    }
    for (i, v) in r.values.iter().enumerate() {
        out.push_str(&format!("value {i} {:#x} {:?} type={} size={} {:?}\n", v.cell, v.name, v.data_type, v.size, v.data));
    }
    out.push_str(&format!("orphans {:?} errors {:?}\n", r.orphans, r.errors));
    out
}

#[test]
fn dump_all() {
    for h in ["DeletedDataHive", "DeletedDataHiveTruncated", "DeletedTreeHive", "DeletedTreeNoRootFlagHive", "DeletedTreePartialPathHive", "RemnantsHive"] {
        eprintln!("== {h}\n{}", dump(&recover(h)));
    }
    let _ = Data::Read(Vec::new());
}
