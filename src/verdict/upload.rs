//! Statement 7: peer upload — the cache NetSession serves peers from, and log lines
//! about uploads and peers.

use std::collections::BTreeMap;

use super::rows::{Earliest, Latest};
use super::statement::{Statement, n_rows, t, time_part};
use crate::evidence::EvidenceRow;
use crate::time::Timestamp;

/// Words of log lines about serving content to peers (the point of NetSession's cache).
const UPLOAD_WORDS: [&str; 6] = ["upload", "peer", "served", "seeding", "p2p", "bytes sent"];

/// Statement 7: peer upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Distinct `cache.*` paths.
    pub cache_files: usize,
    /// Sum of their sizes.
    pub cache_bytes: u64,
    pub cache_rows: usize,
    /// Log lines (generic or NetSession's own) about uploads and peers.
    pub log_lines: usize,
    pub first_log: Option<Timestamp>,
    pub last_log: Option<Timestamp>,
    /// SRUM's hourly network records of NetSession's programs.
    pub srum: SrumTotals,
}

/// What SRUM's network records add up to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SrumTotals {
    pub rows: usize,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub first_hour: Option<Timestamp>,
    pub last_hour: Option<Timestamp>,
    /// The UTC day (`YYYY-MM-DD`) with the most bytes sent and received, and those bytes.
    pub busiest_day: Option<(String, u64)>,
}

/// Builds [`Upload`] row by row.
#[derive(Debug, Default)]
pub(super) struct UploadAcc {
    /// Largest size seen per cache file path.
    sizes: BTreeMap<String, u64>,
    cache_rows: usize,
    log_lines: usize,
    first_log: Earliest,
    last_log: Latest,
    srum: SrumTotals,
    /// Bytes sent and received per UTC day.
    srum_days: BTreeMap<String, u64>,
}

impl UploadAcc {
    pub fn add(&mut self, row: &EvidenceRow) {
        if row.artifact == "srum.network_usage" {
            self.add_srum(row);
        } else if row.artifact.starts_with("cache.") {
            self.cache_rows += 1;
            let size = row.size.unwrap_or(0);
            match self.sizes.get_mut(row.path.as_str()) {
                Some(known) => *known = (*known).max(size),
                None => {
                    self.sizes.insert(row.path.clone(), size);
                }
            }
        } else if is_upload_line(row) {
            self.log_lines += 1;
            self.first_log.add(row);
            self.last_log.add(row);
        }
    }

    fn add_srum(&mut self, row: &EvidenceRow) {
        let bytes = |name: &str| {
            super::rows::field(&row.value, name)
                .and_then(|v| v.parse::<i64>().ok())
                .map_or(0, |v| v.max(0) as u64)
        };
        let (sent, received) = (bytes("BytesSent"), bytes("BytesRecvd"));
        let s = &mut self.srum;
        s.rows += 1;
        s.bytes_sent += sent;
        s.bytes_received += received;
        if let Some(time) = row.datetime {
            s.first_hour = Some(s.first_hour.map_or(time, |f| f.min(time)));
            s.last_hour = Some(s.last_hour.map_or(time, |l| l.max(time)));
            let day = time.to_iso8601()[..10].to_string();
            *self.srum_days.entry(day).or_default() += sent + received;
        }
    }

    pub fn finish(self) -> Upload {
        let mut srum = self.srum;
        // The first of the days with the most bytes (BTreeMap order: earliest first).
        srum.busiest_day =
            self.srum_days
                .into_iter()
                .fold(
                    None,
                    |best: Option<(String, u64)>, (day, bytes)| match best {
                        Some((_, b)) if b >= bytes => best,
                        _ => Some((day, bytes)),
                    },
                );
        Upload {
            srum,
            cache_files: self.sizes.len(),
            cache_bytes: self.sizes.values().sum(),
            cache_rows: self.cache_rows,
            log_lines: self.log_lines,
            first_log: self.first_log.row().and_then(|r| r.datetime),
            last_log: self.last_log.row().and_then(|r| r.datetime),
        }
    }
}

/// A log line about uploads or peers. A line in NetSession's own format counts when the
/// catalog named it peer activity (its message, not its URLs or settings: `upload=false`
/// in an installer URL, `Hiding uploads section` and log uploads to Akamai are not
/// uploads to peers); a generic log line when its words outside URLs say so.
fn is_upload_line(row: &EvidenceRow) -> bool {
    if row.artifact.starts_with("netsession.") && row.value.starts_with("level=") {
        row.artifact == "netsession.peer_activity"
    } else {
        row.artifact == "content.log_entry" && mentions_upload(&row.value)
    }
}

fn mentions_upload(line: &str) -> bool {
    let lower = line.to_lowercase();
    let words: Vec<&str> = lower
        .split_whitespace()
        .filter(|w| !w.contains("://") && !w.contains('='))
        .collect();
    let text = words.join(" ");
    UPLOAD_WORDS.iter().any(|w| text.contains(w))
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{bytes} bytes ({size:.1} {})", UNITS[unit])
}

