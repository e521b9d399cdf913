//! Variants of one image the repository publishes: a Dockerfile on a shell-less base beside
//! one on a full OS image (`Dockerfile.distroless` beside `Dockerfile`), whose shell is then a
//! choice, not something harden should press to remove; a non-root one beside one that runs as
//! root (`Dockerfile.nonroot` beside `Dockerfile`), whose root is then a choice too.

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
    "unprivileged",
    "multiarch",
];

/// The name of the first of `shell_less` beside `dockerfile` (in its directory), other than itself, whose
/// name differs from its own only in variant words (`Dockerfile.cli.multiarch` for
/// `Dockerfile.cli.alpine.multiarch`, not `Dockerfile.agent.multiarch`).
pub(super) fn beside(shell_less: &[PathBuf], dockerfile: &Path) -> Option<String> {
    let other = shell_less.iter().find(|p| same_image(p, dockerfile))?;
    Some(other.file_name()?.to_string_lossy().into_owned())
}

/// The name of the Dockerfile among `dockerfiles` beside `dockerfile` that builds the same image
/// to run without root (`Dockerfile.nonroot` beside `Dockerfile`, `Dockerfile.debug-nonroot`
/// beside `Dockerfile.debug`), where `dockerfile`'s own name says no such thing: the repository
/// publishes both, so this one runs as root on purpose.
pub(super) fn nonroot_beside(dockerfiles: &[PathBuf], dockerfile: &Path) -> Option<String> {
    const NON_ROOT: &[&str] = &["nonroot", "rootless", "unprivileged"];
    let says_non_root = |path: &Path| words(path).iter().any(|w| NON_ROOT.contains(&w.as_str()));
    if says_non_root(dockerfile) {
        return None;
    }
    let other = dockerfiles.iter().find(|p| says_non_root(p) && same_image(p, dockerfile))?;
    Some(other.file_name()?.to_string_lossy().into_owned())
}

/// True when `other`, another file in `dockerfile`'s directory, differs from it only in
/// variant words.
fn same_image(other: &Path, dockerfile: &Path) -> bool {
    let program = |path: &Path| -> Vec<String> {
        words(path).into_iter().filter(|w| !VARIANT_WORDS.contains(&w.as_str())).collect()
    };
    other != dockerfile && other.parent() == dockerfile.parent() && program(other) == program(dockerfile)
}

/// The words of a file's name, lowercase.
fn words(path: &Path) -> Vec<String> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    name.split(['.', '-', '_']).filter(|w| !w.is_empty()).map(str::to_string).collect()
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

    #[test]
    fn a_nonroot_variant_makes_its_sibling_root_on_purpose() {
        let files: Vec<PathBuf> =
            ["Dockerfile", "Dockerfile.nonroot", "Dockerfile.debug", "Dockerfile.debug-nonroot", "Dockerfile.cli"]
                .iter()
                .map(PathBuf::from)
                .collect();
        assert_eq!(nonroot_beside(&files, Path::new("Dockerfile")).as_deref(), Some("Dockerfile.nonroot"));
        assert_eq!(nonroot_beside(&files, Path::new("Dockerfile.debug")).as_deref(), Some("Dockerfile.debug-nonroot"));
        assert_eq!(nonroot_beside(&files, Path::new("Dockerfile.nonroot")), None, "the variant itself");
        assert_eq!(nonroot_beside(&files, Path::new("Dockerfile.cli")), None, "another program");
    }
}
