//! What discovery passes over by default: other people's code, test data, test suites and
//! design proposals.

/// Directory names harden does not walk unless the configuration says `default_ignores: false`:
/// vendored modules and packages (other people's code, rewritten by their tools; `third_party/`
/// holds other projects' sources and the images built from them) and test data
/// (files a test expects as they are, and a fake's: a test double's canned objects), as Renovate's
/// recommended configuration and the go tool pass over them; and test suites (see [`is_test_name`]).
pub const DEFAULT_IGNORED: &[&str] = &[
    "vendor",
    "third_party",
    "third-party",
    "node_modules",
    "testdata",
    "__fixtures__",
    "fixtures",
    "testfiles",
    "testfiles-negative",
    "fake",
    "fakes",
];

/// Directories of design proposals: their manifests and Dockerfiles illustrate a proposal (an
/// old proof of concept), not what the repository builds or runs.
const PROPOSAL_DIRS: &[&str] = &["design", "proposals", "enhancements", "keps"];

/// Directories at the repository's root (or beside its charts) that hold what it no longer
/// releases (`archives/` of retired charts, which its chart-testing and release skip).
const ARCHIVE_DIRS: &[&str] = &["archive", "archives", "archived", "_archive", "_archived"];

/// Words that make a directory or Dockerfile a test suite's (`test/`, `testing/kind/`, `e2e/`,
/// `integration-tests/`, `functests/`, `suites/`, `Dockerfile.e2e-tests`, `Dockerfile.acceptance`, `_testdata`, a fuzzing harness's
/// `fuzz/` or `.clusterfuzzlite/`): the images and pods a test builds and starts, often on
/// purpose as root or from images that do not exist.
const TEST_WORDS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "e2e",
    "integrationtest",
    "integrationtests",
    "functest",
    "functests",
    "smoketest",
    "smoketests",
    "acceptance",
    "testdata",
    "suite",
    "suites",
    "fuzz",
    "fuzzing",
    "clusterfuzzlite",
];

/// True when a name, split at `-`, `_`, `.` and where camel case starts a word
/// (`extractorTestFiles`), has a word of [`TEST_WORDS`], also numbered (`testdata2`, `e2e2`).
pub fn is_test_name(name: &str) -> bool {
    name.split(['-', '_', '.']).flat_map(camel_words).any(|word| {
        let word = word.to_ascii_lowercase();
        TEST_WORDS.contains(&word.as_str()) || TEST_WORDS.contains(&word.trim_end_matches(|c: char| c.is_ascii_digit()))
    })
}

/// True for a directory named as Go names a package of test helpers (`httptest`, dgraph's
/// `dgraphtest`, `testutil`): what its code does (start containers, write fixtures) tests do.
pub fn is_test_helper_package(name: &str) -> bool {
    let words = ["latest", "fastest", "shortest", "greatest", "attest", "contest", "protest"];
    (name.len() > "test".len() && name.ends_with("test") && !words.contains(&name))
        || matches!(name, "testutil" | "testutils" | "testhelper" | "testhelpers" | "testing")
}

/// The words of a camel-case name: `extractorTestFiles` → `extractor`, `Test`, `Files`.
fn camel_words(name: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = 0;
    let bytes = name.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i].is_ascii_uppercase() && bytes[i - 1].is_ascii_lowercase() {
            words.push(&name[start..i]);
            start = i;
        }
    }
    words.push(&name[start..]);
    words
}

/// Directories whose directories are environments or clusters a GitOps repository deploys to
/// (`clusters/test/`, flux's `flux bootstrap --path=clusters/test`; `overlays/testing/`): one named
/// `test` there is a cluster's, not a test suite.
const ENVIRONMENT_DIRS: &[&str] = &["clusters", "cluster", "environments", "envs", "env", "overlays", "stages"];

/// True for a directory `name` (in a directory named `parent`) harden does not walk by default:
/// [`DEFAULT_IGNORED`], or a test suite's. A directory of `cmd/` holds a program, even one named
/// for tests (`cmd/test-server`, a server other projects' tests run, is shipped as an image),
/// unless a test word is its whole name (`cmd/tests/`); a composite action in `.github/actions/`
/// is CI's (`build-test-push` builds and pushes the images), not a test suite; nor is an
/// environment of [`ENVIRONMENT_DIRS`].
pub fn is_ignored_dir(parent: &str, name: &str) -> bool {
    let whole_word = TEST_WORDS.contains(&name.to_ascii_lowercase().as_str());
    let program = (parent == "cmd" || parent == "actions") && !whole_word || ENVIRONMENT_DIRS.contains(&parent);
    let archive = matches!(parent, "" | "charts") && ARCHIVE_DIRS.contains(&name);
    DEFAULT_IGNORED.contains(&name) || PROPOSAL_DIRS.contains(&name) || archive || (!program && is_test_name(name))
}

/// True when one of `dirs` (a relative path's directories, outermost first) is one discovery
/// passes over by default.
pub fn under_ignored_dir(dirs: &[&str]) -> bool {
    first_ignored(dirs).is_some()
}

/// Where the first of `dirs` (outermost first) discovery passes over by default is.
fn first_ignored(dirs: &[&str]) -> Option<usize> {
    (0..dirs.len()).find(|&i| is_ignored_dir(if i == 0 { "" } else { dirs[i - 1] }, dirs[i]))
}

