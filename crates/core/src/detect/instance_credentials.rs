//! EC2 instance-profile credentials used from somewhere the instance never calls from.
//!
//! **What**: calls made with an instance's role session (`ec2RoleDelivery` set, or a session
//! named after the instance) from a public network the instance has not used before, once the
//! instance has a history. Stronger when the same temporary access key was already seen from
//! the instance's usual network: one session, two places.
//! **Why**: credentials read from the metadata service (SSRF, a compromised container) are
//! taken away and replayed from the attacker's machine (T1552.005); the calls look like the
//! instance's own except for where they come from (T1078.004). GuardDuty's
//! InstanceCredentialExfiltration.OutsideAWS follows the same idea.
//! **Baseline**: per instance, the /24 (or /48) networks its calls came from (up to 16) and how
//! many calls it made; no judgement before 20 calls. Private addresses and AWS service
//! front ends are not networks here.
//! **False positives**: an instance whose NAT gateway or Elastic IP changes; a new network keeps
//! being reported for a day, then becomes normal. One finding per (instance, network).
//! **ATT&CK**: T1552.005, T1078.004.
//! **References**: AWS GuardDuty UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration;
//! Hacking The Cloud, "Steal EC2 metadata credentials"; Stratus Red Team
//! aws.credential-access.ec2-steal-instance-credentials.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::activity::is_public;
use super::sequence::{Evidence, Report, finding, join};
use super::{Activity, Ctx, Detector, UaFamily, anomaly_entry, principal_observables, risk_score};
use crate::finding::Resource;

