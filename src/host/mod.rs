//! The host's own files: evidence on a mounted image or in a collection folder, opened
//! read-only (and on Linux without touching the access time where the kernel allows it),
//! and their names as text. The only module besides the directory view and the image
//! readers that opens paths; parsers get bytes or readers.

pub mod collected;
mod names;
pub mod walk;

pub use names::{display_name, display_path, path_prefix};

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Open read-only, and on Linux without updating the access time when the kernel lets
/// us (O_NOATIME needs ownership or CAP_FOWNER): reading evidence should not change it.
/// On Windows the file is shared for reading, writing and deletion, so that a system
/// still running (a live triage) keeps its own handles working and the scan is not
/// refused a file another program holds open.
pub fn open_evidence_file(path: &Path) -> io::Result<File> {
    open_read_only(path)
}

#[cfg(windows)]
fn open_read_only(path: &Path) -> io::Result<File> {
    use std::os::windows::fs::OpenOptionsExt;
    // FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
    const SHARE_ALL: u32 = 0x1 | 0x2 | 0x4;
    OpenOptions::new()
        .read(true)
        .share_mode(SHARE_ALL)
        .open(path)
}

#[cfg(not(windows))]
fn open_read_only(path: &Path) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NOATIME: i32 = 0o1_000_000;
        if let Ok(file) = OpenOptions::new()
            .read(true)
            .custom_flags(O_NOATIME)
            .open(path)
        {
            return Ok(file);
        }
    }
    OpenOptions::new().read(true).open(path)
}

/// The regular files in the folder of `path` (the file itself included), as (display
/// name, path); nothing when the folder cannot be listed.
pub fn files_beside(path: &Path) -> Vec<(String, PathBuf)> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(entries) = walk::list_dir(folder) else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter(|(_, kind)| kind.is_file())
        .map(|(name, _)| (display_name(&name), folder.join(name)))
        .collect()
}
