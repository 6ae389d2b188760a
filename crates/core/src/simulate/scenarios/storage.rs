//! Object-storage scenarios visible in S3 server access logs (and data events where the trail
//! selects the bucket).

use super::Ctx;
use crate::simulate::background::storage::{ObjOp, ObjReq, object_key, object_op};
use crate::simulate::catalog::ATTACKER_UAS;
use crate::simulate::ct::{self, AssumedOpts, Session, Who};
use crate::simulate::org::{BucketKind, HumanKind};
use crate::simulate::rng::RngExt;
use crate::simulate::s3log::S3Req;

/// Stolen ECS task credentials pull thousands of objects from the production data bucket.
pub(super) fn get_storm(c: &mut Ctx<'_>) {
    let org = c.org;
    let prod = org.prod();
    let Some(b) = org.bucket_of(prod, BucketKind::Data) else {
        return;
    };
    let Some((s, svc)) = org
        .services
        .iter()
        .enumerate()
        .find(|(_, s)| s.account == prod)
    else {
        return;
    };
    let role = org.roles[svc.task_role].clone();
    let task = crate::simulate::rng::rng_for(
        c.sim.cfg.seed,
        &[
            crate::simulate::rng::tag("task-id"),
            s as u64,
            0,
            c.day() as u64,
        ],
    )
    .hex(32);
    let key = format!("ASIA{}", c.r.upper_id(16));
    let who = ct::assumed(
        &role,
        &task,
        Session {
            access_key: &key,
            created_ms: c.t - 3_600_000,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    c.who(&who);
    c.resource(&format!("arn:aws:s3:::{}", org.buckets[b].name));
    let ip = c.attacker_ip();
    let n = c.r.between(1500, 3000);
    let ua = "aws-cli/2.13.0 Python/3.11.4 Linux/5.15.0-1040-aws exe/x86_64.kali.2023 prompt/off command/s3.sync";
    for _ in 0..n {
        c.step(100, 900);
        let t = c.t;
        c.with_gen(prod, |g, r, tag| {
            let age = r.between(0, 300) * 86_400_000;
            let key = object_key(r, BucketKind::Data, t - age);
            let size = r.lognormal(60_000.0, 1.0) as u64 + 500;
            let q = ObjReq {
                time_ms: t,
                bucket: b,
                who: &who,
                ip: &ip,
                ua,
                op: ObjOp::Get,
                key: &key,
                size,
                status: 200,
            };
            object_op(g, r, &q, tag);
        });
    }
}

/// Multi-object deletes empty an artifacts bucket (visible in its access log only).
pub(super) fn mass_delete(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some(user) = org.humans.iter().filter_map(|h| h.iam.clone()).next_back() else {
        return;
    };
    let Some(b) = org.bucket_of(user.account, BucketKind::Artifacts) else {
        return;
    };
    let ip = c.attacker_ip();
    let who = ct::iam_user(&user, None);
    c.who(&who);
    c.resource(&format!("arn:aws:s3:::{}", org.buckets[b].name));
    let requests = c.r.between(3, 6);
    for _ in 0..requests {
        c.step(5_000, 60_000);
        let t0 = c.t;
        let keys = c.r.between(200, 1000);
        let arn = user.arn();
        c.with_gen(user.account, |g, r, tag| {
            let bucket = &g.org.buckets[b];
            let post = S3Req {
                time_ms: t0,
                bucket,
                remote_ip: &ip,
                requester: &arn,
                op: "REST.POST.MULTI_OBJECT_DELETE",
                key: "",
                query: "delete",
                status: 200,
                error: "",
                bytes_sent: Some(keys as u64 * 90),
                object_size: None,
                total_ms: r.between(800, 4000) as u64,
                user_agent: ATTACKER_UAS[0],
                auth: "AuthHeader",
            };
            g.s3(r, b, &post, tag);
            for _ in 0..keys {
                let key = format!(
                    "builds/{}/{}.zip",
                    r.hex(8),
                    r.between(1_000_000_000, 9_999_999_999)
                );
                let del = S3Req {
                    op: "BATCH.DELETE.OBJECT",
                    key: &key,
                    query: "",
                    status: 204,
                    bytes_sent: None,
                    total_ms: 0,
                    ..post.clone()
                };
                g.s3(r, b, &del, tag);
            }
        });
    }
}

/// Anonymous listing and downloads from a private bucket (misconfigured), which is never read
/// anonymously otherwise.
pub(super) fn anonymous_access(c: &mut Ctx<'_>) {
    let org = c.org;
    let members: Vec<usize> = org.members().map(|m| m.index).collect();
    let acc = members[members.len().min(2) - 1];
    let Some(b) = org.bucket_of(acc, BucketKind::Assets) else {
        return;
    };
    let ip = c.attacker_ip();
    c.resource(&format!("arn:aws:s3:::{}", org.buckets[b].name));
    let ua = *c.r.pick(&["python-requests/2.31.0", "curl/7.88.1"]);
    let t0 = c.t;
    c.with_gen(acc, |g, r, tag| {
        let bucket = &g.org.buckets[b];
        let list = S3Req {
            time_ms: t0,
            bucket,
            remote_ip: &ip,
            requester: "-",
            op: "REST.GET.BUCKET",
            key: "",
            query: "list-type=2&prefix=&max-keys=1000",
            status: 200,
            error: "",
            bytes_sent: Some(r.between(40_000, 260_000) as u64),
            object_size: None,
            total_ms: r.between(40, 300) as u64,
            user_agent: ua,
            auth: "-",
        };
        g.s3(r, b, &list, tag);
    });
    let anon = ct::anonymous();
    let n = c.r.between(50, 150);
    for _ in 0..n {
        c.step(300, 5000);
        let t = c.t;
        c.with_gen(acc, |g, r, tag| {
            let key = object_key(r, BucketKind::Assets, t);
            let size = r.lognormal(30_000.0, 1.0) as u64 + 100;
            let q = ObjReq {
                time_ms: t,
                bucket: b,
                who: &anon,
                ip: &ip,
                ua,
                op: ObjOp::Get,
                key: &key,
                size,
                status: 200,
            };
            object_op(g, r, &q, tag);
        });
    }
}

/// An outside principal tries well-known file names across every logged bucket: hundreds of
/// 403s.
pub(super) fn access_denied_storm(c: &mut Ctx<'_>) {
    let org = c.org;
    let ext = c.external_account();
    let ip = c.attacker_ip();
    let arn = format!("arn:aws:iam::{ext}:user/s3-audit");
    c.principal(&arn);
    let who = Who {
        json: ct::aws_account(&ext, &format!("AIDA{}", c.r.upper_id(17))).json,
        arn: arn.clone(),
        key: String::new(),
    };
    let buckets: Vec<usize> = (0..org.buckets.len())
        .filter(|b| org.buckets[*b].access_logged && org.buckets[*b].kind != BucketKind::Public)
        .collect();
    for b in &buckets {
        c.resource(&format!("arn:aws:s3:::{}", org.buckets[*b].name));
    }
    const GUESSES: &[&str] = &[
        ".env",
        "config.json",
        "backup.sql",
        "db.sql.gz",
        "dump.tar.gz",
        "credentials.csv",
        "id_rsa",
        ".git/config",
        "terraform.tfstate",
        "wp-config.php",
        "secrets.yaml",
        "users.csv",
        "export.zip",
        "prod.env",
        "keys.txt",
    ];
    let n = c.r.between(300, 700);
    let _ = HumanKind::Admin;
    for k in 0..n {
        c.step(80, 1500);
        let t = c.t;
        let b = buckets[(k as usize) % buckets.len().max(1)];
        let prefix =
            *c.r.pick(&["", "backup/", "old/", "prod/", "tmp/", "exports/"]);
        let key = format!("{prefix}{}", c.r.pick(GUESSES));
        let acc = org.buckets[b].account;
        c.with_gen(acc, |g, r, tag| {
            let q = ObjReq {
                time_ms: t,
                bucket: b,
                who: &who,
                ip: &ip,
                ua: ATTACKER_UAS[3],
                op: ObjOp::Get,
                key: &key,
                size: 0,
                status: 403,
            };
            object_op(g, r, &q, tag);
        });
    }
}
