//! Lateral movement between accounts through `AssumeRole`.
//!
//! **What**:
//! - a principal of one account assuming roles in other accounts it never assumed into
//!   before, once it has a history: one new account is Medium, two or more within an hour High
//!   (refused attempts are listed as evidence);
//! - a role assumed by an account that never appeared in these logs as a log owner and was not
//!   seen assuming roles during the learning period: an outsider walking in (High).
//!
//! **Why**: intruders holding one identity hop into other member accounts through the
//! organization access role and cross-account trusts (T1550.001, T1078.004); backdoored trust
//! policies are used from the attacker's own account (T1199, T1098.003).
//! **Baseline**: per principal, the accounts it assumed roles in and when it was first seen;
//! the accounts that own logs here (recipient accounts) are the organization; outside
//! accounts seen during the global learning period (`learning_days` from the first event)
//! are vendors already in use. Nothing is judged during learning.
//! **False positives**: a new automation account, a person starting to work in a new
//! account, a new vendor integration. One finding per principal and set of accounts.
//! **ATT&CK**: T1550.001, T1078.004, T1199.
//! **References**: AWS, "Cross-account access with roles"; GuardDuty
//! UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration (role chaining); Rhino Security
//! Labs, "AWS IAM role chaining".

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::baseline::DAY_MS;
use super::sequence::{Evidence, Report, account_of, finding, join};
use super::{Activity, Ctx, Detector, anomaly_entry, principal_observables, risk_score};
use crate::finding::{Observable, ObservableType};

