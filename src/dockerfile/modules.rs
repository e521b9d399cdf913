//! Go modules in the build: whether the module files are downloaded in a layer of their own
//! before the source is copied, and where BuildKit cache mounts for the module and build caches
//! are safe to add. The rules report from here and the builder rewrite inserts from here, so
//! the two never disagree.
//!
//! What makes a mount unsafe: a GOPATH build (no modules), a cache another mount already covers,
//! modules a stage hands to another (`COPY --from`) or takes from one, a parent stage that
//! downloaded them, a stage another is built on, a non-root user; and a download step unsafe: one
//! that already exists, or private-module credentials set up after the source is copied.

use super::facts::{Facts, join_path};
use super::gobuild::GoCommand;
use super::goversion::GoVersion;
use super::image::Family;
use super::model::{Body, Instruction, Stage};

mod download;
pub use download::{download_blocked, workdir_after_copy};

/// Programs other than `go` that load Go packages, so they read the module and build caches.
const PACKAGE_TOOLS: &[&str] = &["golangci-lint", "staticcheck", "gosec", "govulncheck", "errcheck", "go-critic"];
/// `go` subcommands that neither load packages nor download modules.
const NO_PACKAGES: &[&str] = &["env", "version", "help", "clean", "telemetry", "--wrap"];

/// A `RUN` that loads Go packages: a `go` command or a linter.
#[derive(Debug, Clone, Copy)]
pub struct PackageRun {
    /// Stage index.
    pub stage: usize,
    /// Instruction index within the stage.
    pub instr: usize,
    /// True when it compiles (anything but `go mod …`, `go work …` and a module-mode `go get` of
    /// Go 1.18 or later, which only write module files and download), so it wants the build
    /// cache too.
    pub compiles: bool,
    /// True for an exec-form `RUN ["go", …]`, which harden does not edit.
    pub exec_form: bool,
}

/// Every `RUN` that loads Go packages, in file order.
pub fn package_runs(facts: &Facts<'_>) -> Vec<PackageRun> {
    // A file whose only Go commands install tools at a version (`go install x@v1.2.0`, a release
    // image that fetches its binaries) builds nothing of its own to cache between builds.
    let commands = || facts.go_runs.iter().flat_map(|r| &r.commands);
    let tools_only = commands().next().is_some()
        && commands()
            .all(|c| c.subcommand == "install" && !c.packages.is_empty() && c.packages.iter().all(|p| p.contains('@')));
    if tools_only {
        return Vec::new();
    }
    let mut out = Vec::new();
    for stage in &facts.df.stages {
        for (i, inst) in stage.instructions.iter().enumerate() {
            if let Some(run) = facts.go_runs.iter().find(|r| r.stage == stage.index && r.instr == i) {
                let loading: Vec<_> =
                    run.commands.iter().filter(|c| !NO_PACKAGES.contains(&c.subcommand.as_str())).collect();
                // Installing delve for a debug stage, once, builds nothing of the module's.
                let debugger = !loading.is_empty() && loading.iter().all(|c| c.builds_delve());
                if (run.exec_form || !loading.is_empty()) && !debugger {
                    let compiles = loading.iter().any(|c| match c.subcommand.as_str() {
                        "mod" | "work" => false,
                        "get" => gets_build(facts, stage, i),
                        _ => true,
                    });
                    out.push(PackageRun { stage: stage.index, instr: i, compiles, exec_form: run.exec_form });
                }
            } else if runs_package_tool(inst) {
                out.push(PackageRun { stage: stage.index, instr: i, compiles: true, exec_form: false });
            }
        }
    }
    out
}

/// True when a `go get` at instruction `upto` of `stage` builds what it fetches: in GOPATH mode,
/// or with a Go before 1.18 (an unknown Go is taken as a current one).
fn gets_build(facts: &Facts<'_>, stage: &Stage, upto: usize) -> bool {
    facts.gopath_mode(stage, upto).is_some()
        || facts.go_version(stage, upto).is_some_and(|v| v < GoVersion::GET_BUILDS_NOTHING)
}

