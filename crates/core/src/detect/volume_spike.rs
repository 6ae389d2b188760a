//! Volume, error and distinct-API spikes per principal and per long-term access key.
//!
//! Entity keys are `a:<principal>` and `k:<access key>`; principals sort first so that, when
//! both spike in the same hour, the principal is reported and its key only named in it.
//!
//! **What**: the number of API calls, of failed calls, and of distinct APIs an identity makes
//! in an hour, compared with what that identity does at the same hour of day on days of the
//! same kind (weekday/weekend) over the last three weeks.
//! **Why**: stolen credentials are used differently: discovery bursts (hundreds of List and
//! Describe calls across services), permission probing (storms of AccessDenied), automation
//! run from a laptop at 3 a.m.
//! **Baseline**: hourly counts in a three-week ring per entity; modified z-score on median and
//! MAD (with mean-absolute-deviation and floor fallbacks when MAD is 0, see
//! [`super::baseline::modified_z`]), plus absolute minimums so a quiet identity going from 0
//! to 3 calls is not an alert. No accusation before `learning_days` of history.
//! **False positives**: quarterly jobs, incident response, a new project. Repeats on the same
//! day update one finding.
//! **ATT&CK**: T1580, T1526, T1087.004 (discovery bursts), T1078.004 (valid accounts misused).
//! **References**: Iglewicz & Hoaglin (1993), "How to Detect and Handle Outliers"; AWS
//! CloudTrail Insights (API call rate and error rate anomalies).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::baseline::{DAY_MS, HOUR_MS, HourlySeries, Robust, modified_z};
use super::{
    Activity, Ctx, Detector, FindingSpec, PrincipalKind, anomaly_entry, principal_observables,
    privilege_weight, risk_score,
};
use crate::finding::{AnalyticType, Observable, ObservableType, RELATED_CAP};

const ID: &str = "volume-spike";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Metric {
    Calls,
    Errors,
    DistinctApis,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::Calls => "API calls per hour",
            Metric::Errors => "failed API calls per hour",
            Metric::DistinctApis => "distinct APIs per hour",
        }
    }

    /// Absolute floor for an anomaly: observed must exceed both a minimum and a multiple of
    /// the median, whatever the z-score says.
    fn clears_floor(self, observed: f64, median: f64) -> bool {
        match self {
            Metric::Calls => observed >= 40.0 && observed >= 3.0 * median + 20.0,
            Metric::Errors => observed >= 15.0 && observed >= 3.0 * median + 10.0,
            // People routinely touch 15-25 APIs in a busy hour; discovery tools touch dozens.
            Metric::DistinctApis => observed >= 30.0 && observed >= 3.0 * median + 20.0,
        }
    }
}

