//! Records whose attributes spill into extension records.
//!
//! When a file's attributes no longer fit in its base record (many hard links, a long
//! run list, a big directory index), NTFS moves some of them to extension records and
//! lists where each lives in the base record's `$ATTRIBUTE_LIST`. A long non-resident
//! attribute is then split in pieces, each holding the runs from its starting VCN.
//! Here the listed attributes are fetched and the pieces joined, so the rest of the
//! scanner sees one record with whole attributes: names, times, sizes and streams come
//! out the same whether a record has extensions or not.

use super::attribute::{
    ATTR_ATTRIBUTE_LIST, AttrBody, Attribute, AttributeListEntry, parse_attribute_list,
};
use super::record::MftRecord;
use super::volume::{Extent, NtfsVolume, RecordRead};
use crate::image::source::ImageSource;

/// Largest attribute list followed. Each entry is 32+ bytes; a real list is a few
/// hundred bytes, a few KiB for a file with hundreds of links or extents.
pub const MAX_ATTRIBUTE_LIST: u64 = 1 << 20;
/// Most extension records fetched for one base record (each is 1 KiB or 4 KiB read).
const MAX_EXTENSION_RECORDS: usize = 4096;

impl<S: ImageSource> NtfsVolume<S> {
    /// The entries of `record`'s attribute list; `Ok(None)` when it has none.
    pub fn attribute_list(
        &self,
        record: &MftRecord,
    ) -> Result<Option<Vec<AttributeListEntry>>, String> {
        let Some(list) = record
            .attributes
            .iter()
            .find(|a| a.type_code == ATTR_ATTRIBUTE_LIST)
        else {
            return Ok(None);
        };
        let bytes = match &list.body {
            AttrBody::Resident { data } => data.clone(),
            AttrBody::NonResident { .. } => {
                let extent = Extent::of(&list.body)
                    .ok_or("attribute list: run list does not start at VCN 0")?;
                if extent.data_size > MAX_ATTRIBUTE_LIST {
                    return Err(format!(
                        "attribute list of {} bytes: larger than any real one, not followed",
                        extent.data_size
                    ));
                }
                let mut buf = vec![0u8; extent.data_size as usize];
                let n = self
                    .read_stream(&extent, 0, &mut buf)
                    .map_err(|e| format!("attribute list unreadable: {e}"))?;
                buf.truncate(n);
                buf
            }
        };
        Ok(Some(parse_attribute_list(&bytes)))
    }

    /// `record` with the attributes its extension records hold merged in, and what could
    /// not be merged (each problem names the extension record). A record without an
    /// attribute list comes back unchanged.
    pub fn with_extensions(&self, record: MftRecord) -> (MftRecord, Vec<String>) {
        let list = self.attribute_list(&record);
        merge_extensions(record, list, |number| self.read_record(number))
    }
}

/// `record` with the attributes of its extension records merged in, given its attribute
/// list (`Ok(None)`: it has none) and a way to fetch a record by number (a volume reads
/// it, a collected `$MFT` looks it up among those kept); what could not be merged is
/// returned, each problem naming the extension record.
pub fn merge_extensions(
    mut record: MftRecord,
    list: Result<Option<Vec<AttributeListEntry>>, String>,
    fetch: impl Fn(u64) -> RecordRead,
) -> (MftRecord, Vec<String>) {
    let mut problems = Vec::new();
    let entries = match list {
        Ok(Some(entries)) => entries,
        Ok(None) => return (record, problems),
        Err(e) => {
            problems.push(e);
            return (record, problems);
        }
    };
    let base = record.number;
    let mut elsewhere: Vec<&AttributeListEntry> =
        entries.iter().filter(|e| e.record != base).collect();
    // Pieces in VCN order, so each continues the run list before it.
    elsewhere.sort_by_key(|e| e.start_vcn);
    let mut extension_numbers: Vec<u64> = elsewhere.iter().map(|e| e.record).collect();
    extension_numbers.sort_unstable();
    extension_numbers.dedup();
    if extension_numbers.len() > MAX_EXTENSION_RECORDS {
        problems.push(format!(
            "attribute list names {} extension records: only the first {MAX_EXTENSION_RECORDS} read",
            extension_numbers.len()
        ));
        extension_numbers.truncate(MAX_EXTENSION_RECORDS);
    }
    let mut extensions = std::collections::HashMap::new();
    for number in extension_numbers {
        match fetch(number) {
            Ok(Some(ext)) if ext.header.base_record == base => {
                extensions.insert(number, ext);
            }
            Ok(Some(ext)) => problems.push(format!(
                "extension record {number} belongs to record {}, not {base}",
                ext.header.base_record
            )),
            Ok(None) => problems.push(format!("extension record {number} is empty")),
            Err(e) => problems.push(format!("extension record {number}: {e}")),
        }
    }
    for entry in elsewhere {
        let Some(attribute) = extensions.get(&entry.record).and_then(|ext| {
            ext.attributes
                .iter()
                .find(|a| a.type_code == entry.type_code && a.id == entry.id)
        }) else {
            continue;
        };
        if let Err(e) = merge(&mut record.attributes, attribute.clone()) {
            problems.push(format!("extension record {}: {e}", entry.record));
        }
    }
    (record, problems)
}

