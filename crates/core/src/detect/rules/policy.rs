//! Reading IAM policy documents: what an identity policy grants, and whom a resource or trust
//! policy lets in. Rules judge a change by what it grants, not by the API's name: attaching a
//! read-only policy and attaching `*:*` are the same call.
//!
//! Documents arrive as JSON objects (S3 bucket policies), as JSON strings (IAM, KMS, SQS),
//! and sometimes URL-encoded; all read. Anything unreadable grants nothing, so a malformed
//! document never raises an alarm by itself.

use std::collections::BTreeSet;

use serde_json::Value;

use super::support::{account_of_principal, strings};

/// Parses a policy document from whatever form the record carries it in.
pub(crate) fn parse_doc(v: &Value) -> Option<Value> {
    match v {
        Value::Object(_) => Some(v.clone()),
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('{') {
                serde_json::from_str(t).ok()
            } else if t.starts_with("%7B") || t.starts_with("%7b") {
                serde_json::from_str(&percent_decode(t)).ok()
            } else {
                None
            }
        }
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(x) => {
                        out.push(x);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The statements of a document (`Statement` may be one object or a list).
pub(crate) fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement").or_else(|| doc.get("statement")) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

fn allows(st: &Value) -> bool {
    st.get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("allow"))
}

/// Actions that let an identity give itself (or anyone) more power.
const ESCALATION: &[&str] = &[
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:attachuserpolicy",
    "iam:attachrolepolicy",
    "iam:attachgrouppolicy",
    "iam:putuserpolicy",
    "iam:putrolepolicy",
    "iam:putgrouppolicy",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:updateassumerolepolicy",
    "iam:addusertogroup",
    "iam:passrole",
    "sts:assumerole",
    "lambda:updatefunctioncode",
    "organizations:*",
];

/// Services whose full control amounts to control of the account.
const CONTROL_SERVICES: &[&str] = &["iam", "sts", "organizations", "sso", "kms", "cloudtrail"];

/// `*` matches any run of characters; case-insensitive as IAM is for actions.
fn glob(pattern: &str, s: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let s = s.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == s;
    }
    let mut rest = s.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// What an identity policy grants, in the terms rules care about.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Grants {
    /// `Action: "*"` (or `NotAction`) on every resource: administrator.
    pub admin: bool,
    /// `service:*` on every resource for a service that controls the account (`iam:*`).
    pub control: BTreeSet<String>,
    /// Escalation-capable actions allowed on broad resources.
    pub escalation: BTreeSet<String>,
}

impl Grants {
    pub fn any(&self) -> bool {
        self.admin || !self.control.is_empty() || !self.escalation.is_empty()
    }

