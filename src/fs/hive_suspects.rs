//! Files a directory walk sets aside to be looked at for a registry hive's signature:
//! in a collection, any regular file holding a `regf` base block is a hive, whatever its
//! name or folder (`SYSTEM.hiv`, `zoe_NTUSER.DAT`, `hives/1.bin`). Looking costs an open
//! and a 4 KiB read, so only files of a plausible hive size are set aside, and at most
//! [`MAX_SUSPECTS`] of them per walk; the rest are counted so the scan can say so.
//!
//! A primary hive file is a 4 KiB base block followed by hive bins, each a multiple of
//! 4 KiB: its size is a multiple of 4096 and at least 8192 (a base block and one bin).

use std::path::PathBuf;

/// The smallest hive that can hold a key: the base block and one hive bin.
pub const MIN_HIVE_BYTES: u64 = 8192;
/// Hive files grow by whole 4 KiB pages.
pub const HIVE_ALIGN: u64 = 4096;
/// Most files of one walk opened to look for a hive signature.
pub const MAX_SUSPECTS: usize = 20_000;

/// Could a file of `len` bytes be a primary hive file?
pub fn plausible_hive_size(len: u64) -> bool {
    len >= MIN_HIVE_BYTES && len.is_multiple_of(HIVE_ALIGN)
}

/// The files of one directory walk that no catalog rule matched and that could be hives.
#[derive(Debug, Default)]
pub struct HiveSuspects {
    /// The walk's root (canonical), that the paths lie under.
    pub root: PathBuf,
    /// Paths as the walk met them (links never followed).
    pub paths: Vec<PathBuf>,
    /// Files of a plausible size past [`MAX_SUSPECTS`], not set aside.
    pub over_cap: u64,
}

impl HiveSuspects {
    /// Set a regular file the catalog did not match aside when its size fits (one stat;
    /// a file that cannot be stat'ed is left alone, as the walk leaves unmatched files).
    pub fn consider(&mut self, entry: &walkdir::DirEntry) {
        if !entry.file_type().is_file() {
            return;
        }
        let Ok(meta) = entry.metadata() else {
            return;
        };
        if !meta.is_file() || !plausible_hive_size(meta.len()) {
            return;
        }
        if self.paths.len() < MAX_SUSPECTS {
            self.paths.push(entry.path().to_path_buf());
        } else {
            self.over_cap += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert!(!plausible_hive_size(0));
        assert!(!plausible_hive_size(4096));
        assert!(plausible_hive_size(8192));
        assert!(!plausible_hive_size(8193));
        assert!(plausible_hive_size(256 * 1024 * 1024));
    }
}
