//! Initial access: a leaked long-term key, a console brute force, root sign-in.

use super::Ctx;
use crate::simulate::catalog::ATTACKER_UAS;
use crate::simulate::clock::MINUTE;
use crate::simulate::ct::{self, CtCall, Session, Who};
use crate::simulate::json::object;
use crate::simulate::rng::RngExt;

/// The reporting job's key (normally: one office address, one Boto3 agent, office hours) is
/// used at night from a VPS with Pacu's user agent: identity check, then probing what it can do.
pub(super) fn leaked_access_key(c: &mut Ctx<'_>) {
    let org = c.org;
    let user = &org.service_users[org.reporting_user];
    let ip = c.attacker_ip();
    let a = c.actor(user.account, ct::iam_user(user, None), &ip, ATTACKER_UAS[1]);
    c.at_local_hour(org.offices[0].def.tz_min, 2);
    let user_arn = user.arn();
    c.emit(&a, c.call(&a, "sts.amazonaws.com", "GetCallerIdentity"));
    for (name, denied) in [
        ("GetUser", true),
        ("ListAttachedUserPolicies", true),
        ("ListUserPolicies", true),
        ("ListGroupsForUser", true),
    ] {
        let req = object(|o| {
            o.str("userName", &user.name);
        });
        let mut call = c.call(&a, "iam.amazonaws.com", name).req(req);
        if denied {
            call = call.err(ct::deny(&a.who, &format!("iam:{name}"), Some(&user_arn)));
        }
        c.emit(&a, call);
    }
    c.emit(&a, c.call(&a, "s3.amazonaws.com", "ListBuckets"));
    for region in ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"] {
        let mut call = c
            .call(&a, "ec2.amazonaws.com", "DescribeInstances")
            .req(r#"{"instancesSet":{},"filterSet":{}}"#.to_string());
        call.region = region;
        c.emit(&a, call);
    }
    c.emit(
        &a,
        c.call(&a, "secretsmanager.amazonaws.com", "ListSecrets")
            .denied(),
    );
    c.emit(
        &a,
        c.call(&a, "lambda.amazonaws.com", "ListFunctions20150331")
            .denied(),
    );
    let key = format!("ASIA{}", c.r.upper_id(16));
    c.key(&key);
    let resp = object(|o| {
        o.obj("credentials", |cr| {
            cr.str("accessKeyId", &key)
                .str("sessionToken", "IQoJb3JpZ2luX2VjEXAMPLE")
                .str("expiration", "2026-12-31T00:00:00Z");
        });
    });
    c.emit(
        &a,
        c.call(&a, "sts.amazonaws.com", "GetSessionToken")
            .req(r#"{"durationSeconds":129600}"#.to_string())
            .resp(resp),
    );
}

/// Failed console sign-ins for one IAM user from one address, then a success without MFA and
/// a quick look around.
pub(super) fn console_brute_force(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some(user) = org.humans.iter().filter_map(|h| h.iam.as_ref()).next_back() else {
        return;
    };
    let ip = c.attacker_ip();
    let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0";
    let login_who = Who {
        json: object(|o| {
            o.str("type", "IAMUser")
                .str("principalId", &user.user_id)
                .str("accountId", &user.account_id)
                .str("accessKeyId", "")
                .str("userName", &user.name);
        }),
        arn: user.arn(),
        key: String::new(),
    };
    let a = c.actor(user.account, login_who, &ip, browser);
    c.resource(&user.arn());
    let n = c.r.between(25, 60);
    for _ in 0..n {
        let mut call = c.call(&a, "signin.amazonaws.com", "ConsoleLogin");
        call.read_only = Some(false);
        call.tls = false;
        call.event_version = "1.09";
        c.emit(&a, console_login(call, false, "No"));
    }
    let mut call = c.call(&a, "signin.amazonaws.com", "ConsoleLogin");
    call.read_only = Some(false);
    call.tls = false;
    call.event_version = "1.09";
    c.emit(&a, console_login(call, true, "No"));
    let key = format!("ASIA{}", c.r.upper_id(16));
    let session = ct::iam_user(
        user,
        Some(Session {
            access_key: &key,
            created_ms: c.t,
            mfa: false,
        }),
    );
    let b = c.actor(user.account, session, &ip, browser);
    for (src, name) in [
        ("iam.amazonaws.com", "GetAccountSummary"),
        ("iam.amazonaws.com", "ListUsers"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("secretsmanager.amazonaws.com", "ListSecrets"),
    ] {
        c.emit(&b, c.call(&b, src, name).console());
    }
}

/// Shapes a ConsoleLogin record: success or failure, MFA used or not.
pub(super) fn console_login<'a>(mut call: CtCall<'a>, success: bool, mfa: &str) -> CtCall<'a> {
    call.event_type = "AwsConsoleSignIn";
    call.request = None;
    if success {
        call.error = None;
        call.response = Some(r#"{"ConsoleLogin":"Success"}"#.to_string());
    } else {
        call.error = Some(("", "Failed authentication".to_string()));
        call.response = Some(r#"{"ConsoleLogin":"Failure"}"#.to_string());
    }
    call.additional = Some(object(|o| {
        o.str(
            "LoginTo",
            "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        )
        .str("MobileVersion", "No")
        .str("MFAUsed", mfa);
    }));
    call
}

/// Root signs in to a member account without MFA and mints itself an access key, then uses it.
pub(super) fn root_account_use(c: &mut Ctx<'_>) {
    let org = c.org;
    let members: Vec<usize> = org.members().map(|m| m.index).collect();
    let acc = members[c.r.index(members.len())];
    let acct = org.account_id(acc).to_string();
    let ip = c.attacker_ip();
    let browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    let root_login = ct::root(&acct, None);
    let a = c.actor(acc, root_login, &ip, browser);
    let mut call = c.call(&a, "signin.amazonaws.com", "ConsoleLogin");
    call.read_only = Some(false);
    call.tls = false;
    call.event_version = "1.09";
    c.emit(&a, console_login(call, true, "No"));
    let skey = format!("ASIA{}", c.r.upper_id(16));
    let session = ct::root(
        &acct,
        Some(Session {
            access_key: &skey,
            created_ms: c.t,
            mfa: false,
        }),
    );
    let s = c.actor(acc, session, &ip, browser);
    c.emit(
        &s,
        c.call(&s, "iam.amazonaws.com", "GetAccountSummary")
            .console(),
    );
    c.emit(&s, c.call(&s, "iam.amazonaws.com", "ListUsers").console());
    let new_key = format!("AKIA{}", c.r.upper_id(16));
    c.key(&new_key);
    let resp = object(|o| {
        o.obj("accessKey", |k| {
            k.str("accessKeyId", &new_key)
                .str("status", "Active")
                .str("createDate", "Oct 10, 2026, 3:12:45 AM");
        });
    });
    c.emit(
        &s,
        c.call(&s, "iam.amazonaws.com", "CreateAccessKey")
            .resp(resp)
            .console(),
    );
    c.step(10 * MINUTE, 40 * MINUTE);
    let k = c.actor(acc, ct::root_key(&acct, &new_key), &ip, ATTACKER_UAS[0]);
    for (src, name) in [
        ("sts.amazonaws.com", "GetCallerIdentity"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("iam.amazonaws.com", "ListRoles"),
    ] {
        c.emit(&k, c.call(&k, src, name));
    }
}

/// A console sign-in with MFA for an IAM user, as the sign-in service records it.
pub(super) fn mfa_console_login(
    c: &mut Ctx<'_>,
    user: &crate::simulate::org::IamUser,
    ip: &str,
    ua: &str,
) -> String {
    let login_who = Who {
        json: object(|o| {
            o.str("type", "IAMUser")
                .str("principalId", &user.user_id)
                .str("arn", &user.arn())
                .str("accountId", &user.account_id)
                .str("userName", &user.name);
        }),
        arn: user.arn(),
        key: String::new(),
    };
    let l = c.actor(user.account, login_who, ip, ua);
    let mut call = c.call(&l, "signin.amazonaws.com", "ConsoleLogin");
    call.read_only = Some(false);
    call.tls = false;
    call.event_version = "1.09";
    let mut call = console_login(call, true, "Yes");
    call.additional = Some(object(|o| {
        o.str(
            "LoginTo",
            "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        )
        .str("MobileVersion", "No")
        .str(
            "MFAIdentifier",
            &format!("arn:aws:iam::{}:mfa/{}", user.account_id, user.name),
        )
        .str("MFAUsed", "Yes");
    }));
    c.emit(&l, call)
}

/// A developer signs in to the console at the office in the morning and reads a little. Within
/// half an hour the same password and MFA code, phished through a relay, sign in from an
/// ordinary home connection on another continent (no VPN or hosting address to give it away),
/// and the thief reads secrets, buckets and users.
pub(super) fn impossible_travel(c: &mut Ctx<'_>) {
    use crate::simulate::apis::{self, ApiCtx};
    use crate::simulate::catalog::REMOTE_HOME_NETS;
    let org = c.org;
    let Some(h) = org.humans.iter().rfind(|h| h.iam.is_some()) else {
        return;
    };
    let Some(user) = h.iam.clone() else { return };
    while crate::simulate::clock::weekday(c.t) >= 5
        && c.t + crate::simulate::clock::DAY < c.sim.end_ms()
    {
        c.t += crate::simulate::clock::DAY;
    }
    c.at_local_hour(h.tz_min, 9);
    let office_ip = org.offices[h.office].ips[0].to_string();
    let ctx = ApiCtx {
        org,
        account: user.account,
        region: org.accounts[user.account].regions[0],
    };
    let reads = |c: &mut Ctx<'_>, ip: &str, ua: &str, n: i64, gap: (i64, i64)| {
        let key = format!("ASIA{}", c.r.upper_id(16));
        let s = c.actor(
            user.account,
            ct::iam_user(
                &user,
                Some(Session {
                    access_key: &key,
                    created_ms: c.t,
                    mfa: true,
                }),
            ),
            ip,
            ua,
        );
        for _ in 0..n {
            let (src, name, _, cmd) = *apis::pick_entry(&mut c.r, apis::READS);
            let api = apis::call(src, name, cmd, &mut c.r, &ctx);
            let mut call = c.call(&s, api.source, api.name).console();
            call.request = api.req;
            call.error = api.error;
            if api.global {
                call.region = "us-east-1";
            }
            c.step(gap.0, gap.1);
            c.emit(&s, call);
        }
        s
    };
    mfa_console_login(c, &user, &office_ip, h.browser);
    let n = c.r.between(3, 8);
    reads(c, &office_ip, h.browser, n, (20_000, 90_000));
    c.step(10 * MINUTE, 25 * MINUTE);
    let (net, _country) = REMOTE_HOME_NETS[c.r.index(REMOTE_HOME_NETS.len())];
    let ip = format!(
        "{}.{}.{}.{}",
        net[0],
        net[1],
        c.r.between(0, 255),
        c.r.between(1, 254)
    );
    c.ind.ips.insert(ip.clone());
    c.resource(&user.arn());
    let thief_ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36";
    mfa_console_login(c, &user, &ip, thief_ua);
    let n = c.r.between(8, 20);
    let s = reads(c, &ip, thief_ua, n, (5_000, 40_000));
    for (src, name) in [
        ("secretsmanager.amazonaws.com", "ListSecrets"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("iam.amazonaws.com", "ListUsers"),
        ("iam.amazonaws.com", "ListAccessKeys"),
    ] {
        c.emit(&s, c.call(&s, src, name).console());
    }
}
