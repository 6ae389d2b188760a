//! API calls made by attack and credential-testing tools.
//!
//! **What**: any CloudTrail call whose user agent names an offensive toolkit or an
//! attack-platform build (Pacu, Kali/Parrot/Pentoo builds of the AWS CLI and SDKs, Stratus Red
//! Team, CloudGoat, WeirdAAL, nimbostratus, CloudFox, TruffleHog's key verifier); cloud
//! security assessment tools (ScoutSuite, Prowler, CloudSploit) are reported at Low, since
//! auditors run them too.
//! **Why**: these clients are what intruders use to validate stolen keys (TruffleHog calls
//! `GetCallerIdentity`), enumerate permissions and escalate (T1078.004, T1526). Legitimate
//! workloads never send such user agents; red teams do, and are worth knowing about.
//! **Baseline**: none. One finding per principal and tool; every call is attached to it.
//! **False positives**: sanctioned penetration tests and red-team exercises; security teams
//! running assessment tools. User agents can be forged, so absence proves nothing.
//! **ATT&CK**: T1078.004, T1526.
//! **References**: GuardDuty PenTest:IAMUser/KaliLinux, ParrotLinux, PentooLinux; Rhino
//! Security Labs, Pacu; Panther AWS.STS.GetCallerIdentity.TruffleHog.

use super::Rule;
use super::support::{Hit, LOW, MEDIUM, actor, ct, emit, failed, resource};
use crate::detect::EngineConfig;
use crate::detect::activity::UaFamily;
use crate::event::Event;
use crate::finding::Finding;

const ID: &str = "attack-tool";

/// Tool markers beyond the ones [`UaFamily::classify`] knows (lower case).
const EXTRA_OFFENSIVE: &[&str] = &["trufflehog", "aws_consoler", "awspx", "endgame"];
/// Assessment tools: legitimate in the right hands.
const ASSESSMENT: &[&str] = &[
    "scoutsuite",
    "prowler",
    "cloudsploit",
    "cloudmapper",
    "pmapper",
];

/// See the module documentation.
pub struct AttackTools;

fn tool_name(ua: &str) -> Option<(String, bool)> {
    let l = ua.to_ascii_lowercase();
    const NAMED: &[&str] = &[
        "pacu",
        "stratus-red-team",
        "cloudgoat",
        "weirdaal",
        "nimbostratus",
        "cloudfox",
        "trufflehog",
        "aws_consoler",
        "awspx",
        "endgame",
        "kali",
        "parrot",
        "pentoo",
    ];
    if UaFamily::classify(ua) == UaFamily::Offensive
        || EXTRA_OFFENSIVE.iter().any(|t| l.contains(t))
    {
        let name = NAMED
            .iter()
            .find(|t| l.contains(*t))
            .copied()
            .unwrap_or("attack tool");
        return Some((name.to_string(), true));
    }
    ASSESSMENT
        .iter()
        .find(|t| l.contains(*t))
        .map(|t| (t.to_string(), false))
}

impl Rule for AttackTools {
    fn id(&self) -> &'static str {
        ID
    }

    fn check(&self, e: &Event, cfg: &EngineConfig, out: &mut Vec<Finding>) {
        let Some(r) = ct(e) else { return };
        let Some(ua) = r.user_agent.as_deref().filter(|u| !u.is_empty()) else {
            return;
        };
        let Some((tool, offensive)) = tool_name(ua) else {
            return;
        };
        let who = actor(r);
        let mut hit = Hit::new(ID, "Attack tool in use", &["T1078.004", "T1526"]);
        hit.title = format!(
            "Attack tool {tool} used: {who} called {} with `{ua}`",
            r.event_name
        );
        hit.desc = format!(
            "{who} made API calls with the user agent of {tool}{}. Attackers validate stolen keys and map permissions \
             with such tools; unless a penetration test is running, the credentials are in someone else's hands.",
            if offensive {
                ", an offensive toolkit"
            } else {
                ", a cloud security assessment tool"
            }
        );
        hit.remediation = "Ask whether a penetration test or audit is in progress. If not: deactivate the access key \
                           or revoke the session, block the source address, and review every call made with it.";
        // `emit` adds its own bump for offensive clients; these bases land in Medium (as GuardDuty
        // rates its PenTest findings) and Low, below the findings that say what the tool did.
        hit.strength = match (offensive, failed(r)) {
            (true, false) => MEDIUM - 0.06,
            (true, true) => MEDIUM - 0.16,
            (false, _) => LOW,
        };
        hit.confidence = if offensive { 0.85 } else { 0.5 };
        hit.key = vec![tool.clone()];
        let (principal, _) = crate::detect::activity::principal_of(r);
        if let Some(p) = principal.filter(|p| p.starts_with("arn:")) {
            hit.resources.push(resource(r, p, "AWS::IAM::Principal"));
        }
        emit(e, r, cfg, hit, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_by_user_agent() {
        assert_eq!(tool_name("TruffleHog").map(|t| t.1), Some(true));
        assert_eq!(
            tool_name("Boto3/1.24.46 Python/3.11.8 Botocore/1.27.46 pacu/1.5.2").map(|t| t.0),
            Some("pacu".to_string())
        );
        assert_eq!(
            tool_name("aws-sdk-go/1.44.109 scoutsuite/5.14.0").map(|t| t.1),
            Some(false)
        );
        assert!(tool_name("aws-cli/2.15.0 Python/3.11.6 Linux/6.1").is_none());
    }
}
