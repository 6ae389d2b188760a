//! Strings that are not typed fields: unknown parameter values and free text (error messages,
//! descriptions, commands). The text is cut into tokens, PII spans are matched first, every
//! token goes through the recognizers, context words and the key path adjust the scores, and
//! the tokens the rules are unsure about go to the learned model.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hasher;

use super::fields::Ctx;
use super::model::{FxBuild, FxHasher, Marginals};
use super::pii;
use super::recognize::{self, Candidate};
use super::types::EntityType;
use super::{Adjustment, Entity, Explanation, Extractor, FieldText, ModelNote, Origin, Validation};

/// Text that entities may borrow from (`Long`, lives as long as the event) or must copy
/// from (`Short`, a decoded temporary).
#[derive(Debug, Clone, Copy)]
pub enum Src<'a, 't> {
    Long(&'a str),
    Short(&'t str),
}

impl<'a: 't, 't> Src<'a, 't> {
    pub fn text(&self) -> &'t str {
        match *self {
            Src::Long(s) => s,
            Src::Short(s) => s,
        }
    }

    pub fn cow(&self, s: usize, e: usize) -> Cow<'a, str> {
        match *self {
            Src::Long(x) => Cow::Borrowed(x.get(s..e).unwrap_or("")),
            Src::Short(x) => Cow::Owned(x.get(s..e).unwrap_or("").to_owned()),
        }
    }
}

/// A token and what the rules think of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tok {
    pub start: usize,
    pub end: usize,
    pub cand: Option<Candidate>,
    /// Normalized value for PII matches (separators removed).
    pub pii_value: Option<String>,
    /// Rule score after context.
    pub score: f32,
    pub cues: Vec<Adjustment>,
    /// The rules cannot decide: the model does, when there is one.
    pub eligible: bool,
}

fn is_split(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'"' | b'\''
                | b'('
                | b')'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'<'
                | b'>'
                | b','
                | b';'
                | b'|'
                | b'`'
        )
}

/// Cuts text into candidate tokens: split on whitespace, quotes, brackets and list
/// punctuation; trailing sentence punctuation is dropped; `key=value` pairs are split unless
/// the token is a URL.
pub fn tokenize(text: &str, out: &mut Vec<(usize, usize)>) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && is_split(b[i]) {
            i += 1;
        }
        let s = i;
        while i < b.len() && !is_split(b[i]) {
            i += 1;
        }
        if s < i {
            push_trimmed(text, s, i, out);
        }
    }
}

fn push_trimmed(text: &str, mut s: usize, mut e: usize, out: &mut Vec<(usize, usize)>) {
    let b = text.as_bytes();
    while e > s && matches!(b[e - 1], b'.' | b'!' | b'?' | b':' | b'=' | b'&') {
        if b[e - 1] == b':' && e - 1 > s && b[e - 2] == b':' {
            break;
        }
        e -= 1;
    }
    while s < e && matches!(b[s], b'=' | b'&' | b'.') {
        s += 1;
    }
    if s >= e {
        return;
    }
    let Some(tok) = text.get(s..e) else {
        return;
    };
    if memchr::memchr2(b'=', b'&', tok.as_bytes()).is_some() && !tok.contains("://") {
        let mut p = s;
        for part in tok.split(['=', '&']) {
            if !part.is_empty() {
                push_trimmed(text, p, p + part.len(), out);
            }
            p += part.len() + 1;
        }
        return;
    }
    out.push((s, e));
}

/// Words that follow a cue word ("user", "role") without being a name.
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "is",
    "was",
    "are",
    "be",
    "been",
    "does",
    "did",
    "do",
    "not",
    "cannot",
    "can",
    "with",
    "from",
    "to",
    "in",
    "on",
    "for",
    "and",
    "or",
    "of",
    "by",
    "at",
    "as",
    "has",
    "have",
    "had",
    "that",
    "which",
    "this",
    "it",
    "name",
    "named",
    "id",
    "arn",
    "must",
    "already",
    "policy",
    "session",
    "because",
    "no",
    "exists",
    "exist",
    "found",
    "specified",
    "provided",
    "given",
    "you",
    "your",
    "its",
    "their",
    "when",
    "if",
    "unable",
    "failed",
    "could",
    "should",
    "will",
    "would",
    "may",
    "being",
    "than",
    "then",
    "there",
    "these",
    "those",
    "into",
    "over",
    "under",
    "without",
    "within",
    "but",
    "so",
    "such",
    "only",
    "all",
    "any",
    "each",
    "every",
    "other",
    "same",
    "new",
    "current",
    "invalid",
    "valid",
    "trust",
    "credentials",
    "access",
    "denied",
    "error",
    "exception",
    "request",
    "account",
    "user",
    "role",
    "bucket",
    "function",
    "secret",
    "key",
    "instance",
    "group",
    "type",
    "resource",
    "resources",
    "identity",
    "principal",
    "service",
    "path",
    "limit",
    "quota",
    "owner",
    "version",
    "state",
    "status",
    "used",
    "using",
    "attached",
    "unknown",
    "none",
];

