//! `detector demo`: the whole product in one command, with no AWS account: simulate a
//! two-week organization with labelled attacks, scan it, show the top findings and how they
//! score against the ground truth.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use detector_core::detect::EngineConfig;
use detector_core::evaluate::{self, Options};
use detector_core::finding::{Finding, Severity};
use detector_core::incident::{self, IncidentConfig};
use detector_core::store::MemoryStore;

use crate::cmd::scan::{OutputFormat, render_summary, write_findings};
use crate::ingest::IngestOptions;
use crate::pipeline::ScanSettings;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Days to simulate.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Simulation seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Member accounts in the simulated organization.
    #[arg(long, default_value_t = 3)]
    pub accounts: u32,
    /// Activity multiplier of the simulation.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Keep the logs, truth and findings in this folder (default: a temporary folder that is
    /// removed at the end).
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// How many findings to show.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let temp = match &args.keep {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("creating a temporary folder")?),
    };
    let dir = match (&args.keep, &temp) {
        (Some(k), _) => k.clone(),
        (None, Some(t)) => t.path().to_path_buf(),
        (None, None) => anyhow::bail!("no output folder"),
    };
    eprintln!(
        "== 1/3 simulating {} days of a {}-account organization into {}",
        args.days,
        args.accounts,
        dir.display()
    );
    crate::cmd::simulate::run(crate::cmd::simulate::Args {
        out: dir.clone(),
        days: args.days,
        seed: args.seed,
        accounts: args.accounts,
        scale: args.scale,
        scenarios: "all".into(),
        start: "2026-10-01".into(),
        threads: None,
    })?;
    // The log folders only: the simulator also writes its truth, manifest and geo tables.
    let paths: Vec<String> = ["AWSLogs", "s3-access-logs"]
        .iter()
        .map(|d| dir.join(d))
        .filter(|p| p.is_dir())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    eprintln!("== 2/3 scanning");
    let opts = IngestOptions {
        progress: true,
        ..IngestOptions::default()
    };
    let result = crate::pipeline::scan(
        &paths,
        &opts,
        ScanSettings {
            engine: EngineConfig::default(),
            // The simulated world's own address plan: simulated addresses looked up in real
            // geo data would land in arbitrary places.
            geo: crate::geo::load(Some(&dir.join("geo")))?,
            ..ScanSettings::default()
        },
        &mut MemoryStore::default(),
    )?;
    let findings_path = dir.join("findings.ocsf.jsonl");
    {
        // The alerts, as `scan` shows them by default: informational findings are context
        // kept in the store, not alerts.
        let all: Vec<&Finding> = result
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Low)
            .collect();
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&findings_path)
                .with_context(|| format!("creating {}", findings_path.display()))?,
        );
        write_findings(&mut f, &all, OutputFormat::Ocsf)?;
    }
    let shown: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Low)
        .take(args.top)
        .collect();
    println!(
        "\nTop findings (of {} at low severity or above):",
        result
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Low)
            .count()
    );
    write_findings(&mut std::io::stdout().lock(), &shown, OutputFormat::Table)?;
    eprintln!("{}", render_summary(&result, shown.len()));

    let incidents: Vec<_> = incident::group(&result.findings, &IncidentConfig::default())
        .into_iter()
        .filter(|i| !i.suppressed)
        .collect();
    println!(
        "\nIncidents ({}: findings on the same actor, key or attacker address within a window; `detector incidents` on a stored scan):",
        incidents.len()
    );
    print!(
        "{}",
        incident::render_table(&incidents[..incidents.len().min(args.top)], 160)
    );

    eprintln!("== 3/3 evaluating against the simulator's ground truth");
    let truth_text =
        std::fs::read_to_string(dir.join("truth.jsonl")).context("reading truth.jsonl")?;
    let truth = evaluate::parse_truth(&truth_text)
        .map_err(|m| anyhow::anyhow!("truth.jsonl line {}: {}", m.line, m.reason))?;
    let findings_text = std::fs::read_to_string(&findings_path).context("reading findings")?;
    let (refs, malformed) = evaluate::parse_findings(&findings_text);
    let background = std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("background_events").and_then(|b| b.as_u64()));
    let report = evaluate::evaluate(
        &truth,
        &refs,
        malformed,
        Options {
            background_events: background,
            ..Options::default()
        },
    );
    println!("\n{}", report.table());
    println!("{}", report.summary_line());
    if args.keep.is_some() {
        eprintln!(
            "logs, truth.jsonl and {} kept in {}",
            findings_path.display(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
