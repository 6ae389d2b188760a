//! Scenario tests for the behavioural detectors: events in, findings out. Each scenario
//! builds a history for an entity, then the anomalous activity, and checks what the engine
//! says (and that it stays quiet during cold start and on ordinary variation).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use detector_core::detect::{Activity, Engine, EngineConfig};
use detector_core::event::{Event, EventClass, EventData};
use detector_core::finding::Finding;
use detector_core::parse::cloudtrail::{CloudTrailRecord, UserIdentity};
use detector_core::parse::s3access::S3AccessRecord;
use detector_core::parse::vpcflow::FlowRecord;

mod common;
use common::{run_engine, sorted};

const H: i64 = 3_600_000;
const D: i64 = 24 * H;
/// 2024-04-01T00:00:00Z, a Monday.
const T0: i64 = 1_711_929_600_000;

struct Call<'a> {
    user: &'a str,
    api: &'a str,
    ip: &'a str,
    ua: &'a str,
    error: bool,
    read_only: bool,
}

fn ct(uid: String, t: i64, c: &Call) -> Event {
    let (source, name) = c.api.split_once(':').unwrap();
    let rec = CloudTrailRecord {
        event_version: "1.09".into(),
        user_identity: UserIdentity {
            identity_type: Some("IAMUser".into()),
            principal_id: Some("AIDAEXAMPLE".into()),
            arn: Some(format!("arn:aws:iam::111122223333:user/{}", c.user)),
            account_id: Some("111122223333".into()),
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE".into()),
            user_name: Some(c.user.into()),
            ..UserIdentity::default()
        },
        event_time: detector_core::time::format_iso8601_ms(t),
        event_source: format!("{source}.amazonaws.com"),
        event_name: name.into(),
        aws_region: "us-east-1".into(),
        source_ip_address: Some(c.ip.into()),
        user_agent: Some(c.ua.into()),
        error_code: c.error.then(|| "AccessDenied".into()),
        event_id: Some(uid.clone()),
        read_only: Some(c.read_only),
        recipient_account_id: Some("111122223333".into()),
        ..CloudTrailRecord::default()
    };
    Event {
        class: EventClass::ApiActivity,
        time_ms: t,
        source: Arc::from("test"),
        index: 0,
        uid,
        data: EventData::CloudTrail(Box::new(rec)),
    }
}

const CLI: &str = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64";
const OFFICE: &str = "198.51.100.20";

/// A steady user: `per_hour` read calls each working hour (09-17 UTC) on weekdays, over
/// `days` days from T0.
fn steady_history(user: &str, days: i64, per_hour: i64) -> Vec<Event> {
    let apis = [
        "ec2:DescribeInstances",
        "s3:ListBuckets",
        "ec2:DescribeVpcs",
        "sts:GetCallerIdentity",
    ];
    let mut v = Vec::new();
    for d in 0..days {
        let dow = d % 7; // T0 is a Monday
        if dow >= 5 {
            continue;
        }
        for h in 9..17 {
            for i in 0..per_hour {
                let t = T0 + d * D + h * H + i * (H / per_hour.max(1));
                let api = apis[(i as usize) % apis.len()];
                let call = Call {
                    user,
                    api,
                    ip: OFFICE,
                    ua: CLI,
                    error: false,
                    read_only: true,
                };
                v.push(ct(format!("{user}-{d}-{h}-{i}"), t, &call));
            }
        }
    }
    v
}

fn run(events: &[Event], cfg: EngineConfig) -> Vec<Finding> {
    run_engine(Engine::new(cfg), events)
}

fn by(findings: &[Finding], detector: &str) -> Vec<Finding> {
    findings
        .iter()
        .filter(|f| f.detector == detector)
        .cloned()
        .collect()
}

/// A discovery burst: `n` calls over `apis` distinct APIs within one hour.
fn burst(user: &str, start: i64, n: i64, apis: usize, ip: &str, ua: &str) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let api = format!("ec2:Describe{}", i as usize % apis);
            let call = Call {
                user,
                api: &api,
                ip,
                ua,
                error: i % 3 == 0,
                read_only: true,
            };
            ct(format!("burst-{user}-{i}"), start + i * (H / n / 2), &call)
        })
        .collect()
}

