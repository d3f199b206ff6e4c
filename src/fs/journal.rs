//! Change-journal records (`$UsnJrnl:$J`) matched against the catalog by their path.
//!
//! A journal record names only the file and its parent folder's MFT reference. The path
//! is rebuilt from the MFT tree while each folder's record still is the folder it named
//! (same sequence number, or one more when the folder was deleted and its record not
//! reused). Uninstalled software is exactly the case where that fails: the install
//! folder's record is reused by something else. The journal then often still holds the
//! folder's own records (its creation, its deletion), whose name and parent rebuild the
//! rest of the path. What neither can place hangs under `$Orphan`.

use rustc_hash::FxHashMap;

use super::JournalHit;
use crate::catalog::Matcher;
use crate::ntfs::usn::UsnRecord;

/// NTFS's root folder is MFT record 5.
const ROOT: u64 = 5;
/// Deeper than any real path: a loop in damaged references stops here.
const MAX_DEPTH: usize = 512;
/// Folder records kept from the journal. A 32 MiB journal holds a few hundred thousand
/// records in all; past this many folders the rest are not used for paths (and the
/// caller says so).
pub const MAX_JOURNAL_FOLDERS: usize = 1 << 20;
/// `FILE_ATTRIBUTE_DIRECTORY`.
const DIRECTORY: u32 = 0x10;

/// What the MFT says about one record, as far as paths need it.
#[derive(Debug, Clone)]
pub struct FolderNode {
    pub name: String,
    pub parent: u64,
    pub parent_sequence: u16,
    pub sequence: u16,
    pub in_use: bool,
    pub is_dir: bool,
}

/// Where a rebuilt path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathOrigin {
    /// Every folder from the MFT.
    Mft,
    /// At least one folder only from the journal's own records: its MFT record was
    /// reused since.
    Journal,
    /// The parent folder is known to neither: the path is `$Orphan\name`.
    Unknown,
}

/// Folders as the journal itself names them: (record, sequence) -> (name, parent).
#[derive(Debug, Default)]
pub struct JournalFolders {
    folders: FxHashMap<(u64, u16), (String, u64, u16)>,
    /// Folder records not kept because the map was full.
    pub dropped: usize,
}

impl JournalFolders {
    /// Remembers the folders among `records`. Later records win, so a renamed folder is
    /// known by its last name, as the MFT would give it.
    pub fn add(&mut self, records: &[UsnRecord]) {
        for r in records
            .iter()
            .filter(|r| r.file_attributes & DIRECTORY != 0)
        {
            let key = (r.file_record, r.file_sequence);
            if self.folders.len() >= MAX_JOURNAL_FOLDERS && !self.folders.contains_key(&key) {
                self.dropped += 1;
                continue;
            }
            self.folders
                .insert(key, (r.name.clone(), r.parent_record, r.parent_sequence));
        }
    }

    pub fn len(&self) -> usize {
        self.folders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.folders.is_empty()
    }
}

/// A folder's path from the volume root, and where its names came from.
type FolderPath = (Vec<String>, PathOrigin);

/// Rebuilds journal paths and matches them, remembering each folder it resolved.
pub struct JournalMatcher<'a> {
    nodes: &'a FxHashMap<u64, FolderNode>,
    journal: &'a JournalFolders,
    matcher: &'a Matcher,
    resolved: FxHashMap<(u64, u16), Option<FolderPath>>,
}

impl<'a> JournalMatcher<'a> {
    pub fn new(
        nodes: &'a FxHashMap<u64, FolderNode>,
        journal: &'a JournalFolders,
        matcher: &'a Matcher,
    ) -> Self {
        JournalMatcher {
            nodes,
            journal,
            matcher,
            resolved: FxHashMap::default(),
        }
    }

