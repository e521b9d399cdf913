//! Sums the merged tree up into [`ImageContents`]: which shells, package managers, setuid files
//! and world-writable directories are there, the OS, and the packages its databases list.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::layers::Node;
use super::limits::{Limits, Notes};
use super::paths::{self, Kind};
use super::{ImageContents, PackageDb, Packages, packages, rpm};

/// The part of an image config read here.
#[derive(Deserialize)]
struct ImageConfig {
    #[serde(default)]
    config: Option<RunConfig>,
}

/// The run settings in an image config.
#[derive(Deserialize)]
struct RunConfig {
    #[serde(rename = "User", default)]
    user: Option<String>,
}

/// The `config.User` of an image config's JSON (empty when unset).
pub(super) fn config_user(json: &[u8]) -> Result<String, String> {
    let config: ImageConfig = serde_json::from_slice(json).map_err(|e| format!("it is not an image config: {e}"))?;
    Ok(config.config.and_then(|c| c.user).unwrap_or_default())
}

/// The report on a merged tree and the image's user.
pub(super) fn summarise(
    nodes: &BTreeMap<String, Node>,
    user: String,
    limits: &Limits,
    mut notes: Notes,
) -> ImageContents {
    let os = paths::OS_RELEASE.iter().find_map(|path| content(nodes, path)).map(packages::os_release);
    let packages = packages(nodes, limits, &mut notes);
    let mut shell: Vec<String> = paths::SHELLS
        .iter()
        .filter(|path| nodes.get(**path).is_some_and(|n| n.kind != Kind::Dir))
        .map(|p| absolute(p))
        .collect();
    shell.sort();
    let listed = |keep: &dyn Fn(&str, &Node) -> bool| -> Vec<String> {
        nodes.iter().filter(|(path, node)| keep(path, node)).map(|(path, _)| absolute(path)).collect()
    };
    ImageContents {
        os,
        packages,
        shell,
        package_manager: listed(&|path, node| node.kind != Kind::Dir && paths::is_package_manager(path)),
        setuid: listed(&|_, node| paths::is_setuid(node.kind, node.mode)),
        world_writable: listed(&|path, node| paths::is_world_writable(path, node.kind, node.mode)),
        runs_as_root: runs_as_root(&user),
        user,
        limits_hit: notes.into_lines(limits),
    }
}

/// The packages listed by every package database in the tree.
fn packages(nodes: &BTreeMap<String, Node>, limits: &Limits, notes: &mut Notes) -> Packages {
    let mut found: Vec<(PackageDb, packages::Listed)> = Vec::new();
    if let Some(text) = content(nodes, paths::DPKG_STATUS) {
        found.push((PackageDb::Dpkg, packages::dpkg(text, true)));
    }
    let prefix = format!("{}/", paths::DPKG_STATUS_D);
    let status_d: Vec<&[u8]> = nodes
        .range(prefix.clone()..)
        .take_while(|(path, _)| path.starts_with(&prefix))
        .filter(|(path, node)| paths::is_status_d(path) && node.kind == Kind::File)
        .filter_map(|(_, node)| node.content.as_deref())
        .collect();
    if status_d.len() > limits.status_d_files {
        notes.add(format!(
            "/{} has {} package files; only the first {} are read",
            paths::DPKG_STATUS_D,
            status_d.len(),
            limits.status_d_files
        ));
    }
    if !status_d.is_empty() {
        let mut listed = packages::Listed::default();
        for one in status_d.iter().take(limits.status_d_files).map(|text| packages::dpkg(text, false)) {
            listed.count += one.count;
            listed.names.extend(one.names);
        }
        found.push((PackageDb::DpkgStatusD, listed));
    }
    if let Some(text) = content(nodes, paths::APK_INSTALLED) {
        found.push((PackageDb::Apk, packages::apk(text)));
    }
    if let Some((path, bytes)) = paths::RPMDB_SQLITE.iter().find_map(|p| Some((p, content(nodes, p)?))) {
        match rpm::rpmdb(bytes) {
            Ok(listed) => found.push((PackageDb::RpmSqlite, listed)),
            Err(why) => notes.add(format!("/{path} is not read: {why}")),
        }
    } else if let Some(path) = paths::RPMDB_OTHER.iter().find(|p| nodes.contains_key(**p)) {
        notes.add(format!("/{path} is an RPM database in the Berkeley DB or NDB format, which is not read"));
    }
    let mut out = Packages::default();
    for (db, listed) in found {
        out.databases.push(db);
        out.count += listed.count;
        out.names.extend(listed.names);
    }
    out.names.sort();
    out.names.dedup();
    out
}

/// The bytes of a regular file that were read.
fn content<'a>(nodes: &'a BTreeMap<String, Node>, path: &str) -> Option<&'a [u8]> {
    nodes.get(path).filter(|n| n.kind == Kind::File)?.content.as_deref()
}

/// A normalised path as the container sees it.
fn absolute(path: &str) -> String {
    format!("/{path}")
}

/// True for root: no user, `root` or `0`, with or without a group.
fn runs_as_root(user: &str) -> bool {
    matches!(user.trim().split(':').next().unwrap_or_default(), "" | "root" | "0")
}
