//! How the repository builds and runs each Dockerfile's image outside the Dockerfile: Compose
//! services (`build`, `image`, `command`, `entrypoint`, build `args`), skaffold artifacts (image
//! names, `buildArgs`, the `requires` aliases that fill `FROM $BASE`), Docker Bake targets
//! (`args`, `tags`), GoReleaser's image entries (the Go binary built before `docker build`), Tilt's
//! `docker_build` calls (image names, entrypoints) and the Kubernetes containers that run those
//! images (`command`, `args`).
//!
//! [`Repository::read`] parses the files' text (pure); [`Repository::for_dockerfile`] answers for
//! one Dockerfile. The walk that finds the files is the I/O edge, in `run.rs`.

use std::path::{Component, Path, PathBuf};

use crate::kubernetes::documents_read as documents;
use kubernetes::{Container, containers};
use yaml::{key_values, scalar, words};

mod bake;
mod cloudbuild;
mod compose;
mod development;
mod devspace;
mod docs;
mod goreleaser;
pub mod helm;
mod image_tags;
mod ko;
mod kubernetes;
mod makefile;
mod reference;
mod skaffold;
mod tilt;
mod updaters;
mod workflows;
mod yaml;

pub use bake::BAKE_FILES;
pub use cloudbuild::is_cloudbuild;
pub use compose::is_compose_name;
pub use development::is_development_name;
pub use devspace::is_devspace_name;
pub use goreleaser::{GORELEASER_DIR, Released, is_goreleaser_name};
pub use ko::{default_base as ko_default_base, is_ko_name};
pub use makefile::{SetImage, variables_spelled};
pub use reference::{
    holds_no_repository, image_name, image_namespace, linuxserver_image, release_version, without_tag,
};
pub use skaffold::is_skaffold_name;
pub use workflows::{is_workflow, runs_on_push, workflow_files};

/// What the repository says about one Dockerfile's image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Orchestration {
    /// Commands that run the image, with where they are written.
    pub commands: Vec<Command>,
    /// The stages its builds stop at (`--target examples`, a workflow's `target:`): images of
    /// their own.
    pub targets: Vec<String>,
    /// Commands run inside its containers to check them (a Compose `healthcheck`, a Kubernetes
    /// `exec` probe or lifecycle hook), with where they are written.
    pub checks: Vec<Command>,
    /// Build arguments given to its build, with where they are written.
    pub build_args: Vec<BuildArg>,
    /// Build arguments whose value, literal or not, passes `-s -w` to the linker
    /// (`ldflags="$(LDFLAGS) -s -w"`), with where: a build taking its `-ldflags` from one strips.
    pub stripping_args: Vec<BuildArg>,
    /// Where it is built without BuildKit (skaffold's default Docker builder, kaniko), so a
    /// `RUN --mount` would fail there.
    pub without_buildkit: Option<String>,
    /// Set when GoReleaser builds the image around a Go binary it built first.
    pub released: Option<Released>,
    /// What keeps the repository's Dockerfile images current (`Renovate (renovate.json)`), when
    /// something does.
    pub image_updater: Option<String>,
    /// What Kubernetes containers and Compose services running the image ask of it that only root
    /// keeps, with where: `deploy/speaker.yaml (container speaker) adds the capability NET_RAW`.
    pub root_needs: Vec<String>,
    /// The host directories documented runs of the image bind-mount writable, each with where
    /// (`/var/input`, `README.md:20 (docker run) bind-mounts $(pwd) at /var/input`): the host's
    /// user owns them, so a program writing there needs root or that user.
    pub host_dirs: Vec<(String, String)>,
    /// Set (to how) when every build of the Dockerfile makes no image and nothing runs one: a
    /// check `docker buildx bake` runs with `output = ["type=cacheonly"]`.
    pub no_image: Option<String>,
    /// Set (to how) when every build of the Dockerfile makes a development image (Tilt's
    /// `live_update` syncs files into its running containers).
    pub development: Option<String>,
    /// The platforms its image is built for (`linux/386`), each with where that is said.
    pub platforms: Vec<(String, String)>,
    /// The build context every build of it names (relative to the repository), with where that is
    /// said; `None` when no build names one or they differ.
    pub context: Option<(PathBuf, String)>,
    /// A Dockerfile beside this one whose image runs on a shell-less base (`Dockerfile.distroless`):
    /// the repository publishes such a variant, so a full OS image here is a choice.
    pub shell_less_variant: Option<String>,
    /// A Dockerfile beside this one that builds the same image to run without root
    /// (`Dockerfile.nonroot`): the repository publishes both, so this one's root is a choice.
    pub nonroot_variant: Option<String>,
    /// Set (to where) when CI jobs run in its image as their container (a workflow job's
    /// `container: acme/builder`): a build environment, not a service.
    pub job_container: Option<String>,
}

