//! One event record, from the XML the `evtx` crate renders of it: the `System` fields the
//! rules test, and the event's data as (name, value) pairs in the order written.
//!
//! The XML is the crate's own output (well formed, no DTD), so a small reader is enough:
//! elements, attributes, text, CDATA and the five predefined and numeric references.
//! Values keep their line breaks as written (an XML 1.0 parser would fold CR LF).

use crate::time::Timestamp;

/// The fields of one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub provider: String,
    pub provider_guid: String,
    pub event_id: u16,
    pub channel: String,
    pub computer: String,
    /// `System/TimeCreated/@SystemTime`, as written.
    pub time_created: String,
    pub record_id: u64,
    /// `System/Security/@UserID`.
    pub user_sid: String,
    /// `EventData/Data` (name from `@Name`, none for unnamed data), other children of
    /// `EventData` by element name, and the leaf elements of `UserData` by name.
    pub data: Vec<(Option<String>, String)>,
}

impl Event {
    /// The value of the data field `name` (compared without case).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(n, _)| n.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.as_str())
    }

    /// `TimeCreated` as a timestamp at 100 ns, when it parses.
    pub fn time(&self) -> Option<Timestamp> {
        parse_system_time(&self.time_created)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("event XML at byte {at}: {reason}")]
pub struct XmlError {
    pub at: usize,
    pub reason: &'static str,
}

/// Read an event from its XML.
pub fn parse_event(xml: &str) -> Result<Event, XmlError> {
    let mut event = Event::default();
    let mut stack: Vec<String> = Vec::new();
    // Per open element: its `Name` attribute (for `Data`), and its text so far.
    let mut open: Vec<(Option<String>, String, bool)> = Vec::new();
    let mut tokens = Tokens { xml, at: 0 };
    while let Some(token) = tokens.next()? {
        match token {
            Token::Open { name, attrs, empty } => {
                on_attributes(&mut event, &stack, &name, &attrs);
                let data_name = attrs
                    .iter()
                    .find(|(k, _)| k == "Name")
                    .map(|(_, v)| v.clone());
                if empty {
                    close(&mut event, &stack, &name, data_name, String::new(), false);
                } else {
                    stack.push(name);
                    open.push((data_name, String::new(), false));
                }
            }
            Token::Text(text) => {
                if let Some((_, buf, _)) = open.last_mut() {
                    buf.push_str(&text);
                }
            }
            Token::Close(name) => {
                if stack.last() != Some(&name) {
                    return Err(tokens.error("closing tag does not match the open element"));
                }
                stack.pop();
                let (data_name, text, has_children) = open.pop().unwrap_or_default();
                if let Some(parent) = open.last_mut() {
                    parent.2 = true;
                }
                close(&mut event, &stack, &name, data_name, text, has_children);
            }
        }
    }
    if !stack.is_empty() {
        return Err(tokens.error("the event's XML ends inside an element"));
    }
    Ok(event)
}

fn on_attributes(event: &mut Event, stack: &[String], name: &str, attrs: &[(String, String)]) {
    let in_system = stack.len() == 2 && stack[1] == "System";
    if !in_system {
        return;
    }
    let get = |key: &str| attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    match name {
        "Provider" => {
            event.provider = get("Name").unwrap_or_default();
            event.provider_guid = get("Guid").unwrap_or_default();
        }
        "TimeCreated" => event.time_created = get("SystemTime").unwrap_or_default(),
        "Security" => event.user_sid = get("UserID").unwrap_or_default(),
        _ => {}
    }
}

