//! Discovery: walks the trees it is given (respecting `.gitignore`, on all cores) and names the
//! files harden handles, with a reason for each file it passes over; [`read_text`] reads one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Serialize;

mod action;
mod file_type;
mod forks;
mod ignored;
mod names;
mod read;

use action::action_dockerfile;
pub use ignored::{DEFAULT_IGNORED, is_ignored_dir, is_test_helper_package, is_test_name, under_ignored_dir};
use names::{dockerfile_skip_reason, generated_dir_reason, released_version_reason, yaml_skip_reason};
pub use names::{dockerfile_variant, in_docs, is_chart_values, is_dockerfile_name, is_released_manifest, is_yaml_name};
pub use read::{MAX_FILE_BYTES, Unread, read_text};

/// The kinds of file harden handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// A Kubernetes manifest.
    Kubernetes,
    /// A directory not walked by default (a test suite's, vendored code, test data): listed,
    /// so the report says what it did not look at.
    Directory,
}

/// A file discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The path to read.
    pub path: PathBuf,
    /// The path as shown to the user, with `/` separators.
    pub display: String,
    /// What kind of file it is.
    pub kind: Kind,
    /// Why it is passed over, when it is (judged from its name, type and place; what it holds
    /// is judged by [`read_text`]).
    pub pass_over: Option<PassOver>,
}

/// Why discovery hands a path to no engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PassOver {
    /// Not handled, with the reason.
    Skip(String),
    /// A directory that could not be listed, with the reason: the files in it are unknown.
    Error(String),
}

