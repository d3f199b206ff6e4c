//! The Velociraptor artifact and the KAPE module (#19 items 2 and 3): they parse as YAML
//! with the fields their tools require, the exact command lines they hold run (the Linux
//! binary and fixture collections standing in for the endpoint) and write every output
//! they upload, what the artifact collects covers every file that produced a row, and the
//! verdict fields its result rows read exist in `--verdict-json`'s schema.
//!
//! No Velociraptor or KAPE binary is available here (README, "Fleet"): the VQL itself is
//! not executed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{BIN, parse_csv, stderr};
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn load(rel: &str) -> (Yaml, String) {
    let text = std::fs::read_to_string(repo(rel)).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(docs.len(), 1, "{rel}: one document");
    (docs.remove(0), text)
}

fn artifact() -> (Yaml, String) {
    load("contrib/velociraptor/Windows.Detection.NetSession.yaml")
}

fn query(doc: &Yaml) -> String {
    doc["sources"][0]["query"].as_str().unwrap().to_string()
}

/// The text between `start` and the bracket that closes the one `start` ends with.
fn bracketed<'a>(text: &'a str, start: &str) -> &'a str {
    let at = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not found"))
        + start.len();
    let (open, close) = match text[..at].chars().last().unwrap() {
        '[' => ('[', ']'),
        '(' => ('(', ')'),
        c => panic!("{start} does not end with a bracket: {c}"),
    };
    let mut depth = 1;
    let mut in_string = false;
    let mut prev = ' ';
    for (i, c) in text[at..].char_indices() {
        if c == '"' && prev != '\\' {
            in_string = !in_string;
        } else if !in_string && c == open {
            depth += 1;
        } else if !in_string && c == close {
            depth -= 1;
            if depth == 0 {
                return &text[at..at + i];
            }
        }
        prev = c;
    }
    panic!("{start}: no closing bracket")
}

/// The comma-separated items of a VQL list, as written (string literals keep quotes).
fn items(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    let mut prev = ' ';
    for c in list.chars() {
        if c == '"' && prev != '\\' {
            in_string = !in_string;
        }
        if c == ',' && !in_string {
            out.push(current.trim().to_string());
            current.clear();
        } else {
            current.push(c);
        }
        prev = c;
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// A VQL string literal's value (`"\\"` is one backslash).
fn literal(item: &str) -> Option<String> {
    let inner = item.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.replace("\\\\", "\\"))
}

#[test]
fn the_artifact_has_what_velociraptor_requires() {
    let (doc, _) = artifact();
    assert_eq!(doc["name"].as_str(), Some("Windows.Detection.NetSession"));
    assert_eq!(doc["type"].as_str(), Some("CLIENT"));
    let tool = &doc["tools"][0];
    assert_eq!(tool["name"].as_str(), Some("NetSessionScan"));
    assert!(tool["url"].as_str().unwrap().starts_with("https://"));
    let hash = tool["expected_hash"].as_str().unwrap();
    assert!(hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(doc["precondition"].as_str().unwrap().contains("windows"));
    let names: Vec<&str> = doc["parameters"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Drives",
            "CollectUsnJournal",
            "MaxFileSize",
            "UploadEvidence"
        ]
    );
    let q = query(&doc);
    assert!(q.contains("Artifact.Generic.Utils.FetchBinary(ToolName=\"NetSessionScan\")"));
    assert!(q.contains("accessor=\"ntfs\""));
    assert!(q.contains("execve(argv=Argv"));
    // Every variable the query reads is one it defines or a parameter.
    for var in [
        "Binary",
        "CollectionDir",
        "OutDir",
        "VolumeGlobs",
        "Volumes",
        "Files",
    ] {
        assert!(q.contains(&format!("LET {var} ")), "{var} not defined");
    }
}

/// The artifact's argv with the endpoint replaced: the binary, the collection folder and
/// the output folder (`OutDir + "\\name"` becomes `out/name`).
fn artifact_argv(collection: &Path, out: &Path) -> Vec<String> {
    let q = query(&artifact().0);
    items(bracketed(&q, "LET Argv = ["))
        .iter()
        .map(|item| {
            if item == "Binary[0].OSPath" {
                BIN.to_string()
            } else if item == "CollectionDir" {
                collection.display().to_string()
            } else if let Some(name) = item.strip_prefix("OutDir + ") {
                let name = literal(name).unwrap_or_else(|| panic!("{item}"));
                out.join(name.trim_start_matches('\\'))
                    .display()
                    .to_string()
            } else {
                literal(item).unwrap_or_else(|| panic!("an argument the test cannot map: {item}"))
            }
        })
        .collect()
}

/// Every name the artifact uploads.
fn uploaded_names() -> Vec<String> {
    let q = query(&artifact().0);
    let mut names: Vec<String> = items(bracketed(&q, "LET Outputs = ("))
        .iter()
        .filter_map(|i| literal(i))
        .collect();
    names.extend(
        items(bracketed(&q, "then=("))
            .iter()
            .filter_map(|i| literal(i)),
    );
    names
}

fn check_outputs(out: &Path, names: &[String]) -> Value {
    for name in names {
        let path = out.join(name);
        assert!(path.is_file(), "{name} not written");
        assert!(std::fs::metadata(&path).unwrap().len() > 0, "{name} empty");
    }
    let rows = parse_csv(
        &std::fs::read(out.join(names.iter().find(|n| n.ends_with(".csv")).unwrap())).unwrap(),
    );
    assert!(!rows.is_empty());
    let verdict: Value = serde_json::from_str(
        &std::fs::read_to_string(
            out.join(
                names
                    .iter()
                    .find(|n| n.ends_with("erdict.json") || n.ends_with("Verdict.json"))
                    .unwrap(),
            ),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(verdict["schema"], "netsession-scan/verdict/1");
    verdict
}

#[test]
fn the_artifacts_command_line_writes_every_upload() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let collection = repo("fixtures/collections/kape");
    let argv = artifact_argv(&collection, &out);
    let status = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
    assert!(status.status.success(), "{argv:?}: {}", stderr(&status));
    let names = uploaded_names();
    assert_eq!(names.len(), 5, "{names:?}");
    let verdict = check_outputs(&out, &names);
    assert_eq!(verdict["state"], "installed", "{verdict}");
    // Every JSONL line is a Timesketch event.
    let jsonl = std::fs::read_to_string(out.join("evidence.jsonl")).unwrap();
    for line in jsonl.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert!(event["message"].is_string() && event["timestamp_desc"].is_string());
    }
    // The manifest hashed every output it lists.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["outputs"].as_array().unwrap().len() >= 4);
    assert!(manifest["inputs"][0]["row_files"].as_array().unwrap().len() > 1);
}

/// NTFS names are case-insensitive: `*` matches within one name, `**` any number of
/// names.
fn glob_matches(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            glob_matches(&pattern[1..], path)
                || (!path.is_empty() && glob_matches(pattern, &path[1..]))
        }
        (Some(p), Some(name)) => name_matches(p, name) && glob_matches(&pattern[1..], &path[1..]),
        _ => false,
    }
}

