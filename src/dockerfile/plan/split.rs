//! The split of a single-stage build: the program the stage builds moves to a runtime of its
//! own, with the files it reads at run time, or the reason it cannot.

use crate::rules;

use super::super::facts::{Facts, join_path};
use super::super::model::Body;
use super::super::output::Output;
use super::super::{refusals, runtime, secrets};
use super::{Refusal, RuntimePlan, pins};

/// Plans the split of a single-stage build.
pub(super) fn split(facts: &Facts<'_>, image: String) -> Result<RuntimePlan, Refusal> {
    let stage = facts.runtime_stage();
    let (entrypoint, cmd) = facts.entrypoint_and_cmd(stage);
    let Some(start) = entrypoint.or(cmd) else {
        return Err((
            &rules::RUNTIME_NEEDS_SHELL,
            stage.from.line,
            "the single stage has no ENTRYPOINT or CMD, so how the program starts is unknown; it is kept".into(),
        ));
    };
    refusals::check_runtime_commands(facts)?;
    refusals::registry_from_argument(facts)?;
    refusals::orchestrated_needs(facts)?;
    refusals::orchestrated_checks(facts)?;
    if let Some(base) = facts.base_image(stage) {
        refusals::source_starts(facts, base)?;
    }
    let mut outputs = Vec::new();
    let last_build = facts.builds().filter(|(r, _)| r.stage == stage.index).map(|(r, _)| r.instr).max().unwrap_or(0);
    for (run, cmd) in facts.builds().filter(|(r, _)| r.stage == stage.index) {
        match facts.output_of(run, cmd) {
            Some(out) => outputs.push(out),
            None => {
                return Err((
                    &rules::UNKNOWN_BUILD_OUTPUT,
                    stage.instructions[run.instr].line,
                    "the build's output path cannot be told (no -o, or a variable in it); add `-o PATH` to split the stage".into(),
                ));
            }
        }
    }
    let copied = refusals::copied_paths(facts);
    for inst in &stage.instructions[last_build + 1..] {
        let is_go =
            facts.go_runs.iter().any(|r| r.stage == stage.index && std::ptr::eq(&stage.instructions[r.instr], inst));
        if matches!(inst.body, Body::Run { .. }) && !is_go && !runtime::provided_by_distroless(inst, &copied) {
            return Err((
                &rules::RUNTIME_SETUP_AFTER_BUILD,
                inst.line,
                "this RUN prepares the image after the build; a new runtime stage would lose it, so the stage is kept"
                    .into(),
            ));
        }
    }
    let program = runtime::program(start).unwrap_or_default();
    let cwd = facts.workdir_at(stage, stage.instructions.len());
    if program == "go" || !outputs.iter().any(|o| starts(o, &program, &cwd)) {
        return Err((
            &rules::RUNTIME_NEEDS_SHELL,
            stage
                .instructions
                .iter()
                .find(|i| matches!(i.body, Body::Entrypoint(_) | Body::Cmd(_)))
                .map_or(1, |i| i.line),
            format!("the image starts {program}, which is not a binary this Dockerfile builds; the stage is kept"),
        ));
    }
    refusals::tool_image(facts, &program)?;
    let image = match facts.base_image(stage) {
        Some(base) => pins::keeping_pins(facts, base, image, stage)?,
        None => image,
    };
    let mut copies: Vec<String> = outputs.iter().map(|o| o.path().to_string()).collect();
    if let Some(odd) = copies.iter().chain(std::iter::once(&cwd)).find(|p| !is_plain_path(p)) {
        return Err((
            &rules::UNKNOWN_BUILD_OUTPUT,
            stage.from.line,
            format!("the path {odd:?} needs quoting or expansion that harden does not write; the stage is kept"),
        ));
    }
    let (assets, blind) = assets(facts);
    for asset in assets.into_iter().filter(|a| is_plain_path(a)) {
        if !copies.contains(&asset) {
            copies.push(asset);
        }
    }
    Ok(RuntimePlan::Split { image, copies, blind })
}

/// True for an absolute path harden can write into a new instruction as it is: no spaces,
/// quotes, escapes or variables.
fn is_plain_path(path: &str) -> bool {
    path.starts_with('/')
        && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | '@' | ':'))
}

/// True when `program` (as ENTRYPOINT/CMD names it, from `cwd`) is the output.
pub fn starts(output: &Output, program: &str, cwd: &str) -> bool {
    let name = program.rsplit('/').next().unwrap_or(program);
    let resolved = if program.contains('/') { join_path(cwd, program) } else { program.to_string() };
    match output {
        Output::File(path) => *path == resolved || (!program.contains('/') && path.ends_with(&format!("/{name}"))),
        Output::Dir(dir) => resolved.starts_with(&format!("{dir}/")) || !program.contains('/'),
    }
}

/// Files the single stage copied in that the program may read at run time, as absolute paths.
fn assets(facts: &Facts<'_>) -> (Vec<String>, bool) {
    let stage = facts.runtime_stage();
    let mut out = Vec::new();
    let mut blind = false;
    for (i, inst) in stage.instructions.iter().enumerate() {
        let Body::Copy(copy) = &inst.body else { continue };
        if copy.from.is_some() {
            continue;
        }
        let dir = facts.workdir_at(stage, i);
        let dest = join_path(&dir, &copy.dest);
        for src in &copy.sources {
            let clean = src.trim_start_matches("./").trim_end_matches('/');
            if clean.is_empty() || clean == "." {
                blind |= !facts.source.available;
                out.extend(facts.source.assets.iter().map(|a| format!("{}/{a}", dest.trim_end_matches('/'))));
            } else if is_asset(clean) {
                let many = copy.sources.len() > 1 || copy.dest.ends_with('/');
                let name = clean.rsplit('/').next().unwrap_or(clean);
                out.push(if many { format!("{}/{name}", dest.trim_end_matches('/')) } else { dest.clone() });
            }
        }
    }
    (out, blind)
}

/// True for a copied path that is not Go source.
fn is_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let source_dirs = ["cmd", "internal", "pkg", "vendor", "src", "lib", "api", "app"];
    !(name.ends_with(".go")
        || name.starts_with('-')
        || secrets::is_secret_file(name)
        || name == "go.mod"
        || name == "go.sum"
        || name.contains('*')
        || source_dirs.contains(&name))
        && (name.contains('.') || crate::source::is_asset_dir(name))
}