impl Orchestration {
    /// The build arguments every place that builds the image agrees on (an argument given two
    /// values is left out: which one applies depends on how it is built).
    pub fn agreed_build_args(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for arg in &self.build_args {
            let disagrees = self.build_args.iter().any(|other| other.name == arg.name && other.value != arg.value);
            if !disagrees && !out.iter().any(|(name, _)| *name == arg.name) {
                out.push((arg.name.clone(), arg.value.clone()));
            }
        }
        out
    }
}

/// A command that runs the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Where it is written: `compose.yaml (service api)`, `deploy/api.yaml (container api)`.
    pub origin: String,
    /// Its words: the entrypoint's, then the arguments.
    pub words: Vec<String>,
    /// True when it replaces the image's ENTRYPOINT (Compose `entrypoint`, Kubernetes `command`);
    /// false for arguments alone (Compose `command`, Kubernetes `args`).
    pub replaces_entrypoint: bool,
}

impl Command {
    /// What runs the image, from the words that replace its entrypoint (Compose `entrypoint`,
    /// Kubernetes `command`) and those that are only its arguments (Compose `command`, Kubernetes
    /// `args`); `None` when neither is given.
    fn from_parts(origin: &str, entrypoint: Option<Vec<String>>, args: Option<Vec<String>>) -> Option<Command> {
        let origin = origin.to_string();
        match (entrypoint, args) {
            (Some(mut words), args) => {
                words.extend(args.unwrap_or_default());
                Some(Command { origin, words, replaces_entrypoint: true })
            }
            (None, Some(words)) => Some(Command { origin, words, replaces_entrypoint: false }),
            (None, None) => None,
        }
    }
}

/// A build that gives build arguments: the names of the images it makes, and the arguments
/// (name, value).
pub type ArgumentBuild = (Vec<String>, Vec<(String, String)>);

/// A build argument given to the image's build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildArg {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Where it is given.
    pub origin: String,
}

/// How one build file builds a Dockerfile.
#[derive(Debug, Clone, Default)]
struct Build {
    /// The Dockerfile, relative to the repository root, normalised.
    dockerfile: PathBuf,
    /// The names its image is given (without registry, tag or digest).
    images: Vec<String>,
    args: Vec<BuildArg>,
    stripping_args: Vec<BuildArg>,
    commands: Vec<Command>,
    /// Commands run inside its containers to check them (a Compose `healthcheck`).
    checks: Vec<Command>,
    /// What its containers ask that only root keeps (a Compose service's bind mount), with where.
    root_needs: Vec<String>,
    /// Set (to where) when this build runs without BuildKit.
    without_buildkit: Option<String>,
    /// Set when GoReleaser builds it.
    released: Option<Released>,
    /// The stage it builds (`--target`), when not the last.
    target: Option<String>,
    /// Set (to how) when the build makes a development image: Tilt's `live_update` syncs files
    /// into its running containers.
    development: Option<String>,
    /// Set (to what it exports) when the build makes no image: a check that only runs
    /// (`output = ["type=cacheonly"]`), or files exported to a directory (`./bin`).
    no_image: Option<String>,
    /// The platforms it builds for (`linux/arm64`), each with where that is said.
    platforms: Vec<(String, String)>,
    /// Its build context (relative to the repository, normalised), with where that is said,
    /// when the build file names it.
    context: Option<(PathBuf, String)>,
}

/// Directories that hold a Dockerfile without naming its image (`images/echo/rootfs/Dockerfile`
/// builds `echo`).
const GENERIC_DIRS: &[&str] = &["rootfs", "build", "docker", "image", "images", "container", "dockerfiles"];

/// The name a build file gives an image by the repository's own (`ghcr.io/${{ github.repository
/// }}`), which is the repository's name once that is known.
const REPOSITORY_NAME: &str = "<repository>";

