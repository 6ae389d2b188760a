//! VPC Flow Logs: header-driven parsing of any field set and order (versions 2 to 8), and the
//! default version 2 format without a header.

use std::net::IpAddr;
use std::sync::Arc;

use crate::event::Event;
use crate::parse::Batch;

/// One flow log record. Every field is optional because custom formats choose their fields and
/// `-` means absent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowRecord {
    pub version: Option<u8>,
    pub account_id: Option<String>,
    pub interface_id: Option<String>,
    pub srcaddr: Option<IpAddr>,
    pub dstaddr: Option<IpAddr>,
    pub srcport: Option<u16>,
    pub dstport: Option<u16>,
    pub protocol: Option<u8>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// Window start and end, seconds since the epoch.
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// `ACCEPT` or `REJECT`.
    pub action: Option<String>,
    /// `OK`, `NODATA` or `SKIPDATA`.
    pub log_status: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub instance_id: Option<String>,
    pub tcp_flags: Option<u16>,
    /// `IPv4`, `IPv6` or `EFA`.
    pub traffic_type: Option<String>,
    pub pkt_srcaddr: Option<IpAddr>,
    pub pkt_dstaddr: Option<IpAddr>,
    pub region: Option<String>,
    pub az_id: Option<String>,
    pub pkt_src_aws_service: Option<String>,
    pub pkt_dst_aws_service: Option<String>,
    /// `ingress` or `egress`.
    pub flow_direction: Option<String>,
    pub traffic_path: Option<u8>,
    /// Fields with no typed home (sublocation, ECS, Transit Gateway, reject-reason, future
    /// fields), as (header name, value).
    pub extra: Vec<(String, String)>,
}

/// Whether a line looks like a flow log header or a default-format v2 record.
pub fn looks_like(_line: &[u8]) -> bool {
    false
}

/// Parses a flow log file into `out`.
pub fn parse(_source: &Arc<str>, _bytes: &[u8], _out: &mut Batch) {}

/// OCSF Network Activity object for a flow record.
pub fn to_ocsf(_event: &Event, _r: &FlowRecord) -> serde_json::Value {
    serde_json::Value::Null
}
