//! People: working hours in their own time zone, office or home addresses, console sign-ins
//! (MFA for IAM users), console and CLI sessions through IAM Identity Center, reads with a few
//! writes, and the occasional error.

use std::net::Ipv4Addr;

use rand::Rng;

use super::Gen;
use crate::simulate::Simulation;
use crate::simulate::apis::{self, ApiCtx};
use crate::simulate::clock::{DAY, HOUR, MINUTE, weekday};
use crate::simulate::ct::{self, AssumedOpts, CtCall, Session, Who};
use crate::simulate::json::object;
use crate::simulate::org::{AccountRole, HumanKind};
use crate::simulate::rng::{RngExt, rng_for, tag};

/// One person's working day (UTC times).
#[derive(Debug, Clone)]
pub(crate) struct DayPlan {
    pub start: i64,
    pub end: i64,
    pub ip: Ipv4Addr,
    /// Accounts worked in that day with the share of calls each gets.
    pub accounts: Vec<(usize, f64)>,
    pub console: bool,
    pub console_key: String,
    pub cli_key: String,
}

/// The working day of person `h` on simulation day `day`, if they work that day. Pure function
/// of the seed, so every hour (in any chunk) agrees on it.
pub(crate) fn day_plan(sim: &Simulation, h: usize, day: i64) -> Option<DayPlan> {
    let org = &sim.org;
    let human = org.humans.get(h)?;
    if day < i64::from(human.start_day) || day < 0 || day >= i64::from(sim.cfg.days) {
        return None;
    }
    let mut r = rng_for(sim.cfg.seed, &[tag("human-day"), h as u64, day as u64]);
    let day_ms = sim.start_ms() + day * DAY;
    let weekend = weekday(day_ms) >= 5;
    let works = if weekend {
        r.chance(0.06)
    } else {
        r.chance(0.9) || day == i64::from(human.start_day)
    };
    if !works {
        return None;
    }
    let local_start = 8 * 60 + r.between(0, 150);
    let minutes = if weekend {
        r.between(45, 180)
    } else {
        r.between(360, 570)
    };
    let start = day_ms + (local_start - i64::from(human.tz_min)) * MINUTE + r.between(0, 59_999);
    let office = &org.offices[human.office];
    let ip = if !weekend && r.chance(0.55) {
        *r.pick(&office.ips)
    } else {
        human.home_ip
    };
    let mut accounts: Vec<(usize, f64)> = Vec::new();
    let grants: Vec<usize> = human.sso.iter().map(|(a, _)| *a).collect();
    match human.kind {
        HumanKind::Finance => accounts.push((org.mgmt, 1.0)),
        HumanKind::Security => {
            accounts.push((org.security, 0.6));
            let other = grants[r.index(grants.len())];
            if other != org.security {
                accounts.push((other, 0.4));
            }
        }
        HumanKind::Admin | HumanKind::Developer => {
            let main = match &human.iam {
                Some(u) if r.chance(0.7) => u.account,
                _ => {
                    let devish: Vec<usize> = grants
                        .iter()
                        .copied()
                        .filter(|a| {
                            org.accounts[*a].role == AccountRole::Member
                                && org.accounts[*a].env != "prod"
                        })
                        .collect();
                    if !devish.is_empty() && r.chance(0.7) {
                        devish[r.index(devish.len())]
                    } else {
                        grants[r.index(grants.len())]
                    }
                }
            };
            accounts.push((main, 0.75));
            let second = grants[r.index(grants.len())];
            if second != main {
                accounts.push((second, 0.25));
            } else {
                accounts[0].1 = 1.0;
            }
        }
    }
    Some(DayPlan {
        start,
        end: start + minutes * MINUTE,
        ip,
        accounts,
        console: r.chance(0.7),
        console_key: format!("ASIA{}", r.upper_id(16)),
        cli_key: format!("ASIA{}", r.upper_id(16)),
    })
}

pub(super) fn hour(g: &mut Gen<'_>) {
    for h in 0..g.org.humans.len() {
        for d in [g.day - 1, g.day, g.day + 1] {
            let Some(plan) = day_plan(g.sim, h, d) else {
                continue;
            };
            let lo = plan.start.max(g.hour_ms);
            let hi = plan.end.min(g.hour_ms + HOUR);
            if lo >= hi {
                continue;
            }
            let Some(&(_, share)) = plan.accounts.iter().find(|(a, _)| *a == g.account) else {
                continue;
            };
            session_hour(g, h, &plan, share, lo, hi);
        }
    }
}

