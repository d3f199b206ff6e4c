//! Incremental path matching for tree walks.
//!
//! A walk hands the matcher one name at a time with the state of the parent folder; the
//! matcher answers whether the entry matched a rule and gives the state to pass to the
//! entry's children. Most folders of a disk have an empty state, so most names cost one
//! hash lookup (could a pattern start here?) and nothing else: this is what keeps a full
//! walk close to the speed of `find`.
//!
//! Patterns are anchored at a volume root, but the walk starts wherever the examiner
//! pointed: a volume root, or a collection holding `C/Users/...` or `mnt/c/Windows/...`.
//! So a pattern may start at any depth, and the match records where it started; that
//! depth is the volume root the pattern saw.

use std::collections::HashMap;
use std::sync::Arc;

use super::pattern::{Component, fold_case};
use super::{Catalog, Scope};

/// What matched an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchKind {
    /// A file named by a file rule.
    File,
    /// The folder named by a tree rule: its whole tree is inventoried.
    TreeRoot,
    /// An entry below a tree rule's folder.
    TreeMember,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryMatch {
    /// Index into `Catalog::files`.
    pub rule: usize,
    pub kind: MatchKind,
    /// The `<user>` component, where the pattern has one.
    pub user: Option<Arc<str>>,
    /// Depth (component index from the walk's root) where the pattern started: the
    /// volume root the pattern was anchored at.
    pub start_depth: usize,
    /// For tree matches: depth of the tree's root folder.
    pub tree_depth: usize,
}

#[derive(Debug, Clone)]
enum State {
    /// `pattern`'s components before `next` matched the folders from `start_depth` on.
    Partial {
        pattern: u32,
        next: u16,
        start_depth: u32,
        user: Option<Arc<str>>,
    },
    /// Inside the tree of file rule `rule`, whose root folder is at `tree_depth`.
    InTree {
        rule: u32,
        start_depth: u32,
        tree_depth: u32,
        user: Option<Arc<str>>,
    },
}

/// The matching state of one folder, handed to its children.
#[derive(Debug, Clone, Default)]
pub struct DirState {
    states: Vec<State>,
}

impl DirState {
    /// True when nothing below this folder can match unless a pattern starts anew.
    pub fn is_idle(&self) -> bool {
        self.states.is_empty()
    }
}

/// Compiled matcher over a catalog's file rules.
#[derive(Debug)]
pub struct Matcher {
    /// (rule index, components) for every expanded pattern.
    patterns: Vec<(usize, Vec<Component>)>,
    /// Patterns whose first component is a literal, by that literal.
    starts_by_literal: HashMap<String, Vec<u32>>,
    /// Patterns whose first component is a wildcard or `<user>`.
    starts_other: Vec<u32>,
    scopes: Vec<Scope>,
    /// True when some pattern has one component (other than `*.<ext>`), so files at any
    /// depth must be checked.
    single_component: bool,
    /// One-component patterns `*.<ext>` of `loose` rules: their lower-cased `.<ext>`,
    /// tested on a file's name by the directory and archive walks before anything else
    /// (a name anywhere in a collection; the image walk, which sees only folders whose
    /// files may match, leaves them out).
    suffixes: Vec<Vec<u8>>,
}

impl Matcher {
    pub fn new(catalog: &Catalog) -> Matcher {
        let mut patterns = Vec::new();
        let mut starts_by_literal: HashMap<String, Vec<u32>> = HashMap::new();
        let mut starts_other = Vec::new();
        let mut single_component = false;
        let mut suffixes = Vec::new();
        for (rule_index, rule) in catalog.files.iter().enumerate() {
            for pattern in &rule.patterns {
                if rule.loose
                    && let Some(suffix) = extension_of(&pattern.components)
                {
                    suffixes.push(suffix.as_bytes().to_vec());
                    let id = patterns.len() as u32;
                    starts_other.push(id);
                    patterns.push((rule_index, pattern.components.clone()));
                    continue;
                }
                let id = patterns.len() as u32;
                match &pattern.components[0] {
                    Component::Literal(lit) => {
                        starts_by_literal.entry(lit.clone()).or_default().push(id)
                    }
                    _ => starts_other.push(id),
                }
                single_component |= pattern.components.len() == 1;
                patterns.push((rule_index, pattern.components.clone()));
            }
        }
        Matcher {
            patterns,
            starts_by_literal,
            starts_other,
            scopes: catalog.files.iter().map(|r| r.scope).collect(),
            single_component,
            suffixes,
        }
    }

