//! Property tests: the flow log parser never panics, accounts for every record, and reads back
//! whatever a well-formed file of any field set and order says.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use detector_core::parse::Batch;
use detector_core::parse::vpcflow;
use proptest::prelude::*;

mod common;

const SAMPLE: &str = "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status\n\
3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK\n\
3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 - eni-1235b8ca123456789 123456789010 IPv6 2001:db8::1 2001:db8::2 5001 43416 - - 6 376 7 1566848875 1566848933 REJECT 18 OK\n\
2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n";

fn run(bytes: &[u8]) -> Batch {
    let mut b = Batch::default();
    vpcflow::parse(&Arc::from("p.log"), bytes, &mut b);
    b
}

fn check_invariants(bytes: &[u8], b: &Batch) {
    common::check_line_invariants(bytes, b, 4001);
}

/// A value for a field, written as a flow log line would carry it.
fn value_for(name: &str) -> BoxedStrategy<String> {
    let dash = Just("-".to_owned());
    match name {
        "version" => prop_oneof![dash, (2u8..=11).prop_map(|v| v.to_string())].boxed(),
        "srcport" | "dstport" => {
            prop_oneof![dash, any::<u16>().prop_map(|v| v.to_string())].boxed()
        }
        "protocol" | "traffic-path" => {
            prop_oneof![dash, any::<u8>().prop_map(|v| v.to_string())].boxed()
        }
        "tcp-flags" => prop_oneof![dash, any::<u16>().prop_map(|v| v.to_string())].boxed(),
        "packets" | "bytes" | "packets-lost-no-route" => {
            prop_oneof![dash, any::<u64>().prop_map(|v| v.to_string())].boxed()
        }
        // Start is always present so every generated record has a time.
        "start" => (0i64..4_102_444_800).prop_map(|v| v.to_string()).boxed(),
        "end" => prop_oneof![dash, (0i64..4_102_444_800).prop_map(|v| v.to_string())].boxed(),
        "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr" => prop_oneof![
            dash,
            any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
            any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
        ]
        .boxed(),
        _ => prop_oneof![dash, "[A-Za-z0-9][A-Za-z0-9:/._-]{0,30}"].boxed(),
    }
}

const NAMES: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "pkt-src-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-task-id",
    "reject-reason",
    "tgw-id",
    "packets-lost-no-route",
    "next-hop-az-id",
    "some-future-field",
];

/// A header of `start` plus a random subset of fields in random order, and records for it.
fn file() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    proptest::sample::subsequence(NAMES, 0..NAMES.len())
        .prop_flat_map(|names| {
            let mut names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
            names.push("start".to_owned());
            Just(names).prop_shuffle()
        })
        .prop_flat_map(|names| {
            let row: Vec<BoxedStrategy<String>> = names.iter().map(|n| value_for(n)).collect();
            (Just(names), proptest::collection::vec(row, 1..5))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let b = run(&bytes);
        check_invariants(&bytes, &b);
    }

    #[test]
    fn arbitrary_token_soup_never_panics(
        lines in proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![
                    Just("-".to_owned()),
                    Just("version".to_owned()),
                    Just("start".to_owned()),
                    Just("srcaddr".to_owned()),
                    "[0-9]{1,25}",
                    "[0-9a-f:.]{1,40}",
                    "[a-z_-]{1,12}",
                    ".{0,8}",
                ],
                0..20,
            ).prop_map(|t| t.join(" ")),
            0..8,
        ).prop_map(|l| l.join("\n"))
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
    fn any_field_set_and_order_reads_back((names, rows) in file()) {
        let mut text = names.join(" ");
        for row in &rows {
            text.push('\n');
            text.push_str(&row.join(" "));
        }
        let b = run(text.as_bytes());
        prop_assert!(b.rejects.is_empty(), "{:?}\n{}", b.rejects, text);
        prop_assert_eq!(b.events.len(), rows.len());
        for ((e, row), line) in b.events.iter().zip(&rows).zip(2u64..) {
            prop_assert_eq!(e.index, line);
            let r = e.flow().unwrap();
            for (name, tok) in names.iter().zip(row) {
                let want = (tok != "-").then(|| tok.clone());
                prop_assert_eq!(r.get(name), want, "field {}", name);
            }
            let start: i64 = row[names.iter().position(|n| n == "start").unwrap()].parse().unwrap();
            prop_assert_eq!(e.time_ms, start * 1000);
        }
    }
}