/// True when the `RUN` runs a linter on packages: golangci-lint only through `run` (its
/// `linters`, `version` or `cache` subcommands load none).
fn runs_package_tool(inst: &Instruction) -> bool {
    inst.body.run_commands().iter().any(|c| {
        let argv = c.argv();
        let tool = argv.first().map(|p| p.value.rsplit('/').next().unwrap_or_default());
        match tool {
            Some("golangci-lint") => argv.get(1).is_some_and(|a| a.value == "run"),
            Some(tool) => PACKAGE_TOOLS.contains(&tool),
            None => false,
        }
    })
}

/// The line of the source `COPY` that comes before the module files are copied and downloaded,
/// if any: the module layer is missing. `None` in a GOPATH build, with vendored modules, or in a
/// stage built on one that copied the module files.
pub fn module_cache_missing(facts: &Facts<'_>, stage: &Stage) -> Option<usize> {
    source_copy_before_modules(facts, stage).map(|i| stage.instructions[i].line)
}

/// The index of that source `COPY`.
fn source_copy_before_modules(facts: &Facts<'_>, stage: &Stage) -> Option<usize> {
    if facts.source.vendored || facts.builds().any(|(r, c)| r.stage == stage.index && c.downloads_no_modules()) {
        return None;
    }
    // No go.mod in the context, or one the build makes (`go mod init`): nothing to copy first.
    let makes_module =
        facts.go_runs.iter().filter(|r| r.stage == stage.index).flat_map(|r| &r.commands).any(|c| c.runs_mod("init"));
    if makes_module || (facts.source.available && facts.source.go_mod.is_none()) {
        return None;
    }
    let first_go = facts.go_runs.iter().filter(|r| r.stage == stage.index).map(|r| r.instr).min()?;
    if facts.gopath_mode(stage, first_go).is_some()
        || takes_module_cache(facts, stage)
        || mounts_module_cache(facts, stage)
    {
        return None;
    }
    // A stage built on one that copied the module files has them already (that stage's own
    // order is its own finding).
    if facts.ancestors(stage).any(|p| p.instructions.iter().any(|i| copies_module_files(&i.body))) {
        return None;
    }
    for (i, inst) in stage.instructions[..first_go].iter().enumerate() {
        if let Body::Copy(copy) = &inst.body
            && copy.from.is_none()
        {
            if copies_module_files(&inst.body) {
                return None;
            }
            if copy.sources.iter().any(|s| matches!(s.as_str(), "." | "./")) {
                return Some(i);
            }
        }
    }
    None
}

/// True when a Go command of the stage already mounts the module cache: the modules live in
/// the mount, not in a layer, so a download layer before the source would keep nothing.
fn mounts_module_cache(facts: &Facts<'_>, stage: &Stage) -> bool {
    let cache = mod_cache(facts, stage, stage.instructions.len());
    facts
        .go_runs
        .iter()
        .filter(|r| r.stage == stage.index)
        .any(|r| cache_mounts(facts, stage, r.instr).iter().any(|m| m.covers(&cache)))
}

/// The cache mounts of the stage's instruction `instr`, with a target that is a variable
/// (`target=${GOCACHE}`) read from the `ENV` or `ARG` that sets it there.
fn cache_mounts(facts: &Facts<'_>, stage: &Stage, instr: usize) -> Vec<Mount> {
    let Body::Run { mounts, .. } = &stage.instructions[instr].body else { return Vec::new() };
    let value_of = |target: &str| {
        let name = super::variables::only_variable(target)?;
        facts.env_at(stage, instr, name).or_else(|| facts.arg_default(stage, name))
    };
    mounts
        .iter()
        .map(|m| Mount::parse(m))
        .filter(|m| m.kind == "cache")
        .map(|mut m| {
            if let Some(value) = value_of(&m.target) {
                let value = value.trim_end_matches('/').to_string();
                if m.id == m.target {
                    m.id = value.clone();
                }
                m.target = value;
            }
            m
        })
        .collect()
}