/// Finds the files under `root` (a directory, or one file named explicitly).
/// `ignore` holds gitignore-style patterns relative to `root`; with `default_ignores`, the
/// [`DEFAULT_IGNORED`] directories below `root` are not walked.
pub fn discover(root: &Path, ignore: &[String], default_ignores: bool) -> Vec<Found> {
    if root.is_file() {
        let name = root.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let kind = if is_yaml_name(name) { Kind::Kubernetes } else { Kind::Dockerfile };
        let Ok(meta) = std::fs::symlink_metadata(root) else { return Vec::new() };
        let dir = root.parent().unwrap_or(Path::new("."));
        return vec![file_type::check(root, display(root), kind, &meta.file_type(), dir, default_ignores)];
    }
    let ignored = matcher(root, ignore);
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let walked = Mutex::new(Walked::default());
    let not_walked = std::sync::Arc::new(Mutex::new(Vec::new()));
    let passed_over = not_walked.clone();
    // The walk lists directories on all cores (it reads no file); the order is made stable after.
    ignore::WalkBuilder::new(root)
        .hidden(false)
        // The repository's own ignore files count; a developer's global git excludes do not.
        .git_global(false)
        .follow_links(false)
        .filter_entry(move |e| {
            let default_ignored = || {
                e.depth() > 0
                    && e.file_type().is_some_and(|t| t.is_dir())
                    && e.file_name().to_str().is_some_and(|name| {
                        // A directory at the top of the walk has no parent of the tree's own.
                        let parent = e.path().parent().and_then(Path::file_name).and_then(|p| p.to_str());
                        is_ignored_dir(parent.filter(|_| e.depth() > 1).unwrap_or_default(), name)
                    })
            };
            if e.file_name() == ".git" {
                return false;
            }
            let pass_over = default_ignores && default_ignored();
            if pass_over {
                passed_over.lock().expect("no walker panics holding the lock").push(e.path().to_path_buf());
            }
            !pass_over
        })
        .build_parallel()
        .run(|| {
            let (walked, ignored, canonical_root) = (&walked, &ignored, &canonical_root);
            Box::new(move |entry| {
                let (found, action_dockerfile) = match entry {
                    Ok(entry) => {
                        let found = entry
                            .file_type()
                            .and_then(|t| candidate(entry.path(), t, root, ignored, canonical_root, default_ignores));
                        (found, action_dockerfile(&entry))
                    }
                    Err(e) => (unlisted(&e, root), None),
                };
                // Most entries are neither: the walkers meet at the lock only for the few that are.
                if found.is_some() || action_dockerfile.is_some() {
                    let mut walked = walked.lock().expect("no walker panics holding the lock");
                    walked.found.extend(found);
                    walked.action_dockerfiles.extend(action_dockerfile);
                }
                ignore::WalkState::Continue
            })
        });
    let Walked { mut found, action_dockerfiles } = walked.into_inner().expect("no walker panics holding the lock");
    let not_walked = std::mem::take(&mut *not_walked.lock().expect("no walker panics holding the lock"));
    let listed = not_walked.into_iter().filter(|dir| {
        !ignored.matched_path_or_any_parents(dir.strip_prefix(root).unwrap_or(dir), true).is_ignore()
            && ignored::worth_listing(dir)
    });
    found.extend(listed.map(|dir| Found {
        display: format!("{}/", display(&dir)),
        pass_over: Some(PassOver::Skip(ignored::not_walked_reason(&dir))),
        path: dir,
        kind: Kind::Directory,
    }));
    let missed = tracked_but_ignored(root, &found, default_ignores);
    found.extend(missed.into_iter().filter_map(|path| {
        let file_type = std::fs::symlink_metadata(&path).ok()?.file_type();
        candidate(&path, file_type, root, &ignored, &canonical_root, default_ignores)
    }));
    names::collapse_charts(&mut found);
    if default_ignores {
        found = forks::pass_over_forks(root, found);
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    for f in found.iter_mut().filter(|f| f.kind == Kind::Dockerfile && f.pass_over.is_none()) {
        if let Some(metadata) = action_dockerfiles.get(&crate::orchestration::normalise(&f.path)) {
            f.pass_over = Some(PassOver::Skip(format!(
                "a GitHub Action's container ({metadata} beside it): GitHub runs it as root, and a USER would cut it off from the workspace"
            )));
        }
    }
    found
}

/// The files git tracks under `root` whose names make them candidates but that the walk did not
/// meet, because a `.gitignore` pattern also matches them (an unanchored `app` ignores a build
/// output and the tracked `deploy/chart/app/` alike): git keeps tracked files whatever its ignore
/// files say, and so does harden. Those in directories passed over by default are left out.
fn tracked_but_ignored(root: &Path, found: &[Found], default_ignores: bool) -> Vec<PathBuf> {
    let Ok(repo) = git2::Repository::discover(root) else { return Vec::new() };
    let (Some(workdir), Ok(index)) = (repo.workdir(), repo.index()) else { return Vec::new() };
    let (Ok(workdir), Ok(canonical_root)) = (workdir.canonicalize(), root.canonicalize()) else { return Vec::new() };
    let Ok(prefix) = canonical_root.strip_prefix(&workdir) else { return Vec::new() };
    let seen: HashSet<&Path> = found.iter().map(|f| f.path.as_path()).collect();
    let passed_over = |rel: &Path| {
        let dirs: Vec<&str> = rel.parent().into_iter().flat_map(Path::iter).filter_map(|c| c.to_str()).collect();
        default_ignores && under_ignored_dir(&dirs)
    };
    index
        .iter()
        .filter_map(|entry| Some(PathBuf::from(std::str::from_utf8(&entry.path).ok()?)))
        .filter_map(|tracked| tracked.strip_prefix(prefix).ok().map(Path::to_path_buf))
        .filter(|rel| {
            rel.file_name().and_then(|n| n.to_str()).is_some_and(|n| is_dockerfile_name(n) || is_yaml_name(n))
        })
        .filter(|rel| !passed_over(rel) && !rel.components().any(|c| c.as_os_str() == ".git"))
        .map(|rel| root.join(rel))
        .filter(|path| !seen.contains(path.as_path()) && path.exists())
        .collect()
}

/// What the walkers gather, behind one lock.
#[derive(Default)]
struct Walked {
    found: Vec<Found>,
    /// The Dockerfiles GitHub Actions build their containers from, each with the name of the
    /// metadata file (`action.yml`) beside it.
    action_dockerfiles: HashMap<PathBuf, String>,
}

/// A directory the walk could not list, as an error entry. (An ignore file with a line that is
/// not a valid pattern is not one: git passes over such lines too.)
fn unlisted(error: &ignore::Error, root: &Path) -> Option<Found> {
    fn path_of(error: &ignore::Error) -> Option<&Path> {
        match error {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => path_of(err),
            _ => None,
        }
    }
    if error.is_partial() {
        return None;
    }
    let io = error.io_error()?;
    let path = path_of(error).unwrap_or(root);
    Some(Found {
        path: path.to_path_buf(),
        display: display(path),
        kind: Kind::Dockerfile,
        pass_over: Some(PassOver::Error(format!("cannot list this directory: {io}"))),
    })
}

/// The entry as a file harden handles; `None` when it is not one.
fn candidate(
    path: &Path,
    file_type: std::fs::FileType,
    root: &Path,
    ignored: &Gitignore,
    canonical_root: &Path,
    default_ignores: bool,
) -> Option<Found> {
    let name = path.file_name()?.to_str()?;
    let kind = if is_dockerfile_name(name) {
        Kind::Dockerfile
    } else if is_yaml_name(name) || names::template_suffix(name).is_some() {
        Kind::Kubernetes
    } else {
        return None;
    };
    if file_type.is_dir() {
        return None;
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    if ignored.matched_path_or_any_parents(rel, false).is_ignore() {
        return None;
    }
    // A template of a manifest a script fills in is told only where it runs a workload.
    if names::template_suffix(name).is_some() && file_type.is_file() {
        let why = names::template_reason(path)?;
        return Some(Found {
            path: path.to_path_buf(),
            display: display(path),
            kind,
            pass_over: Some(PassOver::Skip(why)),
        });
    }
    let mut found = file_type::check(path, display(path), kind, &file_type, canonical_root, default_ignores);
    if found.pass_over.is_none() {
        let place = match kind {
            Kind::Kubernetes => {
                let text = std::cell::OnceCell::new();
                let read = || text.get_or_init(|| std::fs::read_to_string(path).unwrap_or_default()).clone();
                yaml_skip_reason(path)
                    .or_else(|| released_version_reason(rel, read))
                    .or_else(|| generated_dir_reason(root, rel, read))
            }
            Kind::Dockerfile => dockerfile_skip_reason(rel, default_ignores),
            Kind::Directory => None,
        };
        found.pass_over = place.map(PassOver::Skip);
    }
    Some(found)
}

/// The matcher of a configuration's `ignore` patterns, for paths relative to `root`.
pub fn matcher(root: &Path, patterns: &[String]) -> Gitignore {
    let mut builder = GitignoreBuilder::new(root);
    for pattern in patterns {
        // An invalid pattern ignores nothing rather than everything.
        let _ = builder.add_line(None, pattern);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

fn display(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_goreleaser_ko_image_on_a_root_base_is_said_to_run_as_root() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".goreleaser.yml");
        std::fs::write(&path, "kos:\n  - repositories: [ghcr.io/acme/api]\n    base_image: gcr.io/distroless/base-debian13\n  - repositories: [ghcr.io/acme/cli]\n").unwrap();
        let reason = yaml_skip_reason(&path).unwrap();
        assert!(reason.contains("ko on gcr.io/distroless/base-debian13, which run the program as root"), "{reason}");
        std::fs::write(&path, "kos:\n  - base_image: gcr.io/distroless/base-debian13\n    user: \"65532:65532\"\n")
            .unwrap();
        assert_eq!(yaml_skip_reason(&path).as_deref(), Some("a GoReleaser configuration"));
        // A base of the project's own may set its user: nothing is claimed of it.
        std::fs::write(&path, "kos:\n  - base_image: ghcr.io/acme/base:1.4\n").unwrap();
        assert_eq!(yaml_skip_reason(&path).as_deref(), Some("a GoReleaser configuration"));
    }

    #[test]
    fn a_ci_system_is_named_with_its_article() {
        assert_eq!(
            yaml_skip_reason(Path::new("azure-pipelines.yml")).as_deref(),
            Some("an Azure Pipelines configuration")
        );
        assert_eq!(yaml_skip_reason(Path::new(".travis.yml")).as_deref(), Some("a Travis CI configuration"));
    }

    #[test]
    fn tracked_files_a_gitignore_pattern_also_matches_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("deploy/app")).unwrap();
        // An unanchored pattern for the build output also matches the tracked chart directory.
        std::fs::write(p.join(".gitignore"), "app\n").unwrap();
        std::fs::write(p.join("deploy/app/deployment.yaml"), "kind: Pod\n").unwrap();
        std::fs::write(p.join("app"), "a build output\n").unwrap();
        let repo = git2::Repository::init(p).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("deploy/app/deployment.yaml")).unwrap();
        index.write().unwrap();
        let found = discover(p, &[], true);
        let names: Vec<_> = found.iter().map(|f| f.path.strip_prefix(p).unwrap().to_path_buf()).collect();
        assert_eq!(names, [Path::new("deploy/app/deployment.yaml")]);
        // The configuration's own ignore patterns still count.
        assert!(discover(p, &["deploy/".into()], true).is_empty());
    }

    #[test]
    fn walks_respecting_gitignore_and_config_ignores() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("a")).unwrap();
        std::fs::create_dir_all(p.join("build")).unwrap();
        std::fs::create_dir_all(p.join("examples/x")).unwrap();
        std::fs::create_dir(p.join(".git")).unwrap();
        std::fs::write(p.join(".gitignore"), "build/\n").unwrap();
        for f in ["Dockerfile", "a/Dockerfile.prod", "build/Dockerfile", "examples/x/Dockerfile"] {
            std::fs::write(p.join(f), "FROM scratch\n").unwrap();
        }
        std::fs::write(p.join("a/big.Dockerfile"), vec![b'#'; 1_100_000]).unwrap();
        std::fs::write(p.join("a/bin.dockerfile"), b"FROM \0\x01").unwrap();
        let found = discover(p, &["examples/".into()], true);
        let names: Vec<_> =
            found.iter().map(|f| f.path.strip_prefix(p).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["Dockerfile", "a/Dockerfile.prod", "a/big.Dockerfile", "a/bin.dockerfile"]);
        let skipped = |f: &Found| match read_text(&f.path) {
            Err(Unread::Skipped(reason)) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(skipped(&found[2]), "larger than 1 MiB (1100000 bytes)");
        assert!(skipped(&found[3]).contains("binary"));
        let mut bundle = b"# This is an auto-generated file. DO NOT EDIT\n".to_vec();
        bundle.resize(1_100_000, b'#');
        std::fs::write(p.join("a/big.Dockerfile"), bundle).unwrap();
        assert_eq!(
            skipped(&found[2]),
            "generated (This is an auto-generated file. DO NOT EDIT) and larger than 1 MiB (1100000 bytes): harden the source it comes from"
        );
        assert_eq!(read_text(&found[0].path).unwrap(), "FROM scratch\n");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_tree_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("Dockerfile"), "FROM golang\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("Dockerfile"), dir.path().join("Dockerfile")).unwrap();
        let found = discover(dir.path(), &[], true);
        assert!(matches!(&found[0].pass_over, Some(PassOver::Skip(r)) if r.contains("leaves the tree")));
    }

    #[test]
    fn vendored_code_and_test_data_are_not_walked_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let files = ["Dockerfile", "vendor/x/Dockerfile", "web/node_modules/y/Dockerfile", "pkg/testdata/Dockerfile"];
        for f in files {
            std::fs::create_dir_all(p.join(f).parent().unwrap()).unwrap();
            std::fs::write(p.join(f), "FROM scratch\n").unwrap();
        }
        let names = |found: Vec<Found>| -> Vec<String> {
            found.iter().map(|f| f.path.strip_prefix(p).unwrap().to_string_lossy().into_owned()).collect()
        };
        let found = discover(p, &[], true);
        let files_found: Vec<Found> = found.iter().filter(|f| f.kind != Kind::Directory).cloned().collect();
        assert_eq!(names(files_found), ["Dockerfile"]);
        // The directories passed over are listed, each once, with what they hold.
        let dirs: Vec<Found> = found.iter().filter(|f| f.kind == Kind::Directory).cloned().collect();
        let whys: Vec<String> = dirs
            .iter()
            .map(|f| match &f.pass_over {
                Some(PassOver::Skip(why)) => why.split(':').next().unwrap_or_default().to_string(),
                other => panic!("a directory not walked is skipped: {other:?}"),
            })
            .collect();
        assert_eq!(names(dirs), ["pkg/testdata", "vendor", "web/node_modules"]);
        assert_eq!(whys, ["test data", "vendored code", "vendored code"]);
        let mut all = files.map(String::from).to_vec();
        all.sort();
        assert_eq!(names(discover(p, &[], false)), all);
        // Named as the root, such a directory is walked: the user asked for it.
        assert_eq!(names(discover(&p.join("vendor"), &[], true)), ["vendor/x/Dockerfile"]);
    }

    #[test]
    fn development_and_action_containers_are_passed_over_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for f in [
            ".devcontainer/Dockerfile",
            ".circleci/images/primary/Dockerfile",
            ".github/actions/lint/Dockerfile",
            "svc/Dockerfile",
        ] {
            std::fs::create_dir_all(p.join(f).parent().unwrap()).unwrap();
            std::fs::write(p.join(f), "FROM golang:1.22\nRUN go install example.com/tool@v1\n").unwrap();
        }
        std::fs::write(p.join(".github/actions/lint/action.yml"), "runs: {using: docker, image: Dockerfile}\n")
            .unwrap();
        // An action that runs a published image does not build the Dockerfile beside it.
        std::fs::write(p.join("svc/action.yml"), "runs:\n  using: docker\n  image: docker://ghcr.io/acme/svc:1\n")
            .unwrap();
        let found = discover(p, &[], true);
        let reason = |name: &str| {
            let f = found.iter().find(|f| f.path.strip_prefix(p).unwrap() == Path::new(name)).unwrap();
            match &f.pass_over {
                Some(PassOver::Skip(r)) => r.clone(),
                other => format!("{other:?}"),
            }
        };
        assert!(reason(".devcontainer/Dockerfile").contains("development container"));
        assert!(reason(".circleci/images/primary/Dockerfile").starts_with("a CI job's image (.circleci)"));
        assert!(reason(".github/actions/lint/Dockerfile").contains("GitHub Action's container"));
        assert_eq!(reason("svc/Dockerfile"), "None");
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_named_like_a_dockerfile_is_passed_over_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let made = std::process::Command::new("mkfifo").arg(dir.path().join("Dockerfile")).status().unwrap();
        assert!(made.success());
        // Reading a pipe nobody writes to would block the walk for ever.
        let found = discover(dir.path(), &[], true);
        assert!(
            matches!(&found[0].pass_over, Some(PassOver::Skip(r)) if r.contains("not a regular file")),
            "{found:?}"
        );
    }

    #[test]
    fn the_parallel_walk_reports_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for d in ["a", "a/b", "a-b", "b", "a/b/c"] {
            std::fs::create_dir_all(p.join(d)).unwrap();
            std::fs::write(p.join(d).join("Dockerfile"), "FROM scratch\n").unwrap();
        }
        std::fs::write(p.join("Dockerfile"), "FROM scratch\n").unwrap();
        let found = discover(p, &[], true);
        let names: Vec<_> =
            found.iter().map(|f| f.path.strip_prefix(p).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["Dockerfile", "a/Dockerfile", "a/b/Dockerfile", "a/b/c/Dockerfile", "a-b/Dockerfile", "b/Dockerfile"]
        );
    }
}
