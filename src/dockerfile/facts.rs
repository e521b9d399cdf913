//! Facts read off a parsed Dockerfile: where Go is built, whether cgo is needed,
//! which stage runs, as which user, in which directory. Rules and the rewriter
//! both start from these, so each fact is decided in exactly one place.

use crate::config::Config;
use crate::rules;
use crate::rules_off::RulesOff;
use crate::source::SourceFacts;

use super::gobuild::{self, GoCommand};
use super::image::ImageRef;
use super::model::{Body, CommandForm, Dockerfile, Instruction, Stage};
pub use packages::{installed_packages, pinned_packages};

mod cgo;
pub(super) mod commands;
mod copies;
mod packages;
mod prebuilt;

/// Endings of scripts an image may start, which are not a Go binary.
const SCRIPT_EXTENSIONS: &[&str] = &[".sh", ".bash", ".py", ".pl", ".rb", ".js"];

/// True when a file's name ends like a script's (`entrypoint.sh`), not a Go binary's.
pub fn is_script_name(name: &str) -> bool {
    SCRIPT_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// Everything the rules and the rewriter need to know about one Dockerfile.
pub struct Facts<'a> {
    /// The original text.
    pub text: &'a str,
    /// The parsed file.
    pub df: &'a Dockerfile,
    /// What is known of the source.
    pub source: &'a SourceFacts,
    /// The repository's configuration.
    pub config: &'a Config,
    /// Every `RUN` that runs a `go` command.
    pub go_runs: Vec<GoRun>,
    /// Index of the final (runtime) stage.
    pub runtime: usize,
    /// The cgo decision.
    pub cgo: Cgo,
    /// Per stage: the stage it is built `FROM`, if any.
    parents: Vec<Option<usize>>,
    /// Per stage: the external image it starts from (`None` when a variable has no default).
    bases: Vec<Option<ImageRef>>,
    /// The rules turned off for this file: neither reported nor fixed.
    off: RulesOff,
}

/// A `RUN` instruction that runs `go`.
pub struct GoRun {
    /// Stage index.
    pub stage: usize,
    /// Instruction index within the stage.
    pub instr: usize,
    /// The `go` commands it runs.
    pub commands: Vec<GoCommand>,
    /// True when the RUN is in exec form (`RUN ["go", "build"]`), which harden does not edit.
    pub exec_form: bool,
}

/// Whether the program needs cgo, and why.
#[derive(Debug, Clone, Default)]
pub struct Cgo {
    /// True when the binary must be linked with cgo.
    pub needed: bool,
    /// Why (for the report).
    pub reason: Option<String>,
    /// The C side is C++: needs libstdc++ at run time.
    pub cxx: bool,
    /// The build links statically (`-extldflags -static`), so no libc is needed at run time.
    pub static_link: bool,
}

/// An official distribution image whose tag alone a build argument gives (`alpine:$ALPINE_VERSION`,
/// `debian:${DEBIAN_TAG}`): whatever the build passes, it is that distribution, run as root, with
/// its shell and package manager.
pub(super) fn distribution_of_any_tag(written: &str) -> Option<ImageRef> {
    let (name, tag) = written.split_once(':')?;
    let official = ["alpine", "debian", "ubuntu"].contains(&name.trim_start_matches("docker.io/library/"));
    (official && tag.starts_with('$') && !tag.contains('@')).then(|| ImageRef::parse(written))
}

