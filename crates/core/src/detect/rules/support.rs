//! What every CloudTrail rule needs: the caller, the outcome, the request parameters read on
//! demand, and one way to turn a match into a finding that fills the contract.
//!
//! Rules match on `eventSource`/`eventName` first and only then call [`params`], so the JSON
//! of request parameters is parsed for the few events a rule cares about, never for the rest.

use serde_json::Value;

use crate::detect::activity::{PrincipalKind, UaFamily, principal_of};
use crate::detect::{
    EngineConfig, FindingSpec, principal_observables, privilege_weight, risk_score,
};
use crate::event::Event;
use crate::finding::{AnalyticType, Finding, Observable, ObservableType, Resource};
use crate::parse::cloudtrail::CloudTrailRecord;

/// Anomaly strengths for the usual severity bands (with the default thresholds, a typical
/// caller lands in Critical, High, Medium, Low and Informational respectively).
pub(crate) const CRITICAL: f64 = 0.97;
pub(crate) const HIGH: f64 = 0.82;
pub(crate) const MEDIUM: f64 = 0.58;
pub(crate) const LOW: f64 = 0.33;
pub(crate) const INFO: f64 = 0.15;

/// The CloudTrail record of an event, when it is one (Insights records excluded).
pub(crate) fn ct(e: &Event) -> Option<&CloudTrailRecord> {
    e.cloudtrail().filter(|r| !r.is_insight())
}

/// `iam.amazonaws.com` -> `iam`.
pub(crate) fn service(r: &CloudTrailRecord) -> &str {
    r.event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(&r.event_source)
}

/// The call was refused or failed (an empty `errorCode` is not an error).
pub(crate) fn failed(r: &CloudTrailRecord) -> bool {
    r.error_code
        .as_deref()
        .is_some_and(|c| !c.trim().is_empty())
}

/// An AWS service made the call itself, on the principal's behalf (CloudFormation, Backup,
/// Auto Scaling...): the source is a service host name or `invokedBy` is set.
pub(crate) fn via_aws_service(r: &CloudTrailRecord) -> bool {
    // The console and sign-in front ends call on behalf of the person at the keyboard.
    let by_person = |s: &str| matches!(s, "signin.amazonaws.com" | "console.amazonaws.com");
    r.user_identity
        .invoked_by
        .as_deref()
        .is_some_and(|s| !s.is_empty() && !by_person(s))
        || r.source_ip_address.as_deref().is_some_and(|s| {
            (s.ends_with(".amazonaws.com") && !by_person(s)) || s == "AWS Internal"
        })
        || r.user_identity.identity_type.as_deref() == Some("AWSService")
}

/// The caller's user agent is a known offensive toolkit.
pub(crate) fn offensive_ua(r: &CloudTrailRecord) -> bool {
    r.user_agent
        .as_deref()
        .is_some_and(|ua| UaFamily::classify(ua) == UaFamily::Offensive)
}

/// The account the event belongs to.
pub(crate) fn account(r: &CloudTrailRecord) -> Option<&str> {
    r.recipient_account_id
        .as_deref()
        .or(r.user_identity.account_id.as_deref())
        .filter(|a| !a.is_empty())
}

/// Who acted, as precisely as the record says: the session ARN for role sessions (so the
/// person behind an SSO role is named), the user ARN, the root ARN, the calling account.
pub(crate) fn actor(r: &CloudTrailRecord) -> String {
    let ui = &r.user_identity;
    if let Some(arn) = ui.arn.as_deref().filter(|a| !a.is_empty()) {
        return arn.to_string();
    }
    match principal_of(r) {
        (Some(p), _) => p,
        (None, PrincipalKind::Anonymous) => "an anonymous caller".to_string(),
        (None, _) => ui
            .user_name
            .clone()
            .or_else(|| ui.principal_id.clone())
            .unwrap_or_else(|| "an unknown caller".into()),
    }
}

/// The IAM user name of the caller, for "did this to itself" checks.
pub(crate) fn caller_user_name(r: &CloudTrailRecord) -> Option<&str> {
    let ui = &r.user_identity;
    match ui.identity_type.as_deref() {
        Some("IAMUser") => ui
            .user_name
            .as_deref()
            .or_else(|| ui.arn.as_deref().and_then(|a| a.rsplit('/').next())),
        _ => None,
    }
}

