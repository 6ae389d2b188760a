//! Thresholds that turn scores into decisions. Read from the `[entities]` table of the config
//! file; every field has a default so an empty table is valid.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::types::EntityType;

/// What happens to an entity with a given score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Reported as fact.
    Accept,
    /// Reported only on request, and queued for a human decision.
    Review,
    /// Too unsure to say anything.
    Drop,
}

/// Per-type override; an absent field falls back to the global value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub accept: Option<f32>,
    pub review: Option<f32>,
}

/// Entity extraction settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EntityConfig {
    /// Score at or above which an entity is accepted. Scores come from validators (1.0 for
    /// typed fields, ~0.95 for validated patterns) and model probabilities, so 0.8 keeps
    /// validated patterns and confident model answers.
    pub accept: f32,
    /// Score at or above which an entity that is not accepted goes to the review queue; below
    /// it the entity is dropped. The band between the two is where human decisions teach the
    /// model the most.
    pub review: f32,
    /// A rule candidate at or above this score is final; below it the learned model decides.
    pub rule_certain: f32,
    /// Per-type overrides, keyed by type name (`account_id = { accept = 0.9 }`).
    pub types: BTreeMap<EntityType, Thresholds>,
}

impl Default for EntityConfig {
    fn default() -> Self {
        EntityConfig {
            accept: 0.8,
            review: 0.5,
            rule_certain: 0.9,
            types: BTreeMap::new(),
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("threshold `{0}` must be between 0 and 1, got {1}")]
    OutOfRange(String, f32),
    #[error("review threshold {review} for `{kind}` is above its accept threshold {accept}")]
    ReviewAboveAccept {
        kind: String,
        review: f32,
        accept: f32,
    },
}

impl EntityConfig {
    pub fn accept_for(&self, t: EntityType) -> f32 {
        self.types
            .get(&t)
            .and_then(|x| x.accept)
            .unwrap_or(self.accept)
    }

    pub fn review_for(&self, t: EntityType) -> f32 {
        self.types
            .get(&t)
            .and_then(|x| x.review)
            .unwrap_or(self.review)
    }

    pub fn decide(&self, t: EntityType, score: f32) -> Decision {
        if score >= self.accept_for(t) {
            Decision::Accept
        } else if score >= self.review_for(t) {
            Decision::Review
        } else {
            Decision::Drop
        }
    }

    /// Checks ranges and ordering once at start-up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |name: String, v: f32| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange(name, v))
            }
        };
        check("accept".into(), self.accept)?;
        check("review".into(), self.review)?;
        check("rule_certain".into(), self.rule_certain)?;
        for &t in EntityType::ALL {
            let (a, r) = (self.accept_for(t), self.review_for(t));
            check(format!("types.{t}.accept"), a)?;
            check(format!("types.{t}.review"), r)?;
            if r > a {
                return Err(ConfigError::ReviewAboveAccept {
                    kind: t.name().into(),
                    review: r,
                    accept: a,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decisions_use_per_type_overrides() {
        let mut c = EntityConfig::default();
        c.types.insert(
            EntityType::AccountId,
            Thresholds {
                accept: Some(0.95),
                review: None,
            },
        );
        assert_eq!(c.decide(EntityType::AccountId, 0.9), Decision::Review);
        assert_eq!(c.decide(EntityType::S3Bucket, 0.9), Decision::Accept);
        assert_eq!(c.decide(EntityType::S3Bucket, 0.6), Decision::Review);
        assert_eq!(c.decide(EntityType::S3Bucket, 0.2), Decision::Drop);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn validation_catches_bad_values() {
        let c = EntityConfig {
            accept: 1.5,
            ..EntityConfig::default()
        };
        assert!(matches!(c.validate(), Err(ConfigError::OutOfRange(..))));
        let c = EntityConfig {
            review: 0.9,
            accept: 0.8,
            ..EntityConfig::default()
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::ReviewAboveAccept { .. })
        ));
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e: Result<EntityConfig, _> = serde_json::from_str(r#"{"acept":0.9}"#);
        assert!(e.is_err());
        let ok: EntityConfig =
            serde_json::from_str(r#"{"types":{"email":{"accept":0.99}}}"#).unwrap();
        assert_eq!(ok.accept_for(EntityType::Email), 0.99);
    }
}
