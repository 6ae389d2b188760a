//! Privilege escalation through IAM: the classic paths (policy versions, self-attached admin,
//! inline policies, PassRole to a new function, login profiles, trust policy rewrites).

use super::{Actor, Ctx};
use crate::simulate::catalog::ATTACKER_UAS;
use crate::simulate::clock::MINUTE;
use crate::simulate::ct::{self, AssumedOpts, CtCall, Session};
use crate::simulate::json::object;
use crate::simulate::org::IamUser;
use crate::simulate::rng::RngExt;

pub(super) const ADMIN_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
pub(super) const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// The legacy IAM users (people with long-term keys), the usual victims of key theft.
fn legacy_user(c: &mut Ctx<'_>, which: usize) -> Option<IamUser> {
    let users: Vec<IamUser> = c.org.humans.iter().filter_map(|h| h.iam.clone()).collect();
    if users.is_empty() {
        None
    } else {
        Some(users[which % users.len()].clone())
    }
}

fn user_req(name: &str) -> String {
    object(|o| {
        o.str("userName", name);
    })
}

/// A stolen key; the attacker inspects its own permissions, then makes a new default version
/// of the customer managed policy attached to the user with `*:*`.
pub(super) fn policy_version(c: &mut Ctx<'_>) {
    let Some(user) = legacy_user(c, 1) else {
        return;
    };
    let ip = c.attacker_ip();
    let a = c.actor(
        user.account,
        ct::iam_user(&user, None),
        &ip,
        ATTACKER_UAS[0],
    );
    let policy = format!("arn:aws:iam::{}:policy/developer-access", user.account_id);
    c.resource(&policy);
    c.emit(&a, c.call(&a, "sts.amazonaws.com", "GetCallerIdentity"));
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "GetUser")
            .req(user_req(&user.name)),
    );
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "ListAttachedUserPolicies")
            .req(user_req(&user.name)),
    );
    let preq = object(|o| {
        o.str("policyArn", &policy);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "GetPolicy")
            .req(preq.clone()),
    );
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "ListPolicyVersions")
            .req(preq),
    );
    let req = object(|o| {
        o.str("policyArn", &policy)
            .str("policyDocument", ADMIN_POLICY)
            .bool("setAsDefault", true);
    });
    let resp = object(|o| {
        o.obj("policyVersion", |v| {
            v.str("versionId", "v4")
                .bool("isDefaultVersion", true)
                .str("createDate", "Oct 12, 2026, 1:14:07 AM");
        });
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "CreatePolicyVersion")
            .req(req)
            .resp(resp),
    );
    c.step(MINUTE, 5 * MINUTE);
    for (src, name) in [
        ("iam.amazonaws.com", "GetAccountAuthorizationDetails"),
        ("iam.amazonaws.com", "ListUsers"),
        ("secretsmanager.amazonaws.com", "ListSecrets"),
        ("s3.amazonaws.com", "ListBuckets"),
    ] {
        c.emit(&a, c.call(&a, src, name));
    }
}

/// The leaked reporting key attaches AdministratorAccess to its own user.
pub(super) fn attach_admin_self(c: &mut Ctx<'_>) {
    let org = c.org;
    let user = org.service_users[org.reporting_user].clone();
    let ip = c.attacker_ip();
    let a = c.actor(
        user.account,
        ct::iam_user(&user, None),
        &ip,
        ATTACKER_UAS[1],
    );
    c.resource(&user.arn());
    c.emit(&a, c.call(&a, "sts.amazonaws.com", "GetCallerIdentity"));
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "ListAttachedUserPolicies")
            .req(user_req(&user.name))
            .denied(),
    );
    let req = object(|o| {
        o.str("userName", &user.name).str("policyArn", ADMIN_ARN);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "AttachUserPolicy").req(req),
    );
    c.step(30_000, 3 * MINUTE);
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "ListAttachedUserPolicies")
            .req(user_req(&user.name)),
    );
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "ListRoles"));
    c.emit(&a, c.call(&a, "s3.amazonaws.com", "ListBuckets"));
}

