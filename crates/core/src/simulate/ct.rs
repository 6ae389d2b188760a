//! CloudTrail records: identities and the record writer.
//!
//! A `userIdentity` block is the same for every call of one session, so it is rendered once per
//! session ([`Who`]) and pasted into each record. Records are written in the field order AWS
//! uses, with the optional fields AWS omits (not null) when absent.

use super::clock::push_ct_time;
use super::json::{self, Obj};
use super::org::{IamUser, Role};
use super::rng::{RngExt, SimRng};

/// A rendered caller identity plus what error messages and indicators need.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    /// The `userIdentity` JSON object.
    pub json: String,
    /// Principal ARN (empty for AWS service principals).
    pub arn: String,
    /// Access key id used, if any.
    pub key: String,
}

/// Session facts shared by console and temporary-credential sessions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Session<'a> {
    pub access_key: &'a str,
    pub created_ms: i64,
    pub mfa: bool,
}

fn attributes(o: &mut Obj<'_>, s: &Session<'_>) {
    o.obj("attributes", |a| {
        a.time("creationDate", s.created_ms)
            .str("mfaAuthenticated", if s.mfa { "true" } else { "false" });
    });
}

/// An IAM user with its long-term key, or (with `session`) a console / `GetSessionToken` session.
pub(crate) fn iam_user(u: &IamUser, session: Option<Session<'_>>) -> Who {
    let arn = u.arn();
    let key = session
        .map_or(u.access_key.as_str(), |s| s.access_key)
        .to_string();
    let json = json::object(|o| {
        o.str("type", "IAMUser")
            .str("principalId", &u.user_id)
            .str("arn", &arn)
            .str("accountId", &u.account_id)
            .str("accessKeyId", &key)
            .str("userName", &u.name);
        if let Some(s) = session {
            o.obj("sessionContext", |c| attributes(c, &s));
        }
    });
    Who { json, arn, key }
}

/// Options of an assumed-role session beyond the role and the session name.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AssumedOpts<'a> {
    /// `ec2RoleDelivery: "2.0"` for instance-profile credentials (IMDSv2).
    pub ec2: bool,
    /// An AWS service acting with the role (`cloudformation.amazonaws.com`, `backup.amazonaws.com`).
    pub invoked_by: Option<&'a str>,
    /// OIDC provider ARN for web-identity sessions.
    pub web_identity: Option<&'a str>,
    /// `sourceIdentity` set on the session.
    pub source_identity: Option<&'a str>,
}

pub(crate) fn assumed(
    role: &Role,
    session_name: &str,
    s: Session<'_>,
    opts: AssumedOpts<'_>,
) -> Who {
    let arn = role.session_arn(session_name);
    let json = json::object(|o| {
        o.str("type", "AssumedRole")
            .str("principalId", &format!("{}:{}", role.role_id, session_name))
            .str("arn", &arn)
            .str("accountId", &role.account_id)
            .str("accessKeyId", s.access_key);
        o.obj("sessionContext", |c| {
            c.obj("sessionIssuer", |i| {
                i.str("type", "Role")
                    .str("principalId", &role.role_id)
                    .str("arn", &role.arn())
                    .str("accountId", &role.account_id)
                    .str("userName", &role.name);
            });
            match opts.web_identity {
                Some(p) => c.obj("webIdFederationData", |w| {
                    w.str("federatedProvider", p).obj("attributes", |_| {});
                }),
                None => c.obj("webIdFederationData", |_| {}),
            };
            attributes(c, &s);
            if let Some(si) = opts.source_identity {
                c.str("sourceIdentity", si);
            }
            if opts.ec2 {
                c.str("ec2RoleDelivery", "2.0");
            }
        });
        if let Some(svc) = opts.invoked_by {
            o.str("invokedBy", svc);
        }
    });
    Who {
        json,
        arn,
        key: s.access_key.to_string(),
    }
}

/// The account root user (console when `access_key` is empty).
pub(crate) fn root(account_id: &str, s: Option<Session<'_>>) -> Who {
    let arn = format!("arn:aws:iam::{account_id}:root");
    let key = s.map(|s| s.access_key.to_string()).unwrap_or_default();
    let json = json::object(|o| {
        o.str("type", "Root")
            .str("principalId", account_id)
            .str("arn", &arn)
            .str("accountId", account_id)
            .str("accessKeyId", &key);
        if let Some(s) = s {
            o.obj("sessionContext", |c| attributes(c, &s));
        }
    });
    Who { json, arn, key }
}

