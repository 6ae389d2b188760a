//! Findings: what a detector says, with the evidence, and its OCSF Detection Finding form
//! (class 2004, schema 1.6.0) as `../shared/contracts/findings.md` fixes it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Most related event uids kept on one finding; the true count is kept beside them.
pub const RELATED_CAP: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    Informational = 1,
    Low = 2,
    Medium = 3,
    High = 4,
    Critical = 5,
}

impl Severity {
    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            Severity::Informational => "Informational",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    pub fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            1 => Severity::Informational,
            2 => Severity::Low,
            3 => Severity::Medium,
            4 => Severity::High,
            5 => Severity::Critical,
            _ => return None,
        })
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "informational" | "info" => Ok(Severity::Informational),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity `{s}` (informational, low, medium, high, critical)"
            )),
        }
    }
}

/// Risk score boundaries (inclusive lower bounds) for Low, Medium, High and Critical.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityThresholds {
    pub low: u8,
    pub medium: u8,
    pub high: u8,
    pub critical: u8,
}

impl Default for SeverityThresholds {
    fn default() -> Self {
        SeverityThresholds {
            low: 20,
            medium: 40,
            high: 65,
            critical: 85,
        }
    }
}

impl SeverityThresholds {
    pub fn severity(&self, risk: u8) -> Severity {
        if risk >= self.critical {
            Severity::Critical
        } else if risk >= self.high {
            Severity::High
        } else if risk >= self.medium {
            Severity::Medium
        } else if risk >= self.low {
            Severity::Low
        } else {
            Severity::Informational
        }
    }
}

/// OCSF analytic type of the detector that produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnalyticType {
    Rule = 1,
    Behavioral = 2,
    Statistical = 3,
    Learning = 4,
}

impl AnalyticType {
    pub fn name(self) -> &'static str {
        match self {
            AnalyticType::Rule => "Rule",
            AnalyticType::Behavioral => "Behavioral",
            AnalyticType::Statistical => "Statistical",
            AnalyticType::Learning => "Learning (ML/DL)",
        }
    }
}

/// A MITRE ATT&CK technique with its tactic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attack {
    pub tactic_uid: &'static str,
    pub tactic: &'static str,
    pub technique_uid: &'static str,
    pub technique: &'static str,
}

impl Attack {
    fn to_ocsf(self) -> Value {
        // Sub-techniques are written `T1078.004`; OCSF carries them in their own object.
        if let Some((parent, _)) = self.technique_uid.split_once('.') {
            json!({
                "tactic": {"uid": self.tactic_uid, "name": self.tactic},
                "technique": {"uid": parent, "name": self.technique},
                "sub_technique": {"uid": self.technique_uid, "name": self.technique},
                "version": "16.1",
            })
        } else {
            json!({
                "tactic": {"uid": self.tactic_uid, "name": self.tactic},
                "technique": {"uid": self.technique_uid, "name": self.technique},
                "version": "16.1",
            })
        }
    }
}

/// OCSF observable type ids used by findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ObservableType {
    IpAddress = 2,
    UserName = 4,
    ResourceUid = 10,
    Port = 11,
    UserAgent = 16,
    AccessKey = 19,
    PrincipalArn = 21,
    Account = 35,
}

impl ObservableType {
    fn name(self) -> &'static str {
        match self {
            ObservableType::IpAddress => "IP Address",
            ObservableType::UserName => "User Name",
            ObservableType::ResourceUid => "Resource UID",
            ObservableType::Port => "Port",
            ObservableType::UserAgent => "HTTP User-Agent",
            ObservableType::AccessKey => "User Credential ID",
            ObservableType::PrincipalArn => "User",
            ObservableType::Account => "Account UID",
        }
    }

    fn field(self) -> &'static str {
        match self {
            ObservableType::IpAddress => "src_endpoint.ip",
            ObservableType::UserName => "actor.user.name",
            ObservableType::ResourceUid => "resources.uid",
            ObservableType::Port => "dst_endpoint.port",
            ObservableType::UserAgent => "http_request.user_agent",
            ObservableType::AccessKey => "actor.user.credential_uid",
            ObservableType::PrincipalArn => "actor.user.uid",
            ObservableType::Account => "cloud.account.uid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Observable {
    pub kind: ObservableType,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Resource {
    pub uid: String,
    pub kind: String,
    pub region: Option<String>,
    pub account: Option<String>,
}

/// One finding. Built by detectors; merged in the store when the same activity repeats.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: the same underlying activity gives the same uid on every re-run.
    pub uid: String,
    pub detector: String,
    pub detector_name: String,
    pub analytic: AnalyticType,
    pub title: String,
    pub desc: String,
    pub remediation: String,
    pub risk_score: u8,
    pub confidence: u8,
    pub severity: Severity,
    /// MITRE ATT&CK technique ids (`T1078.004`), named through [`crate::attack`].
    pub attacks: Vec<String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub related: Vec<String>,
    pub related_count: u64,
    pub observables: Vec<Observable>,
    pub resources: Vec<Resource>,
    pub region: Option<String>,
    pub account: Option<String>,
    /// OCSF `anomaly_analyses[]` content for behavioural and statistical findings.
    pub anomaly: Vec<Value>,
    /// OCSF `enrichments[]`: location and autonomous system of the finding's public addresses,
    /// when IP enrichment data is installed.
    #[serde(default)]
    pub enrichments: Vec<Value>,
    /// How many times the detector raised this same finding (repeats update it).
    pub occurrences: u64,
    /// False once an earlier run stored this finding (OCSF activity Update).
    pub is_new: bool,
    /// Set when a suppression rule or analyst verdict matched (kept, not shown by default).
    pub suppressed: Option<String>,
}

