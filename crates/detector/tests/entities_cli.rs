//! End-to-end tests of `detector entities` and `detector inventory` through the real binary.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::Value;

mod common;
use common::{detector, json_lines, run_ok, stdout_ok, write_records};

fn ct(
    id: &str,
    time: &str,
    identity: &str,
    source: &str,
    name: &str,
    req: &str,
    extra: &str,
) -> String {
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"{time}","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/6.6.9-amd64 exe/x86_64.kali.2024 prompt/off","requestParameters":{req},"responseElements":null,"eventID":"{id}","recipientAccountId":"111122223333"{extra}}}"#
    )
}

const ALICE: &str = r#"{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"alice"}"#;
const ROLE: &str = r#"{"type":"AssumedRole","principalId":"AROAEXAMPLE:bob","arn":"arn:aws:sts::111122223333:assumed-role/Deploy/bob","accountId":"111122223333","accessKeyId":"ASIAY34FZKBOKMUTVV7A","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/Deploy","accountId":"111122223333","userName":"Deploy"}}}"#;

fn write_logs(dir: &Path) -> String {
    let recs = [
        ct(
            "e1",
            "2024-05-01T08:00:00Z",
            ALICE,
            "s3.amazonaws.com",
            "GetObject",
            r#"{"bucketName":"acme-data","key":"reports/q1.csv"}"#,
            r#","errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::acme-data/reports/q1.csv""#,
        ),
        ct(
            "e2",
            "2024-05-01T09:00:00Z",
            ROLE,
            "s3.amazonaws.com",
            "GetObject",
            r#"{"bucketName":"acme-data","key":"reports/q2.csv"}"#,
            "",
        ),
        ct(
            "e3",
            "2024-05-02T10:00:00Z",
            ALICE,
            "sts.amazonaws.com",
            "AssumeRole",
            r#"{"roleArn":"arn:aws:iam::444455556666:role/OrganizationAccountAccessRole","roleSessionName":"alice"}"#,
            "",
        ),
    ];
    let path = dir.join("trail.json");
    write_records(&path, &recs);
    path.to_string_lossy().into_owned()
}

/// The entity of `ents` that `pick` selects.
fn entity(ents: &Value, pick: impl Fn(&Value) -> bool) -> &Value {
    ents.as_array().unwrap().iter().find(|e| pick(e)).unwrap()
}

fn has(entities: &Value, kind: &str, value: &str) -> bool {
    entities
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == kind && e["value"] == value)
}

#[test]
fn entities_per_event_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let out = run_ok(detector().args(["entities", &logs, "--no-queue", "--no-progress"]));
    let events = json_lines(&out.stdout);
    assert_eq!(events.len(), 3);
    let e1 = &events[0];
    assert_eq!(e1["uid"], "e1");
    assert_eq!(e1["principal"], "arn:aws:iam::111122223333:user/alice");
    let ents = &e1["entities"];
    assert!(has(
        ents,
        "iam_user",
        "arn:aws:iam::111122223333:user/alice"
    ));
    assert!(has(ents, "access_key", "AKIAIOSFODNN7EXAMPLE"));
    assert!(has(ents, "iam_action", "s3:GetObject"));
    assert!(has(
        ents,
        "s3_object",
        "arn:aws:s3:::acme-data/reports/q1.csv"
    ));
    assert!(has(ents, "s3_object", "acme-data/reports/q1.csv"));
    let ua = entity(ents, |e| e["type"] == "user_agent");
    assert_eq!(ua["class"], "offensive");
    for e in ents.as_array().unwrap() {
        assert_eq!(e["decision"], "accept");
        assert!(e["score"].as_f64().unwrap() >= 0.8);
        assert!(e["origin"]["path"].is_string());
        assert!(e["explanation"]["recognizer"].is_string());
    }
    let obj = entity(ents, |e| {
        e["value"] == "arn:aws:s3:::acme-data/reports/q1.csv"
    });
    assert_eq!(obj["arn"]["service"], "s3");
    assert_eq!(obj["arn"]["resource"], "acme-data/reports/q1.csv");
    let action = entity(ents, |e| e["type"] == "iam_action");
    assert_eq!(action["origin"]["path"], "errorMessage");
    assert!(action["origin"]["span"].is_array());
    assert!(has(
        &events[2]["entities"],
        "iam_role",
        "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"
    ));
    assert!(String::from_utf8_lossy(&out.stderr).contains("entities:"));
}

