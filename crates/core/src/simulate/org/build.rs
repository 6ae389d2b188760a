//! Building the organization from the seed: accounts and their roles, people, workloads,
//! networks and buckets, in a fixed order so one seed always gives the same organization.

use std::net::Ipv4Addr;

use rand::Rng;

use super::*;
use crate::simulate::Config;
use crate::simulate::catalog::{self, OFFICES};
use crate::simulate::rng::{RngExt, SimRng, rng_for, tag};

/// Member account environments, in order of creation.
const ENVS: &[&str] = &["prod", "staging", "dev", "data", "sandbox", "shared"];

fn account_id(r: &mut SimRng) -> String {
    format!("{}{:011}", r.between(1, 9), r.between(0, 99_999_999_999))
}

fn public_ip(r: &mut SimRng, nets: &[[u8; 2]]) -> Ipv4Addr {
    let n = r.pick(nets);
    Ipv4Addr::new(n[0], n[1], r.between(0, 255) as u8, r.between(1, 254) as u8)
}

struct Builder {
    r: SimRng,
    org: Org,
}

impl Builder {
    fn role(&mut self, account: usize, name: &str, path: &str) -> usize {
        let role = Role {
            account,
            account_id: self.org.accounts[account].id.clone(),
            name: name.to_string(),
            path: path.to_string(),
            role_id: format!("AROA{}", self.r.upper_id(17)),
        };
        self.org.roles.push(role);
        self.org.roles.len() - 1
    }

    fn iam_user(&mut self, account: usize, name: &str, console: bool) -> IamUser {
        IamUser {
            account,
            account_id: self.org.accounts[account].id.clone(),
            name: name.to_string(),
            user_id: format!("AIDA{}", self.r.upper_id(17)),
            access_key: format!("AKIA{}", self.r.upper_id(16)),
            console,
        }
    }

    fn eni(&mut self, vpc: usize, kind: EniKind, public: bool, instance: Option<String>) -> usize {
        let octet = self.org.vpcs[vpc].octet;
        let az = self.r.index(3);
        let third = if public {
            100 + az
        } else {
            az * 16 + self.r.index(12)
        };
        let private_ip = Ipv4Addr::new(10, octet, third as u8, self.r.between(4, 250) as u8);
        let public_ip = public.then(|| public_ip(&mut self.r, catalog::AWS_NETS));
        let eni = Eni {
            account: self.org.vpcs[vpc].account,
            vpc,
            id: format!("eni-0{}", self.r.hex(16)),
            kind,
            private_ip,
            public_ip,
            subnet: format!("subnet-0{}", self.r.hex(16)),
            az,
            instance_id: instance,
        };
        self.org.enis.push(eni);
        let i = self.org.enis.len() - 1;
        self.org.vpcs[vpc].enis.push(i);
        i
    }
}

/// Entity counts grow with the square root of the scale; per-entity rates grow with the rest,
/// so a larger corpus has both more things and busier things.
fn count(base: usize, scale: f64) -> usize {
    let f = scale.max(0.01).sqrt();
    ((base as f64) * f).round().max(1.0) as usize
}

pub(crate) fn build(cfg: &Config) -> Org {
    let mut r = rng_for(cfg.seed, &[tag("org")]);
    let company = *r.pick(catalog::COMPANIES);
    let primary = *r.pick(catalog::HOME_REGIONS);
    let secondary = loop {
        let s = *r.pick(catalog::HOME_REGIONS);
        if s != primary {
            break s;
        }
    };
    let org_id = format!("o-{}", r.alnum(10).to_ascii_lowercase());
    let org = Org {
        org_id,
        company,
        domain: format!("{company}-corp.com"),
        accounts: Vec::new(),
        mgmt: 0,
        security: 1,
        primary_region: primary,
        secondary_region: secondary,
        trail_name: format!("{company}-org-trail"),
        trail_bucket: String::new(),
        offices: Vec::new(),
        humans: Vec::new(),
        roles: Vec::new(),
        service_users: Vec::new(),
        instances: Vec::new(),
        functions: Vec::new(),
        services: Vec::new(),
        pipelines: Vec::new(),
        buckets: Vec::new(),
        vpcs: Vec::new(),
        enis: Vec::new(),
        databases: Vec::new(),
        keys: Vec::new(),
        scanner_role: 0,
        backup_roles: Vec::new(),
        new_hire: 0,
        reporting_user: 0,
    };
    let mut b = Builder { r, org };
    accounts(&mut b, cfg);
    people(&mut b, cfg);
    workloads(&mut b, cfg);
    storage(&mut b);
    b.org
}

