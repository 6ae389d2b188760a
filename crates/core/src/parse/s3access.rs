//! S3 server access logs: every field era (18 to 26 fields, and extra trailing ones), quoted
//! fields with escapes, requesters containing spaces, `-` as absent.
//!
//! The format is space separated but not reliably tokenizable: the requester can contain
//! spaces (`arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2EXAMPLE`), and S3
//! writes double quotes inside quoted fields without escaping them (`"GET /" HTTP/1.1"`, a
//! referrer of `() { :;}; echo "x"`). So the parser anchors on shapes rather than counting
//! spaces: the requester runs up to the first `request-id operation` pair, and each quoted
//! field ends at the first closing quote after which the rest of the line still fits the
//! format (a status code after the request URI, a quoted user agent after the referrer, and no
//! quoted field at all after the user agent).

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::event::{Event, EventClass, EventData, Reject};
use crate::parse::Batch;

/// One S3 server access log line. `None` stands for `-`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct S3AccessRecord {
    pub bucket_owner: Option<String>,
    pub bucket: Option<String>,
    pub remote_ip: Option<String>,
    /// Canonical user id, IAM ARN, or `None` for anonymous requests.
    pub requester: Option<String>,
    pub request_id: Option<String>,
    /// e.g. `REST.GET.OBJECT`.
    pub operation: Option<String>,
    pub key: Option<String>,
    pub request_uri: Option<String>,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub bytes_sent: Option<u64>,
    pub object_size: Option<u64>,
    pub total_time_ms: Option<u64>,
    pub turn_around_time_ms: Option<u64>,
    pub referer: Option<String>,
    pub user_agent: Option<String>,
    pub version_id: Option<String>,
    pub host_id: Option<String>,
    pub signature_version: Option<String>,
    pub cipher_suite: Option<String>,
    pub authentication_type: Option<String>,
    pub host_header: Option<String>,
    pub tls_version: Option<String>,
    pub access_point_arn: Option<String>,
    pub acl_required: Option<String>,
    /// Fields after the 26 documented today, kept in order.
    pub extra: Vec<String>,
}

/// Fields every line has had since 2017: owner through version id.
pub const MANDATORY_FIELDS: usize = 18;

/// Longest line accepted; request URIs and user agents are bounded by S3's own limits (8 KiB
/// headers), so a longer line is corrupt input.
pub const MAX_LINE: usize = 64 * 1024;

/// How far the requester may spread over space-separated words before the request id and
/// operation must have been found.
const MAX_REQUESTER_WORDS: usize = 32;

/// Closing-quote candidates checked against the rest of the line before settling for the first.
const MAX_CLOSE_CANDIDATES: usize = 16;

/// Whether a line looks like an S3 server access log line.
pub fn looks_like(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let text = String::from_utf8_lossy(line);
    let mut c = Cursor::new(&text);
    let (Some(owner), Some(bucket)) = (c.token(), c.token()) else {
        return false;
    };
    let owner_ok = owner
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_:/.".contains(&b));
    let bucket_ok = bucket
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    owner_ok
        && bucket_ok
        && matches!(c.bracket(), Some(t) if crate::time::parse_s3_access_time_ms(t).is_some())
}

