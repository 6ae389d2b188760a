//! Network controls opened to the internet, and traffic mirrored out.
//!
//! **What**:
//! - `AuthorizeSecurityGroupIngress` (and `ModifySecurityGroupRules`) admitting 0.0.0.0/0 or
//!   ::/0 to administration and database ports (SSH, RDP, WinRM, SMB, VNC, Telnet, MySQL,
//!   PostgreSQL, SQL Server, Oracle, Redis, MongoDB, Elasticsearch, Docker, Kubernetes API) or
//!   to every port: High. Web ports open to the world are normal and stay silent.
//! - `CreateNetworkAclEntry`/`ReplaceNetworkAclEntry` allowing inbound traffic from
//!   0.0.0.0/0: Medium for admin or all ports, Low otherwise.
//! - Traffic mirroring set up or changed (`CreateTrafficMirror*`, `ModifyTrafficMirror*`,
//!   `DeleteTrafficMirror*`): a copy of every packet of an interface sent elsewhere.
//!
//! **Why**: an administration port open to the world is the entry point of most instance
//! compromises, and opening one is a common step of attackers who launched their own
//! instances (T1562.007). Traffic mirroring is packet capture as a service (T1040).
//! **Judged by content**: the permission list is parsed: protocol, port range, IPv4 and IPv6
//! ranges; a narrow source (a /32, a security group) is silent.
//! **Baseline**: none (stateless).
//! **False positives**: bastion hosts open on purpose, short-lived debugging rules, network
//! monitoring appliances (mirroring). Repeats update one finding per group and port.
//! **ATT&CK**: T1562.007, T1040.
//! **References**: CIS AWS Foundations 5.2-5.3 (no 0.0.0.0/0 to admin ports); AWS Security
//! Hub control EC2.13/EC2.14/EC2.19; Stratus Red Team aws.exfiltration.ec2-security-group-open-port-22-ingress.

use serde_json::Value;

use super::Rule;
use super::support::{
    HIGH, Hit, LOW, MEDIUM, actor, ct, emit, failed, items, params, resource, service, str_of,
};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::{Finding, Observable, ObservableType};
use crate::parse::cloudtrail::CloudTrailRecord;

const ID: &str = "network-exposure";

/// See the module documentation.
pub struct NetworkExposure;

/// (protocol, from port, to port, source ranges) of one ingress permission.
type Permission = (String, Option<i64>, Option<i64>, Vec<String>);

