//! netsession-scan: find the traces of the Akamai NetSession Client in evidence, offline.
//!
//! The library does the work and returns rows and warnings; the binary (`src/main.rs`)
//! is a thin CLI over [`scan`]. Data flows one way (see ARCHITECTURE.md): input →
//! volume → file system view → candidates → readers → rows → sort → writers.

#![forbid(unsafe_code)]

pub mod bytes;
pub mod catalog;
pub mod content;
pub mod evidence;
pub mod fs;
pub mod guard;
pub mod host;
pub mod image;
pub mod input;
pub mod manifest;
pub mod ntfs;
pub mod output;
pub mod partitions;
pub mod progress;
pub mod registry;
pub mod scan;
pub mod signature;
pub mod store;
pub mod time;
pub mod verdict;
pub mod warning;

pub use catalog::Catalog;
pub use evidence::{EvidenceRow, RowCounts};
pub use scan::{
    AnalysisOptions, Report, ScanError, ScanStats, detect_inputs, scan, scan_image_source,
    scan_with_progress,
};
pub use store::{SortedRows, StoreOptions};
pub use warning::{Warning, Warnings};
