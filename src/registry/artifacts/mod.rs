//! The artifact families: one module each, all with the same entry point
//! `fn analyze(scan, rule, key)` for a key that a catalog rule's pattern resolved to.
//! A family reports only entries that name NetSession; unrelated entries in the same
//! keys never become rows.

pub mod appcompatcache;
mod bam;
mod firewall;
mod firewall_xp;
mod inventory;
mod listed_values;
pub mod profiles;
mod services;
mod shimcache;
mod svchost;
mod uninstall;
mod userassist;

use super::hive::RegKey;
use super::{HiveScan, Rule};

/// Hand a resolved key to the family its rule names.
pub fn dispatch(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    match rule.family.as_str() {
        "run" => listed_values::analyze(scan, rule, key, listed_values::Kind::Run),
        "muicache" => listed_values::analyze(scan, rule, key, listed_values::Kind::MuiCache),
        "cpl" => listed_values::analyze(scan, rule, key, listed_values::Kind::Cpl),
        "uninstall" => uninstall::analyze(scan, rule, key),
        "service" => services::analyze(scan, rule, key),
        "svchost" => svchost::analyze(scan, rule, key),
        "firewall" => firewall::analyze(scan, rule, key),
        "firewall_xp" => firewall_xp::analyze(scan, rule, key),
        "bam" => bam::analyze(scan, rule, key),
        "userassist" => userassist::analyze(scan, rule, key),
        "amcache" => inventory::analyze(scan, rule, key),
        "appcompatcache" => shimcache::analyze(scan, rule, key),
        other => scan.problems.push((
            format!("catalog rule {}", rule.info.id),
            format!("unknown registry family {other:?}; rule skipped"),
        )),
    }
}
