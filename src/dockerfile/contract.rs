//! The contract of the image a Dockerfile makes: what the program sees when it starts.
//!
//! A rewrite may change the base image, the user and the build flags. It must keep the
//! contract: every binary at the same path, the same entrypoint and command, ports,
//! environment, volumes, labels and working directory. [`check`] compares the contract
//! of the original and the rewritten file and says what broke.

use std::collections::{BTreeMap, BTreeSet};

use super::facts::{Facts, join_path};
use super::model::{Body, Copy, Stage};
use super::output::Output;

/// What the program sees in the final image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contract {
    /// ENTRYPOINT words, with programs that are built binaries named by absolute path.
    pub entrypoint: Option<Vec<String>>,
    /// CMD words, likewise.
    pub cmd: Option<Vec<String>>,
    /// Exposed ports.
    pub ports: BTreeSet<String>,
    /// Environment the program sees (build-only variables left out).
    pub env: BTreeMap<String, String>,
    /// The working directory, when the program depends on it: the file sets one, or relies on
    /// its base image's (relative paths).
    pub workdir: Option<String>,
    /// The working directory the program starts in (its base image's unless the file sets one).
    pub effective_workdir: String,
    /// Volumes.
    pub volumes: BTreeSet<String>,
    /// LABEL instructions as written.
    pub labels: BTreeSet<String>,
    /// Absolute paths of the built binaries present in the final image.
    pub binaries: BTreeSet<String>,
}

