//! Path patterns with Windows semantics: components split on `\` or `/`, compared
//! case-insensitively, with `*`/`?` wildcards inside a component and `<user>` standing
//! for one component that names a user profile (captured for the `user` column).

use std::collections::BTreeMap;

use super::CatalogError;

/// One component of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Component {
    /// Exact name, already lower-cased.
    Literal(String),
    /// Wildcard name (`*`, `?`), already lower-cased.
    Glob(String),
    /// Any single name; its value is the profile's user name.
    User,
}

impl Component {
    fn parse(text: &str) -> Component {
        if text.eq_ignore_ascii_case("<user>") {
            Component::User
        } else if text.contains(['*', '?']) {
            Component::Glob(text.to_lowercase())
        } else {
            Component::Literal(text.to_lowercase())
        }
    }

    /// Does this component accept `lower`, a name already lower-cased?
    pub fn accepts(&self, lower: &str) -> bool {
        match self {
            Component::Literal(lit) => lit == lower,
            Component::Glob(glob) => wildcard_match(glob, lower),
            Component::User => true,
        }
    }
}

/// A pattern after placeholder expansion: a sequence of components anchored at a
/// volume root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    pub text: String,
    pub components: Vec<Component>,
}

/// Lower-case a name the way a case-insensitive Windows comparison would see it.
/// ASCII names (nearly all of them) avoid the Unicode tables.
pub fn fold_case(name: &str) -> std::borrow::Cow<'_, str> {
    if name.is_ascii() {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            std::borrow::Cow::Owned(name.to_ascii_lowercase())
        } else {
            std::borrow::Cow::Borrowed(name)
        }
    } else {
        std::borrow::Cow::Owned(name.to_lowercase())
    }
}

/// `*` matches any run of characters (also none), `?` exactly one; both stay within
/// one component because components are matched one at a time.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` and of the text where it started matching, for backtracking.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Split a pattern's text into component strings.
fn split_components(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\\', '/']).filter(|c| !c.is_empty())
}

/// Expand `<name>` placeholders (other than `<user>`) into every alternative they stand
/// for, recursively, then compile each result.
pub fn expand(
    text: &str,
    placeholders: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<PathPattern>, CatalogError> {
    let mut out = Vec::new();
    expand_into(text, placeholders, 0, &mut out)?;
    if out.is_empty() {
        return Err(CatalogError::BadPattern {
            pattern: text.to_string(),
            reason: "pattern is empty".into(),
        });
    }
    Ok(out)
}

const MAX_PLACEHOLDER_DEPTH: usize = 8;

fn expand_into(
    text: &str,
    placeholders: &BTreeMap<String, Vec<String>>,
    depth: usize,
    out: &mut Vec<PathPattern>,
) -> Result<(), CatalogError> {
    if depth > MAX_PLACEHOLDER_DEPTH {
        return Err(CatalogError::BadPattern {
            pattern: text.to_string(),
            reason: "placeholders nest too deep (a placeholder refers to itself?)".into(),
        });
    }
    // Find the first placeholder that is not <user>.
    let mut search_from = 0;
    while let Some(open) = text[search_from..].find('<').map(|i| i + search_from) {
        let close =
            text[open..]
                .find('>')
                .map(|i| i + open)
                .ok_or_else(|| CatalogError::BadPattern {
                    pattern: text.to_string(),
                    reason: format!("unclosed '<' at byte {open}"),
                })?;
        let name = &text[open + 1..close];
        if name.eq_ignore_ascii_case("user") {
            search_from = close + 1;
            continue;
        }
        let alternatives = placeholders
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| CatalogError::BadPattern {
                pattern: text.to_string(),
                reason: format!("unknown placeholder <{name}>"),
            })?;
        for alt in alternatives {
            let replaced = format!("{}{}{}", &text[..open], alt, &text[close + 1..]);
            expand_into(&replaced, placeholders, depth + 1, out)?;
        }
        return Ok(());
    }
    let components: Vec<Component> = split_components(text).map(Component::parse).collect();
    if components.is_empty() {
        return Ok(());
    }
    if components
        .iter()
        .any(|c| matches!(c, Component::Literal(l) if l == "." || l == ".."))
    {
        return Err(CatalogError::BadPattern {
            pattern: text.to_string(),
            reason: "'.' and '..' are not allowed in patterns".into(),
        });
    }
    out.push(PathPattern {
        text: text.replace('/', "\\"),
        components,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_stay_in_one_component_and_fold_case() {
        assert!(wildcard_match(
            "netsession_win_*.dll",
            "netsession_win_dbc0250.dll"
        ));
        assert!(wildcard_match("*cache*", "cache"));
        assert!(wildcard_match("*cache*", "peercache2"));
        assert!(!wildcard_match("*cache*", "cach"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match(
            "netsession_win.exe-*.pf",
            "netsession_win.exe"
        ));
        assert_eq!(fold_case("NetSession_WIN.exe"), "netsession_win.exe");
        assert_eq!(fold_case("JOSÉ"), "josé");
    }

    #[test]
    fn placeholders_expand_recursively() {
        let mut ph = BTreeMap::new();
        ph.insert(
            "profile".to_string(),
            vec![
                "Users\\<user>".into(),
                "Documents and Settings\\<user>".into(),
            ],
        );
        ph.insert("desktop".to_string(), vec!["<profile>\\Desktop".into()]);
        let pats = expand("<desktop>/x.exe", &ph).unwrap();
        let texts: Vec<_> = pats.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Users\\<user>\\Desktop\\x.exe",
                "Documents and Settings\\<user>\\Desktop\\x.exe"
            ]
        );
        assert_eq!(pats[0].components[1], Component::User);
        assert!(expand("<nope>\\x", &ph).is_err());
        let mut looped = BTreeMap::new();
        looped.insert("a".to_string(), vec!["<a>\\x".to_string()]);
        assert!(expand("<a>", &looped).is_err());
    }
}
