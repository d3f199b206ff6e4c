//! An opened hive: the bytes after log replay, and key/value access through nt-hive
//! plus our own code where nt-hive falls short (key times and offsets, values in one
//! cell over 16,344 bytes, damaged lists).

use std::borrow::Cow;
use std::ops::Range;

use nt_hive::{Hive, KeyNode, KeyValue, NtHiveNameString};

use super::base_block::{self, BaseBlock, HBIN_START};
use super::deleted::Recovered;
use super::deleted::value::{Data, DeletedValue};
use super::replay::{self, LogFile};
use crate::bytes::{array, bytes_eq, u16_le, u32_le, u64_le, utf16_units, utf16_until_nul};
use crate::evidence::RecordState;
use crate::guard;
use crate::time::Timestamp;

/// Offsets inside an `nk` record (from the `nk` signature).
const NK_LAST_WRITTEN: usize = 0x04;
const NK_NAME: usize = 0x4C;
/// Offsets inside a `vk` record (from the `vk` signature).
const VK_DATA_SIZE: usize = 0x04;
const VK_DATA_OFFSET: usize = 0x08;
const VK_TYPE: usize = 0x0C;
const VK_NAME: usize = 0x14;
/// Largest single data cell a `db` segment holds.
const BIG_DATA_SEGMENT: usize = 16_344;

/// A hive's bytes as given, with where they came from.
#[derive(Debug, Clone)]
pub struct HiveInput {
    /// The primary file's bytes.
    pub bytes: Vec<u8>,
    /// Transaction logs found beside it: (file name, bytes).
    pub logs: Vec<(String, Vec<u8>)>,
    /// The hive file's path as on the evidence (or its name, for a hive given directly).
    pub evidence_path: String,
    /// The input (and volume) it came from, for rows' `source`.
    pub source: String,
    /// The profile the hive belongs to, when its location says so (`Users\<u>\NTUSER.DAT`).
    pub user_hint: Option<String>,
    /// SHA-256 of the primary file.
    pub sha256: String,
}

/// A hive ready to read.
pub struct OpenedHive<'a> {
    /// Base block + hive bins, after replay; clean, so nt-hive accepts it. A clean hive's
    /// own bytes (borrowed from its [`HiveInput`]), a copy only when replay or marking
    /// it clean changed something.
    pub bytes: Cow<'a, [u8]>,
    /// File offsets written from transaction logs.
    pub recovered: Vec<Range<usize>>,
    pub base: BaseBlock,
    /// Problems met while opening: (location, message).
    pub problems: Vec<(String, String)>,
    /// What replay did, one line per log.
    pub replay_notes: Vec<String>,
}

impl<'a> OpenedHive<'a> {
    /// Validate, replay logs when the hive is dirty, and prepare the bytes for nt-hive.
    pub fn open(input: &'a HiveInput) -> Result<OpenedHive<'a>, base_block::HiveError> {
        let logs: Vec<LogFile<'_>> = input
            .logs
            .iter()
            .map(|(name, bytes)| LogFile {
                name: name.clone(),
                bytes,
            })
            .collect();
        let outcome = replay::replay(&input.bytes, &logs)?;
        let mut bytes = outcome.hive;
        // A dirty hive without usable logs is read as it is (the replay said so in a
        // warning); nt-hive refuses unequal sequence numbers, so our copy is marked clean.
        if !base_block::is_marked_clean(&bytes) {
            base_block::mark_clean(bytes.to_mut());
        }
        // A truncated hive is still read as far as it goes (replay warned about it); only
        // the header must hold.
        let base = BaseBlock::parse_header(&bytes)?;
        Ok(OpenedHive {
            bytes,
            recovered: outcome.recovered,
            base,
            problems: outcome.warnings,
            replay_notes: outcome.applied,
        })
    }

    /// nt-hive's view of the bytes. A hive whose header nt-hive's own validation refuses
    /// (an unusual version or clustering factor) is still read without that validation.
    pub fn nt_hive(&self) -> Result<Hive<&[u8]>, String> {
        let bytes = &self.bytes[..];
        match guard::call(|| Hive::new(bytes)) {
            Ok(Ok(hive)) => Ok(hive),
            Ok(Err(_)) => match guard::call(|| Hive::without_validation(bytes)) {
                Ok(Ok(hive)) => Ok(hive),
                Ok(Err(e)) => Err(e.to_string()),
                Err(panic) => Err(panic),
            },
            Err(panic) => Err(panic),
        }
    }

    /// `from-log` when the byte at `offset` was written by log replay, else `live`.
    pub fn state_at(&self, offset: Option<usize>) -> RecordState {
        match offset {
            Some(o) if self.recovered.iter().any(|r| r.contains(&o)) => RecordState::FromLog,
            _ => RecordState::Live,
        }
    }
}

/// Where a read went wrong inside a hive: (location, message).
pub type Problem = (String, String);

/// A key, with its path from the root (the root's own name left out).
#[derive(Clone)]
pub struct RegKey<'h> {
    node: Node<'h>,
    bytes: &'h [u8],
    pub path: String,
    pub name: String,
}

