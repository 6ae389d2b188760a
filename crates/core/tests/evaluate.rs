//! Scoring hand-made findings against a hand-made truth: detected by record and by indicator,
//! missed, false alerts, malformed lines, benign look-alikes flagged, thresholds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use detector_core::evaluate::{Options, Thresholds, evaluate, parse_findings, parse_truth};
use proptest::prelude::Just;

const T0: i64 = 1_791_590_400_000; // 2026-10-10T00:00:00Z

fn truth() -> String {
    let lines = [
        serde_json::json!({
            "name": "leaked-access-key", "label": "malicious", "attack_ids": ["T1078.004"], "tactics": ["initial-access"],
            "start": "", "end": "", "start_ms": T0, "end_ms": T0 + 600_000,
            "record_uids": ["ev-1", "ev-2"],
            "indicators": {"ips": ["185.220.101.7"], "principals": ["arn:aws:iam::111122223333:user/svc"], "access_keys": ["AKIAEXAMPLE"], "resources": [], "accounts": []}
        }),
        serde_json::json!({
            "name": "flow-port-scan", "label": "malicious", "start": "", "end": "", "start_ms": T0 + 3_600_000, "end_ms": T0 + 3_900_000,
            "record_uids": ["AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/10/10/f.log.gz#12"],
            "indicators": {"ips": ["45.137.21.9"]}
        }),
        serde_json::json!({
            "name": "impact-kms-destruction", "label": "malicious", "start": "", "end": "", "start_ms": T0 + 7_200_000, "end_ms": T0 + 7_300_000,
            "record_uids": ["ev-9"], "indicators": {"ips": ["5.188.206.1"]}
        }),
        serde_json::json!({
            "name": "benign-traveller", "label": "benign", "start": "", "end": "", "start_ms": T0 + 10_000_000, "end_ms": T0 + 10_100_000,
            "record_uids": ["ev-20"], "indicators": {"ips": ["126.72.1.1"]}
        }),
        serde_json::json!({
            "name": "benign-scanner-sweep", "label": "benign", "start": "", "end": "", "start_ms": T0, "end_ms": T0 + 1000,
            "record_uids": ["ev-30"], "indicators": {}
        }),
    ];
    lines.iter().map(|l| l.to_string() + "\n").collect()
}

fn finding(uid: &str, time: i64, sev: u8, related: &[&str], observables: &[&str]) -> String {
    serde_json::json!({
        "class_uid": 2004, "time": time, "severity_id": sev, "risk_score": 50,
        "finding_info": {
            "uid": uid, "title": format!("title {uid}"), "first_seen_time": time - 60_000, "last_seen_time": time,
            "related_events": related.iter().map(|u| serde_json::json!({"uid": u})).collect::<Vec<_>>()
        },
        "observables": observables.iter().map(|v| serde_json::json!({"name": "x", "type_id": 2, "value": v})).collect::<Vec<_>>()
    })
    .to_string()
}