/// The cache mount targets a package-loading `RUN` lacks: the module cache for all, and the build
/// cache for those that compile. Empty when mounts are turned off or not safe in the stage, and
/// for a cache another mount already covers.
pub fn missing_cache_mounts(facts: &Facts<'_>, run: &PackageRun) -> Vec<String> {
    let stage = &facts.df.stages[run.stage];
    if !matches!(stage.instructions[run.instr].body, Body::Run { .. }) {
        return Vec::new();
    }
    if !facts.adds_cache_mounts() || run.exec_form || !cache_mounts_apply(facts, stage) || !buildkit(facts) {
        return Vec::new();
    }
    let commands = facts.go_runs.iter().find(|r| r.stage == run.stage && r.instr == run.instr).map(|r| &r.commands[..]);
    if commands.into_iter().flatten().any(cleans_caches) {
        return Vec::new();
    }
    let no_modules = facts.source.vendored || commands.into_iter().flatten().any(GoCommand::downloads_no_modules);
    let gopath = no_modules || facts.gopath_mode(stage, run.instr).is_some();
    let mut wanted = Vec::new();
    let modules = mod_cache(facts, stage, run.instr);
    if !gopath && !layered_download(facts, stage) {
        wanted.push(modules.clone());
    }
    let has_build_cache = facts.go_version(stage, run.instr).is_none_or(|v| v >= GoVersion::BUILD_CACHE);
    // `-a` rebuilds every package, so a build cache would hold nothing it reads.
    let rebuilds_all = facts
        .go_runs
        .iter()
        .find(|r| r.stage == run.stage && r.instr == run.instr)
        .is_some_and(|r| r.commands.iter().any(|c| c.builds() && c.flag("a").is_some()));
    if run.compiles && has_build_cache && !rebuilds_all {
        let build_cache = run_env(facts, stage, run.instr, "GOCACHE")
            .or_else(|| facts.env_at(stage, run.instr, "GOCACHE"))
            .unwrap_or_else(|| "/root/.cache/go-build".into());
        // A build cache sharing the module cache's directory (GOCACHE=GOMODCACHE) is one mount,
        // the outer one; none where the modules are in a layer, which a mount would hide.
        let within = |a: &str, b: &str| a == b || a.starts_with(&format!("{}/", b.trim_end_matches('/')));
        match wanted.first() {
            _ if !within(&build_cache, &modules) && !within(&modules, &build_cache) => wanted.push(build_cache),
            Some(_) if within(&modules, &build_cache) => wanted = vec![build_cache],
            _ => {}
        }
    }
    // A mount on part of the cache (`/go/pkg/mod/cache`, the downloads only) is the maintainer's
    // choice: one over the whole would nest theirs.
    let existing = cache_mounts(facts, stage, run.instr);
    wanted.into_iter().filter(|t| !existing.iter().any(|m| m.covers(t) || m.is_inside(t))).collect()
}

/// True for a step that empties the caches itself (`go clean -modcache -cache`): a cache mount
/// there would be emptied too.
fn cleans_caches(command: &GoCommand) -> bool {
    command.subcommand == "clean" && (command.flag("modcache").is_some() || command.flag("cache").is_some())
}

/// The `--mount` value a new download step in `stage` must use: an existing cache mount of the
/// stage's Go commands that holds the module cache (so the download fills the cache they read),
/// else the module cache's own when mounts are safe here, else none (the modules go in a layer).
pub fn download_mount(facts: &Facts<'_>, stage: &Stage, upto: usize) -> Option<String> {
    let cache = mod_cache(facts, stage, upto);
    let existing = package_runs(facts).into_iter().filter(|r| r.stage == stage.index).find_map(|r| {
        match &stage.instructions[r.instr].body {
            Body::Run { mounts, .. } => {
                mounts.iter().find(|m| Mount::parse(m).kind == "cache" && Mount::parse(m).covers(&cache)).cloned()
            }
            _ => None,
        }
    });
    existing.or_else(|| {
        (facts.adds_cache_mounts() && cache_mounts_apply(facts, stage) && buildkit(facts))
            .then(|| format!("type=cache,target={cache}"))
    })
}

