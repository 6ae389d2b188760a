//! Impossible travel: a person's identity in two far countries closer in time than a plane
//! allows is one explained finding; the slow traveller, VPN and cloud addresses, unknown
//! places, roles and AWS's own calls stay quiet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;
use std::sync::Arc;

use detector_core::detect::impossible_travel::ImpossibleTravel;
use detector_core::detect::{Activity, Ctx, Detector, Engine, EngineConfig};
use detector_core::event::Event;
use detector_core::finding::{Finding, ObservableType, Severity};
use detector_core::geo::{GeoLookup, IpInfo, NetKind};
use serde_json::{Value, json};

mod common;
use common::{ct, run_engine, sorted, time};

const MIN: i64 = 60_000;
const H: i64 = 60 * MIN;
/// 2024-04-01T08:00:00Z
const T0: i64 = 1_711_958_400_000;
const ACCT: &str = "111122223333";

/// Where the test world's addresses are.
struct TestGeo;

impl GeoLookup for TestGeo {
    fn lookup(&self, ip: IpAddr) -> IpInfo {
        let s = ip.to_string();
        let (cc, asn, org, net): (Option<&str>, Option<u32>, &str, NetKind) =
            match s.split('.').next().unwrap_or("") {
                // Berlin office and German homes
                "192" | "84" => (
                    Some("DE"),
                    Some(3320),
                    "Deutsche Telekom AG",
                    NetKind::Other,
                ),
                // a home in Brazil
                "189" => (Some("BR"), Some(18881), "Telefonica Brasil", NetKind::Other),
                // a hotel in Tokyo
                "126" => (Some("JP"), Some(17676), "SoftBank Corp.", NetKind::Other),
                // Poland, next door
                "83" => (Some("PL"), Some(5617), "Orange Polska", NetKind::Other),
                // a commercial VPN exit in the US
                "37" => (
                    Some("US"),
                    Some(9009),
                    "M247 Europe SRL",
                    NetKind::VpnOrHosting("M247"),
                ),
                // EC2 in Virginia
                "54" => (Some("US"), Some(16509), "AMAZON-02", NetKind::Aws),
                // known network, unknown country; and a code outside ISO 3166
                "41" => (None, Some(64500), "Somewhere", NetKind::Other),
                "2" => (Some("EU"), Some(64501), "Pan-European", NetKind::Other),
                _ => (None, None, "", NetKind::Other),
            };
        IpInfo {
            country: cc.map(str::to_string),
            asn,
            as_org: (!org.is_empty()).then(|| org.to_string()),
            network: net,
        }
    }

    fn provider(&self) -> &str {
        "test geo"
    }
}

fn iam(user: &str) -> Value {
    json!({"type": "IAMUser", "principalId": "AIDA1", "accountId": ACCT, "userName": user,
           "arn": format!("arn:aws:iam::{ACCT}:user/{user}")})
}

fn console_login(n: usize, t: i64, user: &str, ip: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": time(t), "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": "Mozilla/5.0", "eventType": "AwsConsoleSignIn",
        "eventID": format!("login-{user}-{n}"), "recipientAccountId": ACCT, "userIdentity": iam(user),
        "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "Yes"},
    })
}

fn call(n: usize, t: i64, identity: Value, ip: &str, name: &str) -> Value {
    json!({
        "eventVersion": "1.09", "eventTime": time(t), "eventSource": "s3.amazonaws.com", "eventName": name,
        "awsRegion": "eu-central-1", "sourceIPAddress": ip, "userAgent": "aws-cli/2.17.0",
        "eventID": format!("call-{n}"), "recipientAccountId": ACCT, "userIdentity": identity,
    })
}

/// An engine running only impossible travel, with the test geo data if `geo`.
fn engine(cfg: EngineConfig, geo: bool) -> Engine {
    let only: Vec<Box<dyn Detector>> = vec![Box::new(ImpossibleTravel::default())];
    let mut e = Engine::with_detectors(cfg, only);
    if geo {
        e.set_geo(Arc::new(TestGeo));
    }
    e
}

fn run_geo(records: Vec<Value>, geo: bool) -> Vec<Finding> {
    run_engine(engine(EngineConfig::default(), geo), &sorted(ct(records)))
}