    /// A short phrase for titles: "full administrator access (*:*)", "iam:*", "iam:PassRole".
    pub fn describe(&self) -> String {
        if self.admin {
            "full administrator access (Action * on Resource *)".to_string()
        } else if !self.control.is_empty() {
            format!(
                "full control of {}",
                self.control.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        } else {
            format!(
                "privilege-escalation actions {}",
                self.escalation
                    .iter()
                    .take(4)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// Whether a resource list is effectively "everything".
fn broad_resources(st: &Value) -> bool {
    if st.get("NotResource").is_some() {
        return true;
    }
    let res = strings(st.get("Resource"));
    res.iter().any(|r| {
        *r == "*"
            || r.ends_with(":*")
            || *r == "arn:aws:iam::*:*"
            || r.ends_with("/*") && r.contains(":iam::")
    })
}

/// What an identity (user, group, role) policy document allows.
pub(crate) fn identity_grants(doc: &Value) -> Grants {
    let mut g = Grants::default();
    for st in statements(doc) {
        if !allows(st) {
            continue;
        }
        let broad = broad_resources(st);
        if st.get("NotAction").is_some() {
            if broad {
                g.admin = true;
            }
            continue;
        }
        for action in strings(st.get("Action")) {
            let a = action.trim().to_ascii_lowercase();
            if !broad {
                continue;
            }
            if a == "*" || a == "*:*" {
                g.admin = true;
                continue;
            }
            if let Some(svc) = a.strip_suffix(":*")
                && CONTROL_SERVICES.contains(&svc)
            {
                g.control.insert(format!("{svc}:*"));
                continue;
            }
            for esc in ESCALATION {
                if glob(&a, esc) || glob(esc, &a) {
                    g.escalation.insert(action.trim().to_string());
                }
            }
        }
    }
    g
}

/// AWS managed policies that amount to administrator or identity control.
pub(crate) fn managed_policy_power(arn: &str) -> Option<&'static str> {
    let name = arn.rsplit('/').next().unwrap_or(arn);
    let aws_managed = arn.starts_with("arn:aws:iam::aws:policy/")
        || arn.starts_with("arn:aws-us-gov:iam::aws:policy/")
        || arn.starts_with("arn:aws-cn:iam::aws:policy/");
    if !aws_managed {
        return None;
    }
    Some(match name {
        "AdministratorAccess" => "AdministratorAccess (full administrator)",
        "IAMFullAccess" => "IAMFullAccess (full control of IAM)",
        "PowerUserAccess" => "PowerUserAccess (everything but IAM)",
        "AWSOrganizationsFullAccess" => "AWSOrganizationsFullAccess",
        "AmazonEC2FullAccess" | "AWSLambda_FullAccess" | "AWSLambdaFullAccess" => return None,
        "AdministratorAccess-Amplify" | "AdministratorAccess-AWSElasticBeanstalk" => {
            "an administrator policy"
        }
        "AWSCloudFormationFullAccess" => return None,
        "SecretsManagerReadWrite" => "SecretsManagerReadWrite",
        _ => return None,
    })
}

/// Keys of a `Condition` block that really narrow who can use a public grant.
const RESTRICTIVE_CONDITIONS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceip",
    "aws:userid",
    "aws:username",
    "aws:calledvia",
    "kms:calleraccount",
    "kms:viaservice",
    "s3:dataaccesspointaccount",
    "aws:resourceorgid",
    "aws:principalservicename",
    "lambda:functionurlauthtype",
];

fn restrictive(st: &Value) -> bool {
    let Some(Value::Object(cond)) = st.get("Condition") else {
        return false;
    };
    cond.values().any(|op| match op {
        Value::Object(kv) => kv
            .keys()
            .any(|k| RESTRICTIVE_CONDITIONS.contains(&k.to_ascii_lowercase().as_str())),
        _ => false,
    })
}

/// Whom a resource or trust policy admits.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Exposure {
    /// A statement allows `*` (anyone, any account) without a condition that narrows it.
    pub public: bool,
    /// Accounts other than the owner named as principals.
    pub accounts: BTreeSet<String>,
    /// Federated principals (identity providers) named.
    pub federated: BTreeSet<String>,
    /// Actions granted to the public or to other accounts.
    pub actions: BTreeSet<String>,
}

impl Exposure {
    pub fn any(&self) -> bool {
        self.public || !self.accounts.is_empty()
    }
}

fn principal_values(p: &Value) -> (Vec<&str>, Vec<&str>) {
    // (AWS principals incl. "*", federated)
    match p {
        Value::String(s) => (vec![s.as_str()], Vec::new()),
        Value::Object(o) => {
            let aws = strings(o.get("AWS"))
                .into_iter()
                .chain(strings(o.get("CanonicalUser")))
                .collect();
            (aws, strings(o.get("Federated")))
        }
        _ => (Vec::new(), Vec::new()),
    }
}

/// Whom a resource-based (or trust) policy admits, relative to the owning account.
pub(crate) fn exposure(doc: &Value, owner: Option<&str>) -> Exposure {
    let mut x = Exposure::default();
    for st in statements(doc) {
        if !allows(st) {
            continue;
        }
        let Some(p) = st.get("Principal") else {
            continue;
        };
        let (aws, fed) = principal_values(p);
        let mut exposed = false;
        for a in aws {
            if a == "*" {
                if !restrictive(st) {
                    x.public = true;
                    exposed = true;
                }
            } else if let Some(acct) = account_of_principal(a)
                && Some(acct) != owner
            {
                x.accounts.insert(acct.to_string());
                exposed = true;
            }
        }
        for f in fed {
            x.federated.insert(f.to_string());
        }
        if exposed {
            for a in strings(st.get("Action")) {
                x.actions.insert(a.to_string());
            }
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn admin_and_escalation_grants() {
        let d = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        assert!(identity_grants(&d).admin);
        let d = json!({"Statement": {"Effect": "Allow", "Action": ["iam:*"], "Resource": ["*"]}});
        let g = identity_grants(&d);
        assert!(!g.admin && g.control.contains("iam:*"));
        let d = json!({"Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction"], "Resource": "*"}]});
        assert!(identity_grants(&d).escalation.contains("iam:PassRole"));
        let d = json!({"Statement": [{"Effect": "Allow", "Action": "iam:Put*", "Resource": "*"}]});
        assert!(identity_grants(&d).any());
        // Scoped and read-only grants are not escalation.
        let d = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}]});
        assert!(!identity_grants(&d).any());
        let d = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}]});
        assert!(!identity_grants(&d).any());
        let d = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]});
        assert!(!identity_grants(&d).any());
    }

    #[test]
    fn documents_in_every_form() {
        let s = Value::String(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into(),
        );
        assert!(identity_grants(&parse_doc(&s).unwrap_or_default()).admin);
        let enc = Value::String("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D".into());
        assert!(identity_grants(&parse_doc(&enc).unwrap_or_default()).admin);
        assert!(parse_doc(&Value::String("garbage".into())).is_none());
    }

    #[test]
    fn public_and_cross_account_exposure() {
        let d =
            json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]});
        assert!(exposure(&d, Some("111122223333")).public);
        let d = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]});
        assert!(!exposure(&d, None).public);
        let d = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "1"}}}]});
        assert!(
            exposure(&d, None).public,
            "an external id is a shared secret, not a boundary"
        );
        let d = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::999988887777:root"]}, "Action": "sts:AssumeRole"}]});
        let x = exposure(&d, Some("111122223333"));
        assert!(!x.public);
        assert_eq!(x.accounts.iter().collect::<Vec<_>>(), vec!["999988887777"]);
        let d = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject"}]});
        assert!(!exposure(&d, None).any());
    }

    #[test]
    fn globs() {
        assert!(glob("iam:put*", "iam:putuserpolicy"));
        assert!(glob("*policy", "iam:putuserpolicy"));
        assert!(!glob("iam:get*", "iam:putuserpolicy"));
        assert!(glob("iam:*user*", "iam:putuserpolicy"));
    }

    #[test]
    fn managed_policies() {
        assert!(managed_policy_power("arn:aws:iam::aws:policy/AdministratorAccess").is_some());
        assert!(managed_policy_power("arn:aws:iam::aws:policy/ReadOnlyAccess").is_none());
        assert!(
            managed_policy_power("arn:aws:iam::123456789012:policy/AdministratorAccess").is_none()
        );
    }
}
