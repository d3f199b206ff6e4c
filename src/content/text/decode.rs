//! Decoding a text file's bytes: [`decode_text`] and [`is_text`] (UTF-8/UTF-16 sniffing),
//! and [`LineDecoder`], which gives the same lines as bytes arrive, so that a big log is
//! never held whole in memory.

use std::borrow::Cow;

/// How many leading bytes (after a BOM) the text/binary judgement looks at. A later NUL
/// or control character does not turn a text file into binary: logs may end in NUL
/// padding or carry the odd stray byte, and `is_text` on a prefix must agree with
/// `decode_text` on the whole.
const SAMPLE_LEN: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// Decode a file's leading bytes/whole buffer to text: UTF-8 (with or without BOM), UTF-16LE/BE with BOM, and UTF-16LE without BOM when the byte pattern clearly shows it (many NULs at odd offsets). Invalid sequences become U+FFFD. Returns None when the bytes are not text (binary: NULs in UTF-8-looking data, many control characters). `is_text` uses the same judgement on a prefix (it must tolerate a prefix cut in the middle of a multi-byte sequence).
///
/// The BOM is not part of the result, nor is trailing NUL padding (pre-allocated logs).
pub fn decode_text(bytes: &[u8]) -> Option<String> {
    let (encoding, bom) = sniff(bytes)?;
    let body = &bytes[bom..];
    let mut text = match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(body).into_owned(),
        Encoding::Utf16Le => decode_utf16(body, u16::from_le_bytes),
        Encoding::Utf16Be => decode_utf16(body, u16::from_be_bytes),
    };
    let kept = text.trim_end_matches('\0').len();
    text.truncate(kept);
    Some(text)
}

/// Decodes a text file line by line as its bytes arrive, with the judgement and the
/// result of [`decode_text`] on the whole followed by `str::lines`: the same encoding,
/// the BOM dropped, the same lines (split at `\n`, a `\r` before it dropped), trailing
/// NUL padding left out. A line longer than [`MAX_PIECE`] bytes comes in pieces, so
/// memory is bounded even by a file without line ends.
#[derive(Debug)]
pub struct LineDecoder {
    state: DecoderState,
}

