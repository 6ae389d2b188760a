//! Typed mappings: where a field says what its value is, the value is validated and taken
//! with score 1.0 and the field path as the explanation. Everything else falls through to the
//! recognizers in [`super::text`].
//!
//! Request and response parameters are walked as raw JSON ([`super::json`]); each leaf is
//! matched on its key name (and for ambiguous names, the service or parent key), so the
//! hundreds of APIs that reuse `bucketName`, `instanceId`, `roleArn`, `keyId` are covered
//! without a per-API table.

use std::borrow::Cow;

use super::arn::Arn;
use super::json;
use std::hash::Hasher;

use super::model::{FxBuild, FxHasher};
use super::recognize;
use super::text::{self, Src};
use super::types::EntityType;
use super::useragent;
use super::{Entity, Explanation, Extractor, Origin, Validation};
use crate::parse::cloudtrail::{CloudTrailRecord, UserIdentity};
use crate::parse::s3access::S3AccessRecord;
use crate::parse::vpcflow::FlowRecord;

/// Where a value sits: the service of the event and the key path.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'p> {
    /// Short event source (`iam`, `s3`, `ec2`); empty when unknown.
    pub service: &'p str,
    /// Path of the field the walk started from (`requestParameters`).
    pub prefix: &'p str,
    /// Keys below `prefix`.
    pub keys: &'p [&'p str],
    /// The last key (the value's own name).
    pub key: &'p str,
    /// The key above it.
    pub parent: &'p str,
    static_path: Option<&'static str>,
}

impl<'p> Ctx<'p> {
    /// A context for a dotted path such as `requestParameters.targetBucket`.
    pub fn new(service: &'p str, path: &'p str) -> Self {
        let (head, key) = match path.bytes().rposition(|c| c == b'.') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path),
        };
        let parent = match head.bytes().rposition(|c| c == b'.') {
            Some(i) => &head[i + 1..],
            None => head,
        };
        Ctx {
            service,
            prefix: path,
            keys: &[],
            key,
            parent,
            static_path: None,
        }
    }

    fn fixed(service: &'p str, path: &'static str) -> Self {
        Ctx {
            static_path: Some(path),
            ..Ctx::new(service, path)
        }
    }

    fn child(&self, keys: &'p [&'p str]) -> Ctx<'p> {
        let key = keys.last().copied().unwrap_or(self.key);
        let parent = match keys.len() {
            0 => self.parent,
            1 => self.key,
            n => keys[n - 2],
        };
        Ctx {
            service: self.service,
            prefix: self.prefix,
            keys,
            key,
            parent,
            static_path: None,
        }
    }

    /// The full dotted path (allocates only for walked keys).
    pub fn origin_path(&self) -> Cow<'static, str> {
        if let Some(p) = self.static_path {
            return Cow::Borrowed(p);
        }
        let mut s = String::with_capacity(self.prefix.len() + 16 * self.keys.len());
        s.push_str(self.prefix);
        for k in self.keys {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(k);
        }
        Cow::Owned(s)
    }

    /// The same position with the walked keys folded into the prefix, so a nested walk
    /// (a policy document inside a parameter) keeps the full path.
    fn rebased<'q>(&self, prefix: &'q str) -> Ctx<'q>
    where
        'p: 'q,
    {
        Ctx {
            service: self.service,
            prefix,
            keys: &[],
            key: self.key,
            parent: self.parent,
            static_path: None,
        }
    }

    fn in_principal(&self) -> bool {
        self.parent.eq_ignore_ascii_case("principal")
            || self.parent.eq_ignore_ascii_case("notprincipal")
    }
}

/// `iam.amazonaws.com` -> `iam`.
pub fn short_service(event_source: &str) -> &str {
    event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source)
}

/// What a key says about its value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// An ARN; the type comes from the ARN.
    Arn,
    /// An id of this exact type (validated by its recognizer).
    Typed(EntityType),
    /// An address or a range.
    IpOrCidr,
    /// A name of this type, or its ARN.
    Name(EntityType),
    /// KMS key id, key ARN, alias name or alias ARN.
    Kms,
    /// Policy `Principal.AWS`: ARN, account id or `*`.
    Principal,
    /// Policy `Principal.Service`.
    Service,
    /// Policy `Principal.Federated`.
    Federated,
    UserAgent,
    /// A nested JSON document held in a string (policies).
    Json,
    /// Known to hold no entity; not even scanned.
    Ignore,
}

fn lower_key<'b>(key: &str, buf: &'b mut [u8; 64]) -> Option<&'b str> {
    let b = key.as_bytes();
    if b.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(b) {
        *d = s.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..b.len()]).ok()
}

