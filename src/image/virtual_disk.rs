//! Virtual disks (VHD, VHDX, VMDK) recognised by content: the first bytes (a VHD footer
//! copy, `vhdxfile`, `KDMV`, a descriptor's first line) or, for a fixed VHD, the footer
//! in the last 512 bytes.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::source::{ImageError, ImageSource};
use super::vhd::VhdDisk;
use super::vhdx::VhdxDisk;
use super::vmdk::VmdkDisk;
use crate::signature::Signature;

/// The format of the file by content, `None` for anything that is not a virtual disk.
pub fn detect(path: &Path) -> Result<Option<Signature>, ImageError> {
    let open_err = |source| ImageError::Open {
        path: path.to_path_buf(),
        source,
    };
    let file = crate::host::open_evidence_file(path).map_err(open_err)?;
    let mut head = Vec::with_capacity(1024);
    (&file)
        .take(1024)
        .read_to_end(&mut head)
        .map_err(open_err)?;
    match crate::signature::of_file(&head) {
        Some(s @ (Signature::Vhd | Signature::Vhdx | Signature::Vmdk)) => return Ok(Some(s)),
        Some(Signature::Ewf | Signature::EwfLogical | Signature::Hive) => return Ok(None),
        _ => {}
    }
    let mut tail = [0u8; 512];
    let len = file.metadata().map_err(open_err)?.len();
    if len >= 1024 && len % 512 == 0 {
        #[cfg(unix)]
        let got = std::os::unix::fs::FileExt::read_at(&file, &mut tail, len - 512);
        #[cfg(not(unix))]
        let got: std::io::Result<usize> = {
            use std::io::{Seek, SeekFrom};
            (&file)
                .seek(SeekFrom::Start(len - 512))
                .and_then(|_| (&file).read(&mut tail))
        };
        if got.map_err(open_err)? == 512 && crate::signature::is_vhd_footer(&tail) {
            return Ok(Some(Signature::Vhd));
        }
    }
    Ok(None)
}

/// What opening a parent disk noted (its own notes, then what the parent source knows
/// of its gaps), each located as `parent <file>: ...`, for the child's notes.
pub(super) fn parent_notes(
    path: &Path,
    opened: Vec<(String, String)>,
    parent: &dyn ImageSource,
) -> impl Iterator<Item = (String, String)> {
    let name = path.display().to_string();
    opened
        .into_iter()
        .chain(parent.known_gaps())
        .map(move |(l, w)| (format!("parent {name}: {l}"), w))
}

/// A child disk's description followed by its parent's: `<own> over <parent>`.
pub(super) fn over_parent(mut own: String, parent: Option<&dyn ImageSource>) -> String {
    if let Some(parent) = parent {
        own.push_str(" over ");
        own.push_str(&parent.describe());
    }
    own
}

/// A child disk's own files, then its parent's (and theirs).
pub(super) fn with_parent_files(
    mut own: Vec<PathBuf>,
    parent: Option<&dyn ImageSource>,
) -> Vec<PathBuf> {
    if let Some(parent) = parent {
        own.extend(parent.files());
    }
    own
}

/// Open the file as the virtual disk it is, `None` when it is none. `chain` is the
/// files whose parent this is (child first).
pub(super) fn open_by_content(
    path: &Path,
    chain: &[PathBuf],
) -> Result<Option<Box<dyn ImageSource>>, ImageError> {
    Ok(match detect(path)? {
        Some(Signature::Vhd) => Some(Box::new(VhdDisk::open_in_chain(path, chain)?)),
        Some(Signature::Vhdx) => Some(Box::new(VhdxDisk::open_in_chain(path, chain)?)),
        Some(Signature::Vmdk) => Some(Box::new(VmdkDisk::open_in_chain(path, chain)?)),
        _ => None,
    })
}
