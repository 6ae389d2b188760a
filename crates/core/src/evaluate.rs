//! Scoring findings against the simulator's ground truth.
//!
//! A scenario counts as detected when some finding either references one of its records
//! (`finding_info.related_events[].uid` equals a truth uid, or ends with `/` + the truth uid:
//! flow and S3 line uids are recorded relative to the output directory while detectors report
//! the path the user passed) or names one of its indicators in `observables[].value` with a time
//! span overlapping the scenario's (give or take a slack). Indicator matches need the time
//! overlap because the same principal or address also acts legitimately at other times.
//!
//! Findings are deduplicated by `finding_info.uid` (a finding updated several times is one
//! alert). A finding that matches no malicious scenario is a false alert, whether or not it
//! flags a benign look-alike. Malformed lines are reported with their line number and counted;
//! they never stop the evaluation. Pure: text in, report out.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::simulate::truth::TruthLine;

/// Default tolerance around a scenario's time span for indicator matches.
pub const DEFAULT_SLACK_MS: i64 = 15 * 60_000;

/// The parts of an OCSF Detection Finding the evaluation reads.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRef {
    /// 1-based line of the (first) occurrence in the findings file.
    pub line: usize,
    pub uid: String,
    pub title: String,
    pub time_ms: Option<i64>,
    pub first_seen_ms: Option<i64>,
    pub last_seen_ms: Option<i64>,
    pub severity_id: u8,
    pub risk_score: Option<f64>,
    pub related_uids: Vec<String>,
    pub observables: Vec<String>,
    /// OCSF status Suppressed: kept for the record, not an alert.
    pub suppressed: bool,
}

impl FindingRef {
    /// Time span of the finding's evidence: first/last seen, else `time`.
    fn span(&self) -> Option<(i64, i64)> {
        let lo = self.first_seen_ms.or(self.time_ms).or(self.last_seen_ms)?;
        let hi = self.last_seen_ms.or(self.time_ms).unwrap_or(lo);
        Some((lo.min(hi), lo.max(hi)))
    }

    /// When the finding was produced (detection time): `time`, else last seen.
    fn produced_ms(&self) -> Option<i64> {
        self.time_ms.or(self.last_seen_ms).or(self.first_seen_ms)
    }
}

/// A line of the findings file that is not a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Malformed {
    pub line: usize,
    pub reason: String,
}

fn as_ms(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        serde_json::Value::String(s) => s
            .parse::<i64>()
            .ok()
            .or_else(|| crate::time::parse_iso8601_ms(s)),
        _ => None,
    }
}

fn as_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads one finding; `Err` says what is wrong with it.
fn read_finding(line: usize, v: &serde_json::Value) -> Result<FindingRef, String> {
    let obj = v.as_object().ok_or("not a JSON object")?;
    let info = obj
        .get("finding_info")
        .and_then(|i| i.as_object())
        .ok_or("no finding_info object")?;
    let uid = info
        .get("uid")
        .and_then(as_text)
        .unwrap_or_else(|| format!("line-{line}"));
    let related_uids = match info.get("related_events") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|e| e.get("uid").and_then(as_text))
            .collect(),
        Some(_) => return Err("finding_info.related_events is not an array".into()),
    };
    let observables = match obj.get("observables") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|o| o.get("value").and_then(as_text))
            .collect(),
        Some(_) => return Err("observables is not an array".into()),
    };
    let severity_id = obj
        .get("severity_id")
        .and_then(|s| s.as_u64())
        .map_or(0, |s| s.min(99) as u8);
    Ok(FindingRef {
        line,
        uid,
        title: info.get("title").and_then(as_text).unwrap_or_default(),
        time_ms: obj.get("time").and_then(as_ms),
        first_seen_ms: info.get("first_seen_time").and_then(as_ms),
        last_seen_ms: info.get("last_seen_time").and_then(as_ms),
        severity_id,
        risk_score: obj.get("risk_score").and_then(|r| r.as_f64()),
        related_uids,
        observables,
        suppressed: obj.get("status_id").and_then(|s| s.as_u64()) == Some(3),
    })
}

