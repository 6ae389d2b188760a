//! `detector geo` and enrichment end to end: lookups from the CSV and MMDB fixtures, a scan
//! that raises impossible travel and enriches its OCSF output, and `geo install` from local
//! tarballs (verified, mismatched, npm missing). No network.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use sha2::Digest;

mod common;
use common::{json_lines, run_ok};

const MIN: i64 = 60_000;
/// 2024-04-01T08:00:00Z
const T0: i64 = 1_711_958_400_000;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/geo")
}

/// The binary with no enrichment anywhere unless a test passes some.
fn detector(home: &Path) -> Command {
    let mut c = common::detector();
    c.env_remove("DETECTOR_GEO")
        .env_remove("DETECTOR_STATE")
        .env("XDG_DATA_HOME", home)
        .env("HOME", home);
    c
}

/// `geo lookup --json` of `ips` with the fixture data in `layout` (`csv` or `mmdb`).
fn lookup_json(home: &Path, layout: &str, ips: &[&str]) -> Vec<Value> {
    let out = run_ok(
        detector(home)
            .args(["geo", "lookup", "--json", "--geo"])
            .arg(fixtures().join(layout))
            .args(ips),
    );
    json_lines(&out.stdout)
}

/// `geo install --dir <dir> --from <from>`; the caller adds options and runs it.
fn install(home: &Path, dir: &Path, from: &Path) -> Command {
    let mut c = detector(home);
    c.args(["geo", "install", "--dir"])
        .arg(dir)
        .arg("--from")
        .arg(from);
    c
}

