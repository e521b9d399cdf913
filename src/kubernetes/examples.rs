//! Manifests that show how to run software rather than deploy the project: those under an
//! example directory, and walkthrough files named as such.

/// Directory names whose manifests show how to run software rather than deploy the project.
const EXAMPLE_DIRS: &[&str] = &[
    "example",
    "examples",
    "sample",
    "samples",
    "demo",
    "demos",
    "tutorial",
    "tutorials",
    "doc",
    "docs",
    "documentation",
    "quickstart",
];

/// Words of a file name that make the manifest a walkthrough wherever it lies
/// (`quick_start.yaml` at the root, `example-deployment.yaml`).
const EXAMPLE_FILE_WORDS: &[&str] =
    &["example", "examples", "sample", "demo", "tutorial", "quickstart", "walkthrough", "playground"];

/// Where `path` (relative to the repository) shows how to run software rather than deploy the
/// project: its outermost example directory (`config/samples/` for `config/samples/minio.yaml`),
/// else the file itself when its name says so (`quick_start.yaml`, `getting-started.yaml`).
pub fn example_dir(path: &std::path::Path) -> Option<String> {
    let dirs: Vec<&str> = path.parent()?.components().filter_map(|c| c.as_os_str().to_str()).collect();
    if let Some(at) = dirs.iter().position(|d| EXAMPLE_DIRS.contains(&d.to_ascii_lowercase().as_str())) {
        return Some(format!("{}/", dirs[..=at].join("/")));
    }
    let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
    let words: Vec<&str> = stem.split(['_', '-', '.']).collect();
    let joined = words.concat();
    let walkthrough = words.iter().any(|w| EXAMPLE_FILE_WORDS.contains(w))
        || ["quickstart", "gettingstarted"].iter().any(|w| joined.contains(w));
    walkthrough.then(|| path.to_string_lossy().into_owned())
}
