//! Reading inputs: files, folders (recursively), `-` for stdin; gzip through one capped
//! decompression helper; format detection; parallel parsing with bounded memory.
//!
//! Every input file becomes one [`Batch`]. Files are parsed in parallel in chunks and handed
//! to the caller in input order, so output is deterministic and memory is bounded by a chunk
//! of files, never by the total input.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use detector_core::Reject;
use detector_core::parse::{self, Batch, Format};
use rayon::prelude::*;

/// Default cap on the decompressed size of one input (gzip bombs are real input).
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 2 * 1024 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// Keep only events at or after this time (ms since epoch).
    pub since_ms: Option<i64>,
    /// Keep only events before this time (ms since epoch).
    pub until_ms: Option<i64>,
    pub max_decompressed_bytes: u64,
    /// Draw a progress bar on stderr (only when stderr is a terminal).
    pub progress: bool,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Read inputs in the order of the time their key layout names (then by path), so that
    /// events reach the detectors roughly in event-time order whatever the folder layout
    /// (organization trails sort by account first).
    pub time_order: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            since_ms: None,
            until_ms: None,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED,
            progress: false,
            threads: None,
            time_order: false,
        }
    }
}

/// What happened to the input, for the end-of-run summary. `records == events + rejected +
/// filtered` always holds.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct IngestSummary {
    pub files_read: u64,
    /// Files skipped whole because their key-layout date is outside `--since/--until`.
    pub files_skipped_by_date: u64,
    /// Paths that could not be read at all (missing, permission denied, not a file).
    pub unreadable: u64,
    pub records: u64,
    pub events: u64,
    pub rejected: u64,
    /// Events outside `--since/--until`.
    pub filtered: u64,
    pub digests_skipped: u64,
    /// Bytes read from disk (compressed size for gzip files).
    pub bytes_read: u64,
    pub bytes_decompressed: u64,
    pub elapsed_secs: f64,
}

impl IngestSummary {
    pub fn events_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.events as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    /// Human summary for stderr.
    pub fn render(&self) -> String {
        format!(
            "files read {}  skipped by date {}  unreadable {}\nrecords {}  events {}  rejected {}  \
             filtered by time {}  digests skipped {}\nbytes read {}  decompressed {}  elapsed {:.2}s  \
             {:.0} events/s",
            self.files_read,
            self.files_skipped_by_date,
            self.unreadable,
            self.records,
            self.events,
            self.rejected,
            self.filtered,
            self.digests_skipped,
            human_bytes(self.bytes_read),
            human_bytes(self.bytes_decompressed),
            self.elapsed_secs,
            self.events_per_sec()
        )
    }
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// One unit of input.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    /// The name used as the event source: the path as given by the user, or `stdin`.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.to_string_lossy().into_owned(),
            Input::Stdin => "stdin".to_string(),
        }
    }
}

/// Expands the user's paths into inputs: folders recursively (sorted, hidden files skipped),
/// `-` as stdin. Paths that cannot be read are returned as errors with their reason, not fatal.
pub fn expand(paths: &[String]) -> (Vec<Input>, Vec<(String, String)>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        if p.starts_with("s3://") {
            errors.push((
                p.clone(),
                "s3:// inputs are not supported by this build yet".into(),
            ));
            continue;
        }
        let path = Path::new(p);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut found: Vec<PathBuf> = Vec::new();
                for entry in walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .sort_by_file_name()
                {
                    match entry {
                        Ok(e) if e.file_type().is_file() => {
                            let hidden = e.file_name().to_string_lossy().starts_with('.');
                            if !hidden {
                                found.push(e.into_path());
                            }
                        }
                        Ok(_) => {}
                        Err(err) => {
                            let at = err
                                .path()
                                .map(|x| x.to_string_lossy().into_owned())
                                .unwrap_or_else(|| p.clone());
                            errors.push((at, err.to_string()));
                        }
                    }
                }
                inputs.extend(found.into_iter().map(Input::File));
            }
            Ok(m) if m.is_file() => inputs.push(Input::File(path.to_path_buf())),
            Ok(_) => errors.push((p.clone(), "not a regular file or folder".into())),
            Err(e) => errors.push((p.clone(), e.to_string())),
        }
    }
    (inputs, errors)
}