/// A stolen developer key writes an inline `*:*` policy on its own user.
pub(super) fn put_user_policy(c: &mut Ctx<'_>) {
    let Some(user) = legacy_user(c, 0) else {
        return;
    };
    let ip = c.attacker_ip();
    let a = c.actor(
        user.account,
        ct::iam_user(&user, None),
        &ip,
        ATTACKER_UAS[4],
    );
    c.resource(&user.arn());
    c.emit(&a, c.call(&a, "sts.amazonaws.com", "GetCallerIdentity"));
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "ListUserPolicies")
            .req(user_req(&user.name)),
    );
    let req = object(|o| {
        o.str("userName", &user.name)
            .str("policyName", "backup-operator")
            .str("policyDocument", ADMIN_POLICY);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "PutUserPolicy").req(req),
    );
    c.step(20_000, 2 * MINUTE);
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "ListUsers"));
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "ListRoles"));
}

/// A stolen Identity Center developer session passes an existing execution role to a new
/// function; the function, running as that role, creates an admin user with a key.
pub(super) fn passrole_lambda(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some((dev, acc, role)) = super::member_session(org, 0) else {
        return;
    };
    let Some(fr) = org
        .functions
        .iter()
        .find(|f| f.account == acc)
        .map(|f| org.roles[f.role].clone())
    else {
        return;
    };
    let ip = c.attacker_ip();
    let key = format!("ASIA{}", c.r.upper_id(16));
    let who = ct::assumed(
        &role,
        &dev.email,
        Session {
            access_key: &key,
            created_ms: c.t - 40 * MINUTE,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    let a = c.actor(acc, who, &ip, ATTACKER_UAS[0]);
    c.resource(&fr.arn());
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "ListRoles"));
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "GetRole").req(object(|o| {
            o.str("roleName", &fr.name);
        })),
    );
    let fname = "aws-health-monitor";
    let region = a.region;
    let fa = format!("arn:aws:lambda:{region}:{}:function:{fname}", a.acct);
    c.resource(&fa);
    let req = object(|o| {
        o.str("functionName", fname)
            .str("runtime", "python3.12")
            .str("role", &fr.arn())
            .str("handler", "index.handler")
            .num("timeout", 60)
            .bool("publish", true);
    });
    let resp = object(|o| {
        o.str("functionName", fname)
            .str("functionArn", &fa)
            .str("role", &fr.arn())
            .str("state", "Pending");
    });
    c.emit(
        &a,
        c.call(&a, "lambda.amazonaws.com", "CreateFunction20150331")
            .req(req)
            .resp(resp),
    );
    c.emit(
        &a,
        c.call(&a, "lambda.amazonaws.com", "GetFunction20150331v2")
            .req(object(|o| {
                o.str("functionName", fname);
            })),
    );
    c.step(20_000, 60_000);
    // Lambda assumes the passed role for the new function...
    let fkey = format!("ASIA{}", c.r.upper_id(16));
    let svc = ct::service("lambda.amazonaws.com");
    let call = CtCall::api(
        c.t,
        &svc,
        "sts.amazonaws.com",
        "AssumeRole",
        region,
        "lambda.amazonaws.com",
        "lambda.amazonaws.com",
        &a.acct,
    )
    .req(object(|o| {
        o.str("roleArn", &fr.arn()).str("roleSessionName", fname);
    }))
    .resource(fr.arn(), &a.acct, "AWS::IAM::Role");
    c.ct(acc, &call);
    // ...and the function's code makes the attacker an admin user.
    let egress = {
        let n = c.r.pick(crate::simulate::catalog::AWS_NETS);
        format!(
            "{}.{}.{}.{}",
            n[0],
            n[1],
            c.r.between(0, 255),
            c.r.between(1, 254)
        )
    };
    let fwho = ct::assumed(
        &fr,
        fname,
        Session {
            access_key: &fkey,
            created_ms: c.t,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    let f = c.actor(acc, fwho, &egress, "Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.224-234.876.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.5 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 Botocore/1.34.145");
    let new_user = "svc-health-monitor";
    backdoor_user(c, &f, new_user);
}

/// CreateUser, AttachUserPolicy AdministratorAccess, CreateAccessKey by `a`; returns the new
/// access key id and user id.
pub(super) fn backdoor_user(c: &mut Ctx<'_>, a: &Actor, name: &str) -> (String, String) {
    let uarn = format!("arn:aws:iam::{}:user/{name}", a.acct);
    c.principal(&uarn);
    let user_id = format!("AIDA{}", c.r.upper_id(17));
    let resp = object(|o| {
        o.obj("user", |u| {
            u.str("path", "/")
                .str("userName", name)
                .str("userId", &user_id)
                .str("arn", &uarn)
                .str("createDate", "Oct 12, 2026, 2:01:12 AM");
        });
    });
    c.emit(
        a,
        c.call(a, "iam.amazonaws.com", "CreateUser")
            .req(user_req(name))
            .resp(resp),
    );
    let req = object(|o| {
        o.str("userName", name).str("policyArn", ADMIN_ARN);
    });
    c.emit(
        a,
        c.call(a, "iam.amazonaws.com", "AttachUserPolicy").req(req),
    );
    let key = format!("AKIA{}", c.r.upper_id(16));
    c.key(&key);
    let resp = object(|o| {
        o.obj("accessKey", |k| {
            k.str("userName", name)
                .str("accessKeyId", &key)
                .str("status", "Active")
                .str("createDate", "Oct 12, 2026, 2:01:14 AM");
        });
    });
    c.emit(
        a,
        c.call(a, "iam.amazonaws.com", "CreateAccessKey")
            .req(user_req(name))
            .resp(resp),
    );
    (key, user_id)
}

/// A stolen administrator session gives the reporting service user (which never had one) a
/// console password, then signs in as it.
pub(super) fn login_profile(c: &mut Ctx<'_>) {
    let org = c.org;
    let target = org.service_users[org.reporting_user].clone();
    let acc = target.account;
    let Some(admin) = org
        .humans
        .iter()
        .find(|h| h.kind == crate::simulate::org::HumanKind::Admin)
    else {
        return;
    };
    let Some(role) = org.sso_role(admin, acc).cloned() else {
        return;
    };
    let ip = c.attacker_ip();
    let key = format!("ASIA{}", c.r.upper_id(16));
    let who = ct::assumed(
        &role,
        &admin.email,
        Session {
            access_key: &key,
            created_ms: c.t - 20 * MINUTE,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    let a = c.actor(acc, who, &ip, ATTACKER_UAS[0]);
    c.resource(&target.arn());
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "ListUsers"));
    let name = target.name.clone();
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "GetLoginProfile")
            .req(user_req(&name))
            .err(Some((
                "NoSuchEntityException",
                format!("Login Profile for User {name} cannot be found."),
            ))),
    );
    let req = object(|o| {
        o.str("userName", &name)
            .bool("passwordResetRequired", false);
    });
    let resp = object(|o| {
        o.obj("loginProfile", |l| {
            l.str("userName", &name)
                .str("createDate", "Oct 12, 2026, 3:22:10 AM")
                .bool("passwordResetRequired", false);
        });
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "CreateLoginProfile")
            .req(req)
            .resp(resp),
    );
    // The other IAM users in the account get their password reset too.
    let others: Vec<String> = org
        .humans
        .iter()
        .filter_map(|h| h.iam.as_ref())
        .filter(|u| u.account == acc)
        .map(|u| u.name.clone())
        .collect();
    for o in others {
        let req = object(|x| {
            x.str("userName", &o).bool("passwordResetRequired", false);
        });
        c.emit(
            &a,
            c.call(&a, "iam.amazonaws.com", "UpdateLoginProfile")
                .req(req),
        );
    }
    c.step(2 * MINUTE, 10 * MINUTE);
    let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0";
    let login_who = ct::Who {
        json: object(|o| {
            o.str("type", "IAMUser")
                .str("principalId", &target.user_id)
                .str("arn", &target.arn())
                .str("accountId", &target.account_id)
                .str("userName", &name);
        }),
        arn: target.arn(),
        key: String::new(),
    };
    let l = c.actor(acc, login_who, &ip, browser);
    let mut call = c.call(&l, "signin.amazonaws.com", "ConsoleLogin");
    call.read_only = Some(false);
    call.tls = false;
    call.event_version = "1.09";
    c.emit(&l, super::initial_access::console_login(call, true, "No"));
    let skey = format!("ASIA{}", c.r.upper_id(16));
    let s = c.actor(
        acc,
        ct::iam_user(
            &target,
            Some(Session {
                access_key: &skey,
                created_ms: c.t,
                mfa: false,
            }),
        ),
        &ip,
        browser,
    );
    for (src, name) in [
        ("s3.amazonaws.com", "ListBuckets"),
        ("rds.amazonaws.com", "DescribeDBInstances"),
        ("secretsmanager.amazonaws.com", "ListSecrets"),
    ] {
        c.emit(&s, c.call(&s, src, name).console());
    }
}

