//! Where a sweep's repositories come from: one connection to the forge per organisation (or per
//! App installation), what each lists (read through the store's cache of conditional answers),
//! and each owner's configuration from its `.github` repository.

use serde_json::Value;

use crate::forge::github::{Auth, GitHub, Scope};
use crate::store::Store;

use super::{Options, Source, Usage, look};

/// One connection to the forge and what it lists.
pub struct Connection {
    /// The client, scoped to these repositories.
    pub gh: GitHub,
    /// Whose repositories (an organisation, an installation's account), for the cache's keys.
    account: String,
    listing: Listing,
}

/// How a connection lists its repositories.
enum Listing {
    /// An organisation's, `GET /orgs/{org}/repos`.
    Org,
    /// An installation's, `GET /installation/repositories`.
    Installation,
    /// The ones a file names, each read on its own.
    Named(Vec<String>),
}

impl Connection {
    /// The repositories (GitHub's objects), page by page through the store's cache: an unchanged
    /// page is a free `304`.
    pub async fn list(&self, store: &dyn Store) -> anyhow::Result<Vec<Value>> {
        let pages = |route: String| {
            (1..=1000).map(move |page| {
                format!("{route}{}per_page=100&page={page}", if route.contains('?') { '&' } else { '?' })
            })
        };
        let (routes, wrapped): (Box<dyn Iterator<Item = String>>, bool) = match &self.listing {
            Listing::Org => (Box::new(pages(format!("/orgs/{}/repos?type=all", self.account))), false),
            // Paged inside an object: {"total_count", "repositories": […]}.
            Listing::Installation => (Box::new(pages("/installation/repositories".into())), true),
            Listing::Named(names) => (Box::new(names.iter().map(|n| format!("/repos/{n}"))), false),
        };
        let named = matches!(self.listing, Listing::Named(_));
        let mut out = Vec::new();
        for route in routes {
            let key = format!("{}:{route}", self.account);
            let Some((body, _)) = look::cached(&self.gh, store, &key, &route).await? else {
                if named {
                    anyhow::bail!("{route}: no such repository, or no access to it");
                }
                break;
            };
            if named {
                out.push(body);
                continue;
            }
            let batch = if wrapped { body["repositories"].clone() } else { body };
            let batch = batch.as_array().cloned().unwrap_or_default();
            let last = batch.len() < 100;
            out.extend(batch);
            if last {
                break;
            }
        }
        Ok(out)
    }
}

/// The connections to list and sweep with, and the label the store keeps the sweep under.
pub async fn connect(options: &Options) -> anyhow::Result<(String, Vec<Connection>)> {
    let limits = || options.limits;
    let scoped = |scope| GitHub::connect_scoped(&options.api_url, options.auth.clone(), scope, limits());
    match &options.source {
        Source::Org(org) => {
            let gh = scoped(Scope::Org(org.clone())).await?;
            Ok((org.clone(), vec![Connection { gh, account: org.clone(), listing: Listing::Org }]))
        }
        Source::Installations => {
            let Auth::App { id, key } = &options.auth else {
                return Err(Usage("--installation needs a GitHub App (--app-id and --app-key)".into()).into());
            };
            let mut connections = Vec::new();
            for (installation, account) in GitHub::installations(&options.api_url, *id, key).await? {
                let gh = scoped(Scope::Installation(installation)).await?;
                connections.push(Connection { gh, account, listing: Listing::Installation });
            }
            anyhow::ensure!(!connections.is_empty(), "the App has no installation");
            let accounts: Vec<&str> = connections.iter().map(|c| c.account.as_str()).collect();
            Ok((accounts.join(","), connections))
        }
        Source::Repos(file) => {
            let text = std::fs::read_to_string(file).map_err(|e| Usage(format!("--repos {}: {e}", file.display())))?;
            let names: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect();
            let mut owners: Vec<&str> = Vec::new();
            for name in &names {
                let wrong = || Usage(format!("--repos {}: {name}: expected OWNER/NAME", file.display()));
                let (owner, repo) = name.split_once('/').ok_or_else(wrong)?;
                if repo.is_empty() || repo.contains('/') {
                    return Err(wrong().into());
                }
                if !owners.contains(&owner) {
                    owners.push(owner);
                }
            }
            let mut connections = Vec::new();
            for owner in owners {
                let gh = scoped(Scope::Org(owner.into())).await?;
                let mine = names.iter().filter(|n| n.split('/').next() == Some(owner)).cloned().collect();
                connections.push(Connection { gh, account: owner.into(), listing: Listing::Named(mine) });
            }
            if connections.is_empty() {
                return Err(Usage(format!("--repos {} names no repository", file.display())).into());
            }
            let label = file.file_stem().and_then(|s| s.to_str()).unwrap_or("repos").to_string();
            Ok((label, connections))
        }
    }
}

/// An owner's configuration for every repository, from its `.github` repository when the listing
/// has it (or, for repositories named in a file, when the forge has it).
pub async fn org_config(
    gh: &GitHub,
    store: &dyn Store,
    listing: &[Value],
    owner: &str,
    source: &Source,
) -> anyhow::Result<Option<(String, crate::config::Config)>> {
    let full_name = format!("{owner}/.github");
    let mut repo = listing.iter().find(|r| r["full_name"] == full_name.as_str()).cloned();
    if repo.is_none() && matches!(source, Source::Repos(_)) {
        let route = format!("/repos/{full_name}");
        repo = look::cached(gh, store, &format!("{owner}:{route}"), &route).await?.map(|(body, _)| body);
    }
    match repo {
        Some(repo) => look::org_config(gh, store, owner, repo["default_branch"].as_str().unwrap_or("main")).await,
        None => Ok(None),
    }
}
