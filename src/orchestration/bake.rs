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
        // `variable "ALPINE_TAG" { default = "3.23.4" }`: what `${ALPINE_TAG}` is unless the
        // build sets it.
        let variables: Vec<(String, Option<String>)> = parsed
            .as_ref()
            .and_then(|v| v.get("variable"))
            .and_then(|v| v.as_object())
            .into_iter()
            .flatten()
            .filter_map(|(name, v)| {
                let default = v.get("default")?;
                Some((name.clone(), default.as_str().map(str::to_string).or_else(|| Some(default.to_string()))))
            })
            .collect();
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
                    let value = v.as_str()?;
                    let value =
                        crate::dockerfile::variables::substitute(value, &variables).unwrap_or(value.to_string());
                    Some(BuildArg { name: k.clone(), value, origin: origin.clone() })
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
            let outputs: Vec<&str> = target
                .get("output")
                .and_then(|o| o.as_array())
                .into_iter()
                .flatten()
                .filter_map(|o| o.as_str())
                .collect();
            let no_image = (!outputs.is_empty() && outputs.iter().all(|o| !makes_image(o))).then(|| {
                format!("{origin} exports {}", outputs.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", "))
            });
            let platforms = target.get("platforms").and_then(|p| p.as_array()).into_iter().flatten();
            let platforms = platforms.filter_map(|p| Some((p.as_str()?.to_string(), origin.clone()))).collect();
            // Bake resolves a context from where it runs: a context that names the bake file's own
            // directory (`context = "docker"` in docker/docker-bake.hcl) is from the root.
            let base =
                if !dir.as_os_str().is_empty() && Path::new(&context).starts_with(dir) { Path::new("") } else { dir };
            self.builds.push(Build {
                dockerfile: normalise(&base.join(context).join(dockerfile)),
                images,
                args,
                target: target.get("target").and_then(|v| v.as_str()).map(str::to_string),
                no_image,
                platforms,
                ..Build::default()
            });
        }
    }
}

/// True when a bake `output` makes an image (`type=docker`, `type=image`, `type=registry`,
/// `type=oci`); not a check that only runs (`type=cacheonly`) or files exported to a directory
/// (`./bin`, `type=local`, `type=tar`).
fn makes_image(output: &str) -> bool {
    let kind = output.split(',').find_map(|part| part.trim().strip_prefix("type="));
    matches!(kind, Some("docker" | "image" | "registry" | "oci"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_that_exports_no_image_says_so() {
        let mut repo = Repository::default();
        let hcl = "target \"lint\" {\n  dockerfile = \"./dockerfiles/lint.Dockerfile\"\n  output = [\"type=cacheonly\"]\n}\ntarget \"image\" {\n  output = [\"type=docker\"]\n}\n";
        repo.read_bake(Path::new("docker-bake.hcl"), hcl);
        let lint = repo.for_dockerfile(Path::new("dockerfiles/lint.Dockerfile"));
        assert_eq!(lint.no_image.as_deref(), Some("docker-bake.hcl (target lint) exports `type=cacheonly`"));
        assert_eq!(repo.for_dockerfile(Path::new("Dockerfile")).no_image, None);
        assert!(!makes_image("./bin") && makes_image("type=registry,push=true"));
    }

    #[test]
    fn an_argument_takes_a_variables_default() {
        let mut repo = Repository::default();
        let hcl = "variable \"ALPINE_TAG\" {\n  default = \"3.23.4\"\n}\ntarget \"server\" {\n  dockerfile = \"server.Dockerfile\"\n  args = {\n    ALPINE_TAG = \"${ALPINE_TAG}\"\n  }\n}\n";
        repo.read_bake(
            Path::new("docker/docker-bake.hcl"),
            &hcl.replace("dockerfile =", "context = \"docker\"\n  dockerfile ="),
        );
        let args = repo.for_dockerfile(Path::new("docker/server.Dockerfile")).agreed_build_args();
        assert_eq!(args, [("ALPINE_TAG".to_string(), "3.23.4".to_string())]);
    }
}
