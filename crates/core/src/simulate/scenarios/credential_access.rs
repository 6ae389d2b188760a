//! Credential access: instance-profile credentials taken from the metadata service and used
//! outside AWS.

use super::Ctx;
use crate::simulate::background::storage::{ObjOp, ObjReq, object_key, object_op};
use crate::simulate::background::workloads::rotating_key;
use crate::simulate::catalog::ATTACKER_UAS;
use crate::simulate::ct::{self, AssumedOpts, Session};
use crate::simulate::json::object;
use crate::simulate::org::BucketKind;
use crate::simulate::rng::RngExt;

/// The very session an instance is using (same role, session name and access key as its
/// background calls) shows up from an address outside AWS with another agent.
pub(super) fn instance_credentials(c: &mut Ctx<'_>) {
    let org = c.org;
    let prod = org.prod();
    let Some(i) = org.instances.iter().position(|x| x.account == prod) else {
        return;
    };
    let inst = org.instances[i].clone();
    let role = org.roles[inst.role].clone();
    let (key, created) = rotating_key(c.sim.cfg.seed, "instance", i as u64, c.t, 6);
    // Stay inside the credential period so the key is the one the instance has.
    let period = 6 * 3_600_000;
    let period_end = (c.t.div_euclid(period) + 1) * period;
    if c.t + 45 * 60_000 > period_end || c.t < created + 60_000 {
        c.t = created + 20 * 60_000;
    }
    let who = ct::assumed(
        &role,
        &inst.id,
        Session {
            access_key: &key,
            created_ms: created,
            mfa: false,
        },
        AssumedOpts {
            ec2: true,
            ..AssumedOpts::default()
        },
    );
    let ip = c.attacker_ip();
    let a = c.actor(prod, who.clone(), &ip, ATTACKER_UAS[0]);
    c.resource(&inst.id);
    c.emit(&a, c.call(&a, "sts.amazonaws.com", "GetCallerIdentity"));
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "ListAttachedRolePolicies")
            .req(object(|o| {
                o.str("roleName", &role.name);
            }))
            .denied(),
    );
    c.emit(&a, c.call(&a, "s3.amazonaws.com", "ListBuckets"));
    c.emit(
        &a,
        c.call(&a, "ec2.amazonaws.com", "DescribeInstances")
            .req(r#"{"instancesSet":{},"filterSet":{}}"#.to_string()),
    );
    c.emit(
        &a,
        c.call(&a, "secretsmanager.amazonaws.com", "ListSecrets"),
    );
    let env = org.accounts[prod].env.clone();
    for app in ["orders", "payments", "auth"] {
        let id = format!(
            "arn:aws:secretsmanager:{}:{}:secret:{env}/{app}/db-credentials-{}",
            a.region,
            a.acct,
            c.r.alnum(6)
        );
        c.emit(
            &a,
            c.call(&a, "secretsmanager.amazonaws.com", "GetSecretValue")
                .req(object(|o| {
                    o.str("secretId", &id);
                })),
        );
    }
    let Some(b) = org.bucket_of(prod, BucketKind::Data) else {
        return;
    };
    let n = c.r.between(15, 40);
    for _ in 0..n {
        c.step(500, 4000);
        let t = c.t;
        c.with_gen(prod, |g, r, tag| {
            let key = object_key(r, BucketKind::Data, t);
            let size = r.lognormal(60_000.0, 1.0) as u64 + 500;
            let q = ObjReq {
                time_ms: t,
                bucket: b,
                who: &who,
                ip: &ip,
                ua: ATTACKER_UAS[0],
                op: ObjOp::Get,
                key: &key,
                size,
                status: 200,
            };
            object_op(g, r, &q, tag);
        });
    }
}
