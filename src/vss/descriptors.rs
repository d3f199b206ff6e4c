//! A store's block list (blocks of record type 3): 32-byte block descriptors after each
//! block header, each giving a 16 KiB block's original volume offset, the "relative"
//! offset, the volume offset of the copy in the store, flags and an allocation bitmap.
//!
//! Flags: 0x01 forwarder (the old content of the original block is what the next
//! snapshot has at the relative offset; no copy here), 0x02 overlay (only the 512-byte
//! sectors whose bits are set in the allocation bitmap are copied; they win over a full
//! copy of the same block), 0x04 not used (ignored). The list ends at a descriptor with
//! no store offset and no flags.
//!
//! Read in list order, a forwarder from A to R (A != R) re-keys the next full descriptor
//! of R in the same store to A (the copy at R is A's old content); a forwarder from A to
//! A cancels the full descriptors of A before it. The result is kept sorted by original
//! offset (equal offsets in list order): one small entry per copied block, far fewer
//! than the blocks of the volume.

use std::collections::HashMap;

use super::block::{BLOCK, HEADER_LEN, TYPE_BLOCK_LIST, walk_list};
use super::error::VssError;
use crate::bytes::{u32_le, u64_le};
use crate::image::source::ImageSource;

pub const FLAG_FORWARDER: u32 = 0x01;
pub const FLAG_OVERLAY: u32 = 0x02;
pub const FLAG_NOT_USED: u32 = 0x04;

const DESCRIPTOR_LEN: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    /// Volume offset of the block the descriptor is about.
    pub original: u64,
    /// For a forwarder, the volume offset whose content (in the next snapshot) is the
    /// old content of `original`.
    pub relative: u64,
    /// Volume offset (in the volume keeping the stores) of the copy.
    pub data: u64,
    pub flags: u32,
    /// For an overlay, bit `i` set: sector `i` (512 bytes) of the block is in the copy.
    pub bitmap: u32,
}

impl Descriptor {
    pub fn is_forwarder(&self) -> bool {
        self.flags & FLAG_FORWARDER != 0
    }

    pub fn is_overlay(&self) -> bool {
        self.flags & FLAG_OVERLAY != 0
    }

    /// A forwarder pointing elsewhere (one pointing at its own block counts as a copy).
    pub fn forwards(&self) -> bool {
        self.is_forwarder() && self.original != self.relative
    }
}

/// The descriptors of one block-list block (`b`, read at volume offset `at`) in order;
/// `true` with them when the list's end marker was met.
pub fn parse_block(b: &[u8], at: u64) -> Result<(Vec<Descriptor>, bool), String> {
    let mut out = Vec::new();
    let mut pos = HEADER_LEN;
    while pos + DESCRIPTOR_LEN <= b.len() {
        let d = Descriptor {
            original: u64_le(b, pos).unwrap_or(0),
            relative: u64_le(b, pos + 8).unwrap_or(0),
            data: u64_le(b, pos + 16).unwrap_or(0),
            flags: u32_le(b, pos + 24).unwrap_or(0),
            bitmap: u32_le(b, pos + 28).unwrap_or(0),
        };
        if d.data == 0 && d.flags == 0 {
            return Ok((out, true));
        }
        let here = at + pos as u64;
        if !d.original.is_multiple_of(BLOCK) || !d.data.is_multiple_of(BLOCK) {
            return Err(format!(
                "block descriptor at volume offset {here}: offsets {} and {} are not multiples of 16 KiB",
                d.original, d.data
            ));
        }
        if d.flags & !0xff != 0 || (d.is_forwarder() && d.is_overlay()) {
            return Err(format!(
                "block descriptor at volume offset {here}: flags {:#x} are not valid",
                d.flags
            ));
        }
        if d.flags & FLAG_NOT_USED == 0 {
            out.push(d);
        }
        pos += DESCRIPTOR_LEN;
    }
    Ok((out, false))
}

/// Applies the list-order rules (see the module) to the descriptors as read, and sorts
/// them by original offset, keeping list order among equal offsets.
pub fn resolve_list(read: Vec<Descriptor>) -> Vec<Descriptor> {
    let mut kept: Vec<Option<Descriptor>> = Vec::with_capacity(read.len());
    // relative offset -> original offset of a forwarder not yet matched.
    let mut forwarded: HashMap<u64, u64> = HashMap::new();
    // original offset -> positions in `kept` of full (not forwarder, not overlay) copies.
    let mut full: HashMap<u64, Vec<usize>> = HashMap::new();
    for mut d in read {
        if !d.is_overlay()
            && let Some(original) = forwarded.remove(&d.original)
        {
            d.original = original;
        }
        if d.is_forwarder() {
            if d.original != d.relative {
                forwarded.insert(d.relative, d.original);
            } else if let Some(cancelled) = full.remove(&d.original) {
                for at in cancelled {
                    kept[at] = None;
                }
            }
        } else if !d.is_overlay() {
            full.entry(d.original).or_default().push(kept.len());
        }
        kept.push(Some(d));
    }
    let mut out: Vec<Descriptor> = kept.into_iter().flatten().collect();
    out.sort_by_key(|d| d.original);
    out
}

