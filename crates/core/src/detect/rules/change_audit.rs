//! Security-relevant configuration changes, recorded as Informational findings.
//!
//! **What**: the changes the CIS AWS Foundations Benchmark (section 4, "Monitoring") asks to
//! alarm on: IAM policy changes (4.4), CloudTrail configuration changes (4.5), AWS Config
//! changes (4.9), S3 bucket policy changes (4.8), security group (4.10), network ACL (4.11),
//! network gateway (4.12), route table (4.13) and VPC (4.14) changes, AWS Organizations
//! changes (4.15); plus identity life-cycle changes (roles, groups, passwords, MFA removal)
//! and data-handling operations that often precede exfiltration or disruption (manual and
//! cross-region database snapshot copies and exports, database log downloads, IAM roles added to databases, database
//! reboots and failovers, instances stopped or terminated by a person, images created,
//! Lambda resource permissions added).
//! **Why**: they are the audit trail an analyst needs around a real finding, and the CIS
//! alarms auditors check for. None is an attack by itself.
//! **Severity**: Informational (hidden by the default `--min-severity low`), so this is a
//! record, not an alert. When a threat rule already explained the same event, this rule stays
//! silent (it runs last in the registry), and so it does for changes whose content a threat
//! rule judges (bucket policies and ACLs, lifecycle rules, event selectors, inline and
//! attached policies, trust policies, security group and network ACL rules): for those, the
//! threat rule's silence is the verdict.
//! **Baseline**: none. Calls made by an AWS service itself (CloudFormation, Auto Scaling,
//! Backup) and failed calls are skipped. One finding per (principal, change, target), updated
//! by repeats.
//! **False positives**: by design, everything it reports is usually legitimate.
//! **ATT&CK**: T1098 (identity changes), T1562.007 (network controls), T1562.008 (trail
//! changes), T1578 (compute changes), T1537 (snapshots), T1666 (organization changes).
//! **References**: CIS AWS Foundations Benchmark v1.5-v3.0 section 4; AWS Security Hub
//! CloudWatch.1-CloudWatch.14 controls.

use super::Rule;
use super::support::{
    Hit, INFO, actor, ct, emit, failed, params, resource, service, str_of, via_aws_service,
};
use crate::detect::EngineConfig;
use crate::detect::activity::UaFamily;
use crate::event::Event;
use crate::finding::Finding;
use crate::parse::cloudtrail::CloudTrailRecord;

const ID: &str = "change-audit";

/// See the module documentation.
pub struct ChangeAudit;

