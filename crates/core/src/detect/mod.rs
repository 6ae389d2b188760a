//! Detection: the `Detector` seam, the event-time engine, and one file per detector.
//!
//! Behavioural detectors see [`Activity`] values in event-time order. Events arrive out of
//! order (CloudTrail objects overlap and arrive late), so the engine holds them in a reorder
//! buffer for a bounded lateness window and releases them, oldest first, as the watermark
//! (newest event time minus the lateness) advances. Ties are broken by record uid, so the
//! order, and therefore every finding, is independent of file order and thread count.

pub mod activity;
pub mod baseline;
pub mod console_brute_force;
pub mod cross_account;
pub mod first_seen;
pub mod flow_egress;
pub mod flow_scan;
pub mod hourly;
pub mod impossible_travel;
pub mod instance_credentials;
pub mod mass_destruction;
pub mod new_compute_region;
pub mod own_accounts;
pub mod rare_combination;
pub mod rules;
pub mod s3_requester;
pub mod s3_volume;
pub mod sequence;
pub mod volume_spike;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use activity::{Activity, PrincipalKind, UaFamily};

use crate::finding::{AnalyticType, Finding, Observable, ObservableType, SeverityThresholds};
use crate::geo::GeoLookup;

/// Engine settings. Every field has a default; config files may override any of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Days of history an entity needs before a behavioural detector may accuse it.
    pub learning_days: u32,
    /// How late (ms) an event may arrive behind the newest one and still be processed in order.
    pub lateness_ms: i64,
    /// Modified z-score above which a volume is anomalous (Iglewicz and Hoaglin suggest 3.5).
    pub z_threshold: f64,
    pub severity: SeverityThresholds,
    /// Speed (km/h) above which one person acting from two countries is impossible travel.
    /// Airliners cruise near 900 km/h, and the distance used is the least possible between
    /// the two countries, so 1,000 leaves room for a real journey.
    pub impossible_travel_kmh: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            learning_days: 7,
            lateness_ms: 20 * 60 * 1000,
            z_threshold: 3.5,
            severity: SeverityThresholds::default(),
            impossible_travel_kmh: 1000.0,
        }
    }
}

/// What detectors write to.
pub struct Ctx<'a> {
    pub cfg: &'a EngineConfig,
    pub out: &'a mut Vec<Finding>,
    /// IP enrichment, when the user installed or supplied geo data.
    pub geo: Option<&'a dyn GeoLookup>,
}

/// A behavioural detector. Pure: no IO, no wall clock; time comes from events.
///
/// Adding one is a file in this folder plus a line in [`registry`]. Its state must be
/// serialisable so scans can resume where the last one stopped.
pub trait Detector: Send {
    /// Stable id, used in finding uids and as the state key.
    fn id(&self) -> &'static str;
    /// One activity, in event-time order.
    fn observe(&mut self, a: &Activity, ctx: &mut Ctx);
    /// Everything at or before `watermark_ms` has been observed: close windows that end there.
    fn flush(&mut self, _watermark_ms: i64, _ctx: &mut Ctx) {}
    /// Serialised state.
    fn save(&self) -> Vec<u8>;
    /// Restores state written by `save`.
    fn load(&mut self, bytes: &[u8]) -> Result<(), String>;
    /// Entities tracked, for the bytes-per-entity measurement.
    fn entities(&self) -> usize;
    /// What this detector believes is normal for `entity` (a principal ARN, access key,
    /// bucket or ENI), for `detector baseline show`.
    fn describe(&self, _entity: &str) -> Option<serde_json::Value> {
        None
    }
}

/// Every behavioural detector, in a fixed order.
pub fn registry() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(volume_spike::VolumeSpike::default()),
        Box::new(first_seen::FirstSeen::default()),
        Box::new(rare_combination::RareCombination::default()),
        Box::new(s3_volume::S3Volume::default()),
        Box::new(flow_egress::FlowEgress::default()),
        Box::new(console_brute_force::ConsoleBruteForce::default()),
        Box::new(instance_credentials::InstanceCredentials::default()),
        Box::new(cross_account::CrossAccount::default()),
        Box::new(mass_destruction::MassDestruction::default()),
        Box::new(new_compute_region::NewComputeRegion::default()),
        Box::new(flow_scan::FlowScan::default()),
        Box::new(s3_requester::S3Requester::default()),
        Box::new(impossible_travel::ImpossibleTravel::default()),
    ]
}

pub(crate) fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).unwrap_or_default()
}

pub(crate) fn decode<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, String> {
    postcard::from_bytes(b).map_err(|e| e.to_string())
}

