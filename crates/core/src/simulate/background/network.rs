//! VPC traffic: clients reaching the load balancers, load balancers reaching tasks and
//! instances, services reaching the database, egress through the NAT gateway to AWS and SaaS
//! endpoints, the constant background of internet scanners bouncing off security groups, and
//! the occasional idle interface (`NODATA`).

use std::net::Ipv4Addr;

use rand::Rng;

use super::Gen;
use crate::simulate::clock::HOUR;
use crate::simulate::emit::WINDOW;
use crate::simulate::flow::{Action, Direction, FlowRec};
use crate::simulate::org::{Eni, EniKind};
use crate::simulate::rng::{RngExt, SimRng, tag};

fn ip_in(r: &mut SimRng, net: &[u8; 2]) -> Ipv4Addr {
    Ipv4Addr::new(
        net[0],
        net[1],
        r.between(0, 255) as u8,
        r.between(1, 254) as u8,
    )
}

fn ephemeral(r: &mut SimRng) -> u16 {
    r.between(32_768, 60_999) as u16
}

/// Ports internet scanners probe all day long.
const NOISE_PORTS: &[u16] = &[
    22, 23, 80, 443, 445, 3389, 8080, 5900, 6379, 9200, 2375, 5432, 1433, 8443, 21,
];

pub(super) fn hour(g: &mut Gen<'_>) {
    let org = g.org;
    let vpcs: Vec<usize> = (0..org.vpcs.len())
        .filter(|v| org.vpcs[*v].account == g.account)
        .collect();
    let busy = if (12..23).contains(&g.utc_hour()) {
        1.3
    } else {
        0.6
    };
    for v in vpcs {
        let enis = org.vpcs[v].enis.clone();
        let targets: Vec<usize> = enis
            .iter()
            .copied()
            .filter(|e| matches!(org.enis[*e].kind, EniKind::Instance | EniKind::Task))
            .collect();
        let db = enis
            .iter()
            .copied()
            .find(|e| org.enis[*e].kind == EniKind::Database);
        let nat = enis
            .iter()
            .copied()
            .find(|e| org.enis[*e].kind == EniKind::Nat);
        for &e in &enis {
            let mut r = g.rng(&[tag("flow"), e as u64]);
            let eni = org.enis[e].clone();
            match eni.kind {
                EniKind::LoadBalancer => load_balancer(g, &mut r, e, &eni, &targets, busy),
                EniKind::Instance | EniKind::Task => workload(g, &mut r, e, &eni, db, nat, busy),
                EniKind::Nat => nat_gateway(g, &mut r, e, &eni, busy),
                EniKind::Database => {}
            }
            if eni.public_ip.is_some() {
                noise(g, &mut r, e, &eni);
            }
            // An idle five-minute window now and then.
            for w in 0..(HOUR / WINDOW) {
                if r.chance(0.004) {
                    let start = (g.hour_ms + w * WINDOW) / 1000;
                    let mut rec = FlowRec::tcp(
                        e,
                        eni.private_ip,
                        eni.private_ip,
                        0,
                        0,
                        start,
                        58,
                        0,
                        0,
                        Action::Accept,
                        Direction::Ingress,
                    );
                    rec.nodata = true;
                    g.flow(rec);
                }
            }
        }
    }
}

fn t_sec(g: &Gen<'_>, r: &mut SimRng) -> i64 {
    (g.hour_ms + r.random_range(0..HOUR)) / 1000
}

fn load_balancer(
    g: &mut Gen<'_>,
    r: &mut SimRng,
    e: usize,
    eni: &Eni,
    targets: &[usize],
    busy: f64,
) {
    let n = r.poisson(28.0 * busy * g.scale);
    for _ in 0..n {
        let client = {
            let n = *r.pick(crate::simulate::catalog::CLIENT_NETS);
            ip_in(r, &n)
        };
        let sport = ephemeral(r);
        let start = t_sec(g, r);
        let dur = r.between(1, 55);
        let req_bytes = r.lognormal(1_800.0, 0.8) as u64 + 60;
        let resp_bytes = r.lognormal(24_000.0, 1.2) as u64 + 60;
        let mut inbound = FlowRec::tcp(
            e,
            client,
            eni.private_ip,
            sport,
            443,
            start,
            dur,
            6 + req_bytes / 1400,
            req_bytes,
            Action::Accept,
            Direction::Ingress,
        );
        inbound.pkt_dst = Some(eni.private_ip);
        g.flow(inbound);
        let mut outbound = FlowRec::tcp(
            e,
            eni.private_ip,
            client,
            443,
            sport,
            start,
            dur,
            4 + resp_bytes / 1400,
            resp_bytes,
            Action::Accept,
            Direction::Egress,
        );
        outbound.traffic_path = Some(8);
        g.flow(outbound);
        if !targets.is_empty() {
            let tgt = targets[r.index(targets.len())];
            let tip = g.org.enis[tgt].private_ip;
            let lport = ephemeral(r);
            g.flow(FlowRec::tcp(
                e,
                eni.private_ip,
                tip,
                lport,
                8080,
                start,
                dur,
                5 + req_bytes / 1400,
                req_bytes,
                Action::Accept,
                Direction::Egress,
            ));
            // The target's own interface sees the same connection.
            g.flow(FlowRec::tcp(
                tgt,
                eni.private_ip,
                tip,
                lport,
                8080,
                start,
                dur,
                5 + req_bytes / 1400,
                req_bytes,
                Action::Accept,
                Direction::Ingress,
            ));
        }
    }
}