fn accounts(b: &mut Builder, cfg: &Config) {
    let company = b.org.company;
    let n_members = cfg.accounts.max(1) as usize;
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..n_members + 2 {
        let id = loop {
            let id = account_id(&mut b.r);
            if ids.insert(id.clone()) {
                break id;
            }
        };
        let (role, env) = match i {
            0 => (AccountRole::Management, "management".to_string()),
            1 => (AccountRole::Security, "security".to_string()),
            n => (
                AccountRole::Member,
                ENVS.get(n - 2)
                    .map_or_else(|| format!("team-{:02}", n - 1), |e| e.to_string()),
            ),
        };
        let mut regions = vec![b.org.primary_region];
        if env == "prod" {
            regions.push(b.org.secondary_region);
        }
        if !regions.contains(&"us-east-1") {
            regions.push("us-east-1");
        }
        b.org.accounts.push(Account {
            index: i,
            id,
            name: format!("{company}-{env}"),
            role,
            env,
            regions,
            sso_roles: Vec::new(),
            audit_role: 0,
            config_role: 0,
            org_access_role: 0,
        });
    }
    for a in 0..b.org.accounts.len() {
        let audit = b.role(a, "SecurityAuditRole", "/");
        let config = b.role(
            a,
            "AWSServiceRoleForConfig",
            "/aws-service-role/config.amazonaws.com/",
        );
        let org_access = b.role(a, "OrganizationAccountAccessRole", "/");
        let mut sso = Vec::new();
        let perms: &[&'static str] = match b.org.accounts[a].role {
            AccountRole::Management => &["AdministratorAccess", "Billing", "SecurityAudit"],
            AccountRole::Security => &["AdministratorAccess", "SecurityAudit", "ReadOnlyAccess"],
            AccountRole::Member => &[
                "AdministratorAccess",
                "DeveloperAccess",
                "ReadOnlyAccess",
                "SecurityAudit",
            ],
        };
        for perm in perms {
            let suffix = b.r.hex(16);
            let role = b.role(
                a,
                &format!("AWSReservedSSO_{perm}_{suffix}"),
                "/aws-reserved/sso.amazonaws.com/",
            );
            sso.push(SsoRole { perm, role });
        }
        let acc = &mut b.org.accounts[a];
        acc.audit_role = audit;
        acc.config_role = config;
        acc.org_access_role = org_access;
        acc.sso_roles = sso;
    }
    b.org.scanner_role = b.role(1, "security-scanner-lambda-role", "/service-role/");
    let sec_id = b.org.accounts[1].id.clone();
    b.org.trail_bucket = format!("{company}-org-cloudtrail-{sec_id}");
}

fn sso_index(acc: &Account, perm: &str) -> usize {
    acc.sso_roles
        .iter()
        .position(|s| s.perm == perm)
        .unwrap_or(0)
}

