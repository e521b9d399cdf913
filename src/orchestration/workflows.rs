//! GitHub Actions workflows: the Dockerfiles `docker/build-push-action` builds, with their
//! context, image (from a matrix entry) and the platforms it builds them for
//! (`platforms: linux/386,linux/amd64,linux/arm64`), which a new runtime must be published for.

use std::path::{Path, PathBuf};

use yaml_serde::Value;

use super::{Build, Repository, image_name, normalise};

/// True for a workflow file: `.github/workflows/*.yml`.
pub fn is_workflow(path: &Path) -> bool {
    let dir = path.parent();
    let named = |p: Option<&Path>, name: &str| p.and_then(Path::file_name).is_some_and(|n| n == name);
    named(dir, "workflows") && named(dir.and_then(Path::parent), ".github")
}

/// The workflow files of the repository at `root` (`.github/workflows/*`), in name order.
pub fn workflow_files(root: &Path) -> Vec<PathBuf> {
    let listed = std::fs::read_dir(root.join(".github/workflows")).into_iter().flatten().flatten();
    let mut files: Vec<PathBuf> = listed.map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// True when a workflow runs on every push (`on: push`, `on: [push, …]`, `on: {push: …}`).
pub fn runs_on_push(text: &str) -> bool {
    let workflow: Value = yaml_serde::from_str(text).unwrap_or(Value::Null);
    match workflow.get("on") {
        Some(Value::String(event)) => event == "push",
        Some(Value::Sequence(events)) => events.iter().any(|e| e.as_str() == Some("push")),
        Some(Value::Mapping(events)) => events.contains_key("push"),
        _ => false,
    }
}

impl Repository {
    /// Reads a workflow: the image each job runs in (its `container`); each
    /// `docker/build-push-action` step's Dockerfile (its `file`, else
    /// `Dockerfile` in its `context`), the platforms it builds it for, the images its `tags` name
    /// and the stage its `target` stops at, where they are literal.
    /// A step that takes them from its job's matrix (`file: ${{ matrix.dockerfile }}`) builds each
    /// `include:` entry's, named by the entry's `image`; one whose tags are a
    /// `docker/metadata-action` step's (`${{ steps.meta.outputs.tags }}`) builds the images that
    /// step names.
    pub(super) fn workflow(&mut self, doc: &Value, path: &Path) {
        for (name, job) in doc.get("jobs").and_then(Value::as_mapping).into_iter().flatten() {
            // The workflow's and the job's `env:` (`IMAGE_NAME: google/dranet-rdma-perftest`).
            let env: Vec<(String, String)> = env_of(doc).into_iter().chain(env_of(job)).collect();
            // The image the job's steps run in (`container: acme/builder:latest`).
            let container = job.get("container").and_then(|c| c.as_str().or_else(|| c.get("image")?.as_str()));
            if let Some(image) = container.filter(|c| !c.contains("${{")) {
                let job = name.as_str().unwrap_or_default();
                self.job_containers.push((image_name(image), format!("{} (job {job})", path.display())));
            }
            let include = job.get("strategy").and_then(|s| s.get("matrix")).and_then(|m| m.get("include"));
            let entries: Vec<&Value> = include.and_then(Value::as_sequence).into_iter().flatten().collect();
            let steps: Vec<&Value> = job.get("steps").and_then(Value::as_sequence).into_iter().flatten().collect();
            let named = metadata_images(&steps, &env);
            let default_dir = job.get("defaults").and_then(|d| d.get("run")).and_then(|r| r.get("working-directory"));
            for step in steps {
                // A `run:` script's builds (`cd web`, then `docker build . -t acme/web:${{ github.sha }}`)
                // start where the step runs: the repository's root, or its working directory.
                if let Some(script) = step.get("run").and_then(Value::as_str) {
                    let dir = step.get("working-directory").or(default_dir).and_then(Value::as_str).unwrap_or("");
                    if !dir.contains("${{") {
                        self.read_commands(path, script, Path::new(dir.trim_start_matches("./")), true);
                    }
                }
                let uses = step.get("uses").and_then(Value::as_str).unwrap_or_default();
                let Some(with) = step.get("with").filter(|_| uses.starts_with("docker/build-push-action@")) else {
                    continue;
                };
                let text = |key: &str| with.get(key).and_then(Value::as_str).map(str::trim);
                let uses_matrix =
                    ["file", "context"].iter().any(|k| text(k).is_some_and(|t| t.contains("${{ matrix.")));
                let env: Vec<(String, String)> = env.iter().cloned().chain(env_of(step)).collect();
                match uses_matrix {
                    true => entries.iter().for_each(|entry| self.build_step(with, path, Some(entry), &named, &env)),
                    false => self.build_step(with, path, None, &named, &env),
                }
            }
        }
    }

    /// One build of a `docker/build-push-action` step, with a matrix entry's values and the
    /// `env` it runs with filled in; `named` holds the images of the job's metadata steps, by their `id`.
    fn build_step(
        &mut self,
        with: &Value,
        path: &Path,
        entry: Option<&Value>,
        named: &[(String, Vec<String>)],
        env: &[(String, String)],
    ) {
        let matrix = entry
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(key, value)| Some((format!("matrix.{}", key.as_str()?), value.as_str()?.to_string())));
        // The repository's own name (`ghcr.io/${{ github.repository }}`) is the one it is known by.
        let repository = ["github.repository", "github.event.repository.name"]
            .map(|expression| (expression.to_string(), super::REPOSITORY_NAME.to_string()));
        let values: Vec<(String, String)> = env.iter().cloned().chain(matrix).chain(repository).collect();
        let text = |key: &str| with.get(key).and_then(Value::as_str).map(|t| filled(t.trim(), &values));
        let context = text("context").unwrap_or_else(|| ".".into());
        let file = text("file").unwrap_or_else(|| format!("{context}/Dockerfile"));
        if file.contains("${{") {
            return;
        }
        let origin = path.display().to_string();
        // A platform from an expression (`${{ matrix.platform }}`) is not known here.
        let platforms = text("platforms")
            .unwrap_or_default()
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty() && !p.contains("${{"))
            .map(|p| (p.to_string(), origin.clone()))
            .collect();
        let context = (!context.contains("${{")).then(|| (normalise(Path::new(&context)), origin.clone()));
        let images = entry.and_then(|e| e.get("image")).and_then(Value::as_str).filter(|i| !i.contains("${{"));
        let mut images: Vec<String> = images.map(image_name).into_iter().collect();
        let tags = text("tags").unwrap_or_default();
        let from_steps = named.iter().filter(|(id, _)| tags.contains(&format!("steps.{id}.outputs.tags")));
        let written = tags.split([',', '\n']).map(|tag| image_name(tag.trim()));
        for name in written.chain(from_steps.flat_map(|(_, names)| names.clone())) {
            if tagged_name(&name) && !images.contains(&name) {
                images.push(name);
            }
        }
        self.builds.push(Build {
            dockerfile: normalise(Path::new(&file)),
            images,
            platforms,
            context,
            target: text("target").filter(|t| !t.is_empty() && !t.contains("${{")),
            ..Build::default()
        });
    }
}

