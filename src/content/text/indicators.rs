//! Indicators in a line of text: [`find_indicators`] finds URLs, IPv4 and IPv6
//! addresses, GUIDs and copyright notices, each of an [`IndicatorKind`].

use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::Regex;

use super::is_word_byte;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorKind {
    Url,
    Ipv4,
    Ipv6,
    Guid,
    Copyright,
    /// A copyright line naming a holder other than Akamai (a bundled library's).
    ThirdPartyCopyright,
}

impl IndicatorKind {
    /// Stable catalog id used as the evidence row's artifact: "content.url", "content.ip" (both v4 and v6), "content.guid", "content.copyright".
    pub fn artifact_id(self) -> &'static str {
        match self {
            IndicatorKind::Url => "content.url",
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => "content.ip",
            IndicatorKind::Guid => "content.guid",
            IndicatorKind::Copyright => "content.copyright",
            IndicatorKind::ThirdPartyCopyright => "content.copyright_third_party",
        }
    }

    /// Human noun: "URL", "IPv4 address", "IPv6 address", "GUID", "copyright notice".
    pub fn noun(self) -> &'static str {
        match self {
            IndicatorKind::Url => "URL",
            IndicatorKind::Ipv4 => "IPv4 address",
            IndicatorKind::Ipv6 => "IPv6 address",
            IndicatorKind::Guid => "GUID",
            IndicatorKind::Copyright => "copyright notice",
            IndicatorKind::ThirdPartyCopyright => {
                "third-party copyright notice (a bundled library's: it does not date NetSession's build)"
            }
        }
    }
}

/// `scheme://rest` up to white space, quotes, angle brackets or a control character.
static URL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)[a-z][a-z0-9+.\-]*://[^\s<>"'`\x00-\x1F\x7F]+"#).expect("URL regex is valid")
});

static GUID_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?")
        .expect("GUID regex is valid")
});

/// From `Copyright`, `(c)`, `©` or `&copy;` to the end of the year, year range or year
/// list (`2008-2012`, `2008, 2010`).
static COPYRIGHT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(?-u:\b)copyright(?:[ \t]*(?:\(c\)|©|&copy;))?|\(c\)|©|&copy;)[ \t:]*(?P<y>[0-9]{4})(?-u:\b)(?:[ \t]*(?:-|–|—|,)[ \t]*[0-9]{4}(?-u:\b))*",
    )
    .expect("copyright regex is valid")
});

/// Every indicator in the line, in order of appearance, as (kind, matched text). Text is a slice of `line`.
pub fn find_indicators(line: &str) -> Vec<(IndicatorKind, &str)> {
    let mut found: Vec<(std::ops::Range<usize>, IndicatorKind)> = Vec::new();
    let bytes = line.as_bytes();

    if line.contains("://") {
        find_urls(line, &mut found);
    }
    find_ipv4(line, &mut found);
    if bytes.iter().filter(|&&c| c == b':').nth(1).is_some() {
        find_ipv6(line, &mut found);
    }
    // The dashes of a GUID are 5, 5 and 5 bytes apart.
    if bytes
        .windows(16)
        .any(|w| w[0] == b'-' && w[5] == b'-' && w[10] == b'-' && w[15] == b'-')
    {
        find_guids(line, &mut found);
    }
    if copyright_hint(line) {
        find_copyrights(line, &mut found);
    }

    // An IPv4 address that is the tail of an IPv6 address is not reported on its own.
    let v6: Vec<std::ops::Range<usize>> = found
        .iter()
        .filter(|(_, k)| *k == IndicatorKind::Ipv6)
        .map(|(r, _)| r.clone())
        .collect();
    if !v6.is_empty() {
        found.retain(|(r, k)| {
            *k != IndicatorKind::Ipv4 || !v6.iter().any(|o| o.start <= r.start && r.end <= o.end)
        });
    }

    found.sort_by(|(a, ka), (b, kb)| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(ka.cmp(kb))
    });
    found.into_iter().map(|(r, k)| (k, &line[r])).collect()
}

