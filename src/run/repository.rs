//! What harden reads across the whole repository before it judges a file, whatever path it was
//! given: Compose, skaffold and GoReleaser files, Helm charts' templates and Makefiles (how each
//! image is built and run) and kustomizations (which manifests are patches, which workloads a
//! patch leaves the user of to the platform, and which tags and digests their `images:` give).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::discover::{self, Found, Kind};
use crate::kubernetes::{analyse, kustomize};
use crate::orchestration;

use super::kustomized::{Built, KustomizedImage};

/// The repository-wide facts.
#[derive(Debug, Default)]
pub struct RepositoryFacts {
    /// How the repository builds and runs its images.
    pub orchestration: orchestration::Repository,
    /// Each kustomize patch (relative to the repository), the kustomization that lists it, and
    /// the kinds it changes when none is a workload's.
    pub patches: BTreeMap<PathBuf, (PathBuf, Option<String>)>,
    /// The workloads (`Kind/name`) whose user the platform chooses, with why: a patch that asks
    /// for `runAsNonRoot` without a user, or an OpenShift overlay that builds on them.
    pub platform_users: BTreeMap<String, String>,
    /// What kustomize patches do to workloads that harden must respect (run them as root,
    /// replace their securityContext or volumes), each with the patch.
    pub patched: Vec<kustomize::Patched>,
    /// The files kustomizations put into generated ConfigMaps and Secrets (relative to the
    /// repository), each with the kustomization and its generator's key.
    generated_data: BTreeMap<PathBuf, (PathBuf, &'static str)>,
    /// The PersistentVolumes, StorageClasses and claims of the repository's manifests: which
    /// claims are bound to a share that keeps its server's owners.
    pub storage: crate::kubernetes::storage::Storage,
    /// The OpenShift SecurityContextConstraints the repository ships (in a manifest or a
    /// chart's template) that refuse a seccomp profile or an emptyDir.
    constraints: Vec<analyse::Constraints>,
    /// The files kustomizations list under `resources:` (relative to the repository), each with
    /// the first kustomization that lists it.
    resources: BTreeMap<PathBuf, PathBuf>,
    /// The patches the Makefiles and scripts add with `kustomize edit add patch`, by file name,
    /// each with where (`Makefile:258`).
    added_patches: Vec<(String, String)>,
    /// Where the repository checks that its charts' READMEs are what helm-docs makes of their
    /// values (`nix/checks.nix:165`), when it does.
    pub helm_docs_check: Option<String>,
    /// Where the repository regenerates its charts' values.schema.json (`helm schema`), when it does.
    pub helm_schema_check: Option<String>,
    /// The names of the repository's own Helm charts (their Chart.yaml's `name`).
    pub chart_names: BTreeSet<String>,
    /// The tags and digests kustomizations' `images:` give images, each with the manifests
    /// (relative to the repository) the kustomization builds from, where it applies.
    image_overrides: Vec<KustomizedImage>,
}

impl RepositoryFacts {
    /// Reads the Compose, skaffold, GoReleaser and kustomization files and Helm charts among
    /// `found` (in the repository `repo`; `rel` gives a found path relative to it), each once,
    /// the Makefiles at the root
    /// and beside the Dockerfiles found, the shell scripts beside those Dockerfiles, and what
    /// updates the repository's Dockerfile images.
    pub fn read<'a>(found: impl IntoIterator<Item = &'a Found>, repo: &Path, rel: &dyn Fn(&Path) -> PathBuf) -> Self {
        let mut facts = RepositoryFacts::default();
        let mut read = BTreeSet::new();
        // The Makefiles at the root and beside each Dockerfile: their `docker build` commands
        // name the images the Dockerfiles become.
        let mut make_dirs = BTreeSet::from([PathBuf::new()]);
        for f in found.into_iter() {
            if f.kind == Kind::Dockerfile {
                make_dirs.extend(rel(&f.path).parent().map(Path::to_path_buf));
                continue;
            }
            // A Helm chart, passed over as a whole: its templates still say what its containers
            // run (an exec probe needs the image's shell).
            if f.kind == Kind::Directory && f.path.join("Chart.yaml").is_file() && read.insert(rel(&f.path)) {
                let values = discover::read_text(&f.path.join("values.yaml")).unwrap_or_default();
                let templates = chart_templates(&f.path, rel);
                let chart = rel(&f.path);
                facts
                    .constraints
                    .extend(templates.iter().filter_map(|(p, t)| analyse::Constraints::read(t, p, Some(&chart))));
                let chart_yaml = discover::read_text(&f.path.join("Chart.yaml")).unwrap_or_default();
                facts.orchestration.read_chart(&chart_yaml, &values, &templates);
                facts.chart_names.extend(orchestration::helm::chart_name(&chart_yaml));
                continue;
            }
            if f.kind != Kind::Kubernetes {
                continue;
            }
            let path = rel(&f.path);
            if !read.insert(path.clone()) {
                continue;
            }
            let name = f.path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let kustomization = kustomize::FILE_NAMES.contains(&name);
            let Ok(text) = discover::read_text(&f.path) else { continue };
            facts.storage.read(&text, &path.display().to_string());
            facts.constraints.extend(analyse::Constraints::read(&text, &path, None));
            if !(kustomization
                || orchestration::is_compose_name(name)
                || orchestration::is_skaffold_name(name)
                || orchestration::is_devspace_name(name)
                || orchestration::is_cloudbuild(&path)
                || orchestration::is_goreleaser_name(name)
                || path.parent().is_some_and(|dir| dir.ends_with(orchestration::GORELEASER_DIR))
                || orchestration::is_ko_name(name)
                || orchestration::is_workflow(&path))
            {
                continue;
            }
            if !kustomization {
                facts.orchestration.read(&path, &text);
                continue;
            }
            let dir = path.parent().unwrap_or(Path::new(""));
            let mut overrides = kustomize::image_overrides(&text, &path.display().to_string());
            // A component's `images:` apply to what the kustomization that takes it in builds.
            for component in kustomize::components(&text) {
                let file = orchestration::normalise(&dir.join(component).join("kustomization.yaml"));
                if let Ok(component) = discover::read_text(&repo.join(&file)) {
                    overrides.extend(kustomize::image_overrides(&component, &file.display().to_string()));
                }
            }
            // A patch that gives a container another image (kubebuilder's image patch) is as
            // good as an `images:` entry.
            let read = |file: PathBuf| discover::read_text(&repo.join(file)).ok();
            let patches: Vec<(String, String)> =
                kustomize::patch_paths(&text).into_iter().filter_map(|p| Some((read(dir.join(&p))?, p))).collect();
            let built = if overrides.is_empty() && patches.is_empty() && !kustomize::is_openshift(&path) {
                Built::default()
            } else {
                Built::of(repo, dir, &text)
            };
            let bases: Vec<String> =
                built.files.iter().filter(|_| !patches.is_empty()).filter_map(|b| read(b.clone())).collect();
            for (patch, name) in patches {
                let by = format!("{} (its patch {name})", path.display());
                overrides.extend(kustomize::patched_images(&patch, &bases, &by));
            }
            for (name, set) in overrides {
                facts.image_overrides.push(KustomizedImage { name, set, dir: dir.to_path_buf(), built: built.clone() });
            }
            // An overlay that grants the privileged or anyuid SCC (or one of its own that runs
            // any user) lets the pods choose their user: the platform does not.
            let any_user = || {
                let resources = kustomize::resources(&text);
                let texts = resources.iter().filter_map(|r| discover::read_text(&repo.join(dir.join(r))).ok());
                texts.into_iter().any(|t| {
                    t.contains("system:openshift:scc:privileged")
                        || t.contains("system:openshift:scc:anyuid")
                        || (t.contains("kind: SecurityContextConstraints") && t.contains("RunAsAny"))
                })
            };
            if kustomize::is_openshift(&path) && !any_user() {
                let why = format!("{} builds on it for OpenShift", path.display());
                let texts = built.files.iter().filter_map(|file| discover::read_text(&repo.join(file)).ok());
                for workload in texts.flat_map(|text| kustomize::workload_ids(&text)) {
                    facts.platform_users.entry(workload).or_insert_with(|| why.clone());
                }
            }
            for (generator, file) in kustomize::generator_files(&text) {
                let file = orchestration::normalise(&dir.join(file));
                facts.generated_data.entry(file).or_insert_with(|| (path.clone(), generator));
            }
            let listed = kustomize::resources(&text);
            for resource in &listed {
                let file = orchestration::normalise(&dir.join(resource));
                facts.resources.entry(file).or_insert_with(|| path.clone());
            }
            let own: Vec<String> = listed
                .iter()
                .filter_map(|r| discover::read_text(&repo.join(orchestration::normalise(&dir.join(r)))).ok())
                .flat_map(|text| kustomize::workload_ids(&text))
                .collect();
            for target in kustomize::patch_targets(&text) {
                let patch = orchestration::normalise(&dir.join(&target.path));
                let mut not_workloads = None;
                if let Ok(text) = discover::read_text(&repo.join(&patch)) {
                    not_workloads = kustomize::patched_kinds_without_workload(&text, &target);
                    // A target of a kind alone (`kind: Deployment`) aims the patch at every one;
                    // one of another kind (a `ServerConfig` named as a workload is) at none.
                    let aimed = target.name.as_deref().or(target.kind.as_ref().map(|_| ".*"));
                    let effects =
                        if not_workloads.is_some() { Vec::new() } else { kustomize::patch_effects(&text, aimed) };
                    for mut effect in effects {
                        effect.what = format!("{} (of {}) {}", patch.display(), path.display(), effect.what);
                        effect.file = patch.display().to_string();
                        // Fields merged in are there where the kustomization builds the workload
                        // from its own files; an overlay's only where the overlay builds it.
                        let named =
                            |id: &String| effect.applies_to(id.split_once('/').map_or(id.as_str(), |(_, name)| name));
                        match own.iter().any(named) {
                            true => facts.patched.push(effect),
                            false => facts.patched.extend(effect.in_overlay()),
                        }
                    }
                    for workload in kustomize::platform_chooses_user(&text) {
                        // The patch that asks is the most precise reason: it wins over an overlay's.
                        let why = format!("{} asks for runAsNonRoot without a user", patch.display());
                        facts.platform_users.insert(workload, why);
                    }
                }
                facts.patches.entry(patch).or_insert_with(|| (path.clone(), not_workloads));
            }
        }
        facts.orchestration.find_image_updater(|path| discover::read_text(&repo.join(path)).ok());
        facts.helm_docs_check = super::checks::helm_docs_check(repo);
        facts.helm_schema_check = super::checks::first_line(repo, super::checks::runs_schema_generator);
        if let Some(name) = repository_name(repo) {
            facts.orchestration.name_repository(&name);
        }
        for dir in &make_dirs {
            let makefile = ["GNUmakefile", "makefile", "Makefile"].iter().map(|name| dir.join(name)).find_map(|path| {
                let text = discover::read_text(&repo.join(&path)).ok()?;
                Some((path, text))
            });
            // Shell scripts beside a Dockerfile build it too (`build_and_test.sh`).
            let scripts = std::fs::read_dir(repo.join(dir)).into_iter().flatten().flatten().filter_map(|entry| {
                let name = entry.file_name().to_str()?.to_string();
                let text = name.ends_with(".sh").then(|| discover::read_text(&entry.path()).ok()).flatten()?;
                Some((dir.join(name), text))
            });
            for (path, text) in makefile.into_iter().chain(scripts) {
                facts.orchestration.read_build_commands(&path, &text);
                for (line, patch) in kustomize::added_patches(&text) {
                    facts.added_patches.push((patch, format!("{}:{line}", path.display())));
                }
            }
            // Tilt's builds name the images its development manifests run.
            let tiltfile = dir.join("Tiltfile");
            if let Ok(text) = discover::read_text(&repo.join(&tiltfile)) {
                facts.orchestration.read_tiltfile(&tiltfile, &text);
            }
            // The READMEs beside them document how the images are run (`docker run -v …`).
            for (path, text) in readmes(repo, dir) {
                facts.orchestration.read_docs(&path, &text);
            }
        }
        facts.orchestration.find_development_root_images(|p| discover::read_text(&repo.join(p)).ok());
        // The images a `deploy` rule sets in a kustomization run in place of its placeholder.
        let kustomizations: Vec<&PathBuf> =
            read.iter().filter(|p| p.file_name().is_some_and(|n| n == "kustomization.yaml")).collect();
        for set in facts.orchestration.set_images().to_vec() {
            // In a copy, the repository's kustomization whose path ends the same, when only one does.
            let dir = match set.in_copy {
                false => set.kustomization.clone(),
                true => {
                    let mut same =
                        kustomizations.iter().filter_map(|p| p.parent()).filter(|d| d.ends_with(&set.kustomization));
                    match (same.next(), same.next()) {
                        (Some(dir), None) => dir.to_path_buf(),
                        _ => continue,
                    }
                }
            };
            let set = orchestration::SetImage { kustomization: dir, ..set };
            let file = set.kustomization.join("kustomization.yaml");
            let Ok(text) = discover::read_text(&repo.join(&file)) else { continue };
            let built = Built::of(repo, &set.kustomization, &text);
            let kustomization = format!("{} (by {})", file.display(), set.by.display());
            // An image the script takes from a variable (`controller=${IMG}`) is known only then.
            let new_name = Some(set.image).filter(|image| !image.contains('$'));
            let run = kustomize::ImageOverride { tag: None, digest: false, new_name, kustomization, by_script: true };
            let dir = set.kustomization;
            facts.image_overrides.push(KustomizedImage { name: set.name, set: run, dir, built });
        }
        facts
    }

