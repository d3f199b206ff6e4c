//! VHDX (Hyper-V, Windows 8 and later), after Microsoft's [MS-VHDX]: fixed, dynamic and
//! differencing disks.
//!
//! The header section ([`header`]) gives the current header (two copies, CRC-32C, the
//! higher sequence number wins) and the region table (BAT and metadata regions); the
//! metadata ([`metadata`]) gives the block size, the disk size, the logical sector size
//! and, for a differencing disk, the parent locator; the BAT ([`bat`]) maps each payload
//! block: not present (the parent's bytes, or zeros without a parent), zero / undefined
//! / unmapped (zeros), fully present (the file's bytes), partially present (per logical
//! sector, by the chunk's sector bitmap: bit set from this file, clear from the parent;
//! bit 0 of byte 0 is the first sector).
//!
//! The parent of a differencing disk is found *beside* the child, by the file name in
//! the locator's `relative_path`, then `absolute_win32_path`, then `volume_path`; its
//! DataWriteGuid must be the child's `parent_linkage` (or `parent_linkage2`).
//!
//! The log is not replayed: a header whose LogGuid is not zero (the disk was not closed
//! cleanly, the log may hold writes never applied) is read as it stands, and
//! [`ImageSource::known_gaps`] and [`ImageSource::describe`] say so.

mod bat;
mod crc32c;
mod header;
mod metadata;

use std::path::{Path, PathBuf};

use bat::Payload;
use header::{Header, Regions};
use metadata::Metadata;

use super::container::{
    Container, check_chain, find_first_beside, from_parent, guid_text, read_pieces, size_words,
};
use super::source::{ImageError, ImageSource, open_in_chain};

/// A VHDX disk, with its parent chain for a differencing disk.
pub struct VhdxDisk {
    file: Container,
    header: Header,
    regions: Regions,
    meta: Metadata,
    parent: Option<Box<dyn ImageSource>>,
    notes: Vec<(String, String)>,
}

impl VhdxDisk {
    /// Open the VHDX at `path` (and its parents).
    pub fn open(path: &Path) -> Result<VhdxDisk, ImageError> {
        VhdxDisk::open_in_chain(path, &[])
    }

    pub(super) fn open_in_chain(path: &Path, chain: &[PathBuf]) -> Result<VhdxDisk, ImageError> {
        let file = Container::open(path, "VHDX")?;
        let mut notes = Vec::new();
        header::check_identifier(&file)?;
        let header = header::current_header(&file, &mut notes)?;
        if header.log_dirty() {
            notes.push((
                format!("VHDX log at file offset {}", header.log_offset),
                format!(
                    "the log is dirty (LogGuid {}, {} bytes) and was not replayed: the disk \
                     was not closed cleanly, and writes still in the log are not in what is \
                     read",
                    guid_text(&header.log_guid),
                    header.log_length
                ),
            ));
        }
        let regions = header::regions(&file, &mut notes)?;
        let meta = metadata::read(&file, regions.metadata)?;
        let needed = bat::entries_needed(&meta);
        if needed.saturating_mul(8) > regions.bat.length {
            return Err(file.bad(
                regions.bat.offset,
                format!(
                    "the BAT region holds {} entries, the disk needs {needed}",
                    regions.bat.length / 8
                ),
            ));
        }
        let parent = if meta.has_parent {
            Some(open_parent(&file, &meta, chain, &mut notes)?)
        } else {
            None
        };
        Ok(VhdxDisk {
            file,
            header,
            regions,
            meta,
            parent,
            notes,
        })
    }

    /// Is the log dirty (not replayed)?
    pub fn log_dirty(&self) -> bool {
        self.header.log_dirty()
    }

