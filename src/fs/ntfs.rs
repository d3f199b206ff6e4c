//! An NTFS volume inside an image as a file system view: the MFT walk of
//! [`super::mft_walk`] over the volume's own `$MFT`, with data streams and the change
//! journal read through their runs.

use std::io::{Cursor, Read};

use super::FsError;
use super::mft_walk::{MftFs, MftRecords};
use crate::image::source::{ImageReader, ImageSource};
use crate::ntfs::record::{ATTR_FLAG_COMPRESSED, ATTR_FLAG_ENCRYPTED, AttrBody, MftRecord};
use crate::ntfs::usn::UsnRecord;
use crate::ntfs::volume::{Extent, NtfsVolume, RecordSeen, StreamReader};
use crate::warning::Warnings;

/// An NTFS volume of an image as a view.
pub type NtfsFs<S> = MftFs<NtfsVolume<S>>;

/// Bytes of `$J` read at a time.
const JOURNAL_CHUNK: u64 = 1 << 20;

impl<S: ImageSource> MftRecords for NtfsVolume<S> {
    fn problems(&self) -> Vec<String> {
        self.mft_problems().to_vec()
    }

    fn record_count(&self) -> u64 {
        NtfsVolume::record_count(self)
    }

    fn map_records<T: Send>(
        &self,
        f: impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync,
    ) -> (Vec<(u64, T)>, Option<String>) {
        let (kept, stopped) = NtfsVolume::map_records(self, f);
        (kept, stopped.map(|e| e.to_string()))
    }

    fn map_listed<T: Send>(
        &self,
        numbers: &[u64],
        f: impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync,
    ) -> (Vec<(u64, T)>, Option<String>) {
        let (kept, stopped) = NtfsVolume::map_listed_records(self, numbers, f);
        (kept, stopped.map(|e| e.to_string()))
    }

    fn with_extensions(&self, record: MftRecord) -> (MftRecord, Vec<String>) {
        NtfsVolume::with_extensions(self, record)
    }

    /// `$Extend\$UsnJrnl:$J`, its allocated runs only (the stream is mostly sparse).
    fn journal_chunks(
        &self,
        journal: Option<u64>,
        label: &str,
        warnings: &Warnings,
        each: &mut dyn FnMut(&[UsnRecord]),
    ) -> Option<usize> {
        let extent = self.journal_extent(journal?, label, warnings)?;
        Some(self.each_journal_chunk(&extent, label, warnings, each))
    }

    fn geometry(&self) -> Option<(usize, u64)> {
        Some((
            usize::from(self.boot.bytes_per_sector),
            self.boot.cluster_size,
        ))
    }

    fn read_extent(&self, extent: &Extent, offset: u64, buf: &mut [u8]) -> Result<usize, String> {
        self.read_stream(extent, offset, buf)
            .map_err(|e| e.to_string())
    }

    fn open(&self, number: u64, stream: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let path = format!("MFT record {number}");
        let unreadable = |reason: &str| FsError::Unreadable {
            path: path.clone(),
            reason: reason.to_string(),
        };
        let record = self
            .read_record(number)
            .map_err(|e| unreadable(&e))?
            .ok_or_else(|| unreadable("record is empty"))?;
        let (record, problems) = NtfsVolume::with_extensions(self, record);
        let Some(data) = record.data_attributes(stream).next() else {
            if !problems.is_empty() {
                // Our merge of the extension records failed (the problems were
                // reported when the entry was listed): the `ntfs` crate, an independent
                // reader of attribute lists, gets a second try.
                let bytes = crate::guard::call(|| self.read_listed_stream(number, stream))
                    .map_err(|panic| unreadable(&format!("ntfs crate failed: {panic}")))?
                    .map_err(|e| {
                        unreadable(&format!(
                            "stream in extension records: {}; ntfs crate: {e}",
                            problems.join("; ")
                        ))
                    })?;
                return Ok(Box::new(Cursor::new(bytes)));
            }
            return Err(unreadable("no such $DATA stream"));
        };
        if data.flags & ATTR_FLAG_ENCRYPTED != 0 {
            return Err(unreadable("EFS-encrypted stream"));
        }
        if let Some(bytes) = data.resident_data() {
            return Ok(Box::new(Cursor::new(bytes.to_vec())));
        }
        let extent = Extent::of(&data.body)
            .ok_or_else(|| unreadable("$DATA does not start at VCN 0 in this record"))?;
        if data.flags & ATTR_FLAG_COMPRESSED != 0 {
            // Decompressed: hashing raw LZNT1 bytes would give a hash nobody can check.
            let AttrBody::NonResident {
                compression_unit, ..
            } = data.body
            else {
                return Err(unreadable("compressed $DATA without a compression unit"));
            };
            // Windows compresses only with clusters up to 4 KiB (units of 16 clusters);
            // anything larger is damage, and would make a unit absurdly big.
            if compression_unit == 0 || compression_unit > 8 || self.boot.cluster_size > 4096 {
                return Err(unreadable(
                    "compressed $DATA with an invalid compression unit",
                ));
            }
            return Ok(Box::new(StreamReader::compressed(
                self,
                extent,
                compression_unit,
            )));
        }
        Ok(Box::new(StreamReader::new(self, extent)))
    }
}

