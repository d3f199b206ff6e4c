//! What the command says about itself: `--help`, `--completions SHELL`, `--man`, and
//! the documents they and the catalog point the reader to.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netsession-scan"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{args:?} wrote to stderr");
    String::from_utf8(out.stdout).unwrap()
}

/// The long options the CLI has (a sample across its kinds: plain, repeated, made from
/// the output formats, and the two of this file).
const SOME_FLAGS: [&str; 8] = [
    "--output",
    "--catalog",
    "--sort-memory",
    "--jsonl",
    "--bodyfile",
    "--hash-inputs",
    "--completions",
    "--man",
];

#[test]
fn completions_are_made_for_every_shell_without_an_input() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["--completions", shell]);
        assert!(script.contains("netsession-scan"), "{shell}: {script}");
        // fish names long options without their dashes (`-l catalog`).
        for flag in SOME_FLAGS {
            let name = flag.trim_start_matches('-');
            assert!(script.contains(name), "{shell}: {flag} missing");
        }
    }
}

#[test]
fn bash_completion_names_the_real_flags_and_is_valid_bash() {
    let script = stdout_of(&["--completions", "bash"]);
    for flag in SOME_FLAGS {
        assert!(script.contains(flag), "{flag} missing");
    }
    // The shell's values for --completions and the formats for --format are offered.
    for value in ["powershell", "jsonl"] {
        assert!(script.contains(value), "{value} missing");
    }
    match Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(mut child) => {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(e) => eprintln!("bash not runnable ({e}): syntax check skipped"),
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = run(&["--completions", "cmd.exe"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}

#[test]
fn completions_and_man_do_not_take_inputs_or_each_other() {
    for args in [
        &["--man", "somedir"][..],
        &["--completions", "bash", "somedir"],
        &["--man", "--completions", "bash"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn man_page_is_roff_with_the_options() {
    let page = stdout_of(&["--man"]);
    assert!(
        page.lines()
            .take(5)
            .any(|l| l.starts_with(".TH netsession-scan 1")),
        "no .TH header: {}",
        &page[..page.len().min(300)]
    );
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS"] {
        assert!(page.contains(section), "{section} missing");
    }
    // roff writes a minus as `\-`.
    for flag in SOME_FLAGS {
        let roff = flag.replace('-', "\\-");
        assert!(page.contains(&roff), "{flag} missing");
    }
    assert!(
        page.contains("Exit status"),
        "the examples and exit status are not in"
    );
}

#[test]
fn man_page_renders_without_warnings() {
    let page = stdout_of(&["--man"]);
    let child = Command::new("groff")
        .args(["-man", "-Tascii", "-P-cbou", "-ww"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            eprintln!("groff not runnable ({e}): man page rendering not checked");
            return;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim().is_empty(), "groff warns: {stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["NAME", "SYNOPSIS", "OPTIONS", "--catalog", "--completions"] {
        assert!(
            text.contains(word),
            "{word} not in the rendered page:\n{text}"
        );
    }
}

/// The `NAME.md` and `path/NAME.md` in `text`.
fn md_files_named(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, _) in text.match_indices(".md") {
        let after = text[i + 3..].chars().next();
        if after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let start = text[..i]
            .rfind(|c: char| !(c.is_alphanumeric() || "_-./".contains(c)))
            .map_or(0, |p| p + 1);
        let name = &text[start..i + 3];
        if name.len() > 3 {
            names.push(name.to_string());
        }
    }
    names
}

/// The names of the files under `dir` (not in `target` or `.git`).
fn file_names(dir: &Path, names: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() && name != "target" && name != ".git" {
            file_names(&entry.path(), names);
        } else if kind.is_file() {
            names.push(name);
        }
    }
}

/// Those of them that are not files of the repository: a path from the crate's root, or
/// a bare name (`its SOURCES.md`) that no file of the repository has.
fn missing_documents(what: &str, text: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names = Vec::new();
    file_names(root, &mut names);
    md_files_named(text)
        .into_iter()
        .filter(|name| {
            if name.contains('/') {
                // `../` leads out of the repository, whatever is there on this machine.
                name.split('/').any(|c| c == "..") || !root.join(name).is_file()
            } else {
                !names.contains(name)
            }
        })
        .map(|name| format!("{what}: {name}"))
        .collect()
}

#[test]
fn help_and_catalog_point_only_at_documents_in_the_repository() {
    let mut missing = Vec::new();
    for args in [&["--help"][..], &["-h"], &["--man"]] {
        missing.extend(missing_documents(&args.join(" "), &stdout_of(args)));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "src/catalog/netsession.toml",
        "README.md",
        "ARCHITECTURE.md",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        missing.extend(missing_documents(file, &text));
    }
    assert!(missing.is_empty(), "not in the repository: {missing:#?}");
}

#[test]
fn the_document_check_sees_a_missing_document() {
    assert_eq!(
        md_files_named("see DESIGN.md, or README.md."),
        ["DESIGN.md", "README.md"]
    );
    assert_eq!(
        missing_documents("t", "(../shared/NETSESSION.md), DESIGN.md and README.md"),
        ["t: ../shared/NETSESSION.md", "t: DESIGN.md"]
    );
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The number just before `words` in the README, written `**N words**`.
fn readme_number(readme: &str, words: &str) -> usize {
    let marker = format!(" {words}**");
    let end = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README has no `**N {words}**`"));
    let start = readme[..end].rfind("**").unwrap() + 2;
    readme[start..end].parse().unwrap()
}

#[test]
fn readme_demo_counts_are_those_of_a_real_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = bin()
        .current_dir(root)
        .args(["-q", "fixtures/demo-mounted"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut csv = csv::Reader::from_reader(&out.stdout[..]);
    let headers = csv.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (desc, path, source, locator) = (
        column("timestamp_desc"),
        column("path"),
        column("source"),
        column("locator"),
    );
    let mut rows = 0;
    let mut from_contents = 0;
    let mut entries = std::collections::BTreeSet::new();
    for row in csv.records() {
        let row = row.unwrap();
        rows += 1;
        let d = &row[desc];
        if d.ends_with("(filesystem)") || d.starts_with("No Time (file system") {
            entries.insert((
                row[source].to_string(),
                row[path].to_string(),
                row[locator].to_string(),
            ));
        } else {
            from_contents += 1;
        }
    }
    let text = readme();
    let said_contents = readme_number(&text, "rows");
    let said_entries = readme_number(&text, "files and folders");
    assert_eq!(said_contents, from_contents, "rows from contents");
    assert_eq!(said_entries, entries.len(), "matched files and folders");
    let (low, high) = (
        from_contents + entries.len(),
        from_contents + 4 * entries.len(),
    );
    assert!(
        text.contains(&format!("**between {low} and {high} rows**")),
        "README does not give the range {low}..={high}"
    );
    assert!((low..=high).contains(&rows), "{rows} rows");
}

#[test]
fn readme_says_how_to_install_and_to_get_completions_and_the_man_page() {
    let text = readme();
    for words in [
        "cargo install --path .",
        "target/release/netsession-scan",
        "netsession-scan --man",
    ] {
        assert!(text.contains(words), "README does not say {words:?}");
    }
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        // Every shell the binary makes a script for is named in the README.
        stdout_of(&["--completions", shell]);
        assert!(text.contains(shell), "README does not name {shell}");
    }
    assert!(
        text.contains("--completions bash >"),
        "README does not show --completions"
    );
}

#[test]
fn rust_version_is_set_and_the_readme_says_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    let version = manifest["package"]
        .get("rust-version")
        .and_then(|v| v.as_str())
        .expect("no package.rust-version in Cargo.toml");
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    // Edition 2024 needs 1.85; the code's let chains 1.88.
    assert!(
        parts[0] == 1 && parts[1] >= 88,
        "rust-version {version} is too old"
    );
    assert!(
        readme().contains(&format!("Rust {version} or later")),
        "README does not say Rust {version} or later"
    );
}
