//! The Go files and shell scripts of a build context that say what its program does.

use std::path::Path;

/// Go files larger than this are not read for hints (generated code, embedded data).
const GO_FILE_LIMIT: u64 = 512 * 1024;

/// The non-test Go files (into `go`) and shell scripts (into `scripts`) under `dir`, outside
/// vendor/, testdata/, test and end-to-end test directories (their helpers are not the program),
/// hidden directories and, in a module (`own_module`), the other modules it holds (a directory
/// with a go.mod of its own: another image's program). Symbolic links are not followed.
pub(super) fn go_sources(
    dir: &Path,
    own_module: bool,
    go: &mut Vec<std::path::PathBuf>,
    scripts: &mut Vec<std::path::PathBuf>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let (Ok(kind), Some(name)) = (entry.file_type(), entry.file_name().to_str().map(str::to_string)) else {
            continue;
        };
        go_source(&entry.path(), &name, &kind, own_module, go, scripts);
    }
}

/// One directory entry: a Go file or a shell script is kept, a directory is searched.
pub(super) fn go_source(
    path: &Path,
    name: &str,
    kind: &std::fs::FileType,
    own_module: bool,
    go: &mut Vec<std::path::PathBuf>,
    scripts: &mut Vec<std::path::PathBuf>,
) {
    if kind.is_dir() {
        let passed_over = name.starts_with('.')
            || matches!(name, "vendor" | "testdata" | "node_modules" | "e2e" | "test" | "tests")
            || crate::discover::is_test_helper_package(name)
            || (own_module && path.join("go.mod").is_file());
        if !passed_over {
            go_sources(path, own_module, go, scripts);
        }
    } else if kind.is_file() && name.ends_with(".go") && !name.ends_with("_test.go") {
        go.push(path.to_path_buf());
    } else if kind.is_file() && super::scripts::is_script_name(name) {
        scripts.push(path.to_path_buf());
    }
}

/// A Go file's (or script's) text, unless it is too large or not UTF-8.
pub(super) fn read_go_file(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > GO_FILE_LIMIT {
        return None;
    }
    std::io::read_to_string(file).ok()
}
