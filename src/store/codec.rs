//! The on-disk form of a row in a spilled run: compact, exact (times keep their
//! precision), and checked when read back, so a damaged temporary file is an error, not
//! a wrong row.
//!
//! Layout of one record: `u32` length of the rest, then the time (`u8` 0 = none, or 1 +
//! `i64` seconds + `u32` nanoseconds + `u8` precision), nine strings (`u32` length +
//! UTF-8) in the order written below, the size (`u8` 0 = none, or 1 + `u64`), and the
//! state (`u8`). Little-endian throughout.

use std::io::{self, Read};

use crate::evidence::{EvidenceRow, RecordState, TimelineKey};
use crate::time::{Precision, Timestamp};

/// Appends one encoded row (its body: no length) to `out`.
pub(super) fn encode_body(row: &EvidenceRow, out: &mut Vec<u8>) {
    match row.datetime {
        None => out.push(0),
        Some(t) => {
            out.push(1);
            out.extend_from_slice(&t.unix_seconds().to_le_bytes());
            out.extend_from_slice(&t.subsec_nanos().to_le_bytes());
            out.push(precision_code(t.precision()));
        }
    }
    for text in row.texts() {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    match row.size {
        None => out.push(0),
        Some(size) => {
            out.push(1);
            out.extend_from_slice(&size.to_le_bytes());
        }
    }
    out.push(state_code(row.state));
}

/// Writes one record: the body's length, then the body.
pub(super) fn write_record(out: &mut impl io::Write, body: &[u8]) -> io::Result<()> {
    out.write_all(&(body.len() as u32).to_le_bytes())?;
    out.write_all(body)
}

/// The order of rows: by time (untimed last) from the index alone, then every column.
pub(super) fn time_key(time: Option<Timestamp>) -> TimeKey {
    match time {
        Some(t) => (false, t.unix_seconds(), t.subsec_nanos()),
        None => (true, 0, 0),
    }
}

/// The time part of the timeline order, kept beside each record so that most
/// comparisons need not parse a record.
pub(super) type TimeKey = (bool, i64, u32);

/// Compares two checked record bodies in timeline order (`first` and `second` are
/// their [`time_key`]s).
pub(super) fn compare(first: (TimeKey, &[u8]), second: (TimeKey, &[u8])) -> std::cmp::Ordering {
    first
        .0
        .cmp(&second.0)
        .then_with(|| key(first.1).ok().cmp(&key(second.1).ok()))
}

/// Reads the next record (its body, after the length) into `buf`; `Ok(false)` at a
/// clean end of the stream. Returns the body's [`TimeKey`] ([`body_time`]).
#[cfg(test)]
pub(super) fn read_record(
    reader: &mut impl Read,
    buf: &mut Vec<u8>,
) -> io::Result<Option<TimeKey>> {
    if !read_frame(reader, buf)? {
        return Ok(None);
    }
    Ok(Some(body_time(buf)?))
}

/// The [`TimeKey`] of a record body, from its time alone: the rest is checked where
/// the body is decoded ([`decode_into`]) or packed, which every merged body is.
/// Equals `time_key` of the decoded time for every body that decodes; the time is not
/// built (its range is checked by [`decode_into`]), only its fields read.
pub(super) fn body_time(body: &[u8]) -> io::Result<TimeKey> {
    let mut record = Record { bytes: body, at: 0 };
    Ok(match record.u8()? {
        0 => (true, 0, 0),
        1 => (
            false,
            i64::from_le_bytes(record.array()?),
            u32::from_le_bytes(record.array()?),
        ),
        other => return Err(invalid(format!("time flag {other}"))),
    })
}

/// Reads the next length-prefixed record into `buf` as it is; `Ok(false)` at a clean
/// end of the stream.
pub(super) fn read_frame(reader: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    let length = u32::from_le_bytes(length) as usize;
    // No row of ours comes near this: every field is cut long before (lines at 4,096
    // characters); a larger length means the file is damaged.
    if length > MAX_RECORD {
        return Err(invalid(format!("record length {length} out of range")));
    }
    buf.clear();
    buf.resize(length, 0);
    reader.read_exact(buf)?;
    // Text is checked as UTF-8 where it is decoded ([`decode_into`]).
    Ok(true)
}

/// The columns of a record body, borrowed.
pub(super) fn key(body: &[u8]) -> io::Result<TimelineKey<'_>> {
    Record { bytes: body, at: 0 }.key()
}