#[test]
fn volume_spike_on_discovery_burst_after_learning() {
    let mut events = steady_history("alice", 14, 6);
    // Day 14 is a Monday: the burst lands at 10:00 where alice usually makes 6 calls.
    events.extend(burst("alice", T0 + 14 * D + 10 * H, 400, 40, OFFICE, CLI));
    events.sort_by_key(|e| e.time_ms);
    let found = run(&events, EngineConfig::default());
    let spikes = by(&found, "volume-spike");
    assert!(
        !spikes.is_empty(),
        "a 400-call burst must be flagged: {found:#?}"
    );
    let f = spikes
        .iter()
        .find(|f| {
            f.observables
                .iter()
                .any(|o| o.value.ends_with("user/alice"))
        })
        .unwrap();
    assert!(f.title.contains("alice"));
    assert!(f.desc.contains("usually makes"));
    assert!(f.related_count >= 400);
    assert!(
        f.attacks.iter().any(|a| a == "T1580"),
        "discovery burst maps to T1580"
    );
    let anomaly = serde_json::to_string(&f.anomaly).unwrap();
    assert!(
        anomaly.contains("median") && anomaly.contains("modified z-score"),
        "{anomaly}"
    );
    insta::assert_json_snapshot!("volume_spike_burst", f.to_ocsf("test"));
    // The steady history alone raises nothing.
    let quiet = run(&steady_history("alice", 15, 6), EngineConfig::default());
    assert!(by(&quiet, "volume-spike").is_empty(), "{quiet:#?}");
}

#[test]
fn no_accusation_during_cold_start() {
    let mut events = steady_history("bob", 3, 6);
    events.extend(burst(
        "bob",
        T0 + 3 * D + 10 * H,
        400,
        40,
        "203.0.113.66",
        "kali-linux pacu/1.0",
    ));
    events.sort_by_key(|e| e.time_ms);
    let found = run(&events, EngineConfig::default());
    assert!(
        found.is_empty(),
        "three days of history is inside the 7-day learning period: {found:#?}"
    );
    // With a shorter learning period the same data is judged.
    let found = run(
        &events,
        EngineConfig {
            learning_days: 2,
            ..EngineConfig::default()
        },
    );
    assert!(!found.is_empty());
}

#[test]
fn mad_zero_history_uses_fallback_and_ignores_small_changes() {
    // Exactly 6 calls every working hour: MAD is 0.
    let mut events = steady_history("carol", 14, 6);
    // A slightly busier hour (12 calls) is normal variation.
    events.extend(burst("carol", T0 + 14 * D + 9 * H, 12, 4, OFFICE, CLI));
    events.sort_by_key(|e| e.time_ms);
    let found = run(&events, EngineConfig::default());
    assert!(by(&found, "volume-spike").is_empty(), "{found:#?}");
    // A real surge is still scored, through the fallback spread.
    events.extend(burst("carol", T0 + 14 * D + 11 * H, 200, 5, OFFICE, CLI));
    events.sort_by_key(|e| e.time_ms);
    let found = by(&run(&events, EngineConfig::default()), "volume-spike");
    assert_eq!(found.len(), 1, "{found:#?}");
    let anomaly = serde_json::to_string(&found[0].anomaly).unwrap();
    assert!(
        anomaly.contains("Floor") || anomaly.contains("MeanAbsDev"),
        "{anomaly}"
    );
}

#[test]
fn late_events_within_the_window_give_the_same_findings() {
    let mut events = steady_history("dave", 14, 6);
    events.extend(burst(
        "dave",
        T0 + 14 * D + 10 * H,
        300,
        30,
        "203.0.113.9",
        "python-requests/2.31",
    ));
    events.sort_by_key(|e| e.time_ms);
    let ordered = run(&events, EngineConfig::default());
    // Swap neighbours: history events are 10 minutes apart, inside the 20-minute lateness.
    let mut shuffled = events.clone();
    for block in shuffled.chunks_mut(2) {
        block.reverse();
    }
    assert!(
        shuffled
            .windows(2)
            .all(|w| w[0].time_ms - w[1].time_ms < 20 * 60_000)
    );
    let mixed = run(&shuffled, EngineConfig::default());
    let key = |v: &[Finding]| {
        v.iter()
            .map(|f| (f.uid.clone(), f.risk_score, f.related_count))
            .collect::<Vec<_>>()
    };
    assert!(!ordered.is_empty());
    assert_eq!(key(&ordered), key(&mixed));
    // An event later than the lateness window is still processed and counted as late.
    let mut engine = Engine::new(EngineConfig::default());
    for ev in &events {
        engine.push(Activity::from_event(ev).unwrap());
    }
    let late = ct(
        "late-1".into(),
        T0,
        &Call {
            user: "dave",
            api: "s3:ListBuckets",
            ip: OFFICE,
            ua: CLI,
            error: false,
            read_only: true,
        },
    );
    engine.push(Activity::from_event(&late).unwrap());
    assert_eq!(engine.stats.late, 1);
}