/// Words whose next token (or the token after "name"/"named"/"called") is a name of a type.
const NAME_CUES: &[(&str, EntityType)] = &[
    ("user", EntityType::IamUser),
    ("users", EntityType::IamUser),
    ("username", EntityType::IamUser),
    ("role", EntityType::IamRole),
    ("roles", EntityType::IamRole),
    ("rolename", EntityType::IamRole),
    ("bucket", EntityType::S3Bucket),
    ("buckets", EntityType::S3Bucket),
    ("function", EntityType::LambdaFunction),
    ("lambda", EntityType::LambdaFunction),
    ("secret", EntityType::Secret),
    ("host", EntityType::Domain),
    ("domain", EntityType::Domain),
];

/// Context words that move the score of a candidate type: (word, type, delta, cue label).
const WORD_CUES: &[(&str, EntityType, f32, &str)] = &[
    ("account", EntityType::AccountId, 0.4, "word:account"),
    ("accounts", EntityType::AccountId, 0.4, "word:account"),
    ("accountid", EntityType::AccountId, 0.4, "word:account"),
    ("owner", EntityType::AccountId, 0.35, "word:owner"),
    ("aws", EntityType::AccountId, 0.15, "word:aws"),
    ("phone", EntityType::AccountId, -0.4, "word:phone"),
    ("order", EntityType::AccountId, -0.4, "word:order"),
    ("invoice", EntityType::AccountId, -0.4, "word:invoice"),
    ("ticket", EntityType::AccountId, -0.4, "word:ticket"),
    ("key", EntityType::KmsKey, 0.45, "word:key"),
    ("keyid", EntityType::KmsKey, 0.45, "word:key"),
    ("kms", EntityType::KmsKey, 0.45, "word:kms"),
    ("cmk", EntityType::KmsKey, 0.45, "word:cmk"),
    ("request", EntityType::KmsKey, -0.3, "word:request"),
    ("region", EntityType::Region, 0.4, "word:region"),
    ("host", EntityType::Domain, 0.35, "word:host"),
    ("hostname", EntityType::Domain, 0.35, "word:host"),
    ("domain", EntityType::Domain, 0.35, "word:domain"),
    ("resolve", EntityType::Domain, 0.35, "word:resolve"),
    ("dns", EntityType::Domain, 0.35, "word:dns"),
    ("connect", EntityType::Domain, 0.3, "word:connect"),
    ("version", EntityType::Ipv4, -0.6, "word:version"),
    ("ssn", EntityType::NationalId, 0.25, "word:ssn"),
    ("social", EntityType::NationalId, 0.25, "word:social"),
    ("nino", EntityType::NationalId, 0.25, "word:nino"),
    ("insurance", EntityType::NationalId, 0.25, "word:insurance"),
    ("phone", EntityType::Phone, 0.15, "word:phone"),
    ("tel", EntityType::Phone, 0.15, "word:tel"),
    ("mobile", EntityType::Phone, 0.15, "word:mobile"),
    ("call", EntityType::Phone, 0.15, "word:call"),
    ("fax", EntityType::Phone, 0.15, "word:fax"),
    ("contact", EntityType::Phone, 0.15, "word:contact"),
];

