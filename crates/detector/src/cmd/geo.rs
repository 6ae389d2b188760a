//! `detector geo`: install, inspect and query IP enrichment data.
//!
//! `install` fetches the `ip-location-db` npm packages (CC BY 4.0 data: DB-IP, RouteViews and
//! the RIRs via the NRO) with the user's own `npm` client, checks each tarball's SHA-512
//! against the registry's `dist.integrity`, unpacks the data and licence files into the geo
//! folder, and proves the result loads. `--from` installs tarballs or `.csv` / `.mmdb` files
//! (a MaxMind GeoLite2 database the user is licensed for) without a network.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, bail};
use detector_core::geo::{GeoLookup, IpInfo};
use sha2::{Digest, Sha512};

use crate::geo::{Geo, GeoArgs, resolve};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: GeoCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum GeoCommand {
    /// Fetch (npm registry), verify and install ip-location-db data, or install local files.
    Install(InstallArgs),
    /// Country, autonomous system, organisation and network kind of addresses.
    Lookup(LookupArgs),
    /// What is installed: packages, versions, dates, files, licences, ranges and memory.
    Status(StatusArgs),
}

/// Packages `install` fetches by default: IP to ASN (CSV) and IP to country (MMDB).
pub const DEFAULT_PACKAGES: &[&str] = &[
    "@ip-location-db/asn",
    "@ip-location-db/geo-whois-asn-country-mmdb",
];

#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Folder to install into. Default: $DETECTOR_GEO, else `<data dir>/detector/geo`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Install local files instead of fetching: npm tarballs (.tgz) of the ip-location-db
    /// packages, or .csv / .mmdb files (e.g. a MaxMind GeoLite2-Country or -ASN database).
    #[arg(long = "from", value_name = "FILE")]
    pub from: Vec<PathBuf>,
    /// Expected integrity of each --from tarball, in the same order, as the registry gives it
    /// (`npm view NAME dist.integrity`: `sha512-...`).
    #[arg(long, value_name = "SRI")]
    pub integrity: Vec<String>,
    /// npm packages to fetch, `NAME` or `NAME@VERSION` (repeatable). Default:
    /// @ip-location-db/asn and @ip-location-db/geo-whois-asn-country-mmdb. The CSV country
    /// package @ip-location-db/geo-whois-asn-country works too.
    #[arg(long = "package", value_name = "NAME")]
    pub packages: Vec<String>,
    /// The npm client to run.
    #[arg(long, default_value = "npm", env = "DETECTOR_NPM", value_name = "PATH")]
    pub npm: String,
}

#[derive(clap::Args, Debug)]
pub struct LookupArgs {
    /// Addresses to look up.
    #[arg(required = true, value_name = "IP")]
    pub ips: Vec<String>,
    #[command(flatten)]
    pub geo: GeoArgs,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Folder or file to inspect. Default: $DETECTOR_GEO, else `<data dir>/detector/geo`.
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Also measure lookups per second on a million pseudo-random IPv4 addresses.
    #[arg(long)]
    pub bench: bool,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        GeoCommand::Install(a) => install(a),
        GeoCommand::Lookup(a) => lookup(a),
        GeoCommand::Status(a) => status(a),
    }
}

// ----------------------------------------------------------------------------------------
// install

const MANUAL: &str = "To install without network here: on a machine with npm and network run
    npm view @ip-location-db/asn dist.integrity        (note the sha512-... value)
    npm pack @ip-location-db/asn                       (writes ip-location-db-asn-<version>.tgz)
  and the same for @ip-location-db/geo-whois-asn-country-mmdb, copy the .tgz files here, then
    detector geo install --from ip-location-db-asn-<version>.tgz --integrity sha512-... \\
                         --from ip-location-db-geo-whois-asn-country-mmdb-<version>.tgz --integrity sha512-...
  A MaxMind GeoLite2-Country.mmdb / GeoLite2-ASN.mmdb you downloaded under your own MaxMind
  licence installs the same way: detector geo install --from GeoLite2-ASN.mmdb";

