//! `guid.ini` (and `.bak`): the NetSession client's GUID, in one of two forms seen on
//! real installs:
//!
//! ```text
//! 2c6ee80462a9c427bb3e5bd6f7102693:<40 hex digits>:v0
//! ```
//!
//! or the 32 hex digits alone on a line followed by a block of `#` comment lines that
//! explain the number. Each GUID line is a `netsession.guid` row (`guid=<32 hex>;
//! form=...`, no time). A file without a GUID, and lines that are neither a GUID nor a
//! comment, are problems.

use super::common::{Fields, Problems, fact, is_hex, numbered_lines, quote};
use crate::content::FileContext;
use crate::evidence::RowSink;

pub const GUID: &str = "netsession.guid";

/// Most GUID lines made rows from one file.
const MAX_GUIDS: usize = 1000;

/// A GUID line: its number, the GUID, and what follows it.
struct Found<'a> {
    line: usize,
    guid: String,
    /// `(hash, version)` of the `guid:hash:v0` form.
    hashed: Option<(&'a str, &'a str)>,
    /// Text after the GUID that fits no known form.
    odd: Option<&'a str>,
}

/// Rows of a `guid.ini`'s text, and the problems met.
pub fn rows(text: &str, ctx: &FileContext, out: &mut dyn RowSink) -> Vec<String> {
    let mut problems = Problems::new();
    let mut found: Vec<Found<'_>> = Vec::new();
    let mut comments = 0;
    for (n, raw) in numbered_lines(text) {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') {
            comments += 1;
            continue;
        }
        match guid_line(n, line) {
            Some(f) => {
                if let Some(odd) = f.odd {
                    problems.push(format!(
                        "line {n}: the GUID is followed by {}, which fits neither known form",
                        quote(odd)
                    ));
                }
                if found.len() < MAX_GUIDS {
                    found.push(f);
                } else {
                    problems.push(format!(
                        "line {n}: more than {MAX_GUIDS} GUID lines; not read"
                    ));
                }
            }
            None => problems.push(format!(
                "line {n}: {} is neither a GUID line nor a # comment",
                quote(line)
            )),
        }
    }
    if found.is_empty() {
        problems.push("no GUID found in the file".into());
    }
    for f in &found {
        let form = match (f.hashed, f.odd) {
            (Some(_), _) => "<32 hex>:<40 hex>:<version>",
            (None, Some(_)) => "<32 hex> followed by unknown text",
            (None, None) if comments > 0 => "<32 hex> with # comment block",
            (None, None) => "<32 hex>",
        };
        let mut value = Fields::new();
        value.add("guid", &f.guid).add("form", form);
        if let Some((hash, version)) = f.hashed {
            value.add("hex40", hash).add("version", version);
        }
        if let Some(odd) = f.odd {
            value.add("rest", odd);
        }
        if comments > 0 {
            value.add("comment_lines", &comments.to_string());
        }
        let mut row = fact(ctx, None, "", GUID);
        row.message = format!(
            "NetSession client GUID in {} line {} ({form})",
            ctx.name, f.line
        );
        row.value = value.finish();
        row.locator = format!("line={}", f.line);
        out.push(row);
    }
    problems.into_vec()
}

/// A line starting with 32 hex digits that end there (no 33rd hex digit).
fn guid_line(n: usize, line: &str) -> Option<Found<'_>> {
    let guid = line.get(..32).filter(|g| is_hex(g, 32))?;
    let rest = line.get(32..)?;
    if rest.starts_with(|c: char| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut found = Found {
        line: n,
        guid: guid.to_ascii_lowercase(),
        hashed: None,
        odd: None,
    };
    let rest = rest.trim();
    if rest.is_empty() || rest.starts_with('#') {
        return Some(found);
    }
    let hashed = rest.strip_prefix(':').and_then(|r| {
        let (hash, version) = r.split_once(':')?;
        let ok = is_hex(hash, 40)
            && version.len() > 1
            && version.starts_with('v')
            && version.bytes().skip(1).all(|b| b.is_ascii_digit());
        ok.then_some((hash, version))
    });
    match hashed {
        Some(h) => found.hashed = Some(h),
        None => found.odd = Some(rest),
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::netsession::common::testing::{check_rows, ctx, field, mutations};
    use crate::evidence::EvidenceRow;

    const HASHED: &str =
        "2c6ee80462a9c427bb3e5bd6f7102693:0123456789abcdef0123456789abcdef01234567:v0\r\n";
    const COMMENTED: &str = "2C6EE80462A9C427BB3E5BD6F7102693\n# This number identifies this installation of the\n# client. It is not tied to you or your machine.\n";

    fn read(text: &str) -> (Vec<EvidenceRow>, Vec<String>) {
        let mut rows = Vec::new();
        let problems = super::rows(text, &ctx("guid.ini"), &mut rows);
        check_rows(&rows);
        (rows, problems)
    }

    #[test]
    fn both_forms() {
        let (rows, problems) = read(HASHED);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].value,
            "guid=2c6ee80462a9c427bb3e5bd6f7102693; form=<32 hex>:<40 hex>:<version>; hex40=0123456789abcdef0123456789abcdef01234567; version=v0"
        );
        assert_eq!(rows[0].locator, "line=1");
        assert_eq!(rows[0].artifact, GUID);
        let (rows, problems) = read(COMMENTED);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            field(&rows[0].value, "guid"),
            Some("2c6ee80462a9c427bb3e5bd6f7102693")
        );
        assert_eq!(
            field(&rows[0].value, "form"),
            Some("<32 hex> with # comment block")
        );
        assert_eq!(field(&rows[0].value, "comment_lines"), Some("2"));
    }

    #[test]
    fn damage_and_no_guid() {
        let (rows, problems) = read(&format!("garbage here\n{HASHED}"));
        assert_eq!(
            problems,
            ["line 1: \"garbage here\" is neither a GUID line nor a # comment"]
        );
        assert_eq!(rows[0].locator, "line=2");
        let (rows, problems) = read("2c6ee80462a9c427bb3e5bd6f7102693:0123:v0\n");
        assert!(
            problems[0].starts_with("line 1: the GUID is followed by \":0123:v0\""),
            "{problems:?}"
        );
        assert_eq!(rows.len(), 1, "the GUID itself is still read");
        let (rows, problems) = read("");
        assert!(rows.is_empty());
        assert_eq!(problems, ["no GUID found in the file"]);
        let (rows, problems) = read("# only a comment\n2c6ee80462a9c427bb3e5bd6f71026931\n");
        assert!(rows.is_empty());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[1], "no GUID found in the file");
        let junk = String::from_utf8_lossy(&[0xff, 0xfe, b'2', b'c', 0x80, 0, b'\n']).into_owned();
        let (rows, problems) = read(&junk);
        assert!(rows.is_empty());
        assert!(problems[0].starts_with("line 1:"));
        // Cut inside the 40 hex digits: the GUID stays, the cut is named.
        let (rows, problems) = read(&HASHED[..50]);
        assert_eq!(rows.len(), 1);
        assert!(problems[0].starts_with("line 1: the GUID is followed by"));
        // Multi-byte characters where the GUID should end never split a character.
        let (rows, _) = read("2c6ee80462a9c427bb3e5bd6f710269é:x\n");
        assert!(rows.is_empty());
    }

    #[test]
    fn mutations_never_panic() {
        for sample in [HASHED, COMMENTED] {
            for text in mutations(sample, 300) {
                read(&text);
            }
        }
    }
}
