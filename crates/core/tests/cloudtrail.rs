//! CloudTrail parser against the fixture corpus in `tests/fixtures/cloudtrail/`: every delivery
//! shape, records written after the AWS documentation's samples, and broken input.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use detector_core::parse::{Batch, cloudtrail};
use detector_core::{Event, EventClass};
use serde_json::{Value, json};

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloudtrail")
        .join(name)
}

fn parse_bytes(source: &str, bytes: &[u8]) -> Batch {
    let mut out = Batch::default();
    cloudtrail::parse(&Arc::from(source), bytes, &mut out);
    assert_eq!(
        out.records as usize,
        out.events.len() + out.rejects.len(),
        "{source}: every record is an event or a reject"
    );
    out
}

fn parse_fixture(name: &str) -> Batch {
    parse_bytes(name, &std::fs::read(fixture_path(name)).unwrap())
}

fn uids(b: &Batch) -> Vec<&str> {
    b.events.iter().map(|e| e.uid.as_str()).collect()
}

fn indexes(b: &Batch) -> Vec<u64> {
    b.events.iter().map(|e| e.index).collect()
}

fn reasons(b: &Batch) -> Vec<(u64, &str)> {
    b.rejects
        .iter()
        .map(|r| (r.index, r.reason.as_str()))
        .collect()
}

fn ocsf(e: &Event) -> Value {
    e.to_ocsf()
}

#[test]
fn trail_file_reads_every_documented_shape() {
    let b = parse_fixture("trail.json");
    assert_eq!(b.events.len(), 10);
    assert!(b.rejects.is_empty());
    assert_eq!(indexes(&b), (0..10).collect::<Vec<_>>());
    let classes: Vec<EventClass> = b.events.iter().map(|e| e.class).collect();
    use EventClass::*;
    assert_eq!(
        classes,
        [
            Authentication, // ConsoleLogin
            Authentication, // failed ConsoleLogin
            Authentication, // AssumeRole
            ApiActivity,    // S3 GetObject data event
            ApiActivity,    // ListUsers, AccessDenied
            AccountChange,  // CreateUser
            AccountChange,  // AttachUserPolicy
            ApiActivity,    // KMS RotateKey service event
            ApiActivity,    // Insights
            ApiActivity,    // eventVersion 1.0 StartInstances
        ]
    );
    // The eventVersion 1.0 record has no eventID: its uid is the source and its index.
    assert_eq!(b.events[9].uid, "trail.json#9");
    assert_eq!(b.events[0].uid, "0f6b1c2a-1111-4a4a-9b9b-000000000001");
    assert_eq!(b.events[0].time_ms, 1_715_677_201_000);
}

#[test]
fn typed_fields_are_filled() {
    let b = parse_fixture("trail.json");
    let r = b.events[3].cloudtrail().unwrap();
    assert_eq!(r.event_name, "GetObject");
    assert_eq!(r.event_source, "s3.amazonaws.com");
    assert_eq!(r.event_category.as_deref(), Some("Data"));
    assert_eq!(r.read_only, Some(true));
    assert_eq!(r.management_event, Some(false));
    assert_eq!(r.resources.len(), 2);
    let ui = &r.user_identity;
    assert_eq!(ui.identity_type.as_deref(), Some("AssumedRole"));
    let ctx = ui.session_context.as_ref().unwrap();
    assert_eq!(
        ctx.session_issuer.as_ref().unwrap().arn.as_deref(),
        Some("arn:aws:iam::444455556666:role/Deployer")
    );
    assert_eq!(
        ctx.attributes.as_ref().unwrap().mfa_authenticated,
        Some(false)
    );
    let params: Value = serde_json::from_str(r.request_parameters.as_ref().unwrap().get()).unwrap();
    assert_eq!(params["key"], "builds/app-1.4.2.tar.gz");

    let create = b.events[5].cloudtrail().unwrap();
    assert_eq!(create.session_credential_from_console, Some(true));
    let denied = b.events[4].cloudtrail().unwrap();
    assert_eq!(denied.error_code.as_deref(), Some("AccessDenied"));
}

#[test]
fn organization_trail_keeps_member_accounts() {
    let b = parse_fixture("org_trail.json");
    assert_eq!(b.events.len(), 3);
    for e in &b.events {
        let r = e.cloudtrail().unwrap();
        assert_eq!(r.recipient_account_id.as_deref(), Some("777788889999"));
        assert_eq!(ocsf(e)["cloud"]["account"]["uid"], "777788889999");
    }
}

