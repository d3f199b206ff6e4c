//! An NTFS volume on an image source: the boot sector, $MFT's own data runs, records
//! read sequentially in large chunks, and non-resident streams read through their runs
//! (sparse runs and bytes past the initialized size read as zeros).

use std::io::{self, Read};

use super::record::{AttrBody, BootSector, MftRecord, NtfsError, Run, parse_record};
use crate::image::source::{ImageError, ImageSource};

/// Most records read in one go while walking $MFT.
const RECORDS_PER_CHUNK: u64 = 256;

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

pub struct NtfsVolume<S: ImageSource> {
    source: S,
    pub boot: BootSector,
    mft: Extent,
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
        Ok(NtfsVolume { source, boot, mft })
    }

    /// Records in $MFT (by its data size).
    pub fn record_count(&self) -> u64 {
        self.mft.data_size / u64::from(self.boot.record_size)
    }

    /// Read bytes of a stream at `offset` into `buf`; returns bytes read (short at the
    /// stream's end). Sparse runs and bytes past the initialized size are zeros.
    pub fn read_stream(
        &self,
        extent: &Extent,
        offset: u64,
        buf: &mut [u8],
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
                    Some(r) if vcn >= run_start_vcn + r.length => {
                        run_start_vcn += r.length;
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
            let run_end = (run_start_vcn + run.length).saturating_mul(cs);
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
                    let n = self.source.read_at(at, out)?;
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

    /// Walk every record in order, in chunks.
    pub fn for_each_record(&self, mut f: impl FnMut(u64, RecordRead)) -> Result<(), ImageError> {
        let total = self.record_count();
        let mut next = 0;
        while next < total {
            for (n, r) in self.read_records(next, RECORDS_PER_CHUNK)? {
                f(n, r);
            }
            next += RECORDS_PER_CHUNK;
        }
        Ok(())
    }

    pub fn read_record(&self, number: u64) -> RecordRead {
        match self.read_records(number, 1) {
            Ok(mut v) => v.pop().map(|(_, r)| r).unwrap_or(Ok(None)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A stream of a file as `Read`.
pub struct StreamReader<'v, S: ImageSource> {
    volume: &'v NtfsVolume<S>,
    extent: Extent,
    pos: u64,
}

impl<'v, S: ImageSource> StreamReader<'v, S> {
    pub fn new(volume: &'v NtfsVolume<S>, extent: Extent) -> Self {
        StreamReader {
            volume,
            extent,
            pos: 0,
        }
    }
}

impl<S: ImageSource> Read for StreamReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self
            .volume
            .read_stream(&self.extent, self.pos, buf)
            .map_err(io::Error::from)?;
        self.pos += n as u64;
        Ok(n)
    }
}
