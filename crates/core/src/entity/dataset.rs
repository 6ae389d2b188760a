//! Labelled entity data, evaluation, and the training sequences the model learns from.
//!
//! One JSON object per line:
//! `{"id":"err-0001","split":"train","kind":"free_text","service":"s3","path":"errorMessage",
//!   "text":"User: arn:aws:iam::... is not authorized ...","spans":[[6,40,"iam_user"]]}`
//! Spans are byte offsets into `text`. `split` is fixed in the file: `test` examples are never
//! used for training.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fields::{self, Ctx};
use super::model::OUTSIDE;
use super::text::{self, Tok};
use super::types::EntityType;
use super::{Decision, Extractor};

/// The labelled set written by the team, built in so `detector entities train|eval` work
/// anywhere. Regenerate with `python3 crates/core/data/entities/generate.py`.
pub static LABELLED_SET: &str = include_str!("../../data/entities/labelled.jsonl");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Test,
}

/// A labelled span: byte range and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span(pub usize, pub usize, pub EntityType);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub id: String,
    pub split: Split,
    /// `free_text` (error messages, descriptions, commands), `param` (one parameter value),
    /// `policy` (a JSON policy document), `log` (a log line inside a parameter).
    pub kind: String,
    #[serde(default)]
    pub service: String,
    pub path: String,
    pub text: String,
    pub spans: Vec<Span>,
}

/// Why a labelled file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DatasetError {
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
}

/// Parses a labelled JSONL file and checks every span lies on character boundaries.
pub fn parse_jsonl(s: &str) -> Result<Vec<Example>, DatasetError> {
    let mut out = Vec::new();
    for (i, line) in s.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let ex: Example = serde_json::from_str(line).map_err(|e| DatasetError::Line {
            line: line_no,
            reason: e.to_string(),
        })?;
        for sp in &ex.spans {
            if sp.0 >= sp.1 || ex.text.get(sp.0..sp.1).is_none() {
                return Err(DatasetError::Line {
                    line: line_no,
                    reason: format!("span {}..{} is not inside the text", sp.0, sp.1),
                });
            }
        }
        out.push(ex);
    }
    Ok(out)
}

/// True/false positives and false negatives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// One disagreement, for the error listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    pub id: String,
    pub text: String,
    /// `fp` or `fn`.
    pub what: &'static str,
    pub span: Span,
    pub snippet: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalReport {
    pub examples: usize,
    pub per_type: BTreeMap<EntityType, Counts>,
    /// By example kind (`free_text`, `param`, `policy`, `log`).
    pub per_kind: BTreeMap<String, Counts>,
    pub micro: Counts,
    pub misses: Vec<Miss>,
}

impl EvalReport {
    /// Mean F1 over the types that occur in gold or predictions.
    pub fn macro_f1(&self) -> f64 {
        if self.per_type.is_empty() {
            return 0.0;
        }
        self.per_type.values().map(Counts::f1).sum::<f64>() / self.per_type.len() as f64
    }
}

/// Accepted predictions for one example, as spans.
pub fn predict(ex: &Extractor, e: &Example) -> Vec<Span> {
    let mut spans: Vec<Span> = ex
        .label_field(&e.path, &e.service, &e.text)
        .into_iter()
        .filter(|p| ex.decide(p) == Decision::Accept)
        .map(|p| {
            let [s, t] = p.origin.span.unwrap_or([0, e.text.len() as u32]);
            Span(s as usize, t as usize, p.kind)
        })
        .collect();
    spans.sort();
    spans.dedup();
    spans
}

/// Scores exact span matches (same bytes, same type) over the examples of `split` (all when
/// `None`).
pub fn evaluate(ex: &Extractor, examples: &[Example], split: Option<Split>) -> EvalReport {
    let mut r = EvalReport::default();
    for e in examples
        .iter()
        .filter(|e| split.is_none_or(|s| e.split == s))
    {
        r.examples += 1;
        let pred = predict(ex, e);
        let mut gold = e.spans.clone();
        gold.sort();
        gold.dedup();
        let mut kind_counts = Counts::default();
        for p in &pred {
            let c = r.per_type.entry(p.2).or_default();
            if gold.contains(p) {
                c.tp += 1;
                kind_counts.tp += 1;
            } else {
                c.fp += 1;
                kind_counts.fp += 1;
                r.misses.push(miss(e, "fp", *p));
            }
        }
        for g in &gold {
            if !pred.contains(g) {
                r.per_type.entry(g.2).or_default().fn_ += 1;
                kind_counts.fn_ += 1;
                r.misses.push(miss(e, "fn", *g));
            }
        }
        r.per_kind
            .entry(e.kind.clone())
            .or_default()
            .add(kind_counts);
        r.micro.add(kind_counts);
    }
    r
}

fn miss(e: &Example, what: &'static str, span: Span) -> Miss {
    Miss {
        id: e.id.clone(),
        text: e.text.chars().take(200).collect(),
        what,
        span,
        snippet: e.text.get(span.0..span.1).unwrap_or("").to_string(),
    }
}

