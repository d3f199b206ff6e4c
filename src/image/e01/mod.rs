//! E01 (EWF) images: all the segments of a set read through the `ewf` crate, with the
//! EWF v1 checksums the crate skips checked here and one run of missing segments read
//! around.

mod chunk;
mod media_hash;
mod missing;
mod naming;
mod read_ahead;
pub(super) mod sections;
mod verify;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};

pub use media_hash::{Agreement, MediaHashes};
use missing::{SegmentGap, SegmentSlot, missing_runs, placeholder_segment};
use sections::{
    EVF_SIGNATURE, EVF2_SIGNATURE, LEF2_SIGNATURE, LVF_SIGNATURE, SegmentWalk, TableSection,
    read_head, v1_segment_number, walk_v1_segment,
};

use super::file::open_sized;
use super::source::{ImageError, ImageSource, clamp_len};

/// Call into the `ewf` crate, turning a panic on data it did not expect (a malformed
/// image) into an error message like its own errors: no input may bring the scan down.
fn guarded<T>(call: impl FnOnce() -> ewf::Result<T>) -> Result<T, String> {
    match crate::guard::call(call) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(what) => Err(format!("malformed EWF data ({what})")),
    }
}

/// Largest E01 chunk accepted (EnCase and ewfacquire write 32 KiB; the format allows
/// more, nothing real comes near this).
const MAX_EWF_CHUNK: u64 = 64 << 20;

/// An Expert Witness image (E01, or EWF2 Ex01) with all its segments, read through the
/// `ewf` crate.
///
/// Completeness is checked when opening, because the crate alone does not handle an
/// incomplete set well: it finds segments by name and refuses a numbering gap (as bare
/// numbers), and with the *last* segments missing it opens fine and fails only when a
/// read reaches the missing chunks. Here the segments are listed by name (`.E01`..`.E99`,
/// `.EAA`..`.EZZ`, `.FAA`..); the last one present must close with a `done` section (a
/// `next` section means more segments followed). One run of missing segments after the
/// first is read around (see `EwfImage::from_slots`); anything else missing is
/// [`ImageError::MissingSegment`] naming the file. The chunk table must cover the media
/// size.
///
/// Damage: the crate (0.4.10) checks none of the EWF v1 checksums. It reports a chunk
/// whose deflate stream does not decode, but it stops inflating once a chunk's worth of
/// bytes is out, so the stream's Adler-32 is never checked; it ignores the Adler-32 stored
/// after an uncompressed chunk; and it trusts section descriptors and chunk tables, so a
/// damaged entry count shifts every later chunk onto another chunk's (valid) data. So,
/// for EWF v1:
/// - opening checks every section descriptor's and table header's Adler-32 (an
///   [`ImageError::Ewf`] naming the segment and offset);
/// - before a chunk is first used, the entries of its chunk table and the chunk itself
///   are checked against their stored Adler-32 (for a compressed chunk, the zlib trailer
///   that ends its bytes); a mismatch is an [`ImageError::EwfRead`] at the chunk's offset.
///   [`EwfImage::set_verify_checksums`] turns this per-chunk check off.
///
/// With the check on, a chunk is read straight from its segment (`chunk`): one read of
/// its stored bytes, inflated once to the end of its zlib stream (so zlib checks the
/// trailer), into the caller's buffer when the read covers the chunk, runs of whole
/// chunks on every core. What that path does not find exactly right goes the slow way
/// (`verify`, through the crate), which gives the error.
///
/// EWF2 (Ex01) is read as the crate reads it, without these checks. A panic inside the
/// crate on malformed data (it has one on a forged table base offset) becomes an error.
pub struct EwfImage {
    reader: ewf::EwfReader,
    /// The first segment, named in errors.
    path: PathBuf,
    /// Every segment of the set in order, a missing one under the name it would have.
    segments: Vec<PathBuf>,
    /// Our own handles on the segments present, for reading chunk checksums (EWF v1
    /// only); `None` for a missing segment.
    segment_files: Vec<Option<File>>,
    /// Chunks that were in missing segments: reads there fail, the rest is read.
    gaps: Vec<SegmentGap>,
    v2: bool,
    size: u64,
    chunk_size: u64,
    /// Check each chunk's Adler-32 before its first use (EWF v1).
    verify: bool,
    /// One bit per chunk: checked and found good.
    verified: Vec<AtomicU64>,
    /// The chunk tables in chunk order, and whether each one's entries were checked.
    tables: Vec<TableSection>,
    tables_verified: Vec<AtomicBool>,
    /// Chunks inflated ahead of a sequential reader.
    ahead: read_ahead::Window,
}

