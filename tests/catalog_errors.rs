//! `--catalog FILE` that does not read: the binary says, on one line, which rule (its
//! id), which field and where in the file (line and column), and exits 2.

use std::path::Path;
use std::process::Command;

/// The error line of `netsession-scan --catalog <file holding text> <empty dir>`.
fn error_of(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("case.toml");
    std::fs::write(&catalog, text).unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_netsession-scan"))
        .current_dir(dir.path())
        .args([Path::new("--catalog"), Path::new("case.toml"), &evidence])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    let line = stderr.trim_end();
    // TOML's own rendering (`  |`, `^^^`) squashed into one line is not readable.
    assert!(!line.contains(" | ") && !line.contains('^'), "{line}");
    line.to_string()
}

const GOOD_RULE: &str = r#"[[file]]
id = "case.ok"
what = "a good rule"
proves = "nothing"
confidence = "G"
source = "test"
paths = ["thing.txt"]
"#;

#[test]
fn a_wrong_value_names_the_rule_the_field_and_its_place() {
    let text = format!(
        "{GOOD_RULE}\n[[file]]\nid = \"case.thing\"\nwhat = \"a thing\"\nproves = \"x\"\nconfidence = \"Q\"\nsource = \"me\"\npaths = [\"thing.txt\"]\n"
    );
    assert_eq!(
        error_of(&text),
        "netsession-scan: error: catalog case.toml: rule \"case.thing\", field `confidence`, \
         line 13, column 14: unknown variant `Q`, expected one of `A`, `S`, `G`"
    );
}

#[test]
fn a_wrong_type_names_the_rule_the_field_and_its_place() {
    let text = GOOD_RULE.replace("[\"thing.txt\"]", "\"thing.txt\"");
    assert_eq!(
        error_of(&text),
        "netsession-scan: error: catalog case.toml: rule \"case.ok\", field `paths`, \
         line 7, column 9: invalid type: string \"thing.txt\", expected a sequence"
    );
    let text = format!("{GOOD_RULE}loose = \"yes\"\n");
    assert_eq!(
        error_of(&text),
        "netsession-scan: error: catalog case.toml: rule \"case.ok\", field `loose`, \
         line 8, column 9: invalid type: string \"yes\", expected a boolean"
    );
}

#[test]
fn an_unknown_or_missing_field_is_named_with_the_rule() {
    let unknown = "[[registry]]\nid = \"case.reg\"\nwhat = \"x\"\nproves = \"x\"\nconfidence = \"G\"\nsource = \"x\"\nhives = [\"SOFTWARE\"]\nkeys = [\"Foo\"]\nfamily = \"uninstall\"\ncolour = \"blue\"\n";
    assert_eq!(
        error_of(unknown),
        "netsession-scan: error: catalog case.toml: rule \"case.reg\", field `colour`, \
         line 10, column 10: unknown field `colour`"
    );
    let missing = format!(
        "{GOOD_RULE}\n{}",
        GOOD_RULE.replace("proves = \"nothing\"\n", "")
    );
    assert_eq!(
        error_of(&missing),
        "netsession-scan: error: catalog case.toml: rule \"case.ok\", field `proves`, \
         line 9, column 1: missing field `proves`"
    );
    let no_id = "[[member]]\nclass = \"dll\"\nwhat = \"x\"\nproves = \"x\"\nconfidence = \"G\"\nsource = \"x\"\n";
    assert_eq!(
        error_of(no_id),
        "netsession-scan: error: catalog case.toml: [[member]] rule number 1 (no id), \
         field `id`, line 1, column 1: missing field `id`"
    );
}

#[test]
fn a_syntax_error_gives_line_column_rule_and_the_line() {
    let text = GOOD_RULE.replace("[\"thing.txt\"]", "[\"thing.txt\"");
    assert_eq!(
        error_of(&text),
        "netsession-scan: error: catalog case.toml: line 7, column 21 (in [[file]] rule \
         \"case.ok\"): unclosed array, expected `]`, in `paths = [\"thing.txt\"`"
    );
}

#[test]
fn an_error_outside_the_rules_keeps_its_place() {
    assert_eq!(
        error_of("[terms]\nprefetch = \"netsession\"\n"),
        "netsession-scan: error: catalog case.toml: line 2, column 12: invalid type: \
         string \"netsession\", expected a sequence"
    );
}

#[test]
fn a_bad_pattern_still_names_the_rule_and_the_field() {
    let text = GOOD_RULE.replace("thing.txt", "<nowhere>\\\\thing.txt");
    let error = error_of(&text);
    assert!(
        error.starts_with(
            "netsession-scan: error: catalog case.toml: rule \"case.ok\": field `paths`: "
        ),
        "{error}"
    );
    assert!(error.contains("unknown placeholder"), "{error}");
}