/// Sets `row` to the row of a record body, reusing its text buffers.
pub(super) fn decode_into(body: &[u8], row: &mut EvidenceRow) -> io::Result<()> {
    let key = key(body)?;
    row.datetime = key.datetime;
    row.size = key.size;
    row.state = key.state;
    let [
        desc,
        message,
        artifact,
        user,
        path,
        value,
        sha256,
        source,
        locator,
    ] = key.texts;
    for (text, field) in [
        (desc, &mut row.timestamp_desc),
        (message, &mut row.message),
        (artifact, &mut row.artifact),
        (user, &mut row.user),
        (path, &mut row.path),
        (value, &mut row.value),
        (sha256, &mut row.sha256),
        (source, &mut row.source),
        (locator, &mut row.locator),
    ] {
        field.clear();
        field.push_str(std::str::from_utf8(text).map_err(|_| invalid("text is not UTF-8".into()))?);
    }
    Ok(())
}

/// A row with no content, to decode into.
pub(super) fn empty_row() -> EvidenceRow {
    EvidenceRow {
        datetime: None,
        timestamp_desc: String::new(),
        message: String::new(),
        artifact: String::new(),
        user: String::new(),
        path: String::new(),
        value: String::new(),
        size: None,
        sha256: String::new(),
        state: RecordState::Allocated,
        source: String::new(),
        locator: String::new(),
    }
}

const MAX_RECORD: usize = 64 * 1024 * 1024;

pub(super) fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("spilled row: {what}"))
}

/// Reads the parts of a record body (or of a run's record, [`super::interned`]),
/// checking that each lies inside it.
pub(super) struct Record<'a> {
    pub bytes: &'a [u8],
    pub at: usize,
}

impl<'a> Record<'a> {
    pub fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| invalid(format!("field at {} runs past the record", self.at)))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn text(&mut self) -> io::Result<&'a [u8]> {
        let length = u32::from_le_bytes(self.array()?) as usize;
        self.take(length)
    }

    /// The record's time, its first field.
    fn timestamp(&mut self) -> io::Result<Option<Timestamp>> {
        Ok(match self.u8()? {
            0 => None,
            1 => {
                let secs = i64::from_le_bytes(self.array()?);
                let nanos = u32::from_le_bytes(self.array()?);
                let precision = precision_from(self.u8()?)?;
                Some(
                    Timestamp::from_unix(secs, nanos, precision)
                        .ok_or_else(|| invalid(format!("time {secs}.{nanos} out of range")))?,
                )
            }
            other => return Err(invalid(format!("time flag {other}"))),
        })
    }

    fn key(mut self) -> io::Result<TimelineKey<'a>> {
        let datetime = self.timestamp()?;
        let mut texts: [&[u8]; 9] = [&[]; 9];
        for text in &mut texts {
            *text = self.text()?;
        }
        let size = match self.u8()? {
            0 => None,
            1 => Some(u64::from_le_bytes(self.array()?)),
            other => return Err(invalid(format!("size flag {other}"))),
        };
        let state = state_from(self.u8()?)?;
        if self.at != self.bytes.len() {
            return Err(invalid("bytes left after the last field".into()));
        }
        Ok(TimelineKey {
            datetime,
            texts,
            size,
            state,
        })
    }
}

fn precision_code(p: Precision) -> u8 {
    match p {
        Precision::Seconds => 0,
        Precision::Millis => 1,
        Precision::Micros => 2,
        Precision::FileTime => 3,
        Precision::Nanos => 4,
    }
}