impl EwfImage {
    /// Open the E01 that `path` (any of its segments) belongs to, with all its segments.
    pub fn open(path: &Path) -> Result<EwfImage, ImageError> {
        let head = read_head(path)?;
        let sig = head.get(..8).unwrap_or_default();
        let v2 = sig == EVF2_SIGNATURE;
        if sig == LVF_SIGNATURE || sig == LEF2_SIGNATURE {
            return Err(ImageError::Unsupported {
                path: path.to_path_buf(),
                message: "an L01 logical evidence file holds files, not a disk image".into(),
            });
        }
        if !v2 && sig != EVF_SIGNATURE {
            return Err(ImageError::Ewf {
                path: path.to_path_buf(),
                message: "no EWF signature".into(),
            });
        }
        let slots = Self::discover(path, v1_segment_number(&head))?;
        Self::from_slots(slots)
    }

    /// Open the given segment files (all of them, in order).
    pub fn from_paths(paths: &[PathBuf]) -> Result<EwfImage, ImageError> {
        Self::from_slots(paths.iter().map(|p| SegmentSlot::present(p)).collect())
    }

    /// Open a set of segments, some perhaps missing. EWF v1 can do without one run of
    /// missing segments (in the middle or at the end) when the first segment is there:
    /// its volume section gives the chunk count, so the missing run held exactly the
    /// chunks the others do not, and every later chunk keeps its place. The crate gets a
    /// stand-in for each missing segment ([`placeholder_segment`]); reads of the missing
    /// chunks fail with [`ImageError::InMissingSegment`] before they reach it.
    fn from_slots(mut slots: Vec<SegmentSlot>) -> Result<EwfImage, ImageError> {
        let Some(first) = slots.first().cloned() else {
            return Err(ImageError::Ewf {
                path: PathBuf::new(),
                message: "no segment files".into(),
            });
        };
        if !first.present {
            // The first segment holds the volume section: nothing can be placed.
            return Err(ImageError::MissingSegment {
                expected: first.path,
            });
        }
        let first = first.path;
        let ewf_err = |message: String| ImageError::Ewf {
            path: first.clone(),
            message,
        };
        let head = read_head(&first)?;
        let v2 = head.get(..8) == Some(&EVF2_SIGNATURE[..]);
        if v2 {
            if let Some(missing) = slots.iter().find(|s| !s.present) {
                return Err(ImageError::MissingSegment {
                    expected: missing.path.clone(),
                });
            }
            let paths: Vec<PathBuf> = slots.iter().map(|s| s.path.clone()).collect();
            // The crate reads EWF2 from paths only.
            let reader = guarded(|| ewf::EwfReader::open_segments(&paths)).map_err(ewf_err)?;
            return Self::checked(reader, slots, Vec::new(), Vec::new(), Vec::new(), true);
        }

        // Walk every segment present: numbering, section checksums, chunk tables.
        let mut walks: Vec<Option<(File, File, SegmentWalk)>> = Vec::with_capacity(slots.len());
        for (i, slot) in slots.iter().enumerate() {
            if !slot.present {
                walks.push(None);
                continue;
            }
            let path = &slot.path;
            let head = read_head(path)?;
            let number = v1_segment_number(&head).ok_or_else(|| ImageError::Ewf {
                path: path.clone(),
                message: "segment file has no EWF signature".into(),
            })?;
            if u32::try_from(i + 1).ok() != Some(number) {
                return Err(ImageError::Ewf {
                    path: path.clone(),
                    message: format!(
                        "segment file {} of the set says it is segment {number}",
                        i + 1
                    ),
                });
            }
            let (file, len) = open_sized(path)?;
            let own = file.try_clone().map_err(|source| ImageError::Open {
                path: path.clone(),
                source,
            })?;
            let walk = walk_v1_segment(&own, len, path)?;
            walks.push(Some((file, own, walk)));
        }
        // A last segment closing with `next`: more segments followed.
        if let (Some(slot), Some(Some((_, _, walk)))) = (slots.last(), walks.last())
            && walk.last.as_deref() == Some("next")
        {
            let number = u32::try_from(slots.len()).unwrap_or(u32::MAX);
            match Self::next_missing(&slot.path, number) {
                ImageError::MissingSegment { expected } => {
                    slots.push(SegmentSlot {
                        path: expected,
                        present: false,
                    });
                    walks.push(None);
                }
                other => return Err(other),
            }
        }
        let runs = missing_runs(&slots);
        let missing_chunks = match runs.as_slice() {
            [] => 0,
            [run] => Self::chunks_of_missing_run(&slots, &walks, run)?,
            [_, second, ..] => {
                return Err(ImageError::Ewf {
                    path: first.clone(),
                    message: format!(
                        "segments are missing in more than one place (also {}): the chunks                          between the gaps cannot be placed",
                        slots[second.start].path.display()
                    ),
                });
            }
        };

        let mut sources = Vec::with_capacity(slots.len());
        let mut segment_files = Vec::with_capacity(slots.len());
        let mut tables = Vec::new();
        let mut gaps = Vec::new();
        let mut next_chunk = 0u64;
        for (i, walk) in walks.into_iter().enumerate() {
            match walk {
                Some((file, own, walk)) => {
                    for (entries_offset, count, has_checksum) in walk.tables {
                        tables.push(TableSection {
                            first_chunk: next_chunk,
                            count,
                            segment: i,
                            entries_offset,
                            has_checksum,
                        });
                        next_chunk = next_chunk.saturating_add(count);
                    }
                    segment_files.push(Some(own));
                    sources.push(ewf::SegmentSource::File(file));
                }
                None => {
                    // The whole run's chunks go to its first segment's stand-in.
                    let run_start = runs.first().is_some_and(|r| r.start == i);
                    let count = if run_start { missing_chunks } else { 0 };
                    if run_start {
                        gaps.push(SegmentGap {
                            first_chunk: next_chunk,
                            count,
                            segments: runs[0].clone().map(|j| slots[j].path.clone()).collect(),
                        });
                        next_chunk = next_chunk.saturating_add(count);
                    }
                    let number = u16::try_from(i + 1)
                        .map_err(|_| ewf_err(format!("segment number {} out of range", i + 1)))?;
                    segment_files.push(None);
                    sources.push(ewf::SegmentSource::Mem(
                        placeholder_segment(number, count).into(),
                    ));
                }
            }
        }
        // The lazy chunk table keeps table sections paged instead of ~32 bytes per
        // chunk resident (1 GiB for a 1 TB image); the bytes read are the same.
        let reader =
            guarded(|| ewf::EwfReader::open_lazy_from_sources(sources)).map_err(ewf_err)?;
        Self::checked(reader, slots, segment_files, tables, gaps, false)
    }

