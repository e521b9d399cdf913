//! What a file's name and place say: whether it is a file harden handles (a Dockerfile, a YAML
//! file), and why one is passed over for where it is (a workflow, a chart's template, generated
//! output, a development container, a test image).

use std::path::Path;

use super::is_test_name;
use crate::kubernetes::workload;

/// True when a file name is a Dockerfile's: `Dockerfile`, `Dockerfile.*`, `Dockerfile-*`,
/// `Dockerfile_*`, `*.Dockerfile`, `*.dockerfile`, `Containerfile` (any case), but not
/// `*.dockerignore` or templates.
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let named = lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.starts_with("dockerfile-")
        || lower.starts_with("dockerfile_")
        || lower.starts_with("containerfile.")
        || lower.ends_with("dockerfile")
        || lower.ends_with("containerfile")
        // A variant named before and after (`planner.Dockerfile.dev`), not a template a script
        // fills in (`api.Dockerfile.in`).
        || (lower.contains(".dockerfile.") && !lower.ends_with(".in"));
    // Templates, documents, backups, and source files of tools that write Dockerfiles
    // (`dockerfile.go`, `dockerfile.js`).
    let not_dockerfile = [
        ".dockerignore",
        ".j2",
        ".jinja",
        ".tmpl",
        ".tpl",
        ".template",
        ".md",
        ".mdx",
        ".rst",
        ".adoc",
        ".html",
        ".orig",
        ".bak",
        ".go",
        ".js",
        ".ts",
        ".py",
        ".rs",
        ".rb",
        ".java",
        ".json",
        ".yaml",
        ".yml",
        ".txt",
        ".sh",
    ];
    named && !not_dockerfile.iter().any(|s| lower.ends_with(s))
}

/// True for a YAML file name (`.yaml`, `.yml`).
pub fn is_yaml_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// The suffix of a YAML template a script fills in before it is applied (`bridge-marker.yml.in`,
/// `ovnkube-node.yaml.j2`, `deploy.yaml.tmpl`), when the name has one.
pub fn template_suffix(name: &str) -> Option<&'static str> {
    const SUFFIXES: &[&str] = &[".in", ".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".template"];
    SUFFIXES.iter().copied().find(|s| {
        let lower = name.to_ascii_lowercase();
        lower.strip_suffix(s).is_some_and(is_yaml_name)
    })
}

