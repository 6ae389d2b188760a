//! Rare combinations: a sensitive call whose API, network and client are each unlikely for
//! this principal, and whose API is rare among the account's principals.
//!
//! **What**: for every state-changing call, the smoothed probability of (API, network, client
//! family) under the principal's own history (a naive product of additively smoothed
//! frequencies) and of the API under the account's population (share of principals that use
//! it). The surprise, in bits, is their negative log.
//! **Why**: an attacker with a valid identity does sensitive things from an unusual place with
//! unusual tools; each part alone may be seen before, the combination is what is rare.
//! **Baseline**: per principal, counts of APIs, networks and client families; per account, the
//! number of principals using each API. Needs `learning_days` and 50 events of history.
//! **False positives**: an admin doing a rare task from home. Read-only calls are never scored;
//! repeats of the same (principal, API, network) update one finding.
//! **ATT&CK**: T1078.004, T1098.
//! **References**: Aggarwal, "Outlier Analysis" (2017), ch. 7 (probabilistic categorical
//! outliers); Lakhina et al., "Mining anomalies using traffic feature distributions" (2005).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::baseline::DAY_MS;
use super::{
    Activity, Ctx, Detector, FindingSpec, PrincipalKind, anomaly_entry, principal_observables,
    privilege_weight, risk_score, sensitivity,
};
use crate::finding::{AnalyticType, Observable, ObservableType};

const ID: &str = "rare-combination";
/// Bits of surprise above which a call is reported.
const MIN_BITS: f64 = 26.0;
const MIN_HISTORY: u64 = 50;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Profile {
    first_ms: i64,
    account: Option<String>,
    total: u64,
    apis: BTreeMap<String, u32>,
    origins: BTreeMap<String, u32>,
    uas: BTreeMap<String, u32>,
}

#[derive(Default, Serialize, Deserialize)]
struct Saved {
    profiles: BTreeMap<String, Profile>,
    /// (account, api) -> principals using it
    population: BTreeMap<String, u32>,
    /// account -> principals seen
    principals: BTreeMap<String, u32>,
}

/// See the module documentation.
#[derive(Default)]
pub struct RareCombination {
    s: Saved,
}

fn smoothed(count: u32, total: u64, distinct: usize) -> f64 {
    (f64::from(count) + 0.5) / (total as f64 + 0.5 * (distinct as f64 + 1.0))
}