/// The literal values an `env:` (a workflow's, a job's or a step's) sets, as the expressions
/// that read them (`env.IMAGE_NAME`).
fn env_of(value: &Value) -> Vec<(String, String)> {
    let set = value.get("env").and_then(Value::as_mapping).into_iter().flatten();
    set.filter_map(|(name, value)| Some((format!("env.{}", name.as_str()?), super::scalar(value)?)))
        .filter(|(_, value)| !value.contains("${{"))
        .collect()
}

/// `text` with each expression `values` gives (`env.IMAGE_NAME`, `matrix.dockerfile`,
/// `github.repository`), written `${{ name }}` or `${{name}}`, filled in.
fn filled(text: &str, values: &[(String, String)]) -> String {
    values.iter().fold(text.to_string(), |text, (name, value)| {
        text.replace(&format!("${{{{ {name} }}}}"), value).replace(&format!("${{{{{name}}}}}"), value)
    })
}

/// The images each `docker/metadata-action` step of a job names (`images: ghcr.io/acme/app`, one
/// per line, also as `name=ghcr.io/acme/app,enable=…`, with the `env` it runs with filled in),
/// by the step's `id`: their names.
fn metadata_images(steps: &[&Value], env: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let metadata = steps.iter().filter(|step| {
        step.get("uses").and_then(Value::as_str).is_some_and(|u| u.starts_with("docker/metadata-action@"))
    });
    metadata
        .filter_map(|step| {
            let id = step.get("id").and_then(Value::as_str)?;
            let images = filled(step.get("with")?.get("images")?.as_str()?, env);
            let names = images
                .split([',', '\n'])
                .map(str::trim)
                .filter(|entry| !entry.contains('=') || entry.starts_with("name="));
            let names = names.map(|entry| image_name(entry.trim_start_matches("name="))).filter(|n| tagged_name(n));
            Some((id.to_string(), names.collect()))
        })
        .collect()
}

