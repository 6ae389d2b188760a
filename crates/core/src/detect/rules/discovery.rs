//! Reconnaissance calls that matter by what they look for, recorded one call at a time.
//!
//! **What**:
//! - Amazon SES capability checks (`GetSendQuota`, `GetAccountSendingEnabled`,
//!   `ListIdentities`, `GetIdentityVerificationAttributes`, SES v2 `GetAccount`,
//!   `ListEmailIdentities`): Informational;
//! - account contact and ownership details (`organizations:DescribeAccount`,
//!   `account`/`billingconsole` `GetAlternateContact`, `GetContactInformation`):
//!   Informational;
//! - RDS snapshot listings that ask for public or shared snapshots (`includePublic`,
//!   `includeShared`): Low.
//!
//! **Why**: stolen keys are checked for what they can be sold for: can this account send
//! e-mail at volume (spam and phishing from a trusted domain), who owns it, and which
//! snapshots are exposed (T1526, T1087.004, T1580). Each call is ordinary on its own, so the
//! severity stays Informational unless the question itself is suspicious; volume and novelty
//! are judged by the behavioural detectors.
//! **Baseline**: none. Calls by AWS services (Trusted Advisor checking quotas) are skipped;
//! one finding per principal and API.
//! **False positives**: e-mail applications reading their quota, account administrators.
//! **ATT&CK**: T1526, T1087.004, T1580.
//! **References**: Permiso, "SES-pionage" (2023); Datadog Security Labs, "Following attackers'
//! (cloud) trail: SES abuse"; Panther AWS.CloudTrail.SES.*, AWS.RDS.SnapshotEnumeration.

use super::Rule;
use super::support::{
    Hit, INFO, LOW, actor, bool_of, ct, emit, failed, params, service, via_aws_service,
};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::Finding;

const ID: &str = "discovery";

/// See the module documentation.
pub struct Discovery;

impl Rule for Discovery {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        let name = r.event_name.as_str();
        let (what, strength, attacks): (&str, f64, &'static [&'static str]) = match (
            service(r),
            name,
        ) {
            (
                "ses",
                "GetSendQuota"
                | "GetAccountSendingEnabled"
                | "ListIdentities"
                | "GetIdentityVerificationAttributes"
                | "GetAccount"
                | "ListEmailIdentities",
            ) => ("E-mail sending capability checked", INFO, &["T1526"]),
            ("organizations", "DescribeAccount")
            | ("account" | "billingconsole", "GetAlternateContact" | "GetContactInformation") => {
                ("Account contact details read", INFO, &["T1087.004"])
            }
            ("rds", "DescribeDBSnapshots" | "DescribeDBClusterSnapshots") => {
                let p = params(r);
                if bool_of(&p, &["includePublic"]) != Some(true)
                    && bool_of(&p, &["includeShared"]) != Some(true)
                {
                    return;
                }
                (
                    "Public or shared database snapshots listed",
                    LOW,
                    &["T1580"],
                )
            }
            _ => return,
        };
        if failed(r) || via_aws_service(r) {
            return;
        }
        let who = actor(r);
        let mut hit = Hit::new(ID, "Targeted reconnaissance", attacks);
        hit.title = format!("{what}: {who} called {name}");
        hit.desc = format!(
            "{what} ({name}). Attackers holding new credentials ask exactly this to decide how to use them; on its own \
             it is a record for context."
        );
        hit.remediation = "Nothing to do if the caller needs this information. If the caller is unexpected, look at \
                           its other activity from the same address.";
        hit.strength = strength;
        hit.confidence = 0.5;
        hit.key = vec![name.to_string()];
        emit(e, r, cfg, hit, out);
    }
}