    /// The SecurityContextConstraints that govern the pods of the manifest at `path` (relative
    /// to the repository; read from `file`) and refuse a seccomp profile, and an emptyDir: where
    /// each is.
    pub fn constraints_for(&self, path: &Path, file: &Path) -> (Option<String>, Option<String>) {
        if self.constraints.is_empty() {
            return (None, None);
        }
        let text = discover::read_text(file).unwrap_or_default();
        let governing: Vec<&analyse::Constraints> =
            self.constraints.iter().filter(|c| c.governs(path, &text)).collect();
        let refusing = |refuses: fn(&analyse::Constraints) -> bool| {
            governing.iter().find(|c| refuses(c)).map(|c| c.path.display().to_string())
        };
        (refusing(|c| c.refuses_seccomp), refusing(|c| c.refuses_empty_dir))
    }

    /// The tags and digests the kustomizations that build from the manifest at `path` (relative
    /// to the repository) give its images, by the name the manifest uses.
    pub fn image_overrides_for(&self, path: &Path) -> BTreeMap<String, kustomize::ImageOverride> {
        KustomizedImage::applying_to(&self.image_overrides, path)
    }

    /// The images kustomizations run in place of the ones their manifests name (`newName`).
    pub fn renamed_images(&self) -> impl Iterator<Item = &str> {
        self.image_overrides.iter().filter_map(|o| o.set.new_name.as_deref())
    }

