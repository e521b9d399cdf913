//! Cloud Build configurations (`cloudbuild.yaml`): the images their steps build with Docker,
//! and that they build them without BuildKit unless a step asks for it (`DOCKER_BUILDKIT=1`):
//! Cloud Build's docker builder runs the classic builder, which refuses `RUN --mount`.

use std::path::Path;

use yaml_serde::Value;

use super::Repository;

/// True for a Cloud Build configuration: by its file name (`cloudbuild.yaml`,
/// `cloudbuild-delivery.yaml`), or a YAML file in a directory of them (`cron/cloudbuild/worker.yaml`).
pub fn is_cloudbuild(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    (name.starts_with("cloudbuild") || in_configurations_dir(path))
        && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// True for a file in a directory of Cloud Build configurations (`cloudbuild/`).
fn in_configurations_dir(path: &Path) -> bool {
    path.parent().and_then(Path::file_name).is_some_and(|d| d == "cloudbuild")
}

impl Repository {
    /// Reads a Cloud Build configuration at `path`: each step that runs `docker build` (the
    /// `cloud-builders/docker` image, or `entrypoint: docker`), from its `dir` (the repository's
    /// root's) or, without one, the configuration's own directory, unless its Dockerfile or
    /// context is written from the root (`-f cron/internal/webhook/Dockerfile` in
    /// `cron/cloudbuild/`: a path that starts with the configuration's top directory).
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
            // A directory of configurations is no project's; a path that starts with the
            // configuration's top directory is written from the root.
            let top = path.components().next().filter(|_| path.components().count() > 1);
            let from_root = in_configurations_dir(path)
                || top
                    .is_some_and(|top| args[1..].iter().any(|a| !a.starts_with('-') && Path::new(a).starts_with(top)));
            let dir = match text("dir") {
                "" if from_root => Path::new("").to_path_buf(),
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
        assert!(is_cloudbuild(Path::new("cloudbuild-delivery.yaml")) && !is_cloudbuild(Path::new("build.yaml")));
        assert!(is_cloudbuild(Path::new("cron/cloudbuild/worker.yaml")));
    }

    fn doc_of(text: &str) -> Value {
        yaml_serde::from_str(text).unwrap()
    }

    #[test]
    fn docker_build_in_a_build_directory_is_the_configurations() {
        // The docker subcommand `build` is no path, though the configuration is under `build/`.
        let config = "steps:\n  - name: gcr.io/cloud-builders/docker\n    args:\n      - build\n      - --tag=${_REGISTRY}/bot:latest\n      - '.'\n";
        let mut repo = Repository::default();
        repo.cloudbuild(&doc_of(config), Path::new("build/bot/cloudbuild.yaml"));
        assert!(repo.for_dockerfile(Path::new("build/bot/Dockerfile")).without_buildkit.is_some());
    }

    #[test]
    fn a_path_from_the_root_is_the_roots() {
        let mut repo = Repository::default();
        let config = "steps:\n- name: gcr.io/cloud-builders/docker\n  args: ['build', '.', '-t', 'gcr.io/acme/webhook:latest', '-f', 'cron/webhook/Dockerfile']\n";
        repo.cloudbuild(&doc_of(config), Path::new("cron/cloudbuild/webhook.yaml"));
        let build = &repo.builds[0];
        assert_eq!(build.dockerfile, Path::new("cron/webhook/Dockerfile"));
        assert_eq!(build.context.as_ref().map(|(c, _)| c.as_path()), Some(Path::new("")));
        repo.cloudbuild(
            &doc_of("steps:\n- name: gcr.io/cloud-builders/docker\n  args: ['build', '-t', 'gcr.io/acme/cli', '.']\n"),
            Path::new("cloudbuild/cli.yaml"),
        );
        assert_eq!(repo.builds[1].dockerfile, Path::new("Dockerfile"), "a directory of configurations is no project's");
    }
}
