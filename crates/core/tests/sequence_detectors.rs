//! Sequence detectors: runs of events in, one explained finding out; the look-alike runs
//! (a few typos, a known network, a scanner's usual targets, a bucket that is public on
//! purpose) stay quiet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_arguments)]

use std::sync::Arc;

use detector_core::detect::{Activity, Detector, Engine, EngineConfig};
use detector_core::event::{Event, EventClass, EventData};
use detector_core::finding::{Finding, Severity};
use detector_core::parse::s3access::S3AccessRecord;
use detector_core::parse::vpcflow::FlowRecord;
use serde_json::{Value, json};

mod common;
use common::{ct, run_engine, sorted, time};

const H: i64 = 3_600_000;
const D: i64 = 24 * H;
/// 2024-04-01T00:00:00Z
const T0: i64 = 1_711_929_600_000;
const ACCT: &str = "111122223333";

fn run_with(detectors: Vec<Box<dyn Detector>>, events: Vec<Event>) -> Vec<Finding> {
    let engine = Engine::with_detectors(EngineConfig::default(), detectors);
    run_engine(engine, &sorted(events))
}

fn run(events: Vec<Event>, id: &str) -> Vec<Finding> {
    let all = detector_core::detect::registry()
        .into_iter()
        .filter(|d| d.id() == id)
        .collect();
    run_with(all, events)
}

fn login(n: usize, t: i64, user: &str, ip: &str, ok: bool) -> Value {
    let mut r = json!({
        "eventVersion": "1.09", "eventTime": time(t), "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "Mozilla/5.0", "eventType": "AwsConsoleSignIn",
        "eventID": format!("login-{user}-{n}"), "recipientAccountId": ACCT,
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA1", "accountId": ACCT, "userName": user, "arn": format!("arn:aws:iam::{ACCT}:user/{user}")},
        "responseElements": {"ConsoleLogin": if ok { "Success" } else { "Failure" }},
        "additionalEventData": {"MFAUsed": "No"},
    });
    if !ok {
        r["errorMessage"] = json!("Failed authentication");
    }
    r
}

#[test]
fn console_brute_force_then_success_is_critical() {
    let mut recs: Vec<Value> = (0..30)
        .map(|i| login(i, T0 + i as i64 * 20_000, "alice", "185.220.101.7", false))
        .collect();
    recs.push(login(99, T0 + 31 * 20_000, "alice", "185.220.101.7", true));
    let found = run(ct(recs), "console-brute-force");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.title.contains("succeeded") && f.title.contains("alice") && f.title.contains("30"),
        "{}",
        f.title
    );
    assert_eq!(f.related_count, 31);
    assert!(f.attacks.contains(&"T1110.001".to_string()));
    // A few typos, then success: nothing.
    let mut recs: Vec<Value> = (0..3)
        .map(|i| login(i, T0 + i as i64 * 20_000, "bob", "198.51.100.20", false))
        .collect();
    recs.push(login(9, T0 + 4 * 20_000, "bob", "198.51.100.20", true));
    assert!(run(ct(recs), "console-brute-force").is_empty());
}

#[test]
fn password_spraying_by_address() {
    let recs: Vec<Value> = (0..12)
        .map(|i| {
            login(
                i,
                T0 + i as i64 * 60_000,
                &format!("user{}", i % 4),
                "45.137.21.9",
                false,
            )
        })
        .collect();
    let found = run(ct(recs), "console-brute-force");
    let spray: Vec<&Finding> = found
        .iter()
        .filter(|f| f.title.contains("spraying"))
        .collect();
    assert_eq!(spray.len(), 1, "{found:#?}");
    assert!(spray[0].title.contains("45.137.21.9"));
}

fn instance_call(n: i64, t: i64, ip: &str, key: &str, ua: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": time(t), "eventSource": "ssm.amazonaws.com", "eventName": "UpdateInstanceInformation",
        "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": ua, "eventID": format!("inst-{n}"), "recipientAccountId": ACCT,
        "userIdentity": {"type": "AssumedRole", "principalId": "AROA1:i-0abc1234def567890", "accountId": ACCT, "accessKeyId": key,
            "arn": format!("arn:aws:sts::{ACCT}:assumed-role/web-role/i-0abc1234def567890"),
            "sessionContext": {"ec2RoleDelivery": "2.0", "sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCT}:role/web-role"), "userName": "web-role"}}},
    })
}