/// What [`LineDecoder`] hands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A line, or the first piece of a long one.
    Line(&'a str),
    /// The next piece of a long line.
    Continued(&'a str),
}

/// Longest piece of a line held and handed on at once (bytes of the file).
pub const MAX_PIECE: usize = 1024 * 1024;

#[derive(Debug)]
enum DecoderState {
    /// Too few bytes yet to judge (the judgement reads a BOM and a sample).
    Sniffing(Vec<u8>),
    Decoding(Lines),
    NotText,
}

#[derive(Debug)]
struct Lines {
    encoding: Encoding,
    /// Bytes after the last complete line or piece.
    carry: Vec<u8>,
    /// The first `searched` bytes of `carry` hold no line end: a long line is not
    /// searched again for every chunk.
    searched: usize,
    /// A piece of the current line was handed on already.
    in_long_line: bool,
}

/// Bytes [`sniff`] may look at: the longest BOM and the sample.
const SNIFF_LEN: usize = 3 + SAMPLE_LEN;

impl Default for LineDecoder {
    fn default() -> Self {
        LineDecoder {
            state: DecoderState::Sniffing(Vec::new()),
        }
    }
}

impl LineDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next bytes of the file; each complete line (or piece) goes to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut dyn FnMut(Piece<'_>)) {
        match &mut self.state {
            DecoderState::Sniffing(head) => {
                head.extend_from_slice(bytes);
                if head.len() >= SNIFF_LEN {
                    let head = std::mem::take(head);
                    self.judge(head, out);
                }
            }
            DecoderState::Decoding(lines) => {
                lines.carry.extend_from_slice(bytes);
                lines.hand_on(out);
            }
            DecoderState::NotText => {}
        }
    }

    /// The end of the bytes: the last line, if any, goes to `out`. False when the bytes
    /// are not text (then nothing was handed on).
    pub fn finish(mut self, out: &mut dyn FnMut(Piece<'_>)) -> bool {
        if let DecoderState::Sniffing(head) = &mut self.state {
            let head = std::mem::take(head);
            self.judge(head, out);
        }
        match self.state {
            DecoderState::Decoding(lines) => {
                let text = lines.decode(&lines.carry);
                let text = text.trim_end_matches('\0');
                if !text.is_empty() {
                    out(piece(lines.in_long_line, text));
                }
                true
            }
            _ => false,
        }
    }

    fn judge(&mut self, head: Vec<u8>, out: &mut dyn FnMut(Piece<'_>)) {
        self.state = match sniff(&head) {
            Some((encoding, bom)) => {
                let mut carry = head;
                carry.drain(..bom);
                let mut lines = Lines {
                    encoding,
                    carry,
                    searched: 0,
                    in_long_line: false,
                };
                lines.hand_on(out);
                DecoderState::Decoding(lines)
            }
            None => DecoderState::NotText,
        };
    }
}

impl Lines {
    fn unit(&self) -> fn([u8; 2]) -> u16 {
        match self.encoding {
            Encoding::Utf16Be => u16::from_be_bytes,
            _ => u16::from_le_bytes,
        }
    }

    /// Borrowed where the bytes are valid UTF-8 already (most lines).
    fn decode<'b>(&self, bytes: &'b [u8]) -> Cow<'b, str> {
        match self.encoding {
            // `from_utf8` checks valid text faster than the lossy decoder's scan.
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(bytes),
            },
            _ => Cow::Owned(decode_utf16(bytes, self.unit())),
        }
    }

    /// Where the next line end starts, from `from` on (a unit start for UTF-16).
    fn find_line_end(&self, from: usize) -> Option<usize> {
        match self.encoding {
            Encoding::Utf8 => memchr::memchr(b'\n', &self.carry[from..]).map(|at| from + at),
            _ => {
                let unit = self.unit();
                (from..self.carry.len().saturating_sub(1))
                    .step_by(2)
                    .find(|&at| unit([self.carry[at], self.carry[at + 1]]) == u16::from(b'\n'))
            }
        }
    }

    /// Hands on every complete line in `carry`, then pieces of a line too long to hold,
    /// and keeps the rest.
    fn hand_on(&mut self, out: &mut dyn FnMut(Piece<'_>)) {
        let end_len = if self.encoding == Encoding::Utf8 {
            1
        } else {
            2
        };
        let mut start = 0;
        let mut from = self.searched;
        while let Some(end) = self.find_line_end(from) {
            let text = self.decode(&self.carry[start..end]);
            out(piece(
                self.in_long_line,
                text.strip_suffix('\r').unwrap_or(&text),
            ));
            self.in_long_line = false;
            start = end + end_len;
            from = start;
        }
        while self.carry.len() - start > MAX_PIECE {
            let cut = self.piece_end(start + MAX_PIECE);
            let text = self.decode(&self.carry[start..cut]);
            out(piece(self.in_long_line, &text));
            self.in_long_line = true;
            start = cut;
        }
        self.carry.drain(..start);
        self.searched = match self.encoding {
            Encoding::Utf8 => self.carry.len(),
            _ => self.carry.len() & !1,
        };
    }

    /// `at`, moved back so that no character is cut in two.
    fn piece_end(&self, at: usize) -> usize {
        match self.encoding {
            Encoding::Utf8 => {
                let mut at = at;
                // At most three continuation bytes precede a character's end.
                for _ in 0..3 {
                    if self.carry[at] & 0xC0 == 0x80 {
                        at -= 1;
                    }
                }
                at
            }
            _ => {
                let at = at & !1;
                let before = self.unit()([self.carry[at - 2], self.carry[at - 1]]);
                // Not between the two halves of a surrogate pair.
                if (0xD800..0xDC00).contains(&before) {
                    at - 2
                } else {
                    at
                }
            }
        }
    }
}

/// A line's text, or the next piece of a line too long to hold.
fn piece(in_long_line: bool, text: &str) -> Piece<'_> {
    if in_long_line {
        Piece::Continued(text)
    } else {
        Piece::Line(text)
    }
}

/// Whether `prefix` (a file's leading bytes) is text, by the judgement of [`decode_text`]:
/// a multi-byte sequence or surrogate pair cut by the end of the prefix is not held
/// against it.
pub fn is_text(prefix: &[u8]) -> bool {
    sniff(prefix).is_some()
}

