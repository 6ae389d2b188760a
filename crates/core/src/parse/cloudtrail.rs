//! CloudTrail records in every shape AWS delivers them, and their OCSF form.
//!
//! Input shapes (bytes already decompressed), and what [`Event::index`] means in each:
//!
//! | shape | index |
//! |---|---|
//! | `{"Records":[...]}` object (trail and organization trail) | 0-based position in `Records` |
//! | JSON array of records or EventBridge events | 0-based position in the array |
//! | CloudWatch Logs subscription payload (`DATA_MESSAGE`) | 0-based position in `logEvents` |
//! | JSON lines: one record or EventBridge event per line | 1-based line number |
//! | one EventBridge event, or one bare record, as the whole body | 0 |
//!
//! EventBridge events count when their `detail-type` is one of the "... via CloudTrail" types
//! ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", ...); the record is the
//! `detail`. `CONTROL_MESSAGE` payloads carry no records and yield nothing. A CloudTrail digest
//! body is counted in [`Batch::digests`].
//!
//! When one body holds several containers (CloudTrail files concatenated one per line, or
//! CloudWatch Logs payloads concatenated back to back by Firehose), the numbering of container
//! elements carries on from one container to the next, so indexes stay unique in the body.
//!
//! Each container element is captured as raw JSON first and deserialized on its own, so a
//! record with a missing field or a wrong type is one [`Reject`] and the others go on. The
//! capture is incremental: when the outer JSON breaks midway (a truncated gzip object gives
//! truncated JSON), the elements read before the break are kept and the unreadable remainder
//! is one reject naming where and why.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use memchr::memmem;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::event::{Event, EventClass, EventData, Reject};
use crate::parse::Batch;
use crate::time::parse_iso8601_ms;

/// Largest record accepted. Every AWS delivery path caps a CloudTrail record at 256 KB
/// (CloudTrail itself, EventBridge, CloudWatch Logs); four times that leaves room for
/// re-encoded copies while keeping one hostile record from costing unbounded memory downstream.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// One CloudTrail record. Free-form parts stay raw JSON so later stages read only what they
/// need; unknown fields are tolerated, so every `eventVersion` (1.0 to 1.11 and later) reads.
/// `null` is accepted wherever a field may be absent.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    #[serde(default, deserialize_with = "nullable")]
    pub event_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub user_identity: UserIdentity,
    /// Empty when absent: such records are rejected by the parser, never turned into events.
    #[serde(default, deserialize_with = "nullable")]
    pub event_time: String,
    /// Empty for Insights records, whose subject is in `insightDetails`.
    #[serde(default, deserialize_with = "nullable")]
    pub event_source: String,
    /// Empty for Insights records, whose subject is in `insightDetails`.
    #[serde(default, deserialize_with = "nullable")]
    pub event_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub aws_region: String,
    /// An IP address, or an AWS service name such as `ec2.amazonaws.com` or `AWS Internal`.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub request_parameters: Option<Box<RawValue>>,
    pub response_elements: Option<Box<RawValue>>,
    pub additional_event_data: Option<Box<RawValue>>,
    #[serde(rename = "requestID")]
    pub request_id: Option<String>,
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    /// `AwsApiCall`, `AwsServiceEvent`, `AwsConsoleSignIn`, `AwsConsoleAction`,
    /// `AwsCloudTrailInsight`, `AwsVpceEvent`.
    pub event_type: Option<String>,
    /// `Management`, `Data`, `Insight`, `NetworkActivity` (eventVersion 1.07 and later).
    pub event_category: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub read_only: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub management_event: Option<bool>,
    pub recipient_account_id: Option<String>,
    #[serde(rename = "sharedEventID")]
    pub shared_event_id: Option<String>,
    pub vpc_endpoint_id: Option<String>,
    pub api_version: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub resources: Vec<CtResource>,
    pub service_event_details: Option<Box<RawValue>>,
    pub tls_details: Option<Box<RawValue>>,
    pub insight_details: Option<Box<RawValue>>,
    pub addendum: Option<Box<RawValue>>,
    pub edge_device_details: Option<Box<RawValue>>,
    /// CloudTrail writes the string "true"; some re-exports write a boolean.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub session_credential_from_console: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `Root`, `IAMUser`, `AssumedRole`, `FederatedUser`, `AWSService`, `AWSAccount`,
    /// `IdentityCenterUser`, `SAMLUser`, `WebIdentityUser`, `Unknown`.
    #[serde(rename = "type")]
    pub identity_type: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    pub invoked_by: Option<String>,
    pub identity_provider: Option<String>,
    pub session_context: Option<SessionContext>,
    pub on_behalf_of: Option<Box<RawValue>>,
    pub credential_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    pub attributes: Option<SessionAttributes>,
    pub session_issuer: Option<SessionIssuer>,
    pub web_id_federation_data: Option<Box<RawValue>>,
    pub source_identity: Option<String>,
    pub ec2_role_delivery: Option<String>,
    pub assumed_root: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// CloudTrail writes this as the string "true"/"false"; read as a boolean.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub mfa_authenticated: Option<bool>,
    pub creation_date: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    #[serde(rename = "type")]
    pub issuer_type: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub user_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct CtResource {
    #[serde(rename = "ARN", alias = "arn")]
    pub arn: Option<String>,
    /// S3 data events name a key prefix instead of an object ARN.
    #[serde(rename = "ARNPrefix")]
    pub arn_prefix: Option<String>,
    #[serde(rename = "accountId")]
    pub account_id: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: Option<String>,
}

impl CloudTrailRecord {
    /// CloudTrail Insights records describe unusual API call or error rates; they have no
    /// caller, and their `eventName`/`eventSource` live in `insightDetails`.
    pub fn is_insight(&self) -> bool {
        self.event_type.as_deref() == Some("AwsCloudTrailInsight") || self.insight_details.is_some()
    }

    /// The record's time in ms, or why the record cannot be an event.
    fn check(&self) -> Result<i64, String> {
        if self.event_time.is_empty() {
            let anything = !(self.event_name.is_empty()
                && self.event_source.is_empty()
                && self.event_version.is_empty()
                && self.insight_details.is_none());
            return Err(if anything {
                "missing eventTime".to_owned()
            } else {
                "not a CloudTrail record: no eventTime, eventName, eventSource or eventVersion"
                    .to_owned()
            });
        }
        let time = parse_iso8601_ms(&self.event_time)
            .ok_or_else(|| format!("invalid eventTime `{}`", clip(&self.event_time, 64)))?;
        if !self.is_insight() {
            if self.event_name.is_empty() {
                return Err("missing eventName".to_owned());
            }
            if self.event_source.is_empty() {
                return Err("missing eventSource".to_owned());
            }
        }
        Ok(time)
    }
}