/// Parses findings JSON lines (blank lines skipped), merging repeats of one `finding_info.uid`.
pub fn parse_findings(text: &str) -> (Vec<FindingRef>, Vec<Malformed>) {
    let mut out: Vec<FindingRef> = Vec::new();
    let mut by_uid: HashMap<String, usize> = HashMap::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<serde_json::Value>(raw)
            .map_err(|e| format!("invalid JSON: {e}"));
        match parsed.and_then(|v| read_finding(line, &v)) {
            Ok(f) => match by_uid.get(&f.uid) {
                Some(&k) => {
                    let e = &mut out[k];
                    e.related_uids.extend(f.related_uids);
                    e.observables.extend(f.observables);
                    e.time_ms = min_opt(e.time_ms, f.time_ms);
                    e.first_seen_ms = min_opt(e.first_seen_ms, f.first_seen_ms);
                    e.last_seen_ms = e.last_seen_ms.max(f.last_seen_ms);
                    if f.severity_id > e.severity_id {
                        e.severity_id = f.severity_id;
                        e.title = f.title;
                    }
                }
                None => {
                    by_uid.insert(f.uid.clone(), out.len());
                    out.push(f);
                }
            },
            Err(reason) => bad.push(Malformed { line, reason }),
        }
    }
    (out, bad)
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Parses `truth.jsonl`; the truth is our own output, so a bad line is an error (with its line).
pub fn parse_truth(text: &str) -> Result<Vec<TruthLine>, Malformed> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let t: TruthLine = serde_json::from_str(raw).map_err(|e| Malformed {
            line: i + 1,
            reason: e.to_string(),
        })?;
        out.push(t);
    }
    Ok(out)
}

/// Evaluation settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub slack_ms: i64,
    /// Log records outside malicious scenarios (from `manifest.json`), for false alerts per
    /// 100,000 background events.
    pub background_events: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            slack_ms: DEFAULT_SLACK_MS,
            background_events: None,
        }
    }
}

/// The outcome for one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub label: String,
    pub detected: bool,
    /// Findings matching this scenario.
    pub findings: usize,
    /// `record` when some finding referenced a scenario record, else `indicator`.
    pub matched_by: Option<&'static str>,
    pub first_finding_ms: Option<i64>,
    /// First finding time minus scenario start (never negative).
    pub time_to_detect_ms: Option<i64>,
    pub top_severity: Option<u8>,
    pub top_title: Option<String>,
}

/// Evaluation report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub scenarios: Vec<ScenarioResult>,
    pub malicious_total: usize,
    pub malicious_detected: usize,
    /// Detected share of malicious scenarios, 0..=1 (1 when there are none).
    pub recall: f64,
    pub benign_total: usize,
    pub benign_flagged: usize,
    pub findings_total: usize,
    pub findings_matching_malicious: usize,
    pub false_alerts: usize,
    pub background_events: Option<u64>,
    pub false_alerts_per_100k: Option<f64>,
    /// Findings matching a malicious scenario over all findings (none without findings).
    pub precision: Option<f64>,
    pub malformed_lines: usize,
    pub malformed: Vec<Malformed>,
    /// Findings marked suppressed (rules, analyst verdicts), left out of every count above.
    pub suppressed_findings: usize,
    /// The false alerts (uid, title), ranked as in the input, for review and feedback.
    pub false_alert_findings: Vec<(String, String)>,
}

/// Indexes truth uids so a finding uid can be matched exactly or by path suffix.
struct UidIndex<'a> {
    map: HashMap<&'a str, Vec<usize>>,
}