/// Key-name pieces that move the score: same shape as [`WORD_CUES`].
const KEY_CUES: &[(&str, EntityType, f32, &str)] = &[
    ("account", EntityType::AccountId, 0.4, "key:account"),
    ("owner", EntityType::AccountId, 0.35, "key:owner"),
    ("phone", EntityType::AccountId, -0.4, "key:phone"),
    ("key", EntityType::KmsKey, 0.45, "key:key"),
    ("kms", EntityType::KmsKey, 0.45, "key:kms"),
    ("cmk", EntityType::KmsKey, 0.45, "key:cmk"),
    ("region", EntityType::Region, 0.4, "key:region"),
    ("host", EntityType::Domain, 0.35, "key:host"),
    ("domain", EntityType::Domain, 0.35, "key:domain"),
    ("endpoint", EntityType::Domain, 0.3, "key:endpoint"),
    ("dns", EntityType::Domain, 0.35, "key:dns"),
    ("server", EntityType::Domain, 0.3, "key:server"),
    ("version", EntityType::Ipv4, -0.6, "key:version"),
    ("ssn", EntityType::NationalId, 0.25, "key:ssn"),
    ("phone", EntityType::Phone, 0.15, "key:phone"),
];

/// Key-name pieces under which a bare name may be an entity (the model decides which).
const KEY_NAME_HINTS: &[(&str, Option<EntityType>)] = &[
    ("bucket", Some(EntityType::S3Bucket)),
    ("user", Some(EntityType::IamUser)),
    ("role", Some(EntityType::IamRole)),
    ("function", Some(EntityType::LambdaFunction)),
    ("lambda", Some(EntityType::LambdaFunction)),
    ("secret", Some(EntityType::Secret)),
    ("host", Some(EntityType::Domain)),
    ("domain", Some(EntityType::Domain)),
    ("target", None),
    ("source", None),
    ("destination", None),
    ("dest", None),
    ("name", None),
    ("principal", None),
    ("resource", None),
    ("owner", None),
    ("identity", None),
    ("member", None),
    ("grantee", None),
    ("id", None),
    ("arn", None),
    ("ref", None),
];

/// A token that could be a resource name: IAM/S3/Lambda/Secrets name characters.
pub fn name_like(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=128).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_+=,.@/-".contains(c))
}

fn is_stopword(s: &str) -> bool {
    s.len() <= 12 && STOPWORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

fn name_valid_for(kind: EntityType, s: &str) -> bool {
    match kind {
        EntityType::S3Bucket => recognize::is_bucket_name(s),
        EntityType::IamUser | EntityType::IamRole => {
            s.len() <= 64
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"_+=,.@-".contains(&c))
        }
        EntityType::LambdaFunction => {
            s.len() <= 64
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        }
        EntityType::Domain => recognize::host_name(s).is_some(),
        _ => true,
    }
}

