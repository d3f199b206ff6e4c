//! An archive's entries laid out as a tree of names, built once and compact: no string
//! per entry or node. A name is a range of the listing's text (Velociraptor names, shown
//! decoded, are appended to that text); the children and the entries of a node are
//! ranges of two shared lists. Folders a member implies exist even when the archive does
//! not list them; children are in name order, as a listing would show them.
//!
//! Archives list a folder's members together, so each entry's path is compared first
//! with the previous entry's (no lookup for the folders they share); a map from (parent,
//! name) to node finds the rest.

use std::collections::hash_map::Entry as Slot;

use rustc_hash::FxHashMap;

use super::layout::{self, MetadataTimes};
use super::{Entry, Listing};
use crate::catalog::fold_case;
use crate::fs::EntryKind;

/// A Velociraptor device folder.
const DEVICE: u8 = 1;
/// A folder: it has children, or an entry at it is a folder.
const DIR: u8 = 2;

#[derive(Debug, Clone, Copy, Default)]
struct Node {
    /// The name as shown: a range of the text.
    name: (u32, u32),
    parent: u32,
    /// A range of `children`.
    children: (u32, u32),
    /// A range of `at_node`.
    entries: (u32, u32),
    flags: u8,
}

pub(super) struct Tree {
    text: String,
    entries: Vec<Entry>,
    /// Node 0 is the root.
    nodes: Vec<Node>,
    /// The children of every node, each node's in name order.
    children: Vec<u32>,
    /// The entries at every node, each node's in listing order (an archive may hold
    /// one path twice).
    at_node: Vec<u32>,
    /// The node of each entry (0: an entry whose path has no name).
    entry_node: Vec<u32>,
}

fn range((start, end): (u32, u32)) -> std::ops::Range<usize> {
    start as usize..end as usize
}

/// The names of a stored path, as ranges of the text: `/` separated (and `\` in a ZIP,
/// written so by Windows tools), empty names and `.` left out.
fn split(text: &str, (start, end): (usize, usize), backslash: bool, out: &mut Vec<(u32, u32)>) {
    let mut from = start;
    for (i, b) in text.as_bytes()[start..end].iter().enumerate() {
        if *b == b'/' || (backslash && *b == b'\\') {
            push_name(text, from, start + i, out);
            from = start + i + 1;
        }
    }
    push_name(text, from, end, out);
}

/// `uploads`, as Velociraptor names its folder (in any case).
fn is_uploads(name: &str) -> bool {
    if name.is_ascii() {
        name.eq_ignore_ascii_case("uploads")
    } else {
        name.len() <= 4 * 7 && fold_case(name) == "uploads"
    }
}

fn push_name(text: &str, from: usize, to: usize, out: &mut Vec<(u32, u32)>) {
    let name = &text[from..to];
    if !name.is_empty() && name != "." {
        out.push((from as u32, to as u32));
    }
}

impl Tree {
    /// Lay the listing out as a tree; decode Velociraptor names and take the original
    /// file times from the collection's metadata where it has them. `backslash`: `\`
    /// separates names too (ZIP).
    pub(super) fn build(listing: Listing, backslash: bool, meta: &MetadataTimes) -> Tree {
        let Listing {
            mut text,
            mut entries,
        } = listing;
        // The entries in a Velociraptor device folder: (entry, its names decoded as a
        // range of `decoded`, the device's depth). The other entries' names are split
        // again when placed.
        let mut devices: Vec<(usize, (u32, u32), usize)> = Vec::new();
        let mut decoded: Vec<(u32, u32)> = Vec::new();
        let mut raw = Vec::new();
        for (index, entry) in entries.iter_mut().enumerate() {
            raw.clear();
            split(&text, entry.path, backslash, &mut raw);
            if !raw.iter().any(|&r| is_uploads(&text[range(r)])) {
                continue;
            }
            let parts: Vec<&str> = raw.iter().map(|&r| &text[range(r)]).collect();
            let Some(d) = layout::velociraptor_device_at(&parts) else {
                continue;
            };
            let names: Vec<String> = parts.iter().map(|p| layout::decode_component(p)).collect();
            let key = layout::metadata_key(&names[d], &names[d + 1..]);
            if let Some(times) = meta.times.get(&key)
                && !times.is_empty()
            {
                entry.times = times.clone();
                entry.original_times = true;
            }
            let first = decoded.len() as u32;
            for name in names {
                let start = text.len() as u32;
                text.push_str(&name);
                decoded.push((start, text.len() as u32));
            }
            devices.push((index, (first, decoded.len() as u32), d));
        }
        let mut tree = Tree {
            text,
            entries,
            nodes: vec![Node::default()],
            children: Vec::new(),
            at_node: Vec::new(),
            entry_node: Vec::new(),
        };
        tree.place(backslash, &decoded, &devices);
        tree.link();
        tree
    }

