//! Analyst feedback and suppression: what an analyst said about findings, and the rules that
//! keep known-good activity quiet without deleting anything.
//!
//! Two mechanisms, both applied to findings after detection and before they are stored:
//!
//! * **Suppression rules** (config): match on detector, principal, account, source CIDR and
//!   user agent, carry a reason and an optional expiry. A suppressed finding keeps all its
//!   evidence and still feeds incidents; it is only hidden from default views and alerts.
//! * **Verdicts** (`detector feedback UID --verdict ...`). A false-positive or benign-expected
//!   verdict teaches what is normal *for that entity and the networks it was seen from*: the
//!   same finding again, or the same detector firing on the same entity, is suppressed only
//!   while every source address falls in a network the analyst already judged. The same action
//!   from a new network, or a repeat whose risk has grown well past the judged one, alerts
//!   again. That is the difference from a blind allowlist.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, ObservableType};

/// What the analyst concluded about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    TruePositive,
    FalsePositive,
    BenignExpected,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::TruePositive => "true-positive",
            Verdict::FalsePositive => "false-positive",
            Verdict::BenignExpected => "benign-expected",
        }
    }

    /// Whether the verdict says the behaviour is acceptable (and should stop alerting).
    pub fn is_benign(self) -> bool {
        !matches!(self, Verdict::TruePositive)
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "true-positive" | "tp" => Ok(Verdict::TruePositive),
            "false-positive" | "fp" => Ok(Verdict::FalsePositive),
            "benign-expected" | "benign" => Ok(Verdict::BenignExpected),
            _ => Err(format!(
                "unknown verdict `{s}` (true-positive, false-positive, benign-expected)"
            )),
        }
    }
}

/// Risk growth over the judged finding that makes a suppressed repeat alert again.
pub const ESCALATION_MARGIN: u8 = 15;

/// A verdict with what it taught: the finding's detector, entity and source networks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackEntry {
    pub finding_uid: String,
    pub verdict: Verdict,
    pub note: String,
    pub analyst: String,
    /// When the verdict was given (RFC 3339).
    pub created_at: String,
    pub detector: String,
    /// The entity the finding is about (principal, key, resource), if it names one.
    pub entity: Option<String>,
    /// Source networks (IPv4 /24, IPv6 /48) of the judged finding.
    pub networks: Vec<String>,
    /// Accounts the judged finding involves (its own and counterparties, e.g. the account a
    /// snapshot was shared with).
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Risk of the finding when it was judged.
    pub risk: u8,
}

impl FeedbackEntry {
    /// Records a verdict on `f`, learning its entity and networks.
    pub fn new(f: &Finding, verdict: Verdict, note: &str, analyst: &str, created_at: &str) -> Self {
        FeedbackEntry {
            finding_uid: f.uid.clone(),
            verdict,
            note: note.to_string(),
            analyst: analyst.to_string(),
            created_at: created_at.to_string(),
            detector: f.detector.clone(),
            entity: entity_of(f),
            networks: networks_of(f),
            accounts: accounts_of(f),
            risk: f.risk_score,
        }
    }
}

/// The entity a finding accuses: principal first, then access key, then resource.
pub fn entity_of(f: &Finding) -> Option<String> {
    [
        ObservableType::PrincipalArn,
        ObservableType::AccessKey,
        ObservableType::ResourceUid,
    ]
    .iter()
    .find_map(|k| f.observables.iter().find(|o| o.kind == *k))
    .map(|o| o.value.clone())
}

