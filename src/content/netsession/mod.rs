//! NetSession's own files as the 1.9.x client writes them (NETSESSION.md, "As real
//! installs wrote it"): its logs, its persisted state, its configuration and the
//! diagnostic report. Each reader takes text plus a [`super::FileContext`] and makes
//! rows; none opens a file.
pub mod log;
pub mod log_rows;
