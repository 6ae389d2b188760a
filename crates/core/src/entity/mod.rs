//! Entity extraction with confidence.
//!
//! Three layers, cheapest first:
//! 1. **Typed fields** ([`fields`]): CloudTrail `userIdentity`, `sourceIPAddress`, resources,
//!    and the request/response parameters of the security-relevant services, flow records and
//!    S3 access lines. The field says what the value is: score 1.0, explanation = field path.
//! 2. **Recognizers** ([`recognize`], [`pii`], [`text`]): patterns plus validators on any other
//!    string (unknown parameters, policy documents, error messages), with the key path and
//!    nearby words raising or lowering the score.
//! 3. **A learned model** ([`model`]): a CRF over tokens that decides the type of the tokens
//!    the rules are unsure about (bare names under unknown keys, 12-digit numbers, UUIDs...).
//!
//! Scores become decisions through per-type thresholds ([`config::EntityConfig`]): accepted,
//! queued for human review, or dropped.

pub mod arn;
pub mod config;
pub mod dataset;
pub mod fields;
pub mod ip;
pub mod json;
pub mod model;
pub mod pii;
pub mod recognize;
pub mod text;
pub mod types;
pub mod useragent;

use std::borrow::Cow;

use serde::Serialize;

pub use config::{Decision, EntityConfig};
pub use model::CrfModel;
pub use types::EntityType;

use crate::event::{Event, EventData};

/// Where an entity was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Origin<'a> {
    /// JSON-style path of the field (`userIdentity.arn`, `requestParameters.policyDocument.
    /// Statement.Resource`, `errorMessage`).
    pub path: Cow<'a, str>,
    /// Byte range inside that field's text, for entities found inside a longer string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<[u32; 2]>,
}

/// A validator's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Validation {
    pub name: &'static str,
    pub ok: bool,
}

/// A piece of context that moved the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adjustment {
    /// What was seen: `key:account`, `word:user`, ...
    pub cue: Cow<'static, str>,
    pub delta: f32,
}

/// What the learned model said about the token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelNote {
    /// Probability of the chosen label.
    pub p: f32,
    /// Second most likely label and its probability.
    pub runner_up: &'static str,
    pub runner_up_p: f32,
}

/// Why an entity has its type and score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// `field` for typed fields, a recognizer name, or `model`.
    pub recognizer: &'static str,
    /// Score before context.
    pub base: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validator: Option<Validation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<Adjustment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<Box<ModelNote>>,
}

impl Explanation {
    pub fn field() -> Self {
        Explanation {
            recognizer: "field",
            base: 1.0,
            validator: None,
            context: Vec::new(),
            model: None,
        }
    }
}

/// One entity found in an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity<'a> {
    #[serde(rename = "type")]
    pub kind: EntityType,
    /// Normalized value (lower-cased host names and buckets, canonical IPs, digits-only cards).
    pub value: Cow<'a, str>,
    /// Confidence, 0..1.
    pub score: f32,
    /// Sub-classification: `public`/`private` for IPs, `long_term`/`temporary` for keys, the
    /// tool family for user agents, `sso`/`service_linked`/`alias`/`saml` where it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<&'static str>,
    pub origin: Origin<'a>,
    pub explanation: Explanation,
    /// The text the entity was found in, kept for entities below the accept threshold so
    /// that a review decision can be turned into training data.
    #[serde(skip)]
    pub field_text: Option<Box<FieldText<'a>>>,
}

/// A field's text and the entity's byte span inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldText<'a> {
    pub text: Cow<'a, str>,
    pub span: [u32; 2],
}

impl Entity<'_> {
    /// Parsed ARN when the value is one.
    pub fn arn(&self) -> Option<arn::Arn<'_>> {
        if self.value.starts_with("arn:") {
            arn::Arn::parse(&self.value).ok()
        } else {
            None
        }
    }

    /// The account this entity belongs to, when its value says (ARNs, account ids).
    pub fn account(&self) -> Option<&str> {
        if self.kind == EntityType::AccountId {
            return Some(&self.value);
        }
        self.arn()
            .map(|a| a.account)
            .filter(|a| recognize::is_account_id(a))
    }

    pub fn into_owned(self) -> Entity<'static> {
        Entity {
            kind: self.kind,
            value: Cow::Owned(self.value.into_owned()),
            score: self.score,
            class: self.class,
            origin: Origin {
                path: Cow::Owned(self.origin.path.into_owned()),
                span: self.origin.span,
            },
            explanation: self.explanation,
            field_text: self.field_text.map(|t| {
                Box::new(FieldText {
                    text: Cow::Owned(t.text.into_owned()),
                    span: t.span,
                })
            }),
        }
    }
}

