//! Privilege escalation along the known IAM paths, judged by what the change grants.
//!
//! **What**:
//! - a new default policy version (`CreatePolicyVersion` with `setAsDefault`), an inline
//!   policy (`Put{User,Role,Group}Policy`) or an attached AWS managed policy
//!   (`Attach{User,Role,Group}Policy`) that grants administrator access, full control of IAM
//!   (or STS, Organizations, KMS, CloudTrail, SSO) or privilege-escalation actions on every
//!   resource; Critical when the caller grants it to itself;
//! - `SetDefaultPolicyVersion` (rolls a policy to a version nobody reviewed);
//! - `AddUserToGroup` into a group named like an administrators group;
//! - console passwords (`CreateLoginProfile`/`UpdateLoginProfile`) and access keys
//!   (`CreateAccessKey`) made for another user; a password set without forcing a reset means
//!   the caller knows it;
//! - trust policies (`UpdateAssumeRolePolicy`) opened to everyone or to another account;
//! - passing a role to new compute (`CreateFunction`, `RunInstances` with an instance profile,
//!   `CreateStack` with a role) by a person rather than a pipeline or service.
//!
//! **Why**: these are the documented escalation paths (Rhino Security Labs' 21 methods); an
//! attacker with a narrow foothold uses them to become administrator (T1098.003, T1484.002,
//! T1548) or to keep access through new credentials (T1098.001).
//! **Look-alikes**: attaching ReadOnlyAccess, narrowly scoped inline policies, Deny
//! statements, passwords created with a forced reset (an administrator onboarding someone),
//! a user rotating its own key: silent or Informational.
//! **Baseline**: none (stateless); whether the caller is usually an administrator is left to
//! the behavioural detectors.
//! **False positives**: administrators granting access on purpose. Severity stays High (not
//! Critical) unless the grant is to the caller itself.
//! **ATT&CK**: T1098.003, T1098.001, T1484.002, T1548.005.
//! **References**: Rhino Security Labs, "AWS IAM Privilege Escalation – Methods and
//! Mitigation"; Stratus Red Team aws.privilege-escalation.*; Panther rules
//! AWS.IAM.AttachAdminUserPolicy, AWS.IAM.Backdoor.User.Keys, AWS.IAM.BackdoorRole.

use serde_json::Value;

use super::Rule;
use super::policy::{exposure, identity_grants, managed_policy_power, parse_doc};
use super::support::{
    CRITICAL, HIGH, Hit, INFO, LOW, MEDIUM, account, actor, bool_of, caller_user_name, ct, emit,
    failed, items, params, resource, session_name, str_of, via_aws_service,
};
use crate::detect::EngineConfig;
use crate::detect::activity::UaFamily;
use crate::event::Event;
use crate::finding::Finding;
use crate::parse::cloudtrail::CloudTrailRecord;

const ID: &str = "iam-privilege-escalation";
const NAME: &str = "IAM privilege escalation";

/// See the module documentation.
pub struct IamPrivilegeEscalation;

/// The caller is the target identity (`userName` or `roleName` of the request).
fn is_self(r: &CloudTrailRecord, user: Option<&str>, role: Option<&str>) -> bool {
    if let Some(u) = user {
        if caller_user_name(r) == Some(u) {
            return true;
        }
        if r.user_identity.identity_type.as_deref() == Some("AssumedRole")
            && session_name(r) == Some(u)
        {
            return true;
        }
    }
    if let Some(ro) = role {
        let issuer = r
            .user_identity
            .session_context
            .as_ref()
            .and_then(|s| s.session_issuer.as_ref())
            .and_then(|i| i.user_name.as_deref());
        if issuer == Some(ro) {
            return true;
        }
    }
    false
}

fn target_arn(r: &CloudTrailRecord, kind: &str, name: &str) -> String {
    if name.starts_with("arn:") {
        return name.to_string();
    }
    format!("arn:aws:iam::{}:{kind}/{name}", account(r).unwrap_or(""))
}

