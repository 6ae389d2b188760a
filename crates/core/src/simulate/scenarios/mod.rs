//! Labelled scenarios: attacks across the ATT&CK cloud matrix as they appear in CloudTrail, VPC
//! Flow Logs and S3 access logs, and benign look-alikes a good detector must leave alone.
//!
//! Each scenario is one function (grouped by tactic, one file per group). It runs once at
//! planning time from a seed derived from the run seed and its own name, so choosing a subset
//! with `--scenarios` does not move the others. Its records are injected into whichever output
//! chunk owns their account and time; a few benign ones instead label part of the background
//! (the scanner's sweep, the nightly backup, a newly adopted service).

mod benign;
mod credential_access;
mod defense_evasion;
mod discovery;
mod exfiltration;
mod impact;
mod initial_access;
mod lateral_movement;
mod network;
mod persistence;
mod privilege_escalation;
mod storage;

use std::net::Ipv4Addr;

use super::Simulation;
use super::background::Gen;
use super::catalog::ATTACKER_NETS;
use super::clock::{DAY, HOUR};
use super::ct::{CtCall, Who};
use super::emit::{Out, Tag};
use super::flow::FlowRec;
use super::org::Org;
use super::rng::{RngExt, SimRng};
use super::truth::Indicators;

/// Whether a scenario is an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Malicious,
    Benign,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Malicious => "malicious",
            Label::Benign => "benign",
        }
    }
}

/// Parts of the background a benign scenario can label on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BgFeature {
    ScannerSweep,
    Backup,
    Adoption,
}

/// A scenario in the registry.
pub struct ScenarioDef {
    pub name: &'static str,
    pub label: Label,
    pub attack_ids: &'static [&'static str],
    pub tactics: &'static [&'static str],
    pub summary: &'static str,
    pub(crate) run: fn(&mut Ctx<'_>),
}

impl std::fmt::Debug for ScenarioDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScenarioDef")
            .field("name", &self.name)
            .field("label", &self.label)
            .finish()
    }
}

macro_rules! scenario {
    ($name:expr, $label:ident, [$($id:expr),*], [$($tac:expr),*], $summary:expr, $run:path) => {
        ScenarioDef {
            name: $name,
            label: Label::$label,
            attack_ids: &[$($id),*],
            tactics: &[$($tac),*],
            summary: $summary,
            run: $run,
        }
    };
}

