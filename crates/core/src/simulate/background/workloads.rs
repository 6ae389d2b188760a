//! Machine identities: EC2 instance profiles, Lambda execution roles and ECS task roles (the
//! deployment pipeline is in `cicd`, the backup and the reporting job in `ops`). They are the
//! bulk of a real trail and the most regular part of it.

use rand::Rng;

use super::Gen;
use crate::simulate::clock::{HOUR, MINUTE};
use crate::simulate::ct::{self, AssumedOpts, CtCall, Session, Who};
use crate::simulate::json::{object, quote};
use crate::simulate::org::{EniKind, Role, Runtime};
use crate::simulate::rng::{RngExt, SimRng, rng_for, tag};
use crate::simulate::scenarios::BgFeature;

pub(super) fn hour(g: &mut Gen<'_>) {
    instances(g);
    functions(g);
    ecs(g);
    super::cicd::pipelines(g);
    super::ops::backup(g);
    super::ops::reporting_job(g);
}

/// Rate multiplier per entity: entity counts already grew with √scale.
fn per_entity(g: &Gen<'_>) -> f64 {
    g.scale.max(0.01).sqrt()
}

/// More traffic in the org's business hours (UTC afternoon/evening covers EU and US).
fn diurnal(g: &Gen<'_>) -> f64 {
    if (12..23).contains(&g.utc_hour()) {
        1.3
    } else {
        0.6
    }
}

/// The session credentials an AWS service hands a workload: rotated every `period` hours.
pub(crate) fn rotating_key(seed: u64, what: &str, id: u64, t: i64, period_h: i64) -> (String, i64) {
    let period = t.div_euclid(period_h * HOUR);
    let mut r = rng_for(seed, &[tag("rotating-key"), tag(what), id, period as u64]);
    (
        format!("ASIA{}", r.upper_id(16)),
        period * period_h * HOUR + r.between(0, 5 * MINUTE),
    )
}

/// `AssumeRole` made by an AWS service on behalf of a workload (instance profile delivery,
/// Lambda cold start, ECS task start).
pub(crate) fn service_assume_role(
    g: &mut Gen<'_>,
    r: &mut SimRng,
    t: i64,
    svc: &str,
    role: &Role,
    session: &str,
    key: &str,
) {
    let who = ct::service(svc);
    let acct = role.account_id.clone();
    let arn = role.arn();
    let expiration = t + 6 * HOUR;
    let req = object(|o| {
        o.str("roleArn", &arn).str("roleSessionName", session);
    });
    let resp = object(|o| {
        o.obj("credentials", |c| {
            c.str("accessKeyId", key)
                .str("sessionToken", "IQoJb3JpZ2luX2VjEXAMPLE")
                .str("expiration", &crate::simulate::clock::ct_time(expiration));
        })
        .obj("assumedRoleUser", |u| {
            u.str("assumedRoleId", &format!("{}:{session}", role.role_id))
                .str("arn", &role.session_arn(session));
        });
    });
    let region = g.org.accounts[g.account].regions[0];
    let mut call = CtCall::api(
        t,
        &who,
        "sts.amazonaws.com",
        "AssumeRole",
        region,
        svc,
        svc,
        &acct,
    )
    .req(req)
    .resp(resp)
    .resource(arn, &acct, "AWS::IAM::Role");
    call.shared_event_id = Some(r.uuid());
    call.tls = false;
    g.ct(r, &call, None);
}

fn kms_decrypt(g: &Gen<'_>, r: &mut SimRng, context: &str) -> (String, String) {
    let keys: Vec<_> = g
        .org
        .keys
        .iter()
        .filter(|k| k.account == g.account)
        .collect();
    let key = keys
        .get(r.index(keys.len()))
        .map(|k| (k.id.clone(), k.region))
        .unwrap_or_default();
    let arn = format!(
        "arn:aws:kms:{}:{}:key/{}",
        key.1,
        g.org.account_id(g.account),
        key.0
    );
    let req = format!(
        r#"{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","encryptionContext":{{"app":{}}}}}"#,
        quote(context)
    );
    (req, arn)
}