impl<'a> Facts<'a> {
    /// Reads the facts of `df`.
    pub fn new(text: &'a str, df: &'a Dockerfile, source: &'a SourceFacts, config: &'a Config) -> Self {
        let mut go_runs = Vec::new();
        for stage in &df.stages {
            for (i, inst) in stage.instructions.iter().enumerate() {
                let Body::Run { exec, .. } = &inst.body else {
                    continue;
                };
                let mut commands: Vec<GoCommand> = gobuild::find(inst.body.run_commands());
                let exec_form = exec.as_ref().is_some_and(|argv| argv.first().is_some_and(|a| a == "go"));
                if exec_form {
                    commands.clear();
                }
                if !commands.is_empty() || exec_form {
                    go_runs.push(GoRun { stage: stage.index, instr: i, commands, exec_form });
                }
            }
        }
        let mut parents: Vec<Option<usize>> = Vec::with_capacity(df.stages.len());
        let mut bases: Vec<Option<ImageRef>> = Vec::with_capacity(df.stages.len());
        for stage in &df.stages {
            let image = df.resolve_image_given(&stage.from.image, &source.orchestration.agreed_build_args());
            let parent = image.as_deref().and_then(|i| df.stage_named(i)).map(|p| p.index).filter(|&p| p < stage.index);
            bases.push(match (parent, image) {
                (Some(p), _) => bases[p].clone(),
                (None, Some(image)) => Some(ImageRef::parse(&image)),
                (None, None) => distribution_of_any_tag(&stage.from.image),
            });
            parents.push(parent);
        }
        // A final stage that is only `FROM dev` ships that stage's image: it is the runtime.
        let mut runtime = df.stages.len().saturating_sub(1);
        while let Some(parent) =
            parents.get(runtime).copied().flatten().filter(|_| df.stages[runtime].instructions.is_empty())
        {
            runtime = parent;
        }
        let off = RulesOff::of_dockerfile(config, text);
        let cgo = Cgo::default();
        let mut facts = Facts { text, df, source, config, go_runs, runtime, cgo, parents, bases, off };
        facts.cgo = facts.decide_cgo();
        facts
    }

    /// The build argument the base of `stage` is named by where only the builds give its value
    /// (`FROM ${BASEIMAGE}` with no default in the file, `--build-arg BASEIMAGE=…` in a
    /// Makefile), with where they give it: the base is chosen there, not in this file.
    pub fn base_given_by_build(&self, stage: &Stage) -> Option<(String, String)> {
        super::variables::names(&stage.from.image).into_iter().find_map(|name| {
            let own = self.df.global_args.iter().any(|a| a.name == name && a.default.is_some());
            let given = self.source.orchestration.build_args.iter().find(|a| a.name == name).filter(|_| !own)?;
            Some((name.to_string(), given.origin.clone()))
        })
    }

    /// True when the rule `id` is turned off for this file (by the configuration or the file's
    /// `# harden ignore=`): it is neither reported nor fixed.
    pub fn is_off(&self, id: &str) -> bool {
        self.off.has(id)
    }

    /// True when harden adds BuildKit cache mounts here: the configuration's `cache_mounts`, and
    /// HD113 not turned off.
    pub fn adds_cache_mounts(&self) -> bool {
        self.config.cache_mounts && !self.is_off(rules::NO_CACHE_MOUNT.id)
    }

    /// The `go build` / `go install` commands, with their stage and instruction (a build tool
    /// the stage installs and then runs is not among them).
    pub fn builds(&self) -> impl Iterator<Item = (&GoRun, &GoCommand)> {
        self.go_runs.iter().flat_map(|r| {
            r.commands.iter().filter(|c| c.builds() && !self.installs_build_tool(r, c)).map(move |c| (r, c))
        })
    }

    /// True when make or a script builds the program and the file's own go commands only install
    /// other modules' tools (`go install github.com/mikefarah/yq/v4@v4.44.1` beside `make
    /// release`): the program's build is not among them.
    pub fn program_built_elsewhere(&self) -> bool {
        let tool = |c: &GoCommand| {
            c.verb == gobuild::GoVerb::Install && c.packages.iter().all(|p| p.contains('@') && !p.starts_with('.'))
        };
        self.builds().all(|(_, c)| tool(c)) && self.build_command().is_some()
    }

    /// True for `go install TOOL@VERSION` whose binary the same stage then runs (`mage release`
    /// after `go install github.com/magefile/mage@latest`): a tool that builds the program, not
    /// the program.
    fn installs_build_tool(&self, run: &GoRun, command: &GoCommand) -> bool {
        let [package] = &command.packages[..] else { return false };
        if command.verb != gobuild::GoVerb::Install || !package.contains('@') || package.starts_with('.') {
            return false;
        }
        let Some(tool) = super::output::binary_name(package, self.source) else { return false };
        let stage = &self.df.stages[run.stage];
        let mut later = stage.instructions[run.instr..].iter().flat_map(|i| i.body.run_commands());
        later.any(|c| c.argv().first().is_some_and(|p| p.value.rsplit('/').next() == Some(tool.as_str())))
    }