    /// Why the file at `path` (relative to the repository) is not edited, when a kustomization
    /// puts it into a ConfigMap or Secret.
    pub fn data_reason(&self, path: &Path) -> Option<String> {
        self.generated_data.get(path).map(|(kustomization, generator)| {
            format!(
                "data, not an applied manifest: the {generator} of {} puts it into a {}, which a program reads (and may accept only as it is)",
                kustomization.display(),
                if *generator == "secretGenerator" { "Secret" } else { "ConfigMap" }
            )
        })
    }

    /// Where a Makefile or script adds the patch at `path` to a kustomization (`kustomize edit add
    /// patch --path env_override.yaml`), when one does.
    pub fn patch_added_by(&self, path: &Path) -> Option<&str> {
        let name = path.file_name()?.to_str()?;
        self.added_patches.iter().find(|(patch, _)| patch.rsplit('/').next() == Some(name)).map(|(_, at)| at.as_str())
    }

    /// The kustomization that lists the manifest at `path` (relative to the repository) under
    /// `resources:`, when one does.
    pub fn resource_of(&self, path: &Path) -> Option<&Path> {
        self.resources.get(path).map(PathBuf::as_path)
    }

    /// Why the manifest at `path` (relative to the repository) is not edited, when it is a patch.
    pub fn patch_reason(&self, path: &Path) -> Option<String> {
        self.patches.get(path).map(|(kustomization, not_workloads)| match not_workloads {
            Some(kinds) => format!(
                "a kustomize patch of {kinds} (listed in {}): no workload to harden",
                kustomization.display()
            ),
            None => format!(
                "a kustomize patch (listed in {}): kustomize applies it to its base, which is where harden makes the change (a container only the patch adds is not checked here)",
                kustomization.display()
            ),
        })
    }
}

