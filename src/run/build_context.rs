//! Where a Dockerfile no build file names is built from.

use std::path::{Path, PathBuf};

use crate::{discover, dockerfile};

/// The build context of a Dockerfile no build file names: the nearest directory up to the
/// repository root that holds `go.mod` and the packages and files its `go build`s name (an
/// example's Dockerfile under a docs site's own module builds `cmd/agent` of the repository's),
/// else the Dockerfile's own directory where it holds the files they name and no module does
/// (`go build main.go` of a program kept without a go.mod), else the nearest with `go.mod`, else
/// the Dockerfile's own directory. Both paths are canonical.
pub(super) fn build_context(dockerfile: &Path, repo: &Path) -> PathBuf {
    let dir = dockerfile.parent().unwrap_or(Path::new(".")).to_path_buf();
    let modules: Vec<&Path> =
        dir.ancestors().take_while(|d| d.starts_with(repo)).filter(|d| d.join("go.mod").is_file()).collect();
    let text = discover::read_text(dockerfile).unwrap_or_default();
    let (packages, files) = (dockerfile::program_dirs(&text, None, &[]), dockerfile::program_files(&text));
    let holds_files = |d: &Path| files.iter().all(|f| d.join(f).is_file());
    let holds_packages = |d: &&Path| packages.iter().flatten().all(|p| d.join(p).is_dir()) && holds_files(d);
    let own_files = (!files.is_empty() && holds_files(&dir)).then_some(dir.as_path());
    let found = modules.iter().copied().find(holds_packages).or(own_files).or(modules.first().copied());
    found.map_or(dir.clone(), Path::to_path_buf)
}