    /// The checks on sizes the evidence declares, then the image.
    fn checked(
        reader: ewf::EwfReader,
        slots: Vec<SegmentSlot>,
        segment_files: Vec<Option<File>>,
        tables: Vec<TableSection>,
        gaps: Vec<SegmentGap>,
        v2: bool,
    ) -> Result<EwfImage, ImageError> {
        let first = slots[0].path.clone();
        let size = reader.total_size();
        let chunk_size = reader.chunk_size();
        // Sizes from the evidence bound what is allocated: a chunk buffer (and each
        // decompressed chunk) is `chunk_size`; per-chunk bookkeeping is the chunks the
        // segments present list.
        if chunk_size == 0 || chunk_size > MAX_EWF_CHUNK {
            return Err(ImageError::Ewf {
                path: first.clone(),
                message: format!(
                    "chunk size {chunk_size} bytes is not plausible (EnCase writes 32 KiB, at \
                     most {MAX_EWF_CHUNK}): refused"
                ),
            });
        }
        let stored: u64 = slots
            .iter()
            .filter(|s| s.present)
            .filter_map(|s| std::fs::metadata(&s.path).ok())
            .map(|m| m.len())
            .sum();
        let in_gaps: u64 = gaps.iter().map(|g| g.count).sum();
        let listed = (reader.chunk_count() as u64).saturating_sub(in_gaps);
        // Every chunk needs at least a 4-byte table entry somewhere in the segments.
        if listed > stored / 4 {
            return Err(ImageError::Ewf {
                path: first.clone(),
                message: format!(
                    "{} chunks declared, more than {stored} bytes of segments can hold",
                    reader.chunk_count()
                ),
            });
        }
        let covered = (reader.chunk_count() as u64).saturating_mul(chunk_size);
        if covered < size {
            let last = slots.last().map_or(&first, |s| &s.path);
            return Err(ImageError::Ewf {
                path: first.clone(),
                message: format!(
                    "chunk table covers {covered} of {size} bytes: segments after {} may \
                     be missing",
                    last.display()
                ),
            });
        }
        // The bitmap of checked chunks reaches the last chunk present (a run missing at
        // the end costs nothing, whatever count the volume declares).
        let present_end = if gaps.is_empty() {
            reader.chunk_count() as u64
        } else {
            tables
                .iter()
                .map(|t| t.first_chunk + t.count)
                .max()
                .unwrap_or(0)
        };
        let words = usize::try_from(present_end.div_ceil(64)).unwrap_or(usize::MAX);
        Ok(EwfImage {
            reader,
            path: first,
            segments: slots.into_iter().map(|s| s.path).collect(),
            segment_files,
            gaps,
            v2,
            size,
            chunk_size: chunk_size.max(1),
            verify: !v2,
            verified: (0..words).map(|_| AtomicU64::new(0)).collect(),
            tables_verified: tables.iter().map(|_| AtomicBool::new(false)).collect(),
            ahead: read_ahead::Window::default(),
            tables,
        })
    }

    /// Check chunk checksums before use (the default for EWF v1), or not.
    pub fn set_verify_checksums(&mut self, verify: bool) {
        self.verify = verify && !self.v2;
    }

