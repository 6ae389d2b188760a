//! `detector incidents list|show`: stored findings grouped into attack stories. Incidents are
//! computed from the store on every call (grouping is fast and pure), so they always reflect
//! the latest findings and suppressions and need no table of their own.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use detector_core::finding::{Finding, Severity};
use detector_core::incident::{self, Incident, IncidentConfig};
use detector_core::store::{FindingFilter, StateStore};

use crate::cmd::scan::StateArgs;
use crate::config::ConfigArgs;
use crate::store::Store;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub grouping: GroupingArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// How findings are grouped: the `[incidents]` section of the configuration file, then these
/// flags on top (defaults: 24 h window, 6 h across one person's SSO sessions, pivots shared by
/// more than 3 principals ignored, incidents at most 72 h long).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GroupingArgs {
    /// Largest gap, in hours, between two findings on the same principal, key or address.
    #[arg(long, global = true)]
    pub window_hours: Option<f64>,
    /// Largest gap, in hours, between findings linked only by the person behind SSO sessions in
    /// different accounts or permission sets.
    #[arg(long, global = true)]
    pub person_window_hours: Option<f64>,
    /// A principal, key or address seen with more principals than this is shared (office NAT,
    /// CI role) and links nothing.
    #[arg(long, global = true)]
    pub max_pivot_principals: Option<usize>,
    /// Longest an incident may grow, in hours (0: no limit).
    #[arg(long, global = true)]
    pub max_span_hours: Option<f64>,
}

