//! Runs the pipeline over paths on disk: configuration, discovery, source facts,
//! the pure engine per file, and (with `write`) the rewritten files back to disk.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::discover::{self, Kind, PassOver};
use crate::dockerfile;
use crate::finding::Finding;
use crate::kubernetes;
use crate::orchestration;
use crate::outcome::Outcome;
use crate::rules::{self, Severity};
use crate::source::SourceFacts;

mod build_context;
mod chart_renders;
mod chart_values;
mod chart_version;
mod checks;
mod codegen_check;
mod kustomized;
mod manifest_context;
mod pinning;
mod programs;
mod repository;
mod variants;
use build_context::build_context;
use manifest_context::{built_image, bundled, made_from, manifest_context, stale_copies, stale_renders};
pub use pinning::{pin, pinnable_references};
use programs::Programs;
use repository::RepositoryFacts;
pub use repository::readmes;

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `fix` changes it.
    Changed,
    /// Looked at; nothing to change.
    Unchanged,
    /// Not handled, with a reason.
    Skipped,
    /// Could not be read or parsed.
    Error,
}

/// The result for one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as shown to the user.
    pub path: String,
    /// The kind of file.
    pub kind: Kind,
    /// What happened.
    pub status: Status,
    /// Why it was skipped, errored, or not rewritten.
    pub reason: Option<String>,
    /// The findings.
    pub findings: Vec<Finding>,
    /// The original text (for diffs).
    #[serde(skip)]
    pub original: Option<String>,
    /// The rewritten text, when changed.
    #[serde(skip)]
    pub rewritten: Option<String>,
    /// Where the file is on disk.
    #[serde(skip)]
    pub source_path: Option<PathBuf>,
    /// The build context of a Dockerfile (the directory holding its `go.mod`).
    #[serde(skip)]
    pub context: Option<PathBuf>,
    /// The build arguments (`NAME`, `VALUE`) that every Compose file, bake file or skaffold
    /// config building a Dockerfile's image agrees on: `verify` builds with them, as the
    /// repository does.
    #[serde(skip)]
    pub build_args: Vec<(String, String)>,
    /// Whether the repository's configuration pins base images by digest.
    #[serde(skip)]
    pub pin_digests: bool,
    /// The base images `fix --pin` could not pin, each with what its registry answered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpinned: Vec<String>,
    /// True when the rewrite is a security change (see [`Outcome::Hardened`]); false for one
    /// that only edits build flags, cache mounts or command forms, which `harden pr` does not
    /// propose alone.
    pub security: bool,
}

impl FileReport {
    pub(crate) fn new(path: String, kind: Kind, status: Status, reason: Option<String>) -> Self {
        FileReport {
            path,
            kind,
            status,
            reason,
            findings: Vec::new(),
            original: None,
            rewritten: None,
            source_path: None,
            context: None,
            build_args: Vec::new(),
            pin_digests: false,
            unpinned: Vec::new(),
            security: false,
        }
    }

    /// The most severe problem that remains: a finding not fixed (or any, when `after_fix` is false),
    /// or an error reading the file.
    pub fn worst_remaining(&self, after_fix: bool) -> Option<Severity> {
        let error = (self.status == Status::Error).then_some(Severity::Error);
        self.findings.iter().filter(|f| !(after_fix && f.fixed)).map(|f| f.severity).chain(error).max()
    }
}

/// Runs scan (or fix, when `write` decides whether files are written) over `roots`.
pub fn run(roots: &[PathBuf], write: bool) -> Vec<FileReport> {
    let mut reports = analyse(roots);
    if write {
        write_all(&mut reports);
    }
    reports
}

/// Writes every rewritten file in place; a file that cannot be written becomes an error entry.
pub fn write_all(reports: &mut [FileReport]) {
    for report in reports.iter_mut() {
        let (Some(new), Some(path)) = (&report.rewritten, &report.source_path) else { continue };
        if let Err(e) = std::fs::write(path, new) {
            *report =
                FileReport::new(report.path.clone(), report.kind, Status::Error, Some(format!("cannot write: {e}")));
        }
    }
}

/// Analyses every file under `roots` (nothing is written).
pub fn analyse(roots: &[PathBuf]) -> Vec<FileReport> {
    analyse_with(roots, None, false)
}

/// The configuration for the files under `root`: the file `chosen` (`--config`) when one is
/// given, else the repository's own.
pub fn config_for(root: &Path, chosen: Option<&Path>) -> Result<Config, crate::config::ConfigError> {
    chosen.map_or_else(|| Config::load(&repo_root(root)), Config::load_file)
}

