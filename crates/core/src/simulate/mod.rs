//! Synthetic AWS organization logs with labelled attacks: the corpus generator behind
//! `detector simulate` and the ground truth `detector evaluate` scores against.
//!
//! Why a generator rather than recorded logs: detectors need weeks of realistic background
//! (people with working hours, workloads with steady rhythms, scanners that look like
//! reconnaissance, backups that look like exfiltration) plus attacks whose every record is
//! known, at any volume, reproducibly. Everything here is pure: files come out through a
//! callback as `(key, bytes, compress)`; the IO crate writes and compresses them.
//!
//! Determinism: the organization, each scenario and each (account, block of hours) chunk draw
//! from generators derived from the seed and their own identity, never from shared state and
//! never from hash-map iteration order. Chunks can run on any number of threads in any order and
//! the bytes are identical.

mod apis;
pub(crate) mod background;
mod catalog;
pub(crate) mod clock;
pub(crate) mod ct;
pub(crate) mod emit;
pub(crate) mod flow;
mod geo;
pub(crate) mod json;
pub mod org;
pub(crate) mod rng;
pub(crate) mod s3log;
pub mod scenarios;
pub mod truth;

use std::collections::BTreeMap;

pub use emit::MAX_LATENESS_MS;
pub use org::Org;
pub use scenarios::{Label, SCENARIOS, ScenarioDef};
pub use truth::{Counts, Indicators, KindCount, Manifest, ManifestScenario, TruthLine};

use clock::{DAY, HOUR};
use rng::{RngExt, rng_for, tag};
use scenarios::{BgFeature, Ctx, InjKind, Injection, Injections};

/// Which scenarios to include.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    #[default]
    All,
    /// Background only.
    None,
    Malicious,
    Benign,
    Names(Vec<String>),
}

impl std::str::FromStr for Selection {
    type Err = SimError;
    /// `all`, `none`, `malicious`, `benign`, or a comma-separated list of scenario names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "all" => Ok(Selection::All),
            "none" => Ok(Selection::None),
            "malicious" => Ok(Selection::Malicious),
            "benign" => Ok(Selection::Benign),
            list => {
                let names: Vec<String> = list
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect();
                for n in &names {
                    if scenarios::index_of(n).is_none() {
                        return Err(SimError::UnknownScenario(n.clone()));
                    }
                }
                Ok(Selection::Names(names))
            }
        }
    }
}

/// Generator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub seed: u64,
    /// Simulated days (1..=366).
    pub days: u32,
    /// Member (workload) accounts; a management and a security account are always added.
    pub accounts: u32,
    /// Activity multiplier: entity counts grow with √scale and their rates with the rest.
    pub scale: f64,
    /// First simulated day, `YYYY-MM-DD` (UTC midnight).
    pub start: String,
    pub scenarios: Selection,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            days: 14,
            accounts: 3,
            scale: 1.0,
            start: "2026-10-01".to_string(),
            scenarios: Selection::All,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SimError {
    #[error("start date `{0}` is not a YYYY-MM-DD date")]
    BadStart(String),
    #[error("unknown scenario `{0}` (see `detector simulate --help` for the list)")]
    UnknownScenario(String),
    #[error("days must be between 1 and 366, got {0}")]
    BadDays(u32),
    #[error("accounts must be between 1 and 50, got {0}")]
    BadAccounts(u32),
    #[error("scale must be a number above 0 and at most 1000, got {0}")]
    BadScale(String),
}

/// What kind of file an output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    CloudTrail,
    CloudTrailDigest,
    VpcFlow,
    S3Access,
}

/// One file of output: its key relative to the output directory and its uncompressed bytes.
#[derive(Debug, Clone)]
pub struct OutFile {
    pub key: String,
    pub bytes: Vec<u8>,
    /// Gzip before writing (the key already ends in `.gz`).
    pub compress: bool,
    pub kind: FileKind,
    pub records: u64,
}

/// A record belonging to a scenario, as found while assembling files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub scenario: u16,
    pub time_ms: i64,
    pub uid: String,
}

/// What one or more chunks produced.
#[derive(Debug, Clone, Default)]
pub struct ChunkReport {
    pub counts: Counts,
    pub tagged: Vec<Tagged>,
}