/// The repository's name: that of its `origin` remote (`https://github.com/acme/api.git` →
/// `api`), where `repo` is a clone's root, so a clone in a directory named otherwise reads the
/// same; else its module's (`go.mod`'s `module sigs.k8s.io/external-dns` → `external-dns`); else
/// the directory's name.
fn repository_name(repo: &Path) -> Option<String> {
    let remote = git2::Repository::open(repo).ok().and_then(|git| {
        let origin = git.find_remote("origin").ok()?;
        let last = origin.url()?.trim_end_matches('/').rsplit(['/', ':']).next()?.to_string();
        Some(last.strip_suffix(".git").map(str::to_string).unwrap_or(last)).filter(|name| !name.is_empty())
    });
    // Without a remote, the module's name (`sigs.k8s.io/external-dns`) before the directory's,
    // which a copy or a CI checkout may rename.
    // gopkg.in's major version (`gopkg.in/acme/multus-cni.v4`) is no part of the repository's.
    let module = || {
        let go_mod = crate::source::GoMod::parse(&discover::read_text(&repo.join("go.mod")).ok()?);
        let name = crate::dockerfile::output::binary_name(&go_mod.module, &crate::source::SourceFacts::default())?;
        let unversioned = name.rsplit_once(".v").filter(|(_, v)| v.parse::<u32>().is_ok()).map(|(n, _)| n.to_string());
        Some(unversioned.filter(|_| go_mod.module.starts_with("gopkg.in/")).unwrap_or(name)).filter(|n| !n.is_empty())
    };
    remote.or_else(module).or_else(|| repo.file_name()?.to_str().map(str::to_string))
}

