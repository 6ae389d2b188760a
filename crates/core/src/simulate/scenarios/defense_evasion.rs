//! Defense evasion: blinding the logs and the security services.

use super::{Actor, Ctx};
use crate::simulate::clock::MINUTE;

use crate::simulate::json::object;
use crate::simulate::org::HumanKind;
use crate::simulate::rng::RngExt;

/// A stolen administrator session in the member account at `which` (from the end).
fn stolen_admin(c: &mut Ctx<'_>, which: usize) -> Option<Actor> {
    let org = c.org;
    let members: Vec<usize> = org.members().map(|m| m.index).collect();
    let acc = members[members.len().saturating_sub(1 + which) % members.len().max(1)];
    let admin = org.humans.iter().find(|h| h.kind == HumanKind::Admin)?;
    let role = org.sso_role(admin, acc)?.clone();
    Some(c.stolen_sso_actor(acc, &role, &admin.email, 15 * MINUTE))
}

/// The account's own trail (next to the organization trail) is stopped, stripped of
/// management events, then deleted.
pub(super) fn cloudtrail(c: &mut Ctx<'_>) {
    let Some(a) = stolen_admin(c, 0) else { return };
    let env = c.org.accounts[a.account].env.clone();
    let trail = format!(
        "arn:aws:cloudtrail:{}:{}:trail/{env}-account-trail",
        a.region, a.acct
    );
    c.resource(&trail);
    c.emit(&a, c.call(&a, "cloudtrail.amazonaws.com", "DescribeTrails"));
    let name_req = object(|o| {
        o.str("name", &trail);
    });
    c.emit(
        &a,
        c.call(&a, "cloudtrail.amazonaws.com", "GetTrailStatus")
            .req(name_req.clone()),
    );
    c.emit(
        &a,
        c.call(&a, "cloudtrail.amazonaws.com", "StopLogging")
            .req(name_req.clone())
            .resource(trail.clone(), &a.acct, "AWS::CloudTrail::Trail"),
    );
    let req = object(|o| {
        o.str("trailName", &trail).arr("eventSelectors", |s| {
            s.obj(|e| {
                e.str("readWriteType", "ReadOnly")
                    .bool("includeManagementEvents", false)
                    .arr("dataResources", |_| {})
                    .arr("excludeManagementEventSources", |_| {});
            });
        });
    });
    c.emit(
        &a,
        c.call(&a, "cloudtrail.amazonaws.com", "PutEventSelectors")
            .req(req)
            .resource(trail.clone(), &a.acct, "AWS::CloudTrail::Trail"),
    );
    c.step(MINUTE, 8 * MINUTE);
    c.emit(
        &a,
        c.call(&a, "cloudtrail.amazonaws.com", "DeleteTrail")
            .req(name_req)
            .resource(trail, &a.acct, "AWS::CloudTrail::Trail"),
    );
}

/// GuardDuty, Config, Security Hub, Access Analyzer and a VPC flow log switched off.
pub(super) fn security_services(c: &mut Ctx<'_>) {
    let Some(a) = stolen_admin(c, 1) else { return };
    let detector = c.r.hex(32);
    c.resource(&detector);
    c.emit(&a, c.call(&a, "guardduty.amazonaws.com", "ListDetectors"));
    c.emit(
        &a,
        c.call(&a, "guardduty.amazonaws.com", "DeleteDetector")
            .req(object(|o| {
                o.str("detectorId", &detector);
            })),
    );
    c.emit(
        &a,
        c.call(&a, "config.amazonaws.com", "DescribeConfigurationRecorders"),
    );
    c.emit(
        &a,
        c.call(&a, "config.amazonaws.com", "StopConfigurationRecorder")
            .req(r#"{"configurationRecorderName":"default"}"#.to_string()),
    );
    c.emit(
        &a,
        c.call(&a, "config.amazonaws.com", "DeleteDeliveryChannel")
            .req(r#"{"deliveryChannelName":"default"}"#.to_string()),
    );
    c.emit(
        &a,
        c.call(&a, "securityhub.amazonaws.com", "DisableSecurityHub"),
    );
    let analyzer = format!(
        "arn:aws:access-analyzer:{}:{}:analyzer/ConsoleAnalyzer-{}",
        a.region,
        a.acct,
        c.r.uuid()
    );
    c.emit(
        &a,
        c.call(&a, "access-analyzer.amazonaws.com", "DeleteAnalyzer")
            .req(object(|o| {
                o.str("analyzerName", analyzer.rsplit('/').next().unwrap_or(""));
            })),
    );
    let flow_log = format!("fl-0{}", c.r.hex(16));
    c.resource(&flow_log);
    c.emit(&a, c.call(&a, "ec2.amazonaws.com", "DescribeFlowLogs"));
    let req = format!(
        r#"{{"DeleteFlowLogsRequest":{{"FlowLogId":{{"tag":1,"content":"{flow_log}"}}}}}}"#
    );
    c.emit(&a, c.call(&a, "ec2.amazonaws.com", "DeleteFlowLogs").req(req).resp(r#"{"DeleteFlowLogsResponse":{"xmlns":"http://ec2.amazonaws.com/doc/2016-11-15/","unsuccessful":"","requestId":"3f1c2a4e-8f2b-4e63-9c1a-0d6e5b7a9c11"}}"#.to_string()));
}
