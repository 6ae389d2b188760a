//! Scans, sweeps and brute force in VPC Flow Logs, per source address.
//!
//! **What** (windows of flows with gaps under 5 minutes, at most 30 minutes long; brute force
//! 10 and 120):
//! - port scan: one source probing 50 or more ports of one host (Medium from the internet,
//!   where it is common; High from inside the VPC);
//! - sweep: one source reaching 30 or more private hosts on one port (High from inside: a
//!   compromised instance looking for its next victim);
//! - SSH/RDP brute force: 50 or more short connections from one internet address to port 22
//!   or 3389 of one host, at least 20 of them accepted (a refused storm is only noise);
//! - rejected-traffic spike: 300 or more refused flows from one source in a window that is
//!   not already a port scan (Low).
//!
//! Only probe-like flows count towards scans and sweeps (refused, or at most 3 packets), so
//! ordinary client traffic never fills these windows.
//! **Why**: discovery of services (T1046) precedes exploitation; SSH/RDP guessing (T1110.001,
//! T1021.004) against an exposed host is an intrusion in progress when connections are
//! accepted.
//! **Baseline**: none; thresholds well above the scattered probes of internet background
//! noise (a few ports per source).
//! **False positives**: vulnerability scanners you run, monitoring that checks many hosts.
//! One finding per (source, target, kind) and day.
//! **ATT&CK**: T1046, T1110.001, T1021.004.
//! **References**: AWS, "VPC Flow Log records"; GuardDuty Recon:EC2/Portscan,
//! UnauthorizedAccess:EC2/SSHBruteForce and RDPBruteForce.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::activity::is_public;
use super::baseline::DAY_MS;
use super::sequence::{Evidence, Report, finding, join};
use super::{Activity, Ctx, Detector, anomaly_entry, risk_score};
use crate::finding::{Observable, ObservableType, Resource};

const ID: &str = "network-scan";
const GAP_MS: i64 = 5 * 60_000;
const MAX_SPAN_MS: i64 = 30 * 60_000;
const BRUTE_GAP_MS: i64 = 10 * 60_000;
const BRUTE_SPAN_MS: i64 = 2 * 3_600_000;
const SCAN_PORTS: usize = 50;
const SWEEP_HOSTS: usize = 30;
const BRUTE_CONNS: u64 = 50;
const BRUTE_ACCEPTED: u64 = 20;
const REJECT_SPIKE: u64 = 300;
const CAP: usize = 2048;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Scan {
    ev: Evidence,
    ports: BTreeSet<u16>,
    rejected: u64,
    interface: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Sweep {
    ev: Evidence,
    hosts: BTreeSet<IpAddr>,
    interface: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Brute {
    ev: Evidence,
    accepted: u64,
    interface: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    scans: BTreeMap<(IpAddr, IpAddr), Scan>,
    sweeps: BTreeMap<(IpAddr, u16), Sweep>,
    brutes: BTreeMap<(IpAddr, IpAddr, u16), Brute>,
}

/// See the module documentation.
#[derive(Default)]
pub struct FlowScan {
    s: State,
}

struct Emit<'a> {
    kind: &'a str,
    src: IpAddr,
    target: String,
    strength: f64,
    title: String,
    desc: String,
    attacks: &'a [&'static str],
    port: Option<u16>,
    interface: &'a str,
    observed: String,
}

fn emit(ev: &Evidence, x: Emit<'_>, ctx: &mut Ctx) {
    let risk = risk_score(x.strength, 0.5, 0.8, 0.6);
    let day = ev.first_ms.div_euclid(DAY_MS).to_string();
    let src = x.src.to_string();
    let mut observables = vec![Observable {
        kind: ObservableType::IpAddress,
        value: src.clone(),
    }];
    if let Some(p) = x.port {
        observables.push(Observable {
            kind: ObservableType::Port,
            value: p.to_string(),
        });
    }
    let resources = if x.interface.is_empty() {
        Vec::new()
    } else {
        vec![Resource {
            uid: x.interface.to_string(),
            kind: "AWS::EC2::NetworkInterface".into(),
            region: ev.region.clone(),
            account: ev.account.clone(),
        }]
    };
    let anomaly = vec![anomaly_entry(
        &format!("{} from {src}", x.kind),
        (&src, "ip"),
        x.kind,
        x.observed.clone(),
        (ev.first_ms, ev.last_ms),
        x.observed,
        vec![],
        "thresholds above internet background noise",
    )];
    let f = finding(
        ev,
        Report {
            detector: ID,
            name: "Network scan or brute force",
            key: &[x.kind, &src, &x.target, &day],
            title: x.title,
            desc: x.desc,
            remediation: "If the source is inside your network, isolate the instance and investigate it. From the \
                          internet: make sure the targeted ports are not exposed (security groups, NACLs), block the \
                          address, and check the target hosts' authentication logs.",
            attacks: x.attacks,
            risk,
            confidence: 80,
            observables,
            resources,
            anomaly,
        },
        ctx.cfg,
    );
    ctx.out.push(f);
}

