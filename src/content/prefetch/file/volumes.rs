//! The volumes information section: an array of volume entries (40 bytes in version 17,
//! 104 in 23 and 26, 96 from 30 on) followed by the data they point into. Each entry
//! holds, relative to the start of the section: the device path offset and its length in
//! characters, the volume's creation FILETIME (at 8), its serial number (at 16), the file
//! references offset and size (at 20, 24) and the directory strings offset and count (at
//! 28, 32). A directory string is a u16 character count, the UTF-16LE characters and a
//! NUL unit.

use crate::bytes::{u16_le, u32_le, u64_le, utf16_at};

use super::super::{Problem, Volume};
use super::header::FileInformation;
use super::{Section, SectionName, bounded_section};

/// Reads every volume entry the section holds; damage is a problem, and a volume whose
/// path or directories cannot be read is kept with what could be.
pub fn read(b: &[u8], fi: &FileInformation, problems: &mut Vec<Problem>) -> Vec<Volume> {
    let start = fi.volumes_offset as usize;
    let size = fi.volumes_size as usize;
    let count = fi.volumes_count as usize;
    if count == 0 {
        return Vec::new();
    }
    let named = SectionName {
        name: "volumes information",
        runs: "runs",
        field_offset: super::FILE_INFO_FIELD_VOLUMES,
        lost: "no volumes",
    };
    let Some(Section { bytes: section, .. }) = bounded_section(b, start, size, &named, problems)
    else {
        return Vec::new();
    };
    let entry_size = fi.layout.volume_entry_size;
    let mut volumes = Vec::new();
    for i in 0..count {
        let at = i * entry_size;
        let Some(entry) = section.get(at..at + entry_size) else {
            problems.push(Problem {
                offset: (start + at) as u64,
                what: format!(
                    "volume entry {} of {count} ({entry_size} bytes) is past the end of the \
                     volumes information ({} bytes)",
                    i + 1,
                    section.len()
                ),
            });
            break;
        };
        let word = |o: usize| u32_le(entry, o).unwrap_or(0) as usize;
        let path_offset = word(0);
        let path_chars = word(4);
        let device_path = utf16_at(section, path_offset, path_chars).unwrap_or_else(|| {
            problems.push(Problem {
                offset: (start + at) as u64,
                what: format!(
                    "volume {}: device path of {path_chars} characters at {path_offset} is \
                     outside the volumes information ({} bytes)",
                    i + 1,
                    section.len()
                ),
            });
            String::new()
        });
        let directories = directories(section, start, i + 1, word(28), word(32), problems);
        volumes.push(Volume {
            device_path,
            created: u64_le(entry, 8).unwrap_or(0),
            serial: u32_le(entry, 16).unwrap_or(0),
            directories,
        });
    }
    volumes
}

/// The `count` directory strings at `offset` in the section (`base` is the section's
/// offset in the file, for problems); stops at the first one that does not fit.
fn directories(
    section: &[u8],
    base: usize,
    volume: usize,
    offset: usize,
    count: usize,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut at = offset;
    for i in 0..count {
        let read = u16_le(section, at).and_then(|chars| {
            let chars = chars as usize;
            let text = utf16_at(section, at + 2, chars)?;
            let next = at + 2 + 2 * chars + 2;
            (next <= section.len()).then_some((text, next))
        });
        match read {
            Some((text, next)) => {
                dirs.push(text);
                at = next;
            }
            None => {
                problems.push(Problem {
                    offset: (base + at.min(section.len())) as u64,
                    what: format!(
                        "volume {volume}: directory string {} of {count} is outside the \
                         volumes information ({} bytes)",
                        i + 1,
                        section.len()
                    ),
                });
                break;
            }
        }
    }
    dirs
}