/// Key names (lower case) with a rule that does not depend on the service.
static KEY_RULES: std::sync::LazyLock<
    std::collections::HashMap<u64, (&'static str, Rule), FxBuild>,
> = std::sync::LazyLock::new(|| {
    [
        ("accesskeyid", Rule::Typed(EntityType::AccessKey)),
        ("accountid", Rule::Typed(EntityType::AccountId)),
        ("awsaccountid", Rule::Typed(EntityType::AccountId)),
        ("targetaccountid", Rule::Typed(EntityType::AccountId)),
        ("sourceaccount", Rule::Typed(EntityType::AccountId)),
        ("aws:sourceaccount", Rule::Typed(EntityType::AccountId)),
        ("aws:principalaccount", Rule::Typed(EntityType::AccountId)),
        ("aws:resourceaccount", Rule::Typed(EntityType::AccountId)),
        ("recipientaccountid", Rule::Typed(EntityType::AccountId)),
        ("owneraccount", Rule::Typed(EntityType::AccountId)),
        ("owneraccountid", Rule::Typed(EntityType::AccountId)),
        ("destinationaccountid", Rule::Typed(EntityType::AccountId)),
        ("memberaccountid", Rule::Typed(EntityType::AccountId)),
        ("bucketname", Rule::Name(EntityType::S3Bucket)),
        ("bucket", Rule::Name(EntityType::S3Bucket)),
        ("s3bucketname", Rule::Name(EntityType::S3Bucket)),
        ("s3bucket", Rule::Name(EntityType::S3Bucket)),
        ("targetbucket", Rule::Name(EntityType::S3Bucket)),
        ("destinationbucketname", Rule::Name(EntityType::S3Bucket)),
        ("sourcebucket", Rule::Name(EntityType::S3Bucket)),
        ("sourcebucketname", Rule::Name(EntityType::S3Bucket)),
        ("logbucket", Rule::Name(EntityType::S3Bucket)),
        ("instanceid", Rule::Typed(EntityType::Ec2Instance)),
        ("instanceids", Rule::Typed(EntityType::Ec2Instance)),
        ("vpcid", Rule::Typed(EntityType::Vpc)),
        ("vpcids", Rule::Typed(EntityType::Vpc)),
        ("aws:sourcevpc", Rule::Typed(EntityType::Vpc)),
        ("subnetid", Rule::Typed(EntityType::Subnet)),
        ("subnetids", Rule::Typed(EntityType::Subnet)),
        ("groupid", Rule::Typed(EntityType::SecurityGroup)),
        ("groupids", Rule::Typed(EntityType::SecurityGroup)),
        ("securitygroupid", Rule::Typed(EntityType::SecurityGroup)),
        ("securitygroupids", Rule::Typed(EntityType::SecurityGroup)),
        (
            "vpcsecuritygroupids",
            Rule::Typed(EntityType::SecurityGroup),
        ),
        ("securitygroups", Rule::Typed(EntityType::SecurityGroup)),
        ("referencedgroupid", Rule::Typed(EntityType::SecurityGroup)),
        ("networkinterfaceid", Rule::Typed(EntityType::Eni)),
        ("networkinterfaceids", Rule::Typed(EntityType::Eni)),
        ("volumeid", Rule::Typed(EntityType::Volume)),
        ("volumeids", Rule::Typed(EntityType::Volume)),
        ("snapshotid", Rule::Typed(EntityType::Snapshot)),
        ("snapshotids", Rule::Typed(EntityType::Snapshot)),
        ("sourcesnapshotid", Rule::Typed(EntityType::Snapshot)),
        ("imageid", Rule::Typed(EntityType::Ami)),
        ("imageids", Rule::Typed(EntityType::Ami)),
        ("sourceimageid", Rule::Typed(EntityType::Ami)),
        ("cidrip", Rule::IpOrCidr),
        ("cidripv6", Rule::IpOrCidr),
        ("cidrblock", Rule::IpOrCidr),
        ("ipv6cidrblock", Rule::IpOrCidr),
        ("cidr", Rule::IpOrCidr),
        ("cidrs", Rule::IpOrCidr),
        ("aws:sourceip", Rule::IpOrCidr),
        ("sourceip", Rule::IpOrCidr),
        ("destinationcidrblock", Rule::IpOrCidr),
        ("ipaddress", Rule::IpOrCidr),
        ("sourceipaddress", Rule::IpOrCidr),
        ("privateipaddress", Rule::IpOrCidr),
        ("publicip", Rule::IpOrCidr),
        ("publicipaddress", Rule::IpOrCidr),
        ("ip", Rule::IpOrCidr),
        ("clientip", Rule::IpOrCidr),
        ("remoteip", Rule::IpOrCidr),
        ("ipaddresses", Rule::IpOrCidr),
        ("ipv6address", Rule::IpOrCidr),
        ("keyid", Rule::Kms),
        ("targetkeyid", Rule::Kms),
        ("kmskeyid", Rule::Kms),
        ("kmsmasterkeyid", Rule::Kms),
        ("ssekmskeyid", Rule::Kms),
        ("kmskey", Rule::Kms),
        ("sseawskmskeyid", Rule::Kms),
        ("x-amz-server-side-encryption-aws-kms-key-id", Rule::Kms),
        ("aliasname", Rule::Kms),
        ("sourcekeyid", Rule::Kms),
        ("destinationkeyid", Rule::Kms),
        ("functionname", Rule::Name(EntityType::LambdaFunction)),
        ("secretid", Rule::Name(EntityType::Secret)),
        ("region", Rule::Typed(EntityType::Region)),
        ("awsregion", Rule::Typed(EntityType::Region)),
        ("regionname", Rule::Typed(EntityType::Region)),
        ("aws:requestedregion", Rule::Typed(EntityType::Region)),
        ("useragent", Rule::UserAgent),
        ("email", Rule::Typed(EntityType::Email)),
        ("emailaddress", Rule::Typed(EntityType::Email)),
        ("action", Rule::Typed(EntityType::IamAction)),
        ("notaction", Rule::Typed(EntityType::IamAction)),
        ("resource", Rule::Arn),
        ("notresource", Rule::Arn),
        ("policydocument", Rule::Json),
        ("assumerolepolicydocument", Rule::Json),
        ("policy", Rule::Json),
        ("keypolicy", Rule::Json),
        ("bucketpolicy", Rule::Json),
        ("resourcepolicy", Rule::Json),
        ("trustpolicy", Rule::Json),
        ("policytext", Rule::Json),
        ("rolesessionname", Rule::Ignore),
        ("policyname", Rule::Ignore),
        ("instanceprofilename", Rule::Ignore),
        ("path", Rule::Ignore),
        ("nexttoken", Rule::Ignore),
        ("marker", Rule::Ignore),
        ("maxresults", Rule::Ignore),
        ("maxitems", Rule::Ignore),
        ("durationseconds", Rule::Ignore),
        ("externalid", Rule::Ignore),
        ("tokencode", Rule::Ignore),
        ("versionid", Rule::Ignore),
        ("encryptiontype", Rule::Ignore),
        ("status", Rule::Ignore),
        ("state", Rule::Ignore),
        ("sid", Rule::Ignore),
        ("effect", Rule::Ignore),
        ("version", Rule::Ignore),
        ("requestid", Rule::Ignore),
        ("eventid", Rule::Ignore),
        ("clienttoken", Rule::Ignore),
        ("sessiontoken", Rule::Ignore),
        ("expiration", Rule::Ignore),
        ("createdate", Rule::Ignore),
        ("creationdate", Rule::Ignore),
        ("x-amz-id-2", Rule::Ignore),
        ("signatureversion", Rule::Ignore),
        ("ciphersuite", Rule::Ignore),
        ("authenticationmethod", Rule::Ignore),
        ("bytestransferredin", Rule::Ignore),
        ("bytestransferredout", Rule::Ignore),
        ("x-amz-date", Rule::Ignore),
        ("sessionduration", Rule::Ignore),
        ("keyname", Rule::Ignore),
        ("xmlns", Rule::Ignore),
        ("userdata", Rule::Ignore),
        ("arn", Rule::Arn),
        ("url", Rule::Typed(EntityType::Url)),
        ("host", Rule::Typed(EntityType::Domain)),
        ("privatednsname", Rule::Typed(EntityType::Domain)),
        ("publicdnsname", Rule::Typed(EntityType::Domain)),
        ("dnsname", Rule::Typed(EntityType::Domain)),
        ("instancetype", Rule::Ignore),
    ]
    .into_iter()
    .map(|(k, r)| {
        let mut h = FxHasher::default();
        h.write(k.as_bytes());
        (h.finish(), (k, r))
    })
    .collect()
});

fn rule_for(ctx: &Ctx) -> Option<Rule> {
    let key = ctx.key;
    if key.len() > 64 {
        return None;
    }
    if ctx.in_principal() {
        let k = |s: &str| key.eq_ignore_ascii_case(s);
        return Some(if k("aws") {
            Rule::Principal
        } else if k("service") {
            Rule::Service
        } else if k("federated") {
            Rule::Federated
        } else {
            Rule::Ignore
        });
    }
    // Hash the lower-cased key; the table check confirms the match.
    let mut buf = [0u8; 64];
    let lower = &mut buf[..key.len()];
    for (d, s) in lower.iter_mut().zip(key.bytes()) {
        *d = s.to_ascii_lowercase();
    }
    let mut h = FxHasher::default();
    h.write(lower);
    if let Some(&(name, rule)) = KEY_RULES.get(&h.finish())
        && name.as_bytes() == lower
    {
        return Some(rule);
    }
    guarded_rule(ctx).or_else(|| {
        let n = key.len();
        (n > 3 && key[n - 3..].eq_ignore_ascii_case("arn")).then_some(Rule::Arn)
    })
}

/// Keys whose meaning depends on the service.
fn guarded_rule(ctx: &Ctx) -> Option<Rule> {
    if !matches!(ctx.key.len(), 4 | 7 | 8 | 9) {
        return None;
    }
    let mut buf = [0u8; 64];
    let key = lower_key(ctx.key, &mut buf)?;
    let svc = ctx.service;
    match key {
        "ownerid" if svc == "ec2" => Some(Rule::Typed(EntityType::AccountId)),
        "name" if svc == "secretsmanager" => Some(Rule::Name(EntityType::Secret)),
        "username" if matches!(svc, "iam" | "sts" | "signin") => {
            Some(Rule::Name(EntityType::IamUser))
        }
        "rolename" if svc == "iam" => Some(Rule::Name(EntityType::IamRole)),
        "name" | "trailname" if svc == "cloudtrail" => Some(Rule::Arn),
        "location" if svc == "guardduty" => Some(Rule::Typed(EntityType::Url)),
        _ => None,
    }
}

fn field_entity<'a>(
    kind: EntityType,
    value: Cow<'a, str>,
    class: Option<&'static str>,
    path: Cow<'static, str>,
    span: Option<[u32; 2]>,
    validator: Option<&'static str>,
) -> Entity<'a> {
    Entity {
        kind,
        value,
        score: 1.0,
        class,
        origin: Origin { path, span },
        explanation: Explanation {
            validator: validator.map(|name| Validation { name, ok: true }),
            ..Explanation::field()
        },
        field_text: None,
    }
}

