//! skaffold's configuration (`skaffold.yaml`): the images its artifacts build from a Dockerfile,
//! the build arguments they pass, and whether its builder uses BuildKit.

use std::path::Path;

use yaml_serde::Value;

use super::{Build, BuildArg, Repository, image_name, key_values, normalise, resolved};

/// Names of skaffold configurations.
pub fn is_skaffold_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("skaffold") && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
}

impl Repository {
    /// Reads a skaffold configuration: each artifact a Dockerfile builds, with its image, the
    /// build arguments it passes (`requires` aliases too) and whether BuildKit builds it.
    pub(super) fn skaffold(&mut self, doc: &Value, dir: &Path, path: &Path) {
        let profiles = doc.get("profiles").and_then(Value::as_sequence).into_iter().flatten();
        // skaffold's local builder talks to the Docker API without BuildKit unless asked.
        let buildkit = |build: Option<&Value>| {
            let local = build.and_then(|b| b.get("local"));
            let flag = |key: &str| local.and_then(|l| l.get(key)).and_then(Value::as_bool) == Some(true);
            flag("useBuildkit") || flag("useDockerCLI")
        };
        for build in std::iter::once(doc).chain(profiles.clone()).filter_map(|d| d.get("build")) {
            for artifact in build.get("artifacts").and_then(Value::as_sequence).into_iter().flatten() {
                self.artifact(artifact, dir, path, buildkit(Some(build)));
            }
        }
        // A profile's JSON patch may add an artifact (`op: add`, `path: /build/artifacts/1`),
        // built as the configuration's own builder builds.
        let patches = profiles.filter_map(|p| p.get("patches")?.as_sequence()).flatten();
        for patch in patches {
            let to_artifacts =
                patch.get("path").and_then(Value::as_str).is_some_and(|p| p.starts_with("/build/artifacts"));
            let op = patch.get("op").and_then(Value::as_str);
            if let Some(artifact) = patch.get("value").filter(|_| to_artifacts && matches!(op, Some("add" | "replace")))
            {
                self.artifact(artifact, dir, path, buildkit(doc.get("build")));
            }
        }
    }

    /// Reads one skaffold artifact (see [`Repository::skaffold`]).
    fn artifact(&mut self, artifact: &Value, dir: &Path, path: &Path, buildkit: bool) {
        {
            let Some(image) = artifact.get("image").and_then(Value::as_str) else { return };
            self.skaffold_images.push(super::without_tag(image).to_string());
            let origin = format!("{} (artifact {image})", path.display());
            let context = artifact.get("context").and_then(Value::as_str).unwrap_or(".");
            let docker = artifact.get("docker");
            let file = docker.and_then(|d| d.get("dockerfile")).and_then(Value::as_str).unwrap_or("Dockerfile");
            let mut args = key_values(docker.and_then(|d| d.get("buildArgs")), &origin);
            for required in artifact.get("requires").and_then(Value::as_sequence).into_iter().flatten() {
                if let (Some(alias), Some(image)) =
                    (required.get("alias").and_then(Value::as_str), required.get("image").and_then(Value::as_str))
                {
                    args.push(BuildArg { name: alias.into(), value: image.into(), origin: origin.clone() });
                }
            }
            // Builders that do not read the Dockerfile.
            if ["ko", "jib", "buildpacks", "bazel", "custom"].iter().any(|b| artifact.get(*b).is_some()) {
                return;
            }
            let kaniko = artifact.get("kaniko").is_some();
            let without_buildkit = (kaniko || !buildkit).then(|| {
                let how = if kaniko { "kaniko" } else { "skaffold's Docker builder without useBuildkit" };
                format!("{} ({how})", path.display())
            });
            self.builds.push(Build {
                dockerfile: normalise(&dir.join(context).join(file)),
                images: vec![image_name(image)],
                args: args.into_iter().filter(resolved).collect(),
                without_buildkit,
                ..Build::default()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skaffold_artifacts_give_requires_aliases_and_manifests_their_commands() {
        let mut repo = Repository::default();
        repo.read(
            Path::new("examples/skaffold.yaml"),
            "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: leeroy-app\n    context: leeroy-app\n    requires:\n    - image: base\n      alias: BASE\n",
        );
        repo.read(
            Path::new("examples/k8s/app.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: leeroy-app\n        command: [\"/app\"]\n        args: [\"--verbose\"]\n",
        );
        let app = repo.for_dockerfile(Path::new("examples/leeroy-app/Dockerfile"));
        assert_eq!(app.build_args[0].name, "BASE");
        assert_eq!(app.build_args[0].value, "base");
        assert_eq!(app.commands.len(), 1);
        assert_eq!(app.commands[0].words, ["/app", "--verbose"]);
        assert_eq!(app.commands[0].origin, "examples/k8s/app.yaml (container app)");
        assert!(repo.for_dockerfile(Path::new("Dockerfile")).commands.is_empty());
    }

    #[test]
    fn an_artifact_a_profile_patches_in_is_built_as_the_configuration_builds() {
        let mut repo = Repository::default();
        let config = "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: base\n    context: base\nprofiles:\n- name: hello\n  patches:\n  - op: add\n    path: /build/artifacts/1\n    value:\n      image: hello\n      context: hello-service\n";
        repo.read(Path::new("skaffold.yaml"), config);
        let hello = repo.for_dockerfile(Path::new("hello-service/Dockerfile"));
        assert!(hello.without_buildkit.is_some_and(|w| w.contains("without useBuildkit")));
    }
}