/// Reads `null` as the default value, so `"resources": null` means no resources.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Reads a boolean written either as JSON `true` or as the string `"true"`, as CloudTrail does
/// for `mfaAuthenticated` and `sessionCredentialFromConsole`. Unrecognised strings read as
/// absent rather than failing the record: the flag is informative, not essential.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean or \"true\"/\"false\"")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(if v.eq_ignore_ascii_case("true") {
                Some(true)
            } else if v.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            })
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Parses any CloudTrail-shaped JSON input into `out` (see the module documentation for the
/// shapes and index conventions). Never panics; every record read ends up in `out.events` or
/// `out.rejects`.
pub fn parse(source: &Arc<str>, bytes: &[u8], out: &mut Batch) {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let body = text.trim_ascii();
    if body.is_empty() {
        return;
    }
    let mut p = Parser {
        source,
        out,
        next: 0,
    };
    if !matches!(body[0], b'{' | b'[') {
        p.reject(0, not_a_document(body), body);
    } else if is_json_lines(body) {
        // Number lines from the real start of the input, blank lines included.
        p.lines(text);
    } else {
        p.document(body, None, true);
    }
}

struct Parser<'a> {
    source: &'a Arc<str>,
    out: &'a mut Batch,
    /// Index of the next container element (or lone value outside JSON lines).
    next: u64,
}

/// What the top level of one JSON value turned out to hold.
#[derive(Default)]
struct Doc<'de> {
    container: Option<Container>,
    /// `logEvents` elements, kept until the payload's `messageType` is known. `Records` and
    /// array elements are not kept: each becomes an event or a reject as soon as it is read,
    /// while its bytes are still in cache, and so survives a later syntax error.
    items: Vec<&'de RawValue>,
    /// The last container element read, where an unreadable remainder starts.
    last: Option<&'de RawValue>,
    message_type: Option<String>,
    detail_type: Option<String>,
    detail: Option<&'de RawValue>,
    digest: bool,
    record_like: bool,
    /// The first few keys that fit no known shape, to explain a rejection.
    other_keys: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Records,
    LogEvents,
    Array,
}

