//! Platform activity: the security scanner's daily sweep into every account (hundreds of
//! Describe/List/Get calls, a steady set of AccessDenied), and AWS Config's periodic describes.
//! Both look like reconnaissance to a naive detector, which is why they are in the background.

use rand::Rng;

use super::Gen;
use crate::simulate::clock::{HOUR, MINUTE};
use crate::simulate::ct::{self, AssumedOpts, CtCall, Session};
use crate::simulate::json::object;
use crate::simulate::org::{AccountRole, Org};
use crate::simulate::rng::{RngExt, SimRng, derive, rng_for, tag};
use crate::simulate::s3log::S3Req;
use crate::simulate::scenarios::BgFeature;

pub(super) fn hour(g: &mut Gen<'_>) {
    if g.utc_hour() == 2 {
        scanner(g);
    }
    config(g);
}

/// The scanner Lambda's egress address (stable: it runs outside a VPC in one region).
pub(crate) fn scanner_ip(org: &Org, seed: u64) -> String {
    let mut r = rng_for(seed, &[tag("scanner-ip")]);
    let n = r.pick(crate::simulate::catalog::AWS_NETS);
    let _ = org;
    format!(
        "{}.{}.{}.{}",
        n[0],
        n[1],
        r.between(0, 255),
        r.between(1, 254)
    )
}

const SCANNER_UA: &str = "Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.224-234.876.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.5 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#standard Botocore/1.34.145 scanner/2.4.1";

/// Regional calls of a sweep: (source, name, always denied to the audit role).
#[rustfmt::skip]
const REGIONAL: &[(&str, &str, bool)] = &[
    ("ec2.amazonaws.com", "DescribeInstances", false),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", false),
    ("ec2.amazonaws.com", "DescribeVolumes", false),
    ("ec2.amazonaws.com", "DescribeSnapshots", false),
    ("ec2.amazonaws.com", "DescribeImages", false),
    ("ec2.amazonaws.com", "DescribeVpcs", false),
    ("ec2.amazonaws.com", "DescribeSubnets", false),
    ("ec2.amazonaws.com", "DescribeFlowLogs", false),
    ("ec2.amazonaws.com", "DescribeNetworkAcls", false),
    ("ec2.amazonaws.com", "DescribeRouteTables", false),
    ("ec2.amazonaws.com", "DescribeSnapshotAttribute", false),
    ("lambda.amazonaws.com", "ListFunctions20150331", false),
    ("kms.amazonaws.com", "ListKeys", false),
    ("cloudtrail.amazonaws.com", "DescribeTrails", false),
    ("cloudtrail.amazonaws.com", "GetTrailStatus", false),
    ("cloudtrail.amazonaws.com", "GetEventSelectors", false),
    ("guardduty.amazonaws.com", "ListDetectors", false),
    ("config.amazonaws.com", "DescribeConfigurationRecorders", false),
    ("config.amazonaws.com", "DescribeConfigurationRecorderStatus", false),
    ("rds.amazonaws.com", "DescribeDBInstances", false),
    ("rds.amazonaws.com", "DescribeDBSnapshots", false),
    ("ecr.amazonaws.com", "DescribeRepositories", false),
    ("logs.amazonaws.com", "DescribeLogGroups", false),
    ("sns.amazonaws.com", "ListTopics", false),
    ("secretsmanager.amazonaws.com", "ListSecrets", true),
    ("sqs.amazonaws.com", "ListQueues", true),
    ("securityhub.amazonaws.com", "DescribeHub", false),
    ("access-analyzer.amazonaws.com", "ListAnalyzers", false),
];

#[rustfmt::skip]
const GLOBAL: &[(&str, &str, bool)] = &[
    ("iam.amazonaws.com", "ListUsers", false),
    ("iam.amazonaws.com", "ListRoles", false),
    ("iam.amazonaws.com", "ListPolicies", false),
    ("iam.amazonaws.com", "GetAccountPasswordPolicy", false),
    ("iam.amazonaws.com", "GetAccountSummary", false),
    ("iam.amazonaws.com", "GenerateCredentialReport", false),
    ("iam.amazonaws.com", "GetCredentialReport", false),
    ("iam.amazonaws.com", "ListSAMLProviders", false),
    ("iam.amazonaws.com", "ListOpenIDConnectProviders", false),
    ("iam.amazonaws.com", "ListVirtualMFADevices", false),
    ("s3.amazonaws.com", "ListBuckets", false),
    ("organizations.amazonaws.com", "DescribeOrganization", true),
];