/// True when the stage downloads its modules in a layer of its own without a module cache mount
/// (`RUN go mod download` after `COPY go.mod go.sum ./`): that layer is the cache CI keeps (a
/// remote cache stores layers, not mounts), and a mount on the later steps would hide it.
fn layered_download(facts: &Facts<'_>, stage: &Stage) -> bool {
    let cache = mod_cache(facts, stage, stage.instructions.len());
    let by_go = facts.go_runs.iter().filter(|r| r.stage == stage.index).any(|r| {
        let downloads = r.commands.iter().any(|c| c.runs_mod("download"));
        let mounted = cache_mounts(facts, stage, r.instr).iter().any(|m| m.covers(&cache));
        downloads && !mounted
    });
    by_go || scripted_download(facts, stage, &cache)
}

/// True when a `RUN` of the stage without a module cache mount runs a script of the context that
/// downloads the modules (`RUN ./hack/install/install-dependencies.sh`).
fn scripted_download(facts: &Facts<'_>, stage: &Stage, cache: &str) -> bool {
    let scripts = &facts.source.download_scripts;
    stage.instructions.iter().enumerate().any(|(index, inst)| {
        let runs_script = inst.body.run_commands().iter().any(|c| {
            c.argv().iter().take(2).any(|w| {
                let word = w.value.trim_start_matches("./");
                scripts.iter().any(|s| s == word || word.ends_with(&format!("/{s}")))
            })
        });
        runs_script && !cache_mounts(facts, stage, index).iter().any(|m| m.covers(cache))
    })
}

/// True unless the repository builds this image without BuildKit (skaffold's Docker builder
/// without `useBuildkit`, kaniko), where `RUN --mount` fails; a file that already mounts is built
/// with BuildKit wherever it is built.
fn buildkit(facts: &Facts<'_>) -> bool {
    let mounts_already = facts
        .df
        .stages
        .iter()
        .flat_map(|s| &s.instructions)
        .any(|i| matches!(&i.body, Body::Run { mounts, .. } if !mounts.is_empty()));
    mounts_already || facts.source.orchestration.without_buildkit.is_none()
}

/// True when mounts may go on a stage under `plan`: not on a single stage that stays the image
/// that runs (its caches are part of what it carries, and a `go run` at start needs them).
pub fn mounts_fit(facts: &Facts<'_>, plan: &super::plan::Plan, stage: usize) -> bool {
    stage != facts.runtime || !facts.is_single_stage() || matches!(plan.runtime, super::plan::RuntimePlan::Split { .. })
}

/// The value the go commands of the `RUN` at instruction `instr` are given for `name`, by the
/// script (`export GOCACHE=/cache/gocache && go build …`) or on their own line.
fn run_env(facts: &Facts<'_>, stage: &Stage, instr: usize, name: &str) -> Option<String> {
    let run = facts.go_runs.iter().find(|r| r.stage == stage.index && r.instr == instr)?;
    run.commands.iter().find_map(|c| c.env_value(name)).map(str::to_string)
}

/// The module cache directory of a stage (`GOMODCACHE`, `GOPATH/pkg/mod`, or the golang image's),
/// also where the `RUN` itself exports it.
pub fn mod_cache(facts: &Facts<'_>, stage: &Stage, upto: usize) -> String {
    run_env(facts, stage, upto, "GOMODCACHE")
        .or_else(|| facts.env_at(stage, upto, "GOMODCACHE"))
        .or_else(|| facts.env_at(stage, upto, "GOPATH").map(|p| format!("{p}/pkg/mod")))
        .unwrap_or_else(|| "/go/pkg/mod".into())
}

