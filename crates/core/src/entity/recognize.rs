//! Token recognizers: a pattern plus a validator for each entity shape. Each runs on one token
//! (no whitespace inside) and borrows it; none allocates. A recognizer answers with a
//! [`Candidate`] whose base score says how sure the shape alone is; context (key path, nearby
//! words) adjusts it later in [`super::text`].

use super::arn::Arn;
use super::ip;
use super::types::EntityType;

/// A typed guess for one token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub kind: EntityType,
    /// Score from the shape and validator alone, before context.
    pub base: f32,
    pub class: Option<&'static str>,
    pub recognizer: &'static str,
    /// Validator name and result (a failed validator keeps the candidate with a low score so
    /// the explanation can say why it was not accepted).
    pub validator: Option<(&'static str, bool)>,
    /// The rules cannot decide on their own: the learned model gets the last word.
    pub weak: bool,
}

impl Candidate {
    fn strong(kind: EntityType, base: f32, recognizer: &'static str) -> Self {
        Candidate {
            kind,
            base,
            class: None,
            recognizer,
            validator: None,
            weak: false,
        }
    }

    fn weak(kind: EntityType, base: f32, recognizer: &'static str) -> Self {
        Candidate {
            weak: true,
            ..Candidate::strong(kind, base, recognizer)
        }
    }

    fn validated(mut self, name: &'static str, ok: bool) -> Self {
        self.validator = Some((name, ok));
        self
    }

    fn with_class(mut self, class: Option<&'static str>) -> Self {
        self.class = class;
        self
    }
}

/// Every region AWS has announced (commercial, China, GovCloud, sovereign). A region-shaped
/// token outside this list is only a weak candidate.
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eusc-de-east-1",
];

const REGION_WORDS: &[&str] = &[
    "north",
    "south",
    "east",
    "west",
    "central",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
    "gov",
    "iso",
    "isob",
    "isoe",
    "isof",
    "de",
];

/// `xx-word-N`, `xx-gov-word-N`, `xx-iso-word-N`: what the ARN grammar accepts as a region.
pub fn is_region_shape(s: &str) -> bool {
    let b = s.as_bytes();
    if !(9..=20).contains(&b.len()) {
        return false;
    }
    let mut parts = [""; 5];
    let mut n = 0;
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'-' {
            if n == 4 {
                return false;
            }
            parts[n] = &s[start..i];
            n += 1;
            start = i + 1;
        }
    }
    parts[n] = &s[start..];
    n += 1;
    let (first, last) = (parts[0], parts[n - 1]);
    (3..=5).contains(&n)
        && (2..=4).contains(&first.len())
        && first.bytes().all(|c| c.is_ascii_lowercase())
        && !last.is_empty()
        && last.len() <= 2
        && last.bytes().all(|c| c.is_ascii_digit())
        && parts[1..n - 1].iter().all(|p| REGION_WORDS.contains(p))
}

pub fn region(s: &str) -> Option<Candidate> {
    if !is_region_shape(s) {
        return None;
    }
    let known = REGIONS.contains(&s);
    Some(if known {
        Candidate::strong(EntityType::Region, 0.96, "region").validated("known_region", true)
    } else {
        Candidate::weak(EntityType::Region, 0.45, "region").validated("known_region", false)
    })
}

/// AWS access key ids are 20 characters of base32 (A-Z, 2-7) after a 4-letter prefix.
pub fn access_key(s: &str) -> Option<Candidate> {
    let b = s.as_bytes();
    if b.len() < 16 || b.len() > 24 {
        return None;
    }
    let class = match &b[..4] {
        b"AKIA" => "long_term",
        b"ASIA" => "temporary",
        _ => return None,
    };
    let charset_ok = b[4..]
        .iter()
        .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(c));
    let ok = charset_ok && b.len() == 20;
    let c = if ok {
        Candidate::strong(EntityType::AccessKey, 0.98, "access_key")
    } else {
        Candidate::weak(EntityType::AccessKey, 0.35, "access_key")
    };
    Some(c.validated("base32_len20", ok).with_class(Some(class)))
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A bare 12-digit number is an account id only in context: the base score is low and the
/// model or a cue word decides.
pub fn account_id(s: &str) -> Option<Candidate> {
    is_account_id(s).then(|| Candidate::weak(EntityType::AccountId, 0.55, "account_id"))
}

