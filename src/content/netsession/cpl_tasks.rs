//! `CplTasks.xml`: the Control Panel task file NetSession 1.9.x registers for its
//! Control Panel item (`System.Software.TasksFileUrl` of CLSID
//! `{305CA226-D286-468e-B848-2B2E8E697B74}`):
//!
//! ```text
//! <applications xmlns="http://schemas.microsoft.com/windows/cpltasks/v1" xmlns:sh="...">
//!   <application id="{305CA226-D286-468e-B848-2B2E8E697B74}">
//!     <sh:task id="{...}">
//!       <sh:name>...</sh:name>
//!       <sh:command>"C:\Users\u\AppData\Local\Akamai\ControlPanel.exe"</sh:command>
//! ```
//!
//! A small tolerant scan (no XML library): elements by local name (`sh:command` and
//! `command` alike), the `id` of `<application>` and `<task>`, text of `<name>` and
//! `<command>` with the five XML entities and character references decoded. Each command
//! is a `netsession.control_panel` row (`application=...; command=...`, no time, at the
//! command's line); an application without a command is a row of its own. Unclosed
//! elements at the end (a cut file) are problems, and what came before stays.

use super::common::{Fields, Problems, fact, quote};
use crate::content::FileContext;
use crate::evidence::RowSink;

pub const CONTROL_PANEL: &str = "netsession.control_panel";

/// Deepest element nesting followed.
const MAX_DEPTH: usize = 256;
/// Most commands made rows from one file.
const MAX_COMMANDS: usize = 1000;
/// Longest text kept of one element.
const MAX_TEXT: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    Name,
    Command,
}

#[derive(Debug, Default)]
struct Scan {
    /// Open elements: local name and line.
    stack: Vec<(String, usize)>,
    /// The open `<application>`: id, line, commands seen in it.
    application: Option<(String, usize, usize)>,
    applications: usize,
    /// The open `<task>`'s id and the last `<name>` read in it.
    task: Option<(String, String)>,
    /// The element whose text is being read, from which line.
    capture: Option<(Capture, String, usize)>,
    commands: usize,
}

/// Rows of a `CplTasks.xml`'s text, and the problems met.
pub fn rows(text: &str, ctx: &FileContext, out: &mut dyn RowSink) -> Vec<String> {
    let mut problems = Problems::new();
    let mut scan = Scan::default();
    let mut pos = 0;
    let mut lines = LineCounter::default();
    while let Some(rest) = text.get(pos..) {
        let Some(lt) = rest.find('<') else {
            scan.text(rest);
            break;
        };
        scan.text(rest.get(..lt).unwrap_or_default());
        let at = pos + lt;
        let tag = rest.get(lt..).unwrap_or_default();
        let line = lines.at(text, at);
        let (end, body) = if tag.starts_with("<!--") {
            (tag.find("-->").map(|e| e + 3), None)
        } else if let Some(cdata) = tag.strip_prefix("<![CDATA[") {
            match cdata.find("]]>") {
                Some(e) => {
                    scan.raw_text(cdata.get(..e).unwrap_or_default());
                    (Some(9 + e + 3), None)
                }
                None => (None, None),
            }
        } else if tag.starts_with("<?") {
            (tag.find("?>").map(|e| e + 2), None)
        } else if tag.starts_with("<!") {
            (tag.find('>').map(|e| e + 1), None)
        } else {
            match tag_end(tag) {
                Ok(e) => (Some(e + 1), tag.get(1..e)),
                Err(Some(next)) => {
                    // A `<` that starts no tag: text, up to the next `<`.
                    problems.push(format!(
                        "line {line}: {} starts no tag; read as text",
                        quote(tag.get(..next).unwrap_or_default())
                    ));
                    scan.text(tag.get(..next).unwrap_or_default());
                    pos = at + next;
                    continue;
                }
                Err(None) => (None, None),
            }
        };
        let Some(end) = end else {
            problems.push(format!(
                "line {line}: the text ends inside {} (cut short?)",
                quote(tag)
            ));
            break;
        };
        if let Some(body) = body
            && !scan.tag(body, line, ctx, out, &mut problems)
        {
            break;
        }
        pos = at + end;
    }
    scan.finish(ctx, out, &mut problems);
    problems.into_vec()
}