#[test]
fn instance_credentials_from_a_foreign_network() {
    let mut recs: Vec<Value> = (0..60)
        .map(|i| {
            instance_call(
                i,
                T0 + i * 5 * 60_000,
                "54.172.10.20",
                "ASIAKEY1",
                "amazon-ssm-agent/3.3",
            )
        })
        .collect();
    let later = T0 + 60 * 5 * 60_000;
    recs.extend((0..5).map(|i| {
        instance_call(
            100 + i,
            later + i * 1000,
            "185.220.101.33",
            "ASIAKEY1",
            "aws-cli/2.15.0 distrib/kali.2024",
        )
    }));
    let found = run(ct(recs.clone()), "instance-credential-exfiltration");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert!(f.severity >= Severity::High);
    assert!(
        f.title.contains("i-0abc1234def567890") && f.title.contains("185.220.101.33"),
        "{}",
        f.title
    );
    assert!(f.desc.contains("one session, two places"));
    assert_eq!(f.related_count, 5);
    // The instance's own network, however many calls: nothing.
    let quiet: Vec<Value> = (0..80)
        .map(|i| {
            instance_call(
                i,
                T0 + i * 60_000,
                "54.172.10.20",
                "ASIAKEY1",
                "amazon-ssm-agent/3.3",
            )
        })
        .collect();
    assert!(run(ct(quiet), "instance-credential-exfiltration").is_empty());
    // Private addresses (VPC endpoints) are not networks.
    recs.truncate(60);
    recs.push(instance_call(
        200,
        later,
        "10.0.3.4",
        "ASIAKEY1",
        "amazon-ssm-agent/3.3",
    ));
    assert!(run(ct(recs), "instance-credential-exfiltration").is_empty());
}

fn assume(n: i64, t: i64, caller: Value, target_acct: &str, error: bool) -> Value {
    let mut r = json!({
        "eventVersion": "1.09", "eventTime": time(t), "eventSource": "sts.amazonaws.com", "eventName": "AssumeRole",
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.20", "userAgent": "aws-cli/2", "eventID": format!("as-{n}"),
        "recipientAccountId": target_acct, "userIdentity": caller,
        "requestParameters": {"roleArn": format!("arn:aws:iam::{target_acct}:role/OrganizationAccountAccessRole"), "roleSessionName": "s"},
    });
    if error {
        r["errorCode"] = json!("AccessDenied");
    }
    r
}

fn dev() -> Value {
    json!({"type": "IAMUser", "principalId": "AIDA2", "accountId": ACCT, "arn": format!("arn:aws:iam::{ACCT}:user/dev"), "userName": "dev", "accessKeyId": "AKIADEV"})
}

