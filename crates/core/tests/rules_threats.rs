//! Threat rules on single CloudTrail records: each rule fires on the attack and stays quiet (or
//! low) on the benign look-alike that shares its event name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use detector_core::detect::EngineConfig;
use detector_core::detect::rules::{check_all, rules};
use detector_core::finding::{Finding, Severity};
use serde_json::{Value, json};

mod common;

const ACCT: &str = "111122223333";

fn user(name: &str) -> Value {
    json!({"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": format!("arn:aws:iam::{ACCT}:user/{name}"),
           "accountId": ACCT, "accessKeyId": "AKIAEXAMPLEKEY000001", "userName": name})
}

fn sso(person: &str) -> Value {
    json!({"type": "AssumedRole", "principalId": format!("AROAEXAMPLE:{person}"),
           "arn": format!("arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_AdministratorAccess_abc/{person}"),
           "accountId": ACCT, "accessKeyId": "ASIAEXAMPLEKEY000001",
           "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
               "arn": format!("arn:aws:iam::{ACCT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_abc"),
               "accountId": ACCT, "userName": "AWSReservedSSO_AdministratorAccess_abc"},
               "attributes": {"creationDate": "2024-04-01T10:00:00Z", "mfaAuthenticated": "false"}}})
}

fn root() -> Value {
    json!({"type": "Root", "principalId": ACCT, "arn": format!("arn:aws:iam::{ACCT}:root"), "accountId": ACCT, "accessKeyId": ""})
}

const CLI: &str = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64";
const KALI: &str =
    "aws-cli/1.22.34 Python/3.11.8 Linux/6.6.9-amd64 botocore/1.24.46 distrib/kali.2024";

/// One CloudTrail record.
fn rec(who: Value, source: &str, name: &str, params: Value) -> Value {
    json!({
        "eventVersion": "1.09", "userIdentity": who, "eventTime": "2024-04-10T12:00:00Z",
        "eventSource": format!("{source}.amazonaws.com"), "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.20", "userAgent": CLI, "requestParameters": params,
        "eventID": format!("ev-{name}"), "eventType": "AwsApiCall", "recipientAccountId": ACCT,
    })
}

fn with(mut r: Value, key: &str, v: Value) -> Value {
    r[key] = v;
    r
}

fn run(records: &[Value]) -> Vec<Finding> {
    check_all(
        &rules(),
        &common::ct(records.to_vec()),
        &EngineConfig::default(),
    )
}

/// Findings of one rule for one record.
fn of(rule: &str, r: Value) -> Vec<Finding> {
    run(&[r])
        .into_iter()
        .filter(|f| f.detector == rule)
        .collect()
}

/// Whether `rule` stays silent on the record.
fn quiet(rule: &str, r: Value) -> bool {
    of(rule, r).is_empty()
}

/// A console sign-in by `who` with the outcome `result` (`Success` or `Failure`).
fn signin(who: Value, result: &str) -> Value {
    with(
        rec(who, "signin", "ConsoleLogin", Value::Null),
        "responseElements",
        json!({ "ConsoleLogin": result }),
    )
}

fn one(rule: &str, r: Value) -> Finding {
    let mut v = of(rule, r);
    assert_eq!(v.len(), 1, "expected one {rule} finding: {v:#?}");
    v.remove(0)
}