/// One ordinary call from a workload: KMS, Secrets Manager, Parameter Store or STS.
fn workload_call(
    g: &mut Gen<'_>,
    r: &mut SimRng,
    t: i64,
    who: &Who,
    ip: &str,
    ua: &str,
    app: &str,
) {
    let acct = g.org.account_id(g.account).to_string();
    let region = g.org.accounts[g.account].regions[0];
    let env = g.org.accounts[g.account].env.clone();
    let x = r.random::<f64>();
    let call = if x < 0.5 {
        let (req, arn) = kms_decrypt(g, r, app);
        CtCall::api(
            t,
            who,
            "kms.amazonaws.com",
            "Decrypt",
            region,
            ip,
            ua,
            &acct,
        )
        .req(req)
        .resource(arn, &acct, "AWS::KMS::Key")
    } else if x < 0.7 {
        let id = format!(
            "arn:aws:secretsmanager:{region}:{acct}:secret:{env}/{app}/db-credentials-{}",
            &r.alnum(6)
        );
        CtCall::api(
            t,
            who,
            "secretsmanager.amazonaws.com",
            "GetSecretValue",
            region,
            ip,
            ua,
            &acct,
        )
        .req(object(|o| {
            o.str("secretId", &id);
        }))
    } else if x < 0.9 {
        CtCall::api(
            t,
            who,
            "ssm.amazonaws.com",
            "GetParameters",
            region,
            ip,
            ua,
            &acct,
        )
        .req(object(|o| {
            o.strs(
                "names",
                &[
                    format!("/{env}/{app}/config"),
                    format!("/{env}/{app}/feature-flags"),
                ],
            )
            .bool("withDecryption", true);
        }))
    } else {
        CtCall::api(
            t,
            who,
            "sts.amazonaws.com",
            "GetCallerIdentity",
            region,
            ip,
            ua,
            &acct,
        )
    };
    g.ct(r, &call, None);
}

fn nat_ip(g: &Gen<'_>, vpc: usize) -> String {
    g.org.vpcs[vpc]
        .enis
        .iter()
        .map(|e| &g.org.enis[*e])
        .find(|e| e.kind == EniKind::Nat)
        .and_then(|e| e.public_ip)
        .map_or_else(|| "3.91.0.1".to_string(), |ip| ip.to_string())
}

