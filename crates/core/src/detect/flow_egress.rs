//! Per-interface egress volume to the internet, and new external destinations, from VPC Flow
//! Logs.
//!
//! **What**: bytes an ENI sends to public addresses per hour against its seasonal history, and
//! the first large transfer to a public network the ENI never talked to.
//! **Why**: exfiltration over the network (T1048, T1567) shows as an egress spike towards an
//! address the workload has no business with.
//! **Baseline**: hourly egress in 16 KiB units per ENI (three-week ring) with modified z-score
//! and a 100 MB floor; per ENI, the set of external /24 (or /48) networks seen (up to 512).
//! No accusation before `learning_days` of history for the ENI.
//! **False positives**: software updates from new mirrors, backups to new SaaS endpoints.
//! New destinations need 50 MB in an hour to count.
//! **ATT&CK**: T1048, T1567.
//! **References**: AWS, "Logging IP traffic using VPC Flow Logs"; GuardDuty
//! Exfiltration finding types.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::activity::network_of;
use super::baseline::{DAY_MS, HOUR_MS};
use super::hourly::{Closed, Hourly};
use super::{Activity, Ctx, Detector, FindingSpec, anomaly_entry, risk_score};
use crate::finding::{AnalyticType, Observable, ObservableType};

const ID: &str = "flow-egress";
const UNIT: u64 = 16 * 1024;
const MAX_DESTS: usize = 512;
const NEW_DEST_MIN_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Iface {
    first_ms: i64,
    dests: BTreeSet<String>,
}

#[derive(Default, Serialize, Deserialize)]
struct Saved {
    hourly: Hourly,
    ifaces: BTreeMap<String, Iface>,
}

/// See the module documentation.
#[derive(Default)]
pub struct FlowEgress {
    s: Saved,
}

impl FlowEgress {
    fn score(&self, c: Closed, ctx: &mut Ctx) {
        let eni = c.key.as_str();
        let hour_start = c.open.hour * HOUR_MS;
        let bytes = c.open.values[0] * UNIT;
        let iface = self.s.ifaces.get(eni);
        let learned = iface
            .is_some_and(|i| hour_start - i.first_ms >= i64::from(ctx.cfg.learning_days) * DAY_MS);
        // New destinations are tallied as "new:<net>" by observe.
        let new_dest = c
            .open
            .tally
            .iter()
            .filter(|(k, v)| k.starts_with("new:") && **v >= NEW_DEST_MIN_BYTES)
            .max_by_key(|(_, v)| **v)
            .map(|(k, v)| (k[4..].to_string(), *v));
        let spike = c.scores[0].filter(|r| {
            r.z >= ctx.cfg.z_threshold && bytes >= 100 * 1024 * 1024 && r.observed >= 5.0 * r.median
        });
        if !learned || (spike.is_none() && new_dest.is_none()) {
            return;
        }
        let strength = match (&spike, &new_dest) {
            (Some(r), Some(_)) => (0.7 + 0.1 * (r.z / ctx.cfg.z_threshold).log2()).clamp(0.0, 1.0),
            (Some(r), None) => (0.5 + 0.1 * (r.z / ctx.cfg.z_threshold).log2()).clamp(0.0, 1.0),
            _ => 0.5,
        };
        let risk = risk_score(strength, 0.6, 0.65, 0.7);
        let top = c.open.top_dest();
        let mb = bytes as f64 / 1e6;
        let mut why = Vec::new();
        if let Some(r) = &spike {
            why.push(format!(
                "{mb:.0} MB sent to the internet in one hour (usual {:.1} MB, z {:.1})",
                r.median * UNIT as f64 / 1e6,
                r.z
            ));
        }
        if let Some((net, b)) = &new_dest {
            why.push(format!(
                "{:.0} MB to {net}, a network this interface never talked to",
                *b as f64 / 1e6
            ));
        }
        let desc = format!(
            "Interface {eni} {} between {} and {}. Top destination: {}. Identify the instance behind the \
             interface and the process that sent the data.",
            why.join("; "),
            crate::time::format_iso8601_ms(hour_start),
            crate::time::format_iso8601_ms(hour_start + HOUR_MS),
            top.as_deref().unwrap_or("unknown"),
        );
        let mut observables = vec![Observable {
            kind: ObservableType::ResourceUid,
            value: eni.to_string(),
        }];
        if let Some(t) = &top
            && let Ok(ip) = t.parse::<std::net::IpAddr>()
        {
            observables.push(Observable {
                kind: ObservableType::IpAddress,
                value: ip.to_string(),
            });
        }
        let day = hour_start.div_euclid(DAY_MS).to_string();
        let mut anomaly = Vec::new();
        if let Some(r) = &spike {
            anomaly.push(anomaly_entry(
                &format!("hourly egress of {eni} to public addresses"),
                (eni, "network_interface"),
                "egress bytes per hour",
                bytes.to_string(),
                (hour_start, hour_start + HOUR_MS),
                format!("modified z-score {:.1} ({:?})", r.z, r.spread),
                vec![
                    ("median_bytes", format!("{:.0}", r.median * UNIT as f64)),
                    ("mad_bytes", format!("{:.0}", r.mad * UNIT as f64)),
                    ("samples", r.samples.to_string()),
                ],
                "same hour of day (±1h) on days of the same kind, last 21 days",
            ));
        }
        if let Some((net, b)) = &new_dest {
            anomaly.push(anomaly_entry(
                &format!("external destinations of {eni}"),
                (eni, "network_interface"),
                "new external destination",
                format!("{net}: {b} bytes"),
                (hour_start, hour_start + HOUR_MS),
                "first seen".into(),
                vec![(
                    "known_destinations",
                    iface.map_or(0, |i| i.dests.len()).to_string(),
                )],
                "every external network this interface sent traffic to",
            ));
        }
        let f = FindingSpec {
            detector: ID,
            detector_name: "Network egress volume and new destinations",
            analytic: AnalyticType::Statistical,
            key: &[eni, &day],
            title: format!("Unusual data egress from {eni}: {:.0} MB to the internet", mb),
            desc,
            remediation: "Isolate the instance (restrictive security group), snapshot it for forensics, and \
                          block the destination if it is not a known service.",
            attacks: &["T1048", "T1567"],
            risk,
            confidence: 65,
            first_ms: c.open.first_ms,
            last_ms: c.open.last_ms,
            related_count: c.open.related_count,
            related: c.open.related,
            observables,
            account: c.open.account,
            region: c.open.region,
            anomaly,
        }
        .build(ctx.cfg);
        ctx.out.push(f);
    }
}

