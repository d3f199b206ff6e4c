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
mod registered_key;
mod services;
mod shimcache;
mod svchost;
mod uninstall;
mod userassist;

pub use userassist::{parse_run_count, run_count_phrase};

use super::hive::RegKey;
use super::{HiveScan, Rule};
use crate::catalog::RegistryFamily;

/// Hand a resolved key to the family its rule names.
pub fn dispatch(scan: &mut HiveScan<'_, '_>, rule: &Rule, key: &RegKey<'_>) {
    match rule.family {
        RegistryFamily::Run => listed_values::analyze(scan, rule, key, listed_values::Kind::Run),
        RegistryFamily::MuiCache => {
            listed_values::analyze(scan, rule, key, listed_values::Kind::MuiCache)
        }
        RegistryFamily::Cpl => listed_values::analyze(scan, rule, key, listed_values::Kind::Cpl),
        RegistryFamily::Uninstall => uninstall::analyze(scan, rule, key),
        RegistryFamily::Service => services::analyze(scan, rule, key),
        RegistryFamily::Svchost => svchost::analyze(scan, rule, key),
        RegistryFamily::Firewall => firewall::analyze(scan, rule, key),
        RegistryFamily::FirewallXp => firewall_xp::analyze(scan, rule, key),
        RegistryFamily::Bam => bam::analyze(scan, rule, key),
        RegistryFamily::UserAssist => userassist::analyze(scan, rule, key),
        RegistryFamily::Amcache => inventory::analyze(scan, rule, key),
        RegistryFamily::AppCompatCache => shimcache::analyze(scan, rule, key),
        RegistryFamily::RegisteredKey => registered_key::analyze(scan, rule, key),
        // Its rule names no keys: recovered entries reach it in `deleted::matching`.
        RegistryFamily::DeletedEntry => {}
    }
}