/// The finding's source networks, sorted and deduplicated.
pub fn networks_of(f: &Finding) -> Vec<String> {
    let mut v: Vec<String> = f
        .observables
        .iter()
        .filter(|o| o.kind == ObservableType::IpAddress)
        .filter_map(|o| o.value.parse::<IpAddr>().ok())
        .map(network_of)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Every account a finding involves, sorted and deduplicated.
pub fn accounts_of(f: &Finding) -> Vec<String> {
    let mut v: Vec<String> = f
        .observables
        .iter()
        .filter(|o| o.kind == ObservableType::Account)
        .map(|o| o.value.clone())
        .chain(f.account.clone())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The network an address is judged by: the /24 (IPv4) or /48 (IPv6) it sits in, which is
/// what one office, VPN egress or cloud NAT typically spans; the same granularity the
/// behavioural baselines learn networks at.
pub use crate::detect::activity::network_of;

/// A configured suppression rule. Every field given must match; at least one must be given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionRule {
    /// Detector id (`attack-tool`, `first-seen`...), `*` wildcards allowed.
    pub detector: Option<String>,
    /// Principal ARN or user name, `*` wildcards allowed.
    pub principal: Option<String>,
    pub account: Option<String>,
    /// Source network; the finding matches when one of its addresses is inside.
    pub cidr: Option<String>,
    /// User agent, `*` wildcards allowed.
    pub user_agent: Option<String>,
    /// Why; shown on every suppressed finding.
    pub reason: String,
    /// Last day the rule applies (`YYYY-MM-DD`, inclusive, UTC) or an RFC 3339 time.
    pub expires: Option<String>,
}

impl SuppressionRule {
    /// Problems that make the rule unusable.
    pub fn validate(&self) -> Result<(), String> {
        if self.reason.trim().is_empty() {
            return Err("a suppression rule needs a reason".into());
        }
        if self.detector.is_none()
            && self.principal.is_none()
            && self.account.is_none()
            && self.cidr.is_none()
            && self.user_agent.is_none()
        {
            return Err(
                "a suppression rule must match on at least one of detector, principal, account, cidr, user_agent"
                    .into(),
            );
        }
        if let Some(c) = &self.cidr {
            Cidr::parse(c)?;
        }
        if let Some(e) = &self.expires {
            expiry_ms(e)?;
        }
        Ok(())
    }

    /// Whether the rule has expired at `now_ms`.
    pub fn expired(&self, now_ms: i64) -> bool {
        self.expires
            .as_deref()
            .and_then(|e| expiry_ms(e).ok())
            .is_some_and(|end| now_ms > end)
    }

    pub fn matches(&self, f: &Finding) -> bool {
        let obs = |k: ObservableType| f.observables.iter().filter(move |o| o.kind == k);
        if let Some(d) = &self.detector
            && !wildcard(d, &f.detector)
        {
            return false;
        }
        if let Some(p) = &self.principal
            && !obs(ObservableType::PrincipalArn)
                .chain(obs(ObservableType::UserName))
                .any(|o| wildcard(p, &o.value))
        {
            return false;
        }
        if let Some(a) = &self.account {
            let in_finding = f.account.as_deref() == Some(a.as_str())
                || obs(ObservableType::Account).any(|o| &o.value == a);
            if !in_finding {
                return false;
            }
        }
        if let Some(c) = &self.cidr {
            let Ok(net) = Cidr::parse(c) else {
                return false;
            };
            if !obs(ObservableType::IpAddress)
                .filter_map(|o| o.value.parse::<IpAddr>().ok())
                .any(|ip| net.contains(ip))
            {
                return false;
            }
        }
        if let Some(u) = &self.user_agent
            && !obs(ObservableType::UserAgent).any(|o| wildcard(u, &o.value))
        {
            return false;
        }
        true
    }
}

/// Last millisecond an expiry covers.
fn expiry_ms(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s.len() == 10 {
        return crate::time::parse_iso8601_ms(&format!("{s}T23:59:59.999Z"))
            .ok_or_else(|| format!("expiry `{s}` is not a YYYY-MM-DD date"));
    }
    crate::time::parse_iso8601_ms(s)
        .ok_or_else(|| format!("expiry `{s}` is neither YYYY-MM-DD nor an RFC 3339 time"))
}

/// `*` matches any run of characters; everything else is literal, ASCII case-insensitive.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi].eq_ignore_ascii_case(&t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    base: u128,
    mask: u128,
    v4: bool,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, len) = match s.trim().split_once('/') {
            Some((a, l)) => (
                a,
                Some(
                    l.parse::<u32>()
                        .map_err(|_| format!("`{s}`: prefix length is not a number"))?,
                ),
            ),
            None => (s.trim(), None),
        };
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not an IP network"))?;
        let (bits, max) = match ip {
            IpAddr::V4(v) => (u128::from(u32::from(v)), 32),
            IpAddr::V6(v) => (u128::from(v), 128),
        };
        let len = len.unwrap_or(max);
        if len > max {
            return Err(format!("`{s}`: prefix length above {max}"));
        }
        let mask = if len == 0 {
            0
        } else {
            (u128::MAX << (128 - len)) >> (128 - max)
        };
        Ok(Cidr {
            base: bits & mask,
            mask,
            v4: max == 32,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v) if self.v4 => u128::from(u32::from(v)) & self.mask == self.base,
            IpAddr::V6(v) if !self.v4 => u128::from(v) & self.mask == self.base,
            _ => false,
        }
    }
}

