//! Bursts of destructive API calls by one principal (CloudTrail).
//!
//! **What**: per principal, successful deletions with gaps under 15 minutes: objects
//! (`DeleteObject`, `DeleteObjects` data events) and resources (snapshots, volumes, images,
//! instances, databases and their snapshots, buckets, tables and backups, recovery points,
//! functions, log groups, secrets, file systems, repositories, KMS keys). A burst is reported
//! when it reaches 100 objects or 5 resources and is well above the principal's own largest
//! earlier burst (5x for objects, 3x for resources).
//! **Why**: wipers and extortion crews delete data and backups in bulk (T1485, T1490); one
//! delete is housekeeping, a hundred in minutes is destruction.
//! **Baseline**: per principal, the largest object and resource burst seen before, so jobs that
//! routinely clean up in bulk set their own bar (a reported burst raises it too, so a nightly
//! job is reported once).
//! **False positives**: first runs of clean-up jobs, environment teardown. One finding per
//! principal and burst start day.
//! **ATT&CK**: T1485, T1490.
//! **References**: Stratus Red Team aws.impact.s3-ransomware-individual-deletion; GuardDuty
//! Impact:S3/AnomalousBehavior.Delete; AWS, "Protecting data from ransomware" (whitepaper).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::baseline::DAY_MS;
use super::sequence::{Evidence, Report, finding, join};
use super::{Activity, Ctx, Detector, anomaly_entry, principal_observables, risk_score};

const ID: &str = "mass-deletion";
const GAP_MS: i64 = 15 * 60_000;
const MAX_SPAN_MS: i64 = 4 * 3_600_000;
const MIN_OBJECTS: u64 = 100;
const MIN_RESOURCES: u64 = 5;

/// Resource deletions (service:EventName prefixes).
const RESOURCE_DELETES: &[&str] = &[
    "ec2:DeleteSnapshot",
    "ec2:DeleteVolume",
    "ec2:DeregisterImage",
    "ec2:TerminateInstances",
    "rds:DeleteDBInstance",
    "rds:DeleteDBCluster",
    "rds:DeleteDBSnapshot",
    "rds:DeleteDBClusterSnapshot",
    "rds:DeleteDBInstanceAutomatedBackup",
    "s3:DeleteBucket",
    "dynamodb:DeleteTable",
    "dynamodb:DeleteBackup",
    "backup:DeleteRecoveryPoint",
    "backup:DeleteBackupVault",
    "lambda:DeleteFunction",
    "logs:DeleteLogGroup",
    "secretsmanager:DeleteSecret",
    "elasticfilesystem:DeleteFileSystem",
    "ecr:DeleteRepository",
    "ecr:BatchDeleteImage",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "glacier:DeleteArchive",
    "glacier:DeleteVault",
];

fn classify(api: &str) -> Option<bool> {
    if api == "s3:DeleteObject" || api == "s3:DeleteObjects" {
        return Some(true);
    }
    RESOURCE_DELETES
        .iter()
        .any(|d| api.starts_with(d))
        .then_some(false)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Burst {
    ev: Evidence,
    objects: u64,
    resources: u64,
    apis: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Principal {
    peak_objects: u64,
    peak_resources: u64,
    burst: Option<Burst>,
}

/// See the module documentation.
#[derive(Default)]
pub struct MassDestruction {
    principals: BTreeMap<String, Principal>,
}

impl MassDestruction {
    fn close(principal: &str, p: &mut Principal, ctx: &mut Ctx) {
        let Some(b) = p.burst.take() else { return };
        let obj_bar = MIN_OBJECTS.max(5 * p.peak_objects);
        let res_bar = MIN_RESOURCES.max(3 * p.peak_resources);
        let objects = b.objects >= obj_bar;
        let resources = b.resources >= res_bar;
        let (earlier_objects, earlier_resources) = (p.peak_objects, p.peak_resources);
        // Reported or not, the burst sets the bar: a job that does this every night is reported
        // once, not every night.
        p.peak_objects = p.peak_objects.max(b.objects);
        p.peak_resources = p.peak_resources.max(b.resources);
        if !(objects || resources) {
            return;
        }
        let strength: f64 = if b.objects >= 1000 || b.resources >= 20 {
            0.95
        } else {
            0.82
        };
        let risk = risk_score(strength, 0.6, 0.8, 0.9);
        let what = match (objects, resources) {
            (true, true) => format!("{} objects and {} resources", b.objects, b.resources),
            (true, false) => format!("{} objects", b.objects),
            _ => format!("{} resources", b.resources),
        };
        let apis = join(b.apis.iter().map(|(k, v)| format!("{k} x{v}")), 6);
        let title = format!(
            "Mass deletion: {principal} deleted {what} in {} minutes",
            ((b.ev.last_ms - b.ev.first_ms) / 60_000).max(1)
        );
        let desc = format!(
            "{principal} deleted {what} between {} and {} ({apis}), well above its largest earlier burst ({} objects, {} \
             resources). Bulk deletion of data and backups is how destruction and extortion attacks end.",
            crate::time::format_iso8601_ms(b.ev.first_ms),
            crate::time::format_iso8601_ms(b.ev.last_ms),
            earlier_objects,
            earlier_resources,
        );
        let day = b.ev.first_ms.div_euclid(DAY_MS).to_string();
        let anomaly = vec![anomaly_entry(
            &format!("deletions by {principal}"),
            (principal, "principal"),
            "deletions per burst",
            format!("{} objects, {} resources", b.objects, b.resources),
            (b.ev.first_ms, b.ev.last_ms),
            what.clone(),
            vec![
                ("peak_objects", earlier_objects.to_string()),
                ("peak_resources", earlier_resources.to_string()),
            ],
            "largest earlier burst of this principal",
        )];
        let f = finding(
            &b.ev,
            Report {
                detector: ID,
                name: "Mass deletion",
                key: &[principal, &day],
                title,
                desc,
                remediation: "Stop the principal now (deactivate keys, revoke sessions), restore from versions, \
                              snapshots or backups, and check whether backups were deleted too.",
                attacks: &["T1485", "T1490"],
                risk,
                confidence: 80,
                observables: principal_observables(principal),
                resources: Vec::new(),
                anomaly,
            },
            ctx.cfg,
        );
        ctx.out.push(f);
    }
}

impl Detector for MassDestruction {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        if a.error || a.flow.is_some() || a.s3.is_some() {
            return;
        }
        let Some(api) = a.api.as_deref() else { return };
        let Some(object) = classify(api) else { return };
        let Some(principal) = a.principal.as_deref() else {
            return;
        };
        let p = self.principals.entry(principal.to_string()).or_default();
        if p.burst
            .as_ref()
            .is_some_and(|b| !b.ev.fits(a.time_ms, GAP_MS, MAX_SPAN_MS))
        {
            Self::close(principal, p, ctx);
        }
        match &mut p.burst {
            Some(b) => b.ev.add(a),
            None => {
                p.burst = Some(Burst {
                    ev: Evidence::new(a),
                    ..Burst::default()
                })
            }
        }
        if let Some(b) = &mut p.burst {
            if object {
                b.objects += 1;
            } else {
                b.resources += 1;
            }
            *b.apis.entry(api.to_string()).or_default() += 1;
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        for (principal, p) in &mut self.principals {
            if p.burst
                .as_ref()
                .is_some_and(|b| b.ev.last_ms + GAP_MS < watermark_ms)
            {
                Self::close(principal, p, ctx);
            }
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&self.principals)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.principals = super::decode(bytes)?;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.principals.len()
    }
}
