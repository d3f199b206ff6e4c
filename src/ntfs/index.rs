//! Folder indexes (`$I30`): the `INDX` blocks of a folder's `$INDEX_ALLOCATION`, and
//! the entries left in their slack.
//!
//! An index block holds its folder's entries (a file reference, then the file's
//! `$FILE_NAME` as the key) sorted by name, and says how many of its bytes are in use.
//! When an entry is removed the entries after it move up and the block's length shrinks,
//! but nothing is wiped: the bytes past the length (the slack) keep older copies of
//! entries, among them names of files that are gone and whose MFT records may already
//! hold other files. A block the index no longer uses (its bit in the index's `$BITMAP`
//! cleared) is slack as a whole. Here a block is checked (signature, update sequence,
//! header), and its slack is searched for keys: a `$FILE_NAME` whose parent is the
//! folder itself, with a name of sane length and characters and four plausible times. The
//! entry header before a key gives the file's MFT reference when it is still whole.

use super::attribute::FileName;
use super::record::{apply_fixups, split_reference};
use crate::bytes::{u16_le, u32_le, u64_le, utf16_units};

pub const ATTR_INDEX_ROOT: u32 = 0x90;
pub const ATTR_INDEX_ALLOCATION: u32 = 0xA0;
pub const ATTR_BITMAP: u32 = 0xB0;
/// The name of a folder's file-name index.
pub const I30: &str = "$I30";
/// `$FILE_NAME` flag of a folder (`FILE_ATTR_DUP_FILE_NAME_INDEX_PRESENT`).
pub const FILE_NAME_IS_DIR: u32 = 0x1000_0000;

/// Where the index node header starts in a block.
const NODE_HEADER: usize = 0x18;
/// An index entry's header: file reference (8), entry length (2), key length (2),
/// flags (4).
const ENTRY_HEADER: usize = 0x10;
/// A `$FILE_NAME` key up to its name.
const KEY_FIXED: usize = 0x42;
/// FILETIMEs of 1980-01-01 and 2100-01-01: times outside are not a file's.
const TIME_MIN: u64 = 119_600_064_000_000_000;
const TIME_MAX: u64 = 157_469_184_000_000_000;

/// Why an index block could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("index block at VCN {vcn}: signature {found:02x?}, not INDX")]
    NotIndx { vcn: u64, found: [u8; 4] },
    #[error("index block at VCN {vcn}: {reason}")]
    Fixups { vcn: u64, reason: String },
    #[error("index block at VCN {vcn}: header at offset {offset:#x}: {reason}")]
    BadHeader {
        vcn: u64,
        offset: usize,
        reason: String,
    },
}

/// The size of a folder's index blocks, from its `$INDEX_ROOT` value: a power of two
/// from 512 bytes to 64 KiB, else `None`.
pub fn block_size(index_root: &[u8]) -> Option<usize> {
    let size = usize::try_from(u32_le(index_root, 0x08)?).ok()?;
    (size.is_power_of_two() && (512..=65536).contains(&size)).then_some(size)
}

/// Is block `index` in use, per the index's `$BITMAP` value? A block past the bitmap
/// is not.
pub fn block_in_use(bitmap: &[u8], index: usize) -> bool {
    bitmap
        .get(index / 8)
        .is_some_and(|byte| byte & (1 << (index % 8)) != 0)
}

/// An index block's slack: the byte range of `block` (fixups applied) that no live
/// entry uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSlack {
    /// The VCN the block says it is at.
    pub vcn: u64,
    /// Where its live entries are (empty for a block the index does not use).
    pub live: std::ops::Range<usize>,
    pub start: usize,
    pub end: usize,
}

/// A live index entry: the name it indexes and the file it points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEntry {
    pub name: String,
    pub file: (u64, u16),
}

/// The live entries of `bytes[range]`, in order, up to the end entry; a damaged entry
/// ends the list (entries before it are kept).
pub fn live_entries(bytes: &[u8], range: std::ops::Range<usize>) -> Vec<LiveEntry> {
    let end = range.end.min(bytes.len());
    let mut at = range.start;
    let mut out = Vec::new();
    while at.saturating_add(ENTRY_HEADER) <= end {
        let (Some(reference), Some(len), Some(flags)) = (
            u64_le(bytes, at),
            u16_le(bytes, at + 0x08),
            u32_le(bytes, at + 0x0C),
        ) else {
            break;
        };
        let len = usize::from(len);
        if flags & 2 != 0 || len < ENTRY_HEADER || at + len > end {
            break;
        }
        let key = at + ENTRY_HEADER;
        let chars = usize::from(bytes.get(key + 0x40).copied().unwrap_or(0));
        if let Some(units) = bytes.get(key + KEY_FIXED..key + KEY_FIXED + 2 * chars)
            && chars > 0
        {
            out.push(LiveEntry {
                name: String::from_utf16_lossy(&utf16_units(units).collect::<Vec<_>>()),
                file: split_reference(reference),
            });
        }
        at += len;
    }
    out
}

