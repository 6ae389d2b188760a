//! `detector simulate` end to end: files on disk in AWS layouts (gzip where AWS gzips), truth
//! and manifest, the same bytes for any thread count, errors, and a simulate -> evaluate loop.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use predicates::prelude::*;

mod common;
use common::{detector, json_lines};

fn simulate(out: &Path, extra: &[&str]) -> String {
    let o = detector()
        .args([
            "simulate",
            "--out",
            out.to_str().unwrap(),
            "--days",
            "2",
            "--accounts",
            "1",
            "--scale",
            "0.2",
            "--seed",
            "7",
        ])
        .args(extra)
        .assert()
        .success();
    String::from_utf8(o.get_output().stdout.clone()).unwrap()
}

/// Relative path -> FNV-1a hash of the contents, for every file under `dir`.
fn tree(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
    {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in std::fs::read(e.path()).unwrap() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        out.insert(
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            h,
        );
    }
    out
}

#[test]
fn writes_logs_truth_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("corpus");
    let stdout = simulate(&out, &[]);
    for word in [
        "cloudtrail",
        "cloudtrail-digest",
        "vpcflow",
        "s3access",
        "MB/s",
        "malicious",
    ] {
        assert!(stdout.contains(word), "{word} missing in {stdout}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 7);
    assert_eq!(manifest["days"], 2);
    let ct = &manifest["counts"]["cloudtrail"];
    assert!(ct["records"].as_u64().unwrap() > 1000);
    let truth = std::fs::read_to_string(out.join("truth.jsonl")).unwrap();
    let lines = json_lines(truth.as_bytes());
    assert!(lines.len() >= 25);
    assert_eq!(manifest["scenarios"].as_array().unwrap().len(), lines.len());
    // CloudTrail objects are gzip JSON under the organization trail layout; access logs are plain.
    let files = tree(&out);
    let ct_key = files
        .keys()
        .find(|k| k.contains("/CloudTrail/") && k.ends_with(".json.gz"))
        .unwrap();
    assert!(ct_key.starts_with(&format!(
        "AWSLogs/{}/",
        manifest["org_id"].as_str().unwrap()
    )));
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(out.join(ct_key)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(!v["Records"].as_array().unwrap().is_empty());
    let flow_key = files.keys().find(|k| k.contains("/vpcflowlogs/")).unwrap();
    let mut flow = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(out.join(flow_key)).unwrap())
        .read_to_string(&mut flow)
        .unwrap();
    assert!(flow.starts_with("version account-id interface-id"));
    let s3_key = files
        .keys()
        .find(|k| k.starts_with("s3-access-logs/"))
        .unwrap();
    let s3 = std::fs::read_to_string(out.join(s3_key)).unwrap();
    assert!(s3.contains(" REST."));
    // Every flow/S3 uid in the truth names a file that exists.
    for l in &lines {
        for u in l["record_uids"].as_array().unwrap() {
            if let Some((key, _)) = u.as_str().unwrap().split_once('#') {
                assert!(files.contains_key(key), "{key}");
            }
        }
    }
}

#[test]
fn output_does_not_depend_on_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    simulate(
        &a,
        &[
            "--threads",
            "1",
            "--scenarios",
            "flow-port-scan,leaked-access-key,benign-traveller",
        ],
    );
    simulate(
        &b,
        &[
            "--threads",
            "3",
            "--scenarios",
            "flow-port-scan,leaked-access-key,benign-traveller",
        ],
    );
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 100);
    assert_eq!(ta, tb);
}

#[test]
fn background_only_and_bad_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bg");
    detector()
        .args([
            "simulate",
            "--out",
            out.to_str().unwrap(),
            "--days",
            "1",
            "--accounts",
            "1",
            "--scale",
            "0.1",
            "--scenarios",
            "none",
        ])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(out.join("truth.jsonl")).unwrap(),
        ""
    );
    let bad = |args: &[&str], msg: &str| {
        detector()
            .args(["simulate", "--out", out.to_str().unwrap()])
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(msg.to_string()));
    };
    bad(&["--days", "0"], "days must be between 1 and 366");
    bad(
        &["--scenarios", "bogus-attack"],
        "unknown scenario `bogus-attack`",
    );
    bad(&["--start", "2026-02-30x"], "start date");
    bad(&["--scale=-1"], "scale must be");
    detector()
        .args(["simulate", "--help"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("--scenarios")
                .and(predicate::str::contains("flow-port-scan"))
                .and(predicate::str::contains("--start")),
        );
}

#[test]
fn simulate_then_evaluate_a_perfect_and_an_empty_detector() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    simulate(&out, &["--scenarios", "malicious"]);
    let truth = std::fs::read_to_string(out.join("truth.jsonl")).unwrap();
    // One finding per malicious scenario, citing its first record as a scanner would: flow
    // and S3 line uids prefixed with the directory the user passed.
    let mut findings = String::new();
    for (i, l) in truth.lines().enumerate() {
        let t: serde_json::Value = serde_json::from_str(l).unwrap();
        let Some(uid) = t["record_uids"].as_array().unwrap().first() else {
            continue;
        };
        let uid = uid.as_str().unwrap();
        let uid = if uid.contains('#') {
            format!("{}/{uid}", out.display())
        } else {
            uid.to_string()
        };
        let f = serde_json::json!({
            "class_uid": 2004, "time": t["end_ms"], "severity_id": 4,
            "finding_info": {"uid": format!("f{i}"), "title": "x", "related_events": [{"uid": uid}]}
        });
        findings.push_str(&f.to_string());
        findings.push('\n');
    }
    let path = tmp.path().join("findings.jsonl");
    std::fs::write(&path, findings).unwrap();
    let evaluate = || {
        let mut c = detector();
        c.args(["evaluate", "--truth"])
            .arg(out.join("truth.jsonl"))
            .arg(&path);
        c
    };
    evaluate()
        .args([
            "--min-recall",
            "100",
            "--max-false-per-100k",
            "0",
            "--max-benign-flagged",
            "0",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("recall 100.0%"));
    std::fs::write(&path, "").unwrap();
    evaluate()
        .args(["--min-recall", "50"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("recall 0.0%"));
}