impl Parser<'_> {
    fn take_index(&mut self) -> u64 {
        let i = self.next;
        self.next += 1;
        i
    }

    fn reject(&mut self, index: u64, reason: impl Into<String>, raw: &[u8]) {
        self.out
            .push_reject(Reject::new(self.source, index, reason, raw));
    }

    /// JSON lines: each non-blank line on its own, so one broken line costs one reject.
    fn lines(&mut self, text: &[u8]) {
        let mut start = 0;
        let mut number = 0;
        while start <= text.len() {
            let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
            number += 1;
            let line = text[start..end].trim_ascii();
            if !line.is_empty() {
                match std::str::from_utf8(line) {
                    Ok(_) if has_container_key(line) => self.document(line, Some(number), true),
                    Ok(record) => self.element(record, number),
                    Err(e) => self.reject(number, not_utf8("line", &e), line),
                }
            }
            start = end + 1;
        }
    }

    /// One JSON value (or, when `concat_ok`, several values back to back). `line` is the line
    /// number when the value is one line of JSON lines: a lone record takes it as its index.
    fn document(&mut self, text: &[u8], line: Option<u64>, concat_ok: bool) {
        let mut doc = Doc::default();
        // Validating UTF-8 once for the whole value lets serde_json skip it in every string
        // and every captured element; invalid text still reads, up to the bad byte.
        let outcome = match std::str::from_utf8(text) {
            Ok(s) => read_doc(&mut serde_json::Deserializer::from_str(s), &mut doc, self),
            Err(_) => read_doc(
                &mut serde_json::Deserializer::from_slice(text),
                &mut doc,
                self,
            ),
        };
        match outcome {
            Outcome::Whole => self.finish(doc, text, line),
            Outcome::Broken(e) => self.salvage(&doc, text, line, &e),
            Outcome::Trailing(_) if concat_ok => self.concatenated(doc, text, line),
            Outcome::Trailing(e) => {
                let index = line.unwrap_or_else(|| self.take_index());
                self.reject(index, format!("invalid JSON: {e}"), text);
            }
        }
    }

    /// Several JSON values back to back, as Firehose writes CloudWatch Logs payloads. `first`
    /// is what the document reader made of the first value (whose container elements, if any,
    /// it has already taken); the others are read one by one.
    fn concatenated(&mut self, first: Doc<'_>, text: &[u8], line: Option<u64>) {
        let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<&RawValue>();
        match stream.next() {
            Some(Ok(value)) => self.finish(first, value.get().as_bytes(), line),
            // Only invalid UTF-8 lets the document reader accept what the raw reader refuses.
            Some(Err(e)) => {
                let index = self.take_index();
                return self.reject(index, format!("{}: {e}", damage(&e)), text);
            }
            None => return,
        }
        loop {
            let start = stream.byte_offset();
            match stream.next() {
                None => break,
                Some(Ok(value)) => self.document(value.get().as_bytes(), None, false),
                Some(Err(_)) => {
                    // Read the broken value on its own: it keeps whatever elements it can.
                    self.document(&text[start..], None, false);
                    break;
                }
            }
        }
    }

    /// After a syntax error: keep the container elements read before the break, and reject
    /// the rest as one unreadable remainder.
    fn salvage(&mut self, doc: &Doc<'_>, text: &[u8], line: Option<u64>, err: &serde_json::Error) {
        let damage = damage(err);
        let Some(container) = doc.container else {
            let index = line.unwrap_or_else(|| self.take_index());
            return self.reject(index, format!("{damage}: {err}"), text);
        };
        let rest = match doc.last {
            Some(last) => &text[offset_after(text, last.get())..],
            None => text,
        };
        let control = doc.message_type.as_deref() == Some("CONTROL_MESSAGE");
        if container == Container::LogEvents && !control {
            self.log_events(&doc.items);
        }
        let reason = match self.next.checked_sub(1) {
            Some(last) if doc.last.is_some() => format!("{damage} after record {last}: {err}"),
            _ => format!("{damage} before the first record: {err}"),
        };
        let index = self.take_index();
        self.reject(index, reason, rest);
    }

    fn finish(&mut self, doc: Doc<'_>, text: &[u8], line: Option<u64>) {
        if matches!(doc.container, Some(Container::Records | Container::Array)) {
            // Their elements were taken as they were read.
            return;
        }
        let cwl = doc.container == Some(Container::LogEvents);
        match doc.message_type.as_deref() {
            Some("CONTROL_MESSAGE") => return,
            None | Some("DATA_MESSAGE") if cwl => return self.log_events(&doc.items),
            _ => {}
        }
        if doc.digest && doc.message_type.is_none() && doc.detail_type.is_none() && !doc.record_like
        {
            self.out.digests += 1;
            return;
        }
        let index = line.unwrap_or_else(|| self.take_index());
        let reason = if let Some(kind) = doc.message_type {
            if kind == "DATA_MESSAGE" {
                "CloudWatch Logs DATA_MESSAGE without `logEvents`".to_owned()
            } else {
                format!(
                    "CloudWatch Logs payload of unknown messageType `{}`",
                    clip(&kind, 64)
                )
            }
        } else if let Some(detail_type) = doc.detail_type {
            return self.envelope(&detail_type, doc.detail, text, index);
        } else if doc.record_like {
            return match std::str::from_utf8(text) {
                Ok(record) => self.record(record, text, index),
                Err(e) => self.reject(index, not_utf8("record", &e), text),
            };
        } else if doc.other_keys.is_empty() {
            "unknown JSON shape: an empty object".to_owned()
        } else {
            let keys: Vec<String> = doc.other_keys.iter().map(|k| format!("`{k}`")).collect();
            format!(
                "unknown JSON shape: an object with keys {}{} (expected CloudTrail `Records`, \
                 a record, an EventBridge event or a CloudWatch Logs payload)",
                keys.join(", "),
                if doc.other_keys.len() == MAX_OTHER_KEYS {
                    ", ..."
                } else {
                    ""
                }
            )
        };
        self.reject(index, reason, text);
    }

    /// A record, or an EventBridge event holding one.
    fn element(&mut self, raw: &str, index: u64) {
        // No CloudTrail record has a top-level `detail-type`, and the quick scan spares records
        // a second parse; a nested or escaped occurrence falls through to the record path.
        if DETAIL_TYPE_KEY.find(raw.as_bytes()).is_some()
            && let Ok(probe) = serde_json::from_str::<EnvelopeProbe<'_>>(raw)
            && let Some(detail_type) = probe.detail_type
        {
            return self.envelope(&detail_type, probe.detail, raw.as_bytes(), index);
        }
        self.record(raw, raw.as_bytes(), index);
    }

    fn envelope(&mut self, detail_type: &str, detail: Option<&RawValue>, raw: &[u8], index: u64) {
        if !detail_type.ends_with("via CloudTrail") {
            let reason = format!(
                "EventBridge event of detail-type `{}` is not a CloudTrail record",
                clip(detail_type, 100)
            );
            return self.reject(index, reason, raw);
        }
        match detail {
            Some(detail) => self.record(detail.get(), raw, index),
            None => self.reject(index, "EventBridge event without `detail`", raw),
        }
    }

    fn log_events(&mut self, items: &[&RawValue]) {
        for raw in items {
            let index = self.take_index();
            match serde_json::from_str::<LogEvent<'_>>(raw.get()) {
                Ok(LogEvent {
                    message: Some(message),
                }) => self.log_message(&message, raw.get().as_bytes(), index),
                Ok(LogEvent { message: None }) => {
                    self.reject(
                        index,
                        "CloudWatch Logs event without `message`",
                        raw.get().as_bytes(),
                    );
                }
                Err(e) => {
                    let reason =
                        format!("CloudWatch Logs event unreadable: {}", without_position(&e));
                    self.reject(index, reason, raw.get().as_bytes());
                }
            }
        }
    }

    fn log_message(&mut self, message: &str, raw: &[u8], index: u64) {
        let text = message.trim_ascii();
        if text.starts_with('{') {
            return self.element(text, index);
        }
        if super::vpcflow::looks_like(text.as_bytes()) {
            // Flow logs delivered through CloudWatch Logs: one flow record per message.
            let mut flow = Batch::default();
            super::vpcflow::parse(self.source, text.as_bytes(), &mut flow);
            if flow.records == 0 {
                return self.reject(index, "flow log message yielded no record", raw);
            }
            for e in &mut flow.events {
                e.index = index;
                e.uid = format!("{}#{index}", self.source);
            }
            for r in &mut flow.rejects {
                r.index = index;
            }
            self.out.append(&mut flow);
            return;
        }
        self.reject(
            index,
            "CloudWatch Logs message is neither a JSON CloudTrail record nor a VPC flow log line",
            raw,
        );
    }

    /// `raw` is the record itself; `shown` is what a reject quotes (the whole EventBridge event
    /// when the record came in one).
    fn record(&mut self, raw: &str, shown: &[u8], index: u64) {
        if raw.len() > MAX_RECORD_BYTES {
            let reason = format!(
                "record is {} bytes, over the {} byte cap",
                raw.len(),
                MAX_RECORD_BYTES
            );
            return self.reject(index, reason, shown);
        }
        let rec = match serde_json::from_str::<CloudTrailRecord>(raw) {
            Ok(rec) => rec,
            Err(e) => return self.reject(index, explain(raw, &e), shown),
        };
        let time_ms = match rec.check() {
            Ok(t) => t,
            Err(reason) => return self.reject(index, reason, shown),
        };
        let uid = match rec.event_id.as_deref() {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => format!("{}#{index}", self.source),
        };
        self.out.push_event(Event {
            class: classify(&rec),
            time_ms,
            source: Arc::clone(self.source),
            index,
            uid,
            data: EventData::CloudTrail(Box::new(rec)),
        });
    }
}

const MAX_OTHER_KEYS: usize = 5;

/// Built once: building a searcher costs more than scanning a record.
static DETAIL_TYPE_KEY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"detail-type\""));

enum Outcome {
    /// One whole JSON value and nothing after it.
    Whole,
    /// One whole value followed by more: several values back to back.
    Trailing(serde_json::Error),
    /// The value broke off; `Doc` holds what was read before the break.
    Broken(serde_json::Error),
}

fn read_doc<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    doc: &mut Doc<'de>,
    parser: &mut Parser<'_>,
) -> Outcome {
    match (DocSeed { doc, parser }).deserialize(&mut *de) {
        Err(e) => Outcome::Broken(e),
        Ok(()) => match de.end() {
            Ok(()) => Outcome::Whole,
            Err(e) => Outcome::Trailing(e),
        },
    }
}

/// Reads the top level of a value, handling container elements as they come.
struct DocSeed<'a, 'p, 'de> {
    doc: &'a mut Doc<'de>,
    parser: &'a mut Parser<'p>,
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.doc.container = Some(Container::Array);
        let (doc, parser) = (self.doc, self.parser);
        Elements { doc, parser }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (doc, parser) = (self.doc, self.parser);
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Records | TopKey::LogEvents if doc.container.is_none() => {
                    doc.container = Some(if matches!(key, TopKey::Records) {
                        Container::Records
                    } else {
                        Container::LogEvents
                    });
                    map.next_value_seed(Elements {
                        doc: &mut *doc,
                        parser: &mut *parser,
                    })?;
                }
                TopKey::MessageType => doc.message_type = map.next_value()?,
                TopKey::DetailType => doc.detail_type = map.next_value()?,
                TopKey::Detail => doc.detail = Some(map.next_value()?),
                TopKey::Digest => {
                    doc.digest = true;
                    map.next_value::<IgnoredAny>()?;
                }
                TopKey::RecordField => {
                    doc.record_like = true;
                    map.next_value::<IgnoredAny>()?;
                }
                TopKey::Other(name) => {
                    if doc.other_keys.len() < MAX_OTHER_KEYS {
                        doc.other_keys.push(name);
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                TopKey::Records | TopKey::LogEvents => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Takes each container element as soon as it is read (see [`Doc::items`]).
struct Elements<'a, 'p, 'de> {
    doc: &'a mut Doc<'de>,
    parser: &'a mut Parser<'p>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            self.doc.last = Some(item);
            if self.doc.container == Some(Container::LogEvents) {
                self.doc.items.push(item);
            } else {
                let index = self.parser.take_index();
                self.parser.element(item.get(), index);
            }
        }
        Ok(())
    }
}