#[test]
fn logging_stopped_is_critical_and_explains_itself() {
    let trail = |name: &str, params: Value| rec(sso("eve@example.com"), "cloudtrail", name, params);
    let r = trail(
        "StopLogging",
        json!({"name": format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/org-trail")}),
    );
    let f = one("logging-tampering", r);
    assert!(f.severity >= Severity::High, "{f:#?}");
    assert!(
        f.title.contains("CloudTrail logging stopped")
            && f.title.contains("eve@example.com")
            && f.title.contains("org-trail"),
        "{}",
        f.title
    );
    assert_eq!(f.related, vec!["ev-StopLogging".to_string()]);
    assert!(f.attacks.contains(&"T1562.008".to_string()));
    assert!(f.resources.iter().any(|r| r.uid.contains("org-trail")));
    assert!(!f.remediation.is_empty() && f.desc.contains("198.51.100.20"));
    // A refused attempt is not the event.
    let failed = with(
        trail("StopLogging", json!({"name": "org-trail"})),
        "errorCode",
        json!("AccessDenied"),
    );
    assert!(quiet("logging-tampering", failed));
    // StartLogging is the opposite.
    let start = trail("StartLogging", json!({"name": "org-trail"}));
    assert!(quiet("logging-tampering", start));
}

#[test]
fn event_selectors_judged_by_content() {
    let put = |selectors: Value| rec(user("ops"), "cloudtrail", "PutEventSelectors", selectors);
    let severity = |selectors: Value| one("logging-tampering", put(selectors)).severity;
    let off = json!({"trailName": "t", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": false, "dataResources": []}]});
    assert!(severity(off) >= Severity::High);
    let narrowed = json!({"trailName": "t", "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": true}]});
    assert_eq!(severity(narrowed), Severity::Medium);
    let full = json!({"trailName": "t", "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": true,
        "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]});
    assert!(quiet("logging-tampering", put(full)));
    let adv_data_only = json!({"trailName": "t", "advancedEventSelectors": [{"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]}]});
    assert!(severity(adv_data_only) >= Severity::High);
    let adv_mgmt = json!({"trailName": "t", "advancedEventSelectors": [{"fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}]});
    assert!(quiet("logging-tampering", put(adv_mgmt)));
}

#[test]
fn security_services_disabled() {
    let quiet_on = |svc: &str, name: &str, params: Value| {
        quiet("logging-tampering", rec(sso("eve"), svc, name, params))
    };
    let gd = one(
        "logging-tampering",
        rec(
            sso("eve"),
            "guardduty",
            "DeleteDetector",
            json!({"detectorId": "abc"}),
        ),
    );
    assert!(gd.severity >= Severity::High && gd.attacks.contains(&"T1562.001".to_string()));
    let update = |enable: bool| json!({"detectorId": "abc", "enable": enable});
    assert!(!quiet_on("guardduty", "UpdateDetector", update(false)));
    assert!(quiet_on("guardduty", "UpdateDetector", update(true)));
    let filter =
        |name: &str, action: &str| json!({"detectorId": "abc", "name": name, "action": action});
    assert!(!quiet_on(
        "guardduty",
        "CreateFilter",
        filter("hide", "ARCHIVE")
    ));
    assert!(quiet_on("guardduty", "CreateFilter", filter("n", "NOOP")));
    for (svc, name) in [
        ("config", "StopConfigurationRecorder"),
        ("config", "DeleteDeliveryChannel"),
        ("securityhub", "DisableSecurityHub"),
        ("ec2", "DeleteFlowLogs"),
    ] {
        assert!(!quiet_on(svc, name, json!({})), "{name}");
    }
    // Logging switched off on a bucket, not switched on.
    let off = json!({"bucketName": "b", "BucketLoggingStatus": {}});
    assert!(!quiet_on("s3", "PutBucketLogging", off));
    let on = json!({"bucketName": "b", "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": "logs"}}});
    assert!(quiet_on("s3", "PutBucketLogging", on));
}

#[test]
fn root_use() {
    let login = with(
        signin(root(), "Success"),
        "additionalEventData",
        json!({"MFAUsed": "No"}),
    );
    let f = one("root-usage", login);
    assert_eq!(f.severity, Severity::Critical, "{f:#?}");
    assert!(f.title.contains("without MFA"));
    let key = with(
        rec(root(), "iam", "CreateAccessKey", Value::Null),
        "responseElements",
        json!({"accessKey": {"accessKeyId": "AKIAROOTKEY"}}),
    );
    let f = one("root-usage", key);
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.title.contains("AKIAROOTKEY"));
    // Reads by root are still reported, but low.
    assert_eq!(
        one("root-usage", rec(root(), "iam", "ListUsers", Value::Null)).severity,
        Severity::Low
    );
    // An IAM user is not root.
    assert!(quiet(
        "root-usage",
        rec(user("bob"), "iam", "ListUsers", Value::Null)
    ));
}

#[test]
fn console_signin_without_mfa_is_low_and_sso_is_silent() {
    let ok = |who: Value, add: Value| with(signin(who, "Success"), "additionalEventData", add);
    assert_eq!(
        one("console-signin", ok(user("bob"), json!({"MFAUsed": "No"}))).severity,
        Severity::Low
    );
    assert!(of("console-signin", ok(user("bob"), json!({"MFAUsed": "Yes"}))).is_empty());
    assert!(of("console-signin", ok(sso("bob"), json!({"MFAUsed": "No"}))).is_empty());
    let fail = with(
        signin(user("bob"), "Failure"),
        "errorMessage",
        json!("Failed authentication"),
    );
    assert_eq!(
        one("console-signin", fail).severity,
        Severity::Informational
    );
}

#[test]
fn admin_policy_attached_to_self_is_critical_read_only_is_silent() {
    let attach = |who: Value, target: &str, policy: &str| {
        rec(
            who,
            "iam",
            "AttachUserPolicy",
            json!({"userName": target, "policyArn": format!("arn:aws:iam::aws:policy/{policy}")}),
        )
    };
    let f = one(
        "iam-privilege-escalation",
        with(
            attach(
                user("svc-reporting"),
                "svc-reporting",
                "AdministratorAccess",
            ),
            "userAgent",
            json!(KALI),
        ),
    );
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.title.contains("attached AdministratorAccess") && f.title.contains("itself"),
        "{}",
        f.title
    );
    let f = one(
        "iam-privilege-escalation",
        attach(sso("admin"), "new-user", "AdministratorAccess"),
    );
    assert_eq!(f.severity, Severity::High);
    assert!(
        of(
            "iam-privilege-escalation",
            attach(sso("admin"), "new-user", "ReadOnlyAccess")
        )
        .is_empty()
    );
}

#[test]
fn policy_content_decides_inline_and_version_changes() {
    let admin =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let scoped = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*"}]}"#;
    let deny =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
    let put = |doc: &str| {
        rec(
            user("dev"),
            "iam",
            "PutUserPolicy",
            json!({"userName": "dev", "policyName": "p", "policyDocument": doc}),
        )
    };
    assert_eq!(
        one("iam-privilege-escalation", put(admin)).severity,
        Severity::Critical
    );
    assert!(of("iam-privilege-escalation", put(scoped)).is_empty());
    assert!(of("iam-privilege-escalation", put(deny)).is_empty());
    let version = |doc: &str, default: bool| {
        rec(
            user("dev"),
            "iam",
            "CreatePolicyVersion",
            json!({"policyArn": format!("arn:aws:iam::{ACCT}:policy/dev"), "policyDocument": doc, "setAsDefault": default}),
        )
    };
    let f = one("iam-privilege-escalation", version(admin, true));
    assert!(
        f.severity >= Severity::High && f.title.contains("default version"),
        "{f:#?}"
    );
    assert!(of("iam-privilege-escalation", version(scoped, true)).is_empty());
}

#[test]
fn login_profiles_and_keys_for_other_users() {
    let lp = |reset: bool| {
        rec(
            sso("admin"),
            "iam",
            "CreateLoginProfile",
            json!({"userName": "svc-reporting", "passwordResetRequired": reset}),
        )
    };
    assert_eq!(
        one("iam-privilege-escalation", lp(false)).severity,
        Severity::Medium
    );
    // The onboarding pattern is at most informational.
    assert!(one("iam-privilege-escalation", lp(true)).severity <= Severity::Low);
    let own = rec(
        user("bob"),
        "iam",
        "UpdateLoginProfile",
        json!({"userName": "bob", "passwordResetRequired": false}),
    );
    assert!(of("iam-privilege-escalation", own).is_empty());
    let key = |target: &str| {
        rec(
            user("bob"),
            "iam",
            "CreateAccessKey",
            json!({"userName": target}),
        )
    };
    assert!(!of("iam-privilege-escalation", key("alice")).is_empty());
    assert!(
        of("iam-privilege-escalation", key("bob")).is_empty(),
        "rotating one's own key is routine"
    );
}

#[test]
fn trust_policies_opened_to_outsiders() {
    let trust = |principal: Value| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}).to_string()
    };
    let upd = |doc: String| {
        rec(
            user("dev"),
            "iam",
            "UpdateAssumeRolePolicy",
            json!({"roleName": "OrganizationAccountAccessRole", "policyDocument": doc}),
        )
    };
    let f = one(
        "iam-privilege-escalation",
        upd(trust(json!({"AWS": "arn:aws:iam::999988887777:root"}))),
    );
    assert!(
        f.severity >= Severity::High && f.title.contains("999988887777"),
        "{f:#?}"
    );
    assert_eq!(
        one("iam-privilege-escalation", upd(trust(json!("*")))).severity,
        Severity::Critical
    );
    for principal in [
        json!({"Service": "ec2.amazonaws.com"}),
        json!({"AWS": format!("arn:aws:iam::{ACCT}:root")}),
    ] {
        assert!(quiet("iam-privilege-escalation", upd(trust(principal))));
    }
    let create = rec(
        sso("admin"),
        "iam",
        "CreateRole",
        json!({"roleName": "audit", "assumeRolePolicyDocument": trust(json!({"AWS": "arn:aws:iam::999988887777:root"}))}),
    );
    assert_eq!(one("iam-persistence", create).severity, Severity::Medium);
    let lambda_role = rec(
        sso("admin"),
        "iam",
        "CreateRole",
        json!({"roleName": "fn", "assumeRolePolicyDocument": trust(json!({"Service": "lambda.amazonaws.com"}))}),
    );
    assert!(of("iam-persistence", lambda_role).is_empty());
}

#[test]
fn new_users_and_identity_providers() {
    let f = one(
        "iam-persistence",
        rec(
            sso("admin"),
            "iam",
            "CreateUser",
            json!({"userName": "jane.newhire"}),
        ),
    );
    assert!(
        f.severity <= Severity::Low,
        "onboarding must stay low: {f:#?}"
    );
    assert!(f.title.contains("jane.newhire"));
    let saml = with(
        rec(
            sso("admin"),
            "iam",
            "CreateSAMLProvider",
            json!({"name": "okta-backup"}),
        ),
        "responseElements",
        json!({"sAMLProviderArn": format!("arn:aws:iam::{ACCT}:saml-provider/okta-backup")}),
    );
    assert_eq!(one("iam-persistence", saml).severity, Severity::Medium);
    let sso_managed = with(
        with(
            rec(
                sso("admin"),
                "iam",
                "CreateSAMLProvider",
                json!({"name": "AWSSSO_1_DO_NOT_DELETE"}),
            ),
            "sourceIPAddress",
            json!("sso.amazonaws.com"),
        ),
        "responseElements",
        json!({"sAMLProviderArn": format!("arn:aws:iam::{ACCT}:saml-provider/AWSSSO_1_DO_NOT_DELETE")}),
    );
    assert!(of("iam-persistence", sso_managed).is_empty());
}

#[test]
fn sharing_and_public_exposure() {
    let snap = |items: Value| {
        rec(
            sso("admin"),
            "ec2",
            "ModifySnapshotAttribute",
            json!({"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"add": {"items": items}}}),
        )
    };
    assert_eq!(
        one("resource-exposure", snap(json!([{"group": "all"}]))).severity,
        Severity::Critical
    );
    let f = one(
        "resource-exposure",
        snap(json!([{"userId": "999988887777"}])),
    );
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.title.contains("999988887777"));
    // AWS Backup copying to a vault account: low.
    let backup = with(
        snap(json!([{"userId": "444455556666"}])),
        "sourceIPAddress",
        json!("backup.amazonaws.com"),
    );
    assert!(one("resource-exposure", backup).severity <= Severity::Low);
    let rds = |values: Value| {
        rec(
            sso("admin"),
            "rds",
            "ModifyDBSnapshotAttribute",
            json!({"dBSnapshotIdentifier": "db-final", "attributeName": "restore", "valuesToAdd": values}),
        )
    };
    assert!(!of("resource-exposure", rds(json!(["999988887777"]))).is_empty());
    assert!(of("resource-exposure", rds(json!([]))).is_empty());
    let policy = |stmt: Value| {
        rec(
            user("dev"),
            "s3",
            "PutBucketPolicy",
            json!({"bucketName": "data", "bucketPolicy": {"Version": "2012-10-17", "Statement": [stmt]}}),
        )
    };
    assert_eq!(one("resource-exposure", policy(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}))).severity, Severity::High);
    assert!(of("resource-exposure", policy(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}))).is_empty());
    assert!(of("resource-exposure", policy(json!({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "*"}))).is_empty());
    let acl = rec(
        user("dev"),
        "s3",
        "PutBucketAcl",
        json!({"bucketName": "data", "AccessControlPolicy": {"AccessControlList": {"Grant": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}}}),
    );
    assert_eq!(one("resource-exposure", acl).severity, Severity::High);
    let private = rec(
        user("dev"),
        "s3",
        "PutBucketAcl",
        json!({"bucketName": "data", "x-amz-acl": ["private"]}),
    );
    assert!(of("resource-exposure", private).is_empty());
    let unblock = rec(
        user("dev"),
        "s3",
        "DeleteBucketPublicAccessBlock",
        json!({"bucketName": "data"}),
    );
    assert!(!quiet("resource-exposure", unblock));
}

#[test]
fn destruction_and_recovery_sabotage() {
    assert_eq!(
        one(
            "destruction",
            rec(
                sso("admin"),
                "kms",
                "ScheduleKeyDeletion",
                json!({"keyId": "k1", "pendingWindowInDays": 7})
            )
        )
        .severity,
        Severity::High
    );
    assert!(!quiet(
        "destruction",
        rec(sso("admin"), "kms", "DisableKey", json!({"keyId": "k1"}))
    ));
    let del = |skip: bool| {
        rec(
            sso("admin"),
            "rds",
            "DeleteDBInstance",
            json!({"dBInstanceIdentifier": "db", "skipFinalSnapshot": skip}),
        )
    };
    assert!(one("destruction", del(true)).severity > one("destruction", del(false)).severity);
    let vers = |status: &str| {
        rec(
            sso("admin"),
            "s3",
            "PutBucketVersioning",
            json!({"bucketName": "b", "VersioningConfiguration": {"Status": status}}),
        )
    };
    assert!(!of("destruction", vers("Suspended")).is_empty());
    assert!(of("destruction", vers("Enabled")).is_empty());
    let lifecycle = |days: i64, status: &str| {
        rec(
            sso("admin"),
            "s3",
            "PutBucketLifecycle",
            json!({"bucketName": "b", "LifecycleConfiguration": {"Rule": {"ID": "x", "Status": status, "Expiration": {"Days": days}}}}),
        )
    };
    assert!(!of("destruction", lifecycle(1, "Enabled")).is_empty());
    assert!(of("destruction", lifecycle(730, "Enabled")).is_empty());
    assert!(of("destruction", lifecycle(1, "Disabled")).is_empty());
    let note = rec(
        user("svc"),
        "s3",
        "PutObject",
        json!({"bucketName": "b", "key": "README_RESTORE_FILES.txt"}),
    );
    assert!(one("destruction", note).severity >= Severity::High);
    let report = json!({"bucketName": "b", "key": "reports/q1.pdf"});
    assert!(quiet(
        "destruction",
        rec(user("svc"), "s3", "PutObject", report)
    ));
}

#[test]
fn gpu_launches_and_open_admin_ports() {
    let run = |ty: &str| {
        rec(
            sso("dev"),
            "ec2",
            "RunInstances",
            json!({"instanceType": ty, "instancesSet": {"items": [{"imageId": "ami-1", "minCount": 1, "maxCount": 2}]}}),
        )
    };
    let f = one("compute-abuse", run("p3.16xlarge"));
    assert!(
        f.severity >= Severity::High && f.title.contains("p3.16xlarge"),
        "{f:#?}"
    );
    assert!(of("compute-abuse", run("t3.micro")).is_empty());
    let refused = with(
        run("g5.12xlarge"),
        "errorCode",
        json!("Client.VcpuLimitExceeded"),
    );
    assert!(
        !of("compute-abuse", refused).is_empty(),
        "quota refusals are the first attempts of a miner"
    );
    let sg = |cidr: &str, port: i64| {
        rec(
            sso("dev"),
            "ec2",
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": "sg-1", "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": port, "toPort": port, "ipRanges": {"items": [{"cidrIp": cidr}]}}]}}),
        )
    };
    let f = one("network-exposure", sg("0.0.0.0/0", 22));
    assert_eq!(f.severity, Severity::High);
    assert!(f.title.contains("SSH"));
    assert!(of("network-exposure", sg("10.0.0.0/8", 22)).is_empty());
    assert!(
        of("network-exposure", sg("0.0.0.0/0", 443)).is_empty(),
        "a public web port is normal"
    );
    let all = rec(
        sso("dev"),
        "ec2",
        "AuthorizeSecurityGroupIngress",
        json!({"groupId": "sg-2", "ipPermissions": {"items": [
        {"ipProtocol": "-1", "ipv6Ranges": {"items": [{"cidrIpv6": "::/0"}]}}]}}),
    );
    assert!(one("network-exposure", all).title.contains("every port"));
}

#[test]
fn attack_tools_and_repeat_merging() {
    let a = with(
        rec(user("svc"), "sts", "GetCallerIdentity", Value::Null),
        "userAgent",
        json!(KALI),
    );
    let b = with(
        with(
            rec(user("svc"), "s3", "ListBuckets", Value::Null),
            "userAgent",
            json!(KALI),
        ),
        "eventID",
        json!("ev-2"),
    );
    let found: Vec<Finding> = run(&[a, b])
        .into_iter()
        .filter(|f| f.detector == "attack-tool")
        .collect();
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0].uid, found[1].uid,
        "one tool, one principal: one finding once merged"
    );
    assert_eq!(
        found[0].severity,
        Severity::Medium,
        "below the findings that say what the tool did"
    );
    assert!(quiet(
        "attack-tool",
        rec(user("svc"), "sts", "GetCallerIdentity", Value::Null)
    ));
}

