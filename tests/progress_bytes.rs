//! Progress while reading what matched is counted in bytes (issue #16, item 8): a big
//! file moves the display during its read, rather than holding it at "22/23 files".

use std::sync::Mutex;

use netsession_scan::progress::Progress;
use netsession_scan::{AnalysisOptions, Catalog, StoreOptions, Warnings};

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Stage { what: String, total: Option<u64> },
    Advance(u64),
}

/// Records what the scan tells (`stage_bytes` is left to its default, `stage`).
#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl Recorder {
    fn push(&self, event: Event) {
        self.0.lock().unwrap().push(event);
    }
}

impl Progress for Recorder {
    fn stage(&self, what: &str, total: Option<u64>) {
        self.push(Event::Stage {
            what: what.into(),
            total,
        });
    }
    fn advance(&self, units: u64) {
        self.push(Event::Advance(units));
    }
}

#[test]
fn a_big_file_is_counted_in_bytes_while_it_is_read() {
    const BIG: u64 = 40 * 1024 * 1024;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("C");
    let akamai = root.join("Users/zoe/AppData/Local/Akamai");
    std::fs::create_dir_all(&akamai).unwrap();
    std::fs::create_dir_all(root.join("Windows")).unwrap();
    // Sparse: 40 MB to read, nothing on disk.
    std::fs::File::create(akamai.join("netsession_win.exe"))
        .unwrap()
        .set_len(BIG)
        .unwrap();
    std::fs::write(akamai.join("connection.dat"), b"small").unwrap();

    let inputs = netsession_scan::detect_inputs(&[root]).unwrap();
    let catalog = Catalog::embedded().unwrap();
    let recorder = Recorder::default();
    let report = netsession_scan::scan_with_progress(
        &inputs,
        &catalog,
        &AnalysisOptions::default(),
        &StoreOptions::default(),
        &Warnings::new(),
        &recorder,
    );
    assert!(!report.rows.is_empty());

    let events = recorder.0.into_inner().unwrap();
    let start = events
        .iter()
        .position(
            |e| matches!(e, Event::Stage { what, .. } if what.starts_with("reading what matched")),
        )
        .expect("a reading stage");
    let Event::Stage { total, .. } = &events[start] else {
        unreachable!()
    };
    let total = total.expect("a known total");
    assert_eq!(total, BIG + 5, "the sizes of the files matched");
    let steps: Vec<u64> = events[start + 1..]
        .iter()
        .map_while(|e| match e {
            Event::Advance(n) => Some(*n),
            Event::Stage { .. } => None,
        })
        .collect();
    assert_eq!(steps.iter().sum::<u64>(), total, "{steps:?}");
    // The big file is told in many steps as it is read, not once when it is done.
    assert!(
        steps.len() >= 10 && steps.iter().all(|&n| n < BIG / 2),
        "{} steps: {steps:?}",
        steps.len()
    );
}
