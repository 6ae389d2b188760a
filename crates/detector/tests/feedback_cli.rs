//! Analyst feedback end to end on a simulated organization: mark the false alerts of one scan
//! false-positive, re-scan from scratch, and the false alerts drop while recall stays.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use predicates::prelude::*;

mod common;
use common::{detector, evaluate_report as report, read_json_lines};

fn scan(db: &Path, sim: &Path, out: &Path, extra: &[&str]) {
    detector()
        .arg("scan")
        .arg("--state")
        .arg(db)
        .arg(sim.join("AWSLogs"))
        .arg(sim.join("s3-access-logs"))
        .args(["--format", "ocsf", "-q", "-o"])
        .arg(out)
        .args(extra)
        .env_remove("DETECTOR_CONFIG")
        .env("HOME", db.parent().unwrap())
        .assert()
        .success();
}

#[test]
fn false_positive_verdicts_cut_false_alerts_and_keep_recall() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    detector()
        .args([
            "simulate", "--days", "10", "--scale", "0.5", "--seed", "1", "--out",
        ])
        .arg(&sim)
        .assert()
        .success();
    let db = dir.path().join("state.db");
    let truth = sim.join("truth.jsonl");
    let first = dir.path().join("first.jsonl");
    scan(&db, &sim, &first, &[]);
    let before = report(&truth, &first);
    let false_alerts: Vec<String> = before["false_alert_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap().to_string())
        .collect();
    assert!(
        !false_alerts.is_empty(),
        "the test needs false alerts to judge: {}",
        before["summary"]
    );
    assert_eq!(before["false_alerts"], false_alerts.len());

    for uid in &false_alerts {
        detector()
            .args(["feedback", &uid[..16], "--verdict", "false-positive"])
            .args(["--note", "known admin work", "--analyst", "sam"])
            .arg("--state")
            .arg(&db)
            .env_remove("DETECTOR_CONFIG")
            .assert()
            .success()
            .stdout(predicate::str::contains("marked false-positive"));
    }
    // The verdicts apply to the stored findings at once...
    let listed = detector()
        .args([
            "findings", "list", "--format", "jsonl", "--limit", "10000", "--state",
        ])
        .arg(&db)
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    for uid in &false_alerts {
        assert!(!listed.contains(uid.as_str()), "{uid} still listed");
    }
    detector()
        .args(["feedback", "--list", "--state"])
        .arg(&db)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("false-positive")
                .and(predicate::str::contains("known admin work")),
        );

    // ...and to a re-scan of the same history from scratch.
    let second = dir.path().join("second.jsonl");
    scan(&db, &sim, &second, &["--rebuild"]);
    let after = report(&truth, &second);
    assert_eq!(after["recall"], before["recall"], "{}", after["summary"]);
    assert!(
        after["false_alerts"].as_u64().unwrap() < before["false_alerts"].as_u64().unwrap(),
        "before: {} after: {}",
        before["summary"],
        after["summary"]
    );
    // Suppressed findings are kept, and shown on request with the verdict as the reason.
    let all = dir.path().join("all.jsonl");
    scan(&db, &sim, &all, &["--rebuild", "--include-suppressed"]);
    let suppressed: Vec<serde_json::Value> = read_json_lines(&all)
        .into_iter()
        .filter(|v| v["status"] == "Suppressed")
        .collect();
    assert!(!suppressed.is_empty());
    assert!(
        suppressed.iter().all(|v| v["status_detail"]
            .as_str()
            .unwrap()
            .contains("false-positive by sam")),
        "{:?}",
        suppressed[0]["status_detail"]
    );
}

#[test]
fn bad_feedback_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    detector()
        .args([
            "feedback",
            "0123456789abcdef",
            "--verdict",
            "false-positive",
            "--state",
        ])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no stored finding has uid 0123456789abcdef",
        ));
    detector()
        .args(["feedback", "0123", "--verdict", "maybe", "--state"])
        .arg(&db)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown verdict"));
}

#[test]
fn suppression_rules_from_config_hide_findings_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("ct.json");
    // A root console sign-in and a root API call: root-usage findings.
    common::write_records(
        &logs,
        &[r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-10-01T10:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"e1","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}"#
            .to_string()],
    );
    let run = |config: &str| {
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, config).unwrap();
        detector()
            .args(["scan", "--ephemeral", "--format", "jsonl", "--config"])
            .arg(&cfg)
            .arg(&logs)
            .output()
            .unwrap()
    };
    let open = run("");
    assert!(open.status.success());
    let shown = String::from_utf8(open.stdout).unwrap();
    assert!(shown.contains("root-usage"), "{shown}");
    let quiet = run(
        "[[suppress]]\ndetector = \"root-usage\"\ncidr = \"198.51.100.0/24\"\nreason = \"break-glass drill\"\nexpires = \"2999-01-01\"\n",
    );
    assert!(quiet.status.success());
    assert!(
        !String::from_utf8(quiet.stdout)
            .unwrap()
            .contains("root-usage")
    );
    assert!(
        String::from_utf8(quiet.stderr)
            .unwrap()
            .contains(" by rules")
    );
    let expired = run(
        "[[suppress]]\ndetector = \"root-usage\"\nreason = \"old drill\"\nexpires = \"2020-01-01\"\n",
    );
    assert!(
        String::from_utf8(expired.stdout)
            .unwrap()
            .contains("root-usage")
    );
    assert!(
        String::from_utf8(expired.stderr)
            .unwrap()
            .contains("expired on 2020-01-01")
    );
    let bad = run("[[suppress]]\nreason = \"nothing to match\"\n");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stderr).unwrap().contains("rule 1"));
}
