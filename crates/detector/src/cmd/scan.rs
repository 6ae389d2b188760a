//! `detector scan`: logs in, ranked findings out, baselines remembered between runs.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use detector_core::finding::{Finding, Severity};
use detector_core::incident::{self, Incident};
use detector_core::store::MemoryStore;

use crate::cmd::normalize::InputArgs;
use crate::config::ConfigArgs;
use crate::pipeline::{self, ScanResult, ScanSettings};
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or folders of CloudTrail, VPC Flow Logs or S3 access logs (`-` for stdin).
    #[arg(required = true)]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub state: StateArgs,
    /// Output format: a ranked table, OCSF Detection Finding JSON lines, or the internal JSON.
    /// Default: table on a terminal, ocsf otherwise.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Write findings here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Show findings at or above this severity: informational, low, medium, high, critical.
    #[arg(long, default_value = "low")]
    pub min_severity: Severity,
    /// Days of history an entity needs before behavioural detectors may accuse it
    /// (default 7, or `learning_days` in the config file).
    #[arg(long)]
    pub learning_days: Option<u32>,
    /// Print no summary.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also output findings that a suppression rule or an analyst verdict covers.
    #[arg(long)]
    pub include_suppressed: bool,
    /// Forget the stored baselines and findings and score the input from scratch, e.g. after
    /// analyst feedback or a config change (verdicts and the review queue are kept).
    #[arg(long, conflicts_with = "ephemeral")]
    pub rebuild: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub geo: crate::geo::GeoArgs,
}

/// Where baselines and findings are kept.
#[derive(clap::Args, Debug, Clone)]
pub struct StateArgs {
    /// State store file (SQLite). Default: $DETECTOR_STATE or the user's data directory.
    #[arg(long, env = "DETECTOR_STATE", global = true)]
    pub state: Option<PathBuf>,
    /// Keep nothing: baselines and findings live in memory for this run only.
    #[arg(long, conflicts_with = "state", global = true)]
    pub ephemeral: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Ocsf,
    Jsonl,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let opts = args.input.options();
    let (config, _) = args.config.load()?;
    let now_ms = crate::config::now_ms();
    for w in crate::config::expired_rules(&config, now_ms) {
        eprintln!("warning: {w}");
    }
    let config_incidents = config.incidents.clone();
    let mut engine = config.engine;
    if let Some(days) = args.learning_days {
        engine.learning_days = days;
    }
    let settings = ScanSettings {
        engine,
        suppress: config.suppress,
        rebuild: args.rebuild,
        now_ms,
        own_accounts: config.organization.accounts,
        geo: args.geo.load()?,
    };
    let result = if args.state.ephemeral {
        pipeline::scan(&args.paths, &opts, settings, &mut MemoryStore::default())?
    } else {
        let mut store = Store::open_or_default(args.state.state.as_deref())?;
        pipeline::scan(&args.paths, &opts, settings, &mut store)?
    };
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    if !args.quiet {
        for r in &result.rejects {
            eprintln!("rejected {}#{}: {}", r.source, r.index, r.reason);
        }
    }
    let shown: Vec<&Finding> = result
        .findings
        .iter()
        .filter(|f| f.severity >= args.min_severity)
        .filter(|f| args.include_suppressed || f.suppressed.is_none())
        .collect();
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal {
        OutputFormat::Table
    } else {
        OutputFormat::Ocsf
    });
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    write_findings(&mut out, &shown, format)?;
    if format == OutputFormat::Table {
        // The story view: this scan's findings grouped by actor, key and attacker address.
        let incidents: Vec<Incident> = incident::group(&result.findings, &config_incidents)
            .into_iter()
            .filter(|i| !i.suppressed && i.severity >= args.min_severity)
            .collect();
        if !incidents.is_empty() {
            let hint = if args.state.ephemeral {
                "scan with a store to keep them for `detector incidents show ID`"
            } else {
                "`detector incidents show ID` for the timeline"
            };
            writeln!(out, "\nIncidents ({}; {hint}):", incidents.len())?;
            out.write_all(
                incident::render_table(&incidents[..incidents.len().min(10)], terminal_width())
                    .as_bytes(),
            )?;
        }
    }
    out.flush().context("writing findings")?;
    if !args.quiet {
        eprintln!("{}", render_summary(&result, shown.len()));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn write_findings(
    out: &mut dyn Write,
    findings: &[&Finding],
    format: OutputFormat,
) -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    match format {
        OutputFormat::Table => {
            let owned: Vec<Finding> = findings.iter().map(|f| (*f).clone()).collect();
            let width = terminal_width();
            out.write_all(detector_core::format::table(&owned, width).as_bytes())?;
        }
        OutputFormat::Ocsf => {
            for f in findings {
                serde_json::to_writer(&mut *out, &f.to_ocsf(version))?;
                out.write_all(b"\n")?;
            }
        }
        OutputFormat::Jsonl => {
            for f in findings {
                serde_json::to_writer(&mut *out, f)?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(160)
}

pub fn render_summary(r: &ScanResult, shown: usize) -> String {
    let mut by_sev = [0usize; 6];
    for f in &r.findings {
        by_sev[f.severity.id() as usize] += 1;
    }
    let per_entity = r.state_bytes.checked_div(r.entities).unwrap_or(0);
    let s = &r.suppression;
    let suppressed = if s.by_rule + s.by_verdict + s.resurfaced > 0 {
        format!(
            "\nsuppressed {} by rules, {} by analyst verdicts; {} like judged ones alert anyway (new network or higher risk)",
            s.by_rule, s.by_verdict, s.resurfaced
        )
    } else {
        String::new()
    };
    format!(
        "{}\nactivities {}  already processed {}  late {}  entities {}  state {} ({} B/entity)\n\
         findings {} (new {}, updated {}): critical {}  high {}  medium {}  low {}  info {}; shown {}{}",
        r.ingest.render(),
        r.engine.activities,
        r.engine.already_processed,
        r.engine.late,
        r.entities,
        crate::ingest::human_bytes(r.state_bytes as u64),
        per_entity,
        r.findings.len(),
        r.commit.new_findings,
        r.commit.updated_findings,
        by_sev[5],
        by_sev[4],
        by_sev[3],
        by_sev[2],
        by_sev[1],
        shown,
        suppressed,
    )
}