/// The UTC day (days since epoch) a delivered object covers, from its key layout:
/// `.../YYYY/MM/DD/...` (CloudTrail, flow logs) or an S3 access log name
/// `YYYY-MM-DD-HH-MM-SS-XXXXXXXXXXXXXXXX`.
pub fn key_layout_day(name: &str) -> Option<i64> {
    let parts: Vec<&str> = name.split(['/', '\\']).collect();
    for w in parts.windows(3).rev() {
        if let (Some(y), Some(m), Some(d)) = (num(w[0], 4), num(w[1], 2), num(w[2], 2))
            && (1990..3000).contains(&y)
            && (1..=12).contains(&m)
            && (1..=31).contains(&d)
        {
            return Some(detector_core::time::days_from_civil(i64::from(y), m, d));
        }
    }
    let file = parts.last()?;
    let b = file.as_bytes();
    if b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'-' {
        let (y, m, d) = (
            num(&file[0..4], 4)?,
            num(&file[5..7], 2)?,
            num(&file[8..10], 2)?,
        );
        if (1..=12).contains(&m) && (1..=31).contains(&d) {
            return Some(detector_core::time::days_from_civil(i64::from(y), m, d));
        }
    }
    None
}

/// The time (ms) a delivered object's name carries: CloudTrail and flow log objects end in
/// `_YYYYMMDDTHHMMZ_...`, S3 access logs start with `YYYY-MM-DD-HH-MM-SS-`; otherwise the
/// key-layout day. `None` when the name says nothing.
pub fn key_layout_time_ms(name: &str) -> Option<i64> {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    for part in file.split('_') {
        let b = part.as_bytes();
        if (b.len() == 14 || b.len() == 16) && b[8] == b'T' && b[b.len() - 1] == b'Z' {
            let (y, mo, d) = (
                num(&part[0..4], 4),
                num(&part[4..6], 2),
                num(&part[6..8], 2),
            );
            let (h, mi) = (num(&part[9..11], 2), num(&part[11..13], 2));
            if let (Some(y), Some(mo), Some(d), Some(h), Some(mi)) = (y, mo, d, h, mi)
                && (1..=12).contains(&mo)
                && (1..=31).contains(&d)
            {
                let days = detector_core::time::days_from_civil(i64::from(y), mo, d);
                return Some((days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60) * 1000);
            }
        }
    }
    let b = file.as_bytes();
    if b.len() >= 20 && b[4] == b'-' && b[13] == b'-' && b[16] == b'-' {
        let iso = format!(
            "{}T{}:{}:{}Z",
            &file[0..10],
            &file[11..13],
            &file[14..16],
            &file[17..19]
        );
        if let Some(t) = detector_core::time::parse_iso8601_ms(&iso) {
            return Some(t);
        }
    }
    key_layout_day(name).map(|d| d * 86_400_000)
}

fn num(s: &str, len: usize) -> Option<u32> {
    if s.len() == len && s.bytes().all(|c| c.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Result of reading and decompressing one input.
#[derive(Debug)]
pub struct Loaded {
    pub bytes: Vec<u8>,
    pub bytes_read: u64,
    /// Set when the body could only partly be decompressed (truncated or corrupt gzip, or over
    /// the size cap); `bytes` then holds what was recovered.
    pub error: Option<String>,
}

/// Decompresses `raw` if it is gzip (by magic number, whatever its name), stopping at `cap`
/// decompressed bytes. Every multi-member stream is read (CloudWatch Logs via Firehose
/// concatenates members). Never fails: a broken stream keeps what was recovered.
pub fn decompress(raw: Vec<u8>, cap: u64) -> Loaded {
    let bytes_read = raw.len() as u64;
    if raw.len() < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
        if bytes_read > cap {
            return Loaded {
                bytes: Vec::new(),
                bytes_read,
                error: Some(format!(
                    "input is {bytes_read} bytes, over the {cap}-byte cap"
                )),
            };
        }
        return Loaded {
            bytes: raw,
            bytes_read,
            error: None,
        };
    }
    // Sizing from the gzip trailer saves reallocations; it is only a hint (mod 2^32, and
    // wrong for multi-member streams), so it is clamped to the cap.
    let hint = raw
        .get(raw.len().saturating_sub(4)..)
        .and_then(|t| t.try_into().ok())
        .map(u32::from_le_bytes)
        .map_or(0, |n| u64::from(n).min(cap).min(1 << 30));
    let mut out = Vec::with_capacity(hint as usize);
    let decoder = flate2::read::MultiGzDecoder::new(&raw[..]);
    let mut limited = decoder.take(cap + 1);
    let error = match limited.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > cap => {
            out.truncate(cap as usize);
            Some(format!(
                "decompressed size exceeds the {cap}-byte cap (possible gzip bomb)"
            ))
        }
        Ok(_) => None,
        Err(e) => Some(format!(
            "gzip stream broken after {} decompressed bytes: {e}",
            out.len()
        )),
    };
    Loaded {
        bytes: out,
        bytes_read,
        error,
    }
}