impl<'a> UidIndex<'a> {
    fn new(truth: &'a [TruthLine]) -> Self {
        let mut map: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for (i, t) in truth.iter().enumerate() {
            for u in &t.record_uids {
                map.entry(u.as_str()).or_default().push(i);
            }
        }
        UidIndex { map }
    }

    fn lookup(&self, uid: &str, hits: &mut Vec<usize>) {
        let uid = uid.trim();
        let normalized;
        let uid = if uid.contains('\\') {
            normalized = uid.replace('\\', "/");
            normalized.as_str()
        } else {
            uid
        };
        if let Some(v) = self.map.get(uid) {
            hits.extend(v);
        }
        for (p, _) in uid.match_indices('/') {
            if let Some(v) = self.map.get(&uid[p + 1..]) {
                hits.extend(v);
            }
        }
    }
}

/// Scores `findings` against `truth`.
pub fn evaluate(
    truth: &[TruthLine],
    findings: &[FindingRef],
    malformed: Vec<Malformed>,
    opts: Options,
) -> Report {
    // Suppressed findings are not alerts: they neither detect nor count as false alerts.
    let suppressed_findings = findings.iter().filter(|f| f.suppressed).count();
    let kept: Vec<FindingRef> = findings.iter().filter(|f| !f.suppressed).cloned().collect();
    let findings = kept.as_slice();
    let uids = UidIndex::new(truth);
    let mut indicators: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in truth.iter().enumerate() {
        for v in t.indicators.values() {
            indicators.entry(v.as_str()).or_default().push(i);
        }
    }
    // Per scenario: matching finding indices and whether any matched by record.
    let mut matches: BTreeMap<usize, (Vec<usize>, bool)> = BTreeMap::new();
    let mut true_alerts = 0;
    let mut false_alert_findings = Vec::new();
    for (fi, f) in findings.iter().enumerate() {
        let mut by_record = Vec::new();
        for u in &f.related_uids {
            uids.lookup(u, &mut by_record);
        }
        let mut by_indicator = Vec::new();
        if let Some((lo, hi)) = f.span() {
            for o in &f.observables {
                for &s in indicators.get(o.as_str()).into_iter().flatten() {
                    let t = &truth[s];
                    if lo <= t.end_ms.saturating_add(opts.slack_ms)
                        && hi >= t.start_ms.saturating_sub(opts.slack_ms)
                    {
                        by_indicator.push(s);
                    }
                }
            }
        }
        let explains_attack = by_record
            .iter()
            .chain(&by_indicator)
            .any(|&s| truth[s].is_malicious());
        if explains_attack {
            // A finding about an attack that merely shares a principal or address with a
            // look-alike (same user, other day) does not flag the look-alike; only one that
            // references the look-alike's own records does.
            by_indicator.retain(|&s| truth[s].is_malicious());
        }
        let mut hit = false;
        for (list, record) in [(by_record, true), (by_indicator, false)] {
            for s in list {
                let e = matches.entry(s).or_default();
                if !e.0.contains(&fi) {
                    e.0.push(fi);
                }
                e.1 |= record;
                hit |= truth[s].is_malicious();
            }
        }
        if hit {
            true_alerts += 1;
        } else {
            false_alert_findings.push((f.uid.clone(), f.title.clone()));
        }
    }
    let scenarios: Vec<ScenarioResult> = truth
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (fs, by_record) = matches.get(&i).cloned().unwrap_or_default();
            let first = fs.iter().filter_map(|&k| findings[k].produced_ms()).min();
            let top = fs.iter().map(|&k| &findings[k]).max_by(|a, b| {
                a.severity_id
                    .cmp(&b.severity_id)
                    .then_with(|| b.produced_ms().cmp(&a.produced_ms()))
            });
            ScenarioResult {
                name: t.name.clone(),
                label: t.label.clone(),
                detected: !fs.is_empty(),
                findings: fs.len(),
                matched_by: (!fs.is_empty()).then_some(if by_record {
                    "record"
                } else {
                    "indicator"
                }),
                first_finding_ms: first,
                time_to_detect_ms: first.map(|f| f.saturating_sub(t.start_ms).max(0)),
                top_severity: top.map(|f| f.severity_id),
                top_title: top.map(|f| f.title.clone()),
            }
        })
        .collect();
    let malicious_total = truth.iter().filter(|t| t.is_malicious()).count();
    let malicious_detected = scenarios
        .iter()
        .filter(|s| s.label == "malicious" && s.detected)
        .count();
    let benign_total = truth.len() - malicious_total;
    let benign_flagged = scenarios
        .iter()
        .filter(|s| s.label != "malicious" && s.detected)
        .count();
    let false_alerts = findings.len() - true_alerts;
    Report {
        scenarios,
        malicious_total,
        malicious_detected,
        recall: if malicious_total == 0 {
            1.0
        } else {
            malicious_detected as f64 / malicious_total as f64
        },
        benign_total,
        benign_flagged,
        findings_total: findings.len(),
        findings_matching_malicious: true_alerts,
        false_alerts,
        background_events: opts.background_events,
        false_alerts_per_100k: opts
            .background_events
            .filter(|b| *b > 0)
            .map(|b| false_alerts as f64 * 100_000.0 / b as f64),
        precision: (!findings.is_empty()).then(|| true_alerts as f64 / findings.len() as f64),
        malformed_lines: malformed.len(),
        malformed,
        suppressed_findings,
        false_alert_findings,
    }
}

