//! Looking at one repository without cloning it: its tree (one conditional request; a free
//! `304` when nothing changed since the last sweep), then, where the tree holds something to
//! harden, the few blobs the analysis needs, run through the same engine `harden fix` uses. Only
//! a repository whose files would get a security change, or where harden already has a branch,
//! goes on to the `harden pr` flow (clone, fix, prove, propose).

use std::path::Path;

use anyhow::Context;
use base64::Engine as _;
use serde_json::Value;

use crate::config::{Config, ProposeScope};
use crate::dockerfile;
use crate::forge::github::{Conditional, GitHub};
use crate::kubernetes;
use crate::outcome::Outcome;
use crate::source::{GoMod, SourceFacts};
use crate::store::Store;

use super::candidates::{self, Candidates};

/// The most requests a truncated tree may cost to list in parts.
const SUBTREE_BUDGET: usize = 200;

/// A repository's tree, as the last and this sweep saw it.
pub enum Tree {
    /// The same as last time (`304`).
    Unchanged,
    /// No tree: the branch does not exist (an empty repository).
    Missing,
    /// The tree, with its SHA and the ETag for next time.
    Fresh {
        /// What could be hardened there.
        candidates: Candidates,
        /// The tree's SHA.
        sha: String,
        /// Its ETag.
        etag: Option<String>,
    },
}

/// Reads the tree of `branch`, conditionally on `etag`.
pub async fn tree(gh: &GitHub, full_name: &str, branch: &str, etag: Option<&str>) -> anyhow::Result<Tree> {
    let route = format!("/repos/{full_name}/git/trees/{branch}?recursive=1");
    let (body, etag) = match gh.get_if_changed(&route, etag).await? {
        Conditional::NotModified => return Ok(Tree::Unchanged),
        Conditional::Fresh(None, _) => return Ok(Tree::Missing),
        Conditional::Fresh(Some(body), etag) => (body, etag),
    };
    let sha = body["sha"].as_str().unwrap_or_default().to_string();
    let mut entries: Vec<Value> = body["tree"].as_array().cloned().unwrap_or_default();
    if body["truncated"] == true {
        entries = whole_tree(gh, full_name, &sha).await?;
    }
    Ok(Tree::Fresh { candidates: candidates::from_tree(&entries), sha, etag })
}

/// A tree GitHub truncated, listed directory by directory (each a request, within a budget).
async fn whole_tree(gh: &GitHub, full_name: &str, root: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut pending = vec![(String::new(), root.to_string())];
    let mut spent = 0;
    while let Some((prefix, sha)) = pending.pop() {
        spent += 1;
        if spent > SUBTREE_BUDGET {
            anyhow::bail!("the tree is too large to list ({SUBTREE_BUDGET} directories)");
        }
        let listed = gh.get_at(&format!("/repos/{full_name}/git/trees/{sha}")).await?.unwrap_or(Value::Null);
        for entry in listed["tree"].as_array().into_iter().flatten() {
            let path = format!("{prefix}{}", entry["path"].as_str().unwrap_or_default());
            match entry["type"].as_str() {
                Some("tree") => {
                    pending.push((format!("{path}/"), entry["sha"].as_str().unwrap_or_default().to_string()))
                }
                _ => {
                    let mut entry = entry.clone();
                    entry["path"] = Value::String(path);
                    out.push(entry);
                }
            }
        }
    }
    Ok(out)
}

/// A blob's text (`None` when it is not UTF-8).
pub async fn blob(gh: &GitHub, full_name: &str, sha: &str) -> anyhow::Result<Option<String>> {
    let body = gh.get_at(&format!("/repos/{full_name}/git/blobs/{sha}")).await?.context("the blob is gone")?;
    decode(&body)
}

/// A blob's (or a file's) base64 content as text (`None` when it is not UTF-8).
fn decode(body: &Value) -> anyhow::Result<Option<String>> {
    let content: String = body["content"].as_str().unwrap_or_default().split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(content).context("a blob's base64")?;
    Ok(String::from_utf8(bytes).ok())
}

