//! The simulator's output: parsed by our own parsers with zero rejects, AWS key layouts, time
//! windows and lateness, determinism, and ground truth that points at real records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use detector_core::parse::{self, Batch, Format};
use detector_core::simulate::{
    ChunkReport, Config, FileKind, MAX_LATENESS_MS, OutFile, SCENARIOS, Selection, Simulation,
    TruthLine,
};
use detector_core::time::parse_iso8601_ms;

struct Run {
    sim: Simulation,
    files: Vec<OutFile>,
    report: ChunkReport,
    truth: Vec<TruthLine>,
}

fn small(seed: u64) -> Config {
    Config {
        seed,
        days: 2,
        accounts: 2,
        scale: 0.5,
        ..Config::default()
    }
}

fn run(cfg: Config) -> Run {
    let sim = Simulation::new(cfg).unwrap();
    let mut files = Vec::new();
    let report = sim
        .generate_all(&mut |f| {
            files.push(f);
            Ok::<(), ()>(())
        })
        .unwrap();
    let truth = sim.truth(&report);
    Run {
        sim,
        files,
        report,
        truth,
    }
}

/// One shared run for the read-only checks (generation is the slow part).
fn shared() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| run(small(42)))
}

fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

fn digest(files: &[OutFile]) -> BTreeMap<String, u64> {
    files
        .iter()
        .map(|f| {
            let mut h = 0xcbf2_9ce4_8422_2325;
            fnv(&mut h, &f.bytes);
            (f.key.clone(), h)
        })
        .collect()
}

#[test]
fn every_generated_file_parses_with_zero_rejects() {
    let r = shared();
    let mut per_kind: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &r.files {
        let format =
            parse::detect(&f.key, &f.bytes).unwrap_or_else(|| panic!("undetected {}", f.key));
        let expected = match f.kind {
            FileKind::CloudTrail => Format::CloudTrail,
            FileKind::CloudTrailDigest => Format::CloudTrailDigest,
            FileKind::VpcFlow => Format::VpcFlow,
            FileKind::S3Access => Format::S3Access,
        };
        assert_eq!(format, expected, "{}", f.key);
        let source: Arc<str> = Arc::from(f.key.as_str());
        let mut batch = Batch::default();
        parse::parse(format, &source, &f.bytes, &mut batch);
        assert!(
            batch.rejects.is_empty(),
            "{}: {:?}",
            f.key,
            batch.rejects.first().map(|r| (&r.reason, &r.raw))
        );
        if format == Format::CloudTrailDigest {
            assert_eq!(batch.digests, 1);
        } else {
            assert_eq!(batch.events.len() as u64, f.records, "{}", f.key);
        }
        *per_kind.entry(format.name()).or_default() += batch.events.len() as u64;
    }
    let c = r.report.counts;
    assert_eq!(
        per_kind.get("cloudtrail").copied().unwrap_or(0),
        c.cloudtrail.records
    );
    assert_eq!(
        per_kind.get("vpcflow").copied().unwrap_or(0),
        c.vpcflow.records
    );
    assert_eq!(
        per_kind.get("s3access").copied().unwrap_or(0),
        c.s3access.records
    );
    assert!(
        c.cloudtrail.records > 10_000 && c.vpcflow.records > 5_000 && c.s3access.records > 2_000,
        "{c:?}"
    );
}

fn civil_compact(key_time: &str) -> i64 {
    // YYYYMMDDTHHMMZ or YYYYMMDDTHHMMSSZ
    let iso = if key_time.len() == 14 {
        format!(
            "{}-{}-{}T{}:{}:00Z",
            &key_time[0..4],
            &key_time[4..6],
            &key_time[6..8],
            &key_time[9..11],
            &key_time[11..13]
        )
    } else {
        format!(
            "{}-{}-{}T{}:{}:{}Z",
            &key_time[0..4],
            &key_time[4..6],
            &key_time[6..8],
            &key_time[9..11],
            &key_time[11..13],
            &key_time[13..15]
        )
    };
    parse_iso8601_ms(&iso).unwrap()
}

