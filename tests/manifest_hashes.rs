//! `--hash-inputs` in the manifest (#16 item 3): a directory input lists every file that
//! produced a row, with size, SHA-256 and row count; an E01's stored MD5/SHA-1 are
//! compared with the media data read (agree, mismatch, or not computed with the reason),
//! checked against `ewfverify` where it is installed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-mounted")
}

fn manifest_of(input: &Path, dir: &Path) -> (serde_json::Value, std::process::Output) {
    let manifest = dir.join("m.json");
    let out = run(&[
        input.as_os_str(),
        "-q".as_ref(),
        "-o".as_ref(),
        dir.join("rows.csv").as_os_str(),
        "--manifest".as_ref(),
        manifest.as_os_str(),
        "--hash-inputs".as_ref(),
    ]);
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("no manifest ({e}); stderr: {}", stderr(&out)));
    (serde_json::from_str(&text).unwrap(), out)
}

#[test]
fn a_directory_lists_each_file_behind_its_rows_hashed() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = demo();
    let (m, out) = manifest_of(&demo, tmp.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let input = &m["inputs"][0];
    let files = input["row_files"].as_array().expect("row_files");
    let by_name = |tail: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(tail))
            .unwrap_or_else(|| panic!("{tail} not in row_files: {files:#?}"))
    };
    // A hive, a log and a Prefetch file: each as it is on disk, with its rows.
    for tail in [
        "C/Windows/System32/config/SYSTEM",
        "C/Users/José Müller/AppData/Local/Akamai/logs/netsession.log",
        "XP/WINDOWS/Prefetch/ADMINTOOL.EXE-0F1E2D3C.pf",
    ] {
        let f = by_name(tail);
        let on_disk = demo.join(tail);
        assert!(Path::new(f["path"].as_str().unwrap()).is_absolute());
        assert_eq!(f["size"], std::fs::metadata(&on_disk).unwrap().len());
        assert_eq!(f["sha256"], sha256_file(&on_disk), "{tail}");
        assert!(f["rows"].as_u64().unwrap() >= 1, "{tail}");
        assert!(f.get("note").is_none(), "{f}");
    }
    // Every row is accounted for: behind a file, about a folder, or named as neither.
    let behind: u64 = files.iter().map(|f| f["rows"].as_u64().unwrap()).sum();
    let folders = input["rows_of_folders"].as_u64().unwrap();
    let neither = input["rows_without_a_host_file"].as_u64().unwrap();
    assert!(folders > 0, "the demo has install folders");
    assert_eq!(neither, 0, "every demo row names a file or folder");
    assert_eq!(behind + folders + neither, m["rows"].as_u64().unwrap());
    // No file listed twice; no folder listed.
    let mut paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    paths.sort_unstable();
    let n = paths.len();
    paths.dedup();
    assert_eq!(paths.len(), n);
    assert!(paths.iter().all(|p| Path::new(p).is_file()));
}

