//! NetSession's Prefetch files in the scan: one file of each format version (17, 23, 26,
//! and 30 and 31 MAM-compressed), the uninstaller, Explorer having loaded the install folder's
//! files, and another program, as `fixtures/prefetch/netsession/` holds them (written by
//! `common::netsession_prefetch`, checked here byte for byte, and read by sccainfo the
//! same where it is installed).

mod common;

use std::path::{Path, PathBuf};

use common::mounted_tree::VISTA_USER;
use common::netsession_prefetch::{PrefetchFixture, fixtures, tree_fixtures};
use common::sccainfo::{filetime_text, parse_sccainfo, run_reference};
use common::{Row, parse_csv, run, stderr};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/prefetch/netsession")
}

fn all_fixtures() -> Vec<PrefetchFixture> {
    let mut all = fixtures();
    all.extend(tree_fixtures(&VISTA_USER.to_uppercase()));
    all
}

#[test]
fn committed_files_are_what_the_generator_writes() {
    let regenerate = std::env::var_os("REGENERATE_PREFETCH").is_some();
    for f in all_fixtures() {
        let path = fixture_dir().join(f.name);
        let bytes = f.bytes();
        if regenerate {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            println!("wrote {}", path.display());
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            committed == bytes,
            "{} differs from what the generator writes",
            f.name
        );
    }
}

#[test]
fn sccainfo_reads_the_committed_files_as_written() {
    let (mut checked, mut skipped) = (0, 0);
    for f in all_fixtures() {
        let path = fixture_dir().join(f.name);
        // sccainfo, or newer libscca's Python bindings for version 31
        let Some(out) = run_reference(&path) else {
            println!("sccainfo not installed: check skipped");
            return;
        };
        let text = match out {
            Ok(text) => text,
            // Debian's sccainfo 20200717 refuses version 31; pyscca may be missing
            Err(e) if f.spec.version == 31 => {
                println!("{}: no reader of version 31 here ({e}): skipped", f.name);
                skipped += 1;
                continue;
            }
            Err(e) => panic!("{}: {e}", f.name),
        };
        let theirs = parse_sccainfo(&text).unwrap();
        assert_eq!(theirs.version, f.spec.version, "{}", f.name);
        assert_eq!(theirs.executable, f.spec.executable, "{}", f.name);
        assert_eq!(theirs.hash, f.spec.hash, "{}", f.name);
        assert_eq!(theirs.run_count, f.spec.run_count, "{}", f.name);
        let runs: Vec<String> = f.spec.last_runs.iter().map(|&t| filetime_text(t)).collect();
        assert_eq!(theirs.last_runs, runs, "{}", f.name);
        assert_eq!(theirs.filenames, f.spec.files, "{}", f.name);
        assert_eq!(theirs.volumes[0].device_path, f.spec.volumes[0].device_path);
        checked += 1;
    }
    assert_eq!(checked + skipped, all_fixtures().len());
    assert!(skipped <= 1);
}

/// The fixtures in one `Windows\Prefetch` folder of a mounted volume.
fn tree_with(files: &[(String, Vec<u8>)]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("evidence");
    let prefetch = root.join("Windows/Prefetch");
    std::fs::create_dir_all(&prefetch).unwrap();
    for (name, bytes) in files {
        std::fs::write(prefetch.join(name), bytes).unwrap();
    }
    (tmp, root)
}

fn file_name(f: &PrefetchFixture) -> String {
    f.name.rsplit('/').next().unwrap().to_string()
}

fn scan(root: &Path) -> (Vec<Row>, String) {
    let out = run(&[root.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (parse_csv(&out.stdout), stderr(&out))
}

fn rows_of<'a>(rows: &'a [Row], file: &str, desc: &str) -> Vec<&'a Row> {
    rows.iter()
        .filter(|r| {
            r["path"] == format!("Windows\\Prefetch\\{file}") && r["timestamp_desc"] == desc
        })
        .collect()
}

