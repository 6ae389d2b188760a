//! `detector evaluate` end to end on fixture files: table and JSON output, thresholds and exit
//! codes, malformed lines, standard input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use predicates::prelude::*;

mod common;
use common::detector;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/evaluate");

fn fixture(name: &str) -> String {
    format!("{DIR}/{name}")
}

/// `evaluate --truth <truth> <findings>`, both fixture files; the caller adds options.
fn evaluate(truth: &str, findings: &str) -> Command {
    let mut c = detector();
    c.args(["evaluate", "--truth", &fixture(truth), &fixture(findings)]);
    c
}

#[test]
fn all_detected_meets_thresholds() {
    let out = evaluate("truth.jsonl", "findings_all.jsonl")
        .args([
            "--min-recall",
            "100",
            "--max-false-per-100k",
            "1.0",
            "--max-benign-flagged",
            "0",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let last = stdout.lines().last().unwrap();
    assert_eq!(
        last,
        "recall 100.0% (3/3) precision 75.0% false-alerts/100k 1.0 benign-flagged 0/2"
    );
    assert!(
        stdout.contains("leaked-access-key")
            && stdout.contains("Port scan")
            && stdout.contains("2m00s")
    );
}

#[test]
fn missed_thresholds_exit_one_and_say_why() {
    evaluate("truth.jsonl", "findings_partial.jsonl")
        .args(["--min-recall", "90"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("MISSED").and(predicate::str::contains("FLAGGED")))
        .stdout(predicate::str::contains(
            "recall 33.3% (1/3) precision 33.3% false-alerts/100k 2.0 benign-flagged 1/2",
        ))
        .stderr(predicate::str::contains("threshold missed: recall 33.3%"))
        .stderr(predicate::str::contains("line 2:").and(predicate::str::contains("line 4:")));
    evaluate("truth.jsonl", "findings_partial.jsonl")
        .args(["--max-benign-flagged", "0"])
        .assert()
        .code(1);
    // No thresholds: a poor result is still a successful evaluation.
    evaluate("truth.jsonl", "findings_partial.jsonl")
        .assert()
        .success();
}

#[test]
fn json_report_for_machines() {
    let out = evaluate("truth.jsonl", "findings_partial.jsonl")
        .args(["--json", "--background-events", "50000"])
        .args(["--max-false-per-100k", "3"])
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["malicious_detected"], 1);
    assert_eq!(v["malformed_lines"], 2);
    assert_eq!(v["malformed"][0]["line"], 2);
    assert_eq!(v["background_events"], 50000);
    assert_eq!(v["false_alerts_per_100k"], 4.0);
    assert_eq!(v["benign_flagged"], 1);
    assert_eq!(v["violations"].as_array().unwrap().len(), 1);
    let traveller = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "benign-traveller")
        .unwrap();
    assert_eq!(traveller["detected"], true);
    assert_eq!(traveller["top_severity"], 3);
    assert!(v["summary"].as_str().unwrap().starts_with("recall 33.3%"));
}

#[test]
fn findings_from_stdin() {
    let input = std::fs::read(fixture("findings_all.jsonl")).unwrap();
    detector()
        .args([
            "evaluate",
            "--truth",
            &fixture("truth.jsonl"),
            "-",
            "--min-recall",
            "100",
        ])
        .write_stdin(input)
        .assert()
        .success()
        .stdout(predicate::str::contains("recall 100.0% (3/3)"));
}

#[test]
fn unreadable_inputs_are_errors() {
    evaluate("missing.jsonl", "findings_all.jsonl")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.jsonl"));
    // A findings file as truth: the truth must be our own format.
    evaluate("findings_all.jsonl", "findings_all.jsonl")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 1"));
    detector()
        .args(["evaluate", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("--min-recall")
                .and(predicate::str::contains("--max-false-per-100k"))
                .and(predicate::str::contains("--max-benign-flagged")),
        );
}