/// True when a file of `candidates` would get a change `harden pr` proposes (a security change,
/// or any with `propose: all`). Reads only the blobs it needs, and stops at the first such file.
pub async fn would_change(
    gh: &GitHub,
    full_name: &str,
    candidates: &Candidates,
    config: &Config,
) -> anyhow::Result<bool> {
    let proposes = |outcome: Outcome| match outcome {
        Outcome::Hardened { rewritten: Some(_), security, .. } => security || config.propose == ProposeScope::All,
        _ => false,
    };
    for file in &candidates.dockerfiles {
        let Some(text) = blob(gh, full_name, &file.sha).await? else { continue };
        let source = source_facts(gh, full_name, candidates, &file.path).await?;
        if dockerfile::harden(&text, &source, config).is_ok_and(proposes) {
            return Ok(true);
        }
    }
    for file in &candidates.manifests {
        let Some(text) = blob(gh, full_name, &file.sha).await? else { continue };
        let outcome = match candidates.chart_templates(&file.path) {
            Some(entries) => {
                let mut templates = Vec::new();
                for (path, entry) in entries {
                    templates.extend(blob(gh, full_name, &entry.sha).await?.map(|text| (path, text)));
                }
                let dir = file.path.rsplit_once('/').map_or(String::new(), |(dir, _)| format!("{dir}/"));
                // The chart's tests, read only where it goes on to `harden pr`, may still hold it back.
                let guard = match candidates.file(&format!("{dir}values.schema.json")) {
                    Some(schema) => Some(kubernetes::chart::Guard::Schema(blob(gh, full_name, &schema.sha).await?)),
                    None => None,
                };
                kubernetes::chart::harden(&text, &templates, &[], guard.as_ref(), config, &Default::default())
            }
            None => kubernetes::harden(&text, config),
        };
        if outcome.is_ok_and(proposes) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What the tree tells of a Dockerfile's build context (the nearest directory up with a
/// `go.mod`): the module (its blob read), `go.sum`, vendoring. The Go source itself is not read
/// here: the `harden pr` flow reads it in the clone before anything is proposed.
async fn source_facts(
    gh: &GitHub,
    full_name: &str,
    candidates: &Candidates,
    dockerfile: &str,
) -> anyhow::Result<SourceFacts> {
    let mut dir = Path::new(dockerfile).parent().map(Path::to_path_buf).unwrap_or_default();
    loop {
        let at = |name: &str| {
            let path = dir.join(name);
            path.to_str().map(str::to_string).unwrap_or_default()
        };
        if let Some(go_mod) = candidates.file(&at("go.mod")) {
            let text = blob(gh, full_name, &go_mod.sha).await?.unwrap_or_default();
            return Ok(SourceFacts {
                available: true,
                go_mod: Some(GoMod::parse(&text)),
                has_go_sum: candidates.paths.contains(&at("go.sum")),
                vendored: candidates.paths.contains(&at("vendor/modules.txt")),
                ..SourceFacts::default()
            });
        }
        if !dir.pop() {
            return Ok(SourceFacts::default());
        }
    }
}

/// The configuration that applies to a repository: its own (when the organisation lets it
/// override) or the organisation's, and whether the repository takes part in the sweep.
pub async fn config(
    gh: &GitHub,
    full_name: &str,
    candidates: &Candidates,
    org: Option<&(String, Config)>,
) -> anyhow::Result<(Config, bool)> {
    let own = match &candidates.config {
        Some(file) => {
            let text = blob(gh, full_name, &file.sha).await?.unwrap_or_default();
            Some(Config::from_yaml(&text, Path::new(&file.path)).map_err(|e| anyhow::anyhow!("{e}"))?)
        }
        None => None,
    };
    let overrides = org.is_none_or(|(_, c)| c.sweep.overrides);
    let mode = org.map(|(_, c)| c.sweep.mode).unwrap_or_default();
    let chosen = own.as_ref().and_then(|c| c.sweep.enabled).filter(|_| overrides);
    let enabled = match mode {
        crate::config::SweepMode::OptOut => chosen != Some(false),
        crate::config::SweepMode::OptIn => chosen == Some(true),
    };
    Ok(match (own, org) {
        (Some(config), _) if overrides => (config, enabled),
        (_, Some((_, config))) => (config.clone(), enabled),
        _ => (Config::default(), enabled),
    })
}

/// The organisation's configuration, from its `.github` repository (`harden.yml`, or
/// `.github/harden.yml` there, on `branch`), as text and parsed; `None` when it has none. Read
/// through the store's cache: free when it did not change.
pub async fn org_config(
    gh: &GitHub,
    store: &dyn Store,
    org: &str,
    branch: &str,
) -> anyhow::Result<Option<(String, Config)>> {
    let full_name = format!("{org}/.github");
    let route = format!("/repos/{full_name}/git/trees/{branch}?recursive=1");
    let Some((tree, _)) = cached(gh, store, &route, &route).await? else { return Ok(None) };
    let entries = tree["tree"].as_array().cloned().unwrap_or_default();
    for path in ["harden.yml", "harden.yaml", ".github/harden.yml", ".github/harden.yaml"] {
        let Some(entry) = entries.iter().find(|e| e["path"] == path && e["type"] == "blob") else { continue };
        let route = format!("/repos/{full_name}/git/blobs/{}", entry["sha"].as_str().unwrap_or_default());
        let (body, _) = cached(gh, store, &route, &route).await?.context("the configuration's blob is gone")?;
        let text = decode(&body)?.context("the organisation's configuration is not UTF-8")?;
        // A typed error: the command line tells a wrong configuration (exit 2) from a forge failure.
        let config = Config::from_yaml(&text, Path::new(&format!("{full_name}/{path}")))?;
        return Ok(Some((text, config)));
    }
    Ok(None)
}

/// A conditional read through the store's cache (kept under `key`): an unchanged answer is a
/// free `304` and comes from the cache. The answer, and whether it changed; `None` on 404.
pub async fn cached(gh: &GitHub, store: &dyn Store, key: &str, route: &str) -> anyhow::Result<Option<(Value, bool)>> {
    let kept = store.cached(key)?;
    match gh.get_if_changed(route, kept.as_ref().map(|(etag, _)| etag.as_str())).await? {
        Conditional::NotModified => {
            let (_, body) = kept.context("a 304 to a read never made")?;
            Ok(Some((serde_json::from_str(&body)?, false)))
        }
        Conditional::Fresh(None, _) => Ok(None),
        Conditional::Fresh(Some(body), etag) => {
            if let Some(etag) = etag {
                store.save_cached(key, &etag, &body.to_string())?;
            }
            Ok(Some((body, true)))
        }
    }
}