#[test]
fn json_lines_index_by_line_number() {
    let b = parse_fixture("lines.jsonl");
    assert_eq!(b.events.len(), 4);
    // Line 4 is blank: not a record.
    assert_eq!(indexes(&b), [1, 2, 3, 5]);
    assert!(b.rejects.is_empty());
}

#[test]
fn eventbridge_single_event() {
    let b = parse_fixture("eventbridge.json");
    assert_eq!(uids(&b), ["0f6b1c2a-1111-4a4a-9b9b-000000000006"]);
    assert_eq!(b.events[0].index, 0);
    assert_eq!(b.events[0].class, EventClass::AccountChange);
}

#[test]
fn eventbridge_lines_reject_other_detail_types() {
    let b = parse_fixture("eventbridge_lines.jsonl");
    assert_eq!(indexes(&b), [1, 2, 4]);
    assert_eq!(
        reasons(&b),
        [(
            3,
            "EventBridge event of detail-type `EC2 Instance State-change Notification` is not a \
             CloudTrail record"
        )]
    );
}

#[test]
fn eventbridge_array_includes_insights() {
    let b = parse_fixture("eventbridge_array.json");
    assert_eq!(indexes(&b), [0, 1]);
    assert!(b.events[1].cloudtrail().unwrap().is_insight());
}

#[test]
fn cloudwatch_logs_data_message() {
    let b = parse_fixture("cwl_data.json");
    assert_eq!(indexes(&b), [0, 1, 3]);
    assert_eq!(b.rejects.len(), 1);
    assert_eq!(b.rejects[0].index, 2);
    assert!(
        b.rejects[0]
            .reason
            .contains("neither a JSON CloudTrail record")
    );
    assert!(
        b.rejects[0].raw.contains("this is not a CloudTrail record"),
        "the reject quotes the log event"
    );
}

#[test]
fn cloudwatch_logs_flow_log_messages_go_to_the_flow_parser() {
    let b = parse_fixture("cwl_flow.json");
    assert!(b.rejects.is_empty(), "{:?}", b.rejects);
    assert_eq!(indexes(&b), [0, 1]);
    assert_eq!(uids(&b), ["cwl_flow.json#0", "cwl_flow.json#1"]);
    for e in &b.events {
        assert_eq!(e.class, EventClass::NetworkActivity);
        assert!(e.flow().is_some());
    }
}

#[test]
fn cloudwatch_logs_control_message_yields_nothing() {
    let b = parse_fixture("cwl_control.json");
    assert_eq!(b.records, 0);
    assert_eq!(b.digests, 0);
}

#[test]
fn firehose_concatenated_payloads_number_on() {
    let one = std::fs::read_to_string(fixture_path("cwl_data.json")).unwrap();
    let control = std::fs::read_to_string(fixture_path("cwl_control.json")).unwrap();
    let body = format!("{}{}{}", one.trim(), control.trim(), one.trim());
    let b = parse_bytes("firehose", body.as_bytes());
    assert_eq!(indexes(&b), [0, 1, 3, 4, 5, 7]);
    assert_eq!(
        b.rejects.iter().map(|r| r.index).collect::<Vec<_>>(),
        [2, 6]
    );
}

