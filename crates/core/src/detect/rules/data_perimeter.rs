//! Requests refused by a VPC endpoint policy (the data perimeter).
//!
//! **What**: any call whose error code is `VpceAccessDenied`: a workload inside the network
//! asked for something the VPC endpoint policy does not allow, typically a bucket or key of
//! an account outside the organization.
//! **Why**: endpoint policies exist to stop data leaving for accounts you do not own; a refusal
//! is either a misconfiguration or an exfiltration attempt from inside (T1537, T1530).
//! **Baseline**: none. One finding per principal and endpoint.
//! **False positives**: new workloads that need an endpoint policy update.
//! **ATT&CK**: T1537, T1530.
//! **References**: AWS, "Building a data perimeter on AWS" (whitepaper); Panther
//! AWS.CloudTrail.VPCE.AccessDenied.

use super::Rule;
use super::support::{Hit, LOW, actor, ct, emit, resource};
use crate::detect::EngineConfig;
use crate::event::Event;
use crate::finding::Finding;

const ID: &str = "data-perimeter";

/// See the module documentation.
pub struct DataPerimeter;

impl Rule for DataPerimeter {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        if r.error_code.as_deref() != Some("VpceAccessDenied") {
            return;
        }
        let endpoint = r
            .vpc_endpoint_id
            .clone()
            .unwrap_or_else(|| "unknown".into());
        let who = actor(r);
        let mut hit = Hit::new(ID, "Data perimeter violation", &["T1537", "T1530"]);
        hit.title = format!(
            "Request refused by VPC endpoint policy: {who} called {} through {endpoint}",
            r.event_name
        );
        hit.desc = format!(
            "{} was refused by the policy of VPC endpoint {endpoint}. Endpoint policies keep data from leaving for \
             resources outside the organization; a refusal is a misconfiguration or an attempt to move data out.",
            r.event_name
        );
        hit.remediation = "Find the workload behind the caller and what it tried to reach. Expected: update the \
                           endpoint policy. Unexpected: treat the workload as compromised.";
        hit.strength = LOW;
        hit.confidence = 0.7;
        hit.key = vec![endpoint.clone()];
        hit.resources
            .push(resource(r, endpoint, "AWS::EC2::VPCEndpoint"));
        emit(e, r, cfg, hit, out);
    }
}
