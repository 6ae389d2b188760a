//! Operations: AWS Backup's nightly snapshots (with the weekly copy to the organization's vault
//! account) and the reporting job that uses an IAM user's long-term key from the office.

use super::Gen;
use crate::simulate::clock::{MINUTE, weekday};
use crate::simulate::ct::{self, AssumedOpts, CtCall, Session};
use crate::simulate::json::object;
use crate::simulate::org::BucketKind;
use crate::simulate::rng::{RngExt, rng_for, tag};
use crate::simulate::s3log::S3Req;
use crate::simulate::scenarios::BgFeature;

/// AWS Backup: nightly EBS and RDS snapshots; on the weekly vault night (and on the labelled
/// night) a copy is shared with the security account's vault, all inside the organization.
pub(super) fn backup(g: &mut Gen<'_>) {
    if g.utc_hour() != 3 {
        return;
    }
    let labelled = g.bg_tag(BgFeature::Backup);
    let vault_night = g.day % 7 == 6 || labelled.is_some();
    let org = g.org;
    // Copies land in the security account's trail.
    if g.account == org.security {
        if !vault_night {
            return;
        }
        let who = ct::service("backup.amazonaws.com");
        let acct = org.account_id(org.security).to_string();
        let region = org.primary_region;
        let list: Vec<usize> = (0..org.instances.len()).collect();
        for i in list {
            let mut r = g.rng(&[tag("vault-copy"), i as u64]);
            let src = rng_for(g.sim.cfg.seed, &[tag("snapshot"), i as u64, g.day as u64]).hex(16);
            let t = g.hour_ms + 40 * MINUTE + r.between(0, 15 * MINUTE);
            let src_region = org.instances[i].region;
            let call = CtCall::api(
                t,
                &who,
                "ec2.amazonaws.com",
                "CopySnapshot",
                region,
                "backup.amazonaws.com",
                "backup.amazonaws.com",
                &acct,
            )
            .req(object(|o| {
                o.str("sourceSnapshotId", &format!("snap-0{src}"))
                    .str("sourceRegion", src_region)
                    .str(
                        "description",
                        "Copied by AWS Backup to the organization vault",
                    )
                    .bool("encrypted", true);
            }))
            .resp(format!(r#"{{"snapshotId":"snap-0{}"}}"#, r.hex(16)));
            g.ct(&mut r, &call, labelled);
        }
        return;
    }
    let Some(&(_, role_idx)) = org.backup_roles.iter().find(|(a, _)| *a == g.account) else {
        return;
    };
    let role = org.roles[role_idx].clone();
    let acct = org.account_id(g.account).to_string();
    let mut r = g.rng(&[tag("backup")]);
    let key = format!("ASIA{}", r.upper_id(16));
    let session = "AWSBackup-AWSBackupDefaultServiceRole";
    let who = ct::assumed(
        &role,
        session,
        Session {
            access_key: &key,
            created_ms: g.hour_ms,
            mfa: false,
        },
        AssumedOpts {
            invoked_by: Some("backup.amazonaws.com"),
            ..AssumedOpts::default()
        },
    );
    let sec_id = org.account_id(org.security).to_string();
    let list: Vec<usize> = (0..org.instances.len())
        .filter(|i| org.instances[*i].account == g.account)
        .collect();
    for i in list {
        let inst = org.instances[i].clone();
        let snap = rng_for(g.sim.cfg.seed, &[tag("snapshot"), i as u64, g.day as u64]).hex(16);
        let t = g.hour_ms + r.between(0, 30 * MINUTE);
        let call = CtCall::api(
            t,
            &who,
            "ec2.amazonaws.com",
            "CreateSnapshot",
            inst.region,
            "backup.amazonaws.com",
            "backup.amazonaws.com",
            &acct,
        )
        .req(object(|o| {
            o.str("volumeId", &inst.volume).str(
                "description",
                &format!(
                    "This snapshot is created by the AWS Backup service. job-{}",
                    r.uuid()
                ),
            );
        }))
        .resp(object(|o| {
            o.str("snapshotId", &format!("snap-0{snap}"))
                .str("volumeId", &inst.volume)
                .str("status", "pending")
                .num("volumeSize", 50);
        }));
        g.ct(&mut r, &call, labelled);
        if vault_night {
            let t = t + r.between(5 * MINUTE, 20 * MINUTE);
            let call = CtCall::api(t, &who, "ec2.amazonaws.com", "ModifySnapshotAttribute", inst.region, "backup.amazonaws.com", "backup.amazonaws.com", &acct)
                .req(format!(
                    r#"{{"snapshotId":"snap-0{snap}","createVolumePermission":{{"add":{{"items":[{{"userId":"{sec_id}"}}]}}}},"attributeType":"CREATE_VOLUME_PERMISSION"}}"#
                ))
                .resp(r#"{"_return":true}"#.to_string());
            g.ct(&mut r, &call, labelled);
        }
    }
    let account = g.account;
    for d in org.databases.iter().filter(|d| d.account == account) {
        let t = g.hour_ms + r.between(0, 30 * MINUTE);
        let snap = format!("awsbackup:job-{}", r.uuid());
        let call = CtCall::api(
            t,
            &who,
            "rds.amazonaws.com",
            "CreateDBSnapshot",
            d.region,
            "backup.amazonaws.com",
            "backup.amazonaws.com",
            &acct,
        )
        .req(object(|o| {
            o.str("dBSnapshotIdentifier", &snap)
                .str("dBInstanceIdentifier", &d.id);
        }));
        g.ct(&mut r, &call, labelled);
    }
}

/// The reporting job: a cron on an office server using the `svc-reporting` user's access key,
/// hourly in office hours, always from the same address with the same agent.
pub(super) fn reporting_job(g: &mut Gen<'_>) {
    let org = g.org;
    let Some(user) = org.service_users.get(org.reporting_user) else {
        return;
    };
    if user.account != g.account {
        return;
    }
    let office = &org.offices[0];
    let local_h = (g.utc_hour() * 60 + i64::from(office.def.tz_min)).rem_euclid(24 * 60) / 60;
    let local_day_ms = g.hour_ms + i64::from(office.def.tz_min) * MINUTE;
    if !(7..19).contains(&local_h) || weekday(local_day_ms) >= 5 {
        return;
    }
    let mut r = g.rng(&[tag("reporting")]);
    let who = ct::iam_user(user, None);
    let ip = office.ips[0].to_string();
    let ua = "Boto3/1.26.137 Python/3.9.16 Linux/4.14.355-196.647.amzn2.x86_64 Botocore/1.29.137";
    let acct = user.account_id.clone();
    let region = org.accounts[g.account].regions[0];
    let mut t = g.hour_ms + 5 * MINUTE + r.between(0, 30_000);
    let calls: [(&str, &str, Option<&str>); 6] = [
        ("sts.amazonaws.com", "GetCallerIdentity", None),
        (
            "ec2.amazonaws.com",
            "DescribeInstances",
            Some(r#"{"instancesSet":{},"filterSet":{}}"#),
        ),
        ("rds.amazonaws.com", "DescribeDBInstances", None),
        (
            "monitoring.amazonaws.com",
            "GetMetricStatistics",
            Some(
                r#"{"namespace":"AWS/EC2","metricName":"CPUUtilization","period":3600,"statistics":["Average"]}"#,
            ),
        ),
        (
            "monitoring.amazonaws.com",
            "GetMetricStatistics",
            Some(
                r#"{"namespace":"AWS/RDS","metricName":"DatabaseConnections","period":3600,"statistics":["Maximum"]}"#,
            ),
        ),
        (
            "ce.amazonaws.com",
            "GetCostAndUsage",
            Some(r#"{"granularity":"DAILY","metrics":["UnblendedCost"]}"#),
        ),
    ];
    for (src, name, req) in calls {
        t += r.between(300, 2000);
        let region = if src == "ce.amazonaws.com" {
            "us-east-1"
        } else {
            region
        };
        let mut call = CtCall::api(t, &who, src, name, region, &ip, ua, &acct);
        call.request = req.map(str::to_string);
        g.ct(&mut r, &call, None);
    }
    if let Some(b) = org.bucket_of(g.account, BucketKind::Artifacts) {
        t += r.between(500, 3000);
        let key = format!(
            "reports/hourly/{}.csv",
            crate::simulate::clock::s3_key_time(g.hour_ms)
        );
        let arn = user.arn();
        let req = S3Req {
            time_ms: t,
            bucket: &org.buckets[b],
            remote_ip: &ip,
            requester: &arn,
            op: "REST.PUT.OBJECT",
            key: &key,
            query: "",
            status: 200,
            error: "",
            bytes_sent: None,
            object_size: Some(r.between(20_000, 90_000) as u64),
            total_ms: r.between(40, 300) as u64,
            user_agent: ua,
            auth: "AuthHeader",
        };
        g.s3(&mut r, b, &req, None);
    }
}
