//! SARIF 2.1.0 output that GitHub code scanning accepts.

use serde_json::{Value, json};

use crate::rules::{self, Severity};
use crate::run::{FileReport, Status};

/// The SARIF log for `reports`: every rule of the catalogue, one result per finding, and a
/// tool notification for every file that could not be read or parsed. `category` names the run
/// for code scanning (`runs[].automationDetails.id` is `CATEGORY/`), so uploads of several
/// scans of one repository do not replace each other.
pub fn sarif(reports: &[FileReport], category: &str) -> String {
    let rules: Vec<Value> = rules::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": format!("{} Fix: {}", r.summary, r.fix) },
                "help": { "text": r.fix },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "tags": ["security", "container"] },
            })
        })
        .collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|report| {
            report.findings.iter().map(move |f| {
                json!({
                    "ruleId": f.rule,
                    "ruleIndex": rules::ALL.iter().position(|r| r.id == f.rule),
                    "level": level(f.severity),
                    "message": { "text": f.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": report.path },
                            "region": { "startLine": f.line.max(1) },
                        }
                    }],
                })
            })
        })
        .collect();
    let notifications: Vec<Value> = reports
        .iter()
        .filter(|r| r.status == Status::Error)
        .map(|r| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", r.path, r.reason.as_deref().unwrap_or("error")) },
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "automationDetails": { "id": format!("{}/", category.trim_end_matches('/')) },
            "tool": { "driver": {
                "name": "harden",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{ "executionSuccessful": true, "toolExecutionNotifications": notifications }],
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}
