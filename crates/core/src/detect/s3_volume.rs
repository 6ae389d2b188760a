//! Per-bucket object read and delete volume, from S3 server access logs.
//!
//! **What**: GET-object and DELETE request counts per bucket per hour against the bucket's
//! seasonal history (same hour of day, same kind of day, three weeks).
//! **Why**: data theft reads a bucket far faster than its applications do (T1530); ransomware
//! and sabotage delete objects en masse (T1485).
//! **Baseline**: hourly counts per bucket; modified z-score on median/MAD with fallbacks,
//! plus absolute floors (200 reads, 50 deletes) so small buckets do not alert on noise.
//! **False positives**: backfills, migrations, lifecycle jobs run by hand. Repeats the same
//! day update one finding.
//! **ATT&CK**: T1530, T1485.
//! **References**: AWS, "Amazon S3 server access log format"; GuardDuty S3 protection finding
//! types (Exfiltration:S3/AnomalousBehavior, Impact:S3/AnomalousBehavior.Delete).

use super::baseline::{DAY_MS, HOUR_MS};
use super::hourly::{Closed, Hourly};
use super::{Activity, Ctx, Detector, FindingSpec, anomaly_entry, risk_score};
use crate::finding::{AnalyticType, Observable, ObservableType};

const ID: &str = "s3-bucket-volume";

/// See the module documentation.
#[derive(Default)]
pub struct S3Volume {
    hourly: Hourly,
}

impl S3Volume {
    fn score(c: Closed, ctx: &mut Ctx) {
        let names = ["object reads", "deletes"];
        let mut hits = Vec::new();
        for (i, s) in c.scores.iter().enumerate() {
            let Some(r) = s else { continue };
            let floor = if i == 0 {
                r.observed >= 200.0 && r.observed >= 5.0 * r.median + 50.0
            } else {
                r.observed >= 50.0 && r.observed >= 5.0 * r.median + 20.0
            };
            if r.z >= ctx.cfg.z_threshold && floor {
                hits.push((i, *r));
            }
        }
        if hits.is_empty() {
            return;
        }
        let bucket = c.key.as_str();
        let zmax = hits.iter().map(|(_, r)| r.z).fold(0.0, f64::max);
        let strength = (0.5 + 0.15 * (zmax / ctx.cfg.z_threshold).log2()).clamp(0.0, 1.0);
        let deletes = hits.iter().any(|(i, _)| *i == 1);
        let risk = risk_score(strength, 0.6, 0.7, if deletes { 0.9 } else { 0.7 });
        let hour_start = c.open.hour * HOUR_MS;
        let top = c.open.top().map(|(k, v)| (k.to_string(), v));
        let what: Vec<String> = hits
            .iter()
            .map(|(i, r)| {
                format!(
                    "{} {} (usual {:.0}, z {:.1})",
                    r.observed, names[*i], r.median, r.z
                )
            })
            .collect();
        let desc = format!(
            "Bucket {bucket} saw {} between {} and {}. The busiest requester was {}. Check who this \
             requester is and whether the objects touched are sensitive.",
            what.join(" and "),
            crate::time::format_iso8601_ms(hour_start),
            crate::time::format_iso8601_ms(hour_start + HOUR_MS),
            top.as_ref().map_or("unknown".to_string(), |(k, v)| format!(
                "{k} ({v} requests)"
            )),
        );
        let mut observables = vec![Observable {
            kind: ObservableType::ResourceUid,
            value: format!("arn:aws:s3:::{bucket}"),
        }];
        if let Some((req, _)) = &top {
            if req.starts_with("arn:") {
                observables.push(Observable {
                    kind: ObservableType::PrincipalArn,
                    value: req.clone(),
                });
            } else if let Ok(ip) = req.parse::<std::net::IpAddr>() {
                observables.push(Observable {
                    kind: ObservableType::IpAddress,
                    value: ip.to_string(),
                });
            }
        }
        let day = (hour_start.div_euclid(DAY_MS)).to_string();
        let anomaly = hits
            .iter()
            .map(|(i, r)| {
                anomaly_entry(
                    &format!("hourly {} of bucket {bucket}", names[*i]),
                    (bucket, "bucket"),
                    names[*i],
                    r.observed.to_string(),
                    (hour_start, hour_start + HOUR_MS),
                    format!("modified z-score {:.1} ({:?})", r.z, r.spread),
                    vec![
                        ("median", r.median.to_string()),
                        ("mad", r.mad.to_string()),
                        ("samples", r.samples.to_string()),
                        ("history_hours", c.history_hours.to_string()),
                    ],
                    "same hour of day (±1h) on days of the same kind, last 21 days",
                )
            })
            .collect();
        let mut f = FindingSpec {
            detector: ID,
            detector_name: "S3 bucket read/delete volume",
            analytic: AnalyticType::Statistical,
            key: &[bucket, if deletes { "delete" } else { "read" }, &day],
            title: format!(
                "Unusual {} volume on bucket {bucket}",
                if deletes { "delete" } else { "read" }
            ),
            desc,
            remediation: "Identify the requester; if not expected, deny it in the bucket policy, rotate its \
                          credentials, and check versioning/backups for deleted objects.",
            attacks: if deletes { &["T1485"] } else { &["T1530"] },
            risk,
            confidence: 70,
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
        f.resources.push(crate::finding::Resource {
            uid: format!("arn:aws:s3:::{bucket}"),
            kind: "AWS::S3::Bucket".into(),
            region: None,
            account: None,
        });
        ctx.out.push(f);
    }
}

impl Detector for S3Volume {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        let Some(s3) = &a.s3 else { return };
        if !(s3.read || s3.delete) {
            return;
        }
        let who = s3
            .requester
            .as_deref()
            .map(str::to_string)
            .or_else(|| a.src_ip.map(|ip| ip.to_string()))
            .unwrap_or_else(|| "anonymous".into());
        let learning = i64::from(ctx.cfg.learning_days) * 24;
        if let Some(c) = self.hourly.add(
            &s3.bucket,
            a.time_ms,
            &a.uid,
            &[u64::from(s3.read), u64::from(s3.delete)],
            Some((&who, 1)),
            a.account.as_deref(),
            a.region.as_deref(),
            learning,
        ) {
            Self::score(c, ctx);
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        let learning = i64::from(ctx.cfg.learning_days) * 24;
        for c in self.hourly.flush(watermark_ms, learning) {
            Self::score(c, ctx);
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&self.hourly)
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.hourly = super::decode(bytes)?;
        self.hourly.rebuild_index();
        Ok(())
    }

    fn entities(&self) -> usize {
        self.hourly.entities.len()
    }

    fn describe(&self, entity: &str) -> Option<serde_json::Value> {
        let bucket = entity.strip_prefix("arn:aws:s3:::").unwrap_or(entity);
        let e = self.hourly.entities.get(bucket)?;
        Some(super::volume_spike::describe_series(
            bucket,
            &e.series,
            &["object reads per hour", "deletes per hour"],
        ))
    }
}
