//! Data shared with other accounts or made public.
//!
//! **What**:
//! - EBS snapshots (`ModifySnapshotAttribute` createVolumePermission add), AMIs
//!   (`ModifyImageAttribute` launchPermission add), RDS snapshots
//!   (`ModifyDB[Cluster]SnapshotAttribute` restore values) shared with `all` (Critical) or
//!   with another account (Medium);
//! - S3 bucket policies granting `*` without a narrowing condition (High) or another account
//!   (Medium); bucket ACLs granting AllUsers/AuthenticatedUsers or canned public ACLs (High);
//!   public access blocks deleted or switched off, per bucket (Medium) and account-wide (High);
//! - resource policies made public on KMS keys, SQS queues, SNS topics, ECR repositories,
//!   Secrets Manager secrets, OpenSearch domains, Lambda functions (`AddPermission` with
//!   principal `*`), EFS file systems, Glacier vaults; CodeBuild projects made public;
//! - RDS instances and clusters made publicly accessible, or restored from a snapshot as
//!   public; legacy DB security groups opened to 0.0.0.0/0.
//!
//! **Why**: copying data to an account the attacker owns (T1537) or making it readable by
//! anyone (T1530) needs no network transfer the victim can see; one API call is enough.
//! **Judged by content**: only additions are judged; conditions such as
//! `aws:PrincipalOrgID`, `aws:SourceVpc`, `aws:SourceIp` or `aws:SourceAccount` make a `*`
//! principal private. Another account is any 12-digit account other than the recipient.
//! **Baseline**: none. Sharing done by an AWS service (AWS Backup copying to a vault account)
//! scores lower.
//! **False positives**: sharing with your own other accounts (backups, AMI pipelines),
//! deliberately public buckets (websites). Repeats update one finding per resource.
//! **ATT&CK**: T1537, T1530.
//! **References**: Stratus Red Team aws.exfiltration.ec2-share-ebs-snapshot,
//! -share-ami, rds-share-snapshot, s3-backdoor-bucket-policy; GuardDuty
//! Policy:S3/BucketAnonymousAccessGranted; Panther AWS.CloudTrail.SnapshotMadePublic,
//! AWS.CloudTrail.ResourceMadePublic.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Rule;
use super::policy::{Exposure, exposure, parse_doc};
use super::support::{
    CRITICAL, HIGH, Hit, LOW, MEDIUM, account, actor, bool_of, ct, emit, failed, is_account_id,
    items, params, resource, response, service, str_of, strings,
};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::{Finding, Observable, ObservableType};
use crate::parse::cloudtrail::CloudTrailRecord;

const ID: &str = "resource-exposure";

/// See the module documentation.
pub struct ResourceExposure;

struct Verdict {
    strength: f64,
    what: String,
    target: String,
    kind: &'static str,
    public: bool,
    accounts: BTreeSet<String>,
}

/// Who an EC2 permission `add` list admits: `group: all` or `userId`s.
fn ec2_add(list: Option<&Value>, owner: Option<&str>) -> (bool, BTreeSet<String>) {
    let add = list.and_then(|v| v.get("add").or_else(|| v.get("Add")));
    let mut public = false;
    let mut accounts = BTreeSet::new();
    for it in items(add) {
        if str_of(it, &["group", "Group"]).is_some_and(|g| g.eq_ignore_ascii_case("all")) {
            public = true;
        }
        if let Some(u) = str_of(it, &["userId", "UserId"])
            && is_account_id(u)
            && Some(u) != owner
        {
            accounts.insert(u.to_string());
        }
    }
    (public, accounts)
}