/// The root user calling with its own long-term access key.
pub(crate) fn root_key(account_id: &str, key: &str) -> Who {
    let arn = format!("arn:aws:iam::{account_id}:root");
    let json = json::object(|o| {
        o.str("type", "Root")
            .str("principalId", account_id)
            .str("arn", &arn)
            .str("accountId", account_id)
            .str("accessKeyId", key);
    });
    Who {
        json,
        arn,
        key: key.to_string(),
    }
}

/// An AWS service principal acting on its own (`AssumeRole` for Lambda, EC2, ECS...).
pub(crate) fn service(svc: &str) -> Who {
    let json = json::object(|o| {
        o.str("type", "AWSService").str("invokedBy", svc);
    });
    Who {
        json,
        arn: String::new(),
        key: String::new(),
    }
}

/// An unauthenticated request (S3 data events record these as `AWSAccount` "anonymous").
pub(crate) fn anonymous() -> Who {
    let json = json::object(|o| {
        o.str("type", "AWSAccount")
            .str("principalId", "")
            .str("accountId", "anonymous");
    });
    Who {
        json,
        arn: String::new(),
        key: String::new(),
    }
}

/// The caller of `AssumeRoleWithWebIdentity` (a GitHub Actions job).
pub(crate) fn web_identity_user(provider_arn: &str, subject: &str) -> Who {
    let json = json::object(|o| {
        o.str("type", "WebIdentityUser")
            .str(
                "principalId",
                &format!("{provider_arn}:sts.amazonaws.com:{subject}"),
            )
            .str("userName", subject)
            .str("identityProvider", provider_arn);
    });
    Who {
        json,
        arn: String::new(),
        key: String::new(),
    }
}

/// The caller of `AssumeRoleWithSAML` (an IAM Identity Center sign-in).
pub(crate) fn saml_user(idp_arn: &str, name_id: &str, principal_prefix: &str) -> Who {
    let json = json::object(|o| {
        o.str("type", "SAMLUser")
            .str("principalId", &format!("{principal_prefix}:{name_id}"))
            .str("userName", name_id)
            .str("identityProvider", idp_arn);
    });
    Who {
        json,
        arn: String::new(),
        key: String::new(),
    }
}

/// A principal of another AWS account (cross-account calls and the attacker's own account).
pub(crate) fn aws_account(account_id: &str, principal_id: &str) -> Who {
    let json = json::object(|o| {
        o.str("type", "AWSAccount")
            .str("principalId", principal_id)
            .str("accountId", account_id);
    });
    Who {
        json,
        arn: String::new(),
        key: String::new(),
    }
}

/// `eventCategory` and `managementEvent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    Management,
    Data,
}