#[test]
fn stable_uids_do_not_depend_on_time() {
    let r1 = rec(
        sso("eve"),
        "guardduty",
        "DeleteDetector",
        json!({"detectorId": "abc"}),
    );
    let r2 = with(
        with(r1.clone(), "eventTime", json!("2024-05-01T00:00:00Z")),
        "eventID",
        json!("other"),
    );
    assert_eq!(
        one("logging-tampering", r1).uid,
        one("logging-tampering", r2).uid
    );
}

#[test]
fn audit_records_changes_a_threat_rule_did_not_explain() {
    let vpc = rec(
        sso("admin"),
        "ec2",
        "CreateVpc",
        json!({"cidrBlock": "10.9.0.0/16"}),
    );
    assert_eq!(one("change-audit", vpc).severity, Severity::Informational);
    // StopLogging is explained by logging-tampering; the audit rule adds nothing.
    let stop = rec(
        sso("admin"),
        "cloudtrail",
        "StopLogging",
        json!({"name": "t"}),
    );
    let all = run(&[stop]);
    assert_eq!(all.len(), 1, "{all:#?}");
    // Content-judged changes that were judged harmless stay silent.
    let ro = rec(
        sso("admin"),
        "iam",
        "AttachRolePolicy",
        json!({"roleName": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
    );
    assert!(run(&[ro]).is_empty());
}

#[test]
fn garbage_parameters_never_panic() {
    for params in [
        json!("not json"),
        json!(42),
        json!([1, 2]),
        json!({"policyDocument": "%7Bbroken"}),
        json!({"ipPermissions": "x"}),
    ] {
        for (svc, name) in [
            ("iam", "PutUserPolicy"),
            ("ec2", "AuthorizeSecurityGroupIngress"),
            ("s3", "PutBucketPolicy"),
            ("cloudtrail", "PutEventSelectors"),
            ("ec2", "RunInstances"),
        ] {
            let _ = run(&[rec(user("x"), svc, name, params.clone())]);
        }
    }
}

#[test]
fn resource_policies_opened_to_everyone_or_an_outsider_are_caught() {
    let public = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
    let outsider = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "*", "Resource": "*"}]});
    let org_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]});
    // (service, event, name field, name, policy field, resource kind in the title)
    let cases = [
        (
            "kms",
            "PutKeyPolicy",
            "keyId",
            "key-1",
            "policy",
            "KMS key policy",
        ),
        (
            "ecr",
            "SetRepositoryPolicy",
            "repositoryName",
            "repo-1",
            "policyText",
            "ECR repository policy",
        ),
        (
            "es",
            "UpdateDomainConfig",
            "domainName",
            "search-1",
            "accessPolicies",
            "OpenSearch domain access policy",
        ),
        (
            "elasticfilesystem",
            "PutFileSystemPolicy",
            "fileSystemId",
            "fs-1",
            "policy",
            "EFS file system policy",
        ),
    ];
    for (service, event, name_key, name, policy_key, what) in cases {
        let call = |doc: &Value| {
            let mut p = json!({ name_key: name });
            // Services take the document as a JSON string, as CloudTrail records it.
            p[policy_key] = json!(doc.to_string());
            rec(sso("eve@example.com"), service, event, p)
        };
        let f = one("resource-exposure", call(&public));
        assert!(
            f.title.contains(what) && f.title.contains("everyone") && f.title.contains(name),
            "{}",
            f.title
        );
        let f = one("resource-exposure", call(&outsider));
        assert!(f.title.contains("999988887777"), "{}", f.title);
        assert!(
            quiet("resource-exposure", call(&org_only)),
            "{service}: an organization condition keeps it private"
        );
    }
}