const ID: &str = "instance-credential-exfiltration";
const MIN_CALLS: u64 = 20;
const MAX_NETWORKS: usize = 16;
const MAX_KEYS: usize = 8;
/// A new network keeps being reported this long, then counts as the instance's own.
const SUSPECT_MS: i64 = 24 * 3_600_000;
/// Evidence of one suspect network is reported after this much quiet.
const GAP_MS: i64 = 30 * 60_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Instance {
    role: String,
    calls: u64,
    /// network -> last seen
    networks: BTreeMap<String, i64>,
    /// temporary access key -> network it was first seen from
    keys: BTreeMap<String, String>,
    /// network under suspicion -> (first flagged, open evidence, key shared with a known network)
    suspects: BTreeMap<String, Suspect>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Suspect {
    since_ms: i64,
    ev: Option<Evidence>,
    shared_key: bool,
    offensive: bool,
}

/// See the module documentation.
#[derive(Default)]
pub struct InstanceCredentials {
    instances: BTreeMap<String, Instance>,
}

impl InstanceCredentials {
    fn report(id: &str, inst: &Instance, net: &str, s: &Suspect, ev: &Evidence, ctx: &mut Ctx) {
        let strength: f64 = if s.shared_key || s.offensive {
            0.95
        } else {
            0.8
        };
        let risk = risk_score(strength, 0.6, 0.8, 0.8);
        let usual = join(inst.networks.keys().filter(|n| *n != net), 4);
        let title = format!(
            "Instance credentials used from outside: role session of {id} called AWS from {}",
            join(&ev.ips, 3)
        );
        let desc = format!(
            "The instance-profile credentials of {id} (role {}) made {} call(s) from network {net}, which this instance \
             never used (its calls come from {usual}).{} Credentials taken from the metadata service are replayed \
             exactly like this.",
            inst.role,
            ev.count,
            if s.shared_key {
                " The same temporary key was also used from the instance's own network: one session, two places."
            } else {
                ""
            },
        );
        let mut observables = principal_observables(&inst.role);
        observables.push(crate::finding::Observable {
            kind: crate::finding::ObservableType::ResourceUid,
            value: id.to_string(),
        });
        let anomaly = vec![anomaly_entry(
            &format!("networks of instance {id}"),
            (id, "instance"),
            "source network",
            net.to_string(),
            (ev.first_ms, ev.last_ms),
            "first calls from this network".into(),
            vec![
                ("known_networks", usual.clone()),
                ("calls_before", inst.calls.to_string()),
            ],
            "networks the instance's role session called from",
        )];
        let f = finding(
            ev,
            Report {
                detector: ID,
                name: "Instance credential exfiltration",
                key: &[id, net],
                title,
                desc,
                remediation: "Revoke the role's active sessions (an inline deny on aws:TokenIssueTime), find how the \
                              credentials left the instance (SSRF, IMDSv1, a compromised process), require IMDSv2, and \
                              review every call made from the foreign network.",
                attacks: &["T1552.005", "T1078.004"],
                risk,
                confidence: 80,
                observables,
                resources: vec![Resource {
                    uid: id.to_string(),
                    kind: "AWS::EC2::Instance".into(),
                    region: ev.region.clone(),
                    account: ev.account.clone(),
                }],
                anomaly,
            },
            ctx.cfg,
        );
        ctx.out.push(f);
    }
}

impl Detector for InstanceCredentials {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        let Some(id) = a.instance.as_deref() else {
            return;
        };
        let Some(ip) = a.src_ip else { return };
        if !is_public(ip) {
            return;
        }
        let Some(net) = a.origin.as_deref() else {
            return;
        };
        let inst = self
            .instances
            .entry(id.to_string())
            .or_insert_with(|| Instance {
                role: a.principal.as_deref().unwrap_or("unknown role").to_string(),
                ..Instance::default()
            });
        let key = a.access_key.as_deref().unwrap_or("");
        let known = inst.networks.contains_key(net);
        if known || inst.calls < MIN_CALLS {
            inst.calls += 1;
            inst.networks.insert(net.to_string(), a.time_ms);
            if inst.networks.len() > MAX_NETWORKS
                && let Some(old) = inst
                    .networks
                    .iter()
                    .min_by_key(|(_, t)| **t)
                    .map(|(k, _)| k.clone())
            {
                inst.networks.remove(&old);
            }
            if !key.is_empty() {
                inst.keys.insert(key.to_string(), net.to_string());
                while inst.keys.len() > MAX_KEYS {
                    let Some(first) = inst.keys.keys().next().cloned() else {
                        break;
                    };
                    inst.keys.remove(&first);
                }
            }
            return;
        }
        // A network this instance never called from.
        let shared = !key.is_empty() && inst.keys.get(key).is_some_and(|n| n != net);
        let offensive = a.ua_family == UaFamily::Offensive;
        if let Some(since) = inst.suspects.get(net).map(|s| s.since_ms)
            && a.time_ms - since > SUSPECT_MS
        {
            // Long enough: the network is the instance's own now.
            if let Some(s) = inst.suspects.remove(net)
                && let Some(ev) = &s.ev
            {
                Self::report(id, inst, net, &s, ev, ctx);
            }
            inst.networks.insert(net.to_string(), a.time_ms);
            return;
        }
        let mut closed = None;
        {
            let s = inst
                .suspects
                .entry(net.to_string())
                .or_insert_with(|| Suspect {
                    since_ms: a.time_ms,
                    ..Suspect::default()
                });
            s.shared_key |= shared;
            s.offensive |= offensive;
            match s.ev.as_mut() {
                Some(ev) if ev.fits(a.time_ms, GAP_MS, SUSPECT_MS) => ev.add(a),
                Some(_) => {
                    let old = s.ev.replace(Evidence::new(a));
                    closed = old.map(|o| (o, s.clone()));
                }
                None => s.ev = Some(Evidence::new(a)),
            }
        }
        if let Some((old, snapshot)) = closed {
            Self::report(id, inst, net, &snapshot, &old, ctx);
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        for (id, inst) in &mut self.instances {
            let nets: Vec<String> = inst
                .suspects
                .iter()
                .filter(|(_, s)| {
                    s.ev.as_ref()
                        .is_some_and(|ev| ev.last_ms + GAP_MS < watermark_ms)
                })
                .map(|(n, _)| n.clone())
                .collect();
            for n in nets {
                let Some(s) = inst.suspects.get_mut(&n) else {
                    continue;
                };
                let Some(ev) = s.ev.take() else { continue };
                let snapshot = s.clone();
                Self::report(id, inst, &n, &snapshot, &ev, ctx);
            }
            // Suspected long enough without new evidence: the network is the instance's own.
            let expired: Vec<String> = inst
                .suspects
                .iter()
                .filter(|(_, s)| {
                    s.ev.is_none() && watermark_ms.saturating_sub(s.since_ms) > SUSPECT_MS
                })
                .map(|(n, _)| n.clone())
                .collect();
            for n in expired {
                inst.suspects.remove(&n);
                inst.networks.insert(n, watermark_ms);
            }
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&self.instances)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.instances = super::decode(bytes)?;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.instances.len()
    }

    fn describe(&self, entity: &str) -> Option<serde_json::Value> {
        let i = self.instances.get(entity)?;
        Some(
            serde_json::json!({"instance": entity, "role": i.role, "calls": i.calls, "networks": i.networks.keys().collect::<Vec<_>>()}),
        )
    }
}
