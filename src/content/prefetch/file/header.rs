//! The file header (84 bytes) and the file information that follows it (68 to 220
//! bytes by version): where the sections are, the run count and the last run times.
//!
//! Offsets are those of the libscca format document ("Windows Prefetch File (PF)
//! format"): header at 0 (version, `SCCA`, an unknown value, stated size, executable
//! name of 60 bytes at 16, hash at 76, flags at 80), file information at 84.

use crate::bytes::{bytes_eq, u32_le, u64_le, utf16_until_nul};

use super::super::PrefetchError;

/// Size of the file header; the file information starts here.
pub const HEADER_SIZE: usize = 84;

/// What the header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub stated_size: u32,
    pub executable: String,
    pub hash: u32,
}

/// The two layouts of version 30's file information (libscca's "variant 1" and
/// "variant 2"), told apart by the metrics array offset (0x130 and 0x128), which
/// is where the file information ends.
const V30_VARIANT1_METRICS: u32 = 0x130;
const V30_VARIANT2_METRICS: u32 = 0x128;

/// Where each version keeps what the file information says, relative to its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Size of the file information.
    pub size: usize,
    /// Offset of the first last-run FILETIME and how many there are.
    pub last_runs_at: usize,
    pub last_runs: usize,
    pub run_count_at: usize,
    /// Size of one file metrics entry and where its filename offset is.
    pub metrics_entry_size: usize,
    pub metrics_name_at: usize,
    /// Size of one trace chain entry.
    pub trace_entry_size: usize,
    /// Size of one volume information entry.
    pub volume_entry_size: usize,
}

const V17: Layout = Layout {
    size: 68,
    last_runs_at: 36,
    last_runs: 1,
    run_count_at: 60,
    metrics_entry_size: 20,
    metrics_name_at: 8,
    trace_entry_size: 12,
    volume_entry_size: 40,
};

const V23: Layout = Layout {
    size: 156,
    last_runs_at: 44,
    last_runs: 1,
    run_count_at: 68,
    metrics_entry_size: 32,
    metrics_name_at: 12,
    trace_entry_size: 12,
    volume_entry_size: 104,
};

const V26: Layout = Layout {
    size: 220,
    last_runs_at: 44,
    last_runs: 8,
    run_count_at: 124,
    ..V23
};

const V30_1: Layout = Layout {
    trace_entry_size: 8,
    volume_entry_size: 96,
    ..V26
};

const V30_2: Layout = Layout {
    size: 212,
    run_count_at: 116,
    ..V30_1
};

/// The file information: section offsets, counts and sizes as stored (unchecked), the
/// run count and the last run slots as stored (zeros kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInformation {
    pub layout: Layout,
    pub metrics_offset: u32,
    pub metrics_count: u32,
    pub trace_offset: u32,
    pub trace_count: u32,
    pub strings_offset: u32,
    pub strings_size: u32,
    pub volumes_offset: u32,
    pub volumes_count: u32,
    pub volumes_size: u32,
    pub run_count: u32,
    pub last_run_slots: Vec<u64>,
}

fn truncated(offset: usize, what: &'static str, needed: usize, b: &[u8]) -> PrefetchError {
    PrefetchError::Truncated {
        offset: offset as u64,
        what,
        needed,
        available: b.len().saturating_sub(offset),
    }
}

/// Reads the 84-byte header: no `SCCA` at 4 is [`PrefetchError::NotPrefetch`], a version
/// Windows did not write is [`PrefetchError::UnknownVersion`].
pub fn read_header(b: &[u8]) -> Result<Header, PrefetchError> {
    if !bytes_eq(b, 4, b"SCCA") {
        return Err(PrefetchError::NotPrefetch);
    }
    let version = u32_le(b, 0).unwrap_or(0);
    if !matches!(version, 17 | 23 | 26 | 30 | 31) {
        return Err(PrefetchError::UnknownVersion { version });
    }
    let head = b
        .get(..HEADER_SIZE)
        .ok_or_else(|| truncated(0, "file header", HEADER_SIZE, b))?;
    Ok(Header {
        version,
        stated_size: u32_le(head, 12).unwrap_or(0),
        executable: utf16_until_nul(&head[16..76]),
        hash: u32_le(head, 76).unwrap_or(0),
    })
}

