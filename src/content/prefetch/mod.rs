//! Windows Prefetch files (`Windows\Prefetch\<EXE>-<HASH>.pf`): the program's name, its
//! run count, its last run times (one in versions 17 and 23, up to eight from 26 on), the
//! files it loaded in its first seconds and the volumes they were on.
//!
//! Versions: 17 (XP, 2003), 23 (Vista, 7), 26 (8.x), 30 and 31 (10, 11). Windows 10 and
//! later write the file compressed (`MAM\x04` header, LZXPRESS Huffman, see
//! [`xpress_huffman`]); [`parse`] decompresses it first. Offsets in errors and problems
//! are offsets in the decompressed file (which for an uncompressed file is the file).

pub mod file;
pub mod rows;
pub mod xpress_huffman;

use thiserror::Error;

/// Largest decompressed size accepted (real files are under 1 MiB; the header's size
/// is believed only up to this).
pub const MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// What a Prefetch file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefetch {
    /// Format version: 17, 23, 26, 30 or 31.
    pub version: u32,
    /// The file was MAM-compressed (Windows 10 and later).
    pub compressed: bool,
    /// The executable's name as the header stores it (up to 29 characters, upper case).
    pub executable: String,
    /// The path hash of the header (the hex part of the file name).
    pub hash: u32,
    /// The (decompressed) file size the header states.
    pub stated_size: u32,
    /// How many times the program ran.
    pub run_count: u32,
    /// The last run times as FILETIMEs, newest first, zero slots left out.
    pub last_runs: Vec<u64>,
    /// The file names of the file name strings section (NT device paths, upper case),
    /// in stored order.
    pub loaded_files: Vec<String>,
    /// The volumes of the volume information section.
    pub volumes: Vec<Volume>,
    /// Damage found after the header was read: what could be read is kept, and each
    /// problem says where.
    pub problems: Vec<Problem>,
}

/// One entry of the volume information section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// NT device path, such as `\VOLUME{01d2...-1234abcd}` or `\DEVICE\HARDDISKVOLUME2`.
    pub device_path: String,
    /// The volume's creation time (FILETIME).
    pub created: u64,
    /// The volume serial number.
    pub serial: u32,
    /// The directory strings recorded for this volume.
    pub directories: Vec<String>,
}

/// Damage in a section after the header: the section is skipped or cut, the rest kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Offset in the (decompressed) file.
    pub offset: u64,
    pub what: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PrefetchError {
    #[error("not a Prefetch file: no SCCA signature at offset 4 and no MAM header")]
    NotPrefetch,
    #[error("Prefetch version {version} at offset 0 is not one Windows wrote (17, 23, 26, 30, 31)")]
    UnknownVersion { version: u32 },
    #[error("truncated at offset {offset}: {what} needs {needed} bytes, {available} left")]
    Truncated {
        offset: u64,
        what: &'static str,
        needed: usize,
        available: usize,
    },
    #[error("{what} at offset {offset}: {detail}")]
    Bad {
        offset: u64,
        what: &'static str,
        detail: String,
    },
    #[error("MAM decompression failed: {0}")]
    Decompress(#[from] xpress_huffman::XpressError),
}

/// Reads a Prefetch file, compressed or not, from its bytes.
pub fn parse(bytes: &[u8]) -> Result<Prefetch, PrefetchError> {
    file::parse(bytes)
}
