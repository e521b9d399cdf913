//! Variants of one image the repository publishes: a Dockerfile on a shell-less base beside
//! one on a full OS image (`Dockerfile.distroless` beside `Dockerfile`), whose shell is then a
//! choice, not something harden should press to remove.

use std::path::{Path, PathBuf};

use crate::discover;

/// The Dockerfiles among `dockerfiles` (relative to the repository by `rel`) whose image runs on
/// a shell-less base.
pub(super) fn shell_less(dockerfiles: &[&discover::Found], rel: impl Fn(&Path) -> PathBuf) -> Vec<PathBuf> {
    dockerfiles
        .iter()
        .filter(|f| discover::read_text(&f.path).is_ok_and(|t| crate::dockerfile::runs_shell_less(&t)))
        .map(|f| rel(&f.path))
        .collect()
}

/// Words of a Dockerfile's name that name a variant of the image, not its program.
const VARIANT_WORDS: &[&str] = &[
    "dockerfile",
    "containerfile",
    "alpine",
    "distroless",
    "scratch",
    "static",
    "debian",
    "ubuntu",
    "busybox",
    "slim",
    "rootless",
    "nonroot",
    "multiarch",
];

/// The name of the first of `shell_less` beside `dockerfile` (in its directory), other than itself, whose
/// name differs from its own only in variant words (`Dockerfile.cli.multiarch` for
/// `Dockerfile.cli.alpine.multiarch`, not `Dockerfile.agent.multiarch`).
pub(super) fn beside(shell_less: &[PathBuf], dockerfile: &Path) -> Option<String> {
    let program = |path: &Path| -> Vec<String> {
        let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        name.split(['.', '-', '_'])
            .filter(|w| !w.is_empty() && !VARIANT_WORDS.contains(w))
            .map(str::to_string)
            .collect()
    };
    let other = shell_less.iter().find(|p| {
        p.as_path() != dockerfile && p.parent() == dockerfile.parent() && program(p) == program(dockerfile)
    })?;
    Some(other.file_name()?.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_is_a_shell_less_dockerfile_in_the_same_directory() {
        let shell_less = [PathBuf::from("docker/Dockerfile.distroless"), PathBuf::from("Dockerfile.scratch")];
        assert_eq!(beside(&shell_less, Path::new("docker/Dockerfile")).as_deref(), Some("Dockerfile.distroless"));
        assert_eq!(beside(&shell_less, Path::new("Dockerfile.alpine")).as_deref(), Some("Dockerfile.scratch"));
        assert_eq!(beside(&shell_less, Path::new("Dockerfile.scratch")), None, "not itself");
        assert_eq!(beside(&shell_less, Path::new("cmd/Dockerfile")), None);
        let siblings = [PathBuf::from("docker/Dockerfile.agent.multiarch")];
        assert_eq!(beside(&siblings, Path::new("docker/Dockerfile.cli.alpine.multiarch")), None, "another program");
        assert!(beside(&siblings, Path::new("docker/Dockerfile.agent.alpine.multiarch")).is_some());
    }
}
