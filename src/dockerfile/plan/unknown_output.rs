//! A Go Dockerfile that builds its program some other way (make, a script, an image built
//! elsewhere): the binary and its needs are unknown, so the runtime is kept (HD131).

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::model::Body;
use super::kept_user_ids;

/// Why the runtime of a file with no `go build` or `go install` of its program is kept (none when
/// it is already shell-less and not root), and what would keep it even if the build were known:
/// an entrypoint that needs a shell, a step distroless cannot run.
pub(super) fn unknown_output(facts: &Facts<'_>) -> Vec<Finding> {
    let Some(unknown) = unknown_build(facts) else { return Vec::new() };
    let runtime = facts.runtime_stage();
    let steps = facts
        .base_image(runtime)
        .filter(|b| b.family().is_fat())
        .map(|b| super::super::refusals::runtime_steps(facts, b));
    let also = [super::super::refusals::check_runtime_commands(facts), steps.unwrap_or(Ok(()))];
    let stronger =
        also.into_iter().filter_map(Result::err).map(|(rule, line, message)| Finding::new(rule, line, message));
    std::iter::once(unknown).chain(stronger.take(1)).collect()
}

/// The HD131 finding for a program make or a script builds onto a shell-less runtime, which is
/// kept while its user may still move off root: the build's flags are unchecked.
pub(super) fn unchecked_flags(facts: &Facts<'_>) -> Option<Finding> {
    let (line, command) = facts.build_command()?;
    Some(Finding::new(
        &rules::UNKNOWN_BUILD_OUTPUT,
        line,
        format!(
            "no go build or go install of the program in the file (`{command}` builds it, which harden does not follow): the build's flags (-trimpath, -s -w) are for that step to set, unchecked here, and the runtime, already shell-less, is kept"
        ),
    ))
}

/// The HD131 finding; where the runtime is already shell-less and not root, only for a build
/// make or a script runs (its flags are unchecked).
fn unknown_build(facts: &Facts<'_>) -> Option<Finding> {
    // A runtime already shell-less and not root leaves nothing to say of the build's output.
    let runtime = facts.runtime_stage();
    let base = facts.base_or_written(runtime);
    let shell_less = base.as_ref().is_some_and(|b| b.family().is_shell_less());
    // A distroless `:debug` tag keeps busybox's shell, on purpose.
    let debug = base.as_ref().and_then(|b| b.tag.as_deref()).is_some_and(|t| t.contains("debug"));
    let runtime_is = match debug {
        true => "distroless (its :debug tag keeps busybox's shell)",
        false => "shell-less",
    };
    let numeric = facts.last_user(runtime).is_none_or(|(_, u)| super::super::analyse::is_numeric_user(u));
    if shell_less && numeric && !super::super::userswitch::runs_as_root(facts) {
        // Said of a build make or a script runs, so its flags are not taken as checked.
        let (line, command) = facts.build_command()?;
        return Some(Finding::new(
            &rules::UNKNOWN_BUILD_OUTPUT,
            line,
            format!(
                "no go build or go install of the program in the file (`{command}` builds it, which harden does not follow): the runtime is already {runtime_is} and not root; the build's flags (-trimpath, -s -w) are for that step to set, unchecked here"
            ),
        ));
    }
    let kept = match facts.last_user(facts.runtime_stage()).zip(kept_user_ids(facts)) {
        Some(((_, user), ids)) => {
            format!("the runtime stage is kept, and only its USER {user} is written as {ids}")
        }
        None => "the runtime stage and its user are left as they are".to_string(),
    };
    // Its distroless base past end of life still moves on (HD118).
    let kept = match super::super::rewrite::leaves_eol_base(facts, facts.runtime_stage()) {
        true => format!("{kept}, but for its base past end of life, which moves to debian13"),
        false => kept,
    };
    // At the step that builds it, where one does; else where the build would be. A program the
    // runtime copies from the build context is none a step of the file built (kraken's
    // `setup_nginx.sh` only makes directories).
    let copy = program_copy(facts);
    let built = facts.build_command().filter(|_| !matches!(copy, Some((_, ProgramCopy::Context(_)))));
    // Else at the copy that brings the program in (`COPY ${binarypath} …`).
    let line = built.as_ref().map(|(line, _)| *line).or(copy.as_ref().map(|(line, _)| *line));
    let line = line.or(facts.toolchain_stage().map(|s| s.from.line)).unwrap_or(runtime.from.line);
    let by = match (built, copy.map(|(_, copy)| copy)) {
        (Some((_, command)), _) => format!("`{command}` builds it, which harden does not follow"),
        (None, Some(ProgramCopy::Image(image))) => {
            format!("the runtime copies its files from {image}, built elsewhere")
        }
        (None, Some(ProgramCopy::Context(sources))) => match &facts.source.orchestration.released {
            Some(released) => format!(
                "GoReleaser builds it ({}){} before the image, and the runtime copies it from the build context with `{sources}`",
                released.origin,
                released.cgo_phrase()
            ),
            None => format!("the runtime copies it from the build context with `{sources}`, built before the image"),
        },
        (None, None) => "make or a script builds it".to_string(),
    };
    // A binary GoReleaser builds is known by its configuration; what it needs of the image is not.
    let unknown = match facts.source.orchestration.released.as_ref().filter(|_| by.starts_with("GoReleaser")) {
        Some(_) => "what the program needs of its image (files, tools, a shell) is not known here",
        None => "the binary and its needs are unknown",
    };
    Some(Finding::new(
        &rules::UNKNOWN_BUILD_OUTPUT,
        line,
        format!("no go build or go install of the program in the file ({by}), so {unknown}: {kept}"),
    ))
}

