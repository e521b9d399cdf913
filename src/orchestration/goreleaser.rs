//! GoReleaser's configuration (`.goreleaser.yml`): the images its `dockers` and `dockers_v2`
//! entries build from a Dockerfile, around the Go binaries its `builds` made first. Such a
//! Dockerfile builds nothing itself: it copies a Go program built outside it.

use std::path::Path;

use yaml_serde::Value;

use super::{Build, Repository, image_name, normalise};

/// True for the names GoReleaser reads its configuration from (`.goreleaser.yml`,
/// `goreleaser.yaml`, `.goreleaser.pro.yml`…).
pub fn is_goreleaser_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.trim_start_matches('.').starts_with("goreleaser") && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
}

/// The directory where a repository keeps several GoReleaser configurations, one per release
/// (`.goreleaser/connect-ai.yaml`, run with `goreleaser release -f`).
pub const GORELEASER_DIR: &str = ".goreleaser";

impl Repository {
    /// Reads a GoReleaser configuration at `path` (relative to the root): each image entry's
    /// Dockerfile (relative to the root, where GoReleaser runs), the names it gives the image,
    /// and whether the builds it packs link C (`CGO_ENABLED`).
    pub(super) fn goreleaser(&mut self, doc: &Value, path: &Path) {
        let list = |key: &str| doc.get(key).and_then(Value::as_sequence).into_iter().flatten();
        let global_cgo = cgo_of(doc.get("env"));
        // Each build's id, what it says of cgo, and whether it links statically (`-extldflags
        // -static`), so a cgo binary needs no C library of its image.
        let builds: Vec<(Option<&str>, Option<bool>, bool)> = list("builds")
            .map(|b| (b.get("id").and_then(Value::as_str), cgo_of(b.get("env")).or(global_cgo), links_statically(b)))
            .collect();
        // GoReleaser runs where its configuration is, or, for one of a `.goreleaser/` directory
        // (`goreleaser release -f .goreleaser/ai.yaml`), in the directory that holds that.
        let dir = path.parent().unwrap_or(Path::new(""));
        let dir = if dir.ends_with(GORELEASER_DIR) { dir.parent().unwrap_or(Path::new("")) } else { dir };
        // Each build's binary (by default the project's name) and its `main` package, under
        // its `dir` (a module of its own, `dir: httphandler`).
        let project = doc.get("project_name").and_then(Value::as_str);
        for build in list("builds") {
            let text = |key: &str| build.get(key).and_then(Value::as_str);
            let Some(binary) = text("binary").or(project).filter(|b| !b.contains("{{")) else { continue };
            let package = dir.join(text("dir").unwrap_or(".")).join(text("main").unwrap_or("."));
            // `main: ./cmd/app/main.go` names the package's file.
            let package = match package.extension() {
                Some(ext) if ext == "go" => package.parent().map(Path::to_path_buf).unwrap_or_default(),
                _ => package,
            };
            self.released_programs.push((binary.rsplit('/').next().unwrap_or(binary).to_string(), normalise(&package)));
        }
        for (key, images_key) in [("dockers", "image_templates"), ("dockers_v2", "images")] {
            for entry in list(key) {
                let dockerfile = entry.get("dockerfile").and_then(Value::as_str).unwrap_or("Dockerfile");
                let ids: Vec<&str> = entry
                    .get("ids")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let packed: Vec<_> =
                    builds.iter().filter(|(id, ..)| ids.is_empty() || id.is_some_and(|id| ids.contains(&id))).collect();
                let cgo = packed.iter().fold(None, |seen, (_, cgo, _)| either_cgo(seen, *cgo));
                let static_cgo = packed.iter().filter(|(_, cgo, _)| *cgo == Some(true)).all(|(.., s)| *s);
                let images = entry
                    .get(images_key)
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|template| template.split("{{").next().unwrap_or_default())
                    .map(|name| image_name(name.trim_end_matches([':', '-'])))
                    .filter(|name| !name.is_empty())
                    .collect();
                self.builds.push(Build {
                    dockerfile: normalise(&dir.join(dockerfile)),
                    images,
                    released: Some(Released { origin: format!("{}, {key}", path.display()), cgo, static_cgo }),
                    ..Build::default()
                });
            }
        }
    }
}

impl Repository {
    /// The binaries GoReleaser builds, each with its `main` package (relative to the root).
    pub fn released_programs(&self) -> &[(String, std::path::PathBuf)] {
        &self.released_programs
    }
}

/// How GoReleaser builds an image: `docker build` around the Go binaries its `builds` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    /// Where: `.goreleaser.yml, dockers`.
    pub origin: String,
    /// Whether the binaries link C: `Some(true)` when a build it packs sets `CGO_ENABLED=1`,
    /// `None` when no build says.
    pub cgo: Option<bool>,
    /// True when every cgo build it packs links statically (`-extldflags=-static`).
    pub static_cgo: bool,
}

