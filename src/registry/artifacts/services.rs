//! Services (`SYSTEM\<current control set>\Services\<name>`): NetSession's svchost-hosted
//! service (`Parameters\ServiceDll` = `netsession_win_<hex>.dll`) and Red Swoosh's
//! (`rswin_<build>.dll`). The svchost group named in ImagePath (`-k <group>`) is kept
//! for the SvcHost family.

use super::super::hive::{RegKey, value_named};
use super::super::{HiveScan, Rule};

fn start_type(n: u32) -> &'static str {
    match n {
        0 => "boot",
        1 => "system",
        2 => "automatic",
        3 => "manual",
        4 => "disabled",
        _ => "unknown",
    }
}

pub fn analyze(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    let values = key.values(&mut scan.problems);
    let text = |name: &str| value_named(&values, name).map(|v| v.display());
    let image_path = text("ImagePath");
    let display_name = text("DisplayName");
    let start = value_named(&values, "Start").and_then(|v| v.dword());
    let parameters = key.subkey("Parameters", &mut scan.problems);
    let service_dll = parameters
        .as_ref()
        .and_then(|p| p.value("ServiceDll", &mut scan.problems))
        .map(|v| v.display());

    let named = [
        Some(key.name.clone()),
        image_path.clone(),
        display_name.clone(),
        service_dll.clone(),
    ]
    .iter()
    .flatten()
    .any(|t| scan.names_netsession(t));
    if !named {
        return;
    }
    scan.context
        .netsession_services
        .push(key.name.to_lowercase());

    let mut fields = Vec::new();
    if let Some(group) = image_path.as_deref().and_then(svchost_group) {
        fields.push(format!("SvchostGroup={group}"));
    }
    if let Some(d) = &display_name {
        fields.push(format!("DisplayName={d}"));
    }
    if let Some(i) = &image_path {
        fields.push(format!("ImagePath={i}"));
    }
    if let Some(s) = &service_dll {
        fields.push(format!("ServiceDll={s}"));
    }
    if let Some(n) = start {
        fields.push(format!("Start={n} ({})", start_type(n)));
    }
    let what = if service_dll
        .as_deref()
        .is_some_and(|d| d.to_lowercase().contains("rswin_"))
    {
        "Red Swoosh (NetSession's predecessor) service"
    } else {
        "NetSession service"
    };
    let message = format!(
        "{what} \"{}\"{}{} registered (key last written at this time)",
        key.name,
        service_dll
            .as_deref()
            .map(|d| format!(", ServiceDll {d}"))
            .unwrap_or_default(),
        start
            .map(|n| format!(", start {}", start_type(n)))
            .unwrap_or_default()
    );
    let user = service_dll
        .as_deref()
        .or(image_path.as_deref())
        .and_then(|p| scan.context.user_in_path(p));
    let shown = fields.join("; ");
    scan.report_key_written(&rule.info, key, None, message, shown.clone(), user.clone());

    // The Parameters key has its own last-write time: when ServiceDll was set.
    if let Some(params) = &parameters
        && params.last_written() != key.last_written()
    {
        let message = format!(
            "Parameters of service \"{}\" last written (ServiceDll set or changed)",
            key.name
        );
        scan.report_key_written(&rule.info, params, None, message, shown, user);
    }
}

/// The group of `svchost.exe -k <group> [-p]`.
fn svchost_group(image_path: &str) -> Option<&str> {
    let lower = image_path.to_lowercase();
    if !lower.contains("svchost") {
        return None;
    }
    let at = lower.find("-k ")?;
    image_path[at + 3..].split_whitespace().next()
}

#[cfg(test)]
mod tests {
    #[test]
    fn svchost_group_is_read_from_image_path() {
        assert_eq!(
            super::svchost_group("%SystemRoot%\\System32\\svchost.exe -k Akamai"),
            Some("Akamai")
        );
        assert_eq!(
            super::svchost_group("C:\\x\\svchost.exe -k netsvcs -p"),
            Some("netsvcs")
        );
        assert_eq!(super::svchost_group("C:\\x\\spoolsv.exe"), None);
    }
}
