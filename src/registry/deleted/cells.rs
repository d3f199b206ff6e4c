//! The free-cell walk: every hive bin in order, every cell of each bin, and the free
//! ones (positive size) kept as ranges of hive-bins offsets. Damage (a bin without its
//! signature, a cell whose size cannot be right) is an error naming the offset; the walk
//! skips the rest of that bin (or stops, when the bins themselves are lost) and keeps
//! what it has.

use crate::bytes::{array, bytes_eq, u32_le};
use crate::registry::base_block::HBIN_START;

/// Size of a hive bin's header; its first cell follows it.
const HBIN_HEADER: u32 = 32;
/// Hive bins are multiples of this size.
const HBIN_UNIT: u32 = 4096;

/// Damage met by the walk. Offsets are hive-bins offsets (file offset − 4096), the
/// spelling cell offsets have inside a hive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    #[error(
        "no hive bin signature at hive-bins offset {offset:#x} (file offset {:#x}); the search goes on at the next bin that names its own offset",
        *offset as usize + HBIN_START
    )]
    NoBin { offset: u32 },
    #[error(
        "hive bin at hive-bins offset {offset:#x} declares size {size:#x}, not a multiple of 4096 inside the hive; the search goes on at the next bin that names its own offset"
    )]
    BadBinSize { offset: u32, size: u32 },
    #[error(
        "cell at hive-bins offset {offset:#x} has an impossible size {size} (bin ends at {bin_end:#x}); the rest of its bin was not searched"
    )]
    BadCell {
        offset: u32,
        size: i32,
        bin_end: u32,
    },
    #[error(
        "hive bins end at hive-bins offset {end:#x}, short of the {declared:#x} bytes the base block declares (truncated hive); free cells were searched as far as the bins go"
    )]
    Truncated { end: u32, declared: u32 },
}

impl CellError {
    /// Hive-bins offset of the damage.
    pub fn offset(&self) -> u32 {
        match self {
            CellError::NoBin { offset }
            | CellError::BadBinSize { offset, .. }
            | CellError::BadCell { offset, .. } => *offset,
            CellError::Truncated { end, .. } => *end,
        }
    }
}

/// Where the free space of a hive is.
#[derive(Debug, Default, Clone)]
pub struct CellMap {
    /// Free cells as `[start, end)` hive-bins offsets, in bin order (so sorted).
    pub free: Vec<(u32, u32)>,
    /// End of the last bin walked.
    pub bins_end: u32,
    /// The bins walked, `[start, end)`, in order (damaged ones left out).
    pub bins: Vec<(u32, u32)>,
    /// Bytes of the file after the last hive bin, as `[start, end)` hive-bins offsets: a
    /// primary file may keep older data there (remnant data). Empty when there is none.
    pub tail: (u32, u32),
    pub errors: Vec<CellError>,
}

impl CellMap {
    /// Walk the bins of `hive` (base block included) up to `declared` bytes of bins.
    pub fn walk(hive: &[u8], declared: u32) -> CellMap {
        let mut map = CellMap::default();
        let available = u32::try_from(hive.len().saturating_sub(HBIN_START)).unwrap_or(u32::MAX);
        let limit = declared.min(available);
        let mut rel: u32 = 0;
        while rel.saturating_add(HBIN_HEADER) <= limit {
            let at = HBIN_START + rel as usize;
            let size = u32_le(hive, at + 8).unwrap_or(0);
            let end = rel
                .checked_add(size)
                .filter(|_| size >= HBIN_UNIT && size.is_multiple_of(HBIN_UNIT));
            let error = if !bytes_eq(hive, at, b"hbin") {
                Some(CellError::NoBin { offset: rel })
            } else if end.is_none() {
                Some(CellError::BadBinSize { offset: rel, size })
            } else {
                None
            };
            let (Some(end), None) = (end, error.clone()) else {
                map.errors.extend(error);
                rel = next_bin(hive, rel, limit);
                continue;
            };
            // A bin cut short by truncation is still searched as far as it goes.
            let bin_end = end.min(limit);
            map.walk_cells(hive, rel + HBIN_HEADER, bin_end);
            map.bins.push((rel, bin_end));
            map.bins_end = bin_end;
            rel = bin_end;
            if end > limit {
                break;
            }
        }
        if declared > available {
            map.errors.push(CellError::Truncated {
                end: available,
                declared,
            });
        }
        if declared < available && rel == declared {
            map.tail = (declared, available);
        }
        map
    }

