//! `Activity`: the compact, order-independent facts a behavioural detector needs from one
//! event. Extracted on the worker threads (where the full event is at hand) so the
//! time-ordered stage only buffers small values.

use std::net::IpAddr;
use std::sync::Arc;

use crate::event::{Event, EventData};

/// What kind of identity acted, coarsely, for privilege weighting and cold-start rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PrincipalKind {
    Root,
    IamUser,
    /// A role session; the principal key is the role ARN.
    Role,
    /// An IAM Identity Center (SSO) session; keyed per person, not per permission set.
    SsoUser,
    Federated,
    /// A cross-account caller known only by its account.
    Account,
    AwsService,
    Anonymous,
    Unknown,
}

/// Broad family of the client that made a call.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum UaFamily {
    Console,
    AwsCli,
    Sdk,
    Terraform,
    CloudFormation,
    AwsInternal,
    Offensive,
    HttpTool,
    Browser,
    Unknown,
}

impl UaFamily {
    pub fn name(self) -> &'static str {
        match self {
            UaFamily::Console => "console",
            UaFamily::AwsCli => "aws-cli",
            UaFamily::Sdk => "sdk",
            UaFamily::Terraform => "terraform",
            UaFamily::CloudFormation => "cloudformation",
            UaFamily::AwsInternal => "aws-internal",
            UaFamily::Offensive => "offensive-tool",
            UaFamily::HttpTool => "http-tool",
            UaFamily::Browser => "browser",
            UaFamily::Unknown => "unknown",
        }
    }

    /// Classifies a user agent string. Offensive tools are checked first because they often
    /// embed an ordinary SDK user agent.
    pub fn classify(ua: &str) -> UaFamily {
        let l = ua.to_ascii_lowercase();
        const OFFENSIVE: [&str; 10] = [
            "pacu",
            "kali",
            "parrot",
            "pentoo",
            "cloudgoat",
            "stratus-red-team",
            "weirdaal",
            "nimbostratus",
            "cloudfox",
            "trufflehog",
        ];
        if OFFENSIVE.iter().any(|t| l.contains(t)) {
            UaFamily::Offensive
        } else if l.is_empty() {
            UaFamily::Unknown
        } else if l.contains("terraform") {
            UaFamily::Terraform
        } else if l.contains("cloudformation") {
            UaFamily::CloudFormation
        } else if l.starts_with("aws-cli") || l.contains(" aws-cli/") {
            UaFamily::AwsCli
        } else if l.contains("console.amazonaws.com")
            || l.contains("signin.amazonaws.com")
            || l.starts_with("s3console")
            || l.contains("aws-internal/")
        {
            UaFamily::Console
        } else if l == "aws internal" || l.ends_with(".amazonaws.com") {
            UaFamily::AwsInternal
        } else if l.contains("boto3")
            || l.contains("botocore")
            || l.contains("aws-sdk")
            || l.starts_with("aws-")
            || l.contains("aws-lambda")
        {
            UaFamily::Sdk
        } else if l.starts_with("curl/")
            || l.starts_with("python-requests")
            || l.starts_with("wget")
            || l.starts_with("go-http-client")
            || l.starts_with("postmanruntime")
        {
            UaFamily::HttpTool
        } else if l.starts_with("mozilla/") {
            UaFamily::Browser
        } else {
            UaFamily::Unknown
        }
    }
}

/// Facts from a VPC flow record.
#[derive(Debug, Clone)]
pub struct FlowFacts {
    pub interface: Arc<str>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub dst_port: Option<u16>,
    pub bytes: u64,
    pub packets: u64,
    pub rejected: bool,
    /// Traffic leaving the interface towards a public address.
    pub egress_external: bool,
}

/// Facts from an S3 server access log line.
#[derive(Debug, Clone)]
pub struct S3Facts {
    pub bucket: Arc<str>,
    pub requester: Option<Arc<str>>,
    pub read: bool,
    pub delete: bool,
    pub bytes: u64,
    pub denied: bool,
}

