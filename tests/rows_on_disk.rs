//! Rows sorted on disk: a scan whose rows pass `--sort-memory` writes sorted runs to the
//! temporary folder and merges them back, and every output is byte for byte what an
//! in-memory scan writes.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{run, stderr};

/// A log whose lines are out of time order (as rotated and appended logs are), with
/// upload lines among them, for two users.
fn build_logs(root: &Path, lines: usize) {
    for (user, seed) in [("Ann", 7u64), ("Bo Ek", 13)] {
        let dir = root.join(format!("C/Users/{user}/AppData/Local/Akamai/logs"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::new();
        for i in 0..lines as u64 {
            // A permutation of the seconds of a day, repeated: ties and disorder.
            let second = (i * seed * 7919) % 86_400;
            let what = if i % 9 == 0 {
                "upload to peer 198.51.100.23 finished"
            } else {
                "control channel heartbeat"
            };
            let _ = writeln!(
                text,
                "2013-03-{:02} {:02}:{:02}:{:02}.{:03} [INFO] {what} #{i}",
                1 + i % 28,
                second / 3600,
                second / 60 % 60,
                second % 60,
                i % 1000
            );
        }
        std::fs::write(dir.join("netsession.log"), text).unwrap();
        std::fs::write(dir.join("../netsession_win.exe"), b"MZ not really").unwrap();
    }
}

struct Outputs {
    files: Vec<(String, Vec<u8>)>,
    manifest: serde_json::Value,
}

fn scan_into(evidence: &Path, out: &Path, extra: &[&str]) -> Outputs {
    std::fs::create_dir_all(out).unwrap();
    let names = ["e.csv", "e.jsonl", "e.body", "report.md"];
    let mut args: Vec<std::ffi::OsString> = vec!["-q".into()];
    for (flag, name) in ["--csv", "--jsonl", "--bodyfile", "--report"]
        .iter()
        .zip(names)
    {
        args.push(flag.into());
        args.push(out.join(name).into());
    }
    args.push("--manifest".into());
    args.push(out.join("manifest.json").into());
    args.extend(extra.iter().map(Into::into));
    args.push(evidence.into());
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let result = run(&refs);
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    let files = names
        .iter()
        .map(|n| (n.to_string(), std::fs::read(out.join(n)).unwrap()))
        .collect();
    let manifest = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap())
        .expect("manifest is JSON");
    Outputs { files, manifest }
}

#[test]
fn rows_sorted_on_disk_give_the_same_outputs_and_leave_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let evidence = tmp.path().join("evidence");
    build_logs(&evidence, 12_000);
    let spill = tmp.path().join("spill");
    std::fs::create_dir(&spill).unwrap();

    // The first listing of a folder may move its access time (relatime): settle it, as
    // the determinism test of the directory scan does.
    scan_into(&evidence, &tmp.path().join("settle"), &[]);
    let in_memory = scan_into(&evidence, &tmp.path().join("a"), &[]);
    let spill_arg = spill.to_str().unwrap();
    let on_disk = scan_into(
        &evidence,
        &tmp.path().join("b"),
        &["--sort-memory", "1", "--temp-dir", spill_arg],
    );

    assert_eq!(in_memory.manifest["stats"]["row_runs_on_disk"], 0);
    let runs = on_disk.manifest["stats"]["row_runs_on_disk"]
        .as_u64()
        .unwrap();
    assert!(runs >= 2, "the rows did not go to disk: {runs} run(s)");
    let rows = in_memory.manifest["rows"].as_u64().unwrap();
    assert!(rows > 24_000, "{rows} rows");
    assert_eq!(on_disk.manifest["rows"], in_memory.manifest["rows"]);
    assert_eq!(
        on_disk.manifest["artifacts"],
        in_memory.manifest["artifacts"]
    );
    for ((name, a), (_, b)) in in_memory.files.iter().zip(&on_disk.files) {
        // the report's header names each run's own command line and times
        let from_inputs = |bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes).into_owned();
            match text.find("\n## Inputs") {
                Some(at) => text[at..].to_string(),
                None => text,
            }
        };
        let (a, b) = (from_inputs(a), from_inputs(b));
        assert!(
            a == b,
            "{name} differs between in-memory and on-disk sorting"
        );
    }
    // The CSV really is in timeline order (the merge, not the writer, ordered it).
    let csv = String::from_utf8(on_disk.files[0].1.clone()).unwrap();
    let times: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .filter(|t| !t.is_empty())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "not sorted");
    let report = String::from_utf8(on_disk.files[3].1.clone()).unwrap();
    assert!(
        report.contains("log lines about uploads or peers"),
        "{report}"
    );
    assert_eq!(
        std::fs::read_dir(&spill).unwrap().count(),
        0,
        "temporary runs left behind"
    );
}

#[test]
fn temporary_files_never_go_inside_the_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let evidence = tmp.path().join("evidence");
    build_logs(&evidence, 10);
    let inside = evidence.join("C/Users");
    let result = run(&[
        "-q".as_ref(),
        "--temp-dir".as_ref(),
        inside.as_os_str(),
        evidence.as_os_str(),
    ]);
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(stderr(&result).contains("refusing temporary files inside the input"));
    let missing = tmp.path().join("nowhere");
    let result = run(&[
        "-q".as_ref(),
        "--temp-dir".as_ref(),
        missing.as_os_str(),
        evidence.as_os_str(),
    ]);
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    // Nor does the system's temporary folder when it lies inside the input.
    let result = std::process::Command::new(common::BIN)
        .env("TMPDIR", &inside)
        .arg("-q")
        .arg(&evidence)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(stderr(&result).contains("name another with --temp-dir"));
    // An explicit --temp-dir outside it is the way out.
    let outside = tmp.path().join("spill");
    std::fs::create_dir(&outside).unwrap();
    let result = std::process::Command::new(common::BIN)
        .env("TMPDIR", &inside)
        .args(["-q", "--temp-dir"])
        .arg(&outside)
        .arg(&evidence)
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
}