    /// Make the nodes of every entry's path.
    fn place(
        &mut self,
        backslash: bool,
        decoded: &[(u32, u32)],
        devices: &[(usize, (u32, u32), usize)],
    ) {
        let text = self.text.as_str();
        let nodes = &mut self.nodes;
        self.entry_node.reserve(self.entries.len());
        let mut child_of: FxHashMap<(u32, &str), u32> = FxHashMap::default();
        child_of.reserve(self.entries.len());
        // The nodes of the previous entry's path, by depth.
        let mut previous: Vec<u32> = Vec::new();
        let mut raw = Vec::new();
        let mut next_device = devices.iter().peekable();
        for (index, entry) in self.entries.iter().enumerate() {
            let (names, device) = match next_device.next_if(|d| d.0 == index) {
                Some(&(_, names, depth)) => (&decoded[range(names)], Some(depth)),
                None => {
                    raw.clear();
                    split(text, entry.path, backslash, &mut raw);
                    (&raw[..], None)
                }
            };
            let mut node = 0u32;
            let mut same = true;
            for (depth, &name_at) in names.iter().enumerate() {
                let name = &text[range(name_at)];
                if same
                    && let Some(&p) = previous.get(depth)
                    && text[range(nodes[p as usize].name)] == *name
                {
                    node = p;
                    continue;
                }
                if same {
                    same = false;
                    previous.truncate(depth);
                }
                node = match child_of.entry((node, name)) {
                    Slot::Occupied(found) => *found.get(),
                    Slot::Vacant(slot) => {
                        let n = nodes.len() as u32;
                        nodes.push(Node {
                            name: name_at,
                            parent: node,
                            flags: if device == Some(depth) { DEVICE } else { 0 },
                            ..Node::default()
                        });
                        slot.insert(n);
                        n
                    }
                };
                previous.push(node);
            }
            self.entry_node.push(node);
        }
    }

    /// Fill the children (in name order) and entries of every node, and mark folders.
    fn link(&mut self) {
        let count = self.nodes.len();
        let mut per_node = vec![0u32; count];
        for node in &self.nodes[1..] {
            per_node[node.parent as usize] += 1;
        }
        let mut at = 0u32;
        for (node, n) in self.nodes.iter_mut().zip(&per_node) {
            node.children = (at, at);
            at += n;
        }
        self.children = vec![0; count - 1];
        for child in 1..count {
            let parent = self.nodes[child].parent as usize;
            let slot = &mut self.nodes[parent].children.1;
            self.children[*slot as usize] = child as u32;
            *slot += 1;
        }
        for node in &mut self.nodes {
            if node.children.0 != node.children.1 {
                node.flags |= DIR;
            }
        }
        let (text, nodes) = (&self.text, &self.nodes);
        for node in nodes {
            self.children[range(node.children)].sort_unstable_by(|&a, &b| {
                text[range(nodes[a as usize].name)].cmp(&text[range(nodes[b as usize].name)])
            });
        }
        per_node.fill(0);
        for &node in &self.entry_node {
            per_node[node as usize] += 1;
        }
        per_node[0] = 0;
        let mut at = 0u32;
        for (node, n) in self.nodes.iter_mut().zip(&per_node) {
            node.entries = (at, at);
            at += n;
        }
        self.at_node = vec![0; at as usize];
        for (index, &node) in self.entry_node.iter().enumerate() {
            if node == 0 {
                continue;
            }
            let n = &mut self.nodes[node as usize];
            self.at_node[n.entries.1 as usize] = index as u32;
            n.entries.1 += 1;
            if self.entries[index].kind == EntryKind::Dir {
                n.flags |= DIR;
            }
        }
    }

    pub(super) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Entry `index`'s path as stored.
    pub(super) fn path(&self, index: usize) -> &str {
        self.entries
            .get(index)
            .map_or("?", |e| &self.text[e.path.0..e.path.1])
    }

    pub(super) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The name of `node` as shown.
    pub(super) fn name(&self, node: usize) -> &str {
        &self.text[range(self.nodes[node].name)]
    }

    pub(super) fn parent(&self, node: usize) -> usize {
        self.nodes[node].parent as usize
    }