    /// The segment files present, in order.
    pub fn segment_paths(&self) -> Vec<PathBuf> {
        if self.v2 {
            // EWF2 opens only complete sets, read through the crate's own handles.
            return self.segments.clone();
        }
        self.segments
            .iter()
            .zip(&self.segment_files)
            .filter(|(_, file)| file.is_some())
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The underlying reader, for metadata, stored hashes and acquisition errors.
    pub fn reader(&self) -> &ewf::EwfReader {
        &self.reader
    }

    /// Read `dest.len()` bytes at `pos`, all inside `chunk`: its checksums checked
    /// first, a chunk of a missing segment an error naming the segment.
    pub(super) fn read_in_chunk(
        &self,
        chunk: u64,
        pos: u64,
        dest: &mut [u8],
    ) -> Result<(), ImageError> {
        if let Some(gap) = self.gap_of(chunk) {
            return Err(ImageError::InMissingSegment {
                segment: gap.segments.first().cloned().unwrap_or_default(),
                offset: pos,
            });
        }
        let start = chunk.saturating_mul(self.chunk_size);
        let at = usize::try_from(pos - start).unwrap_or(0);
        let verified = self.is_verified(chunk);
        // A chunk read whole is inflated once, straight into `dest`, checked or not yet;
        // part of one checked already comes through the crate's cache of chunks.
        let whole =
            at == 0 && dest.len() as u64 == self.chunk_size.min(self.size.saturating_sub(start));
        if self.verify && (whole || !verified) && self.read_direct(chunk, at, dest)? {
            return Ok(());
        }
        if self.verify && !verified {
            let page = self.verify_chunk(chunk)?;
            if let Some(src) = page.get(at..at.saturating_add(dest.len())) {
                dest.copy_from_slice(src);
                return Ok(());
            }
        }
        let n = dest.len();
        let got =
            guarded(|| self.reader.read_at(dest, pos)).map_err(|message| ImageError::EwfRead {
                path: self.path.clone(),
                offset: pos,
                message,
            })?;
        if got < n {
            return Err(ImageError::EwfRead {
                path: self.path.clone(),
                offset: pos.saturating_add(got as u64),
                message: format!("short read: {got} of {n} bytes"),
            });
        }
        Ok(())
    }
}

impl ImageSource for EwfImage {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, ImageError> {
        let want = clamp_len(buf.len(), self.size.saturating_sub(offset));
        let mut done = 0usize;
        // Chunk by chunk, so an error names the chunk that failed; a run of whole chunks is
        // inflated straight into `buf` on every core, a sequential reader's other chunks
        // come from the read-ahead window.
        while done < want {
            let pos = offset.saturating_add(done as u64);
            let in_chunk = self.chunk_size - pos % self.chunk_size;
            let n = clamp_len(want - done, in_chunk);
            let chunk = pos / self.chunk_size;
            let whole = self.whole_chunks(pos, want - done);
            if whole > n
                && let Some(run) = buf.get_mut(done..done + whole)
            {
                self.read_whole_chunks(chunk, run)?;
                done += whole;
                continue;
            }
            let Some(dest) = buf.get_mut(done..done + n) else {
                break;
            };
            if !self.read_ahead(chunk, pos % self.chunk_size, dest)? {
                self.read_in_chunk(chunk, pos, dest)?;
            }
            done += n;
        }
        Ok(done)
    }

    fn describe(&self) -> String {
        let n = self.segments.len();
        let missing: usize = self.gaps.iter().map(|g| g.segments.len()).sum();
        format!(
            "{} ({n} segment{}{})",
            if self.v2 { "Ex01" } else { "E01" },
            if n == 1 { "" } else { "s" },
            if missing > 0 {
                format!(", {missing} missing")
            } else {
                String::new()
            }
        )
    }

    fn files(&self) -> Vec<PathBuf> {
        self.segment_paths().to_vec()
    }

    fn known_gaps(&self) -> Vec<(String, String)> {
        self.gaps
            .iter()
            .map(|gap| {
                let names: Vec<String> = gap
                    .segments
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                let start = gap.first_chunk.saturating_mul(self.chunk_size);
                let end = (gap.first_chunk + gap.count)
                    .saturating_mul(self.chunk_size)
                    .min(self.size);
                let what = if gap.count == 0 || start >= end {
                    "missing, but it held none of the image's data (the other segments hold \
                     every chunk): nothing is lost"
                        .to_string()
                } else {
                    format!(
                        "missing: image bytes {start}..{end} ({} chunks) cannot be read; the \
                         rest of the image is scanned, and what lies there is named in warnings \
                         as reads fail",
                        gap.count
                    )
                };
                (format!("segment {}", names.join(", ")), what)
            })
            .collect()
    }
}