fn precision_from(code: u8) -> io::Result<Precision> {
    Ok(match code {
        0 => Precision::Seconds,
        1 => Precision::Millis,
        2 => Precision::Micros,
        3 => Precision::FileTime,
        4 => Precision::Nanos,
        other => return Err(invalid(format!("precision {other}"))),
    })
}

fn state_code(s: RecordState) -> u8 {
    match s {
        RecordState::Allocated => 0,
        RecordState::Deleted => 1,
        RecordState::Orphan => 2,
        RecordState::Live => 3,
        RecordState::FromLog => 4,
        RecordState::Recovered => 5,
    }
}

fn state_from(code: u8) -> io::Result<RecordState> {
    Ok(match code {
        0 => RecordState::Allocated,
        1 => RecordState::Deleted,
        2 => RecordState::Orphan,
        3 => RecordState::Live,
        4 => RecordState::FromLog,
        5 => RecordState::Recovered,
        other => return Err(invalid(format!("state {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(row: &EvidenceRow, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        encode_body(row, &mut body);
        write_record(out, &body).unwrap();
    }

    fn sample(i: u64) -> EvidenceRow {
        EvidenceRow {
            datetime: if i.is_multiple_of(3) {
                None
            } else {
                Timestamp::from_unix(1_329_211_800 + i as i64, 123_456_700, Precision::FileTime)
            },
            timestamp_desc: "Created ($SI)".into(),
            message: format!("Line {i} of netsession.log — José"),
            artifact: "content.log_entry".into(),
            user: "José".into(),
            path: r"Users\José\AppData\Local\Akamai\netsession.log".into(),
            value: "a\nb\u{0}c".into(),
            size: i.is_multiple_of(2).then_some(i * 1000),
            sha256: String::new(),
            state: RecordState::Deleted,
            source: "case.E01 p2@1048576".into(),
            locator: format!("line={i}"),
        }
    }

    #[test]
    fn rows_come_back_exactly_with_their_precision() {
        let mut bytes = Vec::new();
        let rows: Vec<EvidenceRow> = (0..7).map(sample).collect();
        for row in &rows {
            encode(row, &mut bytes);
        }
        let mut reader = &bytes[..];
        let mut buf = Vec::new();
        let mut back = Vec::new();
        // One row decoded into again and again, as the merge does.
        let mut row = empty_row();
        while let Some(time) = read_record(&mut reader, &mut buf).unwrap() {
            decode_into(&buf, &mut row).unwrap();
            // The time read alone orders as the decoded time does.
            assert_eq!(time, time_key(row.datetime));
            back.push(row.clone());
        }
        assert_eq!(back, rows);
        let t = back[1].datetime.unwrap();
        assert_eq!(t.precision(), Precision::FileTime);
        assert_eq!(t.to_iso8601(), rows[1].datetime.unwrap().to_iso8601());
    }

    #[test]
    fn damaged_records_are_errors_not_rows() {
        let mut bytes = Vec::new();
        encode(&sample(1), &mut bytes);
        let mut buf = Vec::new();
        // Cut in the middle: the record's length promises more than there is.
        let cut = &bytes[..bytes.len() - 3];
        assert!(read_record(&mut &cut[..], &mut buf).is_err());
        // A string length running past the record: its time reads, the body does not.
        let mut forged = bytes.clone();
        forged[4 + 1 + 13 + 3] = 0xFF;
        assert!(read_record(&mut &forged[..], &mut buf).is_ok());
        assert!(decode_into(&buf, &mut empty_row()).is_err());
        assert!(key(&buf).is_err());
        // A time that is no time: its flag is neither 0 nor 1.
        let mut flag = bytes.clone();
        flag[4] = 7;
        assert!(read_record(&mut &flag[..], &mut buf).is_err());
        // An absurd record length.
        let mut huge = bytes.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read_record(&mut &huge[..], &mut buf).is_err());
    }
}
