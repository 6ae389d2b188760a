//! Benign look-alikes: legitimate activity that resembles an attack on the surface (new users,
//! sweeping reads, snapshot sharing, a sign-in from abroad, IAM changes by a pipeline, a new
//! service). A good detector leaves them alone or rates them low.

use super::{BgFeature, Ctx};
use crate::simulate::apis::{self, ApiCtx};
use crate::simulate::background::cicd::deploy;
use crate::simulate::catalog::TRAVEL_NETS;
use crate::simulate::clock::{DAY, HOUR, MINUTE};
use crate::simulate::ct::{self, AssumedOpts, Session, Who};
use crate::simulate::json::object;
use crate::simulate::org::HumanKind;
use crate::simulate::rng::{RngExt, rng_for, tag};

/// Moves the cursor to the next weekday if it is on a weekend.
fn weekday(c: &mut Ctx<'_>) {
    while crate::simulate::clock::weekday(c.t) >= 5 && c.t + DAY < c.sim.end_ms() {
        c.t += DAY;
    }
}

/// An administrator, in the office and in working hours, creates an IAM user for a new
/// colleague (password reset required, developers group); the colleague signs in from the
/// office, sets a password and enables MFA.
pub(super) fn admin_new_hire(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some(admin) = org.humans.iter().find(|h| h.kind == HumanKind::Admin) else {
        return;
    };
    let Some(acc) = org
        .humans
        .iter()
        .filter_map(|h| h.iam.as_ref())
        .map(|u| u.account)
        .next()
    else {
        return;
    };
    let Some(role) = org.sso_role(admin, acc).cloned() else {
        return;
    };
    weekday(c);
    let tz = org.offices[admin.office].def.tz_min;
    c.at_local_hour(tz, 10);
    let office_ip = org.offices[admin.office].ips[0].to_string();
    let key = format!("ASIA{}", c.r.upper_id(16));
    let who = ct::assumed(
        &role,
        &admin.email,
        Session {
            access_key: &key,
            created_ms: c.t - 30 * MINUTE,
            mfa: true,
        },
        AssumedOpts::default(),
    );
    let a = c.actor(acc, who, &office_ip, admin.browser);
    c.ind.ips.insert(office_ip.clone());
    let first = crate::simulate::catalog::FIRST_NAMES
        [c.r.index(crate::simulate::catalog::FIRST_NAMES.len())];
    let name = format!("{first}.newhire");
    let acct = a.acct.clone();
    let uarn = format!("arn:aws:iam::{acct}:user/{name}");
    c.principal(&uarn);
    c.resource(&uarn);
    let user_id = format!("AIDA{}", c.r.upper_id(17));
    c.emit(&a, c.call(&a, "iam.amazonaws.com", "ListUsers").console());
    let req = object(|o| {
        o.str("userName", &name).arr("tags", |t| {
            t.obj(|x| {
                x.str("key", "team").str("value", "engineering");
            });
        });
    });
    let resp = object(|o| {
        o.obj("user", |u| {
            u.str("path", "/")
                .str("userName", &name)
                .str("userId", &user_id)
                .str("arn", &uarn)
                .str("createDate", "Oct 9, 2026, 10:12:00 AM");
        });
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "CreateUser")
            .req(req)
            .resp(resp)
            .console(),
    );
    let req = object(|o| {
        o.str("userName", &name).bool("passwordResetRequired", true);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "CreateLoginProfile")
            .req(req)
            .console(),
    );
    let req = object(|o| {
        o.str("groupName", "developers").str("userName", &name);
    });
    c.emit(
        &a,
        c.call(&a, "iam.amazonaws.com", "AddUserToGroup")
            .req(req)
            .console(),
    );
    c.step(20 * MINUTE, 60 * MINUTE);
    let user = crate::simulate::org::IamUser {
        account: acc,
        account_id: acct.clone(),
        name: name.clone(),
        user_id: user_id.clone(),
        access_key: String::new(),
        console: true,
    };
    let login_who = Who {
        json: object(|o| {
            o.str("type", "IAMUser")
                .str("principalId", &user_id)
                .str("arn", &uarn)
                .str("accountId", &acct)
                .str("userName", &name);
        }),
        arn: uarn.clone(),
        key: String::new(),
    };
    let browser =
        crate::simulate::catalog::BROWSERS[c.r.index(crate::simulate::catalog::BROWSERS.len())];
    let l = c.actor(acc, login_who, &office_ip, browser);
    let mut call = c.call(&l, "signin.amazonaws.com", "ConsoleLogin");
    call.read_only = Some(false);
    call.tls = false;
    call.event_version = "1.09";
    c.emit(&l, super::initial_access::console_login(call, true, "No"));
    let skey = format!("ASIA{}", c.r.upper_id(16));
    let s = c.actor(
        acc,
        ct::iam_user(
            &user,
            Some(Session {
                access_key: &skey,
                created_ms: c.t,
                mfa: false,
            }),
        ),
        &office_ip,
        browser,
    );
    c.emit(
        &s,
        c.call(&s, "iam.amazonaws.com", "ChangePassword").console(),
    );
    let serial = format!("arn:aws:iam::{acct}:mfa/{name}");
    let req = object(|o| {
        o.str("virtualMFADeviceName", &name).str("path", "/");
    });
    let resp = object(|o| {
        o.obj("virtualMFADevice", |v| {
            v.str("serialNumber", &serial);
        });
    });
    c.emit(
        &s,
        c.call(&s, "iam.amazonaws.com", "CreateVirtualMFADevice")
            .req(req)
            .resp(resp)
            .console(),
    );
    let req = object(|o| {
        o.str("userName", &name).str("serialNumber", &serial);
    });
    c.emit(
        &s,
        c.call(&s, "iam.amazonaws.com", "EnableMFADevice")
            .req(req)
            .console(),
    );
    for (src, n) in [
        ("iam.amazonaws.com", "GetAccountSummary"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("lambda.amazonaws.com", "ListFunctions20150331"),
    ] {
        c.emit(&s, c.call(&s, src, n).console());
    }
}

/// Labels one day of the scanner's daily sweep.
pub(super) fn scanner_sweep(c: &mut Ctx<'_>) {
    let org = c.org;
    let day = c.day();
    c.label_background(BgFeature::ScannerSweep, day);
    let scanner = org.roles[org.scanner_role].session_arn("security-scanner");
    c.principal(&scanner);
    for a in &org.accounts {
        let role = &org.roles[a.audit_role];
        c.principal(&role.session_arn(&format!("security-scanner-{day}")));
    }
    let ip = crate::simulate::background::platform::scanner_ip(org, c.sim.cfg.seed);
    c.ind.ips.insert(ip);
}

/// Labels one night of backups, which that night includes the copy to the vault account.
pub(super) fn nightly_backup(c: &mut Ctx<'_>) {
    let org = c.org;
    let day = c.day();
    c.label_background(BgFeature::Backup, day);
    for (_, r) in &org.backup_roles {
        c.principal(&org.roles[*r].session_arn("AWSBackup-AWSBackupDefaultServiceRole"));
    }
    for i in 0..org.instances.len() {
        let snap = rng_for(c.sim.cfg.seed, &[tag("snapshot"), i as u64, day as u64]).hex(16);
        c.resource(&format!("snap-0{snap}"));
    }
}

/// Time a traveller needs between home and the hotel, each way: the longest flights plus the
/// airports. The trip must fit between two working days or the look-alike is in fact
/// impossible travel.
const TRIP_MS: i64 = 16 * HOUR;

/// A day off for person `h` at or after the cursor (else before it) with an afternoon that is
/// at least [`TRIP_MS`] after their last work and before their next: a holiday abroad.
fn day_off_abroad(c: &mut Ctx<'_>, h: usize, tz_min: i32) -> Option<i64> {
    use crate::simulate::background::humans::day_plan;
    let sim = c.sim;
    let tz = i64::from(tz_min) * MINUTE;
    let first = c.day();
    let days = i64::from(sim.cfg.days);
    let offset = c.r.between(0, 3 * HOUR);
    (first..days).chain((1..first).rev()).find_map(|d| {
        if day_plan(sim, h, d).is_some() {
            return None;
        }
        let t = sim.start_ms() + d * DAY + 14 * HOUR - tz + offset;
        let last_work = day_plan(sim, h, d - 1).map_or(i64::MIN / 2, |p| p.end);
        let next_work = day_plan(sim, h, d + 1).map_or(i64::MAX / 2, |p| p.start);
        (t - last_work >= TRIP_MS
            && next_work - (t + HOUR) >= TRIP_MS
            && t + 3 * HOUR < sim.end_ms())
        .then_some(t)
    })
}

/// A developer with an IAM user, on a day off abroad, signs in with MFA from the hotel once
/// and reads a bit. The day is chosen so the trip is possible: no work at home within
/// [`TRIP_MS`] either side.
pub(super) fn traveller(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some(hi) = org.humans.iter().position(|h| h.iam.is_some()) else {
        return;
    };
    let h = &org.humans[hi];
    let Some(user) = h.iam.clone() else { return };
    match day_off_abroad(c, hi, h.tz_min) {
        Some(t) => c.t = t,
        None => {
            weekday(c);
            c.at_local_hour(h.tz_min, 18);
        }
    }
    let (net, _country) = TRAVEL_NETS[c.r.index(TRAVEL_NETS.len())];
    let ip = format!(
        "{}.{}.{}.{}",
        net[0],
        net[1],
        c.r.between(0, 255),
        c.r.between(1, 254)
    );
    c.ind.ips.insert(ip.clone());
    super::initial_access::mfa_console_login(c, &user, &ip, h.browser);
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
        &ip,
        h.browser,
    );
    let n = c.r.between(10, 30);
    let ctx = ApiCtx {
        org,
        account: user.account,
        region: org.accounts[user.account].regions[0],
    };
    for _ in 0..n {
        let (src, name, _, cmd) = *apis::pick_entry(&mut c.r, apis::READS);
        let api = apis::call(src, name, cmd, &mut c.r, &ctx);
        let mut call = c.call(&s, api.source, api.name).console();
        call.request = api.req;
        call.error = api.error;
        if api.global {
            call.region = "us-east-1";
        }
        c.step(20_000, 120_000);
        c.emit(&s, call);
    }
}

/// A weekday deploy whose stack also changes IAM roles, made by the pipeline role.
pub(super) fn cicd_deploy(c: &mut Ctx<'_>) {
    let org = c.org;
    let prod = org.prod();
    let Some(p) = org.pipelines.iter().position(|p| p.account == prod) else {
        return;
    };
    weekday(c);
    c.at_local_hour(0, 15);
    let role = org.roles[org.pipelines[p].role].clone();
    c.principal(&role.arn());
    let t = c.t;
    let session = c.with_gen(prod, |g, r, tag| deploy(g, r, p, t, true, tag));
    c.principal(&session);
}

/// Labels the first day a team's new function calls Amazon Bedrock.
pub(super) fn new_service(c: &mut Ctx<'_>) {
    let org = c.org;
    let Some(f) = org.functions.iter().find(|f| f.start_day > 0) else {
        return;
    };
    c.label_background(BgFeature::Adoption, i64::from(f.start_day));
    let role = &org.roles[f.role];
    c.principal(&role.session_arn(&f.name));
    c.resource(&format!(
        "arn:aws:lambda:{}:{}:function:{}",
        f.region,
        org.account_id(f.account),
        f.name
    ));
    c.ind.ips.insert(f.egress_ip.to_string());
}