/// The last path segment of a session or user ARN (`.../assumed-role/Role/alice` -> `alice`).
pub(crate) fn session_name(r: &CloudTrailRecord) -> Option<&str> {
    r.user_identity
        .arn
        .as_deref()
        .and_then(|a| a.rsplit('/').next())
}

/// Request parameters as JSON. Some exports store them as a JSON string; both read.
pub(crate) fn params(r: &CloudTrailRecord) -> Value {
    raw_json(r.request_parameters.as_deref().map(|v| v.get()))
}

/// Response elements as JSON.
pub(crate) fn response(r: &CloudTrailRecord) -> Value {
    raw_json(r.response_elements.as_deref().map(|v| v.get()))
}

/// Additional event data as JSON.
pub(crate) fn additional(r: &CloudTrailRecord) -> Value {
    raw_json(r.additional_event_data.as_deref().map(|v| v.get()))
}

fn raw_json(raw: Option<&str>) -> Value {
    let Some(raw) = raw else { return Value::Null };
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::String(s)) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        Ok(v) => v,
        Err(_) => Value::Null,
    }
}

/// A string field, trying each key in turn.
pub(crate) fn str_of<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| v.get(*k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A boolean field that may be written as a JSON boolean or a string.
pub(crate) fn bool_of(v: &Value, keys: &[&str]) -> Option<bool> {
    keys.iter().find_map(|k| v.get(*k)).and_then(|x| match x {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        Value::Object(o) => o.get("value").and_then(Value::as_bool),
        _ => None,
    })
}

/// Strings of a value that is a string, an array of strings, or an EC2-style
/// `{"items": [{key: ...}]}` list.
pub(crate) fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Elements of an EC2 query-API list (`{"items": [...]}`) or of a plain array.
pub(crate) fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(o)) => match o.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(x @ Value::Object(_)) => vec![x],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// A 12-digit AWS account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account of an ARN (`arn:aws:iam::123456789012:root` -> `123456789012`), or the value
/// itself when it is a bare account id.
pub(crate) fn account_of_principal(s: &str) -> Option<&str> {
    if is_account_id(s) {
        return Some(s);
    }
    let acct = s.strip_prefix("arn:")?.split(':').nth(3)?;
    is_account_id(acct).then_some(acct)
}

/// What a rule says about one event.
pub(crate) struct Hit<'a> {
    pub rule: &'static str,
    pub name: &'static str,
    pub title: String,
    /// What happened and why it matters; the caller, source and client are appended.
    pub desc: String,
    /// What to check and do.
    pub remediation: &'static str,
    pub attacks: &'a [&'static str],
    /// 0..1, see the band constants.
    pub strength: f64,
    /// 0..1: how sure the rule is that the match means what the title says.
    pub confidence: f64,
    /// Identifies the activity (besides the rule and the principal): usually the target.
    pub key: Vec<String>,
    pub resources: Vec<Resource>,
    pub observables: Vec<Observable>,
}

impl Hit<'_> {
    pub fn new(
        rule: &'static str,
        name: &'static str,
        attacks: &'static [&'static str],
    ) -> Hit<'static> {
        Hit {
            rule,
            name,
            title: String::new(),
            desc: String::new(),
            remediation: "",
            attacks,
            strength: MEDIUM,
            confidence: 0.8,
            key: Vec::new(),
            resources: Vec::new(),
            observables: Vec::new(),
        }
    }
}

/// A resource of the record's account and region.
pub(crate) fn resource(r: &CloudTrailRecord, uid: impl Into<String>, kind: &str) -> Resource {
    Resource {
        uid: uid.into(),
        kind: kind.to_string(),
        region: (!r.aws_region.is_empty()).then(|| r.aws_region.clone()),
        account: account(r).map(str::to_string),
    }
}

