//! Shared pieces of the sequence detectors: the evidence a window collects, and how a closed
//! window becomes a finding.
//!
//! Windows are gap-based: a window stays open while events for its key keep arriving within
//! `gap` of the previous one (and within `max_span` of the first), and is judged when it closes,
//! either because a later event of the same key starts a new window or because the watermark
//! passed its end. Judging at close means one finding per burst, with every event attached,
//! instead of one per event.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Activity, EngineConfig, FindingSpec};
use crate::finding::{AnalyticType, Finding, Observable, ObservableType, RELATED_CAP, Resource};

/// Related uids kept per window (the true count is kept beside them).
const KEEP: usize = RELATED_CAP;
/// Distinct IPs, keys and agents kept per window for the finding's observables.
const KEEP_SMALL: usize = 16;

/// What a window saw.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    pub first_ms: i64,
    pub last_ms: i64,
    pub related: Vec<String>,
    pub count: u64,
    pub account: Option<String>,
    pub region: Option<String>,
    pub ips: BTreeSet<String>,
    pub keys: BTreeSet<String>,
    pub agents: BTreeSet<String>,
}

impl Evidence {
    pub fn new(a: &Activity) -> Self {
        let mut e = Evidence {
            first_ms: a.time_ms,
            last_ms: a.time_ms,
            ..Evidence::default()
        };
        e.add(a);
        e.count = 1;
        e
    }

    /// Adds an activity (its time, uid, account, region, IP, key, agent).
    pub fn add(&mut self, a: &Activity) {
        self.first_ms = self.first_ms.min(a.time_ms);
        self.last_ms = self.last_ms.max(a.time_ms);
        self.count += 1;
        if self.related.len() < KEEP {
            self.related.push(a.uid.to_string());
        }
        if self.account.is_none() {
            self.account = a.account.as_deref().map(str::to_string);
        }
        if self.region.is_none() {
            self.region = a.region.as_deref().map(str::to_string);
        }
        if let Some(ip) = a.src_ip
            && self.ips.len() < KEEP_SMALL
        {
            self.ips.insert(ip.to_string());
        }
        if let Some(k) = a.access_key.as_deref()
            && self.keys.len() < KEEP_SMALL
        {
            self.keys.insert(k.to_string());
        }
        if let Some(u) = a.user_agent.as_deref()
            && self.agents.len() < 4
        {
            self.agents.insert(u.to_string());
        }
    }

    /// Whether `t` still belongs to this window.
    pub fn fits(&self, t: i64, gap: i64, max_span: i64) -> bool {
        t - self.last_ms <= gap && t - self.first_ms <= max_span
    }

    pub fn observables(&self) -> Vec<Observable> {
        let mut v: Vec<Observable> = self
            .ips
            .iter()
            .map(|i| Observable {
                kind: ObservableType::IpAddress,
                value: i.clone(),
            })
            .collect();
        v.extend(self.keys.iter().map(|k| Observable {
            kind: ObservableType::AccessKey,
            value: k.clone(),
        }));
        v.extend(self.agents.iter().map(|u| Observable {
            kind: ObservableType::UserAgent,
            value: u.clone(),
        }));
        v
    }
}

/// Everything a sequence finding needs besides its evidence.
pub struct Report<'a> {
    pub detector: &'static str,
    pub name: &'static str,
    pub key: &'a [&'a str],
    pub title: String,
    pub desc: String,
    pub remediation: &'static str,
    pub attacks: &'a [&'static str],
    pub risk: u8,
    pub confidence: u8,
    pub observables: Vec<Observable>,
    pub resources: Vec<Resource>,
    pub anomaly: Vec<serde_json::Value>,
}

/// Builds the finding of a closed window.
pub fn finding(ev: &Evidence, rep: Report<'_>, cfg: &EngineConfig) -> Finding {
    let mut observables = rep.observables;
    observables.extend(ev.observables());
    for r in &rep.resources {
        observables.push(Observable {
            kind: ObservableType::ResourceUid,
            value: r.uid.clone(),
        });
    }
    let mut f = FindingSpec {
        detector: rep.detector,
        detector_name: rep.name,
        analytic: AnalyticType::Behavioral,
        key: rep.key,
        title: rep.title,
        desc: rep.desc,
        remediation: rep.remediation,
        attacks: rep.attacks,
        risk: rep.risk,
        confidence: rep.confidence,
        first_ms: ev.first_ms,
        last_ms: ev.last_ms,
        related: ev.related.clone(),
        related_count: ev.count,
        observables,
        account: ev.account.clone(),
        region: ev.region.clone(),
        anomaly: rep.anomaly,
    }
    .build(cfg);
    f.resources = rep.resources;
    f
}

/// `arn:aws:sts::1:assumed-role/R/session` -> `arn:aws:iam::1:role/R`; other values unchanged.
pub fn fold_session(arn: &str) -> String {
    if let Some(rest) = arn.strip_prefix("arn:aws:sts::")
        && let Some((acct, path)) = rest.split_once(":assumed-role/")
    {
        let role = path.split('/').next().unwrap_or(path);
        return format!("arn:aws:iam::{acct}:role/{role}");
    }
    arn.to_string()
}

/// The account of a principal key: an ARN's account field, or `account:<id>`.
pub fn account_of(principal: &str) -> Option<&str> {
    if let Some(a) = principal.strip_prefix("account:") {
        return Some(a);
    }
    let acct = principal.strip_prefix("arn:")?.split(':').nth(3)?;
    (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())).then_some(acct)
}

/// Joins up to `max` items, with "..." when there are more.
pub fn join<T: AsRef<str>>(items: impl IntoIterator<Item = T>, max: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut more = false;
    for (i, x) in items.into_iter().enumerate() {
        if i >= max {
            more = true;
            break;
        }
        out.push(x.as_ref().to_string());
    }
    if more {
        out.push("...".into());
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_fold_into_roles() {
        assert_eq!(
            fold_session("arn:aws:sts::111122223333:assumed-role/App/i-0abc"),
            "arn:aws:iam::111122223333:role/App"
        );
        assert_eq!(
            fold_session("arn:aws:iam::111122223333:user/bob"),
            "arn:aws:iam::111122223333:user/bob"
        );
        assert_eq!(
            account_of("arn:aws:iam::111122223333:user/bob"),
            Some("111122223333")
        );
        assert_eq!(account_of("account:999988887777"), Some("999988887777"));
        assert_eq!(account_of("bob"), None);
        assert_eq!(join(["a", "b", "c"], 2), "a, b, ...");
    }
}
