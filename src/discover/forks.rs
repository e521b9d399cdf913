//! Copies of other projects kept in the repository for their Go packages: a directory with a
//! `go.mod` of another project's module (`sigs.k8s.io/gateway-api`) that a `go.mod` above it
//! replaces that module with (`replace sigs.k8s.io/gateway-api => ./gateway-api-custom`), or a
//! whole repository copied in (a module with a `.github/` of its own). Their Dockerfiles and
//! manifests are that project's, which the repository neither builds nor deploys.

use std::path::{Path, PathBuf};

use crate::source::GoMod;

use super::{Found, Kind, PassOver, display};

/// The directories (below `root`) holding the files of `found` that are such copies, each with
/// why it is passed over.
fn forks(root: &Path, found: &[Found]) -> Vec<(PathBuf, String)> {
    let read = |dir: &Path| Some(GoMod::parse(&std::fs::read_to_string(dir.join("go.mod")).ok()?));
    let mut dirs: Vec<&Path> = found.iter().flat_map(|f| f.path.ancestors().skip(1)).collect();
    dirs.retain(|d| d.starts_with(root) && *d != root);
    dirs.sort();
    dirs.dedup();
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for dir in dirs {
        if out.iter().any(|(fork, _)| dir.starts_with(fork)) {
            continue;
        }
        let Some(copy) = read(dir).filter(|m| !m.module.is_empty()) else { continue };
        let replacing = dir.ancestors().skip(1).take_while(|a| a.starts_with(root)).find_map(|above| {
            let module = read(above)?;
            let replaces = module.local_replaces.iter().any(|target| {
                crate::orchestration::normalise(&above.join(target)) == crate::orchestration::normalise(dir)
            });
            (replaces && !same_project(&module.module, &copy.module)).then(|| above.join("go.mod"))
        });
        let why = match replacing {
            Some(go_mod) => format!(
                "a copy of {}, which {} replaces that module with: its Dockerfiles and manifests are that project's, kept here for its Go packages (harden them upstream)",
                copy.module,
                go_mod.strip_prefix(root).unwrap_or(&go_mod).display()
            ),
            // GitHub reads only the root's `.github/`: one deeper came with a whole repository.
            None if dir.join(".github").is_dir() => format!(
                "a copy of another repository (module {}, with a go.mod and a .github/ of its own): its Dockerfiles and manifests are kept as that repository has them (harden them where it lives)",
                copy.module
            ),
            None => continue,
        };
        out.push((dir.to_path_buf(), why));
    }
    out
}

/// True when two module paths belong to one project: the same host and owner
/// (`github.com/acme/app` and `github.com/acme/app/api`).
fn same_project(a: &str, b: &str) -> bool {
    a.split('/').take(2).eq(b.split('/').take(2))
}

/// `found` with the files inside copies of other projects replaced by one entry per copy.
pub(super) fn pass_over_forks(root: &Path, found: Vec<Found>) -> Vec<Found> {
    let forks = forks(root, &found);
    if forks.is_empty() {
        return found;
    }
    let mut kept: Vec<Found> =
        found.into_iter().filter(|f| !forks.iter().any(|(dir, _)| f.path.starts_with(dir))).collect();
    kept.extend(forks.into_iter().map(|(dir, why)| Found {
        display: format!("{}/", display(&dir)),
        pass_over: Some(PassOver::Skip(why)),
        path: dir,
        kind: Kind::Directory,
    }));
    kept
}
