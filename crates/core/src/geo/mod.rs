//! IP enrichment: country, autonomous system and kind of network for an address, plus the
//! country geometry impossible travel needs.
//!
//! Pure: the IO crate reads the data files (the CC BY 4.0 `ip-location-db` CSVs, or MaxMind
//! databases the user supplies) and hands their text here. Range tables are sorted
//! struct-of-arrays binary-searched per lookup, so a full IPv4 + IPv6 ASN table stays a
//! few bytes per range ([`GeoStats`]). A bad line is skipped and counted, never a panic.
//!
//! Network kinds come from the address itself (private and reserved ranges) and from a fixed
//! list of autonomous systems ([`provider`]): AWS, other cloud providers, and VPN / hosting /
//! relay networks. The VPN / hosting list is a heuristic, chosen from the operators whose
//! addresses commonly front commercial VPNs, Tor exits, proxies and iCloud Private Relay; it is
//! neither complete nor authoritative, and it is only used to *waive* impossible-travel alerts.

mod countries;

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::detect::activity::is_public;

/// What kind of network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NetKind {
    /// Private, loopback, link-local, CGNAT and other non-routable addresses.
    Private,
    /// Amazon's own networks (EC2, Lambda, NAT gateways, service endpoints).
    Aws,
    /// Another cloud provider, by name.
    Cloud(&'static str),
    /// A VPN, hosting, proxy or relay operator, by name (heuristic list).
    VpnOrHosting(&'static str),
    /// Anything else: ISPs, companies, unknown.
    #[default]
    Other,
}

impl NetKind {
    pub fn name(self) -> &'static str {
        match self {
            NetKind::Private => "private",
            NetKind::Aws => "aws",
            NetKind::Cloud(_) => "cloud",
            NetKind::VpnOrHosting(_) => "vpn-hosting",
            NetKind::Other => "other",
        }
    }

    pub fn provider(self) -> Option<&'static str> {
        match self {
            NetKind::Aws => Some("AWS"),
            NetKind::Cloud(p) | NetKind::VpnOrHosting(p) => Some(p),
            _ => None,
        }
    }

    /// Addresses whose location says nothing about where a person is: cloud and AWS egress,
    /// VPNs and relays.
    pub fn hides_location(self) -> bool {
        matches!(
            self,
            NetKind::Aws | NetKind::Cloud(_) | NetKind::VpnOrHosting(_)
        )
    }
}

/// What enrichment knows about one address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpInfo {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub asn: Option<u32>,
    pub as_org: Option<String>,
    pub network: NetKind,
}

impl IpInfo {
    /// JSON for `detector geo lookup --json` and OCSF enrichment `data`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "country": self.country,
            "asn": self.asn,
            "org": self.as_org,
            "network": self.network.name(),
        });
        if let Some(p) = self.network.provider() {
            v["provider"] = serde_json::json!(p);
        }
        if let Some(c) = self.country.as_deref().and_then(country) {
            v["country_name"] = serde_json::json!(c.name);
        }
        v
    }
}

/// Anything that can enrich an address. Implementations must be cheap to call per event.
pub trait GeoLookup: Send + Sync {
    fn lookup(&self, ip: IpAddr) -> IpInfo;
    /// Who the data comes from, for OCSF `enrichments[].provider`.
    fn provider(&self) -> &str {
        "detector geo"
    }
}

