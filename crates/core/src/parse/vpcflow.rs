//! VPC Flow Logs: header-driven parsing of any field set and order (versions 2 to 11, and
//! Transit Gateway flow logs), and the default version 2 format without a header.
//!
//! Files delivered to S3 start with a header line naming the fields of the custom format; logs
//! read from CloudWatch Logs have none, and then the default version 2 layout is assumed. A later
//! header line (files concatenated together) switches the layout from that line on.

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::event::{Event, EventClass, EventData, Reject};
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
    /// fields), as (header name, value). Only present values are kept: `-` is left out.
    pub extra: Vec<(String, String)>,
}

impl FlowRecord {
    /// Value of an untyped field by header name (`reject-reason`, `ecs-cluster-name`, ...).
    pub fn extra(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Any field by its header name (documented or underscore spelling), as the text a flow log
    /// line would carry; `None` when absent. Lets rules and tests address fields generically.
    pub fn get(&self, name: &str) -> Option<String> {
        fn s<T: ToString>(v: Option<&T>) -> Option<String> {
            v.map(ToString::to_string)
        }
        match lookup(name) {
            Some(Col::Version) => s(self.version.as_ref()),
            Some(Col::AccountId) => self.account_id.clone(),
            Some(Col::InterfaceId) => self.interface_id.clone(),
            Some(Col::Srcaddr) => s(self.srcaddr.as_ref()),
            Some(Col::Dstaddr) => s(self.dstaddr.as_ref()),
            Some(Col::Srcport) => s(self.srcport.as_ref()),
            Some(Col::Dstport) => s(self.dstport.as_ref()),
            Some(Col::Protocol) => s(self.protocol.as_ref()),
            Some(Col::Packets) => s(self.packets.as_ref()),
            Some(Col::Bytes) => s(self.bytes.as_ref()),
            Some(Col::Start) => s(self.start.as_ref()),
            Some(Col::End) => s(self.end.as_ref()),
            Some(Col::Action) => self.action.clone(),
            Some(Col::LogStatus) => self.log_status.clone(),
            Some(Col::VpcId) => self.vpc_id.clone(),
            Some(Col::SubnetId) => self.subnet_id.clone(),
            Some(Col::InstanceId) => self.instance_id.clone(),
            Some(Col::TcpFlags) => s(self.tcp_flags.as_ref()),
            Some(Col::Type) => self.traffic_type.clone(),
            Some(Col::PktSrcaddr) => s(self.pkt_srcaddr.as_ref()),
            Some(Col::PktDstaddr) => s(self.pkt_dstaddr.as_ref()),
            Some(Col::Region) => self.region.clone(),
            Some(Col::AzId) => self.az_id.clone(),
            Some(Col::PktSrcAwsService) => self.pkt_src_aws_service.clone(),
            Some(Col::PktDstAwsService) => self.pkt_dst_aws_service.clone(),
            Some(Col::FlowDirection) => self.flow_direction.clone(),
            Some(Col::TrafficPath) => s(self.traffic_path.as_ref()),
            Some(Col::Extra | Col::ExtraCount) | None => self
                .extra
                .iter()
                .find(|(k, _)| k == name || k.replace('_', "-") == name.replace('_', "-"))
                .map(|(_, v)| v.clone()),
        }
    }
}

/// Longest line accepted. Real records are a few hundred bytes even with every v11 field, so a
/// longer line is corrupt input, and the cap keeps a hostile file from costing much per line.
pub const MAX_LINE: usize = 64 * 1024;

/// Where a column's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Version,
    AccountId,
    InterfaceId,
    Srcaddr,
    Dstaddr,
    Srcport,
    Dstport,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    LogStatus,
    VpcId,
    SubnetId,
    InstanceId,
    TcpFlags,
    Type,
    PktSrcaddr,
    PktDstaddr,
    Region,
    AzId,
    PktSrcAwsService,
    PktDstAwsService,
    FlowDirection,
    TrafficPath,
    /// Documented field kept as text in `extra`.
    Extra,
    /// Documented counter kept in `extra`, checked to be a number.
    ExtraCount,
}

