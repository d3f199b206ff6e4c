//! What can go wrong reading an ESE database, with where it went wrong: a page number
//! and the byte offset in the file, or the long value's id.

/// A problem in an ESE database. A page or a record that cannot be read is one of these;
/// reading goes on with the next (see `EseDatabase::rows`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EseError {
    #[error("not an ESE database: {0}")]
    NotEse(String),
    #[error("database header at offset {offset:#x}: {what}")]
    Header { offset: u64, what: String },
    #[error("page {page} (file offset {offset:#x}): {what}")]
    Page {
        page: u32,
        offset: u64,
        what: String,
    },
    #[error(
        "page {page} (file offset {offset:#x}): {kind} checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
    )]
    Checksum {
        page: u32,
        offset: u64,
        kind: &'static str,
        stored: u32,
        computed: u32,
    },
    #[error("record in page {page} tag {tag} (file offset {offset:#x}): {what}")]
    Record {
        page: u32,
        tag: u16,
        offset: u64,
        what: String,
    },
    #[error("long value {lid:#x} of table {table}: {what}")]
    LongValue {
        table: String,
        lid: u64,
        what: String,
    },
    #[error("catalog (MSysObjects): {0}")]
    Catalog(String),
}