    fn walk_cells(&mut self, hive: &[u8], start: u32, bin_end: u32) {
        let mut cell = start;
        while cell.saturating_add(4) <= bin_end {
            let Some(size) = array(hive, HBIN_START + cell as usize).map(i32::from_le_bytes) else {
                return;
            };
            let len = size.unsigned_abs();
            if len < 8
                || !len.is_multiple_of(8)
                || cell.checked_add(len).is_none_or(|e| e > bin_end)
            {
                self.errors.push(CellError::BadCell {
                    offset: cell,
                    size,
                    bin_end,
                });
                return;
            }
            if size > 0 {
                match self.free.last_mut() {
                    // Adjacent free cells (Windows merges them; a damaged hive may not
                    // have) are one region for the search.
                    Some(last) if last.1 == cell => last.1 = cell + len,
                    _ => self.free.push((cell, cell + len)),
                }
            }
            cell += len;
        }
    }

    /// `(offset, size)` of every allocated cell of the walked bins, walked again (the
    /// map keeps only free space).
    pub fn allocated<'m, 'h: 'm>(
        &'m self,
        hive: &'h [u8],
    ) -> impl Iterator<Item = (u32, u32)> + 'm {
        let mut bins = self.bins.iter();
        let mut cell: u32 = 0;
        let mut bin_end: u32 = 0;
        std::iter::from_fn(move || {
            loop {
                if cell.saturating_add(4) > bin_end {
                    let &(start, end) = bins.next()?;
                    bin_end = end;
                    cell = start + HBIN_HEADER;
                    continue;
                }
                let size = array(hive, HBIN_START + cell as usize).map(i32::from_le_bytes)?;
                let len = size.unsigned_abs();
                if len < 8
                    || !len.is_multiple_of(8)
                    || cell.checked_add(len).is_none_or(|e| e > bin_end)
                {
                    cell = bin_end; // damaged: the walk warned; skip the rest of the bin
                    continue;
                }
                let at = cell;
                cell += len;
                if size < 0 {
                    return Some((at, len));
                }
            }
        })
    }

    /// The free region holding hive-bins offset `offset`, if any.
    pub fn free_region(&self, offset: u32) -> Option<(u32, u32)> {
        let i = self.free.partition_point(|&(_, end)| end <= offset);
        self.free
            .get(i)
            .copied()
            .filter(|&(start, _)| start <= offset)
    }

    /// Is `[start, end)` inside one free region?
    pub fn is_free(&self, start: u32, end: u32) -> bool {
        self.free_region(start).is_some_and(|(_, e)| end <= e)
    }

    /// Is the offset inside a walked bin's cells and not free: a cell in use now?
    pub fn is_allocated(&self, offset: u32) -> bool {
        let i = self.bins.partition_point(|&(_, end)| end <= offset);
        self.bins
            .get(i)
            .is_some_and(|&(start, _)| offset >= start + HBIN_HEADER)
            && self.free_region(offset).is_none()
    }

    /// The regions to search: free cells, then the remnant data after the bins.
    pub fn regions(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let tail = (self.tail.0 < self.tail.1).then_some(self.tail);
        self.free.iter().copied().chain(tail)
    }

    /// Is `[start, end)` inside the searched space (free cells or the tail)?
    pub fn is_searchable(&self, start: u32, end: u32) -> bool {
        self.is_free(start, end) || (start >= self.tail.0 && end <= self.tail.1)
    }
}