/// The layout of `version`'s file information; version 30 has two, told apart by the
/// metrics array offset (version 31 is laid out as version 30's second variant).
fn layout(version: u32, metrics_offset: Option<u32>) -> Result<Layout, PrefetchError> {
    match version {
        17 => Ok(V17),
        23 => Ok(V23),
        26 => Ok(V26),
        31 => Ok(V30_2),
        _ => match metrics_offset {
            Some(V30_VARIANT1_METRICS) => Ok(V30_1),
            Some(V30_VARIANT2_METRICS) => Ok(V30_2),
            Some(other) => Err(PrefetchError::Bad {
                offset: HEADER_SIZE as u64,
                what: "version 30 file information",
                detail: format!(
                    "metrics array offset {other:#x} is neither 0x128 nor 0x130, \
                     so the layout (and the run count's place) is unknown"
                ),
            }),
            None => Err(PrefetchError::Truncated {
                offset: HEADER_SIZE as u64,
                what: "file information",
                needed: 4,
                available: 0,
            }),
        },
    }
}

/// Reads the file information after the header of `version`.
pub fn read_file_information(b: &[u8], version: u32) -> Result<FileInformation, PrefetchError> {
    let layout = layout(version, u32_le(b, HEADER_SIZE))?;
    let fi = b
        .get(HEADER_SIZE..HEADER_SIZE + layout.size)
        .ok_or_else(|| truncated(HEADER_SIZE, "file information", layout.size, b))?;
    let word = |at: usize| u32_le(fi, at).unwrap_or(0);
    let last_run_slots = (0..layout.last_runs)
        .map(|i| u64_le(fi, layout.last_runs_at + 8 * i).unwrap_or(0))
        .collect();
    Ok(FileInformation {
        layout,
        metrics_offset: word(0),
        metrics_count: word(4),
        trace_offset: word(8),
        trace_count: word(12),
        strings_offset: word(16),
        strings_size: word(20),
        volumes_offset: word(24),
        volumes_count: word(28),
        volumes_size: word(32),
        run_count: word(layout.run_count_at),
        last_run_slots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(version: u32, len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len.max(84)];
        b[..4].copy_from_slice(&version.to_le_bytes());
        b[4..8].copy_from_slice(b"SCCA");
        for (i, u) in "CMD.EXE".encode_utf16().enumerate() {
            b[16 + 2 * i..18 + 2 * i].copy_from_slice(&u.to_le_bytes());
        }
        b[76..80].copy_from_slice(&0x087b_4001u32.to_le_bytes());
        b.truncate(len);
        b
    }

    #[test]
    fn header_fields_and_refusals() {
        let h = read_header(&header(17, 84)).unwrap();
        assert_eq!(
            (h.version, h.executable.as_str(), h.hash),
            (17, "CMD.EXE", 0x087b_4001)
        );
        assert_eq!(read_header(b"MAM\x04"), Err(PrefetchError::NotPrefetch));
        assert_eq!(
            read_header(&header(18, 84)),
            Err(PrefetchError::UnknownVersion { version: 18 })
        );
        assert!(matches!(
            read_header(&header(23, 60)),
            Err(PrefetchError::Truncated {
                needed: 84,
                available: 60,
                ..
            })
        ));
    }

    #[test]
    fn run_count_place_by_version_and_variant() {
        for (version, metrics, run_at, size) in [
            (17u32, 0x98u32, 84 + 60, 68),
            (23, 0xf0, 84 + 68, 156),
            (26, 0x130, 84 + 124, 220),
            (30, 0x130, 84 + 124, 220),
            (30, 0x128, 84 + 116, 212),
            (31, 0x128, 84 + 116, 212),
        ] {
            let mut b = header(version, 84 + size);
            b[84..88].copy_from_slice(&metrics.to_le_bytes());
            b[run_at..run_at + 4].copy_from_slice(&7u32.to_le_bytes());
            let fi = read_file_information(&b, version).unwrap();
            assert_eq!(fi.run_count, 7, "version {version} metrics {metrics:#x}");
            assert!(read_file_information(&b[..b.len() - 1], version).is_err());
        }
        let mut b = header(30, 84 + 220);
        b[84..88].copy_from_slice(&0x140u32.to_le_bytes());
        assert!(matches!(
            read_file_information(&b, 30),
            Err(PrefetchError::Bad { .. })
        ));
    }
}
