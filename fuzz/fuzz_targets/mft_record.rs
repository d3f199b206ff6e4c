//! The NTFS boot sector and one MFT record with every attribute accessor, the run
//! lists, attribute lists and change-journal records.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::internals::ntfs::record::{BootSector, parse_attribute_list, parse_record};
use netsession_scan::internals::ntfs::usn::parse_records;
use netsession_scan::internals::ntfs::volume::Extent;

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    if data.len() >= 512 {
        let _ = BootSector::parse(&data[..512]);
    }
    for size in [1024usize, 4096] {
        if data.len() >= size {
            let mut record = data[..size].to_vec();
            if let Ok((r, _)) = parse_record(&mut record, 7, 512) {
                let _ = r.file_names();
                let _ = r.best_file_name();
                for a in &r.attributes {
                    let _ = a.standard_information();
                    let _ = a.file_name();
                    let _ = a.attribute_list();
                    let _ = Extent::of(&a.body);
                    let _ = a.data_size();
                }
            }
        }
    }
    let _ = parse_attribute_list(data);
    let _ = parse_records(data, 0x1000);
});
