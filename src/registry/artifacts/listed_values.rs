//! Keys whose values each name a program: Run/RunOnce (autostart), MUICache (programs
//! the shell has run), Control Panel `Cpls` (applets). A value is NetSession's when its
//! name or data names it. Every such value is a row at the key's last-write time, the
//! only time these keys keep. MUICache keeps several values per program since Vista
//! (`<path>.FriendlyAppName`, `<path>.ApplicationCompany`): they make one row per
//! program, with every name and data in `value`.

use super::super::hive::RegKey;
use super::super::{HiveScan, Rule};

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Run,
    MuiCache,
    Cpl,
}

/// The suffixes Vista and later append to a program's path in MUICache value names.
const MUICACHE_SUFFIXES: [&str; 2] = [".FriendlyAppName", ".ApplicationCompany"];

/// The program a MUICache value name is about, and the field it holds (`None` for an
/// XP-style name that is the path itself).
fn muicache_program(name: &str) -> (&str, Option<&str>) {
    for suffix in MUICACHE_SUFFIXES {
        let at = name.len().saturating_sub(suffix.len());
        if at > 0 && name.is_char_boundary(at) && name[at..].eq_ignore_ascii_case(suffix) {
            return (&name[..at], Some(&suffix[1..]));
        }
    }
    (name, None)
}

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>, kind: Kind) {
    if let Kind::MuiCache = kind {
        return analyze_muicache(scan, rule, key);
    }
    for (value, data) in scan.netsession_values(key) {
        let message = match kind {
            Kind::Run => format!(
                "Autostart value \"{}\" in {} starts {data} at logon (key last written at this time)",
                value.display_name(),
                key.name
            ),
            Kind::MuiCache => format!(
                "MUICache: the shell ran {} (\"{data}\"); key last written at this time",
                value.display_name()
            ),
            Kind::Cpl => format!(
                "Control Panel applet \"{}\" registered: {data}",
                value.display_name()
            ),
        };
        let shown = format!("{} = {data}", value.display_name());
        let user = scan
            .user
            .clone()
            .or_else(|| scan.context.user_in_path(&format!("{} {data}", value.name)));
        scan.report_key_written(&rule.info, key, Some(&value), message, shown, user);
    }
}

/// One row per program of a MUICache key, in the order its first value is stored.
fn analyze_muicache(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    let mut programs: Vec<(String, Vec<(crate::registry::hive::RegValue, String)>)> = Vec::new();
    for (value, data) in scan.netsession_values(key) {
        let (program, _) = muicache_program(&value.name);
        let program = program.to_string();
        match programs
            .iter_mut()
            .find(|(p, _)| p.eq_ignore_ascii_case(&program))
        {
            Some((_, values)) => values.push((value, data)),
            None => programs.push((program, vec![(value, data)])),
        }
    }
    for (program, values) in programs {
        let fields: Vec<String> = values
            .iter()
            .map(|(v, data)| match muicache_program(&v.name) {
                (_, Some(field)) => format!("{field} \"{data}\""),
                (_, None) => format!("\"{data}\""),
            })
            .collect();
        let message = format!(
            "MUICache: the shell ran {program} ({}); key last written at this time",
            fields.join(", ")
        );
        let shown = values
            .iter()
            .map(|(v, data)| format!("{} = {data}", v.display_name()))
            .collect::<Vec<_>>()
            .join("; ");
        let user = scan
            .user
            .clone()
            .or_else(|| scan.context.user_in_path(&program));
        let first = values.first().map(|(v, _)| v);
        scan.report_key_written(&rule.info, key, first, message, shown, user);
    }
}

#[cfg(test)]
mod tests {
    use super::muicache_program;

    #[test]
    fn muicache_names_give_the_program_and_the_field() {
        assert_eq!(
            muicache_program(r"C:\a\netsession_win.exe.FriendlyAppName"),
            (r"C:\a\netsession_win.exe", Some("FriendlyAppName"))
        );
        assert_eq!(
            muicache_program(r"C:\a\netsession_win.exe.applicationcompany"),
            (r"C:\a\netsession_win.exe", Some("ApplicationCompany"))
        );
        assert_eq!(
            muicache_program(r"C:\a\netsession_win.exe"),
            (r"C:\a\netsession_win.exe", None)
        );
        assert_eq!(
            muicache_program(".FriendlyAppName"),
            (".FriendlyAppName", None)
        );
        assert_eq!(muicache_program("ü.exe"), ("ü.exe", None));
        assert_eq!(muicache_program("ééééééééééééé"), ("ééééééééééééé", None));
    }
}
