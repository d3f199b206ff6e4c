//! The form of a record inside a run file: a record body (see [`super::codec`]) whose
//! repeating columns are written once and then referred to.
//!
//! Rows next to each other in timeline order mostly come from a few files, and repeat
//! their description, artifact, user, path, SHA-256 and source (about a third of a log
//! line's row). Each of those columns keeps the last [`SLOTS`] values written in a run;
//! a value equal to one of them is written as a `u32` [`REFERENCE`] flag plus the slot,
//! any other value as in a body (`u32` length + UTF-8), and then takes the next slot in
//! turn. Writer and reader update their slots by the same rule, so the reader restores
//! every body exactly. The time before the columns and the size and state after them are
//! copied as they are.
//!
//! Fewer bytes go through the temporary files (written once, read once): for a million
//! log lines, a third less of them.

use std::io;

use super::codec::{Record, invalid};

/// Values remembered per column and run.
const SLOTS: usize = 16;
/// Set in a column's `u32` when it names a slot instead of a length.
const REFERENCE: u32 = 0x8000_0000;
/// The columns of a body, in their order ([`crate::evidence::EvidenceRow::texts`]), that
/// repeat: description, artifact, user, path, SHA-256, source. Message, value and
/// locator differ from row to row.
const REPEATING: [bool; 9] = [true, false, true, true, true, false, true, true, false];

/// The last values of one column, replaced in turn.
#[derive(Default)]
struct Column {
    slots: Vec<Vec<u8>>,
    next: usize,
}

impl Column {
    fn find(&self, value: &[u8]) -> Option<usize> {
        self.slots.iter().position(|slot| slot.as_slice() == value)
    }

    fn get(&self, slot: usize) -> Option<&[u8]> {
        self.slots.get(slot).map(Vec::as_slice)
    }

    fn remember(&mut self, value: &[u8]) {
        if self.slots.len() < SLOTS {
            self.slots.push(value.to_vec());
        } else {
            let slot = &mut self.slots[self.next];
            slot.clear();
            slot.extend_from_slice(value);
        }
        self.next = (self.next + 1) % SLOTS;
    }
}

/// The slots of every repeating column of one run.
#[derive(Default)]
struct Columns([Column; 9]);

/// Turns bodies into the run's form, in the order they are written.
#[derive(Default)]
pub(super) struct Packer {
    columns: Columns,
    out: Vec<u8>,
}

impl Packer {
    /// The run form of `body`, valid until the next call.
    pub fn pack(&mut self, body: &[u8]) -> io::Result<&[u8]> {
        self.out.clear();
        let mut cursor = Record { bytes: body, at: 0 };
        self.out.extend_from_slice(cursor.time()?);
        for (column, repeating) in self.columns.0.iter_mut().zip(REPEATING) {
            let value = cursor.column()?;
            if repeating {
                if let Some(slot) = column.find(value) {
                    self.out
                        .extend_from_slice(&(REFERENCE | slot as u32).to_le_bytes());
                    continue;
                }
                column.remember(value);
            }
            self.out
                .extend_from_slice(&(value.len() as u32).to_le_bytes());
            self.out.extend_from_slice(value);
        }
        self.out.extend_from_slice(cursor.rest());
        Ok(&self.out)
    }
}

/// Turns records of a run back into bodies, in the order they were written.
#[derive(Default)]
pub(super) struct Unpacker {
    columns: Columns,
}

impl Unpacker {
    /// Sets `body` to the body of the run record `packed`.
    pub fn unpack(&mut self, packed: &[u8], body: &mut Vec<u8>) -> io::Result<()> {
        body.clear();
        let mut cursor = Record {
            bytes: packed,
            at: 0,
        };
        body.extend_from_slice(cursor.time()?);
        for (index, (column, repeating)) in self.columns.0.iter_mut().zip(REPEATING).enumerate() {
            let at = cursor.at;
            let tag = cursor.u32()?;
            let value = if tag & REFERENCE != 0 {
                let slot = (tag & !REFERENCE) as usize;
                match column.get(slot).filter(|_| repeating) {
                    Some(value) => value,
                    None => {
                        return Err(invalid(format!(
                            "column {index} at {at} refers to value {slot}, which the run has not written"
                        )));
                    }
                }
            } else {
                let value = cursor.take(tag as usize)?;
                if repeating {
                    column.remember(value);
                }
                value
            };
            body.extend_from_slice(&(value.len() as u32).to_le_bytes());
            body.extend_from_slice(value);
        }
        body.extend_from_slice(cursor.rest());
        Ok(())
    }
}