#[test]
fn detected_missed_false_alert_malformed_benign() {
    let truth = parse_truth(&truth()).unwrap();
    let findings = [
        // Detected by CloudTrail event id.
        finding("f1", T0 + 120_000, 4, &["ev-2"], &[]),
        // The same finding updated: one alert, highest severity kept.
        finding("f1", T0 + 180_000, 5, &["ev-1"], &[]),
        // Detected by a flow line uid reported with the user's path in front.
        finding(
            "f2",
            T0 + 3_700_000,
            3,
            &["/data/corpus/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/10/10/f.log.gz#12"],
            &[],
        ),
        // Right address, wrong day: not the port scan -> false alert.
        finding("f3", T0 + 86_400_000, 2, &[], &["45.137.21.9"]),
        // A false alert about something else.
        finding("f4", T0 + 50_000, 2, &["ev-unknown"], &["10.0.0.1"]),
        // Flags the traveller (benign) by indicator within the time span.
        finding("f5", T0 + 10_050_000, 3, &[], &["126.72.1.1"]),
        "{not json".to_string(),
        r#"{"class_uid":2004}"#.to_string(),
        "".to_string(),
    ];
    let text = findings.join("\n");
    let (fs, bad) = parse_findings(&text);
    assert_eq!(fs.len(), 5);
    assert_eq!(bad.iter().map(|m| m.line).collect::<Vec<_>>(), vec![7, 8]);
    assert!(bad[1].reason.contains("finding_info"));
    let r = evaluate(
        &truth,
        &fs,
        bad,
        Options {
            background_events: Some(200_000),
            ..Options::default()
        },
    );
    let by = |n: &str| r.scenarios.iter().find(|s| s.name == n).unwrap();
    let leaked = by("leaked-access-key");
    assert!(leaked.detected);
    assert_eq!(leaked.findings, 1);
    assert_eq!(leaked.matched_by, Some("record"));
    assert_eq!(leaked.top_severity, Some(5));
    assert_eq!(leaked.first_finding_ms, Some(T0 + 120_000));
    assert_eq!(leaked.time_to_detect_ms, Some(120_000));
    assert!(by("flow-port-scan").detected);
    assert!(!by("impact-kms-destruction").detected);
    assert!(by("benign-traveller").detected);
    assert_eq!(by("benign-traveller").matched_by, Some("indicator"));
    assert!(!by("benign-scanner-sweep").detected);
    assert_eq!((r.malicious_detected, r.malicious_total), (2, 3));
    assert!((r.recall - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!((r.benign_flagged, r.benign_total), (1, 2));
    assert_eq!(r.findings_total, 5);
    assert_eq!(r.findings_matching_malicious, 2);
    assert_eq!(r.false_alerts, 3);
    assert_eq!(r.false_alerts_per_100k, Some(1.5));
    assert_eq!(r.precision, Some(0.4));
    assert_eq!(r.malformed_lines, 2);
    assert_eq!(
        r.summary_line(),
        "recall 66.7% (2/3) precision 40.0% false-alerts/100k 1.5 benign-flagged 1/2"
    );
    let table = r.table();
    assert!(table.lines().last().unwrap().starts_with("recall 66.7%"));
    assert!(table.contains("MISSED") && table.contains("FLAGGED") && table.contains("line 7"));
}

#[test]
fn indicator_matches_need_time_overlap_within_slack() {
    let truth = parse_truth(&truth()).unwrap();
    // 10 minutes after the end of the port scan: inside the default 15-minute slack.
    let near = finding(
        "n",
        T0 + 3_900_000 + 600_000 + 60_000,
        3,
        &[],
        &["45.137.21.9"],
    );
    let (fs, _) = parse_findings(&near);
    let r = evaluate(&truth, &fs, Vec::new(), Options::default());
    assert!(
        r.scenarios
            .iter()
            .any(|s| s.name == "flow-port-scan" && s.detected)
    );
    let r = evaluate(
        &truth,
        &fs,
        Vec::new(),
        Options {
            slack_ms: 0,
            ..Options::default()
        },
    );
    assert!(
        !r.scenarios
            .iter()
            .any(|s| s.name == "flow-port-scan" && s.detected)
    );
    // A finding without any time cannot match by indicator.
    let timeless = r#"{"finding_info":{"uid":"t"},"observables":[{"value":"45.137.21.9"}]}"#;
    let (fs, bad) = parse_findings(timeless);
    assert!(bad.is_empty());
    let r = evaluate(&truth, &fs, Vec::new(), Options::default());
    assert_eq!(r.malicious_detected, 0);
    assert_eq!(r.false_alerts_per_100k, None);
    assert_eq!(r.precision, Some(0.0));
}

#[test]
fn thresholds_report_what_is_missed() {
    let truth = parse_truth(&truth()).unwrap();
    let (fs, _) = parse_findings(&finding("a", T0 + 1000, 4, &["ev-1"], &[]));
    let r = evaluate(
        &truth,
        &fs,
        Vec::new(),
        Options {
            background_events: Some(1_000_000),
            ..Options::default()
        },
    );
    assert!(r.violations(&Thresholds::default()).is_empty());
    let strict = Thresholds {
        min_recall_pct: Some(90.0),
        max_false_per_100k: Some(0.0),
        max_benign_flagged: Some(0),
        max_benign_severity: None,
    };
    let v = r.violations(&strict);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].contains("recall 33.3%"));
    let loose = Thresholds {
        min_recall_pct: Some(33.0),
        ..strict
    };
    assert!(r.violations(&loose).is_empty());
    // Without a background count the per-100k gate cannot pass.
    let r = evaluate(&truth, &fs, Vec::new(), Options::default());
    assert_eq!(
        r.violations(&Thresholds {
            max_false_per_100k: Some(5.0),
            ..Thresholds::default()
        })
        .len(),
        1
    );
}

#[test]
fn no_findings_and_bad_truth() {
    let truth = parse_truth(&truth()).unwrap();
    let r = evaluate(&truth, &[], Vec::new(), Options::default());
    assert_eq!(
        (r.malicious_detected, r.findings_total, r.precision),
        (0, 0, None)
    );
    assert_eq!(r.recall, 0.0);
    let bad = parse_truth("{\"name\":\"x\"}\n").unwrap_err();
    assert_eq!(bad.line, 1);
    let (fs, bad) =
        parse_findings("[1,2]\n{\"finding_info\":{\"uid\":\"u\",\"related_events\":5}}\n");
    assert!(fs.is_empty());
    assert_eq!(bad.len(), 2);
    assert!(
        bad[0].reason.contains("not a JSON object") && bad[1].reason.contains("related_events")
    );
}

proptest::proptest! {
    /// Any text is either findings, malformed lines or blank lines, and scoring never panics,
    /// even against extreme times.
    #[test]
    fn arbitrary_findings_never_panic(lines in proptest::collection::vec(
        proptest::prop_oneof![
            ".{0,40}",
            Just(r#"{"finding_info":{"uid":"a","related_events":[{"uid":"ev-1"}]},"time":9223372036854775807}"#.to_string()),
            Just(r#"{"finding_info":{"uid":"b"},"observables":[{"value":"185.220.101.7"}],"time":-9223372036854775808}"#.to_string()),
            Just(r#"{"finding_info":{"uid":1,"first_seen_time":"2026-10-10T00:00:00Z"},"severity_id":-4,"observables":[{"value":7}]}"#.to_string()),
        ],
        0..20,
    )) {
        let text = lines.join("\n");
        let (fs, bad) = parse_findings(&text);
        let blank = text.lines().filter(|l| l.trim().is_empty()).count();
        let distinct: std::collections::BTreeSet<_> = fs.iter().map(|f| f.uid.clone()).collect();
        proptest::prop_assert_eq!(distinct.len(), fs.len());
        proptest::prop_assert!(fs.len() + bad.len() + blank <= text.lines().count());
        let mut truth = parse_truth(&truth()).unwrap();
        truth[0].end_ms = i64::MAX;
        truth[1].start_ms = i64::MIN;
        let r = evaluate(&truth, &fs, bad, Options { background_events: Some(1), ..Options::default() });
        proptest::prop_assert!(r.findings_matching_malicious <= r.findings_total);
        let _ = r.table();
    }
}
