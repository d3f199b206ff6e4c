//! From SRUM's network records to evidence rows: one per hourly record of a NetSession
//! program, at the time SRUM flushed it, with the bytes sent and received in the hour
//! before and the interface. SRUM counts all of a program's traffic, not only uploads
//! to peers: the message says so.

use super::{AppUsage, NetworkUsage};
use crate::evidence::{EvidenceRow, RecordState};

/// `timestamp_desc` of a network usage row.
pub const NETWORK_USAGE: &str = "SRUM Network Usage (hourly flush)";
/// The catalog id of those rows.
pub const ARTIFACT: &str = "srum.network_usage";

/// `timestamp_desc` of an application resource usage row.
pub const APP_USAGE: &str = "SRUM Application Resource Usage (hourly flush)";
/// The catalog id of those rows: they say the program ran in the hour before the flush.
pub const APP_ARTIFACT: &str = "execution.srum_app_usage";

/// Provenance of one database's rows.
#[derive(Debug, Clone, Default)]
pub struct DbContext {
    /// The database's path on the evidence.
    pub path: String,
    pub source: String,
    pub sha256: String,
    /// (SID, user name) from the system's ProfileList.
    pub users: Vec<(String, String)>,
}

impl DbContext {
    fn user_of(&self, sid: &str) -> String {
        crate::content::accounts::account_name(sid, &self.users)
    }
}

/// The row of one network usage record.
pub fn network_row(record: &NetworkUsage, table: &str, ctx: &DbContext) -> EvidenceRow {
    let app = record.app.as_deref().unwrap_or("(unknown application)");
    let user = record
        .user
        .as_deref()
        .map(|s| ctx.user_of(s))
        .unwrap_or_default();
    let mut message = format!(
        "SRUM network usage of {app}: sent {} bytes, received {} bytes in the hour before this flush (interface LUID {:#x}); SRUM counts all of the program's traffic, not only uploads to peers",
        record.bytes_sent, record.bytes_received, record.interface_luid
    );
    if let Some(sid) = &record.user
        && user != *sid
    {
        message.push_str(&format!("; account {user} ({sid})"));
    }
    EvidenceRow {
        datetime: record.time,
        timestamp_desc: NETWORK_USAGE.to_string(),
        message,
        artifact: ARTIFACT.to_string(),
        user,
        path: ctx.path.clone(),
        value: format!(
            "App={app}; AppId={}; UserId={}; User={}; InterfaceLuid={}; BytesSent={}; BytesRecvd={}; AutoIncId={}",
            record.app_id,
            record.user_id,
            record.user.as_deref().unwrap_or(""),
            record.interface_luid,
            record.bytes_sent,
            record.bytes_received,
            record.auto_inc_id
        ),
        size: None,
        sha256: ctx.sha256.clone(),
        state: RecordState::Live,
        source: ctx.source.clone(),
        locator: format!(
            "table={table} page={} tag={} offset={:#x}",
            record.page, record.tag, record.offset
        ),
    }
}

/// The row of one application resource usage record.
pub fn app_row(record: &AppUsage, table: &str, ctx: &DbContext) -> EvidenceRow {
    let app = record.app.as_deref().unwrap_or("(unknown application)");
    let user = record
        .user
        .as_deref()
        .map(|s| ctx.user_of(s))
        .unwrap_or_default();
    let [fg_cycles, bg_cycles, face, fg_written, bg_read, bg_written] = record.counters;
    let mut message = format!(
        "SRUM resource use of {app} in the hour before this flush: {fg_cycles} foreground and {bg_cycles} background CPU cycles, {:.1} s in the foreground, {} bytes written, {bg_read} bytes read in the background: it ran in that hour",
        face as f64 / 10_000_000.0,
        fg_written.saturating_add(bg_written)
    );
    if let Some(sid) = &record.user
        && user != *sid
    {
        message.push_str(&format!("; account {user} ({sid})"));
    }
    let value = super::APP_USAGE_COLUMNS
        .iter()
        .zip(record.counters)
        .map(|(name, v)| format!("{name}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    EvidenceRow {
        datetime: record.time,
        timestamp_desc: APP_USAGE.to_string(),
        message,
        artifact: APP_ARTIFACT.to_string(),
        user,
        path: ctx.path.clone(),
        value: format!(
            "App={app}; AppId={}; UserId={}; User={}; {value}; AutoIncId={}",
            record.app_id,
            record.user_id,
            record.user.as_deref().unwrap_or(""),
            record.auto_inc_id
        ),
        size: None,
        sha256: ctx.sha256.clone(),
        state: RecordState::Live,
        source: ctx.source.clone(),
        locator: format!(
            "table={table} page={} tag={} offset={:#x}",
            record.page, record.tag, record.offset
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Precision, Timestamp};

    #[test]
    fn a_record_row_says_bytes_hour_and_account() {
        let record = NetworkUsage {
            page: 40,
            tag: 3,
            offset: 0x28123,
            auto_inc_id: 77,
            time: Timestamp::from_unix(1_600_000_000, 0, Precision::Seconds),
            app_id: 12,
            app: Some(
                r"\device\harddiskvolume3\users\zoe\appdata\local\akamai\netsession_win.exe".into(),
            ),
            user_id: 5,
            user: Some("S-1-5-21-1-2-3-1001".into()),
            interface_luid: 0x6008001000000,
            bytes_sent: 3_200_000_000,
            bytes_received: 1024,
        };
        let ctx = DbContext {
            path: r"Windows\System32\sru\SRUDB.dat".into(),
            source: "case.E01 p2".into(),
            sha256: "ab".repeat(32),
            users: vec![("S-1-5-21-1-2-3-1001".into(), "zoe".into())],
        };
        let row = network_row(&record, "{973F}", &ctx);
        assert_eq!(row.user, "zoe");
        assert_eq!(row.timestamp_desc, NETWORK_USAGE);
        assert!(
            row.message
                .contains("sent 3200000000 bytes, received 1024 bytes")
        );
        assert!(row.message.contains("not only uploads"));
        assert!(row.value.contains("BytesSent=3200000000; BytesRecvd=1024"));
        assert_eq!(row.locator, "table={973F} page=40 tag=3 offset=0x28123");
    }
}