/// Every scenario, in truth-file order.
pub static SCENARIOS: &[ScenarioDef] = &[
    scenario!(
        "leaked-access-key",
        Malicious,
        ["T1078.004"],
        ["initial-access"],
        "A reporting job's long-term access key is used from a VPS with an attack-tool user agent.",
        initial_access::leaked_access_key
    ),
    scenario!(
        "console-brute-force",
        Malicious,
        ["T1110.001", "T1078.004"],
        ["credential-access", "initial-access"],
        "Dozens of failed console sign-ins for one IAM user, then a success without MFA.",
        initial_access::console_brute_force
    ),
    scenario!(
        "root-account-use",
        Malicious,
        ["T1078.004", "T1098.001"],
        ["initial-access", "persistence"],
        "The root user signs in to a member account without MFA and creates an access key.",
        initial_access::root_account_use
    ),
    scenario!(
        "discovery-burst",
        Malicious,
        ["T1580", "T1526", "T1087.004", "T1619"],
        ["discovery"],
        "Hundreds of List/Describe/Get calls across services and regions, many denied.",
        discovery::discovery_burst
    ),
    scenario!(
        "privesc-policy-version",
        Malicious,
        ["T1098.003"],
        ["privilege-escalation", "persistence"],
        "A new default version of an attached managed policy grants *:*.",
        privilege_escalation::policy_version
    ),
    scenario!(
        "privesc-attach-admin-self",
        Malicious,
        ["T1098.003"],
        ["privilege-escalation"],
        "An IAM user attaches AdministratorAccess to itself.",
        privilege_escalation::attach_admin_self
    ),
    scenario!(
        "privesc-put-user-policy",
        Malicious,
        ["T1098.003"],
        ["privilege-escalation"],
        "An IAM user writes an inline *:* policy on itself.",
        privilege_escalation::put_user_policy
    ),
    scenario!(
        "privesc-passrole-lambda",
        Malicious,
        ["T1098.003", "T1648"],
        ["privilege-escalation", "execution"],
        "PassRole of a privileged role to a new Lambda function that grants the caller admin.",
        privilege_escalation::passrole_lambda
    ),
    scenario!(
        "privesc-login-profile",
        Malicious,
        ["T1098.001", "T1078.004"],
        ["privilege-escalation", "persistence"],
        "Console passwords created and reset for other users, then used.",
        privilege_escalation::login_profile
    ),
    scenario!(
        "privesc-assume-role-policy",
        Malicious,
        ["T1098.003", "T1484.002"],
        ["privilege-escalation"],
        "A privileged role's trust policy is changed to trust an outside account, which assumes it.",
        privilege_escalation::assume_role_policy
    ),
    scenario!(
        "persistence-iam-user",
        Malicious,
        ["T1136.003", "T1098.001"],
        ["persistence"],
        "A new IAM user with an access key and admin rights, used hours later from elsewhere.",
        persistence::iam_user
    ),
    scenario!(
        "persistence-backdoor-role",
        Malicious,
        ["T1098.003", "T1136.003"],
        ["persistence"],
        "A new admin role trusting an external account, assumed from that account.",
        persistence::backdoor_role
    ),
    scenario!(
        "persistence-identity-provider",
        Malicious,
        ["T1484.002"],
        ["persistence", "defense-evasion"],
        "A SAML and an OIDC identity provider are created and a role federated to them.",
        persistence::identity_provider
    ),
    scenario!(
        "evasion-cloudtrail",
        Malicious,
        ["T1562.008"],
        ["defense-evasion"],
        "An account trail is stopped, its management events deselected, then deleted.",
        defense_evasion::cloudtrail
    ),
    scenario!(
        "evasion-security-services",
        Malicious,
        ["T1562.001", "T1562.008"],
        ["defense-evasion"],
        "GuardDuty detector deleted, Config recorder stopped, Security Hub disabled, flow logs deleted.",
        defense_evasion::security_services
    ),
    scenario!(
        "instance-credential-theft",
        Malicious,
        ["T1552.005", "T1078.004"],
        ["credential-access", "initial-access"],
        "An EC2 instance role session's credentials are used from outside AWS.",
        credential_access::instance_credentials
    ),
    scenario!(
        "lateral-role-chain",
        Malicious,
        ["T1078.004", "T1550.001"],
        ["lateral-movement"],
        "A developer's user assumes OrganizationAccountAccessRole into other member accounts.",
        lateral_movement::role_chain
    ),
    scenario!(
        "exfil-snapshot-share",
        Malicious,
        ["T1537"],
        ["exfiltration"],
        "An EBS snapshot and an AMI are shared with an outside account.",
        exfiltration::snapshot_share
    ),
    scenario!(
        "exfil-rds-snapshot",
        Malicious,
        ["T1537"],
        ["exfiltration"],
        "A database snapshot is made restorable by an outside account.",
        exfiltration::rds_snapshot
    ),
    scenario!(
        "exfil-bucket-public",
        Malicious,
        ["T1537", "T1530"],
        ["exfiltration", "collection"],
        "Public access block removed, bucket policy and ACL opened to everyone and an outside account.",
        exfiltration::bucket_public
    ),
    scenario!(
        "impact-gpu-mining",
        Malicious,
        ["T1496"],
        ["impact"],
        "GPU instances launched in regions the organization never uses.",
        impact::gpu_mining
    ),
    scenario!(
        "impact-kms-destruction",
        Malicious,
        ["T1485", "T1486"],
        ["impact"],
        "Customer managed KMS keys disabled and scheduled for deletion.",
        impact::kms_destruction
    ),
    scenario!(
        "impact-s3-destruction",
        Malicious,
        ["T1485"],
        ["impact"],
        "Mass DeleteObject on a data bucket (CloudTrail data events), a ransom note, a bucket deleted.",
        impact::s3_destruction
    ),
    scenario!(
        "flow-port-scan",
        Malicious,
        ["T1046"],
        ["discovery"],
        "One external address probes hundreds of ports on one host, mostly refused.",
        network::port_scan
    ),
    scenario!(
        "flow-host-sweep",
        Malicious,
        ["T1046"],
        ["discovery", "lateral-movement"],
        "A compromised instance probes one port on hundreds of internal addresses.",
        network::host_sweep
    ),
    scenario!(
        "flow-ssh-brute-force",
        Malicious,
        ["T1110.001"],
        ["credential-access"],
        "Hundreds of short SSH connections from one address to one host.",
        network::ssh_brute_force
    ),
    scenario!(
        "flow-exfiltration",
        Malicious,
        ["T1048"],
        ["exfiltration"],
        "Gigabytes leave one interface for an address it never talked to.",
        network::exfiltration
    ),
    scenario!(
        "s3-get-storm",
        Malicious,
        ["T1530"],
        ["collection"],
        "One requester downloads thousands of objects in minutes.",
        storage::get_storm
    ),
    scenario!(
        "s3-mass-delete",
        Malicious,
        ["T1485"],
        ["impact"],
        "Multi-object deletes wipe a bucket (access log only).",
        storage::mass_delete
    ),
    scenario!(
        "s3-anonymous-access",
        Malicious,
        ["T1530", "T1619"],
        ["collection", "discovery"],
        "Anonymous listing and downloads from a bucket that is never read anonymously.",
        storage::anonymous_access
    ),
    scenario!(
        "s3-access-denied-storm",
        Malicious,
        ["T1619"],
        ["discovery"],
        "An outside principal guesses keys across buckets, hundreds of 403s.",
        storage::access_denied_storm
    ),
    scenario!(
        "benign-admin-new-hire",
        Benign,
        [],
        [],
        "An administrator creates an IAM user for a new hire from the office; the new hire signs in and enables MFA.",
        benign::admin_new_hire
    ),
    scenario!(
        "benign-scanner-sweep",
        Benign,
        [],
        [],
        "The security scanner's daily read-only sweep of every account.",
        benign::scanner_sweep
    ),
    scenario!(
        "benign-nightly-backup",
        Benign,
        [],
        [],
        "Nightly snapshots copied to the organization's backup vault account.",
        benign::nightly_backup
    ),
    scenario!(
        "benign-traveller",
        Benign,
        [],
        [],
        "A developer on a day off abroad signs in once with MFA from a hotel, many hours after last working at home.",
        benign::traveller
    ),
    scenario!(
        "benign-cicd-deploy",
        Benign,
        [],
        [],
        "A pipeline deploy that updates Lambda functions and IAM roles.",
        benign::cicd_deploy
    ),
    scenario!(
        "benign-new-service",
        Benign,
        [],
        [],
        "A team starts calling Amazon Bedrock from a new function.",
        benign::new_service
    ),
    // Appended (not grouped with the other attacks) so earlier scenarios keep their tags and
    // therefore their attacker networks.
    scenario!(
        "impossible-travel",
        Malicious,
        ["T1078.004"],
        ["initial-access"],
        "A developer signs in at the office; within half an hour the same user signs in with MFA from a home connection on another continent and reads secrets, buckets and users.",
        initial_access::impossible_travel
    ),
];

