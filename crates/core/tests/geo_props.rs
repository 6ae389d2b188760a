//! Range tables from CSV: any text loads without panicking (bad lines are counted and named),
//! and ranges written out are found again.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use detector_core::geo::{GeoDbBuilder, GeoLookup};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_loads_without_panicking(text in "\\PC{0,400}", lines in prop::collection::vec("[0-9a-fA-F.:,\" ]{0,60}", 0..20)) {
        let mut b = GeoDbBuilder::new();
        let joined = lines.join("\n");
        for t in [&text, &joined] {
            let r1 = b.add_asn_csv(t, "asn.csv");
            let r2 = b.add_country_csv(t, "country-ipv6.csv");
            prop_assert_eq!(r1.lines, r1.ranges + r1.skipped);
            prop_assert_eq!(r2.lines, r2.ranges + r2.skipped);
            prop_assert!(r1.errors.len() <= 10);
            for e in r1.errors.iter().chain(&r2.errors) {
                prop_assert!(e.contains(" line "), "{}", e);
            }
        }
        let (db, _) = b.build();
        let _ = db.lookup(IpAddr::from([8, 8, 8, 8]));
        let _ = db.lookup(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]));
    }

    #[test]
    fn written_ranges_are_found_again(
        v4 in prop::collection::btree_set(any::<u16>(), 1..40),
        v6 in prop::collection::btree_set(any::<u16>(), 1..20),
        probe in any::<u8>(),
    ) {
        // Disjoint /24s (11.a.b.0/24 for each value) and /48s.
        let mut asn = String::new();
        let mut cc = String::new();
        for n in &v4 {
            let [a, b] = n.to_be_bytes();
            let (s, e) = (Ipv4Addr::new(11, a, b, 0), Ipv4Addr::new(11, a, b, 255));
            asn.push_str(&format!("{s},{e},{},\"Org {n}, Inc.\"\n", 64_512 + u32::from(*n)));
            cc.push_str(&format!("{s},{e},{}\n", if n % 2 == 0 { "DE" } else { "br" }));
        }
        for n in &v6 {
            let s = Ipv6Addr::new(0x2a00, *n, 0, 0, 0, 0, 0, 0);
            let e = Ipv6Addr::new(0x2a00, *n, 0, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff);
            asn.push_str(&format!("{s},{e},{},v6 org\n", 100_000 + u32::from(*n)));
            cc.push_str(&format!("{s},{e},JP\n"));
        }
        let mut b = GeoDbBuilder::new();
        let r = b.add_asn_csv(&asn, "asn.csv");
        prop_assert_eq!(r.skipped, 0, "{:?}", r.errors);
        let r = b.add_country_csv(&cc, "country.csv");
        prop_assert_eq!(r.skipped, 0, "{:?}", r.errors);
        let (db, _) = b.build();
        for n in &v4 {
            let [a, b2] = n.to_be_bytes();
            let info = db.lookup(IpAddr::from([11, a, b2, probe]));
            prop_assert_eq!(info.asn, Some(64_512 + u32::from(*n)));
            let org = format!("Org {n}, Inc.");
            prop_assert_eq!(info.as_org.as_deref(), Some(org.as_str()));
            prop_assert_eq!(info.country.as_deref(), Some(if n % 2 == 0 { "DE" } else { "BR" }));
        }
        for n in &v6 {
            let ip = IpAddr::from(Ipv6Addr::new(0x2a00, *n, 0, 7, 0, 0, 0, u16::from(probe)));
            let info = db.lookup(ip);
            prop_assert_eq!(info.asn, Some(100_000 + u32::from(*n)));
            prop_assert_eq!(info.country.as_deref(), Some("JP"));
        }
    }
}
