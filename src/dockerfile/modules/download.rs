//! The module download layer: where the source copy leaves room for `COPY go.mod go.sum` and
//! `go mod download` before it, or why a download there would fail or keep nothing.

use super::super::facts::{Facts, join_path};
use super::super::model::{Body, Instruction, Stage};
use super::{Mount, cleans_caches, source_copy_before_modules};

/// Environment that points Go at private modules.
const PRIVATE_MODULE_ENV: &[&str] =
    &["GOPRIVATE", "GONOSUMDB", "GONOSUMCHECK", "GONOPROXY", "GOPROXY", "GOINSECURE", "GOSUMDB", "GIT_SSH_COMMAND"];

/// The directory the source copy at instruction `copy` puts the source in, and the index of the
/// `WORKDIR` that moves there, when the stage's next instruction but other copies makes it the
/// working directory (`COPY . /build`, `COPY --from=web /dist /build/web/dist`, `WORKDIR
/// /build`): the download layer goes there, before the copy, and the `WORKDIR` moves up with it.
/// Only where every one of those copies names an absolute destination, which the move leaves
/// where it was.
pub fn workdir_after_copy(facts: &Facts<'_>, stage: &Stage, copy: usize) -> Option<(String, usize)> {
    let Body::Copy(c) = &stage.instructions[copy].body else { return None };
    let dest = join_path(&facts.workdir_at(stage, copy), &c.dest);
    let rest = &stage.instructions[copy + 1..];
    let at = copy + 1 + rest.iter().position(|i| !matches!(i.body, Body::Copy(_)))?;
    let moves = matches!(stage.instructions[at].body, Body::Workdir(_));
    let absolute =
        stage.instructions[copy..at].iter().all(|i| matches!(&i.body, Body::Copy(c) if c.dest.starts_with('/')));
    let next = facts.workdir_at(stage, at + 1);
    (moves && absolute && next.trim_end_matches('/') == dest.trim_end_matches('/')).then_some((dest, at))
}

/// Why harden does not insert the module layer where it is missing, when it does not: the stage
/// downloads modules already (after the source), or private modules are set up where a download
/// before the source would not have them.
pub fn download_blocked(facts: &Facts<'_>, stage: &Stage) -> Option<String> {
    let copy = source_copy_before_modules(facts, stage)?;
    let line = |i: usize| stage.instructions[i].line;
    // The download goes where the source goes: into the working directory, or the one the
    // stage moves to right after the copy (`COPY . /build`, `WORKDIR /build`).
    if let Body::Copy(c) = &stage.instructions[copy].body {
        let workdir = facts.workdir_at(stage, copy);
        if !matches!(c.dest.as_str(), "." | "./")
            && join_path(&workdir, &c.dest) != workdir
            && workdir_after_copy(facts, stage, copy).is_none()
        {
            return Some(format!(
                "the source is copied to {}, not the working directory ({workdir}); set WORKDIR {} before the copy and harden will add it",
                c.dest, c.dest
            ));
        }
    }
    // A context a build file names with no go.mod in it: the source comes from elsewhere (a
    // clone), and `COPY go.mod` would fail.
    if let Some((context, origin)) = facts.source.orchestration.context.as_ref().filter(|_| !facts.source.available) {
        let context = if context.as_os_str().is_empty() { ".".into() } else { context.display().to_string() };
        return Some(format!(
            "the build context ({context}, as {origin} builds it) holds no go.mod to copy first: the source comes from elsewhere"
        ));
    }
    let downloads = facts
        .go_runs
        .iter()
        .filter(|r| r.stage == stage.index)
        .find(|r| r.commands.iter().any(|c| c.runs_mod("download")));
    if let Some(run) = downloads {
        // A module replaced by a local directory must be there for the download too.
        let also = match facts.source.go_mod.as_ref().map(|m| m.local_replaces.as_slice()) {
            Some([first, ..]) => format!(
                " (with the go.mod of every directory go.mod's replace lines name, such as {first}, which the download reads)"
            ),
            _ => String::new(),
        };
        return Some(format!(
            "the stage downloads the modules at line {}, after the whole source is copied; move COPY go.mod go.sum{also} and that step above line {}",
            line(run.instr),
            line(copy)
        ));
    }
    if let Some(run) =
        facts.go_runs.iter().filter(|r| r.stage == stage.index).find(|r| r.commands.iter().any(cleans_caches))
    {
        return Some(format!(
            "the build empties the module cache itself (go clean -modcache, line {}), keeping modules out of the image's layers, which a download layer would bring back",
            line(run.instr)
        ));
    }
    let first_go = facts.go_runs.iter().filter(|r| r.stage == stage.index).map(|r| r.instr).min()?;
    if let Some(edit) = (copy..=first_go).find(|&i| edits_go_mod(&stage.instructions[i])) {
        return Some(format!(
            "go.mod is changed at line {}, after the source is copied, and a download before it would read go.mod as committed",
            line(edit)
        ));
    }
    if let Some(local) = facts.source.go_mod.as_ref().and_then(|m| m.local_replaces.first()) {
        return Some(format!(
            "go.mod replaces a module with {local}, which the download needs and the source copy brings only later"
        ));
    }
    let toolchain = |i: &usize| match &stage.instructions[*i].body {
        Body::Env(pairs) => pairs.iter().any(|(k, _)| k == "GOTOOLCHAIN"),
        Body::Arg(args) => args.iter().any(|(k, _)| k == "GOTOOLCHAIN"),
        _ => false,
    };
    if let Some(setup) = (copy..=first_go).rev().find(toolchain) {
        return Some(format!(
            "GOTOOLCHAIN is set at line {}, after the source is copied: a download before it would run with the image's own Go, which may be older than go.mod asks",
            line(setup)
        ));
    }
    if let Some(setup) = (copy..=first_go).rev().find(|&i| sets_up_private_modules(facts, &stage.instructions[i])) {
        return Some(format!(
            "private modules are set up at line {}, after the source is copied, and a download before it would not have them",
            line(setup)
        ));
    }
    let with_secret = facts.go_runs.iter().filter(|r| r.stage == stage.index).find(|r| {
        matches!(&stage.instructions[r.instr].body, Body::Run { mounts, .. }
            if mounts.iter().map(|m| Mount::parse(m)).any(|m| m.kind == "secret" || m.kind == "ssh"))
    });
    if let Some(run) = with_secret {
        return Some(format!(
            "the modules are fetched with a secret mounted in the Go command's own RUN (line {}), which a download step would not have",
            line(run.instr)
        ));
    }
    // `GOPROXY=direct GOSUMDB=off go build`: the build fetches modules from where its own
    // settings say, which a download step of its own would not.
    facts.go_runs.iter().filter(|r| r.stage == stage.index).find_map(|r| {
        let set: Vec<String> = PRIVATE_MODULE_ENV
            .iter()
            .filter_map(|name| r.commands.iter().find_map(|c| c.env_value(name)).map(|v| format!("{name}={v}")))
            .collect();
        (!set.is_empty()).then(|| {
            format!(
                "the Go command at line {} fetches modules with its own settings ({}), which a download step of its own would not have; set them with ENV before the copy and harden will add it",
                line(r.instr),
                set.join(" ")
            )
        })
    })
}