/// Top-level keys that decide what a JSON object is.
enum TopKey {
    Records,
    LogEvents,
    MessageType,
    DetailType,
    Detail,
    Digest,
    RecordField,
    Other(String),
}

impl<'de> Deserialize<'de> for TopKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TopKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<TopKey, E> {
                Ok(match key {
                    "Records" => TopKey::Records,
                    "logEvents" => TopKey::LogEvents,
                    "messageType" => TopKey::MessageType,
                    "detail-type" => TopKey::DetailType,
                    "detail" => TopKey::Detail,
                    "digestPublicKeyFingerprint"
                    | "digestSignatureAlgorithm"
                    | "digestS3Object"
                    | "digestStartTime"
                    | "previousDigestSignature"
                    | "previousDigestHashValue" => TopKey::Digest,
                    "eventVersion" | "eventTime" | "eventName" | "eventSource" | "eventID"
                    | "eventType" | "userIdentity" | "awsRegion" | "insightDetails" => {
                        TopKey::RecordField
                    }
                    other => TopKey::Other(clip(other, 64).to_owned()),
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

#[derive(Deserialize)]
struct EnvelopeProbe<'a> {
    #[serde(rename = "detail-type", borrow, default)]
    detail_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    detail: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
}

/// A cheap look for keys that make a line a container rather than one record; the document
/// reader then decides from the real top-level keys.
fn has_container_key(line: &[u8]) -> bool {
    const KEYS: [&[u8]; 4] = [
        b"\"Records\"",
        b"\"logEvents\"",
        b"\"messageType\"",
        b"\"digestPublicKeyFingerprint\"",
    ];
    KEYS.iter().any(|k| memmem::find(line, k).is_some())
}

/// JSON lines when the first non-blank line is a whole JSON value and more follows. A broken
/// first line does not hide the layout: a second line that is a whole value also decides,
/// provided the first line starts an object (a pretty-printed document's second line is a
/// key, never a whole value).
fn is_json_lines(body: &[u8]) -> bool {
    let mut lines = body
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    let (Some(first), Some(second)) = (lines.next(), lines.next()) else {
        return false;
    };
    let whole = |l: &[u8]| serde_json::from_slice::<IgnoredAny>(l).is_ok();
    whole(first) || (first.starts_with(b"{") && whole(second))
}

/// Why a body that does not start with `{` or `[` is rejected.
fn not_a_document(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => format!(
            "unknown JSON shape: a {} (expected a CloudTrail `Records` object, a record, an \
             EventBridge event or a CloudWatch Logs payload)",
            json_type(&v)
        ),
        Err(_) => match std::str::from_utf8(body) {
            Err(u) => format!(
                "not UTF-8 text (invalid byte at offset {}), so not CloudTrail JSON",
                u.valid_up_to()
            ),
            Ok(text) => {
                let start = text.lines().next().unwrap_or_default();
                format!("not JSON: the input starts with `{}`", clip(start, 48))
            }
        },
    }
}

fn not_utf8(what: &str, e: &std::str::Utf8Error) -> String {
    format!(
        "{what} is not UTF-8 text (invalid byte at offset {})",
        e.valid_up_to()
    )
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn damage(e: &serde_json::Error) -> &'static str {
    if e.is_eof() {
        "truncated JSON"
    } else if e.is_data() {
        "unexpected JSON shape"
    } else {
        "invalid JSON"
    }
}

/// Byte offset just past `inner`, a slice borrowed from `outer`.
fn offset_after(outer: &[u8], inner: &str) -> usize {
    let start = (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize);
    (start + inner.len()).min(outer.len())
}

/// Names the offending field when a syntactically valid record has a field of the wrong type.
/// Only runs on the error path: each top-level field is tried alone against the record type.
fn explain(raw: &str, err: &serde_json::Error) -> String {
    if !err.is_data() {
        return format!("{}: {err}", damage(err));
    }
    let Ok(fields) = serde_json::from_str::<BTreeMap<String, &RawValue>>(raw) else {
        return match serde_json::from_str::<Value>(raw) {
            Ok(v) => format!("record is a JSON {}, not an object", json_type(&v)),
            Err(_) => format!("invalid record: {err}"),
        };
    };
    fields
        .iter()
        .find_map(|(key, value)| {
            let alone = format!("{{{}:{}}}", Value::from(key.as_str()), value.get());
            serde_json::from_str::<CloudTrailRecord>(&alone)
                .err()
                .map(|e| format!("field `{}`: {}", clip(key, 64), without_position(&e)))
        })
        .unwrap_or_else(|| format!("invalid record: {err}"))
}

/// serde_json's message without the " at line L column C" suffix, which is meaningless once
/// the record has been cut out of its file.
fn without_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

// ---------------------------------------------------------------------------------------------
// Event classes
// ---------------------------------------------------------------------------------------------

/// The OCSF class of a record, following the CloudTrail mapping of Amazon Security Lake and the
/// OCSF project's reference mapping (ocsf/examples, `mappings/.../CloudTrail`):
///
/// - **Authentication (3002)**: console and IAM Identity Center sign-in
///   (`signin.amazonaws.com`: `ConsoleLogin`, `CheckMfa`, `ExternalIdPDirectoryLogin`,
///   `CredentialChallenge`, `CredentialVerification`, `UserAuthentication`) and role assumption
///   (`sts.amazonaws.com`: `AssumeRole`, `AssumeRoleWithSAML`, `AssumeRoleWithWebIdentity`).
///   `GetSessionToken` and `GetFederationToken` stay API Activity, as in Security Lake.
/// - **Account Change (3001)**: IAM changes to identities and their credentials and policies
///   (users, groups, roles, access keys, login profiles, MFA devices, SSH keys, signing
///   certificates, service-specific credentials, identity policies and permission boundaries,
///   account alias and password policy), and the console's own `PasswordUpdated`,
///   `EmailUpdated` and `AccountNameUpdated` sign-in events. The reference mapping matches on
///   the event name alone; the event source is checked here too because names such as
///   `CreateUser` also exist in other services (Transfer Family, Amazon MQ, WorkMail...).
/// - **API Activity (6003)**: everything else, Insights records included.
pub fn classify(r: &CloudTrailRecord) -> EventClass {
    let name = r.event_name.as_str();
    match r.event_source.as_str() {
        "signin.amazonaws.com" => match name {
            "ConsoleLogin"
            | "CheckMfa"
            | "ExternalIdPDirectoryLogin"
            | "CredentialChallenge"
            | "CredentialVerification"
            | "UserAuthentication" => EventClass::Authentication,
            "PasswordUpdated" | "EmailUpdated" | "AccountNameUpdated" => EventClass::AccountChange,
            _ => EventClass::ApiActivity,
        },
        "sts.amazonaws.com"
            if matches!(
                name,
                "AssumeRole" | "AssumeRoleWithSAML" | "AssumeRoleWithWebIdentity"
            ) =>
        {
            EventClass::Authentication
        }
        "iam.amazonaws.com" if IAM_ACCOUNT_CHANGES.binary_search(&name).is_ok() => {
            EventClass::AccountChange
        }
        _ => EventClass::ApiActivity,
    }
}

/// IAM calls that change an identity, its credentials or its policies. Sorted for binary search.
const IAM_ACCOUNT_CHANGES: &[&str] = &[
    "AddRoleToInstanceProfile",
    "AddUserToGroup",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "AttachUserPolicy",
    "ChangePassword",
    "CreateAccessKey",
    "CreateAccountAlias",
    "CreateGroup",
    "CreateInstanceProfile",
    "CreateLoginProfile",
    "CreateRole",
    "CreateServiceLinkedRole",
    "CreateServiceSpecificCredential",
    "CreateUser",
    "CreateVirtualMFADevice",
    "DeactivateMFADevice",
    "DeleteAccessKey",
    "DeleteAccountAlias",
    "DeleteAccountPasswordPolicy",
    "DeleteGroup",
    "DeleteGroupPolicy",
    "DeleteInstanceProfile",
    "DeleteLoginProfile",
    "DeleteRole",
    "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy",
    "DeleteSSHPublicKey",
    "DeleteServiceLinkedRole",
    "DeleteServiceSpecificCredential",
    "DeleteSigningCertificate",
    "DeleteUser",
    "DeleteUserPermissionsBoundary",
    "DeleteUserPolicy",
    "DeleteVirtualMFADevice",
    "DetachGroupPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "EnableMFADevice",
    "PutGroupPolicy",
    "PutRolePermissionsBoundary",
    "PutRolePolicy",
    "PutUserPermissionsBoundary",
    "PutUserPolicy",
    "RemoveRoleFromInstanceProfile",
    "RemoveUserFromGroup",
    "ResetServiceSpecificCredential",
    "ResyncMFADevice",
    "TagRole",
    "TagUser",
    "UntagRole",
    "UntagUser",
    "UpdateAccessKey",
    "UpdateAccountPasswordPolicy",
    "UpdateAssumeRolePolicy",
    "UpdateGroup",
    "UpdateLoginProfile",
    "UpdateRole",
    "UpdateRoleDescription",
    "UpdateSSHPublicKey",
    "UpdateServiceSpecificCredential",
    "UpdateSigningCertificate",
    "UpdateUser",
    "UploadSSHPublicKey",
    "UploadSigningCertificate",
];

/// OCSF `activity_id` of a record in its class.
fn activity_id(class: EventClass, r: &CloudTrailRecord, req: &Params) -> u8 {
    let name = r.event_name.as_str();
    match class {
        EventClass::Authentication => match name {
            "ConsoleLogin"
            | "ExternalIdPDirectoryLogin"
            | "UserAuthentication"
            | "AssumeRole"
            | "AssumeRoleWithSAML"
            | "AssumeRoleWithWebIdentity" => 1,
            _ => 99,
        },
        EventClass::AccountChange => account_change_activity(name, req.status.as_deref()),
        EventClass::ApiActivity | EventClass::NetworkActivity => {
            if r.is_insight() {
                99
            } else {
                api_activity(name)
            }
        }
    }
}

/// Account Change activities (OCSF 1.6): 1 Create, 2 Enable, 3 Password Change, 4 Password
/// Reset, 5 Disable, 6 Delete, 7 Attach Policy, 8 Detach Policy, 10 MFA Factor Enable,
/// 11 MFA Factor Disable, 99 Other. `status` is the `Active`/`Inactive` request parameter of
/// the credential `Update*` calls, which enable or disable a credential.
fn account_change_activity(name: &str, status: Option<&str>) -> u8 {
    match name {
        "ChangePassword" | "PasswordUpdated" => 3,
        "UpdateLoginProfile" | "ResetServiceSpecificCredential" => 4,
        "EnableMFADevice" => 10,
        "DeactivateMFADevice" | "DeleteVirtualMFADevice" => 11,
        "UpdateAccessKey"
        | "UpdateSSHPublicKey"
        | "UpdateSigningCertificate"
        | "UpdateServiceSpecificCredential" => match status {
            Some("Active") => 2,
            Some("Inactive") => 5,
            _ => 99,
        },
        "UpdateAccountPasswordPolicy" | "DeleteAccountPasswordPolicy" => 99,
        "AddUserToGroup" | "AddRoleToInstanceProfile" => 7,
        n if n.starts_with("Attach") || n.starts_with("Put") => 7,
        n if n.starts_with("Detach") || n.starts_with("Remove") => 8,
        // Deleting an inline policy or a boundary takes a policy off the identity.
        n if n.starts_with("Delete") && (n.ends_with("Policy") || n.ends_with("Boundary")) => 8,
        n if n.starts_with("Create") || n.starts_with("Upload") => 1,
        n if n.starts_with("Delete") => 6,
        _ => 99,
    }
}

/// API Activity activities (1 Create, 2 Read, 3 Update, 4 Delete, 99 Other) from the verb
/// that starts the event name, as the OCSF reference mapping does; `Batch` is looked through
/// (`BatchGetItem` reads).
fn api_activity(name: &str) -> u8 {
    let name = name.strip_prefix("Batch").unwrap_or(name);
    let verb_end = name
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_uppercase() || c.is_ascii_digit())
        .map_or(name.len(), |(i, _)| i);
    match &name[..verb_end] {
        "Create" | "Run" | "Generate" | "Allocate" | "Import" | "Copy" => 1,
        "Get" | "List" | "Describe" | "Search" | "Lookup" | "Head" | "Query" | "Scan"
        | "Select" => 2,
        "Update" | "Put" | "Modify" | "Add" | "Remove" | "Start" | "Stop" | "Attach" | "Detach"
        | "Associate" | "Disassociate" | "Tag" | "Untag" | "Enable" | "Disable" | "Register"
        | "Deregister" | "Set" | "Reset" | "Replace" | "Authorize" | "Revoke" | "Change"
        | "Reboot" | "Restore" => 3,
        "Delete" | "Terminate" | "Release" => 4,
        _ => 99,
    }
}