fn instances(g: &mut Gen<'_>) {
    let seed = g.sim.cfg.seed;
    let rate = per_entity(g) * diurnal(g);
    let list: Vec<usize> = (0..g.org.instances.len())
        .filter(|i| g.org.instances[*i].account == g.account)
        .collect();
    for i in list {
        let inst = g.org.instances[i].clone();
        let mut r = g.rng(&[tag("instance"), i as u64]);
        let eni = g.org.enis[inst.eni].clone();
        let ip = eni
            .public_ip
            .map_or_else(|| nat_ip(g, eni.vpc), |p| p.to_string());
        let role = g.org.roles[inst.role].clone();
        // Instance profile credentials rotate every six hours; EC2 assumes the role for it.
        let phase = (i as i64) % 6;
        if g.utc_hour() % 6 == phase {
            let t = g.hour_ms + r.between(0, 4 * MINUTE);
            let (key, _) = rotating_key(seed, "instance", i as u64, t + 5 * MINUTE, 6);
            service_assume_role(g, &mut r, t, "ec2.amazonaws.com", &role, &inst.id, &key);
        }
        let (key, created) = rotating_key(seed, "instance", i as u64, g.hour_ms, 6);
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
        let acct = g.org.account_id(g.account).to_string();
        // SSM agent heartbeat every five minutes.
        let offset = r.between(0, 4 * MINUTE + 59_000);
        let az = crate::simulate::catalog::az_id(inst.region, eni.az);
        let ssm_req = object(|o| {
            o.str("instanceId", &inst.id)
                .str("agentVersion", "3.3.987.0")
                .str("agentStatus", "Active")
                .str("platformType", "Linux")
                .str("platformName", "Amazon Linux")
                .str("platformVersion", "2023")
                .str("iPAddress", &eni.private_ip.to_string())
                .str(
                    "computerName",
                    &host_name(&eni.private_ip.to_string(), inst.region),
                )
                .str("agentName", "amazon-ssm-agent")
                .str(
                    "availabilityZone",
                    &format!("{}{}", inst.region, ["a", "b", "c"][eni.az % 3]),
                )
                .str("availabilityZoneId", &az);
        });
        for k in 0..12 {
            let t = g.hour_ms + k * 5 * MINUTE + offset + r.between(-3000, 3000);
            let mut call = CtCall::api(
                t,
                &who,
                "ssm.amazonaws.com",
                "UpdateInstanceInformation",
                inst.region,
                &ip,
                crate::simulate::catalog::SSM_AGENT_UA,
                &acct,
            )
            .req(ssm_req.clone());
            call.read_only = Some(false);
            g.ct(&mut r, &call, None);
        }
        let n = r.poisson(14.0 * rate);
        let ua = "aws-sdk-java/2.26.25 Linux/6.1.109-118.189.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/21.0.4+7-LTS Java/21.0.4 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy";
        for _ in 0..n {
            let t = g.hour_ms + r.random_range(0..HOUR);
            workload_call(g, &mut r, t, &who, &ip, ua, "app");
        }
    }
}

/// The private DNS name EC2 gives an instance (`ec2.internal` only in us-east-1).
fn host_name(ip: &str, region: &str) -> String {
    let ip = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ip-{ip}.ec2.internal")
    } else {
        format!("ip-{ip}.{region}.compute.internal")
    }
}

fn lambda_ua(rt: Runtime, api: &str) -> String {
    match rt {
        Runtime::Node => format!("aws-sdk-js/3.637.0 ua/2.1 os/linux#5.10.224-234.876.amzn2.x86_64 lang/js md/nodejs#20.17.0 api/{api}#3.637.0 exec-env/AWS_Lambda_nodejs20.x"),
        Runtime::Python => "Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.224-234.876.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.5 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.145".to_string(),
        Runtime::Java => "aws-sdk-java/2.26.25 Linux/5.10.224-234.876.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.4+7-LTS Java/21.0.4 vendor/Amazon.com_Inc. exec-env/AWS_Lambda_java21 io/sync http/UrlConnection cfg/retry-mode/legacy".to_string(),
        Runtime::Go => format!("aws-sdk-go-v2/1.30.4 os/linux lang/go#1.22.6 md/GOOS#linux md/GOARCH#amd64 api/{api}#1.35.5 exec-env/AWS_Lambda_provided.al2023"),
    }
}

