//! Splitting a single-stage build: the stage becomes the builder, and a distroless runtime
//! stage is appended that copies the binaries and run-time files and carries the image's
//! settings (working directory, environment, ports, labels, entrypoint and command).

use minijinja::context;

use crate::edit::Edit;

use super::super::contract::is_build_env;
use super::super::facts::Facts;
use super::super::image::ImageRef;
use super::super::model::{Body, CommandForm, Instruction};
use super::super::output::Output;
use super::super::plan::{NONROOT, Writable, starts};
use super::super::runtime;
use super::super::secrets::is_secret_name;
use super::{Style, removal, render, writable};

/// The name of the runtime-stage template.
pub const TEMPLATE: &str = "runtime-stage.Dockerfile.j2";
/// The runtime-stage template (`templates/dockerfile/`).
pub const RUNTIME_STAGE: &str = include_str!("../../../templates/dockerfile/runtime-stage.Dockerfile.j2");

/// The name given to a single stage's builder when it has none.
const BUILDER_NAME: &str = "build";

/// Splits the single stage: names it, moves its runtime settings into a new stage on `image`.
pub fn edits(
    facts: &Facts<'_>,
    style: &Style,
    image: &str,
    copies: &[String],
    writable: &Writable,
    out: &mut Vec<Edit>,
) {
    let stage = facts.runtime_stage();
    let text = facts.text;
    let builder = match &stage.from.alias {
        Some(alias) => alias.clone(),
        None => {
            out.push(Edit::insert(stage.from.alias_insert_at, format!(" {} {BUILDER_NAME}", style.keyword("AS"))));
            BUILDER_NAME.to_string()
        }
    };
    let in_stage = |r: &&super::super::facts::GoRun| r.stage == stage.index;
    let last_build = facts.builds().filter(|(r, _)| in_stage(r)).map(|(r, _)| r.instr).max().unwrap_or(0);
    let cwd = facts.workdir_at(stage, stage.instructions.len());
    let outputs: Vec<Output> =
        facts.builds().filter(|(r, _)| in_stage(r)).filter_map(|(r, c)| facts.output_of(r, c)).collect();

    let mut carried = Vec::new();
    let mut commands = Vec::new();
    let mut moved: Vec<&Instruction> = Vec::new();
    // The program keeps the working directory it had when the stage sets one or its commands
    // use relative paths (distroless :nonroot would start it in /home/nonroot).
    let sets_workdir = stage.instructions.iter().any(|i| matches!(i.body, Body::Workdir(_)));
    let relative = stage.instructions.iter().any(|i| match &i.body {
        Body::Entrypoint(f) | Body::Cmd(f) => runtime::command_is_relative(f),
        _ => false,
    });
    let new_dir = ImageRef::parse(image).default_workdir().unwrap_or("/");
    if (sets_workdir || relative) && cwd != new_dir {
        carried.push(format!("{} {cwd}", style.keyword("WORKDIR")));
    }
    carried.extend(runtime_path(facts, style, &outputs, &cwd));
    for (i, inst) in stage.instructions.iter().enumerate() {
        let as_written = text[inst.comments_start..inst.span.end].trim_end().replace('\r', "");
        match &inst.body {
            Body::Env(pairs) => carried.extend(runtime_env(inst, pairs, &as_written)),
            Body::Expose(_) | Body::Volume(_) | Body::Other if is_runtime_only(inst) => {
                moved.push(inst);
                carried.push(as_written);
            }
            Body::User(..) if i > last_build => moved.push(inst),
            Body::Healthcheck(form) if form.as_ref().is_some_and(runtime::healthcheck_needs_tools) => moved.push(inst),
            Body::Healthcheck(_) | Body::Entrypoint(_) | Body::Cmd(_) => {
                moved.push(inst);
                let comments = text[inst.comments_start..inst.span.start].trim_end().replace('\r', "");
                commands.extend((!comments.is_empty()).then_some(comments));
                commands.push(exec_line(facts, inst, &outputs, &cwd));
            }
            _ => {}
        }
    }
    // A carried line that reads a build argument needs it declared in the new stage too.
    let uses = |name: &str| {
        carried.iter().chain(&commands).any(|l| l.contains(&format!("${name}")) || l.contains(&format!("${{{name}")))
    };
    let args: Vec<String> = stage
        .instructions
        .iter()
        .filter(|i| matches!(&i.body, Body::Arg(args) if args.iter().any(|(name, _)| uses(name))))
        .map(|i| text[i.keyword_span.start..i.span.end].trim_end().replace('\r', ""))
        .collect();
    carried.splice(0..0, args);
    let dirs = writable::copy_lines(writable, &builder);
    let stage_text = render(
        TEMPLATE,
        context! { image, builder, carried, copies => copies.to_vec(), dirs, user => NONROOT, commands },
    );

    // Instructions moved from the end of the stage are replaced by the new stage in one edit,
    // so the gap they leave is not doubled; the others are deleted where they stand.
    let kept_end = stage
        .instructions
        .iter()
        .filter(|i| !moved.iter().any(|m| std::ptr::eq(*m, *i)))
        .map(|i| i.span.end)
        .chain(std::iter::once(stage.from.span.end))
        .max()
        .unwrap_or(0);
    let mut tail_end = kept_end;
    for inst in &moved {
        if inst.comments_start >= kept_end {
            tail_end = tail_end.max(inst.span.end);
        } else {
            out.push(Edit::delete(removal(text, inst)));
        }
    }
    let lead = if text[..kept_end].ends_with('\n') { "" } else { style.nl };
    let staging = writable::staging_line(writable).map(|l| style.lines(&l)).unwrap_or_default();
    out.push(Edit::replace(kept_end..tail_end, format!("{lead}{staging}{}{}", style.nl, style.lines(&stage_text))));
}