/// The live entries of a folder's `$INDEX_ROOT` value (the small index held in the
/// record, or the top of a large one).
pub fn root_entries(root: &[u8]) -> Vec<LiveEntry> {
    let node = 0x10;
    let (Some(first), Some(used)) = (u32_le(root, node), u32_le(root, node + 4)) else {
        return Vec::new();
    };
    let start = node.saturating_add(first as usize);
    let end = node.saturating_add(used as usize).min(root.len());
    live_entries(root, start..end.max(start))
}

/// Check the index block `block` (read at `vcn` of the allocation) and apply its fixups
/// in place; its slack range. With `in_use` false (the bitmap frees the block) every
/// byte after the header is slack.
pub fn block_slack(
    block: &mut [u8],
    vcn: u64,
    sector_size: usize,
    in_use: bool,
) -> Result<BlockSlack, IndexError> {
    let found: [u8; 4] = block
        .get(0..4)
        .and_then(|s| s.try_into().ok())
        .unwrap_or_default();
    if &found != b"INDX" {
        return Err(IndexError::NotIndx { vcn, found });
    }
    apply_fixups(block, sector_size, vcn).map_err(|e| IndexError::Fixups {
        vcn,
        // The record layer names an MFT record; here it is an index block.
        reason: e.to_string().replace(&format!("MFT record {vcn}: "), ""),
    })?;
    let bad = |offset: usize, reason: String| IndexError::BadHeader {
        vcn,
        offset,
        reason,
    };
    let field = |at: usize| {
        u32_le(block, NODE_HEADER + at)
            .map(|v| v as usize)
            .ok_or_else(|| bad(NODE_HEADER + at, "cut short".into()))
    };
    let entries = field(0)?;
    let used = field(4)?;
    let allocated = field(8)?;
    let len = block.len();
    let end = NODE_HEADER.saturating_add(allocated);
    if end > len || entries > used || used > allocated || entries < 0x10 {
        return Err(bad(
            NODE_HEADER,
            format!(
                "entries at {entries:#x}, {used} bytes used of {allocated} allocated, in a block of {len}"
            ),
        ));
    }
    let first = NODE_HEADER + entries;
    let start = NODE_HEADER + if in_use { used } else { entries };
    Ok(BlockSlack {
        vcn: u64_le(block, 0x10).unwrap_or(vcn),
        live: first..start,
        start,
        end,
    })
}

/// An index entry found in slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackEntry {
    /// Offset of the entry in its block (of its key, less the header's 16 bytes, when
    /// the header was overwritten).
    pub offset: usize,
    /// The file's MFT reference (record, sequence), when the entry header is whole.
    pub file: Option<(u64, u16)>,
    pub key: FileName,
}

/// The entries left in `block[start..end]` whose key names `folder` (its record
/// number) as parent. Keys lie on 8-byte boundaries, as entries do; after a key is
/// found the search goes on past its name.
pub fn slack_entries(block: &[u8], start: usize, end: usize, folder: u64) -> Vec<SlackEntry> {
    let end = end.min(block.len());
    let mut found = Vec::new();
    // A key whose header lies in the slack starts 16 bytes in; one whose header was
    // overwritten by live entries may start right at the slack.
    let mut at = start.next_multiple_of(8);
    while at.saturating_add(KEY_FIXED) <= end {
        match key_at(block, at, end, folder) {
            Some(key) => {
                let name_end = at + KEY_FIXED + 2 * key.name.encode_utf16().count();
                let header = at.checked_sub(ENTRY_HEADER).filter(|&h| h >= start);
                let file = header.and_then(|h| reference_of(block, h, name_end - at));
                found.push(SlackEntry {
                    offset: header.unwrap_or(at.saturating_sub(ENTRY_HEADER)),
                    file,
                    key,
                });
                at = name_end.next_multiple_of(8);
            }
            None => at += 8,
        }
    }
    found
}