    fn kind(&self) -> &'static str {
        if self.meta.has_parent {
            "differencing"
        } else if self.meta.leave_blocks_allocated {
            "fixed"
        } else {
            "dynamic"
        }
    }

    fn piece(&self, offset: u64, dest: &mut [u8]) -> Result<usize, ImageError> {
        let block_size = u64::from(self.meta.block_size);
        let block = offset / block_size;
        let within = offset % block_size;
        let run = usize::try_from(block_size - within).map_or(dest.len(), |r| r.min(dest.len()));
        let dest = &mut dest[..run];
        let bat = self.regions.bat;
        match bat::payload(&self.file, bat, &self.meta, block, offset)? {
            Payload::NotPresent => from_parent(self.parent.as_deref(), offset, dest),
            Payload::Zero => {
                dest.fill(0);
                Ok(run)
            }
            Payload::Full(at) => {
                self.file.data(offset, at.saturating_add(within), dest)?;
                Ok(run)
            }
            Payload::Partial(at) if self.meta.has_parent => {
                let bitmap = bat::sector_bitmap(&self.file, bat, &self.meta, block, offset)?;
                let sector = u64::from(self.meta.logical_sector);
                let per_block = block_size / sector;
                let ratio = self.meta.chunk_ratio().max(1);
                let base = (block % ratio) * per_block;
                let first = base + within / sector;
                let last = base + (within + run as u64 - 1) / sector;
                let mut bits = vec![0u8; usize::try_from(last / 8 - first / 8 + 1).unwrap_or(0)];
                self.file.lookup(
                    offset,
                    bitmap.saturating_add(first / 8),
                    &mut bits,
                    "sector bitmap",
                )?;
                let bit = |s: u64| {
                    let i = usize::try_from(s / 8 - first / 8).unwrap_or(usize::MAX);
                    bits.get(i).is_some_and(|b| b & (1 << (s % 8)) != 0)
                };
                let present = bit(first);
                let mut end = first + 1;
                while end <= last && bit(end) == present {
                    end += 1;
                }
                let end_in_block = (end - base) * sector;
                let n =
                    usize::try_from(end_in_block.min(within + run as u64) - within).unwrap_or(run);
                let dest = &mut dest[..n];
                if present {
                    self.file.data(offset, at.saturating_add(within), dest)?;
                    Ok(n)
                } else {
                    from_parent(self.parent.as_deref(), offset, dest)
                }
            }
            // Partially present is for differencing disks only; without a parent the
            // block's bytes are the file's.
            Payload::Partial(at) => {
                self.file.data(offset, at.saturating_add(within), dest)?;
                Ok(run)
            }
        }
    }
}

/// Find the parent beside the child, check its DataWriteGuid against the child's
/// `parent_linkage`, and open it.
fn open_parent(
    file: &Container,
    meta: &Metadata,
    chain: &[PathBuf],
    notes: &mut Vec<(String, String)>,
) -> Result<Box<dyn ImageSource>, ImageError> {
    let path = find_first_beside(file.path(), &meta.parent_names())?;
    check_chain(chain, &path, file)?;
    let parent_file = Container::open(&path, "VHDX")?;
    let mut parent_notes = Vec::new();
    let parent_header = header::check_identifier(&parent_file)
        .and_then(|()| header::current_header(&parent_file, &mut parent_notes))
        .map_err(|e| {
            file.bad(
                0,
                format!("its parent {} is not a readable VHDX: {e}", path.display()),
            )
        })?;
    let norm = |s: &str| {
        s.trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace())
            .to_ascii_uppercase()
    };
    let actual = guid_text(&parent_header.data_write_guid);
    let linkage: Vec<String> = ["parent_linkage", "parent_linkage2"]
        .iter()
        .filter_map(|k| meta.parent.get(*k))
        .map(|v| norm(v))
        .collect();
    if !linkage.contains(&actual) {
        return Err(file.bad(
            0,
            format!(
                "its parent {} has DataWriteGuid {actual}, but the child's parent_linkage is \
                 {}: not the disk the child was made from (or it changed since)",
                path.display(),
                linkage.join(" / ")
            ),
        ));
    }
    drop(parent_file);
    let mut next = chain.to_vec();
    next.push(file.path().to_path_buf());
    let parent = open_in_chain(&path, &next)?;
    if parent.size() < meta.disk_size {
        notes.push((
            format!("parent {}", path.display()),
            format!(
                "the parent holds {} bytes, the child {}: the rest reads as zeros",
                parent.size(),
                meta.disk_size
            ),
        ));
    }
    notes.extend(crate::image::virtual_disk::parent_notes(
        &path,
        parent_notes,
        &parent,
    ));
    Ok(parent)
}

impl ImageSource for VhdxDisk {
    fn size(&self) -> u64 {
        self.meta.disk_size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        read_pieces(self.size(), offset, buf, |at, dest| self.piece(at, dest))
    }

    fn describe(&self) -> String {
        let mut text = format!(
            "VHDX ({}, {} blocks",
            self.kind(),
            size_words(u64::from(self.meta.block_size))
        );
        if self.meta.logical_sector != 512 {
            text.push_str(&format!(", {}-byte sectors", self.meta.logical_sector));
        }
        if self.header.log_dirty() {
            text.push_str(", log dirty and not replayed");
        }
        text.push(')');
        super::virtual_disk::over_parent(text, self.parent.as_deref())
    }

    fn files(&self) -> Vec<PathBuf> {
        super::virtual_disk::with_parent_files(
            vec![self.file.path().to_path_buf()],
            self.parent.as_deref(),
        )
    }

    fn known_gaps(&self) -> Vec<(String, String)> {
        self.notes.clone()
    }
}