/// Where a key's record is: live, read through nt-hive, or recovered from free cells.
#[derive(Clone)]
enum Node<'h> {
    Live(KeyNode<'h, &'h [u8]>),
    Deleted {
        found: &'h Recovered,
        index: usize,
    },
    /// A live key seen through the values recovered from its value-list slack only.
    DeletedValuesOf {
        found: &'h Recovered,
        owner: usize,
    },
}

fn name_string(name: &NtHiveNameString<'_>) -> String {
    name.to_string_lossy()
}

fn name_slice<'a>(name: &NtHiveNameString<'a>) -> &'a [u8] {
    match name {
        NtHiveNameString::Latin1(s) | NtHiveNameString::Utf16LE(s) => s,
    }
}

/// File offset of a record whose name nt-hive handed us: the name slice borrows from the
/// hive bytes, so its address minus the name's offset in the record is the record.
fn record_offset(bytes: &[u8], name: &[u8], name_at: usize, signature: &[u8; 2]) -> Option<usize> {
    let base = bytes.as_ptr() as usize;
    let at = (name.as_ptr() as usize)
        .checked_sub(base)?
        .checked_sub(name_at)?;
    bytes_eq(bytes, at, signature).then_some(at)
}

impl<'h> RegKey<'h> {
    /// The hive's root key.
    pub fn root(hive: &'h Hive<&'h [u8]>, bytes: &'h [u8]) -> Result<RegKey<'h>, String> {
        let node = guard::call(|| hive.root_key_node())?.map_err(|e| e.to_string())?;
        Ok(RegKey {
            node: Node::Live(node),
            bytes,
            path: String::new(),
            name: String::new(),
        })
    }

    /// The key recovered from free cells as `found.keys[index]`, with the path its
    /// parents allow ([`RegKey::is_partial`] says when that path does not reach the root).
    pub fn deleted(found: &'h Recovered, index: usize, bytes: &'h [u8]) -> Option<RegKey<'h>> {
        let key = found.keys.get(index)?;
        Some(RegKey {
            node: Node::Deleted { found, index },
            bytes,
            path: key.path.clone(),
            name: key.name.clone(),
        })
    }

