//! Impossible travel: one person's identity used from two countries further apart than anyone
//! could travel in the time between.
//!
//! **What**: per person (IAM user, Identity Center or federated session, root), the country of
//! the last public address their calls and console sign-ins came from, and when it was last
//! seen there. A call from another country raises a finding when the least distance between
//! the two countries divided by the time since exceeds `impossible_travel_kmh` (default
//! 1,000 km/h: faster than an airliner). The finding collects what the identity then did from
//! the new place (calls with gaps under 30 minutes) and is judged when that burst ends.
//! **Why**: a stolen password, session cookie or access key is used from wherever the attacker
//! sits while the owner keeps working from home (T1078.004); a hijacked console session or
//! replayed session token is alternate authentication material (T1550.001).
//! **Distance**: enrichment knows countries, not cities, so the distance is the one between
//! the countries' representative points less both countries' radii (a disc of the country's
//! area), and zero across a land border: the least a person must have travelled. Berlin, then
//! Tokyo 14 hours later, is about 8,300 km at least: 590 km/h, not an alert.
//! **Exceptions** (counted, never alerted): addresses of AWS, other cloud providers and known
//! VPN / hosting / relay networks (their location is not the person's); calls AWS makes on a
//! person's behalf (`sourceIPAddress` like `ec2.amazonaws.com`); private addresses; addresses or
//! countries enrichment does not know; failed console sign-ins (password guessing is the
//! brute-force detector's); roles, which many people and workloads share.
//! **Baseline**: none beyond the last location; needs `Ctx::geo` (`detector geo install` or
//! `--geo`), and does nothing without it.
//! **False positives**: a VPN or relay the list does not know, mobile carriers that route
//! through another country, wrong geolocation data. Repeats for the same person and pair of
//! countries update one finding.
//! **ATT&CK**: T1078.004, T1550.001.
//! **References**: Microsoft Entra ID Protection "atypical travel" and "impossible travel"
//! risk detections; Okta ThreatInsight velocity checks; Google Workspace "suspicious login".

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::activity::is_public;
use super::sequence::{Evidence, Report, finding, join};
use super::{
    Activity, Ctx, Detector, PrincipalKind, anomaly_entry, principal_observables, privilege_weight,
    risk_score,
};
use crate::geo;

const ID: &str = "impossible-travel";
/// Calls from the new place with gaps under this belong to the same finding.
const GAP_MS: i64 = 30 * 60_000;
/// Time under this counts as this much: two records in the same second are not infinitely fast.
const MIN_ELAPSED_MS: i64 = 60_000;
/// Countries remembered per person for `describe`.
const KEEP_COUNTRIES: usize = 16;
/// APIs named per finding.
const KEEP_APIS: usize = 12;

/// Where a person was last seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Place {
    country: String,
    last_ms: i64,
    ip: String,
    asn: Option<u32>,
    org: Option<String>,
    uid: String,
    /// Established by a successful console sign-in.
    console: bool,
}

/// A jump being collected: what the identity does at the new place.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Jump {
    from: Place,
    to: Place,
    points_km: f64,
    min_km: f64,
    elapsed_ms: i64,
    ev: Evidence,
    apis: BTreeSet<String>,
    console: bool,
    /// The jump returns to the person's usual country.
    back_home: bool,
    /// The first call from the old place after the burst, when it came before the burst ended.
    back: Option<Place>,
}

/// What the last looked-up address turned out to be (saves a lookup per call: people keep
/// their address for hours).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
enum Seen {
    Located {
        country: String,
        asn: Option<u32>,
        org: Option<String>,
    },
    /// Cloud, AWS, VPN or hosting: location not the person's.
    Hidden(String),
    Unknown,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Person {
    principal: String,
    kind: Option<PrincipalKind>,
    place: Option<Place>,
    countries: BTreeMap<String, u64>,
    /// Calls from cloud, VPN or hosting addresses (not judged).
    exceptions: u64,
    /// Calls whose address or country enrichment does not know (not judged).
    unknown: u64,
    jump: Option<Jump>,
    /// The country the last jump left: going back there is the owner carrying on.
    left: Option<String>,
    /// Not saved: the next scan may run with other enrichment data.
    #[serde(skip)]
    cache: Option<(String, Seen)>,
}

/// See the module documentation.
#[derive(Default)]
pub struct ImpossibleTravel {
    people: BTreeMap<String, Person>,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    people: BTreeMap<String, Person>,
}

/// The key one person is tracked under: Identity Center sessions fold into the person (the
/// session name), whatever account and permission set they were issued for.
fn person_key(principal: &str, kind: PrincipalKind) -> String {
    if kind == PrincipalKind::SsoUser
        && principal.contains(":assumed-role/AWSReservedSSO_")
        && let Some(name) = principal.rsplit('/').next()
    {
        return format!("sso:{name}");
    }
    principal.to_string()
}

/// A short name for titles: `alice` for a user ARN or session, `root (111122223333)`.
fn short_name(principal: &str, kind: PrincipalKind) -> String {
    if kind == PrincipalKind::Root {
        let acct = super::sequence::account_of(principal).unwrap_or("?");
        return format!("root ({acct})");
    }
    if principal.starts_with("arn:")
        && let Some(n) = principal.rsplit('/').next()
        && !n.is_empty()
    {
        return n.to_string();
    }
    principal
        .split_once(':')
        .map_or(principal, |(_, n)| n)
        .to_string()
}

/// `23 minutes`, `2 h 05 min`, `40 seconds`, `3 days 2 h`.
fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s < 120 {
        format!("{s} seconds")
    } else if s < 2 * 3600 {
        format!("{} minutes", s / 60)
    } else if s < 2 * 86_400 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} days {} h", s / 86_400, (s % 86_400) / 3600)
    }
}