/// Every documented field name: VPC flow logs versions 2 to 11 and Transit Gateway flow logs.
/// Names not listed here are still accepted (into `extra`) so new AWS fields do not break files.
const KNOWN: &[(&str, Col)] = &[
    // version 2 (the default format, in its order)
    ("version", Col::Version),
    ("account-id", Col::AccountId),
    ("interface-id", Col::InterfaceId),
    ("srcaddr", Col::Srcaddr),
    ("dstaddr", Col::Dstaddr),
    ("srcport", Col::Srcport),
    ("dstport", Col::Dstport),
    ("protocol", Col::Protocol),
    ("packets", Col::Packets),
    ("bytes", Col::Bytes),
    ("start", Col::Start),
    ("end", Col::End),
    ("action", Col::Action),
    ("log-status", Col::LogStatus),
    // version 3
    ("vpc-id", Col::VpcId),
    ("subnet-id", Col::SubnetId),
    ("instance-id", Col::InstanceId),
    ("tcp-flags", Col::TcpFlags),
    ("type", Col::Type),
    ("pkt-srcaddr", Col::PktSrcaddr),
    ("pkt-dstaddr", Col::PktDstaddr),
    // version 4
    ("region", Col::Region),
    ("az-id", Col::AzId),
    ("sublocation-type", Col::Extra),
    ("sublocation-id", Col::Extra),
    // version 5
    ("pkt-src-aws-service", Col::PktSrcAwsService),
    ("pkt-dst-aws-service", Col::PktDstAwsService),
    ("flow-direction", Col::FlowDirection),
    ("traffic-path", Col::TrafficPath),
    // version 7 (ECS)
    ("ecs-cluster-arn", Col::Extra),
    ("ecs-cluster-name", Col::Extra),
    ("ecs-container-instance-arn", Col::Extra),
    ("ecs-container-instance-id", Col::Extra),
    ("ecs-container-id", Col::Extra),
    ("ecs-second-container-id", Col::Extra),
    ("ecs-service-name", Col::Extra),
    ("ecs-task-definition-arn", Col::Extra),
    ("ecs-task-arn", Col::Extra),
    ("ecs-task-id", Col::Extra),
    // version 8 to 10
    ("reject-reason", Col::Extra),
    ("resource-id", Col::Extra),
    ("encryption-status", Col::Extra),
    // version 11
    ("instance-tag", Col::Extra),
    ("instance-tag-2", Col::Extra),
    ("interface-tag", Col::Extra),
    ("interface-tag-2", Col::Extra),
    ("asg-tag", Col::Extra),
    ("asg-tag-2", Col::Extra),
    ("interface-type", Col::Extra),
    ("next-hop-interface-id", Col::Extra),
    ("next-hop-subnet-id", Col::Extra),
    ("next-hop-az-id", Col::Extra),
    ("next-hop-vpc-id", Col::Extra),
    ("next-hop-interface-type", Col::Extra),
    // Transit Gateway flow logs
    ("resource-type", Col::Extra),
    ("tgw-id", Col::Extra),
    ("tgw-attachment-id", Col::Extra),
    ("tgw-src-vpc-account-id", Col::Extra),
    ("tgw-dst-vpc-account-id", Col::Extra),
    ("tgw-src-vpc-id", Col::Extra),
    ("tgw-dst-vpc-id", Col::Extra),
    ("tgw-src-subnet-id", Col::Extra),
    ("tgw-dst-subnet-id", Col::Extra),
    ("tgw-src-eni", Col::Extra),
    ("tgw-dst-eni", Col::Extra),
    ("tgw-src-az-id", Col::Extra),
    ("tgw-dst-az-id", Col::Extra),
    ("tgw-pair-attachment-id", Col::Extra),
    ("packets-lost-no-route", Col::ExtraCount),
    ("packets-lost-blackhole", Col::ExtraCount),
    ("packets-lost-mtu-exceeded", Col::ExtraCount),
    ("packets-lost-ttl-expired", Col::ExtraCount),
];

/// The 14 fields of the default format, which is what a file without a header holds.
const DEFAULT_V2: usize = 14;

/// Looks a header name up, accepting the Athena/CloudWatch spelling with underscores
/// (`account_id`) as well as the documented one.
fn lookup(name: &str) -> Option<Col> {
    if let Some((_, c)) = KNOWN.iter().find(|(n, _)| *n == name) {
        return Some(*c);
    }
    if name.contains('_') {
        let dashed = name.replace('_', "-");
        return KNOWN.iter().find(|(n, _)| *n == dashed).map(|(_, c)| *c);
    }
    None
}