fn minutes(ev: &Evidence) -> i64 {
    ((ev.last_ms - ev.first_ms) / 60_000).max(1)
}

impl FlowScan {
    fn close_scan(src: IpAddr, dst: IpAddr, s: &Scan, ctx: &mut Ctx) {
        let inside = !is_public(src);
        if s.ports.len() >= SCAN_PORTS {
            let ports = s.ports.len();
            emit(
                &s.ev,
                Emit {
                    kind: "port-scan",
                    src,
                    target: dst.to_string(),
                    strength: if inside {
                        0.82
                    } else if ports >= 500 {
                        0.66
                    } else {
                        0.58
                    },
                    title: format!(
                        "Port scan: {src} probed {ports} ports of {dst} in {} minutes",
                        minutes(&s.ev)
                    ),
                    desc: format!(
                        "{src} probed {ports} distinct ports of {dst} ({} flows, {} refused){}. Scans map the services a \
                         host exposes before exploitation.",
                        s.ev.count,
                        s.rejected,
                        if inside {
                            "; the source is inside the network, so a host of yours is scanning"
                        } else {
                            ""
                        },
                    ),
                    attacks: &["T1046"],
                    port: None,
                    interface: &s.interface,
                    observed: format!("{ports} ports"),
                },
                ctx,
            );
        } else if s.rejected >= REJECT_SPIKE {
            emit(
                &s.ev,
                Emit {
                    kind: "reject-spike",
                    src,
                    target: dst.to_string(),
                    strength: 0.33,
                    title: format!(
                        "Rejected traffic spike: {} refused flows from {src} to {dst}",
                        s.rejected
                    ),
                    desc: format!(
                        "{src} sent {} flows to {dst} that were refused, on {} port(s).",
                        s.rejected,
                        s.ports.len()
                    ),
                    attacks: &["T1046"],
                    port: None,
                    interface: &s.interface,
                    observed: format!("{} refused flows", s.rejected),
                },
                ctx,
            );
        }
    }

    fn close_sweep(src: IpAddr, port: u16, s: &Sweep, ctx: &mut Ctx) {
        if s.hosts.len() < SWEEP_HOSTS {
            return;
        }
        let inside = !is_public(src);
        let n = s.hosts.len();
        emit(
            &s.ev,
            Emit {
                kind: "host-sweep",
                src,
                target: port.to_string(),
                strength: if inside { 0.82 } else { 0.58 },
                title: format!(
                    "Host sweep: {src} probed port {port} on {n} internal hosts in {} minutes",
                    minutes(&s.ev)
                ),
                desc: format!(
                    "{src} reached port {port} on {n} private addresses ({}).{} Sweeping one port across a network is how \
                     worms and intruders find their next target.",
                    join(s.hosts.iter().map(|h| h.to_string()), 5),
                    if inside {
                        " The source is one of your hosts."
                    } else {
                        ""
                    },
                ),
                attacks: &["T1046", "T1021"],
                port: Some(port),
                interface: &s.interface,
                observed: format!("{n} hosts"),
            },
            ctx,
        );
    }

    fn close_brute(src: IpAddr, dst: IpAddr, port: u16, b: &Brute, ctx: &mut Ctx) {
        if b.ev.count < BRUTE_CONNS || b.accepted < BRUTE_ACCEPTED {
            return;
        }
        let svc = if port == 22 { "SSH" } else { "RDP" };
        emit(
            &b.ev,
            Emit {
                kind: "brute-force",
                src,
                target: format!("{dst}:{port}"),
                strength: 0.82,
                title: format!(
                    "{svc} brute force: {src} opened {} connections to {dst}:{port} in {} minutes",
                    b.ev.count,
                    minutes(&b.ev)
                ),
                desc: format!(
                    "{src} made {} short connections to {svc} on {dst} ({} accepted by the network). Repeated short \
                     sessions are password guessing; the host answers, so only its own authentication stands in the way.",
                    b.ev.count, b.accepted
                ),
                attacks: if port == 22 {
                    &["T1110.001", "T1021.004"]
                } else {
                    &["T1110.001", "T1021"]
                },
                port: Some(port),
                interface: &b.interface,
                observed: format!("{} connections", b.ev.count),
            },
            ctx,
        );
    }
}