/// Analyses every file under `roots` with the configuration file `config` when one is given,
/// else with each repository's own (nothing is written). With `pinning` (`harden fix --pin`),
/// images pinned by digest may be replaced, since [`pin`] pins their replacements (in
/// repositories that allow pinning).
pub fn analyse_with(roots: &[PathBuf], config: Option<&Path>, pinning: bool) -> Vec<FileReport> {
    let mut reports = Vec::new();
    for root in roots {
        let repo = repo_root(root);
        let config = match config_for(root, config) {
            Ok(config) => Config { pinning: pinning && config.pin_digests, ..config },
            Err(e) => {
                let path = match &e {
                    crate::config::ConfigError::Read { path, .. }
                    | crate::config::ConfigError::Invalid { path, .. } => path,
                };
                reports.push(FileReport::new(
                    path.display().to_string(),
                    Kind::Dockerfile,
                    Status::Error,
                    Some(e.to_string()),
                ));
                continue;
            }
        };
        if !root.exists() {
            reports.push(FileReport::new(
                root.display().to_string(),
                Kind::Dockerfile,
                Status::Error,
                Some("no such file or directory".into()),
            ));
            continue;
        }
        reports.extend(analyse_root(root, &repo, &config));
    }
    reports
}

/// Analyses the files under `root`, in the repository `repo` (canonical) with its `config`.
pub fn analyse_root(root: &Path, repo: &Path, config: &Config) -> Vec<FileReport> {
    let mut reports = Vec::new();
    let found: Vec<_> = discover::discover(root, &config.ignore, config.default_ignores);
    // The walk follows no links, so a found path is canonical under the canonical root.
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    // (A file given as the root is its own canonical path: joining an empty rest would add a `/`.)
    let canonical = |path: &Path| match path.strip_prefix(root) {
        Ok(rest) if rest.as_os_str().is_empty() => canonical_root.clone(),
        rest => canonical_root.join(rest.unwrap_or(path)),
    };
    let rel = |path: &Path| canonical(path).strip_prefix(repo).map(Path::to_path_buf).unwrap_or_default();
    let work: Vec<&discover::Found> = found.iter().filter(|f| f.pass_over.is_none()).collect();
    let (dockerfiles, manifests): (Vec<&discover::Found>, Vec<&discover::Found>) =
        work.iter().partition(|f| f.kind == Kind::Dockerfile);
    // What the whole repository says (Compose, skaffold, kustomize), whatever path was given;
    // then the manifests: what they say about running images is read with it, and each
    // Dockerfile's orchestration comes from both.
    // (The path given counts too: the repository's walk skips what its ignores say, such as
    // test fixtures, which a path inside them still asks for.)
    let everywhere = match canonical_root == repo {
        true => Vec::new(),
        false => discover::discover(repo, &config.ignore, config.default_ignores),
    };
    let mut facts = RepositoryFacts::read(found.iter().chain(&everywhere), repo, &rel);
    // The Dockerfiles and manifests outside the path given tell its files what the whole
    // repository would: the images it builds, the containers that run them.
    let given: std::collections::HashSet<PathBuf> = work.iter().map(|f| rel(&f.path)).collect();
    let (other_dockerfiles, other_manifests): (Vec<&discover::Found>, Vec<&discover::Found>) = everywhere
        .iter()
        .filter(|f| f.pass_over.is_none() && f.kind != Kind::Directory && !given.contains(&rel(&f.path)))
        .partition(|f| f.kind == Kind::Dockerfile);
    let every_dockerfile: Vec<&discover::Found> = dockerfiles.iter().copied().chain(other_dockerfiles).collect();
    // Only Dockerfiles read the Go source beside them; each build context's source is read
    // once, by the first worker that needs it.
    let contexts: Vec<PathBuf> = every_dockerfile
        .iter()
        .map(|f| {
            let declared = facts.orchestration.for_dockerfile(&rel(&f.path)).context.map(|(dir, _)| repo.join(dir));
            declared
                .filter(|dir| dir.is_dir())
                .map_or_else(|| build_context(&canonical(&f.path), repo), |d| canonical(&d))
        })
        .collect();
    let programs = Programs::new(&contexts, &facts.orchestration, repo);
    // The containers of the manifests: the images they run, their commands and needs.
    for f in manifests.iter().chain(&other_manifests) {
        if let Ok(text) = discover::read_text(&f.path) {
            facts.orchestration.read(&rel(&f.path), &text);
        }
    }
    // The releases the repository shipped, which a manifest pinning an older one is told apart by.
    let released =
        found.iter().chain(&everywhere).filter(|f| f.pass_over.as_ref().is_some_and(discover::is_released_manifest));
    for text in released.filter_map(|f| discover::read_text(&f.path).ok()) {
        facts.orchestration.read_release(&text);
    }
    // Bake files sit at the root of the repository or beside the Dockerfiles they build.
    // (Or the directory above them: `docker/docker-bake.hcl` for `docker/targets/*.Dockerfile`.)
    let beside = |f: &&discover::Found| {
        canonical(&f.path).ancestors().skip(1).take(2).map(Path::to_path_buf).collect::<Vec<_>>()
    };
    let mut bake_dirs: Vec<PathBuf> = dockerfiles.iter().flat_map(beside).filter(|d| d.starts_with(repo)).collect();
    bake_dirs.push(repo.to_path_buf());
    bake_dirs.sort();
    bake_dirs.dedup();
    for dir in &bake_dirs {
        for name in orchestration::BAKE_FILES {
            let path = dir.join(name);
            if path.is_file()
                && let Ok(text) = discover::read_text(&path)
            {
                facts
                    .orchestration
                    .read_bake(&path.strip_prefix(repo).map(Path::to_path_buf).unwrap_or_default(), &text);
            }
        }
    }
    let test_builds = if dockerfiles.is_empty() { Vec::new() } else { crate::source::test_images::collect(repo) };
    let shell_less = variants::shell_less(&every_dockerfile, rel);
    let every_path: Vec<PathBuf> = every_dockerfile.iter().map(|f| rel(&f.path)).collect();
    // What a Dockerfile's analysis knows: its programs' source, with what the repository's build
    // files, its variants beside it and the tests that build it say of it. The same for the
    // Dockerfile's own report and for what its image tells the manifests.
    let builds = |f: &discover::Found| facts.orchestration.builds_with_args(&rel(&f.path));
    let dockerfile_source = |f: &discover::Found, dir: &PathBuf| {
        let (program, known) = programs.of(&canonical(&f.path), dir, &builds(f));
        let mut orchestration = facts.orchestration.for_dockerfile(&rel(&f.path));
        // Containers that start its program by path count, whatever image name they give.
        let started = discover::read_text(&f.path).map(|t| dockerfile::started_names(&t)).unwrap_or_default();
        facts.orchestration.add_command_root_needs(&mut orchestration.root_needs, &started);
        orchestration.shell_less_variant = variants::beside(&shell_less, &rel(&f.path));
        orchestration.nonroot_variant = variants::nonroot_beside(&every_path, &rel(&f.path));
        let tests_build = crate::source::test_images::built_by(&test_builds, &rel(&f.path));
        if let Some(origin) = tests_build.and_then(crate::source::test_images::origin) {
            orchestration.without_buildkit.get_or_insert(origin);
        }
        (SourceFacts { orchestration, ..program }, known)
    };
    let every_work: Vec<(&&discover::Found, &PathBuf)> = every_dockerfile.iter().zip(&contexts).collect();
    let work = &every_work[..dockerfiles.len()];
    let mut context = if manifests.is_empty() {
        Default::default()
    } else {
        let built = parallel_map(&every_work, |(f, dir)| {
            let (mut source, known) = dockerfile_source(f, dir);
            // What containers running the image ask of root (a hostPath, a capability) is for
            // the manifests' own analysis to judge, not a reason of the image's.
            let theirs = facts.orchestration.containers_root_needs(&rel(&f.path));
            source.orchestration.root_needs.retain(|need| !theirs.contains(need));
            let by_image = programs.of_each_build(&canonical(&f.path), dir, &builds(f));
            built_image(f, &source, known, config, by_image)
        });
        let built = every_work.iter().map(|(f, _)| rel(&f.path)).zip(built).collect();
        manifest_context(built, &facts, repo, &programs)
    };
    let no_source = SourceFacts::default();
    let owned = if manifests.is_empty() { Default::default() } else { crate::source::owned::Owned::collect(repo) };
    let stale = stale_renders(&owned, repo);
    if !owned.renders_charts() {
        context.hand_kept_charts = facts.chart_names.clone();
    }
    let bundled = bundled(&owned, repo);
    let manifest_reports = parallel_map(&manifests, |f| {
        let path = rel(&f.path);
        let (seccomp_refused, empty_dir_refused) = facts.constraints_for(&path, &f.path);
        let context = kubernetes::Context {
            image_overrides: facts.image_overrides_for(&path),
            seccomp_refused,
            empty_dir_refused,
            example_dir: kubernetes::example_dir(&path),
            openshift: (kubernetes::kustomize::names_openshift(&path))
                .then(|| format!("{} is written for OpenShift", path.display()))
                .or_else(|| bundled.iter().find(|(reads, _)| reads.contains(&path)).map(|(_, why)| why.clone())),
            ..context.clone()
        };
        let mut report = harden_file(f, &no_source, config, &context);
        // An edited input of a render leaves the rendered file the repository keeps stale: each
        // render that reads it is told (`make generate-deploy` and `make generate-test`).
        if report.status == Status::Changed {
            let mut told: Vec<&String> = Vec::new();
            for (_, note) in stale.iter().filter(|(reads, _)| reads.contains(&path)) {
                if !told.contains(&note) {
                    told.push(note);
                }
            }
            for note in told.into_iter().rev() {
                report.findings.insert(0, crate::finding::Finding::new(&crate::rules::RENDER_INPUT, 1, note.clone()));
            }
        }
        // A file that is no manifest says so; a manifest a program or kustomize owns is theirs.
        // A patch of operations (JSON 6902) names no kind: it is said to be the patch it is.
        let no_kind = report.reason.as_deref().is_some_and(|r| r.starts_with("not a Kubernetes manifest"));
        // A placeholder a program fills in is the program's, not a script's.
        let template = report.reason.as_deref().is_some_and(|r| r.starts_with("a template: "));
        let owner = owned.owner(&path).or_else(|| facts.patch_reason(&path)).or_else(|| facts.data_reason(&path));
        // A bundle too large to read may still be a render's output, which says more.
        let too_large = report.reason.as_deref().is_some_and(|r| r.contains("larger than 1 MiB"));
        // A patch no kustomization lists (a scaffold's, commented out) is merged onto nothing here.
        let merged = report.reason.as_deref().filter(|r| r.contains(kubernetes::MERGED_ONTO_BASE));
        let unlisted = merged.filter(|_| !facts.patches.contains_key(&path)).map(|r| {
            let how = match (facts.patch_added_by(&path), facts.resource_of(&path)) {
                (Some(at), _) => format!(", and {at} adds it to a kustomization (`kustomize edit add patch`), which merges it onto its base, where harden makes the change"),
                // A base whose images its kustomization's patches give (fluid's controllers).
                (None, Some(kustomization)) => format!(
                    ", but {} lists it as a resource: it is a base whose images its patches give, so which image each container runs, and who that image runs as, are not known here; harden leaves it",
                    kustomization.display()
                ),
                (None, None) => ", and no kustomization here lists it, so nothing applies it: it changes nothing that runs, and its base is checked on its own".into(),
            };
            // A base is no patch.
            let r = match facts.resource_of(&path) {
                Some(_) => r.replacen("a patch: ", "", 1),
                None => r.to_string(),
            };
            r.replace(kubernetes::MERGED_ONTO_BASE, &how)
        });
        let reason = match report.status {
            Status::Skipped if unlisted.is_some() => unlisted,
            Status::Skipped if template || too_large => owned.owner(&path),
            Status::Skipped => facts.patch_reason(&path).filter(|_| no_kind || merged.is_some()),
            _ => owner,
        };
        match reason {
            Some(reason) => {
                let reason = made_from(reason, &report);
                FileReport::new(f.display.clone(), f.kind, Status::Skipped, Some(reason))
            }
            None => report,
        }
    });
    let mut manifest_reports = manifest_reports;
    let paths: Vec<PathBuf> = manifests.iter().map(|f| rel(&f.path)).collect();
    stale_copies(&mut manifest_reports, &paths, repo);
    chart_renders::note_kept_renders(&mut manifest_reports, repo);
    codegen_check::hold_back_stale_inputs(&mut manifest_reports, &codegen_check::codegen_checks(repo));
    let dockerfile_reports = parallel_map(work, |(f, dir)| {
        // A Dockerfile the tests build is theirs, unless a build file builds it too (a release):
        // then it is hardened for both, without BuildKit's mounts, which the tests' builds lack.
        let tests_build = crate::source::test_images::built_by(&test_builds, &rel(&f.path));
        if let Some(build) = tests_build.filter(|_| !facts.orchestration.builds_dockerfile(&rel(&f.path))) {
            let why = crate::source::test_images::reason(build);
            return FileReport::new(f.display.clone(), f.kind, Status::Skipped, Some(why));
        }
        let (source, _) = dockerfile_source(f, dir);
        let build_args = source.orchestration.agreed_build_args();
        let report = harden_file(f, &source, config, &context);
        FileReport { context: Some((*dir).clone()), build_args, ..report }
    });
    let mut manifest_reports = manifest_reports.into_iter();
    let mut dockerfile_reports = dockerfile_reports.into_iter();
    for f in &found {
        let report = match &f.pass_over {
            Some(PassOver::Skip(reason)) => {
                FileReport::new(f.display.clone(), f.kind, Status::Skipped, Some(reason.clone()))
            }
            Some(PassOver::Error(reason)) => {
                FileReport::new(f.display.clone(), f.kind, Status::Error, Some(reason.clone()))
            }
            None if f.kind == Kind::Dockerfile => dockerfile_reports.next().expect("one report per Dockerfile"),
            None => manifest_reports.next().expect("one report per manifest"),
        };
        // HD110 turned off (by the configuration or the file) pins nothing there.
        let off = |text: &String| crate::rules_off::RulesOff::of_dockerfile(config, text).has(rules::NOT_PINNED.id);
        let pin_digests = config.pin_digests && !report.original.as_ref().is_some_and(off);
        reports.push(FileReport { pin_digests, ..report });
    }
    let chart_changed = reports
        .iter()
        .any(|r| r.status == Status::Changed && r.source_path.as_deref().is_some_and(discover::is_chart_values));
    if let Some(check) = chart_changed.then(|| chart_version::version_check(repo)).flatten() {
        chart_version::raise_chart_versions(&mut reports, &check);
    }
    reports
}