impl Detector for RareCombination {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        if a.flow.is_some() || a.s3.is_some() {
            return;
        }
        let (Some(principal), Some(api)) = (a.principal.as_deref(), a.api.as_deref()) else {
            return;
        };
        if matches!(
            a.principal_kind,
            PrincipalKind::AwsService | PrincipalKind::Anonymous
        ) {
            return;
        }
        let account = a.account.as_deref().unwrap_or("-");
        let origin = a.origin.as_deref().unwrap_or("-");
        let ua = a.ua_family.name();
        let is_new_principal = !self.s.profiles.contains_key(principal);
        let p = self
            .s
            .profiles
            .entry(principal.to_string())
            .or_insert_with(|| Profile {
                first_ms: a.time_ms,
                account: Some(account.to_string()),
                ..Profile::default()
            });
        if is_new_principal {
            *self.s.principals.entry(account.to_string()).or_default() += 1;
        }
        let learned = a.time_ms - p.first_ms >= i64::from(ctx.cfg.learning_days) * DAY_MS
            && p.total >= MIN_HISTORY;
        if learned && !a.read_only && !a.error {
            let c_api = p.apis.get(api).copied().unwrap_or(0);
            let c_origin = p.origins.get(origin).copied().unwrap_or(0);
            let c_ua = p.uas.get(ua).copied().unwrap_or(0);
            let p_api = smoothed(c_api, p.total, p.apis.len());
            let p_origin = smoothed(c_origin, p.total, p.origins.len());
            let p_ua = smoothed(c_ua, p.total, p.uas.len());
            let users = self
                .s
                .population
                .get(&format!("{account}|{api}"))
                .copied()
                .unwrap_or(0);
            let all = self.s.principals.get(account).copied().unwrap_or(1);
            let p_pop = (f64::from(users) + 1.0) / (f64::from(all) + 2.0);
            let bits = -(p_api * p_origin * p_ua * p_pop).log2();
            if bits >= MIN_BITS {
                let strength = (0.45 + (bits - MIN_BITS) / 40.0).clamp(0.0, 1.0);
                let sens = sensitivity(api, a.read_only);
                let risk = risk_score(
                    strength,
                    privilege_weight(a.principal_kind, principal),
                    0.6,
                    sens,
                );
                let desc = format!(
                    "{principal} called {api} from {origin} with a {ua} client. Under its history of {} calls this \
                     combination has probability 2^-{bits:.0}: the API {} ({} of {} calls), the network {} ({}), \
                     the client family {} ({}); {users} of {all} principals in account {account} use this API. \
                     Confirm the change was intended.",
                    p.total,
                    if c_api == 0 {
                        "was never called"
                    } else {
                        "is rare"
                    },
                    c_api,
                    p.total,
                    if c_origin == 0 {
                        "never used"
                    } else {
                        "rarely used"
                    },
                    c_origin,
                    if c_ua == 0 {
                        "never used"
                    } else {
                        "rarely used"
                    },
                    c_ua,
                );
                let mut observables = principal_observables(principal);
                if let Some(ip) = a.src_ip {
                    observables.push(Observable {
                        kind: ObservableType::IpAddress,
                        value: ip.to_string(),
                    });
                }
                if let Some(k) = a.access_key.as_deref() {
                    observables.push(Observable {
                        kind: ObservableType::AccessKey,
                        value: k.to_string(),
                    });
                }
                if let Some(u) = a.user_agent.as_deref() {
                    observables.push(Observable {
                        kind: ObservableType::UserAgent,
                        value: u.to_string(),
                    });
                }
                let anomaly = vec![anomaly_entry(
                    &format!("calls of {principal}"),
                    (principal, "principal"),
                    "api x network x client family",
                    format!("{api} from {origin} via {ua}"),
                    (a.time_ms, a.time_ms),
                    format!("{bits:.1} bits of surprise"),
                    vec![
                        ("history_calls", p.total.to_string()),
                        ("api_count", c_api.to_string()),
                        ("network_count", c_origin.to_string()),
                        ("client_count", c_ua.to_string()),
                        ("account_principals_using_api", format!("{users}/{all}")),
                    ],
                    "additively smoothed frequencies in the principal's history and the account's population",
                )];
                let f = FindingSpec {
                    detector: ID,
                    detector_name: "Rare combination of API, network and client",
                    analytic: AnalyticType::Statistical,
                    key: &[principal, api, origin],
                    title: format!("Rare call for {principal}: {api} from {origin} ({ua})"),
                    desc,
                    remediation: "Verify the change with the identity's owner and revert it if it was not intended; \
                                  if the credentials were misused, revoke them.",
                    attacks: &["T1078.004", "T1098"],
                    risk,
                    confidence: 60,
                    first_ms: a.time_ms,
                    last_ms: a.time_ms,
                    related: vec![a.uid.to_string()],
                    related_count: 1,
                    observables,
                    account: a.account.as_deref().map(str::to_string),
                    region: a.region.as_deref().map(str::to_string),
                    anomaly,
                }
                .build(ctx.cfg);
                ctx.out.push(f);
            }
        }
        p.total += 1;
        let c = p.apis.entry(api.to_string()).or_default();
        if *c == 0 {
            *self
                .s
                .population
                .entry(format!("{account}|{api}"))
                .or_default() += 1;
        }
        *c = c.saturating_add(1);
        let o = p.origins.entry(origin.to_string()).or_default();
        *o = o.saturating_add(1);
        let u = p.uas.entry(ua.to_string()).or_default();
        *u = u.saturating_add(1);
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&self.s)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.s = super::decode(bytes)?;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.s.profiles.len()
    }
}