/// Applies a key rule to a value. Returns false when the value does not fit the rule, so
/// the caller falls back to the recognizers.
fn apply_rule<'a: 't, 't>(
    ex: &Extractor,
    ctx: &Ctx,
    rule: Rule,
    src: Src<'a, 't>,
    base: usize,
    depth: usize,
    out: &mut Vec<Entity<'a>>,
) -> bool {
    let v = src.text();
    let span = Some([base as u32, (base + v.len()) as u32]);
    let whole = || src.cow(0, v.len());
    let push = |out: &mut Vec<Entity<'a>>, kind, value, class, validator| {
        out.push(field_entity(
            kind,
            value,
            class,
            ctx.origin_path(),
            span,
            validator,
        ));
    };
    let by_arn = |out: &mut Vec<Entity<'a>>| -> bool {
        match Arn::parse(v) {
            Ok(a) => {
                push(
                    out,
                    a.entity_type(),
                    whole(),
                    a.class(),
                    Some("arn_grammar"),
                );
                true
            }
            Err(_) => false,
        }
    };
    match rule {
        Rule::Ignore => true,
        Rule::Json => {
            let t = v.trim_start();
            if t.starts_with('{') || t.starts_with('[') {
                walk_json(ex, ctx, src, base, depth + 1, out)
            } else {
                false
            }
        }
        Rule::Arn => v == "*" || by_arn(out),
        Rule::Principal => {
            if v == "*" {
                true
            } else if recognize::is_account_id(v) {
                push(out, EntityType::AccountId, whole(), None, Some("12_digits"));
                true
            } else {
                by_arn(out)
            }
        }
        Rule::Service => {
            let ok = v.ends_with(".amazonaws.com") || v.ends_with(".amazonaws.com.cn");
            if ok {
                push(
                    out,
                    EntityType::AwsService,
                    whole(),
                    None,
                    Some("service_principal"),
                );
            }
            ok
        }
        Rule::Federated => {
            if v.starts_with("arn:") {
                return by_arn(out);
            }
            let ok = recognize::host_name(v).is_some();
            if ok {
                push(
                    out,
                    EntityType::WebIdentity,
                    whole(),
                    Some("oidc"),
                    Some("host_name"),
                );
            }
            ok
        }
        Rule::UserAgent => {
            let fam = useragent::classify(v);
            push(
                out,
                EntityType::UserAgent,
                whole(),
                Some(fam.as_str()),
                None,
            );
            true
        }
        Rule::Kms => {
            if v.starts_with("arn:") {
                return match Arn::parse(v) {
                    Ok(a) if a.service == "kms" => {
                        push(
                            out,
                            EntityType::KmsKey,
                            whole(),
                            a.class(),
                            Some("arn_grammar"),
                        );
                        true
                    }
                    _ => false,
                };
            }
            let alias_name = v.starts_with("alias/");
            let ok = alias_name || recognize::is_uuid(v) || recognize::kms_key(v).is_some();
            if ok {
                let class = if alias_name { "alias" } else { "key" };
                push(
                    out,
                    EntityType::KmsKey,
                    whole(),
                    Some(class),
                    Some("kms_key_id"),
                );
            }
            ok
        }
        Rule::IpOrCidr => match recognize::ip_or_cidr(v) {
            Some(c) if !c.weak => {
                let value = if c.kind == EntityType::Ipv6 {
                    match v.parse::<std::net::Ipv6Addr>() {
                        Ok(a) if a.to_string() != v => Cow::Owned(a.to_string()),
                        _ => whole(),
                    }
                } else {
                    whole()
                };
                push(out, c.kind, value, c.class, c.validator.map(|x| x.0));
                true
            }
            _ => false,
        },
        Rule::Typed(kind) => {
            if v == "*" && kind == EntityType::IamAction {
                return true;
            }
            if v.starts_with("arn:") && kind != EntityType::IamAction {
                return by_arn(out);
            }
            let cand = match kind {
                EntityType::AccountId => {
                    recognize::is_account_id(v).then_some(recognize::Candidate {
                        kind,
                        base: 1.0,
                        class: None,
                        recognizer: "field",
                        validator: Some(("12_digits", true)),
                        weak: false,
                    })
                }
                EntityType::IamAction => recognize::iam_action(v),
                EntityType::Region => recognize::region(v),
                EntityType::Email => recognize::email(v),
                EntityType::AccessKey => recognize::access_key(v),
                EntityType::Url => recognize::url(v),
                EntityType::Domain => recognize::host_name(v).map(|_| recognize::Candidate {
                    kind,
                    base: 1.0,
                    class: v.ends_with(".amazonaws.com").then_some("aws"),
                    recognizer: "field",
                    validator: Some(("host_name", true)),
                    weak: false,
                }),
                _ => recognize::resource_id(v),
            };
            match cand {
                Some(c) if c.kind == kind && (!c.weak || kind == EntityType::IamAction) => {
                    let lower = matches!(kind, EntityType::Email | EntityType::Domain);
                    let value = if lower && v.bytes().any(|b| b.is_ascii_uppercase()) {
                        Cow::Owned(v.to_ascii_lowercase())
                    } else {
                        whole()
                    };
                    push(out, kind, value, c.class, c.validator.map(|x| x.0));
                    true
                }
                _ => false,
            }
        }
        Rule::Name(kind) => {
            if v.starts_with("arn:") {
                return by_arn(out);
            }
            let ok = match kind {
                EntityType::S3Bucket => recognize::is_bucket_name(v),
                EntityType::IamUser | EntityType::IamRole => {
                    (1..=64).contains(&v.len())
                        && v.bytes()
                            .all(|c| c.is_ascii_alphanumeric() || b"_+=,.@-".contains(&c))
                }
                EntityType::LambdaFunction => {
                    (1..=140).contains(&v.len())
                        && v.bytes()
                            .all(|c| c.is_ascii_alphanumeric() || b"-_:".contains(&c))
                }
                EntityType::Secret => {
                    (1..=512).contains(&v.len())
                        && v.bytes()
                            .all(|c| c.is_ascii_alphanumeric() || b"/_+=.@-".contains(&c))
                }
                _ => false,
            };
            if ok {
                push(out, kind, whole(), None, Some("name_charset"));
            }
            ok
        }
    }
}