/// Mgmt-account reads for administrators.
#[rustfmt::skip]
const ORG_READS: &[(&str, &str, u32, &str)] = &[
    ("organizations.amazonaws.com", "ListAccounts", 4, "organizations.list-accounts"),
    ("organizations.amazonaws.com", "DescribeOrganization", 2, "organizations.describe-organization"),
    ("organizations.amazonaws.com", "ListRoots", 1, "organizations.list-roots"),
    ("organizations.amazonaws.com", "ListPoliciesForTarget", 1, "organizations.list-policies-for-target"),
    ("sso.amazonaws.com", "ListPermissionSets", 2, "sso-admin.list-permission-sets"),
];

#[rustfmt::skip]
const FINANCE_READS: &[(&str, &str, u32, &str)] = &[
    ("ce.amazonaws.com", "GetCostAndUsage", 6, "ce.get-cost-and-usage"),
    ("ce.amazonaws.com", "GetCostForecast", 2, "ce.get-cost-forecast"),
    ("budgets.amazonaws.com", "DescribeBudgets", 2, "budgets.describe-budgets"),
    ("organizations.amazonaws.com", "ListAccounts", 1, "organizations.list-accounts"),
];

#[rustfmt::skip]
const SECURITY_READS: &[(&str, &str, u32, &str)] = &[
    ("securityhub.amazonaws.com", "GetFindings", 5, "securityhub.get-findings"),
    ("guardduty.amazonaws.com", "ListFindings", 3, "guardduty.list-findings"),
    ("guardduty.amazonaws.com", "GetFindings", 3, "guardduty.get-findings"),
    ("config.amazonaws.com", "DescribeComplianceByConfigRule", 2, "configservice.describe-compliance-by-config-rule"),
    ("access-analyzer.amazonaws.com", "ListFindings", 1, "accessanalyzer.list-findings"),
    ("cloudtrail.amazonaws.com", "LookupEvents", 2, "cloudtrail.lookup-events"),
];

