//! VHD (Virtual PC, Virtual Server, Hyper-V before VHDX): fixed, dynamic and
//! differencing disks, after Microsoft's "Virtual Hard Disk Image Format Specification".
//!
//! - Fixed: the disk's bytes, then the 512-byte footer.
//! - Dynamic: a footer copy at 0, the dynamic header (where the footer says), the block
//!   allocation table (BAT, one big-endian sector number per block, `0xFFFFFFFF` for a
//!   block not allocated), and each allocated block as a sector bitmap (one bit per
//!   512-byte sector, most significant bit first) followed by its data. An unallocated
//!   block, and a sector whose bit is clear, read as zeros.
//! - Differencing: the same layout; an unallocated block or a clear bit reads from the
//!   parent, a VHD found *beside* the child by the name the child gives (its header's
//!   parent name, then the relative and absolute Windows paths of its locators, reduced
//!   to the file name). The parent's unique id must be the one the child records.
//!
//! The footer's checksum is checked; with a damaged copy at the start, the one at the end
//! is used (and the other way round), and the scan is told.

mod dynamic;
mod footer;

use std::path::{Path, PathBuf};

use dynamic::DynamicHeader;
use footer::{DiskType, FOOTER_LEN, Footer};

use super::container::{
    Container, check_chain, find_first_beside, from_parent, read_pieces, size_words,
};
use super::source::{ImageError, ImageSource, open_in_chain};

/// Most BAT entries accepted (2 TiB in 2 MiB blocks is 1 Mi; the format's limit is
/// 2040 GiB, but small blocks need more).
const MAX_BAT_ENTRIES: u64 = 64 << 20;

enum Layout {
    Fixed,
    Dynamic {
        header: DynamicHeader,
        /// Blocks in the disk (`ceil(size / block_size)`).
        blocks: u64,
    },
}

/// A VHD disk, with its parent chain for a differencing disk.
pub struct VhdDisk {
    file: Container,
    footer: Footer,
    layout: Layout,
    parent: Option<Box<dyn ImageSource>>,
    notes: Vec<(String, String)>,
}

impl VhdDisk {
    /// Open the VHD at `path` (and its parents).
    pub fn open(path: &Path) -> Result<VhdDisk, ImageError> {
        VhdDisk::open_in_chain(path, &[])
    }

    pub(super) fn open_in_chain(path: &Path, chain: &[PathBuf]) -> Result<VhdDisk, ImageError> {
        let file = Container::open(path, "VHD")?;
        let mut notes = Vec::new();
        let (footer, footer_at) = read_footer(&file, &mut notes)?;
        let layout = match footer.disk_type {
            DiskType::Fixed => {
                let data = footer_at;
                if footer.current_size > data {
                    return Err(file.bad(
                        footer_at,
                        format!(
                            "the footer gives a disk of {} bytes, but only {data} bytes precede \
                             it (truncated?)",
                            footer.current_size
                        ),
                    ));
                }
                Layout::Fixed
            }
            DiskType::Dynamic | DiskType::Differencing => {
                let differencing = footer.disk_type == DiskType::Differencing;
                let header = dynamic::read(&file, footer.data_offset, differencing)?;
                let blocks = footer.current_size.div_ceil(u64::from(header.block_size));
                if blocks > u64::from(header.max_table_entries) || blocks > MAX_BAT_ENTRIES {
                    return Err(file.bad(
                        footer.data_offset,
                        format!(
                            "{blocks} blocks of {} bytes make the disk, but the BAT has {} \
                             entries (at most {MAX_BAT_ENTRIES} accepted)",
                            header.block_size, header.max_table_entries
                        ),
                    ));
                }
                let bat_end = header
                    .table_offset
                    .checked_add(blocks * 4)
                    .filter(|&end| end <= file.len());
                if bat_end.is_none() {
                    return Err(file.bad(
                        header.table_offset,
                        format!(
                            "the BAT ({blocks} entries) does not fit in the file of {} bytes \
                             (truncated?)",
                            file.len()
                        ),
                    ));
                }
                Layout::Dynamic { header, blocks }
            }
        };
        let parent = match &layout {
            Layout::Dynamic { header, .. } if footer.disk_type == DiskType::Differencing => {
                Some(open_parent(&file, header, chain, &mut notes)?)
            }
            _ => None,
        };
        if footer.saved_state {
            notes.push((
                "VHD footer".into(),
                "saved-state flag set: the virtual machine was saved, not shut down".into(),
            ));
        }
        Ok(VhdDisk {
            file,
            footer,
            layout,
            parent,
            notes,
        })
    }

