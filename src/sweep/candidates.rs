//! What in a repository could be hardened, read off its git tree alone (pure: no clone, no file
//! read): Dockerfiles and YAML files by the names discovery uses, outside the directories it does
//! not walk and the places it passes over (workflows, Helm charts, Compose, skaffold…), and the
//! files their analysis needs (the configuration, `go.mod`, `go.sum`, `vendor/modules.txt`).

use std::collections::BTreeSet;

use std::path::Path;

use serde_json::Value;

use crate::config::Config;

use crate::discover::{is_dockerfile_name, is_test_name, is_yaml_name, under_ignored_dir};

/// A file of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its path in the repository.
    pub path: String,
    /// Its blob's SHA.
    pub sha: String,
    /// Its size in bytes.
    pub size: u64,
}

/// What the tree holds for harden.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Dockerfiles.
    pub dockerfiles: Vec<Entry>,
    /// YAML files that may be manifests.
    pub manifests: Vec<Entry>,
    /// The repository's harden configuration, when it has one.
    pub config: Option<Entry>,
    /// Every path of the tree's files (to tell a build context's `go.mod`, `go.sum`, vendoring).
    pub paths: BTreeSet<String>,
    /// Every file, by path, for reading the few the analysis needs.
    pub files: Vec<Entry>,
}

impl Candidates {
    /// True when nothing could be hardened.
    pub fn is_empty(&self) -> bool {
        self.dockerfiles.is_empty() && self.manifests.is_empty()
    }

    /// How many files could be hardened.
    pub fn count(&self) -> usize {
        self.dockerfiles.len() + self.manifests.len()
    }

    /// The candidates a repository's configuration leaves: not under its `ignore` patterns, nor
    /// (with `default_ignores`) in `vendor/`, `testdata/`, a test suite's directory, or a test image
    /// — as discovery walks the clone.
    pub fn narrowed(&self, config: &Config) -> Candidates {
        let ignored = crate::discover::matcher(Path::new(""), &config.ignore);
        let keeps = |file: &Entry| {
            let dirs: Vec<&str> = file.path.split('/').collect();
            let defaults = config.default_ignores && under_ignored_dir(&dirs[..dirs.len().saturating_sub(1)]);
            !defaults && !ignored.matched_path_or_any_parents(&file.path, false).is_ignore()
        };
        // A test image (`Dockerfile.e2e`) is skipped by discovery too.
        let test_image =
            |file: &Entry| config.default_ignores && is_test_name(file.path.rsplit('/').next().unwrap_or_default());
        Candidates {
            dockerfiles: self.dockerfiles.iter().filter(|f| keeps(f) && !test_image(f)).cloned().collect(),
            manifests: self.manifests.iter().filter(|f| keeps(f)).cloned().collect(),
            ..self.clone()
        }
    }

    /// The templates of the Helm chart whose `values.yaml` is at `values`, when it is one, each
    /// with its path in the chart (`templates/deployment.yaml`).
    pub fn chart_templates(&self, values: &str) -> Option<Vec<(String, &Entry)>> {
        let (dir, name) = values.rsplit_once('/').unwrap_or(("", values));
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let chart = ["Chart.yaml", "Chart.yml"].iter().any(|c| self.paths.contains(&format!("{prefix}{c}")));
        if !(chart && matches!(name, "values.yaml" | "values.yml")) {
            return None;
        }
        let templates = self.files.iter().filter_map(|f| {
            let in_chart = f.path.strip_prefix(&prefix)?;
            let name = in_chart.rsplit('/').next().unwrap_or_default();
            (in_chart.starts_with("templates/") && is_yaml_name(name)).then(|| (in_chart.to_string(), f))
        });
        Some(templates.collect())
    }

    /// The file at `path`, when the tree has it.
    pub fn file(&self, path: &str) -> Option<&Entry> {
        self.files.iter().find(|e| e.path == path)
    }
}

/// Files larger than this are not hardened (as discovery skips them).
const MAX_BYTES: u64 = 1024 * 1024;

