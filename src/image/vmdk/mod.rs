//! VMDK (VMware), after VMware's "Virtual Disk Format 5.0": a descriptor and its
//! extents.
//!
//! - Monolithic sparse and stream-optimized: one `KDMV` file with the descriptor
//!   embedded ([`sparse`]).
//! - A descriptor file (`# Disk DescriptorFile`, [`descriptor`]) listing extents, in
//!   order: `FLAT`/`VMFS` (raw bytes from an offset in a file: monolithicFlat,
//!   twoGbMaxExtentFlat, ESX `-flat.vmdk`), `SPARSE` (hosted sparse extents:
//!   twoGbMaxExtentSparse), `ZERO`. Extent files are found beside the descriptor; one
//!   that is not there is [`ImageError::MissingExtent`] naming it.
//! - A snapshot (`parentFileNameHint`, `parentCID` not `ffffffff`): grains its sparse
//!   extents do not hold are read from the parent, found beside the child by the hint's
//!   file name ([`ImageError::MissingParent`] when it is not there). A parent whose CID
//!   is not the child's `parentCID` was changed after the snapshot: the scan is told.
//!
//! Not read: ESX sparse (`COWD`, `VMFSSPARSE`) and space-efficient (`SESPARSE`)
//! extents, raw device maps; `NOACCESS` extents read as errors.

mod descriptor;
mod sparse;

use std::path::{Path, PathBuf};

use descriptor::{Access, Descriptor, ExtentKind};
use sparse::SparseExtent;

use super::container::{
    Container, check_chain, file_name_of, find_beside, find_first_beside, from_parent, read_pieces,
    size_words,
};
use super::file::parent_dir;
use super::source::{ImageError, ImageSource, open_in_chain};
use crate::signature::{VMDK_COWD, VMDK_SPARSE};

/// Largest descriptor file read.
const MAX_DESCRIPTOR: u64 = 1 << 20;
/// Most extents accepted (a 62 TB disk in 2 GB pieces is about 32,000).
const MAX_EXTENTS: usize = 65_536;

enum Data {
    Flat { file: Container, offset: u64 },
    Sparse(SparseExtent),
    Zero,
    NoAccess(String),
}

struct Extent {
    /// Where the extent starts in the disk, and its length, in bytes.
    start: u64,
    len: u64,
    data: Data,
}

/// A VMDK disk: its extents in order, and its parent chain for a snapshot.
pub struct VmdkDisk {
    path: PathBuf,
    descriptor: Descriptor,
    extents: Vec<Extent>,
    size: u64,
    parent: Option<Box<dyn ImageSource>>,
    notes: Vec<(String, String)>,
}

/// The descriptor of the VMDK at `path` (a descriptor file, or a sparse extent's
/// embedded one), and the sparse extent when it is one.
fn read_descriptor(path: &Path) -> Result<(Descriptor, Option<SparseExtent>), ImageError> {
    let file = Container::open(path, "VMDK")?;
    let mut magic = [0u8; 4];
    file.structure(0, &mut magic, "header")?;
    if &magic == VMDK_COWD {
        return Err(file.bad(
            0,
            "an ESX sparse (COWD, vmfsSparse) extent: not read by this version",
        ));
    }
    if &magic == VMDK_SPARSE {
        let extent = SparseExtent::open(file)?;
        let text = extent.embedded_descriptor()?;
        let descriptor = match text {
            Some(text) => descriptor::parse(&text).map_err(|(at, why)| {
                extent.file.bad(
                    extent.header.descriptor_offset * 512 + at,
                    format!("embedded descriptor: {why}"),
                )
            })?,
            None => Descriptor::default(),
        };
        return Ok((descriptor, Some(extent)));
    }
    let len = file.len();
    let bytes = file.structure_vec(0, len, MAX_DESCRIPTOR, "descriptor file")?;
    if !crate::signature::is_vmdk_descriptor(&bytes) {
        return Err(file.bad(0, "neither a sparse extent (KDMV) nor a descriptor file"));
    }
    let text = String::from_utf8_lossy(&bytes);
    let descriptor = descriptor::parse(&text).map_err(|(at, why)| file.bad(at, why))?;
    Ok((descriptor, None))
}

impl VmdkDisk {
    /// Open the VMDK at `path` (a descriptor or a sparse extent) with its extents and
    /// parents.
    pub fn open(path: &Path) -> Result<VmdkDisk, ImageError> {
        VmdkDisk::open_in_chain(path, &[])
    }