/// What the repository's Compose files, skaffold configs and manifests say.
#[derive(Debug, Clone, Default)]
pub struct Repository {
    builds: Vec<Build>,
    /// The images ko builds (see [`Repository::ko_images`]), and whether it builds any here.
    ko_images: Vec<String>,
    builds_with_ko: bool,
    /// The user every image ko builds here runs as, when its base image says (`65532:65532` on
    /// a `:nonroot` distroless base or ko's own default).
    ko_user: Option<String>,
    containers: Vec<Container>,
    image_updater: Option<String>,
    /// The repository's name: the image a Dockerfile at the root becomes when nothing names it.
    root_name: Option<String>,
    /// The images Makefiles and scripts set in kustomizations.
    set_images: Vec<SetImage>,
    /// The `docker run` commands READMEs document that need root.
    documented: Vec<docs::DocumentedRun>,
    /// The commands READMEs run in a container of the image their directory's Dockerfile
    /// builds (`docker exec -it app /bin/bash`), by that directory.
    documented_execs: Vec<(PathBuf, Command)>,
    /// The binaries GoReleaser builds, each with its `main` package (relative to the root).
    released_programs: Vec<(String, PathBuf)>,
    /// The images CI jobs run in (a workflow job's `container:`), each with where.
    job_containers: Vec<(String, String)>,
    /// The images skaffold artifacts build, as their manifests name them (`capch-controller`).
    skaffold_images: Vec<String>,
    /// The images development tools build as root, each with the build that makes them so.
    development_root_images: Vec<(String, String)>,
    /// The images development tools sync files into as they run, each with the build that does.
    synced_images: Vec<(String, String)>,
    /// The images released versions' manifests run, as written (`acme/ccm:v0.1.68`).
    released: Vec<String>,
}

impl Repository {
    /// The images Makefiles and scripts set in kustomizations.
    pub fn set_images(&self) -> &[SetImage] {
        &self.set_images
    }

