//! Destruction, encryption for ransom, and recovery sabotage, judged one call at a time.
//!
//! **What**:
//! - KMS customer managed keys disabled (Medium) or scheduled for deletion (High): everything
//!   encrypted with them becomes unreadable (T1485/T1486);
//! - RDS databases deleted (High without a final snapshot), automated backups and snapshots
//!   deleted, deletion protection switched off, backup retention set to 0, master password
//!   reset (T1485, T1490, T1098);
//! - S3 recovery controls removed: versioning suspended, MFA delete disabled, default
//!   encryption or replication deleted, lifecycle rules that expire everything within a day;
//!   buckets deleted; objects rewritten with a key the victim does not hold (SSE-C, or a KMS
//!   key of another account) and ransom notes uploaded (T1486);
//! - AWS Backup vaults, plans and recovery points deleted (T1490);
//! - an account leaving its organization, even when refused (escapes every SCP and the
//!   organization trail, T1666).
//!
//! **Why**: extortion in the cloud rarely needs malware: delete the backups, then delete or
//! re-encrypt the data. Each of these calls is rare and removes a way back.
//! **Baseline**: none (stateless); bursts of deletes are judged by the `mass-destruction`
//! detector.
//! **False positives**: decommissioning, key rotation clean-up, test databases without
//! deletion protection, SSE-C used by design. Repeats update one finding per resource.
//! **ATT&CK**: T1485, T1486, T1490, T1098, T1666.
//! **References**: Stratus Red Team aws.impact.s3-ransomware-*; Halcyon, "Abusing AWS native
//! services: ransomware encrypting S3 buckets with SSE-C" (2025); AWS KMS, "Deleting AWS KMS
//! keys"; Panther AWS.KMS.CustomerManagedKeyLoss, AWS.RDS.*, AWS.S3.*.

use serde_json::Value;

use super::Rule;
use super::support::{
    CRITICAL, HIGH, Hit, LOW, MEDIUM, account, account_of_principal, actor, bool_of, ct, emit,
    failed, params, resource, service, str_of,
};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::Finding;
use crate::parse::cloudtrail::CloudTrailRecord;

const ID: &str = "destruction";

/// See the module documentation.
pub struct Destruction;

struct Verdict {
    strength: f64,
    what: String,
    why: &'static str,
    target: String,
    kind: &'static str,
    attacks: &'static [&'static str],
}

fn v(
    strength: f64,
    what: impl Into<String>,
    why: &'static str,
    target: impl Into<String>,
    kind: &'static str,
    attacks: &'static [&'static str],
) -> Option<Verdict> {
    Some(Verdict {
        strength,
        what: what.into(),
        why,
        target: target.into(),
        kind,
        attacks,
    })
}

/// Object names ransomware leaves behind.
const RANSOM_NOTES: &[&str] = &[
    "readme_restore",
    "restore_files",
    "how_to_decrypt",
    "how-to-decrypt",
    "decrypt_instructions",
    "recover_files",
    "recovery_instructions",
    "your_files",
    "ransom",
    "!!!read",
    "readme_to_decrypt",
    "files_encrypted",
];

fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.len() <= h.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

const SSE_C: &str = "x-amz-server-side-encryption-customer-algorithm";

