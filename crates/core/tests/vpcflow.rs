//! VPC Flow Logs parser: the AWS-documented records, every field version, Transit Gateway
//! flow logs, rejects, and OCSF snapshots of the fixture corpus.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::Arc;

use detector_core::EventClass;
use detector_core::parse::vpcflow::{self, FlowRecord};
use detector_core::parse::{self, Batch, Format};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vpcflow");
const NAT_FILE: &str =
    "111122223333_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20240501T0805Z_1a2b3c4d.log";

const FIXTURES: &[&str] = &[
    "default-v2-no-header.log",
    "default-v2-header-crlf.log",
    "v3-tcp-flags.log",
    "v4-alphabetical.log",
    "v5-traffic-path.log",
    "v7-ecs.log",
    "v8-reject-reason.log",
    "v11-all-fields.log",
    "tgw.log",
    "athena-underscore-header.log",
    NAT_FILE,
];

fn parse_named(name: &str, bytes: &[u8]) -> Batch {
    let mut b = Batch::default();
    vpcflow::parse(&Arc::from(name), bytes, &mut b);
    assert_eq!(b.records, (b.events.len() + b.rejects.len()) as u64);
    b
}

fn fixture(name: &str) -> Batch {
    let bytes = std::fs::read(format!("{DIR}/{name}")).unwrap();
    let b = parse_named(&format!("fixtures/vpcflow/{name}"), &bytes);
    assert!(b.rejects.is_empty(), "{name}: {:?}", b.rejects);
    b
}

