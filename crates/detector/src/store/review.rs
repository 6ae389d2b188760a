//! The review queue: entities whose score fell between the review and accept thresholds,
//! waiting for a human. Each row keeps the text the entity was found in, so an accept or
//! reject becomes a labelled training example for `detector entities train`.

use std::str::FromStr;

use anyhow::{Context, bail};
use detector_core::entity::EntityType;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Store, now_rfc3339};

/// Where the entity was found, enough to rebuild the model's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewContext {
    /// Short event source (`iam`, `s3`), empty when unknown.
    pub service: String,
    /// Field path (`errorMessage`, `requestParameters.exportTarget`).
    pub path: String,
    /// The field's text.
    pub text: String,
    /// Byte span of the entity inside `text`.
    pub span: [u32; 2],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

impl ReviewContext {
    /// Stable hash of what makes two sightings the same case (FNV-1a, so it does not change
    /// between builds).
    pub fn hash(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [
            self.service.as_bytes(),
            b"\x1f",
            self.path.as_bytes(),
            b"\x1f",
            self.text.as_bytes(),
            b"\x1f",
            &self.span[0].to_le_bytes(),
            &self.span[1].to_le_bytes(),
        ] {
            for &b in part {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }
}

/// An entity to queue.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub kind: EntityType,
    pub value: String,
    pub score: f32,
    pub origin: String,
    pub explanation: serde_json::Value,
    pub context: ReviewContext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Accepted,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
        }
    }
}

impl FromStr for Status {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Status> {
        Ok(match s {
            "pending" => Status::Pending,
            "accepted" => Status::Accepted,
            "rejected" => Status::Rejected,
            other => bail!("unknown review status `{other}`"),
        })
    }
}

/// A queue row.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: EntityType,
    pub value: String,
    pub score: f64,
    pub origin: String,
    pub explanation: serde_json::Value,
    pub context: ReviewContext,
    pub status: Status,
    /// The type the reviewer settled on (the queued type unless corrected); none if rejected.
    pub decided_label: Option<EntityType>,
    pub created_at: String,
    pub decided_at: Option<String>,
}

const COLUMNS: &str = "id, entity_type, value, score, origin, explanation, context, status, \
                       decided_label, created_at, decided_at";

fn row_to_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let conv = |i: usize, e: anyhow::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    };
    let kind: String = r.get(1)?;
    let explanation: String = r.get(5)?;
    let context: String = r.get(6)?;
    let status: String = r.get(7)?;
    let label: Option<String> = r.get(8)?;
    Ok(Item {
        id: r.get(0)?,
        kind: EntityType::from_str(&kind).map_err(|e| conv(1, anyhow::anyhow!(e)))?,
        value: r.get(2)?,
        score: r.get(3)?,
        origin: r.get(4)?,
        explanation: serde_json::from_str(&explanation).map_err(|e| conv(5, e.into()))?,
        context: serde_json::from_str(&context).map_err(|e| conv(6, e.into()))?,
        status: Status::from_str(&status).map_err(|e| conv(7, e))?,
        decided_label: label
            .map(|l| EntityType::from_str(&l))
            .transpose()
            .map_err(|e| conv(8, anyhow::anyhow!(e)))?,
        created_at: r.get(9)?,
        decided_at: r.get(10)?,
    })
}

