//! The catalog, MSysObjects (always rooted at page 4, object 2): one record per table,
//! column, index and long-value tree. Its own columns are fixed by the format, so its
//! records are read with the schema below.

use super::btree::leaf_entries;
use super::error::EseError;
use super::header::FileHeader;
use super::record::{Cell, split_record};
use super::value::ColumnType;
use crate::bytes::{u16_le, u32_le};

/// Root page and object id of MSysObjects.
pub const CATALOG_ROOT: u32 = 4;
pub const CATALOG_OBJECT: u32 = 2;

const TYPE_TABLE: u16 = 1;
const TYPE_COLUMN: u16 = 2;
const TYPE_INDEX: u16 = 3;
const TYPE_LONG_VALUE: u16 = 4;

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// 1-127 fixed, 128-255 variable, 256 and up tagged.
    pub id: u32,
    pub name: String,
    pub column_type: ColumnType,
    /// Declared size (SpaceUsage): the size of fixed text and binary columns.
    pub size: u32,
    pub flags: u32,
    /// Codepage of text columns (1200 UTF-16LE, 1252 or 20127 one byte a character).
    pub codepage: u32,
}

impl Column {
    pub fn is_fixed(&self) -> bool {
        self.id < 128
    }
    pub fn is_variable(&self) -> bool {
        (128..256).contains(&self.id)
    }
    /// Bytes the column takes in the fixed part of a record.
    pub fn fixed_size(&self) -> Option<usize> {
        self.column_type
            .fixed_size()
            .or((self.size > 0).then_some(self.size as usize))
    }
}

/// A table: its tree, its long-value tree, its columns and index names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    /// Object id of the table (the father data page object).
    pub object: u32,
    /// Root page of its records' tree.
    pub root: u32,
    /// Root page and object id of its long-value tree, if it has one.
    pub long_values: Option<(u32, u32)>,
    /// Columns in id order.
    pub columns: Vec<Column>,
    pub indexes: Vec<String>,
    /// Name of the template table it takes columns from, if any.
    pub template: Option<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// MSysObjects' own schema, as the format fixes it.
fn catalog_columns() -> Vec<Column> {
    let col = |id: u32, name: &str, ty: u32| Column {
        id,
        name: name.to_string(),
        column_type: ColumnType::from_raw(ty),
        size: 0,
        flags: 0,
        codepage: 1252,
    };
    vec![
        col(1, "ObjidTable", 4),
        col(2, "Type", 3),
        col(3, "Id", 4),
        col(4, "ColtypOrPgnoFDP", 4),
        col(5, "SpaceUsage", 4),
        col(6, "Flags", 4),
        col(7, "PagesOrLocale", 4),
        col(8, "RootFlag", 1),
        col(9, "RecordOffset", 3),
        col(10, "LCMapFlags", 4),
        col(11, "KeyMost", 17),
        col(12, "LVChunkMax", 4),
        col(128, "Name", 10),
        col(129, "Stats", 9),
        col(130, "TemplateTable", 10),
    ]
}

/// The tables of the database, with the problems met reading the catalog.
pub fn read_catalog(
    data: &[u8],
    header: &FileHeader,
) -> Result<(Vec<Table>, Vec<EseError>), EseError> {
    let (entries, mut problems) = leaf_entries(data, header, CATALOG_ROOT, CATALOG_OBJECT);
    if entries.is_empty() {
        return Err(EseError::Catalog(format!(
            "no records in MSysObjects (page {CATALOG_ROOT}): {}",
            problems.first().map(|p| p.to_string()).unwrap_or_default()
        )));
    }
    let schema = catalog_columns();
    let mut tables: Vec<Table> = Vec::new();
    for e in &entries {
        let cells = match split_record(
            &schema,
            e.data,
            e.page,
            e.tag,
            e.offset,
            header.large_pages(),
        ) {
            Ok(c) => c,
            Err(err) => {
                problems.push(err);
                continue;
            }
        };
        let int = |i: usize| match cells[i] {
            Cell::Bytes(b) => u32_le(b, 0).unwrap_or(0),
            _ => 0,
        };
        let text = |i: usize| match cells[i] {
            Cell::Bytes(b) => Some(b.iter().map(|&c| char::from(c)).collect::<String>()),
            _ => None,
        };
        let kind = match cells[1] {
            Cell::Bytes(b) => u16_le(b, 0).unwrap_or(0),
            _ => 0,
        };
        let (object, id, coltyp_or_page) = (int(0), int(2), int(3));
        let name = text(12).unwrap_or_default();
        let owner = tables.iter_mut().rfind(|t| t.object == object);
        match (kind, owner) {
            (TYPE_TABLE, _) => tables.push(Table {
                name,
                object: id,
                root: coltyp_or_page,
                long_values: None,
                columns: Vec::new(),
                indexes: Vec::new(),
                template: text(14).filter(|t| !t.is_empty()),
            }),
            (TYPE_COLUMN, Some(t)) => t.columns.push(Column {
                id,
                name,
                column_type: ColumnType::from_raw(coltyp_or_page),
                size: int(4),
                flags: int(5),
                codepage: int(6),
            }),
            (TYPE_INDEX, Some(t)) => t.indexes.push(name),
            (TYPE_LONG_VALUE, Some(t)) => t.long_values = Some((coltyp_or_page, id)),
            (TYPE_COLUMN | TYPE_INDEX | TYPE_LONG_VALUE, None) => problems.push(EseError::Record {
                page: e.page,
                tag: e.tag,
                offset: e.offset,
                what: format!("catalog entry {name:?} (type {kind}) of object {object}, which has no table record before it"),
            }),
            _ => {}
        }
    }
    for t in &mut tables {
        t.columns.sort_by_key(|c| c.id);
    }
    Ok((tables, problems))
}
