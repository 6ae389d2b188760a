//! `detector incidents list|show` end to end: a scan fills a store from a CloudTrail file in
//! which one attacker (one IAM user, one address) stops logging, makes itself admin and opens a
//! bucket, and root signs in without MFA hours later from elsewhere. The attacker's findings must
//! form one incident with its tactics in kill-chain order, root's another, and `show` must print
//! the timeline.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{json_lines, stdout_ok, strings};

const MALLORY: &str = "arn:aws:iam::111122223333:user/mallory";
const ROOT: &str = "arn:aws:iam::111122223333:root";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/incidents/trail.json")
}

fn detector() -> Command {
    let mut c = common::detector();
    c.env_remove("DETECTOR_STATE").env("COLUMNS", "220");
    c
}

/// A store holding the fixture's findings.
fn scanned() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    detector()
        .args(common::SCAN_OCSF_STATE)
        .arg(&state)
        .arg(fixture())
        .assert()
        .success();
    (dir, state)
}

fn incidents(state: &Path, args: &[&str]) -> String {
    stdout_ok(
        detector()
            .args(["incidents", "list", "--state"])
            .arg(state)
            .args(args),
    )
}

/// `incidents list` as JSON values, one an incident.
fn incident_list(state: &Path, args: &[&str]) -> Vec<Value> {
    json_lines(incidents(state, args).as_bytes())
}

/// `incidents show` of `id` in `format`, parsed.
fn show_json(state: &Path, id: &str, format: &str) -> Value {
    let out = stdout_ok(
        detector()
            .args(["incidents", "show", id, "--format", format, "--state"])
            .arg(state),
    );
    serde_json::from_str(&out).unwrap()
}

/// The kill-chain position of each ATT&CK tactic uid, as the product orders them.
fn order(uid: &str) -> usize {
    detector_core::attack::tactic_order(uid)
}

