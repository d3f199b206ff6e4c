//! `user.dat` (and `.bak`): the NetSession user's settings as `Key=Value` lines, e.g.
//! `UploadsPausedUntil=-1`.
//!
//! Every setting is a `netsession.user_setting` row (`setting=...; value=...`, no time).
//! `UploadsPausedUntil` is also a `netsession.upload_setting` row whose `message` field
//! reads the value. That reading is an interpretation (NetSession documents no file
//! format): `-1` as paused with no end, `0` as not paused, a positive number as the epoch
//! second the pause ends. The row says so; the end of a pause is put in the message, not
//! on the timeline (it is when the pause would end, not when anything happened).

use super::common::{Fields, IniLine, Problems, fact, from_epoch_seconds, ini_line, quote};
use crate::content::FileContext;
use crate::evidence::RowSink;

pub const USER_SETTING: &str = "netsession.user_setting";
pub const UPLOAD_SETTING: &str = "netsession.upload_setting";

/// Most settings made rows from one file.
const MAX_SETTINGS: usize = 10_000;

/// Largest number read as epoch seconds (the year 5138); larger ones may be
/// milliseconds, and are not read.
const MAX_EPOCH_SECONDS: i64 = 100_000_000_000;

/// How the interpretation is worded in every upload setting row.
const READING: &str = "an interpretation: NetSession does not document this setting; -1 is read as paused with no end, 0 as not paused, a positive number as the epoch second (UTC) the pause ends";

/// Rows of a `user.dat`'s text, and the problems met.
pub fn rows(text: &str, ctx: &FileContext, out: &mut dyn RowSink) -> Vec<String> {
    let mut problems = Problems::new();
    let mut section: Option<&str> = None;
    let mut settings = 0;
    for (n, line) in super::common::numbered_lines(text) {
        match ini_line(line) {
            IniLine::Blank | IniLine::Comment => {}
            IniLine::Section(name) => section = Some(name),
            IniLine::Pair(key, value) => {
                settings += 1;
                if settings > MAX_SETTINGS {
                    problems.push(format!(
                        "line {n}: more than {MAX_SETTINGS} settings; the rest is not read"
                    ));
                    break;
                }
                let mut locator = Fields::new();
                if let Some(s) = section {
                    locator.add("section", &format!("[{s}]"));
                }
                locator.add("key", key).add("line", &n.to_string());
                let locator = locator.finish();
                let mut row = fact(ctx, None, "", USER_SETTING);
                row.message = format!("NetSession user setting {key} in {} line {n}", ctx.name);
                row.value = Fields::new()
                    .add("setting", key)
                    .add("value", value)
                    .finish();
                row.locator = locator.clone();
                out.push(row);
                if key.eq_ignore_ascii_case("UploadsPausedUntil") {
                    upload_row(key, value, n, locator, ctx, out);
                }
            }
            IniLine::Other => {
                problems.push(format!("line {n}: {} is not a Key=Value line", quote(line)))
            }
        }
    }
    if settings == 0 {
        problems.push("no Key=Value setting found".into());
    }
    problems.into_vec()
}

/// What `UploadsPausedUntil=<value>` is read as.
pub fn paused_until(value: &str) -> String {
    let reading = match value.trim().parse::<i64>() {
        Ok(-1) => "uploads paused indefinitely".to_string(),
        Ok(0) => "uploads not paused".to_string(),
        Ok(s) if s > 0 && s <= MAX_EPOCH_SECONDS => match from_epoch_seconds(s) {
            Some(t) => format!("uploads paused until {t}"),
            None => "value not understood".to_string(),
        },
        Ok(s) if s > 0 => "value not understood (too large for epoch seconds)".to_string(),
        _ => "value not understood".to_string(),
    };
    format!("{reading} (UploadsPausedUntil={value})")
}

fn upload_row(
    key: &str,
    value: &str,
    n: usize,
    locator: String,
    ctx: &FileContext,
    out: &mut dyn RowSink,
) {
    let reading = paused_until(value);
    let mut row = fact(ctx, None, "", UPLOAD_SETTING);
    row.message = format!(
        "NetSession upload setting in {} line {n}: {reading} ({READING})",
        ctx.name
    );
    row.value = Fields::new()
        .add(key, value)
        .add("message", &reading)
        .add("reading", "interpretation")
        .finish();
    row.locator = locator;
    out.push(row);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::netsession::common::testing::{check_rows, ctx, field, mutations, of};
    use crate::evidence::EvidenceRow;

    const SAMPLE: &str = "UploadsPausedUntil=-1\r\nSomethingElse=abc\r\n";

    fn read(text: &str) -> (Vec<EvidenceRow>, Vec<String>) {
        let mut rows = Vec::new();
        let problems = super::rows(text, &ctx("user.dat"), &mut rows);
        check_rows(&rows);
        (rows, problems)
    }

    #[test]
    fn settings_and_the_upload_setting() {
        let (rows, problems) = read(SAMPLE);
        assert!(problems.is_empty(), "{problems:?}");
        let settings = of(&rows, USER_SETTING);
        assert_eq!(settings.len(), 2);
        assert_eq!(settings[0].value, "setting=UploadsPausedUntil; value=-1");
        assert_eq!(settings[1].locator, "key=SomethingElse; line=2");
        let upload = of(&rows, UPLOAD_SETTING);
        assert_eq!(upload.len(), 1);
        assert_eq!(
            field(&upload[0].value, "message"),
            Some("uploads paused indefinitely (UploadsPausedUntil=-1)")
        );
        assert!(upload[0].message.contains("an interpretation"));
        assert_eq!(upload[0].locator, "key=UploadsPausedUntil; line=1");
        assert_eq!(upload[0].datetime, None);
    }

    #[test]
    fn readings_of_the_pause() {
        assert_eq!(
            paused_until("0"),
            "uploads not paused (UploadsPausedUntil=0)"
        );
        assert_eq!(
            paused_until("1530345412"),
            "uploads paused until 2018-06-30T07:56:52Z (UploadsPausedUntil=1530345412)"
        );
        assert!(paused_until("1530345412000").starts_with("value not understood (too large"));
        assert!(paused_until("-7").starts_with("value not understood"));
        assert!(paused_until("99999999999999999999999999").starts_with("value not understood"));
        assert!(paused_until("soon").starts_with("value not understood"));
    }

    #[test]
    fn damage_keeps_the_settings_before_and_after() {
        let (rows, problems) = read("[user]\nA=1\n\u{fffd}\u{0}junk\nUploadsPausedUntil=0\n");
        assert_eq!(
            problems,
            ["line 3: \"\u{fffd}\\0junk\" is not a Key=Value line"]
        );
        assert_eq!(of(&rows, USER_SETTING).len(), 2);
        assert_eq!(
            of(&rows, UPLOAD_SETTING)[0].locator,
            "section=[user]; key=UploadsPausedUntil; line=4"
        );
        let (rows, problems) = read("");
        assert!(rows.is_empty());
        assert_eq!(problems, ["no Key=Value setting found"]);
        let (rows, problems) = read("UploadsPaused");
        assert!(rows.is_empty());
        assert_eq!(problems.len(), 2);
        let (rows, _) = read("UploadsPausedUntil=a; b");
        assert_eq!(field(&rows[0].value, "value"), Some("a, b"));
    }

    #[test]
    fn mutations_never_panic() {
        for text in mutations(SAMPLE, 300) {
            read(&text);
        }
    }
}
