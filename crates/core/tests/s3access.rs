//! S3 server access log parser: every field era, quoting, requesters with spaces, rejects, and
//! OCSF snapshots of the fixture corpus.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use detector_core::EventClass;
use detector_core::parse::s3access::{self, S3AccessRecord};
use detector_core::parse::{self, Batch, Format};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/s3access");
const OWNER: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

fn parse_named(name: &str, bytes: &[u8]) -> Batch {
    let mut b = Batch::default();
    s3access::parse(&Arc::from(name), bytes, &mut b);
    assert_eq!(b.records, (b.events.len() + b.rejects.len()) as u64);
    b
}

fn fixture(name: &str) -> Batch {
    let bytes = std::fs::read(format!("{DIR}/{name}")).unwrap();
    parse_named(&format!("fixtures/s3access/{name}"), &bytes)
}

fn rec(b: &Batch, i: usize) -> &S3AccessRecord {
    b.events[i].s3access().unwrap()
}

fn one(line: &str) -> Batch {
    parse_named("t.log", line.as_bytes())
}

#[test]
fn every_field_era_parses() {
    let b = fixture("eras.log");
    assert!(b.rejects.is_empty(), "{:?}", b.rejects);
    assert_eq!(b.events.len(), 6);

    // 18 fields (before 2017): ends with the version id.
    let r = rec(&b, 0);
    assert_eq!(
        r.requester.as_deref(),
        Some("arn:aws:iam::123456789012:user/phillip.boss")
    );
    assert_eq!(r.operation.as_deref(), Some("REST.GET.VERSIONING"));
    assert_eq!(r.request_uri.as_deref(), Some("GET /?versioning HTTP/1.1"));
    assert_eq!(r.http_status, Some(200));
    assert_eq!(r.bytes_sent, Some(162));
    assert_eq!(r.total_time_ms, Some(9));
    assert_eq!(r.turn_around_time_ms, None);
    assert_eq!(r.referer, None);
    assert!(
        r.user_agent
            .as_deref()
            .unwrap()
            .starts_with("aws-sdk-java/1.9.8 Linux")
    );
    assert_eq!(r.version_id, None);
    assert_eq!(r.host_id, None);

    // 22 fields: through the authentication type.
    let r = rec(&b, 1);
    assert_eq!(r.signature_version.as_deref(), Some("SigV2"));
    assert_eq!(
        r.cipher_suite.as_deref(),
        Some("ECDHE-RSA-AES128-GCM-SHA256")
    );
    assert_eq!(r.authentication_type.as_deref(), Some("AuthHeader"));
    assert_eq!(r.host_header, None);

    // 24 fields (2021 docs).
    let r = rec(&b, 2);
    assert_eq!(r.key.as_deref(), Some("s3-dg.pdf"));
    assert_eq!(r.bytes_sent, None);
    assert_eq!(r.object_size, Some(4_406_583));
    assert_eq!(r.total_time_ms, Some(41_754));
    assert_eq!(r.turn_around_time_ms, Some(28));
    assert_eq!(
        r.host_header.as_deref(),
        Some("awsexamplebucket1.s3.us-west-1.amazonaws.com")
    );
    assert_eq!(r.tls_version.as_deref(), Some("TLSV1.1"));
    assert_eq!(r.access_point_arn, None);

    // 25 fields: access point ARN; error code.
    let r = rec(&b, 3);
    assert_eq!(r.http_status, Some(404));
    assert_eq!(r.error_code.as_deref(), Some("NoSuchBucketPolicy"));
    assert_eq!(
        r.access_point_arn.as_deref(),
        Some("arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP")
    );
    assert_eq!(r.acl_required, None);

    // 26 fields (current docs).
    let r = rec(&b, 4);
    assert_eq!(r.bucket_owner.as_deref(), Some(OWNER));
    assert_eq!(r.bucket.as_deref(), Some("amzn-s3-demo-bucket1"));
    assert_eq!(r.remote_ip.as_deref(), Some("192.0.2.3"));
    assert_eq!(r.requester.as_deref(), Some(OWNER));
    assert_eq!(r.request_id.as_deref(), Some("3E57427F3EXAMPLE"));
    assert_eq!(r.acl_required.as_deref(), Some("Yes"));
    assert!(r.extra.is_empty());

    // Fields after the 26th are kept in order, `-` included.
    let r = rec(&b, 5);
    assert_eq!(r.acl_required, None);
    assert_eq!(
        r.extra,
        vec!["us-west-1".to_owned(), "future-field".to_owned()]
    );

    // Time from the bracket field, uid and 1-based line numbers.
    assert_eq!(b.events[1].time_ms, 1_549_411_238_000);
    assert_eq!(b.events[1].class, EventClass::ApiActivity);
    assert_eq!(b.events[1].index, 2);
    assert_eq!(b.events[1].uid, "fixtures/s3access/eras.log#2");
}

