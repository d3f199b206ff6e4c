//! The host files behind the rows of a directory input, for `--hash-inputs`: a folder
//! cannot be hashed as one, so the manifest hashes each file that produced a row.
//!
//! A row names its file the same way for every reader: `source` is the input as given,
//! with ` root=X` when the volume root is a folder `X` below it (or ` root=/abs` when
//! the examiner named a folder inside the volume); a registry row's locator starts with
//! `hive=PATH offset=`, the hive's path from the volume root; every other row's `path`
//! is its file's path from the volume root (Windows volumes with `\`, macOS with `/`).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::input::Input;
use crate::store::SortedRows;

/// Files of one directory input that produced rows.
#[derive(Debug, Default)]
pub struct RowFiles {
    /// Host path -> (rows it produced, the SHA-256 its rows state, if any).
    pub files: BTreeMap<PathBuf, (u64, Option<String>)>,
    /// Rows of this input about a folder (nothing to hash).
    pub rows_of_folders: u64,
    /// Rows of this input that name nothing on the host (an entry of a deleted record in a
    /// collected `$MFT`, a file gone since the scan read it).
    pub rows_without_a_host_file: u64,
}

enum Resolved {
    File(PathBuf),
    Folder,
    Missing,
}

/// The files behind the rows of `input` (a directory), from `rows`.
pub fn of_directory(input: &Input, rows: &SortedRows) -> io::Result<RowFiles> {
    let mut found = RowFiles::default();
    // Resolved once per (source, path): many rows come from one file.
    let mut known: BTreeMap<(String, String), Resolved> = BTreeMap::new();
    rows.visit(|row| {
        let Some(base) = volume_root(input, &row.source) else {
            return Ok(());
        };
        let in_volume = file_in_volume(&row.path, &row.locator).to_string();
        let resolved = known
            .entry((row.source.clone(), in_volume.clone()))
            .or_insert_with(|| {
                let host = join_evidence_path(&base, &in_volume);
                match std::fs::metadata(&host) {
                    Ok(m) if m.is_file() => Resolved::File(host),
                    Ok(m) if m.is_dir() => Resolved::Folder,
                    _ => Resolved::Missing,
                }
            });
        match resolved {
            Resolved::File(host) => {
                let entry = found.files.entry(host.clone()).or_insert((0, None));
                entry.0 += 1;
                if entry.1.is_none() && !row.sha256.is_empty() {
                    entry.1 = Some(row.sha256.clone());
                }
            }
            Resolved::Folder => found.rows_of_folders += 1,
            Resolved::Missing => found.rows_without_a_host_file += 1,
        }
        Ok(())
    })?;
    Ok(found)
}

/// The host folder of the volume root a row of `input` names in its `source`; `None`
/// for a row of another input.
fn volume_root(input: &Input, source: &str) -> Option<PathBuf> {
    let rest = source.strip_prefix(input.label.as_str())?;
    if rest.is_empty() {
        return Some(input.path.clone());
    }
    let root = rest.strip_prefix(" root=")?;
    // `/abs` on Unix, `C:/abs` or `//server/share/abs` on Windows.
    if root.starts_with('/') || root.as_bytes().get(1) == Some(&b':') {
        return Some(PathBuf::from(root));
    }
    let mut base = input.path.clone();
    base.extend(root.split('/').filter(|c| !c.is_empty()));
    Some(base)
}

/// The file of a row with this `path` and `locator`, as a path from the volume root.
fn file_in_volume<'a>(path: &'a str, locator: &'a str) -> &'a str {
    if let Some(hive) = locator.strip_prefix("hive=") {
        return hive.find(" offset=").map_or(hive, |end| &hive[..end]);
    }
    path
}

fn join_evidence_path(base: &Path, path: &str) -> PathBuf {
    let separator = if path.contains('\\') { '\\' } else { '/' };
    let mut host = base.to_path_buf();
    host.extend(
        path.split(separator)
            .filter(|c| !c.is_empty() && *c != "." && *c != ".."),
    );
    host
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::InputKind;

    fn input(path: &str) -> Input {
        Input {
            path: PathBuf::from(path),
            label: path.to_string(),
            kind: InputKind::Directory,
            password: None,
        }
    }

    #[test]
    fn sources_name_the_volume_root() {
        let i = input("cases/x");
        assert_eq!(volume_root(&i, "cases/x"), Some(PathBuf::from("cases/x")));
        assert_eq!(
            volume_root(&i, "cases/x root=C"),
            Some(PathBuf::from("cases/x/C"))
        );
        assert_eq!(
            volume_root(&i, "cases/x root=uploads/auto/C%3A"),
            Some(PathBuf::from("cases/x/uploads/auto/C%3A"))
        );
        assert_eq!(
            volume_root(&i, "cases/x root=/mnt/c"),
            Some(PathBuf::from("/mnt/c"))
        );
        // Another input whose name starts with this one's.
        assert_eq!(volume_root(&i, "cases/x2 root=C"), None);
        assert_eq!(volume_root(&i, "cases/xy"), None);
    }

    #[test]
    fn hive_rows_name_their_hive_others_their_path() {
        assert_eq!(
            file_in_volume(
                r"NTUSER\Software\Run",
                r"hive=Users\José Müller\NTUSER.DAT offset=0x38cc"
            ),
            r"Users\José Müller\NTUSER.DAT"
        );
        assert_eq!(
            file_in_volume(r"Users\a\log.txt", "line=3"),
            r"Users\a\log.txt"
        );
        assert_eq!(
            join_evidence_path(Path::new("/e/C"), r"Users\a\..\log.txt"),
            PathBuf::from("/e/C/Users/a/log.txt")
        );
        assert_eq!(
            join_evidence_path(Path::new("/e/mac"), "Users/alice/x.plist"),
            PathBuf::from("/e/mac/Users/alice/x.plist")
        );
    }
}