    pub(super) fn open_in_chain(path: &Path, chain: &[PathBuf]) -> Result<VmdkDisk, ImageError> {
        let (descriptor, sparse) = read_descriptor(path)?;
        let mut notes = Vec::new();
        let mut extents = Vec::new();
        let mut size = 0u64;
        if let Some(extent) = sparse {
            // One sparse file: its own data, whatever names its embedded descriptor gives.
            size = extent.capacity_bytes();
            if extent.header.unclean {
                notes.push((
                    format!("VMDK {}", path.display()),
                    "marked not cleanly closed (uncleanShutdown): tables may be stale".into(),
                ));
            }
            extents.push(Extent {
                start: 0,
                len: size,
                data: Data::Sparse(extent),
            });
        } else {
            if descriptor.extents.len() > MAX_EXTENTS {
                return Err(ImageError::Structure {
                    format: "VMDK",
                    path: path.to_path_buf(),
                    offset: 0,
                    message: format!(
                        "{} extents (at most {MAX_EXTENTS})",
                        descriptor.extents.len()
                    ),
                });
            }
            for line in &descriptor.extents {
                let len = line.sectors.saturating_mul(512);
                if len == 0 {
                    continue;
                }
                let data = open_extent(path, line, &mut notes)?;
                let start = size;
                size = size.checked_add(len).ok_or_else(|| ImageError::Structure {
                    format: "VMDK",
                    path: path.to_path_buf(),
                    offset: line.at,
                    message: "the extents add up to more than 2^64 bytes".into(),
                })?;
                extents.push(Extent { start, len, data });
            }
            if extents.is_empty() {
                return Err(ImageError::Structure {
                    format: "VMDK",
                    path: path.to_path_buf(),
                    offset: 0,
                    message: "the descriptor lists no extents".into(),
                });
            }
        }
        let parent = match descriptor.parent() {
            Some(hint) => Some(open_parent(path, hint, &descriptor, chain, &mut notes)?),
            None => None,
        };
        Ok(VmdkDisk {
            path: path.to_path_buf(),
            descriptor,
            extents,
            size,
            parent,
            notes,
        })
    }

    fn piece(&self, offset: u64, dest: &mut [u8]) -> Result<usize, ImageError> {
        let index = self
            .extents
            .partition_point(|e| e.start.saturating_add(e.len) <= offset);
        let Some(extent) = self.extents.get(index) else {
            dest.fill(0);
            return Ok(dest.len());
        };
        let within = offset - extent.start;
        let run = usize::try_from(extent.len - within).map_or(dest.len(), |r| r.min(dest.len()));
        let dest = &mut dest[..run];
        match &extent.data {
            Data::Flat { file, offset: base } => {
                file.data(offset, base.saturating_add(within), dest)?;
                Ok(run)
            }
            Data::Zero => {
                dest.fill(0);
                Ok(run)
            }
            Data::Sparse(sparse) if within >= sparse.capacity_bytes() => {
                from_parent(self.parent.as_deref(), offset, dest)
            }
            Data::Sparse(sparse) => match sparse.piece(within, offset, dest)? {
                Some(n) => Ok(n),
                None => {
                    let grain = sparse.grain_bytes();
                    let n = usize::try_from(grain - within % grain).map_or(run, |g| g.min(run));
                    from_parent(self.parent.as_deref(), offset, &mut dest[..n])
                }
            },
            Data::NoAccess(file) => Err(ImageError::VirtualRead {
                format: "VMDK",
                path: self.path.clone(),
                offset,
                file_offset: within,
                message: format!("the extent {file} is marked NOACCESS"),
            }),
        }
    }
}

/// Open one extent line's file, found beside the descriptor.
fn open_extent(
    descriptor: &Path,
    line: &descriptor::ExtentLine,
    notes: &mut Vec<(String, String)>,
) -> Result<Data, ImageError> {
    let name = line.file.clone().unwrap_or_default();
    if line.kind == ExtentKind::Zero {
        return Ok(Data::Zero);
    }
    if line.access == Access::Denied {
        return Ok(Data::NoAccess(name));
    }
    if line.kind == ExtentKind::Other {
        return Err(ImageError::Structure {
            format: "VMDK",
            path: descriptor.to_path_buf(),
            offset: line.at,
            message: format!(
                "{} extent {name:?}: a kind this version does not read",
                line.kind_name
            ),
        });
    }
    let path = locate_extent(descriptor, &name)?;
    match line.kind {
        ExtentKind::Flat => {
            let file = Container::open_extent(&path, "VMDK")?;
            let offset = line.offset.saturating_mul(512);
            let end = offset.saturating_add(line.sectors.saturating_mul(512));
            if end > file.len() {
                notes.push((
                    format!("VMDK extent {}", path.display()),
                    format!(
                        "the descriptor gives {} bytes from {offset}, the file holds {}: \
                         reads past its end fail (truncated?)",
                        line.sectors * 512,
                        file.len()
                    ),
                ));
            }
            Ok(Data::Flat { file, offset })
        }
        _ => {
            let file = Container::open_extent(&path, "VMDK")?;
            let sparse = SparseExtent::open(file)?;
            if sparse.header.capacity < line.sectors {
                notes.push((
                    format!("VMDK extent {}", path.display()),
                    format!(
                        "holds {} sectors, the descriptor gives {}: the rest reads from the \
                         parent or as zeros",
                        sparse.header.capacity, line.sectors
                    ),
                ));
            }
            Ok(Data::Sparse(sparse))
        }
    }
}