fn name_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.to_lowercase(), name.to_lowercase());
    match p.split_once('*') {
        None => p == n,
        Some((head, tail)) => {
            n.starts_with(head)
                && (0..=n.len() - head.len().min(n.len())).any(|i| {
                    n.is_char_boundary(head.len() + i) && name_matches(tail, &n[head.len() + i..])
                })
        }
    }
}

#[test]
fn what_the_artifact_collects_covers_every_file_that_produced_a_row() {
    let q = query(&artifact().0);
    let globs: Vec<String> = items(bracketed(&q, "LET VolumeGlobs = ("))
        .iter()
        .map(|i| literal(i).unwrap())
        .collect();
    assert!(globs.iter().any(|g| g == "$MFT"));
    assert!(name_matches("SYSTEM*", "SYSTEM.LOG1") && !name_matches("SYSTEM*", "SOFTWARE"));
    // The demo's Vista+ volume, and the real-install layouts: each file behind a row
    // must be one the artifact copies.
    for (input, volume_root) in [
        ("fixtures/demo-mounted", "fixtures/demo-mounted/C"),
        (
            "fixtures/netsession19/installed",
            "fixtures/netsession19/installed",
        ),
        (
            "fixtures/netsession19/failed",
            "fixtures/netsession19/failed",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let manifest = tmp.path().join("m.json");
        let out = Command::new(BIN)
            .args(["-q", "-o"])
            .arg(tmp.path().join("rows.csv"))
            .arg("--manifest")
            .arg(&manifest)
            .arg("--hash-inputs")
            .arg(repo(input))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let m: Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
        let root = std::fs::canonicalize(repo(volume_root)).unwrap();
        let mut checked = 0;
        for file in m["inputs"][0]["row_files"].as_array().unwrap() {
            let path = std::fs::canonicalize(file["path"].as_str().unwrap()).unwrap();
            let Ok(rel) = path.strip_prefix(&root) else {
                continue; // another volume of the demo (XP, mac)
            };
            let names: Vec<&str> = rel.iter().map(|c| c.to_str().unwrap()).collect();
            let covered = globs.iter().any(|g| {
                let pattern: Vec<&str> = g.split('/').collect();
                glob_matches(&pattern, &names)
            });
            assert!(
                covered,
                "{input}: {} is not collected by the artifact",
                rel.display()
            );
            checked += 1;
        }
        assert!(checked > 0, "{input}");
    }
}

/// A dotted path of the artifact's result rows, looked up in a verdict user (or volume):
/// into the first element of an array; `null` is a value (the field exists).
fn has_path(value: &Value, path: &[&str]) -> bool {
    match path.first() {
        None => true,
        Some(key) => {
            let value = match value {
                Value::Array(items) => match items.first() {
                    Some(first) => first,
                    None => return true, // an empty list: the field's shape is unknown here
                },
                // No value here (no USN deletion...): the field's shape is unknown.
                Value::Null => return true,
                v => v,
            };
            value.get(*key).is_some_and(|v| has_path(v, &path[1..]))
        }
    }
}

/// The `--verdict-json` of `input`.
fn verdict_of(input: &Path, tmp: &Path) -> Value {
    let json = tmp.join("v.json");
    let out = Command::new(BIN)
        .args(["-q", "--force", "-o"])
        .arg(tmp.join("rows.csv"))
        .arg("--verdict-json")
        .arg(&json)
        .arg(input)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap()
}

#[test]
fn the_result_rows_read_fields_the_verdict_json_has() {
    let tmp = tempfile::tempdir().unwrap();
    // The demo (firewall rules, cache) and the uninstalled volume (USN deletions), so
    // that the fields read are filled in somewhere.
    // And a real install's layout (versions, install times, upload settings).
    let mut verdicts = vec![
        verdict_of(&repo("fixtures/demo-mounted"), tmp.path()),
        verdict_of(&repo("fixtures/netsession19/installed"), tmp.path()),
    ];
    if let Some(volume) = common::gunzip("uninstalled/uninstalled.ntfs.gz", tmp.path()) {
        verdicts.push(verdict_of(&volume, tmp.path()));
    }
    let q = query(&artifact().0);
    let select = &q[q.rfind("SELECT source AS Volume").unwrap()..];
    let fields: Vec<&str> = select
        .lines()
        .filter_map(|l| l.trim().split_once(" AS "))
        .map(|(field, _)| field.trim_start_matches("SELECT ").trim())
        .filter(|f| !f.starts_with("Scan["))
        .collect();
    assert!(fields.len() >= 15, "{fields:?}");
    let users: Vec<&Value> = verdicts
        .iter()
        .flat_map(|v| v["volumes"].as_array().unwrap())
        .flat_map(|x| x["users"].as_array().unwrap())
        .collect();
    for field in fields {
        if field == "source" {
            assert!(verdicts[0]["volumes"][0]["source"].is_string());
            continue;
        }
        let path: Vec<&str> = field.split('.').collect();
        // Filled in for some user, and no user holds something else there.
        assert!(
            users.iter().any(|u| has_filled_path(u, &path)),
            "the artifact reads {field}, which --verdict-json never fills in"
        );
        assert!(
            users.iter().all(|u| has_path(u, &path)),
            "the artifact reads {field}, which --verdict-json does not have"
        );
    }
    assert!(!has_path(
        &verdicts[0]["volumes"][0]["users"][0],
        &["no_such_field"]
    ));
}

/// As [`has_path`], but with a value at the end (no `null`, no empty list on the way).
fn has_filled_path(value: &Value, path: &[&str]) -> bool {
    let value = match value {
        Value::Array(items) => return items.iter().any(|v| has_filled_path(v, path)),
        Value::Null => return false,
        v => v,
    };
    match path.first() {
        None => true,
        Some(key) => value
            .get(*key)
            .is_some_and(|v| has_filled_path(v, &path[1..])),
    }
}

/// Windows' command-line splitting for what KAPE passes: quoted runs keep their spaces.
fn split_command_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                any = false;
            }
            c => current.push(c),
        }
    }
    if any || !current.is_empty() {
        out.push(current);
    }
    out
}