/// Quality gates for CI.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    /// Minimum recall in percent (0..=100).
    pub min_recall_pct: Option<f64>,
    pub max_false_per_100k: Option<f64>,
    pub max_benign_flagged: Option<usize>,
    /// Highest severity id (1..=5) a benign look-alike may be flagged at.
    pub max_benign_severity: Option<u8>,
}

impl Report {
    /// Thresholds missed, as messages (empty when all are met). A per-100k threshold without a
    /// background count is missed: the gate cannot be checked.
    pub fn violations(&self, t: &Thresholds) -> Vec<String> {
        let mut v = Vec::new();
        if let Some(min) = t.min_recall_pct
            && self.recall * 100.0 + 1e-9 < min
        {
            v.push(format!(
                "recall {:.1}% is below the minimum {min}%",
                self.recall * 100.0
            ));
        }
        if let Some(max) = t.max_false_per_100k {
            match self.false_alerts_per_100k {
                Some(x) if x > max + 1e-9 => v.push(format!("false alerts per 100k events {x:.2} exceed the maximum {max}")),
                Some(_) => {}
                None => v.push("false alerts per 100k events unknown: no background event count (manifest.json or --background-events)".into()),
            }
        }
        if let Some(max) = t.max_benign_flagged
            && self.benign_flagged > max
        {
            v.push(format!(
                "{} benign look-alikes flagged, more than the maximum {max}",
                self.benign_flagged
            ));
        }
        if let Some(max) = t.max_benign_severity {
            for r in &self.scenarios {
                if r.label != "malicious"
                    && let Some(sev) = r.top_severity.filter(|s| *s > max)
                {
                    v.push(format!(
                        "benign look-alike {} flagged at severity {sev}, above the maximum {max}",
                        r.name
                    ));
                }
            }
        }
        for r in &self.scenarios {
            if r.label == "malicious"
                && r.detected
                && r.top_title
                    .as_deref()
                    .is_none_or(|t| t.trim().is_empty() || t.contains('\n'))
            {
                v.push(format!(
                    "scenario {}: the top finding has no one-line title",
                    r.name
                ));
            }
        }
        v
    }