/// The store's block list from its first block at `first`, resolved and sorted.
pub fn read_block_list(
    source: &dyn ImageSource,
    on: &'static str,
    store: &str,
    first: u64,
) -> Result<Vec<Descriptor>, VssError> {
    let mut read = Vec::new();
    let mut ended = false;
    walk_list(
        source,
        on,
        "block list",
        first,
        TYPE_BLOCK_LIST,
        &|offset, message| VssError::Store {
            store: store.to_string(),
            offset,
            message,
        },
        &mut |at, block| {
            if ended {
                return Ok(());
            }
            let (descriptors, end) = parse_block(block, at).map_err(|message| VssError::Store {
                store: store.to_string(),
                offset: at,
                message,
            })?;
            read.extend(descriptors);
            ended = end;
            Ok(())
        },
    )?;
    Ok(resolve_list(read))
}

/// The descriptors of `original` in a sorted list (a slice, maybe empty).
pub fn descriptors_of(sorted: &[Descriptor], original: u64) -> &[Descriptor] {
    let start = sorted.partition_point(|d| d.original < original);
    let end = start + sorted[start..].partition_point(|d| d.original == original);
    &sorted[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(original: u64, relative: u64, data: u64, flags: u32) -> Descriptor {
        Descriptor {
            original: original * BLOCK,
            relative: relative * BLOCK,
            data: data * BLOCK,
            flags,
            bitmap: 0,
        }
    }

    #[test]
    fn a_forwarder_rekeys_the_next_full_copy_of_its_target() {
        let list = resolve_list(vec![
            d(5, 9, 0, FLAG_FORWARDER),
            d(9, 0, 100, 0),
            d(9, 0, 101, 0),
        ]);
        // The copy of 9 that followed the forwarder is 5's old content; the next stays 9's.
        assert_eq!(
            list,
            vec![d(5, 9, 0, FLAG_FORWARDER), d(5, 0, 100, 0), d(9, 0, 101, 0)]
        );
        assert_eq!(descriptors_of(&list, 5 * BLOCK).len(), 2);
        assert_eq!(descriptors_of(&list, 9 * BLOCK), &[d(9, 0, 101, 0)]);
        assert!(descriptors_of(&list, 7 * BLOCK).is_empty());
    }

    #[test]
    fn a_forwarder_to_itself_cancels_earlier_full_copies_but_not_overlays() {
        let list = resolve_list(vec![
            d(3, 0, 100, 0),
            d(3, 0, 101, FLAG_OVERLAY),
            d(3, 3, 0, FLAG_FORWARDER),
        ]);
        assert_eq!(
            list,
            vec![d(3, 0, 101, FLAG_OVERLAY), d(3, 3, 0, FLAG_FORWARDER)]
        );
    }

    #[test]
    fn the_list_ends_at_the_end_marker_and_bad_descriptors_name_their_offset() {
        let mut b = vec![0u8; BLOCK as usize];
        let put = |b: &mut Vec<u8>, i: usize, v: [u64; 3], flags: u32| {
            let at = HEADER_LEN + i * DESCRIPTOR_LEN;
            for (k, x) in v.iter().enumerate() {
                b[at + 8 * k..at + 8 * k + 8].copy_from_slice(&x.to_le_bytes());
            }
            b[at + 24..at + 28].copy_from_slice(&flags.to_le_bytes());
        };
        put(&mut b, 0, [0, 0, 4 * BLOCK], 0);
        put(&mut b, 1, [BLOCK, 0, 5 * BLOCK], FLAG_NOT_USED);
        let (got, ended) = parse_block(&b, 0).unwrap();
        assert!(ended);
        assert_eq!(got, vec![d(0, 0, 4, 0)]);
        put(&mut b, 2, [BLOCK + 1, 0, 5 * BLOCK], 0);
        let err = parse_block(&b, 0x4000).unwrap_err();
        assert!(
            err.contains(&format!("{}", 0x4000 + HEADER_LEN + 64)),
            "{err}"
        );
        put(
            &mut b,
            2,
            [BLOCK, 0, 5 * BLOCK],
            FLAG_FORWARDER | FLAG_OVERLAY,
        );
        assert!(parse_block(&b, 0).unwrap_err().contains("flags 0x3"));
    }
}