    /// The BAT entry of `block`: the block's sector in the file, `None` when not
    /// allocated.
    fn block_sector(
        &self,
        header: &DynamicHeader,
        block: u64,
        disk_offset: u64,
    ) -> Result<Option<u64>, ImageError> {
        let at = header.table_offset.saturating_add(block.saturating_mul(4));
        let mut entry = [0u8; 4];
        self.file.lookup(disk_offset, at, &mut entry, "BAT entry")?;
        let sector = u32::from_be_bytes(entry);
        Ok((sector != u32::MAX).then_some(u64::from(sector)))
    }

    fn piece(&self, offset: u64, dest: &mut [u8]) -> Result<usize, ImageError> {
        let Layout::Dynamic { header, blocks } = &self.layout else {
            self.file.data(offset, offset, dest)?;
            return Ok(dest.len());
        };
        let block_size = u64::from(header.block_size);
        let block = offset / block_size;
        let within = offset % block_size;
        let run = usize::try_from(block_size - within).map_or(dest.len(), |r| r.min(dest.len()));
        let dest = &mut dest[..run];
        let sector = if block < *blocks {
            self.block_sector(header, block, offset)?
        } else {
            None
        };
        let Some(sector) = sector else {
            return self.unallocated(offset, dest);
        };
        let bitmap_at = sector.saturating_mul(512);
        let data_at = bitmap_at.saturating_add(header.bitmap_len());
        // The run of sectors from here whose bits agree (most significant bit first).
        let first = within / 512;
        let last = (within + run as u64 - 1) / 512;
        let first_byte = first / 8;
        let mut bits = vec![0u8; usize::try_from(last / 8 - first_byte + 1).unwrap_or(0)];
        self.file.lookup(
            offset,
            bitmap_at.saturating_add(first_byte),
            &mut bits,
            "sector bitmap",
        )?;
        let bit = |s: u64| {
            let i = usize::try_from(s / 8 - first_byte).unwrap_or(usize::MAX);
            bits.get(i).is_some_and(|b| b & (0x80 >> (s % 8)) != 0)
        };
        let present = bit(first);
        let mut end = first + 1;
        while end <= last && bit(end) == present {
            end += 1;
        }
        let n = usize::try_from((end * 512).min(within + run as u64) - within).unwrap_or(run);
        let dest = &mut dest[..n];
        if present {
            self.file
                .data(offset, data_at.saturating_add(within), dest)?;
            Ok(n)
        } else {
            self.unallocated(offset, dest)
        }
    }

    /// Bytes this file does not hold: the parent's, or zeros.
    fn unallocated(&self, offset: u64, dest: &mut [u8]) -> Result<usize, ImageError> {
        from_parent(self.parent.as_deref(), offset, dest)
    }
}

/// The footer: the copy at the start (dynamic, differencing) or the one at the end.
/// With one copy damaged and the other good, the good one, and a note.
fn read_footer(
    file: &Container,
    notes: &mut Vec<(String, String)>,
) -> Result<(Footer, u64), ImageError> {
    let at_end = file.len().checked_sub(FOOTER_LEN as u64);
    let read = |at: u64| {
        let mut b = vec![0u8; FOOTER_LEN];
        file.structure(at, &mut b, "footer")
            .ok()
            .map(|()| b)
            .filter(|b| b.starts_with(crate::signature::VHD_FOOTER))
    };
    let head = read(0);
    let tail = at_end.and_then(read);
    let end = at_end.unwrap_or(0);
    match (
        head.as_deref().map(footer::parse),
        tail.as_deref().map(footer::parse),
    ) {
        (Some(Ok(h)), t) => {
            if !matches!(t, Some(Ok(_))) || head != tail {
                notes.push((
                    format!("VHD footer at file offset {end}"),
                    "missing, damaged or different from the copy at the start: the file may \
                     be truncated (the copy at the start is used)"
                        .into(),
                ));
            }
            Ok((h, 0))
        }
        (h, Some(Ok(t))) => {
            if let Some(Err(why)) = h {
                notes.push((
                    "VHD footer copy at file offset 0".into(),
                    format!("{why} (the footer at the end is used)"),
                ));
            }
            Ok((t, end))
        }
        (Some(Err(why)), _) => Err(file.bad(0, why)),
        (None, Some(Err(why))) => Err(file.bad(end, why)),
        (None, None) => Err(file.bad(
            end,
            "no VHD footer (cookie \"conectix\") at the start or the end",
        )),
    }
}