    /// True when the file builds Go: a `go build` / `go install`, or a stage with a Go toolchain
    /// (a golang image, directly or through a stage built on one, a Go toolchain image such as
    /// `go-toolset`, or Go installed by the package manager) that builds with `make` or a script.
    pub fn is_go_build(&self) -> bool {
        self.builds().next().is_some()
            || self.go_runs.iter().any(|r| r.exec_form)
            // `go mod download` in a toolchain image of the project's own (then make builds).
            || self.go_runs.iter().flat_map(|r| &r.commands).any(|c| c.subcommand == "mod")
            || self.toolchain_stage().is_some()
            || self.df.stages.iter().any(|s| self.runs_go_beside_make(s))
            || self
                .df
                .stages
                .iter()
                .flat_map(|s| &s.instructions)
                .any(|i| packages::ever_installed(i).iter().any(|p| matches!(p.as_str(), "go" | "golang" | "golang-go")))
    }

    /// True for a stage that runs a go command of its own (`go test`, `go vet`), or that sets the
    /// Go command's environment (`ENV GO111MODULE=on CGO_ENABLED=1`) or copies Go in from a golang
    /// image (`COPY --from=golang:1.26 /usr/local/go/ /usr/local/go/`), itself or in the stages it
    /// is built on, beside make or a build script: its image has Go whatever it is called
    /// (`acme/build:1.24`, alpine), and make builds the program.
    fn runs_go_beside_make(&self, stage: &Stage) -> bool {
        const GO_VARIABLES: &[&str] = &["GO111MODULE", "CGO_ENABLED", "GOFLAGS", "GOPROXY", "GOPRIVATE", "GOTOOLCHAIN"];
        let mut go = self.go_runs.iter().filter(|r| r.stage == stage.index).flat_map(|r| &r.commands);
        let lineage = std::iter::once(stage).chain(self.ancestors(stage));
        let go_env = lineage.flat_map(|s| &s.instructions).any(|i| match &i.body {
            Body::Env(pairs) => pairs.iter().any(|(k, _)| GO_VARIABLES.contains(&k.as_str())),
            Body::Copy(c) => c.from.as_deref().is_some_and(|from| ImageRef::parse(from).is_go_toolchain()),
            _ => false,
        });
        (go.any(|c| c.subcommand != "run") || go_env) && commands::stage_runs_builds(stage)
    }

