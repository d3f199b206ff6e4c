//! What a volume's shadow copies add. A snapshot is a volume of its own in the verdict
//! (source `<volume> vss<N>@<creation time>`; its rows equal to the live volume's are
//! not repeated), and this statement, under the snapshot's title, sets its install state
//! beside the live volume's now: "install present in the snapshot of 2014-01-10..., gone
//! from the live volume".

use super::statement::{Part, Statement, c, n_rows, statement, t};
use super::{InstallState, Verdict, VolumeVerdict};

/// For a snapshot's source, the live volume's source and the snapshot's own part
/// (`vss1@2014-01-10T12:00:00Z`).
pub(super) fn snapshot_of(source: &str) -> Option<(&str, &str)> {
    let at = source.rfind(" vss")?;
    let tag = &source[at + 1..];
    let number = tag.strip_prefix("vss")?.split_once('@')?.0;
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then_some((&source[..at], tag))
}

/// The statement for `volume` when it is a snapshot.
pub(super) fn snapshot_statement(volume: &VolumeVerdict, verdict: &Verdict) -> Option<Statement> {
    let (live, tag) = snapshot_of(&volume.source)?;
    let when = tag.split_once('@').map_or(tag, |(_, when)| when);
    let live_state = verdict
        .volumes
        .iter()
        .find(|v| v.source == live)
        .map_or(InstallState::NoTrace, |v| v.state);
    let mut parts: Vec<Part> = Vec::new();
    if volume.state == InstallState::Installed && live_state != InstallState::Installed {
        parts.push(t("install present in the snapshot of "));
        parts.push(c(when));
        let folders: Vec<&str> = volume
            .scopes
            .iter()
            .flat_map(|s| s.install.folders.iter())
            .filter(|f| f.present)
            .map(|f| f.path.as_str())
            .collect();
        for (i, folder) in folders.iter().enumerate() {
            parts.push(t(if i == 0 { " (" } else { ", " }));
            parts.push(c(folder));
        }
        if !folders.is_empty() {
            parts.push(t(")"));
        }
        parts.push(t(", gone from the live volume "));
        parts.push(c(live));
        parts.push(t(format!(" now ({})", live_state.describe())));
        return Some(statement("shadow copy", parts));
    }
    let count = |n: u64| n_rows(usize::try_from(n).unwrap_or(usize::MAX));
    // What the snapshot holds (before and after its time), then the live volume's state
    // now, then a remark.
    let the_snapshot = "the snapshot of ".to_string();
    let (before, after, remark) = match (volume.rows, volume.repeated, volume.read_warnings) {
        // Read in part: having no row says little.
        (0, Some(_), n @ 1..) => (
            the_snapshot,
            format!(
                " gave no NetSession row, but was read with {n} warning{} (rows may be \
                 missing: see the warnings naming it)",
                if n == 1 { "" } else { "s" }
            ),
            String::new(),
        ),
        // Read, with no row of its own.
        (0, Some(0), _) => (
            the_snapshot,
            " was read and holds no NetSession trace at all".to_string(),
            String::new(),
        ),
        (0, Some(n), _) => (
            the_snapshot,
            format!(
                " holds nothing of NetSession that the live volume does not: its {} equal \
                 the live volume's and are not repeated",
                count(n)
            ),
            String::new(),
        ),
        (_, repeated, _) => (
            format!("{} in the snapshot of ", volume.state.describe()),
            String::new(),
            match repeated {
                Some(n) => format!(
                    " ({} equal to the live volume's not repeated here)",
                    count(n)
                ),
                None => " (rows equal to the live volume's are not repeated here)".to_string(),
            },
        ),
    };
    parts.extend([t(before), c(when)]);
    if !after.is_empty() {
        parts.push(t(after));
    }
    parts.extend([t("; the live volume "), c(live)]);
    parts.push(t(format!(" now: {}{remark}", live_state.describe())));
    Some(statement("shadow copy", parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::row;
    use crate::verdict::verdict;

    #[test]
    fn snapshot_sources_are_recognised_and_others_not() {
        assert_eq!(
            snapshot_of("disk.raw p2@1048576 vss3@2014-01-10T12:00:00Z"),
            Some(("disk.raw p2@1048576", "vss3@2014-01-10T12:00:00Z"))
        );
        assert_eq!(snapshot_of("disk.raw p2@1048576"), None);
        assert_eq!(snapshot_of("my vssx@file"), None);
        assert_eq!(snapshot_of("my vss@file"), None);
    }

    #[test]
    fn an_install_only_in_a_snapshot_is_said_to_be_gone_now() {
        let snapshot = "v vss1@2014-01-10T12:00:00Z";
        let mut client = row(
            "install.client",
            "Ana",
            r"Users\Ana\AppData\Local\Akamai\netsession_win.exe",
            "",
        );
        client.source = snapshot.into();
        let mut live = row(
            "install.installer_download",
            "Ana",
            r"Users\Ana\Downloads\netsession_installer.exe",
            "",
        );
        live.source = "v".into();
        let v = verdict(&[client, live]);
        let volume = v.volumes.iter().find(|x| x.source == snapshot).unwrap();
        let s = snapshot_statement(volume, &v).unwrap();
        let text: String = s
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(s) | Part::Code(s) => s.as_str(),
            })
            .collect();
        assert!(
            text.starts_with("install present in the snapshot of 2014-01-10T12:00:00Z")
                && text.contains(r"Users\Ana\AppData\Local\Akamai")
                && text.contains("gone from the live volume v now"),
            "{text}"
        );
        let live_volume = v.volumes.iter().find(|x| x.source == "v").unwrap();
        assert!(snapshot_statement(live_volume, &v).is_none());
    }

    fn text_of(s: &Statement) -> String {
        s.parts
            .iter()
            .map(|p| match p {
                Part::Text(s) | Part::Code(s) => s.as_str(),
            })
            .collect()
    }

    #[test]
    fn a_snapshot_read_with_no_row_of_its_own_is_a_volume_that_says_so() {
        let mut live = row(
            "install.installer_download",
            "Ana",
            r"Users\Ana\Downloads\netsession_installer.exe",
            "",
        );
        live.source = "v".into();
        let mut builder = crate::verdict::VerdictBuilder::new();
        builder.add(&live);
        builder.snapshot("v vss1@2014-01-10T12:00:00Z", 0, 0);
        builder.snapshot("v vss2@2014-02-10T12:00:00Z", 3, 0);
        builder.snapshot("v vss3@2014-03-10T12:00:00Z", 0, 2);
        let v = builder.finish();
        let sources: Vec<&str> = v.volumes.iter().map(|x| x.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                "v",
                "v vss1@2014-01-10T12:00:00Z",
                "v vss2@2014-02-10T12:00:00Z",
                "v vss3@2014-03-10T12:00:00Z"
            ]
        );
        let empty = &v.volumes[1];
        assert_eq!(
            (empty.rows, empty.repeated, empty.registry_only),
            (0, Some(0), false)
        );
        let text = text_of(&snapshot_statement(empty, &v).unwrap());
        assert_eq!(
            text,
            "the snapshot of 2014-01-10T12:00:00Z was read and holds no NetSession trace at \
             all; the live volume v now: no trace found in what was scanned"
        );
        let text = text_of(&snapshot_statement(&v.volumes[2], &v).unwrap());
        assert!(
            text.starts_with(
                "the snapshot of 2014-02-10T12:00:00Z holds nothing of NetSession that the \
                 live volume does not: its 3 rows equal"
            ),
            "{text}"
        );
        // Read with warnings: no conclusion from having no row.
        let text = text_of(&snapshot_statement(&v.volumes[3], &v).unwrap());
        assert!(
            text.starts_with(
                "the snapshot of 2014-03-10T12:00:00Z gave no NetSession row, but was read \
                 with 2 warnings"
            ),
            "{text}"
        );
        // A snapshot of a volume the verdict does not speak of is left out.
        let mut builder = crate::verdict::VerdictBuilder::new();
        builder.add(&live);
        builder.snapshot("w vss1@2014-01-10T12:00:00Z", 0, 0);
        assert_eq!(builder.finish().volumes.len(), 1);
    }
}