/// Network kind of an address from its range and autonomous system.
pub fn classify(ip: IpAddr, asn: Option<u32>) -> NetKind {
    if !is_public(canonical(ip)) {
        return NetKind::Private;
    }
    asn.and_then(provider).unwrap_or(NetKind::Other)
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as IPv4, so both spellings find the same range.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

#[derive(Clone, Copy)]
enum P {
    Aws,
    Cloud,
    Vpn,
}

/// Autonomous systems with a known kind, sorted by number. Numbers checked against the
/// `@ip-location-db/asn` data (organisation names as registered).
///
/// - AWS: Amazon's ASNs (AMAZON-02 16509, AMAZON-AES 14618, Amazon Data Services Ireland 8987,
///   7224, 38895, 62785, 21664, 214101 European Sovereign Cloud, Amazon Technologies 801 and
///   400098).
/// - Cloud: Google (15169, 396982 Cloud and others; not Google Fiber 16591, an ISP), Microsoft
///   and Azure, Oracle Cloud 31898, Alibaba, Tencent, Huawei Cloud, IBM Cloud, DigitalOcean,
///   OVH, Hetzner, Linode (Akamai Connected Cloud 63949), Vultr (The Constant Company 20473),
///   Scaleway, Contabo, UpCloud, Kamatera, Rackspace, NAVER Cloud.
/// - VPN / hosting / relay (heuristic): M247 and Datacamp/CDN77 (behind many commercial VPNs),
///   PacketHub (NordVPN), 31173 Services (Mullvad), Proton, HostRoyale, Clouvider, Zenlayer,
///   Leaseweb, Psychz, G-Core, Aeza, Hivelocity, Servers.com, WorldStream, Serverius, NForce,
///   Sharktech, FranTech/BuyVM, FlokiNET, 1984, Private Layer, Feral, 1337 Services
///   (Tor-friendly), Tor exit operators (Stiftung Erneuerbare Freiheit, Foundation for Applied
///   Privacy, Emerald Onion, Calyx), IONOS, Hostinger, GoDaddy, Equinix; and the relay/CDN egress of iCloud Private Relay and Cloudflare WARP (Akamai CDN,
///   Cloudflare, Fastly).
#[rustfmt::skip]
static PROVIDERS: &[(u32, P, &str)] = &[
    (801, P::Aws, "AWS"),
    (3598, P::Cloud, "Microsoft"),
    (4224, P::Vpn, "Calyx Institute (Tor)"),
    (4229, P::Vpn, "Zenlayer"),
    (7203, P::Vpn, "Leaseweb"),
    (7224, P::Aws, "AWS"),
    (7979, P::Vpn, "Servers.com"),
    (8068, P::Cloud, "Microsoft"),
    (8069, P::Cloud, "Microsoft"),
    (8070, P::Cloud, "Microsoft"),
    (8075, P::Cloud, "Microsoft"),
    (8315, P::Vpn, "WorldStream"),
    (8560, P::Vpn, "IONOS"),
    (8987, P::Aws, "AWS"),
    (9009, P::Vpn, "M247"),
    (12076, P::Cloud, "Microsoft"),
    (12222, P::Vpn, "Akamai"),
    (12876, P::Cloud, "Scaleway"),
    (13335, P::Vpn, "Cloudflare"),
    (14061, P::Cloud, "DigitalOcean"),
    (14618, P::Aws, "AWS"),
    (14789, P::Vpn, "Cloudflare"),
    (15169, P::Cloud, "Google"),
    (15395, P::Cloud, "Rackspace"),
    (15830, P::Vpn, "Equinix"),
    (16247, P::Vpn, "M247"),
    (16276, P::Cloud, "OVH"),
    (16509, P::Aws, "AWS"),
    (16550, P::Cloud, "Google"),
    (16625, P::Vpn, "Akamai"),
    (19148, P::Vpn, "Leaseweb"),
    (19527, P::Cloud, "Google"),
    (19994, P::Cloud, "Rackspace"),
    (20473, P::Cloud, "Vultr"),
    (20940, P::Vpn, "Akamai"),
    (21342, P::Vpn, "Akamai"),
    (21664, P::Aws, "AWS"),
    (21859, P::Vpn, "Zenlayer"),
    (23576, P::Cloud, "NAVER Cloud"),
    (24319, P::Vpn, "Akamai"),
    (24940, P::Cloud, "Hetzner"),
    (25697, P::Cloud, "UpCloud"),
    (26496, P::Vpn, "GoDaddy"),
    (27357, P::Cloud, "Rackspace"),
    (27411, P::Vpn, "Leaseweb"),
    (28753, P::Vpn, "Leaseweb"),
    (29752, P::Vpn, "Zenlayer"),
    (29802, P::Vpn, "Hivelocity"),
    (30633, P::Vpn, "Leaseweb"),
    (31898, P::Cloud, "Oracle Cloud"),
    (32613, P::Vpn, "Leaseweb"),
    (32787, P::Vpn, "Akamai"),
    (33070, P::Cloud, "Rackspace"),
    (33905, P::Vpn, "Akamai"),
    (33970, P::Vpn, "M247"),
    (34164, P::Vpn, "Akamai"),
    (35106, P::Cloud, "Microsoft"),
    (35540, P::Cloud, "OVH"),
    (35994, P::Vpn, "Akamai"),
    (36007, P::Cloud, "Kamatera"),
    (36040, P::Cloud, "Google"),
    (36183, P::Vpn, "Akamai"),
    (36351, P::Cloud, "IBM Cloud"),
    (36384, P::Cloud, "Google"),
    (36492, P::Cloud, "Google"),
    (37963, P::Cloud, "Alibaba Cloud"),
    (38895, P::Aws, "AWS"),
    (39351, P::Vpn, "31173 Services (Mullvad)"),
    (40021, P::Cloud, "Contabo"),
    (40676, P::Vpn, "Psychz"),
    (41436, P::Cloud, "Kamatera"),
    (42973, P::Vpn, "M247"),
    (43350, P::Vpn, "NForce"),
    (43515, P::Cloud, "Google"),
    (44925, P::Vpn, "1984 ehf"),
    (45090, P::Cloud, "Tencent Cloud"),
    (45102, P::Cloud, "Alibaba Cloud"),
    (45139, P::Cloud, "Microsoft"),
    (46652, P::Cloud, "DigitalOcean"),
    (46844, P::Vpn, "Sharktech"),
    (47583, P::Vpn, "Hostinger"),
    (49981, P::Vpn, "WorldStream"),
    (50673, P::Vpn, "Serverius"),
    (51167, P::Cloud, "Contabo"),
    (51332, P::Vpn, "M247"),
    (51852, P::Vpn, "Private Layer"),
    (53667, P::Vpn, "FranTech/BuyVM"),
    (54113, P::Vpn, "Fastly"),
    (55990, P::Cloud, "Huawei Cloud"),
    (59253, P::Vpn, "Leaseweb"),
    (60068, P::Vpn, "Datacamp/CDN77"),
    (60729, P::Vpn, "Stiftung Erneuerbare Freiheit (Tor)"),
    (60781, P::Vpn, "Leaseweb"),
    (61317, P::Vpn, "Hivelocity"),
    (62240, P::Vpn, "Clouvider"),
    (62371, P::Vpn, "Proton"),
    (62610, P::Vpn, "Zenlayer"),
    (62785, P::Aws, "AWS"),
    (63949, P::Cloud, "Linode/Akamai"),
    (132203, P::Cloud, "Tencent Cloud"),
    (132892, P::Vpn, "Cloudflare"),
    (133478, P::Cloud, "Tencent Cloud"),
    (133499, P::Vpn, "HostRoyale"),
    (133752, P::Vpn, "Leaseweb"),
    (134351, P::Vpn, "Leaseweb"),
    (134450, P::Vpn, "HostRoyale"),
    (134963, P::Cloud, "Alibaba Cloud"),
    (136787, P::Vpn, "PacketHub (NordVPN)"),
    (136907, P::Cloud, "Huawei Cloud"),
    (136988, P::Vpn, "Leaseweb"),
    (139190, P::Cloud, "Google"),
    (141039, P::Vpn, "PacketHub (NordVPN)"),
    (141995, P::Cloud, "Contabo"),
    (147049, P::Vpn, "PacketHub (NordVPN)"),
    (199218, P::Vpn, "Proton"),
    (199524, P::Vpn, "G-Core"),
    (200052, P::Vpn, "Feral.io"),
    (200651, P::Vpn, "FlokiNET"),
    (202053, P::Cloud, "UpCloud"),
    (202422, P::Vpn, "G-Core"),
    (203020, P::Vpn, "HostRoyale"),
    (204287, P::Vpn, "HostRoyale"),
    (204548, P::Cloud, "Kamatera"),
    (205544, P::Vpn, "Leaseweb"),
    (207137, P::Vpn, "PacketHub (NordVPN)"),
    (207158, P::Vpn, "Clouvider"),
    (207990, P::Vpn, "HostRoyale"),
    (208172, P::Vpn, "Proton"),
    (208323, P::Vpn, "Foundation for Applied Privacy (Tor)"),
    (209103, P::Vpn, "Proton"),
    (209242, P::Vpn, "Cloudflare"),
    (210329, P::Cloud, "Kamatera"),
    (210558, P::Vpn, "1337 Services"),
    (210644, P::Vpn, "Aeza"),
    (211612, P::Vpn, "Datacamp/CDN77"),
    (212238, P::Vpn, "Datacamp/CDN77"),
    (213230, P::Cloud, "Hetzner"),
    (214101, P::Aws, "AWS"),
    (215728, P::Cloud, "Kamatera"),
    (216246, P::Vpn, "Aeza"),
    (393406, P::Cloud, "DigitalOcean"),
    (393886, P::Vpn, "Leaseweb"),
    (394089, P::Cloud, "Google"),
    (394380, P::Vpn, "Leaseweb"),
    (395747, P::Vpn, "Cloudflare"),
    (395954, P::Vpn, "Leaseweb"),
    (395973, P::Cloud, "Google"),
    (396190, P::Vpn, "Leaseweb"),
    (396362, P::Vpn, "Leaseweb"),
    (396507, P::Vpn, "Emerald Onion (Tor)"),
    (396948, P::Cloud, "Kamatera"),
    (396949, P::Cloud, "Kamatera"),
    (396982, P::Cloud, "Google"),
    (398101, P::Vpn, "GoDaddy"),
    (400098, P::Aws, "AWS"),
    (401881, P::Vpn, "Clouvider"),
];

/// The kind of a known autonomous system.
pub fn provider(asn: u32) -> Option<NetKind> {
    let i = PROVIDERS.binary_search_by_key(&asn, |p| p.0).ok()?;
    let (_, kind, name) = PROVIDERS[i];
    Some(match kind {
        P::Aws => NetKind::Aws,
        P::Cloud => NetKind::Cloud(name),
        P::Vpn => NetKind::VpnOrHosting(name),
    })
}

/// Inclusive address ranges with a value each, per family, sorted and non-overlapping.
/// Struct-of-arrays: an IPv4 range costs 8 bytes plus its value, an IPv6 range 32 plus its value.
#[derive(Debug, Clone)]
pub struct Ranges<V> {
    v4_start: Vec<u32>,
    v4_end: Vec<u32>,
    v4_val: Vec<V>,
    v6_start: Vec<u128>,
    v6_end: Vec<u128>,
    v6_val: Vec<V>,
}

impl<V> Default for Ranges<V> {
    fn default() -> Self {
        Ranges {
            v4_start: Vec::new(),
            v4_end: Vec::new(),
            v4_val: Vec::new(),
            v6_start: Vec::new(),
            v6_end: Vec::new(),
            v6_val: Vec::new(),
        }
    }
}

impl<V: Copy> Ranges<V> {
    pub fn get(&self, ip: IpAddr) -> Option<V> {
        match canonical(ip) {
            IpAddr::V4(a) => find(&self.v4_start, &self.v4_end, &self.v4_val, u32::from(a)),
            IpAddr::V6(a) => find(&self.v6_start, &self.v6_end, &self.v6_val, u128::from(a)),
        }
    }

    pub fn len_v4(&self) -> usize {
        self.v4_start.len()
    }

    pub fn len_v6(&self) -> usize {
        self.v6_start.len()
    }

    /// Heap bytes held (capacity, not length: what the process really pays).
    pub fn heap_bytes(&self) -> usize {
        let v = std::mem::size_of::<V>();
        self.v4_start.capacity() * 4
            + self.v4_end.capacity() * 4
            + self.v4_val.capacity() * v
            + self.v6_start.capacity() * 16
            + self.v6_end.capacity() * 16
            + self.v6_val.capacity() * v
    }

    /// Sorts, drops ranges overlapping an earlier one (counted), and packs into arrays.
    fn from_parts(mut v4: Vec<(u32, u32, V)>, mut v6: Vec<(u128, u128, V)>) -> (Self, u64) {
        let mut overlaps = 0;
        let mut r = Ranges::default();
        v4.sort_by_key(|x| (x.0, x.1));
        v6.sort_by_key(|x| (x.0, x.1));
        r.v4_start.reserve_exact(v4.len());
        r.v4_end.reserve_exact(v4.len());
        r.v4_val.reserve_exact(v4.len());
        for (s, e, v) in v4 {
            if r.v4_end.last().is_some_and(|&last| s <= last) {
                overlaps += 1;
                continue;
            }
            r.v4_start.push(s);
            r.v4_end.push(e);
            r.v4_val.push(v);
        }
        r.v6_start.reserve_exact(v6.len());
        r.v6_end.reserve_exact(v6.len());
        r.v6_val.reserve_exact(v6.len());
        for (s, e, v) in v6 {
            if r.v6_end.last().is_some_and(|&last| s <= last) {
                overlaps += 1;
                continue;
            }
            r.v6_start.push(s);
            r.v6_end.push(e);
            r.v6_val.push(v);
        }
        r.v4_start.shrink_to_fit();
        r.v4_end.shrink_to_fit();
        r.v4_val.shrink_to_fit();
        r.v6_start.shrink_to_fit();
        r.v6_end.shrink_to_fit();
        r.v6_val.shrink_to_fit();
        (r, overlaps)
    }
}

fn find<T: Ord + Copy, V: Copy>(starts: &[T], ends: &[T], vals: &[V], x: T) -> Option<V> {
    let i = starts.partition_point(|s| *s <= x).checked_sub(1)?;
    (x <= ends[i]).then(|| vals[i])
}

/// How one data file went: lines read, ranges kept, lines skipped with the first reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ParseReport {
    pub source: String,
    pub lines: u64,
    pub ranges: u64,
    pub skipped: u64,
    /// The first few problems, each naming its line.
    pub errors: Vec<String>,
}

