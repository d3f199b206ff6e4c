//! The walk of a B+-tree from its root (father data page): branch values point to child
//! pages, leaf values are the tree's entries, in key order. Every page is visited at most
//! once and the depth is bounded, so a damaged or cyclic tree ends; a page that cannot be
//! read, or that belongs to another tree, is reported and skipped.

use super::error::EseError;
use super::header::FileHeader;
use super::page::{
    FLAG_EMPTY, FLAG_LEAF, FLAG_SPACE_TREE, Page, TAG_COMMON_KEY, TAG_DEFUNCT, TagValue,
};
use crate::bytes::{u16_le, u32_le};

/// Deeper than any real tree (ESE trees of millions of records have 4 or 5 levels).
const MAX_DEPTH: usize = 32;

/// A leaf entry: its key (prefix shared with the page, then its own part) and its data.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub page: u32,
    pub tag: u16,
    key_prefix: &'a [u8],
    key_local: &'a [u8],
    pub data: &'a [u8],
    /// Offset of `data` in the file.
    pub offset: u64,
}

impl Entry<'_> {
    pub fn key(&self) -> Vec<u8> {
        [self.key_prefix, self.key_local].concat()
    }
}

/// A page value split into key parts and data.
struct Split<'a> {
    prefix_len: usize,
    local: &'a [u8],
    data: &'a [u8],
    data_at: usize,
}

fn split<'a>(page: &Page<'a>, v: &TagValue<'a>) -> Result<Split<'a>, EseError> {
    let bad = || EseError::Page {
        page: page.number,
        offset: v.offset,
        what: format!(
            "tag {}: key sizes run past its {} bytes",
            v.index,
            v.data.len()
        ),
    };
    let d = v.data;
    let mask = if page.large() { 0x1fff } else { 0xffff };
    let mut at = 0;
    let mut prefix_len = 0;
    if v.flags & TAG_COMMON_KEY != 0 {
        prefix_len = usize::from(u16_le(d, 0).ok_or_else(bad)? & mask);
        at = 2;
    }
    let local_len = usize::from(u16_le(d, at).ok_or_else(bad)? & mask);
    let local = d.get(at + 2..at + 2 + local_len).ok_or_else(bad)?;
    let data_at = at + 2 + local_len;
    Ok(Split {
        prefix_len,
        local,
        data: &d[data_at..],
        data_at,
    })
}

/// Every live leaf entry of the tree rooted at `root`, whose pages must belong to object
/// `object`, with the problems met (unreadable pages, checksum mismatches). Defunct
/// (deleted) values are left out.
pub fn leaf_entries<'a>(
    data: &'a [u8],
    header: &FileHeader,
    root: u32,
    object: u32,
) -> (Vec<Entry<'a>>, Vec<EseError>) {
    let pages = data.len() / header.page_size as usize;
    let mut visited = vec![false; pages + 1];
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    // Depth-first; children pushed in reverse so they come out in key order.
    let mut stack = vec![(root, 0usize)];
    while let Some((number, depth)) = stack.pop() {
        let seen = visited.get_mut(number as usize);
        match seen {
            Some(s) if !*s => *s = true,
            Some(_) => {
                problems.push(page_problem(
                    header,
                    number,
                    "visited twice: the tree has a cycle",
                ));
                continue;
            }
            None => {
                problems.push(page_problem(header, number, "past the end of the file"));
                continue;
            }
        }
        let page = match Page::read(data, header, number) {
            Ok(p) => p,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if let Some(e) = page.verify() {
            problems.push(e);
        }
        if page.is_blank() || page.is(FLAG_EMPTY) {
            problems.push(page_problem(
                header,
                number,
                "blank or empty page inside the tree",
            ));
            continue;
        }
        if page.fdp_object != object || page.is(FLAG_SPACE_TREE) {
            problems.push(page_problem(
                header,
                number,
                &format!(
                    "belongs to object {} (flags {:#x}), not to the tree of object {object}",
                    page.fdp_object, page.flags
                ),
            ));
            continue;
        }
        let prefix = match page.tag(0) {
            Ok(t) => t.data,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let leaf = page.is(FLAG_LEAF);
        let mut children = Vec::new();
        for i in 1..page.tag_count() {
            let v = match page.tag(i) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            if v.flags & TAG_DEFUNCT != 0 {
                continue;
            }
            let s = match split(&page, &v) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            if leaf {
                // The root's tag 0 is its header, not a key prefix.
                let key_prefix = if page.is(super::page::FLAG_ROOT) {
                    &[][..]
                } else {
                    &prefix[..s.prefix_len.min(prefix.len())]
                };
                entries.push(Entry {
                    page: number,
                    tag: v.index,
                    key_prefix,
                    key_local: s.local,
                    data: s.data,
                    offset: v.offset + s.data_at as u64,
                });
            } else {
                match u32_le(s.data, s.data.len().saturating_sub(4)).filter(|_| s.data.len() >= 4) {
                    Some(child) if depth + 1 < MAX_DEPTH => children.push((child, depth + 1)),
                    Some(_) => {
                        problems.push(page_problem(header, number, "tree deeper than 32 levels"))
                    }
                    None => problems.push(EseError::Page {
                        page: number,
                        offset: v.offset,
                        what: format!("branch tag {i} has no child page number"),
                    }),
                }
            }
        }
        stack.extend(children.into_iter().rev());
    }
    (entries, problems)
}

fn page_problem(header: &FileHeader, page: u32, what: &str) -> EseError {
    EseError::Page {
        page,
        offset: (u64::from(page) + 1) * u64::from(header.page_size),
        what: what.to_string(),
    }
}