/// One event, reduced to what the behavioural detectors read.
#[derive(Debug, Clone)]
pub struct Activity {
    pub time_ms: i64,
    pub uid: Arc<str>,
    pub account: Option<Arc<str>>,
    pub region: Option<Arc<str>>,
    /// Principal key: a user ARN, a role ARN (sessions folded into their role), an SSO session
    /// ARN, the root ARN.
    pub principal: Option<Arc<str>>,
    pub principal_kind: PrincipalKind,
    pub access_key: Option<Arc<str>>,
    /// `service:EventName`, e.g. `iam:CreateUser`.
    pub api: Option<Arc<str>>,
    pub read_only: bool,
    pub error: bool,
    pub src_ip: Option<IpAddr>,
    /// The caller's network: an IPv4 /24 or IPv6 /48, or the AWS service name for calls made
    /// by AWS on the principal's behalf.
    pub origin: Option<Arc<str>>,
    pub user_agent: Option<Arc<str>>,
    pub ua_family: UaFamily,
    pub flow: Option<FlowFacts>,
    pub s3: Option<S3Facts>,
    /// A console sign-in that failed. Failed `ConsoleLogin` records carry no errorCode, only a
    /// `Failure` response and an errorMessage, so `error` does not see them.
    pub sign_in_failed: bool,
    /// The EC2 instance whose instance-profile credentials made the call (`ec2RoleDelivery`
    /// set, or a role session named after the instance).
    pub instance: Option<Arc<str>>,
}

/// `iam.amazonaws.com` -> `iam`.
pub fn service_of(event_source: &str) -> &str {
    event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source)
}

/// The network an address belongs to, at the granularity baselines use.
pub fn network_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// Whether an address is publicly routable (not private, loopback, link-local, CGNAT...).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

fn arc(s: &str) -> Arc<str> {
    Arc::from(s)
}

/// Principal key and kind from a CloudTrail user identity.
pub fn principal_of(
    r: &crate::parse::cloudtrail::CloudTrailRecord,
) -> (Option<String>, PrincipalKind) {
    let ui = &r.user_identity;
    let kind = ui.identity_type.as_deref().unwrap_or("");
    match kind {
        "Root" => {
            let acct = ui
                .account_id
                .as_deref()
                .or(r.recipient_account_id.as_deref())
                .unwrap_or("");
            (
                Some(
                    ui.arn
                        .clone()
                        .unwrap_or_else(|| format!("arn:aws:iam::{acct}:root")),
                ),
                PrincipalKind::Root,
            )
        }
        "IAMUser" => (
            ui.arn.clone().or_else(|| ui.user_name.clone()),
            PrincipalKind::IamUser,
        ),
        "AssumedRole" => {
            let issuer = ui
                .session_context
                .as_ref()
                .and_then(|s| s.session_issuer.as_ref())
                .and_then(|i| i.arn.clone());
            let is_sso = issuer
                .as_deref()
                .is_some_and(|a| a.contains("/AWSReservedSSO_"));
            if is_sso {
                (ui.arn.clone().or(issuer), PrincipalKind::SsoUser)
            } else {
                (issuer.or_else(|| ui.arn.clone()), PrincipalKind::Role)
            }
        }
        "FederatedUser" => (ui.arn.clone(), PrincipalKind::Federated),
        "IdentityCenterUser" => (
            ui.user_name
                .clone()
                .or_else(|| ui.principal_id.clone())
                .map(|u| format!("identitycenter:{u}")),
            PrincipalKind::SsoUser,
        ),
        "AWSAccount" => (
            ui.account_id
                .clone()
                .or_else(|| ui.principal_id.clone())
                .map(|a| format!("account:{a}")),
            PrincipalKind::Account,
        ),
        "AWSService" => (ui.invoked_by.clone(), PrincipalKind::AwsService),
        "SAMLUser" | "WebIdentityUser" => (
            ui.user_name
                .clone()
                .or_else(|| ui.principal_id.clone())
                .map(|u| format!("{kind}:{u}")),
            PrincipalKind::Federated,
        ),
        "" if ui.principal_id.is_none() && ui.arn.is_none() => (None, PrincipalKind::Anonymous),
        _ => (
            ui.arn.clone().or_else(|| ui.principal_id.clone()),
            PrincipalKind::Unknown,
        ),
    }
}

