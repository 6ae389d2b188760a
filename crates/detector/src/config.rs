//! The configuration file: engine settings and suppression rules, in TOML.
//!
//! Looked up at `--config PATH`, else `$DETECTOR_CONFIG`, else
//! `$XDG_CONFIG_HOME/detector/config.toml` or `~/.config/detector/config.toml` when that exists.
//! No file means defaults: the tool must work with no setup at all.
//!
//! ```toml
//! [engine]
//! learning_days = 7
//!
//! [organization]
//! accounts = ["111122223333"]   # own accounts whose logs are not in the input
//!
//! [incidents]
//! window_ms = 86400000          # largest gap between linked findings
//!
//! [[suppress]]
//! detector = "attack-tool"
//! principal = "arn:aws:iam::*:user/pentest-*"
//! cidr = "203.0.113.0/24"
//! reason = "Q4 penetration test, ticket SEC-1234"
//! expires = "2026-12-31"
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use detector_core::detect::EngineConfig;
use detector_core::feedback::SuppressionRule;
use detector_core::incident::IncidentConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub engine: EngineConfig,
    pub organization: Organization,
    /// How findings are grouped into incidents (`detector incidents`, the demo).
    pub incidents: IncidentConfig,
    pub suppress: Vec<SuppressionRule>,
}

/// What the organization owns, beyond what its logs reveal.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Organization {
    /// Account ids that are the organization's own (sharing with them is not exfiltration).
    /// Accounts whose logs are in the input are recognised without being listed.
    pub accounts: Vec<String>,
}

/// `--config` for the commands that detect.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// Configuration file (TOML: `[engine]` settings, `[[suppress]]` rules). Default:
    /// $DETECTOR_CONFIG, else ~/.config/detector/config.toml when it exists.
    #[arg(long, env = "DETECTOR_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

impl ConfigArgs {
    /// The configuration and where it came from (None: built-in defaults).
    pub fn load(&self) -> anyhow::Result<(Config, Option<PathBuf>)> {
        let path = match &self.config {
            Some(p) => Some(p.clone()),
            None => default_path().filter(|p| p.is_file()),
        };
        match path {
            None => Ok((Config::default(), None)),
            Some(p) => Ok((read(&p)?, Some(p))),
        }
    }
}

fn default_path() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(d) = env("XDG_CONFIG_HOME") {
        return Some(PathBuf::from(d).join("detector").join("config.toml"));
    }
    env("HOME").map(|h| {
        PathBuf::from(h)
            .join(".config")
            .join("detector")
            .join("config.toml")
    })
}

/// Reads and checks a config file; every problem names the file and, for rules, the rule.
pub fn read(path: &Path) -> anyhow::Result<Config> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("config {}", path.display()))
}

pub fn parse(text: &str) -> anyhow::Result<Config> {
    let cfg: Config = toml::from_str(text)?;
    for a in &cfg.organization.accounts {
        if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
            anyhow::bail!("[organization] accounts: `{a}` is not a 12-digit AWS account id");
        }
    }
    for (i, r) in cfg.suppress.iter().enumerate() {
        r.validate()
            .map_err(|e| anyhow::anyhow!("[[suppress]] rule {}: {e}", i + 1))?;
    }
    Ok(cfg)
}

/// Warnings about rules that are valid but no longer apply.
pub fn expired_rules(cfg: &Config, now_ms: i64) -> Vec<String> {
    cfg.suppress
        .iter()
        .enumerate()
        .filter(|(_, r)| r.expired(now_ms))
        .map(|(i, r)| {
            format!(
                "suppression rule {} (\"{}\") expired on {}; it no longer applies",
                i + 1,
                r.reason,
                r.expires.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_rules_and_engine_settings() {
        let c = parse(
            r#"
            [engine]
            learning_days = 3
            [[suppress]]
            detector = "attack-tool"
            cidr = "10.0.0.0/8"
            reason = "pentest"
            expires = "2026-12-31"
            "#,
        )
        .unwrap();
        assert_eq!(c.engine.learning_days, 3);
        assert_eq!(c.engine.z_threshold, EngineConfig::default().z_threshold);
        assert_eq!(c.suppress.len(), 1);
        let late = detector_core::time::parse_iso8601_ms("2027-02-01T00:00:00Z").unwrap();
        assert_eq!(expired_rules(&c, late).len(), 1);
        assert!(expired_rules(&c, 0).is_empty());
    }

    #[test]
    fn bad_rules_and_unknown_keys_are_named() {
        let e = parse("[[suppress]]\nreason = \"x\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("rule 1"), "{e:#}");
        let e = parse("[[suppress]]\ncidr = \"10.0.0.0/99\"\nreason = \"x\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("prefix length"), "{e:#}");
        assert!(parse("[engine]\nlerning_days = 3\n").is_err());
        assert!(
            parse("[[suppress]]\ndetector = \"x\"\n").is_err(),
            "reason required"
        );
    }
}