/// Largest file taken from a tarball, and largest total: the real packages unpack to 65 MB.
const MAX_FILE: u64 = 1 << 30;
const MAX_TOTAL: u64 = 2 << 30;

/// `sha512-<base64>` of `bytes`, as npm writes integrity.
pub fn sri_sha512(bytes: &[u8]) -> String {
    format!("sha512-{}", base64(&Sha512::digest(bytes)))
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether `bytes` match an SRI string (space-separated; only sha512 entries are checked,
/// and at least one must be there).
fn integrity_matches(expected: &str, actual_sri: &str) -> anyhow::Result<bool> {
    let wanted: Vec<&str> = expected
        .split_whitespace()
        .filter(|s| s.starts_with("sha512-"))
        .collect();
    if wanted.is_empty() {
        bail!("integrity `{expected}` has no sha512- value (npm's dist.integrity does)");
    }
    // Options (`?foo`) may follow the hash in SRI.
    Ok(wanted
        .iter()
        .any(|w| w.split('?').next() == Some(actual_sri)))
}

/// One installed package, as `INSTALLED.json` records it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Installed {
    pub package: String,
    pub version: String,
    #[serde(default)]
    pub license: Option<String>,
    /// SHA-512 of what was installed, SRI form.
    pub integrity: String,
    /// Whether it was checked against an expected value (registry or --integrity).
    pub verified: bool,
    /// Registry tarball URL or local path.
    pub source: String,
    pub installed_at: String,
    pub files: Vec<(String, u64)>,
}

fn is_licence(name: &str) -> bool {
    let u = name.to_ascii_uppercase();
    u.contains("LICENSE")
        || u.contains("LICENCE")
        || u.contains("NOTICE")
        || u == "MODIFICATIONS"
        || u == "README.MD"
        || u == "PACKAGE.JSON"
}

fn is_data(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    (l.ends_with(".csv") && !l.ends_with("-num.csv")) || l.ends_with(".mmdb")
}

/// A safe folder name for a package: `@ip-location-db/asn` -> `asn`.
fn short_name(package: &str) -> String {
    let base = package.rsplit('/').next().unwrap_or(package);
    let s: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() { "package".into() } else { s }
}

/// Unpacks the data and licence files of an npm tarball into `dest` (plain file names only;
/// nothing outside `dest` can be written). Returns package.json's parsed content.
fn unpack(tgz: &[u8], dest: &Path) -> anyhow::Result<serde_json::Value> {
    let gz = flate2::read::GzDecoder::new(tgz);
    let mut ar = tar::Archive::new(gz);
    let mut total = 0u64;
    let mut meta = serde_json::Value::Null;
    for entry in ar.entries().context("not a tar.gz archive")? {
        let mut entry = entry.context("reading the archive")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .context("bad path in the archive")?
            .into_owned();
        let mut comps = path.components();
        // npm tarballs put everything under `package/`; only its direct files are taken.
        let (Some(_), Some(std::path::Component::Normal(name)), None) =
            (comps.next(), comps.next(), comps.next())
        else {
            continue;
        };
        let name = name.to_string_lossy().to_string();
        if !(is_data(&name) || is_licence(&name)) {
            continue;
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        total = total.saturating_add(size);
        if size > MAX_FILE || total > MAX_TOTAL {
            bail!("{name} in the archive is too large ({size} bytes)");
        }
        let mut buf = Vec::with_capacity(size as usize);
        entry
            .by_ref()
            .take(MAX_FILE)
            .read_to_end(&mut buf)
            .with_context(|| format!("unpacking {name}"))?;
        if name == "package.json" {
            meta = serde_json::from_slice(&buf).unwrap_or(serde_json::Value::Null);
        }
        std::fs::write(dest.join(&name), &buf)
            .with_context(|| format!("writing {}", dest.join(&name).display()))?;
    }
    // The MMDB package ships IPv4-only, IPv6-only and combined files: keep the combined one.
    let files: Vec<String> = std::fs::read_dir(dest)?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .collect();
    for f in &files {
        for fam in ["-ipv4.mmdb", "-ipv6.mmdb"] {
            if let Some(stem) = f.strip_suffix(fam)
                && files.contains(&format!("{stem}.mmdb"))
            {
                std::fs::remove_file(dest.join(f))?;
            }
        }
    }
    Ok(meta)
}

fn file_list(dir: &Path) -> anyhow::Result<Vec<(String, u64)>> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                e.metadata().map_or(0, |m| m.len()),
            )
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Moves `staging` to `target`, replacing what was there only once the new copy is complete.
fn replace_dir(staging: &Path, target: &Path) -> anyhow::Result<()> {
    let old = target.with_file_name(format!(
        ".old-{}",
        target
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().to_string())
    ));
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if target.exists() {
        std::fs::rename(target, &old)
            .with_context(|| format!("moving {} aside", target.display()))?;
    }
    std::fs::rename(staging, target).with_context(|| format!("installing {}", target.display()))?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}

