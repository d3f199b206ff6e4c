//! NetSession's own files as the 1.9.x client writes them (README.md, "NetSession's own
//! files"): its logs, its persisted state, its configuration and the
//! diagnostic report. Each reader takes text plus a [`super::FileContext`] and makes
//! rows; none opens a file.
pub mod client_ini;
pub mod common;
pub mod cpl_tasks;
pub mod diagnostic;
pub mod guid_ini;
pub mod log;
pub mod log_rows;
pub mod state;
pub mod user_dat;

use crate::catalog::FileReader;
use crate::evidence::RowSink;

use super::FileContext;

/// Rows of a NetSession file by the reader its member rule names, and the problems met
/// (each names where in the file; the caller warns with them). Log lines are not read
/// here: the text reader makes their rows from every text file.
pub fn read(
    reader: FileReader,
    text: &str,
    ctx: &FileContext,
    out: &mut dyn RowSink,
) -> Vec<String> {
    match reader {
        FileReader::NetsessionState => state::rows(text, ctx, out),
        FileReader::ClientIni => client_ini::rows(text, ctx, out),
        FileReader::GuidIni => guid_ini::rows(text, ctx, out),
        FileReader::UserDat => user_dat::rows(text, ctx, out),
        FileReader::CplTasks => cpl_tasks::rows(text, ctx, out),
        // The header's zone: the source's (its SYSTEM hive's, or --source-tz), else
        // inferred from the report's own last log line, else unknown.
        FileReader::DiagnosticReport => diagnostic::rows(text, ctx, ctx.zone.as_deref(), out),
    }
}
