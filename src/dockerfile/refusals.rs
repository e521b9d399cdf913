//! What keeps harden from putting a runtime on a shell-less image, each check a refusal with its
//! rule and reason: an entrypoint that needs a shell or a script, a command given by whatever
//! runs the image (Compose, Kubernetes) that does, none known at all, an image reference taken
//! from a build argument the Dockerfile does not control, or a tool from another module that
//! serves the repository's files.

use crate::rules;

use super::facts::{Facts, is_script_name, join_path};
use super::image::{Family, ImageRef};
use super::model::{Body, CommandForm};
use super::plan::Refusal;
use super::runtime;
use crate::source::{Located, gocode::Start};

mod flavour;
pub(super) use flavour::shell_flavour;

/// Refuses to replace a runtime image that a build argument without a default names, given
/// outside the Dockerfile (a Compose file, skaffold): the Dockerfile cannot change it. A
/// distribution whose version alone is given (`alpine:$ALPINE_VERSION`) is that distribution
/// whatever the build passes, and is replaced like any.
pub(super) fn outside_image_argument(facts: &Facts<'_>) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    let resolved = facts.df.resolve_image(&stage.from.image).is_some()
        || super::facts::distribution_of_any_tag(&stage.from.image).is_some();
    if !stage.from.image.contains('$') || resolved {
        return Ok(());
    }
    let given = facts.source.orchestration.build_args.iter().find(|a| stage.from.image.contains(a.name.as_str()));
    let said = given.map(|a| format!(" ({} gives {}={})", a.origin, a.name, a.value)).unwrap_or_default();
    Err((
        &rules::UNRESOLVED_BASE,
        stage.from.line,
        format!(
            "FROM {} takes the runtime image from a build argument given outside the Dockerfile{said}; harden does not change it there, so the runtime is kept",
            stage.from.image
        ),
    ))
}

/// An image with no ENTRYPOINT or CMD of its own is started by whatever runs it: refused a
/// shell-less runtime when that command needs a shell, or when the repository does not say
/// (no Compose service, skaffold artifact or Kubernetes container names it).
pub(super) fn orchestrated_command(facts: &Facts<'_>) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    if !matches!(facts.entrypoint_and_cmd(stage), (None, None)) {
        return Ok(());
    }
    if facts.source.orchestration.commands.is_empty() {
        return Err((
            &rules::NO_COMMAND,
            stage.from.line,
            "the image has no CMD or ENTRYPOINT, and no Compose file, skaffold configuration or Kubernetes manifest in the repository says how it runs, so whether that needs a shell is unknown; the runtime image is kept".into(),
        ));
    }
    Ok(())
}

