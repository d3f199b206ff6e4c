//! Keys that are NetSession's by their path alone: the 1.9.x installer's Control Panel
//! item (`Explorer\ControlPanel\NameSpace\{305CA226-...}` and `Classes\CLSID\{305CA226-...}`
//! with `DefaultIcon` and `Shell\Open\Command`). The key's existence is the fact; it
//! is a row at the key's last-write time with every value of the key in `value`.

use super::super::hive::RegKey;
use super::super::{HiveScan, Rule};

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    let values = key.values(&mut scan.problems);
    let shown: Vec<String> = values
        .iter()
        .map(|v| format!("{} = {}", v.display_name(), v.display()))
        .collect();
    let shown = shown.join("; ");
    let message = format!(
        "{} {} registered (key last written at this time)",
        rule.info.what, key.name
    );
    let user = scan
        .user
        .clone()
        .or_else(|| scan.context.user_in_path(&shown));
    scan.report_key_written(&rule.info, key, None, message, shown, user);
}
