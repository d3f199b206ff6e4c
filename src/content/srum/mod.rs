//! SRUM (System Resource Usage Monitor, `Windows\System32\sru\SRUDB.dat`): the network
//! usage of applications, hour by hour, read from the ESE database with `crate::ese`.
//!
//! `SruDbIdMapTable` maps the numbers the usage tables store to what they stand for:
//! IdType 3 is a user's SID (binary), the other types an application's name or path
//! (UTF-16LE text). The network usage table holds, per record, the time SRUM flushed it
//! (hourly), the application and user ids, the interface and the bytes sent and
//! received since the previous flush.

mod ids;
pub mod rows;

pub use ids::{SrumIds, sid_text};

use crate::ese::{EseDatabase, EseError, Table, Value, ole_date_to_timestamp};
use crate::time::Timestamp;

/// The network data usage table.
pub const NETWORK_TABLE: &str = "{973F5D5C-1D90-4944-BE8E-24B94231A174}";
/// The application resource usage table.
pub const APP_USAGE_TABLE: &str = "{D10CA2FE-6FCF-4F6D-848E-B2E99266FA89}";

/// One record of the network usage table, with its ids resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkUsage {
    /// Where the record is: page, tag and file offset of its bytes.
    pub page: u32,
    pub tag: u16,
    pub offset: u64,
    pub auto_inc_id: i32,
    /// The hourly flush time the record was written at (UTC).
    pub time: Option<Timestamp>,
    pub app_id: i32,
    /// The application's name or device path, when the id map has it.
    pub app: Option<String>,
    pub user_id: i32,
    /// The user's SID, when the id map has it.
    pub user: Option<String>,
    pub interface_luid: i64,
    pub bytes_sent: i64,
    pub bytes_received: i64,
}

/// Position of each named column in a table's rows, or an error naming the missing one.
fn positions<const N: usize>(table: &Table, names: [&str; N]) -> Result<[usize; N], EseError> {
    let mut out = [0; N];
    for (slot, name) in out.iter_mut().zip(names) {
        *slot = table
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                EseError::Catalog(format!("table {} has no column {name}", table.name))
            })?;
    }
    Ok(out)
}

fn int(v: &Value) -> Option<i64> {
    match *v {
        Value::I32(x) => Some(x.into()),
        Value::U32(x) => Some(x.into()),
        Value::I64(x) => Some(x),
        Value::I16(x) => Some(x.into()),
        Value::U16(x) => Some(x.into()),
        Value::U8(x) => Some(x.into()),
        _ => None,
    }
}

/// The application resource usage columns read, in [`AppUsage::counters`] order.
pub const APP_USAGE_COLUMNS: [&str; 6] = [
    "ForegroundCycleTime",
    "BackgroundCycleTime",
    "FaceTime",
    "ForegroundBytesWritten",
    "BackgroundBytesRead",
    "BackgroundBytesWritten",
];

/// One record of the application resource usage table, with its ids resolved: CPU
/// cycles in the foreground and background, time in the foreground (100 ns units) and
/// bytes the program wrote and read in the hour before the flush.
#[derive(Debug, Clone, PartialEq)]
pub struct AppUsage {
    pub page: u32,
    pub tag: u16,
    pub offset: u64,
    pub auto_inc_id: i32,
    pub time: Option<Timestamp>,
    pub app_id: i32,
    pub app: Option<String>,
    pub user_id: i32,
    pub user: Option<String>,
    /// The values of [`APP_USAGE_COLUMNS`], in that order (0 when a cell is empty).
    pub counters: [i64; 6],
}

/// A record of a usage table: where it is, its common columns, and the values of the
/// table's own columns asked for.
struct Record<const N: usize> {
    page: u32,
    tag: u16,
    offset: u64,
    auto_inc_id: i32,
    time: Option<Timestamp>,
    app_id: i32,
    app: Option<String>,
    user_id: i32,
    user: Option<String>,
    values: [i64; N],
}

/// The records of `table_name` whose application `wanted` accepts, with the problems
/// met (pages, records; reading goes on). A database without the table gives none.
fn records<const N: usize>(
    db: &EseDatabase<'_>,
    ids: &SrumIds,
    wanted: &dyn Fn(&str) -> bool,
    table_name: &str,
    columns: [&str; N],
) -> (Vec<Record<N>>, Vec<EseError>) {
    let mut problems = Vec::new();
    let Some(table) = db.table(table_name) else {
        return (Vec::new(), problems);
    };
    let common = match positions(table, ["AutoIncId", "TimeStamp", "AppId", "UserId"]) {
        Ok(c) => c,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let own = match positions(table, columns) {
        Ok(c) => c,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut out = Vec::new();
    for row in db.rows(table) {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let get = |i: usize| int(&row.values[i]);
        let app_id = get(common[2]).unwrap_or(-1) as i32;
        let app = ids.app(app_id);
        if !app.is_some_and(wanted) {
            continue;
        }
        let time = match row.values[common[1]] {
            Value::DateTime(d) => ole_date_to_timestamp(d),
            _ => None,
        };
        let user_id = get(common[3]).unwrap_or(-1) as i32;
        out.push(Record {
            page: row.page,
            tag: row.tag,
            offset: row.offset,
            auto_inc_id: get(common[0]).unwrap_or(-1) as i32,
            time,
            app_id,
            app: app.map(str::to_string),
            user_id,
            user: ids.user(user_id).map(str::to_string),
            values: own.map(|i| get(i).unwrap_or(0)),
        });
    }
    (out, problems)
}

/// The network usage records whose application `wanted` accepts (by its name or path
/// in the id map), with the problems met (pages, records; reading goes on). A database
/// without the table gives no records and no problem.
pub fn network_usage(
    db: &EseDatabase<'_>,
    ids: &SrumIds,
    wanted: &dyn Fn(&str) -> bool,
) -> (Vec<NetworkUsage>, Vec<EseError>) {
    let (found, problems) = records(
        db,
        ids,
        wanted,
        NETWORK_TABLE,
        ["InterfaceLuid", "BytesSent", "BytesRecvd"],
    );
    let out = found
        .into_iter()
        .map(|r| NetworkUsage {
            page: r.page,
            tag: r.tag,
            offset: r.offset,
            auto_inc_id: r.auto_inc_id,
            time: r.time,
            app_id: r.app_id,
            app: r.app,
            user_id: r.user_id,
            user: r.user,
            interface_luid: r.values[0],
            bytes_sent: r.values[1],
            bytes_received: r.values[2],
        })
        .collect();
    (out, problems)
}

/// The application resource usage records whose application `wanted` accepts; as
/// [`network_usage`].
pub fn app_usage(
    db: &EseDatabase<'_>,
    ids: &SrumIds,
    wanted: &dyn Fn(&str) -> bool,
) -> (Vec<AppUsage>, Vec<EseError>) {
    let (found, problems) = records(db, ids, wanted, APP_USAGE_TABLE, APP_USAGE_COLUMNS);
    let out = found
        .into_iter()
        .map(|r| AppUsage {
            page: r.page,
            tag: r.tag,
            offset: r.offset,
            auto_inc_id: r.auto_inc_id,
            time: r.time,
            app_id: r.app_id,
            app: r.app,
            user_id: r.user_id,
            user: r.user,
            counters: r.values,
        })
        .collect();
    (out, problems)
}
