//! `--verdict-json` (#19 item 4): the verdict as JSON for fleet tooling, per volume and
//! user, checked against what the fixtures hold and against the Markdown verdict of the
//! same run (the two must never disagree).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The JSON verdict and the Markdown report of one run.
fn verdicts(input: &Path) -> (Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    let (json, md) = (tmp.path().join("v.json"), tmp.path().join("r.md"));
    let out = run(&[
        input.as_os_str(),
        "-q".as_ref(),
        "-o".as_ref(),
        tmp.path().join("rows.csv").as_os_str(),
        "--verdict-json".as_ref(),
        json.as_os_str(),
        "--report".as_ref(),
        md.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    (value, std::fs::read_to_string(md).unwrap())
}

fn user<'a>(v: &'a Value, volume_suffix: &str, name: &str) -> &'a Value {
    let volume = v["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["source"].as_str().unwrap().ends_with(volume_suffix))
        .unwrap_or_else(|| panic!("no volume {volume_suffix}"));
    volume["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == name)
        .unwrap_or_else(|| panic!("no user {name:?} in {volume_suffix}"))
}

/// Every (volume, user) of the JSON has the state the Markdown verdict states for it.
fn agrees_with_markdown(v: &Value, md: &str) {
    let mut checked = 0;
    for volume in v["volumes"].as_array().unwrap() {
        let source = volume["source"].as_str().unwrap();
        let heading = format!("### Volume `{source}`: ");
        let section = md
            .split("\n### ")
            .find(|s| format!("### {s}").starts_with(&heading))
            .unwrap_or_else(|| panic!("no section for {source} in {md}"));
        for u in volume["users"].as_array().unwrap() {
            let name = u["user"].as_str().unwrap();
            let title = if name.is_empty() {
                "#### machine-wide".to_string()
            } else {
                format!("#### user `{name}`")
            };
            let part = section
                .split("\n#### ")
                .find(|s| format!("#### {s}").starts_with(&title))
                .unwrap_or_else(|| panic!("no {title} under {source}: {section}"));
            let line = if u["state"] == "no_trace" {
                // Worded with what the rows do show.
                "**Install state:** no trace".to_string()
            } else if u["installed_in"].as_array().unwrap().is_empty() {
                format!("**Install state:** {}", u["state_text"].as_str().unwrap())
            } else {
                assert_eq!(u["state"], "remnants");
                "**Install state:** no install file in this scope; this volume's install files are in:".to_string()
            };
            assert!(
                part.contains(&line),
                "{source} {name}: {line} not in {part}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

#[test]
fn a_real_install_layout_gives_versions_install_time_and_upload_setting() {
    let (v, md) = verdicts(&root("fixtures/netsession19/installed"));
    assert_eq!(v["schema"], "netsession-scan/verdict/1");
    assert_eq!(v["state"], "installed");
    let alice = user(&v, "installed", "alice");
    assert_eq!(alice["state"], "installed");
    assert_eq!(alice["client_outcome"], "installed");
    let versions = alice["versions"].as_array().unwrap();
    let by_id = |id: &str| {
        versions
            .iter()
            .find(|x| x["client_bin_id"] == id)
            .unwrap_or_else(|| panic!("{id} in {versions:?}"))
    };
    assert!(
        by_id("75752ca")["versions"]
            .as_array()
            .unwrap()
            .contains(&Value::from("1.9.5.6"))
    );
    assert_eq!(by_id("83a441e")["versions"][0], "1.9.5.5");
    assert_eq!(by_id("83a441e")["first"], "2017-10-12T23:39:48Z");
    assert!(
        alice["install_times"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["time"] == "2017-10-12T23:40:08Z")
    );
    assert!(!alice["install_times"].as_array().unwrap().is_empty());
    let settings = alice["upload"]["settings"].to_string();
    assert!(
        settings.contains("Is Client Upload Enabled: No"),
        "{settings}"
    );
    assert_eq!(alice["upload"]["lifetime_download_bytes"], 734_003_200u64);
    agrees_with_markdown(&v, &md);
}

#[test]
fn a_failed_install_is_attempted() {
    let (v, md) = verdicts(&root("fixtures/netsession19/failed"));
    assert_eq!(v["state"], "attempted");
    let bob = user(&v, "failed", "bob");
    assert_eq!(bob["client_outcome"], "attempt_failed");
    assert!(bob["install_times"].as_array().unwrap().is_empty());
    agrees_with_markdown(&v, &md);
}

#[test]
fn the_demo_gives_firewall_decisions_per_profile_and_each_scope_as_the_text_says() {
    let (v, md) = verdicts(&root("fixtures/demo-mounted"));
    assert_eq!(
        v["inputs"][0].as_str().unwrap(),
        root("fixtures/demo-mounted").to_str().unwrap()
    );
    let jose = user(&v, "root=C", "José Müller");
    let firewall = jose["firewall"].as_array().unwrap();
    assert!(!firewall.is_empty());
    for rule in firewall {
        assert!(!rule["profile"].as_str().unwrap().is_empty(), "{rule}");
        assert!(
            ["Allow", "Block"].contains(&rule["action"].as_str().unwrap()),
            "{rule}"
        );
        assert!(rule["rows"].as_u64().unwrap() >= 1);
    }
    // The rows of the volumes add up to the run's.
    let sum: u64 = v["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, v["rows"].as_u64().unwrap());
    agrees_with_markdown(&v, &md);
}

#[test]
fn an_uninstalled_volume_gives_its_removal_times() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(volume) = gunzip("uninstalled/uninstalled.ntfs.gz", tmp.path()) else {
        return;
    };
    let (v, md) = verdicts(&volume);
    assert_eq!(v["state"], "remnants");
    let kenji = user(&v, "", "Kenji Sato");
    let removal = &kenji["removal"];
    assert!(removal["usn_deletes"].as_u64().unwrap() > 0, "{removal}");
    let first = removal["first_usn_delete"]["time"].as_str().unwrap();
    let last = removal["last_usn_delete"]["time"].as_str().unwrap();
    assert!(first <= last && first.ends_with('Z'), "{first} {last}");
    // #17 item 4: the last change of an install file (an upgrade's rename), then the
    // uninstall deleting the client; the upgrade's deleted DLL and the downloaded
    // installer's deletion are no absence.
    let presence = &kenji["presence"];
    let present = &presence["last_known_present"];
    assert_eq!(
        present["time"], "2013-06-10T07:00:02.0000002Z",
        "{presence}"
    );
    assert!(
        present["path"]
            .as_str()
            .unwrap()
            .ends_with("readme_1.7.txt")
    );
    let absent = &presence["first_known_absent"];
    assert_eq!(absent["time"], "2014-01-15T09:00:00.5000000Z", "{presence}");
    assert!(
        absent["path"]
            .as_str()
            .unwrap()
            .ends_with(r"Akamai\netsession_win.exe")
    );
    assert_eq!(presence["present_now"], false);
    assert!(presence["earlier_removal_trace"].is_null(), "{presence}");
    assert!(
        md.contains("first known absent `2014-01-15T09:00:00.5000000Z`"),
        "{md}"
    );
    agrees_with_markdown(&v, &md);
}

#[test]
fn deleted_registry_entries_give_the_last_time_known_present_and_gone_by() {
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("v.json");
    let out = run(&[
        root("fixtures/registry/deleted/NTUSER.DAT").as_os_str(),
        root("fixtures/registry/deleted/SOFTWARE").as_os_str(),
        "-q".as_ref(),
        "-o".as_ref(),
        tmp.path().join("rows.csv").as_os_str(),
        "--verdict-json".as_ref(),
        json.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let user = &v["volumes"][0]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["user"] == "José Müller")
        .unwrap()["removal"];
    assert_eq!(user["deleted_registry_entries"], 2);
    assert_eq!(
        user["registry_last_present"]["time"],
        "2012-02-14T09:30:04.0000001Z"
    );
    assert_eq!(
        user["registry_gone_by"]["time"],
        "2014-03-02T10:15:00.0000000Z"
    );
}

#[test]
fn a_shadow_copy_that_still_holds_the_install_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let volume = tmp.path().join("planted.ntfs");
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(root("fixtures/vss/planted/planted.ntfs.gz"))
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: no gzip");
        return;
    };
    std::fs::write(&volume, out.stdout).unwrap();
    let (v, md) = verdicts(&volume);
    let volumes = v["volumes"].as_array().unwrap();
    assert_eq!(volumes.len(), 2, "{volumes:#?}");
    assert!(volumes[0]["snapshot"].is_null());
    let snap = &volumes[1]["snapshot"];
    assert_eq!(snap["of"], volumes[0]["source"]);
    assert_eq!(snap["store"], "vss1");
    assert_eq!(snap["created"], "2014-01-10T12:00:00Z");
    assert_eq!(snap["installed_only_here"], true);
    // The installer's three rows (Downloads) equal the live volume's: not repeated.
    assert_eq!(snap["repeated_rows"], 3, "{snap}");
    assert_eq!(snap["read_warnings"], 0, "{snap}");
    assert_eq!(snap["live_state"], volumes[0]["state"]);
    assert_eq!(volumes[1]["state"], "installed");
    // #17 item 4: on the live volume, Ana's install is last known present when the
    // snapshot was taken, and gone now.
    let ana = user(&v, volumes[0]["source"].as_str().unwrap(), "Ana");
    let present = &ana["presence"]["last_known_present"];
    assert_eq!(present["time"], "2014-01-10T12:00:00Z", "{ana}");
    assert_eq!(present["source"], volumes[1]["source"]);
    assert_eq!(present["path"], r"Users\Ana\AppData\Local\Akamai");
    assert_eq!(ana["presence"]["present_now"], false);
    assert!(
        volumes[1]["users"][0]["presence"].is_null(),
        "a snapshot has none"
    );
    agrees_with_markdown(&v, &md);
}