fn find_urls(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    for m in URL_RE.find_iter(line) {
        let mut url = m.as_str();
        // Trailing punctuation belongs to the sentence, not the URL. A closing bracket is
        // kept when the URL itself opened it (`.../Foo_(bar)`).
        while let Some(last) = url.chars().last() {
            let strip = match last {
                '.' | ',' | ';' | ':' | '\'' | '"' | '>' => true,
                ')' | ']' | '}' => {
                    let open = match last {
                        ')' => '(',
                        ']' => '[',
                        _ => '{',
                    };
                    url.matches(open).count() < url.matches(last).count()
                }
                _ => false,
            };
            if !strip {
                break;
            }
            url = &url[..url.len() - last.len_utf8()];
        }
        let scheme_end = url.find("://").unwrap_or(url.len());
        if url.len() > scheme_end + 3 {
            out.push((m.start()..m.start() + url.len(), IndicatorKind::Url));
        }
    }
}

/// Dotted quads. `1.9.2.3` is syntactically an address and is reported unless the text
/// marks it as a version (best effort): octets with a leading zero, a `v` glued to it, or
/// a preceding word ending in `version`, `ver` or `build` (`Version: `, `version="`,
/// `FileVersion `). Longer dotted runs (`1.2.3.4.5`) are never addresses.
fn find_ipv4(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    let b = line.as_bytes();
    for (start, end) in dotted_runs(b) {
        let parts: Vec<&str> = line[start..end].split('.').collect();
        if parts.len() != 4 {
            continue;
        }
        let octets_ok = parts.iter().all(|p| {
            p.len() <= 3 && !(p.len() > 1 && p.starts_with('0')) && p.parse::<u8>().is_ok()
        });
        if !octets_ok {
            continue;
        }
        if start > 0 && (is_word_byte(b[start - 1]) || b[start - 1] == b'.') {
            continue;
        }
        match b.get(end) {
            Some(&c) if is_word_byte(c) => continue,
            Some(b'.') if b.get(end + 1).copied().is_some_and(is_word_byte) => continue,
            _ => {}
        }
        if preceded_by_version_word(&line[..start]) {
            continue;
        }
        out.push((start..end, IndicatorKind::Ipv4));
    }
}

/// Maximal runs of decimal numbers joined by single dots (`1.2.3.4`), with at least
/// three dots, as byte ranges.
fn dotted_runs(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if !b[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            let mut dots = 0;
            while i < b.len() {
                if b[i].is_ascii_digit() {
                    i += 1;
                } else if b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    dots += 1;
                    i += 1;
                } else {
                    break;
                }
            }
            if dots >= 3 {
                return Some((start, i));
            }
        }
        None
    })
}

fn preceded_by_version_word(before: &str) -> bool {
    let trimmed = before.trim_end_matches([' ', '\t', ':', '=', '"', '\'', '#', '.']);
    let word_start = trimmed
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = trimmed[word_start..].to_ascii_lowercase();
    word.ends_with("version") || word == "ver" || word == "v" || word == "build"
}

/// IPv6 in full, compressed and IPv4-embedded forms, with an optional `%zone`. The
/// candidate must parse as an address, stand apart from neighbouring words (so
/// `std::string` or `Foo::Bar` give nothing) and contain a decimal digit: real addresses
/// practically always do, while `Add::Cb`-like symbol names do not.
fn find_ipv6(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    let b = line.as_bytes();
    for (run_start, run_end) in hex_colon_runs(b) {
        let (mut start, mut end) = (run_start, run_end);
        // Punctuation around the address: `addr:fe80::1`, `fe80::1.`, `fe80::1: up`.
        while start < end && b[start] == b'.' {
            start += 1;
        }
        if b.get(start) == Some(&b':') && b.get(start + 1) != Some(&b':') {
            start += 1;
        }
        while (end > start && b[end - 1] == b'.')
            || (end > start + 1 && b[end - 1] == b':' && b[end - 2] != b':')
        {
            end -= 1;
        }
        if start >= end {
            continue;
        }
        if start > 0 && is_word_byte(b[start - 1]) {
            continue;
        }
        if b.get(end).copied().is_some_and(is_word_byte) {
            continue;
        }
        let text = &line[start..end];
        if !text.bytes().any(|c| c.is_ascii_digit()) || text.parse::<Ipv6Addr>().is_err() {
            continue;
        }
        // Zone index: `fe80::1%12`, `fe80::1%eth0`.
        if b.get(end) == Some(&b'%') {
            let zone = b[end + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if zone > 0 {
                end += 1 + zone;
            }
        }
        out.push((start..end, IndicatorKind::Ipv6));
    }
}

/// Maximal runs of hex digits, colons and dots with at least two colons, as byte ranges.
fn hex_colon_runs(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let in_run = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if !in_run(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            let mut colons = 0;
            while i < b.len() && in_run(b[i]) {
                colons += usize::from(b[i] == b':');
                i += 1;
            }
            if colons >= 2 {
                return Some((start, i));
            }
        }
        None
    })
}