/// The ENV line to carry into the runtime stage: as written, or rewritten without the
/// secret-looking pairs (which are reported and never carried). `None` when nothing is left.
fn runtime_env(inst: &Instruction, pairs: &[(String, String)], as_written: &str) -> Option<String> {
    if pairs.iter().all(|(k, _)| is_build_env(k)) {
        return None;
    }
    if !pairs.iter().any(|(k, _)| is_secret_name(k)) {
        return Some(as_written.to_string());
    }
    let kept: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| !is_secret_name(k))
        .map(|(k, v)| {
            if v.contains([' ', '"', '$']) {
                format!("{k}={}", serde_json::to_string(v).unwrap_or_default())
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    Some(format!("{} {}", inst.keyword, kept.join(" ")))
}

/// The ENTRYPOINT/CMD/HEALTHCHECK line for the new runtime stage: exec form, and a program
/// found through `PATH` in the builder (such as `/go/bin`) named by its absolute path.
fn exec_line(facts: &Facts<'_>, inst: &Instruction, outputs: &[Output], cwd: &str) -> String {
    let as_written = || facts.text[inst.keyword_span.start..inst.span.end].trim_end().replace('\r', "");
    let form = match &inst.body {
        Body::Entrypoint(f) | Body::Cmd(f) | Body::Healthcheck(Some(f)) => f,
        _ => return as_written(),
    };
    let mut words = form.words();
    if let Some(program) = words.first_mut()
        && !program.contains('/')
        && let Some(output) = outputs.iter().find(|o| starts(o, program, cwd))
    {
        let path = program_path(output, program);
        // Directories on distroless's PATH still find the program by name.
        if !on_runtime_path(&path) {
            *program = path;
        }
    }
    if matches!(form, CommandForm::Exec(_)) && words == form.words() {
        return as_written();
    }
    let prefix = match &inst.body {
        Body::Healthcheck(_) => {
            let head = &facts.text[inst.keyword_span.start..inst.span.end];
            let cmd_at = head.to_ascii_uppercase().find(" CMD ").map_or(inst.keyword.len(), |i| i + 4);
            head[..cmd_at].to_string()
        }
        _ => inst.keyword.clone(),
    };
    format!("{prefix} {}", runtime::exec_form(&words))
}

/// Where the build output `output` puts the program started as `name`.
fn program_path(output: &Output, name: &str) -> String {
    match output {
        Output::File(p) => p.clone(),
        Output::Dir(d) => format!("{d}/{name}"),
    }
}

/// The directories distroless searches for a program named without a path (its `PATH`).
const RUNTIME_PATH: [&str; 6] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// True when the program at `path` is found by its name on distroless's `PATH`.
fn on_runtime_path(path: &str) -> bool {
    path.rsplit_once('/').is_some_and(|(dir, _)| RUNTIME_PATH.contains(&dir))
}

/// `ENV PATH=…` for the runtime stage, when something that runs the image elsewhere (a Compose
/// `command: app serve`, a Kubernetes `command`) names a program it builds by its name in a
/// directory the builder searched and distroless does not (`/go/bin`): that directory leads the
/// runtime's `PATH`. `None` when nothing needs it or the stage sets `PATH` itself.
fn runtime_path(facts: &Facts<'_>, style: &Style, outputs: &[Output], cwd: &str) -> Option<String> {
    let stage = facts.runtime_stage();
    let sets_path = stage
        .instructions
        .iter()
        .any(|i| matches!(&i.body, Body::Env(pairs) if pairs.iter().any(|(k, _)| k == "PATH")));
    if sets_path {
        return None;
    }
    let (entrypoint, _) = facts.entrypoint_and_cmd(stage);
    let named = facts.source.orchestration.commands.iter().filter(|c| c.replaces_entrypoint || entrypoint.is_none());
    let dir = named.filter_map(|c| c.words.first()).filter(|w| !w.contains('/')).find_map(|word| {
        let path = program_path(outputs.iter().find(|o| starts(o, word, cwd))?, word);
        (!on_runtime_path(&path)).then(|| path.rsplit_once('/').map(|(dir, _)| dir.to_string())).flatten()
    })?;
    Some(format!("{} PATH={dir}:{}", style.keyword("ENV"), RUNTIME_PATH.join(":")))
}

/// EXPOSE, VOLUME, LABEL and STOPSIGNAL belong to the image that runs; SHELL and MAINTAINER stay.
fn is_runtime_only(inst: &Instruction) -> bool {
    match inst.body {
        Body::Expose(_) | Body::Volume(_) => true,
        Body::Other => matches!(inst.keyword.to_ascii_uppercase().as_str(), "LABEL" | "STOPSIGNAL"),
        _ => false,
    }
}