/// A position in one line.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    fn skip_spaces(&mut self) {
        let b = self.s.as_bytes();
        while self.pos < b.len() && b[self.pos] == b' ' {
            self.pos += 1;
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_spaces();
        self.pos >= self.s.len()
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_spaces();
        self.s.as_bytes().get(self.pos).copied()
    }

    /// The next space-delimited word, with its start offset.
    fn span(&mut self) -> Option<(usize, usize)> {
        self.skip_spaces();
        let b = self.s.as_bytes();
        if self.pos >= b.len() {
            return None;
        }
        let start = self.pos;
        let end = memchr::memchr(b' ', &b[start..]).map_or(b.len(), |i| start + i);
        self.pos = end;
        Some((start, end))
    }

    fn token(&mut self) -> Option<&'a str> {
        self.span().map(|(a, b)| &self.s[a..b])
    }

    /// `[dd/Mon/yyyy:HH:MM:SS +0000]`: the text between the brackets.
    fn bracket(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        let rest = &self.s[self.pos..];
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        self.pos += 1 + close + 1;
        Some(&inner[..close])
    }

    /// A field that is normally quoted; a bare word (usually `-`) is accepted too. The value is
    /// `None` for `-` and `"-"`.
    fn field(&mut self, rule: Close) -> Result<Option<Cow<'a, str>>, QuoteError> {
        if self.peek() != Some(b'"') {
            return Ok(self
                .token()
                .and_then(|t| (t != "-").then_some(Cow::Borrowed(t))));
        }
        let open = self.pos;
        let s = self.s;
        let b = s.as_bytes();
        let content = open + 1;
        // Candidate closers: a quote followed by a space or the end of the line. Escape-aware
        // first; if the line only closes with a quote after a backslash, S3 did not escape it.
        let mut first: Option<usize> = None;
        let mut chosen: Option<usize> = None;
        let mut unescaped_first: Option<usize> = None;
        let mut from = content;
        let mut tried = 0;
        while let Some(i) = memchr::memchr(b'"', &b[from..]) {
            let q = from + i;
            from = q + 1;
            if q + 1 < b.len() && b[q + 1] != b' ' {
                continue;
            }
            if unescaped_first.is_none() {
                unescaped_first = Some(q);
            }
            let backslashes = b[content..q]
                .iter()
                .rev()
                .take_while(|&&c| c == b'\\')
                .count();
            if backslashes % 2 == 1 {
                continue;
            }
            if first.is_none() {
                first = Some(q);
            }
            // A line full of `" ` pairs must not cost a scan of the rest per pair.
            tried += 1;
            if tried > MAX_CLOSE_CANDIDATES {
                break;
            }
            if rule.fits(&s[q + 1..]) {
                chosen = Some(q);
                break;
            }
        }
        let Some(q) = chosen.or(first).or(unescaped_first) else {
            return Err(QuoteError);
        };
        self.pos = q + 1;
        let raw = &s[content..q];
        if raw == "-" {
            return Ok(None);
        }
        Ok(Some(unescape(raw)))
    }
}

#[derive(Debug)]
struct QuoteError;

/// What must follow a quoted field's closing quote for that quote to be the real one.
#[derive(Debug, Clone, Copy)]
enum Close {
    /// Request URI: then the HTTP status (three digits or `-`), an error code and four counts.
    Status,
    /// Referrer: then the user agent, quoted or `-`.
    UserAgent,
    /// User agent: then only unquoted fields (or `"-"`) to the end of the line.
    Tail,
    /// Any later quoted field: the first closing quote.
    Any,
}

impl Close {
    fn fits(self, rest: &str) -> bool {
        let mut words = rest.split(' ').filter(|w| !w.is_empty());
        match self {
            Close::Status => {
                let count = |w: &str| w == "-" || w.bytes().all(|c| c.is_ascii_digit());
                // status, error code, bytes sent, object size, total time, turn-around time
                words.next().is_some_and(|w| {
                    w == "-" || (w.len() == 3 && w.bytes().all(|c| c.is_ascii_digit()))
                }) && words.next().is_some()
                    && words.take(4).filter(|w| count(w)).count() == 4
            }
            Close::UserAgent => words.next().is_some_and(|w| w == "-" || w.starts_with('"')),
            Close::Tail => words.all(|w| w == "\"-\"" || !w.contains('"')),
            Close::Any => true,
        }
    }
}

/// `\"` and `\\` are unescaped; other backslashes (`\x22` hex escapes) are kept as written.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && (n == '"' || n == '\\')
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// A request id: S3 writes 16 upper-case hex-like characters (`3E57427F3EXAMPLE`).
fn is_request_id(t: &str) -> bool {
    (8..=64).contains(&t.len())
        && t.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// An operation: `REST.GET.OBJECT`, `WEBSITE.GET.OBJECT`, `BATCH.DELETE.OBJECT`,
/// `S3.TRANSITION_SIA.OBJECT`, `SOAP.CreateBucket`...
fn is_operation(t: &str) -> bool {
    let mut parts = t.split('.');
    let Some(head) = parts.next() else {
        return false;
    };
    if !matches!(head, "REST" | "WEBSITE" | "BATCH" | "S3" | "SOAP") {
        return false;
    }
    let mut n = 0;
    for p in parts {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return false;
        }
        n += 1;
    }
    n >= 1
}

