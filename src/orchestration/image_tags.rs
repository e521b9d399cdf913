//! The names tags give images in build files: `docker build -t` and `docker tag`, whose
//! leading variables (a registry the build is given) are dropped.

use super::{Repository, image_name};

impl Repository {
    /// A `docker tag` of an image a build names (`from`) gives that build's image the name of
    /// `to` as well (`docker tag $(IMAGE) $(REGISTRY)/acme/driver:$(VERSION)`).
    pub(super) fn retag(&mut self, from: &str, to: &str) {
        let (from, to) = (literal_names(from), literal_names(to));
        for build in self.builds.iter_mut().filter(|b| b.images.iter().any(|i| from.contains(i))) {
            for name in &to {
                if !build.images.contains(name) {
                    build.images.push(name.clone());
                }
            }
        }
    }
}

/// The image name of a tag, its leading variables dropped (`$(IMAGE_PREFIX)api:$(TAG)` →
/// `api`; none when the name itself is a variable), and, for a tag of one architecture's
/// image (`capk-manager-amd64`, `adapter-$(ARCH)`), the name of the image the architectures'
/// images are joined under (`docker manifest create capk-manager`), which manifests run.
pub(super) fn literal_names(tag: &str) -> Vec<String> {
    const SUFFIXES: &[&str] = &["-$(ARCH)", "-${ARCH}", "-$(GOARCH)", "-${GOARCH}", "-amd64", "-arm64"];
    let name = image_name(tag.trim_matches(['"', '\'']));
    let base = SUFFIXES.iter().find_map(|s| name.strip_suffix(s)).and_then(named_part);
    named_part(&name).into_iter().chain(base).collect()
}

/// An image name without the variables it starts with (`$(PREFIX)api` → `api`); `None` when a
/// variable is left in it.
fn named_part(name: &str) -> Option<String> {
    let mut rest = name;
    while let Some(after) = rest.strip_prefix("$(").or_else(|| rest.strip_prefix("${")) {
        rest = &after[after.find([')', '}'])? + 1..];
    }
    (!rest.is_empty() && !rest.contains('$')).then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_tag_of_a_built_image_names_it_too() {
        let mut repo = Repository::default();
        let makefile = "REGISTRY=cr.example/acme\nIMAGE_TAG=$(REGISTRY)/driver:$(VERSION)\n\nbuild:\n\tdocker build -t $(IMAGE_TAG) .\n\tdocker tag $(IMAGE_TAG) $(REGISTRY)/storage/driver-plugin:$(VERSION)\n\tdocker tag other:1 $(REGISTRY)/unrelated:1\n";
        repo.read_build_commands(Path::new("Makefile"), makefile);
        assert_eq!(repo.image_names(Path::new("Dockerfile")), ["driver", "driver-plugin"]);
    }
}
