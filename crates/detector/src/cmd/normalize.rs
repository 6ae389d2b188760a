//! `detector normalize`: AWS logs in, OCSF JSON lines out, every record accounted for.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use detector_core::Reject;
use detector_core::parse::Format;

use crate::ingest::{self, IngestOptions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or folders (read recursively; `.gz` or plain) and `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Write OCSF JSON lines here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write every rejected record here as a JSON line {source, index, reason, raw}.
    #[arg(long)]
    pub quarantine: Option<PathBuf>,
    /// Print no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Input flags shared by every command that reads logs.
#[derive(clap::Args, Debug, Clone)]
pub struct InputArgs {
    /// Force the input format instead of detecting it: cloudtrail, vpcflow or s3access.
    #[arg(long = "input-format", value_name = "FORMAT", value_parser = parse_format)]
    pub input_format: Option<Format>,
    /// Keep events at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<i64>,
    /// Keep events before this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<i64>,
    /// Largest decompressed size accepted for one file, in MiB (guards against gzip bombs).
    #[arg(long, default_value_t = 2048, value_name = "MIB")]
    pub max_file_mib: u64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

impl InputArgs {
    pub fn options(&self) -> IngestOptions {
        IngestOptions {
            format: self.input_format,
            since_ms: self.since,
            until_ms: self.until,
            max_decompressed_bytes: self.max_file_mib.saturating_mul(1024 * 1024),
            progress: !self.no_progress,
            threads: self.threads,
            time_order: false,
        }
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

pub fn parse_time(s: &str) -> Result<i64, String> {
    detector_core::time::parse_iso8601_ms(s).ok_or_else(|| {
        format!("`{s}` is not a time: use RFC 3339 (2024-05-01T12:00:00Z) or a date")
    })
}

/// How many reject reasons are echoed to stderr before only counting them.
const REJECTS_SHOWN: usize = 20;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let opts = args.input.options();
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
    };
    let mut quarantine = match &args.quarantine {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => None,
    };
    let mut shown = 0usize;
    let summary = ingest::ingest_ordered(
        &args.paths,
        &opts,
        |_, batch| {
            // Serialising is the expensive half of normalize, so it runs on the workers.
            let mut buf = Vec::with_capacity(batch.events.len() * 1024);
            for e in &batch.events {
                // Writing a Value into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut buf, &e.to_ocsf());
                buf.push(b'\n');
            }
            (buf, batch.rejects)
        },
        |(buf, rejects): (Vec<u8>, Vec<Reject>)| {
            out.write_all(&buf).context("writing output")?;
            for r in &rejects {
                if shown < REJECTS_SHOWN && !args.quiet {
                    eprintln!("rejected {}#{}: {}", r.source, r.index, r.reason);
                    shown += 1;
                }
                if let Some(q) = quarantine.as_mut() {
                    serde_json::to_writer(&mut *q, r).context("writing quarantine")?;
                    q.write_all(b"\n").context("writing quarantine")?;
                }
            }
            Ok(())
        },
    )?;
    out.flush().context("writing output")?;
    if let Some(q) = quarantine.as_mut() {
        q.flush().context("writing quarantine")?;
    }
    if !args.quiet {
        if summary.rejected > shown as u64 {
            eprintln!("... and {} more rejects", summary.rejected - shown as u64);
        }
        eprintln!("{}", summary.render());
    }
    Ok(ExitCode::SUCCESS)
}