struct Pending(Activity);

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        self.0.time_ms == o.0.time_ms && self.0.uid == o.0.uid
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.0.time_ms, &self.0.uid).cmp(&(o.0.time_ms, &o.0.uid))
    }
}

/// Counters for the scan summary.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct EngineStats {
    pub activities: u64,
    /// Older than what an earlier scan of this store already processed; skipped so that
    /// scanning the same logs twice does not count them twice.
    pub already_processed: u64,
    /// Arrived after the watermark had passed them; processed out of order.
    pub late: u64,
    pub findings_raised: u64,
}

/// The time-ordered stage: reorder buffer, watermark, detectors, finding merge.
pub struct Engine {
    cfg: EngineConfig,
    detectors: Vec<Box<dyn Detector>>,
    heap: BinaryHeap<Reverse<Pending>>,
    newest_ms: i64,
    watermark_ms: i64,
    /// Everything before this time was processed by an earlier scan of the same store.
    resume_ms: i64,
    out: Vec<Finding>,
    findings: BTreeMap<String, Finding>,
    geo: Option<Arc<dyn GeoLookup>>,
    pub stats: EngineStats,
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        Engine::with_detectors(cfg, registry())
    }

    pub fn with_detectors(cfg: EngineConfig, detectors: Vec<Box<dyn Detector>>) -> Self {
        Engine {
            cfg,
            detectors,
            heap: BinaryHeap::new(),
            newest_ms: i64::MIN,
            watermark_ms: i64::MIN,
            resume_ms: i64::MIN,
            out: Vec::new(),
            findings: BTreeMap::new(),
            geo: None,
            stats: EngineStats::default(),
        }
    }

    /// IP enrichment for detectors (impossible travel) and for findings' address observables.
    pub fn set_geo(&mut self, geo: Arc<dyn GeoLookup>) {
        self.geo = Some(geo);
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Serialised state per detector id, plus the watermark under the key `engine`.
    pub fn save_state(&self) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = self
            .detectors
            .iter()
            .map(|d| (d.id().to_string(), d.save()))
            .collect();
        let processed_until = self.newest_ms.saturating_add(1).max(self.resume_ms);
        v.push(("engine".into(), encode(&processed_until)));
        v
    }

    /// Restores what [`Engine::save_state`] wrote. Unknown ids are ignored (a detector that
    /// was removed); a detector whose state cannot be read starts afresh and is reported.
    pub fn load_state(&mut self, states: &[(String, Vec<u8>)]) -> Vec<String> {
        let mut problems = Vec::new();
        for (id, bytes) in states {
            if id == "engine" {
                match decode::<i64>(bytes) {
                    Ok(w) => {
                        self.watermark_ms = w;
                        self.resume_ms = w;
                    }
                    Err(e) => problems.push(format!("engine watermark unreadable ({e})")),
                }
                continue;
            }
            if let Some(d) = self.detectors.iter_mut().find(|d| d.id() == id)
                && let Err(e) = d.load(bytes)
            {
                problems.push(format!(
                    "state of detector {id} unreadable ({e}); starting it afresh"
                ));
            }
        }
        problems
    }

    /// Events before this time were processed by an earlier scan of the same store.
    pub fn resume_ms(&self) -> i64 {
        self.resume_ms
    }

    /// What every detector believes is normal for an entity.
    pub fn describe(&self, entity: &str) -> Vec<(&'static str, serde_json::Value)> {
        self.detectors
            .iter()
            .filter_map(|d| d.describe(entity).map(|v| (d.id(), v)))
            .collect()
    }

    /// Entities tracked by every detector.
    pub fn entities(&self) -> usize {
        self.detectors.iter().map(|d| d.entities()).sum()
    }

    /// Adds one activity; releases whatever the advancing watermark allows.
    pub fn push(&mut self, a: Activity) {
        if a.time_ms < self.resume_ms {
            self.stats.already_processed += 1;
            return;
        }
        self.stats.activities += 1;
        if a.time_ms < self.watermark_ms {
            self.stats.late += 1;
            self.dispatch(&a);
            return;
        }
        self.newest_ms = self.newest_ms.max(a.time_ms);
        self.heap.push(Reverse(Pending(a)));
        let wm = self.newest_ms.saturating_sub(self.cfg.lateness_ms);
        if wm > self.watermark_ms {
            self.release(wm);
        }
    }

    fn release(&mut self, up_to: i64) {
        while let Some(Reverse(Pending(top))) = self.heap.peek() {
            if top.time_ms > up_to {
                break;
            }
            if let Some(Reverse(Pending(a))) = self.heap.pop() {
                self.dispatch(&a);
            }
        }
        if up_to > self.watermark_ms {
            self.watermark_ms = up_to;
            let mut ctx = Ctx {
                cfg: &self.cfg,
                out: &mut self.out,
                geo: self.geo.as_deref(),
            };
            for d in &mut self.detectors {
                d.flush(up_to, &mut ctx);
            }
            self.collect();
        }
    }

    fn dispatch(&mut self, a: &Activity) {
        let mut ctx = Ctx {
            cfg: &self.cfg,
            out: &mut self.out,
            geo: self.geo.as_deref(),
        };
        for d in &mut self.detectors {
            d.observe(a, &mut ctx);
        }
        if !self.out.is_empty() {
            self.collect();
        }
    }

    fn collect(&mut self) {
        for f in self.out.drain(..) {
            self.stats.findings_raised += 1;
            let uid = f.uid.clone();
            match self.findings.get_mut(&uid) {
                Some(existing) => existing.merge(f),
                None => {
                    self.findings.insert(uid.clone(), f);
                }
            }
            if let (Some(geo), Some(f)) = (self.geo.as_deref(), self.findings.get_mut(&uid)) {
                enrich(f, geo);
            }
        }
    }

    /// Adds findings raised outside the ordered stage (rules run beside the parsers).
    pub fn add_findings(&mut self, findings: Vec<Finding>) {
        self.out.extend(findings);
        self.collect();
    }

    /// End of input: releases every buffered activity and closes every open window.
    pub fn finish(&mut self) {
        let end = self.newest_ms.saturating_add(1);
        while let Some(Reverse(Pending(a))) = self.heap.pop() {
            self.dispatch(&a);
        }
        self.watermark_ms = self.watermark_ms.max(end);
        let mut ctx = Ctx {
            cfg: &self.cfg,
            out: &mut self.out,
            geo: self.geo.as_deref(),
        };
        for d in &mut self.detectors {
            d.flush(i64::MAX, &mut ctx);
        }
        self.collect();
    }

    /// Findings raised so far, merged by uid, in uid order.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.findings).into_values().collect()
    }
}

