//! Keys whose values each name a program: Run/RunOnce (autostart), MUICache (programs
//! the shell has run), Control Panel `Cpls` (applets). A value is NetSession's when its
//! name or data names it. Every such value is a row at the key's last-write time, the
//! only time these keys keep.

use super::super::hive::RegKey;
use super::super::{HiveScan, Rule};

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Run,
    MuiCache,
    Cpl,
}

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>, kind: Kind) {
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
