//! The images kustomize's strategic-merge patches give containers: kubebuilder's
//! `manager_image_patch.yaml` puts the released image in place of the base's placeholder
//! (`controller:latest`), as an `images:` entry would.

use yaml_serde::Value;

use super::ImageOverride;
use crate::orchestration::without_tag;

/// The overrides a patch of a kustomization (`patch`: its text) makes of the images of the
/// manifests it builds (`bases`: their texts): a base's container whose namesake in the patch
/// runs another image runs that one, keyed as `images:` is, by the base's image without its tag;
/// `kustomization` names the kustomization and the patch, for messages.
pub fn patched_images(patch: &str, bases: &[String], kustomization: &str) -> Vec<(String, ImageOverride)> {
    let set = containers(patch);
    let mut out = Vec::new();
    for (name, image) in bases.iter().flat_map(|base| containers(base)) {
        let Some((_, new)) = set.iter().find(|(n, i)| *n == name && *i != image) else { continue };
        let tag = new.split('@').next().unwrap_or(new).strip_prefix(without_tag(new)).and_then(|t| t.strip_prefix(':'));
        out.push((
            without_tag(&image).to_string(),
            ImageOverride {
                tag: tag.filter(|t| *t != "latest").map(str::to_string),
                digest: new.contains('@'),
                new_name: Some(without_tag(new).to_string()),
                kustomization: kustomization.to_string(),
                by_script: false,
            },
        ));
    }
    out
}

/// The name and image of every container of every document of `text` (its `containers` and
/// `initContainers`, at any depth).
fn containers(text: &str) -> Vec<(String, String)> {
    fn walk(value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Mapping(map) => {
                for (key, value) in map {
                    let listed = matches!(key.as_str(), Some("containers" | "initContainers"));
                    for c in value.as_sequence().into_iter().flatten().filter(|_| listed) {
                        let field = |f: &str| c.get(f).and_then(Value::as_str).map(str::to_string);
                        out.extend(field("name").zip(field("image")));
                    }
                    walk(value, out);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    crate::kubernetes::documents_read(text).for_each(|doc| walk(&doc, &mut out));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_gives_the_base_container_of_its_name_its_image() {
        let base = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: manager\n        image: controller:latest\n      - name: proxy\n        image: ghcr.io/acme/proxy:v1\n".to_string();
        let patch = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: manager\n        image: ghcr.io/acme/operator:v0.4.1\n".to_string();
        let set = patched_images(&patch, std::slice::from_ref(&base), "config/default/kustomization.yaml");
        assert_eq!(set.len(), 1);
        let (name, over) = &set[0];
        assert_eq!(name, "controller");
        assert_eq!((over.tag.as_deref(), over.new_name.as_deref()), (Some("v0.4.1"), Some("ghcr.io/acme/operator")));
        let latest =
            "spec:\n  containers:\n  - name: manager\n    image: ghcr.io/acme/operator@sha256:abc\n".to_string();
        let pinned = &patched_images(&latest, &[base], "k")[0].1;
        assert!(pinned.digest && pinned.tag.is_none());
    }
}
