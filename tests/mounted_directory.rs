//! End-to-end: the binary over a mounted-image / triage-collection directory.

mod common;

use common::mounted_tree::{MAC_USER, T_INSTALL, VISTA_USER, XP_USER};
use common::*;
use std::fs;

fn scan_fixture() -> (tempfile::TempDir, std::path::PathBuf, Vec<Row>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let out = run_on(&root, &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    (tmp, root, rows, stderr(&out))
}

fn vista(rel: &str) -> String {
    format!("Users\\{VISTA_USER}\\AppData\\Local\\Akamai\\{rel}")
}

#[test]
fn install_files_have_planted_times_hashes_users_and_ids() {
    let (_tmp, root, rows, _) = scan_fixture();
    let client = rows_for(&rows, &vista("netsession_win.exe"));
    assert!(!client.is_empty(), "client not reported");
    for r in &client {
        assert_eq!(r["artifact"], "install.client");
        assert_eq!(r["user"], VISTA_USER);
        assert_eq!(r["path"], vista("netsession_win.exe"));
        assert_eq!(r["size"], "70000");
        assert_eq!(
            r["sha256"],
            "52b8ce77ddc8f4b41df27a7ce311364b2b56f4195cd20e97e3e153f05d8788b6"
        );
        assert_eq!(r["state"], "allocated");
        assert_eq!(r["source"], format!("{} root=C", root.display()));
        assert!(r["locator"].starts_with("inode="), "{}", r["locator"]);
    }
    let modified = client
        .iter()
        .find(|r| r["timestamp_desc"] == "Modified (filesystem)")
        .expect("a Modified row of its own");
    assert_eq!(modified["datetime"], "2012-02-14T09:30:00.000000000Z");
    let accessed = client
        .iter()
        .find(|r| r["timestamp_desc"] == "Accessed (filesystem)")
        .expect("an Accessed row of its own");
    assert_eq!(accessed["datetime"], "2012-02-14T10:30:00.000000000Z");

    // Files whose planted modification and access times coincide share one row.
    let admintool = rows_for(&rows, &vista("admintool.exe"));
    assert!(
        admintool
            .iter()
            .any(|r| r["timestamp_desc"] == "Modified, Accessed (filesystem)"
                && r["datetime"] == "2012-02-14T09:30:00.000000000Z"),
        "{admintool:?}"
    );
    assert!(
        admintool
            .iter()
            .all(|r| r["artifact"] == "install.admintool")
    );

    let folder = rows_for(
        &rows,
        &format!("Users\\{VISTA_USER}\\AppData\\Local\\Akamai"),
    );
    assert!(
        folder
            .iter()
            .all(|r| r["artifact"] == "install.folder" && r["size"].is_empty())
    );
    assert!(
        folder
            .iter()
            .any(|r| r["datetime"] == "2012-02-14T09:29:50.000000000Z")
    );

    let expect_ids = [
        (vista("netsession_win_dbc0250.dll"), "install.core_dll"),
        (vista("netsession_win_a1b2c3d.dll"), "install.core_dll"),
        (vista("uninstall.exe"), "install.uninstaller"),
        (vista("readme.txt"), "install.readme"),
        (vista("logs\\netsession.log"), "install.log"),
        (vista("netsession.cfg"), "install.config"),
        (vista("Cache\\0a\\3f9e2b.dat"), "cache.file"),
        (vista("Cache\\0a\\77c1d0.dat"), "cache.file"),
        (vista("Cache\\index.bin"), "cache.file"),
        (
            vista("breakpad\\c0ffee00-1111-2222-3333-444455556666.dmp"),
            "install.crash_dump",
        ),
        (vista("state.bin"), "install.file"),
        (
            "Program Files\\Common Files\\Akamai\\AdminTool.exe".into(),
            "install.admintool",
        ),
        (
            "Windows\\Prefetch\\NETSESSION_WIN.EXE-1A2B3C4D.pf".into(),
            "execution.prefetch",
        ),
        (
            "WINDOWS\\Prefetch\\ADMINTOOL.EXE-0F1E2D3C.pf".into(),
            "execution.prefetch",
        ),
        (
            format!("Users/{MAC_USER}/Applications/Akamai/admintool"),
            "install.admintool",
        ),
        (
            format!("Users/{MAC_USER}/Library/LaunchAgents/com.akamai.single-user-client.plist"),
            "autostart.launch_agent",
        ),
    ];
    for (path, id) in expect_ids {
        let found: Vec<_> = rows.iter().filter(|r| r["path"] == path).collect();
        assert!(!found.is_empty(), "{path} not reported");
        assert!(
            found.iter().any(|r| r["artifact"] == id),
            "{path}: wanted {id}, got {:?}",
            found.iter().map(|r| &r["artifact"]).collect::<Vec<_>>()
        );
    }
    let cache = rows_for(&rows, &vista("Cache\\0a\\3f9e2b.dat"));
    assert_eq!(
        cache[0]["sha256"],
        "d7ee1098bde6691a3a4328663bb024405721aeed95ebfb4cd88db157610b548e"
    );
    assert_eq!(cache[0]["value"], "class=cache blob");
}

#[test]
fn xp_and_macos_volumes_are_found_below_the_collection_root() {
    let (_tmp, root, rows, _) = scan_fixture();
    let xp_client = format!(
        "Documents and Settings\\{XP_USER}\\Local Settings\\Application Data\\Akamai\\netsession_win.exe"
    );
    let xp = rows_for(&rows, &xp_client);
    assert!(!xp.is_empty());
    assert!(
        xp.iter()
            .all(|r| r["path"] == xp_client && r["user"] == XP_USER)
    );
    assert!(
        xp.iter()
            .all(|r| r["source"] == format!("{} root=XP", root.display()))
    );
    let t = T_INSTALL - 7_776_000; // 2011-11-16
    assert!(
        xp.iter()
            .any(|r| r["datetime"].starts_with("2011-11-16T09:30:00")
                && r["timestamp_desc"] == "Modified, Accessed (filesystem)"),
        "{t} {xp:?}"
    );
    let mac = rows_for(
        &rows,
        "Library/LaunchAgents/com.akamai.single-user-client.plist",
    );
    assert!(
        mac.iter()
            .all(|r| r["user"] == MAC_USER && r["source"].ends_with("root=mac"))
    );
}

#[test]
fn decoys_are_not_reported() {
    let (_tmp, _root, rows, _) = scan_fixture();
    for r in &rows {
        for decoy in [
            "akamai_invoice.pdf",
            "Akamaized",
            "OtherApp.lnk",
            "Updater.lnk",
            "NOTEPAD.EXE",
            "OtherVendor",
            "akamai-report.docx",
        ] {
            assert!(!r["path"].contains(decoy), "decoy reported: {r:?}");
        }
    }
}

#[test]
fn log_lines_become_rows_at_their_own_time() {
    let (_tmp, _root, rows, _) = scan_fixture();
    let log = vista("logs\\netsession.log");
    let entries: Vec<_> = rows
        .iter()
        .filter(|r| r["path"] == log && r["artifact"] == "content.log_entry")
        .collect();
    let times: Vec<&str> = entries.iter().map(|r| r["datetime"].as_str()).collect();
    assert_eq!(
        times,
        [
            "2012-02-14T09:30:05.123Z",
            "2012-02-14T09:30:06.456Z",
            "2012-02-14T09:31:15.000Z",
            "2012-02-14T09:45:00Z",
            "2012-02-14T10:02:30.000Z"
        ]
    );
    assert_eq!(entries[0]["timestamp_desc"], "Log Entry");
    assert_eq!(entries[0]["locator"], "line=1");
    assert_eq!(
        entries[3]["locator"], "line=5",
        "the untimed line 4 still counts"
    );
    assert!(entries[0]["value"].starts_with("2012-02-14 09:30:05.123 [INFO] NetSession Interface"));
    assert!(!entries[0]["value"].contains('\r'));
    assert_eq!(
        entries[0]["sha256"], "60eb7f87adb24f44545e9ff945883f1fe78f5bce9616caa862cfedd035c0c2c3",
        "facts inside a file carry the file's hash"
    );
    assert!(entries[0]["message"].contains("no time zone"));
    assert!(!entries[3]["message"].contains("no time zone"));

    // The XP log is UTF-16LE with a BOM, ctime-style times.
    let xp_log = rows
        .iter()
        .filter(|r| {
            r["path"].ends_with("Application Data\\Akamai\\install.log")
                && r["artifact"] == "content.log_entry"
        })
        .map(|r| (r["datetime"].as_str(), r["user"].as_str()))
        .collect::<Vec<_>>();
    assert_eq!(
        xp_log,
        [
            ("2011-11-14T18:02:11Z", XP_USER),
            ("2011-11-14T18:02:40Z", XP_USER)
        ]
    );
}

#[test]
fn urls_ips_guids_and_copyright_are_reported_once_per_file() {
    let (_tmp, _root, rows, _) = scan_fixture();
    let log = vista("logs\\netsession.log");
    let of = |artifact: &str| -> Vec<(String, String)> {
        rows.iter()
            .filter(|r| r["artifact"] == artifact && r["path"] == log)
            .map(|r| (r["value"].clone(), r["datetime"].clone()))
            .collect()
    };
    assert_eq!(
        of("content.url"),
        [(
            "https://control.netsession.example.com/session".to_string(),
            "2012-02-14T09:30:06.456Z".to_string()
        )]
    );
    let ips = of("content.ip");
    assert_eq!(ips.len(), 2, "{ips:?}");
    assert!(ips.contains(&("203.0.113.7".into(), "2012-02-14T09:31:15.000Z".into())));
    let ip_row = rows
        .iter()
        .find(|r| r["path"] == log && r["value"] == "203.0.113.7")
        .unwrap();
    assert!(
        ip_row["message"].contains("2 times"),
        "{}",
        ip_row["message"]
    );
    assert_eq!(of("content.guid").len(), 1);

    let cfg_guid = rows
        .iter()
        .find(|r| r["path"] == vista("netsession.cfg") && r["artifact"] == "content.guid")
        .expect("GUID in an untimed config file");
    assert_eq!(cfg_guid["datetime"], "");
    assert_eq!(cfg_guid["value"], "{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}");

    let copyright = rows
        .iter()
        .find(|r| r["path"] == vista("readme.txt") && r["artifact"] == "content.copyright")
        .expect("readme copyright");
    assert!(copyright["value"].contains("2008-2012"), "{copyright:?}");
    let xp_url = rows
        .iter()
        .find(|r| r["artifact"] == "content.url" && r["user"] == XP_USER)
        .expect("URL in the UTF-16 log");
    assert_eq!(
        xp_url["value"],
        "http://dl.netsession.example.com/NetSessionSetup.exe"
    );
}

#[test]
fn two_runs_give_byte_identical_output_and_rows_are_sorted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    // Folders are listed without touching their access times (README, "Handling the
    // evidence"): the first scan of a fresh copy changes nothing either.
    let a = run_on(&root, &["-q"]);
    let b = run_on(&root, &["-q"]);
    assert_eq!(a.status.code(), Some(0));
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
    assert!(a.stderr.is_empty(), "-q prints nothing: {}", stderr(&a));
    let rows = parse_csv(&a.stdout);
    let timed: Vec<&str> = rows
        .iter()
        .map(|r| r["datetime"].as_str())
        .take_while(|d| !d.is_empty())
        .collect();
    assert!(rows[timed.len()..].iter().all(|r| r["datetime"].is_empty()));
    // Same fraction lengths sort as text; compare as instants via the seconds part.
    let seconds: Vec<&str> = timed.iter().map(|d| &d[..19]).collect();
    assert!(
        seconds.windows(2).all(|w| w[0] <= w[1]),
        "not sorted by time"
    );
    for r in &rows {
        for v in r.values() {
            assert!(
                !v.contains('\n') && !v.contains('\r'),
                "multi-line value {v:?}"
            );
        }
        assert!(r["datetime"].is_empty() || r["datetime"].ends_with('Z'));
    }
}