/// Why a YAML template a script fills in is passed over, when it runs a workload; none in a Helm
/// chart's templates (`_job-template.yaml.tpl`), which the chart's values.yaml speaks for.
pub(super) fn template_reason(path: &Path) -> Option<String> {
    let suffix = template_suffix(path.file_name()?.to_str()?)?;
    if chart_root(path).is_some() {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let kinds: Vec<&str> = workload::kinds_written(&text).collect();
    kinds.iter().any(|k| workload::is_workload_kind(k)).then_some(())?;
    Some(match kinds.contains(&"Kustomization") {
        true => format!(
            "a template of a kustomization (`{suffix}`), which a script fills in before kustomize builds it: harden edits no template"
        ),
        false => format!(
            "a template of a manifest (`{suffix}`), which a script fills in before it is applied: harden edits no template, so what its workloads' securityContext lacks is left to you"
        ),
    })
}

/// Why a YAML file is not a manifest harden edits, judged by where it is and what it is named:
/// workflows, kustomizations, Compose, Skaffold, GoReleaser and harden's own configuration, and
/// the templates and values of a Helm chart. (What a file holds is judged when it is read.)
pub(super) fn yaml_skip_reason(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let stem = name.trim_end_matches(".yaml").trim_end_matches(".yml");
    let parent = path.parent();
    let in_dir = |dir: &str| parent.and_then(|p| p.file_name()).is_some_and(|n| n == dir);
    let reason = if in_dir("workflows")
        && parent.and_then(Path::parent).and_then(|p| p.file_name()).is_some_and(|n| n == ".github")
    {
        "a GitHub Actions workflow"
    } else if stem == "action" && path.components().any(|c| c.as_os_str() == ".github") {
        "a GitHub Action's metadata (action.yml: its inputs and how it runs)"
    } else if stem == "kustomization" {
        "a kustomization: kustomize builds the manifests it lists, which harden checks one by one"
    } else if stem.starts_with("docker-compose") || stem.starts_with("compose") {
        "a Compose file, not a Kubernetes manifest"
    } else if stem.starts_with("skaffold") {
        "a Skaffold configuration"
    } else if crate::orchestration::is_devspace_name(&name) {
        "a DevSpace configuration"
    } else if stem.trim_start_matches('.').starts_with("goreleaser")
        || path.parent().is_some_and(|dir| dir.ends_with(crate::orchestration::GORELEASER_DIR))
    {
        return Some(goreleaser_reason(path));
    } else if crate::orchestration::is_ko_name(&name) {
        // ko's configuration is read by its own engine (`ko::harden`).
        return None;
    } else if let Some(system) = ci_system(path, &name) {
        let article = if system.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
        return Some(format!("{article} {system} configuration"));
    } else if is_chart_values(path) {
        // A chart its Chart.yaml marks deprecated gets no more releases: a change would ship nowhere.
        let chart = path.parent().map(|dir| dir.join("Chart.yaml"));
        let text = chart.and_then(|c| super::read_text(&c).ok()).unwrap_or_default();
        let deprecated = text.lines().any(|l| l.trim_end() == "deprecated: true");
        if deprecated {
            return Some("the values of a chart its Chart.yaml marks deprecated (`deprecated: true`): it gets no more releases, so a change would ship nowhere".to_string());
        }
        return path.parent().and_then(vendored_dependency);
    } else if chart_root(path).is_some() {
        HELM_CHART
    } else if crate::config::LOCATIONS.iter().any(|l| path.ends_with(l)) {
        "harden's own configuration"
    } else {
        return None;
    };
    Some(reason.to_string())
}

/// The CI system a YAML file configures, by its name or directory (`.woodpecker/test.yaml`,
/// `.gitlab-ci.yml`): its `services:` are the pipeline's, not Compose's.
fn ci_system(path: &Path, name: &str) -> Option<&'static str> {
    const DIRS: &[(&str, &str)] =
        &[(".woodpecker", "Woodpecker CI"), (".circleci", "CircleCI"), (".buildkite", "Buildkite")];
    const FILES: &[(&str, &str)] = &[
        (".woodpecker.yml", "Woodpecker CI"),
        (".woodpecker.yaml", "Woodpecker CI"),
        (".gitlab-ci.yml", "GitLab CI"),
        (".drone.yml", "Drone CI"),
        (".travis.yml", "Travis CI"),
        ("azure-pipelines.yml", "Azure Pipelines"),
        ("bitbucket-pipelines.yml", "Bitbucket Pipelines"),
    ];
    let in_dir = DIRS.iter().find(|(dir, _)| path.components().any(|c| c.as_os_str() == *dir));
    let by_name = in_dir.or_else(|| FILES.iter().find(|(file, _)| name == *file)).map(|(_, system)| *system);
    by_name.or_else(|| crate::orchestration::is_cloudbuild(path).then_some("Cloud Build"))
}

/// Why a Helm chart is passed over, said once for the chart's directory.
pub(super) const HELM_CHART: &str = "a Helm chart: harden does not edit charts, whose pod and container securityContext come from its values.yaml and templates";

/// Why a Helm chart's templates are passed over where harden hardens its `values.yaml`.
pub(super) const HELM_TEMPLATES: &str = "a Helm chart's templates: harden edits no template; it reports what they render under the chart's values.yaml, and changes only the securityContexts they take from it";

/// Why an umbrella chart (no `templates/` of its own) is passed over: its workloads are its
/// dependencies'.
pub(super) const HELM_UMBRELLA: &str = "a Helm chart with no templates of its own: its workloads come from the charts Chart.yaml lists as dependencies, which are not here, so harden does not check them";