fn looks_json(v: &str) -> bool {
    let t = v.trim_start();
    (t.starts_with('{') || t.starts_with('[')) && v.len() > 1
}

/// A value found at `ctx`: typed rule if the key has one, nested JSON if it is a document,
/// otherwise the recognizers.
pub fn value<'a: 't, 't>(
    ex: &Extractor,
    ctx: &Ctx,
    src: Src<'a, 't>,
    base: usize,
    out: &mut Vec<Entity<'a>>,
) {
    value_at_depth(ex, ctx, src, base, 0, out);
}

fn value_at_depth<'a: 't, 't>(
    ex: &Extractor,
    ctx: &Ctx,
    src: Src<'a, 't>,
    base: usize,
    depth: usize,
    out: &mut Vec<Entity<'a>>,
) {
    let v = src.text();
    if v.is_empty() {
        return;
    }
    if let Some(rule) = rule_for(ctx)
        && apply_rule(ex, ctx, rule, src, base, depth, out)
    {
        return;
    }
    if looks_json(v) && depth < 3 && walk_json(ex, ctx, src, base, depth + 1, out) {
        return;
    }
    if skip_unknown(v) {
        return;
    }
    text::analyze(ex, ctx, src, base, out);
}

/// Values under unknown keys that cannot hold an entity: enums (`ENABLED`, `gp3`), flags,
/// short numbers.
fn skip_unknown(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < 2 {
        return true;
    }
    if b.len() <= 40 && b.iter().all(|c| c.is_ascii_uppercase() || *c == b'_') {
        return true;
    }
    if b.len() < 9 && b.iter().all(u8::is_ascii_digit) {
        return true;
    }
    matches!(v, "true" | "false" | "null")
}

