//! Cloud Build configurations (`cloudbuild.yaml`): the images their steps build with Docker,
//! and that they build them without BuildKit unless a step asks for it (`DOCKER_BUILDKIT=1`):
//! Cloud Build's docker builder runs the classic builder, which refuses `RUN --mount`.

use std::path::Path;

use yaml_serde::Value;

use super::Repository;

/// True for a Cloud Build configuration's file name (`cloudbuild.yaml`, `cloudbuild-delivery.yaml`).
pub fn is_cloudbuild_name(name: &str) -> bool {
    name.starts_with("cloudbuild") && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

impl Repository {
    /// Reads a Cloud Build configuration at `path`: each step that runs `docker build` (the
    /// `cloud-builders/docker` image, or `entrypoint: docker`), from its `dir` (the repository's
    /// root's) or, without one, the configuration's own directory.
    pub(super) fn cloudbuild(&mut self, doc: &Value, path: &Path) {
        for step in doc.get("steps").and_then(Value::as_sequence).into_iter().flatten() {
            let text = |key: &str| step.get(key).and_then(Value::as_str).unwrap_or_default();
            let docker = text("name").contains("cloud-builders/docker") || text("entrypoint") == "docker";
            let args: Vec<&str> =
                step.get("args").and_then(Value::as_sequence).into_iter().flatten().filter_map(Value::as_str).collect();
            if !docker || args.first() != Some(&"build") {
                continue;
            }
            let env = step.get("env").and_then(Value::as_sequence).into_iter().flatten().filter_map(Value::as_str);
            let buildkit = env.into_iter().any(|e| e == "DOCKER_BUILDKIT=1");
            let dir = match text("dir") {
                "" => path.parent().unwrap_or(Path::new("")).to_path_buf(),
                dir => Path::new(dir).to_path_buf(),
            };
            let Some(mut build) = super::makefile::docker_build(&args[1..], &dir, path) else { continue };
            if !buildkit {
                build.without_buildkit =
                    Some(format!("{} (Cloud Build's docker without DOCKER_BUILDKIT=1)", path.display()));
            }
            self.builds.push(build);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloud_build_docker_step_builds_without_buildkit_unless_asked() {
        let mut repo = Repository::default();
        let config = "steps:\n- name: gcr.io/cloud-builders/docker\n  args: ['build', '-t', 'us-docker.pkg.dev/acme/hello:v1', '.']\n  dir: quickstarts/hello\n- name: gcr.io/cloud-builders/docker\n  env: ['DOCKER_BUILDKIT=1']\n  args: ['build', '-t', 'acme/web', '-f', 'web/Dockerfile', 'web']\n";
        let doc: Value = yaml_serde::from_str(config).unwrap();
        repo.cloudbuild(&doc, Path::new("ci/cloudbuild.yaml"));
        let builds: Vec<(String, Vec<String>, bool)> = repo
            .builds
            .iter()
            .map(|b| (b.dockerfile.display().to_string(), b.images.clone(), b.without_buildkit.is_some()))
            .collect();
        assert_eq!(
            builds,
            [
                ("quickstarts/hello/Dockerfile".to_string(), vec!["hello".to_string()], true),
                ("ci/web/Dockerfile".to_string(), vec!["web".to_string()], false),
            ]
        );
        assert!(is_cloudbuild_name("cloudbuild-delivery.yaml") && !is_cloudbuild_name("build.yaml"));
    }
}