/// A record injected into the output by a scenario.
#[derive(Debug, Clone)]
pub(crate) enum InjKind {
    Ct {
        region: &'static str,
        json: Vec<u8>,
        event_id: String,
    },
    Flow(FlowRec),
    S3 {
        bucket: usize,
        line: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Injection {
    /// Account whose logs hold the record.
    pub account: usize,
    pub time_ms: i64,
    pub tag: u16,
    pub kind: InjKind,
}

/// Collects injections; implements [`Out`] so background helpers can be reused by scenarios.
#[derive(Debug, Default)]
pub(crate) struct Injections {
    pub items: Vec<Injection>,
    eni_account: Vec<usize>,
    bucket_account: Vec<usize>,
    end_ms: i64,
}

impl Injections {
    pub(crate) fn new(org: &Org, end_ms: i64) -> Self {
        Injections {
            items: Vec::new(),
            eni_account: org.enis.iter().map(|e| e.account).collect(),
            bucket_account: org.buckets.iter().map(|b| b.account).collect(),
            end_ms,
        }
    }
}

impl Out for Injections {
    fn ct(
        &mut self,
        account: usize,
        region: &'static str,
        time_ms: i64,
        event_id: String,
        json: &[u8],
        tag: Tag,
    ) {
        if let Some(tag) = tag.filter(|_| time_ms < self.end_ms) {
            self.items.push(Injection {
                account,
                time_ms,
                tag,
                kind: InjKind::Ct {
                    region,
                    json: json.to_vec(),
                    event_id,
                },
            });
        }
    }
    fn flow(&mut self, rec: FlowRec, tag: Tag) {
        let time_ms = rec.time_ms();
        let account = self.eni_account.get(rec.eni).copied().unwrap_or(0);
        if let Some(tag) = tag.filter(|_| time_ms < self.end_ms) {
            self.items.push(Injection {
                account,
                time_ms,
                tag,
                kind: InjKind::Flow(rec),
            });
        }
    }
    fn s3(&mut self, bucket: usize, time_ms: i64, line: &[u8], tag: Tag) {
        let account = self.bucket_account.get(bucket).copied().unwrap_or(0);
        if let Some(tag) = tag.filter(|_| time_ms < self.end_ms) {
            self.items.push(Injection {
                account,
                time_ms,
                tag,
                kind: InjKind::S3 {
                    bucket,
                    line: line.to_vec(),
                },
            });
        }
    }
}

/// Who acts in a scenario step: caller identity, origin and home region.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    /// Account whose trail records the calls.
    pub account: usize,
    pub acct: String,
    pub who: Who,
    pub ip: String,
    pub ua: String,
    pub region: &'static str,
}

/// What one scenario run has to work with.
pub(crate) struct Ctx<'a> {
    pub sim: &'a Simulation,
    pub org: &'a Org,
    pub r: SimRng,
    /// Time cursor (ms); scenarios move it forward as they act.
    pub t: i64,
    pub tag: u16,
    pub ind: Indicators,
    pub store: &'a mut Injections,
    pub bg: Vec<(BgFeature, i64, u16)>,
    scratch: Vec<u8>,
    /// Index of this scenario's attacker network.
    net: usize,
    hosts: u8,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        sim: &'a Simulation,
        r: SimRng,
        t: i64,
        tag: u16,
        store: &'a mut Injections,
    ) -> Self {
        Ctx {
            sim,
            org: &sim.org,
            r,
            t,
            tag,
            ind: Indicators::default(),
            store,
            bg: Vec::new(),
            scratch: Vec::new(),
            net: usize::from(tag) % ATTACKER_NETS.len(),
            hosts: 0,
        }
    }

    /// Moves the cursor forward by a random amount in `lo..=hi` ms; returns the new time.
    pub(crate) fn step(&mut self, lo: i64, hi: i64) -> i64 {
        self.t += self.r.between(lo, hi);
        self.t
    }

    /// Moves the cursor to `hour` local time (UTC offset `tz_min`) on or around the cursor's
    /// day, staying on or after the day the scenario was placed on and a few hours before the
    /// end of the run; leaves the cursor alone when no such time exists (very short runs).
    pub(crate) fn at_local_hour(&mut self, tz_min: i32, hour: i64) {
        let tz = i64::from(tz_min) * 60_000;
        let local_day = (self.t + tz).div_euclid(DAY) * DAY;
        let t = local_day + hour * HOUR - tz + self.r.between(0, 50 * 60_000);
        let lo = self.t.div_euclid(DAY) * DAY;
        let hi = self.sim.end_ms() - 3 * HOUR;
        if let Some(t) = [t, t + DAY, t - DAY]
            .into_iter()
            .find(|t| (lo..=hi).contains(t))
        {
            self.t = t;
        }
    }

    /// Simulation day of the cursor.
    pub(crate) fn day(&self) -> i64 {
        (self.t - self.sim.start_ms()).div_euclid(DAY)
    }

    /// A fresh attacker address (recorded as an indicator): one network per scenario.
    pub(crate) fn attacker_ip(&mut self) -> String {
        let n = ATTACKER_NETS[self.net];
        self.hosts = self.hosts.wrapping_add(1);
        let host = 10 + (self.r.between(0, 200) as u8 / 8) * 8 + self.hosts % 8;
        let ip = Ipv4Addr::new(n[0], n[1], n[2], host).to_string();
        self.ind.ips.insert(ip.clone());
        ip
    }

    /// An AWS account outside the organization (recorded as an indicator).
    pub(crate) fn external_account(&mut self) -> String {
        loop {
            let id = format!(
                "{}{:011}",
                self.r.between(1, 9),
                self.r.between(0, 99_999_999_999)
            );
            if !self.org.is_org_account(&id) {
                self.ind.accounts.insert(id.clone());
                return id;
            }
        }
    }

    pub(crate) fn principal(&mut self, arn: &str) {
        if !arn.is_empty() {
            self.ind.principals.insert(arn.to_string());
        }
    }
    pub(crate) fn key(&mut self, key: &str) {
        if !key.is_empty() {
            self.ind.access_keys.insert(key.to_string());
        }
    }
    pub(crate) fn resource(&mut self, id: &str) {
        self.ind.resources.insert(id.to_string());
    }
    /// Records a caller identity's principal and key as indicators.
    pub(crate) fn who(&mut self, who: &Who) {
        let (arn, key) = (who.arn.clone(), who.key.clone());
        self.principal(&arn);
        self.key(&key);
    }

    /// The attacker (attack-tool user agent, attacker address) in a stolen, MFA-less
    /// Identity Center session of `role` for `person`, minted `age_ms` before the cursor.
    /// The session key is drawn before the address: the order of draws is part of a seed's
    /// output.
    pub(crate) fn stolen_sso_actor(
        &mut self,
        account: usize,
        role: &super::org::Role,
        person: &str,
        age_ms: i64,
    ) -> Actor {
        let key = format!("ASIA{}", self.r.upper_id(16));
        let who = super::ct::assumed(
            role,
            person,
            super::ct::Session {
                access_key: &key,
                created_ms: self.t - age_ms,
                mfa: false,
            },
            super::ct::AssumedOpts::default(),
        );
        let ip = self.attacker_ip();
        self.actor(account, who, &ip, super::catalog::ATTACKER_UAS[0])
    }

    /// An actor in `account` (calls recorded there) with the account's primary region; the
    /// identity's principal and key become indicators.
    pub(crate) fn actor(&mut self, account: usize, who: Who, ip: &str, ua: &str) -> Actor {
        self.who(&who);
        let org = self.org;
        Actor {
            account,
            acct: org.account_id(account).to_string(),
            who,
            ip: ip.to_string(),
            ua: ua.to_string(),
            region: org.accounts[account].regions[0],
        }
    }

    /// A call by `a` at the cursor (global services in us-east-1).
    pub(crate) fn call<'c>(&self, a: &'c Actor, source: &'c str, name: &'c str) -> CtCall<'c> {
        let region = if matches!(
            source,
            "iam.amazonaws.com" | "organizations.amazonaws.com" | "signin.amazonaws.com"
        ) {
            "us-east-1"
        } else {
            a.region
        };
        CtCall::api(self.t, &a.who, source, name, region, &a.ip, &a.ua, &a.acct)
    }

    /// Advances the cursor a little (a person or a tool between two calls) and records `call`
    /// at the new time in the actor's account.
    pub(crate) fn emit(&mut self, a: &Actor, mut call: CtCall<'_>) -> String {
        self.step(400, 6000);
        call.time_ms = self.t;
        self.ct(a.account, &call)
    }

    /// Like [`Ctx::emit`] at tool speed (tens to hundreds of milliseconds between calls).
    pub(crate) fn emit_fast(&mut self, a: &Actor, mut call: CtCall<'_>) -> String {
        self.step(60, 900);
        call.time_ms = self.t;
        self.ct(a.account, &call)
    }

    /// Renders a CloudTrail record into `account`'s trail.
    pub(crate) fn ct(&mut self, account: usize, call: &CtCall<'_>) -> String {
        self.scratch.clear();
        let id = call.render(&mut self.r, &mut self.scratch);
        self.store.ct(
            account,
            call.region,
            call.time_ms,
            id.clone(),
            &self.scratch,
            Some(self.tag),
        );
        id
    }

    pub(crate) fn flow(&mut self, rec: FlowRec) {
        self.store.flow(rec, Some(self.tag));
    }

    /// Runs background helpers (object requests, deployments) with output going into this
    /// scenario, tagged.
    pub(crate) fn with_gen<R>(
        &mut self,
        account: usize,
        f: impl FnOnce(&mut Gen<'_>, &mut SimRng, Tag) -> R,
    ) -> R {
        let day = self.day();
        let hour_ms = self.t.div_euclid(HOUR) * HOUR;
        let mut g = Gen {
            sim: self.sim,
            org: self.org,
            out: self.store,
            scratch: Vec::new(),
            account,
            day,
            hour_ms,
            scale: self.sim.cfg.scale,
        };
        f(&mut g, &mut self.r, Some(self.tag))
    }

    /// Labels a background feature on `day` as this scenario.
    pub(crate) fn label_background(&mut self, feature: BgFeature, day: i64) {
        self.bg.push((feature, day, self.tag));
    }
}