impl Released {
    /// How its binaries link, as a phrase after "GoReleaser builds it (…)": ` with cgo (CGO_ENABLED=1),
    /// so it needs its base's C library,`, ` with cgo, linked statically,` or nothing.
    pub fn cgo_phrase(&self) -> &'static str {
        match (self.cgo, self.static_cgo) {
            (Some(true), false) => " with cgo (CGO_ENABLED=1), so it needs its base's C library,",
            (Some(true), true) => " with cgo, linked statically,",
            (Some(false), _) => " with cgo off (CGO_ENABLED=0), a static binary,",
            (None, _) => "",
        }
    }

    /// False when every binary it packs is static (cgo off, or linked statically): none needs
    /// a C library of its image.
    pub fn may_link_c(&self) -> bool {
        match self.cgo {
            Some(true) => !self.static_cgo,
            Some(false) => false,
            None => true,
        }
    }

    /// Both GoReleaser entries that build one Dockerfile: cgo when either links C.
    pub(super) fn with(self, other: &Released) -> Released {
        Released { cgo: either_cgo(self.cgo, other.cgo), static_cgo: self.static_cgo && other.static_cgo, ..self }
    }
}

/// Whether binaries link C, given what two builds say: yes when one does.
fn either_cgo(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (a, b) => a.or(b),
    }
}

/// True when a build's `ldflags` link the binary statically (`-extldflags=-static`).
fn links_statically(build: &Value) -> bool {
    let flags: Vec<&str> = match build.get("ldflags") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Sequence(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    flags.iter().any(|f| f.contains("-extldflags") && f.contains("-static"))
}

/// What an `env` list (`[CGO_ENABLED=0, …]`) says of cgo.
fn cgo_of(env: Option<&Value>) -> Option<bool> {
    let list = env.and_then(Value::as_sequence).into_iter().flatten().filter_map(Value::as_str);
    list.filter_map(|kv| kv.split_once('=')).find(|(k, _)| k.trim() == "CGO_ENABLED").map(|(_, v)| v.trim() != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_of_a_goreleaser_directory_runs_from_the_root() {
        let mut repo = Repository::default();
        let text = "builds:\n  - id: ai\n    main: cmd/app-ai/main.go\n    binary: app\ndockers_v2:\n  - dockerfile: resources/docker/ai.Dockerfile\n    images: [acme/app]\n";
        repo.read(Path::new(".goreleaser/ai.yaml"), text);
        assert_eq!(repo.image_names(Path::new("resources/docker/ai.Dockerfile")), ["app"]);
        assert!(repo.for_dockerfile(Path::new("resources/docker/ai.Dockerfile")).released.is_some());
    }

    #[test]
    fn image_entries_name_their_dockerfile_images_and_cgo() {
        let text = "env: [CGO_ENABLED=0]\nbuilds:\n  - id: server\n    env: [CGO_ENABLED=1]\n  - id: cli\n  - id: static\n    env: [CGO_ENABLED=1]\n    ldflags: [\"-s -w -linkmode=external -extldflags=-static\"]\ndockers:\n  - image_templates: [\"acme/server:{{ .Tag }}-amd64\"]\n    dockerfile: build/Dockerfile.server\n    ids: [server]\n  - image_templates: [\"ghcr.io/acme/cli:{{ .Tag }}\", \"{{ .Env.REGISTRY }}/cli\"]\n    ids: [cli]\n  - dockerfile: Dockerfile.static\n    ids: [static]\ndockers_v2:\n  - images: [acme/all]\n";
        let mut repo = Repository::default();
        repo.read(Path::new("release/.goreleaser.yml"), text);
        let server = repo.for_dockerfile(Path::new("release/build/Dockerfile.server"));
        let released = server.released.expect("GoReleaser builds it");
        assert_eq!((released.origin.as_str(), released.cgo), ("release/.goreleaser.yml, dockers", Some(true)));
        assert!(!released.static_cgo, "the server links its C libraries dynamically");
        assert_eq!(repo.image_names(Path::new("release/build/Dockerfile.server")), ["server"]);
        let plain = repo.for_dockerfile(Path::new("release/Dockerfile")).released.expect("the default Dockerfile");
        assert_eq!(plain.cgo, Some(true), "dockers_v2 packs every build, the server's with cgo");
        assert_eq!(repo.image_names(Path::new("release/Dockerfile")), ["cli", "all"]);
        assert!(repo.for_dockerfile(Path::new("Dockerfile")).released.is_none());
        let linked =
            repo.for_dockerfile(Path::new("release/Dockerfile.static")).released.expect("GoReleaser builds it");
        assert!(linked.cgo == Some(true) && linked.static_cgo, "cgo, linked statically");
        assert!(is_goreleaser_name(".goreleaser.yaml") && is_goreleaser_name("goreleaser.pro.yml"));
        assert!(!is_goreleaser_name("release.yml"));
    }

    #[test]
    fn builds_name_the_main_package_of_each_binary() {
        let text = "project_name: relay\nbuilds:\n  - id: http\n    dir: server\n    binary: relay-server\n  - id: cli\n    main: ./cmd/relay/main.go\n  - id: tool\n    binary: '{{ .ProjectName }}-tool'\n";
        let mut repo = Repository::default();
        repo.read(Path::new(".goreleaser.yaml"), text);
        let released: Vec<(&str, &Path)> =
            repo.released_programs().iter().map(|(name, package)| (name.as_str(), package.as_path())).collect();
        // A module of its own; the project's name and a file's package; no templated name.
        assert_eq!(released, [("relay-server", Path::new("server")), ("relay", Path::new("cmd/relay"))]);
    }
}
