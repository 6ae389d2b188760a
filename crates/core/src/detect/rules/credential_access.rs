//! Credential access judged from one call, and AWS's own notices that a key leaked.
//!
//! **What**:
//! - `BatchGetSecretValue` with filters (every secret matching a tag or name, in one call),
//!   or with ten or more secret ids;
//! - `GetSessionToken` by an IAM user (Informational; Low beyond 12 hours): temporary
//!   credentials that outlive the deactivation of the key they came from;
//! - `GetPasswordData` (the administrator password of a Windows instance), refused or not;
//! - `DescribeInstanceAttribute` of `userData` by a person or tool (user data often holds
//!   bootstrap secrets);
//! - AWS quarantining an exposed key: the `AWSCompromisedKeyQuarantine*` managed policy
//!   attached, or the `AWSExposedCredentialPolicy_DO_NOT_REMOVE` deny policy written by AWS.
//!
//! **Why**: after getting in, attackers harvest more credentials (T1555.006, T1552); when AWS
//! finds a key on a public site it quarantines the key, which means the key is in the wild
//! (T1078.004) and everything it did since must be reviewed.
//! **Baseline**: none (stateless). Single `GetSecretValue` calls are what applications do all
//! day and are left to the behavioural detectors.
//! **False positives**: secret-sync tooling (batch reads), Windows administrators
//! (GetPasswordData), automation reading user data.
//! **ATT&CK**: T1555.006, T1552, T1552.005, T1078.004.
//! **References**: AWS, "AWSCompromisedKeyQuarantineV2"; Stratus Red Team
//! aws.credential-access.secretsmanager-batch-retrieve-secrets, ec2-get-password-data,
//! ec2-steal-instance-credentials; Panther AWS.IAM.AccessKeyCompromised.

use super::Rule;
use super::support::{
    HIGH, Hit, INFO, LOW, MEDIUM, actor, ct, emit, failed, params, resource, service, str_of,
    strings, via_aws_service,
};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::Finding;
use crate::parse::cloudtrail::CloudTrailRecord;

const ID: &str = "credential-access";

/// See the module documentation.
pub struct CredentialAccess;