/// Verifies and installs one tarball. `expected` is the integrity to check against.
fn install_tarball(
    dir: &Path,
    bytes: &[u8],
    expected: Option<&str>,
    source: &str,
) -> anyhow::Result<Installed> {
    let actual = sri_sha512(bytes);
    if let Some(e) = expected
        && !integrity_matches(e, &actual)?
    {
        bail!(
            "integrity mismatch for {source}: expected {e}, got {actual}; the file is corrupt or not the \
             published package. Nothing was installed."
        );
    }
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(dir)
        .with_context(|| format!("creating a folder in {}", dir.display()))?;
    let meta = unpack(bytes, staging.path()).with_context(|| format!("unpacking {source}"))?;
    let package = meta["name"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| {
            Path::new(source)
                .file_stem()
                .map_or_else(|| "package".into(), |s| s.to_string_lossy().to_string())
        });
    let check = Geo::open(staging.path())?;
    if check.is_empty() {
        bail!("{source} ({package}) holds no ip-location-db .csv or .mmdb data");
    }
    let inst = Installed {
        package: package.clone(),
        version: meta["version"].as_str().unwrap_or("?").to_string(),
        license: meta["license"].as_str().map(str::to_string),
        integrity: actual,
        verified: expected.is_some(),
        source: source.to_string(),
        installed_at: crate::store::now_rfc3339(),
        files: file_list(staging.path())?,
    };
    std::fs::write(
        staging.path().join("INSTALLED.json"),
        serde_json::to_vec_pretty(&inst)?,
    )?;
    let target = dir.join(short_name(&package));
    let staged = staging.keep();
    replace_dir(&staged, &target)?;
    Ok(inst)
}

/// Installs a plain `.csv` or `.mmdb` file into `<dir>/local/`.
fn install_file(dir: &Path, path: &Path) -> anyhow::Result<Installed> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .context("--from needs a file")?;
    let check = Geo::open(path)?;
    if check.is_empty() {
        bail!("{}: no IP ranges in it", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let local = dir.join("local");
    std::fs::create_dir_all(&local)?;
    let tmp = local.join(format!(".{name}.part"));
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, local.join(&name))?;
    let inst = Installed {
        package: format!("local/{name}"),
        version: check
            .report
            .sources
            .first()
            .and_then(|s| s.database_type.clone())
            .unwrap_or_else(|| "file".into()),
        license: None,
        integrity: sri_sha512(&bytes),
        verified: false,
        source: path.display().to_string(),
        installed_at: crate::store::now_rfc3339(),
        files: vec![(name.clone(), bytes.len() as u64)],
    };
    std::fs::write(
        local.join(format!("{name}.INSTALLED.json")),
        serde_json::to_vec_pretty(&inst)?,
    )?;
    Ok(inst)
}

