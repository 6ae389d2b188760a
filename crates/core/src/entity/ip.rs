//! IP addresses: strict parsing (no octal, no shorthand) and classification, because "public"
//! versus "private" decides whether a source address matters at all.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where an address lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpClass {
    Public,
    /// RFC 1918, IPv6 unique-local.
    Private,
    Loopback,
    LinkLocal,
    /// 169.254.169.254 / fd00:ec2::254: the instance metadata service.
    Metadata,
    /// RFC 6598 carrier-grade NAT.
    Shared,
    /// RFC 5737 / RFC 3849 documentation ranges.
    Documentation,
    Multicast,
    Unspecified,
    Reserved,
    /// An address that a flow record marks as an AWS service endpoint.
    AwsService,
}

impl IpClass {
    pub fn as_str(self) -> &'static str {
        match self {
            IpClass::Public => "public",
            IpClass::Private => "private",
            IpClass::Loopback => "loopback",
            IpClass::LinkLocal => "link_local",
            IpClass::Metadata => "metadata",
            IpClass::Shared => "shared",
            IpClass::Documentation => "documentation",
            IpClass::Multicast => "multicast",
            IpClass::Unspecified => "unspecified",
            IpClass::Reserved => "reserved",
            IpClass::AwsService => "aws_service",
        }
    }
}

/// Parses an IPv4 or IPv6 address; IPv6 zone ids (`%eth0`) are not accepted.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let b = s.as_bytes();
    if b.len() < 2 || b.len() > 45 {
        return None;
    }
    if b.contains(&b':') {
        return s.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    if !b[0].is_ascii_digit() {
        return None;
    }
    s.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

pub fn classify(ip: IpAddr) -> IpClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let seg = v6.segments();
            if v6.is_unspecified() {
                IpClass::Unspecified
            } else if v6.is_loopback() {
                IpClass::Loopback
            } else if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                IpClass::Metadata
            } else if seg[0] & 0xfe00 == 0xfc00 {
                IpClass::Private
            } else if seg[0] & 0xffc0 == 0xfe80 {
                IpClass::LinkLocal
            } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
                IpClass::Documentation
            } else if seg[0] & 0xff00 == 0xff00 {
                IpClass::Multicast
            } else if seg[0] & 0xe000 == 0x2000 {
                IpClass::Public
            } else {
                IpClass::Reserved
            }
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> IpClass {
    let o = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        IpClass::Metadata
    } else if ip.is_unspecified() {
        IpClass::Unspecified
    } else if ip.is_loopback() {
        IpClass::Loopback
    } else if ip.is_private() {
        IpClass::Private
    } else if ip.is_link_local() {
        IpClass::LinkLocal
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        IpClass::Shared
    } else if ip.is_documentation() {
        IpClass::Documentation
    } else if ip.is_multicast() {
        IpClass::Multicast
    } else if o[0] == 0 || o[0] >= 240 {
        IpClass::Reserved
    } else {
        IpClass::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<IpClass> {
        parse_ip(s).map(classify)
    }

    #[test]
    fn classifies_v4() {
        assert_eq!(class("8.8.8.8"), Some(IpClass::Public));
        assert_eq!(class("10.1.2.3"), Some(IpClass::Private));
        assert_eq!(class("172.31.255.1"), Some(IpClass::Private));
        assert_eq!(class("172.32.0.1"), Some(IpClass::Public));
        assert_eq!(class("192.168.0.10"), Some(IpClass::Private));
        assert_eq!(class("127.0.0.1"), Some(IpClass::Loopback));
        assert_eq!(class("169.254.169.254"), Some(IpClass::Metadata));
        assert_eq!(class("169.254.1.1"), Some(IpClass::LinkLocal));
        assert_eq!(class("100.64.0.1"), Some(IpClass::Shared));
        assert_eq!(class("203.0.113.7"), Some(IpClass::Documentation));
        assert_eq!(class("224.0.0.1"), Some(IpClass::Multicast));
        assert_eq!(class("0.0.0.0"), Some(IpClass::Unspecified));
        assert_eq!(class("250.1.1.1"), Some(IpClass::Reserved));
    }

    #[test]
    fn classifies_v6() {
        assert_eq!(class("2600:1f18::1"), Some(IpClass::Public));
        assert_eq!(class("fd12:3456::1"), Some(IpClass::Private));
        assert_eq!(class("fe80::1"), Some(IpClass::LinkLocal));
        assert_eq!(class("::1"), Some(IpClass::Loopback));
        assert_eq!(class("2001:db8::5"), Some(IpClass::Documentation));
        assert_eq!(class("fd00:ec2::254"), Some(IpClass::Metadata));
        assert_eq!(class("::ffff:10.0.0.1"), Some(IpClass::Private));
    }

    #[test]
    fn strict_parsing() {
        assert!(parse_ip("010.1.1.1").is_none());
        assert!(parse_ip("1.2.3").is_none());
        assert!(parse_ip("1.2.3.4.5").is_none());
        assert!(parse_ip("fe80::1%eth0").is_none());
        assert!(parse_ip("a").is_none());
        assert!(parse_ip("not:an:ip").is_none());
    }
}