/// Refuses a shell-less runtime when what runs the image elsewhere in the repository (a Compose
/// service, a Kubernetes container) starts a shell, `go run` or a development tool in it.
pub(super) fn orchestrated_needs(facts: &Facts<'_>) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    let (entrypoint, _) = facts.entrypoint_and_cmd(stage);
    for command in &facts.source.orchestration.commands {
        // Arguments alone run the image's own ENTRYPOINT, when it has one.
        if entrypoint.is_some() && !command.replaces_entrypoint {
            continue;
        }
        let form = CommandForm::Exec(command.words.clone());
        let why = runtime::development_command(&form).or_else(|| {
            runtime::runs_script(&form)
                .then(|| format!("it starts {}", command.words.first().map(String::as_str).unwrap_or("a shell")))
        });
        if let Some(why) = why {
            return Err((
                &rules::RUNTIME_NEEDS_SHELL,
                stage.from.line,
                format!(
                    "{} runs this image and {why}, which a shell-less runtime cannot give; the runtime image is kept",
                    command.origin
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses a shell-less runtime when a health check or hook that runs in the image's containers
/// (a Compose `healthcheck`, a Kubernetes `exec` probe) needs a shell, an HTTP tool or another
/// program of the base's system that the file does not copy in (`cat`, `pgrep`).
pub(super) fn orchestrated_checks(facts: &Facts<'_>) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    let copied = copied_programs(facts);
    for check in &facts.source.orchestration.checks {
        let form = CommandForm::Exec(check.words.clone());
        let Some(program) = runtime::program(&form) else { continue };
        let name = program.rsplit('/').next().unwrap_or(&program);
        let system = !program.contains('/') || SYSTEM_BIN_DIRS.iter().any(|d| program.starts_with(d));
        let missing = system && copied.as_ref().is_some_and(|names| !names.iter().any(|n| n == name));
        if runtime::healthcheck_needs_tools(&form) || missing {
            let shown = check.words.join(" ");
            return Err((
                &rules::RUNTIME_NEEDS_SHELL,
                stage.from.line,
                format!(
                    "{} runs `{shown}` in the container, and a shell-less runtime has no {name}; the runtime image is kept",
                    check.origin
                ),
            ));
        }
    }
    Ok(())
}

/// Programs every distribution image carries (its essential packages: coreutils, findutils,
/// grep, sed, tar, gzip, mount) that a program may start by name.
const DISTRIBUTION_TOOLS: &[&str] = &[
    "cat", "cp", "mv", "rm", "ln", "chmod", "chown", "mkdir", "ls", "id", "uname", "df", "du", "env", "date", "sleep",
    "sort", "head", "tail", "wc", "stat", "tar", "gzip", "find", "xargs", "grep", "sed", "mount", "umount",
];

/// Programs BusyBox gives alpine and busybox images beside those (procps', iproute2's, net-tools').
const BUSYBOX_TOOLS: &[&str] = &[
    "pgrep", "pkill", "ps", "kill", "killall", "pidof", "ip", "ifconfig", "netstat", "nslookup", "wget", "sysctl",
    "nsenter",
];

/// Refuses a shell-less runtime when the program's own source starts a shell
/// (`exec.Command("sh", "-c", …)`, `exec.LookPath("bash")`) or a tool the current runtime
/// carries (`exec.Command("pgrep", …)` on alpine, whose BusyBox has it): it would fail there.
pub(super) fn source_starts(facts: &Facts<'_>, base: &ImageRef) -> Result<(), Refusal> {
    let alpine_go = base.family() == Family::Golang && base.tag.as_deref().is_some_and(|t| t.contains("alpine"));
    let busybox = matches!(base.family(), Family::Alpine | Family::Busybox) || alpine_go;
    let tool = |program: &str| {
        let name = program.rsplit('/').next().unwrap_or(program);
        DISTRIBUTION_TOOLS.contains(&name) || (busybox && BUSYBOX_TOOLS.contains(&name))
    };
    let starts = |s: &&Located<Start>| s.found.starts_shell() || s.found.program.as_deref().is_some_and(tool);
    let Some(start) = facts.source.starts_programs.iter().find(starts) else { return Ok(()) };
    // (Only a start that names its program is one of these.)
    let program = start.found.program.as_deref().unwrap_or_default();
    let what = match start.found.starts_shell() {
        true => format!("{program}, a shell, which a shell-less runtime does not have"),
        false => format!("{program}, which {} carries and a shell-less runtime does not", base.to_reference()),
    };
    Err((
        &rules::RUNTIME_NEEDS_SHELL,
        facts.runtime_stage().from.line,
        format!("{}:{} starts {what}; the runtime image is kept", start.file, start.found.line),
    ))
}

/// Directories of a base image's own programs.
const SYSTEM_BIN_DIRS: &[&str] = &["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/"];

/// The names of the files the runtime stage copies in (a program a check may run); `None` when
/// it copies a whole directory or a glob, so which programs arrive cannot be told.
fn copied_programs(facts: &Facts<'_>) -> Option<Vec<String>> {
    let whole = |s: &String| s.ends_with('/') || s.contains('*') || matches!(s.rsplit('/').next(), Some("." | ".."));
    let stage = facts.runtime_stage();
    if stage.instructions.iter().any(|i| matches!(&i.body, Body::Copy(c) if c.sources.iter().any(whole))) {
        return None;
    }
    Some(copied_paths(facts).iter().map(|p| p.rsplit('/').next().unwrap_or(p).to_string()).collect())
}

/// Refuses to write the default distroless images where the runtime's registry comes from a
/// build argument (`FROM ${REGISTRY}alpine:3`, a mirror) and no mirror is configured, or its
/// name from one argument and its tag from another or the FROM line (`${BASE}:${VERSION}`).
pub(super) fn registry_from_argument(facts: &Facts<'_>) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    let image = stage.from.image.as_str();
    // `${BASE_IMAGE}`, `$BASE_IMAGE`, or `${BASE_IMAGE:-alpine:3.18}` (its default a whole reference).
    let braced = image.strip_prefix("${").and_then(|r| r.strip_suffix('}')).filter(|r| !r.contains('}'));
    let whole = braced.map(|r| r.split([':', '-']).next().unwrap_or(r)).or_else(|| image.strip_prefix('$'));
    let whole_argument = whole.is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    // A variable before the image's name is a registry (or a mirror's path); one in the tag is a
    // version, which the new image does not need.
    if !image.starts_with('$') || whole_argument || facts.config.runtime != crate::config::RuntimeImages::default() {
        return Ok(());
    }
    // `${BASE_IMAGE}:${BASE_IMAGE_VERSION}`: the name is one argument, its tag another.
    let name = image.split([':', '@']).next().unwrap_or(image);
    let name_argument = name.trim_start_matches("${").trim_start_matches('$').trim_end_matches('}');
    if name_argument.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err((
            &rules::UNRESOLVED_BASE,
            stage.from.line,
            format!(
                "FROM {image} takes the image's name from build argument {name_argument} and its tag {}, which harden does not rewrite together, so the runtime is kept; write the whole reference in one argument (`ARG {name_argument}=…:tag`) and harden moves its default to distroless",
                match image[name.len()..].contains('$') {
                    true => "from another",
                    false => "as written here",
                }
            ),
        ));
    }
    Err((
        &rules::UNRESOLVED_BASE,
        stage.from.line,
        format!(
            "FROM {image} takes part of its reference (a registry mirror) from a build argument, which the default distroless images would lose; set runtime: in .github/harden.yml to your mirror's distroless images and harden will use them"
        ),
    ))
}

/// The script the runtime stage's ENTRYPOINT or CMD starts (`/start.sh`), when one is named as
/// a script or run by a shell (a file copied in is a program as likely as a script).
pub(super) fn started_script(facts: &Facts<'_>) -> Option<String> {
    let commands = facts.runtime_stage().instructions.iter().filter_map(|inst| match &inst.body {
        Body::Entrypoint(f) | Body::Cmd(f) => Some(f),
        _ => None,
    });
    commands.into_iter().find(|form| runtime::runs_script(form)).and_then(runtime::started_program)
}

/// Refuses a shell-less runtime when ENTRYPOINT/CMD need a shell or a script.
pub(super) fn check_runtime_commands(facts: &Facts<'_>) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    for inst in &stage.instructions {
        let form = match &inst.body {
            Body::Entrypoint(f) | Body::Cmd(f) => f,
            _ => continue,
        };
        // A binary built before the image is no script, whatever copies it in, nor is a file
        // named after one of the module's programs (`COPY ./generator /bin/generator`).
        let program = runtime::program(form).unwrap_or_default();
        let name = program.rsplit('/').next().unwrap_or_default().to_string();
        let go_program =
            !is_script_name(&name) && facts.source.main_package_named(std::slice::from_ref(&name)).is_some();
        let copied_script = copied_from_context(facts, form)
            && facts.prebuilt_binary().is_none()
            && !go_program
            && !runtime::is_init(&name);
        if runtime::runs_script(form) || copied_script {
            return Err((
                &rules::SHELL_SCRIPT_ENTRYPOINT,
                inst.line,
                format!(
                    "the program starts through {}, which a shell-less runtime cannot run; the runtime image is kept",
                    runtime::started_program(form).unwrap_or(program)
                ),
            ));
        }
        // On a base that has no shell already, the command's own error says the image cannot start.
        if runtime::needs_shell(form) && !facts.unstartable_command().is_some_and(|c| std::ptr::eq(c, form)) {
            return Err((
                &rules::SHELL_FORM,
                inst.line,
                format!(
                    "{} is in shell form and uses shell syntax, so it needs a shell; the runtime image is kept (under /bin/sh the program gets no signals unless the command starts with `exec`)",
                    inst.keyword
                ),
            ));
        }
    }
    Ok(())
}

/// The packages that bring `setcap` (alpine's `libcap` or `libcap-utils`, Debian's `libcap2-bin`).
const SETCAP_PACKAGES: &[&str] = &["libcap", "libcap-utils", "libcap2-bin"];

/// Refuses a shell-less runtime when the runtime stage (on `base`) runs a step distroless can
/// neither run nor stand in for (`apk add tini`, `chown`, a script).
pub(super) fn runtime_steps(facts: &Facts<'_>, base: &ImageRef) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    let copied = copied_paths(facts);
    let steps: Vec<(&super::model::Instruction, String)> = stage
        .instructions
        .iter()
        .filter(|inst| matches!(inst.body, Body::Run { .. }))
        .filter_map(|inst| Some((inst, runtime::unprovided_command(inst, &copied)?)))
        .collect();
    // Packages the image installs say the most (the program may run them): they are told before
    // a `mkdir` that could move to the build stage.
    let installs = steps.iter().find(|(inst, _)| {
        super::facts::installed_packages(inst).iter().any(|p| !runtime::PROVIDED_PACKAGES.contains(&p.as_str()))
    });
    let Some((inst, command)) = installs.or(steps.first()) else { return Ok(()) };
    // A copy resets ownership and modes: what chown or chmod gives belongs in the copy.
    // Packages are programs the image runs (tini, git, gpg), not a result to copy.
    let mut packages = super::facts::installed_packages(inst);
    packages.retain(|p| !runtime::PROVIDED_PACKAGES.contains(&p.as_str()));
    // Data packages are files the program reads (`/etc/mime.types`), copied like any result.
    let (data, programs): (Vec<String>, Vec<String>) =
        packages.into_iter().partition(|p| runtime::DATA_PACKAGES.contains(&p.as_str()));
    // A library (`libsnmp40t64`, `libsnmp-dev`, alpine's glibc layer `gcompat`) is linked, not
    // run: a cgo build needs it.
    // The package that brings setcap (`libcap`, `libcap2-bin`) serves the stage's setcap step.
    let setcap = stage
        .instructions
        .iter()
        .find(|i| i.body.run_commands().iter().any(|c| c.argv().first().is_some_and(|w| w.value == "setcap")));
    let (capability_tools, programs): (Vec<String>, Vec<String>) =
        programs.into_iter().partition(|p| setcap.is_some() && SETCAP_PACKAGES.contains(&p.as_str()));
    let (libraries, programs): (Vec<String>, Vec<String>) =
        programs.into_iter().partition(|p| p.starts_with("lib") || matches!(p.as_str(), "gcompat" | "glibc"));
    let sets_capabilities = setcap
        .filter(|_| !capability_tools.is_empty())
        .map(|i| format!("its setcap step (line {}) runs what it installs: {}", i.line, capability_tools.join(", ")));
    let instead = match command.split_whitespace().next() {
        _ if !programs.is_empty() || !libraries.is_empty() || sets_capabilities.is_some() => {
            // A program the health check runs is named with it (`curl -f …`), not guessed at.
            let check = stage.instructions.iter().find_map(|i| match &i.body {
                Body::Healthcheck(Some(form)) => Some((i.line, form.words())),
                _ => None,
            });
            let (checked, programs): (Vec<String>, Vec<String>) = programs
                .into_iter()
                .partition(|p| check.as_ref().is_some_and(|(_, words)| words.iter().any(|w| w == p)));
            let checks = check.filter(|_| !checked.is_empty()).map(|(line, _)| {
                format!("its HEALTHCHECK (line {line}) runs what it installs: {}", checked.join(", "))
            });
            let run = (!programs.is_empty())
                .then(|| format!("the program or its entrypoint may run what it installs: {}", programs.join(", ")));
            let run = checks.into_iter().chain(sets_capabilities).chain(run).collect::<Vec<_>>().join("; ");
            let run = (!run.is_empty()).then_some(run);
            // A program built with cgo off links no library: the file installs them for a use it
            // does not show.
            let mut builds = facts.builds().filter(|(r, c)| facts.ships(r, c)).peekable();
            // So does a GoReleaser build of it with cgo off.
            let released_static = facts.source.orchestration.released.as_ref().is_some_and(|r| r.cgo == Some(false));
            let static_program = released_static
                || (builds.peek().is_some() && builds.all(|(r, c)| facts.cgo_setting(r, c).as_deref() == Some("0")));
            let link = (!libraries.is_empty()).then(|| match static_program {
                true => format!(
                    "it installs libraries the program, built with CGO_ENABLED=0, does not link, for a use the file does not show: {} (drop them if nothing needs them{})",
                    libraries.join(", "),
                    match released_static {
                        true => "",
                        false => ", and harden moves the runtime",
                    }
                ),
                false => format!("the program may link the libraries it installs: {}", libraries.join(", ")),
            });
            run.into_iter().chain(link).collect::<Vec<_>>().join("; ")
        }
        _ if !data.is_empty() => {
            format!("it installs {}, files the program reads: copy them from the build stage instead", data.join(", "))
        }
        Some("chown" | "chgrp") => "give the files their owner with COPY --chown=uid:gid instead".into(),
        Some("chmod") => "give the files their mode with COPY --chmod instead".into(),
        _ => "run the step in the build stage and copy its result".into(),
    };
    let why = match base.tag.as_deref() {
        Some(tag) if base.family() == Family::Distroless && tag.contains("debug") => format!(
            "the runtime stage runs `{command}` with the busybox shell of {}, a :debug image kept for that shell; it stays on a :debug image (run the step in the build stage and copy its result to use the shell-less tag)",
            base.to_reference()
        ),
        _ => format!(
            "the runtime stage runs `{command}`, which needs a shell or tools a distroless image does not have; the runtime image is kept ({instead})"
        ),
    };
    Err((&rules::RUNTIME_NEEDS_SHELL, inst.line, why))
}

/// True when the program is a file copied from the build context rather than built here.
fn copied_from_context(facts: &Facts<'_>, form: &CommandForm) -> bool {
    let Some(program) = runtime::program(form) else {
        return false;
    };
    let stage = facts.runtime_stage();
    facts.copied(stage).iter().any(|c| {
        let dir = facts.workdir_at(stage, c.index);
        c.copy.from.is_none() && (c.target == join_path(&dir, &program) || c.target == program)
    })
}

/// Refuses to split a single stage that runs a tool installed from another module
/// (`go install MODULE@VERSION`): over files copied from the repository, which of them the tool
/// reads at run time cannot be known; over files given when it runs, it may need the go command.
pub(super) fn tool_image(facts: &Facts<'_>, program: &str) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    let mut builds = facts.builds().filter(|(r, _)| r.stage == stage.index).peekable();
    let only_tools = builds.peek().is_some() && builds.all(|(_, c)| c.installs_remote_only());
    let copied = stage.instructions.iter().find(|i| matches!(&i.body, Body::Copy(c) if c.from.is_none()));
    match copied {
        Some(inst) if only_tools => Err((
            &rules::TOOL_IMAGE,
            inst.line,
            format!(
                "the image runs {program}, a tool installed from another module, over the files this line copies from the repository; which of them it reads cannot be known, so the stage is kept"
            ),
        )),
        // Files given when it runs (a bind mount): a generator or linter, which may run the go
        // command the toolchain image carries (go-swagger and mockery load packages with it).
        None if only_tools => Err((
            &rules::TOOL_IMAGE,
            stage.from.line,
            format!(
                "the image runs {program}, a tool installed from another module, on files given when it runs; such tools (generators, linters) may run the go command this toolchain image carries, so the stage is kept"
            ),
        )),
        _ => Ok(()),
    }
}

/// When every Go build makes a library another program loads (`-buildmode=c-shared`, a fluent-bit
/// or Postgres plugin), why the runtime and its user are that program's.
pub(super) fn library_build(facts: &Facts<'_>) -> Result<(), Refusal> {
    fn library(c: &super::gobuild::GoCommand) -> Option<&str> {
        c.flag("buildmode")
            .and_then(|f| f.value.as_deref())
            .filter(|m| matches!(*m, "c-shared" | "c-archive" | "plugin"))
    }
    let mut builds = facts.builds().peekable();
    let Some((run, command)) = builds.peek().copied() else { return Ok(()) };
    let Some(mode) = library(command) else { return Ok(()) };
    if !builds.all(|(_, c)| library(c).is_some()) {
        return Ok(());
    }
    let line = facts.df.stages[run.stage].instructions[run.instr].line;
    let stage = facts.runtime_stage();
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    // The program the image starts, where the file names it; else the base image's own.
    let loader = match entrypoint.or(cmd).and_then(|c| c.words().into_iter().next()) {
        Some(program) => format!("the program the image starts ({program})"),
        None => format!("{}'s own program", stage.from.image),
    };
    Err((
        &rules::LIBRARY_BUILD,
        line,
        format!(
            "the build makes a library (-buildmode={mode}) that {loader} loads: the runtime and its user are that program's, and are kept"
        ),
    ))
}

/// Where the file relies on ONBUILD (an instruction, or an ONBUILD image), and what it is.
pub(super) fn onbuild(facts: &Facts<'_>) -> Option<(usize, String)> {
    for stage in &facts.df.stages {
        if let Some(i) = stage.instructions.iter().find(|i| matches!(i.body, Body::Onbuild)) {
            return Some((i.line, "the file uses ONBUILD".into()));
        }
        if stage.from.image.to_ascii_lowercase().contains("onbuild") {
            return Some((stage.from.line, format!("{} is an ONBUILD image", stage.from.image)));
        }
    }
    None
}

/// Absolute paths the runtime stage copies in.
pub(super) fn copied_paths(facts: &Facts<'_>) -> Vec<String> {
    facts.copied(facts.runtime_stage()).into_iter().map(|c| c.target).collect()
}
