//! The scan pipeline shared by `scan`, `demo` and the service: ingest -> activities ->
//! time-ordered engine -> findings merged into the store.
//!
//! Files are parsed on worker threads (and reduced to compact activities there) while the
//! engine consumes them on this thread, so parsing and detection overlap.

use std::collections::BTreeSet;
use std::sync::{Arc, mpsc};

use anyhow::Context;
use detector_core::Reject;
use detector_core::detect::{Activity, Engine, EngineConfig, EngineStats};
use detector_core::feedback::{SuppressStats, SuppressionRule, Suppressor};
use detector_core::finding::Finding;
use detector_core::geo::GeoLookup;
use detector_core::store::{CommitStats, StateStore};

use crate::ingest::{self, IngestOptions, IngestSummary};

/// What a scan did.
#[derive(Debug)]
pub struct ScanResult {
    /// Findings raised by this scan, as stored (merged with earlier scans), ranked.
    pub findings: Vec<Finding>,
    pub ingest: IngestSummary,
    pub engine: EngineStats,
    pub commit: CommitStats,
    pub suppression: SuppressStats,
    pub entities: usize,
    pub state_bytes: usize,
    /// The first rejects, for the user (all of them are counted in `ingest`).
    pub rejects: Vec<Reject>,
    pub warnings: Vec<String>,
}

/// Rejects kept in memory for display; the rest are only counted.
const REJECTS_KEPT: usize = 50;

/// How a scan treats what is already known.
#[derive(Clone, Default)]
pub struct ScanSettings {
    pub engine: EngineConfig,
    /// Configured suppression rules (verdicts come from the store).
    pub suppress: Vec<SuppressionRule>,
    /// Forget stored baselines and findings and score the input from scratch (analyst
    /// verdicts are kept and re-applied).
    pub rebuild: bool,
    /// Wall-clock time, for rule expiry only.
    pub now_ms: i64,
    /// The organization's accounts from the configuration (accounts whose logs are read are
    /// learned on top of these).
    pub own_accounts: Vec<String>,
    /// IP enrichment (country, ASN, network kind), when installed or supplied.
    pub geo: Option<Arc<dyn GeoLookup>>,
}

/// State key under which the accounts learned from the logs are kept beside the detectors'.
const OWN_ACCOUNTS_KEY: &str = "own-accounts";

/// Runs a scan of `paths` against `store`. Nothing is written to the store unless the whole
/// scan succeeds, and then in one commit.
pub fn scan(
    paths: &[String],
    opts: &IngestOptions,
    settings: ScanSettings,
    store: &mut dyn StateStore,
) -> anyhow::Result<ScanResult> {
    let cfg = settings.engine;
    let rules = detector_core::detect::rules::rules();
    let rule_cfg = cfg.clone();
    let mut engine = Engine::new(cfg);
    if let Some(g) = settings.geo {
        engine.set_geo(g);
    }
    let mut own: BTreeSet<String> = settings.own_accounts.iter().cloned().collect();
    let mut learned: BTreeSet<String> = BTreeSet::new();
    let mut warnings = Vec::new();
    if settings.rebuild {
        store.begin_rebuild().context("starting a rebuild")?;
    } else {
        let states = store.load_states().context("loading baselines")?;
        warnings = engine.load_state(&states);
        if let Some((_, blob)) = states.iter().find(|(k, _)| k == OWN_ACCOUNTS_KEY) {
            match serde_json::from_slice::<BTreeSet<String>>(blob) {
                Ok(set) => learned = set,
                Err(e) => warnings.push(format!("stored account list unreadable ({e})")),
            }
        }
    }
    let suppressor = Suppressor::new(
        settings.suppress,
        store.feedback().context("loading analyst verdicts")?,
        settings.now_ms,
    );
    let mut opts = opts.clone();
    opts.time_order = true;
    let (tx, rx) = mpsc::sync_channel::<(Vec<Activity>, Vec<Finding>, Vec<Reject>)>(16);
    let paths = paths.to_vec();
    let reader = std::thread::spawn(move || {
        ingest::ingest_ordered(
            &paths,
            &opts,
            |_, batch| {
                let acts: Vec<Activity> = batch
                    .events
                    .iter()
                    .filter_map(Activity::from_event)
                    .collect();
                let found =
                    detector_core::detect::rules::check_all(&rules, &batch.events, &rule_cfg);
                (acts, found, batch.rejects)
            },
            |item| tx.send(item).map_err(|_| anyhow::anyhow!("scan stopped")),
        )
    });
    let mut rejects = Vec::new();
    let resume = engine.resume_ms();
    for (acts, found, rj) in rx {
        for a in acts {
            if let Some(acct) = &a.account
                && !learned.contains(&**acct)
            {
                learned.insert(acct.to_string());
            }
            engine.push(a);
        }
        // Rule findings on events an earlier scan already processed were raised then.
        engine.add_findings(
            found
                .into_iter()
                .filter(|f| f.last_seen_ms >= resume)
                .collect(),
        );
        for r in rj {
            if rejects.len() < REJECTS_KEPT {
                rejects.push(r);
            }
        }
    }
    let summary = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))??;
    engine.finish();
    let mut findings = engine.take_findings();
    own.extend(learned.iter().cloned());
    detector_core::detect::own_accounts::reconcile(&mut findings, &own, &engine.config().severity);
    let suppression = suppressor.apply(&mut findings);
    let mut new_states = engine.save_state();
    new_states.push((
        OWN_ACCOUNTS_KEY.to_string(),
        serde_json::to_vec(&learned).context("saving the account list")?,
    ));
    let state_bytes = new_states.iter().map(|(_, b)| b.len()).sum();
    let commit = store
        .commit(&new_states, &mut findings)
        .context("saving baselines and findings")?;
    detector_core::store::rank(&mut findings);
    Ok(ScanResult {
        findings,
        ingest: summary,
        engine: engine.stats,
        commit,
        suppression,
        entities: engine.entities(),
        state_bytes,
        rejects,
        warnings,
    })
}

/// What every detector believes is normal for `entity`, from the stored baselines.
pub fn describe(
    entity: &str,
    store: &mut dyn StateStore,
) -> anyhow::Result<Vec<(&'static str, serde_json::Value)>> {
    let mut engine = Engine::new(EngineConfig::default());
    let states = store.load_states().context("loading baselines")?;
    for w in engine.load_state(&states) {
        eprintln!("warning: {w}");
    }
    Ok(engine.describe(entity))
}
