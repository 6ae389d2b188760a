//! Logging and security tooling switched off or blinded.
//!
//! **What**: CloudTrail stopped, deleted, narrowed (single-region, global events off, delivery
//! bucket moved) or stripped of management events through event selectors; CloudTrail Lake
//! stores deleted; VPC flow logs, Route 53 resolver query logs, S3 server access logging, RDS
//! activity streams and Bedrock invocation logging removed; GuardDuty detectors deleted,
//! disabled, detached from the administrator or muted with auto-archive filters; AWS Config
//! recorders stopped or deleted and delivery channels removed; Security Hub disabled, standards
//! turned off or findings suppressed; Macie paused; IAM Access Analyzer, WAF web ACLs and
//! Detective graphs removed; EBS default encryption turned off; CloudWatch log groups deleted
//! (High when the group holds CloudTrail or flow logs).
//! **Why**: an intruder's first move after getting in is often to stop the recording
//! (T1562.008) or the alarm (T1562.001); these calls are rare in normal operation, and every
//! later finding depends on the logs they remove.
//! **Judged by content**: `PutEventSelectors` only fires when management events are excluded
//! or narrowed to read-only/write-only (classic and advanced selectors); `UpdateTrail` only
//! when it narrows coverage or moves delivery; `UpdateDetector` only with `enable: false`;
//! `CreateFilter` only with the `ARCHIVE` action; `PutBucketLogging` only when logging is
//! removed. Failed calls do not fire.
//! **Baseline**: none (stateless).
//! **False positives**: decommissioning a trail or account, replacing a trail by an
//! organization trail, infrastructure-as-code teardown. Calls made by AWS services on the
//! principal's behalf (CloudFormation) are scored lower. Repeats update one finding per
//! (principal, target).
//! **ATT&CK**: T1562.008, T1562.001.
//! **References**: AWS CloudTrail API reference (StopLogging, PutEventSelectors); GuardDuty
//! finding types Stealth:IAMUser/CloudTrailLoggingDisabled and
//! Stealth:IAMUser/LoggingConfigurationModified; Stratus Red Team
//! aws.defense-evasion.cloudtrail-stop / -delete / -event-selectors; Panther analysis rules
//! AWS.CloudTrail.Stopped, AWS.CloudTrail.EventSelectorsDisabled.

use serde_json::Value;

use super::Rule;
use super::support::{
    CRITICAL, HIGH, Hit, LOW, MEDIUM, actor, bool_of, ct, emit, failed, params, resource, service,
    str_of,
};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::Finding;

const ID: &str = "logging-tampering";
const LOGS: &[&str] = &["T1562.008"];
const TOOLS: &[&str] = &["T1562.001"];

/// See the module documentation.
pub struct LoggingTampering;

struct Verdict {
    strength: f64,
    /// "CloudTrail logging stopped"
    what: &'static str,
    /// "on trail org-trail"
    target_kind: &'static str,
    target: String,
    /// Extra detail for the description.
    detail: String,
    attacks: &'static [&'static str],
}

fn last_segment(s: &str) -> &str {
    s.rsplit(['/', ':']).next().unwrap_or(s)
}

fn v(
    strength: f64,
    what: &'static str,
    target_kind: &'static str,
    target: impl Into<String>,
    attacks: &'static [&'static str],
) -> Option<Verdict> {
    Some(Verdict {
        strength,
        what,
        target_kind,
        target: target.into(),
        detail: String::new(),
        attacks,
    })
}

