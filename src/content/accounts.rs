//! Names of accounts that evidence gives by SID: the well-known service accounts by
//! their names (ProfileList calls their profile folders `systemprofile`,
//! `LocalService`...), a profile's user from ProfileList, else the SID itself.

/// The name of `sid`, given the (SID, user name) pairs of the system's ProfileList.
pub fn account_name(sid: &str, users: &[(String, String)]) -> String {
    match sid {
        "S-1-5-18" => return "SYSTEM".into(),
        "S-1-5-19" => return "LOCAL SERVICE".into(),
        "S-1-5-20" => return "NETWORK SERVICE".into(),
        _ => {}
    }
    users
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(sid))
        .map(|(_, name)| name.clone())
        .unwrap_or_else(|| sid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_accounts_before_profiles() {
        let users = vec![
            ("S-1-5-18".to_string(), "systemprofile".to_string()),
            ("S-1-5-21-1-2-3-1001".to_string(), "zoe".to_string()),
        ];
        assert_eq!(account_name("S-1-5-18", &users), "SYSTEM");
        assert_eq!(account_name("s-1-5-21-1-2-3-1001", &users), "zoe");
        assert_eq!(account_name("S-1-5-21-9", &users), "S-1-5-21-9");
        assert_eq!(account_name("S-1-5-20", &[]), "NETWORK SERVICE");
    }
}