/// (category, CIS control, ATT&CK) of a change, or None.
fn category(r: &CloudTrailRecord) -> Option<(&'static str, &'static str, &'static [&'static str])> {
    let n = r.event_name.as_str();
    const IAM: &[&str] = &["T1098"];
    const NET: &[&str] = &["T1562.007"];
    Some(match service(r) {
        "iam" => match n {
            "DeleteGroupPolicy"
            | "DeleteRolePolicy"
            | "DeleteUserPolicy"
            | "PutGroupPolicy"
            | "PutRolePolicy"
            | "PutUserPolicy"
            | "CreatePolicy"
            | "DeletePolicy"
            | "CreatePolicyVersion"
            | "DeletePolicyVersion"
            | "SetDefaultPolicyVersion"
            | "AttachRolePolicy"
            | "DetachRolePolicy"
            | "AttachUserPolicy"
            | "DetachUserPolicy"
            | "AttachGroupPolicy"
            | "DetachGroupPolicy" => ("IAM policy change", "CIS 4.4", IAM),
            "CreateRole"
            | "DeleteRole"
            | "UpdateAssumeRolePolicy"
            | "CreateGroup"
            | "DeleteGroup"
            | "DeleteUser"
            | "RemoveUserFromGroup"
            | "AddUserToGroup"
            | "UpdateUser"
            | "PutRolePermissionsBoundary"
            | "DeleteRolePermissionsBoundary" => ("IAM identity change", "IAM", IAM),
            "ChangePassword"
            | "DeactivateMFADevice"
            | "DeleteVirtualMFADevice"
            | "UpdateAccountPasswordPolicy"
            | "DeleteAccountPasswordPolicy"
            | "DeleteLoginProfile" => ("IAM credential change", "IAM", IAM),
            _ => return None,
        },
        "cloudtrail" => match n {
            "CreateTrail"
            | "UpdateTrail"
            | "DeleteTrail"
            | "StartLogging"
            | "StopLogging"
            | "PutEventSelectors"
            | "PutInsightSelectors" => {
                ("CloudTrail configuration change", "CIS 4.5", &["T1562.008"])
            }
            _ => return None,
        },
        "config" => match n {
            "StopConfigurationRecorder"
            | "DeleteDeliveryChannel"
            | "PutDeliveryChannel"
            | "PutConfigurationRecorder"
            | "DeleteConfigurationRecorder" => ("AWS Config change", "CIS 4.9", &["T1562.001"]),
            _ => return None,
        },
        "s3" => match n {
            "PutBucketAcl"
            | "PutBucketPolicy"
            | "PutBucketCors"
            | "PutBucketLifecycle"
            | "PutBucketReplication"
            | "DeleteBucketPolicy"
            | "DeleteBucketCors"
            | "DeleteBucketLifecycle"
            | "DeleteBucketReplication" => ("S3 bucket policy change", "CIS 4.8", &["T1530"]),
            _ => return None,
        },
        "ec2" => match n {
            "AuthorizeSecurityGroupIngress"
            | "AuthorizeSecurityGroupEgress"
            | "RevokeSecurityGroupIngress"
            | "RevokeSecurityGroupEgress"
            | "CreateSecurityGroup"
            | "DeleteSecurityGroup"
            | "ModifySecurityGroupRules" => ("Security group change", "CIS 4.10", NET),
            "CreateNetworkAcl"
            | "CreateNetworkAclEntry"
            | "DeleteNetworkAcl"
            | "DeleteNetworkAclEntry"
            | "ReplaceNetworkAclEntry"
            | "ReplaceNetworkAclAssociation" => ("Network ACL change", "CIS 4.11", NET),
            "CreateCustomerGateway"
            | "DeleteCustomerGateway"
            | "AttachInternetGateway"
            | "CreateInternetGateway"
            | "DeleteInternetGateway"
            | "DetachInternetGateway" => ("Network gateway change", "CIS 4.12", NET),
            "CreateRoute"
            | "CreateRouteTable"
            | "ReplaceRoute"
            | "ReplaceRouteTableAssociation"
            | "DeleteRouteTable"
            | "DeleteRoute"
            | "DisassociateRouteTable" => ("Route table change", "CIS 4.13", NET),
            "CreateVpc"
            | "DeleteVpc"
            | "ModifyVpcAttribute"
            | "AcceptVpcPeeringConnection"
            | "CreateVpcPeeringConnection"
            | "DeleteVpcPeeringConnection"
            | "RejectVpcPeeringConnection"
            | "AttachClassicLinkVpc"
            | "DetachClassicLinkVpc"
            | "DisableVpcClassicLink"
            | "EnableVpcClassicLink" => ("VPC change", "CIS 4.14", NET),
            "StopInstances" | "TerminateInstances" if person(r) => (
                "Instances stopped or terminated",
                "availability",
                &["T1578", "T1489"],
            ),
            "CreateImage" => ("Machine image created", "data handling", &["T1578"]),
            _ => return None,
        },
        "organizations" => match n {
            "AcceptHandshake"
            | "AttachPolicy"
            | "CreateAccount"
            | "CreateOrganizationalUnit"
            | "CreatePolicy"
            | "DeclineHandshake"
            | "DeleteOrganization"
            | "DeleteOrganizationalUnit"
            | "DeletePolicy"
            | "DetachPolicy"
            | "DisablePolicyType"
            | "EnablePolicyType"
            | "InviteAccountToOrganization"
            | "MoveAccount"
            | "RemoveAccountFromOrganization"
            | "UpdatePolicy"
            | "UpdateOrganizationalUnit"
            | "DisableAWSServiceAccess"
            | "DeregisterDelegatedAdministrator" => {
                ("AWS Organizations change", "CIS 4.15", &["T1666"])
            }
            "CreateAccountResult" => (
                "Account created in the organization",
                "CIS 4.15",
                &["T1666"],
            ),
            _ => return None,
        },
        "rds" => match n {
            "DownloadDBLogFilePortion" | "DownloadCompleteDBLogFile" => {
                ("Database log downloaded", "data handling", &["T1005"])
            }
            "StartExportTask" => (
                "Database snapshot exported to S3",
                "data handling",
                &["T1537"],
            ),
            "CopyDBSnapshot" | "CopyDBClusterSnapshot" => {
                let p = params(r);
                let cross = str_of(&p, &["sourceRegion"]).is_some_and(|s| s != r.aws_region)
                    || str_of(
                        &p,
                        &[
                            "sourceDBSnapshotIdentifier",
                            "sourceDBClusterSnapshotIdentifier",
                        ],
                    )
                    .and_then(|a| a.strip_prefix("arn:"))
                    .and_then(|a| a.split(':').nth(2))
                    .is_some_and(|reg| reg != r.aws_region);
                if !cross {
                    return None;
                }
                (
                    "Database snapshot copied to another region",
                    "data handling",
                    &["T1537"],
                )
            }
            "AddRoleToDBInstance" | "AddRoleToDBCluster" => {
                ("IAM role added to a database", "IAM", IAM)
            }
            "RebootDBInstance"
            | "RebootDBCluster"
            | "FailoverDBCluster"
            | "FailoverGlobalCluster" => (
                "Database rebooted or failed over",
                "availability",
                &["T1489"],
            ),
            _ => return None,
        },
        "lambda" if n.starts_with("AddPermission") => {
            ("Lambda resource permission added", "IAM", IAM)
        }
        _ => return None,
    })
}

