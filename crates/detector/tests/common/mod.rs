//! Helpers shared by the CLI integration tests: running the real binary and reading what it
//! prints. Each test file uses only some of them.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The `detector` binary, with the caller's environment.
pub fn detector() -> Command {
    Command::cargo_bin("detector").unwrap()
}

/// A quiet scan into a state store, printing OCSF: the store's path goes next.
pub const SCAN_OCSF_STATE: [&str; 6] = [
    "scan",
    "--no-progress",
    "--quiet",
    "--format",
    "ocsf",
    "--state",
];

/// Runs `cmd` and fails the test (showing stderr) unless it exits 0.
pub fn run_ok(cmd: &mut Command) -> Output {
    cmd.assert().success().get_output().clone()
}

/// Stdout of `cmd`, which must exit 0.
pub fn stdout_ok(cmd: &mut Command) -> String {
    String::from_utf8(run_ok(cmd).stdout).unwrap()
}

/// One JSON value per line; any other line fails the test.
pub fn json_lines(out: &[u8]) -> Vec<Value> {
    std::str::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The JSON lines of a file the binary wrote.
pub fn read_json_lines(path: &Path) -> Vec<Value> {
    json_lines(&std::fs::read(path).unwrap())
}

/// Writes `records` (CloudTrail record objects as JSON text) as one CloudTrail log file.
pub fn write_records(path: &Path, records: &[String]) {
    std::fs::write(path, format!(r#"{{"Records":[{}]}}"#, records.join(","))).unwrap();
}

/// Findings (`--format jsonl`, every severity) of a scan of `logs` that keeps no state.
pub fn scan_jsonl(logs: &Path, config: &Path) -> Vec<Value> {
    json_lines(
        stdout_ok(
            detector()
                .args(["scan", "--ephemeral", "--format", "jsonl"])
                .args(["--min-severity", "info", "--config"])
                .arg(config)
                .arg(logs),
        )
        .as_bytes(),
    )
}

/// `detector evaluate --json` of `findings` against `truth`: the report, whatever the exit code.
pub fn evaluate_report(truth: &Path, findings: &Path) -> Value {
    let out = detector()
        .args(["evaluate", "--json", "--truth"])
        .arg(truth)
        .arg(findings)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The array at `v` as strings.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}
