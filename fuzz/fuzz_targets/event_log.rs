//! A Windows event log: the file header, chunks (checksums, signatures), records parsed
//! by the evtx crate and read back from their XML, matched by a catalog whose rules keep
//! every event of the common providers (so every chunk that names one is parsed).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "quiet_caught_panics.rs"]
mod quiet_caught_panics;
use netsession_scan::Catalog;
use netsession_scan::internals::catalog::EMBEDDED_CATALOG;
use netsession_scan::internals::content::evtx::matcher::EventMatcher;
use netsession_scan::internals::content::evtx::read_log;

const EVERY: &str = r#"
[[event]]
id = "fuzz.every"
event = "Any"
providers = ["Service Control Manager", "Microsoft-Windows-Security-Auditing",
  "Microsoft-Windows-Windows Firewall With Advanced Security", "MsiInstaller",
  "Microsoft-Windows-Sysmon", "Microsoft-Windows-Eventlog"]
channels = ["System", "Security", "Application", "Microsoft-Windows-Sysmon/Operational",
  "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"]
ids = [1, 3, 104, 1033, 1102, 2004, 2006, 4624, 4688, 5156, 7036, 7045]
every = true
what = "any event"
proves = "nothing"
confidence = "G"
source = "fuzzing"
"#;

static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics::install();
    let catalog = CATALOG.get_or_init(|| {
        Catalog::build(&[
            ("embedded".into(), EMBEDDED_CATALOG.into()),
            ("fuzz".into(), EVERY.into()),
        ])
        .expect("fuzz catalog")
    });
    let matcher = EventMatcher::new(&catalog.events);
    let mut problems = 0usize;
    let mut hits = 0usize;
    let _ = read_log(
        data,
        &matcher,
        true,
        &mut |_, _| problems += 1,
        &mut |_| hits += 1,
    );
});