/// Line numbers of offsets met in increasing order, counted once.
#[derive(Debug)]
struct LineCounter {
    offset: usize,
    line: usize,
}

impl Default for LineCounter {
    fn default() -> Self {
        LineCounter { offset: 0, line: 1 }
    }
}

impl LineCounter {
    fn at(&mut self, text: &str, offset: usize) -> usize {
        let bytes = text.as_bytes();
        let end = offset.min(bytes.len());
        if end > self.offset {
            let newlines = bytes
                .get(self.offset..end)
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
            self.line += newlines;
            self.offset = end;
        }
        self.line
    }
}

/// The index of the `>` that ends the tag starting `tag`, outside quoted values; else
/// the index of a `<` met first (the first `<` starts no tag), or `None` at the end.
fn tag_end(tag: &str) -> Result<usize, Option<usize>> {
    let mut quote: Option<char> = None;
    for (i, c) in tag.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Ok(i),
            (None, '<') => return Err(Some(i)),
            _ => {}
        }
    }
    Err(None)
}

/// `sh:command` -> `command`, lower case.
fn local_name(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_ascii_lowercase()
}

/// The value of attribute `want` (its local name, any case) in a tag's body.
fn attribute(body: &str, want: &str) -> Option<String> {
    let mut rest = body.split_once(|c: char| c.is_whitespace())?.1;
    loop {
        rest = rest.trim_start();
        let eq = rest.find('=')?;
        let name = rest.get(..eq)?.trim();
        let after = rest.get(eq + 1..)?.trim_start();
        let q = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = after.get(1..)?;
        let close = inner.find(q)?;
        if local_name(name) == want {
            return Some(decode_entities(inner.get(..close)?));
        }
        rest = inner.get(close + 1..)?;
    }
}