#[test]
fn first_seen_network_and_offensive_client_but_not_a_traveller() {
    let mut events = steady_history("erin", 14, 4);
    // The traveller: erin from a hotel network, same client, same APIs.
    for i in 0..5 {
        let c = Call {
            user: "erin",
            api: "s3:ListBuckets",
            ip: "192.0.2.77",
            ua: CLI,
            error: false,
            read_only: true,
        };
        events.push(ct(
            format!("travel-{i}"),
            T0 + 14 * D + 10 * H + i * 60_000,
            &c,
        ));
    }
    let benign = run(&sorted(events.clone()), EngineConfig::default());
    assert!(
        by(&benign, "first-seen").is_empty(),
        "a new network alone is not an alert: {benign:#?}"
    );
    // Her key used from an attacker's network with an offensive tool.
    for (i, api) in [
        "iam:ListUsers",
        "iam:CreateAccessKey",
        "iam:AttachUserPolicy",
    ]
    .iter()
    .enumerate()
    {
        let c = Call {
            user: "erin",
            api,
            ip: "203.0.113.200",
            ua: "aws-cli/1.18 Python/3.8 Linux/5.4.0-kali2-amd64",
            error: false,
            read_only: i == 0,
        };
        events.push(ct(
            format!("atk-{i}"),
            T0 + 14 * D + 15 * H + i as i64 * 60_000,
            &c,
        ));
    }
    let found = run(&sorted(events), EngineConfig::default());
    let fs = by(&found, "first-seen");
    assert_eq!(fs.len(), 1, "{found:#?}");
    let f = &fs[0];
    assert!(f.desc.contains("offensive-tool"), "{}", f.desc);
    assert!(f.desc.contains("203.0.113.0/24"));
    assert!(f.related.iter().any(|r| r == "atk-1"));
    assert!(f.observables.iter().any(|o| o.value == "203.0.113.200"));
    assert!(f.risk_score >= 40, "risk {}", f.risk_score);
    insta::assert_json_snapshot!("first_seen_offensive_client", f.to_ocsf("test"));
}

fn s3_event(uid: String, t: i64, bucket: &str, op: &str, requester: &str) -> Event {
    let rec = S3AccessRecord {
        bucket: Some(bucket.into()),
        remote_ip: Some("198.51.100.5".into()),
        requester: Some(requester.into()),
        operation: Some(op.into()),
        key: Some("data/file.csv".into()),
        http_status: Some(200),
        bytes_sent: Some(1000),
        ..S3AccessRecord::default()
    };
    Event {
        class: EventClass::ApiActivity,
        time_ms: t,
        source: Arc::from("s3log"),
        index: 1,
        uid,
        data: EventData::S3Access(Box::new(rec)),
    }
}

#[test]
fn s3_mass_read_and_delete() {
    let mut events = Vec::new();
    let app = "arn:aws:sts::111122223333:assumed-role/app/i-0abc";
    for d in 0..14 {
        for h in 0..24 {
            for i in 0..5 {
                events.push(s3_event(
                    format!("r-{d}-{h}-{i}"),
                    T0 + d * D + h * H + i * 600_000,
                    "reports",
                    "REST.GET.OBJECT",
                    app,
                ));
            }
        }
    }
    let thief = "arn:aws:iam::111122223333:user/mallory";
    for i in 0..900 {
        events.push(s3_event(
            format!("x-{i}"),
            T0 + 14 * D + 3 * H + i * 3_000,
            "reports",
            "REST.GET.OBJECT",
            thief,
        ));
    }
    for i in 0..300 {
        events.push(s3_event(
            format!("del-{i}"),
            T0 + 14 * D + 5 * H + i * 10_000,
            "reports",
            "REST.DELETE.OBJECT",
            thief,
        ));
    }
    let found = by(
        &run(&sorted(events), EngineConfig::default()),
        "s3-bucket-volume",
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found
            .iter()
            .any(|f| f.attacks.contains(&"T1530".to_string()) && f.desc.contains("mallory"))
    );
    assert!(
        found
            .iter()
            .any(|f| f.attacks.contains(&"T1485".to_string()))
    );
    assert!(
        found
            .iter()
            .all(|f| f.resources.iter().any(|r| r.uid == "arn:aws:s3:::reports"))
    );
    let titles: Vec<(&str, u8, u64)> = found
        .iter()
        .map(|f| (f.title.as_str(), f.risk_score, f.related_count))
        .collect();
    insta::assert_debug_snapshot!("s3_mass_read_delete", titles);
}

fn flow(uid: String, t: i64, dst: &str, bytes: u64) -> Event {
    let rec = FlowRecord {
        version: Some(5),
        account_id: Some("111122223333".into()),
        interface_id: Some("eni-0123456789abcdef0".into()),
        srcaddr: Some("10.0.1.5".parse().unwrap()),
        dstaddr: Some(dst.parse().unwrap()),
        srcport: Some(40000),
        dstport: Some(443),
        protocol: Some(6),
        packets: Some(bytes / 1000 + 1),
        bytes: Some(bytes),
        start: Some(t / 1000),
        end: Some(t / 1000 + 60),
        action: Some("ACCEPT".into()),
        log_status: Some("OK".into()),
        flow_direction: Some("egress".into()),
        ..FlowRecord::default()
    };
    Event {
        class: EventClass::NetworkActivity,
        time_ms: t,
        source: Arc::from("flow.log"),
        index: 2,
        uid,
        data: EventData::Flow(Box::new(rec)),
    }
}