    /// The live key `found.owners[owner]`, holding only its deleted values (those its
    /// value-list slack still names).
    pub fn with_deleted_values(
        found: &'h Recovered,
        owner: usize,
        bytes: &'h [u8],
    ) -> Option<RegKey<'h>> {
        let o = found.owners.get(owner)?;
        Some(RegKey {
            node: Node::DeletedValuesOf { found, owner },
            bytes,
            path: o.path.clone(),
            name: o.path.rsplit('\\').next().unwrap_or_default().to_string(),
        })
    }

    /// Was this key recovered from a free cell (deleted)?
    pub fn is_deleted(&self) -> bool {
        matches!(self.node, Node::Deleted { .. })
    }

    /// Does the path stop short of the root (a recovered key whose parent was lost)?
    pub fn is_partial(&self) -> bool {
        match self.node {
            Node::Live(_) | Node::DeletedValuesOf { .. } => false,
            Node::Deleted { found, index } => found.keys.get(index).is_some_and(|k| !k.complete),
        }
    }

    /// Hive-bins offset of a recovered key's cell.
    pub fn deleted_cell(&self) -> Option<u32> {
        match self.node {
            Node::Live(_) | Node::DeletedValuesOf { .. } => None,
            Node::Deleted { found, index } => found.keys.get(index).map(|k| k.cell),
        }
    }

    /// What could not be read of a recovered key's values, one sentence each.
    pub fn lost_values(&self) -> &[String] {
        match self.node {
            Node::Live(_) | Node::DeletedValuesOf { .. } => &[],
            Node::Deleted { found, index } => found.keys.get(index).map_or(&[], |k| &k.lost),
        }
    }

    fn child(&self, node: KeyNode<'h, &'h [u8]>) -> RegKey<'h> {
        let name = node.name().map(|n| name_string(&n)).unwrap_or_default();
        let path = if self.path.is_empty() {
            name.clone()
        } else {
            format!("{}\\{}", self.path, name)
        };
        RegKey {
            node: Node::Live(node),
            bytes: self.bytes,
            path,
            name,
        }
    }

    /// File offset of the key's `nk` record.
    pub fn offset(&self) -> Option<usize> {
        match &self.node {
            Node::Live(node) => {
                let name = node.name().ok()?;
                record_offset(self.bytes, name_slice(&name), NK_NAME, b"nk")
            }
            Node::Deleted { found, index } => found
                .keys
                .get(*index)
                .map(|k| HBIN_START + k.cell as usize + 4),
            Node::DeletedValuesOf { found, owner } => found
                .owners
                .get(*owner)
                .map(|o| HBIN_START + o.cell as usize + 4),
        }
    }

    /// The key's last-write time (100-ns precision).
    pub fn last_written(&self) -> Option<Timestamp> {
        match self.node {
            Node::Deleted { found, index } => {
                return found.keys.get(index).and_then(|k| k.last_written);
            }
            Node::DeletedValuesOf { found, owner } => {
                return found.owners.get(owner).and_then(|o| o.last_written);
            }
            Node::Live(_) => {}
        }
        let at = self.offset()?;
        Timestamp::from_filetime(u64_le(self.bytes, at + NK_LAST_WRITTEN)?)
    }

    /// Every subkey. Damage stops the listing with a problem; what was read is kept.
    pub fn subkeys(&self, problems: &mut Vec<Problem>) -> Vec<RegKey<'h>> {
        let node = match &self.node {
            Node::Live(node) => node,
            Node::Deleted { found, index } => {
                return found
                    .children(*index)
                    .filter_map(|i| RegKey::deleted(found, i, self.bytes))
                    .collect();
            }
            Node::DeletedValuesOf { .. } => return Vec::new(),
        };
        let mut out = Vec::new();
        let listed = guard::call(|| {
            let mut keys = Vec::new();
            let mut error = None;
            if let Some(list) = node.subkeys() {
                match list {
                    Ok(iter) => {
                        for item in iter {
                            match item {
                                Ok(node) => keys.push(node),
                                Err(e) => {
                                    error = Some(e.to_string());
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => error = Some(e.to_string()),
                }
            }
            (keys, error)
        });
        match listed {
            Ok((keys, error)) => {
                out.extend(keys.into_iter().map(|n| self.child(n)));
                if let Some(e) = error {
                    problems.push((self.location(), format!("subkey list damaged: {e}")));
                }
            }
            Err(panic) => problems.push((
                self.location(),
                format!("subkey list unreadable ({panic}); its subkeys were skipped"),
            )),
        }
        out
    }

    /// The subkey named `name` (case-insensitive, as Windows compares).
    pub fn subkey(&self, name: &str, problems: &mut Vec<Problem>) -> Option<RegKey<'h>> {
        // nt-hive's binary search needs a sorted list; a damaged hive may not have one,
        // so fall back to a linear look when the search finds nothing.
        if let Node::Live(live) = &self.node
            && let Ok(Some(Ok(node))) = guard::call(|| live.subkey(name))
        {
            return Some(self.child(node));
        }
        let wanted = name.to_lowercase();
        self.subkeys(problems)
            .into_iter()
            .find(|k| k.name.to_lowercase() == wanted)
    }

    /// Follow a `\`-separated path of subkeys.
    pub fn path_to(&self, path: &str, problems: &mut Vec<Problem>) -> Option<RegKey<'h>> {
        let mut key = self.clone();
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            key = key.subkey(part, problems)?;
        }
        Some(key)
    }

    /// Every value. Damage to one value is a problem; the others are still read.
    pub fn values(&self, problems: &mut Vec<Problem>) -> Vec<RegValue> {
        let node = match &self.node {
            Node::Live(node) => node,
            Node::Deleted { found, index } => {
                let Some(key) = found.keys.get(*index) else {
                    return Vec::new();
                };
                return key
                    .values
                    .iter()
                    .filter_map(|&v| found.values.get(v))
                    .map(RegValue::recovered)
                    .collect();
            }
            Node::DeletedValuesOf { found, owner } => {
                let Some(o) = found.owners.get(*owner) else {
                    return Vec::new();
                };
                return o
                    .values
                    .iter()
                    .filter_map(|&v| found.values.get(v))
                    .map(RegValue::recovered)
                    .collect();
            }
        };
        let listed = guard::call(|| {
            let mut values = Vec::new();
            let mut errors = Vec::new();
            if let Some(list) = node.values() {
                match list {
                    Ok(iter) => {
                        for item in iter {
                            match item {
                                Ok(v) => values.push(read_value(self.bytes, &v, &mut errors)),
                                Err(e) => errors.push(e.to_string()),
                            }
                        }
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
            (values, errors)
        });
        match listed {
            Ok((values, errors)) => {
                for e in errors {
                    problems.push((self.location(), format!("value unreadable: {e}")));
                }
                values
            }
            Err(panic) => {
                problems.push((
                    self.location(),
                    format!("value list unreadable ({panic}); values skipped"),
                ));
                Vec::new()
            }
        }
    }

    /// The value named `name` (case-insensitive; "" is the default value).
    pub fn value(&self, name: &str, problems: &mut Vec<Problem>) -> Option<RegValue> {
        let wanted = name.to_lowercase();
        self.values(problems)
            .into_iter()
            .find(|v| v.name.to_lowercase() == wanted)
    }

    /// Where this key is, for warnings.
    pub fn location(&self) -> String {
        match self.offset() {
            Some(o) => format!("key {} at offset {o:#x}", self.display_path()),
            None => format!("key {}", self.display_path()),
        }
    }

    fn display_path(&self) -> &str {
        if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        }
    }
}

/// Registry value types we interpret.
pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_MULTI_SZ: u32 = 7;
pub const REG_QWORD: u32 = 11;

/// A value read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegValue {
    /// The value's name; "" for the default value.
    pub name: String,
    pub data_type: u32,
    pub data: Vec<u8>,
    /// File offset of the `vk` record.
    pub offset: Option<usize>,
    /// For a value recovered from a free cell: what is known of it.
    pub deleted: Option<DeletedNote>,
}

