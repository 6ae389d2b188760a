//! `detector scan`, `findings` and `baseline` end to end: a store that remembers between runs,
//! split runs equal to one run, and a scan killed half-way leaving the store intact.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;

use serde_json::Value;

mod common;
use common::{SCAN_OCSF_STATE, detector, json_lines, stdout_ok};

const H: i64 = 3_600_000;
const D: i64 = 24 * H;
/// 2024-04-01T00:00:00Z, a Monday.
const T0: i64 = 1_711_929_600_000;

fn iso(ms: i64) -> String {
    detector_core::time::format_iso8601_ms(ms)
}

fn record(id: &str, t: i64, user: &str, api: &str, ip: &str, ua: &str) -> String {
    let (svc, name) = api.split_once(':').unwrap();
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","principalId":"AIDA{user}","arn":"arn:aws:iam::111122223333:user/{user}","accountId":"111122223333","accessKeyId":"AKIA{user}EXAMPLE","userName":"{user}"}},"eventTime":"{}","eventSource":"{svc}.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"{ua}","requestParameters":null,"responseElements":null,"eventID":"{id}","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}}"#,
        iso(t)
    )
}

/// Writes one CloudTrail JSON-lines file per day under `dir`, named with the day, for 14 days
/// of two steady users, then a discovery burst by alice from a new network on day 14.
fn write_org(dir: &Path, per_hour: i64) {
    let apis = [
        "ec2:DescribeInstances",
        "s3:ListBuckets",
        "ec2:DescribeVpcs",
        "sts:GetCallerIdentity",
    ];
    for d in 0..15 {
        let day = iso(T0 + d * D)[..10].replace('-', "/");
        let folder = dir
            .join("AWSLogs/111122223333/CloudTrail/us-east-1")
            .join(&day);
        std::fs::create_dir_all(&folder).unwrap();
        let mut f = std::fs::File::create(folder.join("events.jsonl")).unwrap();
        if d % 7 < 5 {
            for user in ["alice", "bob"] {
                for h in 9..17 {
                    for i in 0..per_hour {
                        let t = T0 + d * D + h * H + i * (H / per_hour);
                        let api = apis[i as usize % apis.len()];
                        let line = record(
                            &format!("{user}-{d}-{h}-{i}"),
                            t,
                            user,
                            api,
                            "198.51.100.20",
                            "aws-cli/2.15.0 Python/3.11",
                        );
                        writeln!(f, "{line}").unwrap();
                    }
                }
            }
        }
        if d == 14 {
            for i in 0..400 {
                let api = format!("ec2:Describe{}", i % 40);
                let t = T0 + d * D + 20 * H + i * 4_000;
                let line = record(
                    &format!("burst-{i}"),
                    t,
                    "alice",
                    &api,
                    "203.0.113.50",
                    "python-requests/2.31",
                );
                writeln!(f, "{line}").unwrap();
            }
        }
    }
}

fn scan(args: &[&str], state: &Path) -> Vec<Value> {
    let out = stdout_ok(
        detector()
            .args(SCAN_OCSF_STATE)
            .arg(state)
            .args(["--min-severity", "informational"])
            .args(args),
    );
    json_lines(out.as_bytes())
}

/// `findings list` of the store in `format`, every severity.
fn listed(state: &Path, format: &str) -> String {
    stdout_ok(
        detector()
            .args(["findings", "list", "--format", format])
            .args(["--min-severity", "informational", "--state"])
            .arg(state),
    )
}

fn uids(v: &[Value]) -> Vec<String> {
    let mut u: Vec<String> = v
        .iter()
        .map(|f| f["finding_info"]["uid"].as_str().unwrap().to_string())
        .collect();
    u.sort();
    u
}