#[derive(Debug, Clone)]
struct Column {
    col: Col,
    name: String,
}

/// The field layout in force: from the last header line, or the default format.
#[derive(Debug, Clone)]
struct Layout {
    cols: Vec<Column>,
    /// 1-based line of the header, or 0 for the assumed default format.
    header_line: u64,
    has_time: bool,
}

impl Layout {
    fn default_v2() -> Self {
        let cols = KNOWN[..DEFAULT_V2]
            .iter()
            .map(|(n, c)| Column {
                col: *c,
                name: (*n).to_owned(),
            })
            .collect();
        Layout {
            cols,
            header_line: 0,
            has_time: true,
        }
    }

    fn from_header(text: &str, line: u64) -> Self {
        let cols: Vec<Column> = text
            .split_ascii_whitespace()
            .map(|n| Column {
                col: lookup(n).unwrap_or(Col::Extra),
                name: n.to_owned(),
            })
            .collect();
        let has_time = cols.iter().any(|c| matches!(c.col, Col::Start | Col::End));
        Layout {
            cols,
            header_line: line,
            has_time,
        }
    }

    fn describe(&self) -> String {
        if self.header_line == 0 {
            "the default version 2 format (no header line)".to_owned()
        } else {
            format!("the header at line {}", self.header_line)
        }
    }
}

/// A header token: a lowercase field name such as `log-status` or `account_id`.
fn name_shaped(tok: &str) -> bool {
    let b = tok.as_bytes();
    b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
}

/// Whether a line is a header: every token is a field name and at least one is a documented
/// one (so a record whose values happen to be lowercase words is not taken for a header).
fn is_header(text: &str) -> bool {
    header_names(text).is_some_and(|(known, _)| known > 0)
}

/// A header line after the first record (files concatenated together) must be mostly
/// documented names: a record made only of lowercase values, one of them a tag that reads
/// like a field name, must not switch the layout.
fn is_later_header(text: &str) -> bool {
    header_names(text).is_some_and(|(known, total)| known >= 2 && known * 2 >= total)
}

/// (documented names, tokens) when every token is name-shaped.
fn header_names(text: &str) -> Option<(usize, usize)> {
    if !text.as_bytes().first().is_some_and(u8::is_ascii_lowercase) {
        return None;
    }
    let (mut known, mut total) = (0, 0);
    for tok in text.split_ascii_whitespace() {
        if !name_shaped(tok) {
            return None;
        }
        total += 1;
        known += usize::from(lookup(tok).is_some());
    }
    Some((known, total))
}

fn is_digits(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit())
}

/// Whether a line looks like a flow log header or a default-format v2 record.
pub fn looks_like(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Ok(text) = std::str::from_utf8(line) else {
        return false;
    };
    if is_header(text) {
        return true;
    }
    let toks: Vec<&str> = text.split_ascii_whitespace().collect();
    if toks.len() != DEFAULT_V2 {
        return false;
    }
    let dash_or = |t: &str, f: &dyn Fn(&str) -> bool| t == "-" || f(t);
    is_digits(toks[0])
        && dash_or(toks[1], &|t| is_digits(t) || t == "unknown")
        && dash_or(toks[2], &|t| t.contains('-') || t.starts_with("eni"))
        && dash_or(toks[3], &|t| t.parse::<IpAddr>().is_ok())
        && dash_or(toks[4], &|t| t.parse::<IpAddr>().is_ok())
        && toks[5..10].iter().all(|t| dash_or(t, &is_digits))
        && toks[10..12].iter().all(|t| dash_or(t, &is_digits))
        && matches!(toks[12], "ACCEPT" | "REJECT" | "-")
        && matches!(toks[13], "OK" | "NODATA" | "SKIPDATA" | "-")
}