const RESOURCE_PREFIXES: &[(&str, EntityType)] = &[
    ("i-", EntityType::Ec2Instance),
    ("vpc-", EntityType::Vpc),
    ("subnet-", EntityType::Subnet),
    ("sg-", EntityType::SecurityGroup),
    ("eni-", EntityType::Eni),
    ("vol-", EntityType::Volume),
    ("snap-", EntityType::Snapshot),
    ("ami-", EntityType::Ami),
];

/// EC2 resource ids: a type prefix and 8 or 17 lowercase hex digits.
pub fn resource_id(s: &str) -> Option<Candidate> {
    let (prefix, kind) = RESOURCE_PREFIXES
        .iter()
        .find(|(p, _)| s.starts_with(p))
        .copied()?;
    let rest = &s[prefix.len()..];
    if rest.is_empty() || rest.len() > 20 {
        return None;
    }
    let hex = rest
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let len_ok = rest.len() == 8 || rest.len() == 17;
    if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(if hex && len_ok {
        Candidate::strong(kind, 0.97, "resource_id").validated("hex_8_or_17", true)
    } else {
        Candidate::weak(kind, 0.3, "resource_id").validated("hex_8_or_17", false)
    })
}

pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// KMS key ids (UUID or `mrk-` multi-region ids) and alias names. A bare UUID could be any
/// id, so it is weak; `mrk-` and `alias/` are specific to KMS.
pub fn kms_key(s: &str) -> Option<Candidate> {
    if let Some(rest) = s.strip_prefix("mrk-") {
        let ok = rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit());
        return ok.then(|| {
            Candidate::strong(EntityType::KmsKey, 0.95, "kms_key")
                .validated("mrk_hex32", true)
                .with_class(Some("key"))
        });
    }
    if let Some(rest) = s.strip_prefix("alias/") {
        let ok = !rest.is_empty()
            && rest.len() <= 250
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-'));
        return ok.then(|| {
            Candidate::strong(EntityType::KmsKey, 0.92, "kms_alias")
                .validated("alias_charset", true)
                .with_class(Some("alias"))
        });
    }
    is_uuid(s).then(|| {
        Candidate::weak(EntityType::KmsKey, 0.4, "kms_key")
            .validated("uuid", true)
            .with_class(Some("key"))
    })
}

/// Top-level domains common enough in logs to accept a host name on shape alone.
const KNOWN_TLDS: &[&str] = &[
    "com", "net", "org", "io", "aws", "dev", "app", "edu", "gov", "mil", "int", "info", "biz",
    "co", "us", "uk", "de", "fr", "nl", "ru", "cn", "jp", "kr", "in", "br", "au", "ca", "eu", "ch",
    "se", "no", "es", "it", "pl", "tk", "xyz", "top", "cloud", "ai", "me", "tv", "cc", "ir", "kp",
    "su", "onion", "site", "online", "tech", "local", "internal", "example", "test", "invalid",
    "sh", "gg", "ly", "to", "pw", "ws", "mx", "ar", "za", "sg", "hk", "tw", "il", "ua", "by", "kz",
    "vn", "id", "th", "my", "ph", "nz", "ie", "at", "be", "dk", "fi", "pt", "cz", "ro", "hu", "gr",
    "tr", "sa", "ae",
];

/// Extensions that make `name.ext` a file name, not a host name.
const FILE_EXTENSIONS: &[&str] = &[
    "json", "txt", "log", "csv", "gz", "zip", "tar", "tgz", "py", "sh", "js", "ts", "rb", "go",
    "rs", "java", "class", "jar", "exe", "dll", "so", "bin", "yaml", "yml", "xml", "html", "htm",
    "pdf", "png", "jpg", "jpeg", "gif", "svg", "parquet", "orc", "avro", "conf", "cfg", "ini",
    "pem", "key", "crt", "pub", "ps1", "bat", "md", "sql", "bak", "tmp", "db", "tf", "tfstate",
    "lock", "toml", "env", "doc", "docx", "xls", "xlsx", "ppt", "iso", "img", "vmdk", "deb", "rpm",
    "whl", "egg", "php", "asp", "aspx", "jsp", "css", "map", "wasm", "old", "pyc", "out", "err",
    "pid", "sock", "swp", "dat", "raw", "bz2", "xz", "7z", "rar", "msi",
];

fn is_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

