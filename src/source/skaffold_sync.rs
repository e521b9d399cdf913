//! skaffold's file sync: an artifact with `sync:` has skaffold copy changed files into its
//! running containers (`tar` into the container's root), which a read-only root or another user
//! would stop. The manifests a configuration deploys that run such an image are for development.

use std::path::{Path, PathBuf};

use yaml_serde::Value;

/// The manifests (relative to the repository) each skaffold configuration (`configs`: its path
/// relative to the repository, and its text) deploys that run an image it syncs files into, with
/// the configuration.
pub fn synced_manifests(repo: &Path, configs: &[(PathBuf, String)]) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for (config, text) in configs {
        let dir = config.parent().unwrap_or(Path::new(""));
        for doc in crate::kubernetes::documents_read(text) {
            let synced = synced_images(&doc);
            if synced.is_empty() {
                continue;
            }
            for manifest in deployed(repo, dir, &doc) {
                let runs_synced = std::fs::read_to_string(repo.join(&manifest)).is_ok_and(|m| {
                    m.lines().filter_map(|l| l.trim().strip_prefix("image:")).any(|image| {
                        let image = image.trim().trim_matches(['"', '\'']);
                        synced.iter().any(|s| crate::orchestration::image_name(image) == *s)
                    })
                });
                if runs_synced && !out.iter().any(|(m, _)| *m == manifest) {
                    out.push((manifest, config.clone()));
                }
            }
        }
    }
    out
}

/// The configuration and its profiles, each a mapping that may hold `build` and `manifests`.
fn sections(doc: &Value) -> impl Iterator<Item = &Value> {
    std::iter::once(doc).chain(doc.get("profiles").and_then(Value::as_sequence).into_iter().flatten())
}

/// The names of the images whose artifacts sync files, in the configuration or a profile.
fn synced_images(doc: &Value) -> Vec<String> {
    let artifacts = sections(doc)
        .filter_map(|s| s.get("build")?.get("artifacts")?.as_sequence())
        .flatten()
        .filter(|a| a.get("sync").is_some());
    artifacts.filter_map(|a| Some(crate::orchestration::image_name(a.get("image")?.as_str()?))).collect()
}

/// The files (relative to the repository) the configuration's raw manifests name
/// (`manifests.rawYaml`, or the older `deploy.kubectl.manifests`; skaffold's default `k8s/*.yaml`
/// where it names no deployer), globs expanded, from the configuration's directory `dir`.
fn deployed(repo: &Path, dir: &Path, doc: &Value) -> Vec<PathBuf> {
    let lists = sections(doc).flat_map(|s| {
        [
            s.get("manifests").and_then(|m| m.get("rawYaml")),
            s.get("deploy").and_then(|d| d.get("kubectl")?.get("manifests")),
        ]
    });
    let mut patterns: Vec<String> = lists
        .flatten()
        .filter_map(Value::as_sequence)
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    // With no manifests and no other deployer named, skaffold deploys `k8s/*.yaml`.
    let deploys = |s: &Value| s.get("manifests").is_some() || s.get("deploy").is_some();
    if patterns.is_empty() && !sections(doc).any(deploys) {
        patterns.push("k8s/*.yaml".to_string());
    }
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in &patterns {
        let joined = dir.join(pattern.trim_start_matches("./"));
        if let Ok(glob) = globset::Glob::new(&joined.to_string_lossy()) {
            builder.add(glob);
        }
    }
    let Ok(set) = builder.build() else { return Vec::new() };
    if patterns.is_empty() {
        return Vec::new();
    }
    let walk = ignore::WalkBuilder::new(repo.join(dir)).max_depth(Some(4)).build();
    walk.flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter_map(|e| e.path().strip_prefix(repo).ok().map(Path::to_path_buf))
        .filter(|p| set.is_match(p))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_running_a_synced_image_are_found_through_globs() {
        let repo = tempfile::tempdir().unwrap();
        let dir = repo.path().join("app/k8s");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("web.yaml"), "kind: Deployment\n      image: web-example\n").unwrap();
        std::fs::write(dir.join("db.yaml"), "kind: Deployment\n      image: redis:7\n").unwrap();
        let config = "build:\n  artifacts:\n  - image: web-example\nprofiles:\n- name: dev\n  build:\n    artifacts:\n    - image: web-example\n      sync:\n        manual:\n        - src: 'src/**/*.js'\n          dest: .\nmanifests:\n  rawYaml:\n  - k8s/*\n";
        let configs = vec![(PathBuf::from("app/skaffold.yaml"), config.to_string())];
        let found = synced_manifests(repo.path(), &configs);
        assert_eq!(found, vec![(PathBuf::from("app/k8s/web.yaml"), PathBuf::from("app/skaffold.yaml"))]);
        // With no manifests named, skaffold deploys `k8s/*.yaml`.
        let default = config.replace("manifests:\n  rawYaml:\n  - k8s/*\n", "");
        assert_eq!(synced_manifests(repo.path(), &[(PathBuf::from("app/skaffold.yaml"), default)]).len(), 1);
        let unsynced =
            config.replace("      sync:\n        manual:\n        - src: 'src/**/*.js'\n          dest: .\n", "");
        assert!(synced_manifests(repo.path(), &[(PathBuf::from("app/skaffold.yaml"), unsynced)]).is_empty());
    }
}