/// Parses a flow log file into `out`.
///
/// Event time is `start` (or `end`). A custom format may leave both out (the NAT and transit
/// gateway examples in the AWS docs do); its records then take the delivery time that VPC Flow
/// Logs writes into the S3 object name, or else [`Batch::fallback_time_ms`] (the file's
/// modification time), and are rejected when neither is known, since a record without a time
/// cannot be placed in any window.
pub fn parse(source: &Arc<str>, bytes: &[u8], out: &mut Batch) {
    // One event per line at most: reserving up front saves the copies of a growing Vec. No
    // record is shorter than ~30 bytes, so a file of blank lines cannot make this reserve much.
    let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
    out.events.reserve(lines.min(bytes.len() / 30 + 1));
    let mut layout = Layout::default_v2();
    let mut name_time: Option<Option<i64>> = None;
    let fallback = out.fallback_time_ms;
    let mut spare: Option<Box<FlowRecord>> = None;
    let mut seen_record = false;
    for (line_no, line) in crate::parse::lines(bytes) {
        if line.len() > MAX_LINE {
            out.push_reject(Reject::new(
                source,
                line_no,
                format!("line is {} bytes, longer than {MAX_LINE}", line.len()),
                line,
            ));
            continue;
        }
        let text = match std::str::from_utf8(line) {
            Ok(t) => t,
            Err(e) => {
                out.push_reject(Reject::new(
                    source,
                    line_no,
                    format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                    line,
                ));
                continue;
            }
        };
        let header = if seen_record {
            is_later_header(text)
        } else {
            is_header(text)
        };
        if header {
            layout = Layout::from_header(text, line_no);
            continue;
        }
        seen_record = true;
        // The record is filled in place on the heap; after a reject its box is reused.
        let mut r = spare.take().unwrap_or_default();
        let parsed = parse_record(&layout, text, &mut r).and_then(|t| match t {
            Some(t) => Ok(t),
            None if layout.has_time => Err(no_time_reason(&layout)),
            None => name_time
                .get_or_insert_with(|| time_from_name(source).or(fallback))
                .ok_or_else(|| no_time_reason(&layout)),
        });
        match parsed {
            Ok(time_ms) => out.push_event(Event {
                class: EventClass::NetworkActivity,
                time_ms,
                source: Arc::clone(source),
                index: line_no,
                uid: line_uid(source, line_no),
                data: EventData::Flow(r),
            }),
            Err(reason) => {
                *r = FlowRecord::default();
                spare = Some(r);
                out.push_reject(Reject::new(source, line_no, reason, line));
            }
        }
    }
}

/// `<source>#<line>`, built without the formatting machinery (it runs once per record).
pub(crate) fn line_uid(source: &str, line: u64) -> String {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = line;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut uid = String::with_capacity(source.len() + 1 + digits.len() - i);
    uid.push_str(source);
    uid.push('#');
    uid.extend(digits[i..].iter().map(|&d| char::from(d)));
    uid
}

/// The delivery timestamp in an S3 object name written by VPC Flow Logs
/// (`..._fl-0123456789abcdef0_20240501T0805Z_1a2b3c4d.log.gz`), in ms.
fn time_from_name(name: &str) -> Option<i64> {
    let b = name.as_bytes();
    (1..b.len().saturating_sub(13)).rev().find_map(|i| {
        let w = &b[i..i + 14];
        let digits = |r: std::ops::Range<usize>| w[r].iter().all(u8::is_ascii_digit);
        if b[i - 1] != b'_' || w[8] != b'T' || w[13] != b'Z' || !digits(0..8) || !digits(9..13) {
            return None;
        }
        let n = |r: std::ops::Range<usize>| {
            w[r].iter()
                .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
        };
        let (y, mo, d, h, mi) = (n(0..4), n(4..6), n(6..8), n(9..11), n(11..13));
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 {
            return None;
        }
        let days = crate::time::days_from_civil(i64::from(y), mo, d);
        Some((days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60) * 1000)
    })
}

fn no_time_reason(layout: &Layout) -> String {
    if layout.has_time {
        "missing start and end: no event time".to_owned()
    } else {
        format!(
            "{} has neither a start nor an end field, and the file name carries no \
             _YYYYMMDDTHHMMZ_ delivery time: no event time",
            layout.describe()
        )
    }
}

