//! Compute launched in a region the account never used.
//!
//! **What**: instance, spot, fleet, function, container task, notebook and training job launches
//! (refused attempts included) in a region where the account had no activity at all until the
//! last 24 hours, once the account has `learning_days` of history.
//! **Why**: miners and attackers' own infrastructure go where nobody looks: regions the victim
//! does not use, often enabled for the purpose (T1535, T1496.001). The region is new for the
//! whole account, not just for one person, which keeps travel and new projects out.
//! **Baseline**: per account, every region with any CloudTrail activity and when it first
//! appeared. Activity that starts in a region shortly before the launch (the attacker's own
//! key pair and security group) does not make the region familiar.
//! **False positives**: expansion to a new region, disaster-recovery drills. One finding per
//! account and region.
//! **ATT&CK**: T1535, T1496.001.
//! **References**: MITRE ATT&CK T1535; GuardDuty "unusual region" anomaly features; AWS,
//! "Disable unused regions with SCPs".

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::baseline::DAY_MS;
use super::sequence::{Evidence, Report, finding, join};
use super::{Activity, Ctx, Detector, anomaly_entry, principal_observables, risk_score};
use crate::finding::Resource;

const ID: &str = "new-compute-region";
const GAP_MS: i64 = 60 * 60_000;
const RECENT_MS: i64 = DAY_MS;

const LAUNCHES: &[&str] = &[
    "ec2:RunInstances",
    "ec2:RequestSpotInstances",
    "ec2:RequestSpotFleet",
    "ec2:CreateFleet",
    "lambda:CreateFunction",
    "ecs:RunTask",
    "ecs:CreateService",
    "sagemaker:CreateNotebookInstance",
    "sagemaker:CreateTrainingJob",
    "lightsail:CreateInstances",
    "batch:SubmitJob",
    "eks:CreateCluster",
    "eks:CreateNodegroup",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Account {
    first_ms: i64,
    regions: BTreeMap<String, i64>,
    reported: BTreeSet<String>,
    open: BTreeMap<String, Open>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Open {
    ev: Evidence,
    apis: BTreeSet<String>,
    principals: BTreeSet<String>,
}

/// See the module documentation.
#[derive(Default)]
pub struct NewComputeRegion {
    accounts: BTreeMap<String, Account>,
}

impl NewComputeRegion {
    fn report(account: &str, acc: &Account, region: &str, o: &Open, ctx: &mut Ctx) {
        let risk = risk_score(0.62, 0.6, 0.75, 0.6);
        let usual = join(
            acc.regions
                .iter()
                .filter(|(r, t)| r.as_str() != region && **t < o.ev.first_ms - RECENT_MS)
                .map(|(r, _)| r.as_str()),
            6,
        );
        let who = join(&o.principals, 3);
        let title = format!(
            "Compute launched in a region account {account} never used: {who} called {} in {region}",
            join(&o.apis, 3)
        );
        let desc = format!(
            "{who} launched compute ({}) in {region}, where account {account} had no activity before the last day (its \
             regions: {usual}). Attackers run miners and their own infrastructure in regions nobody watches.",
            join(&o.apis, 4)
        );
        let mut observables = Vec::new();
        for p in &o.principals {
            observables.extend(principal_observables(p));
        }
        let anomaly = vec![anomaly_entry(
            &format!("regions of account {account}"),
            (account, "account"),
            "region",
            region.to_string(),
            (o.ev.first_ms, o.ev.last_ms),
            "first compute launch in a region with no history".into(),
            vec![("regions", usual.clone())],
            "regions with activity in this account",
        )];
        let f = finding(
            &o.ev,
            Report {
                detector: ID,
                name: "Compute in a new region",
                key: &[account, region],
                title,
                desc,
                remediation: "Confirm with the account owner. If unexpected: terminate what was launched in the region, \
                              revoke the caller's credentials, and deny unused regions with an SCP.",
                attacks: &["T1535", "T1496.001"],
                risk,
                confidence: 75,
                observables,
                resources: vec![Resource {
                    uid: format!("{account}/{region}"),
                    kind: "AWS::Region".into(),
                    region: Some(region.to_string()),
                    account: Some(account.to_string()),
                }],
                anomaly,
            },
            ctx.cfg,
        );
        ctx.out.push(f);
    }
}

impl Detector for NewComputeRegion {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        if a.flow.is_some() || a.s3.is_some() {
            return;
        }
        let (Some(account), Some(region)) = (a.account.as_deref(), a.region.as_deref()) else {
            return;
        };
        let learn = i64::from(ctx.cfg.learning_days) * DAY_MS;
        let acc = self
            .accounts
            .entry(account.to_string())
            .or_insert_with(|| Account {
                first_ms: a.time_ms,
                ..Account::default()
            });
        let first_in_region = *acc.regions.entry(region.to_string()).or_insert(a.time_ms);
        let launch = a
            .api
            .as_deref()
            .is_some_and(|api| LAUNCHES.iter().any(|l| api.starts_with(l)));
        if !launch || acc.reported.contains(region) {
            return;
        }
        let learned = a.time_ms - acc.first_ms >= learn && first_in_region - acc.first_ms >= learn;
        if !learned || a.time_ms - first_in_region > RECENT_MS {
            return;
        }
        let o = acc.open.entry(region.to_string()).or_insert_with(|| Open {
            ev: Evidence::new(a),
            ..Open::default()
        });
        if o.apis.is_empty() {
            // just created: Evidence::new already counted this activity
        } else {
            o.ev.add(a);
        }
        if let Some(api) = a.api.as_deref() {
            o.apis.insert(api.to_string());
        }
        if let Some(p) = a.principal.as_deref()
            && o.principals.len() < 8
        {
            o.principals.insert(p.to_string());
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        for (account, acc) in &mut self.accounts {
            let due: Vec<String> = acc
                .open
                .iter()
                .filter(|(_, o)| o.ev.last_ms + GAP_MS < watermark_ms)
                .map(|(r, _)| r.clone())
                .collect();
            for region in due {
                if let Some(o) = acc.open.remove(&region) {
                    Self::report(account, acc, &region, &o, ctx);
                    acc.reported.insert(region);
                }
            }
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&self.accounts)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.accounts = super::decode(bytes)?;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.accounts.len()
    }

    fn describe(&self, entity: &str) -> Option<serde_json::Value> {
        let a = self.accounts.get(entity)?;
        Some(
            serde_json::json!({"account": entity, "regions": a.regions.keys().collect::<Vec<_>>()}),
        )
    }
}