impl super::hourly::OpenHour {
    /// The destination address that received most bytes (tallied as "dst:<ip>").
    fn top_dest(&self) -> Option<String> {
        self.tally
            .iter()
            .filter(|(k, _)| k.starts_with("dst:"))
            .max_by_key(|(k, v)| (**v, std::cmp::Reverse(*k)))
            .map(|(k, _)| k[4..].to_string())
    }
}

impl Detector for FlowEgress {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        let Some(f) = &a.flow else { return };
        if !f.egress_external || f.rejected {
            return;
        }
        let Some(dst) = f.dst else { return };
        let iface = self
            .s
            .ifaces
            .entry(f.interface.to_string())
            .or_insert_with(|| Iface {
                first_ms: a.time_ms,
                dests: BTreeSet::new(),
            });
        let net = network_of(dst);
        let new = !iface.dests.contains(&net);
        if new && iface.dests.len() < MAX_DESTS {
            iface.dests.insert(net.clone());
        }
        let learning = i64::from(ctx.cfg.learning_days) * 24;
        let units = f.bytes.div_ceil(UNIT);
        let uid = a.uid.clone();
        let closed = {
            let h = &mut self.s.hourly;
            let c = h.add(
                &f.interface,
                a.time_ms,
                &uid,
                &[units],
                Some((&format!("dst:{dst}"), f.bytes)),
                a.account.as_deref(),
                a.region.as_deref(),
                learning,
            );
            let tag = format!("new:{net}");
            if let Some(e) = h.entities.get_mut(&*f.interface)
                && let Some(o) = e.open.as_mut()
                && (new || o.tally.contains_key(&tag))
            {
                *o.tally.entry(tag).or_default() += f.bytes;
            }
            c
        };
        if let Some(c) = closed {
            self.score(c, ctx);
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        let learning = i64::from(ctx.cfg.learning_days) * 24;
        for c in self.s.hourly.flush(watermark_ms, learning) {
            self.score(c, ctx);
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&self.s)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.s = super::decode(bytes)?;
        self.s.hourly.rebuild_index();
        Ok(())
    }

    fn entities(&self) -> usize {
        self.s.ifaces.len()
    }

    fn describe(&self, entity: &str) -> Option<serde_json::Value> {
        let e = self.s.hourly.entities.get(entity)?;
        let mut v = super::volume_spike::describe_series(
            entity,
            &e.series,
            &["egress to the internet per hour (16 KiB units)"],
        );
        if let Some(i) = self.s.ifaces.get(entity) {
            v["external_networks"] = serde_json::json!(i.dests);
        }
        Some(v)
    }
}