fn person(r: &CloudTrailRecord) -> bool {
    if via_aws_service(r) {
        return false;
    }
    let ua = UaFamily::classify(r.user_agent.as_deref().unwrap_or(""));
    if matches!(ua, UaFamily::Terraform | UaFamily::CloudFormation) {
        return false;
    }
    match r.user_identity.identity_type.as_deref() {
        Some("IAMUser" | "FederatedUser" | "SAMLUser" | "IdentityCenterUser") => true,
        Some("AssumedRole") => r
            .user_identity
            .session_context
            .as_ref()
            .and_then(|s| s.session_issuer.as_ref())
            .and_then(|i| i.arn.as_deref())
            .is_some_and(|a| {
                a.contains("AWSReservedSSO_")
                    || a.to_ascii_lowercase().contains("admin")
                    || a.to_ascii_lowercase().contains("developer")
            }),
        _ => false,
    }
}

impl IamPrivilegeEscalation {
    fn judge(r: &CloudTrailRecord, hit: &mut Hit<'_>) -> bool {
        let who = actor(r);
        let name = r.event_name.as_str();
        match (r.event_source.as_str(), name) {
            ("iam.amazonaws.com", "CreatePolicyVersion") => {
                let p = params(r);
                let policy = str_of(&p, &["policyArn"]).unwrap_or("unknown").to_string();
                let Some(doc) = p.get("policyDocument").and_then(parse_doc) else {
                    return false;
                };
                let g = identity_grants(&doc);
                if !g.any() {
                    return false;
                }
                let default = bool_of(&p, &["setAsDefault"]).unwrap_or(false);
                hit.strength = match (default, g.admin || !g.control.is_empty()) {
                    (true, true) => HIGH + 0.06,
                    (true, false) => MEDIUM,
                    (false, true) => MEDIUM,
                    (false, false) => LOW,
                };
                hit.title = format!(
                    "Privilege escalation: {who} made a new{} version of policy {} granting {}",
                    if default { " default" } else { "" },
                    policy.rsplit('/').next().unwrap_or(&policy),
                    g.describe()
                );
                hit.desc = format!(
                    "A new version of managed policy {policy}{} grants {}. Every identity the policy is attached to \
                     gets these permissions at once; a caller that can write its own policy versions can make \
                     itself administrator.",
                    if default {
                        ", set as the default version,"
                    } else {
                        ""
                    },
                    g.describe()
                );
                hit.attacks = &["T1098.003", "T1484.002"];
                hit.key = vec![name.into(), policy.clone()];
                hit.resources
                    .push(resource(r, policy, "AWS::IAM::ManagedPolicy"));
            }
            ("iam.amazonaws.com", "SetDefaultPolicyVersion") => {
                let p = params(r);
                let policy = str_of(&p, &["policyArn"]).unwrap_or("unknown").to_string();
                let version = str_of(&p, &["versionId"]).unwrap_or("?");
                hit.strength = MEDIUM;
                hit.title = format!(
                    "Policy default version switched: {who} set {} of {policy} as default",
                    version
                );
                hit.desc = format!(
                    "The default version of {policy} was switched to {version}. Rolling a policy to an older or \
                     unreviewed version is a known way to regain permissions that were removed."
                );
                hit.attacks = &["T1098.003"];
                hit.key = vec![name.into(), policy.clone()];
                hit.resources
                    .push(resource(r, policy, "AWS::IAM::ManagedPolicy"));
            }
            (
                "iam.amazonaws.com",
                "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy",
            ) => {
                let p = params(r);
                let arn = str_of(&p, &["policyArn"]).unwrap_or("");
                let Some(power) = managed_policy_power(arn) else {
                    return false;
                };
                let (kind, target) = match name {
                    "AttachUserPolicy" => ("user", str_of(&p, &["userName"])),
                    "AttachRolePolicy" => ("role", str_of(&p, &["roleName"])),
                    _ => ("group", str_of(&p, &["groupName"])),
                };
                let target = target.unwrap_or("unknown").to_string();
                let own = is_self(
                    r,
                    (kind == "user").then_some(target.as_str()),
                    (kind == "role").then_some(target.as_str()),
                );
                hit.strength = if own { CRITICAL } else { HIGH };
                hit.title = if own {
                    format!("Privilege escalation: {who} attached {power} to itself")
                } else {
                    format!(
                        "Administrator policy attached: {who} attached {power} to {kind} {target}"
                    )
                };
                hit.desc = format!(
                    "{power} was attached to {kind} {target}{}. This grants control of the account; it should come \
                     from a reviewed change, not an interactive call.",
                    if own {
                        ", the caller's own identity"
                    } else {
                        ""
                    }
                );
                hit.attacks = &["T1098.003"];
                hit.key = vec![name.into(), target.clone(), arn.to_string()];
                let aws_kind = match kind {
                    "user" => "AWS::IAM::User",
                    "role" => "AWS::IAM::Role",
                    _ => "AWS::IAM::Group",
                };
                hit.resources
                    .push(resource(r, target_arn(r, kind, &target), aws_kind));
            }
            ("iam.amazonaws.com", "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy") => {
                let p = params(r);
                let Some(doc) = p.get("policyDocument").and_then(parse_doc) else {
                    return false;
                };
                let g = identity_grants(&doc);
                if !g.any() {
                    return false;
                }
                let (kind, target) = match name {
                    "PutUserPolicy" => ("user", str_of(&p, &["userName"])),
                    "PutRolePolicy" => ("role", str_of(&p, &["roleName"])),
                    _ => ("group", str_of(&p, &["groupName"])),
                };
                let target = target.unwrap_or("unknown").to_string();
                let policy = str_of(&p, &["policyName"]).unwrap_or("unnamed").to_string();
                let own = is_self(
                    r,
                    (kind == "user").then_some(target.as_str()),
                    (kind == "role").then_some(target.as_str()),
                );
                let strong = g.admin || !g.control.is_empty();
                hit.strength = match (own, strong) {
                    (true, true) => CRITICAL,
                    (false, true) | (true, false) => HIGH,
                    (false, false) => MEDIUM,
                };
                hit.title = if own {
                    format!(
                        "Privilege escalation: {who} gave itself {} with inline policy {policy}",
                        g.describe()
                    )
                } else {
                    format!(
                        "Inline policy grants {}: {who} put policy {policy} on {kind} {target}",
                        g.describe()
                    )
                };
                hit.desc = format!(
                    "Inline policy {policy} on {kind} {target} grants {}{}. Inline policies bypass the review that \
                     managed policies usually get.",
                    g.describe(),
                    if own {
                        "; the caller wrote it on its own identity"
                    } else {
                        ""
                    }
                );
                hit.attacks = &["T1098.003"];
                hit.key = vec![name.into(), target.clone(), policy];
                hit.resources.push(resource(
                    r,
                    target_arn(r, kind, &target),
                    if kind == "role" {
                        "AWS::IAM::Role"
                    } else {
                        "AWS::IAM::User"
                    },
                ));
            }
            ("iam.amazonaws.com", "AddUserToGroup") => {
                let p = params(r);
                let group = str_of(&p, &["groupName"]).unwrap_or("").to_string();
                let user = str_of(&p, &["userName"]).unwrap_or("unknown").to_string();
                let l = group.to_ascii_lowercase();
                if !(l.contains("admin")
                    || l.contains("poweruser")
                    || l.contains("root")
                    || l.contains("owner")
                    || l.contains("superuser"))
                {
                    return false;
                }
                let own = is_self(r, Some(&user), None);
                hit.strength = if own { HIGH } else { MEDIUM };
                hit.title =
                    format!("User added to an administrators group: {who} added {user} to {group}");
                hit.desc = format!(
                    "IAM user {user} was added to group {group}{}.",
                    if own { " by itself" } else { "" }
                );
                hit.attacks = &["T1098.003"];
                hit.key = vec![name.into(), group.clone(), user.clone()];
                hit.resources.push(resource(
                    r,
                    target_arn(r, "group", &group),
                    "AWS::IAM::Group",
                ));
                hit.resources
                    .push(resource(r, target_arn(r, "user", &user), "AWS::IAM::User"));
            }
            ("iam.amazonaws.com", "CreateLoginProfile" | "UpdateLoginProfile") => {
                let p = params(r);
                let Some(user) = str_of(&p, &["userName"]).map(str::to_string) else {
                    return false;
                };
                if is_self(r, Some(&user), None) {
                    return false;
                }
                let reset = bool_of(&p, &["passwordResetRequired"]).unwrap_or(false);
                if reset {
                    if name == "UpdateLoginProfile" {
                        return false;
                    }
                    hit.strength = INFO;
                    hit.title = format!(
                        "Console password created for another user: {who} created one for {user} (reset required)"
                    );
                    hit.desc = format!(
                        "A console password was created for IAM user {user}, with a reset required at first sign-in: \
                         the usual onboarding pattern."
                    );
                } else {
                    hit.strength = MEDIUM;
                    hit.title = format!(
                        "Console password set for another user: {who} called {name} for {user}"
                    );
                    hit.desc = format!(
                        "{who} set the console password of IAM user {user} without forcing a reset, so the caller \
                         knows a working password for that user and can sign in as them."
                    );
                }
                hit.attacks = &["T1098.001", "T1078.004"];
                hit.key = vec![name.into(), user.clone()];
                hit.resources
                    .push(resource(r, target_arn(r, "user", &user), "AWS::IAM::User"));
            }
            ("iam.amazonaws.com", "CreateAccessKey") => {
                if r.user_identity.identity_type.as_deref() == Some("Root") {
                    return false;
                }
                let p = params(r);
                let Some(user) = str_of(&p, &["userName"]).map(str::to_string) else {
                    return false;
                };
                if is_self(r, Some(&user), None) {
                    return false;
                }
                let key = super::support::response(r)
                    .pointer("/accessKey/accessKeyId")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                hit.strength = MEDIUM;
                hit.title =
                    format!("Access key created for another user: {who} created {key} for {user}");
                hit.desc = format!(
                    "{who} created long-term access key {key} for IAM user {user}. Keys made for someone else are a \
                     way to keep access as that user."
                );
                hit.attacks = &["T1098.001"];
                hit.key = vec![name.into(), user.clone()];
                hit.resources
                    .push(resource(r, target_arn(r, "user", &user), "AWS::IAM::User"));
                hit.observables.push(crate::finding::Observable {
                    kind: crate::finding::ObservableType::AccessKey,
                    value: key,
                });
            }
            ("iam.amazonaws.com", "UpdateAssumeRolePolicy") => {
                let p = params(r);
                let Some(doc) = p.get("policyDocument").and_then(parse_doc) else {
                    return false;
                };
                let x = exposure(&doc, account(r));
                if !x.any() {
                    return false;
                }
                let role = str_of(&p, &["roleName"]).unwrap_or("unknown").to_string();
                let whom = if x.public {
                    "everyone (Principal *)".to_string()
                } else {
                    format!(
                        "account {}",
                        x.accounts.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                };
                hit.strength = if x.public { CRITICAL } else { HIGH };
                hit.title =
                    format!("Role trust opened: {who} made role {role} assumable by {whom}");
                hit.desc = format!(
                    "The trust policy of role {role} now lets {whom} assume it. Anyone who can assume the role gets \
                     its permissions from outside this account: a classic backdoor."
                );
                hit.attacks = &["T1098.003", "T1484.002"];
                hit.key = vec![name.into(), role.clone()];
                hit.resources
                    .push(resource(r, target_arn(r, "role", &role), "AWS::IAM::Role"));
                for a in &x.accounts {
                    hit.observables.push(crate::finding::Observable {
                        kind: crate::finding::ObservableType::Account,
                        value: a.clone(),
                    });
                }
            }
            ("lambda.amazonaws.com", n) if n.starts_with("CreateFunction") => {
                if !person(r) {
                    return false;
                }
                let p = params(r);
                let Some(role) = str_of(&p, &["role"]).map(str::to_string) else {
                    return false;
                };
                let f = str_of(&p, &["functionName"])
                    .unwrap_or("unknown")
                    .to_string();
                let privileged = role.to_ascii_lowercase().contains("admin");
                hit.strength = if privileged { MEDIUM } else { LOW };
                hit.title = format!(
                    "Role passed to new compute: {who} created function {f} running as {role}"
                );
                hit.desc = format!(
                    "A person created Lambda function {f} with execution role {role}. Whoever controls the code runs \
                     with that role's permissions (iam:PassRole escalation) unless deployments normally happen \
                     this way."
                );
                hit.attacks = &["T1548.005", "T1648"];
                hit.key = vec!["passrole".into(), f.clone()];
                hit.resources
                    .push(resource(r, role.clone(), "AWS::IAM::Role"));
                hit.resources.push(resource(r, f, "AWS::Lambda::Function"));
            }
            ("ec2.amazonaws.com", "RunInstances") => {
                if !person(r) {
                    return false;
                }
                let p = params(r);
                let Some(profile) = p
                    .get("iamInstanceProfile")
                    .and_then(|v| str_of(v, &["arn", "name"]))
                    .map(str::to_string)
                else {
                    return false;
                };
                let n = items(p.get("instancesSet")).len().max(1);
                let privileged = profile.to_ascii_lowercase().contains("admin");
                hit.strength = if privileged { MEDIUM } else { LOW };
                hit.title = format!(
                    "Role passed to new compute: {who} launched {n} instance(s) with profile {profile}"
                );
                hit.desc = format!(
                    "A person launched EC2 instances with instance profile {profile}; anyone on the instance can use \
                     the profile's role through the metadata service."
                );
                hit.attacks = &["T1548.005"];
                hit.key = vec!["passrole".into(), profile.clone()];
                hit.resources
                    .push(resource(r, profile, "AWS::IAM::InstanceProfile"));
            }
            ("cloudformation.amazonaws.com", "CreateStack" | "UpdateStack") => {
                if !person(r) {
                    return false;
                }
                let p = params(r);
                let Some(role) = str_of(&p, &["roleARN", "roleArn"]).map(str::to_string) else {
                    return false;
                };
                if !role.to_ascii_lowercase().contains("admin") {
                    return false;
                }
                let stack = str_of(&p, &["stackName"]).unwrap_or("unknown").to_string();
                hit.strength = MEDIUM;
                hit.title =
                    format!("Role passed to new compute: {who} ran stack {stack} as {role}");
                hit.desc = format!(
                    "Stack {stack} was deployed with service role {role}; the template runs with that role's rights."
                );
                hit.attacks = &["T1548.005"];
                hit.key = vec!["passrole".into(), stack];
                hit.resources.push(resource(r, role, "AWS::IAM::Role"));
            }
            _ => return false,
        }
        true
    }
}

impl Rule for IamPrivilegeEscalation {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if !matches!(
            r.event_source.as_str(),
            "iam.amazonaws.com"
                | "lambda.amazonaws.com"
                | "ec2.amazonaws.com"
                | "cloudformation.amazonaws.com"
        ) || failed(r)
        {
            return;
        }
        let mut hit = Hit::new(ID, NAME, &["T1098.003"]);
        hit.confidence = 0.85;
        hit.remediation = "Confirm the change with the caller's owner and a change ticket. If it was not planned: \
                           revert it (detach the policy, restore the previous policy version or trust policy, \
                           delete the new password or key), revoke the caller's sessions, and review what the new \
                           permissions were used for.";
        if Self::judge(r, &mut hit) {
            emit(e, r, cfg, hit, out);
        }
    }
}
