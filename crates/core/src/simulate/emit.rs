//! Turning generated records into delivered files: CloudTrail objects per account, region and
//! five-minute window (slightly out of order, some records late), hourly digest files, flow log
//! files per flow log and five-minute window, and S3 server access log objects.
//!
//! One [`ChunkBuf`] holds the records of one chunk (one account, a block of hours) and is the
//! only place file names and line numbers are decided, so ground-truth uids (`<key>#<line>`)
//! are exact.

use std::collections::BTreeMap;

use super::clock::{self, HOUR, MINUTE};
use super::flow::{self, FlowRec};
use super::json::Obj;
use super::rng::{RngExt, SimRng, derive, rng_for, tag};
use super::{ChunkReport, FileKind, OutFile, Simulation, Tagged};

/// Scenario index a record belongs to, if any.
pub(crate) type Tag = Option<u16>;

/// Where generators put records. Implemented by the chunk buffer (background) and by the
/// scenario planner (injections into whichever chunk owns them).
pub(crate) trait Out {
    fn ct(
        &mut self,
        account: usize,
        region: &'static str,
        time_ms: i64,
        event_id: String,
        json: &[u8],
        tag: Tag,
    );
    fn flow(&mut self, rec: FlowRec, tag: Tag);
    fn s3(&mut self, bucket: usize, time_ms: i64, line: &[u8], tag: Tag);
}

/// Files are delivered every five minutes per account and region (CloudTrail) or flow log.
pub(crate) const WINDOW: i64 = 5 * MINUTE;
/// S3 server access log objects cover about ten minutes each.
const S3_SLOT: i64 = 10 * MINUTE;
/// Upper bound of a late record's delay past its natural window.
pub const MAX_LATENESS_MS: i64 = 15 * MINUTE;
/// Share of CloudTrail records delivered late.
const LATE_SHARE: f64 = 0.03;

struct CtItem {
    region: &'static str,
    window: u32,
    sort_key: i64,
    time_ms: i64,
    start: usize,
    len: usize,
    tag: Tag,
    event_id: Option<String>,
}

struct S3Item {
    bucket: usize,
    time_ms: i64,
    start: usize,
    len: usize,
    tag: Tag,
}

pub(crate) struct ChunkBuf {
    account: usize,
    start_ms: i64,
    end_ms: i64,
    windows: u32,
    late: SimRng,
    arena: Vec<u8>,
    ct: Vec<CtItem>,
    flows: Vec<(FlowRec, Tag)>,
    s3: Vec<S3Item>,
}

impl ChunkBuf {
    pub(crate) fn new(seed: u64, account: usize, start_ms: i64, end_ms: i64) -> Self {
        ChunkBuf {
            account,
            start_ms,
            end_ms,
            windows: ((end_ms - start_ms) / WINDOW).max(1) as u32,
            late: rng_for(seed, &[tag("lateness"), account as u64, start_ms as u64]),
            arena: Vec::with_capacity(1 << 20),
            ct: Vec::new(),
            flows: Vec::new(),
            s3: Vec::new(),
        }
    }
}

impl Out for ChunkBuf {
    fn ct(
        &mut self,
        account: usize,
        region: &'static str,
        time_ms: i64,
        event_id: String,
        json: &[u8],
        tag: Tag,
    ) {
        if account != self.account || time_ms < self.start_ms || time_ms >= self.end_ms {
            return;
        }
        let delay = if self.late.chance(LATE_SHARE) {
            self.late.between(MINUTE, MAX_LATENESS_MS)
        } else {
            0
        };
        let window = ((time_ms + delay - self.start_ms) / WINDOW)
            .clamp(0, i64::from(self.windows) - 1) as u32;
        let jitter = self.late.between(-20_000, 20_000);
        let start = self.arena.len();
        self.arena.extend_from_slice(json);
        self.ct.push(CtItem {
            region,
            window,
            sort_key: time_ms + jitter,
            time_ms,
            start,
            len: json.len(),
            tag,
            event_id: tag.map(|_| event_id),
        });
    }

    fn flow(&mut self, rec: FlowRec, tag: Tag) {
        let t = rec.time_ms();
        if t >= self.start_ms && t < self.end_ms {
            self.flows.push((rec, tag));
        }
    }

    fn s3(&mut self, bucket: usize, time_ms: i64, line: &[u8], tag: Tag) {
        if time_ms < self.start_ms || time_ms >= self.end_ms {
            return;
        }
        let start = self.arena.len();
        self.arena.extend_from_slice(line);
        self.s3.push(S3Item {
            bucket,
            time_ms,
            start,
            len: line.len(),
            tag,
        });
    }
}