#[rustfmt::skip]
const BUCKET_CALLS: &[(&str, &str, &str)] = &[
    ("GetBucketPolicy", "policy", "REST.GET.BUCKETPOLICY"),
    ("GetBucketAcl", "acl", "REST.GET.ACL"),
    ("GetBucketPublicAccessBlock", "publicAccessBlock", "REST.GET.PUBLIC_ACCESS_BLOCK"),
    ("GetBucketEncryption", "encryption", "REST.GET.ENCRYPTION"),
    ("GetBucketLogging", "logging", "REST.GET.LOGGING_STATUS"),
    ("GetBucketVersioning", "versioning", "REST.GET.VERSIONING"),
];

/// The daily sweep into this account: the scanner role in the security account assumes
/// `SecurityAuditRole` here, then reads everything in every region it cares about.
fn scanner(g: &mut Gen<'_>) {
    let org = g.org;
    let seed = g.sim.cfg.seed;
    let labelled = g.bg_tag(BgFeature::ScannerSweep);
    let mut r = g.rng(&[tag("scanner")]);
    let start_min = (derive(seed, &[tag("sweep-minute"), g.day as u64]) % 20) as i64;
    let mut t = g.hour_ms + (start_min + 3 * g.account as i64) * MINUTE + r.between(0, 59_000);
    let ip = scanner_ip(org, seed);
    let acct = org.account_id(g.account).to_string();
    let scanner_role = org.roles[org.scanner_role].clone();
    let (skey, screated) = {
        let mut kr = rng_for(seed, &[tag("scanner-key"), g.day as u64]);
        (
            format!("ASIA{}", kr.upper_id(16)),
            g.hour_ms + start_min * MINUTE - 30_000,
        )
    };
    let scanner_who = ct::assumed(
        &scanner_role,
        "security-scanner",
        Session {
            access_key: &skey,
            created_ms: screated,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    let audit = org.roles[org.accounts[g.account].audit_role].clone();
    let session = format!("security-scanner-{}", g.day);
    let key = format!("ASIA{}", r.upper_id(16));
    let region0 = org.accounts[g.account].regions[0];
    let assume = CtCall::api(
        t,
        &scanner_who,
        "sts.amazonaws.com",
        "AssumeRole",
        region0,
        &ip,
        SCANNER_UA,
        &acct,
    )
    .req(object(|o| {
        o.str("roleArn", &audit.arn())
            .str("roleSessionName", &session)
            .num("durationSeconds", 3600);
    }))
    .resp(object(|o| {
        o.obj("credentials", |c| {
            c.str("accessKeyId", &key)
                .str("expiration", &crate::simulate::clock::ct_time(t + HOUR));
        })
        .obj("assumedRoleUser", |u| {
            u.str("assumedRoleId", &format!("{}:{session}", audit.role_id))
                .str("arn", &audit.session_arn(&session));
        });
    }))
    .resource(audit.arn(), &acct, "AWS::IAM::Role");
    g.ct(&mut r, &assume, labelled);
    let who = ct::assumed(
        &audit,
        &session,
        Session {
            access_key: &key,
            created_ms: t,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    let mut regions: Vec<&'static str> = org.accounts[g.account].regions.clone();
    for reg in [org.primary_region, org.secondary_region] {
        if !regions.contains(&reg) {
            regions.push(reg);
        }
    }
    let mut tick = |r: &mut SimRng| {
        t += r.between(150, 1500);
        t
    };
    for (src, name, denied) in GLOBAL {
        let tt = tick(&mut r);
        let mut call = CtCall::api(tt, &who, src, name, "us-east-1", &ip, SCANNER_UA, &acct);
        if *denied {
            call.error = ct::deny(&who, &crate::simulate::apis::action_of(src, name), None);
        }
        g.ct(&mut r, &call, labelled);
    }
    // Per-user key and MFA checks.
    let users: Vec<String> = org
        .humans
        .iter()
        .filter_map(|h| h.iam.as_ref())
        .chain(org.service_users.iter())
        .filter(|u| u.account == g.account)
        .map(|u| u.name.clone())
        .collect();
    for u in &users {
        for name in ["ListAccessKeys", "ListMFADevices", "GetLoginProfile"] {
            let tt = tick(&mut r);
            let mut call = CtCall::api(
                tt,
                &who,
                "iam.amazonaws.com",
                name,
                "us-east-1",
                &ip,
                SCANNER_UA,
                &acct,
            )
            .req(object(|o| {
                o.str("userName", u);
            }));
            if name == "GetLoginProfile" && u.starts_with("svc-") {
                call.error = Some((
                    "NoSuchEntityException",
                    format!("Login Profile for User {u} cannot be found."),
                ));
            }
            g.ct(&mut r, &call, labelled);
        }
    }
    for region in &regions {
        for (src, name, denied) in REGIONAL {
            let tt = tick(&mut r);
            let mut call = CtCall::api(tt, &who, src, name, region, &ip, SCANNER_UA, &acct);
            if *denied {
                call.error = ct::deny(&who, &crate::simulate::apis::action_of(src, name), None);
            }
            if *name == "DescribeSnapshotAttribute" {
                call.request = Some(format!(
                    r#"{{"snapshotId":"snap-0{}","attributeType":"CREATE_VOLUME_PERMISSION"}}"#,
                    r.hex(16)
                ));
            }
            g.ct(&mut r, &call, labelled);
        }
    }
    let buckets: Vec<usize> = (0..org.buckets.len())
        .filter(|b| org.buckets[*b].account == g.account)
        .collect();
    let audit_arn = audit.session_arn(&session);
    for b in buckets {
        let bucket = &org.buckets[b];
        for (name, sub, op) in BUCKET_CALLS {
            let tt = tick(&mut r);
            let mut call = CtCall::api(
                tt,
                &who,
                "s3.amazonaws.com",
                name,
                bucket.region,
                &ip,
                SCANNER_UA,
                &acct,
            )
            .req(object(|o| {
                o.str("bucketName", &bucket.name)
                    .str(
                        "Host",
                        &format!("{}.s3.{}.amazonaws.com", bucket.name, bucket.region),
                    )
                    .str(sub, "");
            }))
            .resource(
                format!("arn:aws:s3:::{}", bucket.name),
                &acct,
                "AWS::S3::Bucket",
            );
            let missing = *name == "GetBucketPolicy"
                && bucket.kind != crate::simulate::org::BucketKind::Public
                && b % 2 == 0;
            if missing {
                call.error = Some((
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist".to_string(),
                ));
            }
            g.ct(&mut r, &call, labelled);
            if bucket.access_logged {
                let req = S3Req {
                    time_ms: tt,
                    bucket,
                    remote_ip: &ip,
                    requester: &audit_arn,
                    op,
                    key: "",
                    query: sub,
                    status: if missing { 404 } else { 200 },
                    error: if missing { "NoSuchBucketPolicy" } else { "" },
                    bytes_sent: Some(r.between(200, 1200) as u64),
                    object_size: None,
                    total_ms: r.between(5, 40) as u64,
                    user_agent: SCANNER_UA,
                    auth: "AuthHeader",
                };
                g.s3(&mut r, b, &req, labelled);
            }
        }
    }
}

#[rustfmt::skip]
const CONFIG_CALLS: &[(&str, &str)] = &[
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("ec2.amazonaws.com", "DescribeVolumes"),
    ("ec2.amazonaws.com", "DescribeNetworkInterfaces"),
    ("ec2.amazonaws.com", "DescribeSubnets"),
    ("iam.amazonaws.com", "GetRole"),
    ("iam.amazonaws.com", "ListRolePolicies"),
    ("iam.amazonaws.com", "ListAttachedRolePolicies"),
    ("s3.amazonaws.com", "GetBucketAcl"),
    ("s3.amazonaws.com", "GetBucketPolicy"),
    ("lambda.amazonaws.com", "GetFunction20150331v2"),
    ("rds.amazonaws.com", "DescribeDBInstances"),
];

/// AWS Config recording configuration changes: steady describes by the service-linked role.
fn config(g: &mut Gen<'_>) {
    let org = g.org;
    let mut r = g.rng(&[tag("config")]);
    let base = if org.accounts[g.account].role == AccountRole::Member {
        10.0
    } else {
        4.0
    };
    let n = r.poisson(base * g.scale.max(0.01).sqrt());
    if n == 0 {
        return;
    }
    let role = org.roles[org.accounts[g.account].config_role].clone();
    let key = format!("ASIA{}", r.upper_id(16));
    let who = ct::assumed(
        &role,
        "AWSConfig-Describe",
        Session {
            access_key: &key,
            created_ms: g.hour_ms,
            mfa: false,
        },
        AssumedOpts {
            invoked_by: Some("config.amazonaws.com"),
            ..AssumedOpts::default()
        },
    );
    let acct = org.account_id(g.account).to_string();
    let region = org.accounts[g.account].regions[0];
    let roles: Vec<String> = org
        .roles
        .iter()
        .filter(|x| x.account == g.account)
        .map(|x| x.name.clone())
        .collect();
    for _ in 0..n {
        let t = g.hour_ms + r.random_range(0..HOUR);
        let (src, name) = *r.pick(CONFIG_CALLS);
        let region = if src == "iam.amazonaws.com" {
            "us-east-1"
        } else {
            region
        };
        let mut call = CtCall::api(
            t,
            &who,
            src,
            name,
            region,
            "config.amazonaws.com",
            "config.amazonaws.com",
            &acct,
        );
        call.tls = false;
        if src == "iam.amazonaws.com" && !roles.is_empty() {
            let ro = &roles[r.index(roles.len())];
            call.request = Some(object(|o| {
                o.str("roleName", ro);
            }));
        }
        g.ct(&mut r, &call, None);
    }
}