fn rec(b: &Batch, i: usize) -> &FlowRecord {
    b.events[i].flow().unwrap()
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

#[test]
fn default_format_without_header() {
    let b = fixture("default-v2-no-header.log");
    assert_eq!(b.events.len(), 7);
    let e = &b.events[0];
    assert_eq!(e.class, EventClass::NetworkActivity);
    assert_eq!(e.index, 1);
    assert_eq!(e.uid, "fixtures/vpcflow/default-v2-no-header.log#1");
    assert_eq!(e.time_ms, 1_418_530_010_000);
    let r = rec(&b, 0);
    assert_eq!(r.version, Some(2));
    assert_eq!(r.account_id.as_deref(), Some("123456789010"));
    assert_eq!(r.interface_id.as_deref(), Some("eni-1235b8ca123456789"));
    assert_eq!(r.srcaddr, ip("172.31.16.139"));
    assert_eq!(r.dstaddr, ip("172.31.16.21"));
    assert_eq!(
        (r.srcport, r.dstport, r.protocol),
        (Some(20641), Some(22), Some(6))
    );
    assert_eq!((r.packets, r.bytes), (Some(20), Some(4249)));
    assert_eq!((r.start, r.end), (Some(1_418_530_010), Some(1_418_530_070)));
    assert_eq!(r.action.as_deref(), Some("ACCEPT"));
    assert_eq!(r.log_status.as_deref(), Some("OK"));
    assert_eq!(rec(&b, 1).action.as_deref(), Some("REJECT"));

    // NODATA and SKIPDATA are events with absent addresses, ports and counters.
    for (i, status) in [(2, "NODATA"), (3, "SKIPDATA")] {
        let r = rec(&b, i);
        assert_eq!(r.log_status.as_deref(), Some(status));
        assert_eq!(
            (r.srcaddr, r.dstaddr, r.srcport, r.packets),
            (None, None, None, None)
        );
        assert_eq!(r.action, None);
        assert_eq!(b.events[i].time_ms, 1_431_280_876_000);
    }
    // ICMP and IPv6.
    assert_eq!(rec(&b, 4).protocol, Some(1));
    assert_eq!(rec(&b, 4).srcport, Some(0));
    let r = rec(&b, 6);
    assert_eq!(r.srcaddr, ip("2001:db8:1234:a100:8d6e:3477:df66:f105"));
    assert_eq!(r.dstaddr, ip("2001:db8:1234:a102:3304:8879:34cf:4071"));
}

#[test]
fn header_crlf_and_blank_lines_count_in_line_numbers() {
    let b = fixture("default-v2-header-crlf.log");
    assert_eq!(b.events.len(), 2);
    assert_eq!(b.events[0].index, 2);
    assert_eq!(b.events[1].index, 4);
    assert_eq!(
        b.events[1].uid,
        "fixtures/vpcflow/default-v2-header-crlf.log#4"
    );
    let r = rec(&b, 1);
    assert_eq!(r.account_id.as_deref(), Some("unknown"));
    assert_eq!(r.log_status.as_deref(), Some("OK"));
    assert_eq!(r.protocol, Some(17));
}

#[test]
fn v3_custom_order_and_double_space() {
    let b = fixture("v3-tcp-flags.log");
    assert_eq!(b.events.len(), 4);
    let r = rec(&b, 0);
    assert_eq!(r.version, Some(3));
    assert_eq!(r.vpc_id.as_deref(), Some("vpc-abcdefab012345678"));
    assert_eq!(r.subnet_id.as_deref(), Some("subnet-aaaaaaaa012345678"));
    assert_eq!(r.instance_id.as_deref(), Some("i-01234567890123456"));
    assert_eq!(r.traffic_type.as_deref(), Some("IPv4"));
    assert_eq!(r.pkt_srcaddr, ip("52.213.180.42"));
    assert_eq!((r.bytes, r.packets), (Some(568), Some(8)));
    assert_eq!(r.tcp_flags, Some(2));
    assert_eq!(rec(&b, 1).tcp_flags, Some(18));
    // The AWS docs example with two spaces between fields.
    assert_eq!(rec(&b, 3).dstport, Some(43638));
    assert_eq!(rec(&b, 3).tcp_flags, Some(19));
}

#[test]
fn v4_alphabetical_header() {
    let b = fixture("v4-alphabetical.log");
    let r = rec(&b, 0);
    assert_eq!(r.version, Some(4));
    assert_eq!(r.account_id.as_deref(), Some("111122223333"));
    assert_eq!(r.region.as_deref(), Some("us-east-1"));
    assert_eq!(r.az_id.as_deref(), Some("use1-az4"));
    assert_eq!(r.srcaddr, ip("172.18.160.68"));
    assert_eq!(r.pkt_srcaddr, ip("192.168.0.1"));
    assert_eq!(r.srcport, Some(443));
    assert_eq!(r.extra("sublocation-type"), Some("wavelength"));
    assert_eq!(r.extra("sublocation-id"), Some("wlid04"));
    assert_eq!(b.events[0].time_ms, 1_568_300_367_000);
    // `-` is absent, not kept as text.
    assert!(rec(&b, 1).extra.is_empty());
}

#[test]
fn v5_service_path_direction() {
    let b = fixture("v5-traffic-path.log");
    let r = rec(&b, 0);
    assert_eq!(r.pkt_src_aws_service.as_deref(), Some("S3"));
    assert_eq!(r.flow_direction.as_deref(), Some("ingress"));
    assert_eq!(r.traffic_path, None);
    let r = rec(&b, 1);
    assert_eq!(r.pkt_dst_aws_service.as_deref(), Some("S3"));
    assert_eq!(r.flow_direction.as_deref(), Some("egress"));
    assert_eq!(r.traffic_path, Some(8));
}

#[test]
fn v7_ecs_fields_in_extra() {
    let b = fixture("v7-ecs.log");
    let r = rec(&b, 0);
    assert_eq!(r.version, Some(7));
    assert_eq!(r.extra("ecs-cluster-name"), Some("orders-prod"));
    assert_eq!(r.extra("ecs-service-name"), Some("orders-api"));
    assert_eq!(r.extra("ecs-task-id"), Some("5d9a1f0c2b7e4c3a"));
    assert_eq!(r.extra("ecs-second-container-id"), Some("8b2e6d4f1a3c"));
    assert_eq!(r.extra.len(), 10);
    let r = rec(&b, 1);
    assert_eq!(r.extra("ecs-container-instance-id"), None);
    assert_eq!(r.extra.len(), 7);
}

#[test]
fn v8_reject_reason() {
    let b = fixture("v8-reject-reason.log");
    assert_eq!(rec(&b, 0).extra("reject-reason"), Some("BPA"));
    assert_eq!(rec(&b, 1).extra("reject-reason"), None);
    assert_eq!(rec(&b, 2).action.as_deref(), Some("ACCEPT"));
}

#[test]
fn v11_every_documented_field() {
    let text = std::fs::read_to_string(format!("{DIR}/v11-all-fields.log")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(' ').collect();
    assert_eq!(header.len(), 54);
    let b = fixture("v11-all-fields.log");
    // Every value comes back under its header name, typed or not.
    for (i, line) in text.lines().skip(1).enumerate() {
        let r = rec(&b, i);
        for (name, tok) in header.iter().zip(line.split(' ')) {
            let want = (tok != "-").then(|| tok.to_owned());
            assert_eq!(r.get(name), want, "line {} field {name}", i + 2);
        }
    }
    let r = rec(&b, 0);
    assert_eq!(r.extra("next-hop-interface-type"), Some("nat_gateway"));
    assert_eq!(r.extra("instance-tag"), Some("web-server"));
    assert_eq!(r.extra("encryption-status"), Some("2"));
    let r = rec(&b, 1);
    assert_eq!(r.srcaddr, ip("2600:1f14:abc:de00::10"));
    assert_eq!(r.traffic_type.as_deref(), Some("IPv6"));
    assert_eq!(r.extra("reject-reason"), Some("SG"));
    assert_eq!(r.extra("interface-type"), Some("network_load_balancer"));
}

#[test]
fn transit_gateway_flow_logs() {
    let b = fixture("tgw.log");
    let r = rec(&b, 0);
    assert_eq!(r.version, Some(6));
    assert_eq!(r.account_id.as_deref(), Some("111122223333"));
    assert_eq!(r.extra("resource-type"), Some("TransitGateway"));
    assert_eq!(r.extra("tgw-id"), Some("tgw-0a1b2c3d4e5f6a7b8"));
    assert_eq!(r.extra("tgw-dst-vpc-account-id"), Some("444455556666"));
    assert_eq!(r.extra("packets-lost-no-route"), Some("0"));
    assert_eq!((r.srcport, r.dstport), (Some(52100), Some(443)));
    assert_eq!(r.flow_direction.as_deref(), Some("egress"));
    assert_eq!(rec(&b, 1).extra("packets-lost-no-route"), Some("3"));
    assert_eq!(rec(&b, 1).extra("tgw-dst-eni"), None);
}

#[test]
fn underscore_header_names() {
    let b = fixture("athena-underscore-header.log");
    let r = rec(&b, 0);
    assert_eq!(r.account_id.as_deref(), Some("123456789012"));
    assert_eq!(r.log_status.as_deref(), Some("OK"));
    assert_eq!(r.flow_direction.as_deref(), Some("egress"));
    assert!(r.extra.is_empty());
    assert_eq!(r.get("log-status").as_deref(), Some("OK"));
}

#[test]
fn format_without_time_takes_the_delivery_time_from_the_object_name() {
    let b = fixture(NAT_FILE);
    assert_eq!(b.events.len(), 5);
    assert!(b.events.iter().all(|e| e.time_ms == 1_714_550_700_000));
    let r = rec(&b, 0);
    assert_eq!(r.instance_id, None);
    assert_eq!(r.pkt_dstaddr, ip("203.0.113.5"));
    assert_eq!(
        rec(&b, 4).instance_id.as_deref(),
        Some("i-01234567890123456")
    );

    // The same lines under a name without a delivery time cannot be placed in time.
    let bytes = std::fs::read(format!("{DIR}/{NAT_FILE}")).unwrap();
    let b = parse_named("nat.log", &bytes);
    assert_eq!(b.rejects.len(), 5);
    assert!(
        b.rejects[0]
            .reason
            .contains("neither a start nor an end field")
    );
}

#[test]
fn unknown_future_fields_are_kept() {
    let b = parse_named(
        "f.log",
        b"version start end quantum-flux srcaddr\n12 1700000000 1700000060 warp9 10.0.0.1\n",
    );
    let r = rec(&b, 0);
    assert_eq!(r.version, Some(12));
    assert_eq!(r.extra("quantum-flux"), Some("warp9"));
    assert_eq!(r.get("quantum_flux").as_deref(), Some("warp9"));
}

fn reject_reason(input: &[u8]) -> String {
    let b = parse_named("r.log", input);
    assert_eq!(b.rejects.len(), 1, "{:?}", b.events);
    b.rejects[0].reason.clone()
}

#[test]
fn rejects_name_what_is_wrong() {
    const OK: &str = "2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
    assert_eq!(parse_named("r.log", OK.as_bytes()).events.len(), 1);

    assert_eq!(
        reject_reason(b"2 123456789010 eni-1 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 ACCEPT OK"),
        "expected 14 fields per the default version 2 format (no header line), got 13"
    );
    assert_eq!(
        reject_reason(b"start end srcaddr\n1 2 10.0.0.1 extra\n"),
        "expected 3 fields per the header at line 1, got 4"
    );
    assert_eq!(
        reject_reason(OK.replace(" 20641 ", " http ").as_bytes()),
        "srcport `http` is not a number"
    );
    assert_eq!(
        reject_reason(OK.replace(" 22 ", " 70000 ").as_bytes()),
        "dstport `70000` is out of range"
    );
    assert_eq!(
        reject_reason(OK.replace(" 6 ", " 300 ").as_bytes()),
        "protocol `300` is out of range"
    );
    assert_eq!(
        reject_reason(OK.replace(" 4249 ", " -1 ").as_bytes()),
        "bytes `-1` is not a number"
    );
    assert_eq!(
        reject_reason(OK.replace("172.31.16.21", "172.31.16.256").as_bytes()),
        "dstaddr `172.31.16.256` is not an IP address"
    );
    assert_eq!(
        reject_reason(OK.replace("1418530010 1418530070", "- -").as_bytes()),
        "missing start and end: no event time"
    );
    assert_eq!(
        reject_reason(OK.replace("1418530010", "soon").as_bytes()),
        "start `soon` is not a number"
    );
    assert_eq!(
        reject_reason(b"version tgw-id packets-lost-blackhole start\n6 tgw-1 many 1700000000\n"),
        "packets-lost-blackhole `many` is not a number"
    );
    // End alone is enough for a time.
    let b = parse_named("r.log", OK.replace("1418530010 ", "- ").as_bytes());
    assert_eq!(b.events[0].time_ms, 1_418_530_070_000);
}

#[test]
fn bad_lines_do_not_stop_the_file() {
    let mut input = Vec::new();
    input.extend_from_slice(b"version start end srcaddr\n");
    input.extend_from_slice(b"2 1700000000 1700000060 10.0.0.\xff\n");
    input.extend_from_slice(b"2 1700000000 1700000060 10.0.0.1\n");
    input.extend_from_slice(format!("2 1700000000 1700000060 {}\n", "1".repeat(70_000)).as_bytes());
    input.extend_from_slice(b"   \n\n");
    input.extend_from_slice(b"2 1700000001 1700000061 10.0.0.2");
    let b = parse_named("m.log", &input);
    assert_eq!(b.records, 4);
    assert_eq!(b.events.len(), 2);
    assert_eq!(b.events[0].index, 3);
    assert_eq!(b.events[1].index, 7);
    assert_eq!(b.rejects[0].index, 2);
    assert_eq!(b.rejects[0].reason, "invalid UTF-8 at byte 31");
    assert_eq!(b.rejects[1].index, 4);
    assert!(b.rejects[1].reason.contains("longer than 65536"));
    assert!(b.rejects[1].raw.len() <= detector_core::Reject::RAW_CAP);
}

#[test]
fn empty_and_header_only_inputs() {
    assert_eq!(parse_named("e.log", b"").records, 0);
    assert_eq!(parse_named("e.log", b"\xEF\xBB\xBF\n\n").records, 0);
    let b = parse_named("h.log", b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n");
    assert_eq!(b.records, 0);
}

#[test]
fn detection_picks_flow_logs() {
    for name in FIXTURES {
        let bytes = std::fs::read(format!("{DIR}/{name}")).unwrap();
        assert_eq!(parse::detect(name, &bytes), Some(Format::VpcFlow), "{name}");
    }
}

#[test]
fn ocsf_snapshots() {
    for name in FIXTURES {
        let b = fixture(name);
        let all: Vec<serde_json::Value> = b.events.iter().map(|e| e.to_ocsf()).collect();
        for (o, e) in all.iter().zip(&b.events) {
            assert_eq!(o["class_uid"], 4001);
            assert_eq!(o["type_uid"], 400_106);
            assert_eq!(o["time"], e.time_ms);
            assert_eq!(o["metadata"]["uid"], e.uid.as_str());
            assert_eq!(o["unmapped"]["origin"]["index"], e.index);
        }
        insta::assert_json_snapshot!(format!("vpcflow_ocsf__{name}"), all);
    }
}

#[test]
fn ocsf_mapping_details() {
    let b = fixture("v5-traffic-path.log");
    let ingress = b.events[0].to_ocsf();
    assert_eq!(ingress["connection_info"]["direction_id"], 1);
    assert_eq!(
        ingress["dst_endpoint"]["interface_uid"],
        "eni-1235b8ca123456789"
    );
    assert_eq!(ingress["src_endpoint"]["svc_name"], "S3");
    assert_eq!(ingress["cloud"]["zone"], "apse2-az3");
    let egress = b.events[1].to_ocsf();
    assert_eq!(egress["connection_info"]["boundary_id"], 11);
    assert_eq!(
        egress["src_endpoint"]["instance_uid"],
        "i-0c50d5961bcb2d47b"
    );
    assert_eq!(egress["metadata"]["log_version"], "v5");

    let b = fixture("default-v2-no-header.log");
    let reject = b.events[1].to_ocsf();
    assert_eq!(
        (
            reject["action_id"].clone(),
            reject["disposition_id"].clone()
        ),
        (2.into(), 2.into())
    );
    assert_eq!(reject["connection_info"]["protocol_name"], "tcp");
    assert_eq!(reject["device"]["interface_uid"], "eni-1235b8ca123456789");
    let nodata = b.events[2].to_ocsf();
    assert_eq!(nodata["status_id"], 99);
    assert_eq!(nodata["status_code"], "NODATA");
    assert!(nodata.get("src_endpoint").is_none());
    let v6 = b.events[6].to_ocsf();
    assert_eq!(v6["connection_info"]["protocol_ver_id"], 6);

    // NAT gateway: the packet-level address is the endpoint, the interface address a hop.
    let b = fixture(NAT_FILE);
    let nat = b.events[0].to_ocsf();
    assert_eq!(nat["dst_endpoint"]["ip"], "203.0.113.5");
    assert_eq!(nat["dst_endpoint"]["intermediate_ips"][0], "10.0.0.220");
    assert_eq!(nat["src_endpoint"]["ip"], "10.0.1.5");
    assert!(nat["src_endpoint"].get("intermediate_ips").is_none());
}
