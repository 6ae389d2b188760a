//! Persistence through new identities, outside trust and federation.
//!
//! **What**:
//! - `CreateUser`: a new long-lived identity (Low: onboarding looks the same);
//! - `CreateRole` whose trust policy admits another AWS account (Medium) or everyone
//!   (Critical); new roles for AWS services or for this account are silent;
//! - identity providers created or changed (`CreateSAMLProvider`, `UpdateSAMLProvider`,
//!   `DeleteSAMLProvider`, `CreateOpenIDConnectProvider`, thumbprint and client-id changes):
//!   whoever controls the provider can mint sessions for every role that trusts it. Providers
//!   IAM Identity Center manages for itself (`AWSSSO_...`, called by `sso.amazonaws.com`) are
//!   skipped; the GitHub Actions OIDC provider is Low.
//!
//! **Why**: attackers keep access by making identities the victim does not watch: users with
//! keys (T1136.003), roles trusting their own account (T1098.003), their own identity provider
//! (T1484.002, "golden SAML" style).
//! **Trust of other accounts**: a stateless rule cannot tell an organization member from an
//! outsider; it fires on any account other than the recipient account, at Medium. The
//! `cross-account-assume` detector then judges the account when it actually assumes a role.
//! **Baseline**: none (stateless).
//! **False positives**: onboarding (CreateUser, Low), vendor integrations (cross-account roles
//! for monitoring/backup SaaS), SSO set-up. Repeats update one finding per target.
//! **ATT&CK**: T1136.003, T1098.003, T1484.002.
//! **References**: MITRE ATT&CK T1484.002; CISA AA21-008A (federation abuse); Panther rules
//! AWS.IAM.CreateUser, AWS.Suspicious.SAML.Activity.

use super::Rule;
use super::policy::{exposure, parse_doc};
use super::support::{
    CRITICAL, Hit, LOW, MEDIUM, account, actor, ct, emit, failed, params, resource, response,
    str_of,
};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::{Finding, Observable, ObservableType};

const ID: &str = "iam-persistence";

/// See the module documentation.
pub struct IamPersistence;

impl Rule for IamPersistence {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if r.event_source != "iam.amazonaws.com" || failed(r) {
            return;
        }
        let name = r.event_name.as_str();
        let who = actor(r);
        let acct = account(r).unwrap_or("unknown").to_string();
        let mut hit = Hit::new(ID, "IAM persistence", &["T1136.003"]);
        hit.confidence = 0.8;
        hit.remediation = "Confirm the new identity or trust with its owner and a change record. If unexpected: \
                           delete it (and its keys, passwords and sessions), and review what the caller did \
                           around this time.";
        match name {
            "CreateUser" => {
                let p = params(r);
                let Some(user) = str_of(&p, &["userName"]).map(str::to_string) else {
                    return;
                };
                hit.strength = LOW;
                hit.title = format!("IAM user created: {who} created user {user}");
                hit.desc = format!(
                    "A new IAM user {user} was created in account {acct}. New long-term identities are how intruders \
                     keep access; routine onboarding looks the same, so check who asked for it."
                );
                hit.key = vec![name.into(), user.clone()];
                let arn = response(r)
                    .pointer("/user/arn")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("arn:aws:iam::{acct}:user/{user}"));
                hit.resources.push(resource(r, arn, "AWS::IAM::User"));
            }
            "CreateRole" => {
                let p = params(r);
                let Some(doc) = p.get("assumeRolePolicyDocument").and_then(parse_doc) else {
                    return;
                };
                let x = exposure(&doc, account(r));
                if !x.any() {
                    return;
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
                hit.strength = if x.public { CRITICAL } else { MEDIUM };
                hit.attacks = &["T1098.003", "T1136.003"];
                hit.title = format!(
                    "Role trusting an outside principal: {who} created role {role} assumable by {whom}"
                );
                hit.desc = format!(
                    "New role {role} in account {acct} trusts {whom}. If that account is not one of yours, its owner \
                     can come back into this account whenever they like."
                );
                hit.key = vec![name.into(), role.clone()];
                hit.resources.push(resource(
                    r,
                    format!("arn:aws:iam::{acct}:role/{role}"),
                    "AWS::IAM::Role",
                ));
                for a in &x.accounts {
                    hit.observables.push(Observable {
                        kind: ObservableType::Account,
                        value: a.clone(),
                    });
                }
            }
            "CreateSAMLProvider"
            | "UpdateSAMLProvider"
            | "DeleteSAMLProvider"
            | "CreateOpenIDConnectProvider"
            | "UpdateOpenIDConnectProviderThumbprint"
            | "AddClientIDToOpenIDConnectProvider" => {
                if r.user_identity.invoked_by.as_deref() == Some("sso.amazonaws.com")
                    || r.source_ip_address.as_deref() == Some("sso.amazonaws.com")
                {
                    return;
                }
                let p = params(r);
                let resp = response(r);
                let provider = str_of(&resp, &["sAMLProviderArn", "openIDConnectProviderArn"])
                    .or_else(|| {
                        str_of(
                            &p,
                            &["sAMLProviderArn", "openIDConnectProviderArn", "name", "url"],
                        )
                    })
                    .unwrap_or("unknown")
                    .to_string();
                if provider.contains("AWSSSO_") {
                    return;
                }
                let github = provider.contains("token.actions.githubusercontent.com");
                hit.strength = if github { LOW } else { MEDIUM };
                hit.attacks = &["T1484.002"];
                hit.title =
                    format!("Identity provider changed: {who} called {name} for {provider}");
                hit.desc = format!(
                    "{name} on identity provider {provider} in account {acct}. Whoever controls a trusted provider can \
                     sign in to every role that trusts it, without any IAM credential of this account."
                );
                hit.key = vec![name.into(), provider.clone()];
                hit.resources.push(resource(
                    r,
                    provider,
                    if name.contains("SAML") {
                        "AWS::IAM::SAMLProvider"
                    } else {
                        "AWS::IAM::OIDCProvider"
                    },
                ));
            }
            _ => return,
        }
        emit(e, r, cfg, hit, out);
    }
}
