//! `detector simulate`: writes the logs of a synthetic AWS organization with labelled attacks,
//! plus `truth.jsonl` (ground truth) and `manifest.json`.
//!
//! The core generator is pure and hands over one file at a time; this side gzips and writes
//! them. Chunks (one account over a block of hours) run in parallel with rayon; each chunk's
//! files depend only on the seed and the chunk, so the output is byte-identical for any
//! number of threads.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use detector_core::simulate::{
    ChunkReport, Config, KindCount, OutFile, SCENARIOS, Selection, Simulation,
};
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use rayon::prelude::*;

#[derive(clap::Args, Debug)]
#[command(after_help = scenario_help())]
pub struct Args {
    /// Output directory (created if missing). Files keep AWS's key layout below it:
    /// AWSLogs/<org>/<account>/CloudTrail/..., AWSLogs/<account>/vpcflowlogs/...,
    /// s3-access-logs/<bucket>/..., plus truth.jsonl, manifest.json and geo/ (IP enrichment
    /// placing every simulated address: `detector scan --geo <out>/geo`).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of days to simulate (1 to 366).
    #[arg(long, default_value_t = 14, value_name = "N")]
    pub days: u32,
    /// Seed: the same seed and options give byte-identical output; another seed gives other
    /// identities, addresses and times.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Member (workload) accounts; a management and a security account are always added.
    #[arg(long, default_value_t = 3, value_name = "K")]
    pub accounts: u32,
    /// Activity multiplier (e.g. 0.2 for a quick corpus, 10 for a benchmark corpus of many
    /// gigabytes): entity counts grow with its square root, their activity with the rest.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub scale: f64,
    /// Scenarios to include: `all`, `none` (background only), `malicious`, `benign`, or a
    /// comma-separated list of names (listed below).
    #[arg(long, default_value = "all", value_name = "LIST")]
    pub scenarios: String,
    /// First simulated day (UTC), YYYY-MM-DD. Fixed by default so output is reproducible.
    #[arg(long, default_value = "2026-10-01", value_name = "YYYY-MM-DD")]
    pub start: String,
    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

fn scenario_help() -> String {
    let mut s = String::from("Scenarios (malicious, then benign look-alikes):\n");
    let malicious = SCENARIOS.iter().filter(|d| d.label.as_str() == "malicious");
    let benign = SCENARIOS.iter().filter(|d| d.label.as_str() != "malicious");
    for d in malicious.chain(benign) {
        s.push_str(&format!(
            "  {:<30} {:<9} {}\n",
            d.name,
            d.label.as_str(),
            d.attack_ids.join(",")
        ));
    }
    s
}

/// Bytes written to disk, counted across threads.
#[derive(Default)]
struct Written {
    bytes: AtomicU64,
}

/// A gzip writer that reuses one deflate state for every file of a chunk: tens of thousands
/// of small files would otherwise spend more time initialising compressors than compressing.
struct Gzip {
    deflate: Compress,
}

impl Gzip {
    fn new() -> Self {
        Gzip {
            deflate: Compress::new(Compression::fast(), false),
        }
    }

    /// One gzip member (RFC 1952): header, raw deflate, CRC-32 and length.
    fn compress(&mut self, data: &[u8]) -> anyhow::Result<Vec<u8>> {
        self.deflate.reset();
        let mut out = Vec::with_capacity(data.len() / 5 + 64);
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=4 (fastest) OS=3 (Unix)
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3]);
        loop {
            let consumed = self.deflate.total_in() as usize;
            if out.capacity() - out.len() < 1024 {
                out.reserve(out.capacity().max(4096));
            }
            let status = self.deflate.compress_vec(
                &data[consumed.min(data.len())..],
                &mut out,
                FlushCompress::Finish,
            )?;
            if status == Status::StreamEnd {
                break;
            }
        }
        let mut crc = Crc::new();
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        Ok(out)
    }
}