/// Management events excluded or narrowed by classic or advanced event selectors.
fn selectors_verdict(p: &Value) -> Option<(f64, String)> {
    if let Some(sels) = p.get("eventSelectors").and_then(Value::as_array) {
        if sels.is_empty() {
            return Some((
                HIGH,
                "the event selectors are empty, so the trail records no management events".into(),
            ));
        }
        let mgmt: Vec<&Value> = sels
            .iter()
            .filter(|s| {
                bool_of(s, &["includeManagementEvents", "IncludeManagementEvents"]) != Some(false)
            })
            .collect();
        if mgmt.is_empty() {
            return Some((
                HIGH,
                "every event selector sets includeManagementEvents to false".into(),
            ));
        }
        let narrowed: Vec<&str> = mgmt
            .iter()
            .filter_map(|s| str_of(s, &["readWriteType", "ReadWriteType"]))
            .filter(|t| !t.eq_ignore_ascii_case("All"))
            .collect();
        if narrowed.len() == mgmt.len() {
            return Some((
                MEDIUM,
                format!("management events are narrowed to {}", narrowed.join(", ")),
            ));
        }
        let excluded = mgmt.iter().any(|s| {
            s.get("excludeManagementEventSources")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        });
        if excluded {
            return Some((
                MEDIUM,
                "management event sources are excluded from the trail".into(),
            ));
        }
        return None;
    }
    if let Some(adv) = p.get("advancedEventSelectors").and_then(Value::as_array) {
        let mut management = false;
        let mut read_only_narrowed = true;
        for sel in adv {
            let fields = sel
                .get("fieldSelectors")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let cat = fields
                .iter()
                .find(|f| f.get("field").and_then(Value::as_str) == Some("eventCategory"));
            let is_mgmt = cat.is_some_and(|c| {
                c.get("equals")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some("Management")))
            });
            if is_mgmt {
                management = true;
                let ro = fields
                    .iter()
                    .any(|f| f.get("field").and_then(Value::as_str) == Some("readOnly"));
                read_only_narrowed &= ro;
            }
        }
        if !management {
            return Some((
                HIGH,
                "the advanced event selectors select no management events".into(),
            ));
        }
        if read_only_narrowed {
            return Some((
                MEDIUM,
                "the advanced event selectors keep only read-only or write-only management events"
                    .into(),
            ));
        }
    }
    None
}

