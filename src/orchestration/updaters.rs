//! What keeps the repository's Dockerfile images current: Dependabot's `docker` updates, or
//! Renovate, whose Dockerfile manager is on by default. Without one, a builder pinned to a Go
//! version stays there while go.mod moves on.

use yaml_serde::Value;

use super::Repository;

/// Where Renovate reads its configuration, relative to the repository root.
const RENOVATE_CONFIGS: &[&str] = &[
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
];

/// Where Dependabot reads its configuration.
const DEPENDABOT_CONFIGS: &[&str] = &[".github/dependabot.yml", ".github/dependabot.yaml"];

impl Repository {
    /// Finds what updates the repository's Dockerfile images; `read` gives the text of a file
    /// by its path relative to the root (`None` when there is no such file).
    pub fn find_image_updater(&mut self, read: impl Fn(&str) -> Option<String>) {
        let renovate =
            RENOVATE_CONFIGS.iter().find(|path| read(path).is_some()).map(|path| format!("Renovate ({path})"));
        self.image_updater = renovate.or_else(|| {
            DEPENDABOT_CONFIGS.iter().find_map(|path| {
                updates_docker(&read(path)?).then(|| format!("Dependabot ({path}, package-ecosystem: docker)"))
            })
        });
    }
}

/// True when a Dependabot configuration has a `docker` update.
fn updates_docker(text: &str) -> bool {
    let Ok(config) = yaml_serde::from_str::<Value>(text) else { return false };
    let updates = config.get("updates").and_then(Value::as_sequence).into_iter().flatten();
    updates.filter_map(|u| u.get("package-ecosystem")?.as_str()).any(|ecosystem| ecosystem == "docker")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renovate_or_dependabots_docker_entry_updates_images() {
        fn found(files: &[(&str, &str)]) -> Option<String> {
            let mut repo = Repository::default();
            repo.find_image_updater(|path| files.iter().find(|(p, _)| *p == path).map(|(_, t)| t.to_string()));
            repo.image_updater
        }
        let gomod_only = "version: 2\nupdates:\n  - package-ecosystem: gomod\n    directory: /\n";
        assert_eq!(found(&[(".github/dependabot.yml", gomod_only)]), None);
        let docker = "version: 2\nupdates:\n  - package-ecosystem: \"docker\"\n    directory: /\n";
        assert_eq!(
            found(&[(".github/dependabot.yaml", docker)]).as_deref(),
            Some("Dependabot (.github/dependabot.yaml, package-ecosystem: docker)")
        );
        assert_eq!(found(&[(".github/renovate.json5", "{}")]).as_deref(), Some("Renovate (.github/renovate.json5)"));
        assert_eq!(found(&[]), None);
    }
}