impl<S: ImageSource> NtfsVolume<S> {
    /// The extent of `$J` in `$Extend\$UsnJrnl`, when the volume has a journal.
    fn journal_extent(&self, journal: u64, label: &str, warnings: &Warnings) -> Option<Extent> {
        let record = match self.read_record(journal) {
            Ok(r) => r?,
            Err(e) => {
                warnings.push(label, "$UsnJrnl", e);
                return None;
            }
        };
        record
            .data_attributes("$J")
            .find_map(|a| Extent::of(&a.body))
    }

    /// Parses the allocated part of `$J` chunk by chunk, handing each chunk's records to
    /// `each`; returns how many damaged or unknown records were skipped.
    fn each_journal_chunk(
        &self,
        extent: &Extent,
        label: &str,
        warnings: &Warnings,
        each: &mut dyn FnMut(&[UsnRecord]),
    ) -> usize {
        let cs = self.boot.cluster_size;
        let mut problems = 0usize;
        let mut vcn = 0u64;
        for run in &extent.runs {
            let start = vcn.saturating_mul(cs);
            vcn = vcn.saturating_add(run.length);
            if run.lcn.is_none() {
                continue;
            }
            let end = vcn.saturating_mul(cs).min(extent.data_size);
            let mut at = start;
            while at < end {
                let len = (end - at).min(JOURNAL_CHUNK) as usize;
                let mut buf = vec![0u8; len];
                let n = match self.read_stream(extent, at, &mut buf) {
                    Ok(n) => n,
                    Err(e) => {
                        warnings.push(label, format!("$UsnJrnl:$J offset {at}"), e.to_string());
                        break;
                    }
                };
                let (records, damage) = crate::ntfs::usn::parse_records(&buf[..n], at);
                problems += damage.len();
                each(&records);
                at += len as u64;
            }
        }
        problems
    }
}

/// Largest stream read whole through the ntfs crate (attribute-list files are rare and
/// small in practice; a larger one is refused rather than held in memory).
const MAX_LISTED_STREAM: u64 = 256 << 20;

impl<S: ImageSource> NtfsVolume<S> {
    /// A $DATA stream whose attribute sits in extension records, read through the
    /// `ntfs` crate (which follows attribute lists). Compressed streams are refused: the
    /// crate would return raw LZNT1 bytes.
    fn read_listed_stream(&self, number: u64, stream: &str) -> Result<Vec<u8>, String> {
        use ntfs::NtfsAttributeFlags;
        let source: &dyn ImageSource = self.source();
        let mut reader = ImageReader::new(source);
        let mut ntfs = ntfs::Ntfs::new(&mut reader).map_err(|e| e.to_string())?;
        if !stream.is_empty() {
            // Named-stream lookup needs the upcase table (the crate panics without it).
            ntfs.read_upcase_table(&mut reader)
                .map_err(|e| e.to_string())?;
        }
        let file = ntfs.file(&mut reader, number).map_err(|e| e.to_string())?;
        let item = file
            .data(&mut reader, stream)
            .ok_or("no such $DATA stream")?
            .map_err(|e| e.to_string())?;
        let attribute = item.to_attribute().map_err(|e| e.to_string())?;
        if attribute.flags().contains(NtfsAttributeFlags::COMPRESSED) {
            return Err("compressed stream in extension records: not read yet".into());
        }
        let value = attribute.value(&mut reader).map_err(|e| e.to_string())?;
        let len = value.len();
        // Capped, and never more than the volume holds: the length is the evidence's word.
        if len > MAX_LISTED_STREAM || len > self.source().size() {
            return Err(format!(
                "stream of {len} bytes in extension records: too large to read here"
            ));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        value
            .attach(&mut reader)
            .take(len)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        Ok(bytes)
    }
}