/// The five XML entities and `&#NN;` / `&#xHH;`; anything else is kept as written.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp..).unwrap_or_default();
        let decoded = after.get(1..).and_then(|a| {
            let semi = a.find(';').filter(|s| *s <= 10)?;
            let name = a.get(..semi)?;
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, semi + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = after.get(len..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

impl Scan {
    fn text(&mut self, text: &str) {
        if self.capture.is_some() && !text.is_empty() {
            self.raw_text(&decode_entities(text));
        }
    }

    fn raw_text(&mut self, text: &str) {
        if let Some((_, kept, _)) = &mut self.capture
            && kept.len() < MAX_TEXT
        {
            kept.extend(text.chars().take(MAX_TEXT));
        }
    }

    /// One tag's body (between `<` and `>`); false when reading must stop.
    fn tag(
        &mut self,
        body: &str,
        line: usize,
        ctx: &FileContext,
        out: &mut dyn RowSink,
        problems: &mut Problems,
    ) -> bool {
        if let Some(closing) = body.strip_prefix('/') {
            let name = local_name(closing.trim());
            match self.stack.iter().rposition(|(n, _)| *n == name) {
                Some(i) => {
                    for (open, _) in self.stack.split_off(i).iter().rev() {
                        self.close(open, ctx, out);
                    }
                }
                None => problems.push(format!(
                    "line {line}: </{}> closes no open element",
                    quote(closing.trim()).trim_matches('"')
                )),
            }
            return true;
        }
        let self_closing = body.trim_end().ends_with('/');
        let name = body
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default();
        let local = local_name(name);
        match local.as_str() {
            "application" => {
                let id = attribute(body, "id").unwrap_or_default();
                self.applications += 1;
                self.application = Some((id, line, 0));
            }
            "task" => self.task = Some((attribute(body, "id").unwrap_or_default(), String::new())),
            "name" if self.task.is_some() => {
                self.capture = Some((Capture::Name, String::new(), line))
            }
            "command" => self.capture = Some((Capture::Command, String::new(), line)),
            _ => {}
        }
        if self_closing {
            self.close(&local, ctx, out);
        } else {
            if self.stack.len() >= MAX_DEPTH {
                problems.push(format!(
                    "line {line}: elements nested deeper than {MAX_DEPTH}; the rest is not read"
                ));
                return false;
            }
            self.stack.push((local, line));
        }
        true
    }

    fn close(&mut self, local: &str, ctx: &FileContext, out: &mut dyn RowSink) {
        match local {
            "application" => {
                if let Some((id, line, 0)) = self.application.take() {
                    self.application_row(&id, line, ctx, out);
                }
            }
            "task" => self.task = None,
            "name" => {
                if let Some((Capture::Name, name, _)) = self.capture.take()
                    && let Some((_, task_name)) = &mut self.task
                {
                    *task_name = name.trim().to_string();
                }
            }
            "command" => {
                if let Some((Capture::Command, command, line)) = self.capture.take() {
                    self.command_row(command.trim(), line, false, ctx, out);
                }
            }
            _ => {}
        }
    }

    fn command_row(
        &mut self,
        command: &str,
        line: usize,
        cut: bool,
        ctx: &FileContext,
        out: &mut dyn RowSink,
    ) {
        self.commands += 1;
        if self.commands > MAX_COMMANDS {
            return;
        }
        let application = self.application.as_mut().map(|(id, _, n)| {
            *n += 1;
            id.clone()
        });
        let mut value = Fields::new();
        value
            .add("application", application.as_deref().unwrap_or("(none)"))
            .add("command", command);
        if let Some((task, name)) = &self.task {
            value.add("task", task);
            if !name.is_empty() {
                value.add("name", name);
            }
        }
        if cut {
            value.add("cut", "yes");
        }
        let mut row = fact(ctx, None, "", CONTROL_PANEL);
        row.message = format!(
            "NetSession Control Panel task command in {} line {line}{}",
            ctx.name,
            if cut {
                " (cut short at the end of the text)"
            } else {
                ""
            }
        );
        row.value = value.finish();
        row.locator = format!("line={line}");
        out.push(row);
    }

    fn application_row(&self, id: &str, line: usize, ctx: &FileContext, out: &mut dyn RowSink) {
        let mut row = fact(ctx, None, "", CONTROL_PANEL);
        row.message = format!(
            "NetSession Control Panel application in {} line {line} (no command in it)",
            ctx.name
        );
        row.value = Fields::new().add("application", id).finish();
        row.locator = format!("line={line}");
        out.push(row);
    }

    fn finish(mut self, ctx: &FileContext, out: &mut dyn RowSink, problems: &mut Problems) {
        if let Some((what, text, line)) = self.capture.take()
            && what == Capture::Command
        {
            problems.push(format!(
                "line {line}: the text ends inside <command>; what was read of it is kept"
            ));
            self.command_row(text.trim(), line, true, ctx, out);
        }
        if let Some((name, line)) = self.stack.first() {
            problems.push(format!(
                "the text ends with <{name}> (line {line}) and {} other element(s) still open (cut short?)",
                self.stack.len() - 1
            ));
        }
        if let Some((id, line, 0)) = self.application.take() {
            self.application_row(&id, line, ctx, out);
        }
        if self.commands > MAX_COMMANDS {
            problems.push(format!(
                "{} commands: only the first {MAX_COMMANDS} are rows",
                self.commands
            ));
        }
        if self.applications == 0 {
            problems.push("no <application> element found".into());
        } else if self.commands == 0 {
            problems.push("no <command> element found".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::netsession::common::testing::{check_rows, ctx, field, mutations};
    use crate::evidence::EvidenceRow;

    const SAMPLE: &str = r#"<?xml version="1.0" ?>
<applications xmlns="http://schemas.microsoft.com/windows/cpltasks/v1" xmlns:sh="http://schemas.microsoft.com/windows/tasks/v1">
  <!-- Akamai NetSession Interface -->
  <application id="{305CA226-D286-468e-B848-2B2E8E697B74}">
    <sh:task id="{5B6B3A7C-8F3E-4C6D-9A1B-2C3D4E5F6A7B}" needsElevation="false">
      <sh:name>Akamai NetSession Interface &amp; settings</sh:name>
      <sh:command>&quot;C:\Users\u\AppData\Local\Akamai\ControlPanel.exe&quot;</sh:command>
    </sh:task>
    <category id="5"><sh:task idref="{5B6B3A7C-8F3E-4C6D-9A1B-2C3D4E5F6A7B}"/></category>
  </application>
</applications>
"#;

    fn read(text: &str) -> (Vec<EvidenceRow>, Vec<String>) {
        let mut rows = Vec::new();
        let problems = super::rows(text, &ctx("CplTasks.xml"), &mut rows);
        check_rows(&rows);
        (rows, problems)
    }

    #[test]
    fn application_and_command() {
        let (rows, problems) = read(SAMPLE);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.artifact, CONTROL_PANEL);
        assert!(
            r.value.starts_with(
                r#"application={305CA226-D286-468e-B848-2B2E8E697B74}; command="C:\Users\u\AppData\Local\Akamai\ControlPanel.exe"; task={5B6B3A7C"#
            ),
            "{}",
            r.value
        );
        assert_eq!(
            field(&r.value, "name"),
            Some("Akamai NetSession Interface & settings")
        );
        assert_eq!(r.locator, "line=7");
        assert_eq!(r.datetime, None);
    }

    #[test]
    fn a_cut_file_keeps_what_was_read() {
        let cut = SAMPLE.find("ControlPanel.exe").unwrap();
        let (rows, problems) = read(&SAMPLE[..cut]);
        assert_eq!(rows.len(), 1);
        assert_eq!(field(&rows[0].value, "cut"), Some("yes"));
        assert!(
            field(&rows[0].value, "command")
                .unwrap()
                .ends_with(r"Akamai\")
        );
        assert!(
            problems[0].starts_with("line 7: the text ends inside <command>"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("<applications> (line 2)"),
            "{problems:?}"
        );
        let cut = SAMPLE.find("<sh:command").unwrap() + 5;
        let (rows, problems) = read(&SAMPLE[..cut]);
        assert!(
            problems[0].starts_with("line 7: the text ends inside \"<sh:c\""),
            "{problems:?}"
        );
        assert_eq!(rows.len(), 1, "the application without its command");
        assert_eq!(
            rows[0].value,
            "application={305CA226-D286-468e-B848-2B2E8E697B74}"
        );
        assert!(problems.iter().any(|p| p == "no <command> element found"));
    }

    #[test]
    fn garbage_empty_and_odd_markup() {
        let (rows, problems) = read("");
        assert!(rows.is_empty());
        assert_eq!(problems, ["no <application> element found"]);
        let junk =
            String::from_utf8_lossy(&[0xff, 0xfe, b'<', 0, b'a', 0x80, b'>', b'<']).into_owned();
        let (rows, problems) = read(&junk);
        assert!(rows.is_empty());
        assert!(!problems.is_empty());
        let (rows, problems) = read("a < b <application id='x'/>");
        assert_eq!(problems[0], "line 1: \"< b \" starts no tag; read as text");
        assert_eq!(rows[0].value, "application=x");
        let (rows, problems) = read(
            "</x><application id='a'><command><![CDATA[run &amp; go]]></command></application>",
        );
        assert_eq!(problems, ["line 1: </x> closes no open element"]);
        assert_eq!(rows[0].value, "application=a; command=run &amp, go");
        assert_eq!(decode_entities("&#65;&#x42;&bogus;&"), "AB&bogus;&");
        assert_eq!(
            decode_entities("&#xD800;&#99999999999;"),
            "&#xD800;&#99999999999;"
        );
        let deep = "<a>".repeat(MAX_DEPTH + 5);
        let (_, problems) = read(&deep);
        assert!(problems[0].contains("nested deeper"), "{problems:?}");
    }

    #[test]
    fn mutations_never_panic() {
        for text in mutations(SAMPLE, 400) {
            read(&text);
        }
    }
}