/// The words of a key as slices (case kept): same cuts as [`key_words`], no allocation.
pub fn key_pieces(key: &str) -> Vec<&str> {
    let b = key.as_bytes();
    let mut out = Vec::new();
    let mut start = None;
    let mut prev_lower = false;
    for (i, &c) in b.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if let Some(s) = start.take() {
                out.push(&key[s..i]);
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            if let Some(s) = start {
                out.push(&key[s..i]);
            }
            start = Some(i);
        } else if start.is_none() {
            start = Some(i);
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if let Some(s) = start {
        out.push(&key[s..]);
    }
    out
}

/// Splits a key into lower-cased words: `dBInstanceIdentifier` -> d, b, instance, identifier;
/// `aws:SourceIp` -> aws, source, ip.
pub fn key_words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn clamp01(x: f32) -> f32 {
    x.clamp(0.0, 1.0)
}

/// Runs the rules over `text` (the value found at `ctx`): PII spans, tokens, recognizers,
/// context. `toks` is cleared first.
pub fn build(ctx: &Ctx, text: &str, rule_certain: f32, toks: &mut Vec<Tok>) {
    toks.clear();
    let mut spans = SPANS.with(|s| std::mem::take(&mut *s.borrow_mut()));
    spans.clear();
    tokenize(text, &mut spans);
    let mut pii_matches = Vec::new();
    if spans.len() > 1 && pii::worth_scanning(text) {
        pii::scan(text, &mut pii_matches);
    }
    let mut m = 0;
    for &(s, e) in &spans {
        while m < pii_matches.len() && pii_matches[m].end <= s {
            m += 1;
        }
        if let Some(p) = pii_matches.get(m)
            && p.start < e
        {
            // Tokens inside a PII span become that one span.
            if toks.last().is_some_and(|t| t.start == p.start) {
                continue;
            }
            toks.push(Tok {
                start: p.start,
                end: p.end,
                cand: Some(Candidate {
                    kind: p.kind,
                    base: p.base,
                    class: None,
                    recognizer: p.recognizer,
                    validator: Some((p.validator, true)),
                    weak: p.base < rule_certain,
                }),
                pii_value: Some(p.value.clone()),
                score: p.base,
                cues: Vec::new(),
                eligible: false,
            });
            continue;
        }
        let tok = text.get(s..e).unwrap_or("");
        toks.push(Tok {
            start: s,
            end: e,
            cand: recognize::recognize(tok),
            pii_value: None,
            score: 0.0,
            cues: Vec::new(),
            eligible: false,
        });
    }
    let single = toks.len() == 1;
    let mut kw: Option<Vec<&str>> = None;
    for i in 0..toks.len() {
        let tok = text.get(toks[i].start..toks[i].end).unwrap_or("");
        if let Some(c) = toks[i].cand {
            let mut score = c.base;
            let has_word_cues = matches!(
                c.kind,
                EntityType::AccountId
                    | EntityType::KmsKey
                    | EntityType::Region
                    | EntityType::Domain
                    | EntityType::Ipv4
                    | EntityType::NationalId
                    | EntityType::Phone
            );
            // Context words: the three tokens before this one.
            for back in 1..=(if has_word_cues { 3.min(i) } else { 0 }) {
                let w = text
                    .get(toks[i - back].start..toks[i - back].end)
                    .unwrap_or("");
                if w.len() > 12 {
                    continue;
                }
                if let Some(&(_, _, d, label)) = WORD_CUES
                    .iter()
                    .find(|(word, t, _, _)| *t == c.kind && word.eq_ignore_ascii_case(w))
                    && toks[i].cues.iter().all(|a| a.cue != label)
                {
                    {
                        score += d;
                        toks[i].cues.push(Adjustment {
                            cue: Cow::Borrowed(label),
                            delta: d,
                        });
                    }
                }
            }
            if c.weak || c.kind == EntityType::Ipv4 || c.kind == EntityType::Phone {
                let words = kw.get_or_insert_with(|| key_pieces(ctx.key));
                for w in words.iter() {
                    if let Some(&(_, _, d, label)) = KEY_CUES
                        .iter()
                        .find(|(k, t, _, _)| *t == c.kind && k.eq_ignore_ascii_case(w))
                        && toks[i].cues.iter().all(|a| a.cue != label)
                    {
                        score += d;
                        toks[i].cues.push(Adjustment {
                            cue: Cow::Borrowed(label),
                            delta: d,
                        });
                    }
                }
            }
            toks[i].score = clamp01(score);
            toks[i].eligible = c.weak && toks[i].score < rule_certain;
            continue;
        }
        if !name_like(tok) {
            continue;
        }
        // A name right after a cue word ("user bob", "role with name Admin").
        let mut cue_kind = None;
        for back in 1..=3.min(i) {
            let w = text
                .get(toks[i - back].start..toks[i - back].end)
                .unwrap_or("");
            if w.len() > 9 {
                break;
            }
            if let Some(&(_, t)) = NAME_CUES.iter().find(|(c, _)| c.eq_ignore_ascii_case(w)) {
                cue_kind = Some(t);
                break;
            }
            let bridge = ["name", "named", "called", "id", "with"];
            if !bridge.iter().any(|b| b.eq_ignore_ascii_case(w)) {
                break;
            }
        }
        if cue_kind.is_none() && single {
            let words = kw.get_or_insert_with(|| key_pieces(ctx.key));
            for w in words.iter().rev() {
                if let Some(&(_, t)) = KEY_NAME_HINTS
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(w))
                {
                    match t {
                        Some(t) => {
                            cue_kind = Some(t);
                            break;
                        }
                        None => toks[i].eligible = true,
                    }
                }
            }
        }
        if (cue_kind.is_some() || toks[i].eligible) && is_stopword(tok) {
            toks[i].eligible = false;
            continue;
        }
        if let Some(t) = cue_kind
            && name_valid_for(t, tok)
        {
            toks[i].cand = Some(Candidate {
                kind: t,
                base: 0.5,
                class: None,
                recognizer: "cue_name",
                validator: None,
                weak: true,
            });
            toks[i].score = 0.5;
            toks[i].eligible = true;
        }
    }
    SPANS.with(|s| *s.borrow_mut() = spans);
}

