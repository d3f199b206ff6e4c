//! Change-journal records that name what the catalog matches, as rows: they date the
//! creation, renaming and deletion of files whose MFT records were reused since.

use crate::catalog::Catalog;
use crate::evidence::{EvidenceRow, RecordState};
use crate::fs::FileSystem;

/// Rows for change-journal records naming what the catalog matches.
pub(crate) fn journal_rows(
    fs: &dyn FileSystem,
    hits: &[crate::fs::JournalHit],
    catalog: &Catalog,
) -> Vec<EvidenceRow> {
    use crate::fs::journal::PathOrigin;
    use crate::ntfs::usn::reason_names;
    hits.iter()
        .map(|hit| {
            let rule = &catalog.files[hit.found.rule].info;
            let r = &hit.record;
            let reasons = reason_names(r.reason).join("|");
            let mut message = format!(
                "USN journal: {} {} ({rule_what})",
                r.name,
                describe_reasons(r.reason),
                rule_what = rule.what
            );
            match hit.origin {
                PathOrigin::Mft => {}
                PathOrigin::Journal => message.push_str(
                    "; folder named by the journal's own records (its MFT record was reused since)",
                ),
                PathOrigin::Unknown => message.push_str(
                    "; its folder's MFT record was reused since and the journal no longer names it: folder unknown",
                ),
            }
            EvidenceRow {
                datetime: crate::time::Timestamp::from_filetime(r.timestamp),
                timestamp_desc: "USN Journal Entry".into(),
                message,
                artifact: "ntfs.usn_journal".into(),
                user: hit
                    .found
                    .user
                    .as_deref()
                    .map(String::from)
                    .unwrap_or_default(),
                path: hit.path.clone(),
                value: format!(
                    "reasons={reasons}; usn={}; file=mft {} seq {}",
                    r.usn, r.file_record, r.file_sequence
                ),
                size: None,
                sha256: String::new(),
                // What the record says of the file: a deletion is `deleted`, so that
                // filtering on the state finds it; other records leave it allocated.
                state: if r.reason & FILE_DELETE != 0 {
                    RecordState::Deleted
                } else {
                    RecordState::Allocated
                },
                source: fs.journal_source(),
                locator: format!("$UsnJrnl:$J offset={:#x} usn={}", r.offset, r.usn),
            }
        })
        .collect()
}

/// The journal's reason flag for a file's deletion.
const FILE_DELETE: u32 = 0x200;

/// What a journal record's reasons say happened, in words.
fn describe_reasons(reason: u32) -> &'static str {
    if reason & FILE_DELETE != 0 {
        "deleted"
    } else if reason & 0x100 != 0 {
        "created"
    } else if reason & 0x2000 != 0 {
        "renamed to this name"
    } else if reason & 0x1000 != 0 {
        "renamed from this name"
    } else {
        "changed"
    }
}
