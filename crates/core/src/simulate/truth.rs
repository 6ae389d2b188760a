//! Ground truth (`truth.jsonl`) and the run manifest (`manifest.json`).
//!
//! Record uids follow the findings contract with one decision made here: a flow log or S3
//! access log line is recorded as `<relative key>#<line>`, the key relative to the output
//! directory. A detector reports `<source>#<line>` with the path as the user passed it
//! (`out/AWSLogs/...`, `/abs/out/AWSLogs/...`, `s3://bucket/prefix/AWSLogs/...`), so the
//! evaluator matches a finding uid that equals the truth uid or ends with `/` + truth uid.
//! CloudTrail records are identified by their `eventID` as usual.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Entities a finding may name to be credited with a scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicators {
    #[serde(default)]
    pub ips: BTreeSet<String>,
    /// Principal ARNs (IAM users, roles, assumed-role sessions, root).
    #[serde(default)]
    pub principals: BTreeSet<String>,
    #[serde(default)]
    pub access_keys: BTreeSet<String>,
    /// Resource ARNs or ids (buckets, snapshots, keys, trails, ENIs, instances).
    #[serde(default)]
    pub resources: BTreeSet<String>,
    /// Accounts outside the organization involved (the attacker's). Org accounts are not
    /// listed: they would match every finding in that account.
    #[serde(default)]
    pub accounts: BTreeSet<String>,
}

impl Indicators {
    /// Every indicator value, for matching against finding observables.
    pub fn values(&self) -> impl Iterator<Item = &String> {
        self.ips
            .iter()
            .chain(&self.principals)
            .chain(&self.access_keys)
            .chain(&self.resources)
            .chain(&self.accounts)
    }
}

/// One labelled scenario as written to `truth.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthLine {
    pub name: String,
    /// `malicious` or `benign`.
    pub label: String,
    #[serde(default)]
    pub description: String,
    /// MITRE ATT&CK technique ids (`T1078.004`).
    #[serde(default)]
    pub attack_ids: Vec<String>,
    /// ATT&CK tactic short names (`initial-access`).
    #[serde(default)]
    pub tactics: Vec<String>,
    pub start: String,
    pub end: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// CloudTrail `eventID`s and `<relative key>#<line>` for flow / S3 access log lines.
    #[serde(default)]
    pub record_uids: Vec<String>,
    #[serde(default)]
    pub indicators: Indicators,
}

impl TruthLine {
    pub fn is_malicious(&self) -> bool {
        self.label == "malicious"
    }
}

/// Files, records and bytes of one kind of output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCount {
    pub files: u64,
    pub records: u64,
    /// Uncompressed bytes.
    pub bytes: u64,
}

/// Output totals per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub cloudtrail: KindCount,
    pub cloudtrail_digest: KindCount,
    pub vpcflow: KindCount,
    pub s3access: KindCount,
}

impl Counts {
    pub fn total(&self) -> KindCount {
        let all = [
            self.cloudtrail,
            self.cloudtrail_digest,
            self.vpcflow,
            self.s3access,
        ];
        KindCount {
            files: all.iter().map(|k| k.files).sum(),
            records: all.iter().map(|k| k.records).sum(),
            bytes: all.iter().map(|k| k.bytes).sum(),
        }
    }

    /// Log records (digests are not events).
    pub fn events(&self) -> u64 {
        self.cloudtrail.records + self.vpcflow.records + self.s3access.records
    }
}

/// A scenario as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestScenario {
    pub name: String,
    pub label: String,
    pub start: String,
    pub records: usize,
}

/// `manifest.json`: how the corpus was made and what is in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub seed: u64,
    pub start: String,
    pub days: u32,
    pub accounts: u32,
    pub scale: f64,
    pub org_id: String,
    pub account_ids: Vec<String>,
    pub counts: Counts,
    /// Log records that belong to no malicious scenario: the denominator of false alerts per
    /// 100,000 background events.
    pub background_events: u64,
    /// What the IP enrichment files beside the logs describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<String>,
    pub scenarios: Vec<ManifestScenario>,
}
