//! End-to-end: the output formats (CSV, Timesketch JSONL, TSK bodyfile), several at once,
//! the scan manifest, and what the CLI refuses. On the case image
//! (`fixtures/images/case`), whose planted times and MFT entries its README lists.

mod common;

use std::path::Path;

use common::*;

fn case_image(dir: &Path) -> Option<std::path::PathBuf> {
    gunzip("case/case.raw.gz", dir)
}

/// 2012-02-14 09:30:00 UTC, the planted creation time of netsession_win.exe.
const T_EXE: i64 = 1_329_211_800;

fn microseconds(datetime: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(datetime).ok()?;
    Some(t.timestamp() * 1_000_000 + i64::from(t.timestamp_subsec_micros()))
}

/// Our own bodyfile reader: 11 `|`-separated fields, integer times.
#[derive(Debug)]
struct BodyLine {
    name: String,
    inode: String,
    mode: String,
    size: u64,
    atime: i64,
    mtime: i64,
    ctime: i64,
    crtime: i64,
}

fn parse_bodyfile(text: &str) -> Vec<BodyLine> {
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            assert_eq!(f.len(), 11, "bodyfile line with {} fields: {line}", f.len());
            assert_eq!(f[0], "0", "MD5 field");
            assert_eq!((f[4], f[5]), ("0", "0"), "UID/GID");
            let int = |s: &str| -> i64 { s.parse().unwrap_or_else(|_| panic!("{s} in {line}")) };
            BodyLine {
                name: f[1].to_string(),
                inode: f[2].to_string(),
                mode: f[3].to_string(),
                size: f[6].parse().unwrap(),
                atime: int(f[7]),
                mtime: int(f[8]),
                ctime: int(f[9]),
                crtime: int(f[10]),
            }
        })
        .collect()
}

#[test]
fn csv_jsonl_and_bodyfile_in_one_run_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(image) = case_image(tmp.path()) else {
        return;
    };
    let csv = tmp.path().join("evidence.csv");
    let jsonl = tmp.path().join("evidence.jsonl");
    let body = tmp.path().join("body.txt");
    let out = run_on(
        &image,
        &[
            "-q",
            "-o",
            csv.to_str().unwrap(),
            "--jsonl",
            jsonl.to_str().unwrap(),
            "--bodyfile",
            body.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "-o given: nothing on stdout");
    let rows = parse_csv(&std::fs::read(&csv).unwrap());
    assert!(rows.len() > 40, "{} rows", rows.len());

    // JSONL: one object per CSV row, same fields, same order, plus `timestamp`.
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let objects: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(objects.len(), rows.len());
    for (object, row) in objects.iter().zip(&rows) {
        for (column, value) in row {
            let field = &object[column.as_str()];
            let text = match field {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Null => String::new(),
                other => panic!("{column}: {other}"),
            };
            assert_eq!(&text, value, "{column} of {row:?}");
        }
        match microseconds(&row["datetime"]) {
            Some(us) => assert_eq!(object["timestamp"], us, "{row:?}"),
            None => assert!(object.get("timestamp").is_none()),
        }
    }
    let first_line = text.lines().next().unwrap();
    assert!(first_line.starts_with("{\"datetime\":\""), "{first_line}");

    // The same JSONL through `-f jsonl` on stdout, byte for byte.
    let again = run_on(&image, &["-q", "-f", "jsonl"]);
    assert_eq!(again.stdout, text.as_bytes());

    // Bodyfile: one line per file and attribute, facts on their own.
    let lines = parse_bodyfile(&std::fs::read_to_string(&body).unwrap());
    let exe = "/Users/José Müller/AppData/Local/Akamai/netsession_win.exe";
    let si = lines.iter().find(|l| l.name == exe).expect("exe line");
    assert_eq!(si.inode, "76");
    assert_eq!(si.mode, "r/rrwxrwxrwx");
    assert_eq!(si.size, 30000);
    // Planted: created, modified and MFT changed 09:30:00, accessed 09:35:12.
    assert_eq!(
        (si.crtime, si.mtime, si.ctime, si.atime),
        (T_EXE, T_EXE, T_EXE, T_EXE + 312)
    );
    let fname = format!("{exe} ($FILE_NAME)");
    assert!(lines.iter().any(|l| l.name == fname && l.inode == "76"));
    let deleted = "/Users/José Müller/AppData/Local/Akamai/netsession_win_a1b2c3d.dll (deleted)";
    let dll = lines
        .iter()
        .find(|l| l.name == deleted)
        .expect("deleted DLL");
    assert_eq!(dll.inode, "75");
    let facts: Vec<&BodyLine> = lines.iter().filter(|l| l.name.starts_with('[')).collect();
    assert!(facts.iter().any(|l| l.name.starts_with("[registry.run] ")));
    for fact in &facts {
        assert_eq!(fact.inode, "0");
        assert!(
            fact.atime == fact.mtime && fact.mtime == fact.ctime && fact.ctime == fact.crtime,
            "{fact:?}"
        );
    }
    // Every file row of the CSV has its line.
    for row in rows.iter().filter(|r| r["locator"].starts_with("mft=")) {
        let name = format!("/{}", row["path"].replace('\\', "/"));
        assert!(
            lines.iter().any(|l| l.name.starts_with(&name)),
            "{name} missing"
        );
    }

    // TSK's own reader, where installed.
    let Ok(mactime) = std::process::Command::new("mactime")
        .args(["-b"])
        .arg(&body)
        .args(["-d", "-z", "UTC"])
        .output()
    else {
        eprintln!("skipped the mactime check: sleuthkit not installed");
        return;
    };
    assert!(mactime.status.success(), "mactime failed");
    let listing = String::from_utf8_lossy(&mactime.stdout);
    assert!(
        listing.contains(&format!(
            "Tue Feb 14 2012 09:30:00,30000,m.cb,r/rrwxrwxrwx,0,0,76,\"{exe}\""
        )),
        "{listing}"
    );
    assert!(listing.contains(&format!(
        "Tue Feb 14 2012 09:35:12,30000,.a..,r/rrwxrwxrwx,0,0,76,\"{exe}\""
    )));
    assert!(listing.contains(",macb,-/----------,0,0,0,\"[registry.run] "));
    // Timed facts never show up undated.
    assert!(!listing.contains("Xxx Xxx 00 0000 00:00:00,0,macb"));
}