/// True for an image name a `tags` entry writes out (`casdoor` of
/// `casbin/casdoor:${{ env.VERSION }}`), not one an expression gives (`${{ steps.meta.outputs.tags }}`).
fn tagged_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['$', '{', '}', ' '])
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

    #[test]
    fn a_jobs_container_is_a_build_environment() {
        let mut repo = Repository::default();
        let build = "jobs:\n  builder:\n    steps:\n      - run: |\n          cd ci/builder\n          export IMAGE=acme/builder\n          docker build -t $IMAGE:latest .\n";
        repo.read(Path::new(".github/workflows/builder.yml"), build);
        assert_eq!(repo.image_names(Path::new("ci/builder/Dockerfile")), ["builder"], "a script's $IMAGE");
        assert_eq!(repo.for_dockerfile(Path::new("ci/builder/Dockerfile")).job_container, None);
        let test =
            "jobs:\n  unit:\n    container:\n      image: acme/builder:latest\n    steps:\n      - run: make test\n";
        repo.read(Path::new(".github/workflows/test.yml"), test);
        let job = repo.for_dockerfile(Path::new("ci/builder/Dockerfile")).job_container;
        assert_eq!(job.as_deref(), Some(".github/workflows/test.yml (job unit)"));
    }

    #[test]
    fn env_values_fill_the_tags_and_metadata_images() {
        let mut repo = Repository::default();
        let workflow = "env:\n  REGISTRY: ghcr.io\n  IMAGE_NAME: acme/perftest\njobs:\n  publish:\n    env:\n      TOOL: acme/tool\n    steps:\n      - id: meta\n        uses: docker/metadata-action@v5\n        with:\n          images: ${{ env.REGISTRY }}/${{ env.TOOL }}\n      - uses: docker/build-push-action@v6\n        with:\n          file: Dockerfile.perftest\n          tags: |\n            ${{ env.REGISTRY }}/${{ env.IMAGE_NAME }}:stable\n      - uses: docker/build-push-action@v6\n        with:\n          file: Dockerfile.tool\n          tags: ${{ steps.meta.outputs.tags }}\n";
        repo.read(Path::new(".github/workflows/images.yml"), workflow);
        assert_eq!(repo.image_names(Path::new("Dockerfile.perftest")), ["perftest"]);
        assert_eq!(repo.image_names(Path::new("Dockerfile.tool")), ["tool"], "the metadata step's, from the job's env");
    }

    #[test]
    fn a_matrix_entry_names_the_dockerfile_and_its_image() {
        let mut repo = Repository::default();
        let workflow = "jobs:\n  images:\n    strategy:\n      matrix:\n        include:\n          - image: acme/hub\n            dockerfile: ./build/Dockerfile.hub\n          - image: ghcr.io/acme/agent\n            dockerfile: ./build/Dockerfile.agent\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          file: ${{ matrix.dockerfile }}\n";
        repo.read(Path::new(".github/workflows/images.yml"), workflow);
        assert_eq!(repo.image_names(Path::new("build/Dockerfile.hub")), ["hub"]);
        assert_eq!(repo.image_names(Path::new("build/Dockerfile.agent")), ["agent"]);
    }

    #[test]
    fn a_build_push_step_names_its_images_and_target_stage() {
        let mut repo = Repository::default();
        let workflow = "jobs:\n  push:\n    steps:\n      - uses: docker/build-push-action@v3\n        with:\n          context: .\n          target: STANDARD\n          tags: acme/portal:${{ needs.release.outputs.version }},acme/portal:latest\n      - uses: docker/build-push-action@v3\n        with:\n          target: ALLINONE\n          tags: |\n            portal-all-in-one:latest\n            ${{ steps.meta.outputs.tags }}\n";
        repo.read(Path::new(".github/workflows/build.yml"), workflow);
        let targets = repo.image_targets(Path::new("Dockerfile"));
        let expected = [("portal", "STANDARD"), ("portal-all-in-one", "ALLINONE")];
        let expected: Vec<_> = expected.iter().map(|(n, t)| (n.to_string(), Some(t.to_string()))).collect();
        assert_eq!(targets, expected);
    }

    #[test]
    fn tags_from_a_metadata_step_name_its_images() {
        let mut repo = Repository::default();
        let workflow = "jobs:
  toolchain:
    steps:
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: |
            ghcr.io/acme/build
            name=docker.io/acme/build-mirror,enable=${{ github.ref == 'refs/heads/main' }}
      - uses: docker/build-push-action@v6
        with:
          file: Dockerfile.toolchain
          tags: ${{ steps.meta.outputs.tags }}
  app:
    steps:
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: ghcr.io/acme/app
      - uses: docker/build-push-action@v6
        with:
          tags: ${{ steps.meta.outputs.tags }}
";
        repo.read(Path::new(".github/workflows/images.yml"), workflow);
        assert_eq!(repo.image_names(Path::new("Dockerfile.toolchain")), ["build", "build-mirror"]);
        assert_eq!(repo.image_names(Path::new("Dockerfile")), ["app"], "each job's metadata step is its own");
    }

    #[test]
    fn a_run_step_builds_where_its_script_goes() {
        let mut repo = Repository::default();
        let workflow = "jobs:
  web:
    steps:
      - run: |
          cd portal/web
          docker build . -f Dockerfile -t docker.io/acme/portal-web:${{ github.sha }}
      - working-directory: tools/agent
        run: docker build -t acme/agent:ci .
      - run: |
          cd \"$RUNNER_TEMP\"
          docker build -t acme/elsewhere .
";
        repo.read(Path::new(".github/workflows/build.yml"), workflow);
        assert_eq!(repo.image_names(Path::new("portal/web/Dockerfile")), ["portal-web"]);
        assert_eq!(repo.image_names(Path::new("tools/agent/Dockerfile")), ["agent"]);
        assert!(!repo.image_names(Path::new("Dockerfile")).contains(&"elsewhere".to_string()), "not followed");
    }
}