/// Walks a JSON document and handles each string leaf (and numeric account ids).
fn walk_json<'a: 't, 't>(
    ex: &Extractor,
    ctx: &Ctx,
    src: Src<'a, 't>,
    base: usize,
    depth: usize,
    out: &mut Vec<Entity<'a>>,
) -> bool {
    if depth > 3 {
        return false;
    }
    let folded;
    let ctx = if ctx.keys.is_empty() {
        *ctx
    } else {
        folded = ctx.origin_path();
        ctx.rebased(&folded)
    };
    let ctx = &ctx;
    match src {
        Src::Long(s) => json::walk(s, &mut |keys, leaf| {
            if leaf.escaped {
                let decoded = json::unescape(leaf.raw);
                handle_leaf(ex, ctx, keys, leaf, Src::Short(&decoded), base, depth, out);
            } else {
                handle_leaf(ex, ctx, keys, leaf, Src::Long(leaf.raw), base, depth, out);
            }
        }),
        Src::Short(s) => json::walk(s, &mut |keys, leaf| {
            let decoded;
            let text = if leaf.escaped {
                decoded = json::unescape(leaf.raw);
                decoded.as_str()
            } else {
                leaf.raw
            };
            handle_leaf(ex, ctx, keys, leaf, Src::Short(text), base, depth, out);
        }),
    }
}