/// A plausible `$FILE_NAME` key of `folder` at `at`, wholly before `end`.
fn key_at(block: &[u8], at: usize, end: usize, folder: u64) -> Option<FileName> {
    let (parent, _) = split_reference(u64_le(block, at)?);
    if parent != folder {
        return None;
    }
    let times = [0x08, 0x10, 0x18, 0x20].map(|o| u64_le(block, at + o).unwrap_or(0));
    if times.iter().any(|t| !(TIME_MIN..=TIME_MAX).contains(t)) {
        return None;
    }
    let chars = usize::from(*block.get(at + 0x40)?);
    let namespace = *block.get(at + 0x41)?;
    let name_end = at + KEY_FIXED + 2 * chars;
    if chars == 0 || namespace > 3 || name_end > end {
        return None;
    }
    let units = block.get(at + KEY_FIXED..name_end)?;
    let name: String = char::decode_utf16(utf16_units(units))
        .collect::<Result<_, _>>()
        .ok()?;
    // Not a name Windows or a POSIX tool can give a file.
    if name.chars().any(|c| c.is_control() || c == '/') {
        return None;
    }
    let (parent_record, parent_sequence) = split_reference(u64_le(block, at)?);
    Some(FileName {
        parent_record,
        parent_sequence,
        created: times[0],
        modified: times[1],
        mft_changed: times[2],
        accessed: times[3],
        allocated_size: u64_le(block, at + 0x28)?,
        data_size: u64_le(block, at + 0x30)?,
        flags: u32_le(block, at + 0x38)?,
        namespace,
        name,
    })
}

