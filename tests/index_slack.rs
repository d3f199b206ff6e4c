//! Names left in the slack of folder indexes (`$I30` INDX blocks), on
//! `fixtures/images/index_slack` (built by its `make_index_slack.sh`): Ana's NetSession
//! folder was removed and its MFT records taken by photos, so only her `Local` folder's
//! index slack still names it; Ben's was removed last and its records are free.
//!
//! The answer key is the README's: every entry msuhanov/dfir_ntfs (`ntfs_parser --indx`,
//! an independent reader) carved from index slack, names and `$FN` times.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use netsession_scan::internals::image::raw::RawImage;
use netsession_scan::internals::image::source::Slice;
use netsession_scan::internals::ntfs::index::{
    ATTR_BITMAP, ATTR_INDEX_ALLOCATION, ATTR_INDEX_ROOT, I30, block_in_use, block_size,
    block_slack, slack_entries,
};
use netsession_scan::internals::ntfs::volume::{Extent, NtfsVolume};
use netsession_scan::internals::time::Timestamp;

/// (name, M, A, C, E to the microsecond, size) as dfir_ntfs prints them.
type Key = (String, [String; 4], u64);

fn answer_key() -> BTreeSet<Key> {
    reference_rows(&std::fs::read_to_string(fixture("index_slack/README.md")).unwrap())
}

/// A FILETIME as dfir_ntfs prints it: `2026-12-06 04:39:16.705482`.
fn micro(ft: u64) -> String {
    to_micro(&Timestamp::from_filetime(ft).unwrap().to_iso8601())
}

/// An ISO time of 100 ns (`2026-12-06T04:39:16.7047915Z`) cut to the microsecond.
fn to_micro(iso: &str) -> String {
    let (date, rest) = iso.split_once('T').unwrap();
    format!("{date} {}", &rest.trim_end_matches('Z')[..15])
}

/// dfir_ntfs computes `ft / 10` in floating point, whose spacing at today's FILETIMEs is
/// 2 µs: its times are within a microsecond of the exact ones, either way.
fn same_time(ours: &str, reference: &str) -> bool {
    let micros = |t: &str| -> (String, i64) {
        let (date, time) = t.split_once(' ').unwrap();
        let (hms, frac) = time.split_once('.').unwrap();
        let s: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        let us = ((s[0] * 60 + s[1]) * 60 + s[2]) * 1_000_000 + frac.parse::<i64>().unwrap();
        (date.to_string(), us)
    };
    let (a, b) = (micros(ours), micros(reference));
    a.0 == b.0 && (a.1 - b.1).abs() <= 1
}

fn same_key(a: &Key, b: &Key) -> bool {
    a.0 == b.0 && a.2 == b.2 && a.1.iter().zip(&b.1).all(|(x, y)| same_time(x, y))
}

/// The fixture image, unpacked; it is the one the README's answer key was taken from.
fn unpacked(dir: &Path) -> Option<std::path::PathBuf> {
    let image = gunzip("index_slack/index_slack.ntfs.gz", dir)?;
    let readme = fixture("index_slack/README.md");
    assert_eq!(
        sha256_file(&image),
        readme_sha256(&readme, "index_slack.ntfs")
    );
    Some(image)
}

