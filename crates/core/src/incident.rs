//! Incidents: findings that share who acted (principal, access key, attacker address) within a
//! time window, grouped into one attack story with a timeline, a combined risk and the ATT&CK
//! tactics in kill-chain order, much like GuardDuty's attack sequences. The single findings are
//! kept as they are; an incident only references them.
//!
//! Linking rules, and why:
//! - **Strong pivots** link findings whose spans are at most [`IncidentConfig::window_ms`] (a
//!   day) apart:
//!   - the principal, normalised so that one actor has one key: an IAM user by account and name
//!     (a bare user name, as failed console sign-ins carry, is resolved in the finding's
//!     account), root per account, an assumed-role session by account, role and session name
//!     (the session, not the role: a role is shared by whoever may assume it, so a role ARN
//!     alone links only while few sessions of it appear);
//!   - the access key id;
//!   - a public IP address (not private, loopback, link-local, CGNAT, multicast or reserved).
//!     Documentation, benchmark and 6to4-relay ranges count as public: real logs never carry
//!     them, and simulators and fixtures use them as stand-ins for public addresses, office
//!     NATs included, which the sharing rule below must (and does) keep apart;
//!   - an AWS account outside the organisation (one no finding happened in), such as the
//!     account a backdoor trust or a snapshot share points to, or that assumed a role.
//! - **The person behind IAM Identity Center (SSO) sessions**, whose session name is their
//!   login, links sessions of one human across accounts and permission sets, but only within
//!   [`IncidentConfig::person_window_ms`] (six hours): a stolen identity-provider login reaches
//!   every permission set at once, while the same admin working on different days is not one
//!   story.
//! - **Shared pivots do not link.** A value seen with more than
//!   [`IncidentConfig::max_pivot_principals`] distinct actors (counted over every finding,
//!   informational ones included, since they are the best evidence of normal sharing) is shared
//!   infrastructure: an office NAT address, a CI role, a bucket everyone reads. Linking on it
//!   would glue unrelated people into one mega-incident.
//! - **Resources are weak pivots**: a bucket, trail, key or user a finding names links to
//!   another finding on it only within [`IncidentConfig::resource_window_ms`] (an hour), and
//!   only from findings naming few resources. Many principals touch the same resources on
//!   ordinary days and a storm over every bucket says nothing about any one; one change right
//!   after another on the same thing is usually one story (a user created and then signing in,
//!   a bucket opened and then read).
//! - User agents and user names never link: attack tools and names like `admin` are shared by
//!   unrelated actors.
//! - Informational findings are context, not alerts: below
//!   [`IncidentConfig::min_member_severity`] a finding joins no incident (it still counts for
//!   sharing). Daily change-audit notes would otherwise chain a principal's whole fortnight.
//! - A finding that repeats over more than the window (the store folds repeats into one
//!   finding) links only at its start: its later repeats must not bridge stories days apart.
//! - Links are taken closest first (single linkage, union-find) and a merge that would make an
//!   incident longer than [`IncidentConfig::max_span_ms`] is refused, so a principal with a
//!   finding every day becomes several incidents rather than one that grows for ever.
//!
//! The result does not depend on the input order: findings are put in a canonical order first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::finding::{Finding, ObservableType, Severity, SeverityThresholds, stable_id};

const HOUR_MS: i64 = 3_600_000;

/// How findings are grouped into incidents and which incidents are worth listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentConfig {
    /// Largest gap between two findings linked by a strong pivot (principal, key, public IP,
    /// foreign account). A day: attackers pause overnight, and GuardDuty's sequences use a
    /// similar horizon.
    pub window_ms: i64,
    /// Largest gap between two findings linked only through the person behind SSO sessions in
    /// different accounts or permission sets (one session of one person links by the window).
    pub person_window_ms: i64,
    /// Largest gap between two findings linked only through a resource they both name.
    pub resource_window_ms: i64,
    /// A finding naming more resources than this (a sweep, a storm) links through none.
    pub max_link_resources: usize,
    /// Longest an incident may grow (0: no limit); links are taken closest first, so a principal
    /// with a finding every day becomes several incidents, not one that grows for ever.
    pub max_span_ms: i64,
    /// A pivot seen with more distinct principals than this is shared (office NAT, CI role) and
    /// links nothing.
    pub max_pivot_principals: usize,
    /// Findings below this severity are context and join no incident.
    pub min_member_severity: Severity,
    /// An incident is listed when it has at least this many findings...
    pub min_findings: usize,
    /// ...or when its combined risk reaches this (a lone critical finding is an incident too).
    pub single_finding_min_risk: u8,
    /// How much a further detector's risk adds to the strongest one (noisy-OR weight, 0..1):
    /// detectors looking at the same activity are not independent witnesses.
    pub corroboration_weight: f64,
    /// Risk points per kill-chain tactic beyond the first.
    pub tactic_bonus: u8,
    /// Most tactic bonus points in total.
    pub max_tactic_bonus: u8,
    /// Risk to severity mapping of the incident.
    pub thresholds: SeverityThresholds,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig {
            window_ms: 24 * HOUR_MS,
            person_window_ms: 6 * HOUR_MS,
            resource_window_ms: HOUR_MS,
            max_link_resources: 2,
            max_span_ms: 72 * HOUR_MS,
            max_pivot_principals: 3,
            min_member_severity: Severity::Low,
            min_findings: 2,
            single_finding_min_risk: 85,
            corroboration_weight: 0.3,
            tactic_bonus: 3,
            max_tactic_bonus: 9,
            thresholds: SeverityThresholds::default(),
        }
    }
}

/// An ATT&CK tactic as an incident lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tactic {
    pub uid: String,
    pub name: String,
}

/// One member finding on the incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When the finding's activity started.
    pub time_ms: i64,
    pub last_ms: i64,
    pub finding_uid: String,
    pub detector: String,
    pub severity: Severity,
    pub risk_score: u8,
    pub title: String,
    /// Tactic names of the finding's techniques, in kill-chain order.
    pub tactics: Vec<String>,
    pub suppressed: bool,
}

/// An attack story: findings on the same actor within the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id derived from the earliest member finding, so it does not change when later
    /// findings join.
    pub uid: String,
    /// One line: tactics, actor, address, size.
    pub title: String,
    pub risk_score: u8,
    pub severity: Severity,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// In kill-chain order.
    pub tactics: Vec<Tactic>,
    /// Technique ids in kill-chain order of their tactic, then by id.
    pub techniques: Vec<String>,
    /// Most frequent first.
    pub principals: Vec<String>,
    pub access_keys: Vec<String>,
    pub ips: Vec<String>,
    pub accounts: Vec<String>,
    /// Why the findings were grouped: the pivots that linked them.
    pub linked_by: Vec<String>,
    /// Member finding uids in timeline order.
    pub findings: Vec<String>,
    pub suppressed_count: usize,
    /// Every member is suppressed: hidden unless asked for.
    pub suppressed: bool,
    pub timeline: Vec<TimelineEntry>,
}

impl Incident {
    /// The short id shown in tables; `incidents show` accepts any unique prefix.
    pub fn short_id(&self) -> &str {
        self.uid.get(..12).unwrap_or(&self.uid)
    }
}

// ----------------------------------------------------------------------------------------------
// Pivot extraction
// ----------------------------------------------------------------------------------------------

/// A principal normalised so that one actor has one key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PrincipalKey {
    key: String,
    /// For a role session: the role's key (sessions make a role a shared identity).
    role: Option<String>,
    /// For an IAM Identity Center (SSO) session, whose session name is the person's login:
    /// the person, the same across accounts and permission sets.
    person: Option<String>,
    is_role: bool,
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Normalises a principal value (an ARN, an account id, or a bare IAM user name resolved in
/// `account`). `None` for values that name no single actor (service principals, free text).
fn principal_key(raw: &str, account: Option<&str>) -> Option<PrincipalKey> {
    let raw = raw.trim();
    let plain = |key: String| PrincipalKey {
        key,
        role: None,
        person: None,
        is_role: false,
    };
    if is_account_id(raw) {
        return Some(plain(format!("account:{raw}")));
    }
    if let Some(rest) = raw.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [_partition, service, _region, acct, resource] = parts.as_slice() else {
            return None;
        };
        if resource.is_empty() {
            return None;
        }
        return Some(match (*service, resource.split_once('/')) {
            ("iam", None) if *resource == "root" => plain(format!("root:{acct}")),
            ("iam", Some(("user", path))) => plain(format!("user:{acct}:{}", last_segment(path))),
            ("iam", Some(("role", path))) => PrincipalKey {
                is_role: true,
                ..plain(format!("role:{acct}:{}", last_segment(path)))
            },
            ("sts", Some(("assumed-role", rest))) => {
                let (role, session) = rest.split_once('/').unwrap_or((rest, ""));
                PrincipalKey {
                    key: format!("session:{acct}:{role}/{session}"),
                    role: Some(format!("role:{acct}:{role}")),
                    person: session
                        .contains('@')
                        .then(|| format!("person:{}", session.to_ascii_lowercase())),
                    is_role: false,
                }
            }
            ("sts", Some(("federated-user", name))) => plain(format!("federated:{acct}:{name}")),
            _ => plain(format!("arn:{rest}")),
        });
    }
    // A bare IAM user name (failed console sign-ins name no ARN): only within a known account.
    let looks_like_name = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        && !raw.ends_with(".amazonaws.com");
    match account {
        Some(acct) if looks_like_name && is_account_id(acct) => {
            Some(plain(format!("user:{acct}:{raw}")))
        }
        _ => None,
    }
}

