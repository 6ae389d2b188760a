//! Robust statistics and the compact hourly history behind the statistical detectors.

use serde::{Deserialize, Serialize};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// Median of a slice (sorted copy; the slices here are a few dozen values).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Median absolute deviation around the median.
pub fn mad(values: &[f64], med: f64) -> f64 {
    let dev: Vec<f64> = values.iter().map(|x| (x - med).abs()).collect();
    median(&dev)
}

/// How a modified z-score was computed, for the finding's explanation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Spread {
    /// Iglewicz and Hoaglin: 0.6745 (x - median) / MAD.
    Mad,
    /// MAD was 0 (most history identical): (x - median) / (1.253314 * mean absolute deviation).
    MeanAbsDev,
    /// History was constant: (x - median) / max(1, median / 4).
    Floor,
}

/// Score of one observation against a history.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Robust {
    pub observed: f64,
    pub median: f64,
    pub mad: f64,
    pub z: f64,
    pub samples: usize,
    pub spread: Spread,
}

/// Modified z-score of `x` against `history`, with sane fallbacks when MAD is 0 so a quiet
/// baseline neither divides by zero nor turns every small change into infinity.
pub fn modified_z(x: f64, history: &[f64]) -> Robust {
    let med = median(history);
    let m = mad(history, med);
    let (z, spread) = if m > 0.0 {
        (0.6745 * (x - med) / m, Spread::Mad)
    } else {
        let mean_ad = if history.is_empty() {
            0.0
        } else {
            history.iter().map(|v| (v - med).abs()).sum::<f64>() / history.len() as f64
        };
        if mean_ad > 0.0 {
            ((x - med) / (1.253_314 * mean_ad), Spread::MeanAbsDev)
        } else {
            ((x - med) / (med / 4.0).max(1.0), Spread::Floor)
        }
    };
    Robust {
        observed: x,
        median: med,
        mad: m,
        z,
        samples: history.len(),
        spread,
    }
}

/// Hours kept per series: three weeks, so every hour-of-week slot has up to three samples and
/// every hour of a weekday up to fifteen.
pub const RING_HOURS: usize = 21 * 24;

/// Hourly counts over the last [`RING_HOURS`] hours, as u16 (saturating) to keep the state of
/// a busy principal at about 1 KB per metric.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HourlySeries {
    /// Hour index (ms / HOUR_MS) of the newest slot.
    pub head: i64,
    /// First hour ever seen, so history length is known and cold start can be judged.
    pub first: i64,
    pub counts: Vec<u16>,
}

impl HourlySeries {
    pub fn new(hour: i64) -> Self {
        HourlySeries {
            head: hour,
            first: hour,
            counts: vec![0; RING_HOURS],
        }
    }

    fn slot(hour: i64) -> usize {
        hour.rem_euclid(RING_HOURS as i64) as usize
    }

    /// Moves the head forward to `hour`, zeroing the slots that were skipped.
    pub fn advance(&mut self, hour: i64) {
        if hour <= self.head {
            return;
        }
        let gap = (hour - self.head).min(RING_HOURS as i64);
        for h in (hour - gap + 1)..=hour {
            self.counts[Self::slot(h)] = 0;
        }
        self.head = hour;
    }

    /// Sets the value of an hour already inside the window.
    pub fn set(&mut self, hour: i64, value: u64) {
        if hour > self.head {
            self.advance(hour);
        }
        if hour <= self.head - RING_HOURS as i64 || hour < self.first {
            return;
        }
        self.counts[Self::slot(hour)] = value.min(u64::from(u16::MAX)) as u16;
    }

    pub fn get(&self, hour: i64) -> Option<u16> {
        if hour > self.head || hour <= self.head - RING_HOURS as i64 || hour < self.first {
            None
        } else {
            Some(self.counts[Self::slot(hour)])
        }
    }

    /// History hours available before `hour`.
    pub fn history_hours(&self, hour: i64) -> i64 {
        (hour - self.first).max(0)
    }

    /// Seasonal baseline for `hour`: the same hour of day (±1 hour) on earlier days of the same
    /// kind (weekday or weekend), within the window. Daily and weekly rhythm both show in it,
    /// and it has enough samples for a median after one or two weeks.
    pub fn seasonal_history(&self, hour: i64) -> Vec<f64> {
        let weekend = is_weekend(hour);
        let mut out = Vec::with_capacity(48);
        for day in 1..=(RING_HOURS as i64 / 24) {
            let base = hour - day * 24;
            if is_weekend(base) != weekend {
                continue;
            }
            for h in [base - 1, base, base + 1] {
                if let Some(v) = self.get(h) {
                    out.push(f64::from(v));
                }
            }
        }
        out
    }
}

impl HourlySeries {
    /// Every non-zero hour before `hour` in the window: what the entity does when it is active
    /// at all, whatever the time of day.
    pub fn active_history(&self, hour: i64) -> Vec<f64> {
        (hour - RING_HOURS as i64 + 1..hour)
            .filter_map(|h| self.get(h))
            .filter(|v| *v > 0)
            .map(f64::from)
            .collect()
    }
}

/// Whether an hour index falls on Saturday or Sunday (UTC). 1970-01-01 was a Thursday.
pub fn is_weekend(hour: i64) -> bool {
    let dow = (hour.div_euclid(24) + 3).rem_euclid(7); // 0 = Monday
    dow >= 5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
        assert_eq!(mad(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0], 2.0), 1.0);
    }

    #[test]
    fn z_with_mad_and_fallbacks() {
        let r = modified_z(20.0, &[10.0, 12.0, 11.0, 9.0, 10.0]);
        assert_eq!(r.spread, Spread::Mad);
        assert!(r.z > 6.0, "{r:?}");
        // MAD = 0 but not all equal: mean absolute deviation.
        let r = modified_z(10.0, &[0.0, 0.0, 0.0, 0.0, 5.0]);
        assert_eq!(r.spread, Spread::MeanAbsDev);
        assert!(r.z > 5.0);
        // Constant history: floor keeps the score finite.
        let r = modified_z(40.0, &[0.0; 10]);
        assert_eq!(r.spread, Spread::Floor);
        assert_eq!(r.z, 40.0);
        assert!(modified_z(0.0, &[0.0; 10]).z == 0.0);
    }

    #[test]
    fn ring_keeps_three_weeks_and_seasonality() {
        let start = 480_000; // an hour index
        let mut s = HourlySeries::new(start);
        for h in start..start + 24 * 22 {
            s.set(h, (h % 24) as u64);
        }
        let now = start + 24 * 22;
        assert!(s.get(start).is_none(), "fell out of the window");
        let hist = s.seasonal_history(now);
        // Weekend hours have six earlier weekend days in the window, weekdays fifteen.
        assert!(hist.len() >= 15, "{}", hist.len());
        let expect = (now % 24) as f64;
        assert!((median(&hist) - expect).abs() <= 1.0);
        // Gaps are zeroed on advance.
        s.advance(now + 5);
        assert_eq!(s.get(now + 3), Some(0));
    }

    #[test]
    fn weekends() {
        // 1970-01-03 was a Saturday.
        assert!(is_weekend(2 * 24 + 5));
        assert!(!is_weekend(5));
    }
}
