//! The images development tools (Tilt, DevSpace) build as root: a development cluster runs the
//! repository's manifests with them, where harden's `runAsNonRoot` would stop the pods.

use std::path::Path;

use super::Repository;

/// Words in a Dockerfile's name that make it a development or test variant (`Dockerfile.dev`,
/// `e2e.Dockerfile`): not the image its directory's name names.
const VARIANT_WORDS: &[&str] =
    &["dev", "debug", "test", "tests", "e2e", "ci", "local", "coverage", "devcontainer", "mock", "mocks"];

/// True for a name (a Dockerfile's, a stage's) with a word of a development or test variant
/// (`Dockerfile.dev`, `e2e-test`, `debug`).
pub fn is_development_name(name: &str) -> bool {
    name.to_ascii_lowercase().split(['.', '-', '_']).any(|word| VARIANT_WORDS.contains(&word))
}

impl Repository {
    /// The images development tools build as root, by image name, each with a clause that says
    /// which build makes them so (`Tiltfile:10 (docker_build …) also builds for its development
    /// cluster, …`).
    pub fn development_root_images(&self) -> &[(String, String)] {
        &self.development_root_images
    }

    /// The images development tools sync files into as they run (Tilt's `live_update`,
    /// DevSpace's `dev` sync), by image name, each with a clause that says which build does.
    pub fn synced_images(&self) -> &[(String, String)] {
        &self.synced_images
    }

    /// Adds the images the development builds of the repository's Dockerfiles (Tilt's
    /// `live_update`, DevSpace's `dev`) make as root, where `read` gives a Dockerfile's text
    /// from its path (relative to the repository).
    pub fn find_development_root_images(&mut self, read: impl Fn(&Path) -> Option<String>) {
        let mut found = Vec::new();
        for build in self.builds.iter().filter(|b| !b.images.is_empty()) {
            let Some(how) = &build.development else { continue };
            let target = build.target.as_deref();
            if !read(&build.dockerfile).is_some_and(|text| crate::dockerfile::stage_runs_as_root(&text, target)) {
                continue;
            }
            let stage = target.map(|t| format!(" (stage {t})")).unwrap_or_default();
            let clause =
                format!("{}{stage} also builds for development, running as root ({how})", build.dockerfile.display());
            found.extend(build.images.iter().map(|image| (image.clone(), clause.clone())));
        }
        self.development_root_images.extend(found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_development_build_of_a_root_stage_names_its_image() {
        let mut repo = Repository::default();
        let config = "images:\n  op:\n    dockerfile: Dockerfile.dev\n    image: ghcr.io/acme/operator\n    target: builder\n  ui:\n    dockerfile: Dockerfile.dev\n    image: ghcr.io/acme/ui\ndev:\n  op:\n    imageSelector: ghcr.io/acme/operator\n    sync: [{path: ./}]\n  ui:\n    imageSelector: ghcr.io/acme/ui\n    sync: [{path: ./}]\n";
        repo.read(Path::new("devspace.yaml"), config);
        let dockerfile = "FROM golang:1.25 AS builder\nRUN go build -o /app .\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=builder /app /app\n";
        repo.find_development_root_images(|path| (path == Path::new("Dockerfile.dev")).then(|| dockerfile.to_string()));
        let images: Vec<&str> = repo.development_root_images().iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(images, ["operator"], "the final stage runs as 65532");
        let clause = &repo.development_root_images()[0].1;
        assert!(
            clause.starts_with(
                "Dockerfile.dev (stage builder) also builds for development, running as root (devspace.yaml (image op)"
            ),
            "{clause}"
        );
    }
}
