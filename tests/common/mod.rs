//! Helpers for the end-to-end tests: build the fixture tree, run the binary, read its CSV.

#![allow(dead_code)] // each test file uses a different subset

#[path = "../../fixtures/mounted_tree.rs"]
pub mod mounted_tree;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use filetime::FileTime;

pub const BIN: &str = env!("CARGO_BIN_EXE_netsession-scan");

/// Build the mounted-image fixture under `dir/evidence`, with planted times: every file
/// gets its spec's modification and access time, and the Vista install folder was
/// "created" ten seconds before the install.
pub fn build_fixture(dir: &Path) -> PathBuf {
    let root = dir.join("evidence");
    let files = mounted_tree::build(&root).expect("build fixture");
    for f in &files {
        filetime::set_file_times(
            root.join(&f.path),
            FileTime::from_unix_time(f.atime, 0),
            FileTime::from_unix_time(f.mtime, 0),
        )
        .expect("plant times");
    }
    let install = root.join(format!(
        "C/Users/{}/AppData/Local/Akamai",
        mounted_tree::VISTA_USER
    ));
    let t = mounted_tree::T_INSTALL - 10;
    filetime::set_file_times(
        &install,
        FileTime::from_unix_time(t, 0),
        FileTime::from_unix_time(t, 0),
    )
    .expect("plant folder times");
    root
}

pub fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run netsession-scan")
}

pub fn run_on(root: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(|s| s.as_ref()).collect();
    args.push(root.as_os_str());
    run(&args)
}

pub type Row = HashMap<String, String>;

/// Parse the evidence CSV into rows keyed by column name; checks the header.
pub fn parse_csv(bytes: &[u8]) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(
        header,
        [
            "datetime",
            "timestamp_desc",
            "message",
            "artifact",
            "user",
            "path",
            "value",
            "size",
            "sha256",
            "state",
            "source",
            "locator"
        ]
    );
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Rows whose path ends with `suffix` (backslash separated).
pub fn rows_for<'a>(rows: &'a [Row], suffix: &str) -> Vec<&'a Row> {
    rows.iter()
        .filter(|r| r["path"].ends_with(suffix))
        .collect()
}