/// Host name validation; `Some(true)` when the TLD is well known.
pub fn host_name(s: &str) -> Option<bool> {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.len() < 4 || s.len() > 253 || !s.contains('.') {
        return None;
    }
    let mut labels = 0;
    for l in s.split('.') {
        if !is_label(l) {
            return None;
        }
        labels += 1;
    }
    let tld = s.rsplit('.').next().unwrap_or("");
    if labels < 2 || tld.len() < 2 || !tld.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    if FILE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(tld)) {
        return None;
    }
    // EC2 instance types (`m5.large`, `t3.2xlarge`) and cache/RDS classes look like hosts.
    if labels == 2 && tld.ends_with("large")
        || ["medium", "small", "micro", "nano", "metal"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(tld))
    {
        return None;
    }
    Some(KNOWN_TLDS.iter().any(|t| t.eq_ignore_ascii_case(tld)))
}

pub fn domain(s: &str) -> Option<Candidate> {
    let known = host_name(s)?;
    let class = s.ends_with(".amazonaws.com").then_some("aws");
    Some(
        if known {
            Candidate::strong(EntityType::Domain, 0.9, "domain")
        } else {
            Candidate::weak(EntityType::Domain, 0.5, "domain")
        }
        .validated("known_tld", known)
        .with_class(class),
    )
}

pub fn email(s: &str) -> Option<Candidate> {
    let (local, host) = s.split_once('@')?;
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || !local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-'".contains(&b))
    {
        return None;
    }
    let known = host_name(host)?;
    Some(
        Candidate::strong(EntityType::Email, if known { 0.97 } else { 0.85 }, "email")
            .validated("host_name", true),
    )
}

pub fn url(s: &str) -> Option<Candidate> {
    let (scheme, rest) = s.split_once("://")?;
    let scheme_ok = ["http", "https", "ftp", "ftps", "ws", "wss", "s3"]
        .iter()
        .any(|x| x.eq_ignore_ascii_case(scheme));
    if !scheme_ok || rest.is_empty() {
        return None;
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if scheme.eq_ignore_ascii_case("s3") {
        let bucket = host;
        if !is_bucket_name(bucket) {
            return Some(
                Candidate::weak(EntityType::Url, 0.4, "s3_uri").validated("bucket_name", false),
            );
        }
        let kind = if rest.len() > host_end + 1 {
            EntityType::S3Object
        } else {
            EntityType::S3Bucket
        };
        return Some(Candidate::strong(kind, 0.96, "s3_uri").validated("bucket_name", true));
    }
    let host_only = host
        .rsplit_once(':')
        .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(']'))
        .map_or(host, |(h, _)| h);
    let host_ok = host_name(host_only).is_some()
        || ip::parse_ip(host_only.trim_start_matches('[').trim_end_matches(']')).is_some()
        || host_only == "localhost";
    Some(if host_ok {
        Candidate::strong(EntityType::Url, 0.97, "url").validated("host", true)
    } else {
        Candidate::weak(EntityType::Url, 0.4, "url").validated("host", false)
    })
}

/// S3 bucket naming rules (general purpose buckets).
pub fn is_bucket_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !s.contains("..")
        && ip::parse_ip(s).is_none()
}

/// `service:Action` as written in policies and authorization errors (wildcards allowed).
pub fn iam_action(s: &str) -> Option<Candidate> {
    let (service, action) = s.split_once(':')?;
    if service.is_empty()
        || service.len() > 40
        || !service
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || action.is_empty()
        || action.len() > 128
    {
        return None;
    }
    let first = action.as_bytes()[0];
    if !(first.is_ascii_uppercase() || first == b'*') {
        return None;
    }
    if !action
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'*')
    {
        return None;
    }
    let pascal = first == b'*' || action.bytes().any(|b| b.is_ascii_lowercase());
    Some(
        if pascal {
            Candidate::strong(EntityType::IamAction, 0.9, "iam_action")
        } else {
            Candidate::weak(EntityType::IamAction, 0.5, "iam_action")
        }
        .validated("action_shape", pascal),
    )
}

pub fn arn(s: &str) -> Option<Candidate> {
    if !s.starts_with("arn:") {
        return None;
    }
    Some(match Arn::parse(s) {
        Ok(a) => Candidate::strong(a.entity_type(), 0.99, "arn")
            .validated("arn_grammar", true)
            .with_class(a.class()),
        Err(_) => Candidate::weak(EntityType::Arn, 0.3, "arn").validated("arn_grammar", false),
    })
}