fn decode_utf16(body: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = body.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if body.len() % 2 == 1 {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    text
}

/// The encoding and BOM length, or None for binary.
fn sniff(bytes: &[u8]) -> Option<(Encoding, usize)> {
    let (encoding, bom) = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        (Encoding::Utf8, 3)
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        (Encoding::Utf16Le, 2)
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        (Encoding::Utf16Be, 2)
    } else if looks_utf16le(&bytes[..bytes.len().min(SAMPLE_LEN)]) {
        (Encoding::Utf16Le, 0)
    } else {
        (Encoding::Utf8, 0)
    };
    let body = &bytes[bom..];
    let sample = &body[..body.len().min(SAMPLE_LEN)];
    let text = match encoding {
        Encoding::Utf8 => judge_utf8(sample),
        Encoding::Utf16Le => judge_utf16(sample, u16::from_le_bytes),
        Encoding::Utf16Be => judge_utf16(sample, u16::from_be_bytes),
    };
    text.then_some((encoding, bom))
}

fn trim_trailing_nuls(b: &[u8]) -> &[u8] {
    let kept = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    &b[..kept]
}

/// UTF-16LE without BOM: ASCII-range text puts a NUL in (nearly) every odd byte and
/// (almost) never in an even one. Trailing NUL padding is left out of the count.
fn looks_utf16le(sample: &[u8]) -> bool {
    let s = trim_trailing_nuls(sample);
    if s.len() < 2 {
        return false;
    }
    let units = s.len().div_ceil(2);
    let odd_nuls = s.iter().skip(1).step_by(2).filter(|&&c| c == 0).count();
    let even_nuls = s.iter().step_by(2).filter(|&&c| c == 0).count();
    odd_nuls * 10 >= units * 4 && even_nuls * 20 <= units
}

/// Character counts behind the text/binary judgement.
#[derive(Default)]
struct Census {
    chars: usize,
    controls: usize,
    invalid: usize,
    nuls: usize,
}

impl Census {
    fn add(&mut self, c: char) {
        self.chars += 1;
        match c {
            '\0' => self.nuls += 1,
            // Tab, LF, FF, CR, Ctrl-Z (DOS end of file) and ESC (ANSI colours) are text.
            '\t' | '\n' | '\x0C' | '\r' | '\x1A' | '\x1B' => {}
            '\x01'..='\x1F' | '\x7F'..='\u{9F}' => self.controls += 1,
            char::REPLACEMENT_CHARACTER => self.invalid += 1,
            _ => {}
        }
    }

    fn add_invalid(&mut self) {
        self.chars += 1;
        self.invalid += 1;
    }

    /// Binary when there is any NUL, more than 10 % control characters, or more than
    /// 30 % undecodable sequences. A few invalid sequences are tolerated: they are what
    /// a legacy 8-bit code page (Windows-1252 `©`, accented letters) looks like in UTF-8.
    fn is_text(&self) -> bool {
        self.nuls == 0 && self.controls * 10 <= self.chars && self.invalid * 10 <= self.chars * 3
    }
}

fn judge_utf8(sample: &[u8]) -> bool {
    let s = trim_trailing_nuls(sample);
    if s.is_empty() {
        // Empty is (trivially) text; all NUL is not.
        return sample.is_empty();
    }
    let mut census = Census::default();
    let mut rest = s;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                valid.chars().for_each(|c| census.add(c));
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                std::str::from_utf8(valid)
                    .unwrap_or_default()
                    .chars()
                    .for_each(|c| census.add(c));
                match e.error_len() {
                    // A multi-byte sequence cut by the end of the sample: not an error.
                    None => break,
                    Some(n) => {
                        census.add_invalid();
                        rest = &after[n..];
                    }
                }
            }
        }
    }
    census.is_text()
}