/// True when BuildKit cache mounts are safe in this stage: a golang image; every package-loading
/// `RUN` of it editable (all or none: modules downloaded under a mount are not in the image, so a
/// later step without one would miss them); no go commands inherited from a parent stage (a mount
/// would hide the modules that stage downloaded); no stage built on this one (a mount would keep
/// the modules out of the image that stage starts from); no module cache handed to or taken from
/// another stage with `COPY --from`; no step that fills the build cache in a layer for a later
/// build; and no non-root USER before its Go commands (the build cache lives in root's home).
pub fn cache_mounts_apply(facts: &Facts<'_>, stage: &Stage) -> bool {
    let golang = facts.base_image(stage).is_some_and(|i| i.family() == Family::Golang);
    if !golang || facts.df.stages.iter().any(|s| facts.parent_stage(s).is_some_and(|p| p.index == stage.index)) {
        return false;
    }
    if facts.ancestors(stage).any(|p| facts.go_runs.iter().any(|r| r.stage == p.index)) {
        return false;
    }
    let runs: Vec<PackageRun> = package_runs(facts).into_iter().filter(|r| r.stage == stage.index).collect();
    if runs.iter().any(|r| r.exec_form) || hands_module_cache(facts, stage) || takes_module_cache(facts, stage) {
        return false;
    }
    // A step that fills the build cache in a layer (`go install` of heavy cgo dependencies):
    // the file keeps that cache in its layers on purpose, which CI's layer caches keep and a
    // mount would leave empty.
    let warms = facts.go_runs.iter().filter(|r| r.stage == stage.index);
    if warms.into_iter().any(|r| r.commands.iter().any(|c| facts.warms_build_cache(r, c).is_some_and(|i| i > r.instr)))
    {
        return false;
    }
    let last = runs.iter().map(|r| r.instr).max().unwrap_or(0);
    !stage.instructions[..last].iter().any(|i| matches!(&i.body, Body::User(u, _) if !super::analyse::is_root(u)))
}

/// True when another stage copies this stage's module cache (or a directory holding it).
fn hands_module_cache(facts: &Facts<'_>, stage: &Stage) -> bool {
    let cache = mod_cache(facts, stage, stage.instructions.len());
    facts.df.stages.iter().flat_map(|s| &s.instructions).any(|inst| match &inst.body {
        Body::Copy(copy) => {
            copy.from.as_deref().and_then(|f| facts.df.stage_named(f)).is_some_and(|s| s.index == stage.index)
                && copy.sources.iter().any(|src| overlaps(src, &cache))
        }
        _ => false,
    })
}

/// True when this stage copies a module cache into its own from elsewhere (`COPY --from`).
fn takes_module_cache(facts: &Facts<'_>, stage: &Stage) -> bool {
    stage.instructions.iter().enumerate().any(|(i, inst)| match &inst.body {
        Body::Copy(copy) if copy.from.is_some() => {
            overlaps(&join_path(&facts.workdir_at(stage, i), &copy.dest), &mod_cache(facts, stage, i))
        }
        _ => false,
    })
}

/// True when one path is the other or holds it.
fn overlaps(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
    a.is_empty() || b.is_empty() || a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/"))
}

/// True for a `COPY` from the build context of `go.mod` / `go.sum`.
fn copies_module_files(body: &Body) -> bool {
    matches!(body, Body::Copy(copy) if copy.from.is_none()
        && copy.sources.iter().any(|s| s.trim_start_matches("./").starts_with("go.")))
}

/// A `RUN --mount` value: its type, target and id (BuildKit's default id is the target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `cache`, `bind`, `secret`, `ssh` or `tmpfs` (`bind` when not given).
    pub kind: String,
    /// Where it is mounted.
    pub target: String,
    /// Its cache id.
    pub id: String,
}

