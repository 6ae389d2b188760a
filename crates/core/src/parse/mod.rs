//! Parsers for the three AWS log kinds, and format detection.
//!
//! Contract shared by every parser: bytes (already decompressed) plus the source name go in;
//! events and rejects are pushed into a [`Batch`]. A bad record becomes a [`Reject`] with its
//! position and reason and the rest of the input goes on. Every record read is counted in
//! `Batch::records`, so `records == events.len() + rejects.len()` always holds (checked by
//! property tests).

pub mod cloudtrail;
pub mod s3access;
pub mod vpcflow;

use std::sync::Arc;

use crate::event::{Event, Reject};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// CloudTrail records in any of the shapes AWS delivers them (see [`cloudtrail`]).
    CloudTrail,
    /// A CloudTrail digest file: recognised and counted, never parsed into events.
    CloudTrailDigest,
    VpcFlow,
    S3Access,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::CloudTrail => "cloudtrail",
            Format::CloudTrailDigest => "cloudtrail-digest",
            Format::VpcFlow => "vpcflow",
            Format::S3Access => "s3access",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cloudtrail" | "ct" => Ok(Format::CloudTrail),
            "cloudtrail-digest" | "digest" => Ok(Format::CloudTrailDigest),
            "vpcflow" | "flow" | "vpc-flow" => Ok(Format::VpcFlow),
            "s3access" | "s3" | "s3-access" => Ok(Format::S3Access),
            other => Err(format!(
                "unknown format `{other}` (expected cloudtrail, vpcflow or s3access)"
            )),
        }
    }
}

/// Output of parsing one input unit (a file, an S3 object, a message body).
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<Event>,
    pub rejects: Vec<Reject>,
    /// Records read: every one of them is either in `events` or in `rejects`.
    pub records: u64,
    /// CloudTrail digest files recognised and skipped.
    pub digests: u64,
    /// Time (ms) for records whose format carries none and whose object name carries no
    /// delivery time (custom flow log formats without `start`/`end`); the IO side sets it to
    /// the file's modification time. Records are rejected when neither is known.
    pub fallback_time_ms: Option<i64>,
}

impl Batch {
    pub fn push_event(&mut self, e: Event) {
        self.records += 1;
        self.events.push(e);
    }

    pub fn push_reject(&mut self, r: Reject) {
        self.records += 1;
        self.rejects.push(r);
    }

    /// Moves everything from `other` into `self`.
    pub fn append(&mut self, other: &mut Batch) {
        self.records += other.records;
        self.digests += other.digests;
        self.events.append(&mut other.events);
        self.rejects.append(&mut other.rejects);
        other.records = 0;
        other.digests = 0;
    }
}

/// Detects the format of an input from its name (S3 key layout or file path) and its first
/// bytes (already decompressed). Content wins over the name when they disagree, except for
/// digest files, which AWS only marks by key layout.
pub fn detect(name: &str, head: &[u8]) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    if lower.contains("cloudtrail-digest") {
        return Some(Format::CloudTrailDigest);
    }
    let text = trim_start(head);
    if text.first() == Some(&b'{') || text.first() == Some(&b'[') {
        if memchr::memmem::find(text, b"\"digestPublicKeyFingerprint\"").is_some()
            || memchr::memmem::find(text, b"\"previousDigestSignature\"").is_some()
        {
            return Some(Format::CloudTrailDigest);
        }
        // Flow logs delivered through a CloudWatch Logs subscription are JSON too; the
        // CloudTrail parser recognises that envelope and hands flow lines to the flow parser.
        return Some(Format::CloudTrail);
    }
    let first_line = match memchr::memchr(b'\n', text) {
        Some(i) => &text[..i],
        None => text,
    };
    if vpcflow::looks_like(first_line) {
        return Some(Format::VpcFlow);
    }
    if s3access::looks_like(first_line) {
        return Some(Format::S3Access);
    }
    // Fall back to the key layout when the content says nothing (e.g. an empty file).
    if lower.contains("/cloudtrail/") {
        Some(Format::CloudTrail)
    } else if lower.contains("vpcflowlogs") || lower.contains("vpc-flow") {
        Some(Format::VpcFlow)
    } else {
        None
    }
}

/// The non-blank lines of a line-oriented log, with their 1-based line numbers (blank lines
/// still count, so numbers match the decompressed file). Strips a UTF-8 BOM and CR before LF.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut n: u64 = 0;
    body.split(|b| *b == b'\n')
        .filter(|_| !bytes.is_empty())
        .filter_map(move |line| {
            n += 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (!line.iter().all(u8::is_ascii_whitespace)).then_some((n, line))
        })
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

/// Parses a whole decompressed input of a known format into `out`.
pub fn parse(format: Format, source: &Arc<str>, bytes: &[u8], out: &mut Batch) {
    match format {
        Format::CloudTrail => cloudtrail::parse(source, bytes, out),
        Format::CloudTrailDigest => out.digests += 1,
        Format::VpcFlow => vpcflow::parse(source, bytes, out),
        Format::S3Access => s3access::parse(source, bytes, out),
    }
}