/// The canonical form of an address that can identify an attacker, or `None` for addresses
/// shared by construction (private, loopback, link-local, CGNAT, multicast, reserved).
fn public_ip(raw: &str) -> Option<String> {
    let ip: IpAddr = raw.trim().parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let public = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (64..128).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    };
    public.then(|| ip.to_string())
}

/// What one finding offers for linking.
#[derive(Debug, Default)]
struct Facts {
    /// Strong pivot keys: principal, access key, public address, foreign account.
    strong: BTreeSet<String>,
    /// People behind SSO sessions.
    person: BTreeSet<String>,
    /// Resource keys (weak pivots).
    resources: BTreeSet<String>,
    /// Distinct actors of this finding (a person for SSO sessions), for counting how widely a
    /// pivot is shared.
    identities: BTreeSet<String>,
    /// `(identity, role key)` of every role session named.
    sessions: Vec<(String, String)>,
    /// Session key to the person behind it.
    aliases: Vec<(String, String)>,
}

fn facts(
    f: &Finding,
    cfg: &IncidentConfig,
    org_accounts: &BTreeSet<&str>,
    display: &mut BTreeMap<String, String>,
) -> Facts {
    let mut out = Facts::default();
    let mut note = |key: &str, shown: String| {
        display
            .entry(key.to_string())
            .and_modify(|d| {
                if shown < *d {
                    *d = shown.clone();
                }
            })
            .or_insert(shown);
    };
    let acct = f.account.as_deref();
    let mut principals: Vec<PrincipalKey> = Vec::new();
    let mut resources: BTreeSet<String> = BTreeSet::new();
    for o in &f.observables {
        match o.kind {
            ObservableType::PrincipalArn => {
                if let Some(p) = principal_key(&o.value, acct) {
                    let key = format!("p:{}", p.key);
                    note(&key, format!("principal {}", o.value));
                    let identity = match &p.person {
                        Some(person) => {
                            let pkey = format!("p:{person}");
                            let login = person.strip_prefix("person:").unwrap_or(person);
                            note(&pkey, format!("person {login} (SSO sessions)"));
                            out.aliases.push((key.clone(), pkey.clone()));
                            out.person.insert(pkey.clone());
                            pkey
                        }
                        None => key.clone(),
                    };
                    if let Some(role) = &p.role {
                        out.sessions.push((identity, format!("p:{role}")));
                    }
                    out.strong.insert(key);
                    principals.push(p);
                }
            }
            ObservableType::AccessKey => {
                let v = o.value.trim();
                if v.len() >= 16 && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    let key = format!("k:{v}");
                    note(&key, format!("access key {v}"));
                    out.strong.insert(key);
                }
            }
            ObservableType::IpAddress => {
                if let Some(ip) = public_ip(&o.value) {
                    let key = format!("ip:{ip}");
                    note(&key, format!("address {ip}"));
                    out.strong.insert(key);
                }
            }
            ObservableType::Account => {
                let v = o.value.trim();
                if is_account_id(v) && !org_accounts.contains(v) {
                    let key = format!("p:account:{v}");
                    note(&key, format!("foreign account {v}"));
                    out.strong.insert(key);
                }
            }
            ObservableType::ResourceUid => {
                resources.insert(o.value.trim().to_string());
            }
            ObservableType::UserName | ObservableType::UserAgent | ObservableType::Port => {}
        }
    }
    for r in &f.resources {
        resources.insert(r.uid.trim().to_string());
    }
    // Resources that name a principal (a user created, a role changed) meet that principal's
    // own findings; other resources are keyed by their uid.
    let mut keyed: BTreeMap<String, String> = BTreeMap::new();
    for r in resources {
        if r.is_empty() {
            continue;
        }
        let key = match principal_key(&r, None) {
            Some(p) if r.starts_with("arn:") && !p.key.starts_with("arn:") => {
                format!("p:{}", p.key)
            }
            _ => format!("r:{r}"),
        };
        if !out.strong.contains(&key) {
            keyed.insert(key, r);
        }
    }
    // A finding about many resources (a sweep, a storm) says nothing specific about any one.
    if keyed.len() <= cfg.max_link_resources {
        for (key, r) in keyed {
            let key = format!("w:{key}");
            note(&key, format!("resource {r}"));
            out.resources.insert(key);
        }
    }
    // A role named beside one of its sessions is the same actor, not a second one.
    let session_roles: BTreeSet<&str> = principals
        .iter()
        .filter_map(|p| p.role.as_deref())
        .collect();
    for p in &principals {
        if !(p.is_role && session_roles.contains(p.key.as_str())) {
            let identity = p.person.as_ref().unwrap_or(&p.key);
            out.identities.insert(format!("p:{identity}"));
        }
    }
    out
}

// ----------------------------------------------------------------------------------------------
// Grouping
// ----------------------------------------------------------------------------------------------

/// Union-find that also tracks each set's time span, so a merge can be refused when the
/// incident would grow longer than the configured maximum.
struct UnionFind {
    parent: Vec<usize>,
    span: Vec<(i64, i64)>,
}

impl UnionFind {
    fn new(spans: &[(i64, i64)]) -> Self {
        UnionFind {
            parent: (0..spans.len()).collect(),
            span: spans.to_vec(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins two sets unless the result would span more than `max_span` (0: no limit). The
    /// smaller index becomes the root, so the result does not depend on argument order.
    fn union(&mut self, a: usize, b: usize, max_span: i64) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let start = self.span[ra].0.min(self.span[rb].0);
        let end = self.span[ra].1.max(self.span[rb].1);
        if max_span > 0 && end.saturating_sub(start) > max_span {
            return false;
        }
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi] = lo;
        self.span[lo] = (start, end);
        true
    }
}

/// A candidate link: the time gap between two findings sharing a pivot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    gap: i64,
    a: usize,
    b: usize,
    pivot: usize,
}

/// Candidate links of one pivot: each finding to the earlier one whose span ends last, when
/// the gap is within `window` (single linkage over the spans sorted by start).
fn pivot_edges(
    members: &[usize],
    spans: &[(i64, i64)],
    window: i64,
    pivot: usize,
    out: &mut Vec<Edge>,
) {
    let mut sorted: Vec<usize> = members.to_vec();
    sorted.sort_by_key(|&i| (spans[i].0, i));
    sorted.dedup();
    let mut run: Option<(usize, i64)> = None;
    for i in sorted {
        let (start, end) = spans[i];
        match run {
            Some((owner, run_end)) if start <= run_end.saturating_add(window) => {
                out.push(Edge {
                    gap: start.saturating_sub(run_end).max(0),
                    a: owner.min(i),
                    b: owner.max(i),
                    pivot,
                });
                if end > run_end {
                    run = Some((i, end));
                }
            }
            _ => run = Some((i, end)),
        }
    }
}