impl CredentialAccess {
    fn judge(r: &CloudTrailRecord, hit: &mut Hit<'_>) -> bool {
        let who = actor(r);
        let name = r.event_name.as_str();
        match (service(r), name) {
            ("secretsmanager", "BatchGetSecretValue") => {
                if failed(r) {
                    return false;
                }
                let p = params(r);
                let filters = p
                    .get("filters")
                    .and_then(|f| f.as_array())
                    .is_some_and(|a| !a.is_empty());
                let ids = strings(p.get("secretIdList")).len();
                if !filters && ids < 10 {
                    return false;
                }
                hit.strength = MEDIUM;
                hit.title = format!(
                    "Secrets read in bulk: {who} called BatchGetSecretValue {}",
                    if filters {
                        "with filters".to_string()
                    } else {
                        format!("for {ids} secrets")
                    }
                );
                hit.desc = "Many secret values were read in one call. Applications read the few secrets they need; \
                            collecting every secret that matches a filter is credential harvesting."
                    .into();
                hit.attacks = &["T1555.006"];
                hit.key = vec![name.into()];
            }
            ("sts", "GetSessionToken") => {
                if failed(r) || r.user_identity.identity_type.as_deref() != Some("IAMUser") {
                    return false;
                }
                let secs = params(r)
                    .get("durationSeconds")
                    .and_then(|d| d.as_i64())
                    .unwrap_or(43_200);
                hit.strength = if secs > 43_200 { LOW } else { INFO };
                hit.title = format!(
                    "Session token minted from a long-term key: {who} called GetSessionToken for {}h",
                    secs / 3600
                );
                hit.desc = format!(
                    "IAM user {who} exchanged its access key for temporary credentials valid {}h. Attackers do this so \
                     that their access outlives the key being deactivated, and to get credentials that CloudTrail \
                     attributes to a session.",
                    secs / 3600
                );
                hit.attacks = &["T1550.001", "T1078.004"];
                hit.key = vec![name.into()];
            }
            ("ec2", "GetPasswordData") => {
                let p = params(r);
                let i = str_of(&p, &["instanceId"]).unwrap_or("unknown").to_string();
                hit.strength = if failed(r) { LOW - 0.05 } else { LOW };
                hit.title = format!(
                    "Windows administrator password requested: {who} called GetPasswordData for {i}"
                );
                hit.desc = format!(
                    "The encrypted administrator password of instance {i} was requested{}.",
                    if failed(r) { " (refused)" } else { "" }
                );
                hit.attacks = &["T1552"];
                hit.key = vec![name.into(), i.clone()];
                hit.resources.push(resource(r, i, "AWS::EC2::Instance"));
            }
            ("ec2", "DescribeInstanceAttribute") => {
                let p = params(r);
                if str_of(&p, &["attribute"]) != Some("userData") || via_aws_service(r) {
                    return false;
                }
                let i = str_of(&p, &["instanceId"]).unwrap_or("unknown").to_string();
                hit.strength = LOW;
                hit.title = format!("Instance user data read: {who} read the user data of {i}");
                hit.desc = format!(
                    "The user data of instance {i} was read{}. Bootstrap scripts often embed passwords and keys.",
                    if failed(r) { " (refused)" } else { "" }
                );
                hit.attacks = &["T1552.005", "T1552"];
                hit.key = vec![name.into(), i.clone()];
                hit.resources.push(resource(r, i, "AWS::EC2::Instance"));
            }
            ("iam", "AttachUserPolicy" | "PutUserPolicy") => {
                if failed(r) {
                    return false;
                }
                let p = params(r);
                let quarantine = str_of(&p, &["policyArn"])
                    .is_some_and(|a| a.contains("AWSCompromisedKeyQuarantine"));
                let exposed = name == "PutUserPolicy"
                    && (str_of(&p, &["policyName"])
                        .is_some_and(|n| n.contains("AWSExposedCredentialPolicy"))
                        || (r
                            .user_agent
                            .as_deref()
                            .is_some_and(|u| u.starts_with("aws-internal"))
                            && p.get("policyDocument")
                                .and_then(|d| d.as_str())
                                .is_some_and(|d| d.contains("\"Deny\""))));
                if !(quarantine || exposed) {
                    return false;
                }
                let user = str_of(&p, &["userName"])
                    .map(str::to_string)
                    .or_else(|| r.user_identity.user_name.clone())
                    .unwrap_or_else(|| "unknown".into());
                hit.strength = HIGH;
                hit.title = format!("AWS quarantined an exposed access key of {user}");
                hit.desc = format!(
                    "AWS attached a quarantine policy to IAM user {user} ({name}): one of the user's access keys was \
                     found exposed publicly. Treat the key as stolen."
                );
                hit.attacks = &["T1078.004", "T1552"];
                hit.key = vec!["quarantine".into(), user.clone()];
                hit.resources.push(resource(
                    r,
                    format!(
                        "arn:aws:iam::{}:user/{user}",
                        super::support::account(r).unwrap_or("")
                    ),
                    "AWS::IAM::User",
                ));
                hit.remediation = "Deactivate and delete the exposed key, rotate any secret it could read, review \
                                   everything the key did since it was exposed, and find where it leaked (public \
                                   repositories, paste sites).";
            }
            _ => return false,
        }
        true
    }
}

impl Rule for CredentialAccess {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if !matches!(service(r), "secretsmanager" | "ec2" | "iam" | "sts") {
            return;
        }
        let mut hit = Hit::new(ID, "Credential access", &["T1552"]);
        hit.confidence = 0.8;
        hit.remediation = "Check whether the caller has a reason to read these credentials. If not: rotate every \
                           secret or password read, revoke the caller's credentials, and review its other calls.";
        if Self::judge(r, &mut hit) {
            emit(e, r, cfg, hit, out);
        }
    }
}
