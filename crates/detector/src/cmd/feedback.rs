//! `detector feedback UID --verdict ...`: an analyst's verdict on a finding, remembered in the
//! store and applied to stored findings at once and to every later scan.

use std::process::ExitCode;

use anyhow::{Context, bail};
use detector_core::feedback::{FeedbackEntry, Suppressor, Verdict};
use detector_core::finding::Finding;
use detector_core::store::{FindingFilter, StateStore};

use crate::cmd::scan::StateArgs;
use crate::config::ConfigArgs;
use crate::store::{Store, now_rfc3339};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The finding's uid (`finding_info.uid`) or an unambiguous prefix of it.
    #[arg(required_unless_present = "list")]
    pub uid: Option<String>,
    /// What the finding is: true-positive, false-positive or benign-expected.
    #[arg(long, required_unless_present = "list")]
    pub verdict: Option<Verdict>,
    /// Why (kept with the verdict and shown on findings it suppresses).
    #[arg(long, default_value = "")]
    pub note: String,
    /// Who decided (default: $USER).
    #[arg(long, env = "USER", default_value = "")]
    pub analyst: String,
    /// List the recorded verdicts instead.
    #[arg(long, conflicts_with_all = ["uid", "verdict"])]
    pub list: bool,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut store = Store::open_or_default(args.state.state.as_deref())?;
    if args.list {
        let entries = store.feedback().context("reading verdicts")?;
        if entries.is_empty() {
            println!("no verdicts recorded");
        }
        for e in entries {
            println!(
                "{}  {:<15}  {:<34}  {}  {}{}",
                e.created_at.get(..19).unwrap_or(&e.created_at),
                e.verdict.name(),
                e.finding_uid,
                e.detector,
                e.entity.as_deref().unwrap_or("-"),
                if e.note.is_empty() {
                    String::new()
                } else {
                    format!("  \"{}\"", e.note)
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(uid), Some(verdict)) = (args.uid, args.verdict) else {
        bail!("give a finding uid and --verdict");
    };
    let all = store
        .findings(&FindingFilter {
            include_suppressed: true,
            ..FindingFilter::default()
        })
        .context("reading findings")?;
    let finding = resolve(&all, &uid)?;
    let entry = FeedbackEntry::new(finding, verdict, &args.note, &args.analyst, &now_rfc3339());
    store.add_feedback(&entry).context("saving the verdict")?;

    // Apply at once, so `findings list` reflects the verdict without a re-scan.
    let (config, _) = args.config.load()?;
    let suppressor = Suppressor::new(
        config.suppress,
        store.feedback().context("reading verdicts")?,
        crate::config::now_ms(),
    );
    let mut updated = all.clone();
    suppressor.apply(&mut updated);
    let changed: Vec<Finding> = updated
        .into_iter()
        .zip(&all)
        .filter(|(new, old)| new.suppressed != old.suppressed || new.desc != old.desc)
        .map(|(new, _)| new)
        .collect();
    store
        .replace_findings(&changed)
        .context("updating findings")?;
    let now_suppressed = changed.iter().filter(|f| f.suppressed.is_some()).count();
    println!(
        "{} marked {}{}",
        entry.finding_uid,
        verdict.name(),
        if args.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", args.note)
        }
    );
    if verdict.is_benign() {
        println!(
            "learned: {} on {} from {} is normal; {} stored finding(s) now suppressed",
            entry.detector,
            entry.entity.as_deref().unwrap_or("this finding"),
            if entry.networks.is_empty() {
                "its sources".to_string()
            } else {
                entry.networks.join(", ")
            },
            now_suppressed
        );
    } else {
        let restored = changed.iter().filter(|f| f.suppressed.is_none()).count();
        if restored > 0 {
            println!("{restored} stored finding(s) no longer suppressed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The one finding `uid` names, exactly or by prefix.
pub(crate) fn resolve<'a>(all: &'a [Finding], uid: &str) -> anyhow::Result<&'a Finding> {
    if let Some(f) = all.iter().find(|f| f.uid == uid) {
        return Ok(f);
    }
    let matching: Vec<&Finding> = all.iter().filter(|f| f.uid.starts_with(uid)).collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => bail!("no stored finding has uid {uid} (see `detector findings list`)"),
        many => bail!(
            "uid prefix {uid} is ambiguous: {} findings match ({}...)",
            many.len(),
            many.iter()
                .take(3)
                .map(|f| f.uid.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