pub fn ip_or_cidr(s: &str) -> Option<Candidate> {
    if let Some(slash) = s.bytes().position(|c| c == b'/') {
        let (addr, len) = (&s[..slash], &s[slash + 1..]);
        let a = ip::parse_ip(addr)?;
        let max = if a.is_ipv4() { 32 } else { 128 };
        let ok = len.len() <= 3
            && !len.is_empty()
            && len.bytes().all(|b| b.is_ascii_digit())
            && len.parse::<u32>().is_ok_and(|n| n <= max);
        return Some(if ok {
            Candidate::strong(EntityType::IpCidr, 0.97, "cidr")
                .validated("prefix_len", true)
                .with_class(Some(ip::classify(a).as_str()))
        } else {
            Candidate::weak(EntityType::IpCidr, 0.3, "cidr").validated("prefix_len", false)
        });
    }
    let a = ip::parse_ip(s)?;
    let kind = if a.is_ipv4() {
        EntityType::Ipv4
    } else {
        EntityType::Ipv6
    };
    Some(
        Candidate::strong(kind, 0.96, "ip")
            .validated("ip_parse", true)
            .with_class(Some(ip::classify(a).as_str())),
    )
}

/// Runs every token recognizer in order of specificity and returns the first answer. Order
/// matters: an ARN contains colons (IPv6, actions), an email contains a host name.
pub fn recognize(token: &str) -> Option<Candidate> {
    let b = token.as_bytes();
    let first = *b.first()?;
    if token.len() > 2048 {
        return None;
    }
    if first == b'a' {
        if let Some(c) = arn(token) {
            return Some(c);
        }
        if let Some(c) = kms_key(token) {
            return Some(c);
        }
    }
    if token.contains("://") {
        return url(token);
    }
    if memchr::memchr(b'@', b).is_some() {
        return email(token);
    }
    if first.is_ascii_uppercase()
        && let Some(c) = access_key(token)
    {
        return Some(c);
    }
    if let Some(c) = resource_id(token) {
        return Some(c);
    }
    if first == b'm'
        && let Some(c) = kms_key(token)
    {
        return Some(c);
    }
    if first.is_ascii_hexdigit() || first == b':' {
        if let Some(c) = ip_or_cidr(token) {
            return Some(c);
        }
        if let Some(c) = account_id(token) {
            return Some(c);
        }
        if let Some(c) = kms_key(token) {
            return Some(c);
        }
    }
    if memchr::memchr(b':', b).is_some() {
        return iam_action(token);
    }
    if memchr::memchr(b'.', b).is_some() {
        return domain(token);
    }
    if first.is_ascii_lowercase()
        && memchr::memchr(b'-', b).is_some()
        && let Some(c) = region(token)
    {
        return Some(c);
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn kind(s: &str) -> Option<(EntityType, bool)> {
        recognize(s).map(|c| (c.kind, c.weak))
    }

    #[test]
    fn access_keys() {
        let c = access_key("AKIAIOSFODNN7EXAMPLE").unwrap();
        assert_eq!(c.class, Some("long_term"));
        assert!(!c.weak);
        assert_eq!(
            access_key("ASIAY34FZKBOKMUTVV7A").unwrap().class,
            Some("temporary")
        );
        // 8 and 9 are outside base32, wrong length is weak.
        assert!(access_key("AKIAIOSFODNN8EXAMPL9").unwrap().weak);
        assert!(access_key("AKIAIOSFODNN7EXAMPL").unwrap().weak);
        assert!(access_key("ABCDIOSFODNN7EXAMPLE").is_none());
        assert!(access_key("AKIA").is_none());
    }

    #[test]
    fn resource_ids() {
        assert_eq!(
            kind("i-0abcdef1234567890"),
            Some((EntityType::Ec2Instance, false))
        );
        assert_eq!(kind("i-1a2b3c4d"), Some((EntityType::Ec2Instance, false)));
        assert_eq!(
            kind("sg-0123456789abcdef0"),
            Some((EntityType::SecurityGroup, false))
        );
        assert_eq!(kind("vpc-1a2b3c4d"), Some((EntityType::Vpc, false)));
        assert_eq!(
            kind("subnet-0a1b2c3d4e5f67890"),
            Some((EntityType::Subnet, false))
        );
        assert_eq!(kind("eni-0a1b2c3d"), Some((EntityType::Eni, false)));
        assert_eq!(
            kind("vol-049df61146c4d7901"),
            Some((EntityType::Volume, false))
        );
        assert_eq!(
            kind("snap-1234567890abcdef0"),
            Some((EntityType::Snapshot, false))
        );
        assert_eq!(
            kind("ami-0abcdef1234567890"),
            Some((EntityType::Ami, false))
        );
        // wrong length or not hex: weak; not an id at all: none.
        assert_eq!(kind("i-123"), Some((EntityType::Ec2Instance, true)));
        assert_eq!(kind("sg-zzzzzzzz"), Some((EntityType::SecurityGroup, true)));
        assert_eq!(kind("i-am-a-name"), None);
    }

    #[test]
    fn kms_keys_and_uuids() {
        assert!(
            kms_key("1234abcd-12ab-34cd-56ef-1234567890ab")
                .unwrap()
                .weak
        );
        assert!(
            !kms_key("mrk-1234abcd12ab34cd56ef1234567890ab")
                .unwrap()
                .weak
        );
        assert_eq!(kms_key("alias/aws/s3").unwrap().class, Some("alias"));
        assert!(kms_key("alias/").is_none());
        assert!(kms_key("mrk-123").is_none());
        assert!(!is_uuid("1234abcd-12ab-34cd-56ef-1234567890a"));
    }

    #[test]
    fn regions() {
        assert!(!region("us-east-1").unwrap().weak);
        assert!(!region("us-gov-west-1").unwrap().weak);
        assert!(region("xx-north-9").unwrap().weak);
        assert!(region("us-east").is_none());
        assert!(region("my-bucket-1").is_none());
        assert!(is_region_shape("ap-southeast-4"));
        assert!(!is_region_shape("US-EAST-1"));
    }

    #[test]
    fn hosts_emails_urls() {
        assert_eq!(kind("evil.example.com"), Some((EntityType::Domain, false)));
        assert_eq!(kind("config.json"), None);
        assert_eq!(kind("m5.large"), None);
        assert_eq!(kind("db.r6g.2xlarge"), None);
        assert_eq!(kind("t3.micro"), None);
        assert_eq!(
            kind("s3.amazonaws.com").map(|k| k.0),
            Some(EntityType::Domain)
        );
        assert_eq!(domain("s3.amazonaws.com").unwrap().class, Some("aws"));
        assert_eq!(kind("weird.zzzq"), Some((EntityType::Domain, true)));
        assert_eq!(kind("alice@example.com"), Some((EntityType::Email, false)));
        assert_eq!(kind("bad@@example.com"), None);
        assert_eq!(kind("@example.com"), None);
        assert_eq!(
            kind("https://evil.example.com/x?y=1"),
            Some((EntityType::Url, false))
        );
        assert_eq!(
            kind("http://169.254.169.254/latest/meta-data/"),
            Some((EntityType::Url, false))
        );
        assert_eq!(
            kind("s3://my-bucket/a/b.txt"),
            Some((EntityType::S3Object, false))
        );
        assert_eq!(kind("s3://my-bucket"), Some((EntityType::S3Bucket, false)));
        assert_eq!(kind("s3://Bad_Bucket/x"), Some((EntityType::Url, true)));
        assert_eq!(kind("https://"), None);
    }

    #[test]
    fn actions_and_arns() {
        assert_eq!(kind("s3:GetObject"), Some((EntityType::IamAction, false)));
        assert_eq!(kind("iam:*"), Some((EntityType::IamAction, false)));
        assert_eq!(kind("ec2:Describe*"), Some((EntityType::IamAction, false)));
        assert_eq!(kind("localhost:8080"), None);
        assert_eq!(kind("Host:foo"), None);
        assert_eq!(
            kind("arn:aws:iam::123456789012:user/bob"),
            Some((EntityType::IamUser, false))
        );
        assert_eq!(
            kind("arn:aws:iam::1234:user/bob"),
            Some((EntityType::Arn, true))
        );
    }

    #[test]
    fn ips_and_accounts() {
        assert_eq!(kind("10.0.0.1"), Some((EntityType::Ipv4, false)));
        assert_eq!(kind("2001:db8::1"), Some((EntityType::Ipv6, false)));
        assert_eq!(kind("0.0.0.0/0"), Some((EntityType::IpCidr, false)));
        assert_eq!(kind("10.0.0.0/33"), Some((EntityType::IpCidr, true)));
        assert_eq!(kind("256.1.1.1"), None);
        assert_eq!(kind("123456789012"), Some((EntityType::AccountId, true)));
        assert_eq!(kind("1234567890123"), None);
    }

    #[test]
    fn buckets() {
        assert!(is_bucket_name("my-bucket.logs"));
        assert!(!is_bucket_name("My-Bucket"));
        assert!(!is_bucket_name("ab"));
        assert!(!is_bucket_name("-bucket"));
        assert!(!is_bucket_name("a..b"));
        assert!(!is_bucket_name("192.168.1.1"));
    }
}
