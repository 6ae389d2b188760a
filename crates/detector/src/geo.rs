//! IP enrichment data on disk: finds and loads it for the core's [`GeoLookup`].
//!
//! A geo directory holds any mix of
//! - `ip-location-db` CSVs (`asn-ipv4.csv`, `asn-ipv6.csv`, `geo-whois-asn-country-ipv4.csv`,
//!   ..., their `-num` forms, or the simulator's `asn.csv` / `country.csv`), parsed into the
//!   core's range tables;
//! - MaxMind DB files: `@ip-location-db/geo-whois-asn-country-mmdb` (`{"country_code": ..}`),
//!   or a GeoLite2 / GeoIP2 Country, City or ASN database the user supplies.
//!
//! The default directory is `<data dir>/detector/geo` beside the default state store
//! (`$XDG_DATA_HOME` or `~/.local/share`), where `detector geo install` puts the data; `--geo
//! PATH` or `$DETECTOR_GEO` point elsewhere (a directory or a single file). Nothing installed
//! means no enrichment, never an error; a path the user named that holds nothing usable is one.
//!
//! CSV sources come first for a field they cover (they are what `geo install` verified); MMDB
//! files fill in what the CSVs do not know.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use detector_core::geo::{
    GeoDb, GeoDbBuilder, GeoLookup, GeoStats, IpInfo, NetKind, ParseReport, canonical, classify,
};
use maxminddb::{PathElement, Reader};

/// Where IP enrichment comes from, for `scan` and any other command that enriches.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GeoArgs {
    /// IP enrichment data (country, ASN, cloud/VPN kind): a folder from `detector geo install`
    /// or `detector simulate` (`<out>/geo`), or one .mmdb/.csv file. Default: $DETECTOR_GEO,
    /// else `<data dir>/detector/geo` when installed. Enables impossible-travel detection and
    /// OCSF `enrichments` on findings.
    #[arg(long, value_name = "PATH", env = "DETECTOR_GEO")]
    pub geo: Option<PathBuf>,
    /// Use no IP enrichment even when some is installed.
    #[arg(long)]
    pub no_geo: bool,
}

impl GeoArgs {
    pub fn load(&self) -> anyhow::Result<Option<Arc<dyn GeoLookup>>> {
        if self.no_geo {
            return Ok(None);
        }
        load(self.geo.as_deref())
    }
}

/// `<data dir>/detector/geo`, the folder `geo install` fills by default.
pub fn default_dir() -> anyhow::Result<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = env("XDG_DATA_HOME") {
        return Ok(PathBuf::from(d).join("detector").join("geo"));
    }
    if let Some(h) = env("HOME") {
        return Ok(PathBuf::from(h)
            .join(".local")
            .join("share")
            .join("detector")
            .join("geo"));
    }
    bail!("no data directory: pass --geo PATH or set DETECTOR_GEO")
}

/// The path to load: the flag, else `$DETECTOR_GEO`, else the default folder. The flag says
/// whether the user named it (then it must exist).
pub fn resolve(flag: Option<&Path>) -> anyhow::Result<(PathBuf, bool)> {
    if let Some(p) = flag {
        return Ok((p.to_path_buf(), true));
    }
    if let Some(p) = std::env::var_os("DETECTOR_GEO").filter(|v| !v.is_empty()) {
        return Ok((PathBuf::from(p), true));
    }
    Ok((default_dir()?, false))
}

/// Loads enrichment from `path` (or `$DETECTOR_GEO`, or the default folder). `None` when
/// nothing is installed at the default place.
pub fn load(path: Option<&Path>) -> anyhow::Result<Option<Arc<dyn GeoLookup>>> {
    let (p, named) = resolve(path)?;
    if !named && !p.exists() {
        return Ok(None);
    }
    let geo = Geo::open(&p)?;
    if geo.is_empty() {
        if named {
            bail!(
                "{}: no IP enrichment data found (expected ip-location-db .csv or .mmdb files; \
                 see `detector geo install --help`)",
                p.display()
            );
        }
        return Ok(None);
    }
    for w in &geo.report.warnings {
        tracing::warn!("{w}");
    }
    Ok(Some(Arc::new(geo)))
}

/// What a MaxMind database provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MmdbKind {
    Country,
    Asn,
    /// Unknown type: every known field is tried.
    Any,
}

struct Mmdb {
    reader: Reader<Vec<u8>>,
    kind: MmdbKind,
}

impl std::fmt::Debug for Mmdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mmdb").field("kind", &self.kind).finish()
    }
}