/// True when an instruction's commands change go.mod in place: `sed -i` (or `perl -i`) on it, a
/// redirect into it, or `go mod edit`.
fn edits_go_mod(inst: &Instruction) -> bool {
    let is_go_mod = |w: &str| w == "go.mod" || w.ends_with("/go.mod");
    inst.body.run_commands().iter().any(|cmd| {
        let argv: Vec<&str> = cmd.argv().iter().map(|t| t.value.as_str()).collect();
        let in_place = matches!(argv.first(), Some(&"sed" | &"perl")) && argv.iter().any(|w| w.starts_with("-i"));
        (in_place && argv.iter().any(|w| is_go_mod(w)))
            || matches!(argv.as_slice(), ["go", "mod", "edit", ..])
            || cmd.outputs.iter().any(|o| is_go_mod(o))
    })
}

/// True when an instruction sets up access to private modules: the Go proxy and checksum
/// settings (also through `go env -w`), a `.netrc`, git's `insteadOf`, SSH keys, or a secret or
/// SSH mount.
fn sets_up_private_modules(facts: &Facts<'_>, inst: &Instruction) -> bool {
    let credential = |p: &str| [".netrc", ".gitconfig", ".ssh", ".git-credentials"].iter().any(|c| p.contains(c));
    match &inst.body {
        Body::Env(pairs) => pairs.iter().any(|(k, _)| PRIVATE_MODULE_ENV.contains(&k.as_str())),
        Body::Arg(args) => args.iter().any(|(k, _)| PRIVATE_MODULE_ENV.contains(&k.as_str())),
        Body::Copy(copy) => copy.sources.iter().chain(std::iter::once(&copy.dest)).any(|p| credential(p)),
        Body::Run { mounts, .. } => {
            let text = &facts.text[inst.span.clone()];
            mounts.iter().map(|m| Mount::parse(m)).any(|m| m.kind == "secret" || m.kind == "ssh")
                || credential(text)
                || text.contains("insteadOf")
                || text.contains("ssh-keyscan")
                || PRIVATE_MODULE_ENV.iter().any(|e| text.contains(&format!("-w {e}=")))
        }
        _ => false,
    }
}
