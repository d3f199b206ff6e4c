//! Scanning a writable tree leaves its access times alone (issue #16, item 5): folders
//! are listed and files read with O_NOATIME where the kernel allows it, and where it
//! does not, the access times the scan may change are left out of the rows. Either way
//! two scans in a row give the same bytes.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Every entry under `root` (the root too). Listing changes folder access times: list
/// before setting them.
fn entries(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        }
        out.push(path);
    }
    out
}

/// The access times of `entries`, by stat only (which changes none).
fn atimes(entries: &[PathBuf]) -> BTreeMap<PathBuf, SystemTime> {
    entries
        .iter()
        .map(|p| {
            (
                p.clone(),
                std::fs::symlink_metadata(p).unwrap().accessed().unwrap(),
            )
        })
        .collect()
}

/// Sets every entry's access time a day before its modification time: under `relatime`
/// (the usual mount option) the next listing or read would update it.
fn age_access_times(entries: &[PathBuf]) {
    for path in entries {
        let meta = std::fs::symlink_metadata(path).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        let old = meta.modified().unwrap() - Duration::from_secs(86_400);
        let file = if meta.is_dir() {
            std::fs::File::open(path)
        } else {
            std::fs::OpenOptions::new().write(true).open(path)
        }
        .unwrap();
        file.set_times(std::fs::FileTimes::new().set_accessed(old))
            .unwrap();
    }
}

/// The fixture, and its entries.
fn fixture_with_old_access_times(tmp: &Path) -> (PathBuf, Vec<PathBuf>) {
    let root = build_fixture(tmp);
    let all = entries(&root);
    age_access_times(&all);
    (root, all)
}

#[test]
fn two_scans_of_a_writable_tree_change_no_access_time_and_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, all) = fixture_with_old_access_times(tmp.path());
    let before = atimes(&all);
    let a = run_on(&root, &["-q"]);
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    let after = atimes(&all);
    let changed: Vec<&PathBuf> = before
        .iter()
        .filter(|(p, t)| after.get(*p) != Some(t))
        .map(|(p, _)| p)
        .collect();
    // The test owns every entry: on Linux O_NOATIME is always granted.
    if cfg!(target_os = "linux") {
        assert!(changed.is_empty(), "access times changed: {changed:?}");
    }
    let b = run_on(&root, &["-q"]);
    assert_eq!(b.status.code(), Some(0));
    let rows = parse_csv(&a.stdout);
    assert!(
        rows.iter()
            .any(|r| r["timestamp_desc"].contains("Accessed (filesystem)")
                || r["timestamp_desc"].contains("Accessed, ")),
        "access times are still reported where they are kept"
    );
    assert!(
        a.stdout == b.stdout,
        "second scan differs: {} rows then {}",
        rows.len(),
        parse_csv(&b.stdout).len()
    );
}

/// As another user than the owner (not root), O_NOATIME is refused: the listing may
/// change folder access times, so none of the access times of matched entries are
/// reported, a warning says so, and the two scans still agree. Runs only as root (it
/// drops to `nobody` with setpriv).
#[cfg(target_os = "linux")]
#[test]
fn as_another_user_access_times_the_scan_may_change_are_left_out() {
    use std::os::unix::fs::PermissionsExt;
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root || !setpriv.exists() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (root, _) = fixture_with_old_access_times(tmp.path());
    let as_nobody = || {
        std::process::Command::new(setpriv)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
            .arg(&root)
            .output()
            .unwrap()
    };
    let a = as_nobody();
    if a.status.code() != Some(0) {
        eprintln!("skipped: cannot run as nobody: {}", stderr(&a));
        return;
    }
    let b = as_nobody();
    assert_eq!(b.status.code(), Some(0));
    let rows = parse_csv(&a.stdout);
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| !(r["timestamp_desc"].contains("Accessed")
                && r["timestamp_desc"].ends_with("(filesystem)"))),
        "an access time the scan may have changed is reported"
    );
    assert!(
        stderr(&a).contains("access times of"),
        "no warning: {}",
        stderr(&a)
    );
    assert!(a.stdout == b.stdout, "second scan differs");
}