/// One CloudTrail record to render.
#[derive(Debug, Clone)]
pub(crate) struct CtCall<'a> {
    pub time_ms: i64,
    pub who: &'a Who,
    pub source: &'a str,
    pub name: &'a str,
    pub region: &'static str,
    pub ip: &'a str,
    pub ua: &'a str,
    pub error: Option<(&'static str, String)>,
    pub request: Option<String>,
    pub response: Option<String>,
    pub additional: Option<String>,
    pub read_only: Option<bool>,
    /// `(ARN, accountId, type)`
    pub resources: Vec<(String, String, &'static str)>,
    pub event_type: &'static str,
    pub category: Category,
    pub recipient: &'a str,
    pub tls: bool,
    /// `sessionCredentialFromConsole: "true"` (console-originated API calls).
    pub from_console: bool,
    pub shared_event_id: Option<String>,
    pub event_version: &'static str,
}

impl<'a> CtCall<'a> {
    /// An API call with the usual defaults (management event, TLS details present). The
    /// arguments are the fields every record has.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn api(
        time_ms: i64,
        who: &'a Who,
        source: &'a str,
        name: &'a str,
        region: &'static str,
        ip: &'a str,
        ua: &'a str,
        recipient: &'a str,
    ) -> Self {
        CtCall {
            time_ms,
            who,
            source,
            name,
            region,
            ip,
            ua,
            error: None,
            request: None,
            response: None,
            additional: None,
            read_only: Some(is_read_only(name)),
            resources: Vec::new(),
            event_type: "AwsApiCall",
            category: Category::Management,
            recipient,
            tls: true,
            from_console: false,
            shared_event_id: None,
            event_version: "1.10",
        }
    }

    pub(crate) fn req(mut self, json: String) -> Self {
        self.request = Some(json);
        self
    }
    pub(crate) fn resp(mut self, json: String) -> Self {
        self.response = Some(json);
        self
    }
    pub(crate) fn extra(mut self, json: String) -> Self {
        self.additional = Some(json);
        self
    }
    pub(crate) fn err(mut self, e: Option<(&'static str, String)>) -> Self {
        if e.is_some() {
            self.response = None;
        }
        self.error = e;
        self
    }
    /// Turns the call into an access-denied failure for its caller.
    pub(crate) fn denied(self) -> Self {
        let e = deny(
            self.who,
            &super::apis::action_of(self.source, self.name),
            None,
        );
        self.err(e)
    }
    pub(crate) fn resource(mut self, arn: String, account: &str, ty: &'static str) -> Self {
        self.resources.push((arn, account.to_string(), ty));
        self
    }
    pub(crate) fn data(mut self) -> Self {
        self.category = Category::Data;
        self
    }
    pub(crate) fn console(mut self) -> Self {
        self.from_console = true;
        self
    }

    /// Writes the record as one JSON object into `out`; returns the `eventID`.
    pub(crate) fn render(&self, r: &mut SimRng, out: &mut Vec<u8>) -> String {
        let event_id = r.uuid();
        let request_id = if self.source == "s3.amazonaws.com" {
            r.hex(16).to_ascii_uppercase()
        } else {
            r.uuid()
        };
        out.extend_from_slice(b"{\"eventVersion\":\"");
        out.extend_from_slice(self.event_version.as_bytes());
        out.extend_from_slice(b"\",\"userIdentity\":");
        out.extend_from_slice(self.who.json.as_bytes());
        out.extend_from_slice(b",\"eventTime\":\"");
        push_ct_time(out, self.time_ms);
        out.extend_from_slice(b"\"");
        let mut rest = Vec::with_capacity(512);
        Obj::write(&mut rest, |o| {
            o.str("eventSource", self.source)
                .str("eventName", self.name)
                .str("awsRegion", self.region)
                .str("sourceIPAddress", self.ip)
                .str("userAgent", self.ua);
            if let Some((code, msg)) = &self.error {
                // Failed console sign-ins carry a message and no code.
                if !code.is_empty() {
                    o.str("errorCode", code);
                }
                o.str("errorMessage", msg);
            }
            match &self.request {
                Some(j) => o.raw("requestParameters", j),
                None => o.null("requestParameters"),
            };
            match &self.response {
                Some(j) => o.raw("responseElements", j),
                None => o.null("responseElements"),
            };
            if let Some(j) = &self.additional {
                o.raw("additionalEventData", j);
            }
            if self.event_type != "AwsConsoleSignIn" {
                o.str("requestID", &request_id);
            }
            o.str("eventID", &event_id);
            if let Some(ro) = self.read_only {
                o.bool("readOnly", ro);
            }
            if !self.resources.is_empty() {
                o.arr("resources", |a| {
                    for (arn, acc, ty) in &self.resources {
                        a.obj(|o| {
                            if !acc.is_empty() {
                                o.str("accountId", acc);
                            }
                            o.str("type", ty).str("ARN", arn);
                        });
                    }
                });
            }
            o.str("eventType", self.event_type)
                .bool("managementEvent", self.category == Category::Management)
                .str("recipientAccountId", self.recipient);
            if let Some(s) = &self.shared_event_id {
                o.str("sharedEventID", s);
            }
            o.str(
                "eventCategory",
                if self.category == Category::Management {
                    "Management"
                } else {
                    "Data"
                },
            );
            if self.tls {
                o.obj("tlsDetails", |t| {
                    t.str("tlsVersion", "TLSv1.3")
                        .str("cipherSuite", "TLS_AES_128_GCM_SHA256")
                        .str(
                            "clientProvidedHostHeader",
                            &host_header(self.source, self.region),
                        );
                });
            }
            if self.from_console {
                o.str("sessionCredentialFromConsole", "true");
            }
        });
        // Splice the rest of the object after eventTime: `{...}` -> `,...}`.
        if rest.len() > 2 {
            out.push(b',');
            out.extend_from_slice(&rest[1..]);
        } else {
            out.push(b'}');
        }
        event_id
    }
}

fn host_header(source: &str, region: &str) -> String {
    let svc = source.strip_suffix(".amazonaws.com").unwrap_or(source);
    match svc {
        "iam" | "organizations" | "signin" | "sts" if region == "us-east-1" => source.to_string(),
        _ => format!("{svc}.{region}.amazonaws.com"),
    }
}

/// Whether an API name is a read (`readOnly` in CloudTrail).
pub(crate) fn is_read_only(name: &str) -> bool {
    const READ: &[&str] = &[
        "Describe",
        "List",
        "Get",
        "Head",
        "Lookup",
        "Search",
        "Check",
        "Query",
        "Scan",
        "Batch Get",
        "Select",
        "Decrypt",
        "Verify",
        "Estimate",
        "Test",
        "Validate",
    ];
    READ.iter().any(|p| name.starts_with(p)) && !name.starts_with("GetSessionToken")
}

/// The error code and message AWS returns when `who` lacks permission for `action` (e.g.
/// `s3:GetObject`) on `resource`; shapes follow each service's real responses.
pub(crate) fn deny(
    who: &Who,
    action: &str,
    resource: Option<&str>,
) -> Option<(&'static str, String)> {
    let svc = action.split(':').next().unwrap_or("");
    let principal = if who.arn.is_empty() {
        "anonymous"
    } else {
        who.arn.as_str()
    };
    let because = format!("because no identity-based policy allows the {action} action");
    Some(match svc {
        "ec2" => (
            "Client.UnauthorizedOperation",
            format!(
                "You are not authorized to perform this operation. User: {principal} is not authorized to perform: {action} {because}"
            ),
        ),
        "kms" | "secretsmanager" | "ssm" | "dynamodb" | "ecs" | "ecr" | "logs" | "guardduty"
        | "securityhub" | "bedrock" | "config" | "backup" => (
            "AccessDeniedException",
            match resource {
                Some(r) => format!(
                    "User: {principal} is not authorized to perform: {action} on resource: {r} {because}"
                ),
                None => {
                    format!("User: {principal} is not authorized to perform: {action} {because}")
                }
            },
        ),
        _ => (
            "AccessDenied",
            match resource {
                Some(r) => format!(
                    "User: {principal} is not authorized to perform: {action} on resource: {r} {because}"
                ),
                None => {
                    format!("User: {principal} is not authorized to perform: {action} {because}")
                }
            },
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::rng::rng_for;

    #[test]
    fn record_is_valid_json_with_aws_fields() {
        let u = IamUser {
            account: 0,
            account_id: "111122223333".into(),
            name: "bob".into(),
            user_id: "AIDAEXAMPLEEXAMPLEEX".into(),
            access_key: "AKIAEXAMPLEEXAMPLE12".into(),
            console: false,
        };
        let who = iam_user(&u, None);
        let mut r = rng_for(1, &[]);
        let mut out = Vec::new();
        let call = CtCall::api(
            1_790_000_000_000,
            &who,
            "s3.amazonaws.com",
            "GetObject",
            "us-east-1",
            "203.0.113.9",
            "aws-cli/2.17.0",
            "111122223333",
        )
        .err(deny(&who, "s3:GetObject", Some("arn:aws:s3:::b/k")));
        let id = call.render(&mut r, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(v["eventID"], id.as_str());
        assert_eq!(v["userIdentity"]["userName"], "bob");
        assert_eq!(v["errorCode"], "AccessDenied");
        assert_eq!(v["readOnly"], true);
        assert_eq!(v["eventTime"].as_str().map(str::len), Some(20));
        assert!(v["requestParameters"].is_null());
    }
}
