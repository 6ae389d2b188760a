//! Network scenarios seen only in VPC Flow Logs: scans, sweeps, brute force, bulk egress.

use std::net::Ipv4Addr;

use super::Ctx;
use crate::simulate::clock::MINUTE;
use crate::simulate::flow::{Action, Direction, FlowRec};
use crate::simulate::org::EniKind;
use crate::simulate::rng::RngExt;

/// ENI of a production instance, preferring one with a public address.
fn instance_eni(c: &Ctx<'_>, public: bool) -> Option<usize> {
    let org = c.org;
    let prod = org.prod();
    org.instances
        .iter()
        .filter(|i| i.account == prod)
        .map(|i| i.eni)
        .find(|e| org.enis[*e].public_ip.is_some() == public)
        .or_else(|| {
            org.instances
                .iter()
                .find(|i| i.account == prod)
                .map(|i| i.eni)
        })
}

fn parse_ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap_or(Ipv4Addr::new(192, 0, 2, 1))
}

fn mark_eni(c: &mut Ctx<'_>, e: usize) {
    let eni = c.org.enis[e].clone();
    c.resource(&eni.id);
    if let Some(i) = &eni.instance_id {
        c.resource(i);
    }
}

/// One external address probes hundreds of ports on one host within minutes; nearly all are
/// refused by the security group.
pub(super) fn port_scan(c: &mut Ctx<'_>) {
    let Some(e) = instance_eni(c, true) else {
        return;
    };
    mark_eni(c, e);
    let dst = c.org.enis[e].private_ip;
    let src = parse_ip(&c.attacker_ip());
    let n = c.r.between(400, 1000) as u16;
    let base = c.t / 1000;
    let span = c.r.between(180, 420);
    let sport = c.r.between(40_000, 60_000) as u16;
    for k in 0..n {
        let port = if k < 1024 {
            k + 1
        } else {
            1024 + (k * 37) % 64_000
        };
        let start = base + span * i64::from(k) / i64::from(n);
        let open = port == 22 || port == 8080;
        let action = if open { Action::Accept } else { Action::Reject };
        let (p, b) = if open { (3, 164) } else { (1, 44) };
        let dur = c.r.between(1, 30);
        c.flow(FlowRec::tcp(
            e,
            src,
            dst,
            sport,
            port,
            start,
            dur,
            p,
            b,
            action,
            Direction::Ingress,
        ));
    }
}

/// A compromised instance probes one port (SMB) on hundreds of addresses of its VPC.
pub(super) fn host_sweep(c: &mut Ctx<'_>) {
    let Some(e) = instance_eni(c, false) else {
        return;
    };
    mark_eni(c, e);
    let eni = c.org.enis[e].clone();
    let octet = c.org.vpcs[eni.vpc].octet;
    let port = *c.r.pick(&[445u16, 22, 3389]);
    let n = c.r.between(200, 400);
    let base = c.t / 1000;
    for k in 0..n {
        let dst = Ipv4Addr::new(
            10,
            octet,
            (k / 250) as u8 + c.r.between(0, 40) as u8,
            (k % 250) as u8 + 2,
        );
        let start = base + k * c.r.between(1, 3);
        let mut rec = FlowRec::tcp(
            e,
            eni.private_ip,
            dst,
            c.r.between(32_768, 60_999) as u16,
            port,
            start,
            c.r.between(1, 10),
            2,
            120,
            Action::Accept,
            Direction::Egress,
        );
        rec.tcp_flags = 2;
        rec.traffic_path = Some(1);
        c.flow(rec);
    }
}

/// Hundreds of short SSH sessions from one address to a host with SSH open.
pub(super) fn ssh_brute_force(c: &mut Ctx<'_>) {
    let Some(e) = instance_eni(c, true) else {
        return;
    };
    mark_eni(c, e);
    let dst = c.org.enis[e].private_ip;
    let src = parse_ip(&c.attacker_ip());
    let n = c.r.between(300, 600);
    let base = c.t / 1000;
    let span = c.r.between(30, 60) * 60;
    for k in 0..n {
        let start = base + span * k / n;
        let sport = c.r.between(32_768, 60_999) as u16;
        let dur = c.r.between(2, 8);
        let bytes = c.r.between(2_200, 5_200) as u64;
        let pk = 12 + c.r.between(0, 12) as u64;
        c.flow(FlowRec::tcp(
            e,
            src,
            dst,
            sport,
            22,
            start,
            dur,
            pk,
            bytes,
            Action::Accept,
            Direction::Ingress,
        ));
        let mut back = FlowRec::tcp(
            e,
            dst,
            src,
            22,
            sport,
            start,
            dur,
            10 + c.r.between(0, 10) as u64,
            bytes + 600,
            Action::Accept,
            Direction::Egress,
        );
        back.traffic_path = Some(8);
        c.flow(back);
    }
}

/// Gigabytes from one instance to an address it never talked to, over an hour or two.
pub(super) fn exfiltration(c: &mut Ctx<'_>) {
    let org = c.org;
    let prod = org.prod();
    let e = org
        .instances
        .iter()
        .filter(|i| i.account == prod)
        .map(|i| i.eni)
        .rfind(|e| org.enis[*e].kind == EniKind::Instance && org.enis[*e].public_ip.is_some());
    let Some(e) = e else { return };
    mark_eni(c, e);
    let src = org.enis[e].private_ip;
    let dst = parse_ip(&c.attacker_ip());
    let n = c.r.between(12, 30);
    let sport = c.r.between(32_768, 60_999) as u16;
    for _ in 0..n {
        let start = c.t / 1000;
        let bytes = c.r.between(200_000_000, 1_500_000_000) as u64;
        let mut rec = FlowRec::tcp(
            e,
            src,
            dst,
            sport,
            443,
            start,
            c.r.between(50, 59),
            bytes / 1400,
            bytes,
            Action::Accept,
            Direction::Egress,
        );
        rec.traffic_path = Some(8);
        c.flow(rec);
        let ack = FlowRec::tcp(
            e,
            dst,
            src,
            443,
            sport,
            start,
            59,
            bytes / 28_000,
            bytes / 50,
            Action::Accept,
            Direction::Ingress,
        );
        c.flow(ack);
        c.step(60_000, 5 * MINUTE);
    }
}
