//! An output file written under a temporary name beside its target and renamed to it
//! only when complete: an interrupted or failed scan leaves no partial output under the
//! name the examiner gave. An existing target is replaced only when asked (`--force`).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// An output being written. A target that exists and is not a regular file (a device
/// such as `/dev/null`, a FIFO) is written in place: it cannot be renamed onto.
#[derive(Debug)]
pub struct PendingFile {
    /// Where the bytes go until the commit (the target itself for a device or FIFO).
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

/// Why an output cannot be started.
#[derive(Debug, thiserror::Error)]
pub enum PendingError {
    #[error("{0}: exists; not overwritten (give --force to replace it)")]
    Exists(PathBuf),
    #[error("{path}: cannot create: {source}")]
    Create { path: PathBuf, source: io::Error },
}

impl PendingFile {
    /// Start writing `target`: a new file `.<name>.<pid>.partial` in the same folder
    /// (so that the rename stays on one file system).
    pub fn create(target: &Path, force: bool) -> Result<(PendingFile, File), PendingError> {
        if let Ok(meta) = std::fs::metadata(target)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(target)
                .map_err(|source| PendingError::Create {
                    path: target.to_path_buf(),
                    source,
                })?;
            let pending = PendingFile {
                temp: target.to_path_buf(),
                target: target.to_path_buf(),
                committed: true,
            };
            return Ok((pending, file));
        }
        if !force && target.exists() {
            return Err(PendingError::Exists(target.to_path_buf()));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let temp = target.with_file_name(format!(".{name}.{}.partial", std::process::id()));
        crate::cleanup::register(&temp);
        let file = File::create(&temp).map_err(|source| {
            crate::cleanup::unregister(&temp);
            PendingError::Create {
                path: target.to_path_buf(),
                source,
            }
        })?;
        Ok((
            PendingFile {
                temp,
                target: target.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The output is complete: give it its name.
    pub fn commit(mut self) -> io::Result<()> {
        if self.committed {
            // Written in place (a device or FIFO).
            return Ok(());
        }
        std::fs::rename(&self.temp, &self.target).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{}: cannot rename from {}: {e}",
                    self.target.display(),
                    self.temp.display()
                ),
            )
        })?;
        crate::cleanup::unregister(&self.temp);
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    /// Not committed (an error ended the scan): the partial file goes.
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
            crate::cleanup::unregister(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn the_target_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("rows.csv");
        let (pending, mut file) = PendingFile::create(&target, false).unwrap();
        file.write_all(b"a,b\n").unwrap();
        drop(file);
        assert!(!target.exists());
        pending.commit().unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"a,b\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place() {
        let null = Path::new("/dev/null");
        if !null.exists() {
            return;
        }
        let (pending, mut file) = PendingFile::create(null, false).unwrap();
        file.write_all(b"x").unwrap();
        pending.commit().unwrap();
        assert!(
            std::fs::metadata(null)
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn an_existing_target_needs_force_and_a_dropped_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("rows.csv");
        std::fs::write(&target, b"old").unwrap();
        let err = PendingFile::create(&target, false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        let (pending, _file) = PendingFile::create(&target, true).unwrap();
        drop(pending);
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