#[test]
fn the_kape_module_runs_over_a_target_collection() {
    let (doc, _) = load("contrib/kape/NetSessionScan.mkape");
    for key in [
        "Description",
        "Category",
        "Author",
        "Id",
        "BinaryUrl",
        "ExportFormat",
    ] {
        assert!(doc[key].as_str().is_some(), "{key}");
    }
    assert!(doc["Version"].as_f64().is_some() || doc["Version"].as_str().is_some());
    let id = doc["Id"].as_str().unwrap();
    assert_eq!(
        id.split('-').map(str::len).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    let processor = &doc["Processors"][0];
    assert_eq!(
        processor["Executable"].as_str(),
        Some("netsession-scan.exe")
    );
    assert_eq!(processor["ExportFormat"].as_str(), Some("csv"));
    let line = processor["CommandLine"].as_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let source = repo("fixtures/collections/kape");
    let args: Vec<String> = split_command_line(line)
        .into_iter()
        .map(|a| {
            if a == "%sourceDirectory%" {
                source.display().to_string()
            } else if let Some(name) = a.strip_prefix("%destinationDirectory%\\") {
                tmp.path().join(name).display().to_string()
            } else {
                assert!(!a.contains('%'), "a KAPE variable the test cannot map: {a}");
                a
            }
        })
        .collect();
    let out = Command::new(BIN).args(&args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let names: Vec<String> = [
        "NetSession_Evidence.csv",
        "NetSession_Evidence.jsonl",
        "NetSession_Verdict.md",
        "NetSession_Verdict.json",
        "NetSession_Manifest.json",
    ]
    .map(String::from)
    .to_vec();
    let verdict = check_outputs(tmp.path(), &names);
    assert_eq!(verdict["state"], "installed");
    // Nothing else was written: each output is named in the module.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), names.len());
}