/// The file reference of the entry header at `at`, when the header fits the key
/// (`key_len` bytes) that follows it: its key length that long, its entry length room for
/// the key (and a child VCN) on an 8-byte boundary, and no flag but "has a child" and
/// "last".
fn reference_of(block: &[u8], at: usize, key_len: usize) -> Option<(u64, u16)> {
    let entry_len = usize::from(u16_le(block, at + 0x08)?);
    let stored_key = usize::from(u16_le(block, at + 0x0A)?);
    let flags = u32_le(block, at + 0x0C)?;
    let room = ENTRY_HEADER + stored_key;
    let whole = stored_key == key_len
        && entry_len % 8 == 0
        && entry_len >= room
        && entry_len <= room.next_multiple_of(8) + 8
        && flags & !3 == 0;
    // A file's sequence number starts at 1; a reference of zeros or with sequence 0 is
    // the tail of the end entry that moved over this one.
    let (record, sequence) = split_reference(u64_le(block, at)?);
    (whole && record != 0 && sequence != 0).then_some((record, sequence))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLDER: u64 = 68;
    /// 2013-06-10T07:00:00Z as a FILETIME.
    const T: u64 = 130_153_500_000_000_000;

    fn key(name: &str, parent: u64, is_dir: bool) -> Vec<u8> {
        let mut k = vec![0u8; KEY_FIXED];
        k[0..8].copy_from_slice(&(parent | (1u64 << 48)).to_le_bytes());
        for (i, t) in [T, T + 10, T + 20, T + 30].into_iter().enumerate() {
            k[8 + 8 * i..16 + 8 * i].copy_from_slice(&t.to_le_bytes());
        }
        k[0x30..0x38].copy_from_slice(&1234u64.to_le_bytes());
        let flags = if is_dir { FILE_NAME_IS_DIR } else { 0x20 };
        k[0x38..0x3C].copy_from_slice(&flags.to_le_bytes());
        let units: Vec<u16> = name.encode_utf16().collect();
        k[0x40] = units.len() as u8;
        k[0x41] = 1;
        for u in units {
            k.extend_from_slice(&u.to_le_bytes());
        }
        k
    }

    fn entry(record: u64, sequence: u16, key: &[u8], last: bool) -> Vec<u8> {
        let len = (ENTRY_HEADER + key.len()).next_multiple_of(8);
        let mut e = vec![0u8; len];
        e[0..8].copy_from_slice(&(record | (u64::from(sequence) << 48)).to_le_bytes());
        e[8..10].copy_from_slice(&(len as u16).to_le_bytes());
        e[10..12].copy_from_slice(&(key.len() as u16).to_le_bytes());
        e[12..16].copy_from_slice(&u32::from(last).wrapping_mul(2).to_le_bytes());
        e[16..16 + key.len()].copy_from_slice(key);
        e
    }

    /// A 4096-byte block: `live` entries (then an end entry) in use, `stale` after them.
    fn block(live: &[Vec<u8>], stale: &[Vec<u8>]) -> Vec<u8> {
        let mut b = vec![0u8; 4096];
        b[0..4].copy_from_slice(b"INDX");
        b[4..6].copy_from_slice(&0x28u16.to_le_bytes());
        b[6..8].copy_from_slice(&9u16.to_le_bytes());
        b[0x10..0x18].copy_from_slice(&3u64.to_le_bytes());
        let first = 0x40usize;
        let mut at = first;
        for e in live {
            b[at..at + e.len()].copy_from_slice(e);
            at += e.len();
        }
        let end = entry(0, 0, &[], true);
        let end = &end[..ENTRY_HEADER];
        b[at..at + ENTRY_HEADER].copy_from_slice(end);
        b[at + 8..at + 10].copy_from_slice(&(ENTRY_HEADER as u16).to_le_bytes());
        at += ENTRY_HEADER;
        let used = at;
        for e in stale {
            b[at..at + e.len()].copy_from_slice(e);
            at += e.len();
        }
        b[0x18..0x1C].copy_from_slice(&((first - NODE_HEADER) as u32).to_le_bytes());
        b[0x1C..0x20].copy_from_slice(&((used - NODE_HEADER) as u32).to_le_bytes());
        b[0x20..0x24].copy_from_slice(&((4096 - NODE_HEADER) as u32).to_le_bytes());
        // Update sequence 0x0101; each sector's last two bytes saved in the array.
        for s in 0..8 {
            let tail = (s + 1) * 512 - 2;
            let saved = [b[tail], b[tail + 1]];
            b[0x2A + 2 * s..0x2C + 2 * s].copy_from_slice(&saved);
            b[tail..tail + 2].copy_from_slice(&[1, 1]);
        }
        b[0x28..0x2A].copy_from_slice(&[1, 1]);
        b
    }

    #[test]
    fn stale_entries_past_the_used_length_are_found_with_their_references() {
        let live = [entry(80, 2, &key("Apple", FOLDER, true), false)];
        let stale = [
            entry(74, 1, &key("Akamai", FOLDER, true), false),
            entry(90, 1, &key("Zoom", FOLDER, true), false),
        ];
        let mut b = block(&live, &stale);
        let slack = block_slack(&mut b, 3, 512, true).unwrap();
        assert_eq!(slack.vcn, 3);
        let found = slack_entries(&b, slack.start, slack.end, FOLDER);
        let got: Vec<_> = found
            .iter()
            .map(|e| {
                (
                    e.key.name.as_str(),
                    e.file,
                    e.key.flags & FILE_NAME_IS_DIR != 0,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("Akamai", Some((74, 1)), true),
                ("Zoom", Some((90, 1)), true)
            ]
        );
        assert_eq!(found[0].offset, slack.start);
        assert_eq!(found[0].key.created, T);
        assert_eq!(found[0].key.accessed, T + 30);
        // The live entry is not slack.
        assert!(found.iter().all(|e| e.key.name != "Apple"));
    }

    #[test]
    fn live_entries_are_read_up_to_the_end_entry() {
        let live = [
            entry(80, 2, &key("Apple", FOLDER, true), false),
            entry(81, 3, &key("Zoom", FOLDER, true), false),
        ];
        let stale = [entry(74, 1, &key("Akamai", FOLDER, true), false)];
        let mut b = block(&live, &stale);
        let slack = block_slack(&mut b, 3, 512, true).unwrap();
        let got: Vec<_> = live_entries(&b, slack.live.clone())
            .into_iter()
            .map(|e| (e.name, e.file))
            .collect();
        assert_eq!(
            got,
            [
                ("Apple".to_string(), (80, 2)),
                ("Zoom".to_string(), (81, 3))
            ]
        );
        // A freed block has none.
        let mut b = block(&live, &stale);
        let slack = block_slack(&mut b, 3, 512, false).unwrap();
        assert!(live_entries(&b, slack.live).is_empty());
        // An $INDEX_ROOT value: 16 bytes of root header, then the node header.
        let mut root = vec![0u8; 0x20];
        let e = entry(80, 2, &key("Apple", FOLDER, true), false);
        let end = entry(0, 0, &[], true);
        root.extend_from_slice(&e);
        root.extend_from_slice(&end[..ENTRY_HEADER]);
        root[0x10..0x14].copy_from_slice(&0x10u32.to_le_bytes());
        let used = (root.len() - 0x10) as u32;
        root[0x14..0x18].copy_from_slice(&used.to_le_bytes());
        let names: Vec<_> = root_entries(&root).into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["Apple"]);
        // Damage ends the list, never a panic.
        root[0x20 + 8] = 0xFF;
        root[0x20 + 9] = 0xFF;
        assert!(root_entries(&root).is_empty());
        assert!(root_entries(&[]).is_empty());
        let backwards = std::ops::Range { start: 30, end: 10 };
        assert!(live_entries(&[0; 40], backwards).is_empty());
    }

    #[test]
    fn a_freed_block_is_slack_from_its_first_entry() {
        let live = [entry(
            80,
            2,
            &key("netsession_win.exe", FOLDER, false),
            false,
        )];
        let mut b = block(&live, &[]);
        let slack = block_slack(&mut b, 3, 512, false).unwrap();
        let found = slack_entries(&b, slack.start, slack.end, FOLDER);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].key.name, "netsession_win.exe");
        assert_eq!(found[0].file, Some((80, 2)));
    }

    #[test]
    fn a_key_whose_header_was_overwritten_has_no_reference() {
        let stale = entry(74, 1, &key("uploads.json", FOLDER, false), false);
        let mut b = block(&[], &[stale]);
        let slack = block_slack(&mut b, 3, 512, true).unwrap();
        // The slack starts at the key: its header is live bytes now.
        let found = slack_entries(&b, slack.start + ENTRY_HEADER, slack.end, FOLDER);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].file, None);
        assert_eq!(found[0].key.name, "uploads.json");
    }

    #[test]
    fn keys_of_another_folder_bad_times_or_names_are_not_entries() {
        let mut late = key("late.txt", FOLDER, false);
        late[0x10..0x18].copy_from_slice(&(TIME_MAX + 1).to_le_bytes());
        let mut nul = key("a\0b", FOLDER, false);
        nul[0x41] = 1;
        let mut namespace = key("ns.txt", FOLDER, false);
        namespace[0x41] = 7;
        let stale = [
            entry(70, 1, &key("other.txt", FOLDER + 1, false), false),
            entry(71, 1, &late, false),
            entry(72, 1, &nul, false),
            entry(73, 1, &namespace, false),
        ];
        let mut b = block(&[], &stale);
        let slack = block_slack(&mut b, 3, 512, true).unwrap();
        assert!(slack_entries(&b, slack.start, slack.end, FOLDER).is_empty());
    }

    #[test]
    fn a_name_running_past_the_slack_is_not_taken() {
        let stale = entry(74, 1, &key("netsession_win.exe", FOLDER, false), false);
        let mut b = block(&[], std::slice::from_ref(&stale));
        let slack = block_slack(&mut b, 3, 512, true).unwrap();
        let cut = slack.start + stale.len() - 8;
        assert!(slack_entries(&b, slack.start, cut, FOLDER).is_empty());
        assert_eq!(slack_entries(&b, slack.start, slack.end, FOLDER).len(), 1);
    }

    #[test]
    fn damaged_blocks_are_errors_naming_the_vcn() {
        let mut b = block(&[], &[]);
        b[0] = b'X';
        assert!(matches!(
            block_slack(&mut b, 7, 512, true),
            Err(IndexError::NotIndx { vcn: 7, .. })
        ));
        let mut b = block(&[], &[]);
        b[1022] ^= 0xFF;
        let e = block_slack(&mut b, 7, 512, true).unwrap_err();
        assert!(e.to_string().contains("VCN 7"), "{e}");
        assert!(e.to_string().contains("sector 1"), "{e}");
        let mut b = block(&[], &[]);
        // Fixups intact, header claiming more than the block holds.
        b[0x20..0x24].copy_from_slice(&8000u32.to_le_bytes());
        assert!(matches!(
            block_slack(&mut b, 7, 512, true),
            Err(IndexError::BadHeader { vcn: 7, .. })
        ));
        // Short and empty blocks are errors too, never a panic.
        assert!(block_slack(&mut [], 7, 512, true).is_err());
        assert!(block_slack(&mut b"INDX".to_vec(), 7, 512, true).is_err());
        assert!(slack_entries(&[], 0, 100, FOLDER).is_empty());
        assert!(slack_entries(&[0; 64], 60, 10, FOLDER).is_empty());
    }

    #[test]
    fn block_sizes_and_bitmap_bits() {
        let mut root = vec![0u8; 16];
        root[8..12].copy_from_slice(&4096u32.to_le_bytes());
        assert_eq!(block_size(&root), Some(4096));
        root[8..12].copy_from_slice(&4095u32.to_le_bytes());
        assert_eq!(block_size(&root), None);
        assert_eq!(block_size(&[]), None);
        assert!(block_in_use(&[0b0000_0101], 2));
        assert!(!block_in_use(&[0b0000_0101], 1));
        assert!(!block_in_use(&[0xFF], 8));
    }
}
