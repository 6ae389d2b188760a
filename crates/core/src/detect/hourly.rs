//! Shared machinery for detectors that count per entity per hour and score each closed hour
//! against the entity's seasonal history.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::baseline::{HOUR_MS, HourlySeries, Robust, modified_z};
use crate::finding::RELATED_CAP;

/// The open (current) hour of one entity.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OpenHour {
    pub hour: i64,
    pub values: Vec<u64>,
    /// Free counters for the explanation (top requester, top destination...).
    pub tally: BTreeMap<String, u64>,
    pub related: Vec<String>,
    pub related_count: u64,
    pub first_ms: i64,
    pub last_ms: i64,
    pub account: Option<String>,
    pub region: Option<String>,
}

impl OpenHour {
    pub fn top(&self) -> Option<(&str, u64)> {
        self.tally
            .iter()
            .max_by_key(|(k, v)| (**v, std::cmp::Reverse(*k)))
            .map(|(k, v)| (k.as_str(), *v))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Counted {
    pub series: Vec<HourlySeries>,
    pub open: Option<OpenHour>,
}

/// Hourly counters for many entities, `metrics` values each.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Hourly {
    pub entities: BTreeMap<String, Counted>,
    #[serde(skip)]
    open_by_hour: BTreeSet<(i64, String)>,
}

/// A closed hour handed back for scoring.
pub struct Closed {
    pub key: String,
    pub open: OpenHour,
    /// Per metric: the score against history, or `None` when history is too short.
    pub scores: Vec<Option<Robust>>,
    pub history_hours: i64,
}

impl Hourly {
    pub fn rebuild_index(&mut self) {
        self.open_by_hour = self
            .entities
            .iter()
            .filter_map(|(k, e)| e.open.as_ref().map(|o| (o.hour, k.clone())))
            .collect();
    }

    /// Adds to an entity's current hour. Returns hours this closed (the entity moved on).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        key: &str,
        time_ms: i64,
        uid: &str,
        add: &[u64],
        tally: Option<(&str, u64)>,
        account: Option<&str>,
        region: Option<&str>,
        learning_hours: i64,
    ) -> Option<Closed> {
        let hour = time_ms.div_euclid(HOUR_MS);
        let mut closed = None;
        if self
            .entities
            .get(key)
            .and_then(|e| e.open.as_ref())
            .is_some_and(|o| o.hour < hour)
        {
            closed = self.close(key, learning_hours);
        }
        let n = add.len();
        let e = self
            .entities
            .entry(key.to_string())
            .or_insert_with(|| Counted {
                series: (0..n).map(|_| HourlySeries::new(hour)).collect(),
                open: None,
            });
        if e.open.as_ref().is_some_and(|o| o.hour > hour) {
            // Late for an hour already scored: history only.
            for (i, v) in add.iter().enumerate() {
                let cur = u64::from(e.series[i].get(hour).unwrap_or(0));
                e.series[i].set(hour, cur + v);
            }
            return closed;
        }
        let o = e.open.get_or_insert_with(|| OpenHour {
            hour,
            values: vec![0; n],
            first_ms: time_ms,
            ..OpenHour::default()
        });
        if o.related_count == 0 {
            self.open_by_hour.insert((hour, key.to_string()));
        }
        for (i, v) in add.iter().enumerate() {
            o.values[i] += v;
        }
        if let Some((k, v)) = tally {
            *o.tally.entry(k.to_string()).or_default() += v;
        }
        o.related_count += 1;
        if o.related.len() < RELATED_CAP {
            o.related.push(uid.to_string());
        }
        o.last_ms = o.last_ms.max(time_ms);
        if o.account.is_none() {
            o.account = account.map(str::to_string);
        }
        if o.region.is_none() {
            o.region = region.map(str::to_string);
        }
        closed
    }

    fn close(&mut self, key: &str, learning_hours: i64) -> Option<Closed> {
        let e = self.entities.get_mut(key)?;
        let open = e.open.take()?;
        self.open_by_hour.remove(&(open.hour, key.to_string()));
        let history_hours = e.series[0].history_hours(open.hour);
        let scores = open
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let hist = e.series[i].seasonal_history(open.hour);
                (history_hours >= learning_hours && hist.len() >= 8)
                    .then(|| modified_z(*v as f64, &hist))
            })
            .collect();
        for (i, v) in open.values.iter().enumerate() {
            e.series[i].set(open.hour, *v);
        }
        Some(Closed {
            key: key.to_string(),
            open,
            scores,
            history_hours,
        })
    }

    /// Closes every hour that ends at or before the watermark.
    pub fn flush(&mut self, watermark_ms: i64, learning_hours: i64) -> Vec<Closed> {
        let mut out = Vec::new();
        while let Some((hour, key)) = self.open_by_hour.first().cloned() {
            if hour.saturating_add(1).saturating_mul(HOUR_MS) > watermark_ms {
                break;
            }
            self.open_by_hour.remove(&(hour, key.clone()));
            if let Some(c) = self.close(&key, learning_hours) {
                out.push(c);
            }
        }
        out
    }
}