/// Runs the three layers with one configuration and one model. Cheap to share across threads
/// (`&Extractor` is all a worker needs).
#[derive(Debug, Clone)]
pub struct Extractor {
    model: Option<CrfModel>,
    config: EntityConfig,
}

impl Default for Extractor {
    fn default() -> Self {
        Extractor::new(EntityConfig::default(), CrfModel::embedded())
    }
}

impl Extractor {
    pub fn new(config: EntityConfig, model: Option<CrfModel>) -> Self {
        Extractor { model, config }
    }

    pub fn model(&self) -> Option<&CrfModel> {
        self.model.as_ref()
    }

    pub fn config(&self) -> &EntityConfig {
        &self.config
    }

    pub fn decide(&self, e: &Entity<'_>) -> Decision {
        self.config.decide(e.kind, e.score)
    }

    /// Every entity of one event at or above its review threshold, one per (type, value)
    /// (the best-scored occurrence wins).
    pub fn extract<'a>(&self, event: &'a Event, out: &mut Vec<Entity<'a>>) {
        let start = out.len();
        match &event.data {
            EventData::CloudTrail(r) => fields::cloudtrail(self, r, out),
            EventData::Flow(r) => fields::flow(r, out),
            EventData::S3Access(r) => fields::s3access(self, r, out),
        }
        self.finish(start, out);
    }

    /// Entities in one field value, as if it had been found at `path` in an event of
    /// `service` (short event-source name: `iam`, `s3`...). Used for labelled data and for
    /// re-scoring review items; the same code path as [`Extractor::extract`].
    pub fn extract_field<'a>(
        &self,
        path: &str,
        service: &str,
        text: &'a str,
        out: &mut Vec<Entity<'a>>,
    ) {
        let start = out.len();
        fields::value(
            self,
            &fields::Ctx::new(service, path),
            text::Src::Long(text),
            0,
            out,
        );
        self.finish(start, out);
    }

    /// Drops what is below review, dedups by (type, value) keeping the best, and keeps the
    /// field text only where a reviewer may need it.
    fn finish<'a>(&self, start: usize, out: &mut Vec<Entity<'a>>) {
        let mut idx = 0;
        out.retain_mut(|e| {
            let keep = idx < start || {
                let d = self.config.decide(e.kind, e.score);
                if d == Decision::Accept {
                    e.field_text = None;
                }
                d != Decision::Drop
            };
            idx += 1;
            keep
        });
        let mut j = start;
        while j < out.len() {
            let dup =
                (start..j).find(|&k| out[k].kind == out[j].kind && out[k].value == out[j].value);
            match dup {
                Some(k) => {
                    if out[j].score > out[k].score {
                        out.swap(k, j);
                    }
                    out.remove(j);
                }
                None => j += 1,
            }
        }
    }

    /// Entities of a field value with their decisions kept apart, for evaluation: what is
    /// accepted, what would be queued.
    pub fn label_field<'a>(&self, path: &str, service: &str, text: &'a str) -> Vec<Entity<'a>> {
        let mut out = Vec::new();
        fields::value(
            self,
            &fields::Ctx::new(service, path),
            text::Src::Long(text),
            0,
            &mut out,
        );
        out.retain(|e| self.config.decide(e.kind, e.score) != Decision::Drop);
        out
    }
}

/// The principal an event is attributed to: the identity ARN, or the invoking service.
pub fn principal_of(event: &Event) -> Option<&str> {
    match &event.data {
        EventData::CloudTrail(r) => {
            let u = &r.user_identity;
            u.arn
                .as_deref()
                .filter(|s| !s.is_empty())
                .or(u.invoked_by.as_deref())
                .or(u.principal_id.as_deref())
                .or(u.user_name.as_deref())
        }
        EventData::S3Access(r) => r.requester.as_deref(),
        EventData::Flow(_) => None,
    }
}

/// The account an event belongs to.
pub fn account_of(event: &Event) -> Option<&str> {
    match &event.data {
        EventData::CloudTrail(r) => r
            .recipient_account_id
            .as_deref()
            .or(r.user_identity.account_id.as_deref()),
        EventData::Flow(r) => r.account_id.as_deref(),
        EventData::S3Access(_) => None,
    }
}