impl GroupingArgs {
    fn config(&self, base: IncidentConfig) -> anyhow::Result<IncidentConfig> {
        let ms = |flag: &str, hours: Option<f64>, default: i64| -> anyhow::Result<i64> {
            let Some(hours) = hours else {
                return Ok(default);
            };
            if !(hours.is_finite() && hours >= 0.0) {
                bail!("--{flag} must be a non-negative number of hours, not {hours}");
            }
            Ok((hours * 3_600_000.0).min(i64::MAX as f64 / 4.0) as i64)
        };
        Ok(IncidentConfig {
            window_ms: ms("window-hours", self.window_hours, base.window_ms)?,
            person_window_ms: ms(
                "person-window-hours",
                self.person_window_hours,
                base.person_window_ms,
            )?,
            max_span_ms: ms("max-span-hours", self.max_span_hours, base.max_span_ms)?,
            max_pivot_principals: self
                .max_pivot_principals
                .unwrap_or(base.max_pivot_principals),
            ..base
        })
    }
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Ranked table (list) or readable text with the timeline (show).
    Table,
    /// The incident structure as JSON, one incident per line.
    Json,
    /// OCSF Incident Finding (class 2005) JSON, one per line.
    Ocsf,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Incidents ranked by combined risk.
    List {
        /// Only incidents at or above this severity.
        #[arg(long, default_value = "low")]
        min_severity: Severity,
        /// Include incidents made only of suppressed findings.
        #[arg(long)]
        include_suppressed: bool,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// table, json or ocsf (default: table on a terminal, ocsf otherwise).
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// One incident with its entities and timeline.
    Show {
        /// Incident id or any unique prefix of it (a member finding's uid also works).
        id: String,
        /// table (readable text), json or ocsf.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

/// Every stored finding (suppressed ones too: they still belong to their incident).
fn load(store: &Store) -> anyhow::Result<Vec<Finding>> {
    let filter = FindingFilter {
        min_risk: 0,
        detector: None,
        include_suppressed: true,
        limit: None,
    };
    store.findings(&filter).context("reading findings")
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (config, _) = args.config.load()?;
    let cfg = args.grouping.config(config.incidents)?;
    let store = Store::open_or_default(args.state.state.as_deref())?;
    let findings = load(&store)?;
    let incidents = incident::group(&findings, &cfg);
    let version = env!("CARGO_PKG_VERSION");
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.what {
        What::List {
            min_severity,
            include_suppressed,
            limit,
            format,
        } => {
            let shown: Vec<Incident> = incidents
                .into_iter()
                .filter(|i| i.severity >= min_severity)
                .filter(|i| include_suppressed || !i.suppressed)
                .take(limit)
                .collect();
            let format = format.unwrap_or(if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Ocsf
            });
            match format {
                Format::Table => {
                    out.write_all(incident::render_table(&shown, terminal_width()).as_bytes())?
                }
                Format::Json => {
                    for i in &shown {
                        serde_json::to_writer(&mut out, i)?;
                        out.write_all(b"\n")?;
                    }
                }
                Format::Ocsf => {
                    for i in &shown {
                        serde_json::to_writer(&mut out, &i.to_ocsf(&findings, version))?;
                        out.write_all(b"\n")?;
                    }
                }
            }
        }
        What::Show { id, format } => {
            let found = resolve(&incidents, &id)?;
            match format {
                Format::Table => out.write_all(incident::render_text(found).as_bytes())?,
                Format::Json => {
                    serde_json::to_writer_pretty(&mut out, found)?;
                    out.write_all(b"\n")?;
                }
                Format::Ocsf => {
                    serde_json::to_writer_pretty(&mut out, &found.to_ocsf(&findings, version))?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    out.flush().context("writing incidents")?;
    Ok(ExitCode::SUCCESS)
}

/// The incident an id names: an exact id, a unique id prefix, or a member finding's uid.
fn resolve<'a>(incidents: &'a [Incident], id: &str) -> anyhow::Result<&'a Incident> {
    let id = id.trim().to_ascii_lowercase();
    if id.is_empty() {
        bail!("empty incident id; `detector incidents list` shows the ids");
    }
    if let Some(exact) = incidents.iter().find(|i| i.uid == id) {
        return Ok(exact);
    }
    let matches: Vec<&Incident> = incidents
        .iter()
        .filter(|i| i.uid.starts_with(&id))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => incidents
            .iter()
            .find(|i| i.findings.contains(&id))
            .with_context(|| {
                format!(
                    "no incident with id `{id}` ({} incidents in the store; \
                     `detector incidents list --include-suppressed` shows them)",
                    incidents.len()
                )
            }),
        many => bail!(
            "incident id prefix `{id}` is ambiguous: it matches {} incidents ({}); give more characters",
            many.len(),
            many.iter()
                .map(|i| i.short_id())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(160)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn inc(uid: &str, findings: &[&str]) -> Incident {
        Incident {
            uid: uid.into(),
            title: String::new(),
            risk_score: 50,
            severity: Severity::Medium,
            first_seen_ms: 0,
            last_seen_ms: 0,
            tactics: Vec::new(),
            techniques: Vec::new(),
            principals: Vec::new(),
            access_keys: Vec::new(),
            ips: Vec::new(),
            accounts: Vec::new(),
            linked_by: Vec::new(),
            findings: findings.iter().map(|f| (*f).to_string()).collect(),
            suppressed_count: 0,
            suppressed: false,
            timeline: Vec::new(),
        }
    }

    #[test]
    fn ids_resolve_by_exact_prefix_or_member() {
        let all = vec![
            inc("abc123", &["f1"]),
            inc("abc456", &["f2"]),
            inc("abc", &["f3"]),
        ];
        assert_eq!(
            resolve(&all, "abc").unwrap().uid,
            "abc",
            "exact beats prefix"
        );
        assert_eq!(resolve(&all, "ABC4").unwrap().uid, "abc456");
        assert_eq!(resolve(&all, "f2").unwrap().uid, "abc456");
        let e = resolve(&all, "abc1x").unwrap_err().to_string();
        assert!(e.contains("no incident with id `abc1x`"), "{e}");
        let e = resolve(&all[..2], "ab").unwrap_err().to_string();
        assert!(e.contains("ambiguous") && e.contains("abc123"), "{e}");
        assert!(resolve(&all, "  ").is_err());
    }

    #[test]
    fn grouping_flags_are_checked() {
        let g = |w: f64| GroupingArgs {
            window_hours: Some(w),
            ..GroupingArgs::default()
        };
        let d = IncidentConfig::default();
        assert_eq!(g(24.0).config(d.clone()).unwrap(), d);
        assert_eq!(
            GroupingArgs::default().config(d.clone()).unwrap(),
            d,
            "no flags: the configured values"
        );
        let from_file = IncidentConfig {
            window_ms: 3_600_000,
            ..d.clone()
        };
        assert_eq!(
            GroupingArgs::default()
                .config(from_file.clone())
                .unwrap()
                .window_ms,
            3_600_000
        );
        assert_eq!(g(2.0).config(from_file).unwrap().window_ms, 7_200_000);
        assert!(g(-1.0).config(d.clone()).is_err());
        assert!(g(f64::NAN).config(d.clone()).is_err());
        assert!(g(f64::INFINITY).config(d).is_err());
    }
}
