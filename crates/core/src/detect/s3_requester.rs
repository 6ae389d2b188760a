//! Per-requester abuse of S3 seen in server access logs.
//!
//! **What** (windows with gaps under 15 minutes):
//! - anonymous access: unauthenticated reads or listings that succeed on a bucket that never
//!   served anonymous requests (or only started to in the last day), after the bucket's
//!   learning period;
//! - access-denied storm: 50 or more 403 responses to one requester (or one address, when
//!   anonymous), typically guessing object names across buckets;
//! - mass reads: one requester downloading 1,000 or more objects from one bucket, and five
//!   times its own largest earlier burst;
//! - mass deletes: one requester deleting 200 or more objects, and five times its own largest
//!   earlier burst.
//!
//! **Why**: misconfigured public buckets are read anonymously (T1530, T1619); outsiders probe
//! for well-known file names (T1619); stolen application credentials are used to copy a
//! bucket (T1530) or wipe it (T1485).
//! **Coordination**: `s3-bucket-volume` judges each bucket's hourly volume against its season;
//! this detector judges each requester against fixed floors and its own peaks, so a burst
//! can raise both (different uids), each explaining a different thing.
//! **Baseline**: per bucket, first sighting and first anonymous success; per requester (role
//! sessions folded into their role), the largest earlier read and delete bursts.
//! **False positives**: public websites served straight from S3 (learned as normal), data
//! migrations and backfills (raise the requester's peak), crawlers of public datasets.
//! **ATT&CK**: T1530, T1619, T1485.
//! **References**: AWS, "Amazon S3 server access log format"; GuardDuty
//! Discovery:S3/AnomalousBehavior, Exfiltration:S3/AnomalousBehavior, Impact:S3/AnomalousBehavior.Delete.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::baseline::DAY_MS;
use super::sequence::{Evidence, Report, finding, fold_session, join};
use super::{Activity, Ctx, Detector, anomaly_entry, principal_observables, risk_score};
use crate::finding::{Observable, ObservableType, Resource};