/// The READMEs in `dir` (relative to `repo`): `README.md`, `README`, `readme.markdown`…
pub fn readmes(repo: &Path, dir: &Path) -> Vec<(PathBuf, String)> {
    let entries = std::fs::read_dir(repo.join(dir)).into_iter().flatten().flatten();
    entries
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.to_string();
            let lower = name.to_ascii_lowercase();
            let readme = lower.starts_with("readme")
                && (!lower.contains('.') || lower.ends_with(".md") || lower.ends_with(".markdown"));
            let text = readme.then(|| discover::read_text(&entry.path()).ok()).flatten()?;
            Some((dir.join(name), text))
        })
        .collect()
}

/// The YAML templates of the Helm chart in `chart` (under `templates/`), each with its path
/// relative to the repository and its text.
pub(super) fn chart_templates(chart: &Path, rel: &dyn Fn(&Path) -> PathBuf) -> Vec<(PathBuf, String)> {
    let walk = ignore::WalkBuilder::new(chart.join("templates")).standard_filters(false).build();
    walk.flatten()
        .filter(|e| {
            e.file_type().is_some_and(|t| t.is_file()) && discover::is_yaml_name(&e.file_name().to_string_lossy())
        })
        .filter_map(|e| Some((rel(e.path()), discover::read_text(e.path()).ok()?)))
        .collect()
}