/// Writes files of one chunk; remembers which folders exist to save system calls.
struct Writer<'a> {
    out: &'a Path,
    written: &'a Written,
    gzip: Gzip,
    dirs: HashSet<PathBuf>,
}

impl Writer<'_> {
    fn write(&mut self, f: OutFile) -> anyhow::Result<()> {
        let path = self.out.join(&f.key);
        if let Some(dir) = path.parent()
            && !self.dirs.contains(dir)
        {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            self.dirs.insert(dir.to_path_buf());
        }
        let data = if f.compress {
            self.gzip.compress(&f.bytes)?
        } else {
            f.bytes
        };
        fs::write(&path, &data).with_context(|| format!("writing {}", path.display()))?;
        self.written
            .bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn line(name: &str, k: KindCount) -> String {
    format!(
        "  {name:<18} {:>9} files {:>11} records {:>10.1} MB",
        k.files,
        k.records,
        mb(k.bytes)
    )
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let scenarios: Selection = args.scenarios.parse()?;
    let cfg = Config {
        seed: args.seed,
        days: args.days,
        accounts: args.accounts,
        scale: args.scale,
        start: args.start.clone(),
        scenarios,
    };
    let started = Instant::now();
    let sim = Simulation::new(cfg)?;
    fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.threads {
        pool = pool.num_threads(n.max(1));
    }
    let pool = pool.build()?;
    let written = Written::default();
    let n = sim.chunks().len();
    let bar = indicatif::ProgressBar::new(n as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} chunks {elapsed} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let results: Vec<anyhow::Result<ChunkReport>> = pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|i| {
                let mut w = Writer {
                    out: &args.out,
                    written: &written,
                    gzip: Gzip::new(),
                    dirs: HashSet::new(),
                };
                let r = sim.generate_chunk(i, &mut |f| w.write(f));
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let mut report = ChunkReport::default();
    for r in results {
        report.merge(r?);
    }
    let truth = sim.truth(&report);
    let mut t = Vec::new();
    for line in &truth {
        serde_json::to_writer(&mut t, line)?;
        t.push(b'\n');
    }
    fs::write(args.out.join("truth.jsonl"), &t)?;
    let manifest = sim.manifest(&report);
    fs::write(
        args.out.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    let (asn_csv, country_csv) = sim.geo_csv();
    let geo_dir = args.out.join("geo");
    fs::create_dir_all(&geo_dir).with_context(|| format!("creating {}", geo_dir.display()))?;
    fs::write(geo_dir.join("asn.csv"), asn_csv)?;
    fs::write(geo_dir.join("country.csv"), country_csv)?;
    let elapsed = started.elapsed().as_secs_f64().max(1e-6);
    let c = report.counts;
    let total = c.total();
    let disk = written.bytes.load(Ordering::Relaxed);
    let malicious = truth.iter().filter(|t| t.is_malicious()).count();
    println!(
        "simulated {} days from {}, {} accounts (organization {}), seed {}, scale {}",
        args.days,
        args.start,
        sim.org.accounts.len(),
        sim.org.org_id,
        args.seed,
        args.scale
    );
    println!("{}", line("cloudtrail", c.cloudtrail));
    println!("{}", line("cloudtrail-digest", c.cloudtrail_digest));
    println!("{}", line("vpcflow", c.vpcflow));
    println!("{}", line("s3access", c.s3access));
    println!("{}", line("total", total));
    println!(
        "  scenarios: {malicious} malicious, {} benign; {} background events -> {}",
        truth.len() - malicious,
        manifest.background_events,
        args.out.join("truth.jsonl").display()
    );
    println!(
        "  {:.1} s, {:.1} MB uncompressed ({:.1} MB/s), {:.1} MB written ({:.1} MB/s)",
        elapsed,
        mb(total.bytes),
        mb(total.bytes) / elapsed,
        mb(disk),
        mb(disk) / elapsed
    );
    Ok(ExitCode::SUCCESS)
}
