//! Prefetch files in the scan: every `.pf` the catalog's rule names is read whole (they
//! are kilobytes; more than [`MAX_PF_BYTES`] is not a Prefetch file Windows wrote) and
//! parsed; it is kept when its program or the files it loaded are named by
//! `[terms] prefetch`, and dropped without a row otherwise (it is some other program's).
//! A file that cannot be parsed is a warning; when its name names NetSession its file
//! times are still given, as the only trace it leaves.

use std::io::Read;

use crate::catalog::Catalog;
use crate::content::FileContext;
use crate::content::prefetch::{self, Prefetch, rows as pf_rows};
use crate::evidence::EvidenceRow;

/// Most read of one Prefetch file.
pub(super) const MAX_PF_BYTES: u64 = 16 * 1024 * 1024;

/// What reading one Prefetch file gave.
#[derive(Debug)]
pub(super) enum PrefetchRead {
    /// NetSession's (its program or files it loaded): the rows of its content.
    Kept {
        sha256: String,
        rows: Vec<EvidenceRow>,
        /// The program is NetSession's own (not only a loader of its files).
        program: bool,
    },
    /// Another program's Prefetch file.
    Other,
    /// Not readable as a Prefetch file: why, and the hash of what was read.
    Unreadable { why: String, sha256: String },
}

/// Read and judge one Prefetch file from its stream. `ctx` gives the provenance (its
/// `sha256` is filled here).
pub(super) fn read(
    reader: impl Read,
    catalog: &Catalog,
    hash: bool,
    mut ctx: FileContext,
) -> PrefetchRead {
    let mut bytes = Vec::new();
    if let Err(e) = reader.take(MAX_PF_BYTES + 1).read_to_end(&mut bytes) {
        return PrefetchRead::Unreadable {
            why: format!("read error after {} bytes: {e}", bytes.len()),
            sha256: String::new(),
        };
    }
    let sha256 = if hash {
        super::hives::sha256_hex(&bytes)
    } else {
        String::new()
    };
    if bytes.len() as u64 > MAX_PF_BYTES {
        return PrefetchRead::Unreadable {
            why: format!(
                "larger than {MAX_PF_BYTES} bytes: not a Prefetch file Windows wrote; not parsed"
            ),
            sha256: String::new(),
        };
    }
    let parsed = match crate::guard::call(|| prefetch::parse(&bytes)) {
        Ok(Ok(pf)) => pf,
        Ok(Err(err)) => {
            return PrefetchRead::Unreadable {
                why: format!("not read as a Prefetch file: {err}"),
                sha256,
            };
        }
        Err(panic) => {
            return PrefetchRead::Unreadable {
                why: format!("Prefetch reader failure: {panic}"),
                sha256,
            };
        }
    };
    judge(&parsed, catalog, sha256, &mut ctx)
}

fn judge(pf: &Prefetch, catalog: &Catalog, sha256: String, ctx: &mut FileContext) -> PrefetchRead {
    let terms = &catalog.prefetch_terms;
    match pf_rows::matches(pf, terms) {
        None => PrefetchRead::Other,
        Some(kept) => {
            ctx.sha256 = sha256.clone();
            let mut rows = pf_rows::rows(pf, kept, terms, ctx);
            if !pf.problems.is_empty() {
                // Damage in a later section: what was read is kept; each row says so.
                let problems = pf
                    .problems
                    .iter()
                    .map(|p| format!("{} at offset {}", p.what, p.offset))
                    .collect::<Vec<_>>()
                    .join("; ");
                for row in &mut rows {
                    row.message
                        .push_str(&format!(" [damaged Prefetch file: {problems}]"));
                }
            }
            PrefetchRead::Kept {
                sha256,
                rows,
                program: kept == pf_rows::Match::Program,
            }
        }
    }
}

/// Whether a file name (`NETSESSION_WIN.EXE-1A2B3C4D.pf`) names a term: the only test
/// left for a file whose content cannot be read.
pub(super) fn name_is_netsession(name: &str, catalog: &Catalog) -> bool {
    let lower = name.to_lowercase();
    catalog
        .prefetch_terms
        .iter()
        .any(|t| lower.contains(t.as_str()))
}

/// Rows of a Prefetch file given on the command line: its content rows when it is
/// NetSession's; a warning when it cannot be read, and a note when it is another
/// program's (an input given on purpose gets an answer).
pub(super) fn read_host_file(
    input: &crate::input::Input,
    catalog: &Catalog,
    hash: bool,
    warnings: &crate::warning::Warnings,
) -> Vec<EvidenceRow> {
    let ctx = FileContext {
        path: input.label.clone(),
        name: input
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        user: String::new(),
        source: input.label.clone(),
        state: crate::evidence::RecordState::Allocated,
        sha256: String::new(),
        zone: None,
    };
    let outcome = match crate::host::open_evidence_file(&input.path) {
        Ok(file) => read(file, catalog, hash, ctx),
        Err(e) => PrefetchRead::Unreadable {
            why: format!("cannot open: {e}"),
            sha256: String::new(),
        },
    };
    match outcome {
        PrefetchRead::Kept { rows, .. } => rows,
        PrefetchRead::Other => {
            warnings.push(
                &input.label,
                "file",
                "a Prefetch file of a program no [terms] prefetch term names: no rows",
            );
            Vec::new()
        }
        PrefetchRead::Unreadable { why, .. } => {
            warnings.push(&input.label, "file", why);
            Vec::new()
        }
    }
}
