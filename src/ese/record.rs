//! A record (a table's leaf value): a 4-byte header, the fixed columns and their null
//! bitmap, the variable columns' end offsets and data, then the tagged columns' (id,
//! offset) array and data.

use super::catalog::Column;
use super::error::EseError;
use crate::bytes::u16_le;

/// Tagged value flags (the byte before a tagged value, where present).
pub const TAGGED_COMPRESSED: u8 = 0x02;
pub const TAGGED_LONG_VALUE: u8 = 0x04;
pub const TAGGED_MULTI: u8 = 0x08;
pub const TAGGED_MULTI_SIZES: u8 = 0x10;

/// One column's raw cell in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    Null,
    Bytes(&'a [u8]),
    /// A tagged value with its flags byte (0 when it had none).
    Tagged {
        flags: u8,
        bytes: &'a [u8],
    },
}

/// The raw cells of `record`, one per column of `columns` (in that order).
pub fn split_record<'a>(
    columns: &[Column],
    record: &'a [u8],
    page: u32,
    tag: u16,
    offset: u64,
    large_pages: bool,
) -> Result<Vec<Cell<'a>>, EseError> {
    let bad = |what: String| EseError::Record {
        page,
        tag,
        offset,
        what,
    };
    if record.len() < 4 {
        return Err(bad(format!(
            "{} bytes, shorter than a record header",
            record.len()
        )));
    }
    let last_fixed = u32::from(record[0]);
    let last_var = u32::from(record[1]);
    let var_at = usize::from(u16_le(record, 2).unwrap_or(0));
    let mut cells = vec![Cell::Null; columns.len()];

    // Fixed columns: every id up to the last one present takes its size.
    let mut at = 4usize;
    let mut fixed = Vec::new();
    for id in 1..=last_fixed {
        let col = columns.iter().position(|c| c.id == id);
        let size = col.and_then(|i| columns[i].fixed_size()).ok_or_else(|| {
            bad(format!(
                "fixed column {id} is not in the catalog: its size is unknown"
            ))
        })?;
        fixed.push((col, at, size));
        at += size;
    }
    let bitmap = at;
    let bitmap_len = (last_fixed as usize).div_ceil(8);
    if bitmap + bitmap_len > record.len() || bitmap + bitmap_len > var_at.max(bitmap + bitmap_len) {
        return Err(bad(format!(
            "fixed columns 1-{last_fixed} end at {:#x}, past the record's {} bytes or its variable part at {var_at:#x}",
            bitmap + bitmap_len,
            record.len()
        )));
    }
    for (n, (col, start, size)) in fixed.into_iter().enumerate() {
        let null = record[bitmap + n / 8] >> (n % 8) & 1 == 1;
        if let (Some(i), false) = (col, null) {
            cells[i] = Cell::Bytes(&record[start..start + size]);
        }
    }

    // Variable columns: an array of end offsets (high bit: empty), then the data.
    let var_count = last_var.saturating_sub(127) as usize;
    let data_at = var_at + 2 * var_count;
    if data_at > record.len() {
        return Err(bad(format!(
            "{var_count} variable columns' offsets at {var_at:#x} run past the record's {} bytes",
            record.len()
        )));
    }
    let mut prev = 0usize;
    for k in 0..var_count {
        let raw = u16_le(record, var_at + 2 * k).unwrap_or(0);
        let end = usize::from(raw & 0x7fff);
        let id = 128 + k as u32;
        if raw & 0x8000 == 0 {
            let value = record.get(data_at + prev..data_at + end).ok_or_else(|| {
                bad(format!("variable column {id}: bytes {prev}..{end} after {data_at:#x} outside the record"))
            })?;
            if let Some(i) = columns.iter().position(|c| c.id == id) {
                cells[i] = Cell::Bytes(value);
            }
        }
        prev = end;
    }

    // Tagged columns: (id, offset) pairs; their count from the first offset.
    let tagged = &record[(data_at + prev).min(record.len())..];
    if tagged.len() < 4 {
        return Ok(cells);
    }
    let offset_mask = if large_pages { 0x7fff } else { 0x3fff };
    let first = usize::from(u16_le(tagged, 2).unwrap_or(0) & offset_mask);
    let count = first / 4;
    if count == 0 || first > tagged.len() {
        return Err(bad(format!(
            "tagged columns at {:#x}: first offset {first} in {} bytes",
            data_at + prev,
            tagged.len()
        )));
    }
    for k in 0..count {
        let id = u32::from(u16_le(tagged, 4 * k).unwrap_or(0));
        let raw = u16_le(tagged, 4 * k + 2).unwrap_or(0);
        let start = usize::from(raw & offset_mask);
        let end = if k + 1 < count {
            usize::from(u16_le(tagged, 4 * k + 6).unwrap_or(0) & offset_mask)
        } else {
            tagged.len()
        };
        let Some(value) = tagged.get(start..end) else {
            return Err(bad(format!(
                "tagged column {id}: bytes {start}..{end} of the tagged part ({} bytes)",
                tagged.len()
            )));
        };
        let has_flags = large_pages || raw & 0x4000 != 0;
        let cell = match (has_flags, value.split_first()) {
            (true, Some((&flags, rest))) => Cell::Tagged { flags, bytes: rest },
            (true, None) => Cell::Null,
            (false, _) if value.is_empty() => Cell::Null,
            (false, _) => Cell::Tagged {
                flags: 0,
                bytes: value,
            },
        };
        if let Some(i) = columns.iter().position(|c| c.id == id) {
            cells[i] = cell;
        }
    }
    Ok(cells)
}

