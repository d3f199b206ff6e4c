//! An E01's stored media hashes against the data read (`--hash-inputs`).

use std::path::Path;

use serde::Serialize;

use crate::image::e01::{Agreement, EwfImage};

/// What the manifest says of an E01's media hashes.
#[derive(Debug, Clone, Serialize)]
pub struct MediaHashRecord {
    /// Bytes of media data (the disk as acquired, not the segment files).
    pub media_size: Option<u64>,
    /// As stored by the acquisition tool (`hash`/`digest` sections), lowercase hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_md5: Option<String>,
    /// `agree`, `mismatch`, `not stored`, or `not computed` (see `note`).
    pub md5: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_sha1: Option<String>,
    pub sha1: String,
    /// Why the media could not be hashed (a damaged chunk, a missing segment: the
    /// offset is named).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl MediaHashRecord {
    /// Does a stored hash disagree with the data, or could the data not be read?
    pub fn is_a_problem(&self) -> bool {
        self.md5 == Agreement::Mismatch.as_str()
            || self.sha1 == Agreement::Mismatch.as_str()
            || self.note.is_some()
    }

    /// One line for the examiner.
    pub fn summary(&self) -> String {
        match &self.note {
            Some(note) => format!("media not hashed: {note}"),
            None => format!("stored MD5 {}, stored SHA-1 {}", self.md5, self.sha1),
        }
    }
}

/// Read the whole media of the E01 at `path` and compare its hashes with the stored
/// ones. `advance` is told the media bytes hashed.
pub fn verify_e01(path: &Path, advance: &dyn Fn(u64)) -> MediaHashRecord {
    let not_computed =
        |media_size, stored: (Option<[u8; 16]>, Option<[u8; 20]>), note| MediaHashRecord {
            media_size,
            stored_md5: stored.0.map(|h| crate::bytes::hex(&h)),
            computed_md5: None,
            md5: "not computed".into(),
            stored_sha1: stored.1.map(|h| crate::bytes::hex(&h)),
            computed_sha1: None,
            sha1: "not computed".into(),
            note: Some(note),
        };
    let image = match EwfImage::open(path) {
        Ok(image) => image,
        Err(e) => return not_computed(None, (None, None), e.to_string()),
    };
    match image.verify_media(advance) {
        Ok(h) => MediaHashRecord {
            media_size: Some(h.media_size),
            stored_md5: h.stored_md5,
            computed_md5: Some(h.computed_md5),
            md5: h.md5.as_str().into(),
            stored_sha1: h.stored_sha1,
            computed_sha1: Some(h.computed_sha1),
            sha1: h.sha1.as_str().into(),
            note: None,
        },
        Err(e) => not_computed(
            Some(crate::image::source::ImageSource::size(&image)),
            image.stored_hashes(),
            e.to_string(),
        ),
    }
}
