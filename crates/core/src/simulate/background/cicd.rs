//! The GitHub Actions deployment pipeline: OIDC federation, artifact upload, CloudFormation
//! change sets, and CloudFormation updating functions (and sometimes IAM roles) on its behalf.

use super::Gen;
use crate::simulate::clock::{DAY, HOUR, weekday};
use crate::simulate::ct::{self, AssumedOpts, CtCall, Session};
use crate::simulate::json::object;
use crate::simulate::org::BucketKind;
use crate::simulate::rng::{RngExt, SimRng, rng_for, tag};
use crate::simulate::s3log::S3Req;

/// A GitHub Actions deployment: OIDC federation, artifact upload, CloudFormation change set,
/// and CloudFormation updating functions on the pipeline's behalf. Also used by the benign
/// "CI/CD deploy touching IAM" scenario through [`deploy`].
pub(super) fn pipelines(g: &mut Gen<'_>) {
    let day_ms = g.sim.start_ms() + g.day * DAY;
    if weekday(day_ms) >= 5 {
        return;
    }
    let list: Vec<usize> = (0..g.org.pipelines.len())
        .filter(|i| g.org.pipelines[*i].account == g.account)
        .collect();
    for p in list {
        let mut dr = rng_for(g.sim.cfg.seed, &[tag("deploys"), p as u64, g.day as u64]);
        let n = dr.poisson(2.5 * g.scale.max(0.01).sqrt());
        for k in 0..n {
            let t = day_ms + 14 * HOUR + dr.between(0, 9 * HOUR);
            if t < g.hour_ms || t >= g.hour_ms + HOUR {
                continue;
            }
            let mut r = g.rng(&[tag("deploy"), p as u64, k]);
            deploy(g, &mut r, p, t, false, None);
        }
    }
}