fn opt(t: &str) -> Option<String> {
    (t != "-").then(|| t.to_owned())
}

fn shown(tok: &str) -> &str {
    match tok.char_indices().nth(64) {
        Some((i, _)) => &tok[..i],
        None => tok,
    }
}

fn num<T: std::str::FromStr>(tok: &str, name: &str) -> Result<Option<T>, String> {
    if tok == "-" {
        return Ok(None);
    }
    if !tok.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("{name} `{}` is not a number", shown(tok)));
    }
    tok.parse::<T>()
        .map(Some)
        .map_err(|_| format!("{name} `{}` is out of range", shown(tok)))
}

/// Parses an S3 server access log file into `out`.
pub fn parse(source: &Arc<str>, bytes: &[u8], out: &mut Batch) {
    for (line_no, line) in crate::parse::lines(bytes) {
        if line.len() > MAX_LINE {
            out.push_reject(Reject::new(
                source,
                line_no,
                format!("line is {} bytes, longer than {MAX_LINE}", line.len()),
                line,
            ));
            continue;
        }
        // User agents and referrers are client-controlled; a stray non-UTF-8 byte there must
        // not cost the record of the request, so bytes are decoded lossily (U+FFFD).
        let text = String::from_utf8_lossy(line);
        match parse_line(&text) {
            Ok((r, time_ms)) => out.push_event(Event {
                class: EventClass::ApiActivity,
                time_ms,
                source: Arc::clone(source),
                index: line_no,
                uid: crate::parse::vpcflow::line_uid(source, line_no),
                data: EventData::S3Access(Box::new(r)),
            }),
            Err(reason) => out.push_reject(Reject::new(source, line_no, reason, line)),
        }
    }
}

fn too_few(n: usize) -> String {
    format!("line has {n} fields, expected at least {MANDATORY_FIELDS}")
}

/// Parses one line; returns the record and its time in ms.
fn parse_line(text: &str) -> Result<(S3AccessRecord, i64), String> {
    let mut c = Cursor::new(text);
    let mut r = S3AccessRecord::default();
    let mut n = 0usize;

    fn next<'a>(c: &mut Cursor<'a>, n: &mut usize) -> Result<&'a str, String> {
        let t = c.token().ok_or_else(|| too_few(*n))?;
        *n += 1;
        Ok(t)
    }

    r.bucket_owner = opt(next(&mut c, &mut n)?);
    r.bucket = opt(next(&mut c, &mut n)?);
    if c.at_end() {
        return Err(too_few(n));
    }
    let time = c
        .bracket()
        .ok_or_else(|| "time (field 3) is not a [dd/Mon/yyyy:HH:MM:SS +0000] field".to_owned())?;
    n += 1;
    let time_ms = crate::time::parse_s3_access_time_ms(time)
        .ok_or_else(|| format!("time (field 3) `{}` is not a valid time", shown(time)))?;
    r.remote_ip = opt(next(&mut c, &mut n)?);

    // Requester: one or more words up to the request id and operation.
    let mut spans: Vec<(usize, usize)> = Vec::with_capacity(3);
    let mut anchored = false;
    while spans.len() < MAX_REQUESTER_WORDS + 2 {
        if c.peek() == Some(b'"') {
            break;
        }
        let Some(sp) = c.span() else { break };
        spans.push(sp);
        let k = spans.len();
        if k >= 3
            && is_operation(&text[spans[k - 1].0..spans[k - 1].1])
            && is_request_id(&text[spans[k - 2].0..spans[k - 2].1])
        {
            anchored = true;
            break;
        }
    }
    if !anchored {
        // No recognisable request id and operation: fall back to one word each, by position.
        if spans.len() < 3 {
            return Err(too_few(n + spans.len()));
        }
        spans.truncate(3);
        c.pos = spans[2].1;
    }
    let k = spans.len();
    let requester = &text[spans[0].0..spans[k - 3].1];
    r.requester = opt(requester);
    r.request_id = opt(&text[spans[k - 2].0..spans[k - 2].1]);
    r.operation = opt(&text[spans[k - 1].0..spans[k - 1].1]);
    n += 3;
    r.key = opt(next(&mut c, &mut n)?);

    let quoted = |c: &mut Cursor<'_>, n: &mut usize, rule: Close, name: &str| {
        if c.at_end() {
            return Err(too_few(*n));
        }
        let v = c
            .field(rule)
            .map_err(|_| format!("{name} (field {}) has no closing quote", *n + 1))?;
        *n += 1;
        Ok::<_, String>(v.map(Cow::into_owned))
    };

    r.request_uri = quoted(&mut c, &mut n, Close::Status, "request URI")?;
    r.http_status = num(next(&mut c, &mut n)?, "HTTP status (field 10)")?;
    r.error_code = opt(next(&mut c, &mut n)?);
    r.bytes_sent = num(next(&mut c, &mut n)?, "bytes sent (field 12)")?;
    r.object_size = num(next(&mut c, &mut n)?, "object size (field 13)")?;
    r.total_time_ms = num(next(&mut c, &mut n)?, "total time (field 14)")?;
    r.turn_around_time_ms = num(next(&mut c, &mut n)?, "turn-around time (field 15)")?;
    r.referer = quoted(&mut c, &mut n, Close::UserAgent, "referrer")?;
    r.user_agent = quoted(&mut c, &mut n, Close::Tail, "user agent")?;

    // Version id onwards: plain words in every era so far, but a future quoted field is read
    // as one value rather than split.
    let mut tail: Vec<Option<String>> = Vec::new();
    while !c.at_end() {
        let v = c
            .field(Close::Any)
            .map_err(|_| format!("field {} has no closing quote", n + 1))?;
        n += 1;
        tail.push(v.map(Cow::into_owned));
    }
    if n < MANDATORY_FIELDS {
        return Err(too_few(n));
    }
    let mut tail = tail.into_iter();
    let mut take = || tail.next().flatten();
    r.version_id = take();
    r.host_id = take();
    r.signature_version = take();
    r.cipher_suite = take();
    r.authentication_type = take();
    r.host_header = take();
    r.tls_version = take();
    r.access_point_arn = take();
    r.acl_required = take();
    r.extra = tail.map(|v| v.unwrap_or_else(|| "-".to_owned())).collect();
    Ok((r, time_ms))
}