/// Runs npm; `Err` explains what went wrong in the user's terms.
fn npm(npm: &str, args: &[&str], cwd: &Path) -> anyhow::Result<String> {
    let out = Command::new(npm)
        .args(args)
        .current_dir(cwd)
        .output()
        .map_err(|e| {
            anyhow::anyhow!("cannot run `{npm}` ({e}): npm is needed to fetch the data.\n{MANUAL}")
        })?;
    if !out.status.success() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let detail = serde_json::from_str::<serde_json::Value>(&stdout)
            .ok()
            .and_then(|v| v["error"]["summary"].as_str().map(str::to_string))
            .unwrap_or_else(|| {
                stderr
                    .lines()
                    .filter(|l| !l.contains("npm warn"))
                    .take(4)
                    .collect::<Vec<_>>()
                    .join(" ")
            });
        bail!(
            "`{npm} {}` failed: {detail}\n(offline, or the registry is unreachable?)\n{MANUAL}",
            args.join(" ")
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

fn fetch(args: &InstallArgs, dir: &Path, spec: &str) -> anyhow::Result<Installed> {
    let view = npm(
        &args.npm,
        &[
            "view",
            spec,
            "name",
            "version",
            "dist.tarball",
            "dist.integrity",
            "--json",
        ],
        dir,
    )?;
    let v: serde_json::Value =
        serde_json::from_str(&view).with_context(|| format!("reading `npm view {spec}` output"))?;
    let (Some(name), Some(version), Some(integrity)) = (
        v["name"].as_str(),
        v["version"].as_str(),
        v["dist.integrity"].as_str(),
    ) else {
        bail!("`npm view {spec}` gave no name, version or dist.integrity");
    };
    let tarball = v["dist.tarball"].as_str().unwrap_or(name).to_string();
    eprintln!("fetching {name}@{version} ...");
    let tmp = tempfile::Builder::new()
        .prefix(".download-")
        .tempdir_in(dir)?;
    let pack = npm(
        &args.npm,
        &[
            "pack",
            &format!("{name}@{version}"),
            "--json",
            "--pack-destination",
            &tmp.path().to_string_lossy(),
        ],
        tmp.path(),
    )?;
    let p: serde_json::Value = serde_json::from_str(&pack).context("reading `npm pack` output")?;
    let file = p[0]["filename"]
        .as_str()
        .context("`npm pack` named no file")?;
    // npm names scoped tarballs `scope-name-version.tgz`; trust the file it reports.
    let path = tmp.path().join(file);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    install_tarball(dir, &bytes, Some(integrity), &tarball)
}

fn install(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => resolve(None)?.0,
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    if !args.integrity.is_empty() && args.integrity.len() > args.from.len() {
        bail!("--integrity is given per --from file, in the same order");
    }
    let mut done = Vec::new();
    if args.from.is_empty() {
        let specs: Vec<String> = if args.packages.is_empty() {
            DEFAULT_PACKAGES.iter().map(|s| s.to_string()).collect()
        } else {
            args.packages.clone()
        };
        for spec in &specs {
            done.push(fetch(&args, &dir, spec)?);
        }
    } else {
        for (i, f) in args.from.iter().enumerate() {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            let is_tgz = bytes.starts_with(&[0x1f, 0x8b]);
            let inst = if is_tgz {
                let expected = args.integrity.get(i).map(String::as_str);
                if expected.is_none() {
                    eprintln!(
                        "warning: {} not verified: pass --integrity with `npm view NAME dist.integrity`",
                        f.display()
                    );
                }
                install_tarball(&dir, &bytes, expected, &f.display().to_string())?
            } else {
                if args.integrity.get(i).is_some() {
                    let actual = sri_sha512(&bytes);
                    if !integrity_matches(&args.integrity[i], &actual)? {
                        bail!(
                            "integrity mismatch for {}: expected {}, got {actual}. Nothing was installed.",
                            f.display(),
                            args.integrity[i]
                        );
                    }
                }
                install_file(&dir, f)?
            };
            done.push(inst);
        }
    }
    for i in &done {
        println!(
            "installed {} {} ({}){} -> {}",
            i.package,
            i.version,
            i.files
                .iter()
                .filter(|(n, _)| is_data(n))
                .map(|(n, b)| format!("{n} {}", crate::ingest::human_bytes(*b)))
                .collect::<Vec<_>>()
                .join(", "),
            if i.verified { ", sha512 verified" } else { "" },
            dir.display()
        );
    }
    let geo = Geo::open(&dir)?;
    let s = geo.report.stats;
    println!(
        "loads: {} ASN ranges, {} country ranges, {} MMDB file(s), {} ms",
        s.asn_v4 + s.asn_v6,
        s.country_v4 + s.country_v6,
        geo.report
            .sources
            .iter()
            .filter(|x| x.kind.starts_with("mmdb"))
            .count(),
        geo.report.load_ms
    );
    let mut surprises = 0;
    for (ip, cc, asn) in [
        ("8.8.8.8", "US", 15169),
        ("1.1.1.1", "", 13335),
        ("2001:4860:4860::8888", "", 15169),
    ] {
        let Ok(addr) = ip.parse::<IpAddr>() else {
            continue;
        };
        let i = geo.lookup(addr);
        println!("  check {ip:<22} {}", render(&i));
        let cc_ok = cc.is_empty() || i.country.as_deref() == Some(cc) || i.country.is_none();
        let asn_ok = i.asn.is_none_or(|a| a == asn);
        if !(cc_ok && asn_ok) {
            surprises += 1;
        }
    }
    if surprises > 0 {
        eprintln!(
            "warning: {surprises} well-known address(es) did not resolve as expected; check the data"
        );
    }
    println!(
        "Data licences are kept beside the files (CC BY 4.0: attribute DB-IP, RouteViews, NRO when you \
         show results). `detector geo status` shows what is installed."
    );
    Ok(ExitCode::SUCCESS)
}

// ----------------------------------------------------------------------------------------
// lookup and status

fn render(i: &IpInfo) -> String {
    let country = match (
        &i.country,
        i.country.as_deref().and_then(detector_core::geo::country),
    ) {
        (Some(c), Some(k)) => format!("{c} ({})", k.name),
        (Some(c), None) => c.clone(),
        (None, _) => "-".into(),
    };
    let asn = match (i.asn, &i.as_org) {
        (Some(a), Some(o)) => format!("AS{a} {o}"),
        (Some(a), None) => format!("AS{a}"),
        _ => "-".into(),
    };
    let net = match i.network.provider() {
        Some(p) if i.network.name() != "aws" => format!("{} ({p})", i.network.name()),
        _ => i.network.name().to_string(),
    };
    format!("{country:<24} {asn:<48} {net}")
}

fn lookup(args: LookupArgs) -> anyhow::Result<ExitCode> {
    let Some(geo) = args.geo.load()? else {
        bail!(
            "no IP enrichment installed: run `detector geo install`, or pass --geo PATH (a folder or file)"
        );
    };
    let mut bad = 0;
    for s in &args.ips {
        let Ok(ip) = s.trim().parse::<IpAddr>() else {
            eprintln!("error: `{s}` is not an IP address");
            bad += 1;
            continue;
        };
        let info = geo.lookup(ip);
        if args.json {
            let mut v = info.to_json();
            v["ip"] = serde_json::json!(ip.to_string());
            println!("{v}");
        } else {
            println!("{ip:<40} {}", render(&info));
        }
    }
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Lookups per second on `n` pseudo-random IPv4 addresses (deterministic).
fn bench(geo: &Geo, n: u32) -> f64 {
    let mut x: u32 = 0x9e37_79b9;
    let started = Instant::now();
    let mut found = 0u64;
    for _ in 0..n {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let i = geo.lookup(IpAddr::from(x.to_be_bytes()));
        found += u64::from(i.country.is_some());
    }
    let s = started.elapsed().as_secs_f64().max(1e-9);
    std::hint::black_box(found);
    f64::from(n) / s
}

fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let path = match &args.dir {
        Some(d) => d.clone(),
        None => resolve(None)?.0,
    };
    if !path.exists() {
        println!(
            "nothing installed at {} (run `detector geo install`, or pass --dir)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut installed: Vec<Installed> = Vec::new();
    if path.is_dir() {
        for e in walkdir::WalkDir::new(&path)
            .max_depth(2)
            .sort_by_file_name()
        {
            let e = e?;
            let n = e.file_name().to_string_lossy();
            if e.file_type().is_file()
                && n.ends_with("INSTALLED.json")
                && let Ok(i) = serde_json::from_slice::<Installed>(&std::fs::read(e.path())?)
            {
                installed.push(i);
            }
        }
    }
    let geo = Geo::open(&path)?;
    let rate = args.bench.then(|| bench(&geo, 1_000_000));
    let r = &geo.report;
    if args.json {
        let v = serde_json::json!({
            "path": path,
            "installed": installed,
            "load": r,
            "bytes_per_range": r.stats.bytes_per_range(),
            "lookups_per_second": rate,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("geo data: {}", path.display());
    for i in &installed {
        println!(
            "  {} {}  installed {}  {}",
            i.package,
            i.version,
            i.installed_at,
            if i.verified {
                "sha512 verified"
            } else {
                "not verified"
            }
        );
        if let Some(l) = &i.license {
            println!("    licence: {l}");
        }
        let licences: Vec<&str> = i
            .files
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| is_licence(n) && !n.eq_ignore_ascii_case("package.json"))
            .collect();
        if !licences.is_empty() {
            println!("    licence files: {}", licences.join(", "));
        }
    }
    for s in &r.sources {
        let detail = match (&s.parse, &s.database_type) {
            (Some(p), _) => format!("{} ranges, {} lines skipped", p.ranges, p.skipped),
            (None, Some(t)) => format!(
                "{t}, built {}",
                s.build_epoch
                    .map(|e| detector_core::time::format_iso8601_ms(e as i64 * 1000))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        };
        println!(
            "  {:<13} {:>10}  {}  ({detail})",
            s.kind,
            crate::ingest::human_bytes(s.bytes),
            s.path.display()
        );
    }
    let st = r.stats;
    println!(
        "  ranges: ASN {} IPv4 + {} IPv6, country {} IPv4 + {} IPv6 ({} overlapping dropped); {} AS names",
        st.asn_v4, st.asn_v6, st.country_v4, st.country_v6, r.overlaps, st.as_names
    );
    println!(
        "  memory: {} in range tables ({:.1} bytes/range) + {} of MMDB; loaded in {} ms",
        crate::ingest::human_bytes(st.heap_bytes as u64),
        st.bytes_per_range(),
        crate::ingest::human_bytes(r.mmdb_bytes),
        r.load_ms
    );
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    if let Some(rate) = rate {
        println!("  lookups: {rate:.0}/s (one thread, random IPv4)");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sri_matches_npm() {
        // `printf abc | openssl dgst -sha512 -binary | base64`
        assert_eq!(
            sri_sha512(b"abc"),
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
        );
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        let a = sri_sha512(b"abc");
        assert!(integrity_matches(&format!("sha1-xyz {a}"), &a).unwrap());
        assert!(!integrity_matches("sha512-AAAA", &a).unwrap());
        assert!(integrity_matches("sha1-xyz", &a).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(short_name("@ip-location-db/asn"), "asn");
        assert_eq!(short_name("../../etc"), "etc");
        assert_eq!(short_name("@x/.."), "package");
        assert!(is_data("asn-ipv4.csv") && !is_data("asn-ipv4-num.csv"));
        assert!(is_licence("DBIP-LICENSE") && is_licence("NRO_LICENSE"));
    }
}