#[test]
fn cloudtrail_files_follow_the_organization_trail_layout_and_windows() {
    let r = shared();
    let org = &r.sim.org;
    let accounts: BTreeSet<&str> = org.accounts.iter().map(|a| a.id.as_str()).collect();
    let (mut late, mut total, mut out_of_order, mut max_late) = (0u64, 0u64, 0u64, 0i64);
    let mut regions = BTreeSet::new();
    for f in r.files.iter().filter(|f| f.kind == FileKind::CloudTrail) {
        assert!(f.compress && f.key.ends_with(".json.gz"));
        let parts: Vec<&str> = f.key.split('/').collect();
        assert_eq!(parts.len(), 9, "{}", f.key);
        assert_eq!(parts[0], "AWSLogs");
        assert_eq!(parts[1], org.org_id);
        assert!(accounts.contains(parts[2]), "{}", f.key);
        assert_eq!(parts[3], "CloudTrail");
        regions.insert(parts[4].to_string());
        let name: Vec<&str> = parts[8].trim_end_matches(".json.gz").split('_').collect();
        assert_eq!(name.len(), 5, "{}", f.key);
        assert_eq!(
            (name[0], name[1], name[2]),
            (parts[2], "CloudTrail", parts[4])
        );
        assert_eq!(name[4].len(), 16);
        assert!(name[4].bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(
            format!("{}/{}/{}", parts[5], parts[6], parts[7]),
            format!("{}/{}/{}", &name[3][0..4], &name[3][4..6], &name[3][6..8])
        );
        let delivered = civil_compact(name[3]);
        let window_start = delivered - 5 * 60_000;
        let v: serde_json::Value = serde_json::from_slice(&f.bytes).unwrap();
        let recs = v["Records"].as_array().unwrap();
        assert!(!recs.is_empty());
        let mut prev = i64::MIN;
        for rec in recs {
            let t = parse_iso8601_ms(rec["eventTime"].as_str().unwrap()).unwrap();
            assert!(t < delivered, "record after its file's delivery: {}", f.key);
            assert!(
                window_start - t <= MAX_LATENESS_MS,
                "record too late: {} {}",
                f.key,
                rec["eventTime"]
            );
            assert_eq!(
                rec["recipientAccountId"].as_str(),
                Some(parts[2]),
                "{}",
                f.key
            );
            assert_eq!(rec["awsRegion"].as_str(), Some(parts[4]));
            assert!(rec["eventID"].as_str().is_some_and(|s| s.len() == 36));
            assert!(rec["userIdentity"].is_object());
            if t < window_start {
                late += 1;
                max_late = max_late.max(window_start - t);
            }
            if t < prev {
                out_of_order += 1;
            }
            prev = t;
            total += 1;
        }
    }
    assert!(late > 0 && late < total / 10, "late {late} of {total}");
    assert!(max_late > 5 * 60_000, "max lateness {max_late}");
    assert!(out_of_order > 0);
    assert!(regions.contains("us-east-1"));
    // GPU mining happens in regions the organization never uses.
    assert!(regions.len() >= 3, "{regions:?}");
}

#[test]
fn records_look_like_the_real_apis() {
    let r = shared();
    let mut seen: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for f in r.files.iter().filter(|f| f.kind == FileKind::CloudTrail) {
        let v: serde_json::Value = serde_json::from_slice(&f.bytes).unwrap();
        for rec in v["Records"].as_array().unwrap() {
            let name = rec["eventName"].as_str().unwrap().to_string();
            let ty = rec["userIdentity"]["type"]
                .as_str()
                .unwrap_or("")
                .to_string();
            seen.entry(name).or_insert_with(|| rec.clone());
            seen.entry(format!("type:{ty}"))
                .or_insert_with(|| rec.clone());
            if let Some(e) = rec["errorCode"].as_str() {
                seen.entry(format!("error:{e}"))
                    .or_insert_with(|| rec.clone());
            }
        }
    }
    for ty in [
        "IAMUser",
        "AssumedRole",
        "AWSService",
        "Root",
        "WebIdentityUser",
        "SAMLUser",
        "AWSAccount",
    ] {
        assert!(seen.contains_key(&format!("type:{ty}")), "no {ty} identity");
    }
    let ar = &seen["AssumeRole"];
    assert!(
        ar["requestParameters"]["roleArn"]
            .as_str()
            .is_some_and(|s| s.starts_with("arn:aws:iam::"))
    );
    assert!(ar["requestParameters"]["roleSessionName"].is_string());
    let deny = &seen["error:AccessDenied"];
    let msg = deny["errorMessage"].as_str().unwrap();
    assert!(
        msg.contains("is not authorized to perform:")
            && msg.contains("because no identity-based policy allows"),
        "{msg}"
    );
    let login = &seen["ConsoleLogin"];
    assert_eq!(login["eventType"], "AwsConsoleSignIn");
    assert!(login["additionalEventData"]["MFAUsed"].is_string());
    let ec2 = seen
        .values()
        .find(|r| r["userIdentity"]["sessionContext"]["ec2RoleDelivery"] == "2.0")
        .expect("instance profile session");
    assert!(
        ec2["userIdentity"]["arn"]
            .as_str()
            .unwrap()
            .contains("/i-0")
    );
    let web = &seen["type:WebIdentityUser"];
    assert_eq!(web["eventName"], "AssumeRoleWithWebIdentity");
    assert!(
        web["userIdentity"]["identityProvider"]
            .as_str()
            .unwrap()
            .ends_with("token.actions.githubusercontent.com")
    );
    let run = &seen["RunInstances"];
    assert!(run["requestParameters"]["instanceType"].as_str().is_some());
    let share = &seen["ModifySnapshotAttribute"];
    assert!(
        share["requestParameters"]["createVolumePermission"]["add"]["items"][0]["userId"]
            .is_string()
    );
    let put = &seen["PutBucketPolicy"];
    assert!(put["requestParameters"]["bucketPolicy"]["Statement"].is_array());
    let key = &seen["CreateAccessKey"];
    assert!(
        key["responseElements"]["accessKey"]["accessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("AKIA")
    );
    let svc = &seen["type:AWSService"];
    assert!(
        svc["sourceIPAddress"]
            .as_str()
            .unwrap()
            .ends_with(".amazonaws.com")
    );
    assert!(
        seen.contains_key("UpdateInstanceInformation")
            && seen.contains_key("Decrypt")
            && seen.contains_key("GetObject")
    );
}

#[test]
fn digests_cover_each_hour_and_chain() {
    let r = shared();
    let org = &r.sim.org;
    let logs: BTreeSet<&str> = r
        .files
        .iter()
        .filter(|f| f.kind == FileKind::CloudTrail)
        .map(|f| f.key.as_str())
        .collect();
    let digests: BTreeSet<&str> = r
        .files
        .iter()
        .filter(|f| f.kind == FileKind::CloudTrailDigest)
        .map(|f| f.key.as_str())
        .collect();
    let mut listed = BTreeSet::new();
    let mut chained = 0;
    for f in r
        .files
        .iter()
        .filter(|f| f.kind == FileKind::CloudTrailDigest)
    {
        assert!(
            f.key.contains("/CloudTrail-Digest/")
                && f.key.contains("_CloudTrail-Digest_")
                && f.key.contains(&org.trail_name)
        );
        let v: serde_json::Value = serde_json::from_slice(&f.bytes).unwrap();
        for field in [
            "awsAccountId",
            "digestStartTime",
            "digestEndTime",
            "digestS3Bucket",
            "digestS3Object",
            "newestEventTime",
            "oldestEventTime",
            "previousDigestS3Bucket",
            "previousDigestS3Object",
            "previousDigestHashValue",
            "previousDigestHashAlgorithm",
            "previousDigestSignature",
            "digestPublicKeyFingerprint",
            "digestSignatureAlgorithm",
            "logFiles",
        ] {
            assert!(v.get(field).is_some(), "{field} missing in {}", f.key);
        }
        assert_eq!(v["digestS3Object"].as_str(), Some(f.key.as_str()));
        if let Some(prev) = v["previousDigestS3Object"].as_str()
            && digests.contains(prev)
        {
            chained += 1;
        }
        for l in v["logFiles"].as_array().unwrap() {
            let k = l["s3Object"].as_str().unwrap();
            assert!(logs.contains(k), "digest lists a missing file {k}");
            assert!(listed.insert(k.to_string()), "listed twice {k}");
        }
    }
    assert_eq!(
        listed.len(),
        logs.len(),
        "every log file is in exactly one digest"
    );
    assert!(chained > digests.len() / 2);
}

#[test]
fn flow_and_s3_files_follow_aws_layouts() {
    let r = shared();
    let (mut default_fmt, mut custom_fmt, mut nodata) = (0, 0, 0);
    for f in r.files.iter().filter(|f| f.kind == FileKind::VpcFlow) {
        let parts: Vec<&str> = f.key.split('/').collect();
        assert_eq!(
            (parts[0], parts[2]),
            ("AWSLogs", "vpcflowlogs"),
            "{}",
            f.key
        );
        let name: Vec<&str> = parts[7].trim_end_matches(".log.gz").split('_').collect();
        assert_eq!(name.len(), 6, "{}", f.key);
        assert_eq!(
            (name[0], name[1], name[2]),
            (parts[1], "vpcflowlogs", parts[3])
        );
        assert!(name[3].starts_with("fl-"));
        let text = std::str::from_utf8(&f.bytes).unwrap();
        let header = text.lines().next().unwrap();
        if header.contains("flow-direction") {
            custom_fmt += 1;
            assert!(header.contains("pkt-srcaddr") && header.contains("traffic-path"));
        } else {
            default_fmt += 1;
        }
        let width = header.split(' ').count();
        for l in text.lines().skip(1) {
            assert_eq!(l.split(' ').count(), width, "{l}");
            if l.contains("NODATA") {
                nodata += 1;
            }
        }
    }
    assert!(
        default_fmt > 0 && custom_fmt > 0 && nodata > 0,
        "{default_fmt} {custom_fmt} {nodata}"
    );
    let mut anonymous = 0;
    for f in r.files.iter().filter(|f| f.kind == FileKind::S3Access) {
        assert!(!f.compress);
        let name = f.key.rsplit('/').next().unwrap();
        // YYYY-MM-DD-HH-MM-SS-<16 hex>
        assert_eq!(name.len(), 19 + 1 + 16, "{}", f.key);
        assert!(name[20..].bytes().all(|c| c.is_ascii_hexdigit()));
        for l in std::str::from_utf8(&f.bytes).unwrap().lines() {
            let fields: Vec<&str> = l.split(' ').collect();
            if fields[5] == "-" {
                anonymous += 1;
            }
        }
    }
    assert!(anonymous > 0);
}

#[test]
fn ground_truth_points_at_real_records() {
    let r = shared();
    let mal = r.truth.iter().filter(|t| t.is_malicious()).count();
    assert!(mal >= 20 && r.truth.len() - mal >= 5);
    let mut ct_ids = BTreeSet::new();
    let mut lines: BTreeMap<String, String> = BTreeMap::new();
    for f in &r.files {
        match f.kind {
            FileKind::CloudTrail => {
                let v: serde_json::Value = serde_json::from_slice(&f.bytes).unwrap();
                for rec in v["Records"].as_array().unwrap() {
                    ct_ids.insert(rec["eventID"].as_str().unwrap().to_string());
                }
            }
            FileKind::VpcFlow | FileKind::S3Access => {
                for (i, l) in std::str::from_utf8(&f.bytes).unwrap().lines().enumerate() {
                    lines.insert(format!("{}#{}", f.key, i + 1), l.to_string());
                }
            }
            FileKind::CloudTrailDigest => {}
        }
    }
    let start = r.sim.start_ms();
    for t in &r.truth {
        if t.name == "benign-new-service" {
            continue; // its first day may fall after a two-day run
        }
        assert!(!t.record_uids.is_empty(), "{} has no records", t.name);
        assert!(t.start_ms <= t.end_ms && t.start_ms >= start && t.end_ms < r.sim.end_ms());
        assert!(
            t.start_ms >= start + 86_400_000 || t.name.starts_with("benign-"),
            "{} starts on day 0",
            t.name
        );
        for uid in &t.record_uids {
            if uid.contains('#') {
                let line = lines
                    .get(uid)
                    .unwrap_or_else(|| panic!("{}: no line {uid}", t.name));
                assert!(!line.starts_with("version "), "{uid} points at a header");
            } else {
                assert!(ct_ids.contains(uid), "{}: no record {uid}", t.name);
            }
        }
        if t.is_malicious() {
            assert!(!t.attack_ids.is_empty() && !t.tactics.is_empty());
            let ind = &t.indicators;
            assert!(
                !(ind.ips.is_empty() && ind.principals.is_empty() && ind.resources.is_empty()),
                "{}",
                t.name
            );
            for a in &ind.accounts {
                assert!(!r.sim.org.is_org_account(a));
            }
        }
    }
    let names: BTreeSet<&str> = r.truth.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names.len(), SCENARIOS.len());
    let manifest = r.sim.manifest(&r.report);
    let tagged: u64 = r
        .truth
        .iter()
        .filter(|t| t.is_malicious())
        .map(|t| t.record_uids.len() as u64)
        .sum();
    assert_eq!(
        manifest.background_events + tagged,
        r.report.counts.events()
    );
}

#[test]
fn same_seed_is_byte_identical_in_any_chunk_order() {
    let a = digest(&shared().files);
    let sim = Simulation::new(small(42)).unwrap();
    let mut files = Vec::new();
    // Reverse order stands in for any thread interleaving.
    for i in (0..sim.chunks().len()).rev() {
        sim.generate_chunk(i, &mut |f| {
            files.push(f);
            Ok::<(), ()>(())
        })
        .unwrap();
    }
    assert_eq!(a, digest(&files));
}

#[test]
fn another_seed_changes_identities_addresses_and_times() {
    let a = &shared().sim;
    let b = Simulation::new(small(43)).unwrap();
    assert_ne!(a.org.org_id, b.org.org_id);
    let ids = |s: &Simulation| {
        s.org
            .accounts
            .iter()
            .map(|x| x.id.clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(ids(a), ids(&b));
    let people = |s: &Simulation| {
        s.org
            .humans
            .iter()
            .map(|h| (h.name.clone(), h.home_ip))
            .collect::<Vec<_>>()
    };
    assert_ne!(people(a), people(&b));
    let times = |s: &Simulation| s.planned().iter().map(|p| p.start_ms).collect::<Vec<_>>();
    assert_ne!(times(a), times(&b));
    let ips = |s: &Simulation| {
        s.planned()
            .iter()
            .flat_map(|p| p.indicators.ips.iter().cloned())
            .collect::<BTreeSet<_>>()
    };
    assert_ne!(ips(a), ips(&b));
}

#[test]
fn scenario_selection_none_and_subset() {
    let none = run(Config {
        scenarios: Selection::None,
        days: 1,
        accounts: 1,
        scale: 0.2,
        ..Config::default()
    });
    assert!(none.truth.is_empty() && none.report.tagged.is_empty());
    let manifest = none.sim.manifest(&none.report);
    assert_eq!(manifest.background_events, none.report.counts.events());
    let cfg = Config {
        scenarios: "flow-port-scan,root-account-use".parse().unwrap(),
        days: 2,
        accounts: 1,
        scale: 0.2,
        ..Config::default()
    };
    let sub = run(cfg);
    let names: Vec<&str> = sub.truth.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["root-account-use", "flow-port-scan"]);
    // A scenario's placement does not depend on which others are selected.
    let full = Simulation::new(Config {
        days: 2,
        accounts: 1,
        scale: 0.2,
        ..Config::default()
    })
    .unwrap();
    let start_of =
        |s: &Simulation, n: &str| s.planned().iter().find(|p| p.name == n).map(|p| p.start_ms);
    assert_eq!(
        start_of(&sub.sim, "flow-port-scan"),
        start_of(&full, "flow-port-scan")
    );
    let scan = &sub.truth[1];
    assert!(
        scan.record_uids.len() >= 400
            && scan
                .record_uids
                .iter()
                .all(|u| u.contains("vpcflowlogs") && u.contains('#'))
    );
}
