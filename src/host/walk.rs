//! Listing the host's folders without changing their access times where the kernel
//! allows it.
//!
//! Reading a folder's entries updates its access time on a writable mount (under the
//! default `relatime`, when the access time is not newer than the last change, or a day
//! old), and the next scan would report that as evidence. `std::fs::read_dir` (and so
//! walkdir, which lists with it) cannot ask for `O_NOATIME`; on Linux the folders are
//! opened here with it, and opened as usual where the kernel refuses it (it is granted to
//! the folder's owner and to root, `CAP_FOWNER`). [`keeps_atime`] says beforehand whether
//! reading an entry can change its access time.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};

/// What a folder entry is, links not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Dir,
    File,
    Symlink,
    Other,
}

impl EntryType {
    pub fn is_dir(self) -> bool {
        self == EntryType::Dir
    }

    pub fn is_file(self) -> bool {
        self == EntryType::File
    }

    pub fn is_symlink(self) -> bool {
        self == EntryType::Symlink
    }

    fn of(file_type: std::fs::FileType) -> EntryType {
        if file_type.is_dir() {
            EntryType::Dir
        } else if file_type.is_file() {
            EntryType::File
        } else if file_type.is_symlink() {
            EntryType::Symlink
        } else {
            EntryType::Other
        }
    }

    /// Asks the file system when the folder listing did not say.
    fn of_path(path: &Path) -> EntryType {
        std::fs::symlink_metadata(path)
            .map(|m| EntryType::of(m.file_type()))
            .unwrap_or(EntryType::Other)
    }
}

/// A folder's entries: (name, type).
pub type Entries = Vec<(OsString, EntryType)>;

/// The entries of the folder `path` (without `.` and `..`), as (name, type), sorted by
/// name so that walks are in the same order on every copy of the evidence. On Linux the
/// folder is read with `O_NOATIME` where the kernel allows it.
pub fn list_dir(path: &Path) -> io::Result<Entries> {
    let mut entries = read_entries(path)?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

#[cfg(target_os = "linux")]
fn read_entries(path: &Path) -> io::Result<Entries> {
    use rustix::fs::{CWD, Dir, FileType, Mode, OFlags, openat};
    use std::os::unix::ffi::OsStringExt;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = match openat(CWD, path, flags | OFlags::NOATIME, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::PERM) => openat(CWD, path, flags, Mode::empty())?,
        Err(err) => return Err(err.into()),
    };
    let mut entries = Vec::new();
    for entry in Dir::new(fd)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let name = OsString::from_vec(name.to_vec());
        let kind = match entry.file_type() {
            FileType::Directory => EntryType::Dir,
            FileType::RegularFile => EntryType::File,
            FileType::Symlink => EntryType::Symlink,
            FileType::Unknown => EntryType::of_path(&path.join(&name)),
            _ => EntryType::Other,
        };
        entries.push((name, kind));
    }
    Ok(entries)
}

#[cfg(not(target_os = "linux"))]
fn read_entries(path: &Path) -> io::Result<Entries> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        let kind = match entry.file_type() {
            Ok(t) => EntryType::of(t),
            Err(_) => EntryType::of_path(&entry.path()),
        };
        entries.push((entry.file_name(), kind));
    }
    Ok(entries)
}

/// Why the scan leaves out access times it cannot keep, for the warning that says so.
#[cfg(target_os = "linux")]
pub const ATIME_REASON: &str = "this user cannot read them without changing them \
    (O_NOATIME needs the owner or root; a read-only or noatime mount keeps them)";
#[cfg(windows)]
pub const ATIME_REASON: &str = "Windows may update a file's last access time when it is \
    read, and this build does not open files so as to keep it (a write-blocked or read-only \
    volume keeps them; `fsutil behavior query disablelastaccess` says whether updates are on)";
#[cfg(not(any(target_os = "linux", windows)))]
pub const ATIME_REASON: &str = "this system gives no way to read them without changing \
    them (a read-only or noatime mount keeps them)";

/// Can the scan read the entry at `path` (list a folder, read a file) without changing
/// its access time? Yes where the kernel grants `O_NOATIME` on it (owner or root), or
/// where its mount never updates access times (`ro`, `noatime`; `nodiratime` for
/// folders). Nothing is read to find out: opening alone changes no time. No elsewhere
/// than on Linux, where the scan cannot ask.
pub fn keeps_atime(path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, Mode, OFlags, StatVfsMountFlags, openat, statvfs};
        let flags = OFlags::RDONLY
            | OFlags::NOATIME
            | OFlags::NOFOLLOW
            | OFlags::NONBLOCK
            | OFlags::NOCTTY
            | OFlags::CLOEXEC;
        match openat(CWD, path, flags, Mode::empty()) {
            Ok(_) => true,
            Err(rustix::io::Errno::PERM) => statvfs(path).is_ok_and(|fs| {
                let mut never = StatVfsMountFlags::RDONLY | StatVfsMountFlags::NOATIME;
                if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
                    never |= StatVfsMountFlags::NODIRATIME;
                }
                fs.f_flag.intersects(never)
            }),
            // Not openable at all (a link, no permission): the scan cannot read it either.
            Err(_) => true,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        false
    }
}

/// One entry met by [`HostWalk`].
#[derive(Debug, Clone)]
pub struct WalkEntry {
    path: PathBuf,
    depth: usize,
    kind: EntryType,
}

