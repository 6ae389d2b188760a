//! Flow log parsing throughput on generated lines, one core.
//!
//! `cargo run --release -p detector-core --example bench_flow [LINES]`
//!
//! Prints lines/s and MB/s for the default version 2 format (no header, as read from CloudWatch
//! Logs) and for a 29-field version 5 custom format with a header (as delivered to S3), parsed
//! file by file the way the pipeline does.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use detector_core::parse::{Batch, vpcflow};

/// xorshift64*: deterministic input without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn ip(rng: &mut Rng) -> String {
    if rng.below(20) == 0 {
        format!("2001:db8:{:x}::{:x}", rng.below(0xffff), rng.below(0xffff))
    } else {
        format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(256)
        )
    }
}

fn default_v2(rng: &mut Rng, lines: usize) -> String {
    let mut s = String::with_capacity(lines * 120);
    for i in 0..lines {
        let start = 1_700_000_000 + (i as u64 / 100);
        if rng.below(50) == 0 {
            let _ = writeln!(
                s,
                "2 123456789012 eni-{:017x} - - - - - - - {start} {} - NODATA",
                rng.below(1 << 40),
                start + 60
            );
            continue;
        }
        let _ = writeln!(
            s,
            "2 123456789012 eni-{:017x} {} {} {} {} 6 {} {} {start} {} {} OK",
            rng.below(1 << 40),
            ip(rng),
            ip(rng),
            rng.below(65536),
            [22, 80, 443, 3389, 5432][rng.below(5) as usize],
            rng.below(1000),
            rng.below(1_000_000),
            start + 60,
            if rng.below(10) == 0 {
                "REJECT"
            } else {
                "ACCEPT"
            },
        );
    }
    s
}

fn custom_v5(rng: &mut Rng, lines: usize) -> String {
    let mut s = String::with_capacity(lines * 300);
    s.push_str("version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status\n");
    for i in 0..lines {
        let start = 1_700_000_000 + (i as u64 / 100);
        let (src, dst) = (ip(rng), ip(rng));
        let _ = writeln!(
            s,
            "5 {src} {dst} {} 443 6 {start} {} IPv4 {} {} 123456789012 vpc-{:017x} subnet-{:017x} i-{:017x} eni-{:017x} us-east-1 use1-az1 - - ACCEPT {} {src} {dst} - S3 8 egress OK",
            rng.below(65536),
            start + 60,
            rng.below(1000),
            rng.below(1_000_000),
            rng.below(1 << 40),
            rng.below(1 << 40),
            rng.below(1 << 40),
            rng.below(1 << 40),
            rng.below(64),
        );
    }
    s
}

/// Lines per simulated file: VPC Flow Logs objects hold up to some tens of thousands of lines,
/// and the pipeline parses one object into a batch, hands its events on and drops it.
const FILE_LINES: usize = 10_000;

/// Splits generated text into files of `FILE_LINES` lines, repeating the header if any.
fn files(input: &str, header: bool) -> Vec<String> {
    let mut lines = input.lines();
    let head = if header { lines.next() } else { None };
    let all: Vec<&str> = lines.collect();
    all.chunks(FILE_LINES)
        .map(|c| {
            let mut f = String::new();
            if let Some(h) = head {
                f.push_str(h);
                f.push('\n');
            }
            for l in c {
                f.push_str(l);
                f.push('\n');
            }
            f
        })
        .collect()
}

/// CPU time this thread has run, in seconds (Linux `/proc/thread-self/schedstat`), so the rate
/// per core can be read on a machine shared with other work.
fn cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn measure(name: &str, input: &str, header: bool, lines: usize) {
    let files = files(input, header);
    let source: Arc<str> = Arc::from(
        "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20240501T0805Z_1a2b3c4d.log.gz",
    );
    // One warm-up pass, then the best of three. Each file's batch is dropped inside the timed
    // region: freeing the events is part of the cost the pipeline pays.
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut events = 0;
    for round in 0..4 {
        events = 0;
        let cpu = cpu_secs();
        let t = Instant::now();
        for f in &files {
            let mut batch = Batch::default();
            vpcflow::parse(&source, f.as_bytes(), &mut batch);
            assert!(batch.rejects.is_empty(), "{:?}", batch.rejects.first());
            events += batch.events.len();
        }
        let secs = t.elapsed().as_secs_f64();
        if round > 0 {
            best = best.min(secs);
            if let (Some(a), Some(b)) = (cpu, cpu_secs()) {
                best_cpu = best_cpu.min(b - a);
            }
        }
    }
    let mb = input.len() as f64 / 1e6;
    println!(
        "{name:<24} {lines:>9} lines {mb:>7.1} MB  wall: {:>9.0} lines/s {:>6.1} MB/s",
        lines as f64 / best,
        mb / best,
    );
    if best_cpu < f64::MAX {
        println!(
            "{:<24} {:>9} {events:>6} events  cpu:  {:>9.0} lines/s {:>6.1} MB/s",
            "",
            "",
            lines as f64 / best_cpu,
            mb / best_cpu,
        );
    }
}

fn main() {
    let lines: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let v2 = default_v2(&mut rng, lines);
    let v5 = custom_v5(&mut rng, lines);
    measure("default v2 (no header)", &v2, false, lines);
    measure("custom v5, 29 fields", &v5, true, lines);
}