impl Detector for FlowScan {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        let Some(f) = &a.flow else { return };
        let (Some(src), Some(dst), Some(port)) = (f.src, f.dst, f.dst_port) else {
            return;
        };
        let probe = f.rejected || f.packets <= 3;
        if probe {
            let key = (src, dst);
            if self
                .s
                .scans
                .get(&key)
                .is_some_and(|s| !s.ev.fits(a.time_ms, GAP_MS, MAX_SPAN_MS))
                && let Some(s) = self.s.scans.remove(&key)
            {
                Self::close_scan(src, dst, &s, ctx);
            }
            let s = self.s.scans.entry(key).or_insert_with(|| Scan {
                ev: Evidence {
                    first_ms: a.time_ms,
                    last_ms: a.time_ms,
                    ..Evidence::default()
                },
                interface: f.interface.to_string(),
                ..Scan::default()
            });
            s.ev.add(a);
            if s.ports.len() < CAP {
                s.ports.insert(port);
            }
            if f.rejected {
                s.rejected += 1;
            }
            if !is_public(dst) {
                let key = (src, port);
                if self
                    .s
                    .sweeps
                    .get(&key)
                    .is_some_and(|s| !s.ev.fits(a.time_ms, GAP_MS, MAX_SPAN_MS))
                    && let Some(s) = self.s.sweeps.remove(&key)
                {
                    Self::close_sweep(src, port, &s, ctx);
                }
                let s = self.s.sweeps.entry(key).or_insert_with(|| Sweep {
                    ev: Evidence {
                        first_ms: a.time_ms,
                        last_ms: a.time_ms,
                        ..Evidence::default()
                    },
                    interface: f.interface.to_string(),
                    ..Sweep::default()
                });
                s.ev.add(a);
                if s.hosts.len() < CAP {
                    s.hosts.insert(dst);
                }
            }
        }
        if (port == 22 || port == 3389)
            && is_public(src)
            && !f.egress_external
            && f.packets <= 40
            && f.bytes <= 10_000
        {
            let key = (src, dst, port);
            if self
                .s
                .brutes
                .get(&key)
                .is_some_and(|b| !b.ev.fits(a.time_ms, BRUTE_GAP_MS, BRUTE_SPAN_MS))
                && let Some(b) = self.s.brutes.remove(&key)
            {
                Self::close_brute(src, dst, port, &b, ctx);
            }
            let b = self.s.brutes.entry(key).or_insert_with(|| Brute {
                ev: Evidence {
                    first_ms: a.time_ms,
                    last_ms: a.time_ms,
                    ..Evidence::default()
                },
                interface: f.interface.to_string(),
                ..Brute::default()
            });
            b.ev.add(a);
            if !f.rejected {
                b.accepted += 1;
            }
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        let due: Vec<(IpAddr, IpAddr)> = self
            .s
            .scans
            .iter()
            .filter(|(_, s)| s.ev.last_ms + GAP_MS < watermark_ms)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            if let Some(s) = self.s.scans.remove(&k) {
                Self::close_scan(k.0, k.1, &s, ctx);
            }
        }
        let due: Vec<(IpAddr, u16)> = self
            .s
            .sweeps
            .iter()
            .filter(|(_, s)| s.ev.last_ms + GAP_MS < watermark_ms)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            if let Some(s) = self.s.sweeps.remove(&k) {
                Self::close_sweep(k.0, k.1, &s, ctx);
            }
        }
        let due: Vec<(IpAddr, IpAddr, u16)> = self
            .s
            .brutes
            .iter()
            .filter(|(_, b)| b.ev.last_ms + BRUTE_GAP_MS < watermark_ms)
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            if let Some(b) = self.s.brutes.remove(&k) {
                Self::close_brute(k.0, k.1, k.2, &b, ctx);
            }
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&self.s)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.s = super::decode(bytes)?;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.s.scans.len() + self.s.sweeps.len() + self.s.brutes.len()
    }
}