/// Applies rules and learned verdicts to findings.
#[derive(Debug, Clone, Default)]
pub struct Suppressor {
    rules: Vec<SuppressionRule>,
    feedback: Vec<FeedbackEntry>,
}

/// What [`Suppressor::apply`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SuppressStats {
    pub by_rule: usize,
    pub by_verdict: usize,
    /// Findings like a judged one that alert anyway: new network or higher risk.
    pub resurfaced: usize,
}

impl Suppressor {
    /// `now_ms` decides which rules have expired. Invalid and expired rules are skipped
    /// (callers report them through [`SuppressionRule::validate`] and `expired`).
    pub fn new(rules: Vec<SuppressionRule>, feedback: Vec<FeedbackEntry>, now_ms: i64) -> Self {
        let rules = rules
            .into_iter()
            .filter(|r| r.validate().is_ok() && !r.expired(now_ms))
            .collect();
        Suppressor { rules, feedback }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.feedback.is_empty()
    }

    /// Decides each finding's suppression afresh (a rule that expired or a verdict that no
    /// longer covers it un-suppresses it). Nothing is removed.
    pub fn apply(&self, findings: &mut [Finding]) -> SuppressStats {
        let mut stats = SuppressStats::default();
        for f in findings {
            f.suppressed = None;
            if let Some(r) = self.rules.iter().find(|r| r.matches(f)) {
                f.suppressed = Some(format!("rule: {}", r.reason));
                stats.by_rule += 1;
                continue;
            }
            match self.judge(f) {
                Judged::Covered(reason) => {
                    f.suppressed = Some(reason);
                    stats.by_verdict += 1;
                }
                Judged::Resurfaced(why) => {
                    if !f.desc.contains(&why) {
                        f.desc = format!("{} {why}", f.desc);
                    }
                    stats.resurfaced += 1;
                }
                Judged::Unrelated => {}
            }
        }
        stats
    }

    fn judge(&self, f: &Finding) -> Judged {
        let nets = networks_of(f);
        let accounts = accounts_of(f);
        let entity = entity_of(f);
        let mut resurfaced = None;
        // Later verdicts win: an analyst may revise an earlier call.
        for fb in self.feedback.iter().rev() {
            let same_finding = fb.finding_uid == f.uid;
            let same_behaviour =
                fb.detector == f.detector && entity.is_some() && fb.entity == entity;
            if !same_finding && !same_behaviour {
                continue;
            }
            if !fb.verdict.is_benign() {
                return Judged::Unrelated;
            }
            let judged = format!(
                "An analyst judged a similar finding {} on {}",
                fb.verdict.name(),
                day(&fb.created_at)
            );
            let new_nets: Vec<&str> = nets
                .iter()
                .filter(|n| !fb.networks.contains(n))
                .map(String::as_str)
                .collect();
            let new_accounts: Vec<&str> = accounts
                .iter()
                .filter(|a| !fb.accounts.contains(a))
                .map(String::as_str)
                .collect();
            let why = if !new_nets.is_empty() {
                Some(format!(
                    "({judged}, but this one comes from a network not seen then: {}.)",
                    new_nets.join(", ")
                ))
            } else if !new_accounts.is_empty() {
                Some(format!(
                    "({judged}, but this one involves an account not seen then: {}.)",
                    new_accounts.join(", ")
                ))
            } else if f.risk_score >= fb.risk.saturating_add(ESCALATION_MARGIN) {
                Some(format!(
                    "({judged} at risk {}; it has grown to {}.)",
                    fb.risk, f.risk_score
                ))
            } else {
                None
            };
            if let Some(why) = why {
                resurfaced.get_or_insert(why);
                continue;
            }
            let note = if fb.note.is_empty() {
                String::new()
            } else {
                format!(": {}", fb.note)
            };
            return Judged::Covered(format!(
                "{} by {} on {}{}{}",
                fb.verdict.name(),
                if fb.analyst.is_empty() {
                    "an analyst"
                } else {
                    &fb.analyst
                },
                day(&fb.created_at),
                if same_finding {
                    String::new()
                } else {
                    format!(" (learned from finding {})", short(&fb.finding_uid))
                },
                note
            ));
        }
        match resurfaced {
            Some(why) => Judged::Resurfaced(why),
            None => Judged::Unrelated,
        }
    }
}

