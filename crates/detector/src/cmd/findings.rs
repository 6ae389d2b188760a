//! `detector findings list|show`: what the store holds.

use std::process::ExitCode;

use anyhow::Context;
use detector_core::finding::Severity;
use detector_core::store::{FindingFilter, StateStore};

use crate::cmd::scan::{OutputFormat, StateArgs, write_findings};
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Stored findings, ranked by risk.
    List {
        /// Only findings at or above this severity.
        #[arg(long, default_value = "low")]
        min_severity: Severity,
        /// Only this detector's findings.
        #[arg(long)]
        detector: Option<String>,
        /// Include suppressed findings.
        #[arg(long)]
        all: bool,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// table, ocsf or jsonl (default: table on a terminal, ocsf otherwise).
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
    },
    /// One finding in full (OCSF JSON).
    Show {
        /// The finding uid (finding_info.uid) or a unique prefix of it (the table's ID).
        uid: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::open_or_default(args.state.state.as_deref())?;
    match args.what {
        What::List {
            min_severity,
            detector,
            all,
            limit,
            format,
        } => {
            let filter = FindingFilter {
                min_risk: 0,
                detector,
                include_suppressed: all,
                limit: None,
            };
            let found: Vec<_> = store
                .findings(&filter)
                .context("reading findings")?
                .into_iter()
                .filter(|f| f.severity >= min_severity)
                .take(limit)
                .collect();
            let refs: Vec<_> = found.iter().collect();
            let to_terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
            let format = format.unwrap_or(if to_terminal {
                OutputFormat::Table
            } else {
                OutputFormat::Ocsf
            });
            let mut out = std::io::stdout().lock();
            write_findings(&mut out, &refs, format)?;
            Ok(ExitCode::SUCCESS)
        }
        What::Show { uid } => {
            let f = match store.finding(&uid).context("reading findings")? {
                Some(f) => f,
                None => {
                    let all = store
                        .findings(&FindingFilter {
                            include_suppressed: true,
                            ..FindingFilter::default()
                        })
                        .context("reading findings")?;
                    match crate::cmd::feedback::resolve(&all, &uid) {
                        Ok(f) => f.clone(),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return Ok(ExitCode::from(1));
                        }
                    }
                }
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&f.to_ocsf(env!("CARGO_PKG_VERSION")))?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
