//! The flags a go command really runs with: `-ldflags` words with their build arguments and
//! script variables read, and `GOFLAGS`.

use super::facts::{Facts, GoRun};
use super::gobuild::GoCommand;

/// The words of a go command's `-ldflags`, with a value that is only a build argument
/// (`-ldflags "${LDFLAGS}"`) read from its default, and then that argument's name; also the
/// name of a build argument among them that only the builds give a value (`-ldflags "${ldflags}
/// -extldflags '-static'"` after `ARG ldflags`: a release build passes `-s -w` there, a debug
/// build none), and of a variable among its arguments where it has no `-ldflags`
/// (`$GO_BUILD_FLAGS`).
pub fn ldflags_words(facts: &Facts<'_>, run: &GoRun, cmd: &GoCommand) -> (Vec<String>, Option<String>) {
    let stage = &facts.df.stages[run.stage];
    let variable = |word: &str| super::variables::only_variable(word).map(str::to_string);
    // A variable among the words stands for its value here (an ARG's default, or the script's).
    let value_of = |name: &str| {
        cmd.env_value(name).map(str::to_string).or_else(|| facts.env_at(stage, run.instr, name)).unwrap_or_default()
    };
    let words: Vec<&str> = cmd.ldflags();
    let expanded = words
        .iter()
        .flat_map(|w| match variable(w) {
            Some(name) => value_of(&name).split_whitespace().map(str::to_string).collect(),
            // `-w$varg`, a flag with a variable's words after it (`varg=" -X main.v=1"`).
            None => match w.split_once('$').filter(|(flag, _)| matches!(*flag, "-s" | "-w")) {
                Some((flag, rest)) => vec![flag.to_string(), format!("${rest}")],
                None => vec![w.to_string()],
            },
        })
        .collect();
    let only = match words.as_slice() {
        [only] => variable(only),
        // A variable among the arguments (`go build $GO_BUILD_FLAGS -o …`) may carry -ldflags of
        // its own, which would win over any written before it (the last -ldflags counts).
        // One whose value is a package (`ARG package=.`) carries none.
        [] => cmd.packages.iter().find_map(|p| variable(p)).filter(|name| {
            let value = value_of(name);
            value.is_empty() || value.starts_with('-')
        }),
        words => words.iter().filter_map(|w| variable(w)).find(|name| given_by_builds(facts, stage, name)),
    };
    (expanded, only)
}

/// True when `name` is a build argument of `stage` (or a global one) with no default and no
/// `ENV` of the stage setting it: only a build's `--build-arg` gives it a value.
fn given_by_builds(facts: &Facts<'_>, stage: &crate::dockerfile::model::Stage, name: &str) -> bool {
    let declared = stage.instructions.iter().any(|i| match &i.body {
        crate::dockerfile::model::Body::Arg(args) => args.iter().any(|(n, _)| n == name),
        _ => false,
    }) || facts.df.global_args.iter().any(|a| a.name == name);
    declared
        && facts.arg_default(stage, name).is_none()
        && facts.env_at(stage, stage.instructions.len(), name).is_none()
}

/// The `GOFLAGS` a go command runs with.
pub fn goflags(facts: &Facts<'_>, run: &GoRun, cmd: &GoCommand) -> String {
    cmd.env_value("GOFLAGS")
        .map(str::to_string)
        .or_else(|| facts.env_at(&facts.df.stages[run.stage], run.instr, "GOFLAGS"))
        .unwrap_or_default()
}

/// True when a shipped build of the file strips the debug information but keeps the symbol
/// table (`-ldflags "-w"` without `-s`): the maintainers keep symbols on purpose, and the file's
/// other builds are left alike.
pub fn symbols_kept_in_file(facts: &Facts<'_>) -> bool {
    facts.builds().filter(|(r, c)| facts.ships(r, c)).any(|(run, cmd)| {
        let (ld, _) = ldflags_words(facts, run, cmd);
        ld.iter().any(|w| w == "-w") && !ld.iter().any(|w| w == "-s")
    })
}