#[test]
fn quoted_fields_with_escaped_and_raw_quotes() {
    let b = fixture("quoting.log");
    assert!(b.rejects.is_empty(), "{:?}", b.rejects);

    // S3 writes the quote inside the request URI unescaped.
    let r = rec(&b, 0);
    assert_eq!(r.request_uri.as_deref(), Some(r#"GET /" HTTP/1.1"#));
    assert_eq!(r.http_status, Some(403));
    assert_eq!(r.error_code.as_deref(), Some("AccessDenied"));
    assert_eq!(r.referer.as_deref(), Some("referer test"));
    assert_eq!(r.user_agent.as_deref(), Some("curl/7.38.0"));
    assert_eq!(r.tls_version.as_deref(), Some("TLSv1.2"));

    // Shellshock probes in referrer and user agent, raw quotes included.
    let r = rec(&b, 1);
    assert_eq!(
        r.referer.as_deref(),
        Some(r#"() { :;}; echo; echo "vulnerable""#)
    );
    assert_eq!(
        r.user_agent.as_deref(),
        Some(r#"() { :;}; echo; echo "vulnerable""#)
    );
    assert_eq!(r.version_id, None);
    assert_eq!(
        r.host_header.as_deref(),
        Some("media-bucket.s3.ap-northeast-1.amazonaws.com")
    );
    assert_eq!(r.access_point_arn, None);

    // Backslash-escaped quotes are unescaped.
    let r = rec(&b, 2);
    assert_eq!(
        r.request_uri.as_deref(),
        Some(r#"GET /media-bucket/docs/a"b.txt?x="y" HTTP/1.1"#)
    );
    assert_eq!(
        r.referer.as_deref(),
        Some(r#"https://example.com/page?q="quoted""#)
    );
    assert_eq!(
        r.user_agent.as_deref(),
        Some(r#"Mozilla/5.0 (compatible; "bot" 1.0)"#)
    );
    assert_eq!(r.tls_version.as_deref(), Some("TLSv1.3"));

    // A space inside the request URI.
    let r = rec(&b, 3);
    assert_eq!(
        r.request_uri.as_deref(),
        Some("GET /media-bucket/a b.txt HTTP/1.1")
    );
    assert_eq!(r.bytes_sent, Some(3));
}

#[test]
fn requesters_with_spaces_and_anonymous() {
    let b = fixture("requesters.log");
    assert!(b.rejects.is_empty(), "{:?}", b.rejects);
    let r = rec(&b, 0);
    assert_eq!(
        r.requester.as_deref(),
        Some("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2EXAMPLEID1")
    );
    assert_eq!(r.request_id.as_deref(), Some("5B4A3C2D1E0F9A8B"));
    assert_eq!(r.operation.as_deref(), Some("REST.GET.OBJECT"));
    assert_eq!(r.key.as_deref(), Some("index.html"));
    assert_eq!(r.user_agent.as_deref(), Some("Amazon CloudFront"));

    assert_eq!(
        rec(&b, 1).requester.as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/DeployRole/ci-run-4411")
    );
    let r = rec(&b, 2);
    assert_eq!(r.requester, None);
    assert_eq!(r.operation.as_deref(), Some("WEBSITE.GET.OBJECT"));
    assert_eq!(
        r.referer.as_deref(),
        Some("https://static-site.example.com/")
    );
    assert_eq!(rec(&b, 3).requester, None);
}

#[test]
fn extra_spaces_in_a_requester_are_kept_verbatim() {
    let line = format!(
        "{OWNER} b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::cloudfront:user/CloudFront  Origin Access Identity E1 \
         3E57427F3EXAMPLE REST.GET.OBJECT k \"GET /b/k HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"ua\" -"
    );
    let b = one(&line);
    assert_eq!(
        rec(&b, 0).requester.as_deref(),
        Some("arn:aws:iam::cloudfront:user/CloudFront  Origin Access Identity E1")
    );
}

#[test]
fn lifecycle_and_batch_delete_lines() {
    let b = fixture("lifecycle-batch.log");
    assert!(b.rejects.is_empty(), "{:?}", b.rejects);
    let r = rec(&b, 0);
    assert_eq!(r.remote_ip, None);
    assert_eq!(r.requester.as_deref(), Some("AmazonS3"));
    assert_eq!(r.operation.as_deref(), Some("S3.TRANSITION_SIA.OBJECT"));
    assert_eq!(r.request_uri, None);
    assert_eq!(r.object_size, Some(1_048_576));
    let r = rec(&b, 1);
    assert_eq!(r.operation.as_deref(), Some("S3.EXPIRE.OBJECT"));
    assert_eq!(r.request_uri, None);
    assert_eq!(r.user_agent, None);
    let r = rec(&b, 3);
    assert_eq!(r.operation.as_deref(), Some("BATCH.DELETE.OBJECT"));
    assert_eq!(r.http_status, Some(204));
    assert_eq!(r.key.as_deref(), Some("old/a.txt"));
}

#[test]
fn rejects_name_what_is_wrong() {
    let good = format!(
        "{OWNER} b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT k \"GET /b/k HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"ua\" -"
    );
    assert_eq!(one(&good).events.len(), 1);

    let short = good.strip_suffix(" -").unwrap();
    let b = one(short);
    assert_eq!(
        b.rejects[0].reason,
        "line has 17 fields, expected at least 18"
    );
    let b = one(&format!("{OWNER} b [06/Feb/2019:00:00:38 +0000] 192.0.2.3"));
    assert_eq!(
        b.rejects[0].reason,
        "line has 4 fields, expected at least 18"
    );
    let b = one(OWNER);
    assert_eq!(
        b.rejects[0].reason,
        "line has 1 fields, expected at least 18"
    );

    let b = one(&good.replace("06/Feb/2019", "31/Feb/2019x"));
    assert!(
        b.rejects[0].reason.starts_with("time (field 3)"),
        "{}",
        b.rejects[0].reason
    );
    let b = one(&good.replace("[06/Feb/2019:00:00:38 +0000]", "06/Feb/2019:00:00:38"));
    assert!(
        b.rejects[0].reason.starts_with("time (field 3)"),
        "{}",
        b.rejects[0].reason
    );

    let b = one(&good.replace("\" 200 ", "\" 2x0 "));
    assert_eq!(
        b.rejects[0].reason,
        "HTTP status (field 10) `2x0` is not a number"
    );
    let b = one(&good.replace("\" 200 ", "\" 99999 "));
    assert_eq!(
        b.rejects[0].reason,
        "HTTP status (field 10) `99999` is out of range"
    );
    let b = one(&good.replace(" 1 1 1 1 ", " 1 big 1 1 "));
    assert_eq!(
        b.rejects[0].reason,
        "object size (field 13) `big` is not a number"
    );

    let b = one(&format!(
        "{OWNER} b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT k \"GET /b/k HTTP/1.1"
    ));
    assert_eq!(
        b.rejects[0].reason,
        "request URI (field 9) has no closing quote"
    );
    assert_eq!(b.rejects[0].index, 1);
}

#[test]
fn line_handling_blank_crlf_long_and_invalid_utf8() {
    let good = format!(
        "{OWNER} b [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT k \"GET /b/k HTTP/1.1\" 200 - 1 1 1 1 \"-\" \"ua\" -"
    );
    let mut input = Vec::new();
    input.extend_from_slice(good.as_bytes());
    input.extend_from_slice(b"\r\n\r\n   \n");
    // A user agent with a byte that is not UTF-8 still yields the request.
    input.extend_from_slice(good.as_bytes());
    input.pop();
    input.extend_from_slice(b"v\xff\n");
    let long = format!("{good} {}", "x".repeat(s3access::MAX_LINE));
    input.extend_from_slice(long.as_bytes());
    let b = parse_named("t.log", &input);
    assert_eq!(b.records, 3);
    assert_eq!(b.events.len(), 2, "{:?}", b.rejects);
    assert_eq!(b.events[0].index, 1);
    assert_eq!(rec(&b, 0).version_id, None);
    assert_eq!(b.events[1].index, 4);
    assert_eq!(rec(&b, 1).version_id.as_deref(), Some("v\u{fffd}"));
    assert_eq!(b.rejects[0].index, 5);
    assert!(b.rejects[0].reason.contains("longer than 65536"));
    assert!(b.rejects[0].raw.len() <= detector_core::Reject::RAW_CAP);
}

#[test]
fn detection() {
    let line = std::fs::read(format!("{DIR}/eras.log")).unwrap();
    assert!(s3access::looks_like(
        &line[..line.iter().position(|&c| c == b'\n').unwrap()]
    ));
    assert_eq!(parse::detect("access.log", &line), Some(Format::S3Access));
    assert!(!s3access::looks_like(
        b"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
    ));
    assert!(!s3access::looks_like(
        br#"{"Records":[{"eventTime":"2024-01-01T00:00:00Z"}]}"#
    ));
    assert!(!s3access::looks_like(b"version account-id interface-id"));
}

#[test]
fn ocsf_snapshots() {
    for name in [
        "eras.log",
        "quoting.log",
        "requesters.log",
        "lifecycle-batch.log",
    ] {
        let b = fixture(name);
        assert!(b.rejects.is_empty(), "{name}: {:?}", b.rejects);
        let all: Vec<serde_json::Value> = b.events.iter().map(|e| e.to_ocsf()).collect();
        for o in &all {
            assert_eq!(o["class_uid"], 6003);
            assert_eq!(o["metadata"]["version"], "1.6.0");
            assert_eq!(
                o["type_uid"].as_u64().unwrap(),
                600_300 + o["activity_id"].as_u64().unwrap()
            );
        }
        insta::assert_json_snapshot!(format!("s3access_ocsf__{name}"), all);
    }
}