impl LoggingTampering {
    fn verdict(r: &crate::parse::cloudtrail::CloudTrailRecord) -> Option<Verdict> {
        let name = r.event_name.as_str();
        match service(r) {
            "cloudtrail" => {
                if !matches!(
                    name,
                    "StopLogging"
                        | "DeleteTrail"
                        | "UpdateTrail"
                        | "PutEventSelectors"
                        | "PutInsightSelectors"
                        | "DeleteEventDataStore"
                        | "StopEventDataStoreIngestion"
                ) {
                    return None;
                }
                let p = params(r);
                let trail = str_of(&p, &["name", "trailName", "eventDataStore"])
                    .map(|t| last_segment(t).to_string())
                    .unwrap_or_else(|| "unknown".into());
                match name {
                    "StopLogging" => {
                        v(CRITICAL, "CloudTrail logging stopped", "trail", trail, LOGS)
                    }
                    "DeleteTrail" => v(CRITICAL, "CloudTrail trail deleted", "trail", trail, LOGS),
                    "DeleteEventDataStore" | "StopEventDataStoreIngestion" => v(
                        HIGH,
                        "CloudTrail Lake event data store disabled",
                        "event data store",
                        trail,
                        LOGS,
                    ),
                    "PutEventSelectors" => {
                        let (s, detail) = selectors_verdict(&p)?;
                        let mut x = v(
                            s,
                            "CloudTrail management events deselected",
                            "trail",
                            trail,
                            LOGS,
                        )?;
                        x.detail = detail;
                        Some(x)
                    }
                    "PutInsightSelectors" => {
                        let empty = p
                            .get("insightSelectors")
                            .and_then(Value::as_array)
                            .is_some_and(|a| a.is_empty());
                        if empty {
                            v(
                                LOW,
                                "CloudTrail Insights switched off",
                                "trail",
                                trail,
                                LOGS,
                            )
                        } else {
                            None
                        }
                    }
                    _ => {
                        let mut why = Vec::new();
                        let mut s = 0.0f64;
                        if bool_of(&p, &["isMultiRegionTrail"]) == Some(false) {
                            why.push("made single-region");
                            s = s.max(HIGH);
                        }
                        if bool_of(&p, &["includeGlobalServiceEvents"]) == Some(false) {
                            why.push("global service events (IAM, STS, sign-in) excluded");
                            s = s.max(MEDIUM);
                        }
                        if str_of(&p, &["s3BucketName"]).is_some() {
                            why.push("log delivery moved to another bucket");
                            s = s.max(MEDIUM);
                        }
                        if why.is_empty() {
                            return None;
                        }
                        let mut x =
                            v(s, "CloudTrail trail coverage reduced", "trail", trail, LOGS)?;
                        x.detail = format!("The trail was {}.", why.join("; "));
                        if let Some(b) = str_of(&p, &["s3BucketName"]) {
                            x.detail.push_str(&format!(" New bucket: {b}."));
                        }
                        Some(x)
                    }
                }
            }
            "ec2" => match name {
                "DeleteFlowLogs" => {
                    let p = params(r);
                    let id = p
                        .pointer("/DeleteFlowLogsRequest/FlowLogId/content")
                        .and_then(Value::as_str)
                        .or_else(|| {
                            p.pointer("/DeleteFlowLogsRequest/FlowLogId")
                                .and_then(Value::as_str)
                        })
                        .or_else(|| p.pointer("/flowLogIds/0").and_then(Value::as_str))
                        .unwrap_or("unknown")
                        .to_string();
                    v(HIGH, "VPC flow logs deleted", "flow log", id, LOGS)
                }
                "DisableEbsEncryptionByDefault" => v(
                    MEDIUM,
                    "EBS default encryption disabled",
                    "region",
                    r.aws_region.clone(),
                    TOOLS,
                ),
                _ => None,
            },
            "route53resolver"
                if matches!(
                    name,
                    "DeleteResolverQueryLogConfig" | "DisassociateResolverQueryLogConfig"
                ) =>
            {
                let p = params(r);
                let id = str_of(&p, &["resolverQueryLogConfigId"])
                    .unwrap_or("unknown")
                    .to_string();
                v(
                    MEDIUM,
                    "Route 53 resolver query logging removed",
                    "query log config",
                    id,
                    LOGS,
                )
            }
            "guardduty" => {
                let p = params(r);
                let det = str_of(&p, &["detectorId"]).unwrap_or("unknown").to_string();
                match name {
                    "DeleteDetector" => v(
                        CRITICAL,
                        "GuardDuty detector deleted",
                        "detector",
                        det,
                        TOOLS,
                    ),
                    "UpdateDetector" if bool_of(&p, &["enable"]) == Some(false) => {
                        v(HIGH, "GuardDuty detector disabled", "detector", det, TOOLS)
                    }
                    "DisassociateFromMasterAccount" | "DisassociateFromAdministratorAccount" => v(
                        HIGH,
                        "GuardDuty detached from its administrator account",
                        "detector",
                        det,
                        TOOLS,
                    ),
                    "DeleteMembers" | "DisassociateMembers" | "StopMonitoringMembers" => v(
                        HIGH,
                        "GuardDuty member accounts removed",
                        "detector",
                        det,
                        TOOLS,
                    ),
                    "CreateFilter" | "UpdateFilter"
                        if str_of(&p, &["action"])
                            .is_some_and(|a| a.eq_ignore_ascii_case("ARCHIVE")) =>
                    {
                        let f = str_of(&p, &["name", "filterName"]).unwrap_or("unknown");
                        let mut x = v(
                            MEDIUM,
                            "GuardDuty auto-archive filter created",
                            "detector",
                            det,
                            TOOLS,
                        )?;
                        x.detail = format!(
                            "Filter `{f}` archives matching findings as they arrive, so nobody sees them."
                        );
                        Some(x)
                    }
                    _ => None,
                }
            }
            "config" => {
                let p = params(r);
                let n = str_of(&p, &["configurationRecorderName", "deliveryChannelName"])
                    .unwrap_or("default")
                    .to_string();
                match name {
                    "StopConfigurationRecorder" => {
                        v(HIGH, "AWS Config recorder stopped", "recorder", n, TOOLS)
                    }
                    "DeleteConfigurationRecorder" => {
                        v(HIGH, "AWS Config recorder deleted", "recorder", n, TOOLS)
                    }
                    "DeleteDeliveryChannel" => v(
                        HIGH,
                        "AWS Config delivery channel deleted",
                        "delivery channel",
                        n,
                        LOGS,
                    ),
                    _ => None,
                }
            }
            "securityhub" => {
                let acct = super::support::account(r).unwrap_or("unknown").to_string();
                match name {
                    "DisableSecurityHub" => {
                        v(HIGH, "Security Hub disabled", "account", acct, TOOLS)
                    }
                    "BatchDisableStandards" => v(
                        MEDIUM,
                        "Security Hub standards disabled",
                        "account",
                        acct,
                        TOOLS,
                    ),
                    "DisableImportFindingsForProduct" => v(
                        MEDIUM,
                        "Security Hub finding import disabled",
                        "account",
                        acct,
                        TOOLS,
                    ),
                    "DisassociateFromMasterAccount" | "DisassociateFromAdministratorAccount" => v(
                        HIGH,
                        "Security Hub detached from its administrator account",
                        "account",
                        acct,
                        TOOLS,
                    ),
                    "UpdateFindings" => v(
                        MEDIUM,
                        "Security Hub findings updated by hand",
                        "account",
                        acct,
                        TOOLS,
                    ),
                    "BatchUpdateFindings" => {
                        let p = params(r);
                        let suppressed = p
                            .pointer("/Workflow/Status")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.eq_ignore_ascii_case("SUPPRESSED"));
                        if suppressed {
                            v(
                                MEDIUM,
                                "Security Hub findings suppressed",
                                "account",
                                acct,
                                TOOLS,
                            )
                        } else {
                            None
                        }
                    }
                    "DeleteInsight" => {
                        v(LOW, "Security Hub insight deleted", "account", acct, TOOLS)
                    }
                    _ => None,
                }
            }
            "access-analyzer" if name == "DeleteAnalyzer" => {
                let p = params(r);
                v(
                    MEDIUM,
                    "IAM Access Analyzer deleted",
                    "analyzer",
                    str_of(&p, &["analyzerName"])
                        .unwrap_or("unknown")
                        .to_string(),
                    TOOLS,
                )
            }
            "macie" | "macie2" => {
                let acct = super::support::account(r).unwrap_or("unknown").to_string();
                match name {
                    "DisableMacie" => v(HIGH, "Amazon Macie disabled", "account", acct, TOOLS),
                    "UpdateMacieSession" => {
                        let p = params(r);
                        if str_of(&p, &["status"]).is_some_and(|s| s.eq_ignore_ascii_case("PAUSED"))
                        {
                            v(HIGH, "Amazon Macie paused", "account", acct, TOOLS)
                        } else {
                            v(
                                LOW,
                                "Amazon Macie session settings changed",
                                "account",
                                acct,
                                TOOLS,
                            )
                        }
                    }
                    _ => None,
                }
            }
            "logs" if name == "DeleteLogGroup" => {
                let p = params(r);
                let g = str_of(&p, &["logGroupName"])
                    .unwrap_or("unknown")
                    .to_string();
                let l = g.to_ascii_lowercase();
                if l.contains("cloudtrail")
                    || l.contains("trail")
                    || l.contains("flow")
                    || l.contains("vpc")
                {
                    v(
                        HIGH,
                        "Log group holding audit logs deleted",
                        "log group",
                        g,
                        LOGS,
                    )
                } else {
                    v(LOW, "CloudWatch log group deleted", "log group", g, LOGS)
                }
            }
            "s3" if name == "PutBucketLogging" => {
                let p = params(r);
                let status = p.get("BucketLoggingStatus")?;
                if status.get("LoggingEnabled").is_some() {
                    return None;
                }
                let b = str_of(&p, &["bucketName"]).unwrap_or("unknown").to_string();
                v(
                    MEDIUM,
                    "S3 server access logging disabled",
                    "bucket",
                    b,
                    LOGS,
                )
            }
            "bedrock" => match name {
                "DeleteModelInvocationLoggingConfiguration" => v(
                    HIGH,
                    "Bedrock model invocation logging deleted",
                    "account",
                    super::support::account(r).unwrap_or("unknown").to_string(),
                    LOGS,
                ),
                "DeleteGuardrail" | "UpdateGuardrail" => {
                    let p = params(r);
                    let g = str_of(&p, &["guardrailIdentifier"])
                        .unwrap_or("unknown")
                        .to_string();
                    if name == "DeleteGuardrail" {
                        v(MEDIUM, "Bedrock guardrail deleted", "guardrail", g, TOOLS)
                    } else {
                        v(LOW, "Bedrock guardrail changed", "guardrail", g, TOOLS)
                    }
                }
                _ => None,
            },
            "wafv2" | "waf-regional" | "waf" => {
                let p = params(r);
                let target = str_of(
                    &p,
                    &["resourceArn", "ResourceArn", "webACLId", "name", "Name"],
                )
                .unwrap_or("unknown")
                .to_string();
                match name {
                    "DisassociateWebACL" => v(
                        HIGH,
                        "WAF web ACL detached from a resource",
                        "resource",
                        target,
                        TOOLS,
                    ),
                    "DeleteWebACL" => v(MEDIUM, "WAF web ACL deleted", "web ACL", target, TOOLS),
                    _ => None,
                }
            }
            "rds" if name == "StopActivityStream" => {
                let p = params(r);
                v(
                    HIGH,
                    "RDS database activity stream stopped",
                    "database",
                    str_of(&p, &["resourceArn"])
                        .unwrap_or("unknown")
                        .to_string(),
                    LOGS,
                )
            }
            "detective" if name == "DeleteGraph" => v(
                MEDIUM,
                "Amazon Detective graph deleted",
                "account",
                super::support::account(r).unwrap_or("unknown").to_string(),
                TOOLS,
            ),
            "inspector2" if name == "Disable" => v(
                MEDIUM,
                "Amazon Inspector disabled",
                "account",
                super::support::account(r).unwrap_or("unknown").to_string(),
                TOOLS,
            ),
            _ => None,
        }
    }
}

