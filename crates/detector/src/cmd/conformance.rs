//! `detector conformance`: how the detectors do on third-party labelled test events.
//!
//! `conformance panther FILE` reads Panther Analysis rule unit tests flattened to JSON lines
//! (`{source_rule, log_type, expected, event, ...}`). Each `AWS.CloudTrail` case is one
//! CloudTrail record: Panther's own `p_*` fields are stripped, a missing `eventTime` (Panther
//! tests often omit it) is set to a fixed time, and the record goes through the real parser,
//! every rule and the behavioural engine, alone and with fresh state. A case "fires" when it
//! raises at least one finding of any severity.
//!
//! `expected` means "this Panther rule fires", not "this is an attack": the numbers measure
//! agreement with an independent rule set, which is useful for tuning and misleading as a
//! goal. The report lists, per Panther rule, the cases missed and the false alarms with the
//! titles raised.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use detector_core::detect::{Activity, Engine, EngineConfig, rules};
use detector_core::finding::Finding;
use detector_core::parse::Batch;
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub suite: Suite,
}

#[derive(clap::Subcommand, Debug)]
pub enum Suite {
    /// Panther Analysis rule tests as JSON lines ({source_rule, log_type, expected, event}).
    Panther(PantherArgs),
}

#[derive(clap::Args, Debug)]
pub struct PantherArgs {
    /// The labelled JSON lines file.
    pub file: PathBuf,
    /// Fail when fewer than this share of `expected: true` cases raise a finding.
    #[arg(long, default_value_t = 0.75)]
    pub min_true: f64,
    /// Fail when more than this share of `expected: false` cases raise a finding.
    #[arg(long, default_value_t = 0.15)]
    pub max_false_rate: f64,
    /// Also list the cases that agree.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Outcome of one case.
#[derive(Debug)]
pub struct Case {
    pub rule: String,
    pub test: String,
    pub expected: bool,
    /// Titles of the findings raised (empty: none). `None`: the record was rejected.
    pub titles: Option<Vec<String>>,
}

impl Case {
    pub fn fired(&self) -> bool {
        self.titles.as_ref().is_some_and(|t| !t.is_empty())
    }
}

/// Runs every rule and a fresh engine on one CloudTrail record. `None` when the record does
/// not parse as CloudTrail.
pub fn findings_for(record: &Value, cfg: &EngineConfig) -> Option<Vec<Finding>> {
    let mut rec = record.clone();
    if let Value::Object(o) = &mut rec {
        o.retain(|k, _| !k.starts_with("p_"));
        if !o.get("eventTime").is_some_and(Value::is_string) {
            o.insert(
                "eventTime".into(),
                Value::String("2024-01-01T00:00:00Z".into()),
            );
        }
    }
    let bytes = serde_json::to_vec(&rec).ok()?;
    let source: Arc<str> = Arc::from("panther");
    let mut batch = Batch::default();
    detector_core::parse::cloudtrail::parse(&source, &bytes, &mut batch);
    if batch.events.is_empty() {
        return None;
    }
    let all = rules::rules();
    let mut found = rules::check_all(&all, &batch.events, cfg);
    let mut engine = Engine::new(cfg.clone());
    for e in &batch.events {
        if let Some(a) = Activity::from_event(e) {
            engine.push(a);
        }
    }
    engine.finish();
    found.extend(engine.take_findings());
    Some(found)
}

/// Reads the file and evaluates every CloudTrail case.
pub fn evaluate(file: &PathBuf) -> anyhow::Result<(Vec<Case>, usize)> {
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let cfg = EngineConfig::default();
    let mut cases = Vec::new();
    let mut other = 0;
    for (n, line) in BufReader::new(f).lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(&line).with_context(|| format!("line {} is not JSON", n + 1))?;
        if v.get("log_type").and_then(Value::as_str) != Some("AWS.CloudTrail") {
            other += 1;
            continue;
        }
        let Some(event) = v.get("event") else {
            continue;
        };
        let titles = findings_for(event, &cfg).map(|fs| {
            fs.into_iter()
                .map(|f| format!("[{}] {}", f.severity.name(), f.title))
                .collect()
        });
        cases.push(Case {
            rule: v
                .get("source_rule")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            test: v
                .get("test_name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            expected: v.get("expected").and_then(Value::as_bool).unwrap_or(false),
            titles,
        });
    }
    Ok((cases, other))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Suite::Panther(a) = args.suite;
    let (cases, other) = evaluate(&a.file)?;
    let pos: Vec<&Case> = cases.iter().filter(|c| c.expected).collect();
    let neg: Vec<&Case> = cases.iter().filter(|c| !c.expected).collect();
    let hit = pos.iter().filter(|c| c.fired()).count();
    let false_alarms = neg.iter().filter(|c| c.fired()).count();
    let rejected = cases.iter().filter(|c| c.titles.is_none()).count();
    let mut by_rule: BTreeMap<&str, Vec<&Case>> = BTreeMap::new();
    for c in &cases {
        if c.expected != c.fired() || a.verbose {
            by_rule.entry(c.rule.as_str()).or_default().push(c);
        }
    }
    for (rule, cs) in &by_rule {
        println!("{rule}");
        for c in cs {
            let verdict = match (c.expected, c.fired()) {
                (true, false) => "MISS ",
                (false, true) => "FALSE",
                _ => "ok   ",
            };
            let detail = match &c.titles {
                None => "record rejected by the parser".to_string(),
                Some(t) if t.is_empty() => "no finding".to_string(),
                Some(t) => t.join(" | "),
            };
            println!("  {verdict} {}: {detail}", c.test);
        }
    }
    let true_rate = if pos.is_empty() {
        1.0
    } else {
        hit as f64 / pos.len() as f64
    };
    let false_rate = if neg.is_empty() {
        0.0
    } else {
        false_alarms as f64 / neg.len() as f64
    };
    println!();
    println!(
        "panther conformance: {} CloudTrail cases ({} other log types skipped, {rejected} records rejected)",
        cases.len(),
        other
    );
    println!(
        "  expected true:  {hit}/{} raised a finding ({:.1}%, target >= {:.0}%)",
        pos.len(),
        100.0 * true_rate,
        100.0 * a.min_true
    );
    println!(
        "  expected false: {}/{} raised none ({:.1}%, target >= {:.0}%)",
        neg.len() - false_alarms,
        neg.len(),
        100.0 * (1.0 - false_rate),
        100.0 * (1.0 - a.max_false_rate)
    );
    let ok = true_rate >= a.min_true && false_rate <= a.max_false_rate;
    println!("  {}", if ok { "PASS" } else { "FAIL" });
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cases_are_run_through_rules_with_panther_fields_stripped() {
        let stop = serde_json::json!({
            "source_rule": "X.Stopped", "log_type": "AWS.CloudTrail", "expected": true, "test_name": "stopped",
            "event": {"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging", "awsRegion": "us-east-1",
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/eve", "accountId": "111122223333"},
                "requestParameters": {"name": "org-trail"}, "recipientAccountId": "111122223333", "p_log_type": "AWS.CloudTrail"}
        });
        let read = serde_json::json!({
            "source_rule": "X.Stopped", "log_type": "AWS.CloudTrail", "expected": false, "test_name": "describe",
            "event": {"eventSource": "cloudtrail.amazonaws.com", "eventName": "DescribeTrails", "eventTime": "2024-01-01T00:00:00Z",
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/eve"}}
        });
        let flow = serde_json::json!({"source_rule": "F", "log_type": "AWS.VPCFlow", "expected": true, "event": {}});
        let path = std::env::temp_dir().join(format!("panther-{}.jsonl", std::process::id()));
        std::fs::write(&path, format!("{stop}\n{read}\n\n{flow}\n")).unwrap();
        let (cases, other) = evaluate(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(other, 1);
        assert_eq!(cases.len(), 2);
        assert!(cases[0].expected && cases[0].fired(), "{:?}", cases[0]);
        assert!(!cases[1].expected && !cases[1].fired(), "{:?}", cases[1]);
        // A record without eventSource cannot be a CloudTrail event.
        assert!(findings_for(&serde_json::json!({"foo": 1}), &EngineConfig::default()).is_none());
    }
}