/// Builds the finding for a hit on a CloudTrail event and appends it to `out`.
pub(crate) fn emit(
    e: &Event,
    r: &CloudTrailRecord,
    cfg: &EngineConfig,
    mut hit: Hit<'_>,
    out: &mut Vec<Finding>,
) {
    let (principal, kind) = principal_of(r);
    let principal = principal.unwrap_or_else(|| actor(r));
    let who = actor(r);
    // Modifiers every rule shares: an attack tool raises the stakes, a call AWS made on the
    // principal's behalf lowers them (it is configuration the principal set up earlier).
    let mut strength = hit.strength;
    if offensive_ua(r) {
        strength = (strength + 0.12).min(1.0);
    }
    if via_aws_service(r) && kind != PrincipalKind::Root {
        strength *= 0.6;
    }
    let risk = risk_score(
        strength,
        privilege_weight(kind, &principal),
        hit.confidence,
        0.9,
    );
    let src = r.source_ip_address.as_deref().unwrap_or("unknown");
    let ua = r.user_agent.as_deref().unwrap_or("unknown");
    let desc = format!(
        "{} Caller: {who} from {src} with client `{ua}`, {} in {} (event {}).",
        hit.desc,
        r.event_name,
        if r.aws_region.is_empty() {
            "an unknown region"
        } else {
            &r.aws_region
        },
        e.uid,
    );
    let mut observables = principal_observables(&principal);
    if who != principal && who.starts_with("arn:") {
        observables.push(Observable {
            kind: ObservableType::PrincipalArn,
            value: who.clone(),
        });
    }
    if let Some(ip) = r
        .source_ip_address
        .as_deref()
        .and_then(|s| s.parse::<std::net::IpAddr>().ok())
    {
        observables.push(Observable {
            kind: ObservableType::IpAddress,
            value: ip.to_string(),
        });
    }
    if let Some(k) = r
        .user_identity
        .access_key_id
        .as_deref()
        .filter(|k| !k.is_empty())
    {
        observables.push(Observable {
            kind: ObservableType::AccessKey,
            value: k.to_string(),
        });
    }
    if let Some(ua) = r.user_agent.as_deref().filter(|u| !u.is_empty()) {
        observables.push(Observable {
            kind: ObservableType::UserAgent,
            value: ua.to_string(),
        });
    }
    for res in &hit.resources {
        observables.push(Observable {
            kind: ObservableType::ResourceUid,
            value: res.uid.clone(),
        });
    }
    observables.append(&mut hit.observables);
    let mut key: Vec<&str> = vec![principal.as_str()];
    key.extend(hit.key.iter().map(String::as_str));
    let mut f = FindingSpec {
        detector: hit.rule,
        detector_name: hit.name,
        analytic: AnalyticType::Rule,
        key: &key,
        title: hit.title,
        desc,
        remediation: hit.remediation,
        attacks: hit.attacks,
        risk,
        confidence: (hit.confidence * 100.0).round().clamp(0.0, 100.0) as u8,
        first_ms: e.time_ms,
        last_ms: e.time_ms,
        related: vec![e.uid.clone()],
        related_count: 1,
        observables,
        account: account(r).map(str::to_string),
        region: (!r.aws_region.is_empty()).then(|| r.aws_region.clone()),
        anomaly: Vec::new(),
    }
    .build(cfg);
    f.resources = hit.resources;
    out.push(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_and_accounts() {
        assert_eq!(
            account_of_principal("arn:aws:iam::123456789012:root"),
            Some("123456789012")
        );
        assert_eq!(account_of_principal("123456789012"), Some("123456789012"));
        assert_eq!(account_of_principal("*"), None);
        assert_eq!(account_of_principal("arn:aws:iam::aws:policy/X"), None);
        assert!(!is_account_id("12345678901"));
    }

    #[test]
    fn json_in_a_string_reads_as_json() {
        assert_eq!(raw_json(Some(r#""{\"a\":1}""#))["a"], 1);
        assert_eq!(raw_json(Some("{\"a\":2}"))["a"], 2);
        assert_eq!(raw_json(Some("not json")), Value::Null);
        assert_eq!(raw_json(None), Value::Null);
    }

    #[test]
    fn ec2_lists_and_plain_arrays() {
        let v: Value = serde_json::json!({"items": [{"a": 1}, {"a": 2}]});
        assert_eq!(items(Some(&v)).len(), 2);
        let v: Value = serde_json::json!([{"a": 1}]);
        assert_eq!(items(Some(&v)).len(), 1);
        assert!(items(None).is_empty());
    }
}