impl Rule for LoggingTampering {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if failed(r) {
            return;
        }
        let Some(x) = Self::verdict(r) else { return };
        let who = actor(r);
        let mut hit = Hit::new(ID, "Logging or security tooling disabled", x.attacks);
        hit.title = format!(
            "{}: {who} called {} on {} {}",
            x.what, r.event_name, x.target_kind, x.target
        );
        hit.desc = format!(
            "{} ({} {}). {}Until it is restored, activity in this account or region is not recorded or not \
             alerted on, which is what an intruder wants before acting.",
            x.what,
            x.target_kind,
            x.target,
            if x.detail.is_empty() {
                String::new()
            } else {
                format!("{} ", x.detail)
            },
        );
        hit.remediation = "Confirm with the caller's owner that this was a planned change. If not: restore the \
                           logging or security service at once, revoke the caller's credentials, and review \
                           everything the caller did before and after this call (other logs, organization trail).";
        hit.strength = x.strength;
        hit.confidence = 0.9;
        hit.key = vec![r.event_name.clone(), x.target.clone()];
        let kind = match service(r) {
            "cloudtrail" => "AWS::CloudTrail::Trail",
            "guardduty" => "AWS::GuardDuty::Detector",
            "config" => "AWS::Config::ConfigurationRecorder",
            "ec2" => "AWS::EC2::FlowLog",
            "s3" => "AWS::S3::Bucket",
            "logs" => "AWS::Logs::LogGroup",
            _ => "AWS::Resource",
        };
        let uid = if x.target.starts_with("arn:") || kind != "AWS::S3::Bucket" {
            x.target.clone()
        } else {
            format!("arn:aws:s3:::{}", x.target)
        };
        hit.resources.push(resource(r, uid, kind));
        emit(e, r, cfg, hit, out);
    }
}
