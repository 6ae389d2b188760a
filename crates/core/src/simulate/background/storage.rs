//! Object traffic: applications reading and writing their data buckets (CloudTrail data events
//! plus server access log lines for the same requests), asset reads, and anonymous downloads
//! from the one public bucket.

use rand::Rng;

use super::Gen;
use super::workloads::rotating_key;
use crate::simulate::clock::HOUR;
use crate::simulate::ct::{self, AssumedOpts, CtCall, Session, Who};
use crate::simulate::emit::Tag;
use crate::simulate::json::object;
use crate::simulate::org::{BucketKind, EniKind};
use crate::simulate::rng::{RngExt, SimRng, tag};
use crate::simulate::s3log::S3Req;

/// Object operations, by CloudTrail event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjOp {
    Get,
    Put,
    Head,
    Delete,
}

impl ObjOp {
    fn event(self) -> &'static str {
        match self {
            ObjOp::Get => "GetObject",
            ObjOp::Put => "PutObject",
            ObjOp::Head => "HeadObject",
            ObjOp::Delete => "DeleteObject",
        }
    }
    fn access_op(self) -> &'static str {
        match self {
            ObjOp::Get => "REST.GET.OBJECT",
            ObjOp::Put => "REST.PUT.OBJECT",
            ObjOp::Head => "REST.HEAD.OBJECT",
            ObjOp::Delete => "REST.DELETE.OBJECT",
        }
    }
}

/// One object request as both logs see it: a CloudTrail data event (when the trail selects the
/// bucket) and a server access log line (when the bucket has access logging).
#[derive(Debug, Clone)]
pub(crate) struct ObjReq<'a> {
    pub time_ms: i64,
    pub bucket: usize,
    pub who: &'a Who,
    pub ip: &'a str,
    pub ua: &'a str,
    pub op: ObjOp,
    pub key: &'a str,
    pub size: u64,
    /// HTTP status; 403 renders an AccessDenied in both logs.
    pub status: u16,
}

pub(crate) fn object_op(g: &mut Gen<'_>, r: &mut SimRng, q: &ObjReq<'_>, tag_: Tag) {
    let org = g.org;
    let b = &org.buckets[q.bucket];
    let acct = org.account_id(b.account).to_string();
    if b.data_events {
        let host = format!("{}.s3.{}.amazonaws.com", b.name, b.region);
        let out_bytes = if q.op == ObjOp::Get && q.status < 300 {
            q.size
        } else {
            0
        };
        let in_bytes = if q.op == ObjOp::Put { q.size } else { 0 };
        let mut call = CtCall::api(
            q.time_ms,
            q.who,
            "s3.amazonaws.com",
            q.op.event(),
            b.region,
            q.ip,
            q.ua,
            &acct,
        )
        .req(object(|o| {
            o.str("bucketName", &b.name)
                .str("Host", &host)
                .str("key", q.key);
        }))
        .extra(object(|o| {
            o.str("SignatureVersion", "SigV4")
                .str("CipherSuite", "TLS_AES_128_GCM_SHA256")
                .num("bytesTransferredIn", in_bytes as i64)
                .str("AuthenticationMethod", "AuthHeader")
                .str("x-amz-id-2", &r.alnum(56))
                .num("bytesTransferredOut", out_bytes as i64);
        }))
        .resource(
            format!("arn:aws:s3:::{}/{}", b.name, q.key),
            "",
            "AWS::S3::Object",
        )
        .resource(format!("arn:aws:s3:::{}", b.name), &acct, "AWS::S3::Bucket")
        .data();
        if q.status == 403 {
            call.error = ct::deny(
                q.who,
                &format!("s3:{}", q.op.event()),
                Some(&format!("arn:aws:s3:::{}/{}", b.name, q.key)),
            );
        }
        g.ct(r, &call, tag_);
    }
    if b.access_logged {
        let ok = q.status < 300;
        let req = S3Req {
            time_ms: q.time_ms,
            bucket: b,
            remote_ip: q.ip,
            requester: if q.who.arn.is_empty() {
                "-"
            } else {
                &q.who.arn
            },
            op: q.op.access_op(),
            key: q.key,
            query: "",
            status: q.status,
            error: match q.status {
                403 => "AccessDenied",
                404 => "NoSuchKey",
                _ => "",
            },
            bytes_sent: match q.op {
                ObjOp::Get if ok => Some(q.size),
                ObjOp::Put | ObjOp::Head | ObjOp::Delete if ok => None,
                _ => Some(243),
            },
            object_size: if q.op == ObjOp::Delete {
                None
            } else {
                Some(q.size)
            },
            total_ms: (8.0 + q.size as f64 / 40_000.0) as u64 + r.between(0, 30) as u64,
            user_agent: q.ua,
            auth: if q.who.arn.is_empty() {
                "-"
            } else {
                "AuthHeader"
            },
        };
        g.s3(r, q.bucket, &req, tag_);
    }
}

