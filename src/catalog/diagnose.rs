//! A catalog that does not deserialize, said for its author on one line: the rule (its
//! id), the field, and the line and column in the file.
//!
//! serde's error for a whole catalog names neither the rule nor, for fields of
//! [`RuleInfo`](super::RuleInfo) (read through `flatten`), the field. So each rule is
//! read again on its own; a field is to blame when the rule reads without it (or only
//! misses it).

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::{CatalogError, EventRuleDef, FileRuleDef, LogEventDef, MemberRuleDef, RegistryRuleDef};

type Check = fn(Spanned<DeValue<'_>>) -> Result<(), toml::de::Error>;

fn check<T: DeserializeOwned>(rule: Spanned<DeValue<'_>>) -> Result<(), toml::de::Error> {
    T::deserialize(ValueDeserializer::from(rule)).map(|_| ())
}

/// The rule tables of a catalog and how each is read.
const RULE_KINDS: [(&str, Check); 5] = [
    ("file", check::<FileRuleDef>),
    ("member", check::<MemberRuleDef>),
    ("registry", check::<RegistryRuleDef>),
    ("log_event", check::<LogEventDef>),
    ("event", check::<EventRuleDef>),
];

/// `err` came from reading `text` (the catalog named `origin`) as a whole.
pub(super) fn explain(origin: &str, text: &str, err: &toml::de::Error) -> CatalogError {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(syntax) => return syntax_error(origin, text, &syntax),
    };
    for (kind, check) in RULE_KINDS {
        let Some(DeValue::Array(rules)) = doc.get_ref().get(kind).map(|v| v.get_ref()) else {
            continue;
        };
        for (n, rule) in rules.iter().enumerate() {
            if let Err(e) = check(rule.clone()) {
                return rule_error(origin, text, kind, n, rule, check, &e);
            }
        }
    }
    // Outside the rules ([placeholders], [terms]): TOML's own words, with the place.
    let place = err
        .span()
        .map(|span| {
            let (line, column) = line_column(text, span.start);
            format!("line {line}, column {column}: ")
        })
        .unwrap_or_default();
    CatalogError::Syntax {
        origin: origin.to_string(),
        message: format!("{place}{}", one_line(err.message())),
    }
}

fn rule_error(
    origin: &str,
    text: &str,
    kind: &str,
    n: usize,
    rule: &Spanned<DeValue<'_>>,
    check: Check,
    err: &toml::de::Error,
) -> CatalogError {
    let table = rule.get_ref().as_table();
    let name = match table
        .and_then(|t| t.get("id"))
        .and_then(|id| id.get_ref().as_str())
    {
        Some(id) => format!("rule {id:?}"),
        None => format!("[[{kind}]] rule number {} (no id)", n + 1),
    };
    let (field, at) = match missing_field(err.message()) {
        Some(missing) => (Some(missing), rule.span().start),
        None => match table.and_then(|t| blamed_field(rule.span(), t, check)) {
            Some((field, span)) => (Some(field), span.start),
            None => (None, rule.span().start),
        },
    };
    let (line, column) = line_column(text, at);
    let field = field.map(|f| format!(", field `{f}`")).unwrap_or_default();
    CatalogError::BadField {
        origin: origin.to_string(),
        place: format!("{name}{field}, line {line}, column {column}"),
        reason: one_line(err.message()),
    }
}

/// The field without which the rule reads, or reads but for that field missing (for an
/// error other than a missing field).
fn blamed_field(
    span: std::ops::Range<usize>,
    table: &DeTable<'_>,
    check: Check,
) -> Option<(String, std::ops::Range<usize>)> {
    for (key, value) in table.iter() {
        let key = key.get_ref().as_ref();
        let mut without = table.clone();
        without.remove(key);
        let blamed = match check(Spanned::new(span.clone(), DeValue::Table(without))) {
            Ok(()) => true,
            Err(e) => missing_field(e.message()).as_deref() == Some(key),
        };
        if blamed {
            return Some((key.to_string(), value.span()));
        }
    }
    None
}

/// The field of serde's "missing field `x`".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.split("missing field `").nth(1)?;
    rest.split('`').next().map(String::from)
}

fn syntax_error(origin: &str, text: &str, err: &toml::de::Error) -> CatalogError {
    let at = err.span().map_or(0, |s| s.start);
    let (line, column) = line_column(text, at);
    let rule = enclosing_rule(text, at)
        .map(|r| format!(" (in {r})"))
        .unwrap_or_default();
    let line_text = text.lines().nth(line - 1).unwrap_or("").trim();
    CatalogError::Syntax {
        origin: origin.to_string(),
        message: format!(
            "line {line}, column {column}{rule}: {}, in `{line_text}`",
            one_line(err.message())
        ),
    }
}

/// For a syntax error at `at`: the `[[kind]]` table around it, by its `id` when a line
/// of it says `id = "..."`.
fn enclosing_rule(text: &str, at: usize) -> Option<String> {
    let at = floor_char_boundary(text, at);
    let header_start = text[..at]
        .rmatch_indices('\n')
        .map(|(i, _)| i + 1)
        .chain([0])
        .find(|&i| text[i..].starts_with('['))?;
    let header = text[header_start..].lines().next()?.trim();
    let kind = header.strip_prefix("[[")?.split("]]").next()?.trim();
    let id = text[header_start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .find_map(|l| {
            let value = l
                .trim()
                .strip_prefix("id")?
                .trim_start()
                .strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_string())
        });
    let (line, _) = line_column(text, header_start);
    Some(match id {
        Some(id) => format!("[[{kind}]] rule {id:?}"),
        None => format!("the [[{kind}]] rule of line {line}"),
    })
}

/// 1-based line and column (in characters) of byte `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, at)];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn one_line(message: &str) -> String {
    message.trim().replace('\n', " ")
}