/// Where the runtime's program comes from.
enum ProgramCopy {
    /// An image (`COPY --from=ghcr.io/acme/server:v1`, or a stage that only names one).
    Image(String),
    /// The build context: the sources copied, as written.
    Context(String),
}

/// Where the runtime stage copies its program from, and the line of that copy: the copy whose
/// destination holds the path its ENTRYPOINT or CMD starts, else (no such path known) the first
/// copy from an image.
fn program_copy(facts: &Facts<'_>) -> Option<(usize, ProgramCopy)> {
    let stage = facts.runtime_stage();
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    // A binary built before the image is found by its name too (`ENTRYPOINT ["hydra"]`); an
    // entrypoint script is no program built before it.
    let started = entrypoint.or(cmd).and_then(super::super::runtime::program);
    let program = (facts.prebuilt_binary())
        .or_else(|| started.filter(|p| p.starts_with('/') && !super::super::facts::is_script_name(p)));
    let holds = |dest: &str| {
        program.as_deref().is_none_or(|p| p == dest || p.starts_with(&format!("{}/", dest.trim_end_matches('/'))))
    };
    stage.instructions.iter().enumerate().find_map(|(i, inst)| {
        let Body::Copy(copy) = &inst.body else { return None };
        // Where it lands, from the working directory then (`COPY glance .` in /app); into the
        // program's directory, a copy of other files (`COPY LICENSE .`) is not the program's.
        let dest = super::super::facts::join_path(&facts.workdir_at(stage, i), &copy.dest);
        let name = program.as_deref().and_then(|p| p.rsplit('/').next()).unwrap_or_default();
        let may_be_program = |source: &String| {
            let last = source.trim_end_matches('/').rsplit('/').next().unwrap_or(source);
            source.ends_with('/') || last == name || last.contains(['$', '*', '?']) || last == "."
        };
        let into_dir = program.as_deref().is_some_and(|p| p != dest);
        if !holds(&dest) || (into_dir && !copy.sources.iter().any(may_be_program)) {
            return None;
        }
        let Some(from) = &copy.from else {
            return program
                .is_some()
                .then(|| ProgramCopy::Context(format!("{} {} {}", inst.keyword, copy.sources.join(" "), copy.dest)))
                .map(|copy| (inst.line, copy));
        };
        let image = match facts.df.stage_named(from) {
            Some(stage) if stage.instructions.iter().all(|i| !matches!(i.body, Body::Run { .. })) => {
                facts.base_image(stage).map(|i| ProgramCopy::Image(i.to_reference()))
            }
            Some(_) => None,
            None => Some(ProgramCopy::Image(from.clone())),
        };
        image.map(|image| (inst.line, image))
    })
}
