//! End-to-end tests of `detector normalize`: every input shape through the real binary, with the
//! zero-loss accounting checked on the summary and the output files.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;

mod common;
use common::{detector, json_lines, read_json_lines as read_lines, run_ok};

fn ct_record(id: &str, time: &str, name: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","principalId":"AIDAEXAMPLE1234567890","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE123456789","userName":"alice"}},"eventTime":"{time}","eventSource":"ec2.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64","requestParameters":{{"maxResults":5}},"responseElements":null,"requestID":"req-{id}","eventID":"{id}","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}}"#
    )
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

const FLOW: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
2 111122223333 eni-0a1b2c3d4e5f60718 10.0.1.5 203.0.113.9 44321 443 6 10 840 1714550400 1714550460 ACCEPT OK\n\
2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.3 10.0.1.5 51515 22 6 1 40 1714550400 1714550460 REJECT OK\n";

const S3: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be examplebucket [01/May/2024:08:00:01 +0000] 192.0.2.3 arn:aws:iam::111122223333:user/alice 3E57427F3EXAMPLE REST.GET.OBJECT reports/q1.csv \"GET /examplebucket/reports/q1.csv HTTP/1.1\" 200 - 1024 1024 12 11 \"-\" \"aws-cli/2.15.0\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader examplebucket.s3.us-east-1.amazonaws.com TLSv1.2 - -\n";