fn activity_name(class: EventClass, id: u8) -> &'static str {
    match (class, id) {
        (EventClass::Authentication, 1) => "Logon",
        (EventClass::Authentication, 2) => "Logoff",
        (EventClass::AccountChange, 1) => "Create",
        (EventClass::AccountChange, 2) => "Enable",
        (EventClass::AccountChange, 3) => "Password Change",
        (EventClass::AccountChange, 4) => "Password Reset",
        (EventClass::AccountChange, 5) => "Disable",
        (EventClass::AccountChange, 6) => "Delete",
        (EventClass::AccountChange, 7) => "Attach Policy",
        (EventClass::AccountChange, 8) => "Detach Policy",
        (EventClass::AccountChange, 10) => "MFA Factor Enable",
        (EventClass::AccountChange, 11) => "MFA Factor Disable",
        (EventClass::ApiActivity, 1) => "Create",
        (EventClass::ApiActivity, 2) => "Read",
        (EventClass::ApiActivity, 3) => "Update",
        (EventClass::ApiActivity, 4) => "Delete",
        _ => "Other",
    }
}

fn category_name(class: EventClass) -> &'static str {
    match class.category_uid() {
        3 => "Identity & Access Management",
        4 => "Network Activity",
        _ => "Application Activity",
    }
}