/// Why a chart kept under another's `charts/` is left, when that chart's Chart.yaml lists it as a
/// dependency fetched from a repository (gpu-operator's node-feature-discovery, from an OCI
/// registry): `helm dependency update` writes it again, and its values are the parent's to set.
fn vendored_dependency(chart: &Path) -> Option<String> {
    let name = chart.file_name()?.to_str()?;
    let parent = chart.parent().filter(|p| p.file_name().is_some_and(|n| n == "charts"))?.parent()?;
    let text = super::read_text(&parent.join("Chart.yaml")).ok()?;
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).ok()?;
    let dependency = doc.get("dependencies")?.as_sequence()?.iter().find(|d| {
        d.get("name").and_then(|n| n.as_str()) == Some(name) || d.get("alias").and_then(|n| n.as_str()) == Some(name)
    })?;
    let repository =
        dependency.get("repository").and_then(|r| r.as_str()).filter(|r| !r.is_empty() && !r.starts_with("file://"))?;
    let key = dependency.get("alias").and_then(|a| a.as_str()).unwrap_or(name);
    let parent_name = doc.get("name").and_then(|n| n.as_str()).unwrap_or("above it");
    Some(format!(
        "a dependency of chart {parent_name} (its Chart.yaml fetches it from {repository}): `helm dependency update` writes it again, so an edit here is lost; set its values under `{key}:` in that chart's values.yaml"
    ))
}

/// True for a Helm chart's own values file (`values.yaml` beside its `Chart.yaml`), where harden
/// hardens the security contexts the chart's templates take from it.
pub fn is_chart_values(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    matches!(name, "values.yaml" | "values.yml") && chart_root(path) == path.parent()
}

/// The Helm chart a file belongs to: the nearest directory above it with a `Chart.yaml`
/// (templates sit in subdirectories, test values in `ci/`).
pub(super) fn chart_root(path: &Path) -> Option<&Path> {
    path.ancestors().skip(1).take(6).find(|p| p.join("Chart.yaml").is_file() || p.join("Chart.yml").is_file())
}

/// Says a Helm chart once, for its directory, not for each of its files.
pub(super) fn collapse_charts(found: &mut Vec<super::Found>) {
    use super::{Found, Kind, PassOver};
    let mut charts = std::collections::BTreeSet::new();
    found.retain(|f| match (&f.pass_over, chart_root(&f.path)) {
        (Some(PassOver::Skip(why)), Some(chart)) if why == HELM_CHART => {
            charts.insert(chart.to_path_buf());
            false
        }
        _ => true,
    });
    found.extend(charts.into_iter().map(|chart| {
        let values = ["values.yaml", "values.yml"].iter().any(|v| chart.join(v).is_file());
        let why = match (chart.join("templates").is_dir(), values) {
            (false, _) => HELM_UMBRELLA,
            (true, true) => HELM_TEMPLATES,
            (true, false) => HELM_CHART,
        };
        Found {
            display: format!("{}/", super::display(&chart)),
            path: chart,
            kind: Kind::Directory,
            pass_over: Some(PassOver::Skip(why.into())),
        }
    }));
}

/// What a GoReleaser configuration is, and what the images its `kos` entries build with ko run
/// as: ko's default base (cgr.dev/chainguard/static) runs them as 65532; a distroless base without
/// `:nonroot`, or a full OS image, as root unless the entry sets a `user`.
fn goreleaser_reason(path: &Path) -> String {
    let what = "a GoReleaser configuration";
    let text = super::read_text(path).unwrap_or_default();
    let doc: yaml_serde::Value = yaml_serde::from_str(&text).unwrap_or(yaml_serde::Value::Null);
    let kos = doc.get("kos").and_then(|k| k.as_sequence()).map(Vec::as_slice).unwrap_or_default();
    let root: Vec<String> = kos
        .iter()
        .filter(|entry| entry.get("user").is_none())
        .filter_map(|entry| entry.get("base_image").and_then(|b| b.as_str()))
        // Only bases known to start as root: distroless without `:nonroot`, a distribution's or
        // Go's image (another base may set its own user).
        .filter(|base| {
            use crate::dockerfile::image::{Family, ImageRef};
            let family = ImageRef::parse(base).family();
            (family == Family::Distroless && !base.contains("nonroot")) || family.is_fat()
        })
        .map(str::to_string)
        .collect();
    match root.as_slice() {
        [] => what.to_string(),
        bases => format!(
            "{what}: its `kos` entries build images with ko on {}, which run the program as root (no `user` set); set `user: \"65532:65532\"` or a `:nonroot` base there (harden does not change GoReleaser's configuration: check the ports and files the program needs first)",
            bases.join(", ")
        ),
    }
}

/// Names of directories that hold generated files (`gen/`, `generated/`).
const GENERATED_DIRS: &[&str] = &["gen", "generated", "zz_generated"];