/// Reads the contract of the final stage.
pub fn of(facts: &Facts<'_>) -> Contract {
    let stage = facts.runtime_stage();
    let chain = stage_chain(facts, stage);
    let mut contract = Contract::default();
    let outputs = built_outputs(facts);
    for s in &chain {
        for (i, inst) in s.instructions.iter().enumerate() {
            match &inst.body {
                Body::Expose(ports) => contract.ports.extend(ports.iter().cloned()),
                Body::Env(pairs) => contract
                    .env
                    .extend(pairs.iter().filter(|(k, _)| !is_build_env(k)).map(|(k, v)| (k.clone(), v.clone()))),
                Body::Volume(v) => contract.volumes.extend(v.iter().cloned()),
                Body::Other if inst.keyword.eq_ignore_ascii_case("LABEL") => {
                    contract.labels.insert(facts.text[inst.keyword_span.end..inst.span.end].trim().to_string());
                }
                Body::Copy(copy) if copy.from.is_some() => {
                    let dest = join_path(&facts.workdir_at(s, i), &copy.dest);
                    for src in &copy.sources {
                        let name = src.trim_end_matches('/').rsplit('/').next().unwrap_or(src);
                        let into_dir =
                            copy.dest.ends_with('/') || copy.sources.len() > 1 || facts.is_system_dir(s, &dest);
                        let path = if into_dir { join_path(&dest, name) } else { dest.clone() };
                        if outputs.iter().any(|o| o.path() == src.trim_end_matches('/'))
                            || outputs.iter().any(|o| o.path() == path)
                        {
                            contract.binaries.insert(path);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if facts.is_single_stage() {
        contract.binaries.extend(outputs.iter().map(|o| o.path().to_string()));
    }
    contract.effective_workdir = facts.workdir_at(stage, stage.instructions.len());
    let sets_workdir = chain.iter().flat_map(|s| &s.instructions).any(|i| matches!(i.body, Body::Workdir(_)));
    if sets_workdir || facts.relies_on_workdir(stage).is_some() {
        contract.workdir = Some(contract.effective_workdir.clone());
    }
    let cwd = facts.workdir_at(stage, stage.instructions.len());
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    let resolve = |words: Vec<String>| resolve_program(words, &outputs, &cwd);
    contract.entrypoint = entrypoint.map(|f| resolve(f.words()));
    contract.cmd = cmd.map(|f| resolve(f.words()));
    contract
}

impl Facts<'_> {
    /// Where a build command compiles packages only to fill the build cache for a later build of
    /// its stage that ships (the `RUN` of that build): one that links nothing (`go build
    /// ./internal/...`), or one whose output no stage copies out nor the stage runs (`go install
    /// github.com/mattn/go-sqlite3`, a guard build to /tmp before the real one), packages at no
    /// `@version`.
    pub fn warms_build_cache(&self, run: &super::facts::GoRun, cmd: &super::gobuild::GoCommand) -> Option<usize> {
        let position = |r: &super::facts::GoRun, c: &super::gobuild::GoCommand| {
            (r.instr, r.commands.iter().position(|x| std::ptr::eq(x, c)).unwrap_or(0))
        };
        let at = position(run, cmd);
        let served = self.go_runs.iter().filter(|r| r.stage == run.stage).find_map(|r| {
            r.commands.iter().find(|c| position(r, c) > at && c.builds() && self.ships(r, c)).map(|_| r.instr)
        })?;
        // A tool built to run in the stage (`go install …/mockgen`, then `mockgen`) is a tool.
        let stage = &self.df.stages[run.stage];
        let runs_later = |package: &String| {
            let name = package.trim_end_matches('/').rsplit('/').next().unwrap_or(package);
            stage.instructions[run.instr..]
                .iter()
                .flat_map(|i| i.body.run_commands())
                .any(|c| c.argv().first().is_some_and(|w| w.value.rsplit('/').next() == Some(name)))
        };
        let compiles_only = !cmd.packages.is_empty()
            && cmd.packages.iter().all(|p| !p.contains('@') && !runs_later(p))
            && !self.ships(run, cmd);
        (cmd.builds() && (cmd.links_nothing() || compiles_only)).then_some(served)
    }

    /// True when the build a cache warm-up serves builds with `-a`, which rebuilds every package
    /// and so never reads the cache the warm-up fills: aligning the warm-up's flags gains nothing.
    pub fn warm_up_unread(&self, run: &super::facts::GoRun, cmd: &super::gobuild::GoCommand) -> bool {
        let Some(served) = self.warms_build_cache(run, cmd) else { return false };
        let runs = self.go_runs.iter().filter(|r| r.stage == run.stage && r.instr == served);
        runs.flat_map(|r| r.commands.iter().filter(move |c| c.builds() && self.ships(r, c)))
            .any(|c| c.flag("a").is_some())
    }

    /// True when what a build command makes ends up in the final image (or cannot be told, so
    /// it may): false for a tool built for the build itself, which no stage copies into the image,
    /// and for a binary a later build writes over.
    pub fn ships(&self, run: &super::facts::GoRun, cmd: &super::gobuild::GoCommand) -> bool {
        if self.overwritten(run, cmd) {
            return false;
        }
        if run.stage == self.runtime || self.stage_chain_holds(run.stage) {
            return true;
        }
        // Another module's tool at a version (`go install …/controller-gen@v0.17.0`), put
        // where no copy is told: a tool of the build, outside the image the final stage makes.
        match self.copying_stages(run, cmd) {
            Some(stages) => !stages.is_empty(),
            None => !cmd.installs_remote_only(),
        }
    }

    /// True when what a build command makes may reach the final image: false when every stage
    /// that copies it is an image of its own that no other stage takes from (an `init` target
    /// that installs a host's helper beside the final stage's program).
    pub fn reaches_final(&self, run: &super::facts::GoRun, cmd: &super::gobuild::GoCommand) -> bool {
        if run.stage == self.runtime || self.stage_chain_holds(run.stage) {
            return true;
        }
        let copying = self.copying_stages(run, cmd).unwrap_or_default();
        copying.is_empty() || copying.iter().any(|&s| self.stage_chain_holds(s) || self.taken_from(s))
    }

    /// The stages that copy what a build command makes from the stage that builds it; `None`
    /// when where it writes is not known.
    fn copying_stages(&self, run: &super::facts::GoRun, cmd: &super::gobuild::GoCommand) -> Option<Vec<usize>> {
        let output = self.output_of(run, cmd)?;
        let stage = &self.df.stages[run.stage];
        let held = self.staged_copies(stage, output.path().trim_end_matches('/'));
        // A build into a directory (`-o /app/out/`) writes the file a copy names in it.
        let into_dir = matches!(output, super::output::Output::Dir(_));
        // Any stage that copies it, or a directory holding it, from the stage that builds it (a
        // stage in between may hand it on: counting it keeps the flags where they may matter).
        let copies = |inst: &super::model::Instruction| match &inst.body {
            Body::Copy(copy) => {
                copy.from.as_deref().and_then(|f| self.df.stage_named(f)).is_some_and(|s| s.index == stage.index)
                    && copy.sources.iter().any(|src| {
                        // `/go//main` is `/go/main`, and a copy from a stage names its files
                        // from its root (`app/benchmark` is `/app/benchmark`).
                        let normal = join_path("/", src);
                        let src = normal.trim_end_matches('/');
                        // A pattern copies what its fixed start names (`/go/bin/minio*`, `/_LICENSES/*`).
                        let pattern = src.find(['*', '?', '[']).map(|at| &src[..at]);
                        held.iter().any(|built| {
                            src.is_empty()
                                || built == src
                                || built.starts_with(&format!("{src}/"))
                                || (into_dir && src.starts_with(&format!("{built}/")))
                                || pattern.is_some_and(|start| {
                                    // …or one inside the directory the build writes into (`/out/*`).
                                    built.starts_with(start) || start.starts_with(&format!("{built}/"))
                                })
                                // A path from a variable may name the build's output, not
                                // another module's tool installed beside it.
                                || (src.contains('$') && !cmd.installs_remote_only())
                        })
                    })
            }
            _ => false,
        };
        let copying = self.df.stages.iter().filter(|s| s.instructions.iter().any(copies));
        Some(copying.map(|s| s.index).collect())
    }

    /// Where a stage holds what it built at `built`: there, and where a later `cp` or `mv` of it
    /// puts it (`cp /src/app /staging/app/`, a directory or the file itself).
    fn staged_copies(&self, stage: &Stage, built: &str) -> Vec<String> {
        let mut held = vec![built.to_string()];
        let name = built.rsplit('/').next().unwrap_or(built);
        for (i, inst) in stage.instructions.iter().enumerate() {
            let cwd = self.workdir_at(stage, i);
            for cmd in inst.body.run_commands() {
                let argv: Vec<&str> =
                    cmd.argv().iter().map(|t| t.value.as_str()).filter(|w| !w.starts_with('-')).collect();
                let Some((["cp" | "mv"], [sources @ .., dest])) = argv.split_first_chunk::<1>() else { continue };
                if sources.iter().any(|s| join_path(&cwd, s) == built) {
                    let dest = join_path(&cwd, dest);
                    held.push(join_path(&dest, name));
                    held.push(dest);
                }
            }
        }
        held
    }

    /// True when the final image carries files only and no program: it is built on `scratch`,
    /// has no command, copies only from this file's stages, puts nothing where programs go
    /// (`/bin`), and neither a Go build nor make reaches it (a stage that renders a configuration
    /// file for another image) unless a build it takes is for another system (a CLI's binaries
    /// for macOS and Windows, copied out of the image). Nothing runs in it, so it has no user to
    /// change.
    pub fn carries_data_only(&self) -> bool {
        let stage = self.runtime_stage();
        let (entrypoint, cmd) = self.entrypoint_and_cmd(stage);
        let copies_from_stages =
            stage_chain(self, stage).iter().flat_map(|s| &s.instructions).all(|inst| match &inst.body {
                Body::Copy(copy) => copy.from.as_deref().is_some_and(|f| self.df.stage_named(f).is_some()),
                _ => true,
            });
        // A file put where programs go (`/bin/contour`), or made by make or a script where no go
        // build shows, may be the program the orchestrator starts.
        let into_bin = stage.instructions.iter().any(|inst| match &inst.body {
            Body::Copy(copy) => super::facts::SYSTEM_BIN_DIRS
                .iter()
                .any(|dir| copy.dest == *dir || copy.dest.starts_with(&format!("{dir}/"))),
            _ => false,
        });
        let made = self.builds().next().is_none() && self.build_command().is_some();
        self.base_image(stage).is_some_and(|b| b.family() == super::image::Family::Scratch)
            && entrypoint.is_none()
            && cmd.is_none()
            && copies_from_stages
            && !into_bin
            && !made
            && !self.is_single_stage()
            && (self.builds().all(|(r, c)| !self.ships(r, c)) || !self.other_systems_shipped().is_empty())
    }

    /// True when the final stage is an export (`docker build --output`): built on scratch, with no
    /// command, copying whole directories from other stages (`COPY --from=build /src/bin/ /`) or
    /// named for what it hands out (`binary`, `artifacts`, `export`). No program runs in it by
    /// itself; a scratch image of one program the orchestrator starts is not one.
    pub fn is_export(&self) -> bool {
        self.is_export_stage(self.runtime_stage())
    }

    /// True when `stage` is an export as [`Self::is_export`] tells the final stage: one a build
    /// stops at (`--target binary --output ./binaries`) hands out files, not an image.
    pub fn is_export_stage(&self, stage: &Stage) -> bool {
        let copies: Vec<&Copy> = stage
            .instructions
            .iter()
            .filter_map(|i| match &i.body {
                Body::Copy(copy) => Some(copy),
                _ => None,
            })
            .collect();
        let name = stage.from.alias.as_deref().unwrap_or_default().to_ascii_lowercase();
        let named = ["artifact", "binaries", "binary", "export", "output"].iter().any(|w| name.contains(w));
        let directories = !copies.is_empty() && copies.iter().all(|c| c.sources.iter().all(|s| s.ends_with('/')));
        self.base_image(stage).is_some_and(|b| b.family() == super::image::Family::Scratch)
            && self.entrypoint_and_cmd(stage) == (None, None)
            && copies.iter().all(|c| c.from.is_some())
            && (named || directories)
    }

    /// Why an image that [carries data only](Self::carries_data_only) has no user to change.
    pub fn data_only_reason(&self) -> String {
        match self.other_systems_shipped().as_slice() {
            [] => "the final image is built on scratch, copies no program and has no command: nothing runs in it, so there is no user to change".to_string(),
            systems => format!(
                "the final image is built on scratch, holds binaries built for {} and has no command: its files are copied out, nothing runs in it, so there is no user to change",
                systems.join(" and ")
            ),
        }
    }

    /// The systems other than Linux the final image takes binaries built for (`GOOS` set to
    /// darwin or windows where they are built), in the file's order.
    pub fn other_systems_shipped(&self) -> Vec<String> {
        let mut systems: Vec<String> = Vec::new();
        for (r, c) in self.builds().filter(|(r, c)| self.ships(r, c)) {
            let stage = &self.df.stages[r.stage];
            let goos = c.env_value("GOOS").map(str::to_string).or_else(|| self.env_at(stage, r.instr, "GOOS"));
            if let Some(os) = goos.filter(|os| os != "linux" && !os.starts_with('$') && !systems.contains(os)) {
                systems.push(os);
            }
        }
        systems
    }

    /// True when stage `index` is the runtime stage or one it is built on.
    fn stage_chain_holds(&self, index: usize) -> bool {
        stage_chain(self, self.runtime_stage()).iter().any(|s| s.index == index)
    }
}

/// Compares two contracts; `Err` says what the rewrite broke.
pub fn check(before: &Contract, after: &Contract) -> Result<(), String> {
    let missing: Vec<_> = before.binaries.difference(&after.binaries).collect();
    if !missing.is_empty() {
        let missing: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
        return Err(format!("the rewritten image lacks the built binaries {}", missing.join(", ")));
    }
    let shown = |value: &dyn std::fmt::Debug| format!("{value:?}");
    let same = |what: &str, a: String, b: String| {
        if a == b { Ok(()) } else { Err(format!("the rewrite changes the {what}: {a} became {b}")) }
    };
    // Commands as the exec form a reader writes, or "none".
    let words = |w: &Option<Vec<String>>| w.as_ref().map_or_else(|| "none".to_string(), |w| shown(w));
    same("ENTRYPOINT", words(&before.entrypoint), words(&after.entrypoint))?;
    same("CMD", words(&before.cmd), words(&after.cmd))?;
    same("exposed ports", shown(&before.ports), shown(&after.ports))?;
    same("environment", shown(&before.env), shown(&after.env))?;
    same("volumes", shown(&before.volumes), shown(&after.volumes))?;
    same("labels", shown(&before.labels), shown(&after.labels))?;
    match &before.workdir {
        Some(workdir) if *workdir != after.effective_workdir => Err(format!(
            "the rewrite moves the working directory the program depends on from {workdir} to {}",
            after.effective_workdir
        )),
        _ => Ok(()),
    }
}

/// The stage and the stages it is built `FROM`, outermost first.
fn stage_chain<'a>(facts: &Facts<'a>, stage: &'a Stage) -> Vec<&'a Stage> {
    let mut chain = vec![stage];
    while let Some(parent) = facts.parent_stage(chain[chain.len() - 1]) {
        chain.push(parent);
    }
    chain.reverse();
    chain
}

fn built_outputs(facts: &Facts<'_>) -> Vec<Output> {
    facts.builds().filter_map(|(r, c)| facts.output_of(r, c)).collect()
}

/// Names a bare program that is a built binary by its absolute path (in the directory a build
/// installs into, such as `/go/bin`, when that is where it comes from).
fn resolve_program(mut words: Vec<String>, outputs: &[Output], cwd: &str) -> Vec<String> {
    if let Some(program) = words.first_mut()
        && !program.contains('/')
        && let Some(output) = outputs.iter().find(|o| super::plan::starts(o, program, cwd))
    {
        *program = match output {
            Output::File(path) => path.clone(),
            Output::Dir(dir) => format!("{dir}/{program}"),
        };
    }
    words
}

/// ENV names that only matter to the build (kept out of the contract).
pub fn is_build_env(name: &str) -> bool {
    name.starts_with("GO")
        || name.starts_with("CGO_")
        || matches!(name, "PATH" | "CC" | "CXX" | "CFLAGS" | "LDFLAGS" | "PKG_CONFIG_PATH" | "DEBIAN_FRONTEND")
        || super::secrets::is_secret_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_contract_is_told_in_the_words_a_reader_writes() {
        let before = Contract { cmd: Some(vec!["app".into()]), workdir: Some("/app".into()), ..Contract::default() };
        let cmd = Contract { cmd: Some(vec!["/app/app".into()]), ..before.clone() };
        assert_eq!(check(&before, &cmd).unwrap_err(), r#"the rewrite changes the CMD: ["app"] became ["/app/app"]"#);
        let gone = Contract { cmd: None, ..before.clone() };
        assert_eq!(check(&before, &gone).unwrap_err(), r#"the rewrite changes the CMD: ["app"] became none"#);
        let before = Contract { effective_workdir: "/app".into(), ..before };
        let moved = Contract { workdir: None, effective_workdir: "/home/nonroot".into(), ..before.clone() };
        assert_eq!(
            check(&before, &moved).unwrap_err(),
            "the rewrite moves the working directory the program depends on from /app to /home/nonroot"
        );
        let built = Contract { binaries: ["/app/app".to_string(), "/app/worker".to_string()].into(), ..before.clone() };
        let lost = Contract { binaries: ["/app/app".to_string()].into(), ..before.clone() };
        assert_eq!(check(&built, &lost).unwrap_err(), "the rewritten image lacks the built binaries /app/worker");
        assert_eq!(check(&before, &before.clone()), Ok(()));
    }
}
