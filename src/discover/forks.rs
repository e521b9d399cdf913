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
    let scripts = std::cell::OnceCell::new();
    let workflows: Vec<String> = (crate::orchestration::workflow_files(root).iter())
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect();
    let built_by_workflows = |dir: &Path| {
        let relative = dir.strip_prefix(root).map(|d| d.to_string_lossy().into_owned()).unwrap_or_default();
        workflows
            .iter()
            .any(|w| w.contains(&format!("working-directory: {relative}")) || w.contains(&format!("cd {relative}")))
    };
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    for dir in dirs {
        if out.iter().any(|(fork, _)| dir.starts_with(fork)) {
            continue;
        }
        let Some(copy) = read(dir).filter(|m| !m.module.is_empty()) else {
            let scripts = scripts.get_or_init(|| crate::source::owned::script_texts(root));
            if let Some(why) = refreshed(root, dir, scripts) {
                out.push((dir.to_path_buf(), why));
            }
            continue;
        };
        let replacing = dir.ancestors().skip(1).take_while(|a| a.starts_with(root)).find_map(|above| {
            let module = read(above)?;
            let replaces = module.local_replaces.iter().any(|target| {
                crate::orchestration::normalise(&above.join(target)) == crate::orchestration::normalise(dir)
            });
            replaces.then(|| (above.join("go.mod"), same_project(&module.module, &copy.module)))
        });
        let why = match replacing {
            // The project's own module it publishes from here (kcp's `staging/src/…`, replaced
            // by its go.mod above): the source, not a copy.
            Some((_, true)) => continue,
            Some((go_mod, false)) => format!(
                "a copy of {}, which {} replaces that module with: its Dockerfiles and manifests are that project's, kept here for its Go packages (harden them upstream)",
                copy.module,
                go_mod.strip_prefix(root).unwrap_or(&go_mod).display()
            ),
            // A module of the project's own kept at its import path (`staging/src/github.com/
            // acme/cli`, published from here to a repository of its own) is the source.
            None if staged(root, dir, &copy.module) => continue,
            // GitHub reads only the root's `.github/`: one deeper came with a whole repository,
            // unless the root's workflows build it (network-policy-api's policy-assistant, moved
            // in with its old workflows, which its own workflow builds and tests).
            None if dir.join(".github").is_dir() && !built_by_workflows(dir) => format!(
                "a copy of another repository (module {}, with a go.mod and a .github/ of its own): its Dockerfiles and manifests are kept as that repository has them (harden them where it lives)",
                copy.module
            ),
            None => continue,
        };
        out.push((dir.to_path_buf(), why));
    }
    out
}

/// Why `dir` is another project's release that a script or Makefile of the repository (`scripts`)
/// refreshes:
/// it deletes the directory (`rm -rf …/cluster-up`) and extracts it again from a download
/// (`curl … | tar xz …/cluster-up`), so an edit made there is lost at the next update.
fn refreshed(root: &Path, dir: &Path, scripts: &[(PathBuf, String)]) -> Option<String> {
    let relative = dir.strip_prefix(root).ok()?.to_string_lossy().into_owned();
    let names = |word: &str| {
        let word = word.trim_matches(['"', '\'', '/']);
        word == relative || word.ends_with(&format!("/{relative}"))
    };
    let inside = |script: &PathBuf| script.starts_with(&relative);
    scripts.iter().filter(|(script, _)| !inside(script)).find_map(|(script, text)| {
        let lines: Vec<&str> = text.lines().collect();
        let removed = lines.iter().position(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.first() == Some(&"rm") && words.iter().any(|w| w.starts_with("-rf") || w.starts_with("-fr"))
                && words.iter().skip(1).any(|w| names(w))
        })?;
        let extracted = lines.iter().skip(removed + 1).position(|l| {
            let unpacks = l.split_whitespace().any(|w| matches!(w, "tar" | "unzip" | "git"));
            unpacks && l.split_whitespace().any(names)
        })?;
        Some(format!(
            "another project's files, which {} deletes (line {}) and extracts again from a download (line {}): its Dockerfiles and manifests are that project's, and an edit made here is lost at the next update (harden them upstream)",
            script.display(),
            removed + 1,
            removed + extracted + 2
        ))
    })
}

/// True when `dir` holds a module of the root module's project at its import path
/// (`staging/src/github.com/kcp-dev/cli` for `github.com/kcp-dev/cli`), as Kubernetes' staging
/// keeps the modules it publishes.
fn staged(root: &Path, dir: &Path, module: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(root.join("go.mod")) else { return false };
    let path = module.split('/').filter(|p| !crate::source::is_major_version(p));
    let path: PathBuf = path.collect();
    dir.ends_with(&path) && same_project(&GoMod::parse(&text).module, module)
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
