//! NetSession's own files as the 1.9.x client writes them (NETSESSION.md, "As real
//! installs wrote it"): its logs, its persisted state, its configuration and the
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