impl ChunkReport {
    pub(crate) fn add(&mut self, kind: FileKind, records: u64, bytes: u64) {
        let k = match kind {
            FileKind::CloudTrail => &mut self.counts.cloudtrail,
            FileKind::CloudTrailDigest => &mut self.counts.cloudtrail_digest,
            FileKind::VpcFlow => &mut self.counts.vpcflow,
            FileKind::S3Access => &mut self.counts.s3access,
        };
        k.files += 1;
        k.records += records;
        k.bytes += bytes;
    }

    /// Adds another report (merge chunk reports in chunk order for a deterministic result).
    pub fn merge(&mut self, other: ChunkReport) {
        for (a, b) in [
            (&mut self.counts.cloudtrail, other.counts.cloudtrail),
            (
                &mut self.counts.cloudtrail_digest,
                other.counts.cloudtrail_digest,
            ),
            (&mut self.counts.vpcflow, other.counts.vpcflow),
            (&mut self.counts.s3access, other.counts.s3access),
        ] {
            a.files += b.files;
            a.records += b.records;
            a.bytes += b.bytes;
        }
        self.tagged.extend(other.tagged);
    }
}

/// A unit of parallel work: one account over a block of hours of one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub account: usize,
    pub day: u32,
    pub first_hour: u32,
    pub hours: u32,
}

/// A scenario as planned.
#[derive(Debug, Clone)]
pub struct Planned {
    pub index: usize,
    pub name: &'static str,
    pub label: Label,
    /// Time the scenario was placed at (its records may start a little later).
    pub start_ms: i64,
    pub indicators: Indicators,
}

/// Background features labelled as scenarios: (feature, day, scenario index).
pub(crate) type BgTags = Vec<(BgFeature, i64, u16)>;

/// A planned simulation: the organization, the scenarios and their injected records, and the
/// chunks of work.
#[derive(Debug)]
pub struct Simulation {
    pub cfg: Config,
    pub org: Org,
    start_ms: i64,
    pub(crate) bg_tags: BgTags,
    injections: Vec<Injection>,
    planned: Vec<Planned>,
    chunks: Vec<Chunk>,
}

/// First day scenarios may happen: late enough that baselines have a week of history.
fn first_scenario_day(days: u32) -> i64 {
    if days > 8 { 7 } else { i64::from(days / 2) }
}

/// Hours per chunk: whole days at small scale, smaller blocks at large scale so one chunk's
/// records stay around a few tens of megabytes.
fn block_hours(scale: f64) -> u32 {
    for h in [24, 12, 8, 6, 4, 3, 2] {
        if scale * f64::from(h) / 24.0 <= 2.0 {
            return h;
        }
    }
    1
}

impl Simulation {
    pub fn new(cfg: Config) -> Result<Self, SimError> {
        if !(1..=366).contains(&cfg.days) {
            return Err(SimError::BadDays(cfg.days));
        }
        if !(1..=50).contains(&cfg.accounts) {
            return Err(SimError::BadAccounts(cfg.accounts));
        }
        if !(cfg.scale.is_finite() && cfg.scale > 0.0 && cfg.scale <= 1000.0) {
            return Err(SimError::BadScale(cfg.scale.to_string()));
        }
        let start_ms = match crate::time::parse_iso8601_ms(&cfg.start) {
            Some(ms) if cfg.start.trim().len() == 10 => ms,
            _ => return Err(SimError::BadStart(cfg.start.clone())),
        };
        let selected: Vec<usize> = match &cfg.scenarios {
            Selection::All => (0..SCENARIOS.len()).collect(),
            Selection::None => Vec::new(),
            Selection::Malicious => (0..SCENARIOS.len())
                .filter(|i| SCENARIOS[*i].label == Label::Malicious)
                .collect(),
            Selection::Benign => (0..SCENARIOS.len())
                .filter(|i| SCENARIOS[*i].label == Label::Benign)
                .collect(),
            Selection::Names(names) => {
                let mut v = Vec::new();
                for n in names {
                    let i = scenarios::index_of(n)
                        .ok_or_else(|| SimError::UnknownScenario(n.clone()))?;
                    if !v.contains(&i) {
                        v.push(i);
                    }
                }
                v.sort_unstable();
                v
            }
        };
        let org = org::build(&cfg);
        let hours = block_hours(cfg.scale);
        let mut chunks = Vec::new();
        for day in 0..cfg.days {
            for first_hour in (0..24).step_by(hours as usize) {
                for account in 0..org.accounts.len() {
                    chunks.push(Chunk {
                        account,
                        day,
                        first_hour,
                        hours,
                    });
                }
            }
        }
        let mut sim = Simulation {
            cfg,
            org,
            start_ms,
            bg_tags: Vec::new(),
            injections: Vec::new(),
            planned: Vec::new(),
            chunks,
        };
        let (injections, bg, planned) = sim.plan(&selected);
        sim.injections = injections;
        sim.bg_tags = bg;
        sim.planned = planned;
        Ok(sim)
    }