/// All regions an enumeration tool walks through.
pub(crate) const ALL_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "eu-north-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-south-1",
    "ca-central-1",
    "sa-east-1",
];

/// An Identity Center session able to change workloads in a member account: the `nth`
/// developer with a non-production account, or (single-account organizations) an
/// administrator in production. Returns the person, the account and the permission-set role.
pub(crate) fn member_session(
    org: &Org,
    nth: usize,
) -> Option<(&super::org::Human, usize, super::org::Role)> {
    use super::org::{AccountRole, HumanKind};
    let devs: Vec<(&super::org::Human, usize)> = org
        .humans
        .iter()
        .filter(|h| h.kind == HumanKind::Developer && h.iam.is_none() && h.start_day == 0)
        .filter_map(|h| {
            h.sso
                .iter()
                .find(|(a, _)| {
                    org.accounts[*a].role == AccountRole::Member && org.accounts[*a].env != "prod"
                })
                .map(|(a, _)| (h, *a))
        })
        .collect();
    let (h, acc) = match devs.get(nth % devs.len().max(1)) {
        Some(x) => *x,
        None => (
            org.humans.iter().find(|h| h.kind == HumanKind::Admin)?,
            org.prod(),
        ),
    };
    Some((h, acc, org.sso_role(h, acc)?.clone()))
}

/// Position of a scenario in the registry.
pub fn index_of(name: &str) -> Option<usize> {
    SCENARIOS.iter().position(|s| s.name == name)
}
