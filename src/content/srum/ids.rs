//! `SruDbIdMapTable`: the ids SRUM's usage tables store, resolved to application names
//! or paths and user SIDs.

use std::collections::HashMap;

use crate::ese::{EseDatabase, EseError, Value};

/// IdType of a user's SID; the other types are application names.
const ID_TYPE_SID: i64 = 3;

/// The id map of one SRUM database.
#[derive(Debug, Default, Clone)]
pub struct SrumIds {
    apps: HashMap<i32, String>,
    users: HashMap<i32, String>,
}

impl SrumIds {
    /// Read `SruDbIdMapTable`, with the problems met (a missing table is one).
    pub fn read(db: &EseDatabase<'_>) -> (SrumIds, Vec<EseError>) {
        let mut ids = SrumIds::default();
        let mut problems = Vec::new();
        let Some(table) = db.table("SruDbIdMapTable") else {
            problems.push(EseError::Catalog(
                "no table SruDbIdMapTable: ids not resolved".into(),
            ));
            return (ids, problems);
        };
        let col = |name: &str| table.columns.iter().position(|c| c.name == name);
        let (Some(kind), Some(index), Some(blob)) = (col("IdType"), col("IdIndex"), col("IdBlob"))
        else {
            problems.push(EseError::Catalog(
                "SruDbIdMapTable lacks IdType, IdIndex or IdBlob".into(),
            ));
            return (ids, problems);
        };
        for row in db.rows(table) {
            let row = match row {
                Ok(r) => r,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            let (Some(k), Some(i)) = (
                super::int(&row.values[kind]),
                super::int(&row.values[index]),
            ) else {
                continue;
            };
            let Value::Binary(b) = &row.values[blob] else {
                continue;
            };
            if k == ID_TYPE_SID {
                if let Some(sid) = sid_text(b) {
                    ids.users.insert(i as i32, sid);
                }
            } else {
                let text = crate::bytes::utf16_lossy(b);
                ids.apps
                    .insert(i as i32, text.trim_end_matches('\0').to_string());
            }
        }
        (ids, problems)
    }

    pub fn app(&self, id: i32) -> Option<&str> {
        self.apps.get(&id).map(String::as_str)
    }

    pub fn user(&self, id: i32) -> Option<&str> {
        self.users.get(&id).map(String::as_str)
    }

    pub fn apps(&self) -> impl Iterator<Item = (i32, &str)> {
        self.apps.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// A binary SID as text ("S-1-5-21-..."), or `None` when the bytes are no SID.
pub fn sid_text(b: &[u8]) -> Option<String> {
    let (&revision, rest) = b.split_first()?;
    let (&count, rest) = rest.split_first()?;
    let authority = rest.get(..6)?;
    let subs = rest.get(6..)?;
    if subs.len() != usize::from(count) * 4 {
        return None;
    }
    let auth = authority.iter().fold(0u64, |a, &x| a << 8 | u64::from(x));
    let mut s = format!("S-{revision}-{auth}");
    for w in subs.chunks_exact(4) {
        s.push_str(&format!(
            "-{}",
            u32::from_le_bytes([w[0], w[1], w[2], w[3]])
        ));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids() {
        let local_service = [1, 1, 0, 0, 0, 0, 0, 5, 0x13, 0, 0, 0];
        assert_eq!(sid_text(&local_service).as_deref(), Some("S-1-5-19"));
        assert_eq!(sid_text(&local_service[..10]), None);
        assert_eq!(sid_text(&[]), None);
    }
}