#[test]
fn manifest_records_inputs_outputs_catalog_and_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(image) = case_image(tmp.path()) else {
        return;
    };
    let csv = tmp.path().join("e.csv");
    let manifest = tmp.path().join("manifest.json");
    let extra = tmp.path().join("extra.toml");
    std::fs::write(
        &extra,
        "[[file]]\nid = \"case.extra\"\nscope = \"tree\"\npaths = [\"Windows\\\\System32\"]\nwhat = \"x\"\nproves = \"x\"\nconfidence = \"S\"\nsource = \"test\"\n",
    )
    .unwrap();
    let out = run_on(
        &image,
        &[
            "-q",
            "-o",
            csv.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
            "--hash-inputs",
            "--catalog",
            extra.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).expect("manifest is JSON");
    assert_eq!(m["tool"], "netsession-scan");
    assert_eq!(m["version"], env!("CARGO_PKG_VERSION"));
    let args: Vec<&str> = m["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.contains(&"--hash-inputs") && args.contains(&image.to_str().unwrap()));
    let started = m["started"].as_str().unwrap();
    let finished = m["finished"].as_str().unwrap();
    assert!(
        started.ends_with('Z') && started <= finished,
        "{started} {finished}"
    );
    let input = &m["inputs"][0];
    assert_eq!(input["kind"], "disk image (GPT)");
    assert_eq!(input["files"][0]["size"], 24 * 1024 * 1024);
    assert_eq!(input["files"][0]["sha256"], sha256_file(&image));
    let output = &m["outputs"][0];
    assert_eq!(output["format"], "csv");
    assert_eq!(output["sha256"], sha256_file(&csv));
    assert_eq!(m["catalog"]["extra"][0]["sha256"], sha256_file(&extra));
    assert_eq!(m["catalog"]["embedded_sha256"].as_str().unwrap().len(), 64);
    let rows = parse_csv(&std::fs::read(&csv).unwrap());
    assert_eq!(m["rows"], rows.len());
    let total: u64 = m["artifacts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, rows.len());
    let extra_rows = rows
        .iter()
        .filter(|r| r["artifact"] == "case.extra")
        .count();
    assert!(extra_rows > 0);
    assert_eq!(
        m["artifacts"]["case.extra"], extra_rows,
        "the extra rule's rows counted"
    );
    assert!(m["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn manifest_lists_e01_segments_and_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = tmp.path().join("m.json");
    let e01 = fixture("gpt.E01");
    let out = run_on(
        &e01,
        &["-q", "--manifest", manifest.to_str().unwrap(), "-o", "-"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let files: Vec<String> = m["inputs"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["size"].as_u64().unwrap() > 0);
            assert!(f.get("sha256").is_none(), "no --hash-inputs: no hash");
            f["path"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files[0].ends_with("gpt.E01") && files[2].ends_with("gpt.E03"));
    // The evidence went to stdout: listed, and said not to be hashed.
    let outputs = m["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(outputs[0]["path"], "(standard output)");
    assert_eq!(outputs[0]["format"], "csv");
    assert!(outputs[0].get("sha256").is_none());
    assert!(
        outputs[0]["note"]
            .as_str()
            .unwrap()
            .contains("give -o FILE")
    );
    // inputs as given and as absolute paths
    let input = &m["inputs"][0];
    assert!(input["path"].as_str().unwrap().ends_with("gpt.E01"));
    let absolute = input["absolute_path"].as_str().unwrap();
    assert!(
        Path::new(absolute).is_absolute() && absolute.ends_with("gpt.E01"),
        "{absolute}"
    );

    // A damaged hive beside a good one: its warning is in the manifest too.
    let hives = tmp.path().join("hives");
    std::fs::create_dir(&hives).unwrap();
    let registry = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/registry");
    std::fs::copy(registry.join("SYSTEM"), hives.join("SYSTEM")).unwrap();
    let mut broken = std::fs::read(registry.join("SOFTWARE")).unwrap();
    broken.truncate(6000);
    std::fs::write(hives.join("SOFTWARE"), broken).unwrap();
    // the same manifest path again: replacing it needs --force
    let out = run(&[
        "-q".as_ref(),
        "--force".as_ref(),
        "--manifest".as_ref(),
        manifest.as_os_str(),
        hives.join("SYSTEM").as_os_str(),
        hives.join("SOFTWARE").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let warnings = m["warnings"].as_array().unwrap();
    assert!(!warnings.is_empty());
    assert!(
        warnings.iter().all(|w| w["input"].is_string()
            && w["location"].is_string()
            && w["message"].is_string())
    );
    assert!(
        warnings
            .iter()
            .any(|w| w["input"].as_str().unwrap().ends_with("SOFTWARE"))
    );
}

#[test]
fn outputs_never_overwrite_evidence_or_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(image) = case_image(tmp.path()) else {
        return;
    };
    let before = sha256_file(&image);
    // The image itself as output.
    let out = run_on(&image, &["-o", image.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refusing to overwrite evidence"),
        "{}",
        stderr(&out)
    );
    // An E01 segment as the manifest.
    let e01 = fixture("gpt.E01");
    let segment = fixture("gpt.E02");
    let out = run(&["--manifest".as_ref(), segment.as_os_str(), e01.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // Two outputs on one file.
    let same = tmp.path().join("same.txt");
    let out = run_on(
        &image,
        &[
            "-o",
            same.to_str().unwrap(),
            "--bodyfile",
            same.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("named for two outputs"));
    // --hash-inputs means nothing without a manifest.
    let out = run_on(&image, &["--hash-inputs"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sha256_file(&image), before, "the image was written");
}

#[test]
fn no_progress_drawing_when_stderr_is_not_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(image) = case_image(tmp.path()) else {
        return;
    };
    let out = run_on(&image, &[]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        !err.contains('\r') && !err.contains('\u{1b}'),
        "progress drawn on a pipe: {err:?}"
    );
    assert!(err.contains("evidence row(s)"), "summary expected: {err}");
}

#[test]
fn verdict_on_stderr_and_as_markdown_report() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(image) = case_image(tmp.path()) else {
        return;
    };
    let report = tmp.path().join("report.md");
    let out = run_on(&image, &["-o", "-", "--report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("NetSession verdict: installed on 1 volume"),
        "{err}"
    );
    assert!(
        err.contains("netsession_win_a1b2c3d.dll — file deleted"),
        "{err}"
    );
    let markdown = std::fs::read_to_string(&report).unwrap();
    assert!(markdown.starts_with("# NetSession report\n"), "{markdown}");
    assert!(markdown.contains("\n## NetSession verdict\n"), "{markdown}");
    assert!(markdown.contains("- tool: netsession-scan "), "{markdown}");
    assert!(
        markdown.contains("| E01 image |") || markdown.contains(" bytes |"),
        "{markdown}"
    );
    assert!(markdown.contains("| ` install.client ` |"), "{markdown}");
    assert!(markdown.contains("Private: allowed"), "{markdown}");
    assert!(markdown.contains("the user's answer to the Windows Firewall prompt"));
    // -q: no verdict on stderr, the report is still written.
    let quiet = run_on(
        &image,
        &[
            "-q",
            "--force",
            "-o",
            "-",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(stderr(&quiet), "");
    // the same report but for the run's command line and times
    let from_inputs = |m: &str| m[m.find("\n## Inputs").unwrap()..].to_string();
    assert_eq!(
        from_inputs(&std::fs::read_to_string(&report).unwrap()),
        from_inputs(&markdown)
    );
}

#[test]
fn the_report_stands_on_its_own_and_carries_the_warnings() {
    // gpt.E02 left out: the missing segment's warning must reach the Markdown report
    let tmp = tempfile::tempdir().unwrap();
    for name in ["gpt.E01", "gpt.E03"] {
        std::fs::copy(fixture(name), tmp.path().join(name)).unwrap();
    }
    let report = tmp.path().join("r.md");
    let e01 = tmp.path().join("gpt.E01");
    let out = run_on(
        &e01,
        &["-q", "-o", "-", "--report", report.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = std::fs::read_to_string(&report).unwrap();
    let size = std::fs::metadata(&e01).unwrap().len();
    assert!(
        md.contains(&format!("| E01 image | {size} bytes |")),
        "{md}"
    );
    assert!(
        md.contains("- started: 20") && md.contains("- finished: 20"),
        "{md}"
    );
    assert!(md.contains("- command line: ` "), "{md}");
    let warnings = &md[md.find("## Warnings").unwrap()..md.find("## NetSession verdict").unwrap()];
    assert!(warnings.contains("gpt.E02 `: missing"), "{warnings}");
    assert!(md.contains("- evidence rows: 9; warnings: 1"), "{md}");
}