fn judge_utf16(sample: &[u8], unit: fn([u8; 2]) -> u16) -> bool {
    let mut units: Vec<u16> = sample.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
    let had_any = !units.is_empty();
    while units.last() == Some(&0) {
        units.pop();
    }
    if units.is_empty() {
        return !had_any;
    }
    // A surrogate pair cut by the end of the sample: not an error.
    if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
        units.pop();
    }
    let mut census = Census::default();
    for r in char::decode_utf16(units.iter().copied()) {
        match r {
            Ok(c) => census.add(c),
            Err(_) => census.add_invalid(),
        }
    }
    census.is_text()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(
            decode_text(b"hello\r\nworld\n").as_deref(),
            Some("hello\r\nworld\n")
        );
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice("© Akamai".as_bytes());
        assert_eq!(decode_text(&bom).as_deref(), Some("© Akamai"));
        assert!(is_text(&bom));
        assert_eq!(decode_text(b"").as_deref(), Some(""));
    }

    #[test]
    fn invalid_utf8_becomes_replacement() {
        // Windows-1252 `©` and `é` in otherwise ASCII text.
        let bytes = b"Copyright \xA9 2012 Akamai caf\xE9 config file";
        assert_eq!(
            decode_text(bytes).as_deref(),
            Some("Copyright \u{FFFD} 2012 Akamai caf\u{FFFD} config file")
        );
    }

    #[test]
    fn utf16_with_bom() {
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16le("[Settings]\r\nName=NetSession €\r\n"));
        assert_eq!(
            decode_text(&le).as_deref(),
            Some("[Settings]\r\nName=NetSession €\r\n")
        );
        assert!(is_text(&le));

        let mut be = vec![0xFE, 0xFF];
        be.extend(utf16be("Hello 𝄞 world"));
        assert_eq!(decode_text(&be).as_deref(), Some("Hello 𝄞 world"));
    }

    #[test]
    fn utf16le_without_bom() {
        let le = utf16le("2012-02-14 09:30:00 started\r\n");
        assert!(looks_utf16le(&le));
        assert_eq!(
            decode_text(&le).as_deref(),
            Some("2012-02-14 09:30:00 started\r\n")
        );
        assert!(is_text(&le));
        // A prefix cut in the middle of a code unit.
        assert!(is_text(&le[..7]));
    }

    #[test]
    fn binary_is_refused() {
        let pe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF\x00\x00\xB8\x00";
        assert_eq!(decode_text(pe), None);
        assert!(!is_text(pe));
        // A NUL in UTF-8-looking data.
        assert_eq!(decode_text(b"text\x00more text"), None);
        // Control characters.
        let controls: Vec<u8> = (0..200u8)
            .map(|i| if i % 4 == 0 { 0x01 } else { b'a' })
            .collect();
        assert_eq!(decode_text(&controls), None);
        // Few control characters are fine (ESC colour codes, form feed).
        assert!(is_text(b"\x1b[31mred\x1b[0m\x0cpage"));
        // Mostly undecodable.
        assert_eq!(decode_text(&[0xFF; 64]), None);
        // All NUL.
        assert_eq!(decode_text(&[0u8; 64]), None);
        // UTF-16 of nothing but control characters.
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16le("\u{1}\u{2}\u{3}\u{4}"));
        assert_eq!(decode_text(&le), None);
    }

    #[test]
    fn trailing_nul_padding_is_tolerated_and_dropped() {
        let mut bytes = b"log line\n".to_vec();
        bytes.extend([0u8; 100]);
        assert_eq!(decode_text(&bytes).as_deref(), Some("log line\n"));
        let mut le = utf16le("log line\n");
        le.extend([0u8; 100]);
        assert_eq!(decode_text(&le).as_deref(), Some("log line\n"));
    }

    #[test]
    fn prefix_cut_mid_utf8_is_still_text() {
        let s = "Name=€€€".as_bytes();
        // Cut inside the last `€` (3 bytes).
        assert!(is_text(&s[..s.len() - 1]));
        assert!(is_text(&s[..s.len() - 2]));
        assert!(is_text(&"é".as_bytes()[..1]));
        // But a prefix of genuinely invalid bytes is not.
        assert!(!is_text(&[0xC3, 0x28, 0xFF, 0xFE, 0xFD][1..]));
        // decode_text of a whole buffer shows a cut sequence as U+FFFD.
        assert_eq!(
            decode_text(&s[..s.len() - 1]).as_deref(),
            Some("Name=€€\u{FFFD}")
        );
    }

    #[test]
    fn prefix_cut_mid_utf16_surrogate_pair_is_still_text() {
        let mut le = vec![0xFF, 0xFE];
        le.extend(utf16le("a𝄞"));
        // BOM, `a`, high surrogate: the low surrogate was cut off.
        assert!(is_text(&le[..6]));
        // An unpaired surrogate that is not at the end is invalid.
        let mut bad = vec![0xFF, 0xFE];
        bad.extend([0x34, 0xD8, b'a', 0x00]);
        assert_eq!(decode_text(&bad), None);
    }

    #[test]
    fn nul_after_the_sample_does_not_make_binary() {
        let mut bytes = vec![b'a'; SAMPLE_LEN];
        bytes.push(0);
        bytes.extend_from_slice(b"tail");
        let text = decode_text(&bytes).expect("text");
        assert!(text.ends_with("\0tail"));
    }

    /// Lines of `bytes` through [`LineDecoder`], fed `chunk` bytes at a time (pieces of a
    /// long line put together again).
    fn streamed(bytes: &[u8], chunk: usize) -> Option<Vec<String>> {
        let mut decoder = LineDecoder::new();
        let mut lines: Vec<String> = Vec::new();
        let mut take = |piece: Piece<'_>| match piece {
            Piece::Line(l) => lines.push(l.to_string()),
            Piece::Continued(l) => lines.last_mut().expect("a line first").push_str(l),
        };
        for part in bytes.chunks(chunk.max(1)) {
            decoder.feed(part, &mut take);
        }
        decoder.finish(&mut take).then_some(lines)
    }

    fn whole(bytes: &[u8]) -> Option<Vec<String>> {
        decode_text(bytes).map(|t| t.lines().map(String::from).collect())
    }

    #[test]
    fn streamed_lines_are_the_lines_of_the_whole() {
        let mut long_utf8 = "é".repeat(SAMPLE_LEN).into_bytes();
        long_utf8.extend_from_slice(b"\r\nlast\0\0");
        let mut padded_le = vec![0xFF, 0xFE];
        padded_le.extend(utf16le("one\r\ntwo 𝄞\nthree"));
        padded_le.extend([0u8; 40]);
        let mut odd_be = vec![0xFE, 0xFF];
        odd_be.extend(utf16be("a\nb"));
        odd_be.push(b'x');
        let mut bomless_le = utf16le(&"line of text\n".repeat(900));
        bomless_le.extend(utf16le("end"));
        // Lines longer than a piece: cut between characters, never inside one.
        let long_lines = format!(
            "short\n{}\r\nnext\n{}",
            "aé€𝄞".repeat(MAX_PIECE / 4),
            "x".repeat(MAX_PIECE + 1)
        );
        let mut long_le = vec![0xFF, 0xFE];
        long_le.extend(utf16le(&long_lines));
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\n".to_vec(),
            b"a\r\nb\rc\n\nd\r".to_vec(),
            b"\xEF\xBB\xBFbom\nnext\n".to_vec(),
            b"caf\xE9 latin-1\nok\n".to_vec(),
            b"a\n\0\0\nb\0\0".to_vec(),
            b"\0\0\0".to_vec(),
            b"MZ\x90\0\x03\0\0\0".to_vec(),
            long_utf8,
            padded_le,
            odd_be,
            bomless_le,
            long_lines.clone().into_bytes(),
            long_le,
        ];
        for (i, case) in cases.iter().enumerate() {
            let expected = whole(case);
            let chunks: &[usize] = if case.len() > MAX_PIECE {
                &[3, 65_536, usize::MAX]
            } else {
                &[1, 2, 3, 7, 4096, usize::MAX]
            };
            for &chunk in chunks {
                assert_eq!(
                    streamed(case, chunk.min(case.len().max(1))),
                    expected,
                    "case {i}, chunks of {chunk}"
                );
            }
        }
    }

    #[test]
    fn streamed_lines_match_on_random_bytes() {
        // Text-like bytes with stray controls, NULs, CR/LF and broken sequences.
        let alphabet: &[u8] = b"ab \r\n\n\0\xC3\xA9\xE2\x82\xAC\xFF\xD8\x01";
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut texts = 0;
        for round in 0..300 {
            let len = (round * 37) % 20_000;
            let mut bytes = Vec::with_capacity(len);
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            if round % 3 == 0 {
                // Mostly ASCII: passes the text judgement.
                bytes.iter_mut().for_each(|b| {
                    if *b >= 0x80 || *b == 0 || *b == 1 {
                        *b = b'x'
                    }
                });
            }
            if round % 5 == 0 {
                bytes = bytes.iter().flat_map(|&b| [b, 0]).collect();
            }
            let chunk = 1 + (round * 131) % 5000;
            let expected = whole(&bytes);
            texts += usize::from(expected.is_some());
            assert_eq!(streamed(&bytes, chunk), expected, "round {round}");
        }
        assert!(texts >= 100, "only {texts} rounds were text");
    }
}