fn put(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v);
    }
}

fn put_str(m: &mut Map<String, Value>, k: &str, v: Option<&str>) {
    put(m, k, v.map(|s| Value::String(s.to_owned())));
}

/// OCSF activity of an operation: (activity_id, activity_name).
pub fn activity(operation: Option<&str>) -> (u8, &'static str) {
    let Some(op) = operation else {
        return (0, "Unknown");
    };
    let mut parts = op.split('.');
    let head = parts.next().unwrap_or_default();
    let verb = parts.next().unwrap_or_default();
    let resource = parts.next().unwrap_or_default();
    match (head, verb) {
        ("S3", v) if v.starts_with("EXPIRE") => (4, "Delete"),
        ("S3", v) if v.starts_with("TRANSITION") => (3, "Update"),
        ("S3", _) => (99, "Other"),
        (_, "GET" | "HEAD") => (2, "Read"),
        (_, "DELETE") => (4, "Delete"),
        (_, "PUT" | "POST" | "COPY") => {
            // Writing an object, a part or an upload creates something; PUT on a bucket
            // sub-resource (policy, ACL, versioning...) changes configuration.
            if resource.starts_with("OBJECT")
                || resource.starts_with("PART")
                || resource.starts_with("UPLOAD")
                || resource == "BUCKET"
            {
                (1, "Create")
            } else {
                (3, "Update")
            }
        }
        _ => (99, "Other"),
    }
}

/// Identity behind a requester field: (type, name, account id).
fn requester_identity(req: &str) -> (&'static str, Option<&str>, Option<&str>) {
    if req.len() == 64 && req.bytes().all(|c| c.is_ascii_hexdigit()) {
        return ("CanonicalUser", None, None);
    }
    if let Some(rest) = req.strip_prefix("arn:") {
        // arn:partition:service:region:account:resource
        let mut it = rest.splitn(5, ':');
        let (_partition, _service, _region) = (it.next(), it.next(), it.next());
        let account = it
            .next()
            .filter(|a| a.len() == 12 && a.bytes().all(|c| c.is_ascii_digit()));
        let resource = it.next().unwrap_or_default();
        let (ty, name) = if resource == "root" {
            ("Root", Some("root"))
        } else if let Some(r) = resource.strip_prefix("assumed-role/") {
            ("AssumedRole", Some(r))
        } else if let Some(u) = resource.strip_prefix("user/") {
            ("IAMUser", u.rsplit('/').next())
        } else if let Some(u) = resource.strip_prefix("federated-user/") {
            ("FederatedUser", Some(u))
        } else {
            ("Unknown", None)
        };
        return (ty, name, account);
    }
    if req.ends_with(".amazonaws.com") || req.starts_with("svc:") {
        return ("AWSService", Some(req), None);
    }
    ("Unknown", None, None)
}

