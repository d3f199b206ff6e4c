//! What the verdict's unit tests share: rows built in a few words, and the names every
//! test uses.

pub(super) use super::{ScopeVerdict, Verdict, verdict};
pub(super) use crate::evidence::{EvidenceRow, RecordState};
use crate::time::Precision;
pub(super) use crate::time::Timestamp;

pub(super) const SRC: &str = "disk.E01 p2@1048576";
pub(super) const JOSE_DIR: &str = r"Users\José Müller\AppData\Local\Akamai";

/// 2012-02-14T09:30:00Z plus `offset` seconds.
pub(super) fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix(1_329_211_800 + offset, 0, Precision::Seconds)
        .unwrap_or_else(|| unreachable!("a valid time"))
}

pub(super) fn row(artifact: &str, user: &str, path: &str, value: &str) -> EvidenceRow {
    EvidenceRow {
        datetime: None,
        timestamp_desc: "Found In File (no time)".into(),
        message: String::new(),
        artifact: artifact.into(),
        user: user.into(),
        path: path.into(),
        value: value.into(),
        size: None,
        sha256: String::new(),
        state: if artifact.starts_with("registry.") || artifact.starts_with("execution.") {
            RecordState::Live
        } else {
            RecordState::Allocated
        },
        source: SRC.into(),
        locator: String::new(),
    }
}

pub(super) fn timed(mut r: EvidenceRow, offset: i64, desc: &str) -> EvidenceRow {
    r.datetime = Some(at(offset));
    r.timestamp_desc = desc.into();
    r
}

pub(super) fn state(mut r: EvidenceRow, state: RecordState) -> EvidenceRow {
    r.state = state;
    r
}

pub(super) fn jose_file(name: &str) -> String {
    format!(r"{JOSE_DIR}\{name}")
}

pub(super) fn only_scope(v: &Verdict) -> &ScopeVerdict {
    assert_eq!(v.volumes.len(), 1);
    assert_eq!(v.volumes[0].scopes.len(), 1);
    &v.volumes[0].scopes[0]
}

pub(super) fn fw(value: &str, message: &str) -> EvidenceRow {
    let mut r = timed(
        row(
            "registry.firewall_rule",
            "u",
            r"SYSTEM\ControlSet001\Services\SharedAccess\Parameters\FirewallPolicy\FirewallRules",
            value,
        ),
        60,
        "Key Last Written",
    );
    r.message = message.into();
    r
}

pub(super) fn mixed_rows() -> Vec<EvidenceRow> {
    let mut rows = vec![
        timed(
            row(
                "install.client",
                "José Müller",
                &jose_file("netsession_win.exe"),
                "",
            ),
            0,
            "Created ($SI)",
        ),
        timed(
            row(
                "install.client",
                "José Müller",
                &jose_file("netsession_win.exe"),
                "",
            ),
            0,
            "Created ($FN)",
        ),
        timed(
            row("execution.bam", "José Müller", r"SYSTEM\bam", "a"),
            50,
            "Last Executed",
        ),
        timed(
            row("execution.bam", "José Müller", r"SYSTEM\bam2", "a"),
            50,
            "Last Executed",
        ),
        fw(
            "Action=Allow; Dir=In; Protocol=TCP (6); Profiles=Private; Active=TRUE; QueryUser=yes",
            "",
        ),
        row(
            "content.copyright",
            "José Müller",
            &jose_file("readme.txt"),
            "Copyright (c) 2008-2012",
        ),
        state(
            row(
                "install.core_dll",
                "",
                r"$Orphan\netsession_win_5c7d0e4.dll",
                "",
            ),
            RecordState::Deleted,
        ),
    ];
    let mut other = rows[0].clone();
    other.source = "other.E01 p1@1048576".into();
    rows.push(other);
    rows
}