    /// The image names manifests hold for another to take their place as they deploy: those
    /// Makefiles and scripts set in kustomizations, and skaffold artifacts' (skaffold puts the
    /// reference it builds in their place in the manifests it renders or deploys).
    pub fn replaced_images(&self) -> impl Iterator<Item = String> + '_ {
        self.set_images.iter().map(|set| set.name.clone()).chain(self.skaffold_images.iter().cloned())
    }

    /// Reads one file (its path relative to the repository root, and its text): a Compose file,
    /// a skaffold or GoReleaser configuration or a Kubernetes manifest, by its name and content. Files that do
    /// not parse add nothing (their own report says why).
    pub fn read(&mut self, path: &Path, text: &str) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let dir = path.parent().unwrap_or(Path::new(""));
        let other = is_compose_name(name)
            || is_skaffold_name(name)
            || is_devspace_name(name)
            || is_cloudbuild(path)
            || is_goreleaser_name(name)
            || dir.ends_with(GORELEASER_DIR)
            || is_ko_name(name);
        if !other && !is_workflow(path) {
            return self.manifest(path, text);
        }
        for doc in documents(text) {
            if is_compose_name(name) {
                self.compose(&doc, dir, path);
            } else if is_skaffold_name(name) {
                self.skaffold(&doc, dir, path);
            } else if is_devspace_name(name) {
                self.devspace(&doc, dir, path);
            } else if is_cloudbuild(path) {
                self.cloudbuild(&doc, path);
            } else if is_goreleaser_name(name) || dir.ends_with(GORELEASER_DIR) {
                self.goreleaser(&doc, path);
            } else if is_ko_name(name) {
                self.ko(&doc);
            } else {
                self.workflow(&doc, path);
            }
        }
    }

    /// The names (without registry, tag or digest) of the image built from the Dockerfile at
    /// `dockerfile` (relative to the root): those a Compose file or skaffold config gives it, or,
    /// when none does, the name of its directory.
    pub fn image_names(&self, dockerfile: &Path) -> Vec<String> {
        self.image_targets(dockerfile).into_iter().map(|(name, _)| name).collect()
    }

    /// The names of [`Repository::image_names`], each with the stage its build stops at
    /// (`--target`; `None` for the last stage).
    pub fn image_targets(&self, dockerfile: &Path) -> Vec<(String, Option<String>)> {
        let dockerfile = normalise(dockerfile);
        let mut images: Vec<(String, Option<String>)> = self
            .builds
            .iter()
            .filter(|b| b.dockerfile == dockerfile)
            .flat_map(|b| b.images.iter().filter_map(|i| self.named(i)).map(|i| (i, b.target.clone())))
            .collect();
        // The directory that names the image: above a generic one (`images/echo/rootfs/`); not
        // for a development or test variant of it.
        let named = dockerfile.ancestors().skip(1).find(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| GENERIC_DIRS.contains(&n.to_ascii_lowercase().as_str()))
        });
        let dir = match named.filter(|p| !p.as_os_str().is_empty()) {
            Some(parent) => parent.file_name().and_then(|n| n.to_str()),
            None => self.root_name.as_deref(),
        };
        let name = dockerfile.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_ascii_lowercase();
        let variant = is_development_name(&name);
        if images.is_empty()
            && !variant
            && let Some(dir) = dir
        {
            // Image names are lowercase where a repository's name may not be (`Reloader`).
            let dir = dir.to_ascii_lowercase();
            images.push((dir.clone(), None));
            // Image names take a dash where directory names often have an underscore
            // (`elasticsearch_exporter` publishes `elasticsearch-exporter`).
            if dir.contains('_') {
                images.push((dir.replace('_', "-"), None));
            }
        }
        images
    }

    /// Each build of the Dockerfile that gives build arguments: the names of the images it makes
    /// (as [`Repository::image_targets`] gives them) and the arguments whose values are known.
    pub fn builds_with_args(&self, dockerfile: &Path) -> Vec<ArgumentBuild> {
        let dockerfile = normalise(dockerfile);
        let builds = self.builds.iter().filter(|b| b.dockerfile == dockerfile && !b.args.is_empty());
        let known =
            |b: &Build| b.args.iter().filter(|a| resolved(a)).map(|a| (a.name.clone(), a.value.clone())).collect();
        builds.map(|b| (b.images.iter().filter_map(|i| self.named(i)).collect(), known(b))).collect()
    }

    /// An image name as a build gives it: the repository's own name where the build names none.
    fn named(&self, image: &String) -> Option<String> {
        match image == REPOSITORY_NAME {
            true => self.root_name.clone(),
            false => Some(image.clone()),
        }
    }

    /// True when a build file of the repository (a workflow, Makefile, Compose, bake or
    /// GoReleaser file) builds the Dockerfile at `dockerfile` (relative to the repository).
    pub fn builds_dockerfile(&self, dockerfile: &Path) -> bool {
        let dockerfile = normalise(dockerfile);
        self.builds.iter().any(|b| b.dockerfile == dockerfile)
    }

    /// True when a Kubernetes container of the repository runs one of the images in `built`.
    pub fn runs_any(&self, built: &std::collections::BTreeSet<String>) -> bool {
        self.containers.iter().any(|c| built.contains(&c.image))
    }

    /// The references, without tag or digest, of the images named `name` that the repository's
    /// Kubernetes and Compose containers run (`registry.k8s.io/acme/controller` for `controller`).
    pub fn image_paths<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.containers.iter().filter(move |c| c.image == name).map(|c| without_tag(&c.reference))
    }

    /// True when a Kubernetes container of the repository runs an image named `name`.
    pub fn runs_image(&self, name: &str) -> bool {
        self.containers.iter().any(|c| c.image == name)
    }

    /// Names the repository (its directory's name), whose name a Dockerfile at the root gives
    /// its image when nothing else names it.
    pub fn name_repository(&mut self, name: &str) {
        self.root_name = Some(name.to_string());
    }

    /// What the containers that run the image of the Dockerfile at `dockerfile` (relative to the
    /// repository) ask of it that only root keeps: theirs to judge, not a reason of the image's.
    pub fn containers_root_needs(&self, dockerfile: &Path) -> Vec<String> {
        let images = self.image_names(&normalise(dockerfile));
        self.containers.iter().filter(|c| images.contains(&c.image)).filter_map(|c| c.root_need.clone()).collect()
    }

    /// What the repository says about the Dockerfile at `dockerfile` (relative to the root).
    /// Kubernetes containers count when they run an image a Compose file or skaffold config
    /// builds from it, or, when none names it, an image named after the Dockerfile's directory
    /// (the repository's, for one at the root).
    pub fn for_dockerfile(&self, dockerfile: &Path) -> Orchestration {
        let dockerfile = normalise(dockerfile);
        let builds: Vec<&Build> = self.builds.iter().filter(|b| b.dockerfile == dockerfile).collect();
        let images = self.image_names(&dockerfile);
        let mut out = Orchestration { image_updater: self.image_updater.clone(), ..Orchestration::default() };
        for build in &builds {
            out.commands.extend(build.commands.iter().cloned());
            out.checks.extend(build.checks.iter().cloned());
            out.root_needs.extend(build.root_needs.iter().cloned());
            out.build_args.extend(build.args.iter().cloned());
            out.stripping_args.extend(build.stripping_args.iter().cloned());
            out.without_buildkit = out.without_buildkit.take().or_else(|| build.without_buildkit.clone());
            out.platforms.extend(build.platforms.iter().cloned());
            out.targets.extend(build.target.iter().filter(|t| !out.targets.contains(t)).cloned().collect::<Vec<_>>());
            out.released = match (out.released.take(), &build.released) {
                (Some(seen), Some(this)) => Some(seen.with(this)),
                (seen, this) => seen.or_else(|| this.clone()),
            };
        }
        let contexts: Vec<&(PathBuf, String)> = builds.iter().filter_map(|b| b.context.as_ref()).collect();
        if contexts.len() == builds.len() && contexts.iter().all(|(dir, _)| *dir == contexts[0].0) {
            out.context = contexts.first().map(|c| (*c).clone());
        }
        let running = || self.containers.iter().filter(|c| images.contains(&c.image));
        out.commands.extend(running().filter_map(|c| c.command.clone()));
        out.root_needs.extend(self.containers_root_needs(&dockerfile));
        let documented = self.documented.iter().filter(|d| images.contains(&d.image));
        for run in documented {
            out.root_needs.extend(run.root_need.clone());
            out.host_dirs.extend(run.host_dirs.iter().cloned());
        }
        out.checks.extend(running().flat_map(|c| c.checks.iter().cloned()));
        let beside = self.documented_execs.iter().filter(|(dir, _)| Some(dir.as_path()) == dockerfile.parent());
        out.checks.extend(beside.map(|(_, command)| command.clone()));
        if !builds.is_empty() && builds.iter().all(|b| b.no_image.is_some()) && running().next().is_none() {
            out.no_image = builds[0].no_image.clone();
        }
        if !builds.is_empty() && builds.iter().all(|b| b.development.is_some()) {
            out.development = builds[0].development.clone();
        }
        out.job_container =
            self.job_containers.iter().find(|(image, _)| images.contains(image)).map(|(_, at)| at.clone());
        out
    }
}

