//! The optional dashboard issue (`pull_request.dashboard_issue: true`): one issue per repository
//! that lists what harden found there, file by file, and its pull request, as Renovate's
//! dependency dashboard does. Found again by a hidden marker, re-read just before it is
//! rewritten (and left alone when it already says the same), never more than one: an extra one
//! carrying the marker (two runs at once) is closed.

use std::fmt::Write;

use serde_json::{Value, json};

use super::pr::Report;
use crate::forge::github::GitHub;
use crate::forge::governor::Request;
use crate::run::Status;

/// The hidden line that marks harden's dashboard issue.
pub const MARKER: &str = "<!-- harden:dashboard -->";

/// The title.
pub const TITLE: &str = "harden: hardening dashboard";

/// The body for what this run found and left (pure).
pub fn body(report: &Report) -> String {
    let mut out = String::from(
        "This issue lists what harden finds in this repository's Go Dockerfiles and Kubernetes manifests. \
         harden keeps it up to date; edits to it are overwritten.\n\n",
    );
    match (&report.pull, report.state) {
        (Some((number, url)), Some(state)) => {
            let _ = writeln!(out, "**Pull request:** [#{number}]({url}) ({state})\n");
        }
        _ => out.push_str("**Pull request:** none open\n\n"),
    }
    let files: Vec<_> = report.files.iter().filter(|f| !f.findings.is_empty() || f.status == Status::Error).collect();
    if files.is_empty() {
        out.push_str("Nothing to report: every file harden reads is hardened.\n");
    }
    for file in files {
        let _ = writeln!(out, "### `{}`\n", file.path);
        if let (Status::Error, Some(reason)) = (file.status, &file.reason) {
            let _ = writeln!(out, "Could not be read: {reason}\n");
        }
        let proposed = report.pull.is_some() && report.proposed.contains(&file.path);
        for finding in &file.findings {
            let done = if finding.fixed && proposed { "x" } else { " " };
            let _ = writeln!(out, "- [{done}] **{}** {} (line {})", finding.rule, finding.message, finding.line);
        }
        out.push('\n');
    }
    out.push_str("Checked items are fixed by the pull request; the others are left, with the reason.\n\n");
    out.push_str(MARKER);
    out.push('\n');
    out
}

/// Opens the dashboard issue, or brings the one there is up to date; its number.
pub async fn sync(gh: &GitHub, body: &str) -> anyhow::Result<u64> {
    let open = gh.list("/issues?state=open").await?;
    let mut ours: Vec<&Value> = open
        .iter()
        .filter(|i| i.get("pull_request").is_none())
        .filter(|i| i["body"].as_str().is_some_and(|b| b.contains(MARKER)))
        .collect();
    ours.sort_by_key(|i| i["number"].as_u64());
    let Some(first) = ours.first().and_then(|i| i["number"].as_u64()) else {
        let created =
            gh.write(http::Method::POST, "/issues", &json!({"title": TITLE, "body": body}), Request::Content).await?;
        return created["number"].as_u64().ok_or_else(|| anyhow::anyhow!("the new issue has no number"));
    };
    for extra in ours.iter().skip(1).filter_map(|i| i["number"].as_u64()) {
        let closed = json!({"state": "closed", "state_reason": "not_planned"});
        gh.write(http::Method::PATCH, &format!("/issues/{extra}"), &closed, Request::Mutation).await?;
    }
    // Read again just before writing: the listing may be stale, and an unchanged body costs nothing.
    let current = gh.get(&format!("/issues/{first}")).await?.unwrap_or(Value::Null);
    if current["body"].as_str() != Some(body) {
        gh.write(http::Method::PATCH, &format!("/issues/{first}"), &json!({"body": body}), Request::Mutation).await?;
    }
    Ok(first)
}
