//! First-seen behaviour per principal: a new API, service, region, network or client family.
//!
//! **What**: after an identity's learning period, the things it does for the first time. Facts
//! observed in the same hour are combined into one episode and scored together: one new API is
//! routine, a new network plus a new client plus a new region is a stolen credential.
//! **Why**: leaked keys are used from the attacker's network with the attacker's tools; cloud
//! attacks reach for services and regions the victim never used (T1535).
//! **Baseline**: per principal, the sets of APIs, services, regions, networks (/24, /48) and
//! client families seen, with the principal's first-seen time. No accusation during the
//! learning period (`learning_days`, default 7 days from the principal's first event).
//! **False positives**: travel (one new network alone scores below the bar), a new project (new
//! service alone scores low), new tooling. Repeats of the same novelty update one finding.
//! **ATT&CK**: T1078.004, T1535, T1526.
//! **References**: Netflix "Detecting Credential Compromise in AWS" (2018); Rhino Security
//! Labs, Pacu user agents.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::baseline::{DAY_MS, HOUR_MS};
use super::{
    Activity, Ctx, Detector, FindingSpec, PrincipalKind, UaFamily, anomaly_entry,
    principal_observables, privilege_weight, risk_score, sensitivity,
};
use crate::finding::{AnalyticType, Observable, ObservableType, RELATED_CAP};

const ID: &str = "first-seen";
/// Networks remembered per principal; the least recently seen is forgotten first.
const MAX_ORIGINS: usize = 128;
/// Score an episode needs to become a finding.
const MIN_STRENGTH: f64 = 0.5;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Profile {
    kind: Option<PrincipalKind>,
    first_ms: i64,
    apis: BTreeSet<String>,
    services: BTreeSet<String>,
    regions: BTreeSet<String>,
    /// network -> last seen (ms)
    origins: BTreeMap<String, i64>,
    ua_families: BTreeSet<UaFamily>,
    /// Novelties seen after the first day, per kind (API, service, region, network, client):
    /// an identity that keeps meeting new networks (CI runners, mobile users) or new APIs
    /// (deployment pipelines) is less surprised by one more.
    novel_late: [u32; 5],
}

const K_API: usize = 0;
const K_SERVICE: usize = 1;
const K_REGION: usize = 2;
const K_ORIGIN: usize = 3;
const K_UA: usize = 4;