/// Normalized value of a token as type `kind`.
fn normalize<'a: 't, 't>(src: Src<'a, 't>, t: &Tok, kind: EntityType) -> Cow<'a, str> {
    if let Some(v) = &t.pii_value {
        return Cow::Owned(v.clone());
    }
    let raw = src.cow(t.start, t.end);
    match kind {
        EntityType::S3Bucket | EntityType::Domain | EntityType::Email => {
            let trimmed_dot = kind == EntityType::Domain && raw.ends_with('.');
            if raw.bytes().any(|b| b.is_ascii_uppercase()) || trimmed_dot {
                let mut s = raw.to_ascii_lowercase();
                if trimmed_dot {
                    s.pop();
                }
                Cow::Owned(s)
            } else {
                raw
            }
        }
        EntityType::Ipv6 => match raw.parse::<std::net::Ipv6Addr>() {
            Ok(a) => {
                let canon = a.to_string();
                if canon == raw { raw } else { Cow::Owned(canon) }
            }
            Err(_) => raw,
        },
        _ => raw,
    }
}

/// Features of token `i` for the model. The key features are computed once per text.
pub fn token_features(
    text: &str,
    toks: &[Tok],
    i: usize,
    key_feats: &[String],
    emit: &mut dyn FnMut(&str),
) {
    let mut buf = String::with_capacity(64);
    let tok_text = |j: usize| text.get(toks[j].start..toks[j].end).unwrap_or("");
    let s = tok_text(i);
    emit("b");
    for k in key_feats {
        emit(k);
    }
    let put = |buf: &mut String, p: &str, v: &str, emit: &mut dyn FnMut(&str)| {
        buf.clear();
        buf.push_str(p);
        buf.push_str(v);
        emit(buf);
    };
    let sh = shape(s);
    put(&mut buf, "s=", &sh, emit);
    let lower: String = s.chars().take(24).map(|c| c.to_ascii_lowercase()).collect();
    let p2: String = lower.chars().take(2).collect();
    let p4: String = lower.chars().take(4).collect();
    put(&mut buf, "p2=", &p2, emit);
    put(&mut buf, "p4=", &p4, emit);
    let x3: String = {
        let v: Vec<char> = s.chars().rev().take(3).collect();
        v.into_iter()
            .rev()
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    put(&mut buf, "x3=", &x3, emit);
    let len_bucket = match s.len() {
        0..=2 => "1",
        3..=5 => "3",
        6..=10 => "6",
        11..=20 => "11",
        21..=40 => "21",
        _ => "41",
    };
    put(&mut buf, "L=", len_bucket, emit);
    if s.len() <= 24 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        put(&mut buf, "w=", &lower, emit);
    }
    let b = s.as_bytes();
    for (flag, on) in [
        ("f:dig", b.iter().any(u8::is_ascii_digit)),
        ("f:up", b.iter().any(u8::is_ascii_uppercase)),
        ("f:low", b.iter().any(u8::is_ascii_lowercase)),
        ("f:dash", b.contains(&b'-')),
        ("f:dot", b.contains(&b'.')),
        ("f:slash", b.contains(&b'/')),
        ("f:colon", b.contains(&b':')),
        ("f:at", b.contains(&b'@')),
        ("f:us", b.contains(&b'_')),
        (
            "f:alldig",
            !b.is_empty() && b.iter().all(u8::is_ascii_digit),
        ),
    ] {
        if on {
            emit(flag);
        }
    }
    if let Some(c) = toks[i].cand {
        put(&mut buf, "c=", c.kind.name(), emit);
        put(&mut buf, "r=", c.recognizer, emit);
        let band = if toks[i].score >= 0.9 {
            "hi"
        } else if toks[i].score >= 0.5 {
            "mid"
        } else {
            "lo"
        };
        buf.clear();
        buf.push_str("cs=");
        buf.push_str(c.kind.name());
        buf.push(':');
        buf.push_str(band);
        emit(&buf);
        if let Some((v, ok)) = c.validator {
            buf.clear();
            buf.push_str("v=");
            buf.push_str(v);
            buf.push_str(if ok { ":ok" } else { ":bad" });
            emit(&buf);
        }
        for a in &toks[i].cues {
            put(&mut buf, "cue=", &a.cue, emit);
        }
    }
    if toks.len() == 1 {
        emit("single");
        if let Some(last) = key_feats.iter().find_map(|k| k.strip_prefix("kl=")) {
            buf.clear();
            buf.push_str("kl|s=");
            buf.push_str(last);
            buf.push('|');
            buf.push_str(&sh);
            emit(&buf);
        }
    }
    for (off, name) in [(-1i32, "-1"), (-2, "-2"), (1, "+1")] {
        let j = i as i32 + off;
        if j < 0 || j as usize >= toks.len() {
            buf.clear();
            buf.push_str(name);
            buf.push_str(if off < 0 { ":bos" } else { ":eos" });
            emit(&buf);
            continue;
        }
        let j = j as usize;
        let n = tok_text(j);
        buf.clear();
        buf.push_str(name);
        if n.len() <= 20 && n.bytes().all(|b| b.is_ascii_alphabetic()) {
            buf.push_str("w=");
            buf.extend(n.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            buf.push_str("s=");
            buf.push_str(&shape(n));
        }
        emit(&buf);
        if let Some(c) = toks[j].cand {
            buf.clear();
            buf.push_str(name);
            buf.push_str("c=");
            buf.push_str(c.kind.name());
            emit(&buf);
        }
    }
}

/// Key-path features shared by every token of one text.
pub fn key_features(ctx: &Ctx) -> Vec<String> {
    let mut v = Vec::with_capacity(8);
    let words = key_words(ctx.key);
    v.push(format!("k={}", words.join("_")));
    for w in &words {
        v.push(format!("kt={w}"));
    }
    if let Some(last) = words.last() {
        v.push(format!("kl={last}"));
    }
    for w in key_words(ctx.parent) {
        v.push(format!("pt={w}"));
    }
    if !ctx.service.is_empty() {
        v.push(format!("svc={}", ctx.service));
    }
    v
}

/// Character-class shape with runs collapsed: `corp-archive-7731` -> `a-a-9`,
/// `AdminRole` -> `AaAa`, capped at 16 characters.
pub fn shape(s: &str) -> String {
    let mut out = String::with_capacity(16);
    let mut last = '\0';
    for c in s.chars() {
        let k = if c.is_ascii_uppercase() {
            'A'
        } else if c.is_ascii_lowercase() {
            'a'
        } else if c.is_ascii_digit() {
            '9'
        } else if c.is_ascii() {
            c
        } else {
            'u'
        };
        if k != last {
            out.push(k);
            last = k;
            if out.len() >= 16 {
                break;
            }
        }
    }
    out
}

/// Windows of tokens around the eligible ones, merged where they overlap.
fn windows(toks: &[Tok]) -> Vec<(usize, usize)> {
    let mut w: Vec<(usize, usize)> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if !t.eligible {
            continue;
        }
        let (s, e) = (i.saturating_sub(2), (i + 3).min(toks.len()));
        match w.last_mut() {
            Some(last) if last.1 >= s => last.1 = e,
            _ => w.push((s, e)),
        }
    }
    w
}

