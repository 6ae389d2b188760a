//! Use of the account root user.
//!
//! **What**: any call made with root credentials, except the ones AWS services make on the
//! account's behalf: console sign-in (without MFA scored higher), failed root sign-in, a new
//! root access key, a root password change, and any other root API call (writes above reads).
//! **Why**: the root user cannot be limited by IAM policy; well-run accounts never use it
//! outside a handful of account-level tasks (CIS AWS Foundations 1.7 and 4.3). Root use from an
//! unusual place, without MFA, or minting long-term keys is account takeover (T1078.004) and
//! persistence (T1098.001).
//! **Baseline**: none (stateless). Repeats in one root session update one finding.
//! **False positives**: the rare legitimate root task (closing an account, changing the
//! support plan, recovering a locked policy). They are still worth a look, which is why even
//! root reads are reported (at Low).
//! **ATT&CK**: T1078.004, T1098.001.
//! **References**: CIS AWS Foundations Benchmark v3.0 1.7, 4.3; AWS, "Tasks that require root
//! user credentials"; GuardDuty Policy:IAMUser/RootCredentialUsage.

use super::Rule;
use super::support::{
    CRITICAL, HIGH, Hit, LOW, MEDIUM, additional, ct, emit, failed, params, resource, response,
    str_of, via_aws_service,
};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::Finding;

const ID: &str = "root-usage";

/// See the module documentation.
pub struct RootUsage;

/// `ConsoleLogin` (and other sign-in events) outcome: `Some(true)` success, `Some(false)` failure.
pub(crate) fn sign_in_outcome(r: &crate::parse::cloudtrail::CloudTrailRecord) -> Option<bool> {
    let resp = response(r);
    match str_of(&resp, &[r.event_name.as_str()]) {
        Some(s) if s.eq_ignore_ascii_case("Success") => Some(true),
        Some(s) if s.eq_ignore_ascii_case("Failure") => Some(false),
        _ if failed(r) || r.error_message.is_some() => Some(false),
        _ => None,
    }
}

impl Rule for RootUsage {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if r.user_identity.identity_type.as_deref() != Some("Root") || via_aws_service(r) {
            return;
        }
        let acct = super::support::account(r).unwrap_or("unknown").to_string();
        let root = format!("arn:aws:iam::{acct}:root");
        let src = r
            .source_ip_address
            .as_deref()
            .unwrap_or("an unknown address");
        let mut hit = Hit::new(ID, "Root user activity", &["T1078.004"]);
        hit.confidence = 0.95;
        hit.remediation = "Confirm with the account owner that root was used on purpose. If not: reset the root \
                           password, re-register its MFA device, delete any root access key, and review every \
                           call of this session. Keep root unused: do account-level tasks with delegated roles.";
        hit.resources
            .push(resource(r, root.clone(), "AWS::IAM::Root"));
        let name = r.event_name.as_str();
        let session = r
            .user_identity
            .access_key_id
            .clone()
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| "console".into());
        match name {
            "ConsoleLogin" => {
                let mfa = str_of(&additional(r), &["MFAUsed"]).map(str::to_string);
                match sign_in_outcome(r) {
                    Some(false) => {
                        hit.title =
                            format!("Root console sign-in failed for account {acct} from {src}");
                        hit.desc = format!(
                            "Someone tried to sign in to the console as the root user of account {acct} and failed. \
                             Repeated attempts are password guessing against the one identity no policy can limit."
                        );
                        hit.strength = MEDIUM;
                        hit.attacks = &["T1110.001", "T1078.004"];
                        hit.key = vec!["signin-failure".into(), src.to_string()];
                    }
                    _ => {
                        let no_mfa = mfa.as_deref() != Some("Yes");
                        hit.title = format!(
                            "Root console sign-in{}: {root} signed in from {src}",
                            if no_mfa { " without MFA" } else { "" }
                        );
                        hit.desc = format!(
                            "The root user of account {acct} signed in to the console{}. Root use should be rare and \
                             planned; without MFA it means the password alone was enough.",
                            if no_mfa {
                                " without MFA"
                            } else {
                                " (with MFA)"
                            }
                        );
                        hit.strength = if no_mfa { CRITICAL } else { HIGH };
                        hit.key = vec!["signin".into(), src.to_string()];
                    }
                }
            }
            "PasswordUpdated" | "PasswordRecoveryCompleted" => {
                if sign_in_outcome(r) == Some(false) || failed(r) {
                    return;
                }
                hit.title =
                    format!("Root password changed: {root} changed its password from {src}");
                hit.desc =
                    format!("The root user password of account {acct} was changed ({name}).");
                hit.strength = HIGH;
                hit.attacks = &["T1098", "T1078.004"];
                hit.key = vec![name.to_string()];
            }
            "CreateAccessKey" => {
                if failed(r) || str_of(&params(r), &["userName"]).is_some() {
                    // Root creating a key for an IAM user is ordinary root activity.
                    if failed(r) {
                        return;
                    }
                    hit.title = format!(
                        "Root user activity: {root} called CreateAccessKey for an IAM user"
                    );
                    hit.desc = format!(
                        "The root user of account {acct} created an access key for an IAM user."
                    );
                    hit.strength = MEDIUM;
                    hit.key = vec![session];
                } else {
                    let key_id = response(r)
                        .pointer("/accessKey/accessKeyId")
                        .and_then(|v| v.as_str())
                        .unwrap_or("unknown")
                        .to_string();
                    hit.title =
                        format!("Root access key created: {root} created access key {key_id}");
                    hit.desc = format!(
                        "A long-term access key was created for the root user of account {acct}. Root keys give \
                         unrestricted, MFA-free API access and are the classic persistence after a root takeover."
                    );
                    hit.strength = CRITICAL;
                    hit.attacks = &["T1098.001", "T1078.004"];
                    hit.key = vec!["CreateAccessKey".into(), key_id];
                }
            }
            _ => {
                if failed(r) || r.event_source == "signin.amazonaws.com" {
                    return;
                }
                let read = r.read_only.unwrap_or_else(|| {
                    name.starts_with("Get")
                        || name.starts_with("List")
                        || name.starts_with("Describe")
                        || name.starts_with("Head")
                });
                hit.title = format!("Root user activity: {root} called {name}");
                hit.desc = format!(
                    "The root user of account {acct} made API calls ({name} and possibly others in the same \
                     session). Day-to-day work should use IAM roles; root use is worth confirming."
                );
                hit.strength = if read { LOW } else { MEDIUM };
                hit.key = vec![session];
            }
        }
        emit(e, r, cfg, hit, out);
    }
}
