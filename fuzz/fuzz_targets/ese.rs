//! An ESE database from arbitrary bytes: opened, and every row of every table read.
//! The reader must never panic (it has no guard): every problem is an `Err` item.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsession_scan::internals::ese::EseDatabase;

fuzz_target!(|data: &[u8]| {
    let Ok(db) = EseDatabase::open(data) else {
        return;
    };
    for table in db.tables() {
        for row in db.rows(table).take(100_000) {
            let _ = row;
        }
    }
});
