//! TSK 3.x bodyfile (`MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime`),
//! the input of `mactime -b`.
//!
//! The evidence file has one row per distinct time; a bodyfile has one line per file with
//! its four times. File rows (an `mft=` or `inode=` locator and a time label such as
//! `Created, Modified ($SI)`) are folded back into lines: `$STANDARD_INFORMATION` (or the
//! host's file-system times) under the file's name, `$FILE_NAME` times under
//! `name ($FILE_NAME)` as TSK writes them. Every other row (registry, logs, the change
//! journal) is a line of its own, named `[artifact] path: message`, with its time in all
//! four fields (RegRipper's `regtime` convention; mactime shows it once, as `macb`). Times are whole seconds (the format has no fractions);
//! the CSV keeps full precision. The MFT record number is the inode.

use std::collections::HashMap;
use std::io::{self, Write};

use super::{EvidenceWriter, RowsAhead};
use crate::evidence::escape_one_line;
use crate::evidence::{EvidenceRow, RecordState};

pub struct BodyfileWriter<'w> {
    sink: Box<dyn Write + 'w>,
    /// `None` once finished.
    folder: Option<Folder>,
}

impl<'w> BodyfileWriter<'w> {
    pub fn new(sink: Box<dyn Write + 'w>, ahead: RowsAhead) -> Self {
        BodyfileWriter {
            sink,
            folder: Some(Folder::new(ahead)),
        }
    }
}

/// The four times of one bodyfile line, in Unix seconds (0 = none).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
    pub crtime: i64,
}

/// One bodyfile line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyLine {
    pub name: String,
    pub inode: String,
    pub mode: &'static str,
    pub size: u64,
    pub times: Times,
}

impl BodyLine {
    fn render(&self) -> String {
        let t = &self.times;
        format!(
            "0|{}|{}|{}|0|0|{}|{}|{}|{}|{}\n",
            field(&self.name),
            field(&self.inode),
            self.mode,
            self.size,
            t.atime,
            t.mtime,
            t.ctime,
            t.crtime
        )
    }
}

/// A field safe for the `|`-separated, line-based format.
fn field(value: &str) -> String {
    escape_one_line(value).replace('|', "\\x7C")
}

/// Which of a file's times a row carries: the attribute (`$SI`, `$FN`, `filesystem`) and
/// the labels before it, from a `timestamp_desc` such as `Created, Modified ($SI)`.
fn file_time_labels(desc: &str) -> Option<(&str, Vec<&str>)> {
    let (labels, rest) = desc.rsplit_once(" (")?;
    let attribute = rest.strip_suffix(')')?;
    if !matches!(attribute, "$SI" | "$FN" | "filesystem") {
        return None;
    }
    Some((attribute, labels.split(", ").collect()))
}

fn is_file_row(row: &EvidenceRow) -> bool {
    row.locator.starts_with("mft=") || row.locator.starts_with("inode=")
}

/// The inode of a file row: the MFT record number or the host inode.
fn inode_of(locator: &str) -> String {
    let first = locator.split_whitespace().next().unwrap_or("");
    first
        .split_once('=')
        .map(|(_, n)| n.to_string())
        .unwrap_or_default()
}

/// Folds file rows into bodyfile lines as rows arrive. Facts are lines of their own at
/// once; a file's line is complete only after its last row, so file lines wait until the
/// end. Memory grows with the files among the rows, not with the rows: a log's million
/// lines are facts, written as they come.
pub struct Folder {
    several_sources: bool,
    files: Vec<BodyLine>,
    index: HashMap<FileKey, usize>,
}

/// One bodyfile line per volume, path, MFT record or inode, and attribute ($SI/$FN).
type FileKey = (String, String, String, bool);

