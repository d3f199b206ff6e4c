//! netsession-scan: find the traces of the Akamai NetSession Client in evidence, offline.
//!
//! The library does the work and returns rows and warnings; the binary (`src/main.rs`)
//! is a thin CLI over [`scan`]. Data flows one way (see ARCHITECTURE.md): input →
//! volume → file system view → candidates → readers → rows → sort → writers.

#![forbid(unsafe_code)]

// The parsers and the scan's parts: private to the crate (tests and fuzz targets reach
// them through `internals`).
mod bytes;
mod catalog;
pub mod cleanup;
mod content;
mod ese;
mod evidence;
mod fs;
mod guard;
mod host;
mod image;
mod input;
mod ntfs;
mod partitions;
mod registry;
mod scan;
mod signature;
mod store;
mod time;
mod vss;
mod warning;

// What a program using the library writes with: the output formats, the verdict, the
// manifest, and what a progress display is told.
pub mod manifest;
pub mod output;
pub mod progress;
pub mod verdict;

pub use catalog::Catalog;
pub use evidence::{EvidenceRow, RecordState, RowCounts};
pub use input::{Input, InputError, InputKind};
pub use scan::{
    AnalysisOptions, Report, ScanError, ScanStats, detect_inputs, detect_inputs_with_password,
    scan, scan_image_source, scan_with_progress,
};
pub use store::{SnapshotRead, SortedRows, StoreOptions};
pub use time::zone::{SourceZone, ZoneError};
pub use time::{Precision, Timestamp};
pub use warning::{Warning, Warnings};

/// True while a parser call that turns panics into warnings is running on this thread:
/// a binary's panic hook stays silent then (the panic is handled and reported).
pub fn panic_is_handled() -> bool {
    guard::active()
}

/// **Not API.** The crate's parsers and parts, for its own tests, fuzz targets and
/// benchmarks; they change without notice. Programs use the items at the crate root.
#[doc(hidden)]
pub mod internals {
    pub mod bytes {
        pub use crate::bytes::*;
    }
    pub mod catalog {
        pub use crate::catalog::*;
    }
    pub mod content {
        pub use crate::content::*;
    }
    pub mod ese {
        pub use crate::ese::*;
    }
    pub mod evidence {
        pub use crate::evidence::*;
    }
    pub mod fs {
        pub use crate::fs::*;
    }
    pub mod guard {
        pub use crate::guard::*;
    }
    pub mod host {
        pub use crate::host::*;
    }
    pub mod image {
        pub use crate::image::*;
    }
    pub mod input {
        pub use crate::input::*;
    }
    pub mod ntfs {
        pub use crate::ntfs::*;
    }
    pub mod partitions {
        pub use crate::partitions::*;
    }
    pub mod registry {
        pub use crate::registry::*;
    }
    pub mod vss {
        pub use crate::vss::*;
    }
    pub mod scan {
        pub use crate::scan::*;
    }
    pub mod signature {
        pub use crate::signature::*;
    }
    pub mod store {
        pub use crate::store::*;
    }
    pub mod time {
        pub use crate::time::*;
    }
    pub mod warning {
        pub use crate::warning::*;
    }
}
