//! Baselines (opaque per-detector blobs) and findings, behind the core's `StateStore` trait.

use detector_core::feedback::FeedbackEntry;
use detector_core::finding::Finding;
use detector_core::store::{CommitStats, FindingFilter, StateStore, StoreError, filter, rank};
use rusqlite::{OptionalExtension, params};

use super::Store;

pub(super) const MIGRATION_1: &str = "
CREATE TABLE detector_state (
    detector TEXT PRIMARY KEY,
    data     BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE findings (
    uid        TEXT PRIMARY KEY,
    detector   TEXT NOT NULL,
    risk       INTEGER NOT NULL,
    severity   INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0,
    body       TEXT NOT NULL
);
CREATE INDEX findings_rank ON findings (risk DESC, last_seen DESC);
CREATE TABLE first_seen (
    key  TEXT PRIMARY KEY,
    time INTEGER NOT NULL
);
";

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

fn decode(body: &str) -> Result<Finding, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError(format!("stored finding unreadable: {e}")))
}

impl StateStore for Store {
    fn load_states(&mut self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT detector, data FROM detector_state ORDER BY detector")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    fn commit(
        &mut self,
        states: &[(String, Vec<u8>)],
        findings: &mut [Finding],
    ) -> Result<CommitStats, StoreError> {
        let rebuild = std::mem::take(&mut self.rebuild);
        let tx = self.conn.transaction().map_err(err)?;
        let mut stats = CommitStats::default();
        if rebuild {
            tx.execute_batch(
                "DELETE FROM detector_state; DELETE FROM findings; DELETE FROM first_seen;",
            )
            .map_err(err)?;
        }
        {
            let mut put = tx
                .prepare(
                    "INSERT INTO detector_state (detector, data, updated_at) VALUES (?1, ?2, datetime('now'))
                     ON CONFLICT(detector) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                )
                .map_err(err)?;
            for (id, data) in states {
                put.execute(params![id, data]).map_err(err)?;
            }
            let mut get = tx
                .prepare("SELECT body FROM findings WHERE uid = ?1")
                .map_err(err)?;
            let mut upsert = tx
                .prepare(
                    "INSERT INTO findings (uid, detector, risk, severity, first_seen, last_seen, suppressed, body)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(uid) DO UPDATE SET risk = excluded.risk, severity = excluded.severity,
                       first_seen = excluded.first_seen, last_seen = excluded.last_seen,
                       suppressed = excluded.suppressed, body = excluded.body",
                )
                .map_err(err)?;
            for f in findings.iter_mut() {
                let existing: Option<String> = get
                    .query_row([&f.uid], |r| r.get(0))
                    .optional()
                    .map_err(err)?;
                if let Some(body) = existing {
                    let mut old = decode(&body)?;
                    old.merge(f.clone());
                    old.is_new = false;
                    *f = old;
                    stats.updated_findings += 1;
                } else {
                    stats.new_findings += 1;
                }
                let body = serde_json::to_string(&*f).map_err(err)?;
                upsert
                    .execute(params![
                        f.uid,
                        f.detector,
                        f.risk_score,
                        f.severity.id(),
                        f.first_seen_ms,
                        f.last_seen_ms,
                        f.suppressed.is_some(),
                        body
                    ])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(stats)
    }

    fn findings(&self, f: &FindingFilter) -> Result<Vec<Finding>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM findings WHERE risk >= ?1 ORDER BY risk DESC, last_seen DESC, uid")
            .map_err(err)?;
        let rows = stmt
            .query_map([f.min_risk], |r| r.get::<_, String>(0))
            .map_err(err)?;
        let mut all = Vec::new();
        for body in rows {
            all.push(decode(&body.map_err(err)?)?);
        }
        rank(&mut all);
        Ok(filter(all, f))
    }

    fn finding(&self, uid: &str) -> Result<Option<Finding>, StoreError> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM findings WHERE uid = ?1", [uid], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)?;
        body.map(|b| decode(&b)).transpose()
    }