/// The values of a multi-valued cell: an array of 16-bit offsets (its length from the
/// first), each value running to the next offset.
pub fn multi_values(b: &[u8]) -> Option<Vec<&[u8]>> {
    let first = usize::from(u16_le(b, 0)? & 0x7fff);
    let count = first / 2;
    if count == 0 || first > b.len() {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let start = usize::from(u16_le(b, 2 * k)? & 0x7fff);
        let end = if k + 1 < count {
            usize::from(u16_le(b, 2 * k + 2)? & 0x7fff)
        } else {
            b.len()
        };
        out.push(b.get(start..end)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ese::value::ColumnType;

    fn col(id: u32, ty: u32) -> Column {
        Column {
            id,
            name: format!("c{id}"),
            column_type: ColumnType::from_raw(ty),
            size: 0,
            flags: 0,
            codepage: 1252,
        }
    }

    /// Fixed 1 (Long), 2 (Short, null), 3 (LongLong); variable 128 "abc", 129 empty,
    /// 130 "de"; tagged 256 (flags 0x01, 3 bytes), 257 (multi-value of two Longs).
    fn record() -> Vec<u8> {
        let mut r = vec![3u8, 130, 0, 0];
        r.extend(7i32.to_le_bytes());
        r.extend([0x2a, 0x2a]);
        r.extend((-5i64).to_le_bytes());
        r.push(0b010);
        let var_at = r.len() as u16;
        r[2..4].copy_from_slice(&var_at.to_le_bytes());
        for end in [3u16, 0x8000 | 3, 5] {
            r.extend(end.to_le_bytes());
        }
        r.extend(b"abcde");
        // Tagged: two (id, offset) pairs, 0x4000: a flags byte leads the value.
        r.extend(256u16.to_le_bytes());
        r.extend((0x4000u16 | 8).to_le_bytes());
        r.extend(257u16.to_le_bytes());
        r.extend((0x4000u16 | 12).to_le_bytes());
        r.extend([0x01, 1, 2, 3]);
        r.push(TAGGED_MULTI);
        r.extend([4, 0, 8, 0]);
        r.extend(10i32.to_le_bytes());
        r.extend(11i32.to_le_bytes());
        r
    }

    fn columns() -> Vec<Column> {
        vec![
            col(1, 4),
            col(2, 3),
            col(3, 15),
            col(128, 10),
            col(129, 9),
            col(130, 10),
            col(256, 11),
            col(257, 4),
        ]
    }

    #[test]
    fn every_kind_of_cell() {
        let r = record();
        let cells = split_record(&columns(), &r, 9, 3, 0x1000, false).unwrap();
        assert_eq!(cells[0], Cell::Bytes(&7i32.to_le_bytes()));
        assert_eq!(cells[1], Cell::Null, "null bitmap bit 1");
        assert_eq!(cells[2], Cell::Bytes(&(-5i64).to_le_bytes()));
        assert_eq!(cells[3], Cell::Bytes(b"abc"));
        assert_eq!(cells[4], Cell::Null, "empty variable column");
        assert_eq!(cells[5], Cell::Bytes(b"de"));
        assert_eq!(
            cells[6],
            Cell::Tagged {
                flags: 0x01,
                bytes: &[1, 2, 3]
            }
        );
        let Cell::Tagged { flags, bytes } = cells[7] else {
            panic!("{:?}", cells[7])
        };
        assert_eq!(flags, TAGGED_MULTI);
        let parts = multi_values(bytes).unwrap();
        assert_eq!(
            parts,
            vec![&10i32.to_le_bytes()[..], &11i32.to_le_bytes()[..]]
        );
    }

    #[test]
    fn a_column_missing_from_the_catalog_is_skipped_but_keeps_its_place() {
        let r = record();
        let mut cols = columns();
        cols.retain(|c| c.id != 128 && c.id != 256);
        let cells = split_record(&cols, &r, 9, 3, 0x1000, false).unwrap();
        assert_eq!(cells[3], Cell::Null);
        assert_eq!(cells[4], Cell::Bytes(b"de"));
        assert_eq!(
            cells[5],
            Cell::Tagged {
                flags: TAGGED_MULTI,
                bytes: &r[r.len() - 12..]
            }
        );
    }

    #[test]
    fn damage_is_an_error_naming_the_record() {
        let r = record();
        // A fixed column the catalog does not know: its size is unknown.
        let cols: Vec<Column> = columns().into_iter().filter(|c| c.id != 2).collect();
        let e = split_record(&cols, &r, 9, 3, 0x1000, false).unwrap_err();
        assert!(
            e.to_string().contains("page 9 tag 3 (file offset 0x1000)"),
            "{e}"
        );
        // Every truncation is an error or fewer cells, never a panic.
        for len in 0..r.len() {
            let _ = split_record(&columns(), &r[..len], 9, 3, 0, false);
            let _ = split_record(&columns(), &r[..len], 9, 3, 0, true);
        }
        let mut bad = r.clone();
        bad[2] = 0xff; // variable part offset past the end
        assert!(split_record(&columns(), &bad, 9, 3, 0, false).is_err());
    }
}