#[test]
fn concatenated_trail_files_one_per_line() {
    let org = std::fs::read_to_string(fixture_path("org_trail.json")).unwrap();
    let body = format!("{org}{org}");
    let b = parse_bytes("cat", body.as_bytes());
    assert_eq!(indexes(&b), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn insights_records_are_events() {
    let b = parse_fixture("insights.json");
    assert_eq!(b.events.len(), 2);
    let o = ocsf(&b.events[0]);
    assert_eq!(o["class_uid"], 6003);
    assert_eq!(o["activity_id"], 99);
    assert_eq!(o["api"]["operation"], "ListAttachedUserPolicies");
    assert_eq!(o["api"]["service"]["name"], "iam.amazonaws.com");
    assert_eq!(o["metadata"]["event_code"], "AwsCloudTrailInsight");
    assert_eq!(
        o["metadata"]["correlation_uid"],
        "5d2c4e6a-3333-4c4c-8d8d-00000000000a"
    );
    assert!(o.get("status_id").is_none(), "an Insight has no outcome");
}

#[test]
fn missing_event_id_uses_source_and_index() {
    let b = parse_fixture("missing_event_id.json");
    assert_eq!(
        uids(&b),
        ["missing_event_id.json#0", "missing_event_id.json#1"]
    );
}

#[test]
fn bad_records_are_rejected_one_by_one() {
    let b = parse_fixture("mixed_bad.json");
    assert_eq!(indexes(&b), [0, 3, 9]);
    assert_eq!(
        reasons(&b),
        [
            (1, "missing eventTime"),
            (2, "invalid eventTime `14/05/2024 09:20`"),
            (4, "missing eventName"),
            (5, "missing eventSource"),
            (
                6,
                "field `userAgent`: invalid type: integer `17`, expected a string"
            ),
            (7, "record is a JSON string, not an object"),
            (8, "record is a JSON null, not an object"),
        ]
    );
    assert!(
        b.rejects[0].raw.contains("bad-no-time"),
        "the reject keeps the raw record"
    );
}

#[test]
fn truncated_file_keeps_records_before_the_break() {
    let b = parse_fixture("truncated.json");
    assert_eq!(indexes(&b), [0, 1, 2]);
    assert_eq!(b.rejects.len(), 1);
    let r = &b.rejects[0];
    assert_eq!(r.index, 3);
    assert!(
        r.reason
            .starts_with("truncated JSON after record 2: EOF while parsing"),
        "{}",
        r.reason
    );
    assert!(
        r.raw.starts_with(",{\"eventVersion\":\"1.09\""),
        "{}",
        r.raw
    );
}

#[test]
fn invalid_utf8_inside_a_record_costs_that_record_only() {
    let good = std::fs::read_to_string(fixture_path("lines.jsonl")).unwrap();
    let mut body = good.lines().next().unwrap().as_bytes().to_vec();
    body.push(b'\n');
    let mut bad = good.lines().nth(1).unwrap().as_bytes().to_vec();
    let at = bad.windows(7).position(|w| w == b"aws-cli").unwrap();
    bad[at] = 0xFF;
    body.extend_from_slice(&bad);
    body.push(b'\n');
    body.extend_from_slice(good.lines().nth(2).unwrap().as_bytes());
    let b = parse_bytes("utf8", &body);
    assert_eq!(indexes(&b), [1, 3]);
    assert_eq!(b.rejects[0].index, 2);
    assert!(
        b.rejects[0].reason.starts_with("line is not UTF-8 text"),
        "{}",
        b.rejects[0].reason
    );
}

#[test]
fn whole_body_failures_are_one_reject() {
    let cases = [
        ("not_json.txt", "not JSON: "),
        (
            "invalid_utf8.json",
            "not UTF-8 text (invalid byte at offset 0)",
        ),
        (
            "unknown_shape.json",
            "unknown JSON shape: an object with keys `foo`, `bar`",
        ),
        ("number.json", "unknown JSON shape: a number"),
    ];
    for (name, expected) in cases {
        let b = parse_fixture(name);
        assert!(b.events.is_empty(), "{name}");
        assert_eq!(b.rejects.len(), 1, "{name}");
        assert_eq!(b.rejects[0].index, 0, "{name}");
        assert!(
            b.rejects[0].reason.starts_with(expected),
            "{name}: {}",
            b.rejects[0].reason
        );
    }
}

#[test]
fn empty_inputs_hold_no_records() {
    for body in [
        "",
        "  \n\n",
        "{\"Records\":[]}",
        "[]",
        "\u{feff}{\"Records\": []}\n",
    ] {
        let b = parse_bytes("empty", body.as_bytes());
        assert_eq!(b.records, 0, "{body:?}");
    }
}

#[test]
fn digest_body_is_counted_not_parsed() {
    let b = parse_fixture("digest.json");
    assert_eq!(b.records, 0);
    assert_eq!(b.digests, 1);
}

#[test]
fn bare_record_is_one_event() {
    let b = parse_fixture("bare_record.json");
    assert_eq!(uids(&b), ["0f6b1c2a-1111-4a4a-9b9b-000000000007"]);
    assert_eq!(b.events[0].index, 0);
}

#[test]
fn oversized_record_is_rejected() {
    let padding = "x".repeat(cloudtrail::MAX_RECORD_BYTES);
    let body = format!(
        r#"{{"Records":[{{"eventTime":"2024-01-01T00:00:00Z","eventName":"A","eventSource":"b","requestParameters":{{"p":"{padding}"}}}},{{"eventTime":"2024-01-01T00:00:00Z","eventName":"A","eventSource":"b"}}]}}"#
    );
    let b = parse_bytes("big", body.as_bytes());
    assert_eq!(indexes(&b), [1]);
    assert!(b.rejects[0].reason.contains("over the 1048576 byte cap"));
    assert_eq!(b.rejects[0].raw.len(), detector_core::Reject::RAW_CAP);
}

#[test]
fn every_event_version_reads() {
    for version in [
        "1.0", "1.02", "1.05", "1.08", "1.09", "1.10", "1.11", "1.12",
    ] {
        let body = format!(
            r#"{{"eventVersion":"{version}","eventTime":"2024-01-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeRegions","someFutureField":{{"x":[1,2]}}}}"#
        );
        assert_eq!(
            parse_bytes("v", body.as_bytes()).events.len(),
            1,
            "{version}"
        );
    }
}

#[test]
fn ocsf_api_activity_failure() {
    let b = parse_fixture("trail.json");
    let o = ocsf(&b.events[4]);
    assert_eq!(o["class_uid"], 6003);
    assert_eq!(o["activity_id"], 2);
    assert_eq!(o["type_uid"], 600302);
    assert_eq!(o["status_id"], 2);
    assert_eq!(o["status"], "Failure");
    assert_eq!(o["status_code"], "AccessDenied");
    assert_eq!(o["api"]["response"]["error"], "AccessDenied");
    assert_eq!(
        o["actor"]["user"]["uid"],
        "arn:aws:sts::444455556666:assumed-role/ReadOnly/audit"
    );
    assert_eq!(o["actor"]["user"]["uid_alt"], "AROAEXAMPLEROLEREAD:audit");
    assert_eq!(
        o["actor"]["session"]["issuer"],
        "arn:aws:iam::444455556666:role/ReadOnly"
    );
    assert_eq!(o["actor"]["session"]["created_time"], 1_715_676_902_000_i64);
    assert_eq!(o["src_endpoint"]["ip"], "198.51.100.200");
    assert_eq!(o["metadata"]["version"], "1.6.0");
    assert_eq!(
        o["unmapped"]["origin"],
        json!({"source": "trail.json", "index": 4})
    );
}

#[test]
fn ocsf_authentication() {
    let b = parse_fixture("trail.json");
    let ok = ocsf(&b.events[0]);
    assert_eq!(
        (ok["class_uid"].clone(), ok["activity_id"].clone()),
        (json!(3002), json!(1))
    );
    assert_eq!(ok["status_id"], 1);
    assert_eq!(ok["is_mfa"], true);
    assert_eq!(ok["user"]["name"], "maria");
    let failed = ocsf(&b.events[1]);
    assert_eq!(failed["status"], "Failure");
    assert_eq!(
        failed["status_detail"],
        "No username found in supplied account"
    );
    assert_eq!(failed["is_mfa"], false);
    let assume = ocsf(&b.events[2]);
    assert_eq!(assume["user"]["name"], "release-2024-05-14");
    assert_eq!(
        assume["user"]["uid"],
        "arn:aws:sts::444455556666:assumed-role/Deployer/release-2024-05-14"
    );
}

#[test]
fn ocsf_account_change() {
    let b = parse_fixture("trail.json");
    let create = ocsf(&b.events[5]);
    assert_eq!(create["class_uid"], 3001);
    assert_eq!(create["activity_name"], "Create");
    assert_eq!(create["user"]["name"], "svc-backup");
    assert_eq!(
        create["user"]["uid"],
        "arn:aws:iam::444455556666:user/svc-backup"
    );
    assert_eq!(create["actor"]["session"]["is_mfa"], true);
    // "AWS Internal" is no address and no domain.
    assert_eq!(create["src_endpoint"]["ip"], "198.51.100.23");
    let attach = ocsf(&b.events[6]);
    assert_eq!(attach["activity_id"], 7);
    assert_eq!(
        attach["policy"]["uid"],
        "arn:aws:iam::aws:policy/AdministratorAccess"
    );
}

#[test]
fn ocsf_service_caller_is_a_domain() {
    let b = parse_fixture("trail.json");
    let o = ocsf(&b.events[7]);
    assert_eq!(o["src_endpoint"]["domain"], "kms.amazonaws.com");
    assert_eq!(o["actor"]["invoked_by"], "kms.amazonaws.com");
    assert!(o["src_endpoint"].get("ip").is_none());
}

/// Flow records handed to the flow parser are that parser's to describe: only their place here.
fn snapshot_event(e: &Event) -> Value {
    match e.cloudtrail() {
        Some(_) => e.to_ocsf(),
        None => json!({"kind": e.kind().as_str(), "index": e.index, "uid": e.uid}),
    }
}

/// The OCSF form of every event and the reason of every reject, for the whole corpus.
#[test]
fn ocsf_snapshots() {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in names {
        let b = parse_fixture(&name);
        let value = json!({
            "records": b.records,
            "digests": b.digests,
            "events": b.events.iter().map(snapshot_event).collect::<Vec<_>>(),
            "rejects": b.rejects.iter().map(|r| json!({"index": r.index, "reason": r.reason})).collect::<Vec<_>>(),
        });
        let snapshot = format!("cloudtrail_{}", name.replace('.', "_"));
        insta::assert_json_snapshot!(snapshot, value);
    }
}