/// A stolen key rewrites the trust policy of the account's admin role to trust an outside
/// account, which then assumes it.
pub(super) fn assume_role_policy(c: &mut Ctx<'_>) {
    let Some(user) = legacy_user(c, 1) else {
        return;
    };
    let org = c.org;
    let acc = user.account;
    let role = org.roles[org.accounts[acc].org_access_role].clone();
    let ext = c.external_account();
    let ip = c.attacker_ip();
    let a = c.actor(acc, ct::iam_user(&user, None), &ip, ATTACKER_UAS[4]);
    c.resource(&role.arn());
    let rreq = object(|o| {
        o.str("roleName", &role.name);
    });
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "GetRole").req(rreq));
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}},{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ext}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        org.account_id(org.mgmt)
    );
    let req = object(|o| {
        o.str("roleName", &role.name).str("policyDocument", &trust);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "UpdateAssumeRolePolicy")
            .req(req),
    );
    c.step(5 * MINUTE, 30 * MINUTE);
    let ip2 = c.attacker_ip();
    external_assume(c, acc, &role, &ext, &ip2, "maintenance");
}

/// An outside account assumes `role` in `acc` and looks around with it.
pub(super) fn external_assume(
    c: &mut Ctx<'_>,
    acc: usize,
    role: &crate::simulate::org::Role,
    ext: &str,
    ip: &str,
    session: &str,
) {
    let principal = format!("AIDA{}", c.r.upper_id(17));
    let ext_who = ct::aws_account(ext, &principal);
    let e = c.actor(acc, ext_who, ip, ATTACKER_UAS[0]);
    let key = format!("ASIA{}", c.r.upper_id(16));
    c.key(&key);
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
    c.emit(
        &e,
        c.call(&e, "sts.amazonaws.com", "AssumeRole")
            .req(req)
            .resp(resp)
            .resource(role.arn(), &e.acct, "AWS::IAM::Role"),
    );
    let who = ct::assumed(
        role,
        session,
        Session {
            access_key: &key,
            created_ms: c.t,
            mfa: false,
        },
        AssumedOpts::default(),
    );
    let s = c.actor(acc, who, ip, ATTACKER_UAS[0]);
    for (src, name) in [
        ("sts.amazonaws.com", "GetCallerIdentity"),
        ("iam.amazonaws.com", "ListUsers"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("ec2.amazonaws.com", "DescribeInstances"),
    ] {
        c.emit(&s, c.call(&s, src, name));
    }
}
