//! End-to-end: the verdict of real scans of the fixtures says what their READMEs plant.
//!
//! - `fixtures/demo-mounted`: José Müller's per-user install (builds a1b2c3d, dbc0250),
//!   firewall prompt answers (Private allowed, Public blocked), a peer cache, upload logs.
//! - `fixtures/images/uninstalled`: NetSession installed, updated and removed; only the
//!   change journal and one deleted DLL whose folder is gone remain.
//! - `fixtures/images/case`: a GPT disk with an install whose DLL a1b2c3d was deleted.
//!
//! The images are unpacked with `gzip -dc` into a temporary folder; without gzip those
//! tests skip, saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

use netsession_scan::verdict::{
    FileCoverage, InstallState, ScopeVerdict, Verdict, VolumeVerdict, verdict,
};
use netsession_scan::{AnalysisOptions, Catalog, EvidenceRow, Warnings};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Scans the inputs with the library, as the CLI does.
fn scan(paths: &[PathBuf]) -> Vec<EvidenceRow> {
    let inputs = netsession_scan::detect_inputs(paths).expect("inputs are recognised");
    let catalog = Catalog::embedded().expect("embedded catalog");
    let options = AnalysisOptions {
        hash: false,
        ..AnalysisOptions::default()
    };
    netsession_scan::scan(&inputs, &catalog, &options, &Warnings::new())
        .rows
        .to_vec()
        .unwrap()
}

/// `gzip -dc fixtures/images/<name>` into `dir`; `None` (saying so) without gzip.
fn gunzip(name: &str, dir: &Path) -> Option<PathBuf> {
    let gz = manifest_dir().join("fixtures/images").join(name);
    let out = match Command::new("gzip").arg("-dc").arg(&gz).output() {
        Ok(out) if out.status.success() => out,
        Ok(out) => {
            eprintln!(
                "skipped: gzip failed on {}: {}",
                gz.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Err(e) => {
            eprintln!("skipped: cannot run gzip: {e}");
            return None;
        }
    };
    let file_name = Path::new(name).file_name()?.to_string_lossy().into_owned();
    let target = dir.join(file_name.trim_end_matches(".gz"));
    std::fs::write(&target, out.stdout).expect("write the unpacked image");
    Some(target)
}

fn volume<'a>(v: &'a Verdict, source_suffix: &str) -> &'a VolumeVerdict {
    v.volumes
        .iter()
        .find(|vol| vol.source.ends_with(source_suffix))
        .unwrap_or_else(|| panic!("no volume {source_suffix} in {v:#?}"))
}

fn scope<'a>(vol: &'a VolumeVerdict, user: &str) -> &'a ScopeVerdict {
    vol.scopes
        .iter()
        .find(|s| s.user == user)
        .unwrap_or_else(|| panic!("no scope {user:?} in {}", vol.source))
}

fn core_dlls(s: &ScopeVerdict) -> Vec<&str> {
    s.builds.core_dlls.iter().map(|b| b.id.as_str()).collect()
}

