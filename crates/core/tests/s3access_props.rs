//! Property tests: the S3 access log parser never panics, accounts for every record, and reads
//! back every field of a well-formed line, whatever its era, requester or quoted content.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use detector_core::parse::Batch;
use detector_core::parse::s3access;
use proptest::prelude::*;

mod common;

const SAMPLE: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - \"GET /amzn-s3-demo-bucket1?versioning HTTP/1.1\" 200 - 113 - 7 - \"-\" \"S3Console/0.4\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP Yes\n\
79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be b [20/Jun/2019:03:51:36 +0000] 1.2.3.4 arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2EX 63DAF67A2BC0B6C3 REST.GET.OBJECT %2522 \"GET /\" HTTP/1.1\" 403 AccessDenied 243 - 8 - \"() { :;}; echo \"x\"\" \"curl/7.38.0\" -\n";

fn run(bytes: &[u8]) -> Batch {
    let mut b = Batch::default();
    s3access::parse(&Arc::from("p.log"), bytes, &mut b);
    b
}

fn check_invariants(bytes: &[u8], b: &Batch) {
    common::check_line_invariants(bytes, b, 6003);
}

/// Text for a quoted field: anything printable, quotes and backslashes included.
fn quoted_text() -> impl Strategy<Value = String> {
    "[ -~]{1,40}".prop_filter("`-` means absent", |s| s != "-")
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9:/._+=-]{0,30}"
}

fn opt_word() -> impl Strategy<Value = Option<String>> {
    prop::option::of(word())
}

fn opt_num() -> impl Strategy<Value = Option<u64>> {
    prop::option::of(any::<u64>())
}

#[derive(Debug, Clone)]
struct Line {
    requester: Option<String>,
    request_id: String,
    operation: String,
    uri: Option<String>,
    status: Option<u16>,
    counts: [Option<u64>; 4],
    referer: Option<String>,
    user_agent: Option<String>,
    tail: Vec<Option<String>>,
}

fn line() -> impl Strategy<Value = Line> {
    let requester = prop::option::of(prop_oneof![
        word(),
        "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E[A-Z0-9]{6,14}",
        "arn:aws:sts::[0-9]{12}:assumed-role/[A-Za-z]{1,10}/[a-z0-9.@-]{1,12}",
    ]);
    let operation = prop_oneof![
        Just("REST.GET.OBJECT".to_owned()),
        Just("REST.PUT.OBJECT".to_owned()),
        Just("WEBSITE.GET.OBJECT".to_owned()),
        Just("BATCH.DELETE.OBJECT".to_owned()),
        Just("S3.TRANSITION_SIA.OBJECT".to_owned()),
        "REST\\.[A-Z]{3,6}\\.[A-Z_]{3,12}",
    ];
    (
        requester,
        "[0-9A-F]{16}",
        operation,
        prop::option::of(quoted_text()),
        prop::option::of(100u16..600),
        [opt_num(), opt_num(), opt_num(), opt_num()],
        prop::option::of(quoted_text()),
        prop::option::of(quoted_text()),
        proptest::collection::vec(opt_word(), 1..12),
    )
        .prop_map(
            |(requester, request_id, operation, uri, status, counts, referer, user_agent, tail)| {
                Line {
                    requester,
                    request_id,
                    operation,
                    uri,
                    status,
                    counts,
                    referer,
                    user_agent,
                    tail,
                }
            },
        )
}

fn dash<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or("-".to_owned(), ToString::to_string)
}

fn qdash(v: &Option<String>) -> String {
    v.as_deref().map_or("\"-\"".to_owned(), quote)
}

fn render(l: &Line) -> String {
    let mut s = format!(
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be bucket-1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 {} {} {} key/a.txt {} {} - {} {} {} {} {} {}",
        dash(&l.requester),
        l.request_id,
        l.operation,
        l.uri.as_deref().map_or("-".to_owned(), quote),
        dash(&l.status),
        dash(&l.counts[0]),
        dash(&l.counts[1]),
        dash(&l.counts[2]),
        dash(&l.counts[3]),
        qdash(&l.referer),
        qdash(&l.user_agent),
    );
    for t in &l.tail {
        s.push(' ');
        s.push_str(&dash(t));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let b = run(&bytes);
        check_invariants(&bytes, &b);
    }

    #[test]
    fn quote_and_bracket_soup_never_panics(
        lines in proptest::collection::vec("[ \"\\[\\]\\\\a-zA-Z0-9./:+-]{0,200}", 0..6)
            .prop_map(|l| l.join("\n"))
    ) {
        let b = run(lines.as_bytes());
        check_invariants(lines.as_bytes(), &b);
    }

    #[test]
    fn mutated_valid_lines_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8)
    ) {
        let bytes = common::mutate(SAMPLE.as_bytes(), &edits);
        let b = run(&bytes);
        check_invariants(&bytes, &b);
    }

    #[test]
    fn well_formed_lines_read_back(l in line()) {
        let text = render(&l);
        let b = run(text.as_bytes());
        prop_assert!(b.rejects.is_empty(), "{:?}\n{}", b.rejects, text);
        let r = b.events[0].s3access().unwrap();
        prop_assert_eq!(&r.requester, &l.requester);
        prop_assert_eq!(r.request_id.as_deref(), Some(l.request_id.as_str()));
        prop_assert_eq!(r.operation.as_deref(), Some(l.operation.as_str()));
        prop_assert_eq!(r.key.as_deref(), Some("key/a.txt"));
        prop_assert_eq!(&r.request_uri, &l.uri);
        prop_assert_eq!(r.http_status, l.status);
        prop_assert_eq!(
            [r.bytes_sent, r.object_size, r.total_time_ms, r.turn_around_time_ms],
            l.counts
        );
        prop_assert_eq!(&r.referer, &l.referer);
        prop_assert_eq!(&r.user_agent, &l.user_agent);
        let named = [
            &r.version_id,
            &r.host_id,
            &r.signature_version,
            &r.cipher_suite,
            &r.authentication_type,
            &r.host_header,
            &r.tls_version,
            &r.access_point_arn,
            &r.acl_required,
        ];
        for (got, want) in named.iter().zip(&l.tail) {
            prop_assert_eq!(*got, want);
        }
        let extra: Vec<String> = l.tail.iter().skip(9).map(dash).collect();
        prop_assert_eq!(&r.extra, &extra);
    }
}
