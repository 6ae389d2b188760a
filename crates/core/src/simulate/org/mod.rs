//! The synthetic organization: accounts, people, workloads, buckets, networks. Built once from
//! the seed; every generator reads it and nothing mutates it afterwards, which is what lets
//! chunks of output be generated independently and in parallel.

mod build;

use std::net::Ipv4Addr;

pub(crate) use build::build;

use super::catalog::OfficeDef;

/// What an account is for; it decides which activity runs there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRole {
    /// The Organizations management account (billing, SSO administration).
    Management,
    /// Log archive and security tooling (the trail bucket, the scanner).
    Security,
    /// Workload accounts.
    Member,
}

/// An IAM Identity Center permission set as provisioned into one account.
#[derive(Debug, Clone)]
pub struct SsoRole {
    /// Permission set name, e.g. `AdministratorAccess`.
    pub perm: &'static str,
    pub role: usize,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub index: usize,
    pub id: String,
    pub name: String,
    pub role: AccountRole,
    /// `prod`, `staging`, `dev`... (`management`/`security` for the platform accounts).
    pub env: String,
    /// Regions with regular activity; the primary region first, `us-east-1` always present
    /// (global services log there).
    pub regions: Vec<&'static str>,
    pub sso_roles: Vec<SsoRole>,
    /// `SecurityAuditRole` the scanner assumes.
    pub audit_role: usize,
    /// AWS Config's service-linked role.
    pub config_role: usize,
    /// `OrganizationAccountAccessRole`.
    pub org_access_role: usize,
}

/// An IAM role (also used for SSO permission-set roles and service-linked roles).
#[derive(Debug, Clone)]
pub struct Role {
    pub account: usize,
    pub account_id: String,
    pub name: String,
    /// IAM path, `/` or e.g. `/aws-reserved/sso.amazonaws.com/`.
    pub path: String,
    /// `AROA...` unique id.
    pub role_id: String,
}

impl Role {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account_id, self.path, self.name
        )
    }
    pub fn session_arn(&self, session: &str) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account_id, self.name, session
        )
    }
}

/// An IAM user with a long-term access key.
#[derive(Debug, Clone)]
pub struct IamUser {
    pub account: usize,
    pub account_id: String,
    pub name: String,
    /// `AIDA...` unique id.
    pub user_id: String,
    /// `AKIA...` long-term key.
    pub access_key: String,
    pub console: bool,
}

impl IamUser {
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:user/{}", self.account_id, self.name)
    }
}

/// What a person does all day, which decides permissions and the mix of API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HumanKind {
    Admin,
    Developer,
    Security,
    Finance,
}

#[derive(Debug, Clone)]
pub struct Office {
    pub def: OfficeDef,
    /// NAT addresses of the office (a few, shared by everyone there).
    pub ips: Vec<Ipv4Addr>,
}

#[derive(Debug, Clone)]
pub struct Human {
    /// `first.last`
    pub name: String,
    pub email: String,
    pub kind: HumanKind,
    pub office: usize,
    pub home_ip: Ipv4Addr,
    /// Offset from UTC in minutes (from the office).
    pub tz_min: i32,
    pub browser: &'static str,
    pub cli: &'static str,
    /// IAM Identity Center access: (account, index into that account's `sso_roles`).
    pub sso: Vec<(usize, usize)>,
    /// Legacy IAM user in one account, for people who predate Identity Center.
    pub iam: Option<IamUser>,
    /// First simulated day this person works (a new hire appears mid-period).
    pub start_day: u32,
    /// Mean API calls per working hour.
    pub pace: f64,
}

/// EC2 instance with an instance profile.
#[derive(Debug, Clone)]
pub struct Instance {
    pub account: usize,
    pub region: &'static str,
    pub id: String,
    pub role: usize,
    pub eni: usize,
    pub volume: String,
    pub ami: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Node,
    Python,
    Java,
    Go,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub account: usize,
    pub region: &'static str,
    pub name: String,
    pub role: usize,
    pub runtime: Runtime,
    /// Relative activity (calls per hour at scale 1).
    pub rate: f64,
    /// Egress address (AWS range: functions are outside the VPC).
    pub egress_ip: Ipv4Addr,
    /// First day the function runs (drift: a service adopted mid-period).
    pub start_day: u32,
}

#[derive(Debug, Clone)]
pub struct EcsService {
    pub account: usize,
    pub region: &'static str,
    pub cluster: String,
    pub name: String,
    pub task_role: usize,
    pub exec_role: usize,
    /// One ENI per task slot (awsvpc networking).
    pub enis: Vec<usize>,
}

/// GitHub Actions deployment role (OIDC federation).
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub account: usize,
    pub role: usize,
    pub repo: String,
    pub provider_arn: String,
    pub functions: Vec<usize>,
    pub stack: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketKind {
    Data,
    Assets,
    Artifacts,
    Public,
    Trail,
    AccessLogs,
}

