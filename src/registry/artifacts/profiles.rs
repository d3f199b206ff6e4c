//! Who the users are: SOFTWARE's ProfileList (SID -> profile folder) and, for a user's
//! own hive found without its location, the profile folder its Shell Folders name.

use super::super::HiveScan;
use super::super::hive::{Problem, RegKey};

/// (SID, user name, profile path) for every ProfileList entry.
pub fn read(root: &RegKey<'_>, problems: &mut Vec<Problem>) -> Vec<(String, String, String)> {
    let Some(list) = root.path_to(
        "Microsoft\\Windows NT\\CurrentVersion\\ProfileList",
        problems,
    ) else {
        return Vec::new();
    };
    list.subkeys(problems)
        .into_iter()
        .filter_map(|sid_key| {
            let path = sid_key.value("ProfileImagePath", problems)?.display();
            let user = path.rsplit(['\\', '/']).next().unwrap_or("").to_string();
            (!user.is_empty()).then(|| (sid_key.name.clone(), user, path))
        })
        .collect()
}

/// The user of an NTUSER/UsrClass hive from the folders it names for itself.
pub fn user_of_user_hive(scan: &mut HiveScan<'_, '_>) -> Option<String> {
    let root = scan.root.clone();
    let folders = root.path_to(
        "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Shell Folders",
        &mut scan.problems,
    )?;
    let values = folders.values(&mut scan.problems);
    values
        .iter()
        .filter(|v| {
            ["Desktop", "Local AppData", "AppData", "Personal"]
                .iter()
                .any(|n| v.name.eq_ignore_ascii_case(n))
        })
        .find_map(|v| scan.context.user_in_path(&v.display()))
}
