//! Nothing silently empty, nothing twice: an input in which nothing could be scanned is a
//! warning (and the summary says so), and the same input given twice, or a folder (or a
//! hive) inside a folder also given, is scanned once with a warning naming both.

mod common;

use common::*;

#[test]
fn an_empty_folder_is_said_to_be_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("mnt");
    std::fs::create_dir(&empty).unwrap();
    let (rows, err) = scan_inputs(&[&empty]);
    assert!(rows.is_empty());
    assert!(
        err.contains("an empty folder (0 entries): nothing was scanned"),
        "{err}"
    );
    assert!(
        err.contains("nothing could be scanned in 1 input(s)"),
        "{err}"
    );
    assert!(
        err.contains("nothing was scanned: this is no finding"),
        "{err}"
    );
    assert!(
        !err.contains("no NetSession trace found in what was scanned (which"),
        "{err}"
    );
}

#[test]
fn a_folder_with_nothing_to_scan_is_said_so() {
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("photos");
    std::fs::create_dir_all(junk.join("2019")).unwrap();
    std::fs::write(junk.join("2019/a.jpg"), b"not really").unwrap();
    let (_, err) = scan_inputs(&[&junk]);
    assert!(
        err.contains("nothing could be scanned: 2 entries walked, but none is a place"),
        "{err}"
    );
    // A volume with nothing of NetSession is a clean scan, not an empty one.
    let volume = tmp.path().join("C");
    for dir in ["Windows/System32", "Users/zoe", "Program Files"] {
        std::fs::create_dir_all(volume.join(dir)).unwrap();
    }
    std::fs::write(volume.join("Users/zoe/notes.txt"), b"x").unwrap();
    let (_, err) = scan_inputs(&[&volume]);
    assert!(!err.contains("nothing could be scanned"), "{err}");
    assert!(
        err.contains("no NetSession trace found in what was scanned"),
        "{err}"
    );
}

#[test]
fn the_same_folder_twice_is_scanned_once() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    place(&case, "SYSTEM", "SYSTEM");
    place(&case, "NTUSER.DAT", "NTUSER.DAT");
    let (once, _) = scan_inputs(&[&case]);
    assert!(!once.is_empty());
    let spelled = tmp.path().join("case/../case/");
    let (twice, err) = scan_inputs(&[&case, &spelled]);
    assert_eq!(twice.len(), once.len(), "{err}");
    assert!(err.contains("the same as input"), "{err}");
    assert!(err.contains(&case.display().to_string()), "{err}");
    // A folder inside it, and a hive inside it: both part of the outer scan.
    let (nested, err) = scan_inputs(&[&case.join("SYSTEM"), &case, &case]);
    assert_eq!(nested.len(), once.len(), "{err}");
    assert!(
        err.contains(&format!(
            "inside input {} (a folder also given): scanned once",
            case.display()
        )),
        "{err}"
    );
    let parent = tmp.path().to_path_buf();
    let (outer, err) = scan_inputs(&[&case, &parent]);
    assert_eq!(outer.len(), once.len(), "{err}");
    assert!(err.contains("1 input(s)"), "{err}");
}

#[test]
fn a_hive_the_folder_search_would_not_find_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("case");
    let odd = place(&case, "SYSTEM", "odd.hiv");
    // Bytes after the hive bins: still a hive, but not of a size the search opens.
    let mut bytes = std::fs::read(&odd).unwrap();
    bytes.extend_from_slice(&[0u8; 100]);
    std::fs::write(&odd, bytes).unwrap();
    let (rows, err) = scan_inputs(&[&odd, &case]);
    assert!(!err.contains("inside input"), "{err}");
    assert!(
        rows.iter().any(|r| r["path"].starts_with("SYSTEM\\")),
        "{err}"
    );
}