fn functions(g: &mut Gen<'_>) {
    let seed = g.sim.cfg.seed;
    let rate = per_entity(g) * diurnal(g);
    let list: Vec<usize> = (0..g.org.functions.len())
        .filter(|i| g.org.functions[*i].account == g.account)
        .collect();
    for i in list {
        let f = g.org.functions[i].clone();
        if g.day < i64::from(f.start_day) {
            continue;
        }
        let adoption_tag = if f.start_day > 0 && g.day == i64::from(f.start_day) {
            g.bg_tag(BgFeature::Adoption)
        } else {
            None
        };
        let mut r = g.rng(&[tag("function"), i as u64]);
        let role = g.org.roles[f.role].clone();
        let (key, created) = rotating_key(seed, "function", i as u64, g.hour_ms, 2);
        let ip = f.egress_ip.to_string();
        let bedrock = f.name.ends_with("ticket-summarizer");
        // Cold starts: Lambda assumes the execution role.
        let cold = r.poisson(0.8 * rate);
        for _ in 0..cold {
            let t = g.hour_ms + r.random_range(0..HOUR);
            let who = ct::service("lambda.amazonaws.com");
            let _ = who;
            service_assume_role(g, &mut r, t, "lambda.amazonaws.com", &role, &f.name, &key);
        }
        let who = ct::assumed(
            &role,
            &f.name,
            Session {
                access_key: &key,
                created_ms: created,
                mfa: false,
            },
            AssumedOpts::default(),
        );
        let n = r.poisson(2.5 * f.rate * rate);
        let app = f.name.split('-').nth(1).unwrap_or("app").to_string();
        for _ in 0..n {
            let t = g.hour_ms + r.random_range(0..HOUR);
            if bedrock && r.chance(0.7) {
                let acct = g.org.account_id(g.account).to_string();
                let model = "anthropic.claude-3-haiku-20240307-v1:0";
                let ua = lambda_ua(f.runtime, "bedrock-runtime");
                let call = CtCall::api(
                    t,
                    &who,
                    "bedrock.amazonaws.com",
                    "InvokeModel",
                    f.region,
                    &ip,
                    &ua,
                    &acct,
                )
                .req(object(|o| {
                    o.str("modelId", model);
                }))
                .resource(
                    format!("arn:aws:bedrock:{}::foundation-model/{model}", f.region),
                    &acct,
                    "AWS::Bedrock::Model",
                );
                g.ct(&mut r, &call, adoption_tag);
            } else {
                let ua = lambda_ua(f.runtime, "kms");
                workload_call(g, &mut r, t, &who, &ip, &ua, &app);
            }
        }
    }
}

fn ecs(g: &mut Gen<'_>) {
    let seed = g.sim.cfg.seed;
    let rate = per_entity(g) * diurnal(g);
    let list: Vec<usize> = (0..g.org.services.len())
        .filter(|i| g.org.services[*i].account == g.account)
        .collect();
    for s in list {
        let svc = g.org.services[s].clone();
        let role = g.org.roles[svc.task_role].clone();
        let vpc = g.org.enis[svc.enis[0]].vpc;
        let ip = nat_ip(g, vpc);
        let go = s % 2 == 0;
        let ua = if go {
            "aws-sdk-go-v2/1.30.4 os/linux lang/go#1.22.6 md/GOOS#linux md/GOARCH#amd64 api/kms#1.35.5"
        } else {
            "aws-sdk-java/2.26.25 Linux/5.10.223-211.872.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.12+7-LTS Java/17.0.12 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy"
        };
        for (slot, _) in svc.enis.iter().enumerate() {
            let mut r = g.rng(&[tag("task"), s as u64, slot as u64]);
            // Tasks are replaced every day at deployment time; the task id names the session.
            let task_id =
                rng_for(seed, &[tag("task-id"), s as u64, slot as u64, g.day as u64]).hex(32);
            let (key, created) = rotating_key(seed, &task_id, slot as u64, g.hour_ms, 6);
            if g.utc_hour() % 6 == 0 {
                let t = g.hour_ms + r.between(0, 2 * MINUTE);
                service_assume_role(
                    g,
                    &mut r,
                    t,
                    "ecs-tasks.amazonaws.com",
                    &role,
                    &task_id,
                    &key,
                );
            }
            let who = ct::assumed(
                &role,
                &task_id,
                Session {
                    access_key: &key,
                    created_ms: created,
                    mfa: false,
                },
                AssumedOpts::default(),
            );
            let n = r.poisson(16.0 * rate);
            for _ in 0..n {
                let t = g.hour_ms + r.random_range(0..HOUR);
                workload_call(g, &mut r, t, &who, &ip, ua, &svc.name.replace("-svc", ""));
            }
        }
    }
}