#[test]
fn each_version_gives_run_times_and_the_profile() {
    let all = fixtures();
    let files: Vec<(String, Vec<u8>)> = all.iter().map(|f| (file_name(f), f.bytes())).collect();
    let (_tmp, root) = tree_with(&files);
    let (rows, verdict) = scan(&root);
    let profiles = [
        ("v17/", "BOB"),
        ("v23/", "CAROL"),
        ("v26/", "DAVE.WORK"),
        ("v31/", "ANNA MARIA"),
        ("v30/NETSESSION", "ZOE"),
        ("v30/UNINSTALL", "ZOE"),
    ];
    for (prefix, profile) in profiles {
        let f = all.iter().find(|f| f.name.starts_with(prefix)).unwrap();
        let name = file_name(f);
        let runs = rows_of(&rows, &name, "Last Run (Prefetch)");
        let times: Vec<&str> = runs.iter().map(|r| r["datetime"].as_str()).collect();
        let mut want: Vec<String> = f
            .spec
            .last_runs
            .iter()
            .map(|&t| common::evtx_writer::iso(t))
            .collect();
        want.sort();
        assert_eq!(times, want, "{name}: run times, oldest first as rows sort");
        for r in &runs {
            assert_eq!(r["user"], profile, "{name}");
            assert_eq!(r["artifact"], "execution.prefetch", "{name}");
            assert!(
                r["value"].contains(&format!("run count {}", f.spec.run_count)),
                "{name}: {}",
                r["value"]
            );
            let format = if f.compressed {
                format!("version {} (MAM compressed)", f.spec.version)
            } else {
                format!("version {};", f.spec.version)
            };
            assert!(r["value"].contains(&format), "{name}: {}", r["value"]);
            assert!(
                r["value"].contains(&format!("profile={profile}")),
                "{}",
                r["value"]
            );
            assert_eq!(
                r["sha256"],
                common::hex(&<sha2::Sha256 as sha2::Digest>::digest(f.bytes()))
            );
            assert!(r["locator"].contains("last run time"), "{}", r["locator"]);
        }
        // the files it loaded from the install folder, with the same user
        let loaded = rows_of(&rows, &name, "Loaded at Last Run (Prefetch)");
        assert!(
            loaded
                .iter()
                .any(|r| r["value"].ends_with("\\AKAMAI\\NETSESSION_WIN_DBC0250.DLL"))
        );
        assert!(
            loaded
                .iter()
                .all(|r| r["user"] == profile && r["value"].contains("\\AKAMAI\\"))
        );
        // the user's scope in the verdict: its Prefetch runs, the install folder loaded
        let scope = verdict
            .split(&format!("user {profile} ("))
            .nth(1)
            .unwrap_or_else(|| panic!("no scope of {profile}: {verdict}"));
        let scope = scope.split("\n  user ").next().unwrap();
        let newest = all
            .iter()
            .filter(|g| {
                g.spec
                    .files
                    .iter()
                    .any(|p| p.contains(&format!("\\{profile}\\")))
            })
            .filter(|g| g.spec.executable != "EXPLORER.EXE")
            .map(|g| g.spec.last_runs[0])
            .max()
            .unwrap();
        assert!(
            scope.contains(&format!(
                "Prefetch: {}, last run time recorded inside the Prefetch file",
                common::evtx_writer::iso(newest)
            )),
            "{name}: {scope}"
        );
        assert!(scope.contains(&format!("\\{profile}\\")), "{scope}");
    }
    // Zoe's last execution is the uninstaller's run, the latest of her Prefetch runs
    let uninstall = all.iter().find(|f| f.name.contains("UNINSTALL")).unwrap();
    let zoe = verdict.split("user ZOE (").nth(1).unwrap();
    assert!(
        zoe.contains(&format!(
            "last execution: {} from execution.prefetch (Last Run (Prefetch)) Windows\\Prefetch\\UNINSTALL.EXE-0B5E9D27.pf",
            common::evtx_writer::iso(uninstall.spec.last_runs[0])
        )),
        "{zoe}"
    );

    // Explorer loaded NetSession's files: those rows, never a NetSession run
    assert!(rows_of(&rows, "EXPLORER.EXE-D4A1C0A1.pf", "Last Run (Prefetch)").is_empty());
    let explorer = rows_of(
        &rows,
        "EXPLORER.EXE-D4A1C0A1.pf",
        "Loaded at Last Run (Prefetch)",
    );
    assert!(!explorer.is_empty());
    assert!(
        explorer
            .iter()
            .all(|r| r["artifact"] == "prefetch.loaded_file")
    );
    // Notepad's file names an Akamai-something document, not NetSession: no row at all
    assert!(
        !rows.iter().any(|r| r["path"].contains("NOTEPAD")),
        "notepad reported"
    );
    assert!(!verdict.contains("NOTEPAD"));
}

