//! Docker Bake files (`docker buildx bake`): each target's Dockerfile, build arguments, image
//! names and stage.

use std::path::Path;

use super::{Build, BuildArg, Repository, image_name, normalise, resolved};

/// Names of Docker Bake files (`docker buildx bake`).
pub const BAKE_FILES: &[&str] =
    &["docker-bake.hcl", "docker-bake.json", "docker-bake.override.hcl", "docker-bake.override.json"];

impl Repository {
    /// Reads a Docker Bake file (HCL or JSON): each `target`'s Dockerfile and build arguments.
    /// Bake builds with BuildKit. A file that does not parse adds nothing.
    pub fn read_bake(&mut self, path: &Path, text: &str) {
        let parsed: Option<serde_json::Value> = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(text).ok()
        } else {
            hcl::from_str(text).ok()
        };
        let dir = path.parent().unwrap_or(Path::new(""));
        let targets = parsed.as_ref().and_then(|v| v.get("target")).and_then(|t| t.as_object());
        for (name, target) in targets.into_iter().flatten() {
            let origin = format!("{} (target {name})", path.display());
            let text_of =
                |key: &str, default: &str| target.get(key).and_then(|v| v.as_str()).unwrap_or(default).to_string();
            let (context, dockerfile) = (text_of("context", "."), text_of("dockerfile", "Dockerfile"));
            let args = target
                .get("args")
                .and_then(|a| a.as_object())
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| {
                    Some(BuildArg { name: k.clone(), value: v.as_str()?.to_string(), origin: origin.clone() })
                })
                .filter(resolved)
                .collect();
            let images = target
                .get("tags")
                .and_then(|t| t.as_array())
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(image_name))
                .collect();
            self.builds.push(Build {
                dockerfile: normalise(&dir.join(context).join(dockerfile)),
                images,
                args,
                target: target.get("target").and_then(|v| v.as_str()).map(str::to_string),
                ..Build::default()
            });
        }
    }
}