fn activity_in(acct: &str, t: i64, n: i64) -> Value {
    json!({"eventVersion": "1.09", "eventTime": time(t), "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.20", "eventID": format!("bg-{acct}-{n}"), "recipientAccountId": acct,
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA3", "accountId": acct, "arn": format!("arn:aws:iam::{acct}:user/ops"), "userName": "ops"}})
}

#[test]
fn lateral_movement_into_new_accounts() {
    let mut recs = Vec::new();
    for d in 0..10 {
        recs.push(json!({"eventVersion": "1.09", "eventTime": time(T0 + d * D + 10 * H), "eventSource": "s3.amazonaws.com",
            "eventName": "ListBuckets", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.20", "eventID": format!("dev-{d}"),
            "recipientAccountId": ACCT, "userIdentity": dev()}));
        for (k, acct) in ["222222222222", "333333333333", "444444444444"]
            .iter()
            .enumerate()
        {
            recs.push(activity_in(acct, T0 + d * D + 11 * H, d * 10 + k as i64));
        }
    }
    let t = T0 + 10 * D + 3 * H;
    recs.push(assume(1, t, dev(), "222222222222", false));
    recs.push(assume(2, t + 60_000, dev(), "333333333333", false));
    recs.push(assume(3, t + 120_000, dev(), "444444444444", true));
    let found = run(ct(recs.clone()), "cross-account-assume");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::High);
    assert!(
        found[0].title.contains("2 accounts") && found[0].desc.contains("refused in 444444444444"),
        "{:#?}",
        found[0]
    );
    // The same hops during the principal's learning period: nothing.
    let early: Vec<Value> = vec![
        activity_in("222222222222", T0, 1),
        assume(1, T0 + H, dev(), "222222222222", false),
        assume(2, T0 + H + 1, dev(), "333333333333", false),
    ];
    assert!(run(ct(early), "cross-account-assume").is_empty());
}

#[test]
fn outsider_account_assuming_a_role() {
    let mut recs: Vec<Value> = (0..10).map(|d| activity_in(ACCT, T0 + d * D, d)).collect();
    let ext = json!({"type": "AWSAccount", "principalId": "AIDAEXT", "accountId": "999988887777"});
    recs.push(assume(1, T0 + 9 * D, ext, ACCT, false));
    let found = run(ct(recs), "cross-account-assume");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].title.contains("unknown account") && found[0].title.contains("999988887777"));
    // A vendor account active from the start is known.
    let mut recs: Vec<Value> = (0..10).map(|d| activity_in(ACCT, T0 + d * D, d)).collect();
    let vendor = json!({"type": "AWSAccount", "principalId": "AIDAV", "accountId": "555566667777"});
    recs.push(assume(1, T0 + H, vendor.clone(), ACCT, false));
    recs.push(assume(2, T0 + 9 * D, vendor, ACCT, false));
    assert!(run(ct(recs), "cross-account-assume").is_empty());
}

fn delete(n: i64, t: i64, who: &str, name: &str) -> Value {
    json!({"eventVersion": "1.09", "eventTime": time(t), "eventSource": "s3.amazonaws.com", "eventName": name,
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.20", "eventID": format!("del-{who}-{n}"), "recipientAccountId": ACCT,
        "requestParameters": {"bucketName": "data", "key": format!("k{n}")},
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA4", "accountId": ACCT, "arn": format!("arn:aws:iam::{ACCT}:user/{who}"), "userName": who}})
}

#[test]
fn mass_deletion_above_the_principals_own_peak() {
    let recs: Vec<Value> = (0..300)
        .map(|i| delete(i, T0 + i * 500, "svc", "DeleteObject"))
        .collect();
    let found = run(ct(recs), "mass-deletion");
    assert_eq!(found.len(), 1);
    assert!(found[0].title.contains("300 objects"), "{}", found[0].title);
    // A job that deletes 300 objects every night sets its own bar.
    let mut recs = Vec::new();
    for d in 0..3 {
        recs.extend((0..300).map(|i| {
            delete(
                d * 1000 + i,
                T0 + d * D + i * 500,
                "cleanup",
                "DeleteObject",
            )
        }));
    }
    let found = run(ct(recs), "mass-deletion");
    assert_eq!(
        found.len(),
        1,
        "only the first night (no peak yet) is reported: {found:#?}"
    );
    // A handful of deletes is housekeeping.
    let recs: Vec<Value> = (0..20)
        .map(|i| delete(i, T0 + i * 500, "svc", "DeleteObject"))
        .collect();
    assert!(run(ct(recs), "mass-deletion").is_empty());
}

#[test]
fn compute_in_a_region_the_account_never_used() {
    let call = |n: i64, t: i64, region: &str, name: &str| {
        json!({"eventVersion": "1.09", "eventTime": time(t), "eventSource": "ec2.amazonaws.com", "eventName": name,
            "awsRegion": region, "sourceIPAddress": "198.51.100.20", "eventID": format!("rg-{n}"), "recipientAccountId": ACCT,
            "userIdentity": dev()})
    };
    let mut recs: Vec<Value> = (0..10)
        .map(|d| call(d, T0 + d * D, "us-east-1", "DescribeInstances"))
        .collect();
    let t = T0 + 10 * D;
    recs.push(call(100, t, "ap-south-2", "CreateKeyPair"));
    recs.push(call(101, t + 60_000, "ap-south-2", "RunInstances"));
    recs.push(call(102, t + 120_000, "us-east-1", "RunInstances"));
    let found = run(ct(recs), "new-compute-region");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].title.contains("ap-south-2"));
}