/// The candidates of a tree: the `tree` array of GitHub's recursive tree answer. Those in the
/// directories discovery does not walk by default are kept until the repository's configuration
/// is known ([`Candidates::narrowed`]).
pub fn from_tree(tree: &[Value]) -> Candidates {
    let mut out = Candidates::default();
    let blobs = tree.iter().filter(|e| e["type"] == "blob" && e["mode"] != "120000");
    for entry in blobs {
        let (Some(path), Some(sha)) = (entry["path"].as_str(), entry["sha"].as_str()) else { continue };
        let file = Entry { path: path.to_string(), sha: sha.to_string(), size: entry["size"].as_u64().unwrap_or(0) };
        out.paths.insert(file.path.clone());
        out.files.push(file);
    }
    for file in &out.files {
        let parts: Vec<&str> = file.path.split('/').collect();
        let (dirs, name) = parts.split_at(parts.len() - 1);
        let name = name[0];
        if crate::config::LOCATIONS.contains(&file.path.as_str()) {
            out.config.get_or_insert_with(|| file.clone());
            continue;
        }
        let hidden = dirs.iter().any(|d| d.starts_with('.') && *d != ".github" && *d != ".docker");
        if hidden || file.size > MAX_BYTES {
            continue;
        }
        if is_dockerfile_name(name) && !dirs.contains(&".devcontainer") {
            out.dockerfiles.push(file.clone());
        } else if is_yaml_name(name) && !passed_over_yaml(&file.path, dirs, name, &out.paths) {
            out.manifests.push(file.clone());
        }
    }
    out
}

/// YAML that is not a manifest by its name or place, as discovery judges it.
fn passed_over_yaml(path: &str, dirs: &[&str], name: &str, paths: &BTreeSet<String>) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower.trim_end_matches(".yaml").trim_end_matches(".yml");
    let in_chart = |depth: usize| {
        let dir = dirs[..dirs.len().saturating_sub(depth)].join("/");
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        paths.contains(&format!("{prefix}Chart.yaml")) || paths.contains(&format!("{prefix}Chart.yml"))
    };
    let workflow = dirs.ends_with(&[".github", "workflows"]);
    workflow
        || stem == "kustomization"
        || stem.starts_with("docker-compose")
        || stem.starts_with("compose")
        || stem.starts_with("skaffold")
        || stem.trim_start_matches('.').starts_with("goreleaser")
        || stem == "chart"
        || (dirs.last() == Some(&"templates") && in_chart(1))
        // A chart's own values.yaml is hardened; other values files are a deployment's.
        || (stem.starts_with("values") && stem != "values" && in_chart(0))
        || crate::config::LOCATIONS.iter().any(|l| path.ends_with(l))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(paths: &[&str]) -> Vec<Value> {
        paths
            .iter()
            .map(|p| json!({"path": p, "type": "blob", "mode": "100644", "sha": format!("sha-{p}"), "size": 10}))
            .collect()
    }

    #[test]
    fn finds_what_discovery_would_by_names_and_places() {
        let found = from_tree(&tree(&[
            "Dockerfile",
            "services/api/Dockerfile.prod",
            "vendor/x/Dockerfile",
            "deploy/app.yaml",
            ".github/workflows/ci.yml",
            ".github/harden.yml",
            "chart/Chart.yaml",
            "chart/templates/deploy.yaml",
            "chart/values.yaml",
            "docker-compose.yml",
            "go.mod",
            "main.go",
            ".devcontainer/Dockerfile",
            "tools/legacy/Dockerfile",
        ]));
        let paths = |list: &[Entry]| list.iter().map(|e| e.path.clone()).collect::<Vec<_>>();
        assert_eq!(
            paths(&found.dockerfiles),
            ["Dockerfile", "services/api/Dockerfile.prod", "vendor/x/Dockerfile", "tools/legacy/Dockerfile"]
        );
        let config = Config { ignore: vec!["tools/".into()], ..Config::default() };
        let narrowed = found.narrowed(&config);
        assert_eq!(paths(&narrowed.dockerfiles), ["Dockerfile", "services/api/Dockerfile.prod"]);
        let walk_all = Config { default_ignores: false, ..Config::default() };
        assert_eq!(found.narrowed(&walk_all).dockerfiles.len(), 4, "vendor/ is walked when the configuration says so");
        assert_eq!(paths(&found.manifests), ["deploy/app.yaml", "chart/values.yaml"]);
        let templates = found.chart_templates("chart/values.yaml").unwrap();
        assert_eq!(templates.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["templates/deploy.yaml"]);
        assert!(found.chart_templates("deploy/app.yaml").is_none());
        assert_eq!(found.config.as_ref().map(|c| c.path.as_str()), Some(".github/harden.yml"));
        assert!(found.paths.contains("go.mod") && found.file("main.go").is_some());
        assert!(from_tree(&tree(&["README.md", "main.go"])).is_empty());
    }
}
