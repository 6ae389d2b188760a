//! The MITRE ATT&CK (Enterprise, cloud) techniques this product reports, with their primary
//! tactic. Detectors name techniques by id; the table gives the names OCSF wants.

use crate::finding::Attack;

const fn a(
    technique_uid: &'static str,
    technique: &'static str,
    tactic_uid: &'static str,
    tactic: &'static str,
) -> Attack {
    Attack {
        tactic_uid,
        tactic,
        technique_uid,
        technique,
    }
}

const INITIAL_ACCESS: (&str, &str) = ("TA0001", "Initial Access");
const EXECUTION: (&str, &str) = ("TA0002", "Execution");
const PERSISTENCE: (&str, &str) = ("TA0003", "Persistence");
const PRIV_ESC: (&str, &str) = ("TA0004", "Privilege Escalation");
const DEFENSE_EVASION: (&str, &str) = ("TA0005", "Defense Evasion");
const CRED_ACCESS: (&str, &str) = ("TA0006", "Credential Access");
const DISCOVERY: (&str, &str) = ("TA0007", "Discovery");
const LATERAL: (&str, &str) = ("TA0008", "Lateral Movement");
const COLLECTION: (&str, &str) = ("TA0009", "Collection");
const EXFILTRATION: (&str, &str) = ("TA0010", "Exfiltration");
const IMPACT: (&str, &str) = ("TA0040", "Impact");

macro_rules! t {
    ($id:literal, $name:literal, $tac:expr) => {
        a($id, $name, $tac.0, $tac.1)
    };
}

/// Every technique the detectors may name.
pub const TECHNIQUES: &[Attack] = &[
    t!("T1078", "Valid Accounts", INITIAL_ACCESS),
    t!(
        "T1078.004",
        "Valid Accounts: Cloud Accounts",
        INITIAL_ACCESS
    ),
    t!("T1199", "Trusted Relationship", INITIAL_ACCESS),
    t!("T1651", "Cloud Administration Command", EXECUTION),
    t!("T1059", "Command and Scripting Interpreter", EXECUTION),
    t!("T1648", "Serverless Execution", EXECUTION),
    t!("T1098", "Account Manipulation", PERSISTENCE),
    t!(
        "T1098.001",
        "Account Manipulation: Additional Cloud Credentials",
        PERSISTENCE
    ),
    t!(
        "T1098.003",
        "Account Manipulation: Additional Cloud Roles",
        PERSISTENCE
    ),
    t!(
        "T1098.004",
        "Account Manipulation: SSH Authorized Keys",
        PERSISTENCE
    ),
    t!("T1136.003", "Create Account: Cloud Account", PERSISTENCE),
    t!(
        "T1484.002",
        "Domain or Tenant Policy Modification: Trust Modification",
        PRIV_ESC
    ),
    t!(
        "T1548.005",
        "Abuse Elevation Control Mechanism: Temporary Elevated Cloud Access",
        PRIV_ESC
    ),
    t!(
        "T1562.001",
        "Impair Defenses: Disable or Modify Tools",
        DEFENSE_EVASION
    ),
    t!(
        "T1562.007",
        "Impair Defenses: Disable or Modify Cloud Firewall",
        DEFENSE_EVASION
    ),
    t!(
        "T1562.008",
        "Impair Defenses: Disable or Modify Cloud Logs",
        DEFENSE_EVASION
    ),
    t!("T1535", "Unused/Unsupported Cloud Regions", DEFENSE_EVASION),
    t!(
        "T1578",
        "Modify Cloud Compute Infrastructure",
        DEFENSE_EVASION
    ),
    t!("T1666", "Modify Cloud Resource Hierarchy", DEFENSE_EVASION),
    t!(
        "T1578.002",
        "Modify Cloud Compute Infrastructure: Create Cloud Instance",
        DEFENSE_EVASION
    ),
    t!(
        "T1550.001",
        "Use Alternate Authentication Material: Application Access Token",
        LATERAL
    ),
    t!(
        "T1552.005",
        "Unsecured Credentials: Cloud Instance Metadata API",
        CRED_ACCESS
    ),
    t!("T1552", "Unsecured Credentials", CRED_ACCESS),
    t!(
        "T1555.006",
        "Credentials from Password Stores: Cloud Secrets Management Stores",
        CRED_ACCESS
    ),
    t!("T1040", "Network Sniffing", CRED_ACCESS),
    t!("T1110", "Brute Force", CRED_ACCESS),
    t!("T1110.001", "Brute Force: Password Guessing", CRED_ACCESS),
    t!("T1110.003", "Brute Force: Password Spraying", CRED_ACCESS),
    t!("T1087.004", "Account Discovery: Cloud Account", DISCOVERY),
    t!(
        "T1069.003",
        "Permission Groups Discovery: Cloud Groups",
        DISCOVERY
    ),
    t!("T1580", "Cloud Infrastructure Discovery", DISCOVERY),
    t!("T1526", "Cloud Service Discovery", DISCOVERY),
    t!("T1619", "Cloud Storage Object Discovery", DISCOVERY),
    t!("T1046", "Network Service Discovery", DISCOVERY),
    t!("T1021", "Remote Services", LATERAL),
    t!("T1021.004", "Remote Services: SSH", LATERAL),
    t!("T1530", "Data from Cloud Storage", COLLECTION),
    t!("T1005", "Data from Local System", COLLECTION),
    t!("T1537", "Transfer Data to Cloud Account", EXFILTRATION),
    t!(
        "T1048",
        "Exfiltration Over Alternative Protocol",
        EXFILTRATION
    ),
    t!("T1567", "Exfiltration Over Web Service", EXFILTRATION),
    t!("T1485", "Data Destruction", IMPACT),
    t!("T1486", "Data Encrypted for Impact", IMPACT),
    t!("T1490", "Inhibit System Recovery", IMPACT),
    t!("T1496", "Resource Hijacking", IMPACT),
    t!("T1496.001", "Resource Hijacking: Compute Hijacking", IMPACT),
    t!("T1531", "Account Access Removal", IMPACT),
    t!("T1489", "Service Stop", IMPACT),
];

/// Looks a technique up by id (`T1078.004`).
pub fn lookup(id: &str) -> Option<Attack> {
    TECHNIQUES.iter().copied().find(|t| t.technique_uid == id)
}

/// Kill-chain position of a tactic, for ordering incident timelines.
pub fn tactic_order(tactic_uid: &str) -> usize {
    const ORDER: [&str; 11] = [
        "TA0001", "TA0002", "TA0003", "TA0004", "TA0005", "TA0006", "TA0007", "TA0008", "TA0009",
        "TA0010", "TA0040",
    ];
    ORDER
        .iter()
        .position(|t| *t == tactic_uid)
        .unwrap_or(ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        for (i, t) in TECHNIQUES.iter().enumerate() {
            assert!(t.technique_uid.starts_with('T'), "{}", t.technique_uid);
            assert!(t.tactic_uid.starts_with("TA"));
            assert!(
                TECHNIQUES[i + 1..]
                    .iter()
                    .all(|o| o.technique_uid != t.technique_uid)
            );
        }
        assert_eq!(
            lookup("T1562.008").map(|t| t.tactic),
            Some("Defense Evasion")
        );
        assert!(lookup("T9999").is_none());
    }
}