/// Parses one record against the layout into `r` (which starts empty); returns its event time
/// in ms, or `None` when the record has neither start nor end.
fn parse_record(layout: &Layout, text: &str, r: &mut FlowRecord) -> Result<Option<i64>, String> {
    let mut n = 0usize;
    let mut first_err: Option<String> = None;
    for tok in text.split_ascii_whitespace() {
        if first_err.is_none()
            && let Some(col) = layout.cols.get(n)
            && let Err(e) = apply(r, col, tok)
        {
            first_err = Some(e);
        }
        n += 1;
    }
    // A wrong field count explains any field error that follows from the shift, so it wins.
    if n != layout.cols.len() {
        return Err(format!(
            "expected {} fields per {}, got {n}",
            layout.cols.len(),
            layout.describe()
        ));
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let Some(secs) = r.start.or(r.end) else {
        return Ok(None);
    };
    let time_ms = secs
        .checked_mul(1000)
        .ok_or_else(|| format!("start/end {secs} out of range"))?;
    Ok(Some(time_ms))
}

fn shown(tok: &str) -> &str {
    match tok.char_indices().nth(64) {
        Some((i, _)) => &tok[..i],
        None => tok,
    }
}

/// Digits only (no sign, no spaces), checked for overflow.
fn parse_u64(tok: &str) -> Option<u64> {
    let b = tok.as_bytes();
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

fn num<T: TryFrom<u64>>(tok: &str, name: &str) -> Result<Option<T>, String> {
    if tok == "-" {
        return Ok(None);
    }
    let v = parse_u64(tok).ok_or_else(|| {
        if is_digits(tok) {
            format!("{name} `{}` is out of range", shown(tok))
        } else {
            format!("{name} `{}` is not a number", shown(tok))
        }
    })?;
    T::try_from(v)
        .map(Some)
        .map_err(|_| format!("{name} `{}` is out of range", shown(tok)))
}

fn ip(tok: &str, name: &str) -> Result<Option<IpAddr>, String> {
    if tok == "-" {
        return Ok(None);
    }
    tok.parse::<IpAddr>()
        .map(Some)
        .map_err(|_| format!("{name} `{}` is not an IP address", shown(tok)))
}

fn text(tok: &str) -> Option<String> {
    (tok != "-").then(|| tok.to_owned())
}

fn apply(r: &mut FlowRecord, c: &Column, tok: &str) -> Result<(), String> {
    let name = c.name.as_str();
    match c.col {
        Col::Version => r.version = num(tok, name)?,
        Col::AccountId => r.account_id = text(tok),
        Col::InterfaceId => r.interface_id = text(tok),
        Col::Srcaddr => r.srcaddr = ip(tok, name)?,
        Col::Dstaddr => r.dstaddr = ip(tok, name)?,
        Col::Srcport => r.srcport = num(tok, name)?,
        Col::Dstport => r.dstport = num(tok, name)?,
        Col::Protocol => r.protocol = num(tok, name)?,
        Col::Packets => r.packets = num(tok, name)?,
        Col::Bytes => r.bytes = num(tok, name)?,
        Col::Start => r.start = num(tok, name)?,
        Col::End => r.end = num(tok, name)?,
        Col::Action => r.action = text(tok),
        Col::LogStatus => r.log_status = text(tok),
        Col::VpcId => r.vpc_id = text(tok),
        Col::SubnetId => r.subnet_id = text(tok),
        Col::InstanceId => r.instance_id = text(tok),
        Col::TcpFlags => r.tcp_flags = num(tok, name)?,
        Col::Type => r.traffic_type = text(tok),
        Col::PktSrcaddr => r.pkt_srcaddr = ip(tok, name)?,
        Col::PktDstaddr => r.pkt_dstaddr = ip(tok, name)?,
        Col::Region => r.region = text(tok),
        Col::AzId => r.az_id = text(tok),
        Col::PktSrcAwsService => r.pkt_src_aws_service = text(tok),
        Col::PktDstAwsService => r.pkt_dst_aws_service = text(tok),
        Col::FlowDirection => r.flow_direction = text(tok),
        Col::TrafficPath => r.traffic_path = num(tok, name)?,
        Col::Extra | Col::ExtraCount => {
            if tok != "-" {
                if c.col == Col::ExtraCount {
                    num::<u64>(tok, name)?;
                }
                r.extra.push((c.name.clone(), tok.to_owned()));
            }
        }
    }
    Ok(())
}

/// IANA protocol keyword (lowercase) for the protocol numbers seen in VPC traffic.
pub fn protocol_name(n: u8) -> Option<&'static str> {
    Some(match n {
        0 => "hopopt",
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        43 => "ipv6-route",
        44 => "ipv6-frag",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        59 => "ipv6-nonxt",
        60 => "ipv6-opts",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        115 => "l2tp",
        132 => "sctp",
        136 => "udplite",
        _ => return None,
    })
}

fn put(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v);
    }
}