#[test]
fn scan_finds_the_burst_and_remembers_between_runs() {
    let dir = tempfile::tempdir().unwrap();
    write_org(dir.path(), 4);
    let logs = dir.path().join("AWSLogs").to_string_lossy().into_owned();
    let state = dir.path().join("state.db");
    let found = scan(&[&logs], &state);
    assert!(!found.is_empty());
    let burst: Vec<&Value> = found
        .iter()
        .filter(|f| {
            f["observables"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["value"] == "arn:aws:iam::111122223333:user/alice")
        })
        .collect();
    assert!(!burst.is_empty(), "{found:#?}");
    for f in &found {
        assert_eq!(f["class_uid"], 2004);
        assert!(
            f["finding_info"]["related_events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["uid"].as_str().unwrap().starts_with("burst-"))
        );
    }
    // Scanning the same logs again processes nothing twice and raises nothing new.
    let again = scan(&[&logs], &state);
    assert!(again.is_empty(), "{again:#?}");

    // findings list / show read the store.
    let listed = json_lines(listed(&state, "ocsf").as_bytes());
    assert_eq!(uids(&listed), uids(&found));
    let uid = found[0]["finding_info"]["uid"].as_str().unwrap();
    detector()
        .args(["findings", "show", uid, "--state"])
        .arg(&state)
        .assert()
        .success()
        .stdout(predicates::str::contains(uid));
    detector()
        .args(["findings", "show", "no-such-uid", "--state"])
        .arg(&state)
        .assert()
        .code(1);

    // baseline show explains what is normal for bob.
    let shown = stdout_ok(
        detector()
            .args(["baseline", "show", "arn:aws:iam::111122223333:user/bob"])
            .arg("--state")
            .arg(&state),
    );
    let b: Value = serde_json::from_str(&shown).unwrap();
    assert!(
        b["first-seen"]["apis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "ec2:DescribeInstances")
    );
    assert!(b["volume-spike"]["history_hours"].as_i64().unwrap() > 24 * 13);
}

#[test]
fn two_scans_split_by_time_equal_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    write_org(dir.path(), 4);
    let logs = dir.path().join("AWSLogs").to_string_lossy().into_owned();
    let whole = scan(&[&logs], &dir.path().join("whole.db"));
    let split = dir.path().join("split.db");
    let mut parts = scan(&["--until", "2024-04-08", &logs], &split);
    parts.extend(scan(&["--since", "2024-04-08", &logs], &split));
    assert!(!whole.is_empty());
    assert_eq!(uids(&whole), uids(&parts));
    let risk = |v: &[Value]| {
        let mut r: Vec<(String, u64)> = v
            .iter()
            .map(|f| {
                (
                    f["finding_info"]["uid"].as_str().unwrap().to_string(),
                    f["risk_score"].as_u64().unwrap(),
                )
            })
            .collect();
        r.sort();
        r
    };
    assert_eq!(risk(&whole), risk(&parts));
}

#[test]
fn a_killed_scan_leaves_the_store_consistent_and_a_rerun_gives_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    write_org(dir.path(), 60);
    let logs = dir.path().join("AWSLogs").to_string_lossy().into_owned();
    let clean = scan(&[&logs], &dir.path().join("clean.db"));
    assert!(!clean.is_empty());

    let state = dir.path().join("killed.db");
    // Start a scan and kill it part-way (whatever point it reached, the store must stay usable).
    let bin = assert_cmd::cargo::cargo_bin("detector");
    for delay_ms in [30u64, 150, 400] {
        let mut child = std::process::Command::new(&bin)
            .args(SCAN_OCSF_STATE)
            .arg(&state)
            .arg(&logs)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if std::fs::metadata(&state).is_ok() {
            // Whatever the kill interrupted, the store opens and lists.
            detector()
                .args(["findings", "list", "--format", "jsonl", "--state"])
                .arg(&state)
                .assert()
                .success();
        }
        // A completed scan before the kill would have stored the findings; start again clean
        // for the next attempt only if the store has them, to keep testing interruptions.
        if !listed(&state, "jsonl").is_empty() {
            std::fs::remove_file(&state).unwrap();
            let _ = std::fs::remove_file(state.with_extension("db-wal"));
            let _ = std::fs::remove_file(state.with_extension("db-shm"));
        }
    }
    let rerun = scan(&[&logs], &state);
    assert_eq!(uids(&rerun), uids(&clean));
}
