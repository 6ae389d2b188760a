//! Compute hijacking and execution on instances, judged from one call.
//!
//! **What**:
//! - `RunInstances` / `RequestSpotInstances` of GPU and accelerator families (p2-p5, g3-g6,
//!   inf, trn, dl, f1, vt1) or of very large sizes (16xlarge and up, metal), or of many
//!   instances at once; refused attempts count too (miners retry until a quota lets them);
//! - `EnableRegion`: an opt-in region switched on (attackers mine where nobody looks, T1535);
//! - `ModifyInstanceAttribute` changing `userData`: code that runs as root at next boot;
//! - `SendCommand` (SSM Run Command) of shell scripts to several instances at once;
//! - EC2 Instance Connect `SendSSHPublicKey` (a key pushed to an instance for 60 seconds);
//! - Lambda layers attached, and function code replaced, by a person rather than a pipeline.
//!
//! **Why**: stolen cloud credentials are monetised by mining on the biggest instances the
//! quota allows (T1496.001); instance user data, Run Command and layers are how code is
//! executed inside workloads (T1651, T1648, T1059).
//! **Baseline**: none (stateless). Regions an account never used are judged by the
//! `new-compute-region` detector.
//! **False positives**: ML teams (GPU types), large batch jobs, operators using Run Command
//! and Instance Connect. Calls made by Auto Scaling or other services score lower.
//! **ATT&CK**: T1496.001, T1535, T1651, T1648, T1098.004.
//! **References**: GuardDuty CryptoCurrency and Impact:EC2 finding types; Stratus Red Team
//! aws.execution.ec2-user-data, aws.execution.ssm-send-command; Panther
//! AWS.EC2.LaunchUnusualEC2Instances, AWS.EC2.Startup.Script.Change.

use serde_json::Value;

use super::Rule;
use super::support::{
    HIGH, Hit, INFO, LOW, MEDIUM, actor, ct, emit, failed, items, params, resource, response,
    service, str_of, strings, via_aws_service,
};
use crate::detect::EngineConfig;
use crate::detect::activity::UaFamily;
use crate::event::Event;
use crate::finding::Finding;
use crate::parse::cloudtrail::CloudTrailRecord;

const ID: &str = "compute-abuse";

/// See the module documentation.
pub struct ComputeAbuse;

/// `p3.16xlarge` -> Some(reason) when the type is an accelerator or very large.
pub(crate) fn costly_type(ty: &str) -> Option<(&'static str, f64)> {
    let t = ty.to_ascii_lowercase();
    let (family, size) = t.split_once('.').unwrap_or((&t, ""));
    let accel = [
        "p2", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6", "g3", "g3s", "g4dn", "g4ad",
        "g5", "g5g", "g6", "g6e", "gr6", "inf1", "inf2", "trn1", "trn1n", "trn2", "dl1", "dl2q",
        "f1", "f2", "vt1",
    ];
    if accel.contains(&family) {
        return Some(("GPU/accelerator", HIGH + 0.05));
    }
    let n: u32 = size
        .strip_suffix("xlarge")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if size == "metal"
        || n >= 16
        || family.starts_with("x1")
        || family.starts_with("x2")
        || family.starts_with("u-")
    {
        return Some(("very large", MEDIUM));
    }
    None
}