fn put_str(m: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    put(m, k, v.map(|s| Value::String(s.to_owned())));
}

/// Endpoint `ip` per Security Lake: the packet-level address when it differs from the interface
/// address (NAT gateways, transit gateways), which is then kept as an intermediate hop.
fn endpoint_ip(m: &mut Map<String, Value>, addr: Option<IpAddr>, pkt: Option<IpAddr>) {
    match (addr, pkt) {
        (Some(a), Some(p)) if a != p => {
            m.insert("ip".into(), json!(p.to_string()));
            m.insert("intermediate_ips".into(), json!([a.to_string()]));
        }
        (a, p) => put(m, "ip", a.or(p).map(|x| json!(x.to_string()))),
    }
}

/// OCSF Network Activity object for a flow record, following Amazon Security Lake's mapping of
/// VPC flow logs (activity Traffic, action/disposition from `action`, boundary from
/// `traffic-path`, interface attributes on the endpoint that owns the interface).
pub fn to_ocsf(event: &Event, r: &FlowRecord) -> Value {
    let mut o = Map::new();
    o.insert("class_uid".into(), json!(4001));
    o.insert("class_name".into(), json!("Network Activity"));
    o.insert("category_uid".into(), json!(4));
    o.insert("category_name".into(), json!("Network Activity"));
    o.insert("activity_id".into(), json!(6));
    o.insert("activity_name".into(), json!("Traffic"));
    o.insert("type_uid".into(), json!(400_106));
    o.insert("type_name".into(), json!("Network Activity: Traffic"));
    o.insert("severity_id".into(), json!(1));
    o.insert("severity".into(), json!("Informational"));
    o.insert("time".into(), json!(event.time_ms));
    let start_ms = r.start.and_then(|s| s.checked_mul(1000));
    let end_ms = r.end.and_then(|s| s.checked_mul(1000));
    put(&mut o, "start_time", start_ms.map(Value::from));
    put(&mut o, "end_time", end_ms.map(Value::from));
    if let (Some(s), Some(e)) = (start_ms, end_ms) {
        o.insert("duration".into(), json!(e.saturating_sub(s)));
    }

    let (action, action_id, disposition, disposition_id) = match r.action.as_deref() {
        Some("ACCEPT") => ("Allowed", 1, "Allowed", 1),
        Some("REJECT") => ("Denied", 2, "Blocked", 2),
        Some(_) => ("Other", 99, "Other", 99),
        None => ("Unknown", 0, "Unknown", 0),
    };
    o.insert("action".into(), json!(action));
    o.insert("action_id".into(), json!(action_id));
    o.insert("disposition".into(), json!(disposition));
    o.insert("disposition_id".into(), json!(disposition_id));
    match r.log_status.as_deref() {
        Some("OK") => {
            o.insert("status".into(), json!("Success"));
            o.insert("status_id".into(), json!(1));
        }
        Some(s) => {
            o.insert("status".into(), json!(s));
            o.insert("status_id".into(), json!(99));
        }
        None => {
            o.insert("status".into(), json!("Unknown"));
            o.insert("status_id".into(), json!(0));
        }
    }
    put_str(&mut o, "status_code", r.log_status.as_deref());

    let mut src = Map::new();
    let mut dst = Map::new();
    endpoint_ip(&mut src, r.srcaddr, r.pkt_srcaddr);
    endpoint_ip(&mut dst, r.dstaddr, r.pkt_dstaddr);
    put(&mut src, "port", r.srcport.map(Value::from));
    put(&mut dst, "port", r.dstport.map(Value::from));
    put_str(&mut src, "svc_name", r.pkt_src_aws_service.as_deref());
    put_str(&mut dst, "svc_name", r.pkt_dst_aws_service.as_deref());

    // The interface that recorded the flow is the destination of ingress traffic and the
    // source of egress traffic. Without flow-direction it is not known which end it is, so the
    // attributes go to `device` (the observing host) rather than to a guessed endpoint.
    let mut device = Map::new();
    let owner = match r.flow_direction.as_deref() {
        Some("ingress") => &mut dst,
        Some("egress") => &mut src,
        _ => &mut device,
    };
    put_str(owner, "interface_uid", r.interface_id.as_deref());
    put_str(owner, "vpc_uid", r.vpc_id.as_deref());
    put_str(owner, "subnet_uid", r.subnet_id.as_deref());
    put_str(owner, "instance_uid", r.instance_id.as_deref());
    if !src.is_empty() {
        o.insert("src_endpoint".into(), Value::Object(src));
    }
    if !dst.is_empty() {
        o.insert("dst_endpoint".into(), Value::Object(dst));
    }
    if !device.is_empty() {
        device.insert("type_id".into(), json!(6));
        device.insert("type".into(), json!("Virtual"));
        o.insert("device".into(), Value::Object(device));
    }

    let mut conn = Map::new();
    if let Some(p) = r.protocol {
        conn.insert("protocol_num".into(), json!(p));
        put_str(&mut conn, "protocol_name", protocol_name(p));
    }
    put(&mut conn, "tcp_flags", r.tcp_flags.map(Value::from));
    match r.flow_direction.as_deref() {
        Some("ingress") => {
            conn.insert("direction".into(), json!("Inbound"));
            conn.insert("direction_id".into(), json!(1));
        }
        Some("egress") => {
            conn.insert("direction".into(), json!("Outbound"));
            conn.insert("direction_id".into(), json!(2));
        }
        Some(other) => {
            conn.insert("direction".into(), json!(other));
            conn.insert("direction_id".into(), json!(99));
        }
        None => {}
    }
    if let Some(tp) = r.traffic_path {
        let (id, name) = match tp {
            1 => (4, "Same VPC"),
            2 => (5, "Internet/VPC Gateway"),
            3 => (6, "Virtual Private Gateway"),
            4 => (7, "Intra-region VPC"),
            5 => (8, "Inter-region VPC"),
            6 => (9, "Local Gateway"),
            7 => (10, "Gateway VPC"),
            8 => (11, "Internet Gateway"),
            _ => (99, "Other"),
        };
        conn.insert("boundary_id".into(), json!(id));
        conn.insert("boundary".into(), json!(name));
    }
    let family = match r.traffic_type.as_deref() {
        Some("IPv4") => Some((4, "IPv4")),
        Some("IPv6") => Some((6, "IPv6")),
        Some(_) => Some((99, "Other")),
        None => match r.srcaddr.or(r.dstaddr) {
            Some(IpAddr::V4(_)) => Some((4, "IPv4")),
            Some(IpAddr::V6(_)) => Some((6, "IPv6")),
            None => None,
        },
    };
    if let Some((id, name)) = family {
        conn.insert("protocol_ver_id".into(), json!(id));
        conn.insert("protocol_ver".into(), json!(name));
    }
    if !conn.is_empty() {
        o.insert("connection_info".into(), Value::Object(conn));
    }

    let mut traffic = Map::new();
    put(&mut traffic, "packets", r.packets.map(Value::from));
    put(&mut traffic, "bytes", r.bytes.map(Value::from));
    if !traffic.is_empty() {
        o.insert("traffic".into(), Value::Object(traffic));
    }

    let mut cloud = Map::new();
    cloud.insert("provider".into(), json!("AWS"));
    if let Some(a) = &r.account_id {
        cloud.insert("account".into(), json!({ "uid": a }));
    }
    put_str(&mut cloud, "region", r.region.as_deref());
    put_str(&mut cloud, "zone", r.az_id.as_deref());
    o.insert("cloud".into(), Value::Object(cloud));

    let mut meta = Map::new();
    meta.insert(
        "product".into(),
        json!({ "name": "Amazon VPC", "vendor_name": "AWS", "feature": { "name": "Flowlogs" } }),
    );
    meta.insert("profiles".into(), json!(["cloud", "security_control"]));
    meta.insert("version".into(), json!("1.6.0"));
    meta.insert("uid".into(), json!(event.uid));
    put(
        &mut meta,
        "log_version",
        r.version.map(|v| Value::String(format!("v{v}"))),
    );
    o.insert("metadata".into(), Value::Object(meta));

    let mut unmapped = Map::new();
    for (k, v) in &r.extra {
        unmapped.insert(k.clone(), json!(v));
    }
    if let Some(t) = r.traffic_type.as_deref()
        && t != "IPv4"
        && t != "IPv6"
    {
        unmapped.insert("type".into(), json!(t));
    }
    unmapped.insert(
        "origin".into(),
        json!({ "source": &*event.source, "index": event.index }),
    );
    o.insert("unmapped".into(), Value::Object(unmapped));
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(input: &str) -> Batch {
        let mut b = Batch::default();
        parse(&Arc::from("f.log"), input.as_bytes(), &mut b);
        assert_eq!(b.records, (b.events.len() + b.rejects.len()) as u64);
        b
    }

    #[test]
    fn header_detection() {
        assert!(is_header(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        ));
        assert!(is_header("account_id bytes dstaddr"));
        assert!(is_header("version future-field-x"));
        assert!(!is_header("eni-0abc vpc-0def"));
        assert!(!is_header(
            "2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA"
        ));
    }

    #[test]
    fn looks_like_accepts_flow_and_refuses_others() {
        assert!(looks_like(
            b"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK"
        ));
        assert!(looks_like(
            b"2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA\r"
        ));
        assert!(looks_like(b"account-id bytes dstaddr dstport end"));
        assert!(!looks_like(br#"{"Records":[]}"#));
        assert!(!looks_like(
            br#"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" -"#
        ));
        assert!(!looks_like(b""));
        assert!(!looks_like(b"hello world"));
    }

    #[test]
    fn numbers_are_strict() {
        assert_eq!(parse_u64("0"), Some(0));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(
            num::<u64>("123456789012345678901234", "bytes").unwrap_err(),
            "bytes `123456789012345678901234` is out of range"
        );
        assert_eq!(
            num::<u16>("65536", "srcport").unwrap_err(),
            "srcport `65536` is out of range"
        );
    }

    #[test]
    fn time_overflow_is_a_reject() {
        let b = run("start end\n9223372036854775807 -\n");
        assert_eq!(b.rejects.len(), 1);
        assert!(
            b.rejects[0].reason.contains("out of range"),
            "{}",
            b.rejects[0].reason
        );
    }

    #[test]
    fn delivery_time_from_object_name() {
        let key = "AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/05/01/\
                   111122223333_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20240501T0805Z_1a2b3c4d.log.gz";
        assert_eq!(time_from_name(key), Some(1_714_550_700_000));
        assert_eq!(time_from_name("x_20241301T0805Z_y"), None);
        assert_eq!(time_from_name("flow.log"), None);
        assert_eq!(time_from_name(""), None);
        let mut b = Batch::default();
        let nat = "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr\n\
                   - eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5\n";
        parse(&Arc::from(key), nat.as_bytes(), &mut b);
        assert_eq!(b.events.len(), 1);
        assert_eq!(b.events[0].time_ms, 1_714_550_700_000);
        let b = run(nat);
        assert_eq!(b.rejects.len(), 1);
        assert!(b.rejects[0].reason.contains("neither a start nor an end"));
        // A format with start/end but a record with neither is malformed whatever the name.
        let mut b = Batch::default();
        parse(&Arc::from(key), b"start end action\n- - ACCEPT\n", &mut b);
        assert_eq!(b.rejects[0].reason, "missing start and end: no event time");
    }

    #[test]
    fn a_record_of_lowercase_words_is_not_a_later_header() {
        let b = run("interface-type instance-tag\nnat_gateway web\nnat_gateway version\n");
        assert_eq!(b.records, 2);
        assert_eq!(b.rejects.len(), 2, "no time, but both read as records");
        assert!(is_header("nat_gateway version"));
        assert!(!is_later_header("nat_gateway version"));
        assert!(is_later_header("version account-id future-a future-b"));
    }

    #[test]
    fn later_header_switches_layout() {
        let b = run("start end\n1 2\nend start version\n5 4 3\n");
        assert_eq!(b.events.len(), 2);
        assert_eq!(b.events[1].index, 4);
        assert_eq!(b.events[1].time_ms, 4000);
        assert_eq!(b.events[1].flow().unwrap().version, Some(3));
    }
}
