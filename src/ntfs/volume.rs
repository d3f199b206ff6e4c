//! An NTFS volume on an image source: the boot sector, $MFT's own data runs, records
//! read sequentially in large chunks, and non-resident streams read through their runs
//! (sparse runs and bytes past the initialized size read as zeros).

use std::io::{self, Read};

use super::attribute::{ATTR_ATTRIBUTE_LIST, ATTR_DATA, AttrBody};
use super::boot::BootSector;
use super::record::{MftRecord, NtfsError, RecordView, parse_record, view_record};
use super::runs::Run;
use crate::bytes::u16_le;
use crate::image::source::{ImageError, ImageSource};

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("boot sector: {0}")]
    Boot(NtfsError),
    #[error("$MFT record 0: {0}")]
    MftRecord(NtfsError),
    #[error("$MFT record 0 has no usable $DATA attribute")]
    NoMftData,
    #[error(transparent)]
    Image(#[from] ImageError),
}

/// Where a non-resident stream's bytes are.
#[derive(Debug, Clone)]
pub struct Extent {
    pub runs: Vec<Run>,
    pub data_size: u64,
    pub initialized_size: u64,
}

impl Extent {
    pub fn of(body: &AttrBody) -> Option<Extent> {
        match body {
            AttrBody::NonResident {
                runs,
                data_size,
                initialized_size,
                start_vcn: 0,
                ..
            } => Some(Extent {
                runs: runs.clone(),
                data_size: *data_size,
                initialized_size: (*initialized_size).min(*data_size),
            }),
            _ => None,
        }
    }
}

/// One record as read: parsed, never used (zeroed), or damaged (with the reason).
pub type RecordRead = Result<Option<MftRecord>, String>;

/// One record as a walk meets it: read in place (header and fixups checked, see
/// [`RecordView`]), never used (zeroed), or damaged (with the reason).
pub type RecordSeen<'a> = Result<Option<RecordView<'a>>, String>;

pub struct NtfsVolume<S: ImageSource> {
    source: S,
    pub boot: BootSector,
    mft: Extent,
    mft_problems: Vec<String>,
}

impl<S: ImageSource> NtfsVolume<S> {
    pub fn open(source: S) -> Result<NtfsVolume<S>, VolumeError> {
        let mut sector = vec![0u8; 512];
        source.read_at(0, &mut sector)?;
        let boot = BootSector::parse(&sector).map_err(VolumeError::Boot)?;
        let rs = boot.record_size as usize;
        let mut first = vec![0u8; rs];
        let at = boot.mft_lcn.saturating_mul(boot.cluster_size);
        source.read_at(at, &mut first)?;
        let (record, _) = parse_record(&mut first, 0, boot.bytes_per_sector as usize)
            .map_err(VolumeError::MftRecord)?;
        let mft = record
            .data_attributes("")
            .find_map(|a| Extent::of(&a.body))
            .ok_or(VolumeError::NoMftData)?;
        let mut volume = NtfsVolume {
            source,
            boot,
            mft,
            mft_problems: Vec::new(),
        };
        if record
            .attributes
            .iter()
            .any(|a| a.type_code == ATTR_ATTRIBUTE_LIST)
        {
            volume.extend_mft_from_attribute_list(&record);
        }
        if volume.mft_bytes() < volume.mft.data_size {
            volume.mft_problems.push(format!(
                "$MFT says it holds {} bytes, its runs and the volume only {}: records past \
                 them are not read",
                volume.mft.data_size,
                volume.mft_bytes()
            ));
        }
        Ok(volume)
    }

