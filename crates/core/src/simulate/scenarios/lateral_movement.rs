//! Lateral movement: hopping between member accounts through the organization access role.

use super::Ctx;
use crate::simulate::catalog::ATTACKER_UAS;
use crate::simulate::ct::{self, AssumedOpts, CtCall, Session};
use crate::simulate::json::object;
use crate::simulate::rng::RngExt;

/// A developer's key (never used for cross-account work) assumes
/// `OrganizationAccountAccessRole` in other member accounts, reads secrets there, and is
/// refused by the security account.
pub(super) fn role_chain(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some(user) = org.humans.iter().filter_map(|h| h.iam.clone()).next() else {
        return;
    };
    let ip = c.attacker_ip();
    let ua = ATTACKER_UAS[0];
    let src = c.actor(user.account, ct::iam_user(&user, None), &ip, ua);
    c.emit(&src, c.call(&src, "sts.amazonaws.com", "GetCallerIdentity"));
    c.emit(
        &src,
        c.call(&src, "organizations.amazonaws.com", "ListAccounts")
            .denied(),
    );
    let targets: Vec<usize> = org
        .members()
        .map(|m| m.index)
        .filter(|a| *a != user.account)
        .collect();
    for acc in targets.iter().take(2) {
        let role = org.roles[org.accounts[*acc].org_access_role].clone();
        c.resource(&role.arn());
        let session = "dev-migration";
        let key = format!("ASIA{}", c.r.upper_id(16));
        c.key(&key);
        let acct = org.account_id(*acc).to_string();
        let req = object(|o| {
            o.str("roleArn", &role.arn())
                .str("roleSessionName", session);
        });
        let resp = object(|o| {
            o.obj("credentials", |cr| {
                cr.str("accessKeyId", &key)
                    .str("expiration", "2026-12-31T00:00:00Z");
            })
            .obj("assumedRoleUser", |u| {
                u.str("assumedRoleId", &format!("{}:{session}", role.role_id))
                    .str("arn", &role.session_arn(session));
            });
        });
        c.step(2_000, 30_000);
        // Recorded in the role's account, caller from the developer's account.
        let mut call = CtCall::api(
            c.t,
            &src.who,
            "sts.amazonaws.com",
            "AssumeRole",
            org.accounts[*acc].regions[0],
            &ip,
            ua,
            &acct,
        )
        .req(req)
        .resp(resp)
        .resource(role.arn(), &acct, "AWS::IAM::Role");
        call.shared_event_id = Some(c.r.uuid());
        c.ct(*acc, &call);
        let who = ct::assumed(
            &role,
            session,
            Session {
                access_key: &key,
                created_ms: c.t,
                mfa: false,
            },
            AssumedOpts::default(),
        );
        let a = c.actor(*acc, who, &ip, ua);
        for (s, name) in [
            ("sts.amazonaws.com", "GetCallerIdentity"),
            ("s3.amazonaws.com", "ListBuckets"),
            ("ec2.amazonaws.com", "DescribeInstances"),
            ("secretsmanager.amazonaws.com", "ListSecrets"),
            ("rds.amazonaws.com", "DescribeDBInstances"),
        ] {
            c.emit(&a, c.call(&a, s, name));
        }
    }
    // The security account does not trust this path.
    let sec = org.security;
    let role = org.roles[org.accounts[sec].org_access_role].clone();
    let acct = org.account_id(sec).to_string();
    c.step(5_000, 60_000);
    let call = CtCall::api(
        c.t,
        &src.who,
        "sts.amazonaws.com",
        "AssumeRole",
        org.accounts[sec].regions[0],
        &ip,
        ua,
        &acct,
    )
    .req(object(|o| {
        o.str("roleArn", &role.arn())
            .str("roleSessionName", "dev-migration");
    }))
    .err(ct::deny(&src.who, "sts:AssumeRole", Some(&role.arn())));
    c.ct(sec, &call);
}