#[allow(clippy::too_many_arguments)]
fn handle_leaf<'a: 't, 't>(
    ex: &Extractor,
    ctx: &Ctx,
    keys: &[&str],
    leaf: json::Leaf<'_>,
    leaf_src: Src<'a, 't>,
    base: usize,
    depth: usize,
    out: &mut Vec<Entity<'a>>,
) {
    let child = ctx.child(keys);
    if !leaf.is_string {
        // Numbers only matter where the key says account.
        if matches!(rule_for(&child), Some(Rule::Typed(EntityType::AccountId))) {
            let rule = Rule::Typed(EntityType::AccountId);
            apply_rule(ex, &child, rule, leaf_src, base + leaf.offset, depth, out);
        }
        return;
    }
    let leaf_base = if leaf.escaped { 0 } else { base + leaf.offset };
    value_at_depth(ex, &child, leaf_src, leaf_base, depth, out);
}

/// Calls `f(ctx, text, base)` for every string the extraction would analyze in `text`
/// (the text itself, or each string leaf of a JSON document, recursively), with the offset
/// of that string in `text`. Strings whose offsets cannot be known (escaped JSON inside
/// JSON) are skipped. Used to build training sequences the same way inference sees them.
pub fn for_each_text(
    ctx: &Ctx,
    text: &str,
    base: usize,
    depth: usize,
    f: &mut dyn FnMut(&Ctx, &str, usize),
) {
    if looks_json(text) && depth < 3 {
        let folded;
        let ctx = if ctx.keys.is_empty() {
            *ctx
        } else {
            folded = ctx.origin_path();
            ctx.rebased(&folded)
        };
        let ctx = &ctx;
        let ok = json::walk(text, &mut |keys, leaf| {
            if leaf.is_string && !leaf.escaped {
                let child = ctx.child(keys);
                for_each_text(&child, leaf.raw, base + leaf.offset, depth + 1, f);
            }
        });
        if ok {
            return;
        }
    }
    f(ctx, text, base);
}

fn arn_entity<'a>(v: &'a str, path: &'static str, out: &mut Vec<Entity<'a>>) -> Option<Arn<'a>> {
    let a = Arn::parse(v).ok()?;
    out.push(field_entity(
        a.entity_type(),
        Cow::Borrowed(v),
        a.class(),
        Cow::Borrowed(path),
        None,
        Some("arn_grammar"),
    ));
    Some(a)
}

fn push_field<'a>(
    out: &mut Vec<Entity<'a>>,
    kind: EntityType,
    value: impl Into<Cow<'a, str>>,
    class: Option<&'static str>,
    path: &'static str,
) {
    out.push(field_entity(
        kind,
        value.into(),
        class,
        Cow::Borrowed(path),
        None,
        None,
    ));
}

fn identity<'a>(u: &'a UserIdentity, out: &mut Vec<Entity<'a>>) {
    let ty = u.identity_type.as_deref().unwrap_or("");
    let arn = u
        .arn
        .as_deref()
        .and_then(|v| arn_entity(v, "userIdentity.arn", out));
    if let Some(a) = arn
        && a.class() == Some("sso")
        && let Some((_, session)) = a.assumed_role_parts()
    {
        push_field(
            out,
            EntityType::SsoUser,
            session,
            Some("identity_center"),
            "userIdentity.arn",
        );
    }
    match ty {
        "SAMLUser" => {
            if let Some(n) = u.user_name.as_deref().or(u.principal_id.as_deref()) {
                push_field(
                    out,
                    EntityType::FederatedUser,
                    n,
                    Some("saml"),
                    "userIdentity.userName",
                );
            }
        }
        "WebIdentityUser" => {
            let v = match (u.identity_provider.as_deref(), u.user_name.as_deref()) {
                (Some(p), Some(n)) => Cow::Owned(format!("{p}:{n}")),
                _ => match u.principal_id.as_deref().or(u.user_name.as_deref()) {
                    Some(v) => Cow::Borrowed(v),
                    None => Cow::Borrowed(""),
                },
            };
            if !v.is_empty() {
                out.push(field_entity(
                    EntityType::WebIdentity,
                    v,
                    Some("oidc"),
                    Cow::Borrowed("userIdentity.principalId"),
                    None,
                    None,
                ));
            }
        }
        "IdentityCenterUser" => {
            let mut user_id: Option<&'a str> = None;
            if let Some(raw) = u.on_behalf_of.as_deref() {
                json::walk(raw.get(), &mut |keys, leaf| {
                    if keys.last() == Some(&"userId") && !leaf.escaped {
                        user_id = Some(leaf.raw);
                    }
                });
            }
            if let Some(v) = user_id
                .or(u.user_name.as_deref())
                .or(u.principal_id.as_deref())
            {
                push_field(
                    out,
                    EntityType::SsoUser,
                    v,
                    Some("identity_center"),
                    "userIdentity.onBehalfOf.userId",
                );
            }
        }
        "AWSService" | "AWSAccount" | "Root" | "IAMUser" | "AssumedRole" | "FederatedUser" | "" => {
        }
        _ => {}
    }
    if let Some(svc) = u.invoked_by.as_deref().filter(|s| !s.is_empty()) {
        push_field(
            out,
            EntityType::AwsService,
            svc,
            None,
            "userIdentity.invokedBy",
        );
    }
    if let Some(k) = u.access_key_id.as_deref()
        && let Some(c) = recognize::access_key(k)
        && !c.weak
    {
        push_field(
            out,
            EntityType::AccessKey,
            k,
            c.class,
            "userIdentity.accessKeyId",
        );
    }
    if let Some(acc) = u
        .account_id
        .as_deref()
        .filter(|a| recognize::is_account_id(a))
    {
        push_field(
            out,
            EntityType::AccountId,
            acc,
            None,
            "userIdentity.accountId",
        );
    }
    if let Some(issuer) = u
        .session_context
        .as_ref()
        .and_then(|s| s.session_issuer.as_ref())
        .and_then(|i| i.arn.as_deref())
    {
        arn_entity(issuer, "userIdentity.sessionContext.sessionIssuer.arn", out);
    }
}