/// An extent file: the descriptor's folder joined with the name, or the same file name
/// beside the descriptor.
fn locate_extent(descriptor: &Path, name: &str) -> Result<PathBuf, ImageError> {
    let direct = parent_dir(descriptor).join(name);
    if !name.contains('\\') && !Path::new(name).is_absolute() && direct.is_file() {
        return Ok(direct);
    }
    let missing = || ImageError::MissingExtent {
        descriptor: descriptor.to_path_buf(),
        expected: direct.clone(),
    };
    let file = file_name_of(name).ok_or_else(missing)?;
    find_beside(descriptor, file).map_err(|expected| ImageError::MissingExtent {
        descriptor: descriptor.to_path_buf(),
        expected,
    })
}

/// The parent of a snapshot, beside it by the hint's file name; its CID checked against
/// the child's `parentCID`.
fn open_parent(
    child: &Path,
    hint: &str,
    descriptor: &Descriptor,
    chain: &[PathBuf],
    notes: &mut Vec<(String, String)>,
) -> Result<Box<dyn ImageSource>, ImageError> {
    let path = find_first_beside(child, &[hint.to_string()])?;
    let child_file = Container::open(child, "VMDK")?;
    check_chain(chain, &path, &child_file)?;
    let (parent_descriptor, _) = read_descriptor(&path)?;
    if let (Some(want), Some(got)) = (descriptor.parent_cid, parent_descriptor.cid)
        && want != got
    {
        notes.push((
            format!("parent {}", path.display()),
            format!(
                "its CID is {got:08x}, the snapshot was taken of CID {want:08x}: the parent \
                 changed after the snapshot, and what the snapshot does not hold may differ"
            ),
        ));
    }
    let mut next = chain.to_vec();
    next.push(child.to_path_buf());
    let parent = open_in_chain(&path, &next)?;
    notes.extend(crate::image::virtual_disk::parent_notes(
        &path,
        Vec::new(),
        &parent,
    ));
    Ok(parent)
}

impl ImageSource for VmdkDisk {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        read_pieces(self.size, offset, buf, |at, dest| self.piece(at, dest))
    }

    fn describe(&self) -> String {
        let kind = if self.descriptor.create_type.is_empty() {
            "sparse extent".to_string()
        } else {
            self.descriptor.create_type.clone()
        };
        let mut parts = vec![kind];
        let sparse: Vec<&SparseExtent> = self
            .extents
            .iter()
            .filter_map(|e| match &e.data {
                Data::Sparse(s) => Some(s),
                _ => None,
            })
            .collect();
        if let Some(first) = sparse.first() {
            parts.push(format!("{} grains", size_words(first.grain_bytes())));
            if first.header.compressed() {
                parts.push("compressed".into());
            }
        }
        if self.extents.len() > 1 {
            parts.push(format!("{} extents", self.extents.len()));
        }
        let text = format!("VMDK ({})", parts.join(", "));
        super::virtual_disk::over_parent(text, self.parent.as_deref())
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.path.clone()];
        for extent in &self.extents {
            let path = match &extent.data {
                Data::Flat { file, .. } => file.path(),
                Data::Sparse(s) => s.file.path(),
                _ => continue,
            };
            if !files.iter().any(|f| f == path) {
                files.push(path.to_path_buf());
            }
        }
        super::virtual_disk::with_parent_files(files, self.parent.as_deref())
    }

    fn known_gaps(&self) -> Vec<(String, String)> {
        let mut notes = self.notes.clone();
        for extent in &self.extents {
            if let Data::NoAccess(file) = &extent.data {
                notes.push((
                    format!("bytes {}..{}", extent.start, extent.start + extent.len),
                    format!("extent {file} is marked NOACCESS: reads there fail"),
                ));
            }
        }
        notes
    }
}
