//! The SRUM database in the scan: read whole (up to `ese::MAX_DATABASE_BYTES`) through
//! the file-system view, opened by our ESE reader, and its network and application
//! resource usage records of the
//! programs `[terms] srum` names turned into rows. A dirty database is read as it
//! stands, with a warning that the last hours may be missing.

use std::io::Read;

use crate::catalog::Catalog;
use crate::content::srum::rows::{DbContext, app_row, network_row};
use crate::content::srum::{APP_USAGE_TABLE, NETWORK_TABLE, SrumIds, app_usage, network_usage};
use crate::ese::{EseDatabase, MAX_DATABASE_BYTES};
use crate::evidence::EvidenceRow;
use crate::fs::{Candidate, FileSystem};
use crate::warning::Warnings;

/// Rows of every SRUM database among `candidates` of a view.
pub(super) fn read_databases(
    view: &dyn FileSystem,
    candidates: &[Candidate],
    catalog: &Catalog,
    users: &[(String, String)],
    warnings: &Warnings,
) -> Vec<EvidenceRow> {
    let mut rows = Vec::new();
    for candidate in candidates {
        let ctx = DbContext {
            path: candidate.evidence_path(),
            source: view.candidate_source(candidate),
            sha256: String::new(),
            users: users.to_vec(),
        };
        let bytes = match view.open(candidate) {
            Ok(reader) => read_capped(reader),
            Err(err) => Err(err.to_string()),
        };
        match bytes {
            Ok(bytes) => rows.extend(database_rows(&bytes, catalog, ctx, warnings)),
            Err(why) => warnings.push(
                &ctx.source,
                &ctx.path,
                format!("SRUM database not read: {why}"),
            ),
        }
    }
    rows
}

/// Rows of a database given on the command line.
pub(super) fn read_host_database(
    input: &crate::input::Input,
    catalog: &Catalog,
    users: &[(String, String)],
    warnings: &Warnings,
) -> Vec<EvidenceRow> {
    let ctx = DbContext {
        path: input.label.clone(),
        source: input.label.clone(),
        sha256: String::new(),
        users: users.to_vec(),
    };
    let bytes = crate::host::open_evidence_file(&input.path)
        .map_err(|e| format!("cannot open: {e}"))
        .and_then(read_capped);
    match bytes {
        Ok(bytes) => database_rows(&bytes, catalog, ctx, warnings),
        Err(why) => {
            warnings.push(
                &ctx.source,
                "file",
                format!("SRUM database not read: {why}"),
            );
            Vec::new()
        }
    }
}

fn read_capped(reader: impl Read) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_DATABASE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("read failed after {} bytes: {e}", bytes.len()))?;
    if bytes.len() as u64 > MAX_DATABASE_BYTES {
        return Err(format!("larger than {MAX_DATABASE_BYTES} bytes; not read"));
    }
    Ok(bytes)
}

/// The rows of one database's bytes; problems become warnings naming it.
pub(super) fn database_rows(
    bytes: &[u8],
    catalog: &Catalog,
    mut ctx: DbContext,
    warnings: &Warnings,
) -> Vec<EvidenceRow> {
    let source = ctx.source.clone();
    let location = if ctx.path == ctx.source {
        "database".to_string()
    } else {
        ctx.path.clone()
    };
    let warn = |message: String| warnings.push(&source, &location, message);
    let db = match crate::guard::call(|| EseDatabase::open(bytes)) {
        Ok(Ok(db)) => db,
        Ok(Err(err)) => {
            warn(format!("not read as an ESE database: {err}"));
            return Vec::new();
        }
        Err(panic) => {
            warn(format!("ESE reader failure: {panic}"));
            return Vec::new();
        }
    };
    for problem in db.problems() {
        warn(problem.to_string());
    }
    if !db.header().state.is_clean() {
        warn(format!(
            "database not shut down cleanly ({:?}): read as it stands, the last hours SRUM held in memory or in its logs may be missing",
            db.header().state
        ));
    }
    ctx.sha256 = crate::scan::hives::sha256_hex(bytes);
    let terms = &catalog.srum_terms;
    let wanted = |app: &str| {
        let lower = app.to_lowercase();
        terms.iter().any(|t| lower.contains(t.as_str()))
    };
    let outcome = crate::guard::call(|| {
        let (ids, id_problems) = SrumIds::read(&db);
        let (records, mut problems) = network_usage(&db, &ids, &wanted);
        let (apps, app_problems) = app_usage(&db, &ids, &wanted);
        problems.extend(app_problems);
        (id_problems, (records, apps), problems)
    });
    let (id_problems, (records, apps), problems) = match outcome {
        Ok(found) => found,
        Err(panic) => {
            warn(format!("ESE reader failure: {panic}"));
            return Vec::new();
        }
    };
    for problem in id_problems.iter().chain(&problems) {
        warn(problem.to_string());
    }
    records
        .iter()
        .map(|r| network_row(r, NETWORK_TABLE, &ctx))
        .chain(apps.iter().map(|r| app_row(r, APP_USAGE_TABLE, &ctx)))
        .collect()
}