/// Ports whose exposure to the internet is a risk by itself.
const ADMIN_PORTS: &[(u16, &str)] = &[
    (22, "SSH"),
    (3389, "RDP"),
    (23, "Telnet"),
    (5900, "VNC"),
    (5985, "WinRM"),
    (5986, "WinRM"),
    (445, "SMB"),
    (135, "RPC"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (6379, "Redis"),
    (27017, "MongoDB"),
    (9200, "Elasticsearch"),
    (2375, "Docker"),
    (2376, "Docker"),
    (6443, "Kubernetes API"),
    (11211, "Memcached"),
    (21, "FTP"),
];

fn port(v: Option<&Value>) -> Option<i64> {
    v.and_then(|x| {
        x.as_i64()
            .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
    })
}

fn is_world(cidr: &str) -> bool {
    cidr == "0.0.0.0/0" || cidr == "::/0"
}

/// (all ports, exposed admin services, world cidr) for one permission.
fn judge_permission(proto: &str, from: Option<i64>, to: Option<i64>) -> (bool, Vec<&'static str>) {
    let all_proto = proto == "-1" || proto.eq_ignore_ascii_case("all");
    let (lo, hi) = match (from, to) {
        (Some(a), Some(b)) if a >= 0 && b >= a => (a, b),
        _ if all_proto => (0, 65535),
        _ => return (false, Vec::new()),
    };
    let all = all_proto || (lo <= 1 && hi >= 65535);
    let tcp_like = all_proto || proto == "tcp" || proto == "6" || proto == "udp" || proto == "17";
    let admin: Vec<&str> = if tcp_like {
        ADMIN_PORTS
            .iter()
            .filter(|(p, _)| lo <= i64::from(*p) && i64::from(*p) <= hi)
            .map(|(_, n)| *n)
            .collect()
    } else {
        Vec::new()
    };
    (all, admin)
}

impl NetworkExposure {
    fn judge(r: &CloudTrailRecord, hit: &mut Hit<'_>) -> bool {
        let who = actor(r);
        let name = r.event_name.as_str();
        let p = params(r);
        match name {
            "AuthorizeSecurityGroupIngress" => {
                let group = str_of(&p, &["groupId", "groupName"])
                    .unwrap_or("unknown")
                    .to_string();
                let mut perms: Vec<Permission> = Vec::new();
                for perm in items(p.get("ipPermissions")) {
                    let proto = perm
                        .get("ipProtocol")
                        .map(|v| {
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .unwrap_or_default();
                    let mut cidrs: Vec<String> = items(perm.get("ipRanges"))
                        .iter()
                        .filter_map(|x| str_of(x, &["cidrIp"]).map(str::to_string))
                        .collect();
                    cidrs.extend(
                        items(perm.get("ipv6Ranges"))
                            .iter()
                            .filter_map(|x| str_of(x, &["cidrIpv6"]).map(str::to_string)),
                    );
                    perms.push((
                        proto,
                        port(perm.get("fromPort")),
                        port(perm.get("toPort")),
                        cidrs,
                    ));
                }
                if let Some(c) = str_of(&p, &["cidrIp"]) {
                    perms.push((
                        str_of(&p, &["ipProtocol"]).unwrap_or("-1").to_string(),
                        port(p.get("fromPort")),
                        port(p.get("toPort")),
                        vec![c.to_string()],
                    ));
                }
                let mut all = false;
                let mut admin: Vec<&str> = Vec::new();
                let mut ports = Vec::new();
                for (proto, from, to, cidrs) in &perms {
                    if !cidrs.iter().any(|c| is_world(c)) {
                        continue;
                    }
                    let (a, ad) = judge_permission(proto, *from, *to);
                    all |= a;
                    if a || !ad.is_empty() {
                        ports.push(match (from, to) {
                            (Some(f), Some(t)) if f == t => f.to_string(),
                            (Some(f), Some(t)) if !a => format!("{f}-{t}"),
                            _ => "all".to_string(),
                        });
                    }
                    for x in ad {
                        if !admin.contains(&x) {
                            admin.push(x);
                        }
                    }
                }
                if !all && admin.is_empty() {
                    return false;
                }
                let what = if all {
                    "every port".to_string()
                } else {
                    format!("{} (port {})", admin.join(", "), ports.join(", "))
                };
                hit.strength = HIGH;
                hit.title = format!(
                    "Security group opened to the internet: {who} allowed 0.0.0.0/0 to {what} on {group}"
                );
                hit.desc = format!(
                    "Security group {group} now admits the whole internet to {what}. Exposed administration and database \
                     ports are found by scanners within minutes and brute-forced."
                );
                hit.key = vec!["sg".into(), group.clone(), ports.join(",")];
                for p in &ports {
                    if let Ok(n) = p.parse::<u16>() {
                        hit.observables.push(Observable {
                            kind: ObservableType::Port,
                            value: n.to_string(),
                        });
                    }
                }
                hit.resources
                    .push(resource(r, group, "AWS::EC2::SecurityGroup"));
                hit.attacks = &["T1562.007"];
            }
            "CreateNetworkAclEntry" | "ReplaceNetworkAclEntry" => {
                let cidr = str_of(&p, &["cidrBlock", "ipv6CidrBlock"]).unwrap_or("");
                let allow =
                    str_of(&p, &["ruleAction"]).is_some_and(|a| a.eq_ignore_ascii_case("allow"));
                let egress = p.get("egress").and_then(Value::as_bool).unwrap_or(false);
                if !is_world(cidr) || !allow || egress {
                    return false;
                }
                let proto = p
                    .get("aclProtocol")
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .unwrap_or_default();
                let range = p.get("portRange");
                let (all, admin) = judge_permission(
                    &proto,
                    port(range.and_then(|r| r.get("from"))),
                    port(range.and_then(|r| r.get("to"))),
                );
                let acl = str_of(&p, &["networkAclId"])
                    .unwrap_or("unknown")
                    .to_string();
                hit.strength = if all || !admin.is_empty() {
                    MEDIUM
                } else {
                    LOW
                };
                hit.title = format!(
                    "Network ACL allows inbound traffic from the internet: {who} added an allow rule for {cidr} to {acl}"
                );
                hit.desc = format!(
                    "Network ACL {acl} got an inbound allow rule for {cidr}{}.",
                    if all {
                        " on every port"
                    } else if admin.is_empty() {
                        ""
                    } else {
                        " including administration ports"
                    }
                );
                hit.key = vec![
                    "nacl".into(),
                    acl.clone(),
                    str_of(&p, &["ruleNumber"])
                        .map(str::to_string)
                        .unwrap_or_else(|| {
                            p.get("ruleNumber")
                                .map(|v| v.to_string())
                                .unwrap_or_default()
                        }),
                ];
                hit.resources.push(resource(r, acl, "AWS::EC2::NetworkAcl"));
                hit.attacks = &["T1562.007"];
            }
            n if n.contains("TrafficMirror") && !n.starts_with("Describe") => {
                let inner = p
                    .as_object()
                    .and_then(|o| o.values().next())
                    .cloned()
                    .unwrap_or(Value::Null);
                let target = str_of(
                    &inner,
                    &[
                        "NetworkInterfaceId",
                        "TrafficMirrorSessionId",
                        "TrafficMirrorTargetId",
                        "TrafficMirrorFilterId",
                    ],
                )
                .unwrap_or("unknown")
                .to_string();
                hit.strength = if n.starts_with("CreateTrafficMirrorSession")
                    || n.starts_with("CreateTrafficMirrorTarget")
                {
                    MEDIUM
                } else {
                    LOW
                };
                if failed(r) {
                    hit.strength -= 0.1;
                }
                hit.title = format!("Traffic mirroring changed: {who} called {n} ({target})");
                hit.desc = format!(
                    "{n} ({target}). Traffic mirroring copies every packet of an interface to another destination."
                );
                hit.key = vec![n.to_string(), target.clone()];
                hit.resources
                    .push(resource(r, target, "AWS::EC2::TrafficMirror"));
                hit.attacks = &["T1040"];
            }
            _ => return false,
        }
        true
    }
}

impl Rule for NetworkExposure {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if service(r) != "ec2" {
            return;
        }
        if failed(r) && !r.event_name.contains("TrafficMirror") {
            return;
        }
        let mut hit = Hit::new(ID, "Network exposure", &["T1562.007"]);
        hit.confidence = 0.85;
        hit.remediation = "Check whether the exposure is intended (a public bastion, a monitoring appliance). If \
                           not: revoke the rule or mirror session, restrict the source to known networks or use \
                           SSM Session Manager instead of open ports, and check the exposed hosts for intrusion.";
        if Self::judge(r, &mut hit) {
            emit(e, r, cfg, hit, out);
        }
    }
}