/// Groups findings into incidents, ranked by risk (highest first). Deterministic: the same set
/// of findings gives the same incidents in any input order. Suppressed findings take part in
/// grouping; an incident made only of suppressed findings is marked `suppressed`.
pub fn group(findings: &[Finding], cfg: &IncidentConfig) -> Vec<Incident> {
    // Canonical order: by uid (one finding per uid, the most recent version), then by time.
    let mut all: Vec<&Finding> = findings.iter().collect();
    all.sort_by(|a, b| {
        a.uid
            .cmp(&b.uid)
            .then(b.last_seen_ms.cmp(&a.last_seen_ms))
            .then(b.occurrences.cmp(&a.occurrences))
            .then(b.risk_score.cmp(&a.risk_score))
    });
    all.dedup_by(|later, first| later.uid == first.uid);
    all.sort_by(|a, b| {
        a.first_seen_ms
            .cmp(&b.first_seen_ms)
            .then(a.uid.cmp(&b.uid))
    });

    let org_accounts: BTreeSet<&str> = all.iter().filter_map(|f| f.account.as_deref()).collect();
    let mut display: BTreeMap<String, String> = BTreeMap::new();
    let facts: Vec<Facts> = all
        .iter()
        .map(|f| facts(f, cfg, &org_accounts, &mut display))
        .collect();

    // How widely each pivot is shared: distinct actors over every finding that names it (not
    // counting the pivot's own actor), plus every session of a role for the role itself.
    let aliases: HashMap<&str, &str> = facts
        .iter()
        .flat_map(|fx| fx.aliases.iter().map(|(s, p)| (s.as_str(), p.as_str())))
        .collect();
    let mut sharers: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for fx in &facts {
        for key in fx.strong.iter().chain(&fx.person).chain(&fx.resources) {
            let own = aliases.get(key.as_str()).copied();
            let set = sharers.entry(key.as_str()).or_default();
            set.extend(
                fx.identities
                    .iter()
                    .map(String::as_str)
                    .filter(|i| *i != key && Some(*i) != own),
            );
        }
        for (identity, role) in &fx.sessions {
            sharers
                .entry(role.as_str())
                .or_default()
                .insert(identity.as_str());
        }
    }
    let shared = |key: &str| {
        sharers
            .get(key)
            .is_some_and(|s| s.len() > cfg.max_pivot_principals)
    };

    // Members: findings at or above the member severity.
    let members: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].severity >= cfg.min_member_severity)
        .collect();
    let window = cfg.window_ms.max(0);
    let spans: Vec<(i64, i64)> = all
        .iter()
        .map(|f| {
            // A finding whose repeats span more than the window is several episodes folded
            // into one; only its first one is known to start here, so it links from its start.
            let start = f.first_seen_ms;
            let end = f.last_seen_ms.max(start);
            if end.saturating_sub(start) > window {
                (start, start)
            } else {
                (start, end)
            }
        })
        .collect();

    // Pivot -> members, per class; a resource that names a principal also meets that
    // principal's own findings.
    let mut strong: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut person: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut weak: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in &members {
        for (set, map) in [
            (&facts[i].strong, &mut strong),
            (&facts[i].person, &mut person),
            (&facts[i].resources, &mut weak),
        ] {
            for key in set {
                if !shared(key) {
                    map.entry(key.as_str()).or_default().push(i);
                }
            }
        }
    }
    for (key, list) in weak.iter_mut() {
        if let Some(own) = key.strip_prefix("w:").and_then(|k| strong.get(k)) {
            list.extend(own.iter().copied());
        }
    }

    let mut pivots: Vec<&str> = Vec::new();
    let mut edges: Vec<Edge> = Vec::new();
    for (map, w) in [
        (&strong, window),
        (&person, cfg.person_window_ms.max(0)),
        (&weak, cfg.resource_window_ms.max(0)),
    ] {
        for (key, list) in map {
            pivots.push(key);
            pivot_edges(list, &spans, w, pivots.len() - 1, &mut edges);
        }
    }
    // Closest links first: when the span limit stops growth, the tightest stories are kept.
    edges.sort_unstable();
    let mut uf = UnionFind::new(&spans);
    for e in &edges {
        uf.union(e.a, e.b, cfg.max_span_ms.max(0));
    }
    // Every pivot that links two members of the same incident explains it.
    let reasons: Vec<(usize, usize)> = edges
        .iter()
        .filter(|e| uf.find(e.a) == uf.find(e.b))
        .map(|e| (e.a, e.pivot))
        .collect();

    let mut components: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &i in &members {
        components.entry(uf.find(i)).or_default().push(i);
    }
    let mut why: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    for (i, pivot) in reasons {
        if let Some(key) = pivots.get(pivot) {
            why.entry(uf.find(i)).or_default().insert(key);
        }
    }

    let mut out: Vec<Incident> = components
        .into_iter()
        .map(|(root, idx)| {
            let list: Vec<&Finding> = idx.iter().map(|&i| all[i]).collect();
            let reasons: Vec<String> = why
                .get(&root)
                .map(|keys| {
                    keys.iter()
                        .map(|k| display.get(*k).cloned().unwrap_or_else(|| (*k).to_string()))
                        .collect()
                })
                .unwrap_or_default();
            build(&list, reasons, cfg, &|k: &str| shared(k))
        })
        .filter(|inc| {
            inc.findings.len() >= cfg.min_findings.max(1)
                || inc.risk_score >= cfg.single_finding_min_risk
        })
        .collect();
    rank(&mut out);
    out
}

/// Ranks incidents the way every view shows them: risk, then the broader story (more tactics,
/// more findings), then most recent, then uid.
pub fn rank(incidents: &mut [Incident]) {
    incidents.sort_by(|a, b| {
        b.risk_score
            .cmp(&a.risk_score)
            .then(b.tactics.len().cmp(&a.tactics.len()))
            .then(b.findings.len().cmp(&a.findings.len()))
            .then(b.last_seen_ms.cmp(&a.last_seen_ms))
            .then(a.uid.cmp(&b.uid))
    });
}

fn tactics_of(f: &Finding) -> Vec<crate::finding::Attack> {
    let mut v: Vec<_> = f
        .attacks
        .iter()
        .filter_map(|id| crate::attack::lookup(id))
        .collect();
    v.sort_by_key(|a| (crate::attack::tactic_order(a.tactic_uid), a.tactic_uid));
    v
}

/// Values by how many members name them (most first), then by value.
fn by_frequency(counts: BTreeMap<String, usize>) -> Vec<String> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter().map(|(s, _)| s).collect()
}

/// Combined risk: noisy-OR of the strongest risk per detector, further detectors weighted by
/// `corroboration_weight`, plus a bonus per extra kill-chain tactic; capped at 100 and never
/// below the strongest member.
fn combined_risk(members: &[&Finding], tactics: usize, cfg: &IncidentConfig) -> u8 {
    let counted: Vec<&&Finding> = if members.iter().all(|f| f.suppressed.is_some()) {
        members.iter().collect()
    } else {
        members.iter().filter(|f| f.suppressed.is_none()).collect()
    };
    let mut per_detector: BTreeMap<&str, u8> = BTreeMap::new();
    for f in &counted {
        let r = per_detector.entry(f.detector.as_str()).or_insert(0);
        *r = (*r).max(f.risk_score.min(100));
    }
    let mut risks: Vec<u8> = per_detector.into_values().collect();
    risks.sort_unstable_by(|a, b| b.cmp(a));
    let Some(&top) = risks.first() else {
        return 0;
    };
    let weight = cfg.corroboration_weight.clamp(0.0, 1.0);
    let mut miss = 1.0 - f64::from(top) / 100.0;
    for &r in &risks[1..] {
        miss *= 1.0 - weight * f64::from(r) / 100.0;
    }
    let base = ((1.0 - miss) * 100.0).round().clamp(0.0, 100.0) as u8;
    let bonus = (tactics.saturating_sub(1) as u32 * u32::from(cfg.tactic_bonus))
        .min(u32::from(cfg.max_tactic_bonus));
    let total = (u32::from(base.max(top)) + bonus).min(100);
    total as u8
}