/// An element ends: `stack` holds its ancestors.
fn close(
    event: &mut Event,
    stack: &[String],
    name: &str,
    data_name: Option<String>,
    text: String,
    has_children: bool,
) {
    let parent = stack.get(1).map(String::as_str);
    match (stack.len(), parent) {
        (2, Some("System")) => match name {
            "EventID" => event.event_id = text.trim().parse().unwrap_or(0),
            "EventRecordID" => event.record_id = text.trim().parse().unwrap_or(0),
            "Channel" => event.channel = text,
            "Computer" => event.computer = text,
            _ => {}
        },
        (2, Some("EventData")) if name == "Data" => event.data.push((data_name, text)),
        (2, Some("EventData")) => event.data.push((Some(name.to_string()), text)),
        (n, Some("UserData")) if n >= 3 && !has_children => {
            event.data.push((Some(name.to_string()), text))
        }
        _ => {}
    }
}

enum Token {
    Open {
        name: String,
        attrs: Vec<(String, String)>,
        empty: bool,
    },
    Close(String),
    Text(String),
}

struct Tokens<'a> {
    xml: &'a str,
    at: usize,
}

impl Tokens<'_> {
    fn error(&self, reason: &'static str) -> XmlError {
        XmlError {
            at: self.at,
            reason,
        }
    }

    fn next(&mut self) -> Result<Option<Token>, XmlError> {
        let rest = &self.xml[self.at..];
        if rest.is_empty() {
            return Ok(None);
        }
        if let Some(body) = rest.strip_prefix("<![CDATA[") {
            let end = body
                .find("]]>")
                .ok_or(self.error("CDATA section never ends"))?;
            self.at += 9 + end + 3;
            return Ok(Some(Token::Text(body[..end].to_string())));
        }
        if rest.starts_with("<?") || rest.starts_with("<!--") {
            let close = if rest.starts_with("<?") { "?>" } else { "-->" };
            let end = rest
                .find(close)
                .ok_or(self.error("declaration never ends"))?;
            self.at += end + close.len();
            return self.next();
        }
        if let Some(body) = rest.strip_prefix("</") {
            let end = body.find('>').ok_or(self.error("closing tag never ends"))?;
            self.at += 2 + end + 1;
            return Ok(Some(Token::Close(body[..end].trim().to_string())));
        }
        if rest.starts_with('<') {
            let end = tag_end(rest).ok_or(self.error("tag never ends"))?;
            let inner = &rest[1..end];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let name_end = inner
                .find(|c: char| c.is_whitespace())
                .unwrap_or(inner.len());
            let name = inner[..name_end].to_string();
            if name.is_empty() {
                return Err(self.error("tag without a name"));
            }
            let attrs = attributes(&inner[name_end..]).ok_or(self.error("bad attribute"))?;
            self.at += end + 1;
            return Ok(Some(Token::Open { name, attrs, empty }));
        }
        let end = rest.find('<').unwrap_or(rest.len());
        self.at += end;
        Ok(Some(Token::Text(unescape(&rest[..end]))))
    }
}

/// Where the tag starting at 0 ends (its `>`), skipping `>` inside quoted values.
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn attributes(mut text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    loop {
        text = text.trim_start();
        if text.is_empty() {
            return Some(out);
        }
        let eq = text.find('=')?;
        let key = text[..eq].trim().to_string();
        let rest = text[eq + 1..].trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let end = rest[1..].find(quote)?;
        out.push((key, unescape(&rest[1..1 + end])));
        text = &rest[1 + end + 1..];
    }
}

