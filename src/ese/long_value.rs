//! Long values stored apart from their record: a table's long-value tree holds, under
//! the long value id (LID, big-endian in the key), a root (reference count and total
//! size) and segments keyed by LID and byte offset.

use std::collections::HashMap;

use super::btree::Entry;
use super::error::EseError;
use crate::bytes::u32_le;

/// A long value's parts as the tree holds them.
#[derive(Debug, Default)]
struct Parts<'a> {
    size: Option<u32>,
    segments: Vec<(u32, &'a [u8])>,
}

/// The long values of one table, indexed by their id's key bytes.
#[derive(Debug, Default)]
pub struct LongValues<'a> {
    by_lid: HashMap<Vec<u8>, Parts<'a>>,
}

impl<'a> LongValues<'a> {
    /// Index the leaf entries of a long-value tree. Keys of 4 or 8 bytes are roots,
    /// keys 4 bytes longer are segments.
    pub fn index(entries: &[Entry<'a>]) -> LongValues<'a> {
        let mut by_lid: HashMap<Vec<u8>, Parts<'a>> = HashMap::new();
        // 32-bit LIDs key their roots with 4 bytes; 64-bit ones with 8.
        let keys: Vec<Vec<u8>> = entries.iter().map(|e| e.key()).collect();
        let lid_len = if keys.iter().any(|k| k.len() == 4) {
            4
        } else {
            8
        };
        for (e, key) in entries.iter().zip(keys) {
            if key.len() == lid_len {
                by_lid.entry(key).or_default().size = u32_le(e.data, 4);
            } else if key.len() == lid_len + 4 {
                let (lid, off) = key.split_at(lid_len);
                let off = u32::from_be_bytes([off[0], off[1], off[2], off[3]]);
                by_lid
                    .entry(lid.to_vec())
                    .or_default()
                    .segments
                    .push((off, e.data));
            }
        }
        for parts in by_lid.values_mut() {
            parts.segments.sort_by_key(|s| s.0);
        }
        LongValues { by_lid }
    }

    /// The long value whose id is `lid` as a record stores it (little-endian), at most
    /// `max` bytes.
    pub fn get(&self, table: &str, lid: &[u8], max: usize) -> Result<Vec<u8>, EseError> {
        let key: Vec<u8> = lid.iter().rev().copied().collect();
        let id = lid.iter().rev().fold(0u64, |a, &b| a << 8 | u64::from(b));
        let bad = |what: String| EseError::LongValue {
            table: table.to_string(),
            lid: id,
            what,
        };
        // A 4-byte LID may be keyed with 8 bytes in databases with 64-bit LIDs.
        let parts = self
            .by_lid
            .get(&key)
            .or_else(|| {
                let mut wide = vec![0u8; 8 - key.len().min(8)];
                wide.extend(&key);
                self.by_lid.get(&wide)
            })
            .ok_or_else(|| bad("not in the long-value tree".into()))?;
        let mut out = Vec::new();
        for &(off, seg) in &parts.segments {
            if off as usize != out.len() {
                return Err(bad(format!(
                    "segment at offset {off} where {} bytes were read",
                    out.len()
                )));
            }
            if out.len() + seg.len() > max {
                return Err(bad(format!("longer than the {max} bytes read at most")));
            }
            out.extend_from_slice(seg);
        }
        if let Some(size) = parts.size {
            let size = size as usize;
            if out.len() < size {
                return Err(bad(format!("{} bytes of its {size}", out.len())));
            }
            out.truncate(size);
        }
        Ok(out)
    }
}
