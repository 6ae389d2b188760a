//! Discovery: an enumeration tool walking every service and region with stolen keys.

use super::{ALL_REGIONS, Ctx};
use crate::simulate::catalog::ATTACKER_UAS;
use crate::simulate::ct;
use crate::simulate::rng::RngExt;

/// (source, name, denied to a developer)
#[rustfmt::skip]
const SWEEP: &[(&str, &str, bool)] = &[
    ("ec2.amazonaws.com", "DescribeInstances", false),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", false),
    ("ec2.amazonaws.com", "DescribeVpcs", false),
    ("ec2.amazonaws.com", "DescribeSnapshots", false),
    ("ec2.amazonaws.com", "DescribeImages", false),
    ("ec2.amazonaws.com", "DescribeKeyPairs", false),
    ("ec2.amazonaws.com", "DescribeLaunchTemplates", false),
    ("lambda.amazonaws.com", "ListFunctions20150331", false),
    ("rds.amazonaws.com", "DescribeDBInstances", false),
    ("rds.amazonaws.com", "DescribeDBSnapshots", true),
    ("dynamodb.amazonaws.com", "ListTables", false),
    ("secretsmanager.amazonaws.com", "ListSecrets", true),
    ("ssm.amazonaws.com", "DescribeParameters", false),
    ("kms.amazonaws.com", "ListKeys", true),
    ("ecs.amazonaws.com", "ListClusters", false),
    ("eks.amazonaws.com", "ListClusters", true),
    ("cloudtrail.amazonaws.com", "DescribeTrails", true),
    ("guardduty.amazonaws.com", "ListDetectors", true),
    ("sns.amazonaws.com", "ListTopics", false),
    ("sqs.amazonaws.com", "ListQueues", true),
    ("logs.amazonaws.com", "DescribeLogGroups", false),
];

#[rustfmt::skip]
const GLOBAL: &[(&str, &str, bool)] = &[
    ("sts.amazonaws.com", "GetCallerIdentity", false),
    ("iam.amazonaws.com", "GetAccountAuthorizationDetails", true),
    ("iam.amazonaws.com", "ListUsers", false),
    ("iam.amazonaws.com", "ListRoles", false),
    ("iam.amazonaws.com", "ListGroups", true),
    ("iam.amazonaws.com", "ListPolicies", false),
    ("iam.amazonaws.com", "GetAccountPasswordPolicy", true),
    ("iam.amazonaws.com", "ListAccessKeys", true),
    ("organizations.amazonaws.com", "DescribeOrganization", true),
    ("organizations.amazonaws.com", "ListAccounts", true),
    ("s3.amazonaws.com", "ListBuckets", false),
    ("route53.amazonaws.com", "ListHostedZones", true),
    ("cloudfront.amazonaws.com", "ListDistributions", true),
];

/// A developer's long-term key used by ScoutSuite/Pacu from outside: every service in every
/// region within minutes, many calls denied.
pub(super) fn discovery_burst(c: &mut Ctx<'_>) {
    let org = c.org;
    let users: Vec<_> = org.humans.iter().filter_map(|h| h.iam.as_ref()).collect();
    let Some(user) = users.first() else { return };
    let ip = c.attacker_ip();
    let ua = ATTACKER_UAS[2];
    let a = c.actor(user.account, ct::iam_user(user, None), &ip, ua);
    for (src, name, denied) in GLOBAL {
        let call = c.call(&a, src, name);
        let call = if *denied { call.denied() } else { call };
        c.emit_fast(&a, call);
    }
    // Bucket-level reads on every bucket of the account.
    let buckets: Vec<String> = org
        .buckets
        .iter()
        .filter(|b| b.account == user.account)
        .map(|b| b.name.clone())
        .collect();
    for b in &buckets {
        for name in ["GetBucketPolicy", "GetBucketAcl", "GetBucketLocation"] {
            let req = format!(r#"{{"bucketName":"{b}","Host":"{b}.s3.amazonaws.com"}}"#);
            let call = c.call(&a, "s3.amazonaws.com", name).req(req);
            let call = if name == "GetBucketAcl" {
                call.denied()
            } else {
                call
            };
            c.emit_fast(&a, call);
        }
    }
    for region in ALL_REGIONS {
        for (src, name, denied) in SWEEP {
            let mut call = c.call(&a, src, name);
            call.region = region;
            // Denied in any case, and now and then throttled by the sheer rate.
            let call = if *denied {
                call.denied()
            } else if c.r.chance(0.04) {
                call.err(Some(("ThrottlingException", "Rate exceeded".to_string())))
            } else {
                call
            };
            // A tool, not a person: a few hundred milliseconds between calls.
            c.emit_fast(&a, call);
        }
    }
}
