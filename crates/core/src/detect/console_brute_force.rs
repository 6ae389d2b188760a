//! Console password guessing and spraying, from runs of failed `ConsoleLogin` events.
//!
//! **What**: per user, failed console sign-ins with gaps under 30 minutes (10 or more is a
//! finding, 25 or more High); per source address, failures against three or more users
//! (password spraying). A successful sign-in for the same user, or from the same address,
//! within the hour after the failures makes it Critical: the guess worked.
//! **Why**: console passwords are guessed and sprayed like any login page (T1110.001,
//! T1110.003); a success after a run of failures is account takeover (T1078.004).
//! **Baseline**: none; thresholds. People mistype a password a few times, not ten.
//! **False positives**: a script with a stale password retrying, a user locked out and
//! retrying for half an hour. Repeats for the same user or address update one finding.
//! **ATT&CK**: T1110.001, T1110.003, T1078.004.
//! **References**: CIS AWS Foundations 4.6; AWS, "CloudTrail ConsoleLogin events"; Panther
//! Standard.BruteForceByUser, Standard.BruteForceByIP.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::sequence::{Evidence, Report, finding, join};
use super::{Activity, Ctx, Detector, anomaly_entry, principal_observables, risk_score};
use crate::finding::Resource;

const ID: &str = "console-brute-force";
const GAP_MS: i64 = 30 * 60_000;
const MAX_SPAN_MS: i64 = 6 * 3_600_000;
/// How long after the last failure a success still counts as the guess that worked.
const FOLLOW_MS: i64 = 3_600_000;
const MIN_FAILURES: u64 = 10;
const MIN_SPRAY_USERS: usize = 3;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Run {
    ev: Evidence,
    failures: u64,
    users: BTreeSet<String>,
    /// Time and uid of a success after the failures.
    success: Option<(i64, String)>,
}

/// See the module documentation.
#[derive(Default)]
pub struct ConsoleBruteForce {
    by_user: BTreeMap<String, Run>,
    by_ip: BTreeMap<String, Run>,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    by_user: BTreeMap<String, Run>,
    by_ip: BTreeMap<String, Run>,
}