fn flow(
    n: usize,
    t: i64,
    src: &str,
    dst: &str,
    port: u16,
    packets: u64,
    bytes: u64,
    action: &str,
) -> Event {
    let rec = FlowRecord {
        version: Some(5),
        account_id: Some(ACCT.into()),
        interface_id: Some("eni-0123456789abcdef0".into()),
        srcaddr: Some(src.parse().unwrap()),
        dstaddr: Some(dst.parse().unwrap()),
        srcport: Some(40000),
        dstport: Some(port),
        protocol: Some(6),
        packets: Some(packets),
        bytes: Some(bytes),
        start: Some(t / 1000),
        end: Some(t / 1000 + 10),
        action: Some(action.into()),
        log_status: Some("OK".into()),
        flow_direction: Some("ingress".into()),
        ..FlowRecord::default()
    };
    Event {
        class: EventClass::NetworkActivity,
        time_ms: t,
        source: Arc::from("flow.log"),
        index: n as u64,
        uid: format!("flow.log#{n}"),
        data: EventData::Flow(Box::new(rec)),
    }
}

#[test]
fn port_scan_sweep_and_ssh_brute_force() {
    let scan: Vec<Event> = (0..400u16)
        .map(|p| {
            flow(
                p as usize,
                T0 + i64::from(p) * 500,
                "45.137.21.10",
                "10.0.1.5",
                p + 1,
                1,
                44,
                "REJECT",
            )
        })
        .collect();
    let found = run(scan, "network-scan");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].title.contains("Port scan") && found[0].title.contains("400 ports"));
    let sweep: Vec<Event> = (0..200usize)
        .map(|h| {
            flow(
                h,
                T0 + h as i64 * 1000,
                "10.0.1.5",
                &format!("10.0.{}.{}", h / 200, h % 200 + 2),
                445,
                2,
                120,
                "ACCEPT",
            )
        })
        .collect();
    let found = run(sweep, "network-scan");
    assert!(
        found
            .iter()
            .any(|f| f.title.contains("Host sweep") && f.severity >= Severity::High),
        "{found:#?}"
    );
    let brute: Vec<Event> = (0..120usize)
        .map(|i| {
            flow(
                i,
                T0 + i as i64 * 15_000,
                "193.142.146.8",
                "10.0.1.5",
                22,
                16,
                3500,
                "ACCEPT",
            )
        })
        .collect();
    let found = run(brute, "network-scan");
    assert!(
        found.iter().any(|f| f.title.contains("SSH brute force")),
        "{found:#?}"
    );
    // Background noise: many sources, a couple of ports each.
    let noise: Vec<Event> = (0..300usize)
        .map(|i| {
            flow(
                i,
                T0 + i as i64 * 10_000,
                &format!("89.{}.{}.7", i % 200, i / 200),
                "10.0.1.5",
                [22, 3389, 445][i % 3],
                1,
                44,
                "REJECT",
            )
        })
        .collect();
    assert!(run(noise, "network-scan").is_empty());
}

fn s3(
    n: usize,
    t: i64,
    requester: Option<&str>,
    ip: &str,
    op: &str,
    status: u16,
    bucket: &str,
) -> Event {
    let rec = S3AccessRecord {
        bucket: Some(bucket.into()),
        remote_ip: Some(ip.into()),
        requester: requester.map(str::to_string),
        operation: Some(op.into()),
        key: Some(format!("k/{n}")),
        http_status: Some(status),
        bytes_sent: Some(1000),
        ..S3AccessRecord::default()
    };
    Event {
        class: EventClass::ApiActivity,
        time_ms: t,
        source: Arc::from("s3log"),
        index: n as u64,
        uid: format!("s3log#{n}"),
        data: EventData::S3Access(Box::new(rec)),
    }
}