/// A stable 128-bit hash rendered as hex, for finding uids. FNV-1a in two lanes: no
/// dependency, and stable across platforms and releases (unlike `DefaultHasher`).
pub fn stable_id(parts: &[&str]) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for p in parts {
        for &byte in p.as_bytes().iter().chain(std::iter::once(&0x1f)) {
            a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ u64::from(byte))
                .wrapping_mul(0x0000_0100_0000_01b3)
                .rotate_left(5);
        }
    }
    format!("{a:016x}{b:016x}")
}

impl Finding {
    /// Folds a repeat of the same activity into this finding.
    pub fn merge(&mut self, other: Finding) {
        self.first_seen_ms = self.first_seen_ms.min(other.first_seen_ms);
        if other.last_seen_ms >= self.last_seen_ms {
            self.last_seen_ms = other.last_seen_ms;
            self.desc = other.desc;
            self.anomaly = other.anomaly;
        }
        if other.risk_score > self.risk_score {
            self.risk_score = other.risk_score;
            self.severity = other.severity;
            self.confidence = other.confidence;
        }
        for r in other.related {
            if self.related.len() >= RELATED_CAP {
                break;
            }
            if !self.related.contains(&r) {
                self.related.push(r);
            }
        }
        self.related_count += other.related_count;
        for a in other.attacks {
            if !self.attacks.contains(&a) {
                self.attacks.push(a);
            }
        }
        for o in other.observables {
            if !self.observables.contains(&o) {
                self.observables.push(o);
            }
        }
        for r in other.resources {
            if !self.resources.contains(&r) {
                self.resources.push(r);
            }
        }
        for e in other.enrichments {
            if !self.enrichments.contains(&e) {
                self.enrichments.push(e);
            }
        }
        self.occurrences += other.occurrences;
        // Suppression is decided afresh on every scan; the newest decision stands.
        self.suppressed = other.suppressed;
    }

    /// The OCSF Detection Finding object.
    pub fn to_ocsf(&self, product_version: &str) -> Value {
        let activity_id = if self.is_new { 1 } else { 2 };
        let observables: Vec<Value> = self
            .observables
            .iter()
            .map(|o| json!({"name": o.kind.field(), "type": o.kind.name(), "type_id": o.kind as u8, "value": o.value}))
            .collect();
        let resources: Vec<Value> = self
            .resources
            .iter()
            .map(|r| {
                let mut v = json!({"uid": r.uid, "type": r.kind, "cloud_partition": "aws"});
                if let Some(region) = &r.region {
                    v["region"] = json!(region);
                }
                if let Some(acct) = r.account.as_ref().or(self.account.as_ref()) {
                    v["owner"] =
                        json!({"account": {"uid": acct, "type": "AWS Account", "type_id": 10}});
                }
                v
            })
            .collect();
        let related: Vec<Value> = self
            .related
            .iter()
            .take(RELATED_CAP)
            .map(|u| json!({"uid": u}))
            .collect();
        let mut v = json!({
            "class_uid": 2004,
            "class_name": "Detection Finding",
            "category_uid": 2,
            "category_name": "Findings",
            "activity_id": activity_id,
            "activity_name": if self.is_new { "Create" } else { "Update" },
            "type_uid": 200_400 + activity_id,
            "time": self.last_seen_ms,
            "severity_id": self.severity.id(),
            "severity": self.severity.name(),
            "confidence_score": self.confidence,
            "risk_score": self.risk_score,
            "status_id": 1,
            "status": "New",
            "metadata": {
                "version": "1.6.0",
                "product": {
                    "name": "detector",
                    "vendor_name": "detector project",
                    "version": product_version,
                    "uid": "detector",
                },
            },
            "finding_info": {
                "uid": self.uid,
                "title": self.title,
                "desc": self.desc,
                "types": [self.detector],
                "analytic": {
                    "uid": self.detector,
                    "name": self.detector_name,
                    "type_id": self.analytic as u8,
                    "type": self.analytic.name(),
                },
                "attacks": self
                    .attacks
                    .iter()
                    .filter_map(|id| crate::attack::lookup(id))
                    .map(Attack::to_ocsf)
                    .collect::<Vec<_>>(),
                "related_events": related,
                "related_events_count": self.related_count,
                "first_seen_time": self.first_seen_ms,
                "last_seen_time": self.last_seen_ms,
            },
            "observables": observables,
            "resources": resources,
            "cloud": {
                "provider": "AWS",
                "region": self.region,
                "account": {"uid": self.account, "type": "AWS Account", "type_id": 10},
            },
            "remediation": {"desc": self.remediation},
            "count": self.occurrences,
        });
        if !self.anomaly.is_empty() {
            v["anomaly_analyses"] = Value::Array(self.anomaly.clone());
        }
        if !self.enrichments.is_empty() {
            v["enrichments"] = Value::Array(self.enrichments.clone());
        }
        if let Some(reason) = &self.suppressed {
            v["status_id"] = json!(3);
            v["status"] = json!("Suppressed");
            v["status_detail"] = json!(reason);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_stable_and_distinct() {
        assert_eq!(stable_id(&["a", "b"]), stable_id(&["a", "b"]));
        assert_ne!(stable_id(&["a", "b"]), stable_id(&["ab"]));
        assert_ne!(stable_id(&["a", "b"]), stable_id(&["b", "a"]));
        assert_eq!(stable_id(&["x"]).len(), 32);
    }

    #[test]
    fn thresholds_map_risk_to_severity() {
        let t = SeverityThresholds::default();
        assert_eq!(t.severity(0), Severity::Informational);
        assert_eq!(t.severity(20), Severity::Low);
        assert_eq!(t.severity(50), Severity::Medium);
        assert_eq!(t.severity(70), Severity::High);
        assert_eq!(t.severity(100), Severity::Critical);
    }
}