const ID: &str = "s3-requester-abuse";
const GAP_MS: i64 = 15 * 60_000;
const MAX_SPAN_MS: i64 = 3 * 3_600_000;
const DENIED: u64 = 50;
const READS: u64 = 1000;
const DELETES: u64 = 200;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Bucket {
    first_ms: i64,
    anon_first_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Win {
    ev: Evidence,
    n: u64,
    buckets: BTreeSet<String>,
    objects: u64,
    lists: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum Kind {
    Anonymous,
    Denied,
    Reads,
    Deletes,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Anonymous => "anonymous",
            Kind::Denied => "denied",
            Kind::Reads => "reads",
            Kind::Deletes => "deletes",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    buckets: BTreeMap<String, Bucket>,
    windows: BTreeMap<(Kind, String), Win>,
    /// (kind, key) -> largest earlier window count (reads, deletes).
    peaks: BTreeMap<(Kind, String), u64>,
}

/// See the module documentation.
#[derive(Default)]
pub struct S3Requester {
    s: State,
}

impl S3Requester {
    fn close(s: &mut State, kind: Kind, key: &str, w: &Win, ctx: &mut Ctx) {
        let peak = s.peaks.get(&(kind, key.to_string())).copied().unwrap_or(0);
        let (bar, strength) = match kind {
            Kind::Anonymous => (1, if w.n >= 20 || w.lists > 0 { 0.82 } else { 0.6 }),
            Kind::Denied => (DENIED, if w.buckets.len() >= 3 { 0.7 } else { 0.6 }),
            Kind::Reads => (READS.max(5 * peak), 0.8),
            Kind::Deletes => (DELETES.max(5 * peak), 0.85),
        };
        if w.n < bar {
            if matches!(kind, Kind::Reads | Kind::Deletes) {
                let p = s.peaks.entry((kind, key.to_string())).or_default();
                *p = (*p).max(w.n);
            }
            return;
        }
        let (who, bucket) = key.split_once('|').unwrap_or((key, ""));
        let buckets = if w.buckets.is_empty() {
            bucket.to_string()
        } else {
            join(&w.buckets, 4)
        };
        let mins = ((w.ev.last_ms - w.ev.first_ms) / 60_000).max(1);
        let (title, desc, attacks): (String, String, &[&'static str]) = match kind {
            Kind::Anonymous => (
                format!(
                    "Anonymous S3 access: {who} read {buckets} without credentials ({} requests)",
                    w.n
                ),
                format!(
                    "{} unauthenticated requests from {who} succeeded on bucket {buckets} ({} object reads, {} listings) in {mins} \
                     minutes. This bucket did not serve anonymous requests before: a policy or ACL change made it public, \
                     or it was always open and has just been found.",
                    w.n, w.objects, w.lists
                ),
                &["T1530", "T1619"],
            ),
            Kind::Denied => (
                format!(
                    "S3 access-denied storm: {who} was refused {} times across {} bucket(s)",
                    w.n,
                    w.buckets.len()
                ),
                format!(
                    "{who} received {} 403 responses in {mins} minutes on {buckets}. Guessing object names or probing \
                     permissions produces exactly this.",
                    w.n
                ),
                &["T1619"],
            ),
            Kind::Reads => (
                format!(
                    "Mass download from S3: {who} read {} objects from {bucket} in {mins} minutes",
                    w.n
                ),
                format!(
                    "{who} downloaded {} objects from {bucket} in {mins} minutes; its largest earlier burst was {peak}. Copying \
                     a bucket this fast is data theft unless a migration is running.",
                    w.n
                ),
                &["T1530"],
            ),
            Kind::Deletes => (
                format!(
                    "Mass deletion in S3: {who} deleted {} objects in {mins} minutes",
                    w.n
                ),
                format!(
                    "{who} deleted {} objects from {buckets} in {mins} minutes; its largest earlier burst was {peak}.",
                    w.n
                ),
                &["T1485"],
            ),
        };
        let risk = risk_score(strength, 0.5, 0.8, 0.8);
        let mut observables = if who.starts_with("arn:") {
            principal_observables(who)
        } else {
            vec![Observable {
                kind: ObservableType::IpAddress,
                value: who.to_string(),
            }]
        };
        observables.retain(|o| {
            o.kind != ObservableType::IpAddress || o.value.parse::<std::net::IpAddr>().is_ok()
        });
        let resources = w
            .buckets
            .iter()
            .chain(std::iter::once(&bucket.to_string()).filter(|b| !b.is_empty()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|b| Resource {
                uid: format!("arn:aws:s3:::{b}"),
                kind: "AWS::S3::Bucket".into(),
                region: None,
                account: None,
            })
            .collect();
        let day = w.ev.first_ms.div_euclid(DAY_MS).to_string();
        let anomaly = vec![anomaly_entry(
            &format!("S3 {} by {who}", kind.name()),
            (who, "requester"),
            kind.name(),
            w.n.to_string(),
            (w.ev.first_ms, w.ev.last_ms),
            format!("{} requests", w.n),
            vec![
                ("threshold", bar.to_string()),
                ("earlier_peak", peak.to_string()),
            ],
            "fixed floor and the requester's largest earlier burst",
        )];
        let f = finding(
            &w.ev,
            Report {
                detector: ID,
                name: "S3 requester abuse",
                key: &[kind.name(), key, &day],
                title,
                desc,
                remediation: "Identify the requester. Anonymous access: block public access on the bucket and review its \
                              policy and ACLs. Stolen credentials: revoke them and find what was read or deleted (the \
                              access log lists every key); restore deleted objects from versions or backups.",
                attacks,
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

    fn note(
        &mut self,
        kind: Kind,
        key: String,
        bucket: &str,
        a: &Activity,
        list: bool,
        ctx: &mut Ctx,
    ) {
        let k = (kind, key);
        if self
            .s
            .windows
            .get(&k)
            .is_some_and(|w| !w.ev.fits(a.time_ms, GAP_MS, MAX_SPAN_MS))
            && let Some(w) = self.s.windows.remove(&k)
        {
            Self::close(&mut self.s, kind, &k.1, &w, ctx);
        }
        let w = self.s.windows.entry(k).or_insert_with(|| Win {
            ev: Evidence {
                first_ms: a.time_ms,
                last_ms: a.time_ms,
                ..Evidence::default()
            },
            ..Win::default()
        });
        w.ev.add(a);
        w.n += 1;
        if list {
            w.lists += 1;
        } else {
            w.objects += 1;
        }
        if w.buckets.len() < 32 {
            w.buckets.insert(bucket.to_string());
        }
    }
}

impl Detector for S3Requester {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        let Some(s3) = &a.s3 else { return };
        let bucket = s3.bucket.as_ref();
        let learn = i64::from(ctx.cfg.learning_days) * DAY_MS;
        let op = a.api.as_deref().unwrap_or("");
        let anonymous = s3.requester.is_none();
        let ip = a
            .src_ip
            .map(|i| i.to_string())
            .unwrap_or_else(|| "unknown".into());
        let who = match s3.requester.as_deref() {
            Some(r) => fold_session(r),
            None => ip.clone(),
        };
        if s3.denied {
            self.note(Kind::Denied, who.clone(), bucket, a, false, ctx);
            return;
        }
        if a.error {
            return;
        }
        let b = self
            .s
            .buckets
            .entry(bucket.to_string())
            .or_insert_with(|| Bucket {
                first_ms: a.time_ms,
                anon_first_ms: None,
            });
        let list = op.contains(".GET.BUCKET");
        if anonymous && (s3.read || list) {
            let first_anon = *b.anon_first_ms.get_or_insert(a.time_ms);
            let learned = a.time_ms - b.first_ms >= learn && first_anon - b.first_ms >= learn;
            if learned && a.time_ms - first_anon <= DAY_MS {
                self.note(
                    Kind::Anonymous,
                    format!("{ip}|{bucket}"),
                    bucket,
                    a,
                    list,
                    ctx,
                );
            }
            return;
        }
        if s3.read {
            self.note(
                Kind::Reads,
                format!("{who}|{bucket}"),
                bucket,
                a,
                false,
                ctx,
            );
        } else if s3.delete {
            self.note(Kind::Deletes, who, bucket, a, false, ctx);
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        let due: Vec<(Kind, String)> = self
            .s
            .windows
            .iter()
            .filter(|(_, w)| w.ev.last_ms + GAP_MS < watermark_ms)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            if let Some(w) = self.s.windows.remove(&k) {
                Self::close(&mut self.s, k.0, &k.1, &w, ctx);
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
        self.s.buckets.len() + self.s.peaks.len()
    }
}
