//! Rule detectors: known attack patterns judged from one event at a time.
//!
//! Rules are stateless, so they run on the worker threads next to the parser, on the full
//! event (request parameters included), before events are reduced to activities. Stateful
//! sequence detectors (brute force, scans) are ordinary [`super::Detector`]s instead.
//!
//! Adding a rule is a file in this folder plus a line in [`rules`]. Each file's doc comment
//! says what it detects, why it matters, known false positives, ATT&CK ids and references.

pub mod attack_tools;
pub mod change_audit;
pub mod compute_abuse;
pub mod console_signin;
pub mod credential_access;
pub mod data_perimeter;
pub mod destruction;
pub mod discovery;
pub mod iam_persistence;
pub mod iam_privesc;
pub mod logging_tampering;
pub mod network_exposure;
pub(crate) mod policy;
pub mod resource_exposure;
pub mod root_usage;
pub(crate) mod support;

use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::Finding;

/// A stateless rule over one event.
pub trait Rule: Send + Sync {
    /// Stable id, used in finding uids.
    fn id(&self) -> &'static str;
    /// Appends a finding to `out` when the event matches.
    fn check(&self, event: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>);
}

/// Every rule, in a fixed order. `change-audit` comes last: it stays silent on events a
/// threat rule already explained.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(logging_tampering::LoggingTampering),
        Box::new(root_usage::RootUsage),
        Box::new(console_signin::ConsoleSignin),
        Box::new(iam_privesc::IamPrivilegeEscalation),
        Box::new(iam_persistence::IamPersistence),
        Box::new(resource_exposure::ResourceExposure),
        Box::new(destruction::Destruction),
        Box::new(compute_abuse::ComputeAbuse),
        Box::new(network_exposure::NetworkExposure),
        Box::new(credential_access::CredentialAccess),
        Box::new(discovery::Discovery),
        Box::new(data_perimeter::DataPerimeter),
        Box::new(attack_tools::AttackTools),
        Box::new(change_audit::ChangeAudit),
    ]
}

/// Runs every rule on every event of a batch.
pub fn check_all(rules: &[Box<dyn Rule>], events: &[Event], cfg: &EngineConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in events {
        for r in rules {
            r.check(e, cfg, &mut out);
        }
    }
    out
}
