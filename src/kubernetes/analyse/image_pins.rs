//! What a container's image reference lacks: a version tag, a digest (HK212, HK213).

use yaml_serde::Value;

use crate::kubernetes::workload::Container;
use crate::rules;

use super::Planner;

impl Planner<'_, '_> {
    /// Reports an image that runs with no version tag, or (unless `tag_only`, for a container
    /// left alone) not pinned by digest (as a kustomization's `images:` tags and pins it, where
    /// one does); an image the repository builds, under a moving tag, is not asked for a digest.
    pub(super) fn image(&mut self, c: &Container<'_>, who: &str, tag_only: bool) {
        let Some(image) = c.value.get("image").and_then(Value::as_str) else { return };
        // `ko resolve` replaces a ko:// reference with the image it builds, by digest (also one a
        // kustomization's `newName` gives a placeholder).
        if self.context.running(image).starts_with("ko://") {
            return;
        }
        // What no registry could hold (`FILLED BY THE OPERATOR`) is a placeholder the program
        // that applies the manifest fills in.
        if crate::orchestration::holds_no_repository(image) {
            return;
        }
        let (name_tag, digest) = image.split_once('@').map_or((image, None), |(n, d)| (n, Some(d)));
        let tag = name_tag.rsplit('/').next().and_then(|last| last.split_once(':')).map(|(_, t)| t);
        let name = tag.map_or(name_tag, |t| &name_tag[..name_tag.len() - t.len() - 1]);
        // A kustomization's `images:` gives the tag or digest it runs with; a script that sets
        // the image as it deploys gives both.
        let set = self.context.image_overrides.get(name);
        if set.is_some_and(|s| s.by_script) || (set.is_none() && self.context.set_by_scripts.contains(name)) {
            return;
        }
        // At the `image:` line, where a reviewer's annotation belongs.
        let line = self.workload.key_line(c.node, &["image"]).unwrap_or(c.line);
        // Named as kustomize makes it, where it renames the image (kubebuilder's image patch).
        let renamed = set.and_then(|s| Some((s.new_name.as_deref()?, &s.kustomization)));
        let runs = match renamed.filter(|(n, _)| crate::orchestration::without_tag(n) != name) {
            Some((renamed, by)) => format!("{renamed} ({image} renamed by {by})"),
            None => image.to_string(),
        };
        if digest.is_none() && !set.is_some_and(|s| s.digest) {
            if tag.is_none_or(|t| t == "latest") && set.is_none_or(|s| s.tag.is_none()) {
                self.finding(&rules::IMAGE_TAG, line, format!("{who} runs {runs}, which has no version tag"), false);
            }
            if tag_only {
                return;
            }
            // The repository's own image under a moving tag (`latest`, `main`, `dev`: no number)
            // is its development build, whose digest changes with every commit: none can be
            // written here.
            let running_tag = set.and_then(|s| s.tag.as_deref()).or(tag).unwrap_or("latest");
            let moving = !running_tag.chars().any(|c| c.is_ascii_digit());
            if moving && self.context.images_built.contains(&self.context.image_key(image)) {
                return;
            }
            // Named as kustomize makes it: `newName` and `newTag` (`registry.k8s.io/…:v0.9.0`).
            // A `newName` that is the name already renames nothing.
            let untagged = crate::orchestration::without_tag;
            let message = match set.and_then(|s| Some((s.tag.as_deref()?, s))) {
                Some((tag, set)) => match set.new_name.as_deref().filter(|n| untagged(n) != untagged(image)) {
                    Some(renamed) => format!(
                        "{who} runs {renamed}:{tag} ({image} renamed and tagged by {}), not pinned by digest",
                        set.kustomization
                    ),
                    None => format!(
                        "{who} runs {}:{tag} (tagged by {}), not pinned by digest",
                        untagged(image),
                        set.kustomization
                    ),
                },
                None => format!("{who} runs {runs}, not pinned by digest"),
            };
            self.finding(&rules::IMAGE_DIGEST, line, message, false);
        }
    }
}