#[derive(Debug, Clone)]
pub struct Bucket {
    pub account: usize,
    pub region: &'static str,
    pub name: String,
    pub kind: BucketKind,
    /// Server access logging enabled (lines go to the access-log bucket).
    pub access_logged: bool,
    /// Object-level CloudTrail data events selected by the organization trail.
    pub data_events: bool,
    /// Canonical user id of the owning account (first field of access log lines).
    pub owner_canonical: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EniKind {
    Instance,
    Task,
    LoadBalancer,
    Nat,
    Database,
}

#[derive(Debug, Clone)]
pub struct Eni {
    pub account: usize,
    pub vpc: usize,
    pub id: String,
    pub kind: EniKind,
    pub private_ip: Ipv4Addr,
    pub public_ip: Option<Ipv4Addr>,
    pub subnet: String,
    pub az: usize,
    pub instance_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Vpc {
    pub account: usize,
    pub region: &'static str,
    pub id: String,
    /// Second octet of the 10.x.0.0/16 range.
    pub octet: u8,
    pub flow_log: String,
    /// Custom (version 5, all fields) format rather than the default.
    pub custom_format: bool,
    pub enis: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Database {
    pub account: usize,
    pub region: &'static str,
    pub id: String,
    pub eni: usize,
}

#[derive(Debug, Clone)]
pub struct KmsKey {
    pub account: usize,
    pub region: &'static str,
    pub id: String,
    pub alias: String,
}

/// The whole synthetic organization.
#[derive(Debug, Clone)]
pub struct Org {
    pub org_id: String,
    pub company: &'static str,
    pub domain: String,
    pub accounts: Vec<Account>,
    pub mgmt: usize,
    pub security: usize,
    pub primary_region: &'static str,
    pub secondary_region: &'static str,
    pub trail_name: String,
    pub trail_bucket: String,
    pub offices: Vec<Office>,
    pub humans: Vec<Human>,
    pub roles: Vec<Role>,
    pub service_users: Vec<IamUser>,
    pub instances: Vec<Instance>,
    pub functions: Vec<Function>,
    pub services: Vec<EcsService>,
    pub pipelines: Vec<Pipeline>,
    pub buckets: Vec<Bucket>,
    pub vpcs: Vec<Vpc>,
    pub enis: Vec<Eni>,
    pub databases: Vec<Database>,
    pub keys: Vec<KmsKey>,
    /// The scanner's own role in the security account.
    pub scanner_role: usize,
    /// Backup service role per member account (account index, role index).
    pub backup_roles: Vec<(usize, usize)>,
    /// Index of the new hire in `humans`.
    pub new_hire: usize,
    /// Index of the reporting job's IAM user in `service_users` (the key that leaks).
    pub reporting_user: usize,
}

impl Org {
    pub fn account_id(&self, a: usize) -> &str {
        &self.accounts[a].id
    }

    pub fn members(&self) -> impl Iterator<Item = &Account> {
        self.accounts
            .iter()
            .filter(|a| a.role == AccountRole::Member)
    }

    pub fn is_org_account(&self, id: &str) -> bool {
        self.accounts.iter().any(|a| a.id == id)
    }

    /// The bucket that receives server access logs.
    pub fn access_log_bucket(&self) -> Option<&Bucket> {
        self.buckets
            .iter()
            .find(|b| b.kind == BucketKind::AccessLogs)
    }

    pub fn bucket_of(&self, account: usize, kind: BucketKind) -> Option<usize> {
        self.buckets
            .iter()
            .position(|b| b.account == account && b.kind == kind)
    }

    /// The SSO role a person uses in an account, if any.
    pub fn sso_role(&self, human: &Human, account: usize) -> Option<&Role> {
        let (_, idx) = human.sso.iter().find(|(a, _)| *a == account)?;
        let r = self.accounts[account].sso_roles.get(*idx)?;
        self.roles.get(r.role)
    }

    /// First member account (prod), the target of most scenarios.
    pub fn prod(&self) -> usize {
        self.members().next().map_or(0, |a| a.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::Config;

    #[test]
    fn org_shape() {
        let cfg = Config::default();
        let org = build(&cfg);
        assert_eq!(org.accounts.len(), cfg.accounts as usize + 2);
        assert!(org.org_id.starts_with("o-") && org.org_id.len() == 12);
        for a in &org.accounts {
            assert_eq!(a.id.len(), 12);
            assert!(a.id.bytes().all(|c| c.is_ascii_digit()));
            assert!(a.regions.contains(&"us-east-1"));
        }
        assert!(org.roles.iter().all(|r| r.role_id.len() == 21));
        assert!(org.humans.iter().any(|h| h.start_day > 0));
        assert!(org.humans.iter().any(|h| h.iam.is_some()));
        assert!(!org.instances.is_empty() && !org.functions.is_empty());
        assert!(
            org.vpcs.iter().any(|v| v.custom_format) && org.vpcs.iter().any(|v| !v.custom_format)
        );
        assert!(org.access_log_bucket().is_some());
    }
}