/// Emits one deployment of pipeline `p` at `t`; `iam` adds IAM role updates (the benign
/// look-alike of privilege escalation). Returns the session's principal ARN.
pub(crate) fn deploy(
    g: &mut Gen<'_>,
    r: &mut SimRng,
    p: usize,
    t: i64,
    iam: bool,
    tag_: crate::simulate::emit::Tag,
) -> String {
    let org = g.org;
    let pl = org.pipelines[p].clone();
    let role = org.roles[pl.role].clone();
    let acct = org.account_id(pl.account).to_string();
    let region = org.accounts[pl.account].regions[0];
    let ip = {
        let n = r.pick(crate::simulate::catalog::GITHUB_NETS);
        format!(
            "{}.{}.{}.{}",
            n[0],
            n[1],
            r.between(0, 255),
            r.between(1, 254)
        )
    };
    let run = r.between(8_000_000_000, 9_999_999_999);
    let session = format!("GitHubActions-{run}");
    let subject = format!("repo:{}:ref:refs/heads/main", pl.repo);
    let key = format!("ASIA{}", r.upper_id(16));
    let gh_ua = "aws-sdk-js/3.637.0 ua/2.1 os/linux#6.5.0-1025-azure lang/js md/nodejs#20.17.0 api/sts#3.637.0 configure-aws-credentials-for-github-actions";
    let web = ct::web_identity_user(&pl.provider_arn, &subject);
    let arn = role.arn();
    let call = CtCall::api(
        t,
        &web,
        "sts.amazonaws.com",
        "AssumeRoleWithWebIdentity",
        region,
        &ip,
        gh_ua,
        &acct,
    )
    .req(object(|o| {
        o.str("roleArn", &arn)
            .str("roleSessionName", &session)
            .num("durationSeconds", 3600);
    }))
    .resp(object(|o| {
        o.obj("credentials", |c| {
            c.str("accessKeyId", &key)
                .str("expiration", &crate::simulate::clock::ct_time(t + HOUR));
        })
        .str("subjectFromWebIdentityToken", &subject)
        .obj("assumedRoleUser", |u| {
            u.str("assumedRoleId", &format!("{}:{session}", role.role_id))
                .str("arn", &role.session_arn(&session));
        })
        .str("provider", &pl.provider_arn)
        .str("audience", "sts.amazonaws.com");
    }))
    .resource(arn.clone(), &acct, "AWS::IAM::Role");
    g.ct(r, &call, tag_);
    let s = Session {
        access_key: &key,
        created_ms: t,
        mfa: false,
    };
    let who = ct::assumed(
        &role,
        &session,
        s,
        AssumedOpts {
            web_identity: Some(&pl.provider_arn),
            ..AssumedOpts::default()
        },
    );
    let cfn = ct::assumed(
        &role,
        &session,
        s,
        AssumedOpts {
            web_identity: Some(&pl.provider_arn),
            invoked_by: Some("cloudformation.amazonaws.com"),
            ..AssumedOpts::default()
        },
    );
    let cli = |cmd: &str| {
        format!(
            "aws-cli/2.18.2 md/awscrt#0.21.5 ua/2.0 os/linux#6.5.0-1025-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#{cmd}"
        )
    };
    let mut now = t + r.between(2_000, 8_000);
    let mut step = |r: &mut SimRng| {
        now += r.between(1_000, 20_000);
        now
    };
    let t1 = step(r);
    g.ct(
        r,
        &CtCall::api(
            t1,
            &who,
            "sts.amazonaws.com",
            "GetCallerIdentity",
            region,
            &ip,
            &cli("sts.get-caller-identity"),
            &acct,
        ),
        tag_,
    );
    // Upload the build artifact (access log on the artifacts bucket).
    if let Some(b) = org.bucket_of(pl.account, BucketKind::Artifacts) {
        let tk = step(r);
        let key_name = format!("builds/{}/{run}.zip", pl.repo.replace('/', "-"));
        let arn_s = role.session_arn(&session);
        let req = S3Req {
            time_ms: tk,
            bucket: &org.buckets[b],
            remote_ip: &ip,
            requester: &arn_s,
            op: "REST.PUT.OBJECT",
            key: &key_name,
            query: "",
            status: 200,
            error: "",
            bytes_sent: None,
            object_size: Some(r.between(2_000_000, 40_000_000) as u64),
            total_ms: r.between(200, 3000) as u64,
            user_agent: &cli("s3.cp"),
            auth: "AuthHeader",
        };
        g.s3(r, b, &req, tag_);
    }
    let stack = pl.stack.clone();
    let cs = format!("deploy-{run}");
    let t2 = step(r);
    g.ct(
        r,
        &CtCall::api(
            t2,
            &who,
            "cloudformation.amazonaws.com",
            "CreateChangeSet",
            region,
            &ip,
            &cli("cloudformation.deploy"),
            &acct,
        )
        .req(object(|o| {
            o.str("stackName", &stack)
                .str("changeSetName", &cs)
                .str("changeSetType", "UPDATE")
                .strs("capabilities", &["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]);
        })),
        tag_,
    );
    for _ in 0..3 {
        let tt = step(r);
        g.ct(
            r,
            &CtCall::api(
                tt,
                &who,
                "cloudformation.amazonaws.com",
                "DescribeChangeSet",
                region,
                &ip,
                &cli("cloudformation.deploy"),
                &acct,
            )
            .req(object(|o| {
                o.str("stackName", &stack).str("changeSetName", &cs);
            })),
            tag_,
        );
    }
    let t3 = step(r);
    g.ct(
        r,
        &CtCall::api(
            t3,
            &who,
            "cloudformation.amazonaws.com",
            "ExecuteChangeSet",
            region,
            &ip,
            &cli("cloudformation.deploy"),
            &acct,
        )
        .req(object(|o| {
            o.str("stackName", &stack).str("changeSetName", &cs);
        })),
        tag_,
    );
    let fns = pl.functions.clone();
    let k = 1 + r.index(fns.len().clamp(1, 3));
    for fi in fns.iter().take(k) {
        let f = org.functions[*fi].clone();
        let tt = step(r);
        let fa = format!("arn:aws:lambda:{region}:{acct}:function:{}", f.name);
        let call = CtCall::api(
            tt,
            &cfn,
            "lambda.amazonaws.com",
            "UpdateFunctionCode20150331v2",
            region,
            "cloudformation.amazonaws.com",
            "cloudformation.amazonaws.com",
            &acct,
        )
        .req(object(|o| {
            o.str("functionName", &f.name)
                .str("s3Bucket", &format!("cdk-assets-{acct}-{region}"))
                .str("s3Key", &format!("{}.zip", r.hex(64)));
        }))
        .resp(object(|o| {
            o.str("functionName", &f.name)
                .str("functionArn", &fa)
                .str("lastUpdateStatus", "InProgress");
        }));
        g.ct(r, &call, tag_);
    }
    if iam {
        // The stack also updates the functions' execution roles: IAM writes by the pipeline.
        for fi in fns.iter().take(2) {
            let f = org.functions[*fi].clone();
            let fr = org.roles[f.role].clone();
            let b = org
                .bucket_of(pl.account, BucketKind::Data)
                .map(|b| org.buckets[b].name.clone())
                .unwrap_or_default();
            let tt = step(r);
            let call = CtCall::api(tt, &cfn, "iam.amazonaws.com", "PutRolePolicy", "us-east-1", "cloudformation.amazonaws.com", "cloudformation.amazonaws.com", &acct)
                .req(object(|o| {
                    o.str("roleName", &fr.name).str("policyName", "DataAccess").str(
                        "policyDocument",
                        &format!(r#"{{"Version":"2012-10-17","Statement":[{{"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::{b}/*","Effect":"Allow"}}]}}"#),
                    );
                }));
            g.ct(r, &call, tag_);
            let tt = step(r);
            let call = CtCall::api(
                tt,
                &cfn,
                "iam.amazonaws.com",
                "AttachRolePolicy",
                "us-east-1",
                "cloudformation.amazonaws.com",
                "cloudformation.amazonaws.com",
                &acct,
            )
            .req(object(|o| {
                o.str("roleName", &fr.name).str(
                    "policyArn",
                    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                );
            }));
            g.ct(r, &call, tag_);
        }
        let tt = step(r);
        let new_role = format!("{}-events-processor-role", org.accounts[pl.account].env);
        let call = CtCall::api(tt, &cfn, "iam.amazonaws.com", "CreateRole", "us-east-1", "cloudformation.amazonaws.com", "cloudformation.amazonaws.com", &acct)
            .req(object(|o| {
                o.str("roleName", &new_role).str(
                    "assumeRolePolicyDocument",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                );
            }))
            .resp(object(|o| {
                o.obj("role", |x| {
                    x.str("path", "/").str("roleName", &new_role).str("roleId", &format!("AROA{}", r.upper_id(17))).str("arn", &format!("arn:aws:iam::{acct}:role/{new_role}"));
                });
            }));
        g.ct(r, &call, tag_);
    }
    for _ in 0..4 {
        let tt = step(r);
        g.ct(
            r,
            &CtCall::api(
                tt,
                &who,
                "cloudformation.amazonaws.com",
                "DescribeStacks",
                region,
                &ip,
                &cli("cloudformation.deploy"),
                &acct,
            )
            .req(object(|o| {
                o.str("stackName", &stack);
            })),
            tag_,
        );
    }
    role.session_arn(&session)
}