/// Public address of a VPC's NAT gateway (egress of private workloads).
fn nat_ip(org: &crate::simulate::org::Org, vpc: usize) -> String {
    org.vpcs[vpc]
        .enis
        .iter()
        .map(|e| &org.enis[*e])
        .find(|e| e.kind == EniKind::Nat)
        .and_then(|e| e.public_ip)
        .map_or_else(|| "3.91.0.1".to_string(), |i| i.to_string())
}

/// A plausible object key for a bucket kind.
pub(crate) fn object_key(r: &mut SimRng, kind: BucketKind, day_ms: i64) -> String {
    let c = crate::simulate::clock::civil(day_ms);
    match kind {
        BucketKind::Data => format!(
            "{}/{:04}/{:02}/{:02}/{}.json",
            r.pick(&["orders", "invoices", "customers", "events"]),
            c.y,
            c.mo,
            c.d,
            r.uuid()
        ),
        BucketKind::Assets => format!(
            "static/{}/{}.{}",
            r.pick(&["img", "css", "js"]),
            r.hex(12),
            r.pick(&["png", "css", "js", "svg"])
        ),
        BucketKind::Public => format!(
            "downloads/{}-v{}.{}.{}.{}",
            r.pick(&["agent", "cli", "sdk"]),
            r.between(1, 4),
            r.between(0, 20),
            r.between(0, 9),
            r.pick(&["tar.gz", "zip", "msi"])
        ),
        _ => format!("misc/{}", r.hex(16)),
    }
}

pub(super) fn hour(g: &mut Gen<'_>) {
    let org = g.org;
    let buckets: Vec<usize> = (0..org.buckets.len())
        .filter(|b| org.buckets[*b].account == g.account)
        .collect();
    let busy = if (12..23).contains(&g.utc_hour()) {
        1.3
    } else {
        0.6
    };
    for b in buckets {
        let kind = org.buckets[b].kind;
        let mut r = g.rng(&[tag("bucket"), b as u64]);
        match kind {
            BucketKind::Data | BucketKind::Assets => app_traffic(g, &mut r, b, busy),
            BucketKind::Public => public_downloads(g, &mut r, b, busy),
            _ => {}
        }
    }
}