/// The instance id of an instance-profile role session.
fn instance_of(r: &crate::parse::cloudtrail::CloudTrailRecord) -> Option<Arc<str>> {
    let ui = &r.user_identity;
    if ui.identity_type.as_deref() != Some("AssumedRole") {
        return None;
    }
    let session = ui.arn.as_deref()?.rsplit('/').next()?;
    let ec2 = ui
        .session_context
        .as_ref()
        .is_some_and(|c| c.ec2_role_delivery.is_some());
    let named = session.strip_prefix("i-").is_some_and(|h| {
        (h.len() == 8 || h.len() == 17) && h.bytes().all(|b| b.is_ascii_hexdigit())
    });
    (ec2 || named).then(|| arc(session))
}

impl Activity {
    /// Reduces an event. Returns `None` for events with nothing to baseline (Insights
    /// records, flow NODATA/SKIPDATA records).
    pub fn from_event(e: &Event) -> Option<Activity> {
        let uid = arc(&e.uid);
        match &e.data {
            EventData::CloudTrail(r) => {
                if r.event_type.as_deref() == Some("AwsCloudTrailInsight") {
                    return None;
                }
                let (principal, principal_kind) = principal_of(r);
                let src_ip: Option<IpAddr> =
                    r.source_ip_address.as_deref().and_then(|s| s.parse().ok());
                let origin = match (src_ip, r.source_ip_address.as_deref()) {
                    (Some(ip), _) => Some(arc(&network_of(ip))),
                    (None, Some(s)) if !s.is_empty() => Some(arc(s)),
                    _ => None,
                };
                let ua = r.user_agent.as_deref().unwrap_or("");
                let read_only = r.read_only.unwrap_or_else(|| {
                    let n = r.event_name.as_str();
                    n.starts_with("Get")
                        || n.starts_with("List")
                        || n.starts_with("Describe")
                        || n.starts_with("Head")
                });
                Some(Activity {
                    time_ms: e.time_ms,
                    uid,
                    account: r
                        .recipient_account_id
                        .as_deref()
                        .or(r.user_identity.account_id.as_deref())
                        .map(arc),
                    region: (!r.aws_region.is_empty()).then(|| arc(&r.aws_region)),
                    principal: principal.as_deref().map(arc),
                    principal_kind,
                    access_key: r
                        .user_identity
                        .access_key_id
                        .as_deref()
                        .filter(|k| !k.is_empty())
                        .map(arc),
                    api: Some(arc(&format!(
                        "{}:{}",
                        service_of(&r.event_source),
                        r.event_name
                    ))),
                    read_only,
                    error: r.error_code.is_some(),
                    src_ip,
                    origin,
                    user_agent: (!ua.is_empty()).then(|| arc(ua)),
                    ua_family: UaFamily::classify(ua),
                    flow: None,
                    s3: None,
                    sign_in_failed: r.event_source == "signin.amazonaws.com"
                        && r.event_name == "ConsoleLogin"
                        && (r.error_message.is_some()
                            || r.response_elements
                                .as_deref()
                                .is_some_and(|v| v.get().contains("\"Failure\""))),
                    instance: instance_of(r),
                })
            }
            EventData::Flow(f) => {
                if f.log_status.as_deref().is_some_and(|s| s != "OK") {
                    return None;
                }
                let interface = f.interface_id.as_deref()?;
                let src = f.pkt_srcaddr.or(f.srcaddr);
                let dst = f.pkt_dstaddr.or(f.dstaddr);
                let egress = match f.flow_direction.as_deref() {
                    Some("egress") => true,
                    Some(_) => false,
                    // Without a direction field, traffic from a private to a public address
                    // is taken as leaving the VPC.
                    None => src.is_some_and(|s| !is_public(s)),
                };
                let egress_external = egress && dst.is_some_and(is_public);
                Some(Activity {
                    time_ms: e.time_ms,
                    uid,
                    account: f.account_id.as_deref().map(arc),
                    region: f.region.as_deref().map(arc),
                    principal: None,
                    principal_kind: PrincipalKind::Unknown,
                    access_key: None,
                    api: None,
                    read_only: true,
                    error: false,
                    src_ip: src,
                    origin: src.map(|ip| arc(&network_of(ip))),
                    user_agent: None,
                    ua_family: UaFamily::Unknown,
                    flow: Some(FlowFacts {
                        interface: arc(interface),
                        src,
                        dst,
                        dst_port: f.dstport,
                        bytes: f.bytes.unwrap_or(0),
                        packets: f.packets.unwrap_or(0),
                        rejected: f.action.as_deref() == Some("REJECT"),
                        egress_external,
                    }),
                    s3: None,
                    sign_in_failed: false,
                    instance: None,
                })
            }
            EventData::S3Access(s) => {
                let bucket = s.bucket.as_deref()?;
                let op = s.operation.as_deref().unwrap_or("");
                let src_ip: Option<IpAddr> = s.remote_ip.as_deref().and_then(|x| x.parse().ok());
                let ua = s.user_agent.as_deref().unwrap_or("");
                Some(Activity {
                    time_ms: e.time_ms,
                    uid,
                    account: None,
                    region: None,
                    principal: s.requester.as_deref().map(arc),
                    principal_kind: if s.requester.is_none() {
                        PrincipalKind::Anonymous
                    } else {
                        PrincipalKind::Unknown
                    },
                    access_key: None,
                    api: Some(arc(&format!("s3access:{op}"))),
                    read_only: op.contains(".GET.") || op.contains(".HEAD."),
                    error: s.http_status.is_some_and(|c| c >= 400),
                    src_ip,
                    origin: src_ip.map(|ip| arc(&network_of(ip))),
                    user_agent: (!ua.is_empty()).then(|| arc(ua)),
                    ua_family: UaFamily::classify(ua),
                    flow: None,
                    s3: Some(S3Facts {
                        bucket: arc(bucket),
                        requester: s.requester.as_deref().map(arc),
                        read: op.contains(".GET.OBJECT"),
                        delete: op.contains("DELETE"),
                        bytes: s.bytes_sent.unwrap_or(0),
                        denied: s.http_status == Some(403),
                    }),
                    sign_in_failed: false,
                    instance: None,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents() {
        assert_eq!(
            UaFamily::classify("aws-cli/2.15.0 Python/3.11.6 Linux/6.1"),
            UaFamily::AwsCli
        );
        assert_eq!(
            UaFamily::classify("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1"),
            UaFamily::Sdk
        );
        assert_eq!(
            UaFamily::classify(
                "aws-cli/1.18.69 Python/3.8.2 Linux/5.4.0-kali2-amd64 botocore/1.16.19"
            ),
            UaFamily::Offensive
        );
        assert_eq!(
            UaFamily::classify("Boto3/1.9.201 Python/3.7.3 Linux/4.19 Botocore/1.12.201 Pacu"),
            UaFamily::Offensive
        );
        assert_eq!(
            UaFamily::classify("APN/1.0 HashiCorp/1.0 Terraform/1.6.6"),
            UaFamily::Terraform
        );
        assert_eq!(
            UaFamily::classify("cloudformation.amazonaws.com"),
            UaFamily::CloudFormation
        );
        assert_eq!(UaFamily::classify("AWS Internal"), UaFamily::AwsInternal);
        assert_eq!(
            UaFamily::classify("signin.amazonaws.com"),
            UaFamily::Console
        );
        assert_eq!(UaFamily::classify("curl/8.4.0"), UaFamily::HttpTool);
        assert_eq!(UaFamily::classify(""), UaFamily::Unknown);
    }

    #[test]
    fn networks_and_public_ranges() {
        assert_eq!(
            network_of("198.51.100.7".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
            "198.51.100.0/24"
        );
        assert!(is_public(IpAddr::from([8, 8, 8, 8])));
        assert!(!is_public(IpAddr::from([10, 1, 2, 3])));
        assert!(!is_public(IpAddr::from([100, 64, 0, 1])));
        assert!(!is_public(IpAddr::from([172, 16, 0, 1])));
    }
}