/// After damage at `rel`: the next 4 KiB boundary holding a bin that names its own
/// offset (a bin header records it), or `limit`.
fn next_bin(hive: &[u8], rel: u32, limit: u32) -> u32 {
    let mut next = rel.saturating_add(HBIN_UNIT);
    while next.saturating_add(HBIN_HEADER) <= limit {
        let at = HBIN_START + next as usize;
        if bytes_eq(hive, at, b"hbin") && u32_le(hive, at + 4) == Some(next) {
            return next;
        }
        next = next.saturating_add(HBIN_UNIT);
    }
    limit.max(rel.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A base block's worth of zeros, then bins made of `(size, cells)`.
    fn hive(bins: &[(u32, &[i32])]) -> (Vec<u8>, u32) {
        let mut out = vec![0u8; HBIN_START];
        let mut rel = 0u32;
        for (size, cells) in bins {
            let mut bin = vec![0u8; *size as usize];
            bin[..4].copy_from_slice(b"hbin");
            bin[4..8].copy_from_slice(&rel.to_le_bytes());
            bin[8..12].copy_from_slice(&size.to_le_bytes());
            let mut at = 32usize;
            for &c in *cells {
                bin[at..at + 4].copy_from_slice(&c.to_le_bytes());
                at += c.unsigned_abs() as usize;
            }
            out.extend_from_slice(&bin);
            rel += size;
        }
        (out, rel)
    }

    #[test]
    fn free_cells_are_found_and_neighbours_merged() {
        let (h, size) = hive(&[(4096, &[-32, 64, 32, -8, 3928])]);
        let map = CellMap::walk(&h, size);
        assert_eq!(map.free, [(0x40, 0xa0), (0xa8, 0x1000)]);
        assert!(map.errors.is_empty(), "{:?}", map.errors);
        assert!(map.is_free(0x48, 0xa0));
        assert!(!map.is_free(0x48, 0xa8));
        assert!(map.is_allocated(0x20));
        assert!(map.is_allocated(0xa0));
        assert!(!map.is_allocated(0xb0));
        assert!(!map.is_allocated(0x1000));
        let used: Vec<(u32, u32)> = map.allocated(&h).collect();
        assert_eq!(used, [(0x20, 32), (0xa0, 8)]);
    }

    #[test]
    fn damage_is_named_with_its_offset_and_the_walk_goes_on() {
        // Second bin: a cell of size 12 (not a multiple of 8).
        let (h, size) = hive(&[(4096, &[4064]), (4096, &[-16, 12])]);
        let map = CellMap::walk(&h, size);
        assert_eq!(map.free, [(0x20, 0x1000)]);
        assert_eq!(
            map.errors,
            [CellError::BadCell {
                offset: 0x1030,
                size: 12,
                bin_end: 0x2000
            }]
        );
        // Truncated: the base block declares more bins than the file holds.
        let map = CellMap::walk(&h[..HBIN_START + 4096 + 100], size);
        assert!(matches!(
            map.errors.last(),
            Some(CellError::Truncated {
                declared: 0x2000,
                ..
            })
        ));
        // No signature: the walk stops there.
        let mut bad = h.clone();
        bad[HBIN_START + 4096] = b'x';
        let map = CellMap::walk(&bad, size);
        assert_eq!(map.errors, [CellError::NoBin { offset: 0x1000 }]);
        // ... and goes on at the next bin that names its own offset.
        let (h3, size3) = hive(&[(4096, &[4064]), (4096, &[4064]), (4096, &[-32, 4032])]);
        let mut bad = h3.clone();
        bad[HBIN_START + 4096..HBIN_START + 4100].copy_from_slice(b"junk");
        let map = CellMap::walk(&bad, size3);
        assert_eq!(map.errors, [CellError::NoBin { offset: 0x1000 }]);
        assert_eq!(map.bins, [(0, 0x1000), (0x2000, 0x3000)]);
        assert_eq!(map.free, [(0x20, 0x1000), (0x2040, 0x3000)]);
        assert!(map.is_allocated(0x2020));
        assert!(!map.is_allocated(0x1020));
        assert_eq!(map.allocated(&bad).collect::<Vec<_>>(), [(0x2020, 32)]);
        // Tail data after the declared bins is searchable.
        let map = CellMap::walk(&h, 4096);
        assert_eq!(map.tail, (0x1000, 0x2000));
        assert!(map.is_searchable(0x1008, 0x1010));
    }
}