fn workload(
    g: &mut Gen<'_>,
    r: &mut SimRng,
    e: usize,
    eni: &Eni,
    db: Option<usize>,
    nat: Option<usize>,
    busy: f64,
) {
    let n_db = if db.is_some() {
        r.poisson(8.0 * busy * g.scale)
    } else {
        0
    };
    if let Some(db) = db {
        let dip = g.org.enis[db].private_ip;
        for _ in 0..n_db {
            let start = t_sec(g, r);
            let sport = ephemeral(r);
            let bytes = r.lognormal(6_000.0, 1.0) as u64 + 100;
            let dur = r.between(1, 59);
            g.flow(FlowRec::tcp(
                e,
                eni.private_ip,
                dip,
                sport,
                5432,
                start,
                dur,
                8 + bytes / 1400,
                bytes,
                Action::Accept,
                Direction::Egress,
            ));
            g.flow(FlowRec::tcp(
                db,
                eni.private_ip,
                dip,
                sport,
                5432,
                start,
                dur,
                8 + bytes / 1400,
                bytes,
                Action::Accept,
                Direction::Ingress,
            ));
        }
    }
    let n_out = r.poisson(7.0 * busy * g.scale);
    for _ in 0..n_out {
        let aws = r.chance(0.7);
        let dst = if aws {
            {
                let n = *r.pick(crate::simulate::catalog::AWS_NETS);
                ip_in(r, &n)
            }
        } else {
            let n = *r.pick(crate::simulate::catalog::SAAS_NETS);
            Ipv4Addr::new(n[0], n[1], n[2], r.between(1, 254) as u8)
        };
        let start = t_sec(g, r);
        let sport = ephemeral(r);
        let sent = r.lognormal(3_000.0, 1.0) as u64 + 100;
        let dur = r.between(1, 40);
        let mut rec = FlowRec::tcp(
            e,
            eni.private_ip,
            dst,
            sport,
            443,
            start,
            dur,
            5 + sent / 1400,
            sent,
            Action::Accept,
            Direction::Egress,
        );
        rec.traffic_path = Some(if eni.public_ip.is_some() { 8 } else { 1 });
        if aws {
            rec.dst_service = Some("AMAZON");
        }
        g.flow(rec);
        if let (Some(nat), None) = (nat, eni.public_ip) {
            let nat_eni = &g.org.enis[nat];
            let mut via = FlowRec::tcp(
                nat,
                nat_eni.private_ip,
                dst,
                sport,
                443,
                start,
                dur,
                5 + sent / 1400,
                sent,
                Action::Accept,
                Direction::Egress,
            );
            via.pkt_src = Some(eni.private_ip);
            via.traffic_path = Some(8);
            if aws {
                via.dst_service = Some("AMAZON");
            }
            g.flow(via);
        }
    }
}

fn nat_gateway(g: &mut Gen<'_>, r: &mut SimRng, e: usize, eni: &Eni, busy: f64) {
    // Return traffic of the egress connections.
    let n = r.poisson(10.0 * busy * g.scale);
    for _ in 0..n {
        let src = {
            let n = *r.pick(crate::simulate::catalog::AWS_NETS);
            ip_in(r, &n)
        };
        let start = t_sec(g, r);
        let bytes = r.lognormal(20_000.0, 1.3) as u64 + 100;
        let mut rec = FlowRec::tcp(
            e,
            src,
            eni.private_ip,
            443,
            ephemeral(r),
            start,
            r.between(1, 40),
            4 + bytes / 1400,
            bytes,
            Action::Accept,
            Direction::Ingress,
        );
        rec.src_service = Some("AMAZON");
        g.flow(rec);
    }
}

/// Internet background radiation: many sources, a few ports each, almost all refused.
fn noise(g: &mut Gen<'_>, r: &mut SimRng, e: usize, eni: &Eni) {
    let n = r.poisson(7.0 * g.scale.max(0.01).sqrt());
    for _ in 0..n {
        let src = {
            let n = *r.pick(crate::simulate::catalog::NOISE_NETS);
            ip_in(r, &n)
        };
        let port = *r.pick(NOISE_PORTS);
        let open = eni.kind == EniKind::LoadBalancer && port == 443;
        let start = t_sec(g, r);
        let action = if open { Action::Accept } else { Action::Reject };
        let (p, b) = if open { (6, 700) } else { (1, 44) };
        g.flow(FlowRec::tcp(
            e,
            src,
            eni.private_ip,
            ephemeral(r),
            port,
            start,
            r.between(1, 50),
            p,
            b,
            action,
            Direction::Ingress,
        ));
    }
}
