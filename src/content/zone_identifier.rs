//! `Zone.Identifier`, the alternate data stream Windows writes on downloaded files:
//! where the file came from (zone, HostUrl, ReferrerUrl).

use crate::catalog::RuleInfo;

/// Most bytes of the stream read (it is a few hundred bytes).
pub const MAX_BYTES: u64 = 64 * 1024;

/// `name:Zone.Identifier`, the stream Windows writes on downloaded files.
pub fn is_zone_identifier(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(":zone.identifier")
}

/// `ZoneId=3; HostUrl=...; ReferrerUrl=...` from the stream's bytes.
pub fn fields(bytes: &[u8]) -> Option<String> {
    let text = super::text::decode_text(bytes)?;
    let fields: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.contains('=') && !l.starts_with('['))
        .map(String::from)
        .collect();
    (!fields.is_empty()).then(|| fields.join("; "))
}

/// The Zone.Identifier of a matched file: evidence of its own (zone, HostUrl,
/// ReferrerUrl), so it gets an id of its own, with the matched file's rule behind it.
pub fn rule(of: &RuleInfo) -> RuleInfo {
    RuleInfo {
        id: "download.zone_identifier".into(),
        what: format!("Zone.Identifier stream of a {}", of.what),
        proves: "the file was downloaded (zone and source URL as Windows recorded them)".into(),
        confidence: of.confidence,
        source: "Windows Attachment Manager (Zone.Identifier alternate data stream)".into(),
    }
}