/// One training sequence: features per token and the label per token.
pub type Sequence = (Vec<Vec<String>>, Vec<&'static str>);

/// The training sequences of an example: one per analyzed string, built by the same code
/// that runs at inference, labelled from the gold spans (a token inside a gold span takes
/// its type, every other token is `O`).
pub fn training_sequences(ex: &Extractor, e: &Example) -> Vec<Sequence> {
    let mut seqs = Vec::new();
    let root = Ctx::new(&e.service, &e.path);
    let mut toks: Vec<Tok> = Vec::new();
    fields::for_each_text(&root, &e.text, 0, 0, &mut |ctx, t, base| {
        text::build(ctx, t, ex.config().rule_certain, &mut toks);
        if toks.is_empty() {
            return;
        }
        let key_feats = text::key_features(ctx);
        let mut xs = Vec::with_capacity(toks.len());
        let mut ys = Vec::with_capacity(toks.len());
        for i in 0..toks.len() {
            let mut feats = Vec::with_capacity(32);
            text::token_features(t, &toks, i, &key_feats, &mut |f| feats.push(f.to_string()));
            xs.push(feats);
            let (s, end) = (base + toks[i].start, base + toks[i].end);
            let label = e
                .spans
                .iter()
                .find(|g| g.0 <= s && end <= g.1)
                .map_or(OUTSIDE, |g| g.2.name());
            ys.push(label);
        }
        seqs.push((xs, ys));
    });
    seqs
}

/// Turns a review decision into a labelled example: the reviewed span gets the decided label
/// (or none when rejected) and every other span keeps what the extractor currently accepts,
/// so a decision teaches only what it decided.
pub fn example_from_decision(
    ex: &Extractor,
    id: String,
    service: &str,
    path: &str,
    text: &str,
    span: (usize, usize),
    label: Option<EntityType>,
) -> Example {
    let mut e = Example {
        id,
        split: Split::Train,
        kind: "review".into(),
        service: service.to_string(),
        path: path.to_string(),
        text: text.to_string(),
        spans: Vec::new(),
    };
    let mut spans: Vec<Span> = predict(ex, &e)
        .into_iter()
        .filter(|s| s.1 <= span.0 || s.0 >= span.1)
        .collect();
    if let Some(l) = label {
        spans.push(Span(span.0, span.1, l));
    }
    spans.sort();
    e.spans = spans;
    e
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_and_validates_spans() {
        let ok = r#"{"id":"a","split":"test","kind":"param","service":"","path":"x","text":"abc","spans":[[0,3,"s3_bucket"]]}"#;
        let v = parse_jsonl(ok).unwrap();
        assert_eq!(v[0].spans, vec![Span(0, 3, EntityType::S3Bucket)]);
        let bad = r#"{"id":"a","split":"test","kind":"param","path":"x","text":"abc","spans":[[0,9,"s3_bucket"]]}"#;
        assert!(matches!(
            parse_jsonl(bad),
            Err(DatasetError::Line { line: 1, .. })
        ));
        let unknown =
            r#"{"id":"a","split":"dev","kind":"param","path":"x","text":"abc","spans":[]}"#;
        assert!(parse_jsonl(unknown).is_err());
    }

    #[test]
    fn counts_and_f1() {
        let c = Counts {
            tp: 8,
            fp: 2,
            fn_: 2,
        };
        assert!((c.precision() - 0.8).abs() < 1e-9);
        assert!((c.f1() - 0.8).abs() < 1e-9);
        assert_eq!(Counts::default().f1(), 1.0);
    }

    #[test]
    fn evaluation_scores_exact_matches() {
        let ex = Extractor::new(super::super::EntityConfig::default(), None);
        let text =
            "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: s3:GetObject";
        let s = text.find("arn:").unwrap();
        let e = Example {
            id: "t".into(),
            split: Split::Test,
            kind: "free_text".into(),
            service: "s3".into(),
            path: "errorMessage".into(),
            text: text.into(),
            spans: vec![
                Span(s, s + 34, EntityType::IamUser),
                Span(0, 4, EntityType::IamRole),
            ],
        };
        let r = evaluate(&ex, std::slice::from_ref(&e), Some(Split::Test));
        assert_eq!(r.micro.tp, 1);
        // the action is predicted but not labelled here; the fake role span is missed.
        assert_eq!(r.micro.fp, 1);
        assert_eq!(r.micro.fn_, 1);
        assert_eq!(evaluate(&ex, &[e], Some(Split::Train)).examples, 0);
    }

    #[test]
    fn training_sequences_label_tokens() {
        let ex = Extractor::new(super::super::EntityConfig::default(), None);
        let e = Example {
            id: "t".into(),
            split: Split::Train,
            kind: "param".into(),
            service: "".into(),
            path: "requestParameters.archiveTarget".into(),
            text: "corp-archive-7731".into(),
            spans: vec![Span(0, 17, EntityType::S3Bucket)],
        };
        let seqs = training_sequences(&ex, &e);
        assert_eq!(seqs.len(), 1);
        assert_eq!(seqs[0].1, vec!["s3_bucket"]);
        assert!(seqs[0].0[0].iter().any(|f| f == "kt=archive"));
    }
}
