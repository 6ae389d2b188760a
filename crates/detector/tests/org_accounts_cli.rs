//! Sharing inside the organization is not exfiltration: an account whose own logs are in the
//! input, or that the configuration lists, is recognised as the organization's.
#![allow(clippy::unwrap_used)]

mod common;

fn record(account: &str, id: &str, name: &str, params: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE:admin","arn":"arn:aws:sts::{account}:assumed-role/Admin/admin","accountId":"{account}","accessKeyId":"ASIAEXAMPLE"}},"eventTime":"2026-10-01T10:00:{id}Z","eventSource":"ec2.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.13.0","requestParameters":{params},"responseElements":null,"eventID":"e{id}","eventType":"AwsApiCall","readOnly":false,"recipientAccountId":"{account}"}}"#
    )
}

fn share_to(with: &str) -> String {
    format!(
        r#"{{"snapshotId":"snap-1","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{{"add":{{"items":[{{"userId":"{with}"}}]}}}}}}"#
    )
}

/// Scans the records; returns the resource-exposure finding's severity.
fn severity(records: &[String], config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("ct.json");
    common::write_records(&logs, records);
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, config).unwrap();
    let found = common::scan_jsonl(&logs, &cfg);
    let f = found
        .iter()
        .find(|v| v["detector"] == "resource-exposure")
        .unwrap_or_else(|| panic!("no resource-exposure finding in {found:#?}"));
    f["severity"].as_str().unwrap().to_string()
}

#[test]
fn shares_with_own_accounts_are_informational_outsiders_are_not() {
    let share = record(
        "111111111111",
        "01",
        "ModifySnapshotAttribute",
        &share_to("222222222222"),
    );
    let other_account_activity = record("222222222222", "02", "DescribeInstances", "{}");
    // Nothing says 222222222222 is ours: a share with another account.
    assert_eq!(severity(std::slice::from_ref(&share), ""), "Medium");
    // Its own logs are in the input: ours.
    assert_eq!(
        severity(&[share.clone(), other_account_activity], ""),
        "Informational"
    );
    // Listed in the configuration: ours.
    assert_eq!(
        severity(
            std::slice::from_ref(&share),
            "[organization]\naccounts = [\"222222222222\"]\n"
        ),
        "Informational"
    );
}
