//! Builds a debugger or a detector needs as they are, their symbols and source paths kept, and
//! builds of one package made several ways on purpose.

use super::super::facts::{Facts, GoRun};
use super::super::flags::goflags;
use super::super::gobuild::GoCommand;
use super::super::model::{Body, Stage};

/// Why a build must keep its symbols and source paths for a debugger, when it must: its
/// `-gcflags` come from a variable (skaffold's `SKAFFOLD_GO_GCFLAGS` is `all=-N -l` under
/// `skaffold debug`) or turn optimisations off (`-N -l`), the build runs a detector (`-race`,
/// `-msan`, `-asan`), or the stage installs delve, or a stage built on it or copying from it
/// does.
pub fn debugger_build(facts: &Facts<'_>, run: &GoRun, cmd: &GoCommand) -> Option<String> {
    let gcflags = cmd.flag("gcflags").and_then(|f| f.value.clone()).or_else(|| {
        goflags(facts, run, cmd).split_whitespace().find_map(|w| w.strip_prefix("-gcflags=").map(str::to_string))
    });
    if let Some(flags) = gcflags {
        if flags.contains('$') {
            return Some(format!(
                "-gcflags={flags} comes from a build argument, which a debug build sets to all=-N -l"
            ));
        }
        let words: Vec<&str> = flags.split_whitespace().map(|w| w.rsplit('=').next().unwrap_or(w)).collect();
        if words.contains(&"-N") || words.contains(&"-l") {
            return Some(format!("-gcflags={flags} turns optimisations off for a debugger"));
        }
    }
    if let Some(name) = ["race", "msan", "asan"].into_iter().find(|name| cmd.flag(name).is_some()) {
        return Some(format!("the build uses -{name}, a test build whose reports need the symbols and paths"));
    }
    let delve =
        facts.go_runs.iter().filter(|r| r.stage == run.stage).flat_map(|r| &r.commands).any(GoCommand::builds_delve);
    if delve {
        return Some("the stage installs delve, the Go debugger".to_string());
    }
    // A stage built on this one, or copying from it, that installs delve debugs the binary
    // this stage builds.
    let built_on = |stage: &Stage| facts.ancestors(stage).any(|p| p.index == run.stage);
    // The binary itself (`COPY --from=builder /app/build/server /relay/`), not another build's.
    let output = facts.output_of(run, cmd);
    let copies_from = |stage: &Stage| {
        let Some(output) = &output else { return false };
        stage.instructions.iter().any(|i| match &i.body {
            Body::Copy(c) => {
                c.from.as_deref().and_then(|f| facts.df.stage_named(f)).is_some_and(|s| s.index == run.stage)
                    && c.sources.iter().any(|src| super::super::facts::join_path("/", src) == output.path())
            }
            _ => false,
        })
    };
    let debugs = |r: &&GoRun| r.commands.iter().any(GoCommand::builds_delve);
    facts.go_runs.iter().filter(debugs).find_map(|r| {
        let stage = &facts.df.stages[r.stage];
        match (built_on(stage), copies_from(stage)) {
            (true, _) => {
                Some(format!("stage {} is built on this one and debugs its binary with delve", stage.reference()))
            }
            (_, true) => Some(format!("stage {} copies this one's build and debugs it with delve", stage.reference())),
            _ => None,
        }
    })
}

/// Why a build is one of a set of variants whose flags are chosen one by one, when it is: its
/// `RUN` builds the same package several times with different link flags or build modes (plain,
/// `-buildmode=pie`, `-ldflags='-s -w'`: a test matrix of binaries), which harden's flags would
/// make alike.
pub fn variant_build(run: &GoRun, cmd: &GoCommand) -> Option<String> {
    fn choice(c: &GoCommand) -> (Vec<&str>, Option<&str>) {
        let mut ld: Vec<&str> = c.ldflags().into_iter().filter(|w| matches!(*w, "-s" | "-w")).collect();
        ld.sort_unstable();
        (ld, c.flag("buildmode").and_then(|f| f.value.as_deref()))
    }
    let same_package: Vec<&GoCommand> =
        run.commands.iter().filter(|c| c.builds() && c.packages == cmd.packages && c.cd == cmd.cd).collect();
    let choices = same_package.iter().filter(|c| choice(c) != choice(cmd)).count();
    (choices > 0).then(|| {
        format!(
            "the step builds the same package {} ways, with link flags or build modes chosen one by one (variants to compare)",
            same_package.len()
        )
    })
}
