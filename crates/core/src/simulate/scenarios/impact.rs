//! Impact: cryptomining on GPU instances, destroying keys, destroying data.

use super::{ALL_REGIONS, Actor, Ctx};
use crate::simulate::background::storage::{ObjOp, ObjReq, object_key, object_op};
use crate::simulate::catalog::{ATTACKER_UAS, UNUSUAL_REGIONS};
use crate::simulate::clock::MINUTE;
use crate::simulate::ct::{self, AssumedOpts, Session};
use crate::simulate::json::object;
use crate::simulate::org::{BucketKind, HumanKind};
use crate::simulate::rng::RngExt;

fn static_region(name: &str) -> &'static str {
    UNUSUAL_REGIONS
        .iter()
        .chain(ALL_REGIONS)
        .copied()
        .find(|r| *r == name)
        .unwrap_or("us-east-1")
}

/// A stolen developer session launches GPU instances in regions the organization never uses,
/// after hitting the vCPU limit at first.
pub(super) fn gpu_mining(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some((dev, acc, role)) = super::member_session(org, 1) else {
        return;
    };
    let key = format!("ASIA{}", c.r.upper_id(16));
    let who = ct::assumed(
        &role,
        &dev.email,
        Session {
            access_key: &key,
            created_ms: c.t - 10 * MINUTE,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    let ip = c.attacker_ip();
    let mut a = c.actor(acc, who, &ip, ATTACKER_UAS[3]);
    let mut call = c.call(&a, "ec2.amazonaws.com", "DescribeRegions");
    call.region = "us-east-1";
    c.emit(&a, call);
    let k = 2 + c.r.index(2);
    let start = c.r.index(UNUSUAL_REGIONS.len());
    for j in 0..k {
        let region = static_region(UNUSUAL_REGIONS[(start + j) % UNUSUAL_REGIONS.len()]);
        a.region = region;
        c.emit(&a, c.call(&a, "ec2.amazonaws.com", "DescribeImages").req(r#"{"filterSet":{"items":[{"name":"name","valueSet":{"items":[{"value":"Deep Learning AMI GPU*"}]}}]}}"#.to_string()));
        let kp = format!("kp-{}", c.r.hex(6));
        c.emit(
            &a,
            c.call(&a, "ec2.amazonaws.com", "CreateKeyPair")
                .req(format!(r#"{{"keyName":"{kp}","keyType":"rsa"}}"#)),
        );
        let sg = format!("sg-0{}", c.r.hex(16));
        c.emit(
            &a,
            c.call(&a, "ec2.amazonaws.com", "CreateSecurityGroup")
                .req(r#"{"groupName":"default-ssh","groupDescription":"ssh"}"#.to_string())
                .resp(format!(r#"{{"_return":true,"groupId":"{sg}"}}"#)),
        );
        c.emit(&a, c.call(&a, "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress").req(format!(
            r#"{{"groupId":"{sg}","ipPermissions":{{"items":[{{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{{"items":[{{"cidrIp":"0.0.0.0/0"}}]}}}}]}}}}"#
        )));
        let ty =
            *c.r.pick(&["p3.16xlarge", "g4dn.12xlarge", "p3.8xlarge", "g5.12xlarge"]);
        let ami = format!("ami-0{}", c.r.hex(16));
        let run = |count: i64, ty: &str| {
            format!(
                r#"{{"instancesSet":{{"items":[{{"imageId":"{ami}","minCount":1,"maxCount":{count},"keyName":"{kp}"}}]}},"instanceType":"{ty}","blockDeviceMapping":{{}},"monitoring":{{"enabled":false}},"disableApiTermination":false,"disableApiStop":false,"clientToken":"{}"}}"#,
                count * 7919
            )
        };
        c.emit(&a, c.call(&a, "ec2.amazonaws.com", "RunInstances").req(run(20, ty)).err(Some((
            "Client.VcpuLimitExceeded",
            "You have requested more vCPU capacity than your current vCPU limit of 64 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.".to_string(),
        ))));
        let n = 1 + c.r.index(3);
        let ids: Vec<String> = (0..n).map(|_| format!("i-0{}", c.r.hex(16))).collect();
        for id in &ids {
            c.resource(id);
        }
        let items: Vec<String> = ids.iter().map(|i| format!(r#"{{"instanceId":"{i}","imageId":"{ami}","currentInstanceState":{{"code":0,"name":"pending"}},"instanceType":"{ty}"}}"#)).collect();
        let resp = format!(
            r#"{{"requestId":"{}","reservationId":"r-0{}","ownerId":"{}","instancesSet":{{"items":[{}]}}}}"#,
            c.r.uuid(),
            c.r.hex(16),
            a.acct,
            items.join(",")
        );
        c.emit(
            &a,
            c.call(&a, "ec2.amazonaws.com", "RunInstances")
                .req(run(n as i64, ty))
                .resp(resp),
        );
    }
}

fn stolen_admin(c: &mut Ctx<'_>, acc: usize) -> Option<Actor> {
    let org = c.org;
    let admin = org.humans.iter().find(|h| h.kind == HumanKind::Admin)?;
    let role = org.sso_role(admin, acc)?.clone();
    Some(c.stolen_sso_actor(acc, &role, &admin.email, 5 * MINUTE))
}

/// Every customer managed key of production disabled and scheduled for deletion.
pub(super) fn kms_destruction(c: &mut Ctx<'_>) {
    let org = c.org;
    let prod = org.prod();
    let Some(a) = stolen_admin(c, prod) else {
        return;
    };
    c.emit(&a, c.call(&a, "kms.amazonaws.com", "ListKeys"));
    let keys: Vec<_> = org
        .keys
        .iter()
        .filter(|k| k.account == prod)
        .cloned()
        .collect();
    for k in keys {
        let arn = format!("arn:aws:kms:{}:{}:key/{}", k.region, a.acct, k.id);
        c.resource(&arn);
        let req = object(|o| {
            o.str("keyId", &k.id);
        });
        c.emit(
            &a,
            c.call(&a, "kms.amazonaws.com", "DescribeKey")
                .req(req.clone())
                .resource(arn.clone(), &a.acct, "AWS::KMS::Key"),
        );
        c.emit(
            &a,
            c.call(&a, "kms.amazonaws.com", "DisableKey")
                .req(req)
                .resource(arn.clone(), &a.acct, "AWS::KMS::Key"),
        );
        let req = object(|o| {
            o.str("keyId", &k.id).num("pendingWindowInDays", 7);
        });
        let resp = object(|o| {
            o.str("keyId", &arn)
                .str("deletionDate", "Oct 20, 2026, 12:00:00 AM")
                .str("keyState", "PendingDeletion")
                .num("pendingWindowInDays", 7);
        });
        c.emit(
            &a,
            c.call(&a, "kms.amazonaws.com", "ScheduleKeyDeletion")
                .req(req)
                .resp(resp)
                .resource(arn, &a.acct, "AWS::KMS::Key"),
        );
    }
}

/// Mass deletion on the production data bucket (seen through data events and the access
/// log), a ransom note, a lifecycle rule expiring the assets bucket and a failed bucket delete.
pub(super) fn s3_destruction(c: &mut Ctx<'_>) {
    let org = c.org;
    let prod = org.prod();
    let user = org.service_users[org.reporting_user].clone();
    let (Some(b), Some(assets)) = (
        org.bucket_of(prod, BucketKind::Data),
        org.bucket_of(prod, BucketKind::Assets),
    ) else {
        return;
    };
    let ip = c.attacker_ip();
    let ua = ATTACKER_UAS[0];
    let who = ct::iam_user(&user, None);
    let a = c.actor(user.account, who.clone(), &ip, ua);
    let bucket = org.buckets[b].name.clone();
    c.resource(&format!("arn:aws:s3:::{bucket}"));
    let n = c.r.between(200, 400);
    for _ in 0..n {
        c.step(50, 400);
        let t = c.t;
        c.with_gen(prod, |g, r, tag| {
            let age = r.between(0, 6) * 86_400_000;
            let key = object_key(r, BucketKind::Data, t - age);
            let q = ObjReq {
                time_ms: t,
                bucket: b,
                who: &who,
                ip: &ip,
                ua,
                op: ObjOp::Delete,
                key: &key,
                size: 0,
                status: 204,
            };
            object_op(g, r, &q, tag);
        });
    }
    c.step(5_000, 30_000);
    let t = c.t;
    c.with_gen(prod, |g, r, tag| {
        let q = ObjReq {
            time_ms: t,
            bucket: b,
            who: &who,
            ip: &ip,
            ua,
            op: ObjOp::Put,
            key: "README_RESTORE_FILES.txt",
            size: 1_204,
            status: 200,
        };
        object_op(g, r, &q, tag);
    });
    let abucket = org.buckets[assets].name.clone();
    c.resource(&format!("arn:aws:s3:::{abucket}"));
    let host = format!("{abucket}.s3.{}.amazonaws.com", org.buckets[assets].region);
    let req = format!(
        r#"{{"bucketName":"{abucket}","Host":"{host}","lifecycle":"","LifecycleConfiguration":{{"Rule":{{"ID":"cleanup","Status":"Enabled","Filter":{{"Prefix":""}},"Expiration":{{"Days":1}},"NoncurrentVersionExpiration":{{"NoncurrentDays":1}}}}}}}}"#
    );
    c.emit(
        &a,
        c.call(&a, "s3.amazonaws.com", "PutBucketLifecycle")
            .req(req),
    );
    let req = format!(r#"{{"bucketName":"{abucket}","Host":"{host}"}}"#);
    c.emit(
        &a,
        c.call(&a, "s3.amazonaws.com", "DeleteBucket")
            .req(req)
            .err(Some((
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty".to_string(),
            ))),
    );
}