#[test]
fn output_file_and_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let out_file = tmp.path().join("evidence.csv");
    let out = run_on(&root, &["-o", out_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "evidence went to the file, not stdout"
    );
    let rows = parse_csv(&fs::read(&out_file).unwrap());
    assert!(rows.len() > 40);
    let err = stderr(&out);
    assert!(err.contains("1 input(s)"), "{err}");
    assert!(err.contains("install.client"), "{err}");
    assert!(
        err.contains(&format!("{} evidence row(s)", rows.len())),
        "{err}"
    );
}

#[test]
fn missing_input_exits_2_with_one_line_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-evidence");
    let out = run_on(&missing, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such-evidence"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn unrecognised_file_input_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("notes.txt");
    fs::write(&file, "just notes").unwrap();
    let out = run_on(&file, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a recognised input"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn evidence_without_traces_gives_the_header_only() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("clean");
    fs::create_dir_all(root.join("Users/bob/AppData/Local/Microsoft")).unwrap();
    fs::write(
        root.join("Users/bob/AppData/Local/Microsoft/x.txt"),
        "2012-02-14 09:30:00 x",
    )
    .unwrap();
    let out = run_on(&root, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(parse_csv(&out.stdout).len(), 0);
    assert!(stderr(&out).contains("no NetSession trace found"));
}

#[test]
fn output_inside_the_evidence_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let inside = root.join("C/out.csv");
    let out = run_on(&root, &["-o", inside.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!inside.exists(), "nothing written into the evidence");
    assert!(stderr(&out).contains("refusing"), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_are_carried_and_never_crash() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let dir = root.join(format!("C/Users/{VISTA_USER}/AppData/Local/Akamai"));
    let name = std::ffi::OsStr::from_bytes(b"peer\xff\xfe.bin");
    fs::write(dir.join(name), [1u8, 0, 2, 3]).unwrap();
    let out = run_on(&root, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let hit = rows_for(&rows, "Akamai\\peer\\xFF\\xFE.bin");
    assert!(!hit.is_empty(), "non-UTF-8 name lost");
    assert_eq!(
        hit[0]["sha256"],
        "5e8addc559a2d0adf669628a76aadc6a0681484556ec9cf4938eae313c923c67"
    );
}

#[cfg(unix)]
#[test]
fn links_are_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    // A folder outside the evidence that looks like an install, linked into it.
    let outside = tmp.path().join("outside/Akamai");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("netsession_win.exe"), b"MZ outside").unwrap();
    let local = root.join("C/Users/eve/AppData/Local");
    fs::create_dir_all(&local).unwrap();
    std::os::unix::fs::symlink(&outside, local.join("Akamai")).unwrap();
    // A link inside an install folder is reported as a link, not read.
    let vista_dir = root.join(format!("C/Users/{VISTA_USER}/AppData/Local/Akamai"));
    std::os::unix::fs::symlink("/etc/passwd", vista_dir.join("passwd.txt")).unwrap();
    let out = run_on(&root, &[]);
    assert_eq!(out.status.code(), Some(0));
    let rows = parse_csv(&out.stdout);
    assert!(
        rows_for(
            &rows,
            "Users\\eve\\AppData\\Local\\Akamai\\netsession_win.exe"
        )
        .is_empty()
    );
    let link = rows_for(&rows, "Akamai\\passwd.txt");
    assert!(!link.is_empty());
    assert!(link[0]["message"].contains("symbolic link to /etc/passwd, not followed"));
    assert_eq!(link[0]["sha256"], "");
}

#[test]
fn extra_catalog_rules_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let catalog = tmp.path().join("case.toml");
    fs::write(
        &catalog,
        r#"
[[file]]
id = "case.invoice"
paths = ["<profile>\\Documents\\akamai_*.pdf"]
what = "invoice naming Akamai"
proves = "the user kept a document about Akamai"
confidence = "G"
source = "case 2026-17"
"#,
    )
    .unwrap();
    let out = run_on(&root, &["--catalog", catalog.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let hit = rows_for(&rows, "Documents\\akamai_invoice.pdf");
    assert!(!hit.is_empty());
    assert!(
        hit.iter()
            .all(|r| r["artifact"] == "case.invoice" && r["user"] == VISTA_USER)
    );

    fs::write(&catalog, "[[file]]\nid = \"broken\"\n").unwrap();
    let out = run_on(&root, &["--catalog", catalog.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("case.toml"), "{}", stderr(&out));
}

#[test]
fn no_hash_leaves_hashes_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let out = run_on(&root, &["--no-hash"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = parse_csv(&out.stdout);
    assert!(rows.iter().all(|r| r["sha256"].is_empty()));
    // Content is still read (in one pass instead of two): the same rows as with
    // hashing, hashes aside.
    assert!(rows.iter().any(|r| r["artifact"] == "content.log_entry"));
    let hashed = parse_csv(&run_on(&root, &[]).stdout);
    let content = |rows: &[common::Row]| -> Vec<String> {
        let mut keys: Vec<String> = rows
            .iter()
            .filter(|r| r["artifact"].starts_with("content."))
            .map(|r| {
                format!(
                    "{}|{}|{}|{}",
                    r["datetime"], r["path"], r["locator"], r["value"]
                )
            })
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(content(&rows), content(&hashed));
    assert!(
        hashed
            .iter()
            .filter(|r| r["artifact"] == "content.log_entry")
            .all(|r| r["sha256"].len() == 64),
        "log rows carry their file's hash"
    );
}

#[test]
fn committed_demo_tree_matches_the_fixture_spec() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-mounted");
    for f in common::mounted_tree::files() {
        let on_disk = fs::read(demo.join(&f.path))
            .unwrap_or_else(|e| panic!("{}: {e} (run cargo run --example make_demo_tree)", f.path));
        assert!(on_disk == f.content, "{} differs from the spec", f.path);
    }
}

/// Run the binary without the capabilities that let root read anything, so permission
/// bits bite even when the tests run as root (as CI does).
#[cfg(target_os = "linux")]
fn run_without_dac_override(root: &std::path::Path) -> Option<std::process::Output> {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let mut cmd = if is_root {
        if std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipped: running as root and setpriv is not installed");
            return None;
        }
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--bounding-set",
            "-dac_override,-dac_read_search",
            "--",
            BIN,
        ]);
        c
    } else {
        std::process::Command::new(BIN)
    };
    Some(cmd.arg(root).output().expect("run"))
}

#[cfg(target_os = "linux")]
#[test]
fn unreadable_file_and_folder_are_warnings_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let install = root.join(format!("C/Users/{VISTA_USER}/AppData/Local/Akamai"));
    let locked_file = install.join("netsession_win_dbc0250.dll");
    let locked_dir = install.join("breakpad");
    fs::set_permissions(&locked_file, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o000)).unwrap();
    let out = run_without_dac_override(&root);
    fs::set_permissions(&locked_dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&locked_file, fs::Permissions::from_mode(0o644)).unwrap();
    let Some(out) = out else { return };
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("netsession_win_dbc0250.dll") && w.contains("ermission denied")),
        "{err}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("breakpad") && w.contains("ermission denied")),
        "{err}"
    );
    assert!(err.contains("2 warning(s)"), "{err}");
    let rows = parse_csv(&out.stdout);
    // The unreadable DLL is still reported (it exists, with its times), without a hash.
    let dll = rows_for(&rows, "netsession_win_dbc0250.dll");
    assert!(!dll.is_empty());
    assert!(
        dll.iter()
            .all(|r| r["sha256"].is_empty() && r["artifact"] == "install.core_dll")
    );
    assert!(dll[0]["message"].contains("content could not be read"));
    // Everything else is still found.
    assert!(
        rows_for(&rows, "Akamai\\netsession_win.exe")
            .iter()
            .all(|r| r["sha256"].len() == 64)
    );
    assert!(rows.iter().any(|r| r["artifact"] == "execution.prefetch"));
}

