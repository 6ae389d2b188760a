//! The state store seam: where baselines and findings live between scans.
//!
//! The embedded default is SQLite (in the `detector` crate); [`MemoryStore`] serves tests.
//! A shared store for many workers implements the same trait: detector states are opaque
//! blobs replaced per detector, findings are merged by uid (counts add, times widen, related
//! events union), and first-seen facts are an atomic insert-if-absent.

use std::collections::BTreeMap;

use crate::feedback::FeedbackEntry;
use crate::finding::Finding;

#[derive(Debug, thiserror::Error)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

/// What a commit did to the findings.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub new_findings: usize,
    pub updated_findings: usize,
}

/// Filter for listing findings.
#[derive(Debug, Default, Clone)]
pub struct FindingFilter {
    pub min_risk: u8,
    pub detector: Option<String>,
    pub include_suppressed: bool,
    pub limit: Option<usize>,
}

pub trait StateStore {
    /// Every detector's saved state (`(detector id, blob)`).
    fn load_states(&mut self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Atomically replaces detector states and merges findings in. Findings that were already
    /// stored come back with `is_new = false`. Either all of it happens or none.
    fn commit(
        &mut self,
        states: &[(String, Vec<u8>)],
        findings: &mut [Finding],
    ) -> Result<CommitStats, StoreError>;
    /// Findings ranked by risk (highest first), then time.
    fn findings(&self, filter: &FindingFilter) -> Result<Vec<Finding>, StoreError>;
    fn finding(&self, uid: &str) -> Result<Option<Finding>, StoreError>;
    /// Records `key` as seen; true when it was not seen before (atomic insert-if-absent).
    fn insert_first_seen(&mut self, key: &str, time_ms: i64) -> Result<bool, StoreError>;
    /// Analyst verdicts, oldest first.
    fn feedback(&self) -> Result<Vec<FeedbackEntry>, StoreError>;
    fn add_feedback(&mut self, entry: &FeedbackEntry) -> Result<(), StoreError>;
    /// Overwrites stored findings (same uids) as given: used to re-apply suppression.
    fn replace_findings(&mut self, findings: &[Finding]) -> Result<(), StoreError>;
    /// Makes the next commit replace every baseline and finding instead of merging, so a
    /// re-scan of history starts from nothing (verdicts and the review queue are kept).
    fn begin_rebuild(&mut self) -> Result<(), StoreError>;
}

/// Sorts findings the way every view ranks them.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.risk_score
            .cmp(&a.risk_score)
            .then(b.last_seen_ms.cmp(&a.last_seen_ms))
            .then(a.uid.cmp(&b.uid))
    });
}

/// Applies the list filter to already ranked findings.
pub fn filter(findings: Vec<Finding>, f: &FindingFilter) -> Vec<Finding> {
    let it = findings
        .into_iter()
        .filter(|x| x.risk_score >= f.min_risk)
        .filter(|x| f.detector.as_deref().is_none_or(|d| x.detector == d))
        .filter(|x| f.include_suppressed || x.suppressed.is_none());
    match f.limit {
        Some(n) => it.take(n).collect(),
        None => it.collect(),
    }
}

/// In-memory store for tests and one-off scans.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    pub states: BTreeMap<String, Vec<u8>>,
    pub findings: BTreeMap<String, Finding>,
    pub first_seen: BTreeMap<String, i64>,
    pub feedback: Vec<FeedbackEntry>,
    pub rebuild: bool,
}

impl StateStore for MemoryStore {
    fn load_states(&mut self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .states
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn commit(
        &mut self,
        states: &[(String, Vec<u8>)],
        findings: &mut [Finding],
    ) -> Result<CommitStats, StoreError> {
        let mut stats = CommitStats::default();
        if std::mem::take(&mut self.rebuild) {
            self.states.clear();
            self.findings.clear();
            self.first_seen.clear();
        }
        for (k, v) in states {
            self.states.insert(k.clone(), v.clone());
        }
        for f in findings.iter_mut() {
            match self.findings.get_mut(&f.uid) {
                Some(existing) => {
                    existing.merge(f.clone());
                    existing.is_new = false;
                    *f = existing.clone();
                    stats.updated_findings += 1;
                }
                None => {
                    self.findings.insert(f.uid.clone(), f.clone());
                    stats.new_findings += 1;
                }
            }
        }
        Ok(stats)
    }

    fn findings(&self, f: &FindingFilter) -> Result<Vec<Finding>, StoreError> {
        let mut all: Vec<Finding> = self.findings.values().cloned().collect();
        rank(&mut all);
        Ok(filter(all, f))
    }

    fn finding(&self, uid: &str) -> Result<Option<Finding>, StoreError> {
        Ok(self.findings.get(uid).cloned())
    }

    fn insert_first_seen(&mut self, key: &str, time_ms: i64) -> Result<bool, StoreError> {
        if self.first_seen.contains_key(key) {
            return Ok(false);
        }
        self.first_seen.insert(key.to_string(), time_ms);
        Ok(true)
    }

    fn feedback(&self) -> Result<Vec<FeedbackEntry>, StoreError> {
        Ok(self.feedback.clone())
    }

    fn add_feedback(&mut self, entry: &FeedbackEntry) -> Result<(), StoreError> {
        self.feedback.push(entry.clone());
        Ok(())
    }

    fn replace_findings(&mut self, findings: &[Finding]) -> Result<(), StoreError> {
        for f in findings {
            if let Some(existing) = self.findings.get_mut(&f.uid) {
                *existing = f.clone();
            }
        }
        Ok(())
    }

    fn begin_rebuild(&mut self) -> Result<(), StoreError> {
        self.rebuild = true;
        Ok(())
    }
}
