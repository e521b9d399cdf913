//! GitHub Actions workflows: the platforms `docker/build-push-action` builds a Dockerfile for
//! (`platforms: linux/386,linux/amd64,linux/arm64`), which its new runtime must be published for.

use std::path::Path;

use yaml_serde::Value;

use super::{Build, Repository, normalise};

/// True for a workflow file: `.github/workflows/*.yml`.
pub fn is_workflow(path: &Path) -> bool {
    let dir = path.parent();
    let named = |p: Option<&Path>, name: &str| p.and_then(Path::file_name).is_some_and(|n| n == name);
    named(dir, "workflows") && named(dir.and_then(Path::parent), ".github")
}

impl Repository {
    /// Reads a workflow: each `docker/build-push-action` step's Dockerfile (its `file`, else
    /// `Dockerfile` in its `context`) and the platforms it builds it for, where they are literal.
    pub(super) fn workflow(&mut self, doc: &Value, path: &Path) {
        let jobs = doc.get("jobs").and_then(Value::as_mapping).into_iter().flatten();
        let steps = jobs.filter_map(|(_, job)| job.get("steps")?.as_sequence()).flatten();
        for step in steps {
            let uses = step.get("uses").and_then(Value::as_str).unwrap_or_default();
            let Some(with) = step.get("with").filter(|_| uses.starts_with("docker/build-push-action@")) else {
                continue;
            };
            let text = |key: &str| with.get(key).and_then(Value::as_str).map(str::trim);
            let context = text("context").unwrap_or(".");
            let file = text("file").map_or_else(|| format!("{context}/Dockerfile"), str::to_string);
            let platforms: Vec<&str> =
                text("platforms").unwrap_or_default().split([',', '\n']).map(str::trim).collect();
            if file.contains("${{") {
                continue;
            }
            let origin = path.display().to_string();
            // A platform from an expression (`${{ matrix.platform }}`) is not known here.
            let platforms = platforms
                .iter()
                .filter(|p| !p.is_empty() && !p.contains("${{"))
                .map(|p| (p.to_string(), origin.clone()))
                .collect();
            let context = (!context.contains("${{")).then(|| (normalise(Path::new(context)), origin.clone()));
            self.builds.push(Build { dockerfile: normalise(Path::new(&file)), platforms, context, ..Build::default() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_push_step_gives_its_dockerfile_platforms() {
        let mut repo = Repository::default();
        let workflow = "jobs:\n  image:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker/build-push-action@v6\n        with:\n          context: .\n          platforms: linux/386,linux/amd64\n          push: true\n";
        let path = Path::new(".github/workflows/release.yml");
        assert!(is_workflow(path) && !is_workflow(Path::new("workflows/release.yml")));
        repo.read(path, workflow);
        let platforms = repo.for_dockerfile(Path::new("Dockerfile")).platforms;
        assert_eq!(platforms.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), ["linux/386", "linux/amd64"]);
        assert_eq!(platforms[0].1, ".github/workflows/release.yml");
    }
}