fn read_input(input: &Input) -> std::io::Result<Vec<u8>> {
    match input {
        Input::File(p) => std::fs::read(p),
        Input::Stdin => {
            let mut v = Vec::new();
            std::io::stdin().lock().read_to_end(&mut v)?;
            Ok(v)
        }
    }
}

/// Per-input counters that are not in the batch itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileStats {
    pub bytes_read: u64,
    pub bytes_decompressed: u64,
    pub skipped_by_date: bool,
    pub unreadable: bool,
    /// Events dropped by `--since/--until` (counted, never silent).
    pub filtered: u64,
}

/// Reads, decompresses, detects and parses one input into a batch. Never panics and never
/// fails: problems become rejects in the batch or flags in the stats.
pub fn load_and_parse(input: &Input, opts: &IngestOptions) -> (Batch, FileStats) {
    let name = input.name();
    let source: Arc<str> = Arc::from(name.as_str());
    let mut batch = Batch::default();
    let mut stats = FileStats::default();
    if let (Some(day), Input::File(_)) = (key_layout_day(&name), input) {
        // One day of margin: objects hold records delivered late from the previous day.
        let before = opts
            .since_ms
            .is_some_and(|s| day + 1 < detector_core::time::day_of_ms(s));
        let after = opts
            .until_ms
            .is_some_and(|u| day - 1 > detector_core::time::day_of_ms(u));
        if before || after {
            stats.skipped_by_date = true;
            return (batch, stats);
        }
    }
    if let Input::File(p) = input {
        batch.fallback_time_ms = std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64);
    }
    let raw = match read_input(input) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(source = %name, error = %e, "cannot read input");
            stats.unreadable = true;
            return (batch, stats);
        }
    };
    let loaded = decompress(raw, opts.max_decompressed_bytes);
    stats.bytes_read = loaded.bytes_read;
    stats.bytes_decompressed = loaded.bytes.len() as u64;
    let format = opts.format.or_else(|| {
        let head = &loaded.bytes[..loaded.bytes.len().min(4096)];
        parse::detect(&name, head)
    });
    match format {
        Some(f) => parse::parse(f, &source, &loaded.bytes, &mut batch),
        None if loaded.bytes.iter().all(u8::is_ascii_whitespace) && loaded.error.is_none() => {}
        None => {
            let head = &loaded.bytes[..loaded.bytes.len().min(512)];
            batch.push_reject(Reject::new(
                &source,
                0,
                "unrecognised format: not CloudTrail JSON, a VPC flow log or an S3 access log \
                 (use --format to force one)",
                head,
            ));
        }
    }
    if let Some(err) = loaded.error {
        let at = batch.records;
        batch.push_reject(Reject::new(&source, at, err, &[]));
    }
    if opts.since_ms.is_some() || opts.until_ms.is_some() {
        let before = batch.events.len();
        batch.events.retain(|e| {
            opts.since_ms.is_none_or(|s| e.time_ms >= s)
                && opts.until_ms.is_none_or(|u| e.time_ms < u)
        });
        stats.filtered = (before - batch.events.len()) as u64;
    }
    (batch, stats)
}

struct Progress {
    bar: Option<indicatif::ProgressBar>,
    bytes: AtomicU64,
    events: AtomicU64,
    start: Instant,
}