#[test]
fn flow_egress_spike_to_new_destination() {
    let mut events = Vec::new();
    for d in 0..14 {
        for h in 0..24 {
            events.push(flow(
                format!("f-{d}-{h}"),
                T0 + d * D + h * H + 60_000,
                "52.94.0.10",
                2_000_000,
            ));
        }
    }
    let quiet = by(
        &run(&sorted(events.clone()), EngineConfig::default()),
        "flow-egress",
    );
    assert!(quiet.is_empty(), "{quiet:#?}");
    for i in 0..10 {
        events.push(flow(
            format!("exfil-{i}"),
            T0 + 14 * D + 2 * H + i * 60_000,
            "203.0.113.250",
            80_000_000,
        ));
    }
    let found = by(
        &run(&sorted(events), EngineConfig::default()),
        "flow-egress",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].desc.contains("203.0.113.0/24"),
        "{}",
        found[0].desc
    );
    assert!(
        found[0]
            .observables
            .iter()
            .any(|o| o.value == "203.0.113.250")
    );
    assert_eq!(found[0].related_count, 10);
    insta::assert_json_snapshot!("flow_egress_new_destination", found[0].to_ocsf("test"));
}

#[test]
fn split_runs_equal_one_run() {
    let mut events = steady_history("frank", 14, 5);
    events.extend(steady_history("grace", 14, 3));
    events.extend(burst(
        "frank",
        T0 + 9 * D + 10 * H,
        300,
        30,
        "203.0.113.5",
        "curl/8.0",
    ));
    events.extend(burst("grace", T0 + 11 * D + 14 * H, 250, 25, OFFICE, CLI));
    let events = sorted(events);
    let whole = run(&events, EngineConfig::default());
    assert!(whole.len() >= 2, "{whole:#?}");

    let cut = T0 + 7 * D;
    let mut first = Engine::new(EngineConfig::default());
    let mut found = Vec::new();
    for ev in events.iter().filter(|e| e.time_ms < cut) {
        first.push(Activity::from_event(ev).unwrap());
    }
    first.finish();
    found.extend(first.take_findings());
    let saved = first.save_state();
    let mut second = Engine::new(EngineConfig::default());
    assert!(second.load_state(&saved).is_empty());
    // The second run sees everything again: what the first processed is skipped.
    for ev in &events {
        second.push(Activity::from_event(ev).unwrap());
    }
    second.finish();
    assert_eq!(
        second.stats.already_processed,
        events.iter().filter(|e| e.time_ms < cut).count() as u64
    );
    found.extend(second.take_findings());
    found.sort_by(|a, b| a.uid.cmp(&b.uid));
    let key = |v: &[Finding]| {
        v.iter()
            .map(|f| {
                (
                    f.uid.clone(),
                    f.risk_score,
                    f.related.clone(),
                    f.first_seen_ms,
                    f.last_seen_ms,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&whole), key(&found));
}

#[test]
fn finding_ocsf_follows_the_contract() {
    let mut events = steady_history("heidi", 14, 6);
    events.extend(burst("heidi", T0 + 14 * D + 10 * H, 400, 40, OFFICE, CLI));
    let found = run(&sorted(events), EngineConfig::default());
    let f = found.first().expect("a finding");
    let v = f.to_ocsf("0.1.0");
    for path in [
        "/class_uid",
        "/category_uid",
        "/activity_id",
        "/type_uid",
        "/time",
        "/severity_id",
        "/severity",
        "/confidence_score",
        "/risk_score",
        "/metadata/product/name",
        "/metadata/version",
        "/finding_info/uid",
        "/finding_info/title",
        "/finding_info/desc",
        "/finding_info/analytic/uid",
        "/finding_info/analytic/type_id",
        "/finding_info/attacks/0/technique/uid",
        "/finding_info/attacks/0/tactic/uid",
        "/finding_info/related_events/0/uid",
        "/finding_info/related_events_count",
        "/finding_info/first_seen_time",
        "/finding_info/last_seen_time",
        "/observables/0/type_id",
        "/cloud/provider",
        "/cloud/account/uid",
        "/anomaly_analyses/0/baselines/0/observations",
        "/remediation/desc",
    ] {
        assert!(
            v.pointer(path).is_some_and(|x| !x.is_null()),
            "missing {path} in {v:#}"
        );
    }
    assert_eq!(v["class_uid"], 2004);
    assert_eq!(v["type_uid"], 200401);
    assert_eq!(v["metadata"]["version"], "1.6.0");
    assert_eq!(v["time"], v["finding_info"]["last_seen_time"]);
}