    fn plan(&self, selected: &[usize]) -> (Vec<Injection>, BgTags, Vec<Planned>) {
        let mut store = Injections::new(&self.org, self.end_ms());
        let mut bg = Vec::new();
        let mut planned = Vec::new();
        let first = first_scenario_day(self.cfg.days);
        let last = i64::from(self.cfg.days) - 1;
        for &i in selected {
            let def = &SCENARIOS[i];
            let mut r = rng_for(self.cfg.seed, &[tag("scenario"), tag(def.name)]);
            let day = r.between(first, last);
            let t = (self.start_ms + day * DAY + r.between(0, 18 * HOUR))
                .clamp(self.start_ms, (self.end_ms() - 6 * HOUR).max(self.start_ms));
            let mut ctx = Ctx::new(self, r, t, i as u16, &mut store);
            (def.run)(&mut ctx);
            let ind = std::mem::take(&mut ctx.ind);
            bg.append(&mut ctx.bg);
            planned.push(Planned {
                index: i,
                name: def.name,
                label: def.label,
                start_ms: t,
                indicators: ind,
            });
        }
        let mut items = store.items;
        items.sort_by_key(|a| (a.account, a.time_ms));
        (items, bg, planned)
    }

    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    pub fn end_ms(&self) -> i64 {
        self.start_ms + i64::from(self.cfg.days) * DAY
    }

    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    pub fn planned(&self) -> &[Planned] {
        &self.planned
    }

    /// Generates chunk `i`, handing each finished file to `sink`. Files of one chunk are
    /// produced one after another, so memory stays at one chunk's worth of records.
    pub fn generate_chunk<E>(
        &self,
        i: usize,
        sink: &mut dyn FnMut(OutFile) -> Result<(), E>,
    ) -> Result<ChunkReport, E> {
        let Some(c) = self.chunks.get(i).copied() else {
            return Ok(ChunkReport::default());
        };
        let start = self.start_ms + i64::from(c.day) * DAY + i64::from(c.first_hour) * HOUR;
        let end = start + i64::from(c.hours) * HOUR;
        let mut buf = emit::ChunkBuf::new(self.cfg.seed, c.account, start, end);
        let mut scratch = Vec::with_capacity(4096);
        for h in 0..i64::from(c.hours) {
            let mut g = background::Gen {
                sim: self,
                org: &self.org,
                out: &mut buf,
                scratch: std::mem::take(&mut scratch),
                account: c.account,
                day: i64::from(c.day),
                hour_ms: start + h * HOUR,
                scale: self.cfg.scale,
            };
            background::hour(&mut g);
            scratch = g.scratch;
        }
        let from = self
            .injections
            .partition_point(|x| (x.account, x.time_ms) < (c.account, start));
        for inj in self.injections[from..]
            .iter()
            .take_while(|x| x.account == c.account && x.time_ms < end)
        {
            use emit::Out;
            match &inj.kind {
                InjKind::Ct {
                    region,
                    json,
                    event_id,
                } => {
                    buf.ct(
                        inj.account,
                        region,
                        inj.time_ms,
                        event_id.clone(),
                        json,
                        Some(inj.tag),
                    );
                }
                InjKind::Flow(rec) => buf.flow(rec.clone(), Some(inj.tag)),
                InjKind::S3 { bucket, line } => buf.s3(*bucket, inj.time_ms, line, Some(inj.tag)),
            }
        }
        buf.finish(self, sink)
    }

    /// Generates every chunk in order on the calling thread.
    pub fn generate_all<E>(
        &self,
        sink: &mut dyn FnMut(OutFile) -> Result<(), E>,
    ) -> Result<ChunkReport, E> {
        let mut total = ChunkReport::default();
        for i in 0..self.chunks.len() {
            total.merge(self.generate_chunk(i, sink)?);
        }
        Ok(total)
    }