/// Maps `items` through `f` on all cores, keeping their order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).max(1);
    let chunk = items.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            items.chunks(chunk).map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("worker thread panicked")).collect()
    })
}

/// Reads one file and runs the engine on it (`context`: what the repository says about its
/// manifests elsewhere).
pub fn harden_file(
    found: &discover::Found,
    source: &SourceFacts,
    config: &Config,
    context: &kubernetes::Context,
) -> FileReport {
    let (path, display, kind) = (&found.path, found.display.clone(), found.kind);
    let text = match discover::read_text(path) {
        Ok(t) => t,
        Err(discover::Unread::Skipped(reason)) => return FileReport::new(display, kind, Status::Skipped, Some(reason)),
        Err(discover::Unread::Failed(e)) => {
            return FileReport::new(display, kind, Status::Error, Some(format!("cannot read: {e}")));
        }
    };
    let outcome = match kind {
        Kind::Dockerfile => dockerfile::harden(&text, source, config),
        // A chart's values.yaml, hardened where its templates take securityContexts from it.
        // A chart's values.yaml, hardened where its templates take securityContexts from it.
        Kind::Kubernetes if discover::is_chart_values(path) => chart_values::harden(path, &text, config, context),
        // ko's configuration names the base its images run on.
        Kind::Kubernetes if path.file_name().and_then(|n| n.to_str()).is_some_and(orchestration::is_ko_name) => {
            crate::ko::harden(&text)
        }
        Kind::Kubernetes => kubernetes::harden_with(&text, config, context),
        Kind::Directory => Ok(Outcome::Skipped("a directory: discovery lists it, no engine reads it".into())),
    };
    match outcome {
        // A documentation page's excerpt with elisions (`...`) is no manifest anyone applies.
        Err(e) if kind == Kind::Kubernetes && discover::in_docs(&display) => {
            let why = format!(
                "a documentation excerpt that does not parse as YAML (line {}: {}): no manifest anyone applies as it is",
                e.line, e.message
            );
            FileReport::new(display, kind, Status::Skipped, Some(why))
        }
        Err(e) => FileReport::new(display, kind, Status::Error, Some(format!("line {}: {}", e.line, e.message))),
        Ok(Outcome::Skipped(reason)) => FileReport::new(display, kind, Status::Skipped, Some(reason)),
        Ok(Outcome::Hardened { findings, rewritten, reason, security }) => {
            let status = if rewritten.is_some() { Status::Changed } else { Status::Unchanged };
            let mut report = FileReport::new(display, kind, status, reason);
            report.findings = findings;
            report.original = Some(text);
            report.rewritten = rewritten;
            report.source_path = Some(path.to_path_buf());
            report.security = security;
            report
        }
    }
}

/// The repository a path belongs to: the nearest ancestor with `.git` or a harden config,
/// else the directory itself.
pub fn repo_root(root: &Path) -> PathBuf {
    let start = if root.is_file() { root.parent().unwrap_or(Path::new(".")) } else { root };
    let start = if start.as_os_str().is_empty() { Path::new(".") } else { start };
    let absolute = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    absolute
        .ancestors()
        .find(|dir| dir.join(".git").exists() || crate::config::LOCATIONS.iter().any(|l| dir.join(l).is_file()))
        .map_or_else(|| absolute.clone(), Path::to_path_buf)
}