/// Region from a host header such as `bucket.s3.us-west-1.amazonaws.com` or
/// `bucket.s3-us-west-2.amazonaws.com`, or from an access point ARN.
fn region_of(r: &S3AccessRecord) -> Option<String> {
    if let Some(arn) = &r.access_point_arn {
        let region = arn.split(':').nth(3).filter(|s| !s.is_empty());
        if region.is_some() {
            return region.map(str::to_owned);
        }
    }
    let host = r.host_header.as_deref()?;
    let labels: Vec<&str> = host.split('.').collect();
    for (i, l) in labels.iter().enumerate() {
        let region = if *l == "s3" || *l == "s3-website" {
            labels.get(i + 1).copied()
        } else {
            l.strip_prefix("s3-website-")
                .or_else(|| l.strip_prefix("s3-"))
        };
        if let Some(reg) = region
            && reg.split('-').count() >= 3
            && reg.ends_with(|c: char| c.is_ascii_digit())
        {
            return Some(reg.to_owned());
        }
    }
    None
}

/// Splits `GET /bucket/key?x=1 HTTP/1.1` into (method, target, protocol version).
fn split_request(uri: &str) -> (Option<&str>, Option<&str>, Option<&str>) {
    let Some((method, rest)) = uri.split_once(' ') else {
        return (None, Some(uri), None);
    };
    match rest.rsplit_once(' ') {
        Some((target, proto)) if proto.starts_with("HTTP/") => {
            (Some(method), Some(target), Some(proto))
        }
        _ => (Some(method), Some(rest), None),
    }
}

