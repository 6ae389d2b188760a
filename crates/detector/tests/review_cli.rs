//! The review round trip through the CLI: uncertain entities are queued, a human accepts or
//! rejects them, `entities train` learns from the decisions, and the next run scores those
//! same cases differently.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::Value;

mod common;
use common::{detector, json_lines, run_ok, stdout_ok};

/// Parameters under keys no typed mapping knows: the model decides, with middling scores.
fn write_logs(dir: &Path) -> String {
    let rec = r#"{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"},"eventTime":"2024-05-01T08:00:00Z","eventSource":"glue.amazonaws.com","eventName":"CreateJob","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","requestParameters":{"replicaRole":"etl-runner","exportUser":"judy"},"eventID":"e1","recipientAccountId":"111122223333"}"#;
    let path = dir.join("glue.json");
    common::write_records(&path, &[rec.to_string()]);
    path.to_string_lossy().into_owned()
}

/// Score of `value` in the only event (0 when absent).
fn score(logs: &str, state: &Path, model: Option<&Path>, value: &str) -> f64 {
    let mut cmd = detector();
    cmd.args([
        "entities",
        logs,
        "--all",
        "--no-queue",
        "-q",
        "--no-progress",
        "--state",
    ])
    .arg(state);
    if let Some(m) = model {
        cmd.arg("--model").arg(m);
    }
    let out = run_ok(&mut cmd);
    let ev: Value = serde_json::from_slice(&out.stdout).unwrap();
    ev["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["value"] == value)
        .map_or(0.0, |e| e["score"].as_f64().unwrap())
}

fn queue(state: &Path, status: &str) -> Vec<Value> {
    let out = stdout_ok(
        detector()
            .args(["review", "list", "--json", "--status", status, "--state"])
            .arg(state),
    );
    json_lines(out.as_bytes())
}

#[test]
fn queue_decide_retrain_changes_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state/state.db");
    let logs = write_logs(dir.path());

    // 1. Extraction queues the review-band entities (twice: no duplicates).
    for _ in 0..2 {
        run_ok(
            detector()
                .args(["entities", &logs, "-q", "--no-progress", "--state"])
                .arg(&state),
        );
    }
    let pending = queue(&state, "pending");
    let role = pending
        .iter()
        .find(|i| i["value"] == "etl-runner")
        .expect("etl-runner queued");
    let user = pending
        .iter()
        .find(|i| i["value"] == "judy")
        .expect("judy queued");
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert_eq!(role["type"], "iam_role");
    assert_eq!(role["context"]["path"], "requestParameters.replicaRole");
    assert_eq!(role["context"]["text"], "etl-runner");

    // The table view marks the entity in its context.
    let table = detector()
        .args(["review", "list", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("[[etl-runner]]") && table.contains("2 pending"),
        "{table}"
    );

    // 2. A human decides.
    let id = |v: &Value| v["id"].as_i64().unwrap().to_string();
    for (verb, item) in [("accept", role), ("reject", user)] {
        run_ok(
            detector()
                .args(["review", verb, &id(item), "--state"])
                .arg(&state),
        );
    }
    assert!(queue(&state, "pending").is_empty());
    let decided = queue(&state, "all");
    assert!(
        decided
            .iter()
            .any(|i| i["status"] == "accepted" && i["decided_label"] == "iam_role")
    );
    assert!(
        decided
            .iter()
            .any(|i| i["status"] == "rejected" && i["decided_label"].is_null())
    );
    let missing = detector()
        .args(["review", "accept", "999", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));

    // 3. Retrain: once without the decisions (the control), once with them (written next to
    //    the state store, where later runs pick it up).
    let control = dir.path().join("control.crfsuite");
    let train = || {
        let mut c = detector();
        c.args(["entities", "train", "--max-iterations", "60", "--state"])
            .arg(&state);
        c
    };
    run_ok(train().arg("--no-decisions").arg("--out").arg(&control));
    let t = run_ok(&mut train());
    let msg = String::from_utf8_lossy(&t.stderr);
    assert!(msg.contains("2 review decisions"), "{msg}");
    assert!(state.with_file_name("entity-model.crfsuite").is_file());

    // 4. Different result on the decided cases, in the decided direction.
    let role_before = score(&logs, &state, Some(&control), "etl-runner");
    let user_before = score(&logs, &state, Some(&control), "judy");
    let role_after = score(&logs, &state, None, "etl-runner");
    let user_after = score(&logs, &state, None, "judy");
    eprintln!(
        "accepted etl-runner: {role_before:.3} -> {role_after:.3}; \
         rejected judy: {user_before:.3} -> {user_after:.3}"
    );
    assert!(
        role_after >= 0.8,
        "accepted role now {role_after:.3} (control {role_before:.3})"
    );
    assert!(
        role_after > role_before + 0.05,
        "role {role_before:.3} -> {role_after:.3}"
    );
    assert!(
        user_after < 0.5,
        "rejected user now {user_after:.3} (control {user_before:.3})"
    );
    assert!(
        user_after < user_before,
        "user {user_before:.3} -> {user_after:.3}"
    );
}