    /// The children of `node`, in name order.
    pub(super) fn children(
        &self,
        node: usize,
    ) -> impl DoubleEndedIterator<Item = usize> + ExactSizeIterator + '_ {
        self.children[range(self.nodes[node].children)]
            .iter()
            .map(|&c| c as usize)
    }

    /// The entries at `node`, in listing order.
    pub(super) fn entries_at(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        self.at_node[range(self.nodes[node].entries)]
            .iter()
            .map(|&e| e as usize)
    }

    pub(super) fn has_entries(&self, node: usize) -> bool {
        let (start, end) = self.nodes[node].entries;
        start != end
    }

    /// The node of entry `index`.
    pub(super) fn node_of(&self, index: usize) -> Option<usize> {
        self.entry_node.get(index).map(|&n| n as usize)
    }

    pub(super) fn is_dir(&self, node: usize) -> bool {
        self.nodes[node].flags & DIR != 0
    }

    pub(super) fn is_device(&self, node: usize) -> bool {
        self.nodes[node].flags & DEVICE != 0
    }

    /// The nodes from the root (excluded) down to `node`.
    pub(super) fn chain(&self, mut node: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        while node != 0 {
            chain.push(node);
            node = self.parent(node);
        }
        chain.reverse();
        chain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::FileTime;
    use crate::time::{Precision, Timestamp};

    fn listing(paths: &[(&str, EntryKind)]) -> Listing {
        let mut listing = Listing::default();
        for (path, kind) in paths {
            listing.push(path, kind.clone(), 1, Vec::new()).unwrap();
        }
        listing
    }

    fn names(tree: &Tree, node: usize) -> Vec<&str> {
        tree.children(node).map(|c| tree.name(c)).collect()
    }

    fn find(tree: &Tree, path: &[&str]) -> usize {
        path.iter().fold(0, |node, name| {
            tree.children(node)
                .find(|&c| tree.name(c) == *name)
                .unwrap_or_else(|| panic!("{name} under {}", tree.name(node)))
        })
    }

    #[test]
    fn paths_make_one_tree_with_children_in_name_order() {
        let file = EntryKind::File;
        let tree = Tree::build(
            listing(&[
                ("b/z.txt", file.clone()),
                ("a/", EntryKind::Dir),
                ("b/a.txt", file.clone()),
                ("b//./y.txt", file.clone()),
                ("a/x\\y.txt", file.clone()),
                ("b/z.txt", file.clone()),
                ("", file.clone()),
            ]),
            true,
            &MetadataTimes::default(),
        );
        assert_eq!(names(&tree, 0), ["a", "b"]);
        let b = find(&tree, &["b"]);
        assert_eq!(names(&tree, b), ["a.txt", "y.txt", "z.txt"]);
        let z = find(&tree, &["b", "z.txt"]);
        assert_eq!(
            tree.entries_at(z).collect::<Vec<_>>(),
            [0, 5],
            "one path twice"
        );
        assert_eq!(tree.node_of(5), Some(z));
        assert!(tree.is_dir(b) && !tree.is_dir(z));
        // `a/` is listed; `a/x` is implied by its member (`\` separates in a ZIP).
        let a = find(&tree, &["a"]);
        assert_eq!(tree.entries_at(a).collect::<Vec<_>>(), [1]);
        let x = find(&tree, &["a", "x"]);
        assert!(tree.is_dir(x) && !tree.has_entries(x));
        assert_eq!(tree.chain(find(&tree, &["a", "x", "y.txt"])), [a, x, x + 1]);
        assert_eq!(tree.path(4), "a/x\\y.txt");
        // An entry with no name stays at the root, listed but in no folder.
        assert_eq!(tree.node_of(6), Some(0));
        assert!(!tree.has_entries(0));
        // A tar's names hold `\` as a character.
        let tar = Tree::build(
            listing(&[("a/x\\y.txt", file)]),
            false,
            &MetadataTimes::default(),
        );
        assert_eq!(names(&tar, find(&tar, &["a"])), ["x\\y.txt"]);
    }

    #[test]
    fn velociraptor_names_are_decoded_and_devices_marked() {
        let time = Timestamp::from_unix(1_329_211_800, 0, Precision::Seconds).unwrap();
        let mut meta = MetadataTimes::default();
        meta.times.insert(
            layout::metadata_key("C:", &["Users".to_string(), "a b.txt".to_string()]),
            vec![FileTime {
                label: "Created",
                attribute: layout::METADATA_ATTRIBUTE,
                time,
            }],
        );
        let tree = Tree::build(
            listing(&[
                ("uploads/auto/C%3A/Users/a%20b.txt", EntryKind::File),
                ("uploads/auto/C%3A/Users/other.txt", EntryKind::File),
                ("Uploads/auto/C%3A/x%41", EntryKind::File),
                ("results/C%3A", EntryKind::File),
            ]),
            true,
            &meta,
        );
        let file = find(&tree, &["uploads", "auto", "C:", "Users", "a b.txt"]);
        assert_eq!(tree.node_of(0), Some(file));
        assert!(tree.is_device(find(&tree, &["uploads", "auto", "C:"])));
        assert!(!tree.is_device(find(&tree, &["uploads", "auto"])));
        assert!(tree.entries()[0].original_times);
        assert_eq!(tree.entries()[0].times[0].time, time);
        assert!(!tree.entries()[1].original_times);
        find(&tree, &["Uploads", "auto", "C:", "xA"]);
        // Outside `uploads/<accessor>/`, names are as stored.
        find(&tree, &["results", "C%3A"]);
        assert_eq!(tree.path(0), "uploads/auto/C%3A/Users/a%20b.txt");
    }
}