pub(super) fn upload_statement(upload: &Upload) -> Statement {
    let cache = if upload.cache_rows == 0 {
        vec![t("no peer-upload cache file found (0 rows)")]
    } else {
        vec![t(format!(
            "cache: {} distinct file(s), {} in all ({})",
            upload.cache_files,
            human_size(upload.cache_bytes),
            n_rows(upload.cache_rows)
        ))]
    };
    let mut log = vec![t(format!(
        "log lines about uploads or peers: {}",
        upload.log_lines
    ))];
    if let (Some(first), Some(last)) = (upload.first_log, upload.last_log) {
        log.push(t(", first "));
        log.push(time_part(first));
        log.push(t(", last "));
        log.push(time_part(last));
    }
    log.push(t(format!(" ({})", n_rows(upload.log_lines))));
    let mut items = vec![cache, log];
    let s = &upload.srum;
    if s.rows > 0 {
        let mut srum = vec![t(format!(
            "SRUM network usage of NetSession's programs: sent {}, received {}",
            human_size(s.bytes_sent),
            human_size(s.bytes_received)
        ))];
        if let (Some(first), Some(last)) = (s.first_hour, s.last_hour) {
            srum.extend([
                t(" in the hours flushed between "),
                time_part(first),
                t(" and "),
                time_part(last),
            ]);
        }
        if let Some((day, bytes)) = &s.busiest_day {
            srum.push(t(format!(
                "; busiest day {day} (UTC), {}",
                human_size(*bytes)
            )));
        }
        srum.push(t(format!(
            "; SRUM counts all of a program's traffic, not only uploads to peers ({})",
            n_rows(s.rows)
        )));
        items.push(srum);
    }
    Statement {
        label: "peer upload",
        parts: Vec::new(),
        items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::test_support::*;

    #[test]
    fn peer_upload_counts_distinct_cache_files_and_upload_lines() {
        let mut a1 = row(
            "cache.file",
            "u",
            &jose_file(r"Cache\a.dat"),
            "class=cache blob",
        );
        a1.size = Some(300_000);
        let a2 = timed(a1.clone(), 9, "Modified ($SI)");
        let mut b = row(
            "cache.file",
            "u",
            &jose_file(r"Cache\b.dat"),
            "class=cache blob",
        );
        b.size = Some(1_000);
        let log = |offset, line: &str| {
            timed(
                row("content.log_entry", "u", &jose_file(r"logs\n.log"), line),
                offset,
                "Log Entry",
            )
        };
        let rows = [
            a1,
            a2,
            b,
            log(10, "peer 1.2.3.4 connected, UPLOADING piece 17"),
            log(20, "control channel opened"),
            log(30, "total Bytes Sent: 5"),
            log(5, "P2P enabled"),
            row(
                "content.url",
                "u",
                &jose_file(r"logs\n.log"),
                "http://peer.example/upload",
            ),
        ];
        let v = verdict(&rows);
        let u = &only_scope(&v).upload;
        assert_eq!(
            (u.cache_files, u.cache_bytes, u.cache_rows),
            (2, 301_000, 3)
        );
        assert_eq!(u.log_lines, 3);
        assert_eq!((u.first_log, u.last_log), (Some(at(5)), Some(at(30))));
        let text = v.to_text();
        assert!(
            text.contains("cache: 2 distinct file(s), 301000 bytes (293.9 KiB) in all (3 rows)"),
            "{text}"
        );
        assert!(text.contains("log lines about uploads or peers: 3, first 2012-02-14T09:30:05Z, last 2012-02-14T09:30:30Z (3 rows)"), "{text}");
    }

    #[test]
    fn only_peer_activity_counts_among_netsession_lines_and_urls_never_do() {
        let ns = |artifact: &str, offset, message: &str| {
            timed(
                row(
                    artifact,
                    "u",
                    &jose_file(r"installer.txt"),
                    &format!("level=info; component=installer; message={message}"),
                ),
                offset,
                "Log Entry",
            )
        };
        let rows = [
            ns(
                "netsession.download_error",
                1,
                "Error in downloading 'https://client.akamai.com/conf/install.html?file=installer&upload=false'",
            ),
            ns("netsession.upload_setting", 2, "Hiding uploads section"),
            ns("netsession.log_upload", 3, "Uploading log file"),
            ns("netsession.log_line", 4, "peer list is empty"),
            ns("netsession.peer_activity", 7, "Connected to peer 10.0.0.9"),
            timed(
                row(
                    "content.log_entry",
                    "u",
                    &jose_file(r"logs\n.log"),
                    "GET https://x.example/i?upload=false&silent=true",
                ),
                8,
                "Log Entry",
            ),
        ];
        let v = verdict(&rows);
        let u = &only_scope(&v).upload;
        assert_eq!(u.log_lines, 1);
        assert_eq!((u.first_log, u.last_log), (Some(at(7)), Some(at(7))));
    }

    #[test]
    fn human_size_in_bytes_and_binary_units() {
        assert_eq!(human_size(10), "10 bytes");
        assert_eq!(human_size(1_253_376), "1253376 bytes (1.2 MiB)");
    }
}