fn session_hour(g: &mut Gen<'_>, h: usize, plan: &DayPlan, share: f64, lo: i64, hi: i64) {
    let org = g.org;
    let human = &org.humans[h];
    let mut r = g.rng(&[tag("human"), h as u64]);
    let acct = org.account_id(g.account).to_string();
    let ip = plan.ip.to_string();
    let iam = human.iam.as_ref().filter(|u| u.account == g.account);
    let sso_role = org.sso_role(human, g.account);
    let perm = human
        .sso
        .iter()
        .find(|(a, _)| *a == g.account)
        .and_then(|(a, i)| org.accounts[*a].sso_roles.get(*i))
        .map_or("DeveloperAccess", |s| s.perm);
    let perm = if iam.is_some() {
        "DeveloperAccess"
    } else {
        perm
    };
    let (console_who, cli_who): (Who, Who) = match (iam, sso_role) {
        (Some(u), _) => (
            ct::iam_user(
                u,
                Some(Session {
                    access_key: &plan.console_key,
                    created_ms: plan.start,
                    mfa: true,
                }),
            ),
            ct::iam_user(u, None),
        ),
        (None, Some(role)) => {
            let s1 = Session {
                access_key: &plan.console_key,
                created_ms: plan.start,
                mfa: false,
            };
            let s2 = Session {
                access_key: &plan.cli_key,
                created_ms: plan.start,
                mfa: false,
            };
            (
                ct::assumed(role, &human.email, s1, AssumedOpts::default()),
                ct::assumed(role, &human.email, s2, AssumedOpts::default()),
            )
        }
        (None, None) => return,
    };
    // Sign-in at the start of the day (a few minutes later in a second account).
    let is_main = plan.accounts.first().is_some_and(|(a, _)| *a == g.account);
    let login_at = if is_main {
        plan.start
    } else {
        plan.start + r.between(5, 90) * MINUTE
    };
    if plan.console && login_at >= lo && login_at < hi {
        let login_who = match iam {
            Some(u) => Who {
                json: object(|o| {
                    o.str("type", "IAMUser")
                        .str("principalId", &u.user_id)
                        .str("arn", &u.arn())
                        .str("accountId", &u.account_id)
                        .str("userName", &u.name);
                }),
                arn: u.arn(),
                key: String::new(),
            },
            None => console_who.clone(),
        };
        let extra = match iam {
            Some(u) => {
                object(|o| {
                    o.str("LoginTo", "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true")
                    .str("MobileVersion", "No")
                    .str("MFAIdentifier", &format!("arn:aws:iam::{}:mfa/{}", u.account_id, u.name))
                    .str("MFAUsed", "Yes");
                })
            }
            None => object(|o| {
                o.str("MobileVersion", "No").str("MFAUsed", "No");
            }),
        };
        let mut call = CtCall::api(
            login_at,
            &login_who,
            "signin.amazonaws.com",
            "ConsoleLogin",
            "us-east-1",
            &ip,
            human.browser,
            &acct,
        )
        .resp(r#"{"ConsoleLogin":"Success"}"#.to_string())
        .extra(extra);
        call.event_type = "AwsConsoleSignIn";
        call.read_only = Some(false);
        call.tls = false;
        call.event_version = "1.09";
        g.ct(&mut r, &call, None);
    }
    let lambda = human.pace * share * ((hi - lo) as f64 / HOUR as f64) * g.scale;
    let n = r.poisson(lambda);
    let acc = &org.accounts[g.account];
    let ctx = ApiCtx {
        org,
        account: g.account,
        region: acc.regions[0],
    };
    for _ in 0..n {
        let t = lo + r.random_range(0..(hi - lo).max(1));
        let console = plan.console && r.chance(0.6);
        let (source, name, _, cmd) = *choose(&mut r, human.kind, perm, acc.role);
        let region = if r.chance(0.9) {
            acc.regions[0]
        } else {
            *r.pick(&acc.regions)
        };
        let mut ctx_r = ApiCtx { region, ..ctx };
        ctx_r.region = region;
        let api = apis::call(source, name, cmd, &mut r, &ctx_r);
        let region = if api.global { "us-east-1" } else { region };
        let who = if console { &console_who } else { &cli_who };
        let ua_owned;
        let ua: &str = if console {
            human.browser
        } else if human.kind == HumanKind::Admin && r.chance(0.25) {
            ua_owned = crate::simulate::catalog::TERRAFORM_UA
                .replace("{svc}", source.split('.').next().unwrap_or(""));
            &ua_owned
        } else {
            ua_owned = human.cli.replace("{cmd}", api.cmd);
            &ua_owned
        };
        let read_only = ct::is_read_only(name);
        let denied = (!read_only && matches!(perm, "ReadOnlyAccess" | "SecurityAudit" | "Billing"))
            || r.chance(if read_only { 0.006 } else { 0.02 });
        let error = if denied {
            ct::deny(who, &api.action, api.resource.as_deref())
        } else {
            api.error.clone()
        };
        let mut call = CtCall::api(t, who, api.source, api.name, region, &ip, ua, &acct);
        call.request = api.req;
        call.response = if error.is_some() { None } else { api.resp };
        call.error = error;
        call.from_console = console;
        g.ct(&mut r, &call, None);
    }
}

/// Chooses what a person does next, by role, permission set and account.
fn choose(
    r: &mut crate::simulate::rng::SimRng,
    kind: HumanKind,
    perm: &str,
    account: AccountRole,
) -> &'static (&'static str, &'static str, u32, &'static str) {
    match kind {
        HumanKind::Finance => apis::pick_entry(r, FINANCE_READS),
        HumanKind::Security if r.chance(0.5) => apis::pick_entry(r, SECURITY_READS),
        HumanKind::Admin if account == AccountRole::Management && r.chance(0.4) => {
            apis::pick_entry(r, ORG_READS)
        }
        _ => {
            let x = r.random::<f64>();
            let writes = match perm {
                "AdministratorAccess" => 0.1,
                "DeveloperAccess" => 0.12,
                _ => 0.015,
            };
            if x < writes {
                if perm == "AdministratorAccess" && r.chance(0.4) {
                    apis::pick_entry(r, apis::ADMIN_WRITES)
                } else {
                    apis::pick_entry(r, apis::DEV_WRITES)
                }
            } else {
                apis::pick_entry(r, apis::READS)
            }
        }
    }
}