/// Feeds `events` straight to `d`, as the engine would, with the test geo data.
fn observe(d: &mut ImpossibleTravel, events: &[Event], cfg: &EngineConfig, out: &mut Vec<Finding>) {
    for e in events {
        let a = Activity::from_event(e).unwrap();
        let geo = Some(&TestGeo as &dyn GeoLookup);
        d.observe(&a, &mut Ctx { cfg, out, geo });
    }
}

fn run(records: Vec<Value>) -> Vec<Finding> {
    run_geo(records, true)
}

/// Alice at the Berlin office, then 23 minutes later a sign-in and reads from Brazil.
fn stolen_session(user: &str) -> Vec<Value> {
    let mut r = vec![
        console_login(1, T0, user, "192.88.99.20"),
        call(1, T0 + 2 * MIN, iam(user), "192.88.99.20", "ListBuckets"),
        console_login(2, T0 + 25 * MIN, user, "189.6.40.7"),
    ];
    for i in 0..5 {
        r.push(call(
            10 + i,
            T0 + 27 * MIN + i as i64 * MIN,
            iam(user),
            "189.6.40.7",
            "GetObject",
        ));
    }
    r
}

#[test]
fn stolen_session_from_another_continent_is_one_explained_finding() {
    let found = run(stolen_session("alice"));
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.detector, "impossible-travel");
    assert!(
        f.title
            .starts_with("Impossible travel: alice used AWS from DE (Deutsche Telekom AG)")
            && f.title
                .contains("23 minutes later from BR (Telefonica Brasil)")
            && f.title.contains("km apart")
            && f.title.contains("km/h"),
        "{}",
        f.title
    );
    assert!(
        f.severity >= Severity::High,
        "{:?} {}",
        f.severity,
        f.risk_score
    );
    assert!(f.attacks.contains(&"T1078.004".to_string()));
    // The last call from Berlin and everything from Brazil are the evidence.
    assert!(f.related.contains(&"call-1".to_string()), "{:?}", f.related);
    assert!(f.related.contains(&"login-alice-2".to_string()));
    assert_eq!(f.related_count, 7);
    let ips: Vec<&str> = f
        .observables
        .iter()
        .filter(|o| o.kind == ObservableType::IpAddress)
        .map(|o| o.value.as_str())
        .collect();
    assert_eq!(ips, ["189.6.40.7", "192.88.99.20"]);
    // Every public address carries OCSF enrichments.
    let ocsf = f.to_ocsf("test");
    let en = ocsf["enrichments"].as_array().expect("enrichments");
    assert_eq!(en.len(), 4, "{en:#?}");
    let br: Vec<&Value> = en.iter().filter(|e| e["value"] == "189.6.40.7").collect();
    assert!(br.iter().any(|e| e["type"] == "location"
        && e["data"]["country"] == "BR"
        && e["data"]["country_name"] == "Brazil"
        && e["name"] == "src_endpoint.ip"
        && e["provider"] == "test geo"));
    assert!(br.iter().any(|e| e["type"] == "asn"
        && e["data"]["asn"] == 18881
        && e["data"]["network"] == "other"));
    // The speed in the desc is from the least distance: far above the limit.
    assert!(f.desc.contains("limit is 1,000 km/h"), "{}", f.desc);
}

#[test]
fn without_geo_nothing_happens_and_findings_have_no_enrichments() {
    assert!(run_geo(stolen_session("alice"), false).is_empty());
}