const ID: &str = "cross-account-assume";
const GAP_MS: i64 = 60 * 60_000;
const MAX_TARGETS: usize = 64;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Principal {
    first_ms: i64,
    targets: BTreeSet<String>,
    burst: Option<Burst>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Burst {
    ev: Evidence,
    new_targets: BTreeSet<String>,
    denied: BTreeSet<String>,
    outsider: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    start_ms: Option<i64>,
    /// Accounts whose logs are read here.
    org: BTreeSet<String>,
    /// Outside accounts already known (seen during learning, or already reported).
    outsiders: BTreeSet<String>,
    principals: BTreeMap<String, Principal>,
}

/// See the module documentation.
#[derive(Default)]
pub struct CrossAccount {
    s: State,
}

impl CrossAccount {
    fn report(principal: &str, b: &Burst, ctx: &mut Ctx) {
        if b.new_targets.is_empty() {
            return;
        }
        let targets = join(&b.new_targets, 6);
        let (strength, title, attacks): (f64, String, &[&'static str]) = if b.outsider {
            let ext = account_of(principal).unwrap_or(principal);
            (
                0.85,
                format!(
                    "Role assumed from an unknown account: account {ext} assumed a role in {targets}"
                ),
                &["T1199", "T1078.004"],
            )
        } else if b.new_targets.len() >= 2 {
            (
                0.82,
                format!(
                    "Lateral movement: {principal} assumed roles in {} accounts it never used ({targets})",
                    b.new_targets.len()
                ),
                &["T1550.001", "T1078.004"],
            )
        } else {
            (
                0.58,
                format!(
                    "First cross-account role assumption: {principal} assumed a role in account {targets}"
                ),
                &["T1550.001", "T1078.004"],
            )
        };
        let risk = risk_score(strength, 0.6, 0.75, 0.9);
        let desc = format!(
            "{principal} assumed roles in account(s) {targets} for the first time between {} and {}{}.{} Check that this \
             identity is supposed to work in those accounts.",
            crate::time::format_iso8601_ms(b.ev.first_ms),
            crate::time::format_iso8601_ms(b.ev.last_ms),
            if b.denied.is_empty() {
                String::new()
            } else {
                format!(", and was refused in {}", join(&b.denied, 4))
            },
            if b.outsider {
                " The calling account never appears among the accounts whose logs are read here, nor among the outside accounts seen while learning."
            } else {
                ""
            },
        );
        let mut observables = principal_observables(principal);
        for t in b.new_targets.iter().chain(b.denied.iter()) {
            observables.push(Observable {
                kind: ObservableType::Account,
                value: t.clone(),
            });
        }
        if let Some(a) = account_of(principal) {
            observables.push(Observable {
                kind: ObservableType::Account,
                value: a.to_string(),
            });
        }
        let anomaly = vec![anomaly_entry(
            &format!("accounts {principal} assumes roles in"),
            (principal, "principal"),
            "target accounts",
            targets.clone(),
            (b.ev.first_ms, b.ev.last_ms),
            format!("{} new account(s)", b.new_targets.len()),
            vec![],
            "accounts this principal assumed roles in before",
        )];
        let key_targets = join(&b.new_targets, 64);
        let f = finding(
            &b.ev,
            Report {
                detector: ID,
                name: "Cross-account role assumption",
                key: &[principal, &key_targets],
                title,
                desc,
                remediation: "Confirm with the identity's owner. If unexpected: revoke the sessions in the target \
                              accounts, remove the trust that allowed it (or the caller's sts:AssumeRole permission), \
                              and review what the sessions did.",
                attacks,
                risk,
                confidence: 75,
                observables,
                resources: Vec::new(),
                anomaly,
            },
            ctx.cfg,
        );
        ctx.out.push(f);
    }
}

impl Detector for CrossAccount {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        if a.flow.is_some() || a.s3.is_some() {
            return;
        }
        let learn = i64::from(ctx.cfg.learning_days) * DAY_MS;
        let start = *self.s.start_ms.get_or_insert(a.time_ms);
        let Some(target) = a.account.as_deref() else {
            return;
        };
        if !self.s.org.contains(target) {
            self.s.org.insert(target.to_string());
        }
        let Some(principal) = a.principal.as_deref() else {
            return;
        };
        let Some(caller) = account_of(principal) else {
            return;
        };
        let p = self
            .s
            .principals
            .entry(principal.to_string())
            .or_insert_with(|| Principal {
                first_ms: a.time_ms,
                ..Principal::default()
            });
        if a.api.as_deref() != Some("sts:AssumeRole") || caller == target {
            return;
        }
        // A burst that ended an hour ago is judged before this call starts a new one.
        if let Some(b) = &p.burst
            && !b.ev.fits(a.time_ms, GAP_MS, 6 * GAP_MS)
            && let Some(b) = p.burst.take()
        {
            Self::report(principal, &b, ctx);
        }
        let outsider = !self.s.org.contains(caller);
        let learned = if outsider {
            if a.time_ms - start < learn {
                // Outside accounts that act during learning are integrations already in use.
                self.s.outsiders.insert(caller.to_string());
                return;
            }
            if self.s.outsiders.contains(caller) && p.burst.is_none() {
                return;
            }
            true
        } else {
            a.time_ms - p.first_ms >= learn
        };
        if p.targets.contains(target) && p.burst.is_none() {
            return;
        }
        if a.error {
            if let Some(b) = &mut p.burst {
                b.ev.add(a);
                b.denied.insert(target.to_string());
            }
            return;
        }
        let new = p.targets.len() < MAX_TARGETS && p.targets.insert(target.to_string());
        if !learned {
            return;
        }
        match &mut p.burst {
            Some(b) => {
                b.ev.add(a);
                if new {
                    b.new_targets.insert(target.to_string());
                }
            }
            None if new => {
                p.burst = Some(Burst {
                    ev: Evidence::new(a),
                    new_targets: [target.to_string()].into(),
                    denied: BTreeSet::new(),
                    outsider,
                });
                if outsider {
                    self.s.outsiders.insert(caller.to_string());
                }
            }
            None => {}
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        for (principal, p) in &mut self.s.principals {
            if p.burst
                .as_ref()
                .is_some_and(|b| b.ev.last_ms + GAP_MS < watermark_ms)
                && let Some(b) = p.burst.take()
            {
                Self::report(principal, &b, ctx);
            }
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&self.s)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.s = super::decode(bytes)?;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.s.principals.len()
    }

    fn describe(&self, entity: &str) -> Option<serde_json::Value> {
        let p = self.s.principals.get(entity)?;
        Some(serde_json::json!({"principal": entity, "assumes_roles_in": p.targets}))
    }
}