impl Destruction {
    fn verdict(r: &CloudTrailRecord) -> Option<Verdict> {
        let name = r.event_name.as_str();
        let failed_call = failed(r);
        if failed_call && name != "LeaveOrganization" {
            return None;
        }
        match (service(r), name) {
            ("kms", "DisableKey" | "ScheduleKeyDeletion") => {
                let p = params(r);
                let key = str_of(&p, &["keyId"]).unwrap_or("unknown").to_string();
                if name == "DisableKey" {
                    v(
                        MEDIUM,
                        "KMS key disabled",
                        "Data encrypted with this key cannot be decrypted while it is disabled.",
                        key,
                        "AWS::KMS::Key",
                        &["T1485", "T1486"],
                    )
                } else {
                    let days = p
                        .get("pendingWindowInDays")
                        .and_then(Value::as_i64)
                        .unwrap_or(30);
                    let mut x = v(
                        HIGH,
                        format!("KMS key scheduled for deletion in {days} days"),
                        "Once deleted, everything encrypted with the key is lost for good.",
                        key,
                        "AWS::KMS::Key",
                        &["T1485", "T1486"],
                    )?;
                    if days <= 7 {
                        x.strength = HIGH + 0.05;
                    }
                    Some(x)
                }
            }
            ("rds", "DeleteDBInstance" | "DeleteDBCluster") => {
                let p = params(r);
                let db = str_of(&p, &["dBInstanceIdentifier", "dBClusterIdentifier"])
                    .unwrap_or("unknown")
                    .to_string();
                let skip = bool_of(&p, &["skipFinalSnapshot"]).unwrap_or(false);
                let backups = bool_of(&p, &["deleteAutomatedBackups"]).unwrap_or(false);
                let strength = if skip && backups {
                    CRITICAL
                } else if skip {
                    HIGH
                } else {
                    MEDIUM
                };
                let what = format!(
                    "RDS database deleted{}",
                    match (skip, backups) {
                        (true, true) => " without a final snapshot and with its backups",
                        (true, false) => " without a final snapshot",
                        _ => "",
                    }
                );
                v(
                    strength,
                    what,
                    "The database is gone; without a snapshot there is no way back.",
                    db,
                    "AWS::RDS::DBInstance",
                    &["T1485"],
                )
            }
            ("rds", "DeleteDBSnapshot" | "DeleteDBClusterSnapshot") => {
                let p = params(r);
                let s = str_of(&p, &["dBSnapshotIdentifier", "dBClusterSnapshotIdentifier"])
                    .unwrap_or("unknown")
                    .to_string();
                v(
                    MEDIUM,
                    "RDS snapshot deleted",
                    "Snapshots are the way back after data loss.",
                    s,
                    "AWS::RDS::DBSnapshot",
                    &["T1490"],
                )
            }
            ("rds", "DeleteDBInstanceAutomatedBackup" | "DeleteDBClusterAutomatedBackup") => {
                let p = params(r);
                let s = str_of(
                    &p,
                    &[
                        "dbiResourceId",
                        "dbClusterResourceId",
                        "dBInstanceAutomatedBackupsArn",
                    ],
                )
                .unwrap_or("unknown")
                .to_string();
                v(
                    HIGH,
                    "RDS automated backups deleted",
                    "Automated backups are the point-in-time recovery of the database.",
                    s,
                    "AWS::RDS::DBInstance",
                    &["T1490"],
                )
            }
            ("rds", "ModifyDBInstance" | "ModifyDBCluster") => {
                let p = params(r);
                let db = str_of(&p, &["dBInstanceIdentifier", "dBClusterIdentifier"])
                    .unwrap_or("unknown")
                    .to_string();
                let unprotected = bool_of(&p, &["deletionProtection"]) == Some(false);
                let no_backups = p.get("backupRetentionPeriod").and_then(Value::as_i64) == Some(0);
                let password = p.get("masterUserPassword").is_some();
                if unprotected || no_backups {
                    let what = match (unprotected, no_backups) {
                        (true, true) => "RDS deletion protection and backups switched off",
                        (true, false) => "RDS deletion protection switched off",
                        _ => "RDS automated backups switched off",
                    };
                    v(
                        if no_backups { HIGH } else { MEDIUM },
                        what,
                        "This is the usual step before deleting a database.",
                        db,
                        "AWS::RDS::DBInstance",
                        &["T1490", "T1485"],
                    )
                } else if password {
                    v(
                        MEDIUM,
                        "RDS master password reset",
                        "Whoever set it can now log in to the database as its administrator.",
                        db,
                        "AWS::RDS::DBInstance",
                        &["T1098"],
                    )
                } else {
                    None
                }
            }
            ("s3", "PutBucketVersioning") => {
                let p = params(r);
                let b = str_of(&p, &["bucketName"]).unwrap_or("unknown").to_string();
                let cfg = p.get("VersioningConfiguration")?;
                let suspended = str_of(cfg, &["Status"]).is_some_and(|s| {
                    s.eq_ignore_ascii_case("Suspended") || s.eq_ignore_ascii_case("Disabled")
                });
                let mfa_off =
                    str_of(cfg, &["MfaDelete"]).is_some_and(|s| s.eq_ignore_ascii_case("Disabled"));
                let what = match (suspended, mfa_off) {
                    (true, true) => "S3 versioning suspended and MFA delete disabled",
                    (true, false) => "S3 versioning suspended",
                    (false, true) => "S3 MFA delete disabled",
                    _ => return None,
                };
                v(
                    MEDIUM,
                    what,
                    "Without versioning, deleted or overwritten objects cannot be recovered.",
                    b,
                    "AWS::S3::Bucket",
                    &["T1490"],
                )
            }
            ("s3", "DeleteBucketEncryption") => {
                let p = params(r);
                v(
                    MEDIUM,
                    "S3 default encryption removed",
                    "New objects are no longer encrypted by default.",
                    str_of(&p, &["bucketName"]).unwrap_or("unknown"),
                    "AWS::S3::Bucket",
                    &["T1486"],
                )
            }
            ("s3", "DeleteBucketReplication") => {
                let p = params(r);
                v(
                    MEDIUM,
                    "S3 replication removed",
                    "The replica was the copy that survives a deletion in this bucket.",
                    str_of(&p, &["bucketName"]).unwrap_or("unknown"),
                    "AWS::S3::Bucket",
                    &["T1490"],
                )
            }
            ("s3", "DeleteBucket") => {
                let p = params(r);
                v(
                    LOW,
                    "S3 bucket deleted",
                    "The bucket and its name are gone.",
                    str_of(&p, &["bucketName"]).unwrap_or("unknown"),
                    "AWS::S3::Bucket",
                    &["T1485"],
                )
            }
            ("s3", "PutBucketLifecycle" | "PutBucketLifecycleConfiguration") => {
                let p = params(r);
                let b = str_of(&p, &["bucketName"]).unwrap_or("unknown").to_string();
                let cfg = p.get("LifecycleConfiguration")?;
                let rules: Vec<&Value> = match cfg.get("Rule") {
                    Some(Value::Array(a)) => a.iter().collect(),
                    Some(o @ Value::Object(_)) => vec![o],
                    _ => Vec::new(),
                };
                let short = rules.iter().any(|rule| {
                    let enabled = str_of(rule, &["Status"])
                        .is_some_and(|s| s.eq_ignore_ascii_case("Enabled"));
                    let days = rule.pointer("/Expiration/Days").and_then(|d| {
                        d.as_i64()
                            .or_else(|| d.as_str().and_then(|s| s.parse().ok()))
                    });
                    enabled && days.is_some_and(|d| d <= 1)
                });
                if !short {
                    return None;
                }
                v(
                    MEDIUM,
                    "S3 lifecycle rule expires objects within a day",
                    "Every object in scope will be deleted by S3 itself within 24 hours.",
                    b,
                    "AWS::S3::Bucket",
                    &["T1485"],
                )
            }
            ("s3", "PutObject" | "CopyObject") => {
                let raw = r
                    .request_parameters
                    .as_deref()
                    .map(|v| v.get())
                    .unwrap_or("");
                let note = name == "PutObject" && RANSOM_NOTES.iter().any(|n| contains_ci(raw, n));
                let sse_c = raw.contains(SSE_C);
                let foreign_key = name == "CopyObject" && raw.contains("aws-kms-key-id");
                if !(note || sse_c || foreign_key) {
                    return None;
                }
                let p = params(r);
                let b = str_of(&p, &["bucketName"]).unwrap_or("unknown").to_string();
                let key = str_of(&p, &["key"]).unwrap_or("").to_string();
                let target = format!("{b}/{key}");
                if note {
                    let base = key.rsplit('/').next().unwrap_or(&key).to_ascii_lowercase();
                    if RANSOM_NOTES.iter().any(|n| base.contains(n)) {
                        return v(
                            HIGH,
                            "Ransom note uploaded to S3",
                            "Ransomware leaves a note like this after deleting or encrypting the data.",
                            b,
                            "AWS::S3::Bucket",
                            &["T1486", "T1485"],
                        );
                    }
                }
                if foreign_key {
                    let kms =
                        str_of(&p, &["x-amz-server-side-encryption-aws-kms-key-id"]).unwrap_or("");
                    if let Some(a) = account_of_principal(kms)
                        && Some(a) != account(r)
                    {
                        return v(
                            HIGH,
                            format!("S3 objects re-encrypted with a KMS key of account {a}"),
                            "Objects encrypted with someone else's key are readable only with their permission: ransom by encryption.",
                            target,
                            "AWS::S3::Object",
                            &["T1486"],
                        );
                    }
                }
                if sse_c {
                    let strength = if name == "CopyObject" { MEDIUM } else { LOW };
                    return v(
                        strength,
                        "S3 object encrypted with a customer-provided key (SSE-C)",
                        "With SSE-C, AWS keeps no key: whoever holds it decides whether the data can be read again.",
                        target,
                        "AWS::S3::Object",
                        &["T1486"],
                    );
                }
                None
            }
            (
                "backup",
                "DeleteBackupVault"
                | "DeleteRecoveryPoint"
                | "DeleteBackupPlan"
                | "DeleteBackupVaultLockConfiguration"
                | "UpdateRecoveryPointLifecycle",
            ) => {
                let p = params(r);
                let t = str_of(&p, &["backupVaultName", "recoveryPointArn", "backupPlanId"])
                    .unwrap_or("unknown")
                    .to_string();
                v(
                    MEDIUM,
                    format!(
                        "AWS Backup {}",
                        name.trim_start_matches("Delete").to_ascii_lowercase()
                    ),
                    "Backups are the way back after destruction or ransom.",
                    t,
                    "AWS::Backup::BackupVault",
                    &["T1490"],
                )
            }
            ("organizations", "LeaveOrganization") => {
                let acct = account(r).unwrap_or("unknown").to_string();
                if failed_call {
                    v(
                        MEDIUM,
                        "Attempt to leave the AWS organization (refused)",
                        "Outside the organization, no SCP or organization trail applies to the account.",
                        acct,
                        "AWS::Organizations::Account",
                        &["T1666"],
                    )
                } else {
                    v(
                        CRITICAL,
                        "Account left the AWS organization",
                        "Outside the organization, no SCP or organization trail applies to the account.",
                        acct,
                        "AWS::Organizations::Account",
                        &["T1666"],
                    )
                }
            }
            _ => None,
        }
    }
}