const KEEP_ERRORS: usize = 10;

impl ParseReport {
    fn skip(&mut self, line: usize, why: String) {
        self.skipped += 1;
        if self.errors.len() < KEEP_ERRORS {
            self.errors
                .push(format!("{} line {line}: {why}", self.source));
        }
    }
}

/// Memory and size of a loaded database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct GeoStats {
    pub asn_v4: usize,
    pub asn_v6: usize,
    pub country_v4: usize,
    pub country_v6: usize,
    /// Distinct (ASN, organisation) pairs.
    pub as_names: usize,
    pub heap_bytes: usize,
}

impl GeoStats {
    pub fn ranges(&self) -> usize {
        self.asn_v4 + self.asn_v6 + self.country_v4 + self.country_v6
    }

    pub fn bytes_per_range(&self) -> f64 {
        self.heap_bytes as f64 / self.ranges().max(1) as f64
    }
}

/// An AS number and its organisation, shared by every range of that pair.
#[derive(Debug, Clone)]
struct AsName {
    asn: u32,
    org: Box<str>,
}

/// The in-memory database: ASN and country range tables from ip-location-db-style CSV.
#[derive(Debug, Clone, Default)]
pub struct GeoDb {
    asn: Ranges<u32>,
    names: Vec<AsName>,
    country: Ranges<[u8; 2]>,
}

