//! Rule detectors: known attack patterns judged from one event at a time.
//!
//! Rules are stateless, so they run on the worker threads next to the parser, on the full
//! event (request parameters included), before events are reduced to activities. Stateful
//! sequence detectors (brute force, scans) are ordinary [`super::Detector`]s instead.
//!
//! Adding a rule is a file in this folder plus a line in [`rules`]. Each file's doc comment
//! says what it detects, why it matters, known false positives, ATT&CK ids and references.

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

/// Every rule, in a fixed order.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![]
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