impl Rule for Destruction {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if !matches!(
            service(r),
            "kms" | "rds" | "s3" | "backup" | "organizations"
        ) {
            return;
        }
        let Some(x) = Self::verdict(r) else { return };
        let who = actor(r);
        let mut hit = Hit::new(ID, "Destruction or recovery sabotage", x.attacks);
        hit.title = format!("{}: {who} called {} on {}", x.what, r.event_name, x.target);
        hit.desc = format!("{} ({}). {}", x.what, x.target, x.why);
        hit.remediation = "Confirm with the owner of the resource. If unplanned: cancel what can be cancelled \
                           (CancelKeyDeletion, re-enable versioning and protection, restore from backups or \
                           replicas), revoke the caller's credentials, and check for other destructive calls.";
        hit.strength = x.strength;
        hit.confidence = 0.85;
        hit.key = vec![r.event_name.clone(), x.target.clone()];
        let s3 = (x.kind == "AWS::S3::Bucket" || x.kind == "AWS::S3::Object")
            && !x.target.starts_with("arn:");
        let uid = if s3 {
            format!("arn:aws:s3:::{}", x.target)
        } else {
            x.target.clone()
        };
        hit.resources.push(resource(r, uid, x.kind));
        emit(e, r, cfg, hit, out);
    }
}