/// Adds OCSF `enrichments` (location and autonomous system) for every public address among a
/// finding's observables that has none yet.
pub fn enrich(f: &mut Finding, geo: &dyn GeoLookup) {
    for o in &f.observables {
        if o.kind != ObservableType::IpAddress
            || f.enrichments
                .iter()
                .any(|e| e.get("value").and_then(|v| v.as_str()) == Some(o.value.as_str()))
        {
            continue;
        }
        let Ok(ip) = o.value.parse::<std::net::IpAddr>() else {
            continue;
        };
        if !activity::is_public(ip) {
            continue;
        }
        let info = geo.lookup(ip);
        let name = "src_endpoint.ip";
        if let Some(cc) = &info.country {
            let mut data = serde_json::json!({"country": cc});
            if let Some(c) = crate::geo::country(cc) {
                data["country_name"] = serde_json::json!(c.name);
            }
            f.enrichments.push(serde_json::json!({
                "name": name, "value": o.value, "type": "location",
                "provider": geo.provider(), "data": data,
            }));
        }
        if info.asn.is_some() || info.network != crate::geo::NetKind::Other {
            let mut data = serde_json::json!({
                "asn": info.asn, "org": info.as_org, "network": info.network.name(),
            });
            if let Some(p) = info.network.provider() {
                data["provider"] = serde_json::json!(p);
            }
            f.enrichments.push(serde_json::json!({
                "name": name, "value": o.value, "type": "asn",
                "provider": geo.provider(), "data": data,
            }));
        }
    }
}

/// How much a principal's compromise matters, 0..1.
pub fn privilege_weight(kind: PrincipalKind, principal: &str) -> f64 {
    let admin = {
        let l = principal.to_ascii_lowercase();
        l.contains("admin")
            || l.contains("poweruser")
            || l.contains("organizationaccountaccessrole")
    };
    let base: f64 = match kind {
        PrincipalKind::Root => 1.0,
        PrincipalKind::IamUser | PrincipalKind::SsoUser | PrincipalKind::Federated => 0.6,
        PrincipalKind::Role => 0.5,
        PrincipalKind::Account | PrincipalKind::Unknown => 0.5,
        PrincipalKind::Anonymous => 0.4,
        PrincipalKind::AwsService => 0.2,
    };
    if admin { base.max(0.85) } else { base }
}