#[test]
fn attacker_findings_form_one_incident_and_root_another() {
    let (_dir, state) = scanned();
    let list = incident_list(&state, &["--format", "json"]);
    assert_eq!(list.len(), 2, "{list:#?}");
    let by = |p: &str| {
        list.iter()
            .find(|i| strings(&i["principals"]).iter().any(|x| x == p))
            .unwrap_or_else(|| panic!("no incident for {p}: {list:#?}"))
    };
    let attack = by(MALLORY);
    let root = by(ROOT);
    assert_ne!(attack["uid"], root["uid"]);
    assert_eq!(strings(&attack["principals"]), vec![MALLORY.to_string()]);
    assert_eq!(strings(&root["principals"]), vec![ROOT.to_string()]);
    assert_eq!(strings(&attack["ips"]), vec!["45.137.21.35".to_string()]);

    // Every finding the scan raised about mallory is in the attacker's incident, and only those.
    let findings = json_lines(
        stdout_ok(
            detector()
                .args(["findings", "list", "--format", "jsonl", "--all", "--state"])
                .arg(&state)
                .args(["--min-severity", "low"]),
        )
        .as_bytes(),
    );
    let about = |p: &str| {
        let mut v: Vec<String> = findings
            .iter()
            .filter(|f| {
                f["observables"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|o| o["value"] == p)
            })
            .map(|f| f["uid"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let members = |i: &Value| {
        let mut v = strings(&i["findings"]);
        v.sort();
        v
    };
    assert!(about(MALLORY).len() >= 3, "{findings:#?}");
    assert_eq!(members(attack), about(MALLORY));
    assert_eq!(members(root), about(ROOT));

    // Tactics in kill-chain order: defense evasion (StopLogging) comes after persistence /
    // privilege escalation (AttachUserPolicy) and before exfiltration (public bucket), whatever
    // the order the events happened in.
    let tactics: Vec<String> = attack["tactics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uid"].as_str().unwrap().to_string())
        .collect();
    for t in ["TA0003", "TA0005", "TA0010"] {
        assert!(tactics.iter().any(|x| x == t), "{t} missing: {tactics:?}");
    }
    let orders: Vec<usize> = tactics.iter().map(|t| order(t)).collect();
    assert!(orders.windows(2).all(|w| w[0] < w[1]), "{tactics:?}");
    let title = attack["title"].as_str().unwrap();
    assert!(
        title.contains("by arn:…:user/mallory")
            && title.contains("from 45.137.21.35")
            && !title.contains('\n'),
        "{title}"
    );
    // Combined risk: at least its strongest finding; ranked first.
    let max = attack["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["risk_score"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(attack["risk_score"].as_u64().unwrap() >= max);
    assert_eq!(list[0]["uid"], attack["uid"]);

    // The table shows both, ranked, with short ids and the kill-chain tactics.
    let table = incidents(&state, &["--format", "table"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let short = &attack["uid"].as_str().unwrap()[..12];
    assert!(lines[1].starts_with(short), "{table}");
    assert!(
        lines[1].contains("persist>") && lines[1].contains("evasion"),
        "{table}"
    );
    assert!(lines[2].contains("root"), "{table}");

    // A severity floor above both hides them.
    let none = incident_list(&state, &["--format", "json", "--min-severity", "critical"]);
    assert!(none.iter().all(|i| i["severity"] == "Critical"));
}

#[test]
fn ocsf_output_is_an_incident_finding_with_its_members() {
    let (_dir, state) = scanned();
    let list = incident_list(&state, &["--format", "ocsf"]);
    assert_eq!(list.len(), 2);
    for o in &list {
        assert_eq!(o["class_uid"], 2005);
        assert_eq!(o["category_uid"], 2);
        assert_eq!(o["type_uid"], 200_501);
        assert_eq!(o["metadata"]["version"], "1.6.0");
        assert!(o["severity_id"].as_u64().unwrap() >= 1);
        assert!(o["unmapped"]["risk_score"].as_u64().unwrap() <= 100);
        let infos = o["finding_info_list"].as_array().unwrap();
        assert!(!infos.is_empty());
        for info in infos {
            assert!(info["uid"].is_string() && info["title"].is_string());
        }
        assert!(!o["attacks"].as_array().unwrap().is_empty());
    }
}

#[test]
fn show_prints_the_timeline_by_unique_prefix() {
    let (_dir, state) = scanned();
    let list = incident_list(&state, &["--format", "json"]);
    let attack = list
        .iter()
        .find(|i| strings(&i["principals"]).iter().any(|p| p == MALLORY))
        .unwrap();
    let uid = attack["uid"].as_str().unwrap();
    let text = stdout_ok(
        detector()
            .args(["incidents", "show", &uid[..8], "--state"])
            .arg(&state),
    );
    assert!(text.contains(uid), "{text}");
    assert!(text.contains(attack["title"].as_str().unwrap()), "{text}");
    assert!(text.contains("Timeline (UTC)"), "{text}");
    // Every member on the timeline, in event-time order.
    let timeline = &text[text.find("Timeline (UTC)").unwrap()..];
    let n = attack["findings"].as_array().unwrap().len();
    assert_eq!(timeline.lines().count(), 1 + n, "{text}");
    let stop = timeline.find("2024-04-10 12:00:00  Critical").unwrap();
    let attach = timeline.find("2024-04-10 12:05:00").unwrap();
    let open = timeline.find("2024-04-10 12:10:00").unwrap();
    assert!(stop < attach && attach < open, "{text}");
    assert!(
        text.contains("StopLogging") || text.contains("logging stopped"),
        "{text}"
    );
    assert!(text.contains("AdministratorAccess"), "{text}");
    assert!(!text.contains("root signed in"), "{text}");

    // JSON and OCSF views of the same incident.
    let json = show_json(&state, uid, "json");
    assert_eq!(json["uid"], uid);
    assert_eq!(
        json["timeline"].as_array().unwrap().len(),
        json["findings"].as_array().unwrap().len()
    );
    let ocsf = show_json(&state, uid, "ocsf");
    assert_eq!(ocsf["metadata"]["uid"], uid);
    // A member finding's uid leads to its incident too.
    let member = json["findings"][0].as_str().unwrap();
    detector()
        .args(["incidents", "show", member, "--state"])
        .arg(&state)
        .assert()
        .success()
        .stdout(predicates::str::contains(uid));
}

#[test]
fn unknown_or_empty_id_is_a_clear_error_with_exit_code_2() {
    let (_dir, state) = scanned();
    detector()
        .args(["incidents", "show", "ffffffffffffdeadbeef", "--state"])
        .arg(&state)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains(
            "no incident with id `ffffffffffffdeadbeef`",
        ));
    detector()
        .args(["incidents", "show", "", "--state"])
        .arg(&state)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("empty incident id"));
    // An empty store has no incidents: the list is just the header.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    let table = incidents(&empty, &["--format", "table"]);
    assert_eq!(table.lines().count(), 1, "{table}");
    detector()
        .args(["incidents", "list", "--window-hours=-1", "--state"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--window-hours"));
}

#[test]
fn the_scan_table_ends_with_the_incidents() {
    let out = stdout_ok(
        detector()
            .args(["scan", "--ephemeral", "--format", "table"])
            .arg(fixture()),
    );
    let at = out
        .find("Incidents (2;")
        .unwrap_or_else(|| panic!("no incidents section in {out}"));
    let section = &out[at..];
    assert!(section.contains("user/mallory"), "{section}");
    assert!(section.contains("root of"), "{section}");
    // The ranked findings come first.
    assert!(out[..at].contains("Privilege escalation"), "{out}");
}

#[test]
fn the_findings_table_ids_open_the_finding() {
    let (_dir, state) = scanned();
    let table = stdout_ok(
        detector()
            .args(["findings", "list", "--format", "table", "--state"])
            .arg(&state),
    );
    let first = table.lines().nth(1).unwrap();
    let id = first.split_whitespace().next().unwrap();
    assert_eq!(id.len(), 10, "{table}");
    let shown = stdout_ok(
        detector()
            .args(["findings", "show", id, "--state"])
            .arg(&state),
    );
    let v: Value = serde_json::from_str(&shown).unwrap();
    assert!(v["finding_info"]["uid"].as_str().unwrap().starts_with(id));
}
