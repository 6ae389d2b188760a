//! Exfiltration to another AWS account: sharing snapshots and images, making database
//! snapshots restorable elsewhere, opening a bucket to the world.

use super::{Actor, Ctx};
use crate::simulate::catalog::ATTACKER_UAS;
use crate::simulate::clock::MINUTE;
use crate::simulate::ct;
use crate::simulate::json::object;
use crate::simulate::org::{BucketKind, HumanKind};
use crate::simulate::rng::RngExt;

fn stolen_session(c: &mut Ctx<'_>, acc: usize, kind: HumanKind, nth: usize) -> Option<Actor> {
    let org = c.org;
    let people: Vec<_> = org
        .humans
        .iter()
        .filter(|h| h.kind == kind && org.sso_role(h, acc).is_some())
        .collect();
    let h = people.get(nth % people.len().max(1))?;
    let role = org.sso_role(h, acc)?.clone();
    Some(c.stolen_sso_actor(acc, &role, &h.email, 25 * MINUTE))
}

/// A fresh snapshot of a production volume and a production AMI, both shared with an
/// outside account.
pub(super) fn snapshot_share(c: &mut Ctx<'_>) {
    let org = c.org;
    let prod = org.prod();
    let Some(inst) = org.instances.iter().find(|i| i.account == prod).cloned() else {
        return;
    };
    let ext = c.external_account();
    let Some(a) = stolen_session(c, prod, HumanKind::Admin, 1) else {
        return;
    };
    let snap = format!("snap-0{}", c.r.hex(16));
    c.resource(&snap);
    c.resource(&inst.ami);
    c.emit(
        &a,
        c.call(&a, "ec2.amazonaws.com", "DescribeVolumes")
            .req(r#"{"volumeSet":{},"filterSet":{}}"#.to_string()),
    );
    let req = object(|o| {
        o.str("volumeId", &inst.volume).str("description", "backup");
    });
    let resp = object(|o| {
        o.str("snapshotId", &snap)
            .str("volumeId", &inst.volume)
            .str("status", "pending")
            .num("volumeSize", 50);
    });
    c.emit(
        &a,
        c.call(&a, "ec2.amazonaws.com", "CreateSnapshot")
            .req(req)
            .resp(resp),
    );
    c.step(3 * MINUTE, 12 * MINUTE);
    let req = format!(
        r#"{{"snapshotId":"{snap}","createVolumePermission":{{"add":{{"items":[{{"userId":"{ext}"}}]}}}},"attributeType":"CREATE_VOLUME_PERMISSION"}}"#
    );
    c.emit(
        &a,
        c.call(&a, "ec2.amazonaws.com", "ModifySnapshotAttribute")
            .req(req)
            .resp(r#"{"_return":true}"#.to_string()),
    );
    let req = format!(
        r#"{{"imageId":"{}","launchPermission":{{"add":{{"items":[{{"userId":"{ext}"}}]}}}},"attributeType":"launchPermission"}}"#,
        inst.ami
    );
    c.emit(
        &a,
        c.call(&a, "ec2.amazonaws.com", "ModifyImageAttribute")
            .req(req)
            .resp(r#"{"_return":true}"#.to_string()),
    );
    c.emit(
        &a,
        c.call(&a, "ec2.amazonaws.com", "DescribeSnapshotAttribute")
            .req(format!(
                r#"{{"snapshotId":"{snap}","attributeType":"CREATE_VOLUME_PERMISSION"}}"#
            )),
    );
}

/// A manual database snapshot made restorable by an outside account.
pub(super) fn rds_snapshot(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some(db) = org.databases.first().cloned() else {
        return;
    };
    let ext = c.external_account();
    let Some(a) = stolen_session(c, db.account, HumanKind::Admin, 0) else {
        return;
    };
    let snap = format!("{}-final-{}", db.id, c.r.hex(6));
    let snap_arn = format!("arn:aws:rds:{}:{}:snapshot:{snap}", db.region, a.acct);
    c.resource(&snap_arn);
    c.resource(&snap);
    c.emit(&a, c.call(&a, "rds.amazonaws.com", "DescribeDBInstances"));
    let req = object(|o| {
        o.str("dBSnapshotIdentifier", &snap)
            .str("dBInstanceIdentifier", &db.id);
    });
    let resp = object(|o| {
        o.str("dBSnapshotIdentifier", &snap)
            .str("dBInstanceIdentifier", &db.id)
            .str("status", "creating")
            .str("dBSnapshotArn", &snap_arn);
    });
    c.emit(
        &a,
        c.call(&a, "rds.amazonaws.com", "CreateDBSnapshot")
            .req(req)
            .resp(resp),
    );
    c.step(8 * MINUTE, 25 * MINUTE);
    let req = object(|o| {
        o.str("dBSnapshotIdentifier", &snap)
            .str("attributeName", "restore")
            .strs("valuesToAdd", &[ext.as_str()]);
    });
    let resp = object(|o| {
        o.str("dBSnapshotIdentifier", &snap)
            .arr("dBSnapshotAttributes", |l| {
                l.obj(|x| {
                    x.str("attributeName", "restore")
                        .strs("attributeValues", &[ext.as_str()]);
                });
            });
    });
    c.emit(
        &a,
        c.call(&a, "rds.amazonaws.com", "ModifyDBSnapshotAttribute")
            .req(req)
            .resp(resp),
    );
}

/// Public access block removed, a bucket policy granting `s3:GetObject` to everyone and `s3:*`
/// to an outside account, and a public-read ACL.
pub(super) fn bucket_public(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some(user) = org.humans.iter().filter_map(|h| h.iam.clone()).next() else {
        return;
    };
    let Some(b) = org.bucket_of(user.account, BucketKind::Data) else {
        return;
    };
    let bucket = org.buckets[b].name.clone();
    let ext = c.external_account();
    let ip = c.attacker_ip();
    let a = c.actor(
        user.account,
        ct::iam_user(&user, None),
        &ip,
        ATTACKER_UAS[4],
    );
    c.resource(&format!("arn:aws:s3:::{bucket}"));
    let host = format!("{bucket}.s3.{}.amazonaws.com", org.buckets[b].region);
    let base = |sub: &str| {
        object(|o| {
            o.str("bucketName", &bucket).str("Host", &host).str(sub, "");
        })
    };
    let res = format!("arn:aws:s3:::{bucket}");
    c.emit(
        &a,
        c.call(&a, "s3.amazonaws.com", "GetBucketPolicy")
            .req(base("policy"))
            .err(Some((
                "NoSuchBucketPolicy",
                "The bucket policy does not exist".to_string(),
            ))),
    );
    c.emit(
        &a,
        c.call(&a, "s3.amazonaws.com", "DeleteBucketPublicAccessBlock")
            .req(base("publicAccessBlock"))
            .resource(res.clone(), &a.acct, "AWS::S3::Bucket"),
    );
    let req = object(|o| {
        o.str("bucketName", &bucket)
            .str("Host", &host)
            .obj("bucketPolicy", |p| {
                p.str("Version", "2012-10-17").arr("Statement", |s| {
                    s.obj(|st| {
                        st.str("Sid", "PublicRead")
                            .str("Effect", "Allow")
                            .str("Principal", "*")
                            .str("Action", "s3:GetObject")
                            .str("Resource", &format!("arn:aws:s3:::{bucket}/*"));
                    });
                    s.obj(|st| {
                        st.str("Sid", "Replication")
                            .str("Effect", "Allow")
                            .obj("Principal", |pr| {
                                pr.str("AWS", &format!("arn:aws:iam::{ext}:root"));
                            })
                            .str("Action", "s3:*")
                            .strs(
                                "Resource",
                                &[
                                    format!("arn:aws:s3:::{bucket}"),
                                    format!("arn:aws:s3:::{bucket}/*"),
                                ],
                            );
                    });
                });
            })
            .strs("policy", &[""]);
    });
    c.emit(
        &a,
        c.call(&a, "s3.amazonaws.com", "PutBucketPolicy")
            .req(req)
            .resource(res.clone(), &a.acct, "AWS::S3::Bucket"),
    );
    let req = object(|o| {
        o.str("bucketName", &bucket)
            .str("Host", &host)
            .str("acl", "")
            .obj("AccessControlPolicy", |p| {
                p.obj("AccessControlList", |l| {
                    l.arr("Grant", |g| {
                        g.obj(|gr| {
                            gr.obj("Grantee", |ge| {
                                ge.str("xsi:type", "Group")
                                    .str("URI", "http://acs.amazonaws.com/groups/global/AllUsers");
                            })
                            .str("Permission", "READ");
                        });
                    });
                });
            });
    });
    c.emit(
        &a,
        c.call(&a, "s3.amazonaws.com", "PutBucketAcl")
            .req(req)
            .resource(res, &a.acct, "AWS::S3::Bucket"),
    );
}