/// A value that is known here: not empty, and not taken from the environment (`${GO_IMG}`).
fn resolved(arg: &BuildArg) -> bool {
    !arg.value.is_empty() && !arg.value.contains('$')
}

/// A relative path with `.` and `..` resolved.
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_development_variant_is_not_named_after_its_directory() {
        let mut repo = Repository::default();
        repo.name_repository("tetra");
        assert_eq!(repo.image_names(Path::new("Dockerfile")), ["tetra"]);
        assert_eq!(repo.image_names(Path::new("Dockerfile.operator")), ["tetra"]);
        assert!(repo.image_names(Path::new("Dockerfile.dev")).is_empty());
        assert!(repo.image_names(Path::new("agent/e2e.Dockerfile")).is_empty());
        assert!(is_development_name("telemetry_mock_api") && !is_development_name("api"), "a test's stand-in");
    }

    #[test]
    fn bake_targets_give_their_build_arguments() {
        let mut repo = Repository::default();
        repo.read_bake(
            Path::new("docker-bake.hcl"),
            "variable \"GO_VERSION\" {\n  default = \"1.22\"\n}\ntarget \"api\" {\n  context = \"./api\"\n  dockerfile = \"Dockerfile\"\n  args = {\n    BUILDER = \"golang:1.22\"\n    GO = GO_VERSION\n  }\n  tags = [\"ghcr.io/acme/api:latest\"]\n}\n",
        );
        let api = repo.for_dockerfile(Path::new("api/Dockerfile"));
        // `GO = GO_VERSION` takes the variable's default.
        let args = [("BUILDER".to_string(), "golang:1.22".to_string()), ("GO".to_string(), "1.22".to_string())];
        assert_eq!(api.agreed_build_args(), args);
        assert_eq!(api.build_args[0].origin, "docker-bake.hcl (target api)");
        assert!(api.without_buildkit.is_none());
    }

    #[test]
    fn a_manifest_image_named_after_the_dockerfile_directory_counts() {
        let mut repo = Repository::default();
        repo.read(
            Path::new("deploy/worker.yaml"),
            "kind: Pod\nspec:\n  containers:\n  - name: w\n    image: registry.example/acme/worker@sha256:00\n    args: [\"--queue\", \"jobs\"]\n",
        );
        let worker = repo.for_dockerfile(Path::new("services/worker/Dockerfile"));
        assert_eq!(worker.commands[0].words, ["--queue", "jobs"]);
        assert!(repo.for_dockerfile(Path::new("services/api/Dockerfile")).commands.is_empty());
    }
}