/// A delivered CloudTrail log file, as digests list it.
struct LogFile {
    key: String,
    oldest: i64,
    newest: i64,
}

impl ChunkBuf {
    /// Assembles and hands over every file of the chunk; returns what was produced.
    pub(crate) fn finish<E>(
        mut self,
        sim: &Simulation,
        sink: &mut dyn FnMut(OutFile) -> Result<(), E>,
    ) -> Result<ChunkReport, E> {
        let mut report = ChunkReport::default();
        let mut names = rng_for(
            sim.cfg.seed,
            &[tag("names"), self.account as u64, self.start_ms as u64],
        );
        let log_files = self.cloudtrail_files(sim, &mut names, &mut report, sink)?;
        self.digests(sim, &log_files, &mut report, sink)?;
        self.flow_files(sim, &mut names, &mut report, sink)?;
        self.s3_files(sim, &mut names, &mut report, sink)?;
        Ok(report)
    }

    fn cloudtrail_files<E>(
        &mut self,
        sim: &Simulation,
        names: &mut SimRng,
        report: &mut ChunkReport,
        sink: &mut dyn FnMut(OutFile) -> Result<(), E>,
    ) -> Result<BTreeMap<(&'static str, i64), Vec<LogFile>>, E> {
        let org = &sim.org;
        let acct = org.account_id(self.account).to_string();
        self.ct.sort_by(|a, b| {
            (a.window, a.region, a.sort_key).cmp(&(b.window, b.region, b.sort_key))
        });
        let mut by_hour: BTreeMap<(&'static str, i64), Vec<LogFile>> = BTreeMap::new();
        let mut i = 0;
        while i < self.ct.len() {
            let (window, region) = (self.ct[i].window, self.ct[i].region);
            let mut j = i;
            while j < self.ct.len() && self.ct[j].window == window && self.ct[j].region == region {
                j += 1;
            }
            let group = &self.ct[i..j];
            let delivered = self.start_ms + (i64::from(window) + 1) * WINDOW;
            let key = format!(
                "AWSLogs/{}/{acct}/CloudTrail/{region}/{}/{acct}_CloudTrail_{region}_{}_{}.json.gz",
                org.org_id,
                clock::date_path(delivered),
                clock::compact_minute(delivered),
                names.alnum(16)
            );
            let size: usize = group.iter().map(|c| c.len + 1).sum();
            let mut bytes = Vec::with_capacity(size + 16);
            bytes.extend_from_slice(b"{\"Records\":[");
            let (mut oldest, mut newest) = (i64::MAX, i64::MIN);
            for (n, item) in group.iter().enumerate() {
                if n > 0 {
                    bytes.push(b',');
                }
                bytes.extend_from_slice(&self.arena[item.start..item.start + item.len]);
                oldest = oldest.min(item.time_ms);
                newest = newest.max(item.time_ms);
                if let (Some(t), Some(id)) = (item.tag, &item.event_id) {
                    report.tagged.push(Tagged {
                        scenario: t,
                        time_ms: item.time_ms,
                        uid: id.clone(),
                    });
                }
            }
            bytes.extend_from_slice(b"]}");
            // Digests cover the hour in which a file was delivered: (H, H+1h].
            let hour = (delivered - 1).div_euclid(HOUR) * HOUR;
            by_hour.entry((region, hour)).or_default().push(LogFile {
                key: key.clone(),
                oldest,
                newest,
            });
            report.add(FileKind::CloudTrail, group.len() as u64, bytes.len() as u64);
            sink(OutFile {
                key,
                bytes,
                compress: true,
                kind: FileKind::CloudTrail,
                records: group.len() as u64,
            })?;
            i = j;
        }
        Ok(by_hour)
    }

    /// Hourly digest files for every region with regular activity or with files this hour. The
    /// chain (`previousDigest*`) is computable without the previous chunk because digest names
    /// and hashes are derived from the seed.
    fn digests<E>(
        &self,
        sim: &Simulation,
        log_files: &BTreeMap<(&'static str, i64), Vec<LogFile>>,
        report: &mut ChunkReport,
        sink: &mut dyn FnMut(OutFile) -> Result<(), E>,
    ) -> Result<(), E> {
        let org = &sim.org;
        let mut regions: Vec<&'static str> = org.accounts[self.account].regions.clone();
        for (region, _) in log_files.keys() {
            if !regions.contains(region) {
                regions.push(region);
            }
        }
        regions.sort_unstable();
        let sim_start = sim.start_ms();
        let mut hour = self.start_ms;
        while hour < self.end_ms {
            for region in &regions {
                let files = log_files.get(&(*region, hour));
                let is_regular = org.accounts[self.account].regions.contains(region);
                if files.is_none() && !is_regular {
                    continue;
                }
                let empty = Vec::new();
                let files = files.unwrap_or(&empty);
                let bytes = self.digest_json(sim, region, hour, sim_start, files);
                let key = digest_key(sim, self.account, region, hour);
                report.add(FileKind::CloudTrailDigest, 1, bytes.len() as u64);
                sink(OutFile {
                    key,
                    bytes,
                    compress: true,
                    kind: FileKind::CloudTrailDigest,
                    records: 1,
                })?;
            }
            hour += HOUR;
        }
        Ok(())
    }

    fn digest_json(
        &self,
        sim: &Simulation,
        region: &str,
        hour: i64,
        sim_start: i64,
        files: &[LogFile],
    ) -> Vec<u8> {
        let org = &sim.org;
        let seed = sim.cfg.seed;
        let mut r = rng_for(
            seed,
            &[tag("digest"), self.account as u64, tag(region), hour as u64],
        );
        let mut out = Vec::with_capacity(1024 + files.len() * 300);
        let oldest = files.iter().map(|f| f.oldest).min();
        let newest = files.iter().map(|f| f.newest).max();
        let key = digest_key(sim, self.account, region, hour);
        Obj::write(&mut out, |o| {
            o.str("awsAccountId", org.account_id(self.account))
                .time("digestStartTime", hour)
                .time("digestEndTime", hour + HOUR)
                .str("digestS3Bucket", &org.trail_bucket)
                .str("digestS3Object", &key);
            match newest {
                Some(t) => o.time("newestEventTime", t),
                None => o.null("newestEventTime"),
            };
            match oldest {
                Some(t) => o.time("oldestEventTime", t),
                None => o.null("oldestEventTime"),
            };
            if hour > sim_start {
                let prev = digest_key(sim, self.account, region, hour - HOUR);
                let mut pr = rng_for(seed, &[tag("digest-hash"), tag(&prev)]);
                o.str("previousDigestS3Bucket", &org.trail_bucket)
                    .str("previousDigestS3Object", &prev)
                    .str("previousDigestHashValue", &pr.hex(64))
                    .str("previousDigestHashAlgorithm", "SHA-256")
                    .str("previousDigestSignature", &pr.hex(512));
            } else {
                o.null("previousDigestS3Bucket")
                    .null("previousDigestS3Object")
                    .null("previousDigestHashValue")
                    .null("previousDigestHashAlgorithm")
                    .null("previousDigestSignature");
            }
            o.str(
                "digestPublicKeyFingerprint",
                &format!(
                    "{:032x}",
                    derive(seed, &[tag("fingerprint")]) as u128 * 0x1_0000_0001
                ),
            )
            .str("digestSignatureAlgorithm", "SHA256withRSA");
            o.arr("logFiles", |a| {
                for f in files {
                    a.obj(|l| {
                        l.str("s3Bucket", &org.trail_bucket)
                            .str("s3Object", &f.key)
                            .str("hashValue", &r.hex(64))
                            .str("hashAlgorithm", "SHA-256")
                            .time("newestEventTime", f.newest)
                            .time("oldestEventTime", f.oldest);
                    });
                }
            });
        });
        out
    }

    fn flow_files<E>(
        &mut self,
        sim: &Simulation,
        names: &mut SimRng,
        report: &mut ChunkReport,
        sink: &mut dyn FnMut(OutFile) -> Result<(), E>,
    ) -> Result<(), E> {
        let org = &sim.org;
        let start = self.start_ms;
        let windows = i64::from(self.windows);
        let window_of = |r: &FlowRec| ((r.time_ms() - start) / WINDOW).clamp(0, windows - 1);
        let mut flows = std::mem::take(&mut self.flows);
        flows.sort_by(|(a, _), (b, _)| {
            let (va, vb) = (org.enis[a.eni].vpc, org.enis[b.eni].vpc);
            (va, window_of(a), a.start, a.eni).cmp(&(vb, window_of(b), b.start, b.eni))
        });
        let mut i = 0;
        let mut line = String::with_capacity(256);
        while i < flows.len() {
            let vpc_idx = org.enis[flows[i].0.eni].vpc;
            let w = window_of(&flows[i].0);
            let mut j = i;
            while j < flows.len()
                && org.enis[flows[j].0.eni].vpc == vpc_idx
                && window_of(&flows[j].0) == w
            {
                j += 1;
            }
            let vpc = &org.vpcs[vpc_idx];
            let acct = org.account_id(vpc.account);
            let delivered = start + (w + 1) * WINDOW;
            let key = format!(
                "AWSLogs/{acct}/vpcflowlogs/{region}/{}/{acct}_vpcflowlogs_{region}_{}_{}_{}.log.gz",
                clock::date_path(delivered),
                vpc.flow_log,
                clock::compact_minute(delivered),
                names.hex(8),
                region = vpc.region,
            );
            let mut bytes = Vec::with_capacity((j - i) * 140 + 300);
            bytes.extend_from_slice(
                if vpc.custom_format {
                    flow::CUSTOM_HEADER
                } else {
                    flow::DEFAULT_HEADER
                }
                .as_bytes(),
            );
            bytes.push(b'\n');
            for (n, (rec, t)) in flows[i..j].iter().enumerate() {
                line.clear();
                rec.render(org, &mut line);
                bytes.extend_from_slice(line.as_bytes());
                bytes.push(b'\n');
                if let Some(t) = t {
                    // Line 1 is the header.
                    report.tagged.push(Tagged {
                        scenario: *t,
                        time_ms: rec.time_ms(),
                        uid: format!("{key}#{}", n + 2),
                    });
                }
            }
            report.add(FileKind::VpcFlow, (j - i) as u64, bytes.len() as u64);
            sink(OutFile {
                key,
                bytes,
                compress: true,
                kind: FileKind::VpcFlow,
                records: (j - i) as u64,
            })?;
            i = j;
        }
        Ok(())
    }

    fn s3_files<E>(
        &mut self,
        sim: &Simulation,
        names: &mut SimRng,
        report: &mut ChunkReport,
        sink: &mut dyn FnMut(OutFile) -> Result<(), E>,
    ) -> Result<(), E> {
        let org = &sim.org;
        let start = self.start_ms;
        self.s3.sort_by(|a, b| {
            let (sa, sb) = ((a.time_ms - start) / S3_SLOT, (b.time_ms - start) / S3_SLOT);
            (a.bucket, sa, a.time_ms).cmp(&(b.bucket, sb, b.time_ms))
        });
        let mut i = 0;
        while i < self.s3.len() {
            let bucket = self.s3[i].bucket;
            let slot = (self.s3[i].time_ms - start) / S3_SLOT;
            let mut j = i;
            while j < self.s3.len()
                && self.s3[j].bucket == bucket
                && (self.s3[j].time_ms - start) / S3_SLOT == slot
            {
                j += 1;
            }
            // S3 delivers access logs on a best-effort basis, minutes after the requests.
            let delivered = start + (slot + 1) * S3_SLOT + names.between(30_000, 9 * MINUTE);
            let key = format!(
                "s3-access-logs/{}/{}-{}",
                org.buckets[bucket].name,
                clock::s3_key_time(delivered),
                names.hex(16).to_ascii_uppercase()
            );
            let mut bytes = Vec::with_capacity((j - i) * 400);
            for (n, item) in self.s3[i..j].iter().enumerate() {
                bytes.extend_from_slice(&self.arena[item.start..item.start + item.len]);
                bytes.push(b'\n');
                if let Some(t) = item.tag {
                    report.tagged.push(Tagged {
                        scenario: t,
                        time_ms: item.time_ms,
                        uid: format!("{key}#{}", n + 1),
                    });
                }
            }
            report.add(FileKind::S3Access, (j - i) as u64, bytes.len() as u64);
            sink(OutFile {
                key,
                bytes,
                compress: false,
                kind: FileKind::S3Access,
                records: (j - i) as u64,
            })?;
            i = j;
        }
        Ok(())
    }
}

/// Digest object key for the hour starting at `hour`.
fn digest_key(sim: &Simulation, account: usize, region: &str, hour: i64) -> String {
    let org = &sim.org;
    let acct = org.account_id(account);
    let secs = derive(
        sim.cfg.seed,
        &[
            tag("digest-delay"),
            account as u64,
            tag(region),
            hour as u64,
        ],
    ) % 50
        + 5;
    let delivered = hour + HOUR + (secs as i64) * 1000;
    format!(
        "AWSLogs/{}/{acct}/CloudTrail-Digest/{region}/{}/{acct}_CloudTrail-Digest_{region}_{}_{region}_{}.json.gz",
        org.org_id,
        clock::date_path(delivered),
        org.trail_name,
        clock::compact_second(delivered)
    )
}