const COUNTRY_PATHS: [&[PathElement<'static>]; 3] = [
    &[PathElement::Key("country_code")],
    &[PathElement::Key("country"), PathElement::Key("iso_code")],
    &[
        PathElement::Key("registered_country"),
        PathElement::Key("iso_code"),
    ],
];

impl Mmdb {
    fn country(&self, ip: IpAddr) -> Option<String> {
        if self.kind == MmdbKind::Asn {
            return None;
        }
        let r = self.reader.lookup(ip).ok()?;
        if !r.has_data() {
            return None;
        }
        COUNTRY_PATHS.iter().find_map(|p| {
            r.decode_path::<&str>(p)
                .ok()
                .flatten()
                .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
                .map(str::to_ascii_uppercase)
        })
    }

    fn asn(&self, ip: IpAddr) -> Option<(u32, Option<String>)> {
        if self.kind == MmdbKind::Country {
            return None;
        }
        let r = self.reader.lookup(ip).ok()?;
        let n: u32 = r
            .decode_path(&[PathElement::Key("autonomous_system_number")])
            .ok()
            .flatten()?;
        let org: Option<&str> = r
            .decode_path(&[PathElement::Key("autonomous_system_organization")])
            .ok()
            .flatten();
        Some((n, org.map(str::to_string)))
    }
}

/// One file that was loaded (or not).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceReport {
    pub path: PathBuf,
    /// `asn-csv`, `country-csv`, `mmdb-country`, `mmdb-asn`, `mmdb`.
    pub kind: &'static str,
    pub bytes: u64,
    /// CSV: lines, ranges and skipped lines with the first reasons.
    pub parse: Option<ParseReport>,
    /// MMDB: database type and build time from its metadata.
    pub database_type: Option<String>,
    pub build_epoch: Option<u64>,
}

/// How loading went.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub root: PathBuf,
    pub sources: Vec<SourceReport>,
    /// Ranges dropped because they overlapped an earlier one.
    pub overlaps: u64,
    pub stats: GeoStats,
    /// Bytes of MMDB files, which are read whole into memory.
    pub mmdb_bytes: u64,
    pub load_ms: u64,
    pub warnings: Vec<String>,
}

/// IP enrichment from a geo folder or file.
#[derive(Debug)]
pub struct Geo {
    db: GeoDb,
    mmdbs: Vec<Mmdb>,
    provider: String,
    pub report: LoadReport,
}

/// How a CSV file is read, from its name or, failing that, its first data line.
fn csv_kind(path: &Path, text: &str) -> Option<bool> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.contains("country") {
        return Some(false);
    }
    if name.contains("asn") {
        return Some(true);
    }
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))?;
    // `start,end,cc` has three fields; `start,end,asn,org` four or more (a quoted name may
    // hold commas, which only makes more).
    match line.split(',').count() {
        3 => Some(false),
        n if n >= 4 => Some(true),
        _ => None,
    }
}

/// Data files under `root` (a file, or a folder searched three levels deep), sorted.
fn data_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    if !root.is_dir() {
        bail!("{}: no such file or directory", root.display());
    }
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root).max_depth(3).sort_by_file_name() {
        let e = e.with_context(|| format!("reading {}", root.display()))?;
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        if !e.file_type().is_file() {
            continue;
        }
        // Half-finished installs (`.staging-*`, `.download-*`, `.old-*`) are not data.
        let rel = e.path().strip_prefix(root).unwrap_or(e.path());
        if rel
            .components()
            .any(|c| c.as_os_str().to_str().is_some_and(|s| s.starts_with('.')))
        {
            continue;
        }
        if name.ends_with(".csv") || name.ends_with(".mmdb") {
            out.push(e.into_path());
        }
    }
    // A `-num` CSV repeats its sibling in numbers: load one of the two.
    let has = out.clone();
    out.retain(|p| {
        let s = p.to_string_lossy();
        match s.strip_suffix("-num.csv") {
            Some(stem) => !has
                .iter()
                .any(|q| q.to_string_lossy() == format!("{stem}.csv")),
            None => true,
        }
    });
    Ok(out)
}