#[test]
fn demo_tree_installed_for_jose_with_his_firewall_answers() {
    let rows = scan(&[manifest_dir().join("fixtures/demo-mounted")]);
    let v = verdict(&rows);
    let text = v.to_text();
    eprintln!("{text}");

    assert!(
        text.starts_with("NetSession verdict: installed on 3 volumes, remnants on 0 volumes"),
        "{text}"
    );
    let c = volume(&v, "root=C");
    assert_eq!(c.state, InstallState::Installed);
    let jose = scope(c, "José Müller");
    assert_eq!(jose.install.state, InstallState::Installed);
    assert!(
        jose.install
            .folders
            .iter()
            .any(|f| f.path == r"Users\José Müller\AppData\Local\Akamai" && f.present),
        "{:#?}",
        jose.install.folders
    );
    assert_eq!(jose.install.folders.len(), 1, "one install folder for José");
    assert_eq!(core_dlls(jose), ["a1b2c3d", "dbc0250"]);
    let dbc = &jose.builds.core_dlls[1];
    assert!(dbc.seen_as.contains(&"file present".to_string()));
    assert!(
        dbc.seen_as.contains(&"registry".to_string()),
        "ServiceDll names it"
    );
    assert_eq!(
        jose.builds.readme_copyrights[0].value,
        "Copyright (c) 2008-2012"
    );
    assert_eq!(jose.builds.versions[0].value, "1.9.2.3");

    // Firewall: the prompt answers, per profile.
    let profile = |name: &str| {
        jose.firewall
            .profiles
            .iter()
            .find(|p| p.profile == name)
            .unwrap_or_else(|| panic!("no profile {name}"))
    };
    let private = profile("Private");
    assert_eq!(private.rules.len(), 1);
    assert_eq!(private.rules[0].action, "Allow");
    assert!(private.rules[0].user_answer);
    let public = profile("Public");
    assert_eq!(public.rules.len(), 1);
    assert_eq!(public.rules[0].action, "Block");
    assert!(public.rules[0].user_answer);
    assert!(
        !profile("Domain").rules[0].user_answer,
        "the Domain rule is not a prompt answer"
    );
    assert!(text.contains("Private: allowed — Allow inbound TCP (6), the user's answer to the Windows Firewall prompt"), "{text}");
    assert!(text.contains("Public: blocked — Block inbound UDP (17), the user's answer to the Windows Firewall prompt"), "{text}");

    // Execution: UserAssist at 12:00 is later than BAM at 11:00.
    let last = jose.execution.last.as_ref().expect("an execution time");
    assert_eq!(last.time.to_iso8601(), "2012-02-14T12:00:00.0000000Z");
    assert_eq!(last.artifact, "execution.userassist");
    let userassist = jose
        .execution
        .kinds
        .iter()
        .find(|k| k.name == "UserAssist")
        .expect("UserAssist");
    assert_eq!(userassist.run_count, Some(5));

    // Autostart: his Run value and the Akamai service.
    assert!(jose.autostart.iter().any(|a| {
        a.kind == "Run key value"
            && a.command
                .contains(r"AppData\Local\Akamai\netsession_win.exe")
            && a.latest.map(|t| t.to_iso8601()).as_deref() == Some("2012-02-14T09:30:05.0000000Z")
    }));
    let service = jose
        .autostart
        .iter()
        .find(|a| a.kind == "service")
        .expect("service");
    assert!(service.location.ends_with(r"Services\Akamai"));
    assert_eq!(service.rows, 2, "service key and its Parameters key");
    assert_eq!(
        service.latest.map(|t| t.to_iso8601()).as_deref(),
        Some("2012-02-14T09:30:00.1234567Z")
    );

    // Peer upload: three cache files, 300000 + 120000 + 4096 bytes; upload log lines.
    assert_eq!(jose.upload.cache_files, 3);
    assert_eq!(jose.upload.cache_bytes, 424_096);
    assert_eq!(jose.upload.log_lines, 3);
    assert_eq!(
        jose.upload.last_log.map(|t| t.to_iso8601()).as_deref(),
        Some("2012-02-14T10:02:30.000Z")
    );

    // The machine-wide rows hold the Red Swoosh service of 2008.
    let machine = scope(c, "");
    assert_eq!(machine.builds.redswoosh_dlls[0].id, "3212");
    assert_eq!(
        machine
            .seen
            .first
            .as_ref()
            .map(|m| m.time.to_iso8601())
            .as_deref(),
        Some("2008-05-20T15:45:10.9876543Z")
    );

    let markdown = v.to_markdown();
    assert!(markdown.starts_with("# NetSession verdict\n"));
    assert!(markdown.contains("### user `José Müller`"), "{markdown}");
    assert!(markdown.contains("`Users\\José Müller\\AppData\\Local\\Akamai` — files present"));
}

#[test]
fn uninstalled_volume_has_only_remnants_and_the_journal_dates_the_removal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(image) = gunzip("uninstalled/uninstalled.ntfs.gz", dir.path()) else {
        return;
    };
    let v = verdict(&scan(&[image]));
    let text = v.to_text();
    eprintln!("{text}");

    assert_eq!(v.volumes.len(), 1);
    assert!(
        text.starts_with("NetSession verdict: installed on 0 volumes, remnants on 1 volume, no trace on 0 volumes"),
        "{text}"
    );
    let vol = &v.volumes[0];
    assert_eq!(vol.state, InstallState::Remnants);
    assert!(
        vol.scopes
            .iter()
            .all(|s| s.install.state == InstallState::Remnants)
    );

    let kenji = scope(vol, "Kenji Sato");
    let folder = &kenji.install.folders;
    assert_eq!(folder.len(), 1);
    assert_eq!(folder[0].path, r"Users\Kenji Sato\AppData\Local\Akamai");
    assert!(!folder[0].present);
    assert_eq!(core_dlls(kenji), ["3a1f9e2", "5c7d0e4"]);
    assert_eq!(kenji.builds.core_dlls[0].seen_as, ["USN journal"]);
    // Deletions: 3a1f9e2 (update), then the uninstall; the installer last.
    assert_eq!(kenji.removal.usn_deletes, 6);
    let first = kenji
        .removal
        .first_usn_delete
        .as_ref()
        .expect("first delete");
    assert_eq!(first.time.to_iso8601(), "2013-06-10T07:00:01.0000000Z");
    let last = kenji.removal.last_usn_delete.as_ref().expect("last delete");
    assert_eq!(last.time.to_iso8601(), "2014-01-15T09:00:01.0000000Z");
    assert_eq!(last.path, r"Users\Kenji Sato\Downloads\NetSessionSetup.exe");
    assert!(
        text.contains("last deletion 2014-01-15T09:00:01.0000000Z"),
        "{text}"
    );

    // Machine-wide: the deleted DLL in $Orphan and the journal's orphaned record.
    let machine = scope(vol, "");
    assert_eq!(core_dlls(machine), ["5c7d0e4"]);
    assert_eq!(
        machine.removal.deleted_files,
        [r"$Orphan\netsession_win_5c7d0e4.dll"]
    );
    assert!(
        text.contains("was installed (only remnants found)"),
        "{text}"
    );
    assert!(!text.contains("installed (files present)"), "{text}");
}