fn shared(
    strength_public: f64,
    what: &str,
    target: String,
    kind: &'static str,
    public: bool,
    accounts: BTreeSet<String>,
) -> Option<Verdict> {
    if !public && accounts.is_empty() {
        return None;
    }
    let whom = if public {
        "everyone".to_string()
    } else {
        format!(
            "account {}",
            accounts.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    };
    Some(Verdict {
        strength: if public { strength_public } else { MEDIUM },
        what: format!("{what} shared with {whom}"),
        target,
        kind,
        public,
        accounts,
    })
}

fn policy_verdict(x: Exposure, what: &str, target: String, kind: &'static str) -> Option<Verdict> {
    if !x.any() {
        return None;
    }
    let whom = if x.public {
        "everyone".to_string()
    } else {
        format!(
            "account {}",
            x.accounts.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    };
    Some(Verdict {
        strength: if x.public { HIGH } else { MEDIUM },
        what: format!("{what} opened to {whom}"),
        target,
        kind,
        public: x.public,
        accounts: x.accounts,
    })
}

/// A resource policy passed as one request parameter: the resource is named by the first of
/// `name.0` present (else `name.1`), the policy document is at `policy_key`.
fn policy_param(
    r: &CloudTrailRecord,
    name: (&[&str], &str),
    policy_key: &str,
    what: &str,
    kind: &'static str,
) -> Option<Verdict> {
    let p = params(r);
    let target = str_of(&p, name.0).unwrap_or(name.1).to_string();
    let doc = p.get(policy_key).and_then(parse_doc)?;
    policy_verdict(exposure(&doc, account(r)), what, target, kind)
}

const PUBLIC_GRANTEES: [&str; 2] = [
    "acs.amazonaws.com/groups/global/AllUsers",
    "acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

impl ResourceExposure {
    fn verdict(r: &CloudTrailRecord) -> Option<Verdict> {
        let owner = account(r);
        let name = r.event_name.as_str();
        match (service(r), name) {
            ("ec2", "ModifySnapshotAttribute") => {
                let p = params(r);
                let snap = str_of(&p, &["snapshotId"]).unwrap_or("unknown").to_string();
                let (public, accounts) = ec2_add(p.get("createVolumePermission"), owner);
                shared(
                    CRITICAL,
                    "EBS snapshot",
                    snap,
                    "AWS::EC2::Snapshot",
                    public,
                    accounts,
                )
            }
            ("ec2", "ModifyImageAttribute") => {
                let p = params(r);
                let ami = str_of(&p, &["imageId"]).unwrap_or("unknown").to_string();
                let (public, accounts) = ec2_add(p.get("launchPermission"), owner);
                shared(HIGH, "AMI", ami, "AWS::EC2::Image", public, accounts)
            }
            ("rds", "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute") => {
                let p = params(r);
                if !str_of(&p, &["attributeName"])
                    .is_some_and(|a| a.eq_ignore_ascii_case("restore"))
                {
                    return None;
                }
                let snap = str_of(&p, &["dBSnapshotIdentifier", "dBClusterSnapshotIdentifier"])
                    .unwrap_or("unknown")
                    .to_string();
                let values = strings(p.get("valuesToAdd"));
                let public = values.iter().any(|v| v.eq_ignore_ascii_case("all"));
                let accounts = values
                    .iter()
                    .filter(|v| is_account_id(v) && Some(**v) != owner)
                    .map(|v| v.to_string())
                    .collect();
                shared(
                    CRITICAL,
                    "RDS snapshot",
                    snap,
                    "AWS::RDS::DBSnapshot",
                    public,
                    accounts,
                )
            }
            ("s3", "PutBucketPolicy") => {
                let p = params(r);
                let bucket = str_of(&p, &["bucketName"]).unwrap_or("unknown").to_string();
                let doc = p.get("bucketPolicy").and_then(parse_doc)?;
                policy_verdict(
                    exposure(&doc, owner),
                    "S3 bucket policy",
                    bucket,
                    "AWS::S3::Bucket",
                )
            }
            ("s3", "PutBucketAcl" | "PutObjectAcl") => {
                let p = params(r);
                let bucket = str_of(&p, &["bucketName"]).unwrap_or("unknown").to_string();
                let canned = strings(p.get("x-amz-acl"))
                    .into_iter()
                    .chain(str_of(&p, &["acl"]))
                    .any(|a| {
                        matches!(
                            a,
                            "public-read" | "public-read-write" | "authenticated-read"
                        )
                    });
                let grants = p
                    .get("AccessControlPolicy")
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                let public = canned
                    || PUBLIC_GRANTEES.iter().any(|g| grants.contains(g))
                    || strings(p.get("x-amz-grant-read"))
                        .iter()
                        .chain(strings(p.get("x-amz-grant-full-control")).iter())
                        .any(|g| g.contains("AllUsers") || g.contains("AuthenticatedUsers"));
                if !public {
                    return None;
                }
                Some(Verdict {
                    strength: HIGH,
                    what: format!(
                        "S3 {} ACL grants public access",
                        if name == "PutObjectAcl" {
                            "object"
                        } else {
                            "bucket"
                        }
                    ),
                    target: bucket,
                    kind: "AWS::S3::Bucket",
                    public: true,
                    accounts: BTreeSet::new(),
                })
            }
            (
                "s3",
                "DeleteBucketPublicAccessBlock"
                | "PutBucketPublicAccessBlock"
                | "DeleteAccountPublicAccessBlock"
                | "PutAccountPublicAccessBlock",
            ) => {
                let p = params(r);
                let account_wide = name.contains("Account");
                if name.starts_with("Put") {
                    let cfg = p
                        .get("PublicAccessBlockConfiguration")
                        .or_else(|| p.get("publicAccessBlock"))?;
                    let off: Vec<&str> = [
                        "BlockPublicAcls",
                        "IgnorePublicAcls",
                        "BlockPublicPolicy",
                        "RestrictPublicBuckets",
                    ]
                    .into_iter()
                    .filter(|k| bool_of(cfg, &[k]) == Some(false))
                    .collect();
                    if off.is_empty() {
                        return None;
                    }
                    let target = if account_wide {
                        owner.unwrap_or("unknown").to_string()
                    } else {
                        str_of(&p, &["bucketName"]).unwrap_or("unknown").to_string()
                    };
                    return Some(Verdict {
                        strength: if account_wide { HIGH } else { MEDIUM },
                        what: format!("S3 public access block weakened ({} off)", off.join(", ")),
                        target,
                        kind: if account_wide {
                            "AWS::S3::AccountPublicAccessBlock"
                        } else {
                            "AWS::S3::Bucket"
                        },
                        public: false,
                        accounts: BTreeSet::new(),
                    });
                }
                let target = if account_wide {
                    owner.unwrap_or("unknown").to_string()
                } else {
                    str_of(&p, &["bucketName"]).unwrap_or("unknown").to_string()
                };
                Some(Verdict {
                    strength: if account_wide { HIGH } else { MEDIUM },
                    what: format!(
                        "S3 public access block removed{}",
                        if account_wide {
                            " for the whole account"
                        } else {
                            ""
                        }
                    ),
                    target,
                    kind: if account_wide {
                        "AWS::S3::AccountPublicAccessBlock"
                    } else {
                        "AWS::S3::Bucket"
                    },
                    public: false,
                    accounts: BTreeSet::new(),
                })
            }
            ("kms", "PutKeyPolicy" | "CreateKey") => policy_param(
                r,
                (&["keyId"], "new key"),
                "policy",
                "KMS key policy",
                "AWS::KMS::Key",
            ),
            ("sqs", "SetQueueAttributes" | "CreateQueue") => {
                let p = params(r);
                let q = str_of(&p, &["queueUrl", "queueName"])
                    .unwrap_or("unknown")
                    .to_string();
                let doc = p
                    .get("attributes")
                    .and_then(|a| a.get("Policy"))
                    .and_then(parse_doc)?;
                policy_verdict(
                    exposure(&doc, owner),
                    "SQS queue policy",
                    q,
                    "AWS::SQS::Queue",
                )
            }
            ("sns", "SetTopicAttributes" | "CreateTopic") => {
                let p = params(r);
                let t = str_of(&p, &["topicArn", "name"])
                    .unwrap_or("unknown")
                    .to_string();
                let doc = if str_of(&p, &["attributeName"]) == Some("Policy") {
                    p.get("attributeValue").and_then(parse_doc)
                } else {
                    p.get("attributes")
                        .and_then(|a| a.get("Policy"))
                        .and_then(parse_doc)
                }?;
                policy_verdict(
                    exposure(&doc, owner),
                    "SNS topic policy",
                    t,
                    "AWS::SNS::Topic",
                )
            }
            ("ecr", "SetRepositoryPolicy") => policy_param(
                r,
                (&["repositoryName"], "unknown"),
                "policyText",
                "ECR repository policy",
                "AWS::ECR::Repository",
            ),
            ("secretsmanager", "PutResourcePolicy") => {
                let p = params(r);
                let resp = response(r);
                let s = str_of(&p, &["secretId"])
                    .or_else(|| str_of(&resp, &["arn"]))
                    .unwrap_or("unknown")
                    .to_string();
                let doc = p.get("resourcePolicy").and_then(parse_doc)?;
                policy_verdict(
                    exposure(&doc, owner),
                    "Secrets Manager secret policy",
                    s,
                    "AWS::SecretsManager::Secret",
                )
            }
            (
                "es" | "opensearch",
                "CreateElasticsearchDomain"
                | "UpdateElasticsearchDomainConfig"
                | "CreateDomain"
                | "UpdateDomainConfig",
            ) => policy_param(
                r,
                (&["domainName"], "unknown"),
                "accessPolicies",
                "OpenSearch domain access policy",
                "AWS::OpenSearchService::Domain",
            ),
            ("efs" | "elasticfilesystem", "PutFileSystemPolicy") => policy_param(
                r,
                (&["fileSystemId"], "unknown"),
                "policy",
                "EFS file system policy",
                "AWS::EFS::FileSystem",
            ),
            ("glacier", "SetVaultAccessPolicy") => {
                let p = params(r);
                let vname = str_of(&p, &["vaultName"]).unwrap_or("unknown").to_string();
                let doc = p
                    .get("policy")
                    .and_then(|x| x.get("policy").or(Some(x)))
                    .and_then(parse_doc)?;
                policy_verdict(
                    exposure(&doc, owner),
                    "Glacier vault policy",
                    vname,
                    "AWS::Glacier::Vault",
                )
            }
            ("lambda", n) if n.starts_with("AddPermission") => {
                let p = params(r);
                let f = str_of(&p, &["functionName"])
                    .unwrap_or("unknown")
                    .to_string();
                let principal = str_of(&p, &["principal"])?;
                let public = principal == "*"
                    && str_of(&p, &["sourceArn", "sourceAccount", "principalOrgID"]).is_none();
                let mut accounts = BTreeSet::new();
                if let Some(a) = super::support::account_of_principal(principal)
                    && Some(a) != owner
                {
                    accounts.insert(a.to_string());
                }
                shared(
                    HIGH,
                    "Lambda function invoke permission",
                    f,
                    "AWS::Lambda::Function",
                    public,
                    accounts,
                )
            }
            ("codebuild", "UpdateProjectVisibility") => {
                let p = params(r);
                if !str_of(&p, &["projectVisibility"])
                    .is_some_and(|v| v.eq_ignore_ascii_case("PUBLIC_READ"))
                {
                    return None;
                }
                Some(Verdict {
                    strength: HIGH,
                    what: "CodeBuild project made public".into(),
                    target: str_of(&p, &["projectArn"]).unwrap_or("unknown").to_string(),
                    kind: "AWS::CodeBuild::Project",
                    public: true,
                    accounts: BTreeSet::new(),
                })
            }
            (
                "rds",
                "ModifyDBInstance"
                | "ModifyDBCluster"
                | "RestoreDBInstanceFromDBSnapshot"
                | "RestoreDBClusterFromSnapshot"
                | "RestoreDBInstanceToPointInTime",
            ) => {
                let p = params(r);
                let made_public = if name.starts_with("Modify") {
                    bool_of(&p, &["publiclyAccessible"]) == Some(true)
                } else {
                    bool_of(&p, &["publiclyAccessible"]) == Some(true)
                        || bool_of(&response(r), &["publiclyAccessible"]) == Some(true)
                };
                if !made_public {
                    return None;
                }
                let db = str_of(
                    &p,
                    &[
                        "dBInstanceIdentifier",
                        "dBClusterIdentifier",
                        "targetDBInstanceIdentifier",
                    ],
                )
                .unwrap_or("unknown")
                .to_string();
                Some(Verdict {
                    strength: HIGH,
                    what: if name.starts_with("Restore") {
                        "RDS database restored as publicly accessible".into()
                    } else {
                        "RDS database made publicly accessible".into()
                    },
                    target: db,
                    kind: "AWS::RDS::DBInstance",
                    public: true,
                    accounts: BTreeSet::new(),
                })
            }
            ("rds", "AuthorizeDBSecurityGroupIngress") => {
                let p = params(r);
                let g = str_of(&p, &["dBSecurityGroupName"])
                    .unwrap_or("unknown")
                    .to_string();
                let cidr = str_of(&p, &["cIDRIP"]);
                let public = cidr.is_some_and(|c| c == "0.0.0.0/0" || c == "::/0");
                Some(Verdict {
                    strength: if public { HIGH } else { LOW },
                    what: if public {
                        "RDS security group opened to the internet".into()
                    } else {
                        format!(
                            "RDS security group ingress added ({})",
                            cidr.unwrap_or("EC2 security group")
                        )
                    },
                    target: g,
                    kind: "AWS::RDS::DBSecurityGroup",
                    public,
                    accounts: BTreeSet::new(),
                })
            }
            _ => None,
        }
    }
}

impl Rule for ResourceExposure {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if !matches!(
            service(r),
            "ec2"
                | "rds"
                | "s3"
                | "kms"
                | "sqs"
                | "sns"
                | "ecr"
                | "secretsmanager"
                | "es"
                | "opensearch"
                | "efs"
                | "elasticfilesystem"
                | "glacier"
                | "lambda"
                | "codebuild"
        ) || failed(r)
        {
            return;
        }
        let Some(x) = Self::verdict(r) else { return };
        let who = actor(r);
        let mut hit = Hit::new(
            ID,
            "Data shared or made public",
            if x.public {
                &["T1530", "T1537"]
            } else {
                &["T1537"]
            },
        );
        hit.title = format!("{}: {who} called {} on {}", x.what, r.event_name, x.target);
        hit.desc = format!(
            "{} ({}). {}",
            x.what,
            x.target,
            if x.public {
                "Anyone on the internet (or any AWS account) can now read or use it."
            } else {
                "The other account can copy the data into infrastructure you do not control; check that it is one of yours."
            }
        );
        hit.remediation = "Check whether the sharing or public access is intended (a website bucket, a backup or \
                           AMI pipeline to an account you own). If not: revoke it at once (remove the permission, \
                           restore the public access block or policy), find out whether the data was copied, and \
                           review the caller's other activity.";
        hit.strength = x.strength;
        hit.confidence = 0.85;
        // Public exposure is one finding per resource; sharing is one per receiving account, so a
        // nightly copy to the same vault account updates one finding instead of adding one a night.
        hit.key = if x.public || x.accounts.is_empty() {
            vec![r.event_name.clone(), x.target.clone()]
        } else {
            vec![
                r.event_name.clone(),
                x.accounts.iter().cloned().collect::<Vec<_>>().join(","),
            ]
        };
        let uid = if x.kind == "AWS::S3::Bucket" && !x.target.starts_with("arn:") {
            format!("arn:aws:s3:::{}", x.target)
        } else {
            x.target.clone()
        };
        hit.resources.push(resource(r, uid, x.kind));
        for a in x.accounts {
            hit.observables.push(Observable {
                kind: ObservableType::Account,
                value: a,
            });
        }
        emit(e, r, cfg, hit, out);
    }
}