/// What a value recovered from a free cell keeps besides its name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedNote {
    /// Hive-bins offset of its cell.
    pub cell: u32,
    /// The data size its record declares.
    pub size: u32,
    /// Why its data could not be read (overwritten), when it could not.
    pub lost: Option<String>,
}

/// The value named `name` among values already read (ASCII case-insensitive).
pub fn value_named<'v>(values: &'v [RegValue], name: &str) -> Option<&'v RegValue> {
    values.iter().find(|v| v.name.eq_ignore_ascii_case(name))
}

/// The data of the value named `name` as one line of text ([`RegValue::display`]); `None`
/// when there is no such value or its text is empty.
pub fn text_named(values: &[RegValue], name: &str) -> Option<String> {
    value_named(values, name)
        .map(RegValue::display)
        .filter(|s| !s.is_empty())
}

fn read_value(bytes: &[u8], value: &KeyValue<'_, &[u8]>, errors: &mut Vec<String>) -> RegValue {
    let name_bytes = value.name().ok();
    let name = name_bytes.as_ref().map(name_string).unwrap_or_default();
    let offset = name_bytes
        .as_ref()
        .and_then(|n| record_offset(bytes, name_slice(n), VK_NAME, b"vk"));
    let data_type = offset.and_then(|o| u32_le(bytes, o + VK_TYPE)).unwrap_or(0);
    let data = match value.data().and_then(|d| d.into_vec()) {
        Ok(data) => data,
        // nt-hive refuses a single-cell value over 16,344 bytes in format-1.3 hives and
        // some damaged big-data lists; read the cells ourselves.
        Err(err) => match offset.and_then(|o| raw_value_data(bytes, o)) {
            Some(data) => data,
            None => {
                errors.push(format!("{name:?}: {err}"));
                Vec::new()
            }
        },
    };
    RegValue {
        name,
        data_type,
        data,
        offset,
        deleted: None,
    }
}