#[test]
fn case_image_names_the_deleted_dll() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(image) = gunzip("case/case.raw.gz", dir.path()) else {
        return;
    };
    let v = verdict(&scan(&[image]));
    let text = v.to_text();
    eprintln!("{text}");

    let vol = volume(&v, "p1@1048576");
    assert_eq!(vol.state, InstallState::Installed);
    let jose = scope(vol, "José Müller");
    let a1 = jose
        .builds
        .core_dlls
        .iter()
        .find(|b| b.id == "a1b2c3d")
        .expect("build a1b2c3d");
    assert_eq!(a1.seen_as, ["file deleted"]);
    assert_eq!(
        jose.removal.deleted_files,
        [r"Users\José Müller\AppData\Local\Akamai\netsession_win_a1b2c3d.dll"]
    );
    assert!(
        text.contains("core DLL netsession_win_a1b2c3d.dll — file deleted"),
        "{text}"
    );
    // The executable's planted access time (09:35:12) is not a "last seen" time; the
    // log's last write (09:41:22) and later times are.
    assert!(jose.seen.access_only_rows > 0);
    // The machine-wide install named by the registry is not on this disk.
    let machine = scope(vol, "");
    assert_eq!(machine.install.state, InstallState::Remnants);
    assert!(!machine.removal.left_behind.is_empty());
    // The disk's files were scanned: those registry rows were left behind.
    assert_eq!(machine.removal.files, FileCoverage::Scanned);
    assert!(
        text.contains("registry/firewall traces left behind, with no install file present here"),
        "{text}"
    );
}

#[test]
fn hives_alone_are_flagged_as_registry_only() {
    let reg = manifest_dir().join("fixtures/registry");
    let v = verdict(&scan(&[
        reg.join("SYSTEM"),
        reg.join("SOFTWARE"),
        reg.join("NTUSER.DAT"),
    ]));
    assert!(!v.volumes.is_empty());
    assert!(v.volumes.iter().all(|vol| vol.registry_only));
    let text = v.to_text();
    assert!(
        text.contains("the files of this system were not scanned"),
        "{text}"
    );
    // No file of those systems was scanned: the registry rows cannot say the program's
    // files are gone.
    for vol in &v.volumes {
        for s in &vol.scopes {
            assert_eq!(s.removal.files, FileCoverage::HivesAlone, "{}", vol.source);
            assert!(!s.removal.left_behind.is_empty(), "{}", vol.source);
        }
    }
    assert!(text.contains("registry traces found; the system's files were not scanned (its hives were given alone), so whether the program's files remain is unknown (6 rows): registry.cpl (1 row), registry.run (1 row), registry.service (2 rows), registry.svchost_group (1 row), registry.uninstall (1 row)"), "{text}");
    // given together, the three hives are one system
    assert_eq!(v.volumes.len(), 1, "{text}");
    assert!(
        v.volumes[0]
            .source
            .ends_with("(given on their own, read as one system)")
    );
    assert!(!text.contains("left behind"), "{text}");
    assert!(!text.contains("no install file present"), "{text}");
    assert!(!v.to_markdown().contains("left behind"));
}

#[test]
fn no_rows_is_no_trace_and_not_never_installed() {
    let v = verdict(&[]);
    assert_eq!(
        v.to_text().trim_end(),
        "NetSession verdict: no trace found in what was scanned (which is not proof it was never installed)"
    );
    assert!(v.to_markdown().contains("not proof it was never installed"));
}