impl Store {
    /// Adds items not already queued (same type, value and context); returns how many were new.
    pub fn enqueue(&mut self, items: &[NewItem]) -> anyhow::Result<usize> {
        if items.is_empty() {
            return Ok(0);
        }
        let now = now_rfc3339();
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO review_queue
                 (entity_type, value, score, origin, explanation, context, context_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for it in items {
                added += ins.execute(params![
                    it.kind.name(),
                    it.value,
                    f64::from(it.score),
                    it.origin,
                    it.explanation.to_string(),
                    serde_json::to_string(&it.context)?,
                    it.context.hash(),
                    now,
                ])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Queue rows, oldest first, optionally of one status.
    pub fn review_list(&self, status: Option<Status>, limit: usize) -> anyhow::Result<Vec<Item>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM review_queue WHERE (?1 IS NULL OR status = ?1) ORDER BY id LIMIT ?2"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![
                status.map(Status::as_str),
                limit.min(i64::MAX as usize) as i64
            ],
            row_to_item,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    pub fn review_get(&self, id: i64) -> anyhow::Result<Option<Item>> {
        let sql = format!("SELECT {COLUMNS} FROM review_queue WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], row_to_item).optional()?)
    }

    /// Records a decision. Accepting keeps the queued type unless `label` corrects it;
    /// rejecting records no type. Deciding again overwrites the earlier decision.
    pub fn review_decide(
        &mut self,
        id: i64,
        accept: bool,
        label: Option<EntityType>,
    ) -> anyhow::Result<Item> {
        let item = self
            .review_get(id)?
            .with_context(|| format!("no review item {id}"))?;
        let (status, decided) = if accept {
            (Status::Accepted, Some(label.unwrap_or(item.kind)))
        } else {
            (Status::Rejected, None)
        };
        self.conn.execute(
            "UPDATE review_queue SET status = ?1, decided_label = ?2, decided_at = ?3 WHERE id = ?4",
            params![status.as_str(), decided.map(EntityType::name), now_rfc3339(), id],
        )?;
        self.review_get(id)?
            .with_context(|| format!("review item {id} vanished"))
    }

    /// Every decided row: the training data the reviewers produced.
    pub fn review_decisions(&self) -> anyhow::Result<Vec<Item>> {
        let sql =
            format!("SELECT {COLUMNS} FROM review_queue WHERE status != 'pending' ORDER BY id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], row_to_item)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// (pending, accepted, rejected) counts.
    pub fn review_counts(&self) -> anyhow::Result<(u64, u64, u64)> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, COUNT(*) FROM review_queue GROUP BY status")?;
        let mut c = (0, 0, 0);
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
        for row in rows {
            let (s, n) = row?;
            match s.as_str() {
                "pending" => c.0 = n,
                "accepted" => c.1 = n,
                _ => c.2 = n,
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn item(value: &str, text: &str) -> NewItem {
        NewItem {
            kind: EntityType::S3Bucket,
            value: value.into(),
            score: 0.6,
            origin: "requestParameters.exportTarget".into(),
            explanation: serde_json::json!({"recognizer": "model"}),
            context: ReviewContext {
                service: "glue".into(),
                path: "requestParameters.exportTarget".into(),
                text: text.into(),
                span: [0, text.len() as u32],
                source: None,
                event: Some("e1".into()),
            },
        }
    }

    #[test]
    fn enqueue_dedups_and_decisions_round_trip() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(
            s.enqueue(&[item("a-b", "a-b"), item("c-d", "c-d")])
                .unwrap(),
            2
        );
        // Same case again (even with another event id): not duplicated.
        let mut again = item("a-b", "a-b");
        again.context.event = Some("e2".into());
        let n = s.enqueue(&[again]).unwrap();
        // The event id is part of the context hash input only through text/path/span.
        assert_eq!(n, 0);
        let pending = s.review_list(Some(Status::Pending), 10).unwrap();
        assert_eq!(pending.len(), 2);
        let first = pending[0].id;
        let d = s.review_decide(first, false, None).unwrap();
        assert_eq!(d.status, Status::Rejected);
        assert_eq!(d.decided_label, None);
        let d = s
            .review_decide(pending[1].id, true, Some(EntityType::IamRole))
            .unwrap();
        assert_eq!(d.decided_label, Some(EntityType::IamRole));
        assert_eq!(s.review_counts().unwrap(), (0, 1, 1));
        assert_eq!(s.review_decisions().unwrap().len(), 2);
        assert!(s.review_decide(999, true, None).is_err());
        // A decided case re-seen is not re-queued.
        assert_eq!(s.enqueue(&[item("a-b", "a-b")]).unwrap(), 0);
    }

    #[test]
    fn context_hash_is_stable() {
        let a = item("x", "hello").context;
        assert_eq!(a.hash(), a.clone().hash());
        let mut b = a.clone();
        b.span = [1, 5];
        assert_ne!(a.hash(), b.hash());
    }
}