const METRICS: [Metric; 3] = [Metric::Calls, Metric::Errors, Metric::DistinctApis];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Open {
    hour: i64,
    calls: u64,
    errors: u64,
    apis: BTreeSet<Arc<str>>,
    related: Vec<String>,
    first_ms: i64,
    last_ms: i64,
    account: Option<String>,
    region: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entity {
    kind: PrincipalKind,
    /// For access keys: the principal that used it last.
    owner: Option<String>,
    series: [HourlySeries; 3],
    open: Option<Open>,
    /// Last hour this entity was reported for, so a key's spike is not reported again when
    /// its principal's identical spike already was.
    last_reported_hour: Option<i64>,
}

/// See the module documentation.
#[derive(Default)]
pub struct VolumeSpike {
    entities: BTreeMap<String, Entity>,
    /// Entities with an open hour, by hour, so flush does not scan every entity.
    open_by_hour: BTreeSet<(i64, String)>,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    entities: BTreeMap<String, Entity>,
}

impl VolumeSpike {
    fn touch(
        &mut self,
        key: String,
        kind: PrincipalKind,
        owner: Option<&str>,
        a: &Activity,
        ctx: &mut Ctx,
    ) {
        let hour = a.time_ms.div_euclid(HOUR_MS);
        let needs_close = self
            .entities
            .get(&key)
            .and_then(|e| e.open.as_ref())
            .is_some_and(|o| o.hour < hour);
        if needs_close {
            self.close(&key, ctx);
        }
        let e = self.entities.entry(key.clone()).or_insert_with(|| Entity {
            kind,
            owner: None,
            series: [
                HourlySeries::new(hour),
                HourlySeries::new(hour),
                HourlySeries::new(hour),
            ],
            open: None,
            last_reported_hour: None,
        });
        if let Some(o) = owner {
            e.owner = Some(o.to_string());
        }
        let open = e.open.get_or_insert_with(|| Open {
            hour,
            first_ms: a.time_ms,
            ..Open::default()
        });
        if open.hour > hour {
            // A late event for an hour already scored: count it in the history only.
            for (i, m) in METRICS.iter().enumerate() {
                let add = match m {
                    Metric::Calls => 1,
                    Metric::Errors => u64::from(a.error),
                    Metric::DistinctApis => 0,
                };
                let cur = u64::from(e.series[i].get(hour).unwrap_or(0));
                e.series[i].set(hour, cur + add);
            }
            return;
        }
        if open.calls == 0 {
            self.open_by_hour.insert((hour, key));
        }
        open.calls += 1;
        open.errors += u64::from(a.error);
        if let Some(api) = &a.api {
            open.apis.insert(Arc::clone(api));
        }
        if open.related.len() < RELATED_CAP {
            open.related.push(a.uid.to_string());
        }
        open.last_ms = a.time_ms;
        if open.account.is_none() {
            open.account = a.account.as_deref().map(str::to_string);
        }
        if open.region.is_none() {
            open.region = a.region.as_deref().map(str::to_string);
        }
    }

    /// Closes the entity's open hour, records it in the history, and returns the hour with its
    /// anomalies when there are any.
    fn score_hour(&mut self, key: &str, ctx: &Ctx) -> Option<(Open, Vec<(Metric, Robust)>)> {
        let e = self.entities.get_mut(key)?;
        let open = e.open.take()?;
        self.open_by_hour.remove(&(open.hour, key.to_string()));
        let values = [open.calls, open.errors, open.apis.len() as u64];
        let learned = e.series[0].history_hours(open.hour) >= i64::from(ctx.cfg.learning_days) * 24;
        let mut anomalies: Vec<(Metric, Robust)> = Vec::new();
        if learned {
            for (i, m) in METRICS.iter().enumerate() {
                let hist = e.series[i].seasonal_history(open.hour);
                if hist.len() < 8 {
                    continue;
                }
                let r = modified_z(values[i] as f64, &hist);
                if r.z < ctx.cfg.z_threshold || !m.clears_floor(r.observed, r.median) {
                    continue;
                }
                // Identities active only some hours have mostly zeros at a given hour; the
                // hour must also stand out against the hours it was active at all.
                let active = e.series[i].active_history(open.hour);
                if active.len() >= 8 {
                    let a = modified_z(values[i] as f64, &active);
                    if a.z < ctx.cfg.z_threshold || !m.clears_floor(a.observed, a.median) {
                        continue;
                    }
                }
                anomalies.push((*m, r));
            }
        }
        for (i, v) in values.iter().enumerate() {
            e.series[i].set(open.hour, *v);
        }
        if anomalies.is_empty() {
            return None;
        }
        e.last_reported_hour = Some(open.hour);
        Some((open, anomalies))
    }

    fn close(&mut self, key: &str, ctx: &mut Ctx) {
        let Some((open, anomalies)) = self.score_hour(key, ctx) else {
            return;
        };
        let owner_reported = key.starts_with("k:")
            && self
                .entities
                .get(key)
                .and_then(|e| e.owner.as_ref())
                .is_some_and(|o| {
                    // Principals ("a:") close before their keys ("k:") in the same hour.
                    self.entities
                        .get(&format!("a:{o}"))
                        .is_some_and(|p| p.last_reported_hour == Some(open.hour))
                });
        if owner_reported {
            return;
        }
        let Some(e) = self.entities.get(key) else {
            return;
        };
        let principal = match key.strip_prefix("a:") {
            Some(p) => p,
            None => e.owner.as_deref().unwrap_or(&key[2..]),
        };
        let is_key = key.starts_with("k:");
        let zmax = anomalies.iter().map(|(_, r)| r.z).fold(0.0, f64::max);
        let strength = (0.45
            + 0.15 * (zmax / ctx.cfg.z_threshold).log2()
            + 0.1 * (anomalies.len() - 1) as f64)
            .clamp(0.0, 1.0);
        let sens = if open.errors * 2 > open.calls {
            0.5
        } else {
            0.4
        };
        let risk = risk_score(strength, privilege_weight(e.kind, principal), 0.7, sens);
        let what: Vec<String> = anomalies
            .iter()
            .map(|(m, r)| {
                format!(
                    "{} {} (usual {:.0}, z {:.1})",
                    r.observed,
                    m.name(),
                    r.median,
                    r.z
                )
            })
            .collect();
        let subject = if is_key {
            format!("access key {}", &key[2..])
        } else {
            principal.to_string()
        };
        let hour_start = open.hour * HOUR_MS;
        let mut top_apis: Vec<&str> = open.apis.iter().map(|s| &**s).take(8).collect();
        top_apis.sort_unstable();
        let desc = format!(
            "{subject} made {} API calls ({} failed, {} distinct APIs) between {} and {}; at this hour it \
             usually makes {:.0}. {}. APIs seen include {}. Check whether this identity's credentials were \
             used by someone else or by a new automation, and review the calls in this window.",
            open.calls,
            open.errors,
            open.apis.len(),
            crate::time::format_iso8601_ms(hour_start),
            crate::time::format_iso8601_ms(hour_start + HOUR_MS),
            anomalies.first().map_or(0.0, |(_, r)| r.median),
            what.join("; "),
            top_apis.join(", "),
        );
        let discovery = open.apis.len() as u64 >= 15;
        let attacks: &[&str] = if discovery {
            &["T1580", "T1526", "T1078.004"]
        } else {
            &["T1078.004"]
        };
        let day = (open.hour * HOUR_MS).div_euclid(DAY_MS).to_string();
        let mut observables = principal_observables(principal);
        if is_key {
            observables.push(Observable {
                kind: ObservableType::AccessKey,
                value: key[2..].to_string(),
            });
        }
        let anomaly = anomalies
            .iter()
            .map(|(m, r)| {
                anomaly_entry(
                    &format!("hourly activity of {subject}"),
                    (&subject, if is_key { "access_key" } else { "principal" }),
                    m.name(),
                    format!("{}", r.observed),
                    (hour_start, hour_start + HOUR_MS),
                    format!("modified z-score {:.1} ({:?})", r.z, r.spread),
                    vec![
                        ("median", format!("{}", r.median)),
                        ("mad", format!("{}", r.mad)),
                        ("samples", r.samples.to_string()),
                        (
                            "history_hours",
                            e.series[0].history_hours(open.hour).to_string(),
                        ),
                    ],
                    "same hour of day (±1h) on days of the same kind, last 21 days",
                )
            })
            .collect();
        let f = FindingSpec {
            detector: ID,
            detector_name: "Activity volume spike",
            analytic: AnalyticType::Statistical,
            key: &[key, &day],
            title: format!(
                "Unusual activity volume for {subject}: {}",
                anomalies.iter().map(|(m, _)| m.name()).collect::<Vec<_>>().join(", ")
            ),
            desc,
            remediation: "Confirm with the owner of the identity. If unexpected, rotate or deactivate its \
                          credentials, revoke active sessions, and review what the calls changed.",
            attacks,
            risk,
            confidence: 70,
            first_ms: open.first_ms,
            last_ms: open.last_ms,
            related_count: open.calls,
            related: open.related,
            observables,
            account: open.account,
            region: open.region,
            anomaly,
        }
        .build(ctx.cfg);
        ctx.out.push(f);
    }
}

impl Detector for VolumeSpike {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        if a.flow.is_some() || a.s3.is_some() {
            return;
        }
        let Some(p) = a.principal.as_deref() else {
            return;
        };
        if matches!(
            a.principal_kind,
            PrincipalKind::AwsService | PrincipalKind::Anonymous
        ) {
            return;
        }
        self.touch(format!("a:{p}"), a.principal_kind, None, a, ctx);
        // Long-term keys only: temporary keys live for hours and would each need a baseline.
        if let Some(k) = a.access_key.as_deref().filter(|k| k.starts_with("AKIA")) {
            self.touch(format!("k:{k}"), a.principal_kind, Some(p), a, ctx);
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        while let Some((hour, key)) = self.open_by_hour.first().cloned() {
            if hour.saturating_add(1).saturating_mul(HOUR_MS) > watermark_ms {
                break;
            }
            self.close(&key, ctx);
            self.open_by_hour.remove(&(hour, key));
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&Saved {
            entities: self.entities.clone(),
        })
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        let s: Saved = super::decode(bytes)?;
        self.open_by_hour = s
            .entities
            .iter()
            .filter_map(|(k, e)| e.open.as_ref().map(|o| (o.hour, k.clone())))
            .collect();
        self.entities = s.entities;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.entities.len()
    }

    fn describe(&self, entity: &str) -> Option<serde_json::Value> {
        let (key, e) = [format!("a:{entity}"), format!("k:{entity}")]
            .into_iter()
            .find_map(|k| self.entities.get(&k).map(|e| (k, e)))?;
        Some(describe_series(
            &key[2..],
            &e.series,
            &METRICS.map(Metric::name),
        ))
    }
}

/// The baseline a set of hourly series gives for the hour after the newest one.
pub(crate) fn describe_series(
    entity: &str,
    series: &[HourlySeries],
    names: &[&str],
) -> serde_json::Value {
    let Some(first) = series.first() else {
        return serde_json::Value::Null;
    };
    let next = first.head + 1;
    let metrics: Vec<serde_json::Value> = series
        .iter()
        .zip(names)
        .map(|(s, name)| {
            let hist = s.seasonal_history(next);
            let med = super::baseline::median(&hist);
            let last24: Vec<u16> = (next - 24..next).map(|h| s.get(h).unwrap_or(0)).collect();
            serde_json::json!({
                "metric": name,
                "baseline_for_hour": crate::time::format_iso8601_ms(next * HOUR_MS),
                "median": med,
                "mad": super::baseline::mad(&hist, med),
                "samples": hist.len(),
                "last_24_hours": last24,
            })
        })
        .collect();
    serde_json::json!({
        "entity": entity,
        "history_since": crate::time::format_iso8601_ms(first.first * HOUR_MS),
        "history_hours": first.history_hours(next),
        "metrics": metrics,
    })
}