#[test]
fn s3_anonymous_access_denied_storm_and_mass_reads() {
    let app = "arn:aws:sts::111122223333:assumed-role/app/task";
    // A bucket read only by the app for ten days, then anonymously.
    let mut evs: Vec<Event> = (0..10)
        .map(|d| {
            s3(
                d,
                T0 + d as i64 * D,
                Some(app),
                "10.0.0.5",
                "REST.GET.OBJECT",
                200,
                "assets",
            )
        })
        .collect();
    evs.extend((0..30).map(|i| {
        s3(
            100 + i,
            T0 + 10 * D + i as i64 * 2000,
            None,
            "185.220.101.4",
            "REST.GET.OBJECT",
            200,
            "assets",
        )
    }));
    let found = run(evs, "s3-requester-abuse");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].title.contains("Anonymous") && found[0].title.contains("assets"));
    // A bucket public from day one: anonymous reads are its normal.
    let mut evs: Vec<Event> = (0..10)
        .map(|d| {
            s3(
                d,
                T0 + d as i64 * D,
                None,
                "203.0.113.9",
                "REST.GET.OBJECT",
                200,
                "downloads",
            )
        })
        .collect();
    evs.extend((0..30).map(|i| {
        s3(
            100 + i,
            T0 + 10 * D + i as i64 * 2000,
            None,
            "185.220.101.4",
            "REST.GET.OBJECT",
            200,
            "downloads",
        )
    }));
    assert!(run(evs, "s3-requester-abuse").is_empty());
    // Denied storm across buckets.
    let ext = "arn:aws:iam::999988887777:user/s3-audit";
    let evs: Vec<Event> = (0..120)
        .map(|i| {
            s3(
                i,
                T0 + i as i64 * 700,
                Some(ext),
                "45.137.21.3",
                "REST.GET.OBJECT",
                403,
                ["a", "b", "c"][i % 3],
            )
        })
        .collect();
    let found = run(evs, "s3-requester-abuse");
    assert!(
        found
            .iter()
            .any(|f| f.title.contains("access-denied storm") && f.title.contains("3 bucket")),
        "{found:#?}"
    );
    // Mass reads by stolen task credentials (sessions fold into the role).
    let evs: Vec<Event> = (0..1500)
        .map(|i| {
            s3(
                i,
                T0 + i as i64 * 400,
                Some(app),
                "185.220.101.4",
                "REST.GET.OBJECT",
                200,
                "data",
            )
        })
        .collect();
    let found = run(evs, "s3-requester-abuse");
    assert!(
        found.iter().any(|f| f.title.contains("Mass download")
            && f.title.contains("arn:aws:iam::111122223333:role/app")),
        "{found:#?}"
    );
}

#[test]
fn sequence_state_survives_save_and_load() {
    let mut recs: Vec<Value> = (0..12)
        .map(|i| login(i, T0 + i as i64 * 20_000, "alice", "185.220.101.7", false))
        .collect();
    let second = recs.split_off(6);
    let mut d = detector_core::detect::console_brute_force::ConsoleBruteForce::default();
    let cfg = EngineConfig::default();
    let mut out = Vec::new();
    for e in ct(recs) {
        let a = Activity::from_event(&e).unwrap();
        d.observe(
            &a,
            &mut detector_core::detect::Ctx {
                cfg: &cfg,
                out: &mut out,
                geo: None,
            },
        );
    }
    let saved = d.save();
    let mut d2 = detector_core::detect::console_brute_force::ConsoleBruteForce::default();
    d2.load(&saved).unwrap();
    for e in ct(second) {
        let a = Activity::from_event(&e).unwrap();
        d2.observe(
            &a,
            &mut detector_core::detect::Ctx {
                cfg: &cfg,
                out: &mut out,
                geo: None,
            },
        );
    }
    d2.flush(
        i64::MAX,
        &mut detector_core::detect::Ctx {
            cfg: &cfg,
            out: &mut out,
            geo: None,
        },
    );
    assert_eq!(out.len(), 1);
    assert!(out[0].title.contains("12 failed"), "{}", out[0].title);
}