#[test]
fn a_prefetch_file_given_alone_is_read() {
    let f = fixtures()
        .into_iter()
        .find(|f| f.name.starts_with("v30/NETSESSION"))
        .unwrap();
    let path = fixture_dir().join(f.name);
    let out = run(&["-q".as_ref(), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let runs: Vec<&Row> = rows
        .iter()
        .filter(|r| r["timestamp_desc"] == "Last Run (Prefetch)")
        .collect();
    assert_eq!(runs.len(), 8);
    assert!(
        runs.iter()
            .all(|r| r["source"] == path.display().to_string() && r["user"] == "ZOE")
    );
    // another program's file given alone: no row, said on stderr
    let notepad = fixture_dir().join("v30/NOTEPAD.EXE-D8414F97.pf");
    let out = run(&[notepad.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(parse_csv(&out.stdout).is_empty());
}

#[test]
fn damage_is_a_warning_and_what_was_read_stays() {
    let all = fixtures();
    let v30 = all
        .iter()
        .find(|f| f.name.starts_with("v30/NETSESSION"))
        .unwrap();
    let v23 = all.iter().find(|f| f.name.starts_with("v23/")).unwrap();
    let v26 = all.iter().find(|f| f.name.starts_with("v26/")).unwrap();
    // the compressed file cut in half: unreadable, a warning naming it, its file times
    let cut = v30.bytes()[..v30.bytes().len() / 2].to_vec();
    // version 23 with its volumes offset pointing past the end: runs kept, damage said
    let mut bad_volumes = v23.bytes();
    let at = common::prefetch_writer::VOLUMES_OFFSET_FIELD;
    bad_volumes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let (_tmp, root) = tree_with(&[
        (file_name(v30), cut),
        (file_name(v23), bad_volumes),
        (file_name(v26), v26.bytes()),
    ]);
    let (rows, err) = scan(&root);
    assert!(
        err.lines()
            .any(|l| l.contains(&file_name(v30)) && l.contains("not read as a Prefetch file")),
        "{err}"
    );
    let unread: Vec<&Row> = rows
        .iter()
        .filter(|r| r["path"].ends_with(&file_name(v30)))
        .collect();
    assert!(!unread.is_empty());
    assert!(
        unread
            .iter()
            .all(|r| r["artifact"] == "execution.prefetch_unread"),
        "{unread:?}"
    );
    let v23_runs = rows_of(&rows, &file_name(v23), "Last Run (Prefetch)");
    assert_eq!(v23_runs.len(), 1);
    assert!(
        v23_runs[0]["message"].contains("[damaged Prefetch file:"),
        "{}",
        v23_runs[0]["message"]
    );
    assert_eq!(v23_runs[0]["user"], "CAROL");
    assert_eq!(
        rows_of(&rows, &file_name(v26), "Last Run (Prefetch)").len(),
        3
    );
    // warnings are never rows
    assert!(rows.iter().all(|r| !r["message"].starts_with("warning")));
}