fn instance_type(p: &Value) -> Option<String> {
    match p.get("instanceType") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("value").and_then(Value::as_str).map(str::to_string),
        _ => p
            .pointer("/launchSpecification/instanceType")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

fn person(r: &CloudTrailRecord) -> bool {
    !via_aws_service(r)
        && !matches!(
            UaFamily::classify(r.user_agent.as_deref().unwrap_or("")),
            UaFamily::Terraform | UaFamily::CloudFormation
        )
        && match r.user_identity.identity_type.as_deref() {
            Some("IAMUser" | "FederatedUser") => true,
            Some("AssumedRole") => r
                .user_identity
                .session_context
                .as_ref()
                .and_then(|s| s.session_issuer.as_ref())
                .and_then(|i| i.arn.as_deref())
                .is_some_and(|a| a.contains("AWSReservedSSO_")),
            _ => false,
        }
}

impl ComputeAbuse {
    fn judge(r: &CloudTrailRecord, hit: &mut Hit<'_>) -> bool {
        let who = actor(r);
        let name = r.event_name.as_str();
        let refused = failed(r);
        if refused && !matches!(name, "RunInstances" | "RequestSpotInstances") {
            return false;
        }
        match (service(r), name) {
            ("ec2", "RunInstances" | "RequestSpotInstances") => {
                if r.error_code
                    .as_deref()
                    .is_some_and(|c| c.contains("DryRun"))
                {
                    return false;
                }
                let p = params(r);
                let ty = instance_type(&p).unwrap_or_default();
                let count: i64 = items(p.get("instancesSet"))
                    .iter()
                    .filter_map(|i| {
                        i.get("maxCount").and_then(|m| {
                            m.as_i64()
                                .or_else(|| m.as_str().and_then(|s| s.parse().ok()))
                        })
                    })
                    .sum::<i64>()
                    .max(p.get("instanceCount").and_then(Value::as_i64).unwrap_or(0))
                    .max(1);
                let costly = costly_type(&ty);
                let many = count >= 10;
                let Some((what, mut strength)) = costly.or(many.then_some(("many", MEDIUM))) else {
                    return false;
                };
                if many && costly.is_some() {
                    strength += 0.05;
                }
                if refused {
                    strength -= 0.15;
                }
                let launched = items(response(r).get("instancesSet"))
                    .iter()
                    .filter_map(|i| str_of(i, &["instanceId"]).map(str::to_string))
                    .collect::<Vec<_>>();
                hit.strength = strength;
                hit.title = format!(
                    "{} instances {}: {who} {} {count} x {ty} in {}",
                    if what == "many" {
                        "Many"
                    } else if what == "GPU/accelerator" {
                        "GPU"
                    } else {
                        "Very large"
                    },
                    if refused { "requested" } else { "launched" },
                    if refused {
                        "tried to launch"
                    } else {
                        "launched"
                    },
                    r.aws_region
                );
                hit.desc = format!(
                    "{count} instance(s) of type {ty} ({what}) {} in {}. Stolen credentials are turned into money by \
                     mining on the largest instances the quota allows{}.",
                    if refused {
                        "were requested but refused"
                    } else {
                        "were launched"
                    },
                    r.aws_region,
                    if refused {
                        "; refusals (quota, permissions) are typical of the first attempts"
                    } else {
                        ""
                    }
                );
                hit.attacks = &["T1496.001", "T1578.002"];
                hit.key = vec!["RunInstances".into(), r.aws_region.clone(), ty.clone()];
                for id in launched.iter().take(20) {
                    hit.resources
                        .push(resource(r, id.clone(), "AWS::EC2::Instance"));
                }
            }
            (_, "EnableRegion") => {
                let p = params(r);
                let region = str_of(&p, &["RegionName", "regionName"])
                    .unwrap_or("unknown")
                    .to_string();
                hit.strength = MEDIUM;
                hit.title = format!("Opt-in region enabled: {who} enabled {region}");
                hit.desc = format!(
                    "Region {region} was enabled for the account. Attackers use regions nobody watches."
                );
                hit.attacks = &["T1535"];
                hit.key = vec![name.into(), region];
            }
            ("ec2", "ModifyInstanceAttribute") => {
                let p = params(r);
                if p.get("userData").is_none() {
                    return false;
                }
                let i = str_of(&p, &["instanceId"]).unwrap_or("unknown").to_string();
                hit.strength = HIGH;
                hit.title =
                    format!("Instance startup script changed: {who} replaced the user data of {i}");
                hit.desc = format!(
                    "The user data of instance {i} was replaced; it runs as root the next time the instance starts."
                );
                hit.attacks = &["T1651", "T1059"];
                hit.key = vec![name.into(), i.clone()];
                hit.resources.push(resource(r, i, "AWS::EC2::Instance"));
            }
            ("ssm", "SendCommand") => {
                let p = params(r);
                let doc = str_of(&p, &["documentName"]).unwrap_or("");
                let ids = strings(p.get("instanceIds"));
                let targets = p.get("targets").is_some_and(|t| !t.is_null());
                if !(ids.len() >= 3 || targets)
                    || !(doc.contains("RunShellScript") || doc.contains("RunPowerShellScript"))
                {
                    return false;
                }
                hit.strength = MEDIUM;
                let n = if targets {
                    "a target set of".to_string()
                } else {
                    ids.len().to_string()
                };
                hit.title = format!(
                    "Shell commands sent to many instances: {who} ran {doc} on {n} instances"
                );
                hit.desc = format!(
                    "{doc} was sent to {n} instances at once through SSM Run Command; each runs the script as root."
                );
                hit.attacks = &["T1651"];
                hit.key = vec![name.into(), doc.to_string()];
                for i in ids.iter().take(20) {
                    hit.resources
                        .push(resource(r, i.to_string(), "AWS::EC2::Instance"));
                }
            }
            ("ec2-instance-connect", "SendSSHPublicKey") => {
                let p = params(r);
                let i = str_of(&p, &["instanceId"]).unwrap_or("unknown").to_string();
                let user = str_of(&p, &["instanceOSUser"]).unwrap_or("?");
                hit.strength = LOW;
                hit.title =
                    format!("SSH key pushed to an instance: {who} sent a key for {user}@{i}");
                hit.desc = format!(
                    "An SSH public key for OS user {user} was pushed to instance {i} through EC2 Instance Connect."
                );
                hit.attacks = &["T1098.004", "T1021.004"];
                hit.key = vec![name.into(), i.clone()];
                hit.resources.push(resource(r, i, "AWS::EC2::Instance"));
            }
            ("lambda", n)
                if n.starts_with("UpdateFunctionConfiguration")
                    || n.starts_with("UpdateFunctionCode")
                    || n.starts_with("PublishLayerVersion") =>
            {
                if !person(r) {
                    return false;
                }
                let p = params(r);
                let f = str_of(&p, &["functionName"])
                    .unwrap_or("unknown")
                    .to_string();
                if n.starts_with("UpdateFunctionConfiguration") {
                    let layers = p
                        .get("layers")
                        .and_then(Value::as_array)
                        .is_some_and(|a| !a.is_empty());
                    let resp_layers = response(r)
                        .get("layers")
                        .and_then(Value::as_array)
                        .is_some_and(|a| !a.is_empty());
                    if !(layers || resp_layers) {
                        return false;
                    }
                    hit.strength = LOW;
                    hit.title = format!(
                        "Lambda layer attached by a person: {who} changed the layers of {f}"
                    );
                    hit.desc = format!(
                        "Function {f} got new layers from an interactive caller; a layer runs code inside every invocation."
                    );
                } else if n.starts_with("UpdateFunctionCode") {
                    hit.strength = INFO;
                    hit.title =
                        format!("Lambda code replaced by a person: {who} updated the code of {f}");
                    hit.desc = format!(
                        "The code of function {f} was replaced by an interactive caller rather than a pipeline."
                    );
                } else {
                    return false;
                }
                hit.attacks = &["T1648"];
                hit.key = vec![n.trim_end_matches(char::is_numeric).to_string(), f.clone()];
                hit.resources.push(resource(r, f, "AWS::Lambda::Function"));
            }
            _ => return false,
        }
        true
    }
}

impl Rule for ComputeAbuse {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if !matches!(
            service(r),
            "ec2" | "ssm" | "ec2-instance-connect" | "lambda" | "account" | "cloudtrail"
        ) {
            return;
        }
        let mut hit = Hit::new(ID, "Compute hijacking or remote execution", &["T1496.001"]);
        hit.confidence = 0.8;
        hit.remediation = "Check with the workload owner whether this launch or execution was planned. If not: stop \
                           or terminate the instances, revert the change, revoke the caller's credentials, and \
                           look for the same activity in other regions.";
        if Self::judge(r, &mut hit) {
            emit(e, r, cfg, hit, out);
        }
    }
}