/// What the first directory on a relative path that discovery passes over by default holds
/// (`vendor/knative.dev/networking/config/ingress.yaml` → vendored code), where one is.
pub fn ignored_part(rel: &std::path::Path) -> Option<&'static str> {
    let dirs: Vec<&str> = rel.parent()?.iter().filter_map(|d| d.to_str()).collect();
    first_ignored(&dirs).map(|at| ignored_as(dirs[at]))
}

/// Why a directory is passed over: what it holds (test data, a test suite), and the setting of
/// harden's configuration that walks it.
pub fn not_walked_reason(dir: &std::path::Path) -> String {
    let what = ignored_as(dir.file_name().and_then(|n| n.to_str()).unwrap_or_default());
    format!("{what}: not walked (set `default_ignores: false` in .github/harden.yml to walk it)")
}

/// True when a directory passed over is worth listing: not a fake's (`fake/`, `fakes/`) that
/// holds Go code only (a generated clientset's), which harden would not have read.
pub fn worth_listing(dir: &std::path::Path) -> bool {
    let fake = dir.file_name().is_some_and(|n| n == "fake" || n == "fakes");
    !fake || holds_yaml_or_dockerfile(dir, 3)
}

/// True when `dir`, or a directory up to `depth` levels below it, holds a YAML file or a
/// Dockerfile.
fn holds_yaml_or_dockerfile(dir: &std::path::Path, depth: usize) -> bool {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries.into_iter().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        match e.file_type() {
            Ok(t) if t.is_dir() => depth > 0 && holds_yaml_or_dockerfile(&e.path(), depth - 1),
            Ok(t) if t.is_file() => super::is_yaml_name(&name) || name.to_ascii_lowercase().contains("dockerfile"),
            _ => false,
        }
    })
}

/// What a directory [`is_ignored_dir`] passes over holds: vendored code, test data, a fuzzing
/// harness, design proposals or a test suite.
fn ignored_as(name: &str) -> &'static str {
    let words = || name.split(['-', '_', '.']);
    match name {
        "vendor" | "third_party" | "third-party" | "node_modules" => "vendored code",
        _ if PROPOSAL_DIRS.contains(&name) => "design proposals",
        _ if ARCHIVE_DIRS.contains(&name) => "archived files, which the repository no longer releases",
        // `testdata`, also written `test_data` or `test-data`.
        _ if DEFAULT_IGNORED.contains(&name)
            || words().any(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()).eq_ignore_ascii_case("testdata"))
            || name.eq_ignore_ascii_case("test_data")
            || name.eq_ignore_ascii_case("test-data") =>
        {
            "test data"
        }
        _ if words().any(|w| w.to_ascii_lowercase().contains("fuzz")) => "a fuzzing harness",
        _ => "a test suite",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_passed_over_by_their_words() {
        assert!(
            is_ignored_dir("", "integration-tests") && is_ignored_dir("x", "_testdata") && is_ignored_dir("", "vendor")
        );
        assert!(!is_ignored_dir("", "latest") && !is_ignored_dir("", "contest"));
        assert!(!is_ignored_dir("cmd", "test-server") && is_ignored_dir("cmd", "testdata"));
        assert!(
            is_ignored_dir("", "archives") && is_ignored_dir("charts", "archive") && is_ignored_dir("", "_archived")
        );
        assert!(!is_ignored_dir("pkg", "archive"), "a package that makes archives is code");
        assert_eq!(ignored_as("archives"), "archived files, which the repository no longer releases");
        assert!(!is_ignored_dir("actions", "build-test-push"), "a composite action of CI");
        assert!(!is_ignored_dir("clusters", "test") && !is_ignored_dir("overlays", "testing"), "a cluster's");
        // Camel case starts a word: a test's files, not a project's `latestBuild`.
        assert!(is_ignored_dir("extractor", "extractorTestFiles") && !is_ignored_dir("", "latestBuild"));
        assert!(is_test_name("Dockerfile.acceptance") && is_ignored_dir("", "acceptance-tests"));
        assert!(is_ignored_dir("cmd", "tests") && is_ignored_dir("cmd", "e2e"));
        assert!(is_ignored_dir("internal", "suites") && !is_ignored_dir("", "suitcase"));
        assert!(is_ignored_dir("", "functests") && is_ignored_dir("", "smoketest"), "functional and smoke tests");
        assert!(is_ignored_dir("", "testing") && is_ignored_dir("", "third_party"));
        assert_eq!(ignored_as("node_modules"), "vendored code");
        assert_eq!(ignored_as("third_party"), "vendored code");
        assert_eq!(ignored_as("_testdata"), "test data");
        assert!(is_ignored_dir("filters", "testdata2"), "a second set of test data");
        assert_eq!(ignored_as("testdata2"), "test data");
        assert_eq!(ignored_as("fixtures"), "test data");
        assert!(is_ignored_dir("metrics", "test_data") && ignored_as("test_data") == "test data");
        assert!(is_ignored_dir("proxy-injector", "fake") && ignored_as("fake") == "test data");
        assert!(is_ignored_dir("", "design") && ignored_as("design") == "design proposals");
        assert_eq!(ignored_as("e2e"), "a test suite");
        assert!(is_test_helper_package("dgraphtest") && is_test_helper_package("testutil"));
        assert!(!is_test_helper_package("latest") && !is_test_helper_package("test") && !is_test_helper_package("cmd"));
        assert!(
            is_ignored_dir("", "fuzz") && is_ignored_dir("", ".clusterfuzzlite") && is_test_name("Dockerfile.fuzz")
        );
        assert_eq!(ignored_as(".clusterfuzzlite"), "a fuzzing harness");
    }
}