/// How sensitive an API call is, 0..1: changes to identity, keys, logging and security
/// services matter most, reads least.
pub fn sensitivity(api: &str, read_only: bool) -> f64 {
    let service = api.split(':').next().unwrap_or("");
    const CRITICAL: [&str; 9] = [
        "iam",
        "sts",
        "kms",
        "cloudtrail",
        "guardduty",
        "organizations",
        "securityhub",
        "config",
        "sso",
    ];
    match (read_only, CRITICAL.contains(&service)) {
        (false, true) => 0.9,
        (false, false) => 0.6,
        (true, true) => 0.4,
        (true, false) => 0.3,
    }
}

/// Risk 0..100 from anomaly strength, privilege, confidence and sensitivity (all 0..1).
/// Strength leads: a weak anomaly on a powerful identity is still a weak anomaly.
pub fn risk_score(strength: f64, privilege: f64, confidence: f64, sensitivity: f64) -> u8 {
    let s = strength.clamp(0.0, 1.0);
    let r = 100.0 * s * (0.55 + 0.15 * privilege + 0.15 * confidence + 0.15 * sensitivity);
    r.round().clamp(0.0, 100.0) as u8
}

/// Shared finding construction, so every detector fills the contract the same way.
pub struct FindingSpec<'a> {
    pub detector: &'static str,
    pub detector_name: &'static str,
    pub analytic: AnalyticType,
    /// Parts that identify the underlying activity (not its time), for the stable uid.
    pub key: &'a [&'a str],
    pub title: String,
    pub desc: String,
    pub remediation: &'static str,
    pub attacks: &'a [&'static str],
    pub risk: u8,
    pub confidence: u8,
    pub first_ms: i64,
    pub last_ms: i64,
    pub related: Vec<String>,
    pub related_count: u64,
    pub observables: Vec<Observable>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub anomaly: Vec<serde_json::Value>,
}

impl FindingSpec<'_> {
    pub fn build(self, cfg: &EngineConfig) -> Finding {
        let mut parts: Vec<&str> = vec![self.detector];
        parts.extend_from_slice(self.key);
        let mut observables = self.observables;
        if let Some(acct) = &self.account {
            observables.push(Observable {
                kind: ObservableType::Account,
                value: acct.clone(),
            });
        }
        observables.sort();
        observables.dedup();
        Finding {
            uid: crate::finding::stable_id(&parts),
            detector: self.detector.to_string(),
            detector_name: self.detector_name.to_string(),
            analytic: self.analytic,
            title: self.title,
            desc: self.desc,
            remediation: self.remediation.to_string(),
            risk_score: self.risk,
            confidence: self.confidence,
            severity: cfg.severity.severity(self.risk),
            attacks: self.attacks.iter().map(|s| s.to_string()).collect(),
            first_seen_ms: self.first_ms,
            last_seen_ms: self.last_ms,
            related: self.related,
            related_count: self.related_count,
            observables,
            resources: Vec::new(),
            region: self.region,
            account: self.account,
            anomaly: self.anomaly,
            enrichments: Vec::new(),
            occurrences: 1,
            is_new: true,
            suppressed: None,
        }
    }
}

/// Observables for a principal: its ARN and, when it has one, its short name.
pub fn principal_observables(principal: &str) -> Vec<Observable> {
    let mut v = vec![Observable {
        kind: ObservableType::PrincipalArn,
        value: principal.to_string(),
    }];
    if principal.starts_with("arn:")
        && let Some(name) = principal.rsplit('/').next()
        && !name.is_empty()
        && !name.starts_with("arn:")
    {
        v.push(Observable {
            kind: ObservableType::UserName,
            value: name.to_string(),
        });
    }
    v
}

/// One `anomaly_analyses[]` entry in OCSF's shape: the observation and the baseline it broke.
#[allow(clippy::too_many_arguments)]
pub fn anomaly_entry(
    context: &str,
    target: (&str, &str),
    parameter: &str,
    observed: String,
    window: (i64, i64),
    pattern: String,
    baseline: Vec<(&str, String)>,
    baseline_pattern: &str,
) -> serde_json::Value {
    serde_json::json!({
        "context": context,
        "analysis_targets": [{"name": target.0, "type": target.1}],
        "anomalies": [{
            "observation_parameter": parameter,
            "observation_type": "Observed",
            "observed_pattern": pattern,
            "observations": [{
                "parameter": parameter,
                "value": observed,
                "timeframe": {"start_time": window.0, "end_time": window.1},
            }],
        }],
        "baselines": [{
            "observation_parameter": parameter,
            "observation_type": "Baseline",
            "observed_pattern": baseline_pattern,
            "observations": baseline
                .into_iter()
                .map(|(k, v)| serde_json::json!({"parameter": k, "value": v}))
                .collect::<Vec<_>>(),
        }],
    })
}