#[test]
fn without_hash_inputs_a_directory_lists_no_row_files() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("m.json");
    let out = run(&[
        demo().as_os_str(),
        "-q".as_ref(),
        "-o".as_ref(),
        tmp.path().join("rows.csv").as_os_str(),
        "--manifest".as_ref(),
        manifest.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert!(m["inputs"][0].get("row_files").is_none());
}

const GPT_MD5: &str = "771fbcb74e8684f1965effaf3099e955";
const GPT_SHA1: &str = "88487a18d1dedbbe67af16a46ab07eaeddb033a7";

/// `ewfverify`'s "calculated over data" MD5, or `None` (with a note) when it is not
/// installed.
fn ewfverify(first: &Path) -> Option<(String, bool)> {
    let out = match Command::new("ewfverify").arg("-q").arg(first).output() {
        Ok(out) => out,
        Err(_) => {
            eprintln!("ewfverify not installed: checked against stored expectations only");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let md5 = text
        .lines()
        .find_map(|l| l.strip_prefix("MD5 hash calculated over data:"))
        .map(|s| s.trim().to_string())?;
    Some((md5, text.contains("ewfverify: SUCCESS")))
}

fn copy_segments(dir: &Path) -> Vec<PathBuf> {
    ["gpt.E01", "gpt.E02", "gpt.E03"]
        .iter()
        .map(|name| {
            let to = dir.join(name);
            std::fs::copy(fixture(name), &to).unwrap();
            to
        })
        .collect()
}

#[test]
fn an_e01s_stored_hashes_agree_with_the_data_read() {
    let tmp = tempfile::tempdir().unwrap();
    let e01 = fixture("gpt.E01");
    let (m, out) = manifest_of(&e01, tmp.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let media = &m["inputs"][0]["media_hashes"];
    assert_eq!(media["media_size"], 10_485_760);
    assert_eq!(media["stored_md5"], GPT_MD5);
    assert_eq!(media["computed_md5"], GPT_MD5);
    assert_eq!(media["md5"], "agree");
    assert_eq!(media["stored_sha1"], GPT_SHA1);
    assert_eq!(media["computed_sha1"], GPT_SHA1);
    assert_eq!(media["sha1"], "agree");
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    if let Some((md5, success)) = ewfverify(&e01) {
        assert_eq!(media["computed_md5"], md5.as_str());
        assert!(success);
    }
}

/// Replace the stored MD5 in the `hash` and `digest` sections (EWF v1: a 76-byte section
/// descriptor, then the data, which ends with its Adler-32) with one that does not match,
/// keeping every checksum valid.
fn forge_stored_md5(segments: &[PathBuf]) -> usize {
    let mut forged = 0;
    for segment in segments {
        let mut bytes = std::fs::read(segment).unwrap();
        let mut at = 13; // after the file header
        while at + 76 <= bytes.len() {
            let kind = bytes[at..at + 16].to_vec();
            let next = u64::from_le_bytes(bytes[at + 16..at + 24].try_into().unwrap()) as usize;
            let data = at + 76;
            let body = if kind.starts_with(b"hash\0") {
                Some(32)
            } else if kind.starts_with(b"digest\0") {
                Some(76)
            } else {
                None
            };
            if let Some(body) = body {
                bytes[data] ^= 0xff;
                let sum = ewf::sections::adler32(&bytes[data..data + body]);
                bytes[data + body..data + body + 4].copy_from_slice(&sum.to_le_bytes());
                forged += 1;
            }
            if next <= at || kind.starts_with(b"done\0") {
                break;
            }
            at = next;
        }
        std::fs::write(segment, bytes).unwrap();
    }
    forged
}

#[test]
fn a_stored_hash_that_does_not_match_the_data_is_a_mismatch() {
    let tmp = tempfile::tempdir().unwrap();
    let images = tmp.path().join("img");
    std::fs::create_dir(&images).unwrap();
    let segments = copy_segments(&images);
    assert!(forge_stored_md5(&segments) >= 1, "no hash section found");
    let (m, out) = manifest_of(&segments[0], tmp.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let media = &m["inputs"][0]["media_hashes"];
    assert_eq!(media["computed_md5"], GPT_MD5, "the data is untouched");
    assert_ne!(media["stored_md5"], GPT_MD5);
    assert_eq!(media["md5"], "mismatch");
    assert_eq!(media["sha1"], "agree");
    let err = stderr(&out);
    assert!(
        err.contains("warning") && err.contains("stored MD5 mismatch"),
        "said even with -q: {err}"
    );
    if let Some((md5, success)) = ewfverify(&segments[0]) {
        assert_eq!(md5, GPT_MD5);
        assert!(
            !success,
            "ewfverify agrees that the stored hash does not match"
        );
    }
}

#[test]
fn a_damaged_chunk_leaves_the_media_unhashed_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let images = tmp.path().join("img");
    std::fs::create_dir(&images).unwrap();
    let segments = copy_segments(&images);
    // A byte in the middle of the second segment: chunk data (its table is at the end).
    let mut bytes = std::fs::read(&segments[1]).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x55;
    std::fs::write(&segments[1], bytes).unwrap();
    let (m, out) = manifest_of(&segments[0], tmp.path());
    let media = &m["inputs"][0]["media_hashes"];
    assert_eq!(media["md5"], "not computed", "{media}");
    assert_eq!(media["stored_md5"], GPT_MD5);
    let note = media["note"].as_str().unwrap();
    assert!(note.contains("offset"), "{note}");
    assert!(
        stderr(&out).contains("media not hashed"),
        "{}",
        stderr(&out)
    );
}