/// `9812` -> `9,812`.
fn thousands(n: f64) -> String {
    let n = n.max(0.0).round() as u64;
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn network_label(p: &Place) -> String {
    match (&p.org, p.asn) {
        (Some(o), _) => o.clone(),
        (None, Some(a)) => format!("AS{a}"),
        (None, None) => p.ip.clone(),
    }
}

fn country_name(code: &str) -> &str {
    geo::country(code).map_or(code, |c| c.name)
}

fn speed_kmh(j: &Jump) -> f64 {
    j.min_km / (j.elapsed_ms.max(MIN_ELAPSED_MS) as f64 / 3_600_000.0)
}

impl ImpossibleTravel {
    fn report(key: &str, p: &Person, j: &Jump, ctx: &mut Ctx) {
        let kind = p.kind.unwrap_or(PrincipalKind::Unknown);
        let who = short_name(&p.principal, kind);
        let limit = ctx.cfg.impossible_travel_kmh.max(1.0);
        let speed = speed_kmh(j);
        let ratio = speed / limit;
        // Barely above the limit is weak (country geometry is coarse); ten times above is not.
        let mut strength = 0.6 + 0.25 * (ratio.max(1.0).log2() / 4.0).min(1.0);
        if j.console {
            strength += 0.1;
        }
        let strength = strength.min(0.97);
        let risk = risk_score(
            strength,
            privilege_weight(kind, &p.principal),
            0.8,
            if j.console { 0.8 } else { 0.7 },
        );
        let dur = duration(j.elapsed_ms);
        let title = format!(
            "Impossible travel: {who} used AWS from {} ({}) and {dur} later from {} ({}): ~{} km apart, at least {} km/h",
            j.from.country,
            network_label(&j.from),
            j.to.country,
            network_label(&j.to),
            thousands(j.points_km),
            thousands(speed),
        );
        let then = if j.back_home {
            format!(
                "{} is where this identity usually works: the owner carrying on while someone else holds it",
                country_name(&j.to.country)
            )
        } else {
            let mut t = format!(
                "Then {} call(s) from the new place ({})",
                j.ev.count
                    .saturating_sub(if j.back.is_some() { 2 } else { 1 }),
                join(&j.apis, 8)
            );
            if let Some(b) = &j.back {
                t.push_str(&format!(
                    ", and {} after the last of them the identity was back in {} ({}) at {}: the owner carrying on \
                     while someone else holds it",
                    duration(b.last_ms - j.to.last_ms),
                    country_name(&b.country),
                    b.ip,
                    crate::time::format_iso8601_ms(b.last_ms)
                ));
            }
            t
        };
        let desc = format!(
            "{} acted from {} in {} ({}) at {} and from {} in {} ({}) at {}, {dur} later{}. The countries are about {} km \
             apart and at least {} km between their nearest parts{}, which needs {} km/h; the limit is {} km/h. {then}. \
             Neither address belongs to a cloud provider, VPN or hosting network the \
             detector knows. Either two people use this identity or its password, session or keys were stolen.",
            p.principal,
            j.from.ip,
            country_name(&j.from.country),
            network_label(&j.from),
            crate::time::format_iso8601_ms(j.from.last_ms),
            j.to.ip,
            country_name(&j.to.country),
            network_label(&j.to),
            crate::time::format_iso8601_ms(j.from.last_ms + j.elapsed_ms),
            if j.console {
                ", with a console sign-in"
            } else {
                ""
            },
            thousands(j.points_km),
            thousands(j.min_km),
            if j.min_km < j.points_km {
                " (less both countries' size)"
            } else {
                ""
            },
            thousands(speed),
            thousands(limit),
        );
        let mut pair = [j.from.country.as_str(), j.to.country.as_str()];
        pair.sort_unstable();
        let pair = pair.join("|");
        let anomaly = vec![anomaly_entry(
            &format!("locations of {who}"),
            (&p.principal, "user"),
            "country",
            j.to.country.clone(),
            (j.ev.first_ms, j.ev.last_ms),
            format!(
                "{} -> {} in {dur}: {} km/h",
                j.from.country,
                j.to.country,
                thousands(speed)
            ),
            vec![
                ("last country", j.from.country.clone()),
                (
                    "last seen there",
                    crate::time::format_iso8601_ms(j.from.last_ms),
                ),
                ("speed limit km/h", thousands(limit)),
            ],
            "the fastest a person can travel between the two countries",
        )];
        let f = finding(
            &j.ev,
            Report {
                detector: ID,
                name: "Impossible travel",
                key: &[key, &pair],
                title,
                desc,
                remediation: "Ask the person whether both were them. If not: end the identity's active sessions \
                              (IAM: deny tokens issued before now with AWSRevokeOlderSessions; Identity Center: \
                              revoke the user's sessions), reset the password and MFA, rotate its access keys, and \
                              review what was done from the new place.",
                attacks: &["T1078.004", "T1550.001"],
                risk,
                confidence: 80,
                observables: principal_observables(&p.principal),
                resources: Vec::new(),
                anomaly,
            },
            ctx.cfg,
        );
        ctx.out.push(f);
    }
}

/// Who this detector judges: people, not roles or services.
fn judged(kind: PrincipalKind) -> bool {
    matches!(
        kind,
        PrincipalKind::Root
            | PrincipalKind::IamUser
            | PrincipalKind::SsoUser
            | PrincipalKind::Federated
    )
}

fn look(geo: &dyn geo::GeoLookup, ip: IpAddr) -> Seen {
    let info = geo.lookup(ip);
    if info.network.hides_location() {
        return Seen::Hidden(
            info.network
                .provider()
                .unwrap_or(info.network.name())
                .to_string(),
        );
    }
    match info.country {
        Some(c) if geo::country(&c).is_some() => Seen::Located {
            country: c,
            asn: info.asn,
            org: info.as_org,
        },
        _ => Seen::Unknown,
    }
}

impl Detector for ImpossibleTravel {
    fn id(&self) -> &'static str {
        ID
    }

    fn observe(&mut self, a: &Activity, ctx: &mut Ctx) {
        let Some(geo) = ctx.geo else {
            return;
        };
        if a.flow.is_some() || a.s3.is_some() || !judged(a.principal_kind) || a.sign_in_failed {
            return;
        }
        let (Some(principal), Some(ip)) = (a.principal.as_deref(), a.src_ip) else {
            return;
        };
        if !is_public(ip) {
            return;
        }
        let key = person_key(principal, a.principal_kind);
        let p = self.people.entry(key.clone()).or_default();
        p.principal = principal.to_string();
        p.kind = Some(a.principal_kind);
        let ip_text = ip.to_string();
        let seen = match &p.cache {
            Some((cached, seen)) if *cached == ip_text => seen.clone(),
            _ => {
                let s = look(geo, ip);
                p.cache = Some((ip_text.clone(), s.clone()));
                s
            }
        };
        let (country, asn, org) = match seen {
            Seen::Located { country, asn, org } => (country, asn, org),
            Seen::Hidden(_) => {
                p.exceptions += 1;
                return;
            }
            Seen::Unknown => {
                p.unknown += 1;
                return;
            }
        };
        let console = a.api.as_deref() == Some("signin:ConsoleLogin");
        // Where the person usually is, before this call counts.
        let home = p
            .countries
            .iter()
            .max_by_key(|(c, n)| (**n, std::cmp::Reverse(c.as_str())))
            .map(|(c, _)| c.clone());
        if p.countries.len() < KEEP_COUNTRIES || p.countries.contains_key(&country) {
            *p.countries.entry(country.clone()).or_default() += 1;
        }
        let here = Place {
            country,
            last_ms: a.time_ms,
            ip: ip_text,
            asn,
            org,
            uid: a.uid.to_string(),
            console,
        };
        // A jump in progress: more from the new place joins it; anything else closes it.
        if let Some(j) = &mut p.jump {
            if j.to.country == here.country && a.time_ms - j.ev.last_ms <= GAP_MS {
                j.ev.add(a);
                j.console |= console;
                if let Some(api) = a.api.as_deref()
                    && j.apis.len() < KEEP_APIS
                {
                    j.apis.insert(api.to_string());
                }
                j.to.last_ms = a.time_ms;
                p.place = Some(here);
                return;
            }
            if let Some(mut j) = p.jump.take() {
                if j.from.country == here.country {
                    // Straight back to where the person was: the owner carrying on. It ends
                    // the burst and is told in the same finding, not as a new jump.
                    j.ev.add(a);
                    j.back = Some(here.clone());
                    p.left = None;
                    p.place = Some(here);
                    Self::report(&key, p, &j, ctx);
                    return;
                }
                Self::report(&key, p, &j, ctx);
            }
        }
        let Some(prev) = p.place.take() else {
            p.place = Some(here);
            return;
        };
        if prev.country == here.country {
            let console = here.console || (prev.console && prev.ip == here.ip);
            p.place = Some(Place { console, ..here });
            return;
        }
        let elapsed = (a.time_ms - prev.last_ms).abs();
        let Some(sep) = geo::separation(&prev.country, &here.country) else {
            p.place = Some(here);
            return;
        };
        let j = Jump {
            points_km: sep.points_km,
            min_km: sep.min_km,
            elapsed_ms: elapsed,
            ev: Evidence::new(a),
            apis: a.api.as_deref().map(str::to_string).into_iter().collect(),
            console: console || prev.console,
            back_home: false,
            back: None,
            from: prev,
            to: here.clone(),
        };
        if speed_kmh(&j) > ctx.cfg.impossible_travel_kmh {
            let mut j = j;
            // The last call from the old place is evidence too.
            j.ev.first_ms = j.ev.first_ms.min(j.from.last_ms);
            j.ev.related.insert(0, j.from.uid.clone());
            j.ev.count += 1;
            j.ev.ips.insert(j.from.ip.clone());
            let to = Some(j.to.country.as_str());
            if home.as_deref() == to || p.left.as_deref() == to {
                // Back where the person usually works: the owner carrying on, not more of the
                // intruder. Reported at once (it updates the same finding); their day's work is
                // not evidence.
                j.back_home = true;
                p.left = None;
                p.place = Some(here);
                Self::report(&key, p, &j, ctx);
                return;
            }
            p.left = Some(j.from.country.clone());
            p.jump = Some(j);
        }
        p.place = Some(here);
    }

    fn flush(&mut self, watermark_ms: i64, ctx: &mut Ctx) {
        for (key, p) in &mut self.people {
            if p.jump
                .as_ref()
                .is_some_and(|j| j.ev.last_ms + GAP_MS < watermark_ms)
                && let Some(j) = p.jump.take()
            {
                Self::report(key, p, &j, ctx);
            }
        }
    }

    fn save(&self) -> Vec<u8> {
        super::encode(&Saved {
            people: self.people.clone(),
        })
    }

    fn load(&mut self, bytes: &[u8]) -> Result<(), String> {
        let s: Saved = super::decode(bytes)?;
        self.people = s.people;
        Ok(())
    }

    fn entities(&self) -> usize {
        self.people.len()
    }

    fn describe(&self, entity: &str) -> Option<serde_json::Value> {
        let p = self
            .people
            .get(entity)
            .or_else(|| self.people.values().find(|p| p.principal == entity))?;
        Some(serde_json::json!({
            "principal": p.principal,
            "last_country": p.place.as_ref().map(|l| &l.country),
            "last_seen": p.place.as_ref().map(|l| crate::time::format_iso8601_ms(l.last_ms)),
            "last_ip": p.place.as_ref().map(|l| &l.ip),
            "countries": p.countries,
            "cloud_vpn_hosting_exceptions": p.exceptions,
            "unknown_location": p.unknown,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(
            person_key(
                "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com",
                PrincipalKind::SsoUser
            ),
            "sso:alice@example.com"
        );
        assert_eq!(
            short_name("arn:aws:iam::111122223333:user/bob", PrincipalKind::IamUser),
            "bob"
        );
        assert_eq!(
            short_name("arn:aws:iam::111122223333:root", PrincipalKind::Root),
            "root (111122223333)"
        );
        assert_eq!(thousands(9812.4), "9,812");
        assert_eq!(thousands(25_000.0), "25,000");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(duration(23 * 60_000), "23 minutes");
        assert_eq!(duration(14 * 3_600_000 + 5 * 60_000), "14 h 05 min");
        assert_eq!(duration(40_000), "40 seconds");
    }
}
