//! `detector review list|show|accept|reject`: the human side of entity confidence. Entities
//! scored between the review and accept thresholds wait here; each decision becomes training
//! data for `detector entities train`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use detector_core::entity::EntityType;

use crate::store::Store;
use crate::store::review::{Item, Status};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
    /// State store (SQLite) holding the queue. Default: $DETECTOR_STATE, else
    /// $XDG_DATA_HOME/detector/state.db or ~/.local/share/detector/state.db.
    #[arg(long, global = true, value_name = "PATH")]
    pub state: Option<std::path::PathBuf>,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusArg {
    Pending,
    Accepted,
    Rejected,
    All,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Queue items, oldest first.
    List {
        #[arg(long, value_enum, default_value_t = StatusArg::Pending)]
        status: StatusArg,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One item with its explanation and context.
    Show { id: i64 },
    /// The entity is right (optionally with a corrected type).
    Accept {
        id: i64,
        /// The correct type, when the queued one was wrong (e.g. `iam_role`).
        #[arg(long = "type", value_parser = parse_type)]
        kind: Option<EntityType>,
    },
    /// The value is not an entity.
    Reject { id: i64 },
}

fn parse_type(s: &str) -> Result<EntityType, String> {
    s.parse()
}

/// The context with the entity marked: `... cannot pass role [[DeployRole]] ...`.
fn marked(it: &Item, room: usize) -> String {
    let t = &it.context.text;
    let (s, e) = (it.context.span[0] as usize, it.context.span[1] as usize);
    let (Some(before), Some(mid), Some(after)) = (t.get(..s), t.get(s..e), t.get(e..)) else {
        return t.chars().take(room).collect();
    };
    let before: String = {
        let c: Vec<char> = before.chars().collect();
        c[c.len().saturating_sub(room / 2)..].iter().collect()
    };
    let after: String = after.chars().take(room / 2).collect();
    format!("{before}[[{mid}]]{after}").replace(['\n', '\t'], " ")
}

fn print_item(out: &mut dyn Write, it: &Item) -> std::io::Result<()> {
    writeln!(out, "id          {}", it.id)?;
    writeln!(out, "type        {}", it.kind)?;
    writeln!(out, "value       {}", it.value)?;
    writeln!(out, "score       {:.3}", it.score)?;
    writeln!(out, "status      {}", it.status.as_str())?;
    if let Some(l) = it.decided_label {
        writeln!(out, "decided     {l}")?;
    }
    writeln!(
        out,
        "found in    {} ({})",
        it.context.path, it.context.service
    )?;
    if let Some(ev) = &it.context.event {
        writeln!(out, "event       {ev}")?;
    }
    writeln!(out, "context     {}", marked(it, 160))?;
    writeln!(out, "explanation {}", it.explanation)?;
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = crate::store::resolve_path(args.state.as_deref())?;
    let mut store = Store::open(&path)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.action {
        Action::List {
            status,
            limit,
            json,
        } => {
            let st = match status {
                StatusArg::Pending => Some(Status::Pending),
                StatusArg::Accepted => Some(Status::Accepted),
                StatusArg::Rejected => Some(Status::Rejected),
                StatusArg::All => None,
            };
            let items = store.review_list(st, limit)?;
            if json {
                for it in &items {
                    serde_json::to_writer(&mut out, it)?;
                    writeln!(out)?;
                }
            } else {
                writeln!(
                    out,
                    "{:>5}  {:<16} {:<32} {:>5}  {:<9} CONTEXT",
                    "ID", "TYPE", "VALUE", "SCORE", "STATUS"
                )?;
                for it in &items {
                    let value: String = it.value.chars().take(32).collect();
                    writeln!(
                        out,
                        "{:>5}  {:<16} {:<32} {:>5.2}  {:<9} {}",
                        it.id,
                        it.kind.name(),
                        value,
                        it.score,
                        it.status.as_str(),
                        marked(it, 70)
                    )?;
                }
                let (p, a, r) = store.review_counts()?;
                writeln!(
                    out,
                    "{p} pending, {a} accepted, {r} rejected ({})",
                    path.display()
                )?;
            }
        }
        Action::Show { id } => {
            let it = store
                .review_get(id)?
                .with_context(|| format!("no review item {id}"))?;
            print_item(&mut out, &it)?;
        }
        Action::Accept { id, kind } => {
            let it = store.review_decide(id, true, kind)?;
            writeln!(
                out,
                "accepted {} as {} ({}); run `detector entities train` to teach the model",
                it.id,
                it.decided_label.unwrap_or(it.kind),
                it.value
            )?;
        }
        Action::Reject { id } => {
            let it = store.review_decide(id, false, None)?;
            writeln!(
                out,
                "rejected {} ({} is not a {}); run `detector entities train` to teach the model",
                it.id, it.value, it.kind
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
