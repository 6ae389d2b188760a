//! The embedded state store: one SQLite file (WAL mode) holding everything the detector
//! keeps between runs. Schema changes are an ordered list of migrations, each applied once in
//! its own transaction and recorded in `schema_migrations`, so any later feature (baselines,
//! findings, feedback) adds a migration at the end of [`MIGRATIONS`] and nothing else.

pub mod review;
mod state;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use rusqlite::{Connection, OptionalExtension, params};

/// One schema step. Versions are consecutive from 1; never edit a released migration, add one.
#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "detector_state_findings_first_seen",
        sql: state::MIGRATION_1,
    },
    Migration {
        version: 2,
        name: "review_queue",
        sql: "
        CREATE TABLE review_queue (
            id            INTEGER PRIMARY KEY,
            entity_type   TEXT NOT NULL,
            value         TEXT NOT NULL,
            score         REAL NOT NULL,
            origin        TEXT NOT NULL,
            explanation   TEXT NOT NULL,
            context       TEXT NOT NULL,
            context_hash  TEXT NOT NULL,
            status        TEXT NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'accepted', 'rejected')),
            decided_label TEXT,
            created_at    TEXT NOT NULL,
            decided_at    TEXT,
            UNIQUE (entity_type, value, context_hash)
        );
        CREATE INDEX review_queue_status ON review_queue (status, id);
    ",
    },
    Migration {
        version: 3,
        name: "feedback",
        sql: "
        CREATE TABLE feedback (
            id          INTEGER PRIMARY KEY,
            finding_uid TEXT NOT NULL,
            verdict     TEXT NOT NULL
                        CHECK (verdict IN ('true-positive', 'false-positive', 'benign-expected')),
            created_at  TEXT NOT NULL,
            body        TEXT NOT NULL
        );
        CREATE INDEX feedback_finding ON feedback (finding_uid);
    ",
    },
];

/// A handle on the state database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// Set by `begin_rebuild`: the next commit replaces instead of merging.
    rebuild: bool,
}

impl Store {
    /// Opens (creating parent folders and the file if needed) and migrates.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening state store {}", path.display()))?;
        // Several processes (a scan and a review session) may share the file.
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Store::init(conn).with_context(|| format!("state store {}", path.display()))
    }

    /// Opens the store at `--state PATH`, `$DETECTOR_STATE` or the user's data dir.
    pub fn open_or_default(flag: Option<&Path>) -> anyhow::Result<Store> {
        Store::open(&resolve_path(flag)?)
    }

    /// A private store for tests and one-shot runs.
    #[allow(dead_code)]
    pub fn open_in_memory() -> anyhow::Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> anyhow::Result<Store> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TEXT NOT NULL
            );",
        )?;
        let current: i64 = conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        let latest = MIGRATIONS.last().map_or(0, |m| m.version);
        if current > latest {
            bail!(
                "schema version {current} is newer than this build knows ({latest}); \
                 use a newer detector"
            );
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            let tx = conn.transaction()?;
            tx.execute_batch(m.sql)
                .with_context(|| format!("migration {} ({})", m.version, m.name))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                params![m.version, m.name, now_rfc3339()],
            )?;
            tx.commit()?;
        }
        Ok(Store {
            conn,
            rebuild: false,
        })
    }

    #[allow(dead_code)]
    pub fn schema_version(&self) -> anyhow::Result<u32> {
        Ok(self
            .conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get::<_, Option<u32>>(0)
            })
            .optional()?
            .flatten()
            .unwrap_or(0))
    }

    #[cfg(test)]
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Wall-clock time for bookkeeping columns (never for detection, which runs on event time).
pub fn now_rfc3339() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    detector_core::time::format_iso8601_ms(ms)
}

/// Where the state lives: `--state PATH`, else `$DETECTOR_STATE`, else the user's data dir
/// (`$XDG_DATA_HOME/detector/state.db`, `~/.local/share/detector/state.db`).
pub fn resolve_path(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p.to_path_buf());
    }
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(p) = env("DETECTOR_STATE") {
        return Ok(PathBuf::from(p));
    }
    if let Some(d) = env("XDG_DATA_HOME") {
        return Ok(PathBuf::from(d).join("detector").join("state.db"));
    }
    if let Some(h) = env("HOME") {
        return Ok(PathBuf::from(h)
            .join(".local")
            .join("share")
            .join("detector")
            .join("state.db"));
    }
    bail!("no state path: pass --state PATH or set DETECTOR_STATE")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn migrations_apply_once_and_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/state.db");
        {
            let s = Store::open(&path).unwrap();
            assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as u32);
        }
        // Re-opening applies nothing twice.
        let s = Store::open(&path).unwrap();
        let n: i64 = s
            .conn()
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, MIGRATIONS.len() as i64);
        let mode: String = s
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.execute(
            "INSERT INTO schema_migrations VALUES (999, 'future', 'x')",
            [],
        )
        .unwrap();
        drop(c);
        let e = Store::open(&path).unwrap_err();
        assert!(format!("{e:#}").contains("newer"), "{e:#}");
    }

    #[test]
    fn versions_are_consecutive() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
    }

    #[test]
    fn state_path_precedence() {
        let flag = Path::new("/tmp/x.db");
        assert_eq!(resolve_path(Some(flag)).unwrap(), flag);
    }
}
