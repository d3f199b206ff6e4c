//! The shape of the code, checked: the top-level modules of `src/` form layers and
//! import only from layers below them (no upward import, hence no cycle), the readers
//! open no files, unsafe code is forbidden, and no source file is long before its tests.
//! ARCHITECTURE.md describes the same layers.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level modules, lowest layer first. A module may import from a strictly lower
/// layer only; modules of one layer do not import each other.
const LAYERS: &[&[&str]] = &[
    &["bytes", "host", "time", "guard", "progress", "cleanup"],
    &["signature"],
    &["evidence"],
    &["warning"],
    &["catalog"],
    &["image"],
    &["partitions", "vss"],
    &["ntfs", "ese"],
    &["fs"],
    &["input"],
    &["content", "registry"],
    &["store"],
    &["scan"],
    &["output", "verdict"],
    &["manifest"],
];

/// Readers get bytes or a stream plus provenance: they never open a path.
const READERS: &[&str] = &["content", "registry"];

/// Longest a source file may be before its `#[cfg(test)]` module.
const MAX_CODE_LINES: usize = 800;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file before its unit tests.
fn code_before_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// The code without its comment lines (a doc link is no import).
fn without_comments(code: &str) -> String {
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file belongs to (`None` for lib.rs and main.rs).
fn top_module(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// A source file of `src/`: its path below `src/`, its top-level module (none for lib.rs
/// and main.rs) and its code before its unit tests.
struct SourceFile {
    rel: String,
    module: Option<String>,
    code: String,
}

fn source_files() -> Vec<SourceFile> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            SourceFile {
                rel: file.strip_prefix(src()).unwrap().display().to_string(),
                module: top_module(file),
                code: code_before_tests(&text).to_string(),
            }
        })
        .collect()
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every top-level module named as `crate::X` in the code, including the names inside
/// `use crate::{a, b::c}` groups.
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find(';').unwrap_or(group.len());
            let mut depth = 0usize;
            let mut word = String::new();
            let mut expecting = true;
            for ch in group[..end].chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        expecting = false;
                    }
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !word.is_empty() {
                            found.insert(std::mem::take(&mut word));
                        }
                        expecting = true;
                    }
                    c if c.is_alphanumeric() || c == '_' => {
                        if expecting {
                            word.push(c);
                        }
                    }
                    _ => {
                        if !word.is_empty() {
                            found.insert(std::mem::take(&mut word));
                            expecting = false;
                        }
                    }
                }
            }
            if !word.is_empty() {
                found.insert(word);
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
        rest = after;
    }
    found
}

#[test]
fn every_top_level_module_has_a_layer() {
    let unplaced: BTreeSet<String> = source_files()
        .into_iter()
        .filter_map(|f| f.module)
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules without a layer in tests/architecture.rs and ARCHITECTURE.md: {unplaced:?}"
    );
}

#[test]
fn no_upward_or_sideways_import() {
    let mut wrong = Vec::new();
    for file in source_files() {
        let Some(module) = file.module else {
            continue;
        };
        let Some(layer) = layer_of(&module) else {
            continue;
        };
        for imported in crate_imports(&without_comments(&file.code)) {
            if let Some(other) = layer_of(&imported)
                && imported != module
                && other >= layer
            {
                wrong.push(format!(
                    "{}: {module} (layer {layer}) imports {imported} (layer {other})",
                    file.rel
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn readers_open_no_files() {
    let mut wrong = Vec::new();
    for file in source_files() {
        if !file.module.is_some_and(|m| READERS.contains(&m.as_str())) {
            continue;
        }
        for needle in [
            "std::fs",
            "crate::fs",
            "crate::host",
            "File::open",
            "read_dir",
        ] {
            if file.code.contains(needle) {
                wrong.push(format!("{} uses {needle}", file.rel));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "readers that open files:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn unsafe_code_is_forbidden() {
    for file in ["lib.rs", "main.rs"] {
        let text = std::fs::read_to_string(src().join(file)).unwrap();
        assert!(
            text.contains("#![forbid(unsafe_code)]"),
            "{file} lacks #![forbid(unsafe_code)]"
        );
    }
}

#[test]
fn no_source_file_is_long_before_its_tests() {
    let long: Vec<String> = source_files()
        .into_iter()
        .filter_map(|file| {
            let lines = file.code.lines().count();
            (lines > MAX_CODE_LINES).then(|| format!("{}: {lines} lines", file.rel))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_CODE_LINES} lines before their tests:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_import_reader_sees_groups() {
    let code = "use crate::{a::{B, C}, d, e::f};\nlet x = crate::g::h();";
    let found: Vec<String> = crate_imports(code).into_iter().collect();
    assert_eq!(found, ["a", "d", "e", "g"]);
}