/// A value's data read from its `vk` record with our own code.
fn raw_value_data(bytes: &[u8], vk: usize) -> Option<Vec<u8>> {
    let raw_size = u32_le(bytes, vk + VK_DATA_SIZE)?;
    let data_offset = u32_le(bytes, vk + VK_DATA_OFFSET)?;
    if raw_size & 0x8000_0000 != 0 {
        let size = (raw_size & 0x7FFF_FFFF).min(4) as usize;
        return Some(
            bytes
                .get(vk + VK_DATA_OFFSET..vk + VK_DATA_OFFSET + size)?
                .to_vec(),
        );
    }
    let size = raw_size as usize;
    let cell = cell_data(bytes, data_offset)?;
    if size <= cell.len() {
        return Some(cell[..size].to_vec());
    }
    // Big data: `db`, segment count, offset of the list of segment offsets.
    if !bytes_eq(cell, 0, b"db") {
        return None;
    }
    let count = usize::from(u16_le(cell, 2)?);
    let list = cell_data(bytes, u32_le(cell, 4)?)?;
    let mut data = Vec::with_capacity(size.min(count.saturating_mul(BIG_DATA_SEGMENT)));
    for i in 0..count {
        let segment = cell_data(bytes, u32_le(list, i * 4)?)?;
        let want = (size - data.len()).min(BIG_DATA_SEGMENT).min(segment.len());
        data.extend_from_slice(&segment[..want]);
        if data.len() >= size {
            break;
        }
    }
    (data.len() == size).then_some(data)
}

/// The data of the allocated cell at a hive-bins offset.
fn cell_data(bytes: &[u8], offset: u32) -> Option<&[u8]> {
    if offset == u32::MAX {
        return None;
    }
    let at = HBIN_START.checked_add(offset as usize)?;
    let size = array(bytes, at).map(i32::from_le_bytes)?;
    if size >= 0 {
        return None; // free cell
    }
    let len = (size.unsigned_abs() as usize).checked_sub(4)?;
    bytes.get(at + 4..at + 4 + len)
}

impl RegValue {
    /// A value recovered from a free cell; lost data is empty, and said to be lost.
    pub fn recovered(v: &DeletedValue) -> RegValue {
        let (data, lost) = match &v.data {
            Data::Read(bytes) => (bytes.clone(), None),
            Data::Lost(why) => (Vec::new(), Some(why.clone())),
        };
        RegValue {
            name: v.name.clone(),
            data_type: v.data_type,
            data,
            offset: Some(HBIN_START + v.cell as usize + 4),
            deleted: Some(DeletedNote {
                cell: v.cell,
                size: v.size,
                lost,
            }),
        }
    }

    /// Text of a REG_SZ / REG_EXPAND_SZ (UTF-16LE up to the first NUL). Other types that
    /// hold UTF-16 text in practice are decoded too when asked.
    pub fn text(&self) -> Option<String> {
        match self.data_type {
            REG_SZ | REG_EXPAND_SZ => Some(utf16_until_nul(&self.data)),
            _ => None,
        }
    }

    pub fn dword(&self) -> Option<u32> {
        if self.data_type != REG_DWORD {
            return None;
        }
        u32_le(&self.data, 0)
    }

    pub fn qword(&self) -> Option<u64> {
        if self.data_type != REG_QWORD {
            return None;
        }
        u64_le(&self.data, 0)
    }

    pub fn multi_text(&self) -> Option<Vec<String>> {
        (self.data_type == REG_MULTI_SZ).then(|| {
            utf16_units(&self.data)
                .collect::<Vec<u16>>()
                .split(|&u| u == 0)
                .filter(|s| !s.is_empty())
                .map(String::from_utf16_lossy)
                .collect()
        })
    }

    /// The data as one line of text for the `value` column, whatever the type.
    pub fn display(&self) -> String {
        if let Some(DeletedNote {
            size,
            lost: Some(_),
            ..
        }) = &self.deleted
        {
            return format!("(data overwritten; type {}, {size} bytes)", self.data_type);
        }
        match self.data_type {
            REG_SZ | REG_EXPAND_SZ => utf16_until_nul(&self.data),
            REG_MULTI_SZ => self.multi_text().unwrap_or_default().join("; "),
            REG_DWORD => self
                .dword()
                .map(|d| format!("{d} ({d:#x})"))
                .unwrap_or_default(),
            REG_QWORD => self
                .qword()
                .map(|q| format!("{q} ({q:#x})"))
                .unwrap_or_default(),
            _ => {
                let shown: String = self
                    .data
                    .iter()
                    .take(64)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                if self.data.len() > 64 {
                    format!("{shown}... ({} bytes)", self.data.len())
                } else {
                    shown
                }
            }
        }
    }

    /// The name for display: `(default)` for the unnamed value.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            "(default)"
        } else {
            &self.name
        }
    }
}