/// A small organization-trail style tree with one of each log kind, one digest and one bad file.
fn write_tree(dir: &Path) {
    let ct_dir = dir.join("AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2024/05/01");
    std::fs::create_dir_all(&ct_dir).unwrap();
    let records = format!(
        r#"{{"Records":[{},{}]}}"#,
        ct_record(
            "11111111-1111-1111-1111-111111111111",
            "2024-05-01T08:00:00Z",
            "DescribeInstances"
        ),
        ct_record(
            "22222222-2222-2222-2222-222222222222",
            "2024-05-01T08:01:00Z",
            "DescribeVpcs"
        ),
    );
    std::fs::write(
        ct_dir.join("111122223333_CloudTrail_us-east-1_20240501T0800Z_abcdefghijklmnop.json.gz"),
        gz(records.as_bytes()),
    )
    .unwrap();
    let digest_dir =
        dir.join("AWSLogs/o-abc123/111122223333/CloudTrail-Digest/us-east-1/2024/05/01");
    std::fs::create_dir_all(&digest_dir).unwrap();
    std::fs::write(
        digest_dir.join(
            "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240501T090000Z.json.gz",
        ),
        gz(br#"{"awsAccountId":"111122223333","digestPublicKeyFingerprint":"abc","logFiles":[]}"#),
    )
    .unwrap();
    let flow_dir = dir.join("AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01");
    std::fs::create_dir_all(&flow_dir).unwrap();
    std::fs::write(
        flow_dir.join(
            "111122223333_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20240501T0800Z_abc.log.gz",
        ),
        gz(FLOW.as_bytes()),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("s3logs")).unwrap();
    std::fs::write(dir.join("s3logs/2024-05-01-08-00-01-0123456789ABCDEF"), S3).unwrap();
}

fn summary_number(stderr: &str, label: &str) -> u64 {
    // The summary is the last block on stderr; reject lines before it may contain the labels.
    let summary = &stderr[stderr.rfind("files read").expect("a summary")..];
    let at = summary
        .find(label)
        .unwrap_or_else(|| panic!("no `{label}` in summary:\n{stderr}"));
    summary[at + label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after `{label}`:\n{stderr}"))
}

/// `normalize --no-progress`; the caller adds the rest.
fn normalize() -> Command {
    let mut c = detector();
    c.args(["normalize", "--no-progress"]);
    c
}

/// `normalize` writing events to `out` and rejects to `quarantine`.
fn normalize_to(out: &Path, quarantine: &Path) -> Command {
    let mut c = normalize();
    c.arg("--output")
        .arg(out)
        .arg("--quarantine")
        .arg(quarantine);
    c
}

/// Runs a normalize that must succeed; returns its stdout and stderr.
fn normalize_ok(cmd: &mut Command) -> (String, String) {
    let out = run_ok(cmd);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn normalizes_a_mixed_tree_and_accounts_for_every_record() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let out = dir.path().join("out.jsonl");
    let q = dir.path().join("q.jsonl");
    let (_, stderr) = normalize_ok(
        normalize_to(&out, &q)
            .arg(dir.path().join("AWSLogs"))
            .arg(dir.path().join("s3logs")),
    );
    let events = read_lines(&out);
    assert_eq!(events.len(), 5, "2 CloudTrail + 2 flow + 1 S3 line");
    assert_eq!(summary_number(&stderr, "records"), 5);
    assert_eq!(summary_number(&stderr, "rejected"), 0);
    assert_eq!(summary_number(&stderr, "digests skipped"), 1);
    let classes: Vec<u64> = events
        .iter()
        .map(|e| e["class_uid"].as_u64().unwrap())
        .collect();
    assert_eq!(classes.iter().filter(|c| **c == 6003).count(), 3);
    assert_eq!(classes.iter().filter(|c| **c == 4001).count(), 2);
    // Files are written in path order and records in file order.
    let ct: Vec<&str> = events
        .iter()
        .filter(|e| e["metadata"]["product"]["name"] == "CloudTrail")
        .map(|e| e["metadata"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(
        ct,
        [
            "11111111-1111-1111-1111-111111111111",
            "22222222-2222-2222-2222-222222222222"
        ]
    );
    let flow_uids: Vec<&str> = events
        .iter()
        .filter(|e| e["class_uid"] == 4001)
        .map(|e| e["metadata"]["uid"].as_str().unwrap())
        .collect();
    assert!(flow_uids[0].ends_with(".log.gz#2"), "{flow_uids:?}");
    assert!(flow_uids[1].ends_with(".log.gz#3"), "{flow_uids:?}");
    assert_eq!(std::fs::read_to_string(&q).unwrap(), "");
}

#[test]
fn bad_records_are_quarantined_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = ct_record(
        "33333333-3333-3333-3333-333333333333",
        "2024-05-01T08:00:00Z",
        "ListBuckets",
    );
    let bad_time = ct_record(
        "44444444-4444-4444-4444-444444444444",
        "not-a-time",
        "ListBuckets",
    );
    std::fs::write(
        dir.path().join("lines.jsonl"),
        format!("{good}\n{{broken json\n{bad_time}\n"),
    )
    .unwrap();
    // A truncated gzip CloudTrail object: what came before the cut is kept or reported.
    let full = gz(format!(r#"{{"Records":[{good},{good}]}}"#).as_bytes());
    std::fs::write(dir.path().join("cut.json.gz"), &full[..full.len() - 20]).unwrap();
    std::fs::write(
        dir.path().join("garbage.bin"),
        b"\x00\x01\x02 not a log at all\xff\xfe",
    )
    .unwrap();
    let out = dir.path().join("out.jsonl");
    let q = dir.path().join("q.jsonl");
    let (_, stderr) = normalize_ok(
        normalize_to(&out, &q)
            .arg(dir.path().join("lines.jsonl"))
            .arg(dir.path().join("cut.json.gz"))
            .arg(dir.path().join("garbage.bin")),
    );
    let events = read_lines(&out).len() as u64;
    let rejects = read_lines(&q);
    let records = summary_number(&stderr, "records");
    assert_eq!(records, events + rejects.len() as u64, "{stderr}");
    assert_eq!(summary_number(&stderr, "rejected"), rejects.len() as u64);
    assert!(events >= 1, "the good JSON line survives");
    // Each reject names its file, position and reason, and keeps the raw record.
    let line2 = rejects
        .iter()
        .find(|r| r["source"].as_str().unwrap().ends_with("lines.jsonl") && r["index"] == 2)
        .expect("the broken JSON line is rejected as line 2");
    assert!(line2["raw"].as_str().unwrap().contains("broken json"));
    assert!(
        rejects
            .iter()
            .any(|r| r["index"] == 3 && r["reason"].as_str().unwrap().contains("eventTime"))
    );
    assert!(
        rejects
            .iter()
            .any(|r| r["source"].as_str().unwrap().ends_with("cut.json.gz"))
    );
    assert!(
        rejects
            .iter()
            .any(|r| r["source"].as_str().unwrap().ends_with("garbage.bin"))
    );
    assert!(
        stderr.contains("rejected "),
        "rejects are echoed on stderr: {stderr}"
    );
}

#[test]
fn stdin_and_time_window() {
    let input = format!(
        "{}\n{}\n",
        ct_record(
            "55555555-5555-5555-5555-555555555555",
            "2024-05-01T08:00:00Z",
            "GetCallerIdentity"
        ),
        ct_record(
            "66666666-6666-6666-6666-666666666666",
            "2024-05-03T08:00:00Z",
            "GetCallerIdentity"
        ),
    );
    let (out, stderr) = normalize_ok(
        normalize()
            .args(["--since", "2024-05-02", "-"])
            .write_stdin(input),
    );
    let lines = json_lines(out.as_bytes());
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0]["metadata"]["uid"],
        "66666666-6666-6666-6666-666666666666"
    );
    assert_eq!(summary_number(&stderr, "filtered by time"), 1);
}

#[test]
fn files_outside_the_window_are_skipped_by_key_date() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let (out, stderr) = normalize_ok(
        normalize()
            .args(["--since", "2024-06-01"])
            .arg(dir.path().join("AWSLogs")),
    );
    assert_eq!(summary_number(&stderr, "skipped by date"), 3, "{stderr}");
    assert!(out.is_empty());
}

#[test]
fn unreadable_paths_are_reported_and_only_total_failure_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.log"), FLOW).unwrap();
    let (_, stderr) = normalize_ok(
        normalize()
            .arg(dir.path().join("one.log"))
            .arg(dir.path().join("missing.json")),
    );
    assert!(stderr.contains("missing.json"), "{stderr}");
    assert_eq!(summary_number(&stderr, "unreadable"), 1);

    normalize()
        .arg(dir.path().join("missing.json"))
        .assert()
        .failure()
        .code(2)
        .stderr(predicates::str::contains("missing.json"));
}

#[test]
fn gzip_bomb_cap_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::from(FLOW);
    while body.len() < 3 * 1024 * 1024 {
        body.push_str("2 111122223333 eni-0a1b2c3d4e5f60718 10.0.1.5 203.0.113.9 44321 443 6 10 840 1714550400 1714550460 ACCEPT OK\n");
    }
    std::fs::write(dir.path().join("big.log.gz"), gz(body.as_bytes())).unwrap();
    let (_, stderr) = normalize_ok(
        normalize()
            .args(["--max-file-mib", "1", "--output"])
            .arg(dir.path().join("out.jsonl"))
            .arg(dir.path().join("big.log.gz")),
    );
    assert!(stderr.contains("cap"), "{stderr}");
    let records = summary_number(&stderr, "records");
    let events = summary_number(&stderr, "events");
    let rejected = summary_number(&stderr, "rejected");
    assert_eq!(records, events + rejected);
    assert!(rejected >= 1);
}

#[test]
fn help_and_version() {
    detector().arg("--version").assert().success();
    for sub in [
        "normalize",
        "scan",
        "findings",
        "baseline",
        "simulate",
        "evaluate",
        "bench",
    ] {
        detector().args([sub, "--help"]).assert().success();
    }
    detector()
        .args(["normalize", "--input-format", "nonsense", "x"])
        .assert()
        .failure()
        .code(2);
}