/// The entries of a record's attribute list when the list is resident; a non-resident
/// list lives in clusters of the volume (`Err`: a collected `$MFT` does not hold it).
pub fn resident_attribute_list(
    record: &MftRecord,
) -> Result<Option<Vec<AttributeListEntry>>, String> {
    match record
        .attributes
        .iter()
        .find(|a| a.type_code == ATTR_ATTRIBUTE_LIST)
        .map(|a| &a.body)
    {
        None => Ok(None),
        Some(AttrBody::Resident { data }) => Ok(Some(parse_attribute_list(data))),
        Some(AttrBody::NonResident { .. }) => Err(
            "attribute list is non-resident: its clusters are not in a collected $MFT, \
             extension records not merged"
                .into(),
        ),
    }
}

/// Adds `piece` to `attributes`: a non-resident piece starting past VCN 0 extends the
/// run list of the same attribute (same type and name) that ends where it starts.
fn merge(attributes: &mut Vec<Attribute>, piece: Attribute) -> Result<(), String> {
    let AttrBody::NonResident {
        start_vcn, runs, ..
    } = &piece.body
    else {
        attributes.push(piece);
        return Ok(());
    };
    if *start_vcn == 0 {
        attributes.push(piece);
        return Ok(());
    }
    let target = attributes.iter_mut().find_map(|a| match &mut a.body {
        AttrBody::NonResident {
            start_vcn: 0,
            last_vcn,
            runs: head_runs,
            ..
        } if a.type_code == piece.type_code && a.name == piece.name => Some((last_vcn, head_runs)),
        _ => None,
    });
    let Some((last_vcn, head_runs)) = target else {
        return Err(format!(
            "piece of attribute {:#x} {:?} from VCN {start_vcn} without its first piece",
            piece.type_code, piece.name
        ));
    };
    let mapped: u64 = head_runs.iter().map(|r| r.length).sum();
    if mapped != *start_vcn {
        return Err(format!(
            "piece of attribute {:#x} {:?} starts at VCN {start_vcn}, the runs before it end at VCN {mapped}",
            piece.type_code, piece.name
        ));
    }
    head_runs.extend(runs.iter().copied());
    if let AttrBody::NonResident {
        last_vcn: piece_last,
        ..
    } = piece.body
    {
        *last_vcn = piece_last;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ntfs::attribute::{ATTR_DATA, ATTR_FILE_NAME};
    use crate::ntfs::runs::Run;

    fn non_resident(name: &str, start_vcn: u64, runs: &[(u64, u64)]) -> Attribute {
        Attribute {
            type_code: ATTR_DATA,
            name: name.into(),
            id: 1,
            flags: 0,
            body: AttrBody::NonResident {
                start_vcn,
                last_vcn: start_vcn + runs.iter().map(|r| r.1).sum::<u64>() - 1,
                allocated_size: 0,
                data_size: if start_vcn == 0 { 4096 * 10 } else { 0 },
                initialized_size: if start_vcn == 0 { 4096 * 10 } else { 0 },
                compression_unit: 0,
                runs: runs
                    .iter()
                    .map(|&(lcn, length)| Run {
                        lcn: Some(lcn),
                        length,
                    })
                    .collect(),
            },
            offset_in_record: 0,
        }
    }

    #[test]
    fn pieces_join_in_vcn_order() {
        let mut attrs = vec![non_resident("", 0, &[(100, 4)])];
        merge(&mut attrs, non_resident("", 4, &[(200, 3), (300, 3)])).unwrap();
        assert_eq!(attrs.len(), 1);
        let AttrBody::NonResident { runs, last_vcn, .. } = &attrs[0].body else {
            panic!()
        };
        assert_eq!(runs.len(), 3);
        assert_eq!(*last_vcn, 9);
        assert_eq!(runs[2].lcn, Some(300));
    }

    #[test]
    fn a_gap_or_a_missing_first_piece_is_an_error() {
        let mut attrs = vec![non_resident("", 0, &[(100, 4)])];
        let err = merge(&mut attrs, non_resident("", 5, &[(200, 3)])).unwrap_err();
        assert!(err.contains("VCN 5") && err.contains("VCN 4"), "{err}");
        let err = merge(&mut attrs, non_resident("$J", 4, &[(200, 3)])).unwrap_err();
        assert!(err.contains("without its first piece"), "{err}");
    }

    #[test]
    fn resident_and_first_pieces_are_added() {
        let mut attrs = Vec::new();
        merge(
            &mut attrs,
            Attribute {
                type_code: ATTR_FILE_NAME,
                name: String::new(),
                id: 3,
                flags: 0,
                body: AttrBody::Resident { data: vec![0; 4] },
                offset_in_record: 0,
            },
        )
        .unwrap();
        merge(&mut attrs, non_resident("x", 0, &[(1, 1)])).unwrap();
        assert_eq!(attrs.len(), 2);
    }
}