/// Changes whose content a threat rule reads and judges: when that rule stayed silent, the
/// change was judged harmless, and recording it again would only add noise.
const JUDGED: &[&str] = &[
    "PutBucketPolicy",
    "PutBucketAcl",
    "PutBucketLifecycle",
    "PutEventSelectors",
    "UpdateTrail",
    "PutUserPolicy",
    "PutRolePolicy",
    "PutGroupPolicy",
    "AttachUserPolicy",
    "AttachRolePolicy",
    "AttachGroupPolicy",
    "CreatePolicyVersion",
    "UpdateAssumeRolePolicy",
    "CreateNetworkAclEntry",
    "ReplaceNetworkAclEntry",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
];

fn person(r: &CloudTrailRecord) -> bool {
    !via_aws_service(r)
        && !matches!(
            UaFamily::classify(r.user_agent.as_deref().unwrap_or("")),
            UaFamily::AwsInternal
        )
}

/// A short name of what was changed, from the usual request parameters.
fn target(r: &CloudTrailRecord) -> String {
    let p = params(r);
    const KEYS: &[&str] = &[
        "policyArn",
        "userName",
        "roleName",
        "groupName",
        "policyName",
        "name",
        "trailName",
        "bucketName",
        "groupId",
        "networkAclId",
        "routeTableId",
        "vpcId",
        "internetGatewayId",
        "customerGatewayId",
        "vpcPeeringConnectionId",
        "configurationRecorderName",
        "deliveryChannelName",
        "dBInstanceIdentifier",
        "dBClusterIdentifier",
        "dBSnapshotIdentifier",
        "sourceArn",
        "functionName",
        "accountId",
        "policyId",
        "organizationalUnitId",
        "instanceId",
        "targetId",
    ];
    if let Some(t) = str_of(&p, KEYS) {
        return t.to_string();
    }
    if let Some(i) = super::support::items(p.get("instancesSet"))
        .first()
        .and_then(|i| str_of(i, &["instanceId"]))
    {
        return i.to_string();
    }
    super::support::account(r).unwrap_or("account").to_string()
}

impl Rule for ChangeAudit {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if failed(r)
            || r.source_ip_address
                .as_deref()
                .is_some_and(|s| s.ends_with(".amazonaws.com"))
        {
            return;
        }
        if JUDGED.contains(&r.event_name.as_str()) {
            return;
        }
        let Some((what, control, attacks)) = category(r) else {
            return;
        };
        // A threat rule earlier in the registry already explained this event.
        if out
            .last()
            .is_some_and(|f| f.related.first().is_some_and(|u| *u == e.uid))
        {
            return;
        }
        let who = actor(r);
        let t = target(r);
        let mut hit = Hit::new(ID, "Security-relevant change (audit)", attacks);
        hit.title = format!("{what}: {who} called {} on {t}", r.event_name);
        hit.desc = format!(
            "{what} ({control}): {} on {t}. Recorded for the audit trail; usually part of normal operations.",
            r.event_name
        );
        hit.remediation = "No action needed if the change was planned. Otherwise review it with its author and \
                           revert it.";
        hit.strength = INFO;
        hit.confidence = 0.5;
        hit.key = vec![r.event_name.clone(), t.clone()];
        hit.resources.push(resource(r, t, "AWS::Resource"));
        emit(e, r, cfg, hit, out);
    }
}