impl GeoDb {
    /// The autonomous system of an address: number and organisation.
    pub fn asn(&self, ip: IpAddr) -> Option<(u32, &str)> {
        let n = self.names.get(self.asn.get(ip)? as usize)?;
        Some((n.asn, &n.org))
    }

    /// The country code of an address, as the data spells it (upper case; codes outside
    /// ISO 3166, such as `EU`, are kept but have no place in the country table).
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let cc = self.country.get(ip)?;
        std::str::from_utf8(&cc).ok().map(str::to_string)
    }

    pub fn stats(&self) -> GeoStats {
        GeoStats {
            asn_v4: self.asn.len_v4(),
            asn_v6: self.asn.len_v6(),
            country_v4: self.country.len_v4(),
            country_v6: self.country.len_v6(),
            as_names: self.names.len(),
            heap_bytes: self.asn.heap_bytes()
                + self.country.heap_bytes()
                + self.names.capacity() * std::mem::size_of::<AsName>()
                + self.names.iter().map(|n| n.org.len()).sum::<usize>(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.stats().ranges() == 0
    }
}

impl GeoLookup for GeoDb {
    fn lookup(&self, ip: IpAddr) -> IpInfo {
        let ip = canonical(ip);
        if !is_public(ip) {
            return IpInfo {
                network: NetKind::Private,
                ..IpInfo::default()
            };
        }
        let asn = self.asn(ip);
        IpInfo {
            country: self.country(ip),
            asn: asn.map(|a| a.0),
            as_org: asn.map(|a| a.1.to_string()).filter(|o| !o.is_empty()),
            network: classify(ip, asn.map(|a| a.0)),
        }
    }
}

/// Collects ranges from any number of files, then sorts them once.
#[derive(Debug, Default)]
pub struct GeoDbBuilder {
    asn4: Vec<(u32, u32, u32)>,
    asn6: Vec<(u128, u128, u32)>,
    names: Vec<AsName>,
    name_ix: HashMap<(u32, Box<str>), u32>,
    cc4: Vec<(u32, u32, [u8; 2])>,
    cc6: Vec<(u128, u128, [u8; 2])>,
}

/// Which family numeric CSV addresses belong to (the `-num` files carry integers).
fn numeric_family(source: &str) -> Option<bool> {
    let s = source.to_ascii_lowercase();
    if s.contains("ipv6") || s.contains("v6") {
        Some(true)
    } else if s.contains("ipv4") || s.contains("v4") {
        Some(false)
    } else {
        None
    }
}

enum Addr {
    V4(u32),
    V6(u128),
}

/// An inclusive range of one family.
enum Span {
    V4(u32, u32),
    V6(u128, u128),
}

fn parse_addr(field: &str, v6_hint: Option<bool>) -> Result<Addr, String> {
    let f = field.trim();
    if f.is_empty() {
        return Err("empty address".into());
    }
    if f.bytes().all(|b| b.is_ascii_digit()) {
        let n: u128 = f
            .parse()
            .map_err(|_| format!("number `{}` out of range", short(f)))?;
        return match v6_hint {
            Some(true) => Ok(Addr::V6(n)),
            Some(false) => u32::try_from(n)
                .map(Addr::V4)
                .map_err(|_| format!("`{}` is not an IPv4 number", short(f))),
            None => Ok(u32::try_from(n).map_or(Addr::V6(n), Addr::V4)),
        };
    }
    if f.contains(':') {
        let a: Ipv6Addr = f
            .parse()
            .map_err(|_| format!("`{}` is not an IPv6 address", short(f)))?;
        return Ok(Addr::V6(u128::from(a)));
    }
    let a: Ipv4Addr = f
        .parse()
        .map_err(|_| format!("`{}` is not an IP address", short(f)))?;
    Ok(Addr::V4(u32::from(a)))
}

fn short(s: &str) -> Cow<'_, str> {
    if s.len() <= 48 {
        Cow::Borrowed(s)
    } else {
        let mut end = 48;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Cow::Owned(format!("{}...", &s[..end]))
    }
}