/// The other values files the Helm chart in `chart` ships (`values-pro.yaml`, chart-testing's
/// `ci/openshift-values.yaml`), each with its path relative to the chart and its text.
pub(super) fn chart_values_variants(chart: &Path, rel: &dyn Fn(&Path) -> PathBuf) -> Vec<(String, String)> {
    let walk = ignore::WalkBuilder::new(chart).standard_filters(false).max_depth(Some(2)).build();
    walk.flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            let at = e.path().strip_prefix(chart).map(Path::to_path_buf).unwrap_or_default();
            let place = at.parent().is_some_and(|p| p.as_os_str().is_empty() || p == Path::new("ci"));
            place && name != "values.yaml" && name.contains("values") && discover::is_yaml_name(&name)
        })
        .filter_map(|e| Some((rel(e.path()).display().to_string(), discover::read_text(e.path()).ok()?)))
        .collect()
}

/// The tests of the Helm chart in `chart`: Go tests anywhere in it (terratest's
/// `tests/template_test.go`) and the YAML under `tests/` (helm-unittest's suites), each with its
/// path relative to the chart and its text.
pub(super) fn chart_tests(chart: &Path, rel: &dyn Fn(&Path) -> PathBuf) -> Vec<(String, String)> {
    let walk = ignore::WalkBuilder::new(chart).standard_filters(false).build();
    walk.flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            let in_tests = e.path().strip_prefix(chart).is_ok_and(|p| p.starts_with("tests"));
            name.ends_with("_test.go") || (in_tests && discover::is_yaml_name(&name))
        })
        .filter_map(|e| Some((rel(e.path()).display().to_string(), discover::read_text(e.path()).ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_patches_and_the_users_they_leave_to_the_platform() {
        let repo = tempfile::tempdir().unwrap();
        let base = repo.path().join("config/base");
        let overlay = repo.path().join("config/overlays/openshift");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(&overlay).unwrap();
        std::fs::write(base.join("kustomization.yaml"), "resources:\n- manager.yaml\n").unwrap();
        std::fs::write(base.join("manager.yaml"), "kind: Deployment\nmetadata:\n  name: manager\n").unwrap();
        std::fs::write(
            overlay.join("kustomization.yaml"),
            "resources:\n- ../../base\npatches:\n- path: ./security_patch.yaml\n",
        )
        .unwrap();
        std::fs::write(
            overlay.join("security_patch.yaml"),
            "kind: Deployment\nmetadata:\n  name: manager\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n",
        )
        .unwrap();
        let found = discover::discover(repo.path(), &[], true);
        let rel = |p: &Path| p.strip_prefix(repo.path()).unwrap().to_path_buf();
        let facts = RepositoryFacts::read(&found, repo.path(), &rel);
        let patch = Path::new("config/overlays/openshift/security_patch.yaml");
        assert!(facts.patch_reason(patch).unwrap().contains("config/overlays/openshift/kustomization.yaml"));
        assert!(facts.patch_reason(Path::new("config/base/manager.yaml")).is_none());
        assert_eq!(
            facts.platform_users["Deployment/manager"],
            format!("{} asks for runAsNonRoot without a user", patch.display())
        );
    }

    #[test]
    fn names_a_clone_after_its_origin_else_its_directory() {
        let parent = tempfile::tempdir().unwrap();
        let clone = parent.path().join("checkout-2");
        let git = git2::Repository::init(&clone).unwrap();
        assert_eq!(repository_name(&clone).as_deref(), Some("checkout-2"), "no remote: the directory's name");
        git.remote("origin", "https://example.com/acme/api.git").unwrap();
        assert_eq!(repository_name(&clone).as_deref(), Some("api"));
        git.remote_set_url("origin", "git@example.com:acme/web").unwrap();
        assert_eq!(repository_name(&clone).as_deref(), Some("web"));
        let inner = clone.join("deploy");
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(repository_name(&inner).as_deref(), Some("deploy"), "a directory inside a clone is named itself");
    }
}