/// A principal as a title names it: the part after the account (`arn:…:user/alice`), an SSO
/// session as its login and permission set, root with its account. The full ARN stays in
/// [`Incident::principals`].
fn short_principal(raw: &str) -> String {
    let Some(rest) = raw.strip_prefix("arn:") else {
        return raw.to_string();
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [_, _, _, acct, resource] = parts.as_slice() else {
        return raw.to_string();
    };
    if *resource == "root" {
        return format!("root of {acct}");
    }
    if let Some(session) = resource.strip_prefix("assumed-role/AWSReservedSSO_")
        && let Some((role, login)) = session.split_once('/')
    {
        // AWSReservedSSO_<permission set>_<hash>
        let set = role.rsplit_once('_').map_or(role, |(set, _)| set);
        return format!("{login} (SSO {set})");
    }
    format!("arn:…:{resource}")
}

fn sentence_case(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn build(
    members: &[&Finding],
    linked_by: Vec<String>,
    cfg: &IncidentConfig,
    shared: &dyn Fn(&str) -> bool,
) -> Incident {
    let mut members: Vec<&Finding> = members.to_vec();
    members.sort_by(|a, b| {
        a.first_seen_ms
            .cmp(&b.first_seen_ms)
            .then(a.uid.cmp(&b.uid))
    });
    let earliest = members.first().map_or("", |f| f.uid.as_str());
    let uid = stable_id(&["incident", earliest]);

    let mut tactic_set: BTreeMap<(usize, &str), &str> = BTreeMap::new();
    let mut techniques: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut counted_tactics: BTreeSet<&str> = BTreeSet::new();
    let all_suppressed = members.iter().all(|f| f.suppressed.is_some());
    let mut principals: BTreeMap<String, usize> = BTreeMap::new();
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    let mut ips: BTreeMap<String, usize> = BTreeMap::new();
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    let mut timeline = Vec::with_capacity(members.len());
    for f in &members {
        for id in &f.attacks {
            let order = crate::attack::lookup(id)
                .map_or(usize::MAX, |a| crate::attack::tactic_order(a.tactic_uid));
            techniques.insert((order, id.clone()));
        }
        let tactics = tactics_of(f);
        for a in &tactics {
            tactic_set.insert(
                (crate::attack::tactic_order(a.tactic_uid), a.tactic_uid),
                a.tactic,
            );
            if all_suppressed || f.suppressed.is_none() {
                counted_tactics.insert(a.tactic_uid);
            }
        }
        let mut seen = BTreeSet::new();
        for o in &f.observables {
            if !seen.insert((o.kind, o.value.as_str())) {
                continue;
            }
            match o.kind {
                ObservableType::PrincipalArn => {
                    *principals.entry(o.value.clone()).or_default() += 1
                }
                ObservableType::AccessKey => *keys.entry(o.value.clone()).or_default() += 1,
                ObservableType::IpAddress => *ips.entry(o.value.clone()).or_default() += 1,
                ObservableType::Account => {
                    accounts.insert(o.value.clone());
                }
                _ => {}
            }
        }
        if let Some(a) = &f.account {
            accounts.insert(a.clone());
        }
        let mut names: Vec<String> = Vec::new();
        for a in &tactics {
            if !names.iter().any(|n| n == a.tactic) {
                names.push(a.tactic.to_string());
            }
        }
        timeline.push(TimelineEntry {
            time_ms: f.first_seen_ms,
            last_ms: f.last_seen_ms.max(f.first_seen_ms),
            finding_uid: f.uid.clone(),
            detector: f.detector.clone(),
            severity: f.severity,
            risk_score: f.risk_score,
            title: f.title.clone(),
            tactics: names,
            suppressed: f.suppressed.is_some(),
        });
    }
    let tactics: Vec<Tactic> = tactic_set
        .iter()
        .map(|((_, uid), name)| Tactic {
            uid: (*uid).to_string(),
            name: (*name).to_string(),
        })
        .collect();
    let risk_score = combined_risk(&members, counted_tactics.len(), cfg);

    // The actor the title names: sessions and users before roles, then the most frequent.
    let main_principal = {
        let mut v: Vec<(&String, &usize)> = principals.iter().collect();
        v.sort_by(|a, b| {
            let role = |s: &str| s.contains(":role/");
            let bare = |s: &str| !s.starts_with("arn:");
            role(a.0)
                .cmp(&role(b.0))
                .then(bare(a.0).cmp(&bare(b.0)))
                .then(b.1.cmp(a.1))
                .then(a.0.cmp(b.0))
        });
        v.first().map(|(p, _)| (*p).clone())
    };
    let main_ip = {
        let mut v: Vec<(&String, &usize)> = ips
            .iter()
            .filter(|(ip, _)| public_ip(ip).is_some_and(|c| !shared(&format!("ip:{c}"))))
            .collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.first().map(|(ip, _)| (*ip).clone())
    };
    let story = match (tactics.first(), tactics.last()) {
        (Some(a), Some(b)) if a.uid != b.uid => {
            format!("{} → {}", sentence_case(&a.name), b.name.to_lowercase())
        }
        (Some(a), _) => sentence_case(&a.name),
        _ => members
            .iter()
            .max_by(|a, b| a.risk_score.cmp(&b.risk_score).then(b.uid.cmp(&a.uid)))
            .map_or_else(
                || "Suspicious activity".to_string(),
                |f| f.detector_name.clone(),
            ),
    };
    let mut title = story;
    if let Some(p) = &main_principal {
        title.push_str(&format!(" by {}", short_principal(p)));
    }
    if let Some(ip) = &main_ip {
        title.push_str(&format!(" from {ip}"));
    }
    if main_principal.is_none()
        && main_ip.is_none()
        && let Some(a) = accounts.iter().next()
    {
        title.push_str(&format!(" in account {a}"));
    }
    title.push_str(&format!(
        ": {}, {}",
        plural(members.len(), "finding", "findings"),
        plural(tactics.len(), "tactic", "tactics")
    ));

    timeline.sort_by(|a, b| {
        a.time_ms
            .cmp(&b.time_ms)
            .then(a.finding_uid.cmp(&b.finding_uid))
    });
    Incident {
        uid,
        title,
        risk_score,
        severity: cfg.thresholds.severity(risk_score),
        first_seen_ms: members.iter().map(|f| f.first_seen_ms).min().unwrap_or(0),
        last_seen_ms: members
            .iter()
            .map(|f| f.last_seen_ms.max(f.first_seen_ms))
            .max()
            .unwrap_or(0),
        tactics,
        techniques: techniques.into_iter().map(|(_, t)| t).collect(),
        principals: by_frequency(principals),
        access_keys: by_frequency(keys),
        ips: by_frequency(ips),
        accounts: accounts.into_iter().collect(),
        linked_by,
        findings: timeline.iter().map(|t| t.finding_uid.clone()).collect(),
        suppressed_count: members.iter().filter(|f| f.suppressed.is_some()).count(),
        suppressed: all_suppressed,
        timeline,
    }
}

// ----------------------------------------------------------------------------------------------
// Views
// ----------------------------------------------------------------------------------------------

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// `YYYY-MM-DD HH:MM` in UTC.
fn minute(ms: i64) -> String {
    let t = crate::time::format_iso8601_ms(ms);
    t.get(..16).unwrap_or(&t).replace('T', " ")
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
fn second(ms: i64) -> String {
    let t = crate::time::format_iso8601_ms(ms);
    t.get(..19).unwrap_or(&t).replace('T', " ")
}

/// A short tactic label for narrow table columns.
pub fn tactic_short(uid: &str) -> &'static str {
    match uid {
        "TA0001" => "initial",
        "TA0002" => "exec",
        "TA0003" => "persist",
        "TA0004" => "privesc",
        "TA0005" => "evasion",
        "TA0006" => "cred",
        "TA0007" => "discovery",
        "TA0008" => "lateral",
        "TA0009" => "collect",
        "TA0010" => "exfil",
        "TA0040" => "impact",
        _ => "other",
    }
}

/// One line per incident, ranked as given: short id, severity, risk, first and last seen,
/// finding count, tactics in kill-chain order and the one-line title. `width` is the terminal
/// width; titles are cut to fit.
pub fn render_table(incidents: &[Incident], width: usize) -> String {
    let mut out = format!(
        "{:<12}  {:<8}  {:>4}  {:<16}  {:<11}  {:>8}  {:<26}  {}\n",
        "ID", "SEVERITY", "RISK", "FIRST SEEN (UTC)", "LAST SEEN", "FINDINGS", "TACTICS", "WHAT"
    );
    let fixed = 12 + 2 + 8 + 2 + 4 + 2 + 16 + 2 + 11 + 2 + 8 + 2 + 26 + 2;
    let room = width.saturating_sub(fixed).max(30);
    for inc in incidents {
        let tactics: Vec<&str> = inc.tactics.iter().map(|t| tactic_short(&t.uid)).collect();
        let mut title = inc.title.clone();
        if inc.suppressed {
            title = format!("[suppressed] {title}");
        }
        let count = if inc.suppressed_count > 0 && !inc.suppressed {
            format!("{}({}s)", inc.findings.len(), inc.suppressed_count)
        } else {
            inc.findings.len().to_string()
        };
        out.push_str(&format!(
            "{:<12}  {:<8}  {:>4}  {:<16}  {:<11}  {:>8}  {:<26}  {}\n",
            inc.short_id(),
            inc.severity.name(),
            inc.risk_score,
            minute(inc.first_seen_ms),
            minute(inc.last_seen_ms).get(5..).unwrap_or_default(),
            count,
            cut(&tactics.join(">"), 26),
            cut(&title, room)
        ));
    }
    out
}

/// The whole incident for a terminal: what, how bad, who, then the timeline.
pub fn render_text(inc: &Incident) -> String {
    let mut out = String::new();
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    out.push_str(&format!("Incident {}\n{}\n\n", inc.uid, inc.title));
    let status = if inc.suppressed {
        "  (suppressed: every finding is suppressed)"
    } else {
        ""
    };
    out.push_str(&format!(
        "Severity     {} (risk {}){status}\n",
        inc.severity.name(),
        inc.risk_score
    ));
    out.push_str(&format!(
        "When         {} → {} UTC\n",
        second(inc.first_seen_ms),
        second(inc.last_seen_ms)
    ));
    let tactics: Vec<String> = inc
        .tactics
        .iter()
        .map(|t| format!("{} ({})", t.name, t.uid))
        .collect();
    out.push_str(&format!(
        "Tactics      {}\n",
        if tactics.is_empty() {
            "-".to_string()
        } else {
            tactics.join(" → ")
        }
    ));
    out.push_str(&format!("Techniques   {}\n", list(&inc.techniques)));
    out.push_str(&format!("Principals   {}\n", list(&inc.principals)));
    out.push_str(&format!("Access keys  {}\n", list(&inc.access_keys)));
    out.push_str(&format!("Addresses    {}\n", list(&inc.ips)));
    out.push_str(&format!("Accounts     {}\n", list(&inc.accounts)));
    out.push_str(&format!("Linked by    {}\n", list(&inc.linked_by)));
    out.push_str(&format!(
        "Findings     {}{}\n\nTimeline (UTC)\n",
        inc.findings.len(),
        if inc.suppressed_count > 0 {
            format!(" ({} suppressed)", inc.suppressed_count)
        } else {
            String::new()
        }
    ));
    for t in &inc.timeline {
        let mut title = t.title.clone();
        if !t.tactics.is_empty() {
            title.push_str(&format!(" [{}]", t.tactics.join(", ")));
        }
        if t.suppressed {
            title = format!("[suppressed] {title}");
        }
        out.push_str(&format!(
            "{}  {:<13}  {:>3}  {:<24}  {}  {}\n",
            second(t.time_ms),
            t.severity.name(),
            t.risk_score,
            cut(&t.detector, 24),
            t.finding_uid.get(..12).unwrap_or(&t.finding_uid),
            title
        ));
    }
    out
}

fn observable(kind: ObservableType, value: &str) -> Value {
    // Same names and type ids as the Detection Finding observables.
    let (name, type_name) = match kind {
        ObservableType::IpAddress => ("src_endpoint.ip", "IP Address"),
        ObservableType::AccessKey => ("actor.user.credential_uid", "User Credential ID"),
        ObservableType::PrincipalArn => ("actor.user.uid", "User"),
        ObservableType::Account => ("cloud.account.uid", "Account UID"),
        ObservableType::UserName => ("actor.user.name", "User Name"),
        ObservableType::ResourceUid => ("resources.uid", "Resource UID"),
        ObservableType::Port => ("dst_endpoint.port", "Port"),
        ObservableType::UserAgent => ("http_request.user_agent", "HTTP User-Agent"),
    };
    json!({"name": name, "type": type_name, "type_id": kind as u8, "value": value})
}

impl Incident {
    /// The OCSF Incident Finding (class 2005, schema 1.6.0). `findings` are the findings the
    /// incident was grouped from (others are ignored); each member becomes a `finding_info` in
    /// `finding_info_list`, as in its own Detection Finding but without the related-event list
    /// (only its count): the member findings carry those themselves. The combined risk has no
    /// attribute of its own in this class and goes to `unmapped.risk_score`.
    pub fn to_ocsf(&self, findings: &[Finding], product_version: &str) -> Value {
        let by_uid: HashMap<&str, &Finding> =
            findings.iter().map(|f| (f.uid.as_str(), f)).collect();
        let mut attacks: Vec<Value> = Vec::new();
        let mut infos: Vec<Value> = Vec::new();
        for uid in &self.findings {
            let Some(f) = by_uid.get(uid.as_str()) else {
                continue;
            };
            let mut v = f.to_ocsf(product_version);
            let mut info = v
                .get_mut("finding_info")
                .map(Value::take)
                .unwrap_or_else(|| json!({"uid": f.uid}));
            if let Some(obj) = info.as_object_mut() {
                obj.remove("related_events");
            }
            if let Some(list) = info.get("attacks").and_then(Value::as_array) {
                for a in list {
                    if !attacks.contains(a) {
                        attacks.push(a.clone());
                    }
                }
            }
            infos.push(info);
        }
        let tactic_rank = |a: &Value| {
            let uid = a["tactic"]["uid"].as_str().unwrap_or("");
            let technique = a["sub_technique"]["uid"]
                .as_str()
                .or_else(|| a["technique"]["uid"].as_str())
                .unwrap_or("")
                .to_string();
            (crate::attack::tactic_order(uid), technique)
        };
        attacks.sort_by_key(tactic_rank);
        let mut observables: Vec<Value> = Vec::new();
        for p in &self.principals {
            observables.push(observable(ObservableType::PrincipalArn, p));
        }
        for k in &self.access_keys {
            observables.push(observable(ObservableType::AccessKey, k));
        }
        for ip in &self.ips {
            observables.push(observable(ObservableType::IpAddress, ip));
        }
        for a in &self.accounts {
            observables.push(observable(ObservableType::Account, a));
        }
        let priority_id = match self.severity {
            Severity::Informational | Severity::Low => 1,
            Severity::Medium => 2,
            Severity::High => 3,
            Severity::Critical => 4,
        };
        let priority = ["", "Low", "Medium", "High", "Critical"][priority_id];
        let tactic_names: Vec<&str> = self.tactics.iter().map(|t| t.name.as_str()).collect();
        let desc = format!(
            "{} findings from {} to {} grouped into one incident{}. Tactics in kill-chain order: {}. Linked by: {}.",
            self.findings.len(),
            crate::time::format_iso8601_ms(self.first_seen_ms),
            crate::time::format_iso8601_ms(self.last_seen_ms),
            if self.suppressed_count > 0 {
                format!(" ({} suppressed)", self.suppressed_count)
            } else {
                String::new()
            },
            if tactic_names.is_empty() {
                "none".to_string()
            } else {
                tactic_names.join(" → ")
            },
            if self.linked_by.is_empty() {
                "a single finding".to_string()
            } else {
                self.linked_by.join(", ")
            },
        );
        let mut v = json!({
            "class_uid": 2005,
            "class_name": "Incident Finding",
            "category_uid": 2,
            "category_name": "Findings",
            "activity_id": 1,
            "activity_name": "Create",
            "type_uid": 200_501,
            "time": self.last_seen_ms,
            "start_time": self.first_seen_ms,
            "end_time": self.last_seen_ms,
            "duration": self.last_seen_ms.saturating_sub(self.first_seen_ms),
            "severity_id": self.severity.id(),
            "severity": self.severity.name(),
            "status_id": 1,
            "status": "New",
            "priority_id": priority_id,
            "priority": priority,
            "desc": desc,
            "count": self.findings.len(),
            // The class requires an assignee or an assignee group; nobody is assigned yet.
            "assignee_group": {"name": "unassigned"},
            "metadata": {
                "version": "1.6.0",
                "uid": self.uid,
                "profiles": ["incident", "cloud"],
                "product": {
                    "name": "detector",
                    "vendor_name": "detector project",
                    "version": product_version,
                    "uid": "detector",
                },
            },
            "finding_info_list": infos,
            "attacks": attacks,
            "observables": observables,
            "cloud": {"provider": "AWS"},
            "unmapped": {
                "title": self.title,
                "risk_score": self.risk_score,
                "suppressed_findings": self.suppressed_count,
                "linked_by": self.linked_by,
                "tactics": self.tactics.iter().map(|t| json!({"uid": t.uid, "name": t.name})).collect::<Vec<_>>(),
            },
        });
        if let [only] = self.accounts.as_slice() {
            v["cloud"]["account"] = json!({"uid": only, "type": "AWS Account", "type_id": 10});
        }
        if self.suppressed {
            v["status_id"] = json!(99);
            v["status"] = json!("Suppressed");
            v["status_detail"] = json!("every member finding is suppressed");
        }
        v
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::finding::{AnalyticType, Observable, Resource};

    const ACCT: &str = "111122223333";
    const T0: i64 = 1_711_929_600_000;
    const MIN: i64 = 60_000;

    fn user(name: &str) -> String {
        format!("arn:aws:iam::{ACCT}:user/{name}")
    }

    fn obs(kind: ObservableType, v: &str) -> Observable {
        Observable {
            kind,
            value: v.to_string(),
        }
    }

    /// A rule finding in ACCT at time 0 with nothing else: what the builders here and the
    /// property tests start from.
    pub(super) fn blank(uid: &str, risk: u8) -> Finding {
        Finding {
            uid: uid.to_string(),
            detector: format!("det-{uid}"),
            detector_name: format!("Detector {uid}"),
            analytic: AnalyticType::Rule,
            title: format!("finding {uid}"),
            desc: String::new(),
            remediation: String::new(),
            risk_score: risk,
            confidence: 80,
            severity: SeverityThresholds::default().severity(risk),
            attacks: Vec::new(),
            first_seen_ms: 0,
            last_seen_ms: 0,
            related: Vec::new(),
            related_count: 0,
            observables: Vec::new(),
            resources: Vec::new(),
            region: None,
            account: Some(ACCT.into()),
            anomaly: Vec::new(),
            enrichments: Vec::new(),
            occurrences: 1,
            is_new: true,
            suppressed: None,
        }
    }

    /// A finding at `t` minutes after T0 by `principal` from `ip` (either may be empty).
    fn f(uid: &str, t: i64, risk: u8, attacks: &[&str], principal: &str, ip: &str) -> Finding {
        let mut observables = Vec::new();
        if !principal.is_empty() {
            observables.push(obs(ObservableType::PrincipalArn, principal));
        }
        if !ip.is_empty() {
            observables.push(obs(ObservableType::IpAddress, ip));
        }
        observables.push(obs(ObservableType::Account, ACCT));
        Finding {
            attacks: attacks.iter().map(|a| (*a).to_string()).collect(),
            first_seen_ms: T0 + t * MIN,
            last_seen_ms: T0 + t * MIN,
            related: vec![format!("ev-{uid}")],
            related_count: 1,
            observables,
            region: Some("us-east-1".into()),
            ..blank(uid, risk)
        }
    }

    fn with(mut x: Finding, kind: ObservableType, v: &str) -> Finding {
        x.observables.push(obs(kind, v));
        x
    }

    fn members(incs: &[Incident]) -> Vec<Vec<String>> {
        let mut v: Vec<Vec<String>> = incs
            .iter()
            .map(|i| {
                let mut m = i.findings.clone();
                m.sort();
                m
            })
            .collect();
        v.sort();
        v
    }

    fn cfg() -> IncidentConfig {
        IncidentConfig::default()
    }

    /// The default grouping, but listing every incident however small.
    fn lone() -> IncidentConfig {
        IncidentConfig {
            min_findings: 1,
            single_finding_min_risk: 0,
            ..cfg()
        }
    }

    /// Whether one of the reasons `inc` was linked mentions `part`.
    fn linked_by(inc: &Incident, part: &str) -> bool {
        inc.linked_by.iter().any(|l| l.contains(part))
    }

    #[test]
    fn same_principal_within_window_is_one_incident() {
        let alice = user("alice");
        let v = vec![
            f("a", 0, 60, &["T1078.004"], &alice, "45.137.21.35"),
            f("b", 60, 70, &["T1562.008"], &alice, "45.137.21.36"),
            f("c", 20 * 60, 50, &["T1098.001"], &alice, ""),
        ];
        let incs = group(&v, &cfg());
        assert_eq!(members(&incs), vec![vec!["a", "b", "c"]]);
        let inc = &incs[0];
        assert_eq!(inc.first_seen_ms, T0);
        assert_eq!(inc.last_seen_ms, T0 + 20 * 60 * MIN);
        assert_eq!(inc.principals, vec![alice.clone()]);
        assert!(linked_by(inc, "user/alice"), "{:?}", inc.linked_by);
        // The timeline is in time order whatever the risk.
        let times: Vec<i64> = inc.timeline.iter().map(|t| t.time_ms).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(inc.findings, vec!["a", "b", "c"]);
    }

    #[test]
    fn same_principal_beyond_window_is_two_incidents() {
        let alice = user("alice");
        let v = vec![
            f("a1", 0, 60, &["T1078.004"], &alice, ""),
            f("a2", 30, 60, &["T1562.008"], &alice, ""),
            // 30 hours later: a new story.
            f("b1", 30 * 60, 60, &["T1078.004"], &alice, ""),
            f("b2", 30 * 60 + 5, 60, &["T1485"], &alice, ""),
        ];
        let incs = group(&v, &cfg());
        assert_eq!(members(&incs), vec![vec!["a1", "a2"], vec!["b1", "b2"]]);
        // A wider window joins them.
        let wide = IncidentConfig {
            window_ms: 48 * HOUR_MS,
            ..cfg()
        };
        assert_eq!(group(&v, &wide).len(), 1);
    }

    #[test]
    fn shared_office_ip_does_not_merge_principals() {
        // Ten colleagues behind one office NAT, each with two findings within the same hour.
        let mut v = Vec::new();
        let nat = "203.0.113.10";
        for p in 0..10 {
            let who = user(&format!("dev{p}"));
            v.push(f(&format!("{p}-x"), p, 50, &["T1078.004"], &who, nat));
            v.push(f(&format!("{p}-y"), p + 5, 50, &["T1580"], &who, nat));
        }
        let incs = group(&v, &cfg());
        assert_eq!(incs.len(), 10, "{:#?}", members(&incs));
        for inc in &incs {
            assert_eq!(inc.principals.len(), 1, "{:?}", inc.principals);
            assert_eq!(inc.findings.len(), 2);
            assert!(!linked_by(inc, "203.0.113.10"));
            // A shared address is not named as where the attack came from.
            assert!(!inc.title.contains("203.0.113.10"), "{}", inc.title);
        }
        // The same address used by only two principals is an attacker's, and links them.
        let v = vec![
            f("p", 0, 60, &["T1078.004"], &user("alice"), "45.137.21.35"),
            f("q", 30, 60, &["T1485"], &user("bob"), "45.137.21.35"),
        ];
        let incs = group(&v, &cfg());
        assert_eq!(members(&incs), vec![vec!["p", "q"]]);
        assert!(
            incs[0].title.contains("from 45.137.21.35"),
            "{}",
            incs[0].title
        );
    }

    #[test]
    fn private_addresses_never_link() {
        let v = vec![
            f("p", 0, 60, &["T1078.004"], &user("alice"), "10.0.0.5"),
            f("q", 30, 60, &["T1485"], &user("bob"), "10.0.0.5"),
        ];
        let incs = group(&v, &lone());
        assert_eq!(incs.len(), 2);
        assert_eq!(public_ip("10.1.2.3"), None);
        assert_eq!(public_ip("100.64.0.1"), None);
        assert_eq!(public_ip("127.0.0.1"), None);
        assert_eq!(public_ip("169.254.169.254"), None);
        assert_eq!(public_ip("fd00::1"), None);
        assert_eq!(public_ip("AWS Internal"), None);
        assert_eq!(public_ip("ec2.amazonaws.com"), None);
        assert_eq!(public_ip("45.137.21.35").as_deref(), Some("45.137.21.35"));
        assert_eq!(
            public_ip("::ffff:45.137.21.35").as_deref(),
            Some("45.137.21.35")
        );
        assert_eq!(public_ip("203.0.113.7").as_deref(), Some("203.0.113.7"));
    }

    #[test]
    fn access_key_links_a_principal_finding_with_a_key_finding() {
        let a = with(
            f("p", 0, 70, &["T1078.004"], &user("svc"), ""),
            ObservableType::AccessKey,
            "AKIAEXAMPLEKEY000001",
        );
        // A finding that knows only the key (no principal, no address).
        let b = with(
            f("k", 90, 70, &["T1530"], "", ""),
            ObservableType::AccessKey,
            "AKIAEXAMPLEKEY000001",
        );
        let incs = group(&[a, b], &cfg());
        assert_eq!(members(&incs), vec![vec!["k", "p"]]);
        assert_eq!(
            incs[0].access_keys,
            vec!["AKIAEXAMPLEKEY000001".to_string()]
        );
        assert!(linked_by(&incs[0], "AKIAEXAMPLEKEY000001"));
    }

    #[test]
    fn tactics_are_in_kill_chain_order_and_named_in_the_title() {
        let alice = user("alice");
        // Arrive out of kill-chain order, both in time and in input.
        let v = vec![
            f("impact", 50, 80, &["T1485"], &alice, "45.137.21.35"),
            f("evasion", 10, 90, &["T1562.008"], &alice, "45.137.21.35"),
            f(
                "privesc",
                20,
                85,
                &["T1484.002", "T1098.003"],
                &alice,
                "45.137.21.35",
            ),
            f("initial", 30, 60, &["T1078.004"], &alice, "45.137.21.35"),
        ];
        let incs = group(&v, &cfg());
        assert_eq!(incs.len(), 1);
        let inc = &incs[0];
        let uids: Vec<&str> = inc.tactics.iter().map(|t| t.uid.as_str()).collect();
        assert_eq!(uids, vec!["TA0001", "TA0003", "TA0004", "TA0005", "TA0040"]);
        let orders: Vec<usize> = inc
            .techniques
            .iter()
            .map(|t| crate::attack::tactic_order(crate::attack::lookup(t).unwrap().tactic_uid))
            .collect();
        assert!(
            orders.windows(2).all(|w| w[0] <= w[1]),
            "{:?}",
            inc.techniques
        );
        assert_eq!(
            inc.title,
            format!(
                "Initial access → impact by arn:…:user/alice from 45.137.21.35: 4 findings, 5 tactics"
            )
        );
        assert!(!inc.title.contains('\n'));
    }

    #[test]
    fn combined_risk_is_at_least_the_strongest_member_and_capped() {
        let alice = user("alice");
        let one = group(&[f("a", 0, 90, &["T1562.008"], &alice, "")], &cfg());
        assert_eq!(
            one[0].risk_score, 90,
            "one finding, one tactic: its own risk"
        );
        let v = vec![
            f("a", 0, 60, &["T1078.004"], &alice, ""),
            f("b", 5, 50, &["T1078.004"], &alice, ""),
        ];
        let two = group(&v, &cfg());
        let r = two[0].risk_score;
        assert!(
            r > 60 && r < 75,
            "two corroborating findings raise the risk a little: {r}"
        );
        let many: Vec<Finding> = (0..12)
            .map(|i| {
                let t = [
                    "T1078.004",
                    "T1562.008",
                    "T1098.001",
                    "T1485",
                    "T1530",
                    "T1537",
                ][i % 6];
                f(&format!("m{i}"), i as i64, 95, &[t], &alice, "")
            })
            .collect();
        let inc = &group(&many, &cfg())[0];
        assert_eq!(inc.risk_score, 100);
        assert_eq!(inc.severity, Severity::Critical);
        // Repeats of one detector are one witness, not several.
        let mut same = vec![
            f("s1", 0, 60, &["T1078.004"], &alice, ""),
            f("s2", 5, 60, &["T1078.004"], &alice, ""),
        ];
        for x in &mut same {
            x.detector = "same".into();
        }
        assert_eq!(group(&same, &cfg())[0].risk_score, 60);
    }

    #[test]
    fn uid_is_stable_when_later_findings_join() {
        let alice = user("alice");
        let first = vec![
            f("a", 0, 60, &["T1078.004"], &alice, ""),
            f("b", 10, 60, &["T1562.008"], &alice, ""),
        ];
        let before = group(&first, &cfg());
        let mut more = first.clone();
        more.push(f("c", 600, 90, &["T1485"], &alice, ""));
        let after = group(&more, &cfg());
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].findings.len(), 3);
        assert_eq!(before[0].uid, after[0].uid);
        assert_eq!(before[0].uid, stable_id(&["incident", "a"]));
        assert_eq!(before[0].short_id().len(), 12);
    }

    #[test]
    fn suppressed_findings_feed_incidents_and_all_suppressed_hides_it() {
        let alice = user("alice");
        let mut a = f("a", 0, 90, &["T1078.004"], &alice, "");
        a.suppressed = Some("known pentest".into());
        let b = f("b", 10, 50, &["T1485"], &alice, "");
        let incs = group(&[a.clone(), b.clone()], &cfg());
        assert_eq!(incs.len(), 1);
        assert_eq!(incs[0].findings.len(), 2);
        assert_eq!(incs[0].suppressed_count, 1);
        assert!(!incs[0].suppressed);
        // The analyst said the suppressed one is benign: it adds neither risk nor tactic bonus.
        assert_eq!(incs[0].risk_score, 50);
        assert!(incs[0].timeline.iter().any(|t| t.suppressed));
        let mut b2 = b;
        b2.suppressed = Some("known pentest".into());
        let incs = group(&[a, b2], &cfg());
        assert_eq!(incs.len(), 1);
        assert!(incs[0].suppressed);
        assert_eq!(incs[0].suppressed_count, 2);
        assert!(incs[0].risk_score >= 90);
    }

    #[test]
    fn sso_sessions_of_one_person_link_only_within_hours() {
        let sso = |acct: &str, set: &str| {
            format!("arn:aws:sts::{acct}:assumed-role/AWSReservedSSO_{set}_abc/eve@example.com")
        };
        // Eve as admin in one account and read-only in another.
        let (admin, ro) = (
            sso("111122223333", "Admin"),
            sso("444455556666", "ReadOnly"),
        );
        let v = vec![
            f("x", 0, 70, &["T1078.004"], &admin, ""),
            f("y", 120, 70, &["T1562.008"], &ro, ""),
        ];
        let incs = group(&v, &cfg());
        assert_eq!(members(&incs), vec![vec!["x", "y"]]);
        assert!(linked_by(&incs[0], "person eve@example.com"));
        // The same person in another permission set 20 hours later is not the same story...
        let v = vec![
            f("x", 0, 70, &["T1078.004"], &admin, ""),
            f("x2", 5, 70, &["T1580"], &admin, ""),
            f("y", 20 * 60, 70, &["T1562.008"], &ro, ""),
            f("y2", 20 * 60 + 5, 70, &["T1485"], &ro, ""),
        ];
        assert_eq!(group(&v, &cfg()).len(), 2);
        // ...but one session is, within the day.
        let v = vec![
            f("x", 0, 70, &["T1078.004"], &admin, ""),
            f("z", 20 * 60, 70, &["T1562.008"], &admin, ""),
        ];
        assert_eq!(group(&v, &cfg()).len(), 1);
    }

    #[test]
    fn a_role_shared_by_many_sessions_does_not_link() {
        let role = format!("arn:aws:iam::{ACCT}:role/ci-deploy");
        let session = |s: &str| format!("arn:aws:sts::{ACCT}:assumed-role/ci-deploy/{s}");
        let mut v = Vec::new();
        for s in 0..6 {
            let x = f(&format!("r{s}"), s * 10, 60, &["T1078.004"], &role, "");
            v.push(with(
                x,
                ObservableType::PrincipalArn,
                &session(&format!("run-{s}")),
            ));
        }
        let incs = group(&v, &lone());
        assert_eq!(incs.len(), 6, "{:?}", members(&incs));
        // The title names the session, not the shared role.
        assert!(
            incs.iter()
                .all(|i| i.title.contains("assumed-role/ci-deploy/run-"))
        );
    }

    #[test]
    fn a_long_repeating_finding_does_not_bridge_days() {
        let alice = user("alice");
        let mut long = f("long", 0, 60, &["T1078.004"], &alice, "");
        long.last_seen_ms = T0 + 5 * 24 * 60 * MIN;
        let v = vec![
            long,
            f("early", 30, 60, &["T1580"], &alice, ""),
            f("late1", 5 * 24 * 60 - 10, 60, &["T1485"], &alice, ""),
            f("late2", 5 * 24 * 60, 60, &["T1537"], &alice, ""),
        ];
        let incs = group(&v, &cfg());
        assert_eq!(
            members(&incs),
            vec![vec!["early", "long"], vec!["late1", "late2"]]
        );
    }

    #[test]
    fn a_daily_finding_does_not_grow_one_mega_incident() {
        let alice = user("alice");
        let v: Vec<Finding> = (0..14)
            .map(|d| {
                f(
                    &format!("d{d:02}"),
                    d * 20 * 60,
                    60,
                    &["T1078.004"],
                    &alice,
                    "",
                )
            })
            .collect();
        let incs = group(&v, &cfg());
        assert!(incs.len() >= 4, "{:?}", members(&incs));
        for i in &incs {
            assert!(i.last_seen_ms - i.first_seen_ms <= 72 * HOUR_MS);
        }
        // Every finding is in exactly one incident (lone ones are not listed).
        let listed: usize = incs.iter().map(|i| i.findings.len()).sum();
        assert!(listed <= 14);
        let unlimited = IncidentConfig {
            max_span_ms: 0,
            ..cfg()
        };
        assert_eq!(group(&v, &unlimited).len(), 1);
    }

    #[test]
    fn informational_findings_join_no_incident() {
        let alice = user("alice");
        let v = vec![
            f("i", 0, 13, &["T1078.004"], &alice, ""),
            f("a", 10, 60, &["T1562.008"], &alice, ""),
            f("b", 20, 60, &["T1485"], &alice, ""),
        ];
        let incs = group(&v, &cfg());
        assert_eq!(members(&incs), vec![vec!["a", "b"]]);
        // A lone medium finding is a finding, not an incident; a lone critical one is both.
        assert!(group(&v[1..2], &cfg()).is_empty());
        assert_eq!(group(&[f("c", 0, 95, &[], &alice, "")], &cfg()).len(), 1);
    }

    #[test]
    fn a_created_user_signing_in_soon_after_links_through_the_resource() {
        let admin = format!("arn:aws:sts::{ACCT}:assumed-role/Admin/ops@example.com");
        let created = |t: i64| {
            let mut x = f("create", t, 40, &["T1136.003"], &admin, "");
            x.resources.push(Resource {
                uid: user("newhire"),
                kind: "AWS::IAM::User".into(),
                region: None,
                account: Some(ACCT.into()),
            });
            x
        };
        let signin = f("signin", 40, 40, &["T1078.004"], &user("newhire"), "");
        let incs = group(&[created(0), signin.clone()], &cfg());
        assert_eq!(members(&incs), vec![vec!["create", "signin"]]);
        assert!(linked_by(&incs[0], "resource"));
        // Five hours apart it is two stories.
        let mut later = signin;
        later.first_seen_ms += 5 * HOUR_MS;
        later.last_seen_ms += 5 * HOUR_MS;
        assert_eq!(group(&[created(0), later], &lone()).len(), 2);
        // A storm naming many buckets links through none of them.
        let mut storm = f("storm", 0, 60, &["T1530"], &user("scanner"), "");
        for b in 0..5 {
            storm.observables.push(obs(
                ObservableType::ResourceUid,
                &format!("arn:aws:s3:::bucket-{b}"),
            ));
        }
        let mut exposed = f("exposed", 10, 60, &["T1530"], &user("bob"), "");
        exposed
            .observables
            .push(obs(ObservableType::ResourceUid, "arn:aws:s3:::bucket-1"));
        assert_eq!(group(&[storm, exposed], &lone()).len(), 2);
    }

    #[test]
    fn bare_user_names_and_foreign_accounts_link() {
        // Failed console sign-ins name only the user; the account resolves it.
        let v = vec![
            f("brute", 0, 80, &["T1110.001"], "yasmin", "45.137.21.1"),
            f("use", 300, 70, &["T1485"], &user("yasmin"), "146.70.199.35"),
        ];
        assert_eq!(group(&v, &cfg()).len(), 1);
        // A trust to an outside account, then that account assuming in.
        let trust = with(
            f("trust", 0, 70, &["T1098.003"], &user("mallory"), ""),
            ObservableType::Account,
            "999988887777",
        );
        let assume = f("assume", 30, 75, &["T1199"], "999988887777", "141.98.10.36");
        let incs = group(&[trust, assume], &cfg());
        assert_eq!(members(&incs), vec![vec!["assume", "trust"]]);
        assert!(linked_by(&incs[0], "foreign account 999988887777"));
    }

    #[test]
    fn titles_name_principals_briefly() {
        assert_eq!(short_principal(&user("alice")), "arn:…:user/alice");
        assert_eq!(
            short_principal(&format!("arn:aws:iam::{ACCT}:root")),
            format!("root of {ACCT}")
        );
        assert_eq!(
            short_principal(&format!(
                "arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_AdministratorAccess_683d441a/kenji@example.com"
            )),
            "kenji@example.com (SSO AdministratorAccess)"
        );
        assert_eq!(
            short_principal(&format!("arn:aws:sts::{ACCT}:assumed-role/app-role/i-0abc")),
            "arn:…:assumed-role/app-role/i-0abc"
        );
        assert_eq!(short_principal("yasmin"), "yasmin");
        assert_eq!(short_principal("arn:bad"), "arn:bad");
    }

    #[test]
    fn principal_keys_normalise_actors() {
        let k = |s: &str| principal_key(s, Some(ACCT)).map(|p| p.key);
        assert_eq!(
            k(&user("path/to/alice")),
            Some(format!("user:{ACCT}:alice"))
        );
        assert_eq!(k("alice"), Some(format!("user:{ACCT}:alice")));
        assert_eq!(
            k(&format!("arn:aws:iam::{ACCT}:root")),
            Some(format!("root:{ACCT}"))
        );
        assert_eq!(
            k(&format!("arn:aws:sts::{ACCT}:assumed-role/app/i-0abc")),
            Some(format!("session:{ACCT}:app/i-0abc"))
        );
        let sso = principal_key(
            &format!("arn:aws:sts::{ACCT}:assumed-role/AWSReservedSSO_X/Eve@Example.com"),
            None,
        )
        .unwrap();
        assert_eq!(sso.person.as_deref(), Some("person:eve@example.com"));
        assert_eq!(k("ec2.amazonaws.com"), None);
        assert_eq!(k("AWS Internal"), None);
        assert_eq!(principal_key("alice", None), None);
        assert_eq!(k("arn:aws"), None);
    }

    #[test]
    fn ocsf_incident_finding_is_complete() {
        let alice = user("alice");
        let v = vec![
            f("a", 0, 60, &["T1078.004"], &alice, "45.137.21.35"),
            f("b", 10, 90, &["T1562.008"], &alice, "45.137.21.35"),
        ];
        let inc = &group(&v, &cfg())[0];
        let o = inc.to_ocsf(&v, "9.9.9");
        assert_eq!(o["class_uid"], 2005);
        assert_eq!(o["category_uid"], 2);
        assert_eq!(o["type_uid"], 200_501);
        assert_eq!(o["activity_id"], 1);
        assert_eq!(o["status_id"], 1);
        assert_eq!(o["severity_id"], inc.severity.id());
        assert_eq!(o["metadata"]["version"], "1.6.0");
        assert_eq!(o["metadata"]["uid"], inc.uid.as_str());
        assert!(
            o["metadata"]["profiles"]
                .as_array()
                .unwrap()
                .contains(&json!("incident"))
        );
        assert_eq!(o["metadata"]["product"]["version"], "9.9.9");
        assert!(o["assignee_group"]["name"].is_string());
        assert_eq!(o["start_time"], T0);
        assert_eq!(o["end_time"], T0 + 10 * MIN);
        assert_eq!(o["unmapped"]["risk_score"], inc.risk_score);
        let list = o["finding_info_list"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["uid"], "a");
        assert!(list[0]["analytic"]["uid"].is_string());
        assert!(list[0].get("related_events").is_none());
        assert_eq!(list[0]["related_events_count"], 1);
        let tactics: Vec<&str> = o["attacks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["tactic"]["uid"].as_str().unwrap())
            .collect();
        assert_eq!(tactics, vec!["TA0001", "TA0005"]);
        assert!(
            o["observables"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["value"] == alice.as_str() && x["type_id"] == 21)
        );
        assert_eq!(o["cloud"]["account"]["uid"], ACCT);
        // Suppressed incidents say so.
        let mut s = v.clone();
        for x in &mut s {
            x.suppressed = Some("test".into());
        }
        let inc = &group(&s, &cfg())[0];
        assert_eq!(inc.to_ocsf(&s, "1")["status"], "Suppressed");
    }

    #[test]
    fn table_and_text_show_what_matters() {
        let alice = user("alice");
        let v = vec![
            f("a", 0, 60, &["T1078.004"], &alice, "45.137.21.35"),
            f("b", 10, 90, &["T1562.008"], &alice, "45.137.21.35"),
        ];
        let incs = group(&v, &cfg());
        let table = render_table(&incs, 200);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("ID") && lines[0].contains("TACTICS"));
        assert!(lines[1].starts_with(incs[0].short_id()));
        assert!(lines[1].contains("initial>evasion"), "{}", lines[1]);
        assert!(
            lines[1].contains("2024-04-01 00:00  04-01 00:10"),
            "{}",
            lines[1]
        );
        let narrow = render_table(&incs, 40);
        assert!(narrow.lines().all(|l| l.chars().count() < 220));
        let text = render_text(&incs[0]);
        assert!(text.contains(&incs[0].uid) && text.contains(&incs[0].title));
        assert!(
            text.contains("Initial Access (TA0001) → Defense Evasion (TA0005)"),
            "{text}"
        );
        let a = text.find("finding a").unwrap();
        let b = text.find("finding b").unwrap();
        assert!(a < b, "timeline in time order:\n{text}");
        assert!(text.contains("2024-04-01 00:10:00  Critical"), "{text}");
    }

    #[test]
    fn empty_and_odd_input_is_fine() {
        assert!(group(&[], &cfg()).is_empty());
        let mut odd = f("odd", 0, 250, &["T9999", ""], "", "not an ip");
        odd.last_seen_ms = odd.first_seen_ms - 5;
        odd.first_seen_ms = i64::MIN;
        let incs = group(
            &[odd.clone(), odd],
            &IncidentConfig {
                window_ms: i64::MAX,
                max_span_ms: i64::MAX,
                ..cfg()
            },
        );
        assert_eq!(incs.len(), 1);
        assert_eq!(incs[0].findings.len(), 1, "one finding per uid");
        assert_eq!(incs[0].risk_score, 100);
        assert!(incs[0].tactics.is_empty());
        assert_eq!(
            incs[0].techniques,
            vec!["".to_string(), "T9999".to_string()]
        );
        let _ = render_text(&incs[0]);
        let _ = incs[0].to_ocsf(&[], "1");
    }
}

#[cfg(test)]
mod props {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::finding::Observable;
    use proptest::prelude::*;

    fn arb_finding(i: usize) -> impl Strategy<Value = Finding> {
        let principals = prop::sample::select(vec![
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_A_1/eve@example.com",
            "arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_B_2/eve@example.com",
            "arn:aws:iam::111122223333:role/ci",
            "",
        ]);
        let ips = prop::sample::select(vec!["45.137.21.35", "203.0.113.10", "10.0.0.1", ""]);
        let keys = prop::sample::select(vec!["AKIAEXAMPLEKEY000001", "ASIAEXAMPLEKEY000002", ""]);
        let attacks =
            prop::sample::subsequence(vec!["T1078.004", "T1562.008", "T1485", "T1530"], 0..3);
        (
            principals,
            ips,
            keys,
            attacks,
            0i64..(96 * 60),
            0i64..600,
            1u8..100,
            any::<bool>(),
        )
            .prop_map(move |(p, ip, key, attacks, start, len, risk, sup)| {
                let mut observables = Vec::new();
                for (kind, v) in [
                    (ObservableType::PrincipalArn, p),
                    (ObservableType::IpAddress, ip),
                    (ObservableType::AccessKey, key),
                ] {
                    if !v.is_empty() {
                        observables.push(Observable {
                            kind,
                            value: v.to_string(),
                        });
                    }
                }
                Finding {
                    detector: format!("d{}", i % 4),
                    detector_name: "d".into(),
                    title: format!("t{i}"),
                    confidence: 50,
                    attacks: attacks.into_iter().map(String::from).collect(),
                    first_seen_ms: start * 60_000,
                    last_seen_ms: (start + len) * 60_000,
                    observables,
                    suppressed: sup.then(|| "x".to_string()),
                    ..super::tests::blank(&format!("f{i:03}"), risk)
                }
            })
    }

    fn arb_findings() -> impl Strategy<Value = Vec<Finding>> {
        (1usize..40).prop_flat_map(|n| (0..n).map(arb_finding).collect::<Vec<_>>())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn grouping_ignores_input_order(v in arb_findings(), seed in any::<u64>()) {
            let cfg = IncidentConfig::default();
            let a = group(&v, &cfg);
            let mut shuffled = v.clone();
            // A deterministic shuffle driven by the seed.
            let mut s = seed | 1;
            for i in (1..shuffled.len()).rev() {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                shuffled.swap(i, (s % (i as u64 + 1)) as usize);
            }
            let b = group(&shuffled, &cfg);
            prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
            // Invariants: each finding in at most one incident, risk never below a counted
            // member's, tactics in kill-chain order, spans within the limit.
            let mut seen = std::collections::BTreeSet::new();
            for inc in &a {
                for u in &inc.findings {
                    prop_assert!(seen.insert(u.clone()));
                }
                let counted: Vec<&TimelineEntry> = if inc.suppressed {
                    inc.timeline.iter().collect()
                } else {
                    inc.timeline.iter().filter(|t| !t.suppressed).collect()
                };
                let max = counted.iter().map(|t| t.risk_score).max().unwrap_or(0);
                prop_assert!(inc.risk_score >= max && inc.risk_score <= 100);
                let orders: Vec<usize> = inc.tactics.iter().map(|t| crate::attack::tactic_order(&t.uid)).collect();
                prop_assert!(orders.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(inc.timeline.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
                prop_assert!(!inc.title.contains('\n'));
            }
        }
    }
}
