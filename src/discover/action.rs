//! GitHub Actions that run in a container built from a Dockerfile beside their metadata file
//! (`runs: {using: docker, image: Dockerfile}`): GitHub runs such a container as root, so harden
//! passes the Dockerfile over.

use std::path::PathBuf;

/// The Dockerfile a GitHub Action's metadata file (the entry) builds its container from
/// (`runs: {using: docker, image: Dockerfile}`), and the metadata file's name. An action that runs
/// a published image (`image: docker://…`) or no container builds none.
pub(super) fn action_dockerfile(entry: &ignore::DirEntry) -> Option<(PathBuf, String)> {
    let name = entry.file_name().to_str()?;
    if !matches!(name, "action.yml" | "action.yaml") {
        return None;
    }
    let text = std::fs::read_to_string(entry.path()).ok()?;
    let metadata: yaml_serde::Value = yaml_serde::from_str(&text).ok()?;
    let runs = metadata.get("runs")?;
    let image = runs.get("image").and_then(yaml_serde::Value::as_str)?;
    if runs.get("using").and_then(yaml_serde::Value::as_str) != Some("docker") || image.starts_with("docker://") {
        return None;
    }
    let dockerfile = crate::orchestration::normalise(&entry.path().parent()?.join(image));
    Some((dockerfile, name.to_string()))
}
