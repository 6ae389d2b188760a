//! VPC Flow Log records and their two on-disk layouts: the default version 2 format and a
//! custom version 5 format with every v5 field (packet addresses, direction, traffic path).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::org::Org;

/// Header of the default format (AWS writes the field names as the first line of each file).
pub(crate) const DEFAULT_HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// Header of the custom format used by some flow logs.
pub(crate) const CUSTOM_HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Accept,
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Ingress,
    Egress,
}

/// One flow record, independent of the layout it will be written in.
#[derive(Debug, Clone)]
pub(crate) struct FlowRec {
    /// Index into `Org::enis`; the flow log, account and VPC follow from it.
    pub eni: usize,
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    /// 6 TCP, 17 UDP, 1 ICMP.
    pub proto: u8,
    pub packets: u64,
    pub bytes: u64,
    /// Capture window, seconds since the epoch.
    pub start: i64,
    pub end: i64,
    pub action: Action,
    /// A `NODATA` record: no traffic on the interface during the window.
    pub nodata: bool,
    pub tcp_flags: u16,
    pub direction: Direction,
    /// Original packet addresses when they differ (NAT, load balancers).
    pub pkt_src: Option<Ipv4Addr>,
    pub pkt_dst: Option<Ipv4Addr>,
    pub src_service: Option<&'static str>,
    pub dst_service: Option<&'static str>,
    /// 1 same VPC, 2 internet gateway / gateway endpoint, 8 internet gateway (egress only).
    pub traffic_path: Option<u8>,
}

impl FlowRec {
    /// Sort key inside a file.
    pub(crate) fn time_ms(&self) -> i64 {
        self.start * 1000
    }

    /// Appends one line (without the newline) in the layout of the record's flow log.
    pub(crate) fn render(&self, org: &Org, out: &mut String) {
        let eni = &org.enis[self.eni];
        let vpc = &org.vpcs[eni.vpc];
        let account = org.account_id(eni.account);
        let version = if vpc.custom_format { 5 } else { 2 };
        let _ = write!(out, "{version} {account} {} ", eni.id);
        if self.nodata {
            let _ = write!(out, "- - - - - - - {} {} - NODATA", self.start, self.end);
        } else {
            let action = if self.action == Action::Accept {
                "ACCEPT"
            } else {
                "REJECT"
            };
            let _ = write!(
                out,
                "{} {} {} {} {} {} {} {} {} {action} OK",
                self.src,
                self.dst,
                self.sport,
                self.dport,
                self.proto,
                self.packets,
                self.bytes,
                self.start,
                self.end
            );
        }
        if !vpc.custom_format {
            return;
        }
        let dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_string());
        let instance = eni.instance_id.as_deref().unwrap_or("-");
        if self.nodata {
            let _ = write!(
                out,
                " {} {} {instance} - - - - {} {} - - - - - -",
                vpc.id,
                eni.subnet,
                vpc.region,
                super::catalog::az_id(vpc.region, eni.az)
            );
            return;
        }
        let _ = write!(
            out,
            " {} {} {instance} {} IPv4 {} {} {} {} - - {} {} {} {}",
            vpc.id,
            eni.subnet,
            if self.proto == 6 { self.tcp_flags } else { 0 },
            self.pkt_src.unwrap_or(self.src),
            self.pkt_dst.unwrap_or(self.dst),
            vpc.region,
            super::catalog::az_id(vpc.region, eni.az),
            self.src_service.unwrap_or("-"),
            self.dst_service.unwrap_or("-"),
            if self.direction == Direction::Ingress {
                "ingress"
            } else {
                "egress"
            },
            dash(self.traffic_path.map(|p| p.to_string())),
        );
    }
}

impl FlowRec {
    /// A TCP flow record with the usual defaults (TCP, flags for a completed or refused
    /// connection, no address translation).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp(
        eni: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        sport: u16,
        dport: u16,
        start: i64,
        dur: i64,
        packets: u64,
        bytes: u64,
        action: Action,
        direction: Direction,
    ) -> Self {
        FlowRec {
            eni,
            src,
            dst,
            sport,
            dport,
            proto: 6,
            packets,
            bytes,
            start,
            end: start + dur.max(1),
            action,
            nodata: false,
            tcp_flags: if action == Action::Accept { 19 } else { 2 },
            direction,
            pkt_src: None,
            pkt_dst: None,
            src_service: None,
            dst_service: None,
            traffic_path: None,
        }
    }
}