/// OCSF API Activity object for an access log line, shaped like Amazon Security Lake's mapping
/// of CloudTrail S3 data events so both sources of S3 activity read the same way.
pub fn to_ocsf(event: &Event, r: &S3AccessRecord) -> Value {
    let mut o = Map::new();
    let (activity_id, activity_name) = activity(r.operation.as_deref());
    o.insert("class_uid".into(), json!(6003));
    o.insert("class_name".into(), json!("API Activity"));
    o.insert("category_uid".into(), json!(6));
    o.insert("category_name".into(), json!("Application Activity"));
    o.insert("activity_id".into(), json!(activity_id));
    o.insert("activity_name".into(), json!(activity_name));
    o.insert("type_uid".into(), json!(600_300 + u32::from(activity_id)));
    o.insert(
        "type_name".into(),
        json!(format!("API Activity: {activity_name}")),
    );
    o.insert("severity_id".into(), json!(1));
    o.insert("severity".into(), json!("Informational"));
    o.insert("time".into(), json!(event.time_ms));

    let (status, status_id) = match r.http_status {
        Some(s) if s < 400 => ("Success", 1),
        Some(_) => ("Failure", 2),
        None => ("Unknown", 0),
    };
    o.insert("status".into(), json!(status));
    o.insert("status_id".into(), json!(status_id));
    put(
        &mut o,
        "status_code",
        r.http_status.map(|s| json!(s.to_string())),
    );
    put_str(&mut o, "status_detail", r.error_code.as_deref());

    let mut api = Map::new();
    put_str(&mut api, "operation", r.operation.as_deref());
    api.insert("service".into(), json!({ "name": "s3.amazonaws.com" }));
    if let Some(id) = &r.request_id {
        api.insert("request".into(), json!({ "uid": id }));
    }
    if let Some(err) = &r.error_code {
        api.insert("response".into(), json!({ "error": err }));
    }
    o.insert("api".into(), Value::Object(api));

    let mut user = Map::new();
    match r.requester.as_deref() {
        Some(req) => {
            let (ty, name, account) = requester_identity(req);
            user.insert("uid".into(), json!(req));
            user.insert("type".into(), json!(ty));
            put_str(&mut user, "name", name);
            if let Some(a) = account {
                user.insert("account".into(), json!({ "uid": a }));
            }
        }
        None => {
            user.insert("type".into(), json!("Anonymous"));
            user.insert("name".into(), json!("anonymous"));
        }
    }
    o.insert("actor".into(), json!({ "user": user }));

    if let Some(ip) = &r.remote_ip {
        o.insert("src_endpoint".into(), json!({ "ip": ip }));
    }

    let mut req = Map::new();
    put_str(&mut req, "user_agent", r.user_agent.as_deref());
    put_str(&mut req, "referrer", r.referer.as_deref());
    if let Some(uri) = r.request_uri.as_deref() {
        let (method, target, proto) = split_request(uri);
        put_str(&mut req, "http_method", method);
        put_str(&mut req, "version", proto);
        let mut url = Map::new();
        if let Some(t) = target {
            let (path, query) = match t.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (t, None),
            };
            url.insert("path".into(), json!(path));
            put_str(&mut url, "query_string", query);
            url.insert("url_string".into(), json!(t));
        }
        put_str(&mut url, "hostname", r.host_header.as_deref());
        if !url.is_empty() {
            req.insert("url".into(), Value::Object(url));
        }
    }
    if !req.is_empty() {
        o.insert("http_request".into(), Value::Object(req));
    }
    if let Some(code) = r.http_status {
        o.insert("http_response".into(), json!({ "code": code }));
    }

    let mut resources = Vec::new();
    if let Some(b) = &r.bucket {
        let mut bucket = Map::new();
        bucket.insert("uid".into(), json!(format!("arn:aws:s3:::{b}")));
        bucket.insert("name".into(), json!(b));
        bucket.insert("type".into(), json!("AWS::S3::Bucket"));
        if let Some(owner) = &r.bucket_owner {
            bucket.insert("owner".into(), json!({ "uid": owner }));
        }
        resources.push(Value::Object(bucket));
        if let Some(k) = &r.key {
            resources.push(json!({
                "uid": format!("arn:aws:s3:::{b}/{k}"),
                "name": k,
                "type": "AWS::S3::Object",
            }));
        }
    }
    if !resources.is_empty() {
        o.insert("resources".into(), Value::Array(resources));
    }
    if let Some(b) = r.bytes_sent {
        o.insert("traffic".into(), json!({ "bytes_out": b }));
    }
    put(&mut o, "duration", r.total_time_ms.map(Value::from));
    let mut tls = Map::new();
    put_str(&mut tls, "version", r.tls_version.as_deref());
    put_str(&mut tls, "cipher", r.cipher_suite.as_deref());
    if !tls.is_empty() {
        o.insert("tls".into(), Value::Object(tls));
    }

    let mut cloud = Map::new();
    cloud.insert("provider".into(), json!("AWS"));
    put(&mut cloud, "region", region_of(r).map(Value::String));
    o.insert("cloud".into(), Value::Object(cloud));

    o.insert(
        "metadata".into(),
        json!({
            "product": {
                "name": "Amazon S3",
                "vendor_name": "AWS",
                "feature": { "name": "Server Access Logs" },
            },
            "profiles": ["cloud"],
            "uid": event.uid,
            "version": "1.6.0",
        }),
    );

    let mut unmapped = Map::new();
    put(&mut unmapped, "object_size", r.object_size.map(Value::from));
    put(
        &mut unmapped,
        "turn_around_time_ms",
        r.turn_around_time_ms.map(Value::from),
    );
    put_str(&mut unmapped, "version_id", r.version_id.as_deref());
    put_str(&mut unmapped, "host_id", r.host_id.as_deref());
    put_str(
        &mut unmapped,
        "signature_version",
        r.signature_version.as_deref(),
    );
    put_str(
        &mut unmapped,
        "authentication_type",
        r.authentication_type.as_deref(),
    );
    put_str(
        &mut unmapped,
        "access_point_arn",
        r.access_point_arn.as_deref(),
    );
    put_str(&mut unmapped, "acl_required", r.acl_required.as_deref());
    if !r.extra.is_empty() {
        unmapped.insert("extra".into(), json!(r.extra));
    }
    unmapped.insert(
        "origin".into(),
        json!({ "source": &*event.source, "index": event.index }),
    );
    o.insert("unmapped".into(), Value::Object(unmapped));
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn operation_and_request_id_shapes() {
        for op in [
            "REST.GET.OBJECT",
            "WEBSITE.GET.OBJECT",
            "BATCH.DELETE.OBJECT",
            "S3.TRANSITION_SIA.OBJECT",
            "REST.COPY.OBJECT_GET",
            "SOAP.CreateBucket",
        ] {
            assert!(is_operation(op), "{op}");
        }
        for not in ["REST", "REST.", "GET.OBJECT", "arn:aws:iam::1:user/x", "-"] {
            assert!(!is_operation(not), "{not}");
        }
        assert!(is_request_id("3E57427F3EXAMPLE"));
        assert!(!is_request_id("Identity"));
        assert!(!is_request_id("-"));
    }

    #[test]
    fn activities() {
        assert_eq!(activity(Some("REST.GET.OBJECT")), (2, "Read"));
        assert_eq!(activity(Some("REST.HEAD.OBJECT")), (2, "Read"));
        assert_eq!(activity(Some("REST.PUT.OBJECT")), (1, "Create"));
        assert_eq!(activity(Some("REST.POST.UPLOADS")), (1, "Create"));
        assert_eq!(activity(Some("REST.PUT.BUCKETPOLICY")), (3, "Update"));
        assert_eq!(activity(Some("REST.DELETE.OBJECT")), (4, "Delete"));
        assert_eq!(activity(Some("BATCH.DELETE.OBJECT")), (4, "Delete"));
        assert_eq!(activity(Some("S3.EXPIRE.OBJECT")), (4, "Delete"));
        assert_eq!(activity(Some("S3.TRANSITION_SIA.OBJECT")), (3, "Update"));
        assert_eq!(activity(Some("REST.OPTIONS.PREFLIGHT")), (99, "Other"));
        assert_eq!(activity(None), (0, "Unknown"));
    }

    #[test]
    fn requester_identities() {
        assert_eq!(
            requester_identity("arn:aws:iam::123456789012:user/dev/alice"),
            ("IAMUser", Some("alice"), Some("123456789012"))
        );
        assert_eq!(
            requester_identity("arn:aws:sts::123456789012:assumed-role/Admin/bob"),
            ("AssumedRole", Some("Admin/bob"), Some("123456789012"))
        );
        assert_eq!(
            requester_identity(
                "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2EXAMPLE"
            ),
            (
                "IAMUser",
                Some("CloudFront Origin Access Identity E2EXAMPLE"),
                None
            )
        );
        assert_eq!(
            requester_identity("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"),
            ("CanonicalUser", None, None)
        );
    }

    #[test]
    fn regions_from_host_and_arn() {
        let mut r = S3AccessRecord {
            host_header: Some("b.s3.us-west-1.amazonaws.com".into()),
            ..Default::default()
        };
        assert_eq!(region_of(&r).as_deref(), Some("us-west-1"));
        r.host_header = Some("b.s3-eu-central-1.amazonaws.com".into());
        assert_eq!(region_of(&r).as_deref(), Some("eu-central-1"));
        r.host_header = Some("b.s3.amazonaws.com".into());
        assert_eq!(region_of(&r), None);
        r.access_point_arn = Some("arn:aws:s3:ap-south-1:123456789012:accesspoint/x".into());
        assert_eq!(region_of(&r).as_deref(), Some("ap-south-1"));
    }

    #[test]
    fn unescape_only_quotes_and_backslashes() {
        assert_eq!(unescape(r#"a\"b\\c\x22"#), r#"a"b\c\x22"#);
        assert!(matches!(unescape("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn request_split() {
        assert_eq!(
            split_request("GET /b/k?x=1 HTTP/1.1"),
            (Some("GET"), Some("/b/k?x=1"), Some("HTTP/1.1"))
        );
        assert_eq!(
            split_request("GET /a b HTTP/1.1"),
            (Some("GET"), Some("/a b"), Some("HTTP/1.1"))
        );
        assert_eq!(split_request("GET"), (None, Some("GET"), None));
    }
}
