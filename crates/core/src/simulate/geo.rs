//! The simulated world's IP plan as IP enrichment data: `geo/asn.csv` and `geo/country.csv` in
//! the `ip-location-db` CSV layouts, so `detector scan --geo <out>/geo` knows exactly where
//! every simulated address is.
//!
//! Offices are in their city's country on a private-use AS named after the office; staff homes
//! are on a consumer ISP of the office's country; hotels abroad and thieves' home connections
//! on consumer ISPs of their countries; attackers on hosting and VPN networks (M247, Datacamp,
//! FranTech, Hetzner); workloads and Lambda egress on AMAZON-02; CI runners on Microsoft; SaaS
//! endpoints on their CDNs. The ASNs are real operators' numbers, the prefixes are not theirs:
//! this file describes the simulation, not the Internet. Independent of the seed.

use std::net::Ipv4Addr;

use super::catalog::{
    ATTACKER_NETS, AWS_NETS, CLIENT_NETS, GITHUB_NETS, NOISE_NETS, OFFICES, REMOTE_HOME_NETS,
    SAAS_NETS, TRAVEL_NETS,
};

/// First AS number of the offices (RFC 6996 private use).
const OFFICE_ASN: u32 = 64_512;

/// A consumer ISP per country the simulation has people in.
fn isp(country: &str) -> (u32, &'static str) {
    match country {
        "US" => (7922, "Comcast Cable Communications, LLC"),
        "GB" => (2856, "British Telecommunications PLC"),
        "DE" => (3320, "Deutsche Telekom AG"),
        "IN" => (55836, "Reliance Jio Infocomm Limited"),
        "JP" => (17676, "SoftBank Corp."),
        "BR" => (28573, "Claro NXT Telecomunicacoes Ltda"),
        "ZA" => (37457, "Telkom SA Ltd."),
        "AU" => (1221, "Telstra Limited"),
        "ES" => (3352, "Telefonica De Espana S.A.U."),
        "KR" => (4766, "Korea Telecom"),
        "NG" => (29465, "MTN NIGERIA Communication limited"),
        "VN" => (7552, "Viettel Group"),
        "FR" => (3215, "Orange S.A."),
        "MX" => (8151, "UNINET"),
        _ => (3356, "Level 3 Parent, LLC"),
    }
}

/// Hosting and VPN operators attackers rent from, with the country of the block.
const ATTACKER_HOSTS: &[(u32, &str, &str)] = &[
    (9009, "M247 Europe SRL", "RO"),
    (212_238, "Datacamp Limited", "NL"),
    (53667, "FranTech Solutions", "US"),
    (24940, "Hetzner Online GmbH", "DE"),
];

/// Internet scanners' networks.
const SCANNER_HOSTS: &[(u32, &str, &str)] = &[
    (398_324, "Censys, Inc.", "US"),
    (10439, "CariNet, Inc.", "US"),
    (14061, "DigitalOcean, LLC", "US"),
    (16276, "OVH SAS", "FR"),
];

/// Where the organization's web clients live, in `CLIENT_NETS` order.
const CLIENT_COUNTRIES: &[&str] = &["US", "GB", "US", "US", "FR", "DE", "JP", "MX"];

struct Row {
    start: u32,
    end: u32,
    asn: u32,
    org: String,
    country: &'static str,
}

fn net16(n: [u8; 2]) -> (u32, u32) {
    let s = u32::from(Ipv4Addr::new(n[0], n[1], 0, 0));
    (s, s | 0xffff)
}

fn net24(n: [u8; 3]) -> (u32, u32) {
    let s = u32::from(Ipv4Addr::new(n[0], n[1], n[2], 0));
    (s, s | 0xff)
}