enum Judged {
    Covered(String),
    Resurfaced(String),
    Unrelated,
}

fn day(rfc3339: &str) -> &str {
    rfc3339.get(..10).unwrap_or(rfc3339)
}

fn short(uid: &str) -> &str {
    uid.get(..12).unwrap_or(uid)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::detect::{EngineConfig, FindingSpec};
    use crate::finding::{AnalyticType, Observable};

    fn finding(detector: &'static str, key: &str, principal: &str, ip: &str, risk: u8) -> Finding {
        let mut observables = crate::detect::principal_observables(principal);
        observables.push(Observable {
            kind: ObservableType::IpAddress,
            value: ip.into(),
        });
        observables.push(Observable {
            kind: ObservableType::UserAgent,
            value: "aws-cli/2.13.0 Python/3.11.4 Linux/5.15 exe/x86_64.kali.2023".into(),
        });
        FindingSpec {
            detector,
            detector_name: "Test",
            analytic: AnalyticType::Rule,
            key: &[key],
            title: "t".into(),
            desc: "d".into(),
            remediation: "r",
            attacks: &[],
            risk,
            confidence: 50,
            first_ms: 0,
            last_ms: 0,
            related: vec![],
            related_count: 0,
            observables,
            account: Some("111122223333".into()),
            region: None,
            anomaly: vec![],
        }
        .build(&EngineConfig::default())
    }

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    #[test]
    fn wildcards_and_cidrs() {
        assert!(wildcard("arn:aws:iam::*:user/ali*", ALICE));
        assert!(wildcard("*KALI*", "x.kali.2023"));
        assert!(!wildcard("arn:aws:iam::*:user/bob", ALICE));
        assert!(wildcard("*", ""));
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.1.2.3".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains("2001:db8:1::5".parse().unwrap())
        );
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(Cidr::parse("1.2.3.4/33").is_err());
        assert!(Cidr::parse("nonsense").is_err());
    }

    #[test]
    fn rules_need_every_given_field_and_expire() {
        let f = finding("attack-tool", "k", ALICE, "45.137.21.9", 60);
        let rule = SuppressionRule {
            detector: Some("attack-tool".into()),
            principal: Some("*:user/alice".into()),
            cidr: Some("45.137.21.0/24".into()),
            user_agent: Some("*kali*".into()),
            account: Some("111122223333".into()),
            reason: "pentest".into(),
            expires: Some("2026-12-31".into()),
        };
        assert!(rule.validate().is_ok());
        assert!(rule.matches(&f));
        let other_net = SuppressionRule {
            cidr: Some("10.0.0.0/8".into()),
            ..rule.clone()
        };
        assert!(!other_net.matches(&f));
        let mut v = vec![f.clone()];
        let jan_2027 = crate::time::parse_iso8601_ms("2027-01-01T00:00:00Z").unwrap();
        let dec_2026 = crate::time::parse_iso8601_ms("2026-12-31T12:00:00Z").unwrap();
        let s = Suppressor::new(vec![rule.clone()], vec![], dec_2026).apply(&mut v);
        assert_eq!(s.by_rule, 1);
        assert_eq!(v[0].suppressed.as_deref(), Some("rule: pentest"));
        Suppressor::new(vec![rule], vec![], jan_2027).apply(&mut v);
        assert_eq!(v[0].suppressed, None, "expired rules stop suppressing");
        let empty = SuppressionRule {
            reason: "x".into(),
            ..SuppressionRule::default()
        };
        assert!(empty.validate().is_err());
    }

    #[test]
    fn false_positive_verdict_learns_entity_and_network_not_the_action() {
        let judged = finding("first-seen", "a", ALICE, "198.51.100.7", 50);
        let fb = FeedbackEntry::new(
            &judged,
            Verdict::FalsePositive,
            "VPN",
            "sam",
            "2026-10-02T10:00:00Z",
        );
        assert_eq!(fb.networks, vec!["198.51.100.0/24".to_string()]);
        let sup = Suppressor::new(vec![], vec![fb], 0);
        // The judged finding and the same behaviour from the same network: quiet.
        let mut v = vec![
            judged.clone(),
            finding("first-seen", "b", ALICE, "198.51.100.99", 52),
            // Same action, new network: alerts, and says why.
            finding("first-seen", "c", ALICE, "45.137.21.9", 50),
            // Another principal from the same network: not covered.
            finding(
                "first-seen",
                "d",
                "arn:aws:iam::111122223333:user/bob",
                "198.51.100.7",
                50,
            ),
            // Same entity and network, much riskier: alerts again.
            finding("first-seen", "e", ALICE, "198.51.100.8", 80),
        ];
        let s = sup.apply(&mut v);
        assert!(
            v[0].suppressed
                .as_deref()
                .unwrap()
                .starts_with("false-positive by sam on 2026-10-02")
        );
        assert!(
            v[1].suppressed
                .as_deref()
                .unwrap()
                .contains("learned from finding")
        );
        assert_eq!(v[2].suppressed, None);
        assert!(v[2].desc.contains("45.137.21.0/24"), "{}", v[2].desc);
        assert_eq!(v[3].suppressed, None);
        assert_eq!(v[4].suppressed, None);
        assert!(v[4].desc.contains("grown to 80"));
        assert_eq!(
            s,
            SuppressStats {
                by_rule: 0,
                by_verdict: 2,
                resurfaced: 2
            }
        );
    }

    #[test]
    fn later_true_positive_verdict_overrides_and_counterparty_accounts_are_learned() {
        let judged = finding("resource-exposure", "a", ALICE, "198.51.100.7", 50);
        let mut no_ip = judged.clone();
        no_ip
            .observables
            .retain(|o| o.kind != ObservableType::IpAddress);
        no_ip.observables.push(Observable {
            kind: ObservableType::Account,
            value: "999988887777".into(),
        });
        let fp = FeedbackEntry::new(
            &no_ip,
            Verdict::BenignExpected,
            "",
            "",
            "2026-10-02T10:00:00Z",
        );
        assert_eq!(
            fp.accounts,
            vec!["111122223333".to_string(), "999988887777".to_string()]
        );
        let mut same_partner = no_ip.clone();
        same_partner.uid = "next-night".into();
        let mut new_partner = same_partner.clone();
        new_partner.uid = "other".into();
        new_partner
            .observables
            .retain(|o| o.value != "999988887777");
        new_partner.observables.push(Observable {
            kind: ObservableType::Account,
            value: "444455556666".into(),
        });
        let mut v = vec![no_ip.clone(), same_partner, new_partner];
        Suppressor::new(vec![], vec![fp.clone()], 0).apply(&mut v);
        assert!(v[0].suppressed.is_some());
        assert!(
            v[1].suppressed.is_some(),
            "the same share to the same partner is normal"
        );
        assert!(v[2].suppressed.is_none(), "a share to a new account alerts");
        assert!(v[2].desc.contains("444455556666"), "{}", v[2].desc);
        let tp = FeedbackEntry::new(
            &no_ip,
            Verdict::TruePositive,
            "",
            "",
            "2026-10-03T10:00:00Z",
        );
        let mut v = vec![no_ip];
        Suppressor::new(vec![], vec![fp, tp], 0).apply(&mut v);
        assert!(v[0].suppressed.is_none());
    }

    #[test]
    fn verdicts_parse() {
        assert_eq!("fp".parse::<Verdict>().unwrap(), Verdict::FalsePositive);
        assert_eq!(
            "benign-expected".parse::<Verdict>().unwrap(),
            Verdict::BenignExpected
        );
        assert!("maybe".parse::<Verdict>().is_err());
    }
}
