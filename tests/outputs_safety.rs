//! Outputs are complete or absent: an interrupted scan (SIGINT, SIGTERM) removes its
//! partial outputs and its temporary rows of evidence and exits 130; a failing later
//! output leaves no earlier one behind; an existing file is replaced only with --force.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{run, stderr};

/// A NetSession install whose log has `lines` timestamped lines: as many rows.
fn big_install(root: &Path, lines: usize) -> PathBuf {
    let logs = root.join("C/Users/zoe/AppData/Local/Akamai/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut text = String::with_capacity(lines * 110);
    for i in 0..lines {
        let (m, s) = ((i / 60) % 60, i % 60);
        text.push_str(&format!(
            "Vwin_83a441e_1.9.5.5:171012_23{m:02}{s:02}: [info] Peer.cpp:Peer::serve({i}): served piece {i} to a peer\n"
        ));
    }
    std::fs::write(logs.join("netsession.log"), text).unwrap();
    root.join("C")
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn interrupted_scan_leaves_nothing(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let evidence = big_install(&dir.path().join("evidence"), 400_000);
    let temp = dir.path().join("temp");
    let out_dir = dir.path().join("out");
    std::fs::create_dir_all(&temp).unwrap();
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut child = Command::new(common::BIN)
        .args(["-q", "--sort-memory", "1", "--temp-dir"])
        .arg(&temp)
        .arg("-o")
        .arg(out_dir.join("rows.csv"))
        .arg("--report")
        .arg(out_dir.join("report.md"))
        .arg(&evidence)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until rows are on disk (the scan is under way), then interrupt it.
    let start = Instant::now();
    while entries(&temp).is_empty() {
        if start.elapsed() > Duration::from_secs(60) || child.try_wait().unwrap().is_some() {
            panic!("the scan wrote no temporary rows (or ended) before it could be interrupted");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        entries(&temp).is_empty(),
        "temporary rows left: {:?}",
        entries(&temp)
    );
    assert!(
        entries(&out_dir).is_empty(),
        "outputs left: {:?}",
        entries(&out_dir)
    );
}

#[test]
fn sigint_removes_partial_outputs_and_temporary_rows() {
    interrupted_scan_leaves_nothing("INT");
}

#[test]
fn sigterm_removes_partial_outputs_and_temporary_rows() {
    interrupted_scan_leaves_nothing("TERM");
}

#[test]
fn a_failing_report_path_leaves_no_evidence_file() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = big_install(&dir.path().join("evidence"), 10);
    let out = dir.path().join("rows.csv");
    let result = run(&[
        "-o".as_ref(),
        out.as_os_str(),
        "--report".as_ref(),
        dir.path().join("missing/report.md").as_os_str(),
        evidence.as_os_str(),
    ]);
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(!out.exists());
    assert_eq!(entries(dir.path()), ["evidence"]);
}

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = big_install(&dir.path().join("evidence"), 10);
    let out = dir.path().join("rows.csv");
    std::fs::write(&out, "earlier results\n").unwrap();
    let args = |force: bool| {
        let mut a: Vec<&std::ffi::OsStr> = vec!["-q".as_ref(), "-o".as_ref(), out.as_os_str()];
        if force {
            a.push("--force".as_ref());
        }
        a.push(evidence.as_os_str());
        a
    };
    let refused = run(&args(false));
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("exists; not overwritten (give --force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "earlier results\n");
    let replaced = run(&args(true));
    assert_eq!(replaced.status.code(), Some(0), "{}", stderr(&replaced));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("datetime,"), "{text}");
    // The header and at least a row per log line.
    assert!(text.lines().count() > 10, "{text}");
    let mut names = entries(dir.path());
    names.sort();
    assert_eq!(names, ["evidence", "rows.csv"]);
}