// ---------------------------------------------------------------------------------------------
// OCSF
// ---------------------------------------------------------------------------------------------

/// The few request parameters the OCSF object names a target from.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Params {
    user_name: Option<String>,
    role_name: Option<String>,
    role_session_name: Option<String>,
    policy_arn: Option<String>,
    policy_name: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Response {
    user: Option<Principal>,
    role: Option<Principal>,
    assumed_role_user: Option<AssumedRoleUser>,
    #[serde(rename = "ConsoleLogin")]
    console_login: Option<String>,
    #[serde(rename = "CheckMfa")]
    check_mfa: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Principal {
    user_name: Option<String>,
    role_name: Option<String>,
    user_id: Option<String>,
    role_id: Option<String>,
    arn: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AssumedRoleUser {
    assumed_role_id: Option<String>,
    arn: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Additional {
    #[serde(rename = "MFAUsed")]
    mfa_used: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct InsightTarget {
    event_source: Option<String>,
    event_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct WebIdentity {
    federated_provider: Option<String>,
}

/// A typed view of a free-form part; a part of another shape reads as empty.
fn view<T: for<'a> Deserialize<'a> + Default>(raw: Option<&RawValue>) -> T {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or_default()
}

/// A JSON object builder that leaves out absent and empty values, so the OCSF object carries
/// only what the record had.
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Self {
        Obj(Map::new())
    }

    fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    fn text(self, key: &str, value: Option<&str>) -> Self {
        match value.filter(|v| !v.is_empty()) {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    fn opt(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    fn obj(self, key: &str, value: Obj) -> Self {
        if value.0.is_empty() {
            self
        } else {
            self.set(key, Value::Object(value.0))
        }
    }

    /// A free-form part as JSON (a part that is not valid JSON cannot occur: it was parsed).
    fn raw(self, key: &str, value: Option<&RawValue>) -> Self {
        let parsed = value.and_then(|r| serde_json::from_str::<Value>(r.get()).ok());
        self.opt(key, parsed)
    }

    fn build(self) -> Value {
        Value::Object(self.0)
    }
}

fn account(uid: Option<&str>) -> Obj {
    Obj::new().text("uid", uid)
}

/// OCSF 1.6 object for a CloudTrail event: API Activity (6003), Authentication (3002) or
/// Account Change (3001), laid out as Amazon Security Lake lays out CloudTrail:
/// `actor.user.uid` is the caller's ARN and `actor.user.uid_alt` its principal id. Raw
/// free-form parts (`requestParameters`, `responseElements`, ...) go under `unmapped`, with the
/// record's origin (`unmapped.origin` = source and index).
pub fn to_ocsf(event: &Event, r: &CloudTrailRecord) -> Value {
    let class = event.class;
    let params: Params = view(r.request_parameters.as_deref());
    let response: Response = view(r.response_elements.as_deref());
    let activity = activity_id(class, r, &params);
    let ui = &r.user_identity;
    let session = ui.session_context.as_ref();
    let attributes = session.and_then(|s| s.attributes.as_ref());
    let issuer = session.and_then(|s| s.session_issuer.as_ref());

    let (operation, service) = if r.is_insight() {
        let t: InsightTarget = view(r.insight_details.as_deref());
        (t.event_name, t.event_source)
    } else {
        (Some(r.event_name.clone()), Some(r.event_source.clone()))
    };

    let actor_user = Obj::new()
        .text("type", ui.identity_type.as_deref())
        .text("uid", ui.arn.as_deref())
        .text("uid_alt", ui.principal_id.as_deref())
        .text("name", ui.user_name.as_deref())
        .obj("account", account(ui.account_id.as_deref()))
        .text("credential_uid", ui.access_key_id.as_deref());
    let actor_session = match session {
        Some(_) => Obj::new()
            .text("issuer", issuer.and_then(|i| i.arn.as_deref()))
            .opt("is_mfa", attributes.and_then(|a| a.mfa_authenticated))
            .opt(
                "created_time",
                attributes
                    .and_then(|a| a.creation_date.as_deref())
                    .and_then(parse_iso8601_ms),
            )
            .text("credential_uid", ui.access_key_id.as_deref()),
        None => Obj::new(),
    };
    let web_identity: WebIdentity = view(session.and_then(|s| s.web_id_federation_data.as_deref()));
    let idp = web_identity
        .federated_provider
        .or_else(|| ui.identity_provider.clone());
    let actor = Obj::new()
        .obj("user", actor_user)
        .obj("session", actor_session)
        .text("invoked_by", ui.invoked_by.as_deref())
        .obj("idp", Obj::new().text("name", idp.as_deref()));

    let mut o = Obj::new()
        .set("class_uid", class.class_uid())
        .set("class_name", class.name())
        .set("category_uid", class.category_uid())
        .set("category_name", category_name(class))
        .set("activity_id", activity)
        .set("activity_name", activity_name(class, activity))
        .set(
            "type_uid",
            u64::from(class.class_uid()) * 100 + u64::from(activity),
        )
        .set(
            "type_name",
            format!("{}: {}", class.name(), activity_name(class, activity)),
        )
        .set("time", event.time_ms)
        .set("severity_id", 1)
        .set("severity", "Informational");

    if let Some((status_id, status)) = status(r, &response) {
        o = o
            .set("status_id", status_id)
            .set("status", status)
            .text("status_code", r.error_code.as_deref())
            .text("status_detail", r.error_message.as_deref());
    }

    o = o
        .obj(
            "api",
            Obj::new()
                .text("operation", operation.as_deref())
                .obj("service", Obj::new().text("name", service.as_deref()))
                .obj("request", Obj::new().text("uid", r.request_id.as_deref()))
                .obj(
                    "response",
                    Obj::new()
                        .text("error", r.error_code.as_deref())
                        .text("message", r.error_message.as_deref()),
                )
                .text("version", r.api_version.as_deref()),
        )
        .obj("actor", actor)
        .obj("src_endpoint", src_endpoint(r))
        .obj(
            "http_request",
            Obj::new().text("user_agent", r.user_agent.as_deref()),
        )
        .obj(
            "cloud",
            Obj::new()
                .set("provider", "AWS")
                .text("region", Some(r.aws_region.as_str()))
                .obj("account", account(r.recipient_account_id.as_deref())),
        );

    let resources: Vec<Value> = r
        .resources
        .iter()
        .map(|res| {
            Obj::new()
                .text("uid", res.arn.as_deref().or(res.arn_prefix.as_deref()))
                .text("type", res.resource_type.as_deref())
                .obj(
                    "owner",
                    Obj::new().obj("account", account(res.account_id.as_deref())),
                )
                .build()
        })
        .collect();
    if !resources.is_empty() {
        o = o.set("resources", resources);
    }

    match class {
        EventClass::Authentication => {
            let additional: Additional = view(r.additional_event_data.as_deref());
            let is_mfa = match additional.mfa_used.as_deref() {
                Some("Yes") => Some(true),
                Some("No") => Some(false),
                _ => None,
            };
            let user = if r.event_name.starts_with("AssumeRole") {
                let assumed = response.assumed_role_user.as_ref();
                Obj::new()
                    .text("uid", assumed.and_then(|a| a.arn.as_deref()))
                    .text(
                        "uid_alt",
                        assumed.and_then(|a| a.assumed_role_id.as_deref()),
                    )
                    .text("name", params.role_session_name.as_deref())
            } else {
                Obj::new()
                    .text("type", ui.identity_type.as_deref())
                    .text("uid", ui.arn.as_deref())
                    .text("uid_alt", ui.principal_id.as_deref())
                    .text("name", ui.user_name.as_deref())
                    .obj("account", account(ui.account_id.as_deref()))
            };
            o = o
                .obj("user", user)
                .opt("is_mfa", is_mfa)
                .obj("service", Obj::new().text("name", service.as_deref()));
        }
        EventClass::AccountChange => {
            let target = response.user.as_ref().or(response.role.as_ref());
            let name = params
                .user_name
                .as_deref()
                .or(params.role_name.as_deref())
                .or(target.and_then(|t| t.user_name.as_deref().or(t.role_name.as_deref())));
            let user = match name {
                Some(name) => Obj::new()
                    .text("name", Some(name))
                    .text("uid", target.and_then(|t| t.arn.as_deref()))
                    .text(
                        "uid_alt",
                        target.and_then(|t| t.user_id.as_deref().or(t.role_id.as_deref())),
                    ),
                // Calls on oneself (ChangePassword, PasswordUpdated) name no target.
                None => Obj::new()
                    .text("type", ui.identity_type.as_deref())
                    .text("uid", ui.arn.as_deref())
                    .text("uid_alt", ui.principal_id.as_deref())
                    .text("name", ui.user_name.as_deref()),
            };
            o = o.obj("user", user).obj(
                "policy",
                Obj::new()
                    .text("uid", params.policy_arn.as_deref())
                    .text("name", params.policy_name.as_deref()),
            );
        }
        EventClass::ApiActivity | EventClass::NetworkActivity => {}
    }

    let metadata = Obj::new()
        .set("version", "1.6.0")
        .obj(
            "product",
            Obj::new()
                .set("name", "CloudTrail")
                .set("vendor_name", "AWS")
                .text("version", Some(r.event_version.as_str()))
                .obj(
                    "feature",
                    Obj::new().text("name", r.event_category.as_deref()),
                ),
        )
        .set("profiles", vec!["cloud"])
        .set("uid", event.uid.as_str())
        .text("event_code", r.event_type.as_deref())
        .set("log_name", "CloudTrail")
        .set("log_provider", "CloudTrail")
        .text("original_time", Some(r.event_time.as_str()))
        .text("correlation_uid", r.shared_event_id.as_deref());
    o = o.obj("metadata", metadata);

    let unmapped = Obj::new()
        .raw("requestParameters", r.request_parameters.as_deref())
        .raw("responseElements", r.response_elements.as_deref())
        .raw("additionalEventData", r.additional_event_data.as_deref())
        .raw("serviceEventDetails", r.service_event_details.as_deref())
        .raw("insightDetails", r.insight_details.as_deref())
        .raw("tlsDetails", r.tls_details.as_deref())
        .raw("addendum", r.addendum.as_deref())
        .raw("edgeDeviceDetails", r.edge_device_details.as_deref())
        .opt("readOnly", r.read_only)
        .opt("managementEvent", r.management_event)
        .opt(
            "sessionCredentialFromConsole",
            r.session_credential_from_console,
        )
        .obj(
            "userIdentity",
            Obj::new()
                .raw("onBehalfOf", ui.on_behalf_of.as_deref())
                .text("credentialId", ui.credential_id.as_deref())
                .text(
                    "sourceIdentity",
                    session.and_then(|s| s.source_identity.as_deref()),
                )
                .text(
                    "ec2RoleDelivery",
                    session.and_then(|s| s.ec2_role_delivery.as_deref()),
                )
                .text(
                    "assumedRoot",
                    session.and_then(|s| s.assumed_root.as_deref()),
                )
                .text(
                    "sessionIssuerUserName",
                    issuer.and_then(|i| i.user_name.as_deref()),
                ),
        )
        .obj(
            "origin",
            Obj::new()
                .set("source", event.source.as_ref())
                .set("index", event.index),
        );
    o.obj("unmapped", unmapped).build()
}

/// Success or failure: a failed call has an `errorCode`; a console sign-in reports its result
/// in `responseElements` (`{"ConsoleLogin": "Failure"}`). Insights records have no outcome.
fn status(r: &CloudTrailRecord, response: &Response) -> Option<(u8, &'static str)> {
    if r.is_insight() {
        return None;
    }
    let reported = match r.event_name.as_str() {
        "ConsoleLogin" => response.console_login.as_deref(),
        "CheckMfa" => response.check_mfa.as_deref(),
        _ => None,
    };
    let failed =
        r.error_code.as_deref().is_some_and(|c| !c.is_empty()) || reported == Some("Failure");
    Some(if failed {
        (2, "Failure")
    } else {
        (1, "Success")
    })
}

/// `sourceIPAddress` is an address for calls from the network and a service name
/// (`ec2.amazonaws.com`) or `AWS Internal` for calls AWS makes on the caller's behalf.
fn src_endpoint(r: &CloudTrailRecord) -> Obj {
    let ep = Obj::new().text("uid", r.vpc_endpoint_id.as_deref());
    match r.source_ip_address.as_deref().filter(|s| !s.is_empty()) {
        None => ep,
        Some(s) if s.parse::<IpAddr>().is_ok() => ep.set("ip", s),
        Some(s) if !s.contains(' ') => ep.set("domain", s),
        Some(s) => ep.set("name", s),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(input: &str) -> Batch {
        let mut out = Batch::default();
        parse(&Arc::from("test.json"), input.as_bytes(), &mut out);
        assert_eq!(out.records as usize, out.events.len() + out.rejects.len());
        out
    }

    const REC: &str = r#"{"eventVersion":"1.08","eventTime":"2024-01-02T03:04:05Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","eventID":"e1"}"#;

    #[test]
    fn iam_list_is_sorted() {
        assert!(IAM_ACCOUNT_CHANGES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn verbs() {
        assert_eq!(api_activity("GetObject"), 2);
        assert_eq!(api_activity("BatchGetItem"), 2);
        assert_eq!(api_activity("RunInstances"), 1);
        assert_eq!(api_activity("PutBucketPolicy"), 3);
        assert_eq!(api_activity("TerminateInstances"), 4);
        assert_eq!(api_activity("GetFunction20150331v2"), 2);
        assert_eq!(api_activity("Decrypt"), 99);
        assert_eq!(api_activity("Getaway"), 99);
        assert_eq!(api_activity(""), 99);
        assert_eq!(api_activity("é"), 99);
    }

    #[test]
    fn account_change_activities() {
        assert_eq!(account_change_activity("CreateUser", None), 1);
        assert_eq!(account_change_activity("DeleteUser", None), 6);
        assert_eq!(account_change_activity("DeleteUserPolicy", None), 8);
        assert_eq!(account_change_activity("AttachUserPolicy", None), 7);
        assert_eq!(
            account_change_activity("UpdateAccessKey", Some("Inactive")),
            5
        );
        assert_eq!(
            account_change_activity("UpdateAccessKey", Some("Active")),
            2
        );
        assert_eq!(account_change_activity("EnableMFADevice", None), 10);
        assert_eq!(account_change_activity("DeactivateMFADevice", None), 11);
        assert_eq!(account_change_activity("UpdateLoginProfile", None), 4);
        assert_eq!(account_change_activity("ChangePassword", None), 3);
    }

    #[test]
    fn classes() {
        let rec = |src: &str, name: &str| CloudTrailRecord {
            event_source: src.into(),
            event_name: name.into(),
            ..Default::default()
        };
        assert_eq!(
            classify(&rec("signin.amazonaws.com", "ConsoleLogin")),
            EventClass::Authentication
        );
        assert_eq!(
            classify(&rec("sts.amazonaws.com", "AssumeRoleWithSAML")),
            EventClass::Authentication
        );
        assert_eq!(
            classify(&rec("sts.amazonaws.com", "GetSessionToken")),
            EventClass::ApiActivity
        );
        assert_eq!(
            classify(&rec("iam.amazonaws.com", "CreateAccessKey")),
            EventClass::AccountChange
        );
        assert_eq!(
            classify(&rec("transfer.amazonaws.com", "CreateUser")),
            EventClass::ApiActivity
        );
        assert_eq!(
            classify(&rec("iam.amazonaws.com", "ListUsers")),
            EventClass::ApiActivity
        );
        assert_eq!(
            classify(&rec("signin.amazonaws.com", "PasswordUpdated")),
            EventClass::AccountChange
        );
    }

    #[test]
    fn single_record_and_lines_indexes() {
        let one = run(REC);
        assert_eq!(one.events.len(), 1);
        assert_eq!(one.events[0].index, 0);
        let lines = run(&format!("\n{REC}\n\n{}\n", REC.replace("e1", "e2")));
        let idx: Vec<u64> = lines.events.iter().map(|e| e.index).collect();
        assert_eq!(idx, vec![2, 4]);
    }

    #[test]
    fn records_with_broken_first_line_still_reads_as_lines() {
        let out = run(&format!("{{\"eventVersion\": \n{REC}\n{REC}"));
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.rejects.len(), 1);
        assert_eq!(out.rejects[0].index, 1);
    }

    #[test]
    fn wrong_type_names_the_field() {
        let bad = REC.replace(r#""awsRegion":"us-east-1""#, r#""awsRegion":42"#);
        let out = run(&format!(r#"{{"Records":[{bad},{REC}]}}"#));
        assert_eq!(out.events.len(), 1);
        assert!(
            out.rejects[0].reason.starts_with("field `awsRegion`"),
            "{}",
            out.rejects[0].reason
        );
    }

    #[test]
    fn lenient_flags() {
        let r: CloudTrailRecord = serde_json::from_str(
            r#"{"readOnly":"true","sessionCredentialFromConsole":true,"managementEvent":null,
               "userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":"false"}}}}"#,
        )
        .unwrap();
        assert_eq!(r.read_only, Some(true));
        assert_eq!(r.session_credential_from_console, Some(true));
        assert_eq!(r.management_event, None);
        let attrs = r.user_identity.session_context.unwrap().attributes.unwrap();
        assert_eq!(attrs.mfa_authenticated, Some(false));
    }

    #[test]
    fn concatenated_cwl_payloads() {
        let msg = serde_json::to_string(REC).unwrap();
        let payload = format!(
            r#"{{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{{"id":"1","timestamp":1,"message":{msg}}}]}}"#
        );
        let out = run(&format!("{payload}{payload}"));
        assert_eq!(out.events.len(), 2);
        let idx: Vec<u64> = out.events.iter().map(|e| e.index).collect();
        assert_eq!(idx, vec![0, 1]);
    }

    #[test]
    fn layouts_crlf_lines_and_pretty_arrays() {
        let crlf = run(&format!("\u{feff}{REC}\r\n{REC}\r\n"));
        assert_eq!(
            crlf.events.iter().map(|e| e.index).collect::<Vec<_>>(),
            [1, 2]
        );
        // A pretty-printed array is one document, even with one element per line.
        for body in [format!("[\n{REC},\n{REC}\n]"), format!("[\n{REC}\n]")] {
            let out = run(&body);
            assert!(out.rejects.is_empty(), "{:?}", out.rejects);
            assert_eq!(out.events[0].index, 0);
        }
    }

    #[test]
    fn truncated_container_line_in_json_lines() {
        let out = run(&format!("{REC}\n{{\"Records\":[{REC},{REC}\n{REC}"));
        assert_eq!(out.events.len(), 4);
        assert_eq!(out.rejects.len(), 1);
        assert!(
            out.rejects[0]
                .reason
                .starts_with("truncated JSON after record")
        );
    }

    #[test]
    fn clip_respects_char_boundaries() {
        assert_eq!(clip("ééé", 3), "é");
        assert_eq!(clip("abc", 10), "abc");
    }
}