impl Folder {
    pub fn new(ahead: RowsAhead) -> Self {
        Folder {
            several_sources: ahead.several_sources,
            files: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn name_of(&self, row: &EvidenceRow, suffix: &str) -> String {
        let mut name = format!("/{}", row.path.replace('\\', "/"));
        if self.several_sources {
            name = format!("[{}] {name}", row.source);
        }
        if row.state == RecordState::Deleted {
            name.push_str(" (deleted)");
        }
        name.push_str(suffix);
        name
    }

    /// Takes one row; gives the line of a fact (or of a file row without a known time
    /// label) at once.
    pub fn add(&mut self, row: &EvidenceRow) -> Option<BodyLine> {
        let labels = is_file_row(row)
            .then(|| file_time_labels(&row.timestamp_desc))
            .flatten();
        let Some((attribute, labels)) = labels else {
            return Some(self.line_of_its_own(row));
        };
        let file_name = attribute == "$FN";
        let key = (
            row.source.clone(),
            row.path.clone(),
            row.locator.clone(),
            file_name,
        );
        let at = match self.index.get(&key) {
            Some(&at) => at,
            None => {
                self.files.push(BodyLine {
                    name: self.name_of(row, if file_name { " ($FILE_NAME)" } else { "" }),
                    inode: inode_of(&row.locator),
                    mode: mode_of(row),
                    size: row.size.unwrap_or(0),
                    times: Times::default(),
                });
                self.index.insert(key, self.files.len() - 1);
                self.files.len() - 1
            }
        };
        let seconds = row.datetime.map_or(0, |t| t.unix_seconds().max(0));
        let times = &mut self.files[at].times;
        for label in labels {
            match label {
                "Created" => times.crtime = seconds,
                "Modified" => times.mtime = seconds,
                "Accessed" => times.atime = seconds,
                "MFT Entry Changed" | "Metadata Changed" => times.ctime = seconds,
                _ => {}
            }
        }
        None
    }

    /// A fact, or a file row without a known time label (no time at all): a line of its
    /// own, so nothing is left out.
    fn line_of_its_own(&self, row: &EvidenceRow) -> BodyLine {
        let seconds = row.datetime.map_or(0, |t| t.unix_seconds().max(0));
        if is_file_row(row) {
            return BodyLine {
                name: self.name_of(row, ""),
                inode: inode_of(&row.locator),
                mode: mode_of(row),
                size: row.size.unwrap_or(0),
                times: Times {
                    mtime: seconds,
                    ..Times::default()
                },
            };
        }
        let mut name = format!("[{}] {}: {}", row.artifact, row.path, row.message);
        if self.several_sources {
            name = format!("[{}] {name}", row.source);
        }
        // All four fields carry the fact's time (as RegRipper's regtime does): mactime
        // shows a 0 field as an undated "Xxx" entry.
        BodyLine {
            name,
            inode: "0".into(),
            mode: "-/----------",
            size: row.size.unwrap_or(0),
            times: Times {
                atime: seconds,
                mtime: seconds,
                ctime: seconds,
                crtime: seconds,
            },
        }
    }

    /// The file lines, in the order their first row came.
    pub fn into_file_lines(self) -> Vec<BodyLine> {
        self.files
    }
}

/// TSK's mode string: a directory has no size in our rows.
fn mode_of(row: &EvidenceRow) -> &'static str {
    if row.size.is_none() {
        "d/drwxrwxrwx"
    } else {
        "r/rrwxrwxrwx"
    }
}

impl EvidenceWriter for BodyfileWriter<'_> {
    /// Facts are written at once, file lines at the end (mactime sorts the lines
    /// itself).
    fn write_row(&mut self, row: &EvidenceRow) -> io::Result<()> {
        let line = self.folder.as_mut().and_then(|f| f.add(row));
        match line {
            Some(line) => self.sink.write_all(line.render().as_bytes()),
            None => Ok(()),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        if let Some(folder) = self.folder.take() {
            for line in folder.into_file_lines() {
                self.sink.write_all(line.render().as_bytes())?;
            }
        }
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    /// What the writer makes of `rows`, as lines (files first, then facts).
    fn body_lines(rows: &[EvidenceRow]) -> Vec<BodyLine> {
        let ahead = RowsAhead {
            several_sources: rows
                .first()
                .is_some_and(|first| rows.iter().any(|r| r.source != first.source)),
        };
        let mut folder = Folder::new(ahead);
        let facts: Vec<BodyLine> = rows.iter().filter_map(|r| folder.add(r)).collect();
        let mut lines = folder.into_file_lines();
        lines.extend(facts);
        lines
    }

    fn file_row(desc: &str, filetime: u64) -> EvidenceRow {
        EvidenceRow {
            datetime: Timestamp::from_filetime(filetime),
            timestamp_desc: desc.into(),
            message: "NetSession client executable".into(),
            artifact: "install.client".into(),
            user: "José".into(),
            path: "Users\\José\\AppData\\Local\\Akamai\\netsession_win.exe".into(),
            value: String::new(),
            size: Some(30000),
            sha256: "ab".into(),
            state: RecordState::Allocated,
            source: "case.raw p1@1048576".into(),
            locator: "mft=76 seq=1".into(),
        }
    }

    // 2012-02-14 09:30:00 UTC = 1329211800.
    const T0: u64 = 129_736_854_000_000_000;
    const SECOND: u64 = 10_000_000;

    #[test]
    fn file_rows_fold_into_si_and_fn_lines() {
        let rows = vec![
            file_row("Created, Modified, MFT Entry Changed ($SI)", T0),
            file_row("Created, Modified, Accessed, MFT Entry Changed ($FN)", T0),
            file_row("Accessed ($SI)", T0 + 312 * SECOND),
        ];
        let lines = body_lines(&rows);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            lines[0].render(),
            "0|/Users/José/AppData/Local/Akamai/netsession_win.exe|76|r/rrwxrwxrwx|0|0|30000|1329212112|1329211800|1329211800|1329211800\n"
        );
        assert_eq!(
            lines[1].name,
            "/Users/José/AppData/Local/Akamai/netsession_win.exe ($FILE_NAME)"
        );
        assert_eq!(lines[1].times.atime, 1_329_211_800);
    }

    #[test]
    fn facts_are_lines_of_their_own_and_pipes_are_escaped() {
        let mut fact = file_row("Key Last Written", T0 + 5 * SECOND);
        fact.artifact = "registry.run".into();
        fact.path = "NTUSER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run".into();
        fact.message = "Autostart a|b\nc".into();
        fact.locator = "hive=NTUSER.DAT offset=0x20".into();
        fact.size = None;
        let mut deleted = file_row("Created ($SI)", T0);
        deleted.state = RecordState::Deleted;
        let lines = body_lines(&[fact, deleted]);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].name.ends_with("(deleted)"), "{:?}", lines[0]);
        let text = lines[1].render();
        assert_eq!(
            text,
            "0|[registry.run] NTUSER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run: Autostart a\\x7Cb\\nc|0|-/----------|0|0|0|1329211805|1329211805|1329211805|1329211805\n"
        );
        assert_eq!(text.matches('|').count(), 10);
    }

    #[test]
    fn several_volumes_are_named() {
        let a = file_row("Created ($SI)", T0);
        let mut b = file_row("Created ($SI)", T0);
        b.source = "case.raw p2@2097152".into();
        let lines = body_lines(&[a, b]);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].name.starts_with("[case.raw p1@1048576] /Users/"));
        assert!(lines[1].name.starts_with("[case.raw p2@2097152] /Users/"));
    }
}