/// The model's answer for each token (`None` where it was not asked): type (`None` for
/// outside), probability, runner-up label and its probability.
pub type Answers = Vec<Option<(Option<EntityType>, f32, &'static str, f32)>>;

thread_local! {
    /// Model answers for recently seen (key, value) pairs: CloudTrail repeats the same
    /// parameter values (filter names, instance types) across millions of events.
    static ANSWER_CACHE: RefCell<HashMap<u64, (Box<str>, Answers), FxBuild>> =
        RefCell::new(HashMap::default());
    /// Hashes of (model, service, key, parent, value) that produced no entity.
    static EMPTY_CACHE: RefCell<std::collections::HashSet<u64, FxBuild>> =
        RefCell::new(std::collections::HashSet::default());
    /// Span buffer reused across calls.
    static SPANS: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
    /// Token buffer reused across calls.
    static TOKS: RefCell<Vec<Tok>> = const { RefCell::new(Vec::new()) };
}

const ANSWER_CACHE_MAX: usize = 4096;
const EMPTY_CACHE_MAX: usize = 16384;

/// [`model_answers`] through the per-thread cache. The key covers everything the answer
/// depends on: the model instance, the rule threshold, the service, key, parent key and text.
fn cached_answers(ex: &Extractor, ctx: &Ctx, text: &str, toks: &[Tok]) -> Answers {
    let Some(model) = ex.model() else {
        return Vec::new();
    };
    if text.len() > 512 {
        return model_answers(ex, ctx, text, toks);
    }
    let mut h = FxHasher::default();
    h.write_u64(model.id());
    h.write_u32(ex.config().rule_certain.to_bits());
    for part in [ctx.service, ctx.key, ctx.parent, text] {
        h.write(part.as_bytes());
        h.write_u8(0xff);
    }
    let key = h.finish();
    let hit = ANSWER_CACHE.with(|c| {
        c.borrow()
            .get(&key)
            .filter(|(t, _)| &**t == text)
            .map(|(_, a)| a.clone())
    });
    if let Some(a) = hit {
        return a;
    }
    let a = model_answers(ex, ctx, text, toks);
    ANSWER_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= ANSWER_CACHE_MAX {
            c.clear();
        }
        c.insert(key, (text.into(), a.clone()));
    });
    a
}