impl Profile {
    /// Weight multiplier for a novelty of `kind` at `time_ms`: 1 for an identity that rarely
    /// meets new things, towards 0 for one that meets them daily.
    fn surprise(&self, kind: usize, time_ms: i64) -> f64 {
        let days = ((time_ms - self.first_ms) as f64 / DAY_MS as f64 - 1.0).max(1.0);
        let rate = f64::from(self.novel_late[kind]) / days;
        1.0 / (1.0 + 2.0 * rate)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Episode {
    hour: i64,
    first_ms: i64,
    last_ms: i64,
    new_apis: BTreeSet<String>,
    new_sensitive: BTreeSet<String>,
    new_services: BTreeSet<String>,
    new_regions: BTreeSet<String>,
    new_origins: BTreeSet<String>,
    new_public_origin: bool,
    new_ua: BTreeSet<UaFamily>,
    user_agents: BTreeSet<String>,
    ips: BTreeSet<String>,
    access_keys: BTreeSet<String>,
    related: Vec<String>,
    related_count: u64,
    account: Option<String>,
    region: Option<String>,
    max_sensitivity: f64,
    /// Per kind, the surprise multiplier when the episode's novelties were seen.
    surprise: [f64; 5],
}

/// See the module documentation.
#[derive(Default)]
pub struct FirstSeen {
    profiles: BTreeMap<String, Profile>,
    episodes: BTreeMap<String, Episode>,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    profiles: BTreeMap<String, Profile>,
    episodes: BTreeMap<String, Episode>,
}

fn ua_weight(f: UaFamily) -> f64 {
    match f {
        UaFamily::Offensive => 0.9,
        UaFamily::HttpTool | UaFamily::Unknown => 0.4,
        UaFamily::AwsInternal => 0.0,
        _ => 0.3,
    }
}

impl FirstSeen {
    fn score(ep: &Episode) -> (f64, Vec<String>) {
        let mut parts: Vec<(f64, String)> = Vec::new();
        let m = ep.surprise;
        if let Some(w) = ep
            .new_ua
            .iter()
            .map(|f| ua_weight(*f) * m[K_UA])
            .reduce(f64::max)
            .filter(|w| *w > 0.0)
        {
            let names: Vec<&str> = ep.new_ua.iter().map(|f| f.name()).collect();
            parts.push((
                w,
                format!("first use of client family {}", names.join(", ")),
            ));
        }
        if !ep.new_origins.is_empty() {
            let w = if ep.new_public_origin { 0.35 } else { 0.1 } * m[K_ORIGIN];
            parts.push((
                w,
                format!("first call from network {}", join(&ep.new_origins, 3)),
            ));
        }
        if !ep.new_regions.is_empty() {
            parts.push((
                0.35 * m[K_REGION],
                format!("first activity in region {}", join(&ep.new_regions, 3)),
            ));
        }
        if !ep.new_services.is_empty() {
            let w = (0.15 + 0.05 * ep.new_services.len() as f64).min(0.4) * m[K_SERVICE];
            parts.push((
                w,
                format!("first use of service {}", join(&ep.new_services, 4)),
            ));
        }
        if !ep.new_apis.is_empty() {
            let n = ep.new_apis.len() as f64;
            let mut w = (0.04 * n).min(0.5);
            if !ep.new_sensitive.is_empty() {
                w = w.max(0.25);
            }
            w *= m[K_API];
            parts.push((
                w,
                format!(
                    "{} API(s) never called before ({})",
                    ep.new_apis.len(),
                    join(&ep.new_apis, 5)
                ),
            ));
        }
        let strength = 1.0 - parts.iter().map(|(w, _)| 1.0 - w).product::<f64>();
        (strength, parts.into_iter().map(|(_, s)| s).collect())
    }

    fn close(&mut self, principal: &str, ctx: &mut Ctx) {
        let Some(ep) = self.episodes.remove(principal) else {
            return;
        };
        let (strength, facts) = Self::score(&ep);
        if strength < MIN_STRENGTH {
            return;
        }
        let kind = self
            .profiles
            .get(principal)
            .and_then(|p| p.kind)
            .unwrap_or(PrincipalKind::Unknown);
        let risk = risk_score(
            strength,
            privilege_weight(kind, principal),
            0.75,
            ep.max_sensitivity,
        );
        let history_days = self
            .profiles
            .get(principal)
            .map_or(0, |p| (ep.first_ms - p.first_ms).div_euclid(DAY_MS));
        let desc = format!(
            "{principal} did things it had never done in {history_days} days of history: {}. \
             Source IPs: {}; user agents: {}. Check with the owner whether this was them; if not, \
             treat the credentials as compromised.",
            facts.join("; "),
            join(&ep.ips, 4),
            join(&ep.user_agents, 2),
        );
        let mut observables = principal_observables(principal);
        observables.extend(ep.ips.iter().map(|ip| Observable {
            kind: ObservableType::IpAddress,
            value: ip.clone(),
        }));
        observables.extend(ep.user_agents.iter().map(|u| Observable {
            kind: ObservableType::UserAgent,
            value: u.clone(),
        }));
        observables.extend(ep.access_keys.iter().map(|k| Observable {
            kind: ObservableType::AccessKey,
            value: k.clone(),
        }));
        let mut attacks = vec!["T1078.004"];
        if !ep.new_regions.is_empty() {
            attacks.push("T1535");
        }
        if ep.new_apis.len() >= 10 {
            attacks.push("T1526");
        }
        // The novelty itself identifies the activity: the same new network/client/region
        // seen again later updates this finding rather than raising another.
        let signature = format!(
            "{}|{}|{}|{:?}",
            join(&ep.new_origins, 8),
            join(&ep.new_regions, 8),
            join(&ep.new_services, 8),
            ep.new_ua
        );
        let anomaly = vec![anomaly_entry(
            &format!("first-seen behaviour of {principal}"),
            (principal, "principal"),
            "new behaviour",
            facts.join("; "),
            (ep.first_ms, ep.last_ms),
            format!("novelty score {strength:.2}"),
            vec![("history_days", history_days.to_string())],
            "every API, service, region, network and client family seen for this principal",
        )];
        let f = FindingSpec {
            detector: ID,
            detector_name: "First-seen behaviour",
            analytic: AnalyticType::Behavioral,
            key: &[principal, &signature],
            title: format!("New behaviour for {principal}: {}", facts.first().cloned().unwrap_or_default()),
            desc,
            remediation: "Verify with the identity's owner. If not expected: deactivate the access keys or revoke \
                          the role sessions involved, block the source network, and review every call made \
                          from it.",
            attacks: &attacks,
            risk,
            confidence: 65,
            first_ms: ep.first_ms,
            last_ms: ep.last_ms,
            related: ep.related,
            related_count: ep.related_count,
            observables,
            account: ep.account,
            region: ep.region,
            anomaly,
        }
        .build(ctx.cfg);
        ctx.out.push(f);
    }
}

/// Services whose CloudTrail events carry `us-east-1` (or their home region) for every caller.
fn is_global_service(service: &str) -> bool {
    matches!(
        service,
        "iam"
            | "organizations"
            | "route53"
            | "route53domains"
            | "cloudfront"
            | "globalaccelerator"
            | "support"
            | "health"
            | "signin"
            | "account"
            | "budgets"
            | "ce"
            | "waf"
            | "trustedadvisor"
            | "sso"
            | "sso-directory"
            | "identitystore"
            | "shield"
            | "pricing"
    )
}

fn join<T: AsRef<str>>(set: &BTreeSet<T>, max: usize) -> String {
    let mut s: Vec<&str> = set.iter().map(AsRef::as_ref).take(max).collect();
    if set.len() > max {
        s.push("...");
    }
    s.join(", ")
}

impl Detector for FirstSeen {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        if a.flow.is_some() || a.s3.is_some() {
            return;
        }
        let Some(principal) = a.principal.as_deref() else {
            return;
        };
        if matches!(
            a.principal_kind,
            PrincipalKind::AwsService | PrincipalKind::Anonymous
        ) {
            return;
        }
        let hour = a.time_ms.div_euclid(HOUR_MS);
        if self.episodes.get(principal).is_some_and(|e| e.hour < hour) {
            self.close(principal, ctx);
        }
        let p = self
            .profiles
            .entry(principal.to_string())
            .or_insert_with(|| Profile {
                kind: Some(a.principal_kind),
                first_ms: a.time_ms,
                ..Profile::default()
            });
        let learned = a.time_ms - p.first_ms >= i64::from(ctx.cfg.learning_days) * DAY_MS;
        let api = a.api.as_deref().unwrap_or("");
        let service = api.split(':').next().unwrap_or("");
        let new_api = !api.is_empty() && p.apis.insert(api.to_string());
        let new_service = !service.is_empty() && p.services.insert(service.to_string());
        // Global services log in us-east-1 whatever region the caller works in, so their
        // region says nothing about the caller.
        let new_region = !is_global_service(service)
            && a.region
                .as_deref()
                .is_some_and(|r| p.regions.insert(r.to_string()));
        let new_ua = p.ua_families.insert(a.ua_family);
        let new_origin = match a.origin.as_deref() {
            Some(o) => {
                let fresh = !p.origins.contains_key(o);
                p.origins.insert(o.to_string(), a.time_ms);
                if p.origins.len() > MAX_ORIGINS
                    && let Some(oldest) = p
                        .origins
                        .iter()
                        .min_by_key(|(_, t)| **t)
                        .map(|(k, _)| k.clone())
                {
                    p.origins.remove(&oldest);
                }
                fresh
            }
            None => false,
        };
        let novel = [new_api, new_service, new_region, new_origin, new_ua];
        let surprise: [f64; 5] = std::array::from_fn(|k| p.surprise(k, a.time_ms));
        if a.time_ms - p.first_ms > DAY_MS {
            for (k, n) in novel.iter().enumerate() {
                p.novel_late[k] += u32::from(*n);
            }
        }
        if !learned || !novel.iter().any(|n| *n) {
            // Novelty in the same hour as an open episode still counts towards it.
            if let Some(ep) = self.episodes.get_mut(principal) {
                ep.last_ms = a.time_ms;
                ep.related_count += 1;
                if ep.related.len() < RELATED_CAP {
                    ep.related.push(a.uid.to_string());
                }
            }
            return;
        }
        let ep = self
            .episodes
            .entry(principal.to_string())
            .or_insert_with(|| Episode {
                hour,
                first_ms: a.time_ms,
                ..Episode::default()
            });
        ep.last_ms = a.time_ms;
        ep.related_count += 1;
        if ep.related.len() < RELATED_CAP {
            ep.related.push(a.uid.to_string());
        }
        for (k, n) in novel.iter().enumerate() {
            if *n {
                ep.surprise[k] = surprise[k];
            }
        }
        if ep.account.is_none() {
            ep.account = a.account.as_deref().map(str::to_string);
        }
        if ep.region.is_none() {
            ep.region = a.region.as_deref().map(str::to_string);
        }
        let sens = sensitivity(api, a.read_only);
        ep.max_sensitivity = ep.max_sensitivity.max(sens);
        if new_api {
            ep.new_apis.insert(api.to_string());
            if sens >= 0.9 {
                ep.new_sensitive.insert(api.to_string());
            }
        }
        if new_service {
            ep.new_services.insert(service.to_string());
        }
        if new_region && let Some(r) = a.region.as_deref() {
            ep.new_regions.insert(r.to_string());
        }
        if new_ua {
            ep.new_ua.insert(a.ua_family);
        }
        if new_origin && let Some(o) = a.origin.as_deref() {
            ep.new_origins.insert(o.to_string());
            ep.new_public_origin |= a.src_ip.is_some_and(super::activity::is_public);
        }
        if let Some(ip) = a.src_ip {
            ep.ips.insert(ip.to_string());
        }
        if let Some(ua) = a.user_agent.as_deref()
            && ep.user_agents.len() < 4
        {
            ep.user_agents.insert(ua.to_string());
        }
        if let Some(k) = a.access_key.as_deref()
            && ep.access_keys.len() < 4
        {
            ep.access_keys.insert(k.to_string());
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        let due: Vec<String> = self
            .episodes
            .iter()
            .filter(|(_, e)| e.hour.saturating_add(1).saturating_mul(HOUR_MS) <= watermark_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            self.close(&k, ctx);
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&Saved {
            profiles: self.profiles.clone(),
            episodes: self.episodes.clone(),
        })
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        let s: Saved = super::decode(bytes)?;
        self.profiles = s.profiles;
        self.episodes = s.episodes;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.profiles.len()
    }

    fn describe(&self, entity: &str) -> Option<serde_json::Value> {
        let p = self.profiles.get(entity)?;
        Some(serde_json::json!({
            "principal": entity,
            "kind": p.kind,
            "first_seen": crate::time::format_iso8601_ms(p.first_ms),
            "apis": p.apis,
            "services": p.services,
            "regions": p.regions,
            "networks": p.origins.keys().collect::<Vec<_>>(),
            "client_families": p.ua_families.iter().map(|f| f.name()).collect::<Vec<_>>(),
        }))
    }
}