    /// The records whose rebuilt path the catalog matches.
    pub fn matches(&mut self, records: &[UsnRecord]) -> Vec<JournalHit> {
        let mut hits = Vec::new();
        for record in records {
            let key = (record.parent_record, record.parent_sequence);
            if !self.resolved.contains_key(&key) {
                let path = self.folder_path(key.0, key.1);
                self.resolved.insert(key, path);
            }
            let (mut components, origin) = match &self.resolved[&key] {
                Some((path, origin)) => (path.clone(), *origin),
                None => (vec!["$Orphan".to_string()], PathOrigin::Unknown),
            };
            components.push(record.name.clone());
            if let Some(found) = self.match_path(&components, record) {
                hits.push(JournalHit {
                    path: components.join("\\"),
                    record: record.clone(),
                    found,
                    origin,
                });
            }
        }
        hits
    }

    fn match_path(
        &self,
        components: &[String],
        record: &UsnRecord,
    ) -> Option<crate::catalog::EntryMatch> {
        let mut state = self.matcher.root();
        let mut found = None;
        for (depth, name) in components.iter().enumerate() {
            let last = depth + 1 == components.len();
            let is_dir = !last || record.file_attributes & DIRECTORY != 0;
            let (hit, next) = self.matcher.step(&state, depth, name, is_dir);
            if last {
                found = hit;
            }
            state = next;
        }
        found
    }