fn rows(company: &str) -> Vec<Row> {
    let mut v = Vec::new();
    let mut add = |(start, end): (u32, u32), asn: u32, org: String, country: &'static str| {
        v.push(Row {
            start,
            end,
            asn,
            org,
            country,
        });
    };
    for (i, o) in OFFICES.iter().enumerate() {
        add(
            net24(o.net),
            OFFICE_ASN + i as u32,
            format!("{company} {} office", o.city),
            o.country,
        );
        let (asn, org) = isp(o.country);
        for h in o.home_nets {
            add(net16(*h), asn, org.to_string(), o.country);
        }
    }
    for (n, cc) in TRAVEL_NETS.iter().chain(REMOTE_HOME_NETS) {
        let (asn, org) = isp(cc);
        add(net16(*n), asn, org.to_string(), cc);
    }
    for (i, n) in ATTACKER_NETS.iter().enumerate() {
        let (asn, org, cc) = ATTACKER_HOSTS[i % ATTACKER_HOSTS.len()];
        add(net24(*n), asn, org.to_string(), cc);
    }
    for (i, n) in NOISE_NETS.iter().enumerate() {
        let (asn, org, cc) = SCANNER_HOSTS[i % SCANNER_HOSTS.len()];
        add(net16(*n), asn, org.to_string(), cc);
    }
    for (i, n) in CLIENT_NETS.iter().enumerate() {
        let cc = CLIENT_COUNTRIES[i % CLIENT_COUNTRIES.len()];
        let (asn, org) = isp(cc);
        add(net16(*n), asn, org.to_string(), cc);
    }
    for n in AWS_NETS {
        add(net16(*n), 16509, "AMAZON-02".into(), "US");
    }
    for n in GITHUB_NETS {
        add(net16(*n), 8075, "MICROSOFT-CORP-MSN-AS-BLOCK".into(), "US");
    }
    for n in SAAS_NETS {
        let (asn, org) = match n[0] {
            104 => (13335, "Cloudflare, Inc."),
            151 => (54113, "Fastly, Inc."),
            140 => (36459, "GitHub, Inc."),
            13 => (8075, "MICROSOFT-CORP-MSN-AS-BLOCK"),
            _ => (396_982, "Google LLC"),
        };
        add(net24(*n), asn, org.into(), "US");
    }
    v.sort_by_key(|r| (r.start, r.end));
    v
}

/// CSV field, quoted when it holds a comma or a quote.
fn field(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `(asn.csv, country.csv)` describing every address range the simulation uses.
pub fn geo_csv(company: &str) -> (String, String) {
    let mut asn = String::new();
    let mut country = String::new();
    for r in rows(company) {
        let (s, e) = (Ipv4Addr::from(r.start), Ipv4Addr::from(r.end));
        asn.push_str(&format!("{s},{e},{},{}\n", r.asn, field(&r.org)));
        country.push_str(&format!("{s},{e},{}\n", r.country));
    }
    (asn, country)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::geo::{GeoDbBuilder, GeoLookup, NetKind};

    #[test]
    fn plan_loads_without_overlaps_and_places_everyone() {
        let (asn, country) = geo_csv("acme");
        let mut b = GeoDbBuilder::new();
        let r1 = b.add_asn_csv(&asn, "asn.csv");
        let r2 = b.add_country_csv(&country, "country.csv");
        assert_eq!((r1.skipped, r2.skipped), (0, 0), "{r1:?} {r2:?}");
        let (db, overlaps) = b.build();
        assert_eq!(overlaps, 0);
        let look = |s: &str| db.lookup(s.parse().unwrap());
        let berlin = look("192.88.99.20");
        assert_eq!(berlin.country.as_deref(), Some("DE"));
        assert_eq!(berlin.as_org.as_deref(), Some("acme Berlin office"));
        assert_eq!(berlin.network, NetKind::Other);
        assert_eq!(look("84.128.3.4").country.as_deref(), Some("DE"));
        assert_eq!(look("126.72.1.1").country.as_deref(), Some("JP"));
        assert_eq!(look("14.52.9.9").country.as_deref(), Some("KR"));
        let aws = look("54.172.1.2");
        assert_eq!((aws.network, aws.asn), (NetKind::Aws, Some(16509)));
        assert!(look("185.220.101.7").network.hides_location());
        for n in ATTACKER_NETS {
            let ip = Ipv4Addr::new(n[0], n[1], n[2], 9);
            assert!(db.lookup(ip.into()).network.hides_location(), "{ip}");
        }
        for (n, _) in TRAVEL_NETS.iter().chain(REMOTE_HOME_NETS) {
            let info = db.lookup(Ipv4Addr::new(n[0], n[1], 7, 7).into());
            assert_eq!(info.network, NetKind::Other, "{n:?}");
        }
    }
}
