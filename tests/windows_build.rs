//! The Windows build (#19 item 1), run under Wine by `scripts/windows_e2e.sh`, which sets
//! `NETSESSION_WINDOWS_EXE` (the cross-built `.exe`), `NETSESSION_WINE` (Wine's loader)
//! and `WINEPREFIX` (a temporary prefix holding the `ProcessPrng` shim). Without them
//! each test says it skipped.
//!
//! What must hold: on images, archives and files given alone the Windows build writes the
//! same bytes as the Linux build; on a directory the rows differ only where the host's
//! file times do (documented in README, "Windows"): Windows has a real creation time and
//! no inode change time, gives no inode number for the locator, and leaves access times
//! out (it cannot read a file without perhaps changing its access time).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, Row, parse_csv, stderr};

struct Windows {
    exe: PathBuf,
    wine: PathBuf,
}

fn windows() -> Option<Windows> {
    match (
        std::env::var_os("NETSESSION_WINDOWS_EXE"),
        std::env::var_os("NETSESSION_WINE"),
    ) {
        (Some(exe), Some(wine)) => Some(Windows {
            exe: exe.into(),
            wine: wine.into(),
        }),
        _ => {
            eprintln!(
                "skipped: the Windows build is tested by scripts/windows_e2e.sh (needs the \
                 x86_64-pc-windows-gnu target, mingw-w64 and wine64)"
            );
            None
        }
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

impl Windows {
    fn run(&self, cwd: &Path, args: &[&str]) -> Output {
        Command::new(&self.wine)
            .arg(&self.exe)
            .args(args)
            .current_dir(cwd)
            .env("WINEDEBUG", "-all")
            .output()
            .expect("wine runs")
    }
}

fn linux(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// Both builds on `input` (relative to `cwd`, so that `source` reads the same), each
/// format: the same bytes, and a scan that found something.
fn same_output(w: &Windows, cwd: &Path, input: &str) {
    for format in ["csv", "jsonl", "bodyfile"] {
        let args = ["-q", "--format", format, input];
        let (lin, win) = (linux(cwd, &args), w.run(cwd, &args));
        assert!(lin.status.success(), "linux {input}: {}", stderr(&lin));
        assert_eq!(
            win.status.code(),
            Some(0),
            "windows {input}: {}",
            stderr(&win)
        );
        assert!(!lin.stdout.is_empty(), "{input}: no rows");
        if lin.stdout != win.stdout {
            let (l, w) = (
                String::from_utf8_lossy(&lin.stdout),
                String::from_utf8_lossy(&win.stdout),
            );
            let first = l.lines().zip(w.lines()).find(|(a, b)| a != b);
            panic!(
                "{input} ({format}): the Windows build differs ({} vs {} lines); first: {first:#?}",
                l.lines().count(),
                w.lines().count()
            );
        }
    }
}

fn gunzipped(name: &str, dir: &Path) -> Option<String> {
    let path = common::gunzip(name, dir)?;
    Some(path.file_name()?.to_string_lossy().into_owned())
}

#[test]
fn images_give_the_same_bytes() {
    let Some(w) = windows() else { return };
    let images = fixtures().join("images");
    same_output(&w, &images, "gpt.E01");
    same_output(&w, &images.join("case"), "case.E01");
    let tmp = tempfile::tempdir().unwrap();
    if let Some(volume) = gunzipped("uninstalled/uninstalled.ntfs.gz", tmp.path()) {
        same_output(&w, tmp.path(), &volume);
    }
}

#[test]
fn virtual_disks_give_the_same_bytes() {
    let Some(w) = windows() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for name in ["case.vhdx.gz", "case-stream.vmdk.gz"] {
        let from = fixtures().join("vdisks").join(name);
        let to = tmp.path().join(name.trim_end_matches(".gz"));
        let out = Command::new("gzip")
            .arg("-dc")
            .arg(&from)
            .output()
            .expect("gzip");
        std::fs::write(&to, out.stdout).unwrap();
        same_output(&w, tmp.path(), to.file_name().unwrap().to_str().unwrap());
    }
}

#[test]
fn archives_give_the_same_bytes() {
    let Some(w) = windows() else { return };
    let collections = fixtures().join("collections");
    for name in ["kape-zip64.zip", "kape.tar.gz"] {
        same_output(&w, &collections, name);
    }
}

#[test]
fn files_given_alone_give_the_same_bytes() {
    let Some(w) = windows() else { return };
    same_output(&w, &fixtures().join("registry"), "SYSTEM");
    same_output(&w, &fixtures().join("registry"), "NTUSER.DAT");
    same_output(
        &w,
        &fixtures().join("prefetch/netsession/tree"),
        "NETSESSION_WIN.EXE-1A2B3C4D.pf",
    );
}

/// A row without its file-system times: what both builds must agree on.
fn fact(r: &Row) -> Vec<String> {
    [
        "artifact", "user", "path", "size", "sha256", "state", "source",
    ]
    .iter()
    .map(|k| r[*k].clone())
    .collect()
}

fn is_host_time(r: &Row) -> bool {
    r["timestamp_desc"].ends_with("(filesystem)")
}

#[test]
fn a_directory_differs_only_in_the_hosts_file_times() {
    let Some(w) = windows() else { return };
    let cwd = fixtures();
    let args = ["-q", "demo-mounted"];
    let (lin, win) = (linux(&cwd, &args), w.run(&cwd, &args));
    assert_eq!(win.status.code(), Some(0), "{}", stderr(&win));
    let (lin, win_rows) = (parse_csv(&lin.stdout), parse_csv(&win.stdout));
    // Rows from the content (hives, logs, Prefetch): the same, field by field.
    let content =
        |rows: &[Row]| -> Vec<Row> { rows.iter().filter(|r| !is_host_time(r)).cloned().collect() };
    assert_eq!(content(&win_rows), content(&lin));
    // File rows: the same files with the same sizes and hashes...
    let files = |rows: &[Row]| -> BTreeSet<Vec<String>> {
        rows.iter().filter(|r| is_host_time(r)).map(fact).collect()
    };
    assert_eq!(files(&win_rows), files(&lin));
    // ...with Windows' times: a creation time, no inode change time, no access time left
    // in (said in a warning), and no inode number.
    for r in win_rows.iter().filter(|r| is_host_time(r)) {
        let desc = &r["timestamp_desc"];
        assert!(desc.contains("Created"), "{desc}");
        assert!(
            !desc.contains("Metadata Changed") && !desc.contains("Accessed"),
            "{desc}"
        );
        assert_eq!(r["locator"], "", "{r:?}");
    }
    let err = stderr(&win);
    assert!(
        err.contains("access times of") && err.contains("Windows may update"),
        "{err}"
    );
}

#[test]
fn drive_letters_and_long_paths_name_the_input_as_given() {
    let Some(w) = windows() else { return };
    // Wine maps the host's / to Z:.
    let users = fixtures().join("demo-mounted/C/Users");
    let drive = format!("Z:{}", users.display()).replace('/', "\\");
    let long = format!("\\\\?\\{drive}");
    let mut sources = Vec::new();
    for input in [&drive, &long] {
        let out = w.run(&fixtures(), &["-q", input]);
        assert_eq!(out.status.code(), Some(0), "{input}: {}", stderr(&out));
        let rows = parse_csv(&out.stdout);
        assert!(!rows.is_empty(), "{input}");
        let volume_root = format!(
            "{input} root=Z:{}",
            fixtures().join("demo-mounted/C").display()
        );
        for r in &rows {
            assert_eq!(r["source"], volume_root, "{r:?}");
        }
        sources.push(rows.iter().map(fact).collect::<BTreeSet<_>>().len());
    }
    assert_eq!(sources[0], sources[1]);
}

#[test]
fn the_manifest_names_windows_paths_and_hashes_the_outputs() {
    let Some(w) = windows() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let win_tmp = format!("Z:{}", tmp.path().display()).replace('/', "\\");
    let csv = format!("{win_tmp}\\rows.csv");
    let manifest = format!("{win_tmp}\\m.json");
    let out = w.run(
        &fixtures().join("images"),
        &[
            "-q",
            "gpt.E01",
            "-o",
            &csv,
            "--manifest",
            &manifest,
            "--hash-inputs",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("m.json")).unwrap()).unwrap();
    let input = &m["inputs"][0];
    assert_eq!(input["path"], "gpt.E01");
    assert!(
        input["absolute_path"].as_str().unwrap().starts_with("Z:\\"),
        "{input}"
    );
    assert_eq!(input["media_hashes"]["md5"], "agree");
    let output = &m["outputs"][0];
    assert_eq!(
        output["sha256"],
        common::sha256_file(&tmp.path().join("rows.csv"))
    );
}
