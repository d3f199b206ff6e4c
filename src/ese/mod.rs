//! A reader of ESE (Extensible Storage Engine, "JET Blue") databases such as SRUM's
//! `SRUDB.dat`, from bytes in memory: the file header (both copies), pages and their
//! checksums, B+-trees, the catalog, and records with fixed, variable, tagged and long
//! values.
//!
//! Problems are reported, not fatal: a checksum mismatch or a page that cannot be read
//! comes out of [`EseDatabase::rows`] as an `Err` item and the rows after it still come.
//! Every loop is bounded (visited pages, depth, counts from the data checked against
//! the bytes there), so no input makes it panic or run away.

mod btree;
mod catalog;
mod checksum;
mod compression;
mod error;
mod header;
mod long_value;
mod page;
mod record;
mod value;

use std::collections::VecDeque;

pub use catalog::{Column, Table};
pub use error::EseError;
pub use header::{DatabaseState, FileHeader};
pub use value::{ColumnType, Value, ole_date_to_timestamp};

use btree::{Entry, leaf_entries};
use long_value::LongValues;
use record::{Cell, TAGGED_COMPRESSED, TAGGED_LONG_VALUE, TAGGED_MULTI, TAGGED_MULTI_SIZES};

/// Largest database a caller should read into memory for [`EseDatabase::open`] (the
/// reader works on bytes in memory; SRUDB.dat is rarely above a few hundred MB). A
/// larger file is to be named in a warning, not read.
pub const MAX_DATABASE_BYTES: u64 = 1 << 30;

/// Largest long value read into a cell; a longer one is an error naming it.
const MAX_LONG_VALUE: usize = 64 << 20;

/// An ESE database read from its bytes.
#[derive(Debug)]
pub struct EseDatabase<'a> {
    data: &'a [u8],
    header: FileHeader,
    tables: Vec<Table>,
    problems: Vec<EseError>,
}

/// A record of a table: where it is and its values, one per column of the table (in the
/// table's column order).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub page: u32,
    pub tag: u16,
    /// Offset of the record's bytes in the file.
    pub offset: u64,
    pub values: Vec<Value>,
}

impl<'a> EseDatabase<'a> {
    /// Read the header and the catalog. Fails only when neither header copy is good or
    /// the catalog has no readable record; lesser problems are in [`Self::problems`].
    pub fn open(data: &'a [u8]) -> Result<EseDatabase<'a>, EseError> {
        let (header, mut problems) = header::read_header(data)?;
        let (tables, catalog_problems) = catalog::read_catalog(data, &header)?;
        problems.extend(catalog_problems);
        Ok(EseDatabase {
            data,
            header,
            tables,
            problems,
        })
    }

    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// Problems met opening the database (header copies, catalog pages).
    pub fn problems(&self) -> &[EseError] {
        &self.problems
    }

    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The table's records in key order, each a row or a problem met on the way (the
    /// problems of the walk first, then the rows, each record's own problem in its place).
    pub fn rows<'t>(&self, table: &'t Table) -> Rows<'a, 't> {
        let (entries, mut pending) =
            leaf_entries(self.data, &self.header, table.root, table.object);
        let long_values = match table.long_values {
            Some((root, object)) => {
                let (lv_entries, lv_problems) = leaf_entries(self.data, &self.header, root, object);
                pending.extend(lv_problems);
                LongValues::index(&lv_entries)
            }
            None => LongValues::default(),
        };
        if table.template.is_some() {
            pending.push(EseError::Catalog(format!(
                "table {} takes columns from template table {:?}: those columns are not read",
                table.name,
                table.template.as_deref().unwrap_or("")
            )));
        }
        Rows {
            table,
            large_pages: self.header.large_pages(),
            entries: entries.into_iter(),
            pending: pending.into(),
            long_values,
        }
    }
}

/// The rows of one table (see [`EseDatabase::rows`]).
pub struct Rows<'a, 't> {
    table: &'t Table,
    large_pages: bool,
    entries: std::vec::IntoIter<Entry<'a>>,
    pending: VecDeque<EseError>,
    long_values: LongValues<'a>,
}

impl Iterator for Rows<'_, '_> {
    type Item = Result<Row, EseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(p) = self.pending.pop_front() {
            return Some(Err(p));
        }
        let e = self.entries.next()?;
        Some(self.row(&e))
    }
}

impl Rows<'_, '_> {
    fn row(&self, e: &Entry<'_>) -> Result<Row, EseError> {
        let cols = &self.table.columns;
        let cells = record::split_record(cols, e.data, e.page, e.tag, e.offset, self.large_pages)?;
        let bad = |what: String| EseError::Record {
            page: e.page,
            tag: e.tag,
            offset: e.offset,
            what,
        };
        let mut values = Vec::with_capacity(cols.len());
        for (col, cell) in cols.iter().zip(cells) {
            let value = match cell {
                Cell::Null => Value::Null,
                Cell::Bytes(b) => decode(col, b).map_err(bad)?,
                Cell::Tagged { flags, bytes } => self.tagged(col, flags, bytes).map_err(bad)?,
            };
            values.push(value);
        }
        Ok(Row {
            page: e.page,
            tag: e.tag,
            offset: e.offset,
            values,
        })
    }

    /// A tagged cell's value, through its long value, compression and multiple values.
    fn tagged(&self, col: &Column, flags: u8, bytes: &[u8]) -> Result<Value, String> {
        let owned;
        let mut b = bytes;
        if flags & TAGGED_LONG_VALUE != 0 {
            owned = self
                .long_values
                .get(&self.table.name, b, MAX_LONG_VALUE)
                .map_err(|e| format!("column {}: {e}", col.name))?;
            b = &owned;
        }
        if flags & TAGGED_MULTI_SIZES != 0 {
            return Err(format!(
                "column {}: multi-value with size definitions (flags {flags:#04x}) not decoded",
                col.name
            ));
        }
        if flags & TAGGED_MULTI != 0 {
            let parts = record::multi_values(b).ok_or_else(|| {
                format!(
                    "column {}: multi-value offsets outside its {} bytes",
                    col.name,
                    b.len()
                )
            })?;
            let mut out = Vec::with_capacity(parts.len());
            for p in parts {
                out.push(decode(col, p)?);
            }
            return Ok(Value::Multi(out));
        }
        if flags & TAGGED_COMPRESSED != 0 {
            let plain =
                compression::decompress(b).map_err(|e| format!("column {}: {e}", col.name))?;
            return decode(col, &plain);
        }
        decode(col, b)
    }
}

fn decode(col: &Column, b: &[u8]) -> Result<Value, String> {
    value::decode(col.column_type, col.codepage, b).ok_or_else(|| {
        format!(
            "column {} ({:?}): {} bytes do not fit its type",
            col.name,
            col.column_type,
            b.len()
        )
    })
}
