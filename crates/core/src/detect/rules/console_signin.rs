//! Console sign-in risks judged from one event: IAM users signing in without MFA, failed
//! sign-ins (and failures at the MFA step), and console sessions minted from API keys.
//!
//! **What**:
//! - `ConsoleLogin` success by an IAM user with `MFAUsed: No` (root is covered by
//!   `root-usage`; SAML, SSO and role sign-ins carry no MFA flag and are skipped).
//! - `ConsoleLogin` failure: one failure is informational (CIS 4.6 counts them); a failure
//!   with `MFAUsed: Yes` means the password was right and the second factor was not.
//! - `GetSigninToken` from a non-browser client: the federation endpoint turning API
//!   credentials into a console session, as tools like aws_consoler do (T1550.001).
//!
//! **Why**: a password alone is one phish away from takeover (T1078.004); a wrong second factor
//! after a right password means the password is known (T1110); stolen keys get a console
//! session to explore without leaving API traces.
//! **Baseline**: none. Runs of failures are judged by the `console-brute-force` detector.
//! **False positives**: a new user's first sign-in before enrolling MFA (this is why no-MFA
//! sign-in is Low), typos, the IAM Identity Center portal (excluded by its client).
//! **ATT&CK**: T1078.004, T1110.001, T1550.001.
//! **References**: CIS AWS Foundations Benchmark 1.10, 4.2, 4.6; AWS, "CloudTrail
//! ConsoleLogin events"; Panther rules AWS.Console.LoginWithoutMFA, AWS.Console.GetSigninToken.Abuse.

use super::Rule;
use super::root_usage::sign_in_outcome;
use super::support::{
    Hit, INFO, LOW, MEDIUM, actor, additional, ct, emit, failed, resource, str_of, via_aws_service,
};
use crate::detect::EngineConfig;
use crate::detect::activity::UaFamily;
use crate::event::Event;
use crate::finding::Finding;

const ID: &str = "console-signin";

/// See the module documentation.
pub struct ConsoleSignin;

impl Rule for ConsoleSignin {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if r.event_source != "signin.amazonaws.com" {
            return;
        }
        let kind = r.user_identity.identity_type.as_deref().unwrap_or("");
        let who = actor(r);
        let src = r
            .source_ip_address
            .clone()
            .unwrap_or_else(|| "an unknown address".into());
        let acct = super::support::account(r).unwrap_or("unknown").to_string();
        let mut hit = Hit::new(ID, "Console sign-in risk", &["T1078.004"]);
        hit.resources.push(resource(
            r,
            who.clone(),
            if kind == "IAMUser" {
                "AWS::IAM::User"
            } else {
                "AWS::IAM::Principal"
            },
        ));
        match r.event_name.as_str() {
            "ConsoleLogin" => {
                if kind == "Root" {
                    return;
                }
                let add = additional(r);
                let mfa = str_of(&add, &["MFAUsed"]).unwrap_or("");
                let saml = str_of(&add, &["SamlProviderArn"]).is_some();
                match sign_in_outcome(r) {
                    Some(false) => {
                        if mfa == "Yes" {
                            hit.title =
                                format!("Console sign-in failed at the MFA step: {who} from {src}");
                            hit.desc = format!(
                                "A console sign-in for {who} in account {acct} passed the password check but failed MFA. \
                                 Whoever tried knows the password."
                            );
                            hit.strength = MEDIUM;
                        } else {
                            hit.title = format!("Console sign-in failed: {who} from {src}");
                            hit.desc = format!(
                                "A console sign-in for {who} in account {acct} failed ({}).",
                                r.error_message
                                    .as_deref()
                                    .unwrap_or("failed authentication")
                            );
                            hit.strength = INFO;
                        }
                        hit.attacks = &["T1110.001"];
                        hit.confidence = 0.6;
                        hit.key = vec!["failure".into(), src.clone()];
                        hit.remediation = "One failure is usually a typo. Many, or failures from unfamiliar networks, are \
                                           guessing: check the console-brute-force findings, and enforce MFA.";
                    }
                    Some(true) if kind == "IAMUser" && mfa == "No" && !saml => {
                        hit.title = format!("Console sign-in without MFA: {who} from {src}");
                        hit.desc = format!(
                            "IAM user {who} signed in to the console of account {acct} with a password only. A password \
                             alone is one phish or one reuse away from account takeover."
                        );
                        hit.strength = LOW;
                        hit.confidence = 0.9;
                        hit.key = vec!["no-mfa".into()];
                        hit.remediation = "Require MFA for console users (an IAM policy denying everything without \
                                           aws:MultiFactorAuthPresent, or move people to IAM Identity Center). Confirm \
                                           the sign-in was the user's own.";
                    }
                    _ => return,
                }
            }
            "GetSigninToken" => {
                if failed(r) || via_aws_service(r) {
                    return;
                }
                let ua = r.user_agent.as_deref().unwrap_or("");
                let family = UaFamily::classify(ua);
                if matches!(family, UaFamily::Browser | UaFamily::Console) || ua.contains("Jersey")
                {
                    return;
                }
                hit.title = format!(
                    "Console session minted from API credentials: {who} called GetSigninToken with `{ua}`"
                );
                hit.desc = format!(
                    "{who} exchanged temporary API credentials for a console sign-in token with a non-browser client. \
                     Tools that turn stolen keys into a console session do exactly this."
                );
                hit.strength = MEDIUM;
                hit.attacks = &["T1550.001", "T1078.004"];
                hit.key = vec!["GetSigninToken".into()];
                hit.remediation = "Check whether the caller uses a federation tool on purpose. If not, revoke the \
                                   session (and the keys it came from) and review console activity that followed.";
            }
            _ => return,
        }
        emit(e, r, cfg, hit, out);
    }
}