impl ConsoleBruteForce {
    fn report(key: &str, by_ip: bool, run: &Run, ctx: &mut Ctx) {
        if by_ip && run.users.len() < MIN_SPRAY_USERS {
            return;
        }
        if run.failures < MIN_FAILURES {
            return;
        }
        let mut ev = run.ev.clone();
        if let Some((t, uid)) = &run.success {
            ev.last_ms = ev.last_ms.max(*t);
            if !ev.related.contains(uid) {
                ev.related.push(uid.clone());
                ev.count += 1;
            }
        }
        let took = run.success.is_some();
        let strength: f64 = if took {
            0.97
        } else if run.failures >= 25 || by_ip {
            0.8
        } else {
            0.6
        };
        let risk = risk_score(strength, 0.6, 0.85, 0.9);
        let users = join(&run.users, 5);
        let (title, attacks): (String, &[&'static str]) = match (by_ip, took) {
            (false, true) => (
                format!(
                    "Console brute force succeeded: {key} signed in after {} failed attempts from {}",
                    run.failures,
                    join(&ev.ips, 3)
                ),
                &["T1110.001", "T1078.004"],
            ),
            (false, false) => (
                format!(
                    "Console brute force: {} failed sign-ins for {key} from {}",
                    run.failures,
                    join(&ev.ips, 3)
                ),
                &["T1110.001"],
            ),
            (true, true) => (
                format!(
                    "Console password spraying succeeded: {key} tried {} users and one sign-in worked",
                    run.users.len()
                ),
                &["T1110.003", "T1078.004"],
            ),
            (true, false) => (
                format!(
                    "Console password spraying: {key} failed {} sign-ins across {} users",
                    run.failures,
                    run.users.len()
                ),
                &["T1110.003"],
            ),
        };
        let desc = format!(
            "{} failed console sign-ins between {} and {} ({} user(s): {users}; source(s): {}).{} Check whether \
             the user recognises the attempts.",
            run.failures,
            crate::time::format_iso8601_ms(run.ev.first_ms),
            crate::time::format_iso8601_ms(run.ev.last_ms),
            run.users.len(),
            join(&ev.ips, 5),
            if took {
                " A sign-in then SUCCEEDED within the hour: the account is likely taken over."
            } else {
                ""
            },
        );
        let mut observables = Vec::new();
        for u in &run.users {
            observables.extend(principal_observables(u));
        }
        let resources = run
            .users
            .iter()
            .filter(|u| u.starts_with("arn:"))
            .map(|u| Resource {
                uid: u.clone(),
                kind: "AWS::IAM::User".into(),
                region: None,
                account: ev.account.clone(),
            })
            .collect();
        let anomaly = vec![anomaly_entry(
            &format!("failed console sign-ins for {key}"),
            (key, if by_ip { "ip" } else { "user" }),
            "failed sign-ins",
            run.failures.to_string(),
            (run.ev.first_ms, run.ev.last_ms),
            format!("{} failures with gaps under 30 minutes", run.failures),
            vec![("threshold", MIN_FAILURES.to_string())],
            "a person mistypes a password a few times, not ten",
        )];
        let kind = if by_ip { "ip" } else { "user" };
        let f = finding(
            &ev,
            Report {
                detector: ID,
                name: "Console brute force",
                key: &[kind, key],
                title,
                desc,
                remediation: if took {
                    "Treat the account as compromised: reset its password, revoke its sessions, require MFA, and review \
                     what was done after the successful sign-in. Block the source addresses."
                } else {
                    "Make sure the targeted users have MFA and strong passwords; block the source addresses if they are \
                     not yours; watch for a later successful sign-in."
                },
                attacks,
                risk,
                confidence: if took { 90 } else { 80 },
                observables,
                resources,
                anomaly,
            },
            ctx.cfg,
        );
        ctx.out.push(f);
    }

    fn close_due(map: &mut BTreeMap<String, Run>, by_ip: bool, now: i64, ctx: &mut Ctx) {
        let due: Vec<String> = map
            .iter()
            .filter(|(_, r)| r.ev.last_ms + FOLLOW_MS < now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            if let Some(run) = map.remove(&k) {
                Self::report(&k, by_ip, &run, ctx);
            }
        }
    }
}

fn note(
    map: &mut BTreeMap<String, Run>,
    key: &str,
    by_ip: bool,
    a: &Activity,
    user: &str,
    ctx: &mut Ctx,
) {
    if map
        .get(key)
        .is_some_and(|run| !run.ev.fits(a.time_ms, GAP_MS, MAX_SPAN_MS))
        && let Some(run) = map.remove(key)
    {
        ConsoleBruteForce::report(key, by_ip, &run, ctx);
    }
    let run = map.entry(key.to_string()).or_insert_with(|| Run {
        ev: Evidence::new(a),
        failures: 0,
        ..Run::default()
    });
    if run.failures > 0 {
        run.ev.add(a);
    }
    run.failures += 1;
    if run.users.len() < 64 {
        run.users.insert(user.to_string());
    }
}

impl Detector for ConsoleBruteForce {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        if a.api.as_deref() != Some("signin:ConsoleLogin") {
            return;
        }
        let user = a.principal.as_deref().unwrap_or("unknown user").to_string();
        let ip = a.src_ip.map(|i| i.to_string());
        if a.sign_in_failed {
            note(&mut self.by_user, &user, false, a, &user, ctx);
            if let Some(ip) = &ip {
                note(&mut self.by_ip, ip, true, a, &user, ctx);
            }
            return;
        }
        // A success: does it follow a run of failures for this user or from this address?
        let follows = |run: &Run| {
            run.failures >= MIN_FAILURES / 2
                && a.time_ms - run.ev.last_ms <= FOLLOW_MS
                && run.success.is_none()
        };
        if let Some(run) = self.by_user.get_mut(&user)
            && follows(run)
        {
            run.success = Some((a.time_ms, a.uid.to_string()));
        }
        if let Some(ip) = &ip
            && let Some(run) = self.by_ip.get_mut(ip)
            && follows(run)
        {
            run.success = Some((a.time_ms, a.uid.to_string()));
            run.users.insert(user);
        }
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        Self::close_due(&mut self.by_user, false, watermark_ms, ctx);
        Self::close_due(&mut self.by_ip, true, watermark_ms, ctx);
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&Saved {
            by_user: self.by_user.clone(),
            by_ip: self.by_ip.clone(),
        })
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        let s: Saved = super::decode(bytes)?;
        self.by_user = s.by_user;
        self.by_ip = s.by_ip;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.by_user.len() + self.by_ip.len()
    }
}
