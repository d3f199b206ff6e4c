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