/// Reads and writes by the account's ECS tasks and instances.
fn app_traffic(g: &mut Gen<'_>, r: &mut SimRng, b: usize, busy: f64) {
    let org = g.org;
    let kind = org.buckets[b].kind;
    let base = if kind == BucketKind::Data {
        100.0
    } else {
        30.0
    };
    let n = r.poisson(base * busy * g.scale);
    if n == 0 {
        return;
    }
    // Callers: one identity per ECS service and the instance role.
    let mut callers: Vec<(Who, String, &'static str)> = Vec::new();
    for (s, svc) in org
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.account == g.account)
    {
        let role = &org.roles[svc.task_role];
        let task = crate::simulate::rng::rng_for(
            g.sim.cfg.seed,
            &[tag("task-id"), s as u64, 0, g.day as u64],
        )
        .hex(32);
        // The same session (key and creation time) as the task's other calls this hour.
        let (key, created) = rotating_key(g.sim.cfg.seed, &task, 0, g.hour_ms, 6);
        let who = ct::assumed(
            role,
            &task,
            Session {
                access_key: &key,
                created_ms: created,
                mfa: false,
            },
            AssumedOpts::default(),
        );
        let ip = nat_ip(org, org.enis[svc.enis[0]].vpc);
        callers.push((who, ip, "aws-sdk-java/2.26.25 Linux/5.10.223-211.872.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.12+7-LTS Java/17.0.12 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy"));
    }
    if let Some(i) = org.instances.iter().position(|i| i.account == g.account) {
        let inst = &org.instances[i];
        let role = &org.roles[inst.role];
        let (key, created) = rotating_key(g.sim.cfg.seed, "instance", i as u64, g.hour_ms, 6);
        let who = ct::assumed(
            role,
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
        let eni = &org.enis[inst.eni];
        let ip = eni
            .public_ip
            .map_or_else(|| nat_ip(org, eni.vpc), |i| i.to_string());
        callers.push((who, ip, "aws-cli/2.17.59 md/awscrt#0.21.2 ua/2.0 os/linux#6.1.109-118.189.amzn2023.x86_64 md/arch#x86_64 lang/python#3.9.16 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#s3.cp"));
    }
    if callers.is_empty() {
        return;
    }
    for _ in 0..n {
        let t = g.hour_ms + r.random_range(0..HOUR);
        let (who, ip, ua) = &callers[r.index(callers.len())];
        let x = r.random::<f64>();
        let op = if kind == BucketKind::Assets {
            if x < 0.9 { ObjOp::Get } else { ObjOp::Head }
        } else if x < 0.55 {
            ObjOp::Get
        } else if x < 0.85 {
            ObjOp::Put
        } else if x < 0.97 {
            ObjOp::Head
        } else {
            ObjOp::Delete
        };
        let key = object_key(r, kind, t);
        let size = r.lognormal(40_000.0, 1.2) as u64 + 200;
        let status = if op == ObjOp::Get && r.chance(0.01) {
            404
        } else {
            200
        };
        let q = ObjReq {
            time_ms: t,
            bucket: b,
            who,
            ip,
            ua,
            op,
            key: &key,
            size,
            status,
        };
        object_op(g, r, &q, None);
    }
}

const PUBLIC_UAS: &[&str] = &[
    "curl/8.5.0",
    "Wget/1.21.4",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "python-requests/2.32.3",
];

/// Anonymous downloads from the public bucket: normal for that bucket only.
fn public_downloads(g: &mut Gen<'_>, r: &mut SimRng, b: usize, busy: f64) {
    let n = r.poisson(25.0 * busy * g.scale);
    let anon = ct::anonymous();
    for _ in 0..n {
        let t = g.hour_ms + r.random_range(0..HOUR);
        let net = r.pick(crate::simulate::catalog::CLIENT_NETS);
        let ip = format!(
            "{}.{}.{}.{}",
            net[0],
            net[1],
            r.between(0, 255),
            r.between(1, 254)
        );
        let key = object_key(r, BucketKind::Public, t);
        let op = if r.chance(0.85) {
            ObjOp::Get
        } else {
            ObjOp::Head
        };
        let status = if r.chance(0.04) { 404 } else { 200 };
        let size = r.lognormal(8_000_000.0, 0.8) as u64;
        let ua = *r.pick(PUBLIC_UAS);
        let q = ObjReq {
            time_ms: t,
            bucket: b,
            who: &anon,
            ip: &ip,
            ua,
            op,
            key: &key,
            size,
            status,
        };
        object_op(g, r, &q, None);
    }
}