/// Why a manifest of workloads (`text`) is passed over for the version its name carries (`rel`:
/// its path below the walk's root): a release's manifest kept under that name
/// (`dist/install-v0.1.0.yaml`, which a release script writes once and users apply by it). A
/// file of no workload (a conformance report named for the version it tested) is not one.
pub(super) fn released_version_reason(rel: &Path, text: impl FnOnce() -> String) -> Option<String> {
    let stem = rel.file_stem()?.to_str()?;
    let version = stem.split(['-', '_']).find(|part| is_version(part) && part.matches('.').count() >= 2)?;
    workload::kinds_written(&text()).any(workload::is_workload_kind).then(|| format!(
        "{RELEASED_VERSION} ({version}, as its name says): what that release shipped, kept as it was for those who apply it by name; harden the current manifests"
    ))
}

/// What the reason a released version's manifest is passed over starts with.
const RELEASED_VERSION: &str = "a released version's manifest";

/// True when a file is passed over as a released version's manifest (`releases/v0.1.68.yml`),
/// whose images name the releases the repository shipped.
pub fn is_released_manifest(pass_over: &super::PassOver) -> bool {
    matches!(pass_over, super::PassOver::Skip(why) if why.starts_with(RELEASED_VERSION))
}

/// Why a manifest in a directory of generated files (`rel`: its path below the walk's `root`)
/// is passed over: a generator (`tk export`, a jsonnet or kustomize pipeline) writes it again,
/// and CI often checks that nothing differs from what it writes. A file in a documentation
/// version that names no kind (`text`: a CloudFormation template) is no manifest it shows.
pub(super) fn generated_dir_reason(root: &Path, rel: &Path, text: impl Fn() -> String) -> Option<String> {
    let dirs: Vec<&str> = rel.parent()?.components().filter_map(|c| c.as_os_str().to_str()).collect();
    if let Some(dir) = dirs.iter().find(|c| GENERATED_DIRS.contains(c)) {
        return Some(format!(
            "in a directory of generated files ({dir}/): a generator writes it again from its sources, so an edit here is lost (or fails the check that regenerating changes nothing); harden the sources"
        ));
    }
    if !dirs.iter().any(|d| is_version(d)) {
        return None;
    }
    // A released version's manifests kept beside the current ones (`deploy/v4.13.4/`): what that
    // release shipped, which its users apply as it was. A package catalogue names each package
    // first (`channels/packages/<name>/0.1.0-kops.1/`); a directory of release copies may have
    // any name where it holds several (`config/multus/v4.1.4-eksbuild.1/` beside
    // `v4.0.2-eksbuild.1/`).
    let parent = dirs.iter().position(|d| RELEASE_COPY_PARENTS.contains(&d.to_ascii_lowercase().as_str()));
    let copies = parent.and_then(|at| Some((at, at + 1 + dirs.iter().skip(at + 1).position(|d| is_version(d))?)));
    let copies = copies.or_else(|| {
        // Manifests of workloads, not reports named for the versions they tested.
        let version = dirs.iter().position(|d| is_full_version(d))?;
        workload::kinds_written(&text()).any(workload::is_workload_kind).then_some(())?;
        let siblings = std::fs::read_dir(root.join(dirs[..version].join("/"))).ok()?.flatten();
        let others = siblings.filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().into_string().ok());
        let others = others.filter(|name| name != dirs[version] && is_full_version(name)).count();
        (version > 0 && others > 0).then_some((0, version))
    });
    if let Some((at, version)) = copies {
        // Named without its version, so that the copies of every release are told as one.
        return Some(format!(
            "in a released version's copy of the manifests ({}/<version>/): what that release shipped, kept as it was; harden the current manifests",
            dirs[at..version].join("/")
        ));
    }
    // A documentation site's copy of a released version's pages (`site/static/v0.18/`).
    let docs = dirs.iter().position(|d| DOCS_DIRS.contains(&d.to_ascii_lowercase().as_str()))?;
    let versioned = dirs[docs + 1..].iter().any(|d| is_version(d));
    (versioned && workload::kinds_written(&text()).next().is_some()).then(|| {
        "in a released version's copy of the documentation (a version's directory): it shows what that release shipped, kept as it was; harden the current examples".to_string()
    })
}