/// Resolve the predefined and numeric references; anything else stays as written.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let resolved = after.find(';').and_then(|semi| {
            let name = &after[..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name.strip_prefix('#').and_then(|num| {
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => num.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, semi))
        });
        match resolved {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `2019-03-04T05:06:07.1234567Z` (any number of fraction digits up to 9).
pub fn parse_system_time(text: &str) -> Option<Timestamp> {
    let text = text.trim().strip_suffix('Z')?;
    let (main, fraction) = match text.split_once('.') {
        Some((m, f)) => (m, f),
        None => (text, ""),
    };
    let naive = chrono::NaiveDateTime::parse_from_str(main, "%Y-%m-%dT%H:%M:%S").ok()?;
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    let secs = naive.and_utc().timestamp();
    let precision = if fraction.len() > 7 {
        crate::time::Precision::Nanos
    } else {
        crate::time::Precision::FileTime
    };
    Timestamp::from_unix(secs, nanos, precision)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREWALL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System>
    <Provider Name="Microsoft-Windows-Windows Firewall With Advanced Security" Guid="{D1BC9AFF-2ABF-4D71-9146-ECB2A986EB85}"/>
    <EventID>2004</EventID>
    <TimeCreated SystemTime="2019-03-04T05:06:07.1234567Z"/>
    <EventRecordID>42</EventRecordID>
    <Channel>Microsoft-Windows-Windows Firewall With Advanced Security/Firewall</Channel>
    <Computer>DESKTOP-1</Computer>
    <Security UserID="S-1-5-19"/>
  </System>
  <EventData>
    <Data Name="RuleId">TCP Query User{AB}C:\users\zoe\appdata\local\akamai\netsession_win.exe</Data>
    <Data Name="RuleName">netsession_win.exe &amp; "peers" &lt;in&gt;</Data>
    <Data Name="Empty"></Data>
    <Data Name="Lines">a&#13;
b</Data>
    <Binary>00FF</Binary>
  </EventData>
</Event>"#;

    #[test]
    fn system_fields_and_named_data_in_order() {
        let e = parse_event(FIREWALL).unwrap();
        assert_eq!(
            e.provider,
            "Microsoft-Windows-Windows Firewall With Advanced Security"
        );
        assert_eq!(e.provider_guid, "{D1BC9AFF-2ABF-4D71-9146-ECB2A986EB85}");
        assert_eq!((e.event_id, e.record_id), (2004, 42));
        assert_eq!(e.computer, "DESKTOP-1");
        assert_eq!(e.user_sid, "S-1-5-19");
        assert_eq!(
            e.time().unwrap().to_iso8601(),
            "2019-03-04T05:06:07.1234567Z"
        );
        let names: Vec<_> = e.data.iter().map(|(n, _)| n.clone().unwrap()).collect();
        assert_eq!(names, ["RuleId", "RuleName", "Empty", "Lines", "Binary"]);
        assert_eq!(
            e.field("rulename"),
            Some("netsession_win.exe & \"peers\" <in>")
        );
        assert_eq!(e.field("Empty"), Some(""));
        assert_eq!(e.field("Lines"), Some("a\r\nb"));
        assert_eq!(e.field("Binary"), Some("00FF"));
    }

    #[test]
    fn unnamed_data_and_user_data_leaves() {
        let xml = "<Event><System><EventID Qualifiers=\"0\">1033</EventID></System><EventData><Data>Akamai NetSession Interface</Data><Data>1.9.5.6</Data><Data/></EventData></Event>";
        let e = parse_event(xml).unwrap();
        assert_eq!(e.event_id, 1033);
        assert_eq!(
            e.data,
            vec![
                (None, "Akamai NetSession Interface".to_string()),
                (None, "1.9.5.6".to_string()),
                (None, String::new())
            ]
        );
        let xml = "<Event><System/><UserData><RuleChange xmlns=\"x\"><RuleId>{1}</RuleId><Inner><Path><![CDATA[C:\\a<b]]></Path></Inner></RuleChange></UserData></Event>";
        let e = parse_event(xml).unwrap();
        assert_eq!(e.field("RuleId"), Some("{1}"));
        assert_eq!(e.field("Path"), Some("C:\\a<b"));
        assert_eq!(e.data.len(), 2);
    }

    #[test]
    fn broken_xml_is_an_error_with_the_place() {
        let err = parse_event("<Event><System></Event>").unwrap_err();
        assert!(err.reason.contains("match"), "{err}");
        assert!(parse_event("<Event><System>").is_err());
        assert!(parse_event("<Event a=\"1></Event>").is_err());
        assert_eq!(
            parse_system_time("2019-03-04T05:06:07Z")
                .unwrap()
                .to_iso8601()
                .len(),
            28
        );
        assert!(parse_system_time("yesterday").is_none());
    }
}