#[test]
fn lookup_from_csv_fixture() {
    let home = tempfile::tempdir().unwrap();
    let v = lookup_json(
        home.path(),
        "csv",
        &[
            "8.8.8.8",
            "192.88.99.20",
            "10.1.2.3",
            "37.120.206.9",
            "2001:4860::1",
        ],
    );
    assert_eq!(v.len(), 5);
    assert_eq!(v[0]["country"], "US");
    assert_eq!(v[0]["asn"], 15169);
    assert_eq!(v[0]["network"], "cloud");
    assert_eq!(v[0]["provider"], "Google");
    assert_eq!(v[1]["country"], "DE");
    assert_eq!(v[1]["org"], "Example GmbH, Berlin office");
    assert_eq!(v[1]["network"], "other");
    assert_eq!(v[2]["network"], "private");
    assert_eq!(v[3]["network"], "vpn-hosting");
    assert_eq!(v[4]["asn"], 15169);
    // Text form, and a bad address is an error for that address only.
    let out = detector(home.path())
        .args(["geo", "lookup", "--geo"])
        .arg(fixtures().join("csv"))
        .args(["189.6.1.1", "not-an-ip"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("BR (Brazil)") && text.contains("AS18881"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-an-ip"));
}

#[test]
fn lookup_from_mmdb_fixtures_both_layouts() {
    let home = tempfile::tempdir().unwrap();
    let v = lookup_json(
        home.path(),
        "mmdb",
        &[
            "8.8.8.8",
            "189.6.1.1",
            "192.88.99.20",
            "2001:4860::1",
            "9.9.9.9",
        ],
    );
    assert_eq!(
        (v[0]["country"].as_str(), v[0]["asn"].as_u64()),
        (Some("US"), Some(15169))
    );
    assert_eq!(v[0]["network"], "cloud");
    // `{"country_code": ..}`: the ip-location-db layout.
    assert_eq!(v[1]["country"], "BR");
    assert_eq!(v[1]["org"], "TELEFONICA BRASIL S.A");
    assert_eq!(v[2]["country"], "DE");
    assert_eq!(v[3]["country"], "US");
    assert_eq!(v[4]["country"], Value::Null);
    assert_eq!(v[4]["network"], "other");
}

#[test]
fn lookup_without_data_says_how_to_get_some() {
    let home = tempfile::tempdir().unwrap();
    let out = detector(home.path())
        .args(["geo", "lookup", "8.8.8.8"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("detector geo install"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A path that holds nothing usable is an error, not silence.
    let empty = tempfile::tempdir().unwrap();
    let out = detector(home.path())
        .args(["geo", "lookup", "--geo"])
        .arg(empty.path())
        .arg("8.8.8.8")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no IP enrichment data"));
}

#[test]
fn status_reports_ranges_memory_and_bad_lines() {
    let home = tempfile::tempdir().unwrap();
    let out = run_ok(
        detector(home.path())
            .args(["geo", "status", "--bench", "--dir"])
            .arg(fixtures().join("csv")),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ASN 7 IPv4 + 1 IPv6"), "{text}");
    assert!(text.contains("country 6 IPv4 + 1 IPv6"), "{text}");
    assert!(text.contains("asn.csv line 9"), "{text}");
    assert!(
        text.contains("bytes/range") && text.contains("lookups:"),
        "{text}"
    );
    let out = detector(home.path())
        .args(["geo", "status", "--json", "--dir"])
        .arg(fixtures().join("mmdb"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = v["load"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["mmdb-asn", "mmdb-country"]);
}

fn ct_record(id: &str, t: i64, user: &str, source: &str, name: &str, ip: &str) -> String {
    let login = name == "ConsoleLogin";
    format!(
        r#"{{"eventVersion":"1.09","userIdentity":{{"type":"IAMUser","principalId":"AIDA{user}","arn":"arn:aws:iam::111122223333:user/{user}","accountId":"111122223333","userName":"{user}"}},"eventTime":"{}","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"{ip}","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{},"eventID":"{id}","readOnly":{},"eventType":"{}","recipientAccountId":"111122223333"}}"#,
        detector_core::time::format_iso8601_ms(t),
        if login {
            r#"{"ConsoleLogin":"Success"}"#
        } else {
            "null"
        },
        !login,
        if login {
            "AwsConsoleSignIn"
        } else {
            "AwsApiCall"
        },
    )
}

/// Alice signs in at the Berlin office, and 20 minutes later from a home in Brazil.
fn write_trail(dir: &Path) -> PathBuf {
    let folder = dir.join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/01");
    std::fs::create_dir_all(&folder).unwrap();
    let mut f = std::fs::File::create(folder.join("events.jsonl")).unwrap();
    let (berlin, brazil) = ("192.88.99.20", "189.6.40.7");
    let recs = [
        ("e1", 0, "signin", "ConsoleLogin", berlin),
        ("e2", 3, "s3", "ListBuckets", berlin),
        ("e3", 23, "signin", "ConsoleLogin", brazil),
        ("e4", 25, "s3", "ListBuckets", brazil),
        ("e5", 26, "secretsmanager", "ListSecrets", brazil),
    ];
    for (id, minute, service, name, ip) in recs {
        let source = format!("{service}.amazonaws.com");
        let r = ct_record(id, T0 + minute * MIN, "alice", &source, name, ip);
        writeln!(f, "{r}").unwrap();
    }
    dir.join("AWSLogs")
}

fn scan(home: &Path, logs: &Path, geo: Option<&Path>) -> Vec<Value> {
    let mut c = detector(home);
    if let Some(g) = geo {
        c.env("DETECTOR_GEO", g);
    }
    let out = run_ok(
        c.args(["scan", "--ephemeral", "--quiet", "--format", "ocsf"])
            .args(["--min-severity", "info"])
            .arg(logs),
    );
    json_lines(&out.stdout)
}

#[test]
fn scan_with_geo_raises_impossible_travel_and_enriches_ocsf() {
    let home = tempfile::tempdir().unwrap();
    let logs = write_trail(home.path());
    for geo in [fixtures().join("csv"), fixtures().join("mmdb")] {
        let found = scan(home.path(), &logs, Some(&geo));
        let it: Vec<&Value> = found
            .iter()
            .filter(|f| f["finding_info"]["analytic"]["uid"] == "impossible-travel")
            .collect();
        assert_eq!(it.len(), 1, "{}: {found:#?}", geo.display());
        let f = it[0];
        let title = f["finding_info"]["title"].as_str().unwrap();
        assert!(
            title.starts_with(
                "Impossible travel: alice used AWS from DE (Example GmbH, Berlin office)"
            ) && title.contains("20 minutes later from BR"),
            "{title}"
        );
        assert!(f["severity_id"].as_u64().unwrap() >= 4, "{f:#}");
        let en = f["enrichments"].as_array().expect("enrichments");
        assert!(en.iter().any(|e| e["value"] == "189.6.40.7"
            && e["type"] == "location"
            && e["data"]["country"] == "BR"));
        assert!(en.iter().any(|e| e["value"] == "192.88.99.20"
            && e["type"] == "asn"
            && e["data"]["asn"] == 64512));
        assert!(en.iter().all(|e| e["name"] == "src_endpoint.ip"
            && e["provider"].as_str().unwrap().starts_with("detector geo")));
    }
    // Without enrichment: no impossible travel, no enrichments.
    let found = scan(home.path(), &logs, None);
    assert!(
        found.iter().all(
            |f| f["finding_info"]["analytic"]["uid"] != "impossible-travel"
                && f.get("enrichments").is_none()
        ),
        "{found:#?}"
    );
}

/// An npm-style tarball (`package/...`) of the given files.
fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, format!("package/{name}"), *data)
            .unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn sri(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    // Base64 through the CLI's own output is what is under test; compute it independently here.
    let digest = sha2::Sha512::digest(bytes);
    let t = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::from("sha512-");
    for c in digest.chunks(3) {
        let n = c.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - c.len()));
        for i in 0..=c.len() {
            s.write_char(char::from(t[((n >> (18 - 6 * i)) & 63) as usize]))
                .unwrap();
        }
        for _ in c.len()..3 {
            s.push('=');
        }
    }
    s
}

fn asn_package() -> Vec<u8> {
    let csv = std::fs::read(fixtures().join("csv/asn.csv")).unwrap();
    tarball(&[
        (
            "package.json",
            br#"{"name":"@ip-location-db/asn","version":"9.9.9","license":"CC-BY-4.0"}"#,
        ),
        ("DBIP-LICENSE", b"CC BY 4.0: attribute DB-IP.com\n"),
        ("asn-ipv4.csv", &csv),
        (
            "asn-ipv4-num.csv",
            b"134744064,134744319,15169,Google LLC\n",
        ),
        ("ignored.js", b"module.exports = 1;\n"),
    ])
}

#[test]
fn install_from_a_verified_tarball() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let tgz = asn_package();
    let file = work.path().join("ip-location-db-asn-9.9.9.tgz");
    std::fs::write(&file, &tgz).unwrap();
    let dir = work.path().join("geo");
    let out = run_ok(install(home.path(), &dir, &file).args(["--integrity", &sri(&tgz)]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("installed @ip-location-db/asn 9.9.9"),
        "{stdout}"
    );
    assert!(stdout.contains("sha512 verified"), "{stdout}");
    assert!(stdout.contains("AS15169 Google LLC"), "{stdout}");
    let pkg = dir.join("asn");
    assert!(pkg.join("asn-ipv4.csv").is_file());
    assert!(pkg.join("DBIP-LICENSE").is_file(), "licence kept");
    assert!(
        !pkg.join("asn-ipv4-num.csv").exists(),
        "numeric duplicate dropped"
    );
    assert!(!pkg.join("ignored.js").exists());
    let inst: Value =
        serde_json::from_slice(&std::fs::read(pkg.join("INSTALLED.json")).unwrap()).unwrap();
    assert_eq!(inst["verified"], true);
    assert_eq!(inst["integrity"], sri(&tgz));
    // Status shows it; lookups use it; a second install replaces it in place.
    let out = detector(home.path())
        .args(["geo", "status", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("@ip-location-db/asn 9.9.9") && text.contains("DBIP-LICENSE"),
        "{text}"
    );
    let out = detector(home.path())
        .env("DETECTOR_GEO", &dir)
        .args(["geo", "lookup", "--json", "1.1.1.1"])
        .output()
        .unwrap();
    assert_eq!(json_lines(&out.stdout)[0]["asn"], 13335);
    let out = run_ok(&mut install(home.path(), &dir, &file));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not verified"));
    // A plain MaxMind file installs under local/.
    let country = fixtures().join("mmdb/fixture-country.mmdb");
    run_ok(&mut install(home.path(), &dir, &country));
    assert!(dir.join("local/fixture-country.mmdb").is_file());
}

#[test]
fn install_refuses_a_tarball_whose_integrity_does_not_match() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let tgz = asn_package();
    let file = work.path().join("asn.tgz");
    std::fs::write(&file, &tgz).unwrap();
    let dir = work.path().join("geo");
    let wrong = sri(b"something else");
    let out = install(home.path(), &dir, &file)
        .args(["--integrity", &wrong])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("integrity mismatch") && err.contains(&wrong),
        "{err}"
    );
    assert!(!dir.join("asn").exists(), "nothing installed");
    // Not a tarball with data at all.
    let junk = work.path().join("junk.tgz");
    std::fs::write(&junk, tarball(&[("README.md", b"hello")])).unwrap();
    let out = install(home.path(), &dir, &junk).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no ip-location-db"));
}

#[test]
fn install_without_npm_explains_the_manual_way() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = detector(home.path())
        .args(["geo", "install", "--npm", "/nonexistent/npm", "--dir"])
        .arg(work.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot run `/nonexistent/npm`"), "{err}");
    assert!(
        err.contains("npm pack @ip-location-db/asn") && err.contains("--from"),
        "{err}"
    );
}