impl WalkEntry {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 0 for the root, 1 for its entries, and so on.
    pub fn depth(&self) -> usize {
        self.depth
    }

    pub fn file_type(&self) -> EntryType {
        self.kind
    }

    /// The last component (the whole path for a root without one, such as `/`).
    pub fn file_name(&self) -> &OsStr {
        self.path.file_name().unwrap_or(self.path.as_os_str())
    }

    /// The entry's own metadata (a link's, not its target's).
    pub fn metadata(&self) -> io::Result<std::fs::Metadata> {
        std::fs::symlink_metadata(&self.path)
    }
}

/// A folder that could not be listed (or a root that could not be looked at).
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WalkError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// A depth-first walk of a host folder, each folder yielded before its entries, links
/// never followed (the root itself is). Folders are listed with [`list_dir`], one at a
/// time as the walk enters them; memory holds the names of the folders on the current
/// path only.
pub struct HostWalk {
    root: Option<PathBuf>,
    max_depth: usize,
    /// A folder just yielded, to be listed before the next entry: (path, its entries' depth).
    enter: Option<(PathBuf, usize)>,
    /// The folders being walked: (path, depth of its entries, entries left).
    stack: Vec<(PathBuf, usize, <Entries as IntoIterator>::IntoIter)>,
}

impl HostWalk {
    pub fn new(root: impl Into<PathBuf>) -> HostWalk {
        HostWalk {
            root: Some(root.into()),
            max_depth: usize::MAX,
            enter: None,
            stack: Vec::new(),
        }
    }

    /// Entries deeper than `depth` are not yielded, and folders at `depth` not listed.
    pub fn max_depth(mut self, depth: usize) -> HostWalk {
        self.max_depth = depth;
        self
    }

    fn yielded(&mut self, path: PathBuf, depth: usize, kind: EntryType) -> WalkEntry {
        if kind.is_dir() && depth < self.max_depth {
            self.enter = Some((path.clone(), depth + 1));
        }
        WalkEntry { path, depth, kind }
    }
}

impl Iterator for HostWalk {
    type Item = Result<WalkEntry, WalkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(root) = self.root.take() {
            return Some(match std::fs::metadata(&root) {
                Ok(meta) => Ok(self.yielded(root, 0, EntryType::of(meta.file_type()))),
                Err(source) => Err(WalkError { path: root, source }),
            });
        }
        if let Some((folder, depth)) = self.enter.take() {
            match list_dir(&folder) {
                Ok(entries) => self.stack.push((folder, depth, entries.into_iter())),
                Err(source) => {
                    return Some(Err(WalkError {
                        path: folder,
                        source,
                    }));
                }
            }
        }
        loop {
            let (folder, depth, entries) = self.stack.last_mut()?;
            match entries.next() {
                Some((name, kind)) => {
                    let (path, depth) = (folder.join(name), *depth);
                    return Some(Ok(self.yielded(path, depth, kind)));
                }
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Unix: the expected names use `/`, and the walk meets a symbolic link.
    #[cfg(unix)]
    #[test]
    fn walks_depth_first_sorted_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/inner")).unwrap();
        std::fs::create_dir(root.join("a")).unwrap();
        std::fs::write(root.join("b/inner/f"), b"x").unwrap();
        std::fs::write(root.join("c"), b"x").unwrap();
        std::os::unix::fs::symlink(root.join("b"), root.join("link")).unwrap();
        let walked: Vec<(String, usize, EntryType)> = HostWalk::new(root)
            .map(Result::unwrap)
            .skip(1)
            .map(|e| {
                let rel = e.path().strip_prefix(root).unwrap();
                (rel.display().to_string(), e.depth(), e.file_type())
            })
            .collect();
        let expected = vec![
            ("a".to_string(), 1, EntryType::Dir),
            ("b".into(), 1, EntryType::Dir),
            ("b/inner".into(), 2, EntryType::Dir),
            ("b/inner/f".into(), 3, EntryType::File),
            ("c".into(), 1, EntryType::File),
            ("link".into(), 1, EntryType::Symlink),
        ];
        assert_eq!(walked, expected);
        let shallow: Vec<usize> = HostWalk::new(root)
            .max_depth(1)
            .map(|e| e.unwrap().depth())
            .collect();
        assert_eq!(shallow.iter().max(), Some(&1));
        assert_eq!(shallow.len(), 5);
    }

    #[test]
    fn a_folder_that_cannot_be_listed_is_an_error_and_the_walk_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut walk = HostWalk::new(dir.path().join("absent"));
        assert!(walk.next().unwrap().is_err());
        assert!(walk.next().is_none());
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        assert!(list_dir(&dir.path().join("file")).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn listing_as_owner_keeps_the_folder_access_time() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("f");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("x"), b"x").unwrap();
        // Older than the last change: relatime would update it on a plain listing.
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400);
        std::fs::File::open(&folder)
            .unwrap()
            .set_times(std::fs::FileTimes::new().set_accessed(old))
            .unwrap();
        assert!(keeps_atime(&folder));
        assert_eq!(list_dir(&folder).unwrap().len(), 1);
        assert_eq!(std::fs::metadata(&folder).unwrap().accessed().unwrap(), old);
    }
}
