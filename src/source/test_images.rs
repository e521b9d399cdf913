//! Dockerfiles a Go test builds: an integration suite that starts containers with dockertest or
//! testcontainers builds its images through the Docker API, without BuildKit (so a
//! `RUN --mount` fails there), and the images are fixtures of the tests, not images shipped.

use std::path::{Path, PathBuf};

/// Libraries that build images from a Dockerfile for tests.
const TEST_BUILDERS: &[(&str, &str)] =
    &[("github.com/ory/dockertest", "dockertest"), ("github.com/testcontainers/testcontainers-go", "testcontainers")];

/// A Dockerfile a Go test names: the name as written, where, and the library building it.
#[derive(Debug, Clone)]
pub struct TestBuild {
    /// The Dockerfile as the Go file names it (`Dockerfile.derper`, `build/Dockerfile.e2e`).
    pub name: String,
    /// The Go file, relative to the repository, and the line.
    pub at: (PathBuf, usize),
    /// `dockertest` or `testcontainers`.
    pub library: &'static str,
    /// True when the file builds it with `docker buildx` (BuildKit), for the library to run.
    pub buildkit: bool,
}

/// Every Dockerfile named in a Go file (tests included) that imports a test builder.
pub fn collect(repo: &Path) -> Vec<TestBuild> {
    let mut files = Vec::new();
    go_files(repo, &mut files);
    let mut builds = Vec::new();
    for path in files {
        let Some(text) = super::read_go_file(&path) else { continue };
        let Some((_, library)) = TEST_BUILDERS.iter().find(|(import, _)| text.contains(import)) else { continue };
        let file = path.strip_prefix(repo).unwrap_or(&path).to_path_buf();
        // `exec.Command("docker", "buildx", "build", …)` with BuildKit, not the library's API.
        let buildkit = text.contains("\"buildx\"") || text.contains("DOCKER_BUILDKIT=1");
        for (i, line) in text.lines().enumerate() {
            for name in line.split('"').skip(1).step_by(2) {
                if name.to_ascii_lowercase().contains("dockerfile") && !name.contains(char::is_whitespace) {
                    builds.push(TestBuild { name: name.to_string(), at: (file.clone(), i + 1), library, buildkit });
                }
            }
        }
    }
    builds
}

/// The test build that names the Dockerfile at `path` (relative to the repository), if one does:
/// by its path where the test names a directory too (`flagd/build.Dockerfile` is not
/// `flagd-proxy/build.Dockerfile`), else by its file name when that is its own
/// (`Dockerfile.derper`); a plain `Dockerfile` needs its directory named.
pub fn built_by<'b>(builds: &'b [TestBuild], path: &Path) -> Option<&'b TestBuild> {
    let name = path.file_name()?.to_str()?;
    builds.iter().find(|b| {
        // Relative to the test or its context: `./` and `../` say nothing of where it is.
        let named: PathBuf =
            Path::new(&b.name).components().filter(|c| matches!(c, std::path::Component::Normal(_))).collect();
        let with_dir = named.components().count() > 1;
        named.file_name().and_then(|n| n.to_str()) == Some(name)
            && if with_dir { path.ends_with(&named) } else { name != "Dockerfile" }
    })
}

/// Where a test builds the image and with what: `integration/relay_test.go:17 (dockertest)`;
/// `None` where the test builds it with BuildKit (`docker buildx build`).
pub fn origin(build: &TestBuild) -> Option<String> {
    (!build.buildkit).then(|| format!("{}:{} ({})", build.at.0.display(), build.at.1, build.library))
}

/// Why a Dockerfile only a test builds is skipped.
pub fn reason(build: &TestBuild) -> String {
    let how = match build.buildkit {
        true => format!("names it, and the tests build it with docker buildx for {} to run", build.library),
        false => format!("builds it with {}, through the Docker API without BuildKit", build.library),
    };
    format!(
        "an image the tests build: {}:{} {how}, as a fixture of the tests, not an image the project ships",
        build.at.0.display(),
        build.at.1,
    )
}

/// The Go files under `dir`, tests and test directories included (not vendored code).
fn go_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let (Ok(kind), Some(name)) = (entry.file_type(), entry.file_name().to_str().map(str::to_string)) else {
            continue;
        };
        if kind.is_dir()
            && !name.starts_with('.')
            && !matches!(name.as_str(), "vendor" | "node_modules" | "third_party")
        {
            go_files(&entry.path(), out);
        } else if kind.is_file() && name.ends_with(".go") {
            out.push(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dockerfile_a_test_builds_is_named_by_its_own_name_or_its_path() {
        let at = (PathBuf::from("integration/dsic.go"), 224);
        let build =
            |name: &str| TestBuild { name: name.into(), at: at.clone(), library: "dockertest", buildkit: false };
        let builds = [build("Dockerfile.derper"), build("testdata/Dockerfile")];
        let why = reason(built_by(&builds, Path::new("Dockerfile.derper")).unwrap());
        assert!(
            why.starts_with("an image the tests build: integration/dsic.go:224 builds it with dockertest"),
            "{why}"
        );
        assert!(built_by(&builds, Path::new("docker/testdata/Dockerfile")).is_some());
        assert!(built_by(&builds, Path::new("Dockerfile")).is_none(), "a plain name needs its path");
        assert!(built_by(&builds, Path::new("Dockerfile.server")).is_none());
        // A name with its directory is that directory's file only, however the test reaches it.
        let builds = [build("../../flagd/build.Dockerfile")];
        assert!(built_by(&builds, Path::new("flagd/build.Dockerfile")).is_some());
        assert!(built_by(&builds, Path::new("flagd-proxy/build.Dockerfile")).is_none());
        // Built with buildx for the library to run: BuildKit's mounts work there.
        let buildx = TestBuild { buildkit: true, library: "testcontainers", ..build("combined/Dockerfile") };
        assert!(reason(&buildx).contains("names it, and the tests build it with docker buildx for testcontainers"));
        assert!(origin(&buildx).is_none() && origin(&build("Dockerfile.derper")).is_some());
    }
}
