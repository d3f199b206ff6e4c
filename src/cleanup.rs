//! What an interrupted scan must not leave behind: the temporary runs of rows waiting to
//! be sorted (evidence, in the temporary folder) and outputs not yet complete. Each is
//! registered while it exists; [`remove_all`] (called by the binary's Ctrl-C and
//! SIGTERM handler) removes whatever is still registered.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the lock was held leaves the list as it was: still usable.
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remember `path` (a file or a folder) as something to remove on interruption.
pub fn register(path: &Path) {
    pending().push(path.to_path_buf());
}

/// Forget `path`: it is complete, or already removed.
pub fn unregister(path: &Path) {
    pending().retain(|p| p != path);
}

/// Remove everything registered (folders with their content); how many were removed.
pub fn remove_all() -> usize {
    let paths = std::mem::take(&mut *pending());
    paths
        .iter()
        .filter(|p| {
            if p.is_dir() {
                remove_dir_while_written(p)
            } else {
                std::fs::remove_file(p).is_ok()
            }
        })
        .count()
}

/// Removes a folder that another thread may still be writing a file into (a spill of
/// sorted rows in flight): removal fails while a new entry appears, so it is tried
/// again. Once the folder is gone no file can be made in it (it is made only once).
fn remove_dir_while_written(dir: &Path) -> bool {
    for _ in 0..100 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return true,
            Err(_) if dir.exists() => continue,
            Err(_) => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_files_and_folders_are_removed_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("partial.csv");
        let folder = dir.path().join("runs");
        std::fs::write(&file, b"x").unwrap();
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("run-1.rows"), b"y").unwrap();
        let kept = dir.path().join("kept.csv");
        std::fs::write(&kept, b"z").unwrap();
        register(&file);
        register(&folder);
        register(&kept);
        unregister(&kept);
        assert!(remove_all() >= 2);
        assert!(!file.exists() && !folder.exists() && kept.exists());
    }
}