/// Splits one CSV line (RFC 4180 quoting, `""` inside quotes).
fn split_csv(line: &str) -> Result<Vec<Cow<'_, str>>, String> {
    let mut out = Vec::with_capacity(4);
    let mut rest = line;
    loop {
        if let Some(q) = rest.strip_prefix('"') {
            let mut val = String::new();
            let mut s = q;
            loop {
                let Some(i) = s.find('"') else {
                    return Err("unterminated quote".into());
                };
                val.push_str(&s[..i]);
                s = &s[i + 1..];
                if let Some(t) = s.strip_prefix('"') {
                    val.push('"');
                    s = t;
                } else {
                    break;
                }
            }
            out.push(Cow::Owned(val));
            match s.strip_prefix(',') {
                Some(t) => rest = t,
                None if s.trim().is_empty() => return Ok(out),
                None => return Err("text after a closing quote".into()),
            }
        } else {
            match rest.find(',') {
                Some(i) => {
                    out.push(Cow::Borrowed(&rest[..i]));
                    rest = &rest[i + 1..];
                }
                None => {
                    out.push(Cow::Borrowed(rest));
                    return Ok(out);
                }
            }
        }
    }
}

/// A first line that is not data and names no address: a header.
fn is_header(fields: &[Cow<'_, str>]) -> bool {
    fields.first().is_some_and(|f| {
        let f = f.trim();
        !f.is_empty() && f.bytes().any(|b| b.is_ascii_alphabetic()) && !f.contains(['.', ':'])
    })
}

impl GeoDbBuilder {
    pub fn new() -> Self {
        GeoDbBuilder::default()
    }

    /// Adds `start,end,asn,organisation` lines (ip-location-db `asn-ipv4.csv`, `asn-ipv6.csv`
    /// and their `-num` forms). `source` names the file in errors and tells numeric forms'
    /// family (`ipv4`/`ipv6` in the name).
    pub fn add_asn_csv(&mut self, text: &str, source: &str) -> ParseReport {
        self.add_csv(text, source, true)
    }

    /// Adds `start,end,country_code` lines (ip-location-db `*-country-ipv4.csv` and friends).
    pub fn add_country_csv(&mut self, text: &str, source: &str) -> ParseReport {
        self.add_csv(text, source, false)
    }

    fn add_csv(&mut self, text: &str, source: &str, asn: bool) -> ParseReport {
        let mut rep = ParseReport {
            source: source.to_string(),
            ..ParseReport::default()
        };
        let hint = numeric_family(source);
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            rep.lines += 1;
            let fields = match split_csv(line) {
                Ok(f) => f,
                Err(e) => {
                    rep.skip(i + 1, e);
                    continue;
                }
            };
            if rep.lines == 1 && is_header(&fields) {
                rep.lines -= 1;
                continue;
            }
            let r = if asn {
                self.asn_fields(&fields, hint)
            } else {
                self.country_fields(&fields, hint)
            };
            match r {
                Ok(()) => rep.ranges += 1,
                Err(e) => rep.skip(i + 1, e),
            }
        }
        rep
    }

    fn range(fields: &[Cow<'_, str>], hint: Option<bool>) -> Result<Span, String> {
        let (Some(s), Some(e)) = (fields.first(), fields.get(1)) else {
            return Err("fewer than 3 fields".into());
        };
        match (parse_addr(s, hint)?, parse_addr(e, hint)?) {
            (Addr::V4(a), Addr::V4(b)) if a <= b => Ok(Span::V4(a, b)),
            (Addr::V6(a), Addr::V6(b)) if a <= b => Ok(Span::V6(a, b)),
            (Addr::V4(_), Addr::V4(_)) | (Addr::V6(_), Addr::V6(_)) => {
                Err(format!("end `{}` before start `{}`", short(e), short(s)))
            }
            _ => Err("start and end are of different IP versions".into()),
        }
    }

    fn asn_fields(&mut self, f: &[Cow<'_, str>], hint: Option<bool>) -> Result<(), String> {
        if f.len() < 3 {
            return Err(format!("{} fields, expected start,end,asn,org", f.len()));
        }
        let range = Self::range(f, hint)?;
        let raw = f[2].trim();
        let digits = raw
            .strip_prefix("AS")
            .or_else(|| raw.strip_prefix("as"))
            .unwrap_or(raw);
        let asn: u32 = digits
            .parse()
            .map_err(|_| format!("AS number `{}` is not a number", short(raw)))?;
        // Organisation names with commas are quoted; an unquoted one spills into more fields.
        let org = if f.len() > 4 {
            Cow::Owned(f[3..].join(","))
        } else {
            f.get(3).cloned().unwrap_or_default()
        };
        let ix = self.name(asn, org.trim());
        match range {
            Span::V4(a, b) => self.asn4.push((a, b, ix)),
            Span::V6(a, b) => self.asn6.push((a, b, ix)),
        }
        Ok(())
    }

    fn country_fields(&mut self, f: &[Cow<'_, str>], hint: Option<bool>) -> Result<(), String> {
        if f.len() != 3 {
            return Err(format!("{} fields, expected start,end,country", f.len()));
        }
        let range = Self::range(f, hint)?;
        let cc = parse_country(&f[2])?;
        match range {
            Span::V4(a, b) => self.cc4.push((a, b, cc)),
            Span::V6(a, b) => self.cc6.push((a, b, cc)),
        }
        Ok(())
    }

    fn name(&mut self, asn: u32, org: &str) -> u32 {
        let key = (asn, Box::<str>::from(org));
        if let Some(&i) = self.name_ix.get(&key) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(AsName {
            asn,
            org: key.1.clone(),
        });
        self.name_ix.insert(key, i);
        i
    }

    /// Adds one ASN range directly (the simulator, tests).
    pub fn push_asn(&mut self, start: IpAddr, end: IpAddr, asn: u32, org: &str) -> bool {
        let ix = self.name(asn, org);
        match (canonical(start), canonical(end)) {
            (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
                self.asn4.push((a.into(), b.into(), ix));
                true
            }
            (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
                self.asn6.push((a.into(), b.into(), ix));
                true
            }
            _ => false,
        }
    }

    /// Adds one country range directly (the simulator, tests).
    pub fn push_country(&mut self, start: IpAddr, end: IpAddr, cc: &str) -> bool {
        let Ok(cc) = parse_country(cc) else {
            return false;
        };
        match (canonical(start), canonical(end)) {
            (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
                self.cc4.push((a.into(), b.into(), cc));
                true
            }
            (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
                self.cc6.push((a.into(), b.into(), cc));
                true
            }
            _ => false,
        }
    }

    /// Sorts everything. Returns the database and how many ranges overlapped an earlier one
    /// and were dropped (the first of two overlapping ranges wins).
    pub fn build(self) -> (GeoDb, u64) {
        let (asn, o1) = Ranges::from_parts(self.asn4, self.asn6);
        let (country, o2) = Ranges::from_parts(self.cc4, self.cc6);
        let mut names = self.names;
        names.shrink_to_fit();
        (
            GeoDb {
                asn,
                names,
                country,
            },
            o1 + o2,
        )
    }
}

fn parse_country(field: &str) -> Result<[u8; 2], String> {
    let t = field.trim();
    let b = t.as_bytes();
    if b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic) {
        Ok([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()])
    } else {
        Err(format!(
            "country `{}` is not a two-letter ISO code",
            short(t)
        ))
    }
}

/// One country: a representative point, its area and its land neighbours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Country {
    pub code: &'static str,
    pub name: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub area_km2: u32,
    /// Codes of countries sharing a land border, comma-separated.
    pub neighbours: &'static str,
}

impl Country {
    /// Radius of a disc with the country's area: how far a person may be from its point.
    pub fn radius_km(&self) -> f64 {
        (f64::from(self.area_km2) / std::f64::consts::PI).sqrt()
    }

    pub fn borders(&self, code: &str) -> bool {
        self.neighbours.split(',').any(|n| n == code)
    }
}

/// The country table entry for an ISO 3166-1 alpha-2 code (upper case).
pub fn country(code: &str) -> Option<&'static Country> {
    let t = countries::COUNTRIES;
    t.binary_search_by(|c| c.code.cmp(code)).ok().map(|i| &t[i])
}