fn people(b: &mut Builder, cfg: &Config) {
    // Two or three offices.
    let n_offices = 2 + b.r.index(2);
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < n_offices {
        let o = b.r.index(OFFICES.len());
        if !chosen.contains(&o) {
            chosen.push(o);
        }
    }
    for o in chosen {
        let def = OFFICES[o];
        let base = b.r.between(10, 200) as u8;
        let ips = (0..3)
            .map(|k| Ipv4Addr::new(def.net[0], def.net[1], def.net[2], base + k))
            .collect();
        b.org.offices.push(Office { def, ips });
    }
    let members: Vec<usize> = (2..b.org.accounts.len()).collect();
    let n_devs = (2 + 2 * members.len()).min(40);
    let mut kinds = vec![
        HumanKind::Admin,
        HumanKind::Admin,
        HumanKind::Security,
        HumanKind::Finance,
    ];
    kinds.extend(std::iter::repeat_n(HumanKind::Developer, n_devs));
    let mut used = std::collections::BTreeSet::new();
    let hire_day = (cfg.days / 2).max(1);
    let n = kinds.len();
    for (i, kind) in kinds.into_iter().enumerate() {
        let name = loop {
            let n = format!(
                "{}.{}",
                b.r.pick(catalog::FIRST_NAMES),
                b.r.pick(catalog::LAST_NAMES)
            );
            if used.insert(n.clone()) {
                break n;
            }
        };
        let office = b.r.index(b.org.offices.len());
        let def = b.org.offices[office].def;
        let home_ip = public_ip(&mut b.r, def.home_nets);
        let mut sso = Vec::new();
        for a in 0..b.org.accounts.len() {
            let acc = &b.org.accounts[a];
            let perm = match (kind, acc.role) {
                (HumanKind::Admin, _) => Some("AdministratorAccess"),
                (HumanKind::Security, AccountRole::Security) => Some("AdministratorAccess"),
                (HumanKind::Security, _) => Some("SecurityAudit"),
                (HumanKind::Finance, AccountRole::Management) => Some("Billing"),
                (HumanKind::Developer, AccountRole::Member) if acc.env == "prod" => {
                    Some("ReadOnlyAccess")
                }
                (HumanKind::Developer, AccountRole::Member) => Some("DeveloperAccess"),
                _ => None,
            };
            if let Some(p) = perm {
                sso.push((a, sso_index(acc, p)));
            }
        }
        let start_day = if i == n - 1 { hire_day } else { 0 };
        let pace = match kind {
            HumanKind::Admin => 30.0,
            HumanKind::Developer => 22.0,
            HumanKind::Security => 18.0,
            HumanKind::Finance => 6.0,
        } * (0.6 + b.r.random::<f64>() * 0.8);
        let browser = *b.r.pick(catalog::BROWSERS);
        let cli = *b.r.pick(catalog::CLIS);
        b.org.humans.push(Human {
            email: format!("{name}@{}", b.org.domain),
            name,
            kind,
            office,
            home_ip,
            tz_min: def.tz_min,
            browser,
            cli,
            sso,
            iam: None,
            start_day,
            pace,
        });
    }
    b.org.new_hire = b.org.humans.len() - 1;
    // Two long-serving developers still use IAM users (console with MFA, CLI with keys) in the
    // last member account.
    let legacy_acc = *members.last().unwrap_or(&0);
    for h in [4usize, 5] {
        if h < b.org.humans.len() - 1 {
            let short = b.org.humans[h]
                .name
                .split('.')
                .next()
                .unwrap_or("user")
                .to_string();
            let user = b.iam_user(legacy_acc, &short, true);
            b.org.humans[h].iam = Some(user);
        }
    }
    // The reporting job's service user in the first member account.
    let first = *members.first().unwrap_or(&0);
    let svc = b.iam_user(first, "svc-reporting", false);
    b.org.service_users.push(svc);
    b.org.reporting_user = 0;
}