#[test]
fn a_folder_inside_the_volume_is_scanned_with_its_context() {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let volume = root.join("C").canonicalize().unwrap();

    // The examiner names the Users folder: the profile patterns still see `Users`.
    let users = root.join("C/Users");
    let out = run_on(&users, &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = parse_csv(&out.stdout);
    let client = rows_for(&rows, &vista("netsession_win.exe"));
    assert!(!client.is_empty());
    assert_eq!(client[0]["path"], vista("netsession_win.exe"));
    assert_eq!(client[0]["user"], VISTA_USER);
    assert_eq!(
        client[0]["source"],
        format!("{} root={}", users.display(), volume.display())
    );
    // Nothing outside the named folder is reported.
    assert!(
        // (facts read from a hive carry the hive's path in their locator)
        rows.iter()
            .all(|r| r["path"].starts_with("Users\\") || r["locator"].starts_with("hive=Users\\")),
        "outside rows"
    );

    // The examiner names the install folder itself: it and its tree are reported.
    let install = root.join(format!("C/Users/{VISTA_USER}/AppData/Local/Akamai"));
    let out = run_on(&install, &["-q"]);
    let rows = parse_csv(&out.stdout);
    let folder = rows_for(
        &rows,
        &format!("Users\\{VISTA_USER}\\AppData\\Local\\Akamai"),
    );
    assert!(folder.iter().any(|r| r["artifact"] == "install.folder"));
    assert!(
        rows_for(&rows, &vista("Cache\\0a\\3f9e2b.dat"))
            .iter()
            .all(|r| r["artifact"] == "cache.file")
    );
    assert!(rows.iter().all(|r| r["path"].starts_with(&format!("Users\\{VISTA_USER}\\AppData\\Local\\Akamai"))));
}

#[test]
fn a_text_file_over_the_cap_is_cut_with_a_warning_and_hashed_whole() {
    use sha2::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let log = root.join(format!(
        "C/Users/{VISTA_USER}/AppData/Local/Akamai/logs/big.log"
    ));
    let line = "2012-02-14 09:30:00 [INFO] keep-alive to peer 203.0.113.9 ....................\n";
    let cap = 1024 * 1024;
    let mut text = line.repeat(cap / line.len() + 1);
    text.push_str("2013-01-01 00:00:00 [INFO] beyond the cap\n");
    fs::write(&log, &text).unwrap();
    let out = run_on(&root, &["--max-text-bytes", "1048576"]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning: ") && l.contains("big.log"))
        .unwrap_or_else(|| panic!("no warning for the cut file: {err}"));
    assert!(
        warning.contains("text read only up to 1048576 bytes"),
        "{warning}"
    );
    let rows = parse_csv(&out.stdout);
    let big: Vec<_> = rows_for(&rows, "logs\\big.log");
    let expected: String = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        big.iter().all(|r| r["sha256"] == expected),
        "hash covers the whole file"
    );
    assert!(big.iter().any(|r| r["artifact"] == "content.log_entry"));
    assert!(
        big.iter().all(|r| !r["datetime"].starts_with("2013")),
        "nothing past the cap"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_in_an_install_folder_is_reported_not_opened() {
    let tmp = tempfile::tempdir().unwrap();
    let root = build_fixture(tmp.path());
    let fifo = root.join(format!(
        "C/Users/{VISTA_USER}/AppData/Local/Akamai/control.pipe"
    ));
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.map(|s| s.success()).unwrap_or(false) {
        eprintln!("skipped: mkfifo not available");
        return;
    }
    // Opening a FIFO for reading would block forever: the scan must finish.
    let out = run_on(&root, &["-q"]);
    assert_eq!(out.status.code(), Some(0));
    let rows = parse_csv(&out.stdout);
    let pipe = rows_for(&rows, "Akamai\\control.pipe");
    assert!(!pipe.is_empty());
    assert!(
        pipe[0]["message"].contains("not a regular file"),
        "{:?}",
        pipe[0]
    );
}