/// The model's answer for each eligible token: (label id, marginals) pairs per window.
pub fn model_answers(ex: &Extractor, ctx: &Ctx, text: &str, toks: &[Tok]) -> Answers {
    let mut answers = vec![None; toks.len()];
    let Some(model) = ex.model() else {
        return answers;
    };
    let wins = windows(toks);
    if wins.is_empty() {
        return answers;
    }
    let key_feats = key_features(ctx);
    for (s, e) in wins {
        let m: Marginals = model.marginals(e - s, &mut |t, emit| {
            token_features(text, toks, s + t, &key_feats, emit)
        });
        for t in 0..e - s {
            if !toks[s + t].eligible {
                continue;
            }
            let (best, p) = m.best(t);
            let (second, p2) = m.runner_up(t);
            let second_name = model.label(second).map_or("O", EntityType::name);
            answers[s + t] = Some((model.label(best), p, second_name, p2));
        }
    }
    answers
}

/// Rules, then the model, over one text; pushes the resulting entities.
pub fn analyze<'a: 't, 't>(
    ex: &Extractor,
    ctx: &Ctx,
    src: Src<'a, 't>,
    base: usize,
    out: &mut Vec<Entity<'a>>,
) {
    let text = src.text();
    if text.is_empty() || text.len() > 64 * 1024 {
        return;
    }
    // Values already seen to hold nothing (enum-like values repeated across events) are
    // skipped after one hash.
    let empty_key = (text.len() <= 256).then(|| {
        let mut h = FxHasher::default();
        h.write_u64(ex.model().map_or(0, |m| m.id()));
        h.write_u32(ex.config().rule_certain.to_bits());
        for part in [ctx.service, ctx.key, ctx.parent, text] {
            h.write(part.as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    });
    if let Some(k) = empty_key
        && EMPTY_CACHE.with(|c| c.borrow().contains(&k))
    {
        return;
    }
    let before = out.len();
    let mut toks = TOKS.with(|t| std::mem::take(&mut *t.borrow_mut()));
    build(ctx, text, ex.config().rule_certain, &mut toks);
    if !toks.is_empty() {
        let answers = if toks.iter().any(|t| t.eligible) {
            cached_answers(ex, ctx, text, &toks)
        } else {
            Vec::new()
        };
        emit(ex, ctx, src, base, &toks, &answers, out);
    }
    TOKS.with(|t| *t.borrow_mut() = toks);
    if let Some(k) = empty_key
        && out.len() == before
    {
        EMPTY_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= EMPTY_CACHE_MAX {
                c.clear();
            }
            c.insert(k);
        });
    }
}

