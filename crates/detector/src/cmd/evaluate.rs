//! `detector evaluate`: scores findings against the ground truth of `detector simulate`.
//!
//! Exit codes: 0 when every threshold given is met, 1 when one is missed (so CI can guard
//! detection quality), 2 on errors (unreadable files, bad truth file).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use detector_core::evaluate::{self, DEFAULT_SLACK_MS, Options, Thresholds};
use detector_core::finding::Severity;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ground truth written by `detector simulate` (`DIR/truth.jsonl`). The background event
    /// count is read from `manifest.json` next to it unless --background-events is given.
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,
    /// Findings as OCSF Detection Finding JSON lines (`-` reads standard input). Malformed
    /// lines are reported with their line number and counted, not fatal.
    #[arg(value_name = "FINDINGS.jsonl")]
    pub findings: PathBuf,
    /// Print the report as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 1) when recall over malicious scenarios is below this percentage (0-100).
    #[arg(long, value_name = "PCT")]
    pub min_recall: Option<f64>,
    /// Fail (exit 1) when false alerts per 100,000 background events exceed this.
    #[arg(long = "max-false-per-100k", value_name = "N")]
    pub max_false_per_100k: Option<f64>,
    /// Fail (exit 1) when more than this many benign look-alike scenarios are flagged.
    #[arg(long, value_name = "N")]
    pub max_benign_flagged: Option<usize>,
    /// Fail (exit 1) when a benign look-alike is flagged above this severity
    /// (informational, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub max_benign_severity: Option<Severity>,
    /// Background event count (log records outside malicious scenarios), overriding
    /// manifest.json.
    #[arg(long, value_name = "N")]
    pub background_events: Option<u64>,
    /// Seconds of tolerance around a scenario's time span when a finding matches it by an
    /// indicator (address, principal, key, resource) rather than by a record uid.
    #[arg(long, default_value_t = DEFAULT_SLACK_MS / 1000, value_name = "SECS")]
    pub slack_secs: i64,
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading findings from standard input")?;
        return Ok(s);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    // Invalid UTF-8 only spoils the lines it is on, which then count as malformed.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `background_events` from the manifest next to the truth file, if there is one.
fn manifest_background(truth: &Path) -> Option<u64> {
    let path = truth
        .parent()
        .unwrap_or(Path::new("."))
        .join("manifest.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("background_events")?.as_u64()
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let truth_text = read_text(&args.truth)?;
    let truth = evaluate::parse_truth(&truth_text)
        .map_err(|m| anyhow::anyhow!("{} line {}: {}", args.truth.display(), m.line, m.reason))?;
    let findings_text = read_text(&args.findings)?;
    let (findings, malformed) = evaluate::parse_findings(&findings_text);
    let opts = Options {
        slack_ms: args.slack_secs.max(0).saturating_mul(1000),
        background_events: args
            .background_events
            .or_else(|| manifest_background(&args.truth)),
    };
    let report = evaluate::evaluate(&truth, &findings, malformed, opts);
    let thresholds = Thresholds {
        min_recall_pct: args.min_recall,
        max_false_per_100k: args.max_false_per_100k,
        max_benign_flagged: args.max_benign_flagged,
        max_benign_severity: args.max_benign_severity.map(Severity::id),
    };
    let violations = report.violations(&thresholds);
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("summary".into(), report.summary_line().into());
            o.insert("violations".into(), serde_json::to_value(&violations)?);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for m in &report.malformed {
            eprintln!(
                "warning: {} line {}: {}",
                args.findings.display(),
                m.line,
                m.reason
            );
        }
        for v in &violations {
            eprintln!("threshold missed: {v}");
        }
        print!("{}", report.table());
    }
    Ok(if violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