impl<'a> Record<'a> {
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// The time: its flag, and its 13 bytes when there is one.
    fn time(&mut self) -> io::Result<&'a [u8]> {
        let start = self.at;
        match self.take(1)?[0] {
            0 => {}
            1 => {
                self.take(13)?;
            }
            other => return Err(invalid(format!("time flag {other} at {start}"))),
        }
        Ok(&self.bytes[start..self.at])
    }

    /// A column of a body: its length, then its bytes.
    fn column(&mut self) -> io::Result<&'a [u8]> {
        let length = self.u32()?;
        if length & REFERENCE != 0 {
            return Err(invalid(format!("text length {length} at {}", self.at - 4)));
        }
        self.take(length as usize)
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = &self.bytes[self.at..];
        self.at = self.bytes.len();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{EvidenceRow, RecordState};
    use crate::store::codec;
    use crate::time::{Precision, Timestamp};

    /// Rows whose repeating columns take from 1 to 40 values, so that values are found
    /// in a slot, fall out of the slots (more than [`SLOTS`] in turn) and come back.
    fn row(i: u64) -> EvidenceRow {
        EvidenceRow {
            datetime: (!i.is_multiple_of(7))
                .then(|| Timestamp::from_unix(1_500_000_000 + i as i64, 250, Precision::Nanos))
                .flatten(),
            timestamp_desc: if i.is_multiple_of(3) {
                "Log Entry"
            } else {
                "Modified"
            }
            .into(),
            message: format!("line {i}"),
            artifact: format!("artifact.{}", i % 5),
            user: if i.is_multiple_of(4) {
                String::new()
            } else {
                "bob".into()
            },
            path: format!("Users\\bob\\AppData\\Local\\Akamai\\{}.log", (i * 7) % 40),
            value: "v".repeat((i % 9) as usize),
            size: i.is_multiple_of(2).then_some(i * 100),
            sha256: format!("{:064x}", (i * 13) % 23),
            state: RecordState::Allocated,
            source: format!("image.E01 vol{}", i % 17),
            locator: format!("line={i}"),
        }
    }

    fn body(row: &EvidenceRow) -> Vec<u8> {
        let mut body = Vec::new();
        codec::encode_body(row, &mut body);
        body
    }

    #[test]
    fn every_body_comes_back_as_written() {
        let mut packer = Packer::default();
        let mut unpacker = Unpacker::default();
        let (mut written, mut packed_bytes) = (0, 0);
        let mut back = Vec::new();
        for i in 0..2000 {
            let body = body(&row(i));
            let packed = packer.pack(&body).unwrap().to_vec();
            written += body.len();
            packed_bytes += packed.len();
            unpacker.unpack(&packed, &mut back).unwrap();
            assert_eq!(back, body, "row {i}");
        }
        // Never longer: a value is written out at most as in the body.
        assert!(packed_bytes < written, "{packed_bytes} of {written} bytes");
    }

    /// Packed lengths of two rounds over `distinct` rows that differ only in source.
    fn two_rounds(distinct: u64) -> (Vec<usize>, Vec<usize>) {
        let mut packer = Packer::default();
        let bodies: Vec<Vec<u8>> = (0..distinct)
            .map(|i| {
                let mut r = row(0);
                r.source = format!("source {i}");
                body(&r)
            })
            .collect();
        let mut round = || -> Vec<usize> {
            bodies
                .iter()
                .map(|b| packer.pack(b).unwrap().len())
                .collect()
        };
        (round(), round())
    }

    #[test]
    fn a_value_that_fell_out_of_the_slots_is_written_again() {
        // Sixteen sources fit the slots: the second round refers to them.
        let (first, second) = two_rounds(SLOTS as u64);
        assert!(second.iter().zip(&first).all(|(s, f)| s < f));
        // Seventeen in turn: each falls out before it comes back.
        let (first, second) = two_rounds(SLOTS as u64 + 1);
        assert_eq!(first[1..], second[1..]);
    }

    #[test]
    fn damaged_records_are_errors() {
        let body = body(&row(1));
        let mut packer = Packer::default();
        let packed = packer.pack(&body).unwrap().to_vec();
        let mut out = Vec::new();
        // A reference to a slot a new reader has not filled: the path's first value
        // written as a reference.
        let mut second = Packer::default();
        second.pack(&body).unwrap();
        let reference = second.pack(&body).unwrap().to_vec();
        let err = Unpacker::default()
            .unpack(&reference, &mut out)
            .unwrap_err();
        assert!(err.to_string().contains("has not written"), "{err}");
        // Cut anywhere: an error, never a panic.
        // (The size and state after the columns, two bytes here, are the codec's to
        // check.)
        for cut in 0..packed.len() - 2 {
            let mut fresh = Unpacker::default();
            assert!(
                fresh.unpack(&packed[..cut], &mut out).is_err(),
                "cut at {cut}"
            );
        }
        // A length with the reference flag in a body is refused when packing.
        let mut forged = body.clone();
        forged[14..18].copy_from_slice(&0x8000_0001u32.to_le_bytes());
        assert!(Packer::default().pack(&forged).is_err());
    }
}
