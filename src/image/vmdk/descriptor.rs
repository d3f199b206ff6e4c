//! The VMDK descriptor: text, in a file of its own (`# Disk DescriptorFile`) or embedded
//! in a monolithic sparse extent. What this reader uses: `createType`, `CID`,
//! `parentCID`, `parentFileNameHint`, and the extent lines
//! `ACCESS SECTORS TYPE ["FILE" [OFFSET]]` (access RW, RDONLY or NOACCESS; type FLAT,
//! SPARSE, ZERO, VMFS, ...; offset in sectors, for flat extents).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// `RW`
    Write,
    /// `RDONLY`
    Read,
    /// `NOACCESS`
    Denied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExtentKind {
    /// Raw bytes in a file (`FLAT`; `VMFS` is the same on ESX).
    Flat,
    /// A hosted sparse extent (`KDMV`).
    Sparse,
    /// No file: zeros.
    Zero,
    /// A kind this reader does not read (`VMFSSPARSE`, `SESPARSE`, raw device maps).
    Other,
}

#[derive(Debug, Clone)]
pub(super) struct ExtentLine {
    pub(super) access: Access,
    pub(super) sectors: u64,
    pub(super) kind: ExtentKind,
    /// The type as written (for messages).
    pub(super) kind_name: String,
    pub(super) file: Option<String>,
    /// Where the extent starts in its file, in sectors (flat extents).
    pub(super) offset: u64,
    /// Byte offset of the line in the descriptor.
    pub(super) at: u64,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Descriptor {
    pub(super) create_type: String,
    pub(super) cid: Option<u32>,
    pub(super) parent_cid: Option<u32>,
    pub(super) parent_hint: Option<String>,
    pub(super) extents: Vec<ExtentLine>,
}

impl Descriptor {
    /// The parent to look for: a hint, unless `parentCID` says there is none.
    pub(super) fn parent(&self) -> Option<&str> {
        if self.parent_cid == Some(u32::MAX) {
            return None;
        }
        self.parent_hint.as_deref().filter(|h| !h.trim().is_empty())
    }
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// Parse descriptor text; `Err((byte offset of the line, why))` on an extent line this
/// reader cannot make sense of.
pub(super) fn parse(text: &str) -> Result<Descriptor, (u64, String)> {
    let mut d = Descriptor::default();
    let mut at = 0u64;
    for raw_line in text.split_inclusive('\n') {
        let line_at = at;
        at = at.saturating_add(raw_line.len() as u64);
        let line = raw_line.trim_matches(|c: char| c.is_whitespace() || c == '\0');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or_default();
        if matches!(first, "RW" | "RDONLY" | "NOACCESS") {
            d.extents
                .push(parse_extent(line, line_at).map_err(|why| (line_at, why))?);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value);
        match key.trim() {
            "createType" => d.create_type = value.to_string(),
            "CID" => d.cid = u32::from_str_radix(value, 16).ok(),
            "parentCID" => d.parent_cid = u32::from_str_radix(value, 16).ok(),
            "parentFileNameHint" => d.parent_hint = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(d)
}

fn parse_extent(line: &str, at: u64) -> Result<ExtentLine, String> {
    let (head, quoted, tail) = match (line.find('"'), line.rfind('"')) {
        (Some(a), Some(b)) if b > a => (&line[..a], Some(&line[a + 1..b]), &line[b + 1..]),
        (Some(_), _) => return Err(format!("unbalanced quote in extent line: {line}")),
        _ => (line, None, ""),
    };
    let mut words = head.split_whitespace();
    let access = match words.next() {
        Some("RW") => Access::Write,
        Some("RDONLY") => Access::Read,
        _ => Access::Denied,
    };
    let sectors = words
        .next()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| format!("extent line without a sector count: {line}"))?;
    let kind_name = words
        .next()
        .ok_or_else(|| format!("extent line without a type: {line}"))?
        .to_string();
    let kind = match kind_name.as_str() {
        "FLAT" | "VMFS" => ExtentKind::Flat,
        "SPARSE" => ExtentKind::Sparse,
        "ZERO" => ExtentKind::Zero,
        _ => ExtentKind::Other,
    };
    let offset = match tail.split_whitespace().next() {
        Some(o) => o
            .parse::<u64>()
            .map_err(|_| format!("extent offset {o:?} is not a number: {line}"))?,
        None => 0,
    };
    if quoted.is_none() && kind != ExtentKind::Zero {
        return Err(format!(
            "{kind_name} extent line without a file name: {line}"
        ));
    }
    Ok(ExtentLine {
        access,
        sectors,
        kind,
        kind_name,
        file: quoted.map(str::to_string),
        offset,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_split_descriptor() {
        let text = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=1a2b3c4d\n\
                    createType=\"twoGbMaxExtentSparse\"\nparentFileNameHint=\"C:\\VMs\\base.vmdk\"\n\n\
                    # Extent description\nRW 4192256 SPARSE \"disk-s001.vmdk\"\n\
                    RDONLY 2048 FLAT \"my disk-f002.vmdk\" 128\nRW 100 ZERO\n\
                    NOACCESS 8 VMFSSPARSE \"x-delta.vmdk\"\n\n# The Disk Data Base\n#DDB\n\
                    ddb.virtualHWVersion = \"4\"\n";
        let d = parse(text).unwrap();
        assert_eq!(d.create_type, "twoGbMaxExtentSparse");
        assert_eq!(d.cid, Some(0xffff_fffe));
        assert_eq!(d.parent_cid, Some(0x1a2b_3c4d));
        assert_eq!(d.parent(), Some("C:\\VMs\\base.vmdk"));
        assert_eq!(d.extents.len(), 4);
        assert_eq!(d.extents[0].kind, ExtentKind::Sparse);
        assert_eq!(d.extents[0].sectors, 4_192_256);
        assert_eq!(d.extents[1].file.as_deref(), Some("my disk-f002.vmdk"));
        assert_eq!(d.extents[1].offset, 128);
        assert_eq!(d.extents[1].access, Access::Read);
        assert_eq!(d.extents[2].kind, ExtentKind::Zero);
        assert_eq!(d.extents[2].file, None);
        assert_eq!(d.extents[3].kind, ExtentKind::Other);
        assert_eq!(d.extents[3].access, Access::Denied);
        assert_eq!(&text[d.extents[0].at as usize..][..2], "RW");
    }

    #[test]
    fn refuses_broken_extent_lines() {
        assert!(parse("RW x SPARSE \"a\"\n").is_err());
        assert!(parse("RW 10\n").is_err());
        assert!(parse("RW 10 FLAT\n").is_err());
        assert!(parse("RW 10 FLAT \"a\" zz\n").is_err());
        assert!(parse("RW 10 FLAT \"a\n").is_err());
        let none = parse("parentCID=ffffffff\nparentFileNameHint=\"x.vmdk\"\n").unwrap();
        assert_eq!(none.parent(), None);
    }
}