impl Geo {
    /// Loads every data file under `root`.
    pub fn open(root: &Path) -> anyhow::Result<Geo> {
        let started = Instant::now();
        let mut report = LoadReport {
            root: root.to_path_buf(),
            ..LoadReport::default()
        };
        let mut b = GeoDbBuilder::new();
        let mut mmdbs = Vec::new();
        let mut names = Vec::new();
        for path in data_files(root)? {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let size = bytes.len() as u64;
            let lower = path.to_string_lossy().to_ascii_lowercase();
            if lower.ends_with(".mmdb") {
                let reader = Reader::from_source(bytes).map_err(|e| {
                    anyhow::anyhow!("{}: not a MaxMind database ({e})", path.display())
                })?;
                let meta = reader.metadata().clone();
                let t = meta.database_type.to_ascii_lowercase();
                let kind = if t.contains("asn") {
                    MmdbKind::Asn
                } else if t.contains("country") || t.contains("city") {
                    MmdbKind::Country
                } else {
                    MmdbKind::Any
                };
                report.mmdb_bytes += size;
                names.push(meta.database_type.clone());
                report.sources.push(SourceReport {
                    path: path.clone(),
                    kind: match kind {
                        MmdbKind::Asn => "mmdb-asn",
                        MmdbKind::Country => "mmdb-country",
                        MmdbKind::Any => "mmdb",
                    },
                    bytes: size,
                    parse: None,
                    database_type: Some(meta.database_type),
                    build_epoch: Some(meta.build_epoch),
                });
                mmdbs.push(Mmdb { reader, kind });
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            let source = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            let Some(asn) = csv_kind(&path, &text) else {
                report.warnings.push(format!(
                    "{}: not an ip-location-db CSV (start,end,asn,org or start,end,country); ignored",
                    path.display()
                ));
                continue;
            };
            let parse = if asn {
                b.add_asn_csv(&text, &source)
            } else {
                b.add_country_csv(&text, &source)
            };
            if parse.skipped > 0 {
                report.warnings.push(format!(
                    "{}: {} of {} lines skipped (first: {})",
                    path.display(),
                    parse.skipped,
                    parse.lines,
                    parse.errors.first().map_or("", String::as_str)
                ));
            }
            names.push(source);
            report.sources.push(SourceReport {
                path: path.clone(),
                kind: if asn { "asn-csv" } else { "country-csv" },
                bytes: size,
                parse: Some(parse),
                database_type: None,
                build_epoch: None,
            });
        }
        let (db, overlaps) = b.build();
        report.overlaps = overlaps;
        report.stats = db.stats();
        report.load_ms = started.elapsed().as_millis() as u64;
        let provider = if names.is_empty() {
            "detector geo".to_string()
        } else {
            format!("detector geo ({})", names.join(", "))
        };
        Ok(Geo {
            db,
            mmdbs,
            provider,
            report,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.db.is_empty() && self.mmdbs.is_empty()
    }
}

impl GeoLookup for Geo {
    fn lookup(&self, ip: IpAddr) -> IpInfo {
        let ip = canonical(ip);
        let mut info = self.db.lookup(ip);
        if info.network == NetKind::Private {
            return info;
        }
        if info.country.is_none() {
            info.country = self.mmdbs.iter().find_map(|m| m.country(ip));
        }
        if info.asn.is_none()
            && let Some((n, org)) = self.mmdbs.iter().find_map(|m| m.asn(ip))
        {
            info.asn = Some(n);
            info.as_org = org.filter(|o| !o.is_empty());
            info.network = classify(ip, Some(n));
        }
        info
    }

    fn provider(&self) -> &str {
        &self.provider
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_kinds_from_names_and_content() {
        let p = Path::new;
        assert_eq!(csv_kind(p("asn-ipv4.csv"), ""), Some(true));
        assert_eq!(
            csv_kind(p("geo-whois-asn-country-ipv4.csv"), ""),
            Some(false)
        );
        assert_eq!(csv_kind(p("x.csv"), "1.0.0.0,1.0.0.255,AU\n"), Some(false));
        assert_eq!(
            csv_kind(p("x.csv"), "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"),
            Some(true)
        );
        assert_eq!(csv_kind(p("x.csv"), "hello\n"), None);
    }

    #[test]
    fn loads_a_folder_and_skips_num_duplicates() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("asn-ipv4.csv"),
            "8.8.8.0,8.8.8.255,15169,Google LLC\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("asn-ipv4-num.csv"),
            "134744064,134744319,15169,Google LLC\n",
        )
        .unwrap();
        std::fs::write(d.path().join("country.csv"), "8.8.8.0,8.8.8.255,US\nbad\n").unwrap();
        let g = Geo::open(d.path()).unwrap();
        assert_eq!(g.report.sources.len(), 2, "{:?}", g.report.sources);
        assert_eq!(g.report.overlaps, 0);
        assert_eq!(g.report.warnings.len(), 1, "{:?}", g.report.warnings);
        let i = g.lookup("8.8.8.8".parse().unwrap());
        assert_eq!(i.country.as_deref(), Some("US"));
        assert_eq!(i.network, NetKind::Cloud("Google"));
        assert!(g.provider().contains("asn-ipv4.csv"));
        assert!(Geo::open(&d.path().join("missing")).is_err());
    }
}