    /// The one-line summary, e.g.
    /// `recall 95.0% (19/20) precision 90.0% false-alerts/100k 1.2 benign-flagged 0/5`.
    pub fn summary_line(&self) -> String {
        let precision = self
            .precision
            .map_or_else(|| "n/a".to_string(), |p| format!("{:.1}%", p * 100.0));
        let per = self
            .false_alerts_per_100k
            .map_or_else(|| "n/a".to_string(), |x| format!("{x:.1}"));
        format!(
            "recall {:.1}% ({}/{}) precision {precision} false-alerts/100k {per} benign-flagged {}/{}",
            self.recall * 100.0,
            self.malicious_detected,
            self.malicious_total,
            self.benign_flagged,
            self.benign_total
        )
    }

    /// Human table: one row per scenario, then totals, malformed lines and the summary last.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<30} {:<9} {:<8} {:<24} {:>9} {:>3}  {}\n",
            "scenario", "label", "detected", "first finding", "to detect", "sev", "top finding"
        );
        for r in &self.scenarios {
            let detected = match (r.detected, r.label.as_str()) {
                (true, "malicious") => "yes",
                (false, "malicious") => "MISSED",
                (true, _) => "FLAGGED",
                (false, _) => "no",
            };
            s.push_str(&format!(
                "{:<30} {:<9} {:<8} {:<24} {:>9} {:>3}  {}\n",
                r.name,
                r.label,
                detected,
                r.first_finding_ms
                    .map_or_else(|| "-".to_string(), crate::time::format_iso8601_ms),
                r.time_to_detect_ms
                    .map_or_else(|| "-".to_string(), duration),
                r.top_severity
                    .map_or_else(|| "-".to_string(), |x| x.to_string()),
                r.top_title.as_deref().unwrap_or("-")
            ));
        }
        s.push_str(&format!(
            "findings {} ({} matching a malicious scenario, {} false alerts)",
            self.findings_total, self.findings_matching_malicious, self.false_alerts
        ));
        if let Some(b) = self.background_events {
            s.push_str(&format!(", {b} background events"));
        }
        if self.suppressed_findings > 0 {
            s.push_str(&format!(
                "; {} suppressed findings not counted",
                self.suppressed_findings
            ));
        }
        s.push('\n');
        for (uid, title) in &self.false_alert_findings {
            s.push_str(&format!("false alert {uid}  {title}\n"));
        }
        if !self.malformed.is_empty() {
            s.push_str(&format!(
                "malformed finding lines: {}\n",
                self.malformed_lines
            ));
            for m in self.malformed.iter().take(20) {
                s.push_str(&format!("  line {}: {}\n", m.line, m.reason));
            }
            if self.malformed.len() > 20 {
                s.push_str(&format!("  ... {} more\n", self.malformed.len() - 20));
            }
        }
        s.push_str(&self.summary_line());
        s.push('\n');
        s
    }
}

fn duration(ms: i64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_matching_of_line_uids() {
        let t: TruthLine = serde_json::from_str(
            r#"{"name":"x","label":"malicious","start":"","end":"","start_ms":0,"end_ms":0,"record_uids":["AWSLogs/1/vpcflowlogs/f.log.gz#7","abc"]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let truth = [t];
        let idx = UidIndex::new(&truth);
        for (uid, hit) in [
            ("AWSLogs/1/vpcflowlogs/f.log.gz#7", true),
            ("/tmp/out/AWSLogs/1/vpcflowlogs/f.log.gz#7", true),
            ("s3://b/p/AWSLogs/1/vpcflowlogs/f.log.gz#7", true),
            ("C:\\out\\AWSLogs\\1\\vpcflowlogs\\f.log.gz#7", true),
            ("/tmp/out/XAWSLogs/1/vpcflowlogs/f.log.gz#7", false),
            ("AWSLogs/1/vpcflowlogs/f.log.gz#70", false),
            ("abc", true),
            ("xabc", false),
        ] {
            let mut hits = Vec::new();
            idx.lookup(uid, &mut hits);
            assert_eq!(!hits.is_empty(), hit, "{uid}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration(5_000), "5s");
        assert_eq!(duration(125_000), "2m05s");
        assert_eq!(duration(7_500_000), "2h05m");
    }
}