/// Directories that hold a documentation site.
const DOCS_DIRS: &[&str] = &["docs", "doc", "site", "website", "documentation"];

/// True for a file (its path as shown, `/`-separated) inside a documentation site's directory.
pub fn in_docs(display: &str) -> bool {
    let mut dirs = display.split('/').rev().skip(1);
    dirs.any(|d| DOCS_DIRS.contains(&d.to_ascii_lowercase().as_str()))
}

/// Directories whose release-named subdirectories (`deploy/v4.13.4/`), or those of the packages
/// they hold (`packages/coredns/0.1.0/`), keep released manifests.
const RELEASE_COPY_PARENTS: &[&str] = &["deploy", "manifests", "install", "releases", "charts", "packages", "channels"];

/// True for a directory named for a full release, `v1.2.3` or a build of it (`v4.1.4-eksbuild.1`),
/// not a minor version (`1.37`, which may name a Kubernetes release a variant is for).
fn is_full_version(name: &str) -> bool {
    is_version(name) && name.split('-').next().is_some_and(|number| number.matches('.').count() >= 2)
}

/// True for a directory named for a release: `v0.18`, `v1.2.3`, `release-1.4`, `3.10.0`, and a
/// pre-release of one (`3.0.0-beta10`).
fn is_version(name: &str) -> bool {
    let number = name.strip_prefix('v').or_else(|| name.strip_prefix("release-")).unwrap_or(name);
    let (number, pre) = number.split_once('-').unwrap_or((number, "release"));
    number.contains('.')
        && number.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
        && !pre.is_empty()
        && pre.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
}

/// Directories whose Dockerfiles build images for people or CI, not services, with what such an
/// image is.
const NOT_SERVICE_DIRS: &[(&[&str], &str)] = &[
    (
        &[".devcontainer", "devcontainer"],
        "a development container ({}): built for people working on the code, not to run a service",
    ),
    // CircleCI's and Buildkite's job images: the CI service runs build steps in them.
    (
        &[".circleci", ".buildkite"],
        "a CI job's image ({}): the CI service runs build steps in it, it does not run a service",
    ),
];

/// Why a Dockerfile is not one harden hardens, judged by where it is (`rel`: its path below the
/// walk's root): a development container, a CI job's image, a test image. (A GitHub Action's
/// container is told by the `action.yml` the walk finds beside it.)
pub(super) fn dockerfile_skip_reason(rel: &Path, default_ignores: bool) -> Option<String> {
    for component in rel.parent().into_iter().flat_map(Path::components) {
        let dir = component.as_os_str().to_string_lossy();
        if let Some((_, what)) = NOT_SERVICE_DIRS.iter().find(|(names, _)| names.contains(&dir.as_ref())) {
            return Some(what.replace("{}", &dir));
        }
    }
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    (default_ignores && is_test_name(name)).then(|| {
        format!(
            "a test image ({name}): a test suite builds and runs it as it needs (default_ignores: false hardens it too)"
        )
    })
}