    /// A heavily fragmented $MFT keeps the rest of its run list in extension records
    /// named by record 0's attribute list (the `ntfs` crate cannot read such a volume).
    /// Those records lie in the part of $MFT already mapped, so each piece is read with
    /// the runs known so far and appended in VCN order. Whatever cannot be followed is
    /// noted in `mft_problems`; records past the known runs then read as never used.
    fn extend_mft_from_attribute_list(&mut self, record: &MftRecord) {
        let entries = match self.attribute_list(record) {
            Ok(entries) => entries.unwrap_or_default(),
            Err(e) => {
                self.mft_problems.push(format!("$MFT {e}"));
                return;
            }
        };
        let mut pieces: Vec<_> = entries
            .into_iter()
            .filter(|e| e.type_code == ATTR_DATA && e.name.is_empty() && e.record != 0)
            .collect();
        pieces.sort_by_key(|e| e.start_vcn);
        pieces.dedup_by_key(|e| e.start_vcn);
        for piece in pieces {
            let mapped: u64 = self.mft.runs.iter().map(|r| r.length).sum();
            if piece.start_vcn != mapped {
                self.mft_problems.push(format!(
                    "$MFT data piece in record {} starts at VCN {} but the runs so far end at \
                     VCN {mapped}: the rest of $MFT is not mapped",
                    piece.record, piece.start_vcn
                ));
                return;
            }
            let extension = match self.read_record(piece.record) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    self.mft_problems.push(format!(
                        "$MFT data piece: extension record {} is empty",
                        piece.record
                    ));
                    return;
                }
                Err(e) => {
                    self.mft_problems.push(format!(
                        "$MFT data piece: extension record {}: {e}",
                        piece.record
                    ));
                    return;
                }
            };
            let runs = extension.data_attributes("").find_map(|a| match &a.body {
                AttrBody::NonResident {
                    runs, start_vcn, ..
                } if *start_vcn == piece.start_vcn => Some(runs.clone()),
                _ => None,
            });
            let Some(runs) = runs else {
                self.mft_problems.push(format!(
                    "$MFT data piece: extension record {} has no $DATA starting at VCN {}",
                    piece.record, piece.start_vcn
                ));
                return;
            };
            self.mft.runs.extend(runs);
        }
    }

    /// What stopped $MFT's run list from being assembled in full (empty when it was).
    pub fn mft_problems(&self) -> &[String] {
        &self.mft_problems
    }

    /// The volume's bytes.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// Records in $MFT (by its data size).
    ///
    /// Never more than $MFT's own runs map and the volume holds: a damaged data size
    /// would otherwise have the walk read zeros for billions of records.
    pub fn record_count(&self) -> u64 {
        self.mft_bytes() / u64::from(self.boot.record_size)
    }

    fn mft_bytes(&self) -> u64 {
        let mapped = self
            .mft
            .runs
            .iter()
            .filter(|r| r.lcn.is_some())
            .fold(0u64, |sum, r| sum.saturating_add(r.length))
            .saturating_mul(self.boot.cluster_size);
        self.mft.data_size.min(mapped).min(self.source.size())
    }

    /// Read bytes of a stream at `offset` into `buf`; returns bytes read (short at the
    /// stream's end). Sparse runs and bytes past the initialized size are zeros.
    pub fn read_stream(
        &self,
        extent: &Extent,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, ImageError> {
        self.read_stream_by(extent, offset, buf, false)
    }

    /// [`Self::read_stream`], through the source's cache or past it (`through`: a large
    /// sequential read, see [`ImageSource::read_through_at`]).
    fn read_stream_by(
        &self,
        extent: &Extent,
        offset: u64,
        buf: &mut [u8],
        through: bool,
    ) -> Result<usize, ImageError> {
        if offset >= extent.data_size {
            return Ok(0);
        }
        let want = buf.len().min((extent.data_size - offset) as usize);
        let cs = self.boot.cluster_size;
        let mut done = 0usize;
        let mut run_start_vcn = 0u64;
        let mut runs = extent.runs.iter();
        let mut current = runs.next();
        while done < want {
            let pos = offset + done as u64;
            let vcn = pos / cs;
            // Advance to the run holding `vcn`.
            let run = loop {
                match current {
                    Some(r) if vcn >= run_start_vcn.saturating_add(r.length) => {
                        run_start_vcn = run_start_vcn.saturating_add(r.length);
                        current = runs.next();
                    }
                    other => break other,
                }
            };
            let Some(run) = run else {
                // Past the runs: what the runs do not cover reads as zeros.
                buf[done..want].fill(0);
                return Ok(want);
            };
            let run_end = run_start_vcn.saturating_add(run.length).saturating_mul(cs);
            let mut take = ((run_end - pos) as usize).min(want - done);
            if pos < extent.initialized_size {
                take = take.min((extent.initialized_size - pos) as usize);
            }
            let out = &mut buf[done..done + take];
            match run.lcn {
                Some(_) if pos >= extent.initialized_size => out.fill(0),
                Some(lcn) => {
                    let at = lcn
                        .saturating_add(vcn - run_start_vcn)
                        .saturating_mul(cs)
                        .saturating_add(pos % cs);
                    let n = if through {
                        self.source.read_through_at(at, out)?
                    } else {
                        self.source.read_at(at, out)?
                    };
                    out[n..].fill(0);
                }
                None => out.fill(0),
            }
            done += take;
        }
        Ok(want)
    }

    /// Read and parse `count` records from `first` on; unreadable or unparsable ones are
    /// `Err` with the reason (zeroed never-used records are `Ok(None)`).
    pub fn read_records(
        &self,
        first: u64,
        count: u64,
    ) -> Result<Vec<(u64, RecordRead)>, ImageError> {
        let rs = u64::from(self.boot.record_size);
        let count = count.min(self.record_count().saturating_sub(first));
        let mut buf = vec![0u8; (count * rs) as usize];
        let n = self.read_stream(&self.mft, first * rs, &mut buf)?;
        let mut out = Vec::with_capacity(count as usize);
        for (i, chunk) in buf[..n].chunks_mut(rs as usize).enumerate() {
            let number = first + i as u64;
            if chunk.len() < rs as usize {
                break;
            }
            if chunk[..4] == [0, 0, 0, 0] {
                out.push((number, Ok(None)));
                continue;
            }
            let parsed = parse_record(chunk, number, self.boot.bytes_per_sector as usize)
                .map(|(r, _)| Some(r))
                .map_err(|e| e.to_string());
            out.push((number, parsed));
        }
        Ok(out)
    }

    /// Walk every record, reading it in place and mapping it through `f`, on every core:
    /// each takes the next chunk of records, reads it and maps it (so the records are
    /// still in its cache). Returns what `f` kept, in record order, and the read error
    /// that stopped the walk early, if any (chunks after it may have been mapped).
    pub fn map_records<T: Send>(
        &self,
        f: impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync,
    ) -> (Vec<(u64, T)>, Option<ImageError>) {
        use rayon::prelude::*;
        let rs = self.boot.record_size as usize;
        let total = self.record_count();
        let chunks = total.div_ceil(MFT_CHUNK);
        // A buffer per worker, reused from chunk to chunk and never cleared: each read
        // fills what is used of it.
        let len = MFT_CHUNK.min(total) as usize * rs;
        let mapped: Vec<Result<Vec<(u64, T)>, ImageError>> = (0..chunks)
            .into_par_iter()
            .map_init(
                || vec![0u8; len],
                |buf, chunk| {
                    let first = chunk * MFT_CHUNK;
                    let count = MFT_CHUNK.min(total - first) as usize;
                    self.map_chunk_at(&mut buf[..count * rs], first, &f)
                },
            )
            .collect();
        let mut out = Vec::new();
        for chunk in mapped {
            match chunk {
                Ok(kept) => out.extend(kept),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    /// [`Self::map_records`] for the records `numbers` (ascending) only: each run of
    /// listed records close together is read at once (at most [`MFT_CHUNK`] records, a
    /// gap of up to [`LISTED_GAP`] records read through), the runs on every core. `f`
    /// sees the listed records only. A run that cannot be read at all is left out; the
    /// first such error comes back with what the other runs gave.
    pub fn map_listed_records<T: Send>(
        &self,
        numbers: &[u64],
        f: impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync,
    ) -> (Vec<(u64, T)>, Option<ImageError>) {
        use rayon::prelude::*;
        let rs = self.boot.record_size as usize;
        let total = self.record_count();
        let runs = listed_runs(numbers, total);
        let listed = |number: u64, read: RecordSeen<'_>| {
            numbers
                .binary_search(&number)
                .is_ok()
                .then(|| f(number, read))
                .flatten()
        };
        let mapped: Vec<Result<Vec<(u64, T)>, ImageError>> = runs
            .into_par_iter()
            .map_init(Vec::new, |buf: &mut Vec<u8>, (first, count)| {
                let len = count as usize * rs;
                if buf.len() < len {
                    buf.resize(len, 0);
                }
                self.map_chunk_at(&mut buf[..len], first, &listed)
            })
            .collect();
        let (mut out, mut stopped) = (Vec::new(), None);
        for run in mapped {
            match run {
                Ok(kept) => out.extend(kept),
                Err(e) => {
                    stopped.get_or_insert(e);
                }
            }
        }
        (out, stopped)
    }

    /// Read the records of `buf`'s length from record `first` on into `buf` and map
    /// them through `f`. A read error costs only the records it touches (read again one
    /// by one); the error is returned only when not a single record could be read.
    fn map_chunk_at<T>(
        &self,
        buf: &mut [u8],
        first: u64,
        f: &impl Fn(u64, RecordSeen<'_>) -> Option<T>,
    ) -> Result<Vec<(u64, T)>, ImageError> {
        let rs = self.boot.record_size as usize;
        let sector = self.boot.bytes_per_sector as usize;
        // Records whose bytes could not be read (a bad sector): their read error.
        let mut unreadable: Vec<Option<String>> = Vec::new();
        let n = match self.read_stream_by(&self.mft, first * rs as u64, buf, true) {
            Ok(n) => n,
            Err(first_error) => {
                // One bad sector must not cost the chunk, let alone the rest of
                // $MFT: read it again record by record.
                unreadable = vec![None; buf.len() / rs];
                let mut got = 0;
                for (i, record) in buf.chunks_mut(rs).enumerate() {
                    let at = (first + i as u64) * rs as u64;
                    match self.read_stream_by(&self.mft, at, record, true) {
                        Ok(0) => break,
                        Ok(k) => got = i * rs + k,
                        Err(e) => {
                            record.fill(0);
                            unreadable[i] = Some(e.to_string());
                            got = (i + 1) * rs;
                        }
                    }
                }
                if got == 0 {
                    return Err(first_error);
                }
                got
            }
        };
        let whole = &mut buf[..n - n % rs];
        let mut out = Vec::new();
        for (i, record) in whole.chunks_mut(rs).enumerate() {
            let number = first + i as u64;
            let read = record_seen(record, number, sector, &unreadable, i);
            if let Some(t) = f(number, read) {
                out.push((number, t));
            }
        }
        Ok(out)
    }

    pub fn read_record(&self, number: u64) -> RecordRead {
        match self.read_records(number, 1) {
            Ok(mut v) => v.pop().map(|(_, r)| r).unwrap_or(Ok(None)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Records of `$MFT` read at a time by each core in a walk: 1 MiB of 1 KiB records,
/// few enough to be still in the core's cache when they are parsed after the read.
const MFT_CHUNK: u64 = 1024;

/// Listed records further apart than this are read in separate runs.
const LISTED_GAP: u64 = 16;

/// The runs `(first, count)` that cover the records `numbers` (ascending, below
/// `total`): neighbours at most [`LISTED_GAP`] apart share a run, no run longer than
/// [`MFT_CHUNK`] records.
fn listed_runs(numbers: &[u64], total: u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &n in numbers.iter().filter(|&&n| n < total) {
        match runs.last_mut() {
            Some((first, count))
                if n >= *first + *count
                    && n - (*first + *count) < LISTED_GAP
                    && n - *first < MFT_CHUNK =>
            {
                *count = n - *first + 1;
            }
            Some((first, count)) if n < *first + *count => {}
            _ => runs.push((n, 1)),
        }
    }
    runs
}

/// Read the records of one chunk of `$MFT` (`first` is the number of its first record)
/// in place, in parallel, and map each through `f`, in record order. `unreadable[i]`,
/// when given, is why record `i`'s bytes could not be read; zeroed records are
/// never-used.
pub fn map_chunk<T: Send>(
    buf: &mut [u8],
    first: u64,
    record_size: usize,
    sector: usize,
    unreadable: &[Option<String>],
    f: &(impl Fn(u64, RecordSeen<'_>) -> Option<T> + Sync),
) -> Vec<(u64, T)> {
    use rayon::prelude::*;
    buf.par_chunks_mut(record_size)
        .enumerate()
        .filter_map(|(i, chunk)| {
            if chunk.len() < record_size {
                return None;
            }
            let number = first + i as u64;
            let read = record_seen(chunk, number, sector, unreadable, i);
            f(number, read).map(|t| (number, t))
        })
        .collect()
}

/// Record `number` (`i` in its chunk) as a walk meets it: unreadable (when
/// `unreadable[i]` says why), never used (zeroed) or read in place.
fn record_seen<'a>(
    record: &'a mut [u8],
    number: u64,
    sector: usize,
    unreadable: &[Option<String>],
    i: usize,
) -> RecordSeen<'a> {
    if let Some(Some(error)) = unreadable.get(i) {
        Err(format!("unreadable: {error}"))
    } else if record.get(..4) == Some(&[0, 0, 0, 0]) {
        Ok(None)
    } else {
        view_record(record, number, sector)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

impl<S: ImageSource> NtfsVolume<S> {
    /// Read the raw bytes of clusters `first_vcn..first_vcn + count` of a stream, with
    /// the allocated/sparse state of each cluster (no initialized-size handling: for a
    /// compressed stream the sizes speak of the uncompressed data).
    fn raw_clusters(
        &self,
        extent: &Extent,
        first_vcn: u64,
        count: u64,
    ) -> Result<(Vec<u8>, u64), ImageError> {
        let cs = self.boot.cluster_size;
        let mut out = Vec::with_capacity((count * cs) as usize);
        let mut allocated = 0;
        let mut run_start = 0u64;
        for run in &extent.runs {
            let run_end = run_start.saturating_add(run.length);
            let lo = first_vcn.max(run_start);
            let hi = (first_vcn + count).min(run_end);
            if lo < hi
                && let Some(lcn) = run.lcn
            {
                let mut buf = vec![0u8; ((hi - lo) * cs) as usize];
                let at = lcn.saturating_add(lo - run_start).saturating_mul(cs);
                let n = self.source.read_at(at, &mut buf)?;
                buf[n..].fill(0);
                out.extend_from_slice(&buf);
                allocated += hi - lo;
            }
            run_start = run_end;
            if run_start >= first_vcn + count {
                break;
            }
        }
        Ok((out, allocated))
    }

    /// Read bytes of an LZNT1-compressed stream: in units of `unit_clusters` clusters, a
    /// unit with every cluster allocated is stored plain, one with some sparse clusters
    /// holds compressed data, one entirely sparse is zeros.
    ///
    /// Compressed data that cannot be decompressed, or that decompresses to more than
    /// its unit holds (damage, or a decompression bomb), is an `InvalidData` error naming
    /// the unit: never zeros passed off as content, never unbounded output.
    pub fn read_compressed(
        &self,
        extent: &Extent,
        unit_clusters: u64,
        offset: u64,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        if offset >= extent.data_size || unit_clusters == 0 {
            return Ok(0);
        }
        let cs = self.boot.cluster_size;
        let unit_bytes = unit_clusters * cs;
        let want = buf.len().min((extent.data_size - offset) as usize);
        let mut done = 0;
        while done < want {
            let pos = offset + done as u64;
            let unit = pos / unit_bytes;
            let (raw, allocated) =
                self.raw_clusters(extent, unit * unit_clusters, unit_clusters)?;
            let plain = if allocated == unit_clusters || allocated == 0 {
                let mut v = raw;
                v.resize(unit_bytes as usize, 0);
                v
            } else {
                decompress_unit(&raw, unit_bytes as usize).map_err(|why| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "compression unit {unit} (stream offset {}): {why}",
                            unit * unit_bytes
                        ),
                    )
                })?
            };
            let within = (pos - unit * unit_bytes) as usize;
            let take = (want - done).min(plain.len().saturating_sub(within));
            if take == 0 {
                break;
            }
            buf[done..done + take].copy_from_slice(&plain[within..within + take]);
            done += take;
        }
        Ok(done)
    }
}

/// Decompress one compression unit, chunk by chunk. An LZNT1 chunk holds at most
/// 4 KiB and the unit at most `unit_bytes`: more is damage or a decompression bomb and
/// is refused, as is a chunk that does not decompress or runs past the unit's clusters.
/// A zero chunk header ends the data; the rest of the unit is zeros.
fn decompress_unit(raw: &[u8], unit_bytes: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(unit_bytes);
    let mut at = 0;
    while let Some(header) = u16_le(raw, at) {
        if header == 0 {
            break;
        }
        if out.len() >= unit_bytes {
            return Err(format!(
                "more chunks after the unit's {unit_bytes} bytes are full: refused (damage or \
                 a decompression bomb)"
            ));
        }
        let size = usize::from(header & 0x0FFF) + 1;
        let chunk = raw.get(at..at + 2 + size).ok_or_else(|| {
            format!("LZNT1 chunk at unit offset {at} runs past the unit's clusters")
        })?;
        let mut piece = Vec::with_capacity(4096);
        lznt1::decompress(chunk, &mut piece)
            .map_err(|e| format!("LZNT1 chunk at unit offset {at} does not decompress: {e:?}"))?;
        if piece.len() > 4096 {
            return Err(format!(
                "LZNT1 chunk at unit offset {at} decompresses to {} bytes, more than the 4096 \
                 a chunk holds: refused (damage or a decompression bomb)",
                piece.len()
            ));
        }
        if out.len() + piece.len() > unit_bytes {
            return Err(format!(
                "the unit's data decompresses to more than its {unit_bytes} bytes: refused \
                 (damage or a decompression bomb)"
            ));
        }
        out.extend_from_slice(&piece);
        at += 2 + size;
    }
    out.resize(unit_bytes, 0);
    Ok(out)
}

/// A stream of a file as `Read`.
pub struct StreamReader<'v, S: ImageSource> {
    volume: &'v NtfsVolume<S>,
    extent: Extent,
    /// Clusters per compression unit, for an LZNT1-compressed stream.
    compression_unit: Option<u64>,
    pos: u64,
}

impl<'v, S: ImageSource> StreamReader<'v, S> {
    pub fn new(volume: &'v NtfsVolume<S>, extent: Extent) -> Self {
        StreamReader {
            volume,
            extent,
            compression_unit: None,
            pos: 0,
        }
    }

    /// A compressed stream with units of `2^exponent` clusters.
    pub fn compressed(volume: &'v NtfsVolume<S>, extent: Extent, exponent: u8) -> Self {
        let unit = 1u64.checked_shl(u32::from(exponent)).unwrap_or(16);
        StreamReader {
            volume,
            extent,
            compression_unit: Some(unit),
            pos: 0,
        }
    }
}

impl<S: ImageSource> Read for StreamReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.compression_unit {
            Some(unit) => self
                .volume
                .read_compressed(&self.extent, unit, self.pos, buf)?,
            None => self.volume.read_stream(&self.extent, self.pos, buf)?,
        };
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::{LISTED_GAP, MFT_CHUNK, decompress_unit, listed_runs};

    #[test]
    fn listed_records_close_together_share_a_run() {
        // 3..=9 in one run (gaps under LISTED_GAP), 100 alone, 5000 past the end.
        let runs = listed_runs(&[3, 4, 9, 9, 100, 5000], 4000);
        assert_eq!(runs, vec![(3, 7), (100, 1)]);
        // A gap of exactly LISTED_GAP records starts a new run.
        let far = 10 + LISTED_GAP + 1;
        assert_eq!(listed_runs(&[10, far], 1 << 20), vec![(10, 1), (far, 1)]);
        // No run longer than a chunk.
        let dense: Vec<u64> = (0..MFT_CHUNK + 5).collect();
        let runs = listed_runs(&dense, 1 << 20);
        assert_eq!(runs, vec![(0, MFT_CHUNK), (MFT_CHUNK, 5)]);
        assert!(listed_runs(&[], 10).is_empty());
    }

    /// An LZNT1 chunk stored uncompressed: header 0x3FFF (size 4096, flag clear).
    fn plain_chunk(byte: u8) -> Vec<u8> {
        let mut chunk = vec![0xFF, 0x3F];
        chunk.extend(std::iter::repeat_n(byte, 4096));
        chunk
    }

    #[test]
    fn a_unit_decompresses_chunk_by_chunk_and_ends_at_a_zero_header() {
        let mut raw = plain_chunk(b'a');
        raw.extend(plain_chunk(b'b'));
        raw.extend([0, 0, 0xAA, 0xBB]);
        let out = decompress_unit(&raw, 4 * 4096).unwrap();
        assert_eq!(out.len(), 4 * 4096);
        assert!(out[..4096].iter().all(|&b| b == b'a'));
        assert!(out[4096..8192].iter().all(|&b| b == b'b'));
        assert!(out[8192..].iter().all(|&b| b == 0));
    }

    /// A compressed chunk of 6 bytes that expands to 4096: 'x' then a back-reference
    /// (offset 1, length 4095).
    const TINY_TO_4K: [u8; 6] = [0x03, 0xB0, 0x02, b'x', 0xFC, 0x0F];

    #[test]
    fn more_data_than_the_unit_holds_is_refused() {
        assert_eq!(
            decompress_unit(&TINY_TO_4K, 4096).unwrap(),
            vec![b'x'; 4096]
        );
        // 18 bytes of clusters claiming 12 KiB in an 8 KiB unit.
        let raw: Vec<u8> = TINY_TO_4K.repeat(3);
        let err = decompress_unit(&raw, 2 * 4096).unwrap_err();
        assert!(err.contains("decompression bomb"), "{err}");
    }

    #[test]
    fn a_chunk_past_the_clusters_or_undecodable_is_refused() {
        let mut raw = plain_chunk(b'x');
        raw.truncate(1000);
        let err = decompress_unit(&raw, 4096).unwrap_err();
        assert!(err.contains("runs past"), "{err}");
        // A compressed chunk (flag set) whose tokens point before its start.
        let bad = [0x05, 0xB0, 0x02, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(decompress_unit(&bad, 4096).is_err());
    }
}
