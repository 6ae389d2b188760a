//! `detector bench`: throughput of the pipeline stages on real files, for the numbers in the
//! notes (events/s per core, MB/s). Timings are printed, never asserted.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cmd::normalize::InputArgs;
use crate::ingest;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Decompress + parse into normalized events held in memory, then drop them.
    Ingest {
        /// Files or folders to read.
        #[arg(required = true)]
        paths: Vec<String>,
        #[command(flatten)]
        input: InputArgs,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Ingest { paths, input } => {
            let mut opts = input.options();
            opts.progress = false;
            let cloudtrail = AtomicU64::new(0);
            let summary = ingest::ingest_ordered(
                &paths,
                &opts,
                |_, batch| {
                    let n = batch
                        .events
                        .iter()
                        .filter(|e| e.cloudtrail().is_some())
                        .count();
                    cloudtrail.fetch_add(n as u64, Ordering::Relaxed);
                    // Dropping the batch here keeps the cost of freeing it in the measurement.
                    drop(batch);
                },
                |()| Ok(()),
            )?;
            let threads = opts.threads.unwrap_or_else(rayon::current_num_threads);
            let secs = summary.elapsed_secs.max(1e-9);
            println!("{}", summary.render());
            println!(
                "threads {threads}  cloudtrail events {}  {:.0} events/s ({:.0} per thread)  \
                 {:.1} MB/s read  {:.1} MB/s decompressed",
                cloudtrail.load(Ordering::Relaxed),
                summary.events as f64 / secs,
                summary.events as f64 / secs / threads as f64,
                summary.bytes_read as f64 / 1e6 / secs,
                summary.bytes_decompressed as f64 / 1e6 / secs,
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