/// `sourceIPAddress`: an address, or the name of the AWS service that made the call.
fn source_ip<'a>(v: &'a str, out: &mut Vec<Entity<'a>>) {
    const PATH: &str = "sourceIPAddress";
    if let Some(c) = recognize::ip_or_cidr(v).filter(|c| !c.weak) {
        let value = if c.kind == EntityType::Ipv6 {
            match v.parse::<std::net::Ipv6Addr>() {
                Ok(a) if a.to_string() != v => Cow::Owned(a.to_string()),
                _ => Cow::Borrowed(v),
            }
        } else {
            Cow::Borrowed(v)
        };
        out.push(field_entity(
            c.kind,
            value,
            c.class,
            Cow::Borrowed(PATH),
            None,
            Some("ip_parse"),
        ));
    } else if v.ends_with(".amazonaws.com") || v == "AWS Internal" {
        push_field(out, EntityType::AwsService, v, None, PATH);
    } else if recognize::host_name(v).is_some() {
        push_field(out, EntityType::Domain, v.to_ascii_lowercase(), None, PATH);
    }
}

/// Every entity of a CloudTrail record.
pub fn cloudtrail<'a>(ex: &Extractor, r: &'a CloudTrailRecord, out: &mut Vec<Entity<'a>>) {
    let service = short_service(&r.event_source);
    identity(&r.user_identity, out);
    if let Some(ip) = r.source_ip_address.as_deref() {
        source_ip(ip, out);
    }
    if let Some(ua) = r.user_agent.as_deref().filter(|s| !s.is_empty()) {
        let fam = useragent::classify(ua);
        push_field(
            out,
            EntityType::UserAgent,
            ua,
            Some(fam.as_str()),
            "userAgent",
        );
    }
    let caller_account = r.user_identity.account_id.as_deref();
    // The same account named again in the same event is one entity (skip the dedup work).
    if let Some(acc) = r
        .recipient_account_id
        .as_deref()
        .filter(|a| recognize::is_account_id(a) && Some(*a) != caller_account)
    {
        push_field(out, EntityType::AccountId, acc, None, "recipientAccountId");
    }
    if recognize::is_region_shape(&r.aws_region) {
        push_field(
            out,
            EntityType::Region,
            r.aws_region.as_str(),
            None,
            "awsRegion",
        );
    }
    for res in &r.resources {
        if let Some(a) = res.arn.as_deref() {
            arn_entity(a, "resources.ARN", out);
        }
        if let Some(acc) = res.account_id.as_deref().filter(|a| {
            recognize::is_account_id(a)
                && Some(*a) != caller_account
                && Some(*a) != r.recipient_account_id.as_deref()
        }) {
            push_field(out, EntityType::AccountId, acc, None, "resources.accountId");
        }
    }
    if let Some(msg) = r.error_message.as_deref() {
        text::analyze(
            ex,
            &Ctx::fixed(service, "errorMessage"),
            Src::Long(msg),
            0,
            out,
        );
    }
    let params = [
        ("requestParameters", &r.request_parameters),
        ("responseElements", &r.response_elements),
        ("additionalEventData", &r.additional_event_data),
    ];
    for (name, raw) in params {
        if let Some(raw) = raw.as_deref() {
            let ctx = Ctx::new(service, name);
            walk_json(ex, &ctx, Src::Long(raw.get()), 0, 1, out);
        }
    }
    if service == "s3"
        && let Some(raw) = r.request_parameters.as_deref()
    {
        s3_object(raw.get(), out);
    }
}