    /// Ground truth, one line per planned scenario in registry order.
    pub fn truth(&self, report: &ChunkReport) -> Vec<TruthLine> {
        let mut by: BTreeMap<u16, Vec<&Tagged>> = BTreeMap::new();
        for t in &report.tagged {
            by.entry(t.scenario).or_default().push(t);
        }
        self.planned
            .iter()
            .map(|p| {
                let def = &SCENARIOS[p.index];
                let mut recs = by.remove(&(p.index as u16)).unwrap_or_default();
                recs.sort_by(|a, b| (a.time_ms, &a.uid).cmp(&(b.time_ms, &b.uid)));
                let start = recs.first().map_or(p.start_ms, |t| t.time_ms);
                let end = recs.last().map_or(p.start_ms, |t| t.time_ms);
                TruthLine {
                    name: def.name.to_string(),
                    label: def.label.as_str().to_string(),
                    description: def.summary.to_string(),
                    attack_ids: def.attack_ids.iter().map(|s| s.to_string()).collect(),
                    tactics: def.tactics.iter().map(|s| s.to_string()).collect(),
                    start: clock::rfc3339_ms(start),
                    end: clock::rfc3339_ms(end),
                    start_ms: start,
                    end_ms: end,
                    record_uids: recs.iter().map(|t| t.uid.clone()).collect(),
                    indicators: p.indicators.clone(),
                }
            })
            .collect()
    }

    /// IP enrichment data for the simulated addresses, `(asn.csv, country.csv)` in the
    /// `ip-location-db` layouts: scan with `--geo <out>/geo` to enrich with exactly this plan.
    pub fn geo_csv(&self) -> (String, String) {
        geo::geo_csv(self.org.company)
    }

    /// The run manifest.
    pub fn manifest(&self, report: &ChunkReport) -> Manifest {
        let truth = self.truth(report);
        let malicious: u64 = truth
            .iter()
            .filter(|t| t.is_malicious())
            .map(|t| t.record_uids.len() as u64)
            .sum();
        Manifest {
            generator: format!("detector simulate {}", env!("CARGO_PKG_VERSION")),
            seed: self.cfg.seed,
            start: self.cfg.start.clone(),
            days: self.cfg.days,
            accounts: self.cfg.accounts,
            scale: self.cfg.scale,
            org_id: self.org.org_id.clone(),
            account_ids: self.org.accounts.iter().map(|a| a.id.clone()).collect(),
            counts: report.counts,
            background_events: report.counts.events().saturating_sub(malicious),
            geo: Some(
                "geo/asn.csv and geo/country.csv place every simulated address (ip-location-db CSV \
                 layouts; real operators' AS numbers on made-up prefixes): scan with --geo <out>/geo"
                    .to_string(),
            ),
            scenarios: truth
                .iter()
                .map(|t| ManifestScenario {
                    name: t.name.clone(),
                    label: t.label.clone(),
                    start: t.start.clone(),
                    records: t.record_uids.len(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_parses() {
        assert_eq!("all".parse::<Selection>(), Ok(Selection::All));
        assert_eq!("none".parse::<Selection>(), Ok(Selection::None));
        assert_eq!(
            "flow-port-scan, root-account-use".parse::<Selection>(),
            Ok(Selection::Names(vec![
                "flow-port-scan".into(),
                "root-account-use".into()
            ]))
        );
        assert!(matches!(
            "nope".parse::<Selection>(),
            Err(SimError::UnknownScenario(_))
        ));
    }

    #[test]
    fn config_is_validated() {
        let bad = |f: fn(&mut Config)| {
            let mut c = Config::default();
            f(&mut c);
            Simulation::new(c).is_err()
        };
        assert!(bad(|c| c.days = 0));
        assert!(bad(|c| c.accounts = 0));
        assert!(bad(|c| c.scale = f64::NAN));
        assert!(bad(|c| c.scale = 0.0));
        assert!(bad(|c| c.start = "2026-13-01".into()));
        assert!(bad(|c| c.start = "yesterday".into()));
    }

    #[test]
    fn registry_has_enough_scenarios() {
        let mal = SCENARIOS
            .iter()
            .filter(|s| s.label == Label::Malicious)
            .count();
        let ben = SCENARIOS
            .iter()
            .filter(|s| s.label == Label::Benign)
            .count();
        assert!(mal >= 20 && ben >= 5, "{mal} {ben}");
        let mut names: Vec<_> = SCENARIOS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SCENARIOS.len());
        for s in SCENARIOS.iter().filter(|s| s.label == Label::Malicious) {
            assert!(
                !s.attack_ids.is_empty() && s.attack_ids.iter().all(|a| a.starts_with('T')),
                "{}",
                s.name
            );
        }
    }
}