impl Mount {
    /// Reads `type=cache,target=/go/pkg/mod,id=…` in any key order, with BuildKit's aliases
    /// (`dst`, `destination`) and quotes.
    pub fn parse(value: &str) -> Self {
        let (mut kind, mut target, mut id) = ("bind".to_string(), String::new(), None);
        for part in value.split(',') {
            let (key, val) = part.split_once('=').unwrap_or((part, ""));
            let val = val.trim_matches(['"', '\'']).to_string();
            match key.trim() {
                "type" => kind = val,
                "target" | "dst" | "destination" => target = val,
                "id" => id = Some(val),
                _ => {}
            }
        }
        let target = target.trim_end_matches('/').to_string();
        Mount { kind, id: id.unwrap_or_else(|| target.clone()), target }
    }

    /// True when this cache mount is on a directory inside `dir`.
    pub fn is_inside(&self, dir: &str) -> bool {
        self.target.starts_with(&format!("{}/", dir.trim_end_matches('/')))
    }

    /// True when this cache mount already holds `dir`: it is mounted there or on a directory
    /// above it, or shares its cache id.
    pub fn covers(&self, dir: &str) -> bool {
        let dir = dir.trim_end_matches('/');
        !self.target.is_empty()
            && (self.target == dir || dir.starts_with(&format!("{}/", self.target)) || self.id == dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_read_in_any_order_with_aliases() {
        let m = Mount::parse("target=/go/pkg/mod,type=cache");
        assert_eq!((m.kind.as_str(), m.target.as_str(), m.id.as_str()), ("cache", "/go/pkg/mod", "/go/pkg/mod"));
        let m = Mount::parse("type=cache,id=gomod,dst=\"/root/.cache/\",sharing=locked");
        assert_eq!((m.target.as_str(), m.id.as_str()), ("/root/.cache", "gomod"));
        assert_eq!(Mount::parse("src=go.mod,dst=go.mod").kind, "bind");
    }

    #[test]
    fn a_mount_covers_its_directory_what_is_below_and_its_id() {
        assert!(Mount::parse("type=cache,target=/go/pkg").covers("/go/pkg/mod"));
        assert!(Mount::parse("type=cache,target=/root/.cache").covers("/root/.cache/go-build"));
        assert!(Mount::parse("type=cache,id=/go/pkg/mod,target=/cache").covers("/go/pkg/mod"));
        assert!(!Mount::parse("type=cache,target=/go/pkg/mod").covers("/root/.cache/go-build"));
        assert!(!Mount::parse("type=cache,target=/go/pk").covers("/go/pkg/mod"));
        assert!(Mount::parse("type=cache,id=gomod,target=/go/pkg/mod/cache").is_inside("/go/pkg/mod"));
        assert!(!Mount::parse("type=cache,target=/go/pkg/modx").is_inside("/go/pkg/mod"));
    }

    #[test]
    fn golangci_lint_loads_packages_only_when_it_runs() {
        let text = "FROM golang:1.24\nRUN curl -sSfL https://example.com/install.sh | sh -s -- -b $(go env GOPATH)/bin v2.1.0 && golangci-lint linters\nRUN golangci-lint run ./...\nRUN staticcheck ./...\n";
        let df = crate::dockerfile::model::Dockerfile::parse(text).unwrap();
        let loads: Vec<bool> = df.stages[0].instructions.iter().map(runs_package_tool).collect();
        assert_eq!(loads, [false, true, true]);
    }

    #[test]
    fn paths_overlap_when_one_holds_the_other() {
        assert!(overlaps("/go/pkg", "/go/pkg/mod") && overlaps("/go/pkg/mod/", "/go/pkg") && overlaps("/", "/go"));
        assert!(!overlaps("/go/bin", "/go/pkg/mod") && !overlaps("/go/pk", "/go/pkg"));
    }
}