/// GUIDs with or without braces; the braces are part of the text only as a pair.
fn find_guids(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    let b = line.as_bytes();
    let glued = |c: u8| is_word_byte(c) || c == b'-';
    for m in GUID_RE.find_iter(line) {
        let (mut start, mut end) = (m.start(), m.end());
        let open = b[start] == b'{';
        let close = b[end - 1] == b'}';
        if !(open && close) {
            if open {
                start += 1;
            }
            if close {
                end -= 1;
            }
            if start > 0 && glued(b[start - 1]) {
                continue;
            }
            if b.get(end).copied().is_some_and(glued) {
                continue;
            }
        }
        out.push((start..end, IndicatorKind::Guid));
    }
}

fn copyright_hint(line: &str) -> bool {
    line.contains("(c)")
        || line.contains("(C)")
        || line.contains('©')
        || line.contains("&copy;")
        || line
            .as_bytes()
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"copyright"))
}

/// Copyright notices with a plausible first year (1970..=2100).
fn find_copyrights(line: &str, out: &mut Vec<(std::ops::Range<usize>, IndicatorKind)>) {
    for caps in COPYRIGHT_RE.captures_iter(line) {
        let (Some(whole), Some(year)) = (caps.get(0), caps.name("y")) else {
            continue;
        };
        if year
            .as_str()
            .parse::<u32>()
            .is_ok_and(|y| (1970..=2100).contains(&y))
        {
            out.push((whole.range(), copyright_kind(line, whole.end())));
        }
    }
}

