//! ko's configuration (`.ko.yaml`): ko builds an image from each Go `main` package it is given,
//! on `defaultBaseImage` (or a `baseImageOverrides` entry), with no Dockerfile; the images it
//! builds are named after the packages' directories.

use yaml_serde::Value;

use super::Repository;

/// The base ko builds on when its configuration names none: Chainguard's static image, which
/// runs programs as 65532.
const KO_DEFAULT_BASE: &str = "cgr.dev/chainguard/static";

/// True for the names ko reads its configuration from.
pub fn is_ko_name(name: &str) -> bool {
    matches!(name, ".ko.yaml" | ".ko.yml")
}

/// The base image a ko configuration builds on by default, when it names one.
pub fn default_base(text: &str) -> Option<String> {
    let doc: Value = yaml_serde::from_str(text).ok()?;
    doc.get("defaultBaseImage").and_then(Value::as_str).map(str::to_string)
}

impl Repository {
    /// Reads a ko configuration: the images it builds are named after each build's `main`
    /// package directory (`./cmd/controller` → `controller`), and after its `id`.
    pub(super) fn ko(&mut self, doc: &Value) {
        let builds = doc.get("builds").and_then(Value::as_sequence).into_iter().flatten();
        for build in builds {
            let main = build.get("main").and_then(Value::as_str).map(|m| m.trim_end_matches('/'));
            let named = main.and_then(|m| m.rsplit('/').next()).filter(|n| !matches!(*n, "" | "."));
            let id = build.get("id").and_then(Value::as_str);
            self.ko_images.extend(named.into_iter().chain(id).map(str::to_string));
        }
        // ko names an image built from the module's root after the module, which is the
        // repository's name here as elsewhere.
        self.builds_with_ko = true;
        // Overrides give some images other bases: then no one user is known.
        if doc.get("baseImageOverrides").is_none() {
            let base = doc.get("defaultBaseImage").and_then(Value::as_str).unwrap_or(KO_DEFAULT_BASE);
            let nonroot =
                base == KO_DEFAULT_BASE || crate::dockerfile::image::ImageRef::parse(base).default_user_is_nonroot();
            self.ko_user = nonroot.then(|| crate::dockerfile::plan::NONROOT.to_string());
        }
    }

    /// The user the images ko builds here run as, when their base image says.
    pub fn ko_user(&self) -> Option<&String> {
        self.ko_user.as_ref().filter(|_| self.builds_with_ko)
    }

    /// The names of the images ko builds here (with the repository's name, for its root package),
    /// when the repository has a ko configuration.
    pub fn ko_images(&self) -> Vec<String> {
        if !self.builds_with_ko {
            return Vec::new();
        }
        self.ko_images.iter().cloned().chain(self.root_name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ko_names_its_images_after_their_packages() {
        let mut repo = Repository::default();
        assert!(repo.ko_images().is_empty());
        repo.name_repository("external-dns");
        let text = "defaultBaseImage: gcr.io/distroless/static-debian12:latest\nbuilds:\n- id: controller\n  main: ./cmd/controller/\n- main: .\n";
        repo.read(std::path::Path::new(".ko.yaml"), text);
        assert_eq!(repo.ko_images(), ["controller", "controller", "external-dns"]);
        assert_eq!(default_base(text).as_deref(), Some("gcr.io/distroless/static-debian12:latest"));
        assert!(is_ko_name(".ko.yaml") && !is_ko_name("ko.yaml"));
    }
}