    /// The path from the volume root of folder (`number`, `sequence`), each step from
    /// the MFT when its record still is that folder, else from the journal.
    pub fn folder_path(&self, number: u64, sequence: u16) -> Option<FolderPath> {
        let mut names = Vec::new();
        let mut origin = PathOrigin::Mft;
        let (mut number, mut sequence) = (number, sequence);
        for _ in 0..MAX_DEPTH {
            if number == ROOT {
                names.reverse();
                return Some((names, origin));
            }
            let from_mft = self.nodes.get(&number).filter(|node| {
                node.is_dir
                    && (node.sequence == sequence
                        // Deleting a record bumps its sequence number; a folder deleted
                        // and not reused since still is the folder the journal named.
                        || (!node.in_use && node.sequence == sequence.wrapping_add(1)))
            });
            if let Some(node) = from_mft {
                names.push(node.name.clone());
                (number, sequence) = (node.parent, node.parent_sequence);
            } else if let Some((name, parent, parent_sequence)) =
                self.journal.folders.get(&(number, sequence))
            {
                names.push(name.clone());
                origin = PathOrigin::Journal;
                (number, sequence) = (*parent, *parent_sequence);
            } else {
                return None;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn node(name: &str, parent: u64, sequence: u16) -> FolderNode {
        FolderNode {
            name: name.into(),
            parent,
            parent_sequence: 1,
            sequence,
            in_use: true,
            is_dir: true,
        }
    }

    fn usn(name: &str, file: (u64, u16), parent: (u64, u16), reason: u32, attrs: u32) -> UsnRecord {
        UsnRecord {
            offset: 0x40,
            major: 2,
            minor: 0,
            file_record: file.0,
            file_sequence: file.1,
            parent_record: parent.0,
            parent_sequence: parent.1,
            usn: 64,
            timestamp: 129_736_854_000_000_000,
            reason,
            source_info: 0,
            file_attributes: attrs,
            name: name.into(),
        }
    }

    fn tree() -> FxHashMap<u64, FolderNode> {
        let mut nodes = FxHashMap::default();
        nodes.insert(100, node("Users", ROOT, 1));
        nodes.insert(101, node("José", 100, 1));
        nodes.insert(102, node("AppData", 101, 1));
        nodes.insert(103, node("Local", 102, 1));
        nodes.insert(104, node("Akamai", 103, 1));
        nodes.insert(105, node("Documents", 101, 1));
        nodes
    }

    #[test]
    fn paths_come_from_the_mft_while_folders_are_unchanged() {
        let nodes = tree();
        let journal = JournalFolders::default();
        let catalog = Catalog::embedded().unwrap();
        let matcher = Matcher::new(&catalog);
        let mut m = JournalMatcher::new(&nodes, &journal, &matcher);
        let records = vec![
            usn(
                "netsession_win_a1b2c3d.dll",
                (300, 4),
                (104, 1),
                0x8000_0200,
                0x20,
            ),
            usn("akamai_invoice.pdf", (301, 1), (105, 1), 0x100, 0x20),
            // The Akamai folder's record was reused (sequence 7 asked, 1 there) and the
            // journal does not know it: path unknown, and `$Orphan\netsession_win.exe`
            // is matched by the catalog's orphan rule.
            usn("netsession_win.exe", (302, 1), (104, 7), 0x100, 0x20),
        ];
        let hits = m.matches(&records);
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(
            hits[0].path,
            "Users\\José\\AppData\\Local\\Akamai\\netsession_win_a1b2c3d.dll"
        );
        assert_eq!(hits[0].origin, PathOrigin::Mft);
        assert_eq!(hits[0].found.user.as_deref(), Some("José"));
        assert_eq!(hits[1].path, "$Orphan\\netsession_win.exe");
        assert_eq!(hits[1].origin, PathOrigin::Unknown);
        assert_eq!(m.folder_path(ROOT, 5), Some((Vec::new(), PathOrigin::Mft)));
    }

    #[test]
    fn a_reused_folder_is_named_by_the_journal() {
        let mut nodes = tree();
        // Akamai (104, seq 1) deleted; its record is now a file with sequence 2.
        nodes.insert(
            104,
            FolderNode {
                name: "IMG_0001.jpg".into(),
                parent: 105,
                parent_sequence: 1,
                sequence: 2,
                in_use: true,
                is_dir: false,
            },
        );
        let mut journal = JournalFolders::default();
        journal.add(&[
            usn("Akamai", (104, 1), (103, 1), 0x100, 0x10),
            usn("Akamai", (104, 1), (103, 1), 0x8000_0200, 0x10),
        ]);
        assert_eq!(journal.len(), 1);
        let catalog = Catalog::embedded().unwrap();
        let matcher = Matcher::new(&catalog);
        let mut m = JournalMatcher::new(&nodes, &journal, &matcher);
        let hits = m.matches(&[usn("netsession_win.exe", (106, 1), (104, 1), 0x100, 0x20)]);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(
            hits[0].path,
            "Users\\José\\AppData\\Local\\Akamai\\netsession_win.exe"
        );
        assert_eq!(hits[0].origin, PathOrigin::Journal);
    }

    #[test]
    fn a_deleted_folder_not_reused_is_still_named_by_the_mft() {
        let mut nodes = tree();
        if let Some(akamai) = nodes.get_mut(&104) {
            akamai.in_use = false;
            akamai.sequence = 2;
        }
        let journal = JournalFolders::default();
        let catalog = Catalog::embedded().unwrap();
        let matcher = Matcher::new(&catalog);
        let m = JournalMatcher::new(&nodes, &journal, &matcher);
        let (path, origin) = m.folder_path(104, 1).unwrap();
        assert_eq!(path.join("\\"), "Users\\José\\AppData\\Local\\Akamai");
        assert_eq!(origin, PathOrigin::Mft);
        // Two deletions ago is another folder's life: not trusted.
        assert_eq!(m.folder_path(104, 0), None);
    }

    #[test]
    fn a_loop_of_journal_folders_ends() {
        let nodes = FxHashMap::default();
        let mut journal = JournalFolders::default();
        journal.add(&[
            usn("a", (200, 1), (201, 1), 0x100, 0x10),
            usn("b", (201, 1), (200, 1), 0x100, 0x10),
        ]);
        let catalog = Catalog::embedded().unwrap();
        let matcher = Matcher::new(&catalog);
        let m = JournalMatcher::new(&nodes, &journal, &matcher);
        assert_eq!(m.folder_path(200, 1), None);
    }
}