    /// The stages whose files a running program sees: the final stage, each stage with a command
    /// of its own (run with `--target`), and the stages they are built on, in the file's order.
    pub fn program_stages(&self) -> Vec<&'a Stage> {
        let runtime = self.runtime_stage();
        let runs = self.df.stages.iter().filter(|s| s.index == runtime.index || s.own_command().is_some());
        let mut lineage: Vec<&Stage> = runs.flat_map(|s| std::iter::once(s).chain(self.ancestors(s))).collect();
        lineage.sort_by_key(|s| s.index);
        lineage.dedup_by_key(|s| s.index);
        lineage
    }

    /// The stage that runs.
    pub fn runtime_stage(&self) -> &'a Stage {
        &self.df.stages[self.runtime]
    }

    /// True when the runtime stage itself builds the program (a single-stage build).
    pub fn is_single_stage(&self) -> bool {
        // Installing delve (a debug stage's tool) builds no program of the image's.
        self.builds().any(|(r, c)| r.stage == self.runtime && !c.builds_delve())
    }

    /// The stages that build Go.
    pub fn builder_stages(&self) -> Vec<usize> {
        let mut stages: Vec<usize> = self.builds().map(|(r, _)| r.stage).collect();
        stages.dedup();
        stages
    }

    /// The first stage on a Go toolchain image (a builder whose registry comes from an argument
    /// without a default still names its image: `${REGISTRY}/golang-boring:1.22`).
    pub fn toolchain_stage(&self) -> Option<&'a Stage> {
        self.df.stages.iter().find(|s| match self.base_image(s) {
            Some(image) => image.is_go_toolchain(),
            None => ImageRef::parse(&s.from.image).is_go_toolchain(),
        })
    }

    /// The external image a stage starts from, following `FROM <stage>` and global ARGs.
    /// `None` when a variable has no default.
    pub fn base_image(&self, stage: &Stage) -> Option<&ImageRef> {
        self.bases[stage.index].as_ref()
    }

    /// The stage a stage is built on, when it is `FROM <another stage>`.
    pub fn parent_stage(&self, stage: &Stage) -> Option<&'a Stage> {
        self.parents[stage.index].map(|i| &self.df.stages[i])
    }

    /// True when another stage takes from the stage at `index`: is built `FROM` it, or copies
    /// from it (`COPY --from`).
    pub fn taken_from(&self, index: usize) -> bool {
        let copies_from = |s: &Stage| {
            s.instructions.iter().any(|i| match &i.body {
                Body::Copy(c) => {
                    c.from.as_deref().and_then(|f| self.df.stage_named(f)).is_some_and(|f| f.index == index)
                }
                _ => false,
            })
        };
        self.parents.contains(&Some(index)) || self.df.stages.iter().any(copies_from)
    }

    /// The indexes of the runtime stage and of the stages it is built `FROM`, the runtime first.
    pub fn runtime_chain(&self) -> Vec<usize> {
        std::iter::successors(Some(self.runtime_stage()), |s| self.parent_stage(s)).map(|s| s.index).collect()
    }

    /// The stages run on their own beside the runtime (with an ENTRYPOINT or CMD, theirs or
    /// their parent's): neither the runtime nor a stage it is built `FROM`.
    pub fn side_images(&self) -> Vec<&'a Stage> {
        let runtime = self.runtime_chain();
        let own = |s: &&'a Stage| {
            let (entrypoint, cmd) = self.entrypoint_and_cmd(s);
            !runtime.contains(&s.index) && (entrypoint.is_some() || cmd.is_some())
        };
        self.df.stages.iter().filter(own).collect()
    }

    /// The stage `stage` is built on when that stage only names an image (`FROM ${IMAGE_BASE} AS
    /// image-base`, with no instruction that adds a file): it is the image `stage` runs on.
    pub fn alias_parent(&self, stage: &Stage) -> Option<&'a Stage> {
        let parent = self.parent_stage(stage)?;
        let adds = parent.instructions.iter().any(|i| !matches!(i.body, Body::Arg(_) | Body::Other));
        (!adds).then_some(parent)
    }

    /// The stages `stage` is built on, nearest first (`FROM builder`, then what builder is on).
    pub fn ancestors(&self, stage: &Stage) -> impl Iterator<Item = &'a Stage> + '_ {
        std::iter::successors(self.parent_stage(stage), |p| self.parent_stage(p))
    }

    /// The value `name` has in the environment of a stage at instruction `upto` (ENV, ARG default,
    /// or `go env -w`, which Go keeps in its own configuration), looking into parent stages.
    pub fn env_at(&self, stage: &Stage, upto: usize, name: &str) -> Option<String> {
        let upto = upto.min(stage.instructions.len());
        let own = stage.instructions[..upto].iter().enumerate().rev().find_map(|(n, i)| match &i.body {
            Body::Env(pairs) => pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            Body::Arg(args) => args.iter().rev().find(|(k, _)| k == name).and_then(|(_, v)| v.clone()),
            Body::Run { .. } => self.go_env_written(stage.index, n, name),
            _ => None,
        });
        own.or_else(|| self.parent_stage(stage).and_then(|p| self.env_at(p, p.instructions.len(), name)))
    }

    /// The value a `go env -w NAME=VALUE` in instruction `instr` of stage `stage` writes.
    fn go_env_written(&self, stage: usize, instr: usize, name: &str) -> Option<String> {
        let run = self.go_runs.iter().find(|r| r.stage == stage && r.instr == instr)?;
        run.commands
            .iter()
            .rev()
            .filter(|c| c.subcommand == "env" && c.flag("w").is_some())
            .flat_map(|c| c.packages.iter().rev())
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
    }

    /// The working directory of a stage at instruction `upto`: its base image's (`/go` for
    /// golang, `/home/nonroot` for distroless `:nonroot`, else `/`), changed by its `WORKDIR`s.
    pub fn workdir_at(&self, stage: &Stage, upto: usize) -> String {
        let mut dir = match self.parent_stage(stage) {
            Some(p) => self.workdir_at(p, p.instructions.len()),
            None => self.base_image(stage).and_then(ImageRef::default_workdir).unwrap_or("/").to_string(),
        };
        for inst in &stage.instructions[..upto.min(stage.instructions.len())] {
            if let Body::Workdir(w) = &inst.body {
                dir = join_path(&dir, w);
            }
        }
        dir
    }

    /// The first instruction of a stage that depends on the working directory its base image
    /// gives it: a relative `COPY`/`ADD` destination, `WORKDIR` or `VOLUME` before any absolute
    /// `WORKDIR`, or, in a stage that sets none, a command whose program or arguments are relative
    /// paths (`./app`; commands run in the stage's last working directory). `None` when nothing
    /// does.
    pub fn relies_on_workdir(&self, stage: &'a Stage) -> Option<&'a Instruction> {
        let relative = |p: &str| !p.starts_with('/') && !p.starts_with('$');
        let sets_own = stage.instructions.iter().any(|i| matches!(&i.body, Body::Workdir(w) if !relative(w)));
        let mut set = false;
        for inst in &stage.instructions {
            let relies = match &inst.body {
                Body::Workdir(w) if !relative(w) => {
                    set = true;
                    false
                }
                Body::Workdir(_) => !set,
                Body::Copy(copy) => !set && relative(&copy.dest),
                Body::Volume(paths) => !set && paths.iter().any(|p| relative(p)),
                Body::Entrypoint(f) | Body::Cmd(f) => !sets_own && super::runtime::command_is_relative(f),
                _ => false,
            };
            if relies {
                return Some(inst);
            }
        }
        None
    }

    /// The last `USER` that applies to a stage (its own, or a parent stage's).
    pub fn last_user(&self, stage: &'a Stage) -> Option<(&'a Instruction, &'a str)> {
        stage
            .instructions
            .iter()
            .rev()
            .find_map(|i| match &i.body {
                Body::User(u, _) => Some((i, u.as_str())),
                _ => None,
            })
            .or_else(|| self.parent_stage(stage).and_then(|p| self.last_user(p)))
    }

    /// The ENTRYPOINT and CMD of a stage (or its parents).
    pub fn entrypoint_and_cmd(&self, stage: &'a Stage) -> (Option<&'a CommandForm>, Option<&'a CommandForm>) {
        let find = |want_entrypoint: bool| {
            stage.instructions.iter().rev().find_map(|i| match (&i.body, want_entrypoint) {
                (Body::Entrypoint(c), true) | (Body::Cmd(c), false) => Some(c),
                _ => None,
            })
        };
        let (ep, cmd) = (find(true), find(false));
        match self.parent_stage(stage) {
            Some(p) if ep.is_none() && cmd.is_none() => self.entrypoint_and_cmd(p),
            _ => (ep, cmd),
        }
    }

    /// The base image of `stage`, or, where a build argument without a default fills only its
    /// tag (`distroless/static:nonroot-${ARCH}`), the image as written: its name is known.
    pub fn base_or_written(&self, stage: &Stage) -> Option<ImageRef> {
        let written = || Some(ImageRef::parse(&stage.from.image)).filter(|i| !i.name.contains('$'));
        self.base_image(stage)
            .cloned()
            .or_else(|| written().filter(|_| self.df.stage_named(&stage.from.image).is_none()))
    }

    /// The default an `ARG` of the stage (or a global one) gives `name`: what a build without
    /// `--build-arg` uses, behind any `ENV NAME=$NAME`.
    pub fn arg_default(&self, stage: &Stage, name: &str) -> Option<String> {
        let own = stage.instructions.iter().find_map(|i| match &i.body {
            Body::Arg(args) => args.iter().find(|(n, _)| n == name).and_then(|(_, d)| d.clone()),
            _ => None,
        });
        own.or_else(|| self.df.global_args.iter().find(|a| a.name == name).and_then(|a| a.default.clone()))
    }
}

/// Joins a possibly relative path onto a directory.
pub fn join_path(dir: &str, path: &str) -> String {
    if path.starts_with('$') {
        return path.trim_end_matches('/').to_string().max("/".to_string());
    }
    // An absolute path starts again from the root (and `/go//main` is `/go/main`).
    let dir = if path.starts_with('/') { "/" } else { dir };
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The directories of programs every distribution's image has.
pub const SYSTEM_BIN_DIRS: &[&str] = &["/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin"];

/// True for a path in Cargo's output directory (`target/release/engine`): a Rust program.
pub fn is_cargo_output(source: &str) -> bool {
    ["target/release/", "target/debug/"].iter().any(|t| source.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_paths() {
        assert_eq!(join_path("/go", "src/app"), "/go/src/app");
        assert_eq!(join_path("/src", "../bin/"), "/bin");
        assert_eq!(join_path("/src", "/out/"), "/out");
        assert_eq!(join_path("/", "."), "/");
        assert_eq!(join_path("/src", "/go//main"), "/go/main");
    }
}