/// The MFT record numbers the README names (`Ana's \`Local\` 67, ...`).
fn record_after(label: &str) -> u64 {
    let readme = std::fs::read_to_string(fixture("index_slack/README.md")).unwrap();
    let at = readme
        .find(label)
        .unwrap_or_else(|| panic!("{label} in README"))
        + label.len();
    readme[at..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Every entry left in the index slack of every folder of the NTFS volume at `offset`
/// of `image`, as dfir_ntfs prints them, and how many folders have index blocks.
fn carve_all(image: &Path, offset: u64) -> (BTreeSet<Key>, usize) {
    let source = Slice::new(RawImage::open(image).unwrap(), offset, u64::MAX);
    let volume = NtfsVolume::open(source).unwrap();
    let sector = usize::from(volume.boot.bytes_per_sector);
    let mut ours = BTreeSet::new();
    let mut folders = 0;
    for number in 0..volume.record_count() {
        let Ok(Some(record)) = volume.read_record(number) else {
            continue;
        };
        let named = |t: u32| {
            record
                .attributes
                .iter()
                .filter(move |a| a.type_code == t && a.name == I30)
        };
        let Some(allocation) = named(ATTR_INDEX_ALLOCATION).find_map(|a| Extent::of(&a.body))
        else {
            continue;
        };
        folders += 1;
        let size = named(ATTR_INDEX_ROOT)
            .find_map(|a| a.resident_data())
            .and_then(block_size)
            .unwrap();
        let bitmap = named(ATTR_BITMAP)
            .find_map(|a| a.resident_data())
            .unwrap_or_default()
            .to_vec();
        let mut block = vec![0u8; size];
        for i in 0..(allocation.data_size as usize / size) {
            let n = volume
                .read_stream(&allocation, (i * size) as u64, &mut block)
                .unwrap();
            assert_eq!(n, size);
            let in_use = block_in_use(&bitmap, i);
            let Ok(slack) = block_slack(&mut block, i as u64, sector, in_use) else {
                assert!(!in_use, "MFT record {number}: block {i} in use is damaged");
                continue;
            };
            for e in slack_entries(&block, slack.start, slack.end, number) {
                let k = &e.key;
                let times = [k.modified, k.accessed, k.created, k.mft_changed].map(micro);
                ours.insert((k.name.clone(), times, k.data_size));
            }
        }
    }
    (ours, folders)
}

/// The "Index slack" rows of a dfir_ntfs `--indx` CSV.
fn reference_rows(text: &str) -> BTreeSet<Key> {
    text.lines()
        .filter(|l| l.starts_with("Index slack,"))
        .map(|l| {
            // The path may hold commas: the four times and the size are the last cells.
            let cells: Vec<&str> = l.rsplitn(6, ',').collect();
            let path = cells[5];
            let name = path.rsplit('/').next().unwrap().to_string();
            let times = [cells[4], cells[3], cells[2], cells[1]].map(String::from);
            (name, times, cells[0].parse().unwrap())
        })
        .collect()
}

/// `ours` against dfir_ntfs's carve: each of ours is one of its entries (within its
/// microsecond); what it has that we do not is returned.
fn compare(ours: &BTreeSet<Key>, key: &BTreeSet<Key>) -> Vec<Key> {
    for entry in ours {
        assert!(
            key.iter().any(|k| same_key(entry, k)),
            "{entry:?} not in the reference"
        );
    }
    key.iter()
        .filter(|k| !ours.iter().any(|o| same_key(o, k)))
        .cloned()
        .collect()
}

#[test]
fn slack_entries_of_every_folder_equal_the_reference_reader() {
    let dir = tempfile::tempdir().unwrap();
    let Some(image) = unpacked(dir.path()) else {
        return;
    };
    let (ours, folders) = carve_all(&image, 0);
    assert!(folders >= 4, "{folders} folders with index blocks");
    let readme = std::fs::read_to_string(fixture("index_slack/README.md")).unwrap();
    let key = reference_rows(&readme);
    assert!(key.len() >= 3, "{key:?}");
    assert_eq!(compare(&ours, &key), Vec::<Key>::new());
}

/// A volume Windows wrote, against dfir_ntfs run on it beforehand:
/// `INDEX_SLACK_REFERENCE=<image>:<volume offset>:<ntfs_parser --indx CSV>`. Skipped
/// without it (no such volume and CSV are committed).
#[test]
fn a_given_volume_s_slack_equals_the_reference_reader() {
    let Ok(given) = std::env::var("INDEX_SLACK_REFERENCE") else {
        eprintln!("skipped: INDEX_SLACK_REFERENCE=<image>:<offset>:<dfir_ntfs --indx CSV> not set");
        return;
    };
    let mut parts = given.splitn(3, ':');
    let (image, offset, csv) = (
        parts.next().unwrap(),
        parts.next().unwrap().parse().unwrap(),
        parts.next().unwrap(),
    );
    let (ours, folders) = carve_all(Path::new(image), offset);
    let key = reference_rows(&std::fs::read_to_string(csv).unwrap());
    let missing = compare(&ours, &key);
    eprintln!(
        "{image}: {folders} folders with index blocks; {} entries carved, the reference {}; \
         only the reference's: {missing:#?}",
        ours.len(),
        key.len()
    );
}

/// Every row of `rows` is a name from the slack of folder record `folder`: at `path`,
/// of `artifact` and `user`, deleted, unhashed, saying where it came from.
fn assert_slack_rows(rows: &[&Row], path: &str, artifact: &str, user: &str, folder: u64) {
    assert!(!rows.is_empty(), "no slack row for {path}");
    for r in rows {
        assert_eq!(r["path"], path, "{r:?}");
        assert_eq!(r["artifact"], artifact, "{r:?}");
        assert_eq!(r["user"], user, "{r:?}");
        assert_eq!(r["state"], "deleted");
        assert_eq!(r["sha256"], "");
        assert!(
            r["locator"].starts_with(&format!("mft={folder} $I30 slack")),
            "{r:?}"
        );
        assert!(r["message"].contains("left in the slack of its folder's index"));
    }
}

#[test]
fn a_removed_install_folder_is_told_from_its_parents_index_slack() {
    let dir = tempfile::tempdir().unwrap();
    let Some(image) = unpacked(dir.path()) else {
        return;
    };
    let rows = scan_ok(&image);
    let (slack, prefetch): (Vec<_>, Vec<_>) = rows
        .iter()
        .filter(|r| r["timestamp_desc"].contains("$I30 slack"))
        .partition(|r| !r["path"].starts_with(r"Windows\Prefetch"));
    // NetSession's removed Prefetch file, by name, not as run times; Notepad's says
    // nothing and gives no row.
    assert!(!prefetch.is_empty());
    let pf_folder = record_after("\n`Windows/Prefetch`");
    let pf = r"Windows\Prefetch\NETSESSION_WIN.EXE-1A2B3C4D.pf";
    assert_slack_rows(&prefetch, pf, "execution.prefetch_name", "", pf_folder);
    // Cleo's update removed the old core DLL, whose record a photo took: its name, by
    // the member rules, in her live install folder.
    let (cleo, slack): (Vec<_>, Vec<_>) = slack
        .into_iter()
        .partition(|r| r["path"].starts_with(r"Users\Cleo"));
    assert!(!cleo.is_empty());
    let cleo_folder = record_after("Cleo's `Akamai`");
    let dll = r"Users\Cleo\AppData\Local\Akamai\netsession_win_3a1f9e2.dll";
    assert_slack_rows(&cleo, dll, "install.core_dll", "Cleo", cleo_folder);
    // Otherwise Ana's install folder only: Ben's names in slack are his files' free MFT
    // records, told from the MFT already.
    assert!(!slack.is_empty());
    let local = record_after("Ana's `Local`");
    let akamai = r"Users\Ana\AppData\Local\Akamai";
    assert_slack_rows(&slack, akamai, "install.folder", "Ana", local);
    for r in &slack {
        assert!(
            r["locator"].contains("$I30 slack: block at byte 0"),
            "{r:?}"
        );
    }
    // Its times, to the microsecond, are the reference reader's.
    let (_, [m, a, c, e], _) = answer_key()
        .into_iter()
        .find(|(name, _, _)| name == "Akamai")
        .unwrap();
    let at = |label: &str| {
        let r = slack
            .iter()
            .find(|r| {
                r["timestamp_desc"]
                    .split(" (")
                    .next()
                    .unwrap()
                    .contains(label)
            })
            .unwrap_or_else(|| panic!("{label}"));
        to_micro(&r["datetime"])
    };
    let ours = [
        at("Modified"),
        at("Accessed"),
        at("Created"),
        at("MFT Entry Changed"),
    ];
    for (ours, reference) in ours.iter().zip([m, a, c, e]) {
        assert!(same_time(ours, &reference), "{ours} against {reference}");
    }
    // Ben's removed files are told once, from their MFT records.
    let ben = rows_for(&rows, r"Users\Ben\AppData\Local\Akamai\uninstall.exe");
    assert!(!ben.is_empty());
    assert!(ben.iter().all(|r| r["locator"].starts_with("mft=")
        && !r["locator"].contains("slack")
        && r["state"] == "deleted"));
}

#[test]
fn a_damaged_index_block_is_a_warning_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let Some(image) = unpacked(dir.path()) else {
        return;
    };
    let local = record_after("Ana's `Local`");
    let at = {
        let volume = NtfsVolume::open(RawImage::open(&image).unwrap()).unwrap();
        let record = volume.read_record(local).unwrap().unwrap();
        let allocation = record
            .attributes
            .iter()
            .find(|a| a.type_code == ATTR_INDEX_ALLOCATION)
            .and_then(|a| Extent::of(&a.body))
            .unwrap();
        allocation.runs[0].lcn.unwrap() * volume.boot.cluster_size
    };
    // The end of the block's second sector no longer carries the update sequence.
    let mut bytes = std::fs::read(&image).unwrap();
    bytes[at as usize + 1022] ^= 0xFF;
    std::fs::write(&image, &bytes).unwrap();
    let out = run_on(&image, &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("MFT record {local} $I30"))
            && err.contains("1 damaged index block(s)")
            && err.contains("sector 1"),
        "{err}"
    );
    let rows = parse_csv(&out.stdout);
    // That folder gives no name from slack; the others still do.
    let slack = |r: &&Row| r["timestamp_desc"].contains("$I30 slack");
    assert!(
        rows_for(&rows, r"Users\Ana\AppData\Local\Akamai")
            .iter()
            .all(|r| !slack(r))
    );
    assert!(rows.iter().any(|r| slack(&r)));
    // What the MFT tells is all there.
    assert!(!rows_for(&rows, r"Users\Ben\AppData\Local\Akamai\uninstall.exe").is_empty());
}

#[test]
fn the_verdict_names_the_build_only_index_slack_still_holds() {
    let dir = tempfile::tempdir().unwrap();
    let Some(image) = unpacked(dir.path()) else {
        return;
    };
    let json = dir.path().join("verdict.json");
    let out = run(&[
        image.as_os_str(),
        "-q".as_ref(),
        "-o".as_ref(),
        dir.path().join("rows.csv").as_os_str(),
        "--verdict-json".as_ref(),
        json.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let cleo = v["volumes"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == "Cleo")
        .unwrap_or_else(|| panic!("no user Cleo in {v:#}"));
    let builds: BTreeSet<&str> = cleo["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    // The build the update removed, from slack, beside the one present.
    assert!(
        builds.iter().any(|b| b.contains("3a1f9e2"))
            && builds.iter().any(|b| b.contains("1b2c3d4")),
        "{builds:?}"
    );
}