    fn insert_first_seen(&mut self, key: &str, time_ms: i64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO first_seen (key, time) VALUES (?1, ?2)",
                params![key, time_ms],
            )
            .map_err(err)?;
        Ok(n == 1)
    }

    fn feedback(&self) -> Result<Vec<FeedbackEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM feedback ORDER BY id")
            .map_err(err)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
        let mut out = Vec::new();
        for body in rows {
            let body = body.map_err(err)?;
            out.push(
                serde_json::from_str(&body)
                    .map_err(|e| StoreError(format!("stored verdict unreadable: {e}")))?,
            );
        }
        Ok(out)
    }

    fn add_feedback(&mut self, e: &FeedbackEntry) -> Result<(), StoreError> {
        let body = serde_json::to_string(e).map_err(err)?;
        self.conn
            .execute(
                "INSERT INTO feedback (finding_uid, verdict, created_at, body) VALUES (?1, ?2, ?3, ?4)",
                params![e.finding_uid, e.verdict.name(), e.created_at, body],
            )
            .map_err(err)?;
        Ok(())
    }

    fn replace_findings(&mut self, findings: &[Finding]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut put = tx
                .prepare(
                    "UPDATE findings SET risk = ?2, severity = ?3, suppressed = ?4, body = ?5 WHERE uid = ?1",
                )
                .map_err(err)?;
            for f in findings {
                let body = serde_json::to_string(f).map_err(err)?;
                put.execute(params![
                    f.uid,
                    f.risk_score,
                    f.severity.id(),
                    f.suppressed.is_some(),
                    body
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn begin_rebuild(&mut self) -> Result<(), StoreError> {
        self.rebuild = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use detector_core::detect::{EngineConfig, FindingSpec};
    use detector_core::finding::AnalyticType;

    fn finding(key: &str, risk: u8, related: &str) -> Finding {
        FindingSpec {
            detector: "test",
            detector_name: "Test",
            analytic: AnalyticType::Rule,
            key: &[key],
            title: format!("t {key}"),
            desc: "d".into(),
            remediation: "r",
            attacks: &["T1078.004"],
            risk,
            confidence: 50,
            first_ms: 10,
            last_ms: 20,
            related: vec![related.into()],
            related_count: 1,
            observables: vec![],
            account: Some("111122223333".into()),
            region: None,
            anomaly: vec![],
        }
        .build(&EngineConfig::default())
    }

    #[test]
    fn commit_merges_findings_and_states_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/state.db");
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS_LEN);
        let mut batch = vec![finding("a", 50, "e1"), finding("b", 90, "e2")];
        let st = s
            .commit(&[("x".into(), vec![1, 2, 3])], &mut batch)
            .unwrap();
        assert_eq!(st.new_findings, 2);
        drop(s);
        let mut s = Store::open(&path).unwrap();
        assert_eq!(
            s.load_states().unwrap(),
            vec![("x".to_string(), vec![1, 2, 3])]
        );
        let mut again = vec![finding("a", 60, "e3")];
        let st = s.commit(&[], &mut again).unwrap();
        assert_eq!(st.updated_findings, 1);
        assert!(!again[0].is_new);
        assert_eq!(again[0].related, vec!["e1".to_string(), "e3".to_string()]);
        assert_eq!(again[0].occurrences, 2);
        let listed = s.findings(&FindingFilter::default()).unwrap();
        assert_eq!(
            listed.iter().map(|f| f.risk_score).collect::<Vec<_>>(),
            vec![90, 60]
        );
        assert!(s.finding(&listed[0].uid).unwrap().is_some());
        assert!(s.insert_first_seen("k", 1).unwrap());
        assert!(!s.insert_first_seen("k", 2).unwrap());
    }

    const MIGRATIONS_LEN: u32 = super::super::MIGRATIONS.len() as u32;
}