    /// The state of the walk's root folder.
    pub fn root(&self) -> DirState {
        DirState::default()
    }

    /// Can a file directly in a folder with this state match anything? Lets a walk skip
    /// files without even folding their names.
    pub fn files_may_match(&self, parent: &DirState) -> bool {
        !parent.is_idle() || self.single_component
    }

    /// Can the file `name` (its bytes as stored) in a folder with this state match
    /// anything? [`Self::files_may_match`], or its name ends with a `*.<ext>` pattern's
    /// extension (ASCII case ignored).
    pub fn file_may_match(&self, parent: &DirState, name: &[u8]) -> bool {
        self.files_may_match(parent)
            || self.suffixes.iter().any(|s| {
                name.len() > s.len() && name[name.len() - s.len()..].eq_ignore_ascii_case(s)
            })
    }

    /// Match the entry `name` at `depth` (0 = a child of the walk's root) inside a folder
    /// with state `parent`. Returns the best match, if any, and for a folder the state
    /// its children get.
    pub fn step(
        &self,
        parent: &DirState,
        depth: usize,
        name: &str,
        is_dir: bool,
    ) -> (Option<EntryMatch>, DirState) {
        let lower = fold_case(name);
        let lower = lower.as_ref();
        let mut child = DirState::default();
        let mut best: Option<EntryMatch> = None;
        let depth32 = depth as u32;

        for state in &parent.states {
            match state {
                State::InTree {
                    rule,
                    start_depth,
                    tree_depth,
                    user,
                } => {
                    offer(
                        &mut best,
                        EntryMatch {
                            rule: *rule as usize,
                            kind: MatchKind::TreeMember,
                            user: user.clone(),
                            start_depth: *start_depth as usize,
                            tree_depth: *tree_depth as usize,
                        },
                    );
                    if is_dir {
                        child.states.push(state.clone());
                    }
                }
                State::Partial {
                    pattern,
                    next,
                    start_depth,
                    user,
                } => self.advance(
                    *pattern,
                    *next as usize,
                    *start_depth,
                    user.clone(),
                    name,
                    lower,
                    is_dir,
                    depth32,
                    &mut best,
                    &mut child,
                ),
            }
        }

        let starts = self.starts_by_literal.get(lower).into_iter().flatten();
        for &pattern in starts.chain(self.starts_other.iter()) {
            self.advance(
                pattern, 0, depth32, None, name, lower, is_dir, depth32, &mut best, &mut child,
            );
        }
        // A folder inside a tree needs only the outermost tree's state; partial states of
        // other patterns stay (a file rule may name a file inside a tree).
        dedup_trees(&mut child.states);
        (best, child)
    }

    #[allow(clippy::too_many_arguments)]
    fn advance(
        &self,
        pattern: u32,
        next: usize,
        start_depth: u32,
        user: Option<Arc<str>>,
        name: &str,
        lower: &str,
        is_dir: bool,
        depth: u32,
        best: &mut Option<EntryMatch>,
        child: &mut DirState,
    ) {
        let (rule, components) = &self.patterns[pattern as usize];
        let Some(component) = components.get(next) else {
            return;
        };
        if !component.accepts(lower) {
            return;
        }
        let user = if matches!(component, Component::User) {
            Some(Arc::<str>::from(name))
        } else {
            user
        };
        let last = next + 1 == components.len();
        if !last {
            if is_dir {
                child.states.push(State::Partial {
                    pattern,
                    next: (next + 1) as u16,
                    start_depth,
                    user,
                });
            }
            return;
        }
        match (self.scopes[*rule], is_dir) {
            (Scope::File, false) => offer(
                best,
                EntryMatch {
                    rule: *rule,
                    kind: MatchKind::File,
                    user,
                    start_depth: start_depth as usize,
                    tree_depth: depth as usize,
                },
            ),
            (Scope::Tree, true) => {
                offer(
                    best,
                    EntryMatch {
                        rule: *rule,
                        kind: MatchKind::TreeRoot,
                        user: user.clone(),
                        start_depth: start_depth as usize,
                        tree_depth: depth as usize,
                    },
                );
                child.states.push(State::InTree {
                    rule: *rule as u32,
                    start_depth,
                    tree_depth: depth,
                    user,
                });
            }
            // A file rule's name on a folder, or a tree rule's on a file: not what the
            // rule describes.
            _ => {}
        }
    }
}

