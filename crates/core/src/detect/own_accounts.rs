//! Telling the organization's own accounts from outsiders.
//!
//! Sharing a snapshot, trusting a role or granting a bucket to *another account* is how data
//! and access leave an organization, but most such changes name one of the organization's
//! own accounts (backup vaults, AMI pipelines, cross-account admin roles). Rules run per event
//! and cannot know the whole organization, so this pass runs once per scan over the findings:
//! an account counts as "own" when the configuration lists it or when the input holds its own
//! logs (it is the recipient of CloudTrail records or owns flow-logged interfaces). An outside
//! attacker's account never receives the victim's logs, so it can't become "own" this way.
//!
//! A finding whose counterparty accounts are all own is kept, lowered to informational and
//! says why; one naming any outsider is left as it is.

use std::collections::BTreeSet;

use crate::finding::{Finding, ObservableType, SeverityThresholds};

/// Highest risk a change confined to the organization keeps: informational.
pub const INTERNAL_RISK_CAP: u8 = 15;

/// Accounts other than the finding's own that it names.
pub fn counterparties(f: &Finding) -> BTreeSet<&str> {
    f.observables
        .iter()
        .filter(|o| o.kind == ObservableType::Account)
        .map(|o| o.value.as_str())
        .filter(|a| Some(*a) != f.account.as_deref())
        .collect()
}

/// Lowers findings about exchanges between the organization's own accounts. Returns how many
/// were lowered.
pub fn reconcile(
    findings: &mut [Finding],
    own: &BTreeSet<String>,
    thresholds: &SeverityThresholds,
) -> usize {
    let mut lowered = 0;
    for f in findings {
        if f.risk_score <= INTERNAL_RISK_CAP {
            continue;
        }
        let others = counterparties(f);
        if others.is_empty() || !others.iter().all(|a| own.contains(*a)) {
            continue;
        }
        let list = others.into_iter().collect::<Vec<_>>().join(", ");
        f.desc = format!(
            "{} Account {list} belongs to this organization (its own logs are in the input or it is listed in the configuration), so this stays inside; lowered from risk {}.",
            f.desc, f.risk_score
        );
        f.risk_score = INTERNAL_RISK_CAP;
        f.severity = thresholds.severity(INTERNAL_RISK_CAP);
        lowered += 1;
    }
    lowered
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::detect::{EngineConfig, FindingSpec};
    use crate::finding::{AnalyticType, Observable, Severity};

    fn share(with: &[&str]) -> Finding {
        FindingSpec {
            detector: "resource-exposure",
            detector_name: "Resource exposure",
            analytic: AnalyticType::Rule,
            key: with,
            title: "EBS snapshot shared".into(),
            desc: "Shared.".into(),
            remediation: "r",
            attacks: &["T1537"],
            risk: 50,
            confidence: 80,
            first_ms: 0,
            last_ms: 0,
            related: vec![],
            related_count: 0,
            observables: with
                .iter()
                .map(|a| Observable {
                    kind: ObservableType::Account,
                    value: a.to_string(),
                })
                .collect(),
            account: Some("111111111111".into()),
            region: None,
            anomaly: vec![],
        }
        .build(&EngineConfig::default())
    }

    #[test]
    fn only_changes_confined_to_own_accounts_are_lowered() {
        let own: BTreeSet<String> = ["111111111111", "222222222222"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut v = vec![
            share(&["222222222222"]),
            share(&["222222222222", "999999999999"]),
            share(&["999999999999"]),
            share(&[]),
        ];
        let n = reconcile(&mut v, &own, &SeverityThresholds::default());
        assert_eq!(n, 1);
        assert_eq!(v[0].severity, Severity::Informational);
        assert!(
            v[0].desc
                .contains("222222222222 belongs to this organization")
        );
        assert!(v[0].desc.contains("lowered from risk 50"));
        for f in &v[1..] {
            assert_eq!(f.risk_score, 50, "{}", f.desc);
        }
    }
}