/// S3 data events name the object as `bucketName` + `key`: join them as `bucket/key`.
fn s3_object<'a>(raw: &'a str, out: &mut Vec<Entity<'a>>) {
    let mut bucket: Option<Cow<'a, str>> = None;
    let mut key: Option<Cow<'a, str>> = None;
    json::walk(raw, &mut |keys, leaf| {
        if keys.len() == 1 && leaf.is_string {
            match keys[0] {
                "bucketName" => bucket = Some(leaf.value()),
                "key" => key = Some(leaf.value()),
                _ => {}
            }
        }
    });
    if let (Some(b), Some(k)) = (bucket, key)
        && !k.is_empty()
    {
        push_field(
            out,
            EntityType::S3Object,
            format!("{b}/{k}"),
            None,
            "requestParameters.key",
        );
    }
}

fn ip_entity<'a>(
    ip: std::net::IpAddr,
    aws_service: bool,
    path: &'static str,
    out: &mut Vec<Entity<'a>>,
) {
    let kind = if ip.is_ipv4() {
        EntityType::Ipv4
    } else {
        EntityType::Ipv6
    };
    let class = if aws_service {
        super::ip::IpClass::AwsService
    } else {
        super::ip::classify(ip)
    };
    push_field(out, kind, ip.to_string(), Some(class.as_str()), path);
}

/// Every entity of a flow record.
pub fn flow<'a>(r: &'a FlowRecord, out: &mut Vec<Entity<'a>>) {
    let src_aws = r
        .pkt_src_aws_service
        .as_deref()
        .is_some_and(|s| !s.is_empty());
    let dst_aws = r
        .pkt_dst_aws_service
        .as_deref()
        .is_some_and(|s| !s.is_empty());
    if let Some(a) = r
        .account_id
        .as_deref()
        .filter(|a| recognize::is_account_id(a))
    {
        push_field(out, EntityType::AccountId, a, None, "account_id");
    }
    let ids: [(&Option<String>, EntityType, &'static str); 4] = [
        (&r.interface_id, EntityType::Eni, "interface_id"),
        (&r.vpc_id, EntityType::Vpc, "vpc_id"),
        (&r.subnet_id, EntityType::Subnet, "subnet_id"),
        (&r.instance_id, EntityType::Ec2Instance, "instance_id"),
    ];
    for (v, kind, path) in ids {
        if let Some(v) = v.as_deref()
            && recognize::resource_id(v).is_some_and(|c| c.kind == kind)
        {
            push_field(out, kind, v, None, path);
        }
    }
    let pkt_src_differs = r.pkt_srcaddr.is_some() && r.pkt_srcaddr != r.srcaddr;
    let pkt_dst_differs = r.pkt_dstaddr.is_some() && r.pkt_dstaddr != r.dstaddr;
    if let Some(ip) = r.srcaddr {
        ip_entity(ip, src_aws && !pkt_src_differs, "srcaddr", out);
    }
    if let Some(ip) = r.dstaddr {
        ip_entity(ip, dst_aws && !pkt_dst_differs, "dstaddr", out);
    }
    if let Some(ip) = r.pkt_srcaddr.filter(|_| pkt_src_differs) {
        ip_entity(ip, src_aws, "pkt_srcaddr", out);
    }
    if let Some(ip) = r.pkt_dstaddr.filter(|_| pkt_dst_differs) {
        ip_entity(ip, dst_aws, "pkt_dstaddr", out);
    }
    if let Some(reg) = r
        .region
        .as_deref()
        .filter(|s| recognize::is_region_shape(s))
    {
        push_field(out, EntityType::Region, reg, None, "region");
    }
}

/// Every entity of an S3 server access log line.
pub fn s3access<'a>(_ex: &Extractor, r: &'a S3AccessRecord, out: &mut Vec<Entity<'a>>) {
    if let Some(b) = r.bucket.as_deref().filter(|b| recognize::is_bucket_name(b)) {
        push_field(out, EntityType::S3Bucket, b, None, "bucket");
        if let Some(k) = r.key.as_deref().filter(|k| !k.is_empty()) {
            push_field(out, EntityType::S3Object, format!("{b}/{k}"), None, "key");
        }
    }
    if let Some(ip) = r.remote_ip.as_deref() {
        source_ip(ip, out);
        if let Some(e) = out.last_mut()
            && e.origin.path == "sourceIPAddress"
        {
            e.origin.path = Cow::Borrowed("remote_ip");
        }
    }
    if let Some(req) = r.requester.as_deref() {
        arn_entity(req, "requester", out);
    }
    if let Some(ua) = r.user_agent.as_deref().filter(|s| !s.is_empty()) {
        let fam = useragent::classify(ua);
        push_field(
            out,
            EntityType::UserAgent,
            ua,
            Some(fam.as_str()),
            "user_agent",
        );
    }
    if let Some(h) = r
        .host_header
        .as_deref()
        .filter(|h| recognize::host_name(h).is_some())
    {
        push_field(
            out,
            EntityType::Domain,
            h.to_ascii_lowercase(),
            None,
            "host_header",
        );
    }
    if let Some(a) = r.access_point_arn.as_deref() {
        arn_entity(a, "access_point_arn", out);
    }
}
