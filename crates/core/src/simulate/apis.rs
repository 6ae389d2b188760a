//! The API calls people make, with request parameters and responses shaped like the real ones.
//! Reads dominate (as in every real trail); writes are rarer and depend on who is calling.

use super::json::{object, quote};
use super::org::{BucketKind, Org};
use super::rng::{RngExt, SimRng};

/// Context a call's parameters are drawn from.
pub(crate) struct ApiCtx<'a> {
    pub org: &'a Org,
    pub account: usize,
    pub region: &'static str,
}

/// A chosen call: everything but the caller, time and network origin.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    pub source: &'static str,
    pub name: &'static str,
    /// The AWS CLI command that makes this call (`ec2.describe-instances`).
    pub cmd: &'static str,
    pub req: Option<String>,
    pub resp: Option<String>,
    /// A non-permission error some calls return in normal use (`NoSuchBucketPolicy`).
    pub error: Option<(&'static str, String)>,
    /// IAM action (`service:Action`) for access-denied messages.
    pub action: String,
    pub resource: Option<String>,
    /// Global services log in us-east-1 whatever region the caller uses.
    pub global: bool,
}

/// (event source, event name, weight, CLI command). Lambda names carry API version suffixes as
/// CloudTrail records them.
#[rustfmt::skip]
pub(crate) const READS: &[(&str, &str, u32, &str)] = &[
    ("ec2.amazonaws.com", "DescribeInstances", 14, "ec2.describe-instances"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", 6, "ec2.describe-security-groups"),
    ("ec2.amazonaws.com", "DescribeVpcs", 3, "ec2.describe-vpcs"),
    ("ec2.amazonaws.com", "DescribeSubnets", 3, "ec2.describe-subnets"),
    ("ec2.amazonaws.com", "DescribeVolumes", 3, "ec2.describe-volumes"),
    ("ec2.amazonaws.com", "DescribeSnapshots", 2, "ec2.describe-snapshots"),
    ("ec2.amazonaws.com", "DescribeImages", 2, "ec2.describe-images"),
    ("ec2.amazonaws.com", "DescribeInstanceStatus", 3, "ec2.describe-instance-status"),
    ("ec2.amazonaws.com", "DescribeNetworkInterfaces", 2, "ec2.describe-network-interfaces"),
    ("ec2.amazonaws.com", "DescribeAddresses", 1, "ec2.describe-addresses"),
    ("ec2.amazonaws.com", "DescribeKeyPairs", 1, "ec2.describe-key-pairs"),
    ("s3.amazonaws.com", "ListBuckets", 6, "s3.ls"),
    ("s3.amazonaws.com", "GetBucketLocation", 3, "s3api.get-bucket-location"),
    ("s3.amazonaws.com", "GetBucketPolicy", 2, "s3api.get-bucket-policy"),
    ("s3.amazonaws.com", "GetBucketAcl", 1, "s3api.get-bucket-acl"),
    ("s3.amazonaws.com", "GetBucketVersioning", 1, "s3api.get-bucket-versioning"),
    ("s3.amazonaws.com", "GetBucketEncryption", 1, "s3api.get-bucket-encryption"),
    ("s3.amazonaws.com", "GetBucketPublicAccessBlock", 1, "s3api.get-public-access-block"),
    ("iam.amazonaws.com", "ListRoles", 3, "iam.list-roles"),
    ("iam.amazonaws.com", "GetRole", 3, "iam.get-role"),
    ("iam.amazonaws.com", "ListAttachedRolePolicies", 2, "iam.list-attached-role-policies"),
    ("iam.amazonaws.com", "ListRolePolicies", 1, "iam.list-role-policies"),
    ("iam.amazonaws.com", "ListPolicies", 1, "iam.list-policies"),
    ("iam.amazonaws.com", "GetAccountSummary", 1, "iam.get-account-summary"),
    ("lambda.amazonaws.com", "ListFunctions20150331", 4, "lambda.list-functions"),
    ("lambda.amazonaws.com", "GetFunction20150331v2", 3, "lambda.get-function"),
    ("lambda.amazonaws.com", "GetFunctionConfiguration20150331v2", 2, "lambda.get-function-configuration"),
    ("monitoring.amazonaws.com", "DescribeAlarms", 4, "cloudwatch.describe-alarms"),
    ("monitoring.amazonaws.com", "GetMetricData", 5, "cloudwatch.get-metric-data"),
    ("monitoring.amazonaws.com", "ListMetrics", 1, "cloudwatch.list-metrics"),
    ("logs.amazonaws.com", "DescribeLogGroups", 4, "logs.describe-log-groups"),
    ("logs.amazonaws.com", "DescribeLogStreams", 3, "logs.describe-log-streams"),
    ("logs.amazonaws.com", "FilterLogEvents", 4, "logs.filter-log-events"),
    ("logs.amazonaws.com", "StartQuery", 1, "logs.start-query"),
    ("rds.amazonaws.com", "DescribeDBInstances", 3, "rds.describe-db-instances"),
    ("rds.amazonaws.com", "DescribeDBSnapshots", 1, "rds.describe-db-snapshots"),
    ("ecs.amazonaws.com", "ListClusters", 2, "ecs.list-clusters"),
    ("ecs.amazonaws.com", "DescribeServices", 3, "ecs.describe-services"),
    ("ecs.amazonaws.com", "ListTasks", 2, "ecs.list-tasks"),
    ("ecs.amazonaws.com", "DescribeTasks", 2, "ecs.describe-tasks"),
    ("dynamodb.amazonaws.com", "ListTables", 2, "dynamodb.list-tables"),
    ("dynamodb.amazonaws.com", "DescribeTable", 2, "dynamodb.describe-table"),
    ("cloudformation.amazonaws.com", "DescribeStacks", 3, "cloudformation.describe-stacks"),
    ("cloudformation.amazonaws.com", "DescribeStackEvents", 2, "cloudformation.describe-stack-events"),
    ("kms.amazonaws.com", "ListAliases", 1, "kms.list-aliases"),
    ("kms.amazonaws.com", "DescribeKey", 1, "kms.describe-key"),
    ("sts.amazonaws.com", "GetCallerIdentity", 3, "sts.get-caller-identity"),
    ("ssm.amazonaws.com", "DescribeInstanceInformation", 1, "ssm.describe-instance-information"),
    ("ssm.amazonaws.com", "GetParameter", 1, "ssm.get-parameter"),
    ("secretsmanager.amazonaws.com", "ListSecrets", 1, "secretsmanager.list-secrets"),
    ("cloudtrail.amazonaws.com", "LookupEvents", 1, "cloudtrail.lookup-events"),
];

/// Writes a developer makes in non-production accounts.
#[rustfmt::skip]
pub(crate) const DEV_WRITES: &[(&str, &str, u32, &str)] = &[
    ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", 3, "lambda.update-function-configuration"),
    ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", 3, "lambda.update-function-code"),
    ("ec2.amazonaws.com", "StartInstances", 2, "ec2.start-instances"),
    ("ec2.amazonaws.com", "StopInstances", 2, "ec2.stop-instances"),
    ("ec2.amazonaws.com", "CreateTags", 3, "ec2.create-tags"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", 1, "ec2.authorize-security-group-ingress"),
    ("logs.amazonaws.com", "CreateLogGroup", 1, "logs.create-log-group"),
    ("logs.amazonaws.com", "PutRetentionPolicy", 1, "logs.put-retention-policy"),
    ("ssm.amazonaws.com", "PutParameter", 2, "ssm.put-parameter"),
    ("ssm.amazonaws.com", "StartSession", 2, "ssm.start-session"),
    ("ecs.amazonaws.com", "UpdateService", 2, "ecs.update-service"),
    ("cloudformation.amazonaws.com", "CreateChangeSet", 1, "cloudformation.create-change-set"),
];

/// Writes only administrators make.
#[rustfmt::skip]
pub(crate) const ADMIN_WRITES: &[(&str, &str, u32, &str)] = &[
    ("iam.amazonaws.com", "CreateRole", 1, "iam.create-role"),
    ("iam.amazonaws.com", "AttachRolePolicy", 1, "iam.attach-role-policy"),
    ("iam.amazonaws.com", "PutRolePolicy", 1, "iam.put-role-policy"),
    ("iam.amazonaws.com", "TagRole", 1, "iam.tag-role"),
    ("s3.amazonaws.com", "PutBucketTagging", 1, "s3api.put-bucket-tagging"),
    ("ec2.amazonaws.com", "CreateSecurityGroup", 1, "ec2.create-security-group"),
    ("rds.amazonaws.com", "CreateDBSnapshot", 1, "rds.create-db-snapshot"),
];

fn service_of(source: &str) -> &str {
    match source {
        "monitoring.amazonaws.com" => "cloudwatch",
        s => s.strip_suffix(".amazonaws.com").unwrap_or(s),
    }
}

/// IAM action for an event name (strips Lambda's API version suffix).
pub(crate) fn action_of(source: &str, name: &str) -> String {
    let base = name.find("2015").map_or(name, |i| &name[..i]);
    let base = match base {
        "ListBuckets" => "ListAllMyBuckets",
        "GetBucketPublicAccessBlock" => "GetBucketPublicAccessBlock",
        b => b,
    };
    format!("{}:{base}", service_of(source))
}

/// Builds a call by name with realistic parameters for the account it runs in.
pub(crate) fn call(
    source: &'static str,
    name: &'static str,
    cmd: &'static str,
    r: &mut SimRng,
    c: &ApiCtx<'_>,
) -> Api {
    let org = c.org;
    let acct = org.account_id(c.account).to_string();
    let instances: Vec<&super::org::Instance> = org
        .instances
        .iter()
        .filter(|i| i.account == c.account)
        .collect();
    let functions: Vec<&super::org::Function> = org
        .functions
        .iter()
        .filter(|f| f.account == c.account)
        .collect();
    let buckets: Vec<&super::org::Bucket> = org
        .buckets
        .iter()
        .filter(|b| b.account == c.account)
        .collect();
    let roles: Vec<&super::org::Role> = org
        .roles
        .iter()
        .filter(|ro| ro.account == c.account)
        .collect();
    let instance = instances
        .get(r.index(instances.len()))
        .map(|i| i.id.clone());
    let function = functions
        .get(r.index(functions.len()))
        .map(|f| f.name.clone());
    let bucket = buckets.get(r.index(buckets.len())).map(|b| b.name.clone());
    let role = roles.get(r.index(roles.len())).map(|ro| ro.name.clone());
    let mut error = None;
    let mut resp = None;
    let mut resource = None;
    let req: Option<String> = match name {
        "DescribeInstances" => Some(match (&instance, r.chance(0.4)) {
            (Some(i), true) => format!(
                r#"{{"instancesSet":{{"items":[{{"instanceId":{}}}]}},"filterSet":{{}}}}"#,
                quote(i)
            ),
            _ => r#"{"instancesSet":{},"filterSet":{}}"#.to_string(),
        }),
        "DescribeSecurityGroups"
        | "DescribeVpcs"
        | "DescribeSubnets"
        | "DescribeVolumes"
        | "DescribeAddresses"
        | "DescribeKeyPairs"
        | "DescribeNetworkInterfaces" => Some(r#"{"filterSet":{},"maxResults":1000}"#.to_string()),
        "DescribeSnapshots" | "DescribeImages" => {
            Some(r#"{"ownersSet":{"items":[{"owner":"self"}]},"filterSet":{}}"#.to_string())
        }
        "DescribeInstanceStatus" => {
            Some(r#"{"instancesSet":{},"filterSet":{},"includeAllInstances":false}"#.to_string())
        }
        "ListBuckets" => Some(r#"{"Host":"s3.amazonaws.com"}"#.to_string()),
        "GetBucketLocation"
        | "GetBucketPolicy"
        | "GetBucketAcl"
        | "GetBucketVersioning"
        | "GetBucketEncryption"
        | "GetBucketPublicAccessBlock"
        | "PutBucketTagging" => {
            let b = bucket.clone().unwrap_or_default();
            resource = Some(format!("arn:aws:s3:::{b}"));
            if name == "GetBucketPolicy" && r.chance(0.5) {
                error = Some((
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist".to_string(),
                ));
            }
            let sub = match name {
                "GetBucketLocation" => "location",
                "GetBucketPolicy" => "policy",
                "GetBucketAcl" => "acl",
                "GetBucketVersioning" => "versioning",
                "GetBucketEncryption" => "encryption",
                "PutBucketTagging" => "tagging",
                _ => "publicAccessBlock",
            };
            Some(object(|o| {
                o.str("bucketName", &b)
                    .str("Host", &format!("{b}.s3.{}.amazonaws.com", c.region))
                    .str(sub, "");
            }))
        }
        "GetRole" | "ListAttachedRolePolicies" | "ListRolePolicies" | "TagRole" => {
            let ro = role.clone().unwrap_or_default();
            resource = Some(format!("arn:aws:iam::{acct}:role/{ro}"));
            if name == "GetRole" && r.chance(0.03) {
                error = Some((
                    "NoSuchEntityException",
                    format!("The role with name {ro}-old cannot be found."),
                ));
                return api(
                    source,
                    name,
                    cmd,
                    Some(object(|o| {
                        o.str("roleName", &format!("{ro}-old"));
                    })),
                    None,
                    error,
                    resource,
                );
            }
            Some(if name == "TagRole" {
                object(|o| {
                    o.str("roleName", &ro).arr("tags", |a| {
                        a.obj(|t| {
                            t.str("key", "owner").str("value", "platform");
                        });
                    });
                })
            } else {
                object(|o| {
                    o.str("roleName", &ro);
                })
            })
        }
        "ListRoles" | "ListPolicies" => Some(r#"{"maxItems":1000}"#.to_string()),
        "GetFunction20150331v2" | "GetFunctionConfiguration20150331v2" => {
            let f = function.clone().unwrap_or_default();
            resource = Some(format!("arn:aws:lambda:{}:{acct}:function:{f}", c.region));
            Some(object(|o| {
                o.str("functionName", &f);
            }))
        }
        "UpdateFunctionConfiguration20150331v2" | "UpdateFunctionCode20150331v2" => {
            let f = function.clone().unwrap_or_default();
            resource = Some(format!("arn:aws:lambda:{}:{acct}:function:{f}", c.region));
            let fa = format!("arn:aws:lambda:{}:{acct}:function:{f}", c.region);
            resp = Some(object(|o| {
                o.str("functionName", &f)
                    .str("functionArn", &fa)
                    .str("state", "Active")
                    .str("lastUpdateStatus", "InProgress");
            }));
            Some(if name.starts_with("UpdateFunctionCode") {
                object(|o| {
                    o.str("functionName", &f)
                        .bool("publish", false)
                        .bool("dryRun", false);
                })
            } else {
                object(|o| {
                    o.str("functionName", &f)
                        .num("timeout", r.between(10, 60))
                        .num("memorySize", 128 << r.between(0, 3));
                })
            })
        }
        "ListFunctions20150331" => None,
        "DescribeAlarms" => Some(r#"{"maxRecords":100}"#.to_string()),
        "GetMetricData" => Some(object(|o| {
            o.arr("metricDataQueries", |a| {
                a.obj(|q| {
                    q.str("id", "m1").obj("metricStat", |m| {
                        m.obj("metric", |mm| {
                            mm.str("namespace", "AWS/EC2")
                                .str("metricName", "CPUUtilization");
                        })
                        .num("period", 300)
                        .str("stat", "Average");
                    });
                });
            });
        })),
        "ListMetrics" => Some(r#"{"namespace":"AWS/Lambda"}"#.to_string()),
        "DescribeLogGroups" => Some(r#"{"limit":50}"#.to_string()),
        "DescribeLogStreams" | "FilterLogEvents" | "StartQuery" | "CreateLogGroup"
        | "PutRetentionPolicy" => {
            let f = function.clone().unwrap_or_else(|| "app".to_string());
            let lg = format!("/aws/lambda/{f}");
            Some(object(|o| {
                o.str("logGroupName", &lg);
                match name {
                    "DescribeLogStreams" => {
                        o.str("orderBy", "LastEventTime").bool("descending", true);
                    }
                    "FilterLogEvents" => {
                        o.str(
                            "filterPattern",
                            if r.chance(0.5) { "ERROR" } else { "timeout" },
                        )
                        .num("limit", 100);
                    }
                    "PutRetentionPolicy" => {
                        o.num("retentionInDays", 30);
                    }
                    _ => {}
                }
            }))
        }
        "DescribeDBInstances" | "DescribeDBSnapshots" | "CreateDBSnapshot" => {
            let db = org
                .databases
                .iter()
                .find(|d| d.account == c.account)
                .map(|d| d.id.clone());
            match (name, db) {
                ("CreateDBSnapshot", Some(db)) => {
                    let snap = format!("{db}-manual-{}", r.hex(6));
                    Some(object(|o| {
                        o.str("dBSnapshotIdentifier", &snap)
                            .str("dBInstanceIdentifier", &db);
                    }))
                }
                ("CreateDBSnapshot", None) => {
                    return call(
                        "rds.amazonaws.com",
                        "DescribeDBInstances",
                        "rds.describe-db-instances",
                        r,
                        c,
                    );
                }
                (_, Some(db)) if r.chance(0.5) => Some(object(|o| {
                    o.str("dBInstanceIdentifier", &db);
                })),
                _ => None,
            }
        }
        "ListClusters" => None,
        "DescribeServices" | "ListTasks" | "DescribeTasks" | "UpdateService" => {
            let svc = org.services.iter().find(|s| s.account == c.account);
            svc.map(|s| {
                object(|o| {
                    o.str("cluster", &s.cluster);
                    match name {
                        "DescribeServices" => {
                            o.strs("services", &[s.name.as_str()]);
                        }
                        "UpdateService" => {
                            o.str("service", &s.name).bool("forceNewDeployment", true);
                        }
                        "DescribeTasks" => {
                            o.strs("tasks", &[r.hex(32)]);
                        }
                        _ => {
                            o.str("serviceName", &s.name);
                        }
                    }
                })
            })
        }
        "ListTables" => None,
        "DescribeTable" => Some(object(|o| {
            o.str(
                "tableName",
                &format!(
                    "{}-{}",
                    org.accounts[c.account].env,
                    r.pick(super::catalog::APPS)
                ),
            );
        })),
        "DescribeStacks" | "DescribeStackEvents" | "CreateChangeSet" => {
            let stack = format!("{}-app-stack", org.accounts[c.account].env);
            Some(object(|o| {
                o.str("stackName", &stack);
                if name == "CreateChangeSet" {
                    o.str("changeSetName", &format!("manual-{}", r.hex(8)))
                        .str("changeSetType", "UPDATE");
                }
            }))
        }
        "ListAliases" => None,
        "DescribeKey" => {
            let key = org
                .keys
                .iter()
                .find(|k| k.account == c.account)
                .map(|k| k.id.clone())
                .unwrap_or_default();
            Some(object(|o| {
                o.str("keyId", &key);
            }))
        }
        "GetCallerIdentity"
        | "GetAccountSummary"
        | "ListSecrets"
        | "DescribeInstanceInformation" => None,
        "GetParameter" | "PutParameter" => {
            let p = format!(
                "/{}/{}/config",
                org.accounts[c.account].env,
                r.pick(super::catalog::APPS)
            );
            Some(object(|o| {
                o.str("name", &p);
                if name == "GetParameter" {
                    o.bool("withDecryption", true);
                } else {
                    o.str("type", "String").bool("overwrite", true);
                }
            }))
        }
        "LookupEvents" => Some(r#"{"maxResults":50}"#.to_string()),
        "StartInstances" | "StopInstances" => {
            let i = instance.clone().unwrap_or_default();
            resource = Some(format!("arn:aws:ec2:{}:{acct}:instance/{i}", c.region));
            Some(format!(
                r#"{{"instancesSet":{{"items":[{{"instanceId":{}}}]}}}}"#,
                quote(&i)
            ))
        }
        "CreateTags" => {
            let i = instance.clone().unwrap_or_default();
            Some(format!(
                r#"{{"resourcesSet":{{"items":[{{"resourceId":{}}}]}},"tagSet":{{"items":[{{"key":"team","value":"platform"}}]}}}}"#,
                quote(&i)
            ))
        }
        "AuthorizeSecurityGroupIngress" => {
            let sg = format!("sg-0{}", r.hex(16));
            Some(format!(
                r#"{{"groupId":"{sg}","ipPermissions":{{"items":[{{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipRanges":{{"items":[{{"cidrIp":"10.0.0.0/8"}}]}}}}]}}}}"#
            ))
        }
        "CreateSecurityGroup" => {
            let vpc = org
                .vpcs
                .iter()
                .find(|v| v.account == c.account)
                .map(|v| v.id.clone())
                .unwrap_or_default();
            let name = format!("{}-sg-{}", r.pick(super::catalog::APPS), r.hex(4));
            resp = Some(format!(
                r#"{{"_return":true,"groupId":"sg-0{}"}}"#,
                r.hex(16)
            ));
            Some(object(|o| {
                o.str("groupName", &name)
                    .str("groupDescription", "managed by platform")
                    .str("vpcId", &vpc);
            }))
        }
        "StartSession" => {
            let i = instance.clone().unwrap_or_default();
            resp = Some(object(|o| {
                o.str("sessionId", &format!("{}-{}", "session", r.hex(17)))
                    .str(
                        "streamUrl",
                        "wss://ssmmessages.amazonaws.com/v1/data-channel/...",
                    )
                    .str("tokenValue", "Value hidden due to security reasons.");
            }));
            Some(object(|o| {
                o.str("target", &i);
            }))
        }
        "CreateRole" => {
            let ro = format!(
                "{}-{}-role",
                org.accounts[c.account].env,
                r.pick(super::catalog::APPS)
            );
            let arn = format!("arn:aws:iam::{acct}:role/{ro}");
            let id = format!("AROA{}", r.upper_id(17));
            resp = Some(object(|o| {
                o.obj("role", |x| {
                    x.str("path", "/")
                        .str("roleName", &ro)
                        .str("roleId", &id)
                        .str("arn", &arn)
                        .str("createDate", "Oct 1, 2026, 12:00:00 PM");
                });
            }));
            Some(object(|o| {
                o.str("roleName", &ro).str(
                    "assumeRolePolicyDocument",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                );
            }))
        }
        "AttachRolePolicy" => {
            let ro = role.clone().unwrap_or_default();
            let pol = r.pick(&[
                "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
                "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
            ]);
            Some(object(|o| {
                o.str("roleName", &ro).str("policyArn", pol);
            }))
        }
        "PutRolePolicy" => {
            let ro = role.clone().unwrap_or_default();
            let b = buckets
                .iter()
                .find(|b| b.kind == BucketKind::Data)
                .map(|b| b.name.clone())
                .unwrap_or_default();
            Some(object(|o| {
                o.str("roleName", &ro).str("policyName", "app-data-access").str(
                    "policyDocument",
                    &format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::{b}/*"}}]}}"#),
                );
            }))
        }
        _ => None,
    };
    api(source, name, cmd, req, resp, error, resource)
}

fn api(
    source: &'static str,
    name: &'static str,
    cmd: &'static str,
    req: Option<String>,
    resp: Option<String>,
    error: Option<(&'static str, String)>,
    resource: Option<String>,
) -> Api {
    Api {
        source,
        name,
        cmd,
        req,
        resp,
        error,
        action: action_of(source, name),
        resource,
        global: matches!(
            source,
            "iam.amazonaws.com" | "organizations.amazonaws.com" | "ce.amazonaws.com"
        ),
    }
}

/// Picks a weighted entry of a table.
pub(crate) fn pick_entry<'t>(
    r: &mut SimRng,
    table: &'t [(&'static str, &'static str, u32, &'static str)],
) -> &'t (&'static str, &'static str, u32, &'static str) {
    let total: u64 = table.iter().map(|e| u64::from(e.2)).sum();
    let mut x = r.between(0, total.saturating_sub(1) as i64) as u64;
    for e in table {
        if x < u64::from(e.2) {
            return e;
        }
        x -= u64::from(e.2);
    }
    &table[0]
}