/// Akamai's (or Red Swoosh's) own notice, or one without a holder, dates the build; a
/// notice naming another holder after its years (a word of three letters or more,
/// "All rights reserved" aside) is a bundled library's.
fn copyright_kind(line: &str, years_end: usize) -> IndicatorKind {
    let lower = line.to_lowercase();
    if lower.contains("akamai") || lower.contains("red swoosh") || lower.contains("redswoosh") {
        return IndicatorKind::Copyright;
    }
    let holder = line
        .get(years_end..)
        .unwrap_or_default()
        .to_lowercase()
        .replace("all rights reserved", "");
    // A holder is a name: a word of three letters or more.
    let named = holder
        .split(|c: char| !c.is_alphabetic())
        .any(|w| w.chars().count() >= 3);
    if named {
        IndicatorKind::ThirdPartyCopyright
    } else {
        IndicatorKind::Copyright
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(line: &str) -> Vec<(IndicatorKind, &str)> {
        find_indicators(line)
    }

    use IndicatorKind::*;

    #[test]
    fn copyright_holders_tell_akamai_from_bundled_libraries() {
        assert_eq!(
            kinds("Copyright (c) 2008-2016 Akamai Technologies, Inc."),
            vec![(Copyright, "Copyright (c) 2008-2016")]
        );
        assert_eq!(
            kinds("Copyright (c) 1998-2011 The OpenSSL Project.  All rights reserved."),
            vec![(ThirdPartyCopyright, "Copyright (c) 1998-2011")]
        );
        assert_eq!(
            kinds("Copyright (C) 1995-1998 Eric Young (eay@cryptsoft.com)"),
            vec![(ThirdPartyCopyright, "Copyright (C) 1995-1998")]
        );
        assert_eq!(
            kinds("Copyright (c) 2012"),
            vec![(Copyright, "Copyright (c) 2012")]
        );
    }

    #[test]
    fn urls_with_trailing_punctuation_stripped() {
        assert_eq!(
            kinds("see (http://example.com/a)."),
            vec![(Url, "http://example.com/a")]
        );
        assert_eq!(
            kinds("go to https://dl.akamai.com/x?a=1&b=2, then"),
            vec![(Url, "https://dl.akamai.com/x?a=1&b=2")]
        );
        assert_eq!(
            kinds(r#"href="ftp://ftp.example.org/pub/";"#),
            vec![(Url, "ftp://ftp.example.org/pub/")]
        );
        assert_eq!(
            kinds("<http://a.example/>"),
            vec![(Url, "http://a.example/")]
        );
        assert_eq!(
            kinds("[http://a.example/x]:"),
            vec![(Url, "http://a.example/x")]
        );
        // A bracket the URL itself opened is kept.
        assert_eq!(
            kinds("http://en.wikipedia.org/wiki/Foo_(bar)"),
            vec![(Url, "http://en.wikipedia.org/wiki/Foo_(bar)")]
        );
        assert_eq!(
            kinds("svn+ssh://host/repo"),
            vec![(Url, "svn+ssh://host/repo")]
        );
        assert_eq!(
            kinds("URL=HTTPS://X.EXAMPLE"),
            vec![(Url, "HTTPS://X.EXAMPLE")]
        );
        assert_eq!(
            kinds("file:///C:/Program%20Files/"),
            vec![(Url, "file:///C:/Program%20Files/")]
        );
        // Nothing after the scheme.
        assert_eq!(kinds("http:// nothing"), vec![]);
        assert_eq!(kinds("http://."), vec![]);
    }

    #[test]
    fn ip_inside_url_is_reported_too() {
        assert_eq!(
            kinds("GET http://192.168.1.10:8080/x"),
            vec![(Url, "http://192.168.1.10:8080/x"), (Ipv4, "192.168.1.10")]
        );
    }

    #[test]
    fn ipv4() {
        assert_eq!(
            kinds("connect 192.168.1.10:443 ok"),
            vec![(Ipv4, "192.168.1.10")]
        );
        assert_eq!(kinds("peer=10.0.0.1."), vec![(Ipv4, "10.0.0.1")]);
        assert_eq!(
            kinds("0.0.0.0 and 255.255.255.255"),
            vec![(Ipv4, "0.0.0.0"), (Ipv4, "255.255.255.255")]
        );
        for line in [
            "1.2.3.4.5",
            "x 256.1.1.1",
            "01.2.3.4",
            "1.2.03.4",
            "1.2.3",
            "version 1.9.2.3",
            "Version: 1.9.2.3",
            r#"<client version="1.9.2.3"/>"#,
            "FileVersion 1.9.2.3",
            "v1.9.2.3",
            "ver. 1.9.2.3",
            "ip1.2.3.4",
            "1.2.3.4x",
            "1.2.3.4.dll",
            "1234.1.2.3",
        ] {
            assert_eq!(kinds(line), vec![], "{line}");
        }
        // The tail of a dotted name is not an address.
        assert_eq!(kinds("lib.1.2.3.4"), vec![]);
        // A word with non-ASCII letters before the address.
        assert_eq!(kinds("café 1.2.3.4"), vec![(Ipv4, "1.2.3.4")]);
        assert_eq!(kinds("€1.2.3.4"), vec![(Ipv4, "1.2.3.4")]);
        // A bare dotted quad that is really a version cannot be told apart: reported.
        assert_eq!(kinds("NetSession 1.9.2.3"), vec![(Ipv4, "1.9.2.3")]);
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(kinds("addr 2001:db8::1 up"), vec![(Ipv6, "2001:db8::1")]);
        assert_eq!(kinds("fe80::1%12"), vec![(Ipv6, "fe80::1%12")]);
        assert_eq!(kinds("fe80::1%eth0 x"), vec![(Ipv6, "fe80::1%eth0")]);
        assert_eq!(kinds("localhost ::1"), vec![(Ipv6, "::1")]);
        assert_eq!(kinds("[::1]:8080"), vec![(Ipv6, "::1")]);
        assert_eq!(kinds("addr:fe80::1."), vec![(Ipv6, "fe80::1")]);
        assert_eq!(
            kinds("2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
            vec![(Ipv6, "2001:0db8:85a3:0000:0000:8a2e:0370:7334")]
        );
        // The embedded IPv4 is not reported separately.
        assert_eq!(kinds("::ffff:192.0.2.1"), vec![(Ipv6, "::ffff:192.0.2.1")]);
    }

    #[test]
    fn ipv6_is_not_a_time_or_a_symbol() {
        assert_eq!(kinds("09:30:00"), vec![]);
        assert_eq!(kinds("2012-02-14T09:30:00.123Z"), vec![]);
        assert_eq!(kinds("12:30:45:99"), vec![]);
        assert_eq!(kinds("std::string Foo::Bar Vec::new"), vec![]);
        assert_eq!(kinds("dead::beef"), vec![]);
        // Glued to a word on the left.
        assert_eq!(kinds("obj1::2"), vec![]);
        assert_eq!(kinds("x 1::2"), vec![(Ipv6, "1::2")]);
        assert_eq!(kinds("a :: b"), vec![]);
        assert_eq!(kinds("1:2"), vec![]);
        assert_eq!(kinds("1:2:3:4:5:6:7:8:9"), vec![]);
    }

    #[test]
    fn guids() {
        assert_eq!(
            kinds("CLSID {4A2B8C3D-1E2F-4a5b-9C8D-0E1F2A3B4C5D} registered"),
            vec![(Guid, "{4A2B8C3D-1E2F-4a5b-9C8D-0E1F2A3B4C5D}")]
        );
        assert_eq!(
            kinds("guid=4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d;"),
            vec![(Guid, "4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d")]
        );
        // A lone brace is not part of it.
        assert_eq!(
            kinds("{4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d"),
            vec![(Guid, "4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d")]
        );
        // Part of a longer hex run.
        assert_eq!(kinds("94a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d"), vec![]);
        assert_eq!(kinds("4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d0"), vec![]);
        assert_eq!(kinds("4a2b8c3d-1e2f-4a5b-9c8d-0e1f2a3b4c5d-7"), vec![]);
        assert_eq!(kinds("4a2b8c3g-1e2f-4a5b-9c8d-0e1f2a3b4c5d"), vec![]);
    }

    #[test]
    fn copyright_notices() {
        assert_eq!(
            kinds("Copyright (c) 2008-2012 Akamai Technologies"),
            vec![(Copyright, "Copyright (c) 2008-2012")]
        );
        assert_eq!(kinds("(C) 2009 Akamai"), vec![(Copyright, "(C) 2009")]);
        assert_eq!(
            kinds("© 2009-2012 Akamai"),
            vec![(Copyright, "© 2009-2012")]
        );
        assert_eq!(
            kinds("COPYRIGHT 2012."),
            vec![(Copyright, "COPYRIGHT 2012")]
        );
        assert_eq!(
            kinds("Copyright © 2008, 2010 - 2012 Akamai"),
            vec![(Copyright, "Copyright © 2008, 2010 - 2012")]
        );
        assert_eq!(
            kinds("Copyright: 2011 x"),
            vec![(Copyright, "Copyright: 2011")]
        );
        assert_eq!(kinds("(c)2010"), vec![(Copyright, "(c)2010")]);
        assert_eq!(kinds("(c) 1234 items"), vec![]);
        assert_eq!(kinds("(c) 20123"), vec![]);
        assert_eq!(kinds("Copyright Akamai"), vec![]);
    }

    #[test]
    fn mixed_line_in_order_of_appearance() {
        let line = "2012-02-14 09:30:00 {4A2B8C3D-1E2F-4A5B-9C8D-0E1F2A3B4C5D} from 10.1.2.3 \
                    via http://[2001:db8::7]/get (c) 2012";
        assert_eq!(
            kinds(line),
            vec![
                (Guid, "{4A2B8C3D-1E2F-4A5B-9C8D-0E1F2A3B4C5D}"),
                (Ipv4, "10.1.2.3"),
                (Url, "http://[2001:db8::7]/get"),
                (Ipv6, "2001:db8::7"),
                (Copyright, "(c) 2012"),
            ]
        );
    }

    #[test]
    fn kind_ids_and_nouns() {
        assert_eq!(Url.artifact_id(), "content.url");
        assert_eq!(Ipv4.artifact_id(), "content.ip");
        assert_eq!(Ipv6.artifact_id(), "content.ip");
        assert_eq!(Guid.artifact_id(), "content.guid");
        assert_eq!(Copyright.artifact_id(), "content.copyright");
        assert_eq!(Url.noun(), "URL");
        assert_eq!(Ipv4.noun(), "IPv4 address");
        assert_eq!(Ipv6.noun(), "IPv6 address");
        assert_eq!(Guid.noun(), "GUID");
        assert_eq!(Copyright.noun(), "copyright notice");
    }
}