fn workloads(b: &mut Builder, cfg: &Config) {
    let members: Vec<usize> = (2..b.org.accounts.len()).collect();
    let primary = b.org.primary_region;
    for (mi, &a) in members.iter().enumerate() {
        let env = b.org.accounts[a].env.clone();
        let prod = env == "prod";
        // VPCs: one in the primary region, prod also in the secondary region.
        let mut vpc_regions = vec![primary];
        if prod {
            vpc_regions.push(b.org.secondary_region);
        }
        let mut main_vpc = 0;
        for (vi, region) in vpc_regions.iter().enumerate() {
            let vpc = Vpc {
                account: a,
                region,
                id: format!("vpc-0{}", b.r.hex(16)),
                octet: (16 + mi * 4 + vi) as u8,
                flow_log: format!("fl-0{}", b.r.hex(16)),
                custom_format: (mi + vi) % 2 == 1,
                enis: Vec::new(),
            };
            b.org.vpcs.push(vpc);
            let v = b.org.vpcs.len() - 1;
            if vi == 0 {
                main_vpc = v;
            }
            b.eni(v, EniKind::LoadBalancer, true, None);
            b.eni(v, EniKind::LoadBalancer, true, None);
            b.eni(v, EniKind::Nat, true, None);
        }
        let base_instances = if prod { 4 } else { 2 };
        let inst_role = b.role(a, &format!("{env}-app-instance-role"), "/");
        for k in 0..count(base_instances, cfg.scale) {
            let id = format!("i-0{}", b.r.hex(16));
            let eni = b.eni(main_vpc, EniKind::Instance, k % 2 == 0, Some(id.clone()));
            let inst = Instance {
                account: a,
                region: primary,
                id,
                role: inst_role,
                eni,
                volume: format!("vol-0{}", b.r.hex(16)),
                ami: format!("ami-0{}", b.r.hex(16)),
            };
            b.org.instances.push(inst);
        }
        if prod || env == "staging" {
            let eni = b.eni(main_vpc, EniKind::Database, false, None);
            let id = format!("{env}-{}-db", b.r.pick(catalog::APPS));
            b.org.databases.push(Database {
                account: a,
                region: primary,
                id,
                eni,
            });
        }
        for alias in ["app-data", "backups"] {
            let id = b.r.uuid();
            b.org.keys.push(KmsKey {
                account: a,
                region: primary,
                id,
                alias: format!("alias/{env}-{alias}"),
            });
        }
        let n_fn = count(if prod { 5 } else { 3 }, cfg.scale);
        let mut fns = Vec::new();
        for k in 0..n_fn {
            let app = b.r.pick(catalog::APPS);
            let verb = ["api", "worker", "sync", "report", "webhook", "cleanup"][k % 6];
            let name = format!("{env}-{app}-{verb}-{k}");
            let role = b.role(a, &format!("{name}-role"), "/service-role/");
            let runtime =
                *b.r.pick(&[Runtime::Node, Runtime::Python, Runtime::Java, Runtime::Go]);
            let rate = 4.0 + b.r.random::<f64>() * 12.0;
            let egress_ip = public_ip(&mut b.r, catalog::AWS_NETS);
            b.org.functions.push(Function {
                account: a,
                region: primary,
                name,
                role,
                runtime,
                rate,
                egress_ip,
                start_day: 0,
            });
            fns.push(b.org.functions.len() - 1);
        }
        if mi == 0 {
            // Drift: a team adopts Amazon Bedrock half way through the period.
            let name = format!("{env}-ticket-summarizer");
            let role = b.role(a, &format!("{name}-role"), "/service-role/");
            let egress_ip = public_ip(&mut b.r, catalog::AWS_NETS);
            b.org.functions.push(Function {
                account: a,
                region: primary,
                name,
                role,
                runtime: Runtime::Python,
                rate: 6.0,
                egress_ip,
                start_day: (cfg.days * 2 / 3).max(1),
            });
        }
        let n_svc = if prod { 2 } else { 1 };
        for _ in 0..n_svc {
            let app = b.r.pick(catalog::APPS);
            let name = format!("{app}-svc");
            let task_role = b.role(a, &format!("{env}-{app}-task-role"), "/");
            let exec_role = b.role(a, "ecsTaskExecutionRole", "/");
            let mut enis = Vec::new();
            for _ in 0..count(2, cfg.scale) {
                enis.push(b.eni(main_vpc, EniKind::Task, false, None));
            }
            b.org.services.push(EcsService {
                account: a,
                region: primary,
                cluster: format!("{env}-cluster"),
                name,
                task_role,
                exec_role,
                enis,
            });
        }
        let role = b.role(a, "github-actions-deploy", "/");
        let company = b.org.company;
        let acc_id = b.org.accounts[a].id.clone();
        b.org.pipelines.push(Pipeline {
            account: a,
            role,
            repo: format!("{company}/{}-platform", b.r.pick(catalog::APPS)),
            provider_arn: format!(
                "arn:aws:iam::{acc_id}:oidc-provider/token.actions.githubusercontent.com"
            ),
            functions: fns,
            stack: format!("{env}-app-stack"),
        });
        let backup = b.role(a, "AWSBackupDefaultServiceRole", "/service-role/");
        b.org.backup_roles.push((a, backup));
    }
}

fn canonical_id(r: &mut SimRng) -> String {
    r.hex(64)
}

fn storage(b: &mut Builder) {
    let company = b.org.company;
    let primary = b.org.primary_region;
    for a in 0..b.org.accounts.len() {
        let acc = b.org.accounts[a].clone();
        let owner = canonical_id(&mut b.r);
        let add = |b: &mut Builder, name: String, kind: BucketKind, logged: bool, data: bool| {
            b.org.buckets.push(Bucket {
                account: a,
                region: primary,
                name,
                kind,
                access_logged: logged,
                data_events: data,
                owner_canonical: owner.clone(),
            });
        };
        match acc.role {
            AccountRole::Security => {
                add(
                    b,
                    b.org.trail_bucket.clone(),
                    BucketKind::Trail,
                    false,
                    false,
                );
                add(
                    b,
                    format!("{company}-s3-access-logs-{}", acc.id),
                    BucketKind::AccessLogs,
                    false,
                    false,
                );
            }
            AccountRole::Management => {
                add(
                    b,
                    format!("{company}-billing-reports-{}", acc.id),
                    BucketKind::Artifacts,
                    false,
                    false,
                );
            }
            AccountRole::Member => {
                let env = &acc.env;
                add(
                    b,
                    format!("{company}-{env}-data-{}", acc.id),
                    BucketKind::Data,
                    true,
                    true,
                );
                add(
                    b,
                    format!("{company}-{env}-assets-{}", acc.id),
                    BucketKind::Assets,
                    true,
                    false,
                );
                add(
                    b,
                    format!("{company}-{env}-artifacts-{}", acc.id),
                    BucketKind::Artifacts,
                    true,
                    false,
                );
                if env == "prod" {
                    add(
                        b,
                        format!("{company}-public-downloads"),
                        BucketKind::Public,
                        true,
                        false,
                    );
                }
            }
        }
    }
}
