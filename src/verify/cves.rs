//! Known vulnerabilities in the built images, counted by the scanner the machine already has
//! (trivy or grype), with its own database: harden adds flags that keep it offline and never
//! one that downloads. A missing scanner or a stale database is reported, never a failed proof.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::engine::{output_within, tail};

/// Which scanner to use (`--cve-scanner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScannerChoice {
    /// The first of trivy and grype found on `PATH`.
    #[default]
    Auto,
    /// Aqua Security's trivy.
    Trivy,
    /// Anchore's grype.
    Grype,
    /// No CVE counts.
    None,
}

/// A scanner found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanner {
    /// `trivy` or `grype`.
    pub name: &'static str,
    /// Its executable.
    pub bin: PathBuf,
    /// Its version, as it reports it.
    pub version: String,
    /// When its vulnerability database was built or updated, as it reports it.
    pub database: Option<String>,
}

/// The vulnerabilities one scanner found in one image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cves {
    /// The scanner that counted them.
    pub scanner: String,
    /// Its version.
    pub version: String,
    /// Its database's date, when it says.
    pub database: Option<String>,
    /// Findings by severity (`critical`, `high`, `medium`, `low`, `unknown`, lower case).
    pub counts: BTreeMap<String, u64>,
    /// The sum of the counts.
    pub total: u64,
}

/// The scanner `choice` names, found on `PATH`; `Err` says plainly why there is none.
pub fn find(choice: ScannerChoice) -> Result<Scanner, String> {
    find_in(choice, &std::env::var_os("PATH").unwrap_or_default())
}

/// The scanner `choice` names, found in the directories of `path` (a `PATH` value).
pub fn find_in(choice: ScannerChoice, path: &std::ffi::OsStr) -> Result<Scanner, String> {
    let names: &[&'static str] = match choice {
        ScannerChoice::Auto => &["trivy", "grype"],
        ScannerChoice::Trivy => &["trivy"],
        ScannerChoice::Grype => &["grype"],
        ScannerChoice::None => return Err("no CVE scanner: --cve-scanner none".into()),
    };
    let found = names.iter().find_map(|name| on_path(name, path).map(|bin| (*name, bin)));
    let Some((name, bin)) = found else {
        return Err(format!(
            "no CVE scanner: {} not found on PATH, so no CVE counts (install one to see them)",
            names.join(" or ")
        ));
    };
    let (version, database) = match name {
        "trivy" => {
            let out = run(&bin, &["version", "--format", "json"], &[])?;
            let v: Value = serde_json::from_str(&out).map_err(|e| format!("trivy version: {e}"))?;
            (text(&v["Version"]), v["VulnerabilityDB"]["UpdatedAt"].as_str().map(str::to_string))
        }
        _ => {
            let out = run(&bin, &["version", "-o", "json"], GRYPE_OFFLINE)?;
            let v: Value = serde_json::from_str(&out).map_err(|e| format!("grype version: {e}"))?;
            let status = run(&bin, &["db", "status", "-o", "json"], GRYPE_OFFLINE)
                .ok()
                .and_then(|s| serde_json::from_str::<Value>(&s).ok());
            (text(&v["version"]), status.and_then(|s| s["built"].as_str().map(str::to_string)))
        }
    };
    Ok(Scanner { name, bin, version, database })
}

/// grype without its update checks (harden never asks a scanner to download).
const GRYPE_OFFLINE: &[(&str, &str)] = &[("GRYPE_DB_AUTO_UPDATE", "false"), ("GRYPE_CHECK_FOR_APP_UPDATE", "false")];

impl Scanner {
    /// Counts the vulnerabilities in `image` (a tag on the local engine).
    pub fn scan(&self, image: &str) -> Result<Cves, String> {
        let counts = match self.name {
            "trivy" => {
                let args = [
                    "image",
                    "--skip-db-update",
                    "--skip-java-db-update",
                    "--offline-scan",
                    "--scanners",
                    "vuln",
                    "--format",
                    "json",
                    "--quiet",
                    image,
                ];
                trivy_counts(&run(&self.bin, &args, &[])?)?
            }
            _ => grype_counts(&run(&self.bin, &[&format!("docker:{image}"), "-o", "json", "-q"], GRYPE_OFFLINE)?)?,
        };
        let total = counts.values().sum();
        Ok(Cves {
            scanner: self.name.to_string(),
            version: self.version.clone(),
            database: self.database.clone(),
            counts,
            total,
        })
    }
}