/// Keep the better of two matches: the one anchored at the outermost volume root, then a
/// file rule (most specific) before tree membership, then the earlier rule.
fn offer(best: &mut Option<EntryMatch>, candidate: EntryMatch) {
    let rank = |m: &EntryMatch| {
        let kind = match m.kind {
            MatchKind::File => 0,
            MatchKind::TreeRoot => 1,
            MatchKind::TreeMember => 2,
        };
        (m.start_depth, kind, m.tree_depth, m.rule)
    };
    match best {
        Some(current) if rank(current) <= rank(&candidate) => {}
        _ => *best = Some(candidate),
    }
}

fn dedup_trees(states: &mut Vec<State>) {
    let outermost = states
        .iter()
        .filter_map(|s| match s {
            State::InTree {
                start_depth,
                tree_depth,
                ..
            } => Some((*start_depth, *tree_depth)),
            _ => None,
        })
        .min();
    if let Some(keep) = outermost {
        let mut kept = false;
        states.retain(|s| match s {
            State::InTree {
                start_depth,
                tree_depth,
                ..
            } => {
                let is_keep = !kept && (*start_depth, *tree_depth) == keep;
                kept |= is_keep;
                is_keep
            }
            _ => true,
        });
    }
}

/// The `.<ext>` of a one-component pattern `*.<ext>` (no other wildcard).
pub(super) fn extension_of(components: &[Component]) -> Option<&str> {
    let [Component::Glob(glob)] = components else {
        return None;
    };
    glob.strip_prefix('*')
        .filter(|s| s.starts_with('.') && s.len() > 1 && !s.contains(['*', '?']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn walk(m: &Matcher, path: &[(&str, bool)]) -> Option<EntryMatch> {
        let mut state = m.root();
        let mut last = None;
        for (depth, (name, is_dir)) in path.iter().enumerate() {
            let (found, child) = m.step(&state, depth, name, *is_dir);
            last = found;
            state = child;
        }
        last
    }

    fn dirs_then_file(parts: &[&str]) -> Vec<(&'static str, bool)> {
        let n = parts.len();
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| (Box::leak(p.to_string().into_boxed_str()) as &str, i + 1 < n))
            .collect()
    }

    #[test]
    fn extension_patterns_are_tested_on_names_in_idle_folders() {
        let c = Catalog::embedded().unwrap();
        let m = Matcher::new(&c);
        let idle = m.root();
        assert!(!m.files_may_match(&idle), "no folder-wide test for *.evtx");
        assert!(m.file_may_match(&idle, b"Security.EVTX"));
        assert!(!m.file_may_match(&idle, b"evtx"));
        assert!(!m.file_may_match(&idle, b"notes.txt"));
        let (hit, _) = m.step(&idle, 3, "Security.EVTX", false);
        let hit = hit.unwrap();
        assert_eq!(c.files[hit.rule].info.id, "eventlog.file");
    }

    #[test]
    fn tree_members_at_any_depth_and_case() {
        let c = Catalog::embedded().unwrap();
        let m = Matcher::new(&c);
        let hit = walk(
            &m,
            &dirs_then_file(&[
                "case1", "C", "USERS", "José", "AppData", "Local", "akamai", "x", "y.bin",
            ]),
        )
        .unwrap();
        assert_eq!(hit.kind, MatchKind::TreeMember);
        assert_eq!(hit.user.as_deref(), Some("José"));
        assert_eq!(hit.start_depth, 2);
        assert_eq!(hit.tree_depth, 6);
        let root = walk(
            &m,
            &[
                ("Users", true),
                ("bob", true),
                ("AppData", true),
                ("Local", true),
                ("Akamai", true),
            ],
        )
        .unwrap();
        assert_eq!(root.kind, MatchKind::TreeRoot);
    }

    #[test]
    fn decoys_do_not_match() {
        let c = Catalog::embedded().unwrap();
        let m = Matcher::new(&c);
        for decoy in [
            &["Users", "bob", "Documents", "akamai_invoice.pdf"][..],
            &["Users", "bob", "AppData", "Local", "Akamai.txt"][..],
            &["Users", "bob", "AppData", "Roaming", "Akamai", "x.dat"][..],
        ] {
            assert_eq!(walk(&m, &dirs_then_file(decoy)), None, "{decoy:?}");
        }
        // Every Prefetch file is a candidate: its content says whose it is.
        for pf in ["NETSESSION_WIN.EXE-1A2B3C4D.pf", "NOTEPAD.EXE-12345678.pf"] {
            let hit = walk(&m, &dirs_then_file(&["Windows", "Prefetch", pf])).unwrap();
            assert_eq!(hit.kind, MatchKind::File);
        }
    }
}