fn emit<'a: 't, 't>(
    ex: &Extractor,
    ctx: &Ctx,
    src: Src<'a, 't>,
    base: usize,
    toks: &[Tok],
    answers: &Answers,
    out: &mut Vec<Entity<'a>>,
) {
    let text = src.text();
    let review_floor = ex.config().review;
    for (i, t) in toks.iter().enumerate() {
        let (kind, score, explanation, class) =
            match (answers.get(i).and_then(Option::as_ref), t.cand) {
                (Some((label, p, second, p2)), cand) => {
                    let Some(kind) = *label else {
                        continue;
                    };
                    let class = cand.filter(|c| c.kind == kind).and_then(|c| c.class);
                    let explanation = Explanation {
                        recognizer: "model",
                        base: cand.map_or(0.0, |c| c.base),
                        validator: cand
                            .and_then(|c| c.validator)
                            .map(|(name, ok)| Validation { name, ok }),
                        context: t.cues.clone(),
                        model: Some(Box::new(ModelNote {
                            p: *p,
                            runner_up: second,
                            runner_up_p: *p2,
                        })),
                    };
                    (kind, *p, explanation, class)
                }
                (None, Some(c)) => {
                    let explanation = Explanation {
                        recognizer: c.recognizer,
                        base: c.base,
                        validator: c.validator.map(|(name, ok)| Validation { name, ok }),
                        context: t.cues.clone(),
                        model: None,
                    };
                    (c.kind, t.score, explanation, c.class)
                }
                (None, None) => continue,
            };
        if score < review_floor.min(ex.config().review_for(kind)) {
            continue;
        }
        let field_text = (score < ex.config().accept_for(kind)).then(|| {
            Box::new(FieldText {
                text: src.cow(0, text.len()),
                span: [t.start as u32, t.end as u32],
            })
        });
        out.push(Entity {
            kind,
            value: normalize(src, t, kind),
            score,
            class,
            origin: Origin {
                path: ctx.origin_path(),
                span: Some([(base + t.start) as u32, (base + t.end) as u32]),
            },
            explanation,
            field_text,
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn toks(s: &str) -> Vec<&str> {
        let mut v = Vec::new();
        tokenize(s, &mut v);
        v.into_iter().map(|(a, b)| &s[a..b]).collect()
    }

    #[test]
    fn tokenizer_trims_and_splits() {
        assert_eq!(
            toks("User: arn:aws:iam::1:user/bob is not authorized to perform: s3:GetObject."),
            vec![
                "User",
                "arn:aws:iam::1:user/bob",
                "is",
                "not",
                "authorized",
                "to",
                "perform",
                "s3:GetObject"
            ]
        );
        assert_eq!(
            toks("src=10.0.0.1&dst=8.8.8.8"),
            vec!["src", "10.0.0.1", "dst", "8.8.8.8"]
        );
        assert_eq!(
            toks("see https://x.example.com/?a=b."),
            vec!["see", "https://x.example.com/?a=b"]
        );
        assert_eq!(
            toks("'i-0abc1234', \"sg-1\" (vpc-1)"),
            vec!["i-0abc1234", "sg-1", "vpc-1"]
        );
        assert_eq!(toks("addr 2001:db8::"), vec!["addr", "2001:db8::"]);
        assert!(toks("  ... ").is_empty());
    }

    #[test]
    fn key_words_split_camel_case() {
        assert_eq!(
            key_words("dBInstanceIdentifier"),
            vec!["d", "binstance", "identifier"]
        );
        assert_eq!(key_words("aws:SourceIp"), vec!["aws", "source", "ip"]);
        assert_eq!(key_words("s3BucketName"), vec!["s3", "bucket", "name"]);
        assert_eq!(key_words("targetBucket"), vec!["target", "bucket"]);
        for k in [
            "dBInstanceIdentifier",
            "aws:SourceIp",
            "s3BucketName",
            "x",
            "",
            "a--b",
            "ABC",
        ] {
            let lower: Vec<String> = key_pieces(k)
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect();
            assert_eq!(lower, key_words(k), "{k}");
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(shape("corp-archive-7731"), "a-a-9");
        assert_eq!(shape("AdminRole"), "AaAa");
        assert_eq!(shape("i-0abc"), "a-9a");
    }

    #[test]
    fn context_raises_account_ids() {
        let ctx = Ctx::new("", "errorMessage");
        let mut t = Vec::new();
        build(&ctx, "in account 123456789012 today", 0.9, &mut t);
        let acc = t.iter().find(|t| t.cand.is_some()).unwrap();
        assert!(acc.score >= 0.9);
        assert!(!acc.eligible);
        build(&ctx, "order 123456789012", 0.9, &mut t);
        let acc = t.iter().find(|t| t.cand.is_some()).unwrap();
        assert!(acc.score < 0.5 && acc.eligible);
    }

    #[test]
    fn cue_names_are_weak_candidates() {
        let ctx = Ctx::new("", "errorMessage");
        let mut t = Vec::new();
        build(
            &ctx,
            "The role with name DeployRole cannot be found.",
            0.9,
            &mut t,
        );
        let c: Vec<_> = t.iter().filter_map(|t| t.cand).collect();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].kind, EntityType::IamRole);
        assert!(c[0].weak);
        build(&ctx, "The user is not authorized", 0.9, &mut t);
        assert!(t.iter().all(|t| t.cand.is_none()));
    }
}