/// Every country in the table.
pub fn all_countries() -> &'static [Country] {
    countries::COUNTRIES
}

/// Mean Earth radius (IUGG).
const EARTH_KM: f64 = 6371.0088;

/// Great-circle distance between two (latitude, longitude) points in degrees.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * EARTH_KM * h.sqrt().min(1.0).asin()
}

/// How far apart two countries are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Separation {
    /// Between the countries' points.
    pub points_km: f64,
    /// The least a person must have travelled: the points' distance less both countries'
    /// radii, and zero across a land border (a border town is minutes from the other side).
    pub min_km: f64,
    pub neighbours: bool,
}

/// Separation of two countries by code; `None` when either is not in the table.
pub fn separation(a: &str, b: &str) -> Option<Separation> {
    let (ca, cb) = (country(a)?, country(b)?);
    let points_km = haversine_km((ca.lat, ca.lon), (cb.lat, cb.lon));
    let neighbours = ca.borders(b) || cb.borders(a);
    let min_km = if a == b || neighbours {
        0.0
    } else {
        (points_km - ca.radius_km() - cb.radius_km()).max(0.0)
    };
    Some(Separation {
        points_km,
        min_km,
        neighbours,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn provider_table_is_sorted_and_unique() {
        assert!(PROVIDERS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(provider(16509), Some(NetKind::Aws));
        assert_eq!(provider(15169), Some(NetKind::Cloud("Google")));
        assert_eq!(provider(9009), Some(NetKind::VpnOrHosting("M247")));
        assert_eq!(provider(3320), None);
        assert_eq!(classify(ip("10.1.2.3"), Some(16509)), NetKind::Private);
        assert_eq!(classify(ip("3.5.6.7"), Some(16509)), NetKind::Aws);
    }

    #[test]
    fn csv_quoting() {
        let f = split_csv(r#"1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc.""#).unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!(f[3], "Cloudflare, Inc.");
        let f = split_csv(r#"a,"LLC ""SPUTNIK""""#).unwrap();
        assert_eq!(f[1], r#"LLC "SPUTNIK""#);
        assert!(split_csv(r#"a,"open"#).is_err());
        assert!(split_csv(r#"a,"x"y"#).is_err());
        assert_eq!(split_csv("a,,b").unwrap(), vec!["a", "", "b"]);
    }

    #[test]
    fn builds_and_looks_up_both_families_and_numeric_forms() {
        let mut b = GeoDbBuilder::new();
        let asn = "start,end,asn,org\n\
                   1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n\
                   8.8.8.0,8.8.8.255,15169,Google LLC\n\
                   2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64500,Example v6\n\
                   9.9.9.9,1.1.1.1,1,bad order\n\
                   nonsense\n";
        let r = b.add_asn_csv(asn, "asn.csv");
        assert_eq!((r.lines, r.ranges, r.skipped), (5, 3, 2), "{r:?}");
        assert!(r.errors[0].contains("asn.csv line 5"), "{:?}", r.errors);
        let r = b.add_asn_csv("134744072,134744072,15169,Google\n", "asn-ipv4-num.csv");
        assert_eq!(r.ranges, 1);
        let r = b.add_country_csv(
            "8.8.8.0,8.8.8.255,us\n2001:db8::,2001:db8::ffff,DE\n1.0.0.0,1.0.0.255,USA\n",
            "country.csv",
        );
        assert_eq!((r.ranges, r.skipped), (2, 1));
        let (db, overlaps) = b.build();
        assert_eq!(
            overlaps, 1,
            "the numeric 8.8.8.8 range lies inside 8.8.8.0/24"
        );
        let g = db.lookup(ip("8.8.8.8"));
        assert_eq!(g.country.as_deref(), Some("US"));
        assert_eq!(g.asn, Some(15169));
        assert_eq!(g.network, NetKind::Cloud("Google"));
        assert_eq!(db.lookup(ip("::ffff:8.8.8.8")).asn, Some(15169));
        let v6 = db.lookup(ip("2001:db8::1"));
        assert_eq!((v6.country.as_deref(), v6.asn), (Some("DE"), Some(64500)));
        assert_eq!(db.lookup(ip("2001:db8:1::1")).country, None);
        assert_eq!(
            db.lookup(ip("1.0.0.7")).as_org.as_deref(),
            Some("Cloudflare, Inc.")
        );
        assert_eq!(db.lookup(ip("7.7.7.7")), IpInfo::default());
        assert_eq!(db.lookup(ip("192.168.1.1")).network, NetKind::Private);
        let s = db.stats();
        assert_eq!(
            (s.asn_v4, s.asn_v6, s.country_v4, s.country_v6),
            (2, 1, 1, 1)
        );
        assert!(s.bytes_per_range() > 8.0 && s.bytes_per_range() < 200.0);
    }

    #[test]
    fn country_table_and_distances() {
        assert!(all_countries().windows(2).all(|w| w[0].code < w[1].code));
        assert!(all_countries().len() >= 245);
        let de = country("DE").unwrap();
        assert_eq!(de.name, "Germany");
        assert!(de.borders("PL"));
        // Berlin to Tokyo is about 8,900 km; country points are close to that.
        let s = separation("DE", "JP").unwrap();
        assert!((8_000.0..10_000.0).contains(&s.points_km), "{s:?}");
        assert!(s.min_km < s.points_km && s.min_km > 7_000.0, "{s:?}");
        let s = separation("DE", "BR").unwrap();
        assert!((9_000.0..10_500.0).contains(&s.points_km), "{s:?}");
        let s = separation("US", "CA").unwrap();
        assert!(s.neighbours && s.min_km == 0.0);
        assert_eq!(separation("DE", "DE").map(|s| s.min_km), Some(0.0));
        assert!(separation("DE", "XX").is_none());
        // London-Paris by the formula: about 344 km.
        let d = haversine_km((51.5074, -0.1278), (48.8566, 2.3522));
        assert!((d - 343.5).abs() < 2.0, "{d}");
    }
}