impl Progress {
    fn new(enabled: bool, files: u64) -> Self {
        use std::io::IsTerminal;
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(files);
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            bytes: AtomicU64::new(0),
            events: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    fn file_done(&self, bytes: u64, events: u64) {
        let b = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let e = self.events.fetch_add(events, Ordering::Relaxed) + events;
        if let Some(bar) = &self.bar {
            let secs = self.start.elapsed().as_secs_f64().max(1e-3);
            bar.inc(1);
            bar.set_message(format!(
                "{}  {e} events  {:.0} events/s",
                human_bytes(b),
                e as f64 / secs
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Reads every input, parsing files in parallel. `map` runs on worker threads (put the
/// CPU-heavy per-file work there); `sink` receives results one at a time in input order.
pub fn ingest_ordered<T: Send>(
    paths: &[String],
    opts: &IngestOptions,
    map: impl Fn(&Input, Batch) -> T + Sync,
    mut sink: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<IngestSummary> {
    let start = Instant::now();
    let (mut inputs, errors) = expand(paths);
    if opts.time_order {
        inputs.sort_by_cached_key(|i| {
            let name = i.name();
            (key_layout_time_ms(&name).unwrap_or(i64::MIN), name)
        });
    }
    let mut summary = IngestSummary::default();
    for (path, reason) in &errors {
        eprintln!("warning: cannot read {path}: {reason}");
    }
    summary.unreadable = errors.len() as u64;
    if inputs.is_empty() {
        bail!("no input could be read from {}", paths.join(", "));
    }
    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(n) = opts.threads {
            b = b.num_threads(n.max(1));
        }
        b.build().context("starting worker threads")?
    };
    let progress = Progress::new(opts.progress, inputs.len() as u64);
    // Enough files per chunk to keep every core busy while bounding memory to a few files.
    let chunk = pool.current_num_threads() * 4;
    for group in inputs.chunks(chunk) {
        let results: Vec<(T, FileStats, u64, u64, u64, u64, u64)> = pool.install(|| {
            group
                .par_iter()
                .map(|input| {
                    let (batch, stats) = load_and_parse(input, opts);
                    let counts = (
                        batch.records,
                        batch.events.len() as u64,
                        batch.rejects.len() as u64,
                        batch.digests,
                        stats.filtered,
                    );
                    progress.file_done(stats.bytes_read, counts.1);
                    let out = map(input, batch);
                    (out, stats, counts.0, counts.1, counts.2, counts.3, counts.4)
                })
                .collect()
        });
        for (out, stats, records, events, rejected, digests, filtered) in results {
            if stats.skipped_by_date {
                summary.files_skipped_by_date += 1;
            } else if stats.unreadable {
                summary.unreadable += 1;
            } else {
                summary.files_read += 1;
            }
            summary.records += records;
            summary.events += events;
            summary.rejected += rejected;
            summary.digests_skipped += digests;
            summary.filtered += filtered;
            summary.bytes_read += stats.bytes_read;
            summary.bytes_decompressed += stats.bytes_decompressed;
            sink(out)?;
        }
    }
    progress.finish();
    summary.elapsed_secs = start.elapsed().as_secs_f64();
    if summary.files_read == 0 && summary.files_skipped_by_date == 0 {
        bail!("no input could be read ({} unreadable)", summary.unreadable);
    }
    Ok(summary)
}

/// Reads every input and calls `on_batch` once per input file, possibly from several threads
/// at once, with that file's events and rejects.
#[allow(dead_code)]
pub fn ingest(
    paths: &[String],
    opts: &IngestOptions,
    on_batch: &(dyn Fn(&str, Batch) + Sync),
) -> anyhow::Result<IngestSummary> {
    ingest_ordered(
        paths,
        opts,
        |input, batch| on_batch(&input.name(), batch),
        |()| Ok(()),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_layout_dates() {
        let d = detector_core::time::days_from_civil(2024, 3, 5);
        assert_eq!(
            key_layout_day(
                "AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/03/05/x_CloudTrail.json.gz"
            ),
            Some(d)
        );
        assert_eq!(
            key_layout_day("logs/2024-03-05-10-11-12-ABCDEF0123456789"),
            Some(d)
        );
        assert_eq!(key_layout_day("some/file.json"), None);
        let t = key_layout_time_ms(
            "AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/2024/03/05/111122223333_CloudTrail_us-east-1_20240305T1015Z_abcdefghijklmnop.json.gz",
        );
        assert_eq!(t, Some(d * 86_400_000 + (10 * 3600 + 15 * 60) * 1000));
        assert_eq!(
            key_layout_time_ms("logs/2024-03-05-10-11-12-ABCDEF0123456789"),
            Some(d * 86_400_000 + (10 * 3600 + 11 * 60 + 12) * 1000)
        );
        assert_eq!(
            key_layout_time_ms("x/2024/03/05/file.log"),
            Some(d * 86_400_000)
        );
    }

    #[test]
    fn decompress_plain_gzip_truncated_and_bomb() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![b'a'; 100_000]).unwrap();
        let gz = enc.finish().unwrap();

        let ok = decompress(gz.clone(), 1 << 20);
        assert_eq!(ok.bytes.len(), 100_000);
        assert!(ok.error.is_none());

        let plain = decompress(b"hello".to_vec(), 1 << 20);
        assert_eq!(plain.bytes, b"hello");

        let cut = decompress(gz[..gz.len() / 2].to_vec(), 1 << 20);
        assert!(cut.error.as_deref().unwrap().contains("gzip stream broken"));

        let bomb = decompress(gz, 1000);
        assert_eq!(bomb.bytes.len(), 1000);
        assert!(bomb.error.as_deref().unwrap().contains("cap"));
    }

    #[test]
    fn multi_member_gzip_is_read_whole() {
        use std::io::Write;
        let mut all = Vec::new();
        for part in [&b"one\n"[..], b"two\n"] {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(part).unwrap();
            all.extend(enc.finish().unwrap());
        }
        assert_eq!(decompress(all, 1 << 20).bytes, b"one\ntwo\n");
    }
}