/// The variant a Dockerfile's name says it builds (`Dockerfile.thick`, `controller.Dockerfile`,
/// `Dockerfile-debug` → `thick`, `controller`, `debug`), lowercase; none for a plain `Dockerfile`.
pub fn dockerfile_variant(dockerfile: &Path) -> Option<String> {
    let name = dockerfile.file_name()?.to_str()?.to_ascii_lowercase();
    let variant = name.strip_prefix("dockerfile").map(|v| v.trim_start_matches(['.', '-', '_']));
    let variant = variant.or_else(|| name.strip_suffix("dockerfile").map(|v| v.trim_end_matches(['.', '-', '_'])));
    variant.filter(|v| !v.is_empty() && !v.contains(['.', '/'])).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yaml_template_is_named_by_its_suffix() {
        assert_eq!(template_suffix("bridge-marker.yml.in"), Some(".in"));
        assert_eq!(template_suffix("ovnkube-node.YAML.j2"), Some(".j2"));
        assert_eq!(template_suffix("deploy.yaml.tmpl"), Some(".tmpl"));
        assert_eq!(template_suffix("Makefile.in"), None);
        assert_eq!(template_suffix("deploy.yaml"), None);
    }

    #[test]
    fn recognises_dockerfile_names() {
        for name in [
            "Dockerfile",
            "dockerfile",
            "Dockerfile.prod",
            "Dockerfile-alpine",
            "Dockerfile_iptables",
            "api.Dockerfile",
            "x.dockerfile",
            "Containerfile",
            "DebugDockerfile",
            "planner.Dockerfile.dev",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        for name in [
            "Dockerfile.dockerignore",
            "Dockerfile.j2",
            "README.md",
            "docker-compose.yml",
            "dockerfiles",
            "dockerfile.go",
            "dockerfile.js",
            "dockerfile-context.mdx",
            "api.Dockerfile.in",
        ] {
            assert!(!is_dockerfile_name(name), "{name}");
        }
    }

    #[test]
    fn released_copies_are_passed_over_below_their_package() {
        let package = Path::new("channels/packages/operator.coredns/0.1.0-kops.1/manifest.yaml");
        let (nowhere, daemon) = (Path::new("/nonexistent"), || "kind: DaemonSet\n".to_string());
        assert!(
            generated_dir_reason(nowhere, package, daemon)
                .is_some_and(|r| r.contains("(channels/packages/operator.coredns/<version>/)"))
        );
        assert!(generated_dir_reason(nowhere, Path::new("deploy/v4.13.4/operator.yaml"), daemon).is_some());
        assert_eq!(generated_dir_reason(nowhere, Path::new("deploy/operator/base/operator.yaml"), daemon), None);
        // A file of no kind in a docs version (a CloudFormation template) is said to be no manifest.
        let template = || "AWSTemplateFormatVersion: 2010-09-09\nResources: {}\n".to_string();
        assert_eq!(generated_dir_reason(nowhere, Path::new("website/v1.4/getting-started/cfn.yaml"), template), None);
        // Release copies side by side in a directory of any name.
        let repo = tempfile::tempdir().unwrap();
        for dir in ["config/multus/v4.1.4-eksbuild.1", "config/multus/v4.0.2-eksbuild.1", "config/k8s/1.37"] {
            std::fs::create_dir_all(repo.path().join(dir)).unwrap();
        }
        let copy = generated_dir_reason(repo.path(), Path::new("config/multus/v4.1.4-eksbuild.1/multus.yaml"), daemon);
        assert!(copy.is_some_and(|r| r.contains("(config/multus/<version>/)")));
        // One minor version's directory is a variant, not a release copy.
        assert_eq!(generated_dir_reason(repo.path(), Path::new("config/k8s/1.37/node.yaml"), daemon), None);
        // A release's manifest of workloads named for its full version, not a minor version's
        // variant, nor a report named for the version of what it tested.
        let deployment = || "apiVersion: apps/v1\nkind: Deployment\n".to_string();
        let released = released_version_reason(Path::new("dist/install-v0.2.0.yaml"), deployment);
        assert!(released.is_some_and(|r| r.contains("(v0.2.0,")));
        let listed = || "kind: List\nitems:\n  - kind: \"DaemonSet\"\n".to_string();
        assert!(released_version_reason(Path::new("dist/install-v0.2.0.yaml"), listed).is_some());
        assert_eq!(released_version_reason(Path::new("deploy/kubernetes-1.29.yaml"), deployment), None);
        let report = || "apiVersion: gateway.networking.k8s.io/v1\nkind: ConformanceReport\n".to_string();
        assert_eq!(released_version_reason(Path::new("reports/v1.1.0/cilium/v1.14.0-report.yaml"), report), None);
    }

    #[test]
    fn release_directories_are_named_for_versions() {
        for name in ["v0.18", "v1.2.3", "release-1.4", "3.10.0", "3.0.0-beta10", "v1.2.3-rc.1"] {
            assert!(is_version(name), "{name}");
        }
        for name in ["v1", "3", "latest", "1.x", "3.0-", "v1.2.3-rc/1", "api"] {
            assert!(!is_version(name), "{name}");
        }
    }

    #[test]
    fn a_dockerfile_name_says_its_variant() {
        let variant = |name: &str| dockerfile_variant(Path::new(name));
        assert_eq!(variant("images/Dockerfile.thick").as_deref(), Some("thick"));
        assert_eq!(variant("build/controller.Dockerfile").as_deref(), Some("controller"));
        assert_eq!(variant("Dockerfile-debug").as_deref(), Some("debug"));
        assert_eq!(variant("images/Dockerfile"), None);
    }
}