#[test]
fn slow_traveller_berlin_then_tokyo_fourteen_hours_later_is_not_flagged() {
    let recs = vec![
        console_login(1, T0, "bob", "84.128.7.7"),
        call(1, T0 + 8 * H, iam("bob"), "84.128.7.7", "ListBuckets"),
        console_login(2, T0 + 22 * H, "bob", "126.72.3.4"),
        call(
            2,
            T0 + 22 * H + 5 * MIN,
            iam("bob"),
            "126.72.3.4",
            "ListBuckets",
        ),
    ];
    let found = run(recs);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn crossing_a_land_border_is_never_impossible() {
    let recs = vec![
        console_login(1, T0, "carol", "84.128.7.7"),
        call(1, T0 + 5 * MIN, iam("carol"), "83.1.2.3", "ListBuckets"),
    ];
    assert!(run(recs).is_empty());
}

#[test]
fn vpn_and_cloud_addresses_are_exceptions_on_either_side() {
    // Berlin, then minutes later a US VPN exit, then EC2: no alert.
    let recs = vec![
        console_login(1, T0, "dave", "84.128.7.7"),
        call(1, T0 + 5 * MIN, iam("dave"), "37.120.206.11", "ListBuckets"),
        call(2, T0 + 6 * MIN, iam("dave"), "54.172.1.2", "ListBuckets"),
        // ...and back in Berlin.
        call(3, T0 + 7 * MIN, iam("dave"), "84.128.7.7", "ListBuckets"),
    ];
    assert!(run(recs.clone()).is_empty());
    // AWS first, then Brazil: the cloud address says nothing about where dave was.
    let recs = vec![
        call(1, T0, iam("dave"), "54.172.1.2", "ListBuckets"),
        call(2, T0 + 5 * MIN, iam("dave"), "189.6.40.7", "ListBuckets"),
    ];
    assert!(run(recs).is_empty());
    // The exceptions are counted where `detector baseline show` can see them.
    let mut d = ImpossibleTravel::default();
    let cfg = EngineConfig::default();
    let mut out = Vec::new();
    let events = ct(vec![
        console_login(1, T0, "dave", "84.128.7.7"),
        call(1, T0 + 5 * MIN, iam("dave"), "37.120.206.11", "ListBuckets"),
        call(2, T0 + 6 * MIN, iam("dave"), "54.172.1.2", "ListBuckets"),
        call(3, T0 + 7 * MIN, iam("dave"), "41.13.1.1", "ListBuckets"),
    ]);
    for e in &events {
        let a = Activity::from_event(e).unwrap();
        d.observe(
            &a,
            &mut Ctx {
                cfg: &cfg,
                out: &mut out,
                geo: Some(&TestGeo),
            },
        );
    }
    let v = d
        .describe(&format!("arn:aws:iam::{ACCT}:user/dave"))
        .unwrap();
    assert_eq!(v["cloud_vpn_hosting_exceptions"], 2, "{v}");
    assert_eq!(v["unknown_location"], 1, "{v}");
    assert_eq!(v["last_country"], "DE");
}

#[test]
fn unknown_countries_are_not_judged() {
    for ip in ["41.13.1.1", "2.2.2.2", "9.9.9.9"] {
        let recs = vec![
            console_login(1, T0, "erin", "84.128.7.7"),
            call(1, T0 + 5 * MIN, iam("erin"), ip, "ListBuckets"),
        ];
        assert!(run(recs).is_empty(), "{ip}");
    }
}

#[test]
fn roles_and_calls_aws_makes_are_not_judged() {
    let role = json!({"type": "AssumedRole", "principalId": "AROA1:build", "accountId": ACCT,
        "arn": format!("arn:aws:sts::{ACCT}:assumed-role/Deployer/build"),
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::{ACCT}:role/Deployer")}}});
    let recs = vec![
        call(1, T0, role.clone(), "84.128.7.7", "ListBuckets"),
        call(2, T0 + 5 * MIN, role, "189.6.40.7", "ListBuckets"),
        console_login(1, T0, "frank", "84.128.7.7"),
        call(
            3,
            T0 + 5 * MIN,
            iam("frank"),
            "ec2.amazonaws.com",
            "ListBuckets",
        ),
        call(4, T0 + 6 * MIN, iam("frank"), "AWS Internal", "ListBuckets"),
    ];
    assert!(run(recs).is_empty());
}

#[test]
fn console_and_admin_raise_the_risk() {
    let api_only = |user: &str| {
        vec![
            call(1, T0, iam(user), "84.128.7.7", "ListBuckets"),
            call(2, T0 + 40 * MIN, iam(user), "189.6.40.7", "ListBuckets"),
        ]
    };
    let plain = run(api_only("gina"));
    let admin = run(api_only("gina-admin"));
    let console = run(stolen_session("gina"));
    assert_eq!((plain.len(), admin.len(), console.len()), (1, 1, 1));
    assert!(admin[0].risk_score > plain[0].risk_score);
    assert!(console[0].risk_score > plain[0].risk_score);
    // Root is the most privileged identity there is.
    let root = json!({"type": "Root", "principalId": ACCT, "accountId": ACCT, "arn": format!("arn:aws:iam::{ACCT}:root")});
    let recs = vec![
        call(1, T0, root.clone(), "84.128.7.7", "ListBuckets"),
        call(2, T0 + 40 * MIN, root, "189.6.40.7", "ListBuckets"),
    ];
    let r = run(recs);
    assert_eq!(r.len(), 1);
    assert!(r[0].title.contains("root (111122223333)"), "{}", r[0].title);
    assert!(r[0].risk_score > admin[0].risk_score);
}

#[test]
fn owner_back_minutes_later_is_told_in_the_same_finding() {
    let mut recs = stolen_session("kate");
    recs.push(call(
        60,
        T0 + 35 * MIN,
        iam("kate"),
        "192.88.99.20",
        "ListBuckets",
    ));
    recs.push(call(
        61,
        T0 + 36 * MIN,
        iam("kate"),
        "192.88.99.20",
        "ListBuckets",
    ));
    let found = run(recs);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.occurrences, 1);
    assert_eq!(f.related_count, 8, "{:?}", f.related);
    assert!(f.related.contains(&"call-60".to_string()));
    assert!(
        f.desc.contains("Then 6 call(s) from the new place")
            && f.desc
                .contains("the identity was back in Germany (192.88.99.20)"),
        "{}",
        f.desc
    );
}

#[test]
fn back_and_forth_updates_one_finding_without_the_owners_day_as_evidence() {
    let mut recs = stolen_session("hank");
    // The owner carries on in Berlin for hours, starting after the thief's burst has closed...
    for i in 0..20 {
        recs.push(call(
            100 + i,
            T0 + 3 * H + i as i64 * 5 * MIN,
            iam("hank"),
            "192.88.99.20",
            "ListBuckets",
        ));
    }
    // ...and the thief comes back later.
    recs.push(call(51, T0 + 5 * H, iam("hank"), "189.6.40.7", "GetObject"));
    let found = run(recs);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.occurrences, 3, "out, back home, out again");
    // The thief's calls, the owner's first call back and the call before the second visit:
    // not the owner's whole afternoon.
    assert_eq!(f.related_count, 7 + 2 + 2, "{:?}", f.related);
    assert!(f.related.contains(&"call-100".to_string()));
    assert!(f.related.contains(&"call-119".to_string()));
    assert!(!f.related.contains(&"call-105".to_string()));
    assert_eq!(f.last_seen_ms, T0 + 5 * H);
}

#[test]
fn speed_threshold_is_configurable() {
    let recs = vec![
        console_login(1, T0, "ivan", "84.128.7.7"),
        console_login(2, T0 + 22 * H, "ivan", "126.72.3.4"),
    ];
    let events = sorted(ct(recs));
    let cfg = EngineConfig {
        impossible_travel_kmh: 300.0,
        ..EngineConfig::default()
    };
    let mut e = engine(cfg, true);
    for ev in &events {
        e.push(Activity::from_event(ev).unwrap());
    }
    e.finish();
    let f = e.take_findings();
    assert_eq!(
        f.len(),
        1,
        "Berlin-Tokyo in 22 h is ~380 km/h: above a 300 km/h limit"
    );
    // A config file without the field still reads (serde default).
    let c: EngineConfig = serde_json::from_str(r#"{"learning_days": 3}"#).unwrap();
    assert_eq!(c.impossible_travel_kmh, 1000.0);
}

#[test]
fn state_survives_save_and_load() {
    let recs = stolen_session("judy");
    let events = sorted(ct(recs));
    let (first, second) = events.split_at(2);
    let cfg = EngineConfig::default();
    let mut out = Vec::new();
    let mut d = ImpossibleTravel::default();
    observe(&mut d, first, &cfg, &mut out);
    let saved = d.save();
    let mut d2 = ImpossibleTravel::default();
    d2.load(&saved).unwrap();
    assert_eq!(d2.entities(), 1);
    assert!(d2.load(b"\xff\xff garbage").is_err());
    let mut d2 = ImpossibleTravel::default();
    d2.load(&saved).unwrap();
    observe(&mut d2, second, &cfg, &mut out);
    // A jump half-collected survives a save too.
    let mid = d2.save();
    let mut d3 = ImpossibleTravel::default();
    d3.load(&mid).unwrap();
    d3.flush(
        i64::MAX,
        &mut Ctx {
            cfg: &cfg,
            out: &mut out,
            geo: Some(&TestGeo),
        },
    );
    assert_eq!(out.len(), 1, "{out:#?}");
    assert!(out[0].title.contains("judy"));
    assert_eq!(out[0].related_count, 7);
}