/// Severity counts from trivy's JSON report (`Results[].Vulnerabilities[].Severity`; schema 2,
/// or the bare list of schema 1).
pub fn trivy_counts(json: &str) -> Result<BTreeMap<String, u64>, String> {
    let report: Value = serde_json::from_str(json).map_err(|e| format!("trivy's report is not JSON: {e}"))?;
    let results = report.get("Results").unwrap_or(&report);
    let severities = results
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Vulnerabilities"].as_array().into_iter().flatten())
        .map(|v| v["Severity"].as_str().unwrap_or("unknown"));
    Ok(tally(severities))
}

/// Severity counts from grype's JSON report (`matches[].vulnerability.severity`).
pub fn grype_counts(json: &str) -> Result<BTreeMap<String, u64>, String> {
    let report: Value = serde_json::from_str(json).map_err(|e| format!("grype's report is not JSON: {e}"))?;
    let matches = report["matches"].as_array().ok_or("grype's report has no matches list")?;
    Ok(tally(matches.iter().map(|m| m["vulnerability"]["severity"].as_str().unwrap_or("unknown"))))
}

fn tally<'a>(severities: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for severity in severities {
        let severity = match severity.to_ascii_lowercase().as_str() {
            s @ ("critical" | "high" | "medium" | "low") => s.to_string(),
            "negligible" => "low".to_string(),
            _ => "unknown".to_string(),
        };
        *counts.entry(severity).or_insert(0) += 1;
    }
    counts
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("unknown").to_string()
}

fn on_path(name: &str, path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// How long a scanner may take for one image (its own start-up and database included).
const SCAN_LIMIT: Duration = Duration::from_secs(600);

/// Runs the scanner, at most [`SCAN_LIMIT`]; its standard output, or the end of its error output.
fn run(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let mut command = Command::new(bin);
    command.args(args).envs(env.iter().copied());
    let what = format!("{} {}", bin.display(), args.first().unwrap_or(&""));
    let finished = output_within(&mut command, SCAN_LIMIT).map_err(|e| format!("{what} cannot run: {e}"))?;
    match finished.status {
        Some(status) if status.success() => Ok(finished.stdout),
        Some(_) => Err(format!("{what} failed: {}", tail(&finished.stderr, 3))),
        None => Err(format!("{what} took longer than {} s and was stopped", SCAN_LIMIT.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_trivy_reports_of_both_schemas() {
        let v2 = r#"{"SchemaVersion":2,"Results":[{"Target":"x (debian 12)","Vulnerabilities":[
            {"VulnerabilityID":"CVE-1","Severity":"HIGH"},{"VulnerabilityID":"CVE-2","Severity":"LOW"},
            {"VulnerabilityID":"CVE-3","Severity":"HIGH"}]},{"Target":"app","Vulnerabilities":null}]}"#;
        let counts = trivy_counts(v2).unwrap();
        assert_eq!(counts.get("high"), Some(&2));
        assert_eq!(counts.get("low"), Some(&1));
        let v1 = r#"[{"Target":"alpine:3.10","Vulnerabilities":[{"Severity":"CRITICAL"}]}]"#;
        assert_eq!(trivy_counts(v1).unwrap().get("critical"), Some(&1));
        assert!(trivy_counts("not json").is_err());
    }

    #[test]
    fn counts_grype_reports() {
        let report = r#"{"matches":[{"vulnerability":{"id":"CVE-1","severity":"Medium"}},
            {"vulnerability":{"id":"CVE-2","severity":"Negligible"}},{"vulnerability":{"id":"CVE-3"}}],
            "descriptor":{"name":"grype","version":"0.80.0"}}"#;
        let counts = grype_counts(report).unwrap();
        assert_eq!(counts.get("medium"), Some(&1));
        assert_eq!(counts.get("low"), Some(&1));
        assert_eq!(counts.get("unknown"), Some(&1));
        assert!(grype_counts("{}").is_err());
    }

    #[test]
    fn says_plainly_when_no_scanner_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let why = find_in(ScannerChoice::Auto, dir.path().as_os_str()).unwrap_err();
        assert_eq!(why, "no CVE scanner: trivy or grype not found on PATH, so no CVE counts (install one to see them)");
        assert!(find(ScannerChoice::None).unwrap_err().contains("--cve-scanner none"));
    }
}
