//! DevSpace's configuration (`devspace.yaml`): the images it builds from a Dockerfile (with the
//! stage a `target` stops at and whether BuildKit builds them), and which of them its `dev`
//! section syncs files into, making them development images.

use std::path::Path;

use yaml_serde::Value;

use super::{Build, Repository, image_name, key_values, normalise, resolved};

/// True for the names DevSpace reads its configuration from.
pub fn is_devspace_name(name: &str) -> bool {
    matches!(name, "devspace.yaml" | "devspace.yml")
}

impl Repository {
    /// Reads a DevSpace configuration at `path` (in `dir`): each image it builds from a
    /// Dockerfile, its `${VAR}`s filled from `vars`.
    pub(super) fn devspace(&mut self, doc: &Value, dir: &Path, path: &Path) {
        let vars = doc.get("vars").and_then(Value::as_mapping);
        let var = |name: &str| {
            let value = vars?.get(name)?;
            value.as_str().or_else(|| value.get("value")?.as_str()).map(str::to_string)
        };
        // Each `${VAR}` once, left to right: a value is not filled in again.
        let fill = |text: &str| {
            let (mut out, mut rest) = (String::new(), text);
            while let Some(start) = rest.find("${") {
                let Some(end) = rest[start..].find('}') else { break };
                let name = &rest[start + 2..start + end];
                out.push_str(&rest[..start]);
                out.push_str(&var(name).unwrap_or_else(|| format!("${{{name}}}")));
                rest = &rest[start + end + 1..];
            }
            out + rest
        };
        // The images `dev` syncs files into, found by its `imageSelector`.
        let synced: Vec<String> = (doc.get("dev").and_then(Value::as_mapping).into_iter().flatten())
            .filter(|(_, dev)| dev.get("sync").is_some())
            .filter_map(|(_, dev)| Some(image_name(&fill(dev.get("imageSelector")?.as_str()?))))
            .collect();
        let how = format!("{} (dev) syncs files into its running containers", path.display());
        self.synced_images.extend(synced.iter().map(|name| (name.clone(), how.clone())));
        let images = doc.get("images").and_then(Value::as_mapping).into_iter().flatten();
        for (key, image) in images {
            let (Some(key), Some(reference)) = (key.as_str(), image.get("image").and_then(Value::as_str)) else {
                continue;
            };
            let reference = fill(reference);
            let origin = format!("{} (image {key})", path.display());
            let text = |k: &str| image.get(k).and_then(Value::as_str).map(&fill);
            let dockerfile = text("dockerfile").unwrap_or_else(|| "Dockerfile".into());
            let name = image_name(&reference);
            // DevSpace's Docker builder talks to the engine's API without BuildKit unless asked
            // (`useBuildKit`, or `useCli`, which runs `docker build`); `buildKit` is BuildKit.
            let docker = image.get("docker");
            let flag = |k: &str| docker.and_then(|d| d.get(k)).and_then(Value::as_bool) == Some(true);
            let buildkit = image.get("buildKit").is_some() || flag("useBuildKit") || flag("useCli");
            let how =
                if image.get("kaniko").is_some() { "kaniko" } else { "DevSpace's Docker builder without useBuildKit" };
            let development = synced.contains(&name).then(|| {
                format!("{origin} builds it for DevSpace's `dev`, which syncs files into its running containers")
            });
            self.builds.push(Build {
                dockerfile: normalise(&dir.join(dockerfile)),
                images: vec![name],
                args: key_values(image.get("buildArgs"), &origin).into_iter().filter(resolved).collect(),
                without_buildkit: (!buildkit).then(|| format!("{} ({how})", path.display())),
                target: text("target"),
                development,
                ..Build::default()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_dev_syncs_into_is_a_development_build_of_its_target() {
        let mut repo = Repository::default();
        let config = "version: v2beta1\nvars:\n  IMAGE: ghcr.io/acme/operator\nimages:\n  op:\n    dockerfile: ./Dockerfile.dev\n    image: ${IMAGE}\n    target: builder\n    docker: {}\n  plain:\n    image: ghcr.io/acme/plain\n    buildKit: {}\ndev:\n  op:\n    imageSelector: ${IMAGE}\n    sync:\n    - path: ./\n";
        repo.read(Path::new("devspace.yaml"), config);
        let dev = repo.for_dockerfile(Path::new("Dockerfile.dev"));
        assert!(dev.development.is_some_and(|d| d.starts_with("devspace.yaml (image op)")));
        assert!(dev.without_buildkit.is_some_and(|w| w.contains("without useBuildKit")));
        assert_eq!(repo.image_targets(Path::new("Dockerfile.dev")), [("operator".to_string(), Some("builder".into()))]);
        let looped = "vars:\n  IMAGE: ${IMAGE}/x\nimages:\n  a:\n    image: ${IMAGE}\n    dockerfile: a.Dockerfile\n";
        repo.read(Path::new("loop/devspace.yaml"), looped);
        assert_eq!(repo.image_names(Path::new("loop/a.Dockerfile")), ["x"], "a value is filled in once");
        let plain = repo.for_dockerfile(Path::new("Dockerfile"));
        assert!(plain.development.is_none() && plain.without_buildkit.is_none());
    }
}
