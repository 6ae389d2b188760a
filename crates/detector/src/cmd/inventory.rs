//! `detector inventory PATH...`: every security-relevant entity across the accounts in the
//! logs, with first and last seen, event count and the principals that used it. A table on a
//! terminal, JSON lines or CSV on request.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use detector_core::entity::{Decision, EntityType, Extractor, account_of, principal_of};
use detector_core::parse::Batch;
use detector_core::time::format_iso8601_ms;

use crate::cmd::entities::EntityArgs;
use crate::cmd::normalize::InputArgs;
use crate::ingest;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or folders (read recursively; `.gz` or plain) and `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub entity: EntityArgs,
    /// Output format. Default: a table on a terminal, JSON lines otherwise.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Only these entity types (repeat or separate with commas), e.g. `--type iam_role,s3_bucket`.
    #[arg(long = "type", value_delimiter = ',', value_parser = parse_type)]
    pub types: Vec<EntityType>,
    /// Count entities in the review band too, not only accepted ones.
    #[arg(long)]
    pub include_review: bool,
    /// Principals listed per entity (the count is exact up to the memory cap).
    #[arg(long, default_value_t = 10)]
    pub max_principals: usize,
    /// Write here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_type(s: &str) -> Result<EntityType, String> {
    s.parse()
}

/// Distinct principals and accounts kept per entity: memory grows with entities, not events.
const SET_CAP: usize = 1000;

/// What the inventory knows about one entity.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Row {
    #[serde(rename = "type")]
    pub kind: Option<EntityType>,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<&'static str>,
    pub accounts: BTreeSet<String>,
    #[serde(skip)]
    pub first_ms: i64,
    #[serde(skip)]
    pub last_ms: i64,
    pub events: u64,
    pub principals: BTreeSet<String>,
    /// Where it was first seen (field path).
    pub seen_in: String,
}

impl Row {
    fn merge(&mut self, o: Row) {
        if o.first_ms < self.first_ms {
            self.first_ms = o.first_ms;
            self.seen_in = o.seen_in;
        }
        self.last_ms = self.last_ms.max(o.last_ms);
        self.events += o.events;
        self.class = self.class.or(o.class);
        for a in o.accounts {
            if self.accounts.len() >= SET_CAP {
                break;
            }
            self.accounts.insert(a);
        }
        for p in o.principals {
            if self.principals.len() >= SET_CAP {
                break;
            }
            self.principals.insert(p);
        }
    }
}

pub type Inventory = HashMap<(EntityType, String), Row>;

/// Adds the entities of one file's events to `inv`.
pub fn add_batch(
    ex: &Extractor,
    batch: &Batch,
    types: &[EntityType],
    include_review: bool,
    inv: &mut Inventory,
) {
    let mut ents = Vec::with_capacity(32);
    for ev in &batch.events {
        ents.clear();
        ex.extract(ev, &mut ents);
        let principal = principal_of(ev);
        let ev_account = account_of(ev);
        for e in &ents {
            let d = ex.decide(e);
            if !(d == Decision::Accept || include_review && d == Decision::Review) {
                continue;
            }
            if !types.is_empty() && !types.contains(&e.kind) {
                continue;
            }
            // Look up by borrowed value; allocate only for a new entity.
            let key = (e.kind, e.value.to_string());
            let row = inv.entry(key).or_insert_with(|| Row {
                kind: Some(e.kind),
                value: e.value.to_string(),
                class: e.class,
                first_ms: ev.time_ms,
                last_ms: ev.time_ms,
                seen_in: e.origin.path.to_string(),
                ..Row::default()
            });
            if ev.time_ms < row.first_ms {
                row.first_ms = ev.time_ms;
                row.seen_in = e.origin.path.to_string();
            }
            row.last_ms = row.last_ms.max(ev.time_ms);
            row.events += 1;
            if let Some(a) = e.account().or(ev_account)
                && row.accounts.len() < SET_CAP
                && !row.accounts.contains(a)
            {
                row.accounts.insert(a.to_string());
            }
            if let Some(p) = principal
                && row.principals.len() < SET_CAP
                && !row.principals.contains(p)
            {
                row.principals.insert(p.to_string());
            }
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (ex, model_src) = args.entity.extractor()?;
    let opts = args.input.options();
    let mut inv: Inventory = HashMap::new();
    let summary = ingest::ingest_ordered(
        &args.paths,
        &opts,
        |_, batch| {
            let mut part = Inventory::new();
            add_batch(&ex, &batch, &args.types, args.include_review, &mut part);
            part
        },
        |part: Inventory| {
            for (k, row) in part {
                match inv.get_mut(&k) {
                    Some(r) => r.merge(row),
                    None => {
                        inv.insert(k, row);
                    }
                }
            }
            Ok(())
        },
    )?;
    let mut rows: Vec<Row> = inv.into_values().collect();
    rows.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.value.cmp(&b.value)));
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if to_terminal {
        Format::Table
    } else {
        Format::Json
    });
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        Format::Json => write_json(&mut out, &rows)?,
        Format::Csv => write_csv(&mut out, &rows)?,
        Format::Table => write_table(&mut out, &rows, args.max_principals)?,
    }
    out.flush().context("writing output")?;
    if !args.quiet {
        eprintln!("{}", summary.render());
        eprintln!("inventory: {} entities; model: {model_src}", rows.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn write_json(out: &mut dyn Write, rows: &[Row]) -> anyhow::Result<()> {
    for r in rows {
        let mut v = serde_json::to_value(r)?;
        v["first_seen"] = format_iso8601_ms(r.first_ms).into();
        v["last_seen"] = format_iso8601_ms(r.last_ms).into();
        v["principal_count"] = r.principals.len().into();
        serde_json::to_writer(&mut *out, &v)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_csv(out: &mut dyn Write, rows: &[Row]) -> anyhow::Result<()> {
    writeln!(
        out,
        "type,value,class,accounts,first_seen,last_seen,events,principal_count,principals"
    )?;
    for r in rows {
        let accounts: Vec<&str> = r.accounts.iter().map(String::as_str).collect();
        let principals: Vec<&str> = r.principals.iter().map(String::as_str).collect();
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            r.kind.map_or("", EntityType::name),
            csv_field(&r.value),
            r.class.unwrap_or(""),
            csv_field(&accounts.join(";")),
            format_iso8601_ms(r.first_ms),
            format_iso8601_ms(r.last_ms),
            r.events,
            r.principals.len(),
            csv_field(&principals.join(";")),
        )?;
    }
    Ok(())
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(n.saturating_sub(1)).collect();
        c.push('…');
        c
    }
}

fn write_table(out: &mut dyn Write, rows: &[Row], max_principals: usize) -> anyhow::Result<()> {
    let header = [
        "TYPE",
        "VALUE",
        "CLASS",
        "ACCOUNTS",
        "FIRST SEEN",
        "LAST SEEN",
        "EVENTS",
        "PRINCIPALS",
    ];
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            let mut p: Vec<String> = r
                .principals
                .iter()
                .take(max_principals)
                .map(|p| clip(p, 60))
                .collect();
            if r.principals.len() > max_principals {
                p.push(format!("+{} more", r.principals.len() - max_principals));
            }
            let accounts: Vec<&str> = r.accounts.iter().take(3).map(String::as_str).collect();
            let mut acc = accounts.join(",");
            if r.accounts.len() > 3 {
                acc.push_str(&format!(",+{}", r.accounts.len() - 3));
            }
            [
                r.kind.map_or("", EntityType::name).to_string(),
                clip(&r.value, 72),
                r.class.unwrap_or("").to_string(),
                acc,
                format_iso8601_ms(r.first_ms),
                format_iso8601_ms(r.last_ms),
                r.events.to_string(),
                format!("({}) {}", r.principals.len(), p.join(", ")),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c.iter()).take(7) {
            *w = (*w).max(s.chars().count());
        }
    }
    let line = |out: &mut dyn Write, c: &[&str]| -> std::io::Result<()> {
        for (i, s) in c.iter().enumerate() {
            if i == 7 {
                write!(out, "{s}")?;
            } else if i == 6 {
                write!(out, "{:>w$}  ", s, w = width[i])?;
            } else {
                write!(out, "{:<w$}  ", s, w = width[i])?;
            }
        }
        writeln!(out)
    };
    line(out, &header)?;
    for c in &cells {
        let refs: Vec<&str> = c.iter().map(String::as_str).collect();
        line(out, &refs)?;
    }
    Ok(())
}
