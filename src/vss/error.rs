//! What goes wrong reading shadow copies: every error names the volume offset (or the
//! snapshot offset) it is about. Damage is an error, never a panic.

use crate::image::source::ImageError;

#[derive(Debug, thiserror::Error)]
pub enum VssError {
    /// The bytes at `offset` (in the volume named by `on`) could not be read.
    #[error("shadow copies: cannot read {on} at volume offset {offset}: {source}")]
    Read {
        on: &'static str,
        offset: u64,
        source: ImageError,
    },
    /// The volume ends before a structure that should be at `offset`.
    #[error("shadow copies: {what} at volume offset {offset} lies past the end of the {on}")]
    Truncated {
        on: &'static str,
        what: &'static str,
        offset: u64,
    },
    /// The volume header at 0x1E00 names shadow copies but does not read.
    #[error("shadow copies: volume header at volume offset {offset}: {message}")]
    Header { offset: u64, message: String },
    /// A catalog block or entry is damaged.
    #[error("shadow copies: catalog at volume offset {offset}: {message}")]
    Catalog { offset: u64, message: String },
    /// A store's structures (header, block list, bitmap) are damaged.
    #[error("shadow copies: store {store}: at volume offset {offset}: {message}")]
    Store {
        store: String,
        offset: u64,
        message: String,
    },
    /// The stores of this volume are kept on another volume, which was not given.
    #[error(
        "shadow copies: the stores are on another volume ({storage}), which is not in this \
         image nor in another image given to the scan: the snapshots cannot be read without \
         it (give the image of the disk holding it too)"
    )]
    StorageElsewhere { storage: String },
    /// A snapshot needs a store (its own or a newer one) that did not read: `message`
    /// is that store's error, with its offset.
    #[error("shadow copies: snapshot {number} needs store {store}, which does not read: {message}")]
    StoreUnreadable {
        number: usize,
        store: usize,
        message: String,
    },
    /// No snapshot with this number.
    #[error("shadow copies: there is no snapshot {0}")]
    NoSuchSnapshot(usize),
}