#[test]
fn inventory_json_csv_and_table() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let run = |fmt: &str| {
        stdout_ok(detector().args(["inventory", &logs, "--format", fmt, "--no-progress", "-q"]))
    };
    let rows = json_lines(run("json").as_bytes());
    let bucket = rows
        .iter()
        .find(|r| r["type"] == "s3_bucket" && r["value"] == "acme-data")
        .unwrap();
    assert_eq!(bucket["events"], 2);
    assert_eq!(bucket["first_seen"], "2024-05-01T08:00:00.000Z");
    assert_eq!(bucket["last_seen"], "2024-05-01T09:00:00.000Z");
    assert_eq!(bucket["principal_count"], 2);
    assert_eq!(bucket["accounts"], serde_json::json!(["111122223333"]));
    let role = rows
        .iter()
        .find(|r| r["value"] == "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole")
        .unwrap();
    // The account comes from the ARN, not from the event that named it.
    assert_eq!(role["accounts"], serde_json::json!(["444455556666"]));
    assert_eq!(
        role["principals"],
        serde_json::json!(["arn:aws:iam::111122223333:user/alice"])
    );
    let key = rows.iter().find(|r| r["type"] == "access_key").unwrap();
    assert_eq!(key["class"], "long_term");
    assert_eq!(key["events"], 2);

    let csv = run("csv");
    assert!(csv.starts_with(
        "type,value,class,accounts,first_seen,last_seen,events,principal_count,principals\n"
    ));
    assert!(csv.contains(
        "s3_bucket,acme-data,,111122223333,2024-05-01T08:00:00.000Z,2024-05-01T09:00:00.000Z,2,2,"
    ));

    let table = run("table");
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("TYPE")
            && header.contains("FIRST SEEN")
            && header.contains("PRINCIPALS")
    );
    assert!(table.contains("acme-data"));

    // Type filter.
    let only = json_lines(
        detector()
            .args([
                "inventory",
                &logs,
                "--type",
                "iam_role,access_key",
                "--format",
                "json",
                "-q",
                "--no-progress",
            ])
            .output()
            .unwrap()
            .stdout
            .as_slice(),
    );
    assert!(
        only.iter()
            .all(|r| r["type"] == "iam_role" || r["type"] == "access_key")
    );
    assert!(only.len() >= 3);
}

#[test]
fn thresholds_come_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let logs = write_logs(dir.path());
    let cfg = dir.path().join("detector.toml");
    std::fs::write(&cfg, "[entities]\naccept = 0.8\n[entities.types.iam_action]\naccept = 0.95\nreview = 0.5\n[other]\nx = 1\n").unwrap();
    let out = run_ok(
        detector()
            .args([
                "entities",
                &logs,
                "--no-queue",
                "--all",
                "-q",
                "--no-progress",
            ])
            .arg("--config")
            .arg(&cfg),
    );
    let e1 = &json_lines(&out.stdout)[0];
    let action = entity(&e1["entities"], |e| e["type"] == "iam_action");
    assert_eq!(action["decision"], "review");

    std::fs::write(&cfg, "[entities]\nacept = 0.8\n").unwrap();
    let bad = detector()
        .args(["entities", &logs, "--no-queue", "-q", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("acept"));

    let model = dir.path().join("bad.crfsuite");
    std::fs::write(&model, b"not a model").unwrap();
    let bad = detector()
        .args(["entities", &logs, "--no-queue", "-q", "--model"])
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("model"));
}

#[test]
fn eval_prints_per_type_micro_and_macro() {
    let dir = tempfile::tempdir().unwrap();
    let text = stdout_ok(
        detector()
            .args(["entities", "eval", "--state"])
            .arg(dir.path().join("s.db")),
    );
    assert!(text.contains("model built-in"), "{text}");
    let f1 = |row: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(row)).unwrap();
        line.split_whitespace().nth(3).unwrap().parse().unwrap()
    };
    assert!(f1("micro ") >= 0.97, "{text}");
    assert!(f1("[free_text]") >= 0.90, "{text}");
    assert!(text.contains("macro"));
    for t in ["iam_user", "s3_bucket", "account_id", "iam_action", "email"] {
        assert!(
            text.lines().any(|l| l.starts_with(t)),
            "{t} missing\n{text}"
        );
    }

    // JSON form, and a custom file.
    let set = dir.path().join("mini.jsonl");
    std::fs::write(&set, "{\"id\":\"a\",\"split\":\"test\",\"kind\":\"free_text\",\"service\":\"s3\",\"path\":\"errorMessage\",\"text\":\"bucket policy allows 203.0.113.9\",\"spans\":[[21,32,\"ipv4\"]]}\n").unwrap();
    let out = detector()
        .args(["entities", "eval", "--json", "--state"])
        .arg(dir.path().join("s.db"))
        .arg(&set)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["examples"], 1);
    assert_eq!(v["micro_f1"], 1.0);
}