/// Find the parent beside the child, open it and check it is the disk the child was
/// made from (the unique id in its footer).
fn open_parent(
    file: &Container,
    header: &DynamicHeader,
    chain: &[PathBuf],
    notes: &mut Vec<(String, String)>,
) -> Result<Box<dyn ImageSource>, ImageError> {
    let path = find_first_beside(file.path(), &header.parent_names())?;
    check_chain(chain, &path, file)?;
    let parent_file = Container::open(&path, "VHD")?;
    let mut parent_notes = Vec::new();
    let (parent_footer, _) = read_footer(&parent_file, &mut parent_notes).map_err(|e| {
        file.bad(
            0,
            format!("its parent {} is not a readable VHD: {e}", path.display()),
        )
    })?;
    if parent_footer.unique_id != header.parent_unique_id {
        return Err(file.bad(
            0,
            format!(
                "its parent {} has unique id {}, but the child was made from {}: not the \
                 same disk",
                path.display(),
                crate::bytes::hex(&parent_footer.unique_id),
                crate::bytes::hex(&header.parent_unique_id)
            ),
        ));
    }
    drop(parent_file);
    let mut next = chain.to_vec();
    next.push(file.path().to_path_buf());
    let parent = open_in_chain(&path, &next)?;
    notes.extend(crate::image::virtual_disk::parent_notes(
        &path,
        parent_notes,
        &parent,
    ));
    Ok(parent)
}

impl ImageSource for VhdDisk {
    fn size(&self) -> u64 {
        self.footer.current_size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        read_pieces(self.size(), offset, buf, |at, dest| self.piece(at, dest))
    }

    fn describe(&self) -> String {
        let kind = self.footer.disk_type.name();
        let creator = String::from_utf8_lossy(&self.footer.creator_app)
            .trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_string();
        let mut text = match &self.layout {
            Layout::Fixed => format!("VHD ({kind}"),
            Layout::Dynamic { header, .. } => format!(
                "VHD ({kind}, {} blocks",
                size_words(u64::from(header.block_size))
            ),
        };
        if !creator.is_empty() {
            text.push_str(&format!(", made by \"{creator}\""));
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

#[cfg(test)]
mod tests {
    use super::footer::tests::footer;
    use super::*;

    /// A dynamic VHD of two 4 KiB blocks: block 0 allocated with sectors 0, 2, 3 and 7
    /// set in its bitmap (its data all 0xAB), block 1 not allocated.
    fn dynamic_vhd(dir: &Path) -> PathBuf {
        let size = 8192u64;
        let mut foot = footer(3, size, 512);
        let mut file = foot.clone();
        let mut dynamic = vec![0u8; 1024];
        dynamic[..8].copy_from_slice(b"cxsparse");
        dynamic[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
        dynamic[16..24].copy_from_slice(&1536u64.to_be_bytes());
        dynamic[28..32].copy_from_slice(&2u32.to_be_bytes());
        dynamic[32..36].copy_from_slice(&4096u32.to_be_bytes());
        let sum = footer::checksum(&dynamic, 36);
        dynamic[36..40].copy_from_slice(&sum.to_be_bytes());
        file.extend(&dynamic);
        let mut bat = vec![0xFFu8; 512];
        bat[..4].copy_from_slice(&4u32.to_be_bytes()); // block 0 at sector 4
        file.extend(&bat);
        let mut bitmap = vec![0u8; 512];
        bitmap[0] = 0b1011_0001;
        file.extend(&bitmap);
        file.extend(std::iter::repeat_n(0xABu8, 4096));
        file.append(&mut foot);
        let path = dir.join("dynamic.vhd");
        std::fs::write(&path, file).unwrap();
        path
    }

    #[test]
    fn clear_bits_and_unallocated_blocks_read_as_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let disk = VhdDisk::open(&dynamic_vhd(dir.path())).unwrap();
        assert_eq!(disk.size(), 8192);
        assert_eq!(
            disk.describe(),
            "VHD (dynamic, 4 KiB blocks, made by \"test\")"
        );
        let mut buf = vec![0x55u8; 9000];
        assert_eq!(disk.read_at(0, &mut buf).unwrap(), 8192);
        for sector in 0..16 {
            let want = if [0, 2, 3, 7].contains(&sector) {
                0xAB
            } else {
                0
            };
            let bytes = &buf[sector * 512..(sector + 1) * 512];
            assert!(bytes.iter().all(|&b| b == want), "sector {sector}");
        }
        // A read across set and clear sectors, from an odd offset.
        let mut small = [0u8; 600];
        assert_eq!(disk.read_at(2 * 512 - 10, &mut small).unwrap(), 600);
        assert!(small[..10].iter().all(|&b| b == 0));
        assert!(small[10..].iter().all(|&b| b == 0xAB));
        assert!(disk.known_gaps().is_empty());
    }
}
