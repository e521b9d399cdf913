//! Carries out a [`Plan`] as byte-span edits of the original text.
//!
//! Every change is a splice: lines harden does not need to touch stay byte-identical,
//! comments and formatting included. New text comes from the templates in `templates/`.

use minijinja::{Environment, context};

use crate::edit::Edit;

use super::analyse::{
    add_is_plain_copy, cache_mounts_apply, is_numeric_user, is_root, module_cache_missing,
};
use super::contract::is_build_env;
use super::facts::{Facts, GoRun, Output, join_path};
use super::gobuild::GoCommand;
use super::image::{Family, ImageRef};
use super::model::{Body, CommandForm, Instruction, Stage};
use super::plan::{NONROOT, Plan, RuntimePlan, starts};
use super::runtime;

const RUNTIME_STAGE: &str = include_str!("../../templates/dockerfile/runtime-stage.Dockerfile.j2");
const MODULE_DOWNLOAD: &str =
    include_str!("../../templates/dockerfile/module-download.Dockerfile.j2");

/// The name given to a single stage's builder when it has none.
const BUILDER_NAME: &str = "build";

/// The edits that carry out `plan`.
pub fn edits(facts: &Facts<'_>, plan: &Plan) -> Vec<Edit> {
    let mut out = Vec::new();
    if plan.edit_builds {
        for run in facts.go_runs.iter().filter(|r| !r.exec_form) {
            for cmd in run.commands.iter().filter(|c| c.builds()) {
                build_flags(facts, run, cmd, &mut out);
            }
        }
        for &s in &facts.builder_stages() {
            let stage = &facts.df.stages[s];
            module_download(facts, stage, &mut out);
            builder_tag(facts, stage, &mut out);
        }
        cache_mounts(facts, &mut out);
    }
    add_to_copy(facts, &mut out);
    distroless_eol(facts, plan, &mut out);
    match &plan.runtime {
        RuntimePlan::Split { image, copies, .. } => split(facts, image, copies, &mut out),
        RuntimePlan::Convert { image } => convert(facts, image.as_deref(), &mut out),
        RuntimePlan::Keep => keep(facts, &mut out),
    }
    out
}

fn build_flags(facts: &Facts<'_>, run: &GoRun, cmd: &GoCommand, out: &mut Vec<Edit>) {
    let text = facts.text;
    if !facts.cgo.needed && facts.cgo_setting(run, cmd).as_deref() != Some("0") {
        out.push(Edit::insert(cmd.go_span.start, "CGO_ENABLED=0 "));
    }
    let stage = &facts.df.stages[run.stage];
    let goflags = cmd
        .env_value("GOFLAGS")
        .map(str::to_string)
        .or_else(|| facts.env_at(stage, run.instr, "GOFLAGS"));
    if cmd.flag("trimpath").is_none() && !goflags.unwrap_or_default().contains("-trimpath") {
        out.push(Edit::insert(cmd.verb_span.end, " -trimpath"));
    }
    let ld = cmd.ldflags();
    let missing: Vec<&str> = ["-s", "-w"]
        .into_iter()
        .filter(|f| !ld.contains(f))
        .collect();
    if missing.is_empty() {
        return;
    }
    let prefix = missing.join(" ");
    match cmd.flag("ldflags").and_then(|f| f.value_span.clone()) {
        None => out.push(Edit::insert(
            cmd.verb_span.end,
            format!(" -ldflags=\"{prefix}\""),
        )),
        Some(span) => {
            let raw = &text[span.clone()];
            if raw.starts_with(['"', '\'']) {
                out.push(Edit::insert(span.start + 1, format!("{prefix} ")));
            } else if raw.is_empty() {
                out.push(Edit::replace(span, format!("\"{prefix}\"")));
            } else if !raw.contains(['"', '\'', ' ']) {
                out.push(Edit::replace(span, format!("\"{prefix} {raw}\"")));
            }
        }
    }
}

fn module_download(facts: &Facts<'_>, stage: &Stage, out: &mut Vec<Edit>) {
    if module_cache_missing(facts, stage).is_none() {
        return;
    }
    let Some((i, inst)) = stage.instructions.iter().enumerate().find(|(_, inst)| {
        matches!(&inst.body, Body::Copy(c) if c.from.is_none() && c.sources.iter().any(|s| s == "." || s == "./"))
    }) else {
        return;
    };
    let Body::Copy(copy) = &inst.body else { return };
    let workdir = facts.workdir_at(stage, i);
    let dest =
        if matches!(copy.dest.as_str(), "." | "./") || join_path(&workdir, &copy.dest) == workdir {
            "./".to_string()
        } else {
            return;
        };
    let files = match (facts.source.available, facts.source.has_go_sum) {
        (false, _) => "go.mod go.sum*",
        (true, true) => "go.mod go.sum",
        (true, false) => "go.mod",
    };
    let mount = if facts.config.cache_mounts && cache_mounts_apply(facts, stage) {
        format!("--mount=type=cache,target={} ", mod_cache(facts, stage, i))
    } else {
        String::new()
    };
    let block = render(MODULE_DOWNLOAD, context! { files, dest, mount });
    out.push(Edit::insert(
        inst.comments_start,
        lines(&block, facts.df.newline),
    ));
}

/// The module cache directory of a stage (`GOMODCACHE`, `GOPATH/pkg/mod`, or the golang image's).
fn mod_cache(facts: &Facts<'_>, stage: &Stage, upto: usize) -> String {
    facts
        .env_at(stage, upto, "GOMODCACHE")
        .or_else(|| {
            facts
                .env_at(stage, upto, "GOPATH")
                .map(|p| format!("{p}/pkg/mod"))
        })
        .unwrap_or_else(|| "/go/pkg/mod".into())
}

fn build_cache(facts: &Facts<'_>, stage: &Stage, upto: usize) -> String {
    facts
        .env_at(stage, upto, "GOCACHE")
        .unwrap_or_else(|| "/root/.cache/go-build".into())
}

fn cache_mounts(facts: &Facts<'_>, out: &mut Vec<Edit>) {
    if !facts.config.cache_mounts {
        return;
    }
    for run in facts.go_runs.iter().filter(|r| !r.exec_form) {
        let stage = &facts.df.stages[run.stage];
        let inst = &stage.instructions[run.instr];
        let Body::Run {
            mounts,
            flags_insert_at,
            ..
        } = &inst.body
        else {
            continue;
        };
        if !cache_mounts_apply(facts, stage) {
            continue;
        }
        let mut flags = String::new();
        for target in [
            mod_cache(facts, stage, run.instr),
            build_cache(facts, stage, run.instr),
        ] {
            if !mounts.iter().any(|m| m.contains(&target)) {
                flags.push_str(&format!(" --mount=type=cache,target={target}"));
            }
        }
        if !flags.is_empty() {
            out.push(Edit::insert(*flags_insert_at, flags));
        }
    }
}

fn builder_tag(facts: &Facts<'_>, stage: &Stage, out: &mut Vec<Edit>) {
    let Some(version) = facts
        .source
        .go_mod
        .as_ref()
        .and_then(|m| m.go_version.clone())
    else {
        return;
    };
    let image = ImageRef::parse(&stage.from.image);
    if stage.from.image.contains('$') || image.family() != Family::Golang || image.digest.is_some()
    {
        return;
    }
    let tag = match image.tag.as_deref() {
        None | Some("latest") => version,
        Some(variant)
            if variant
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic()) =>
        {
            format!("{version}-{variant}")
        }
        Some(_) => return,
    };
    let new = ImageRef {
        tag: Some(tag),
        ..image
    };
    out.push(Edit::replace(
        stage.from.image_span.clone(),
        new.to_reference(),
    ));
}

fn add_to_copy(facts: &Facts<'_>, out: &mut Vec<Edit>) {
    for stage in &facts.df.stages {
        for inst in &stage.instructions {
            if let Body::Copy(copy) = &inst.body
                && copy.is_add
                && copy.sources.iter().all(|s| add_is_plain_copy(s))
            {
                out.push(Edit::replace(
                    inst.keyword_span.clone(),
                    same_case("COPY", &inst.keyword),
                ));
            }
        }
    }
}

fn distroless_eol(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Edit>) {
    for stage in &facts.df.stages {
        let is_converted_runtime = stage.index == facts.runtime
            && matches!(plan.runtime, RuntimePlan::Convert { image: Some(_) });
        let image = ImageRef::parse(&stage.from.image);
        if !is_converted_runtime
            && image.family() == Family::Distroless
            && image.short_name().ends_with("-debian12")
        {
            let next = ImageRef {
                name: image.name.replace("-debian12", "-debian13"),
                digest: None,
                ..image
            };
            out.push(Edit::replace(
                stage.from.image_span.clone(),
                next.to_reference(),
            ));
        }
    }
}

/// Edits the existing runtime stage into a distroless one.
fn convert(facts: &Facts<'_>, image: Option<&str>, out: &mut Vec<Edit>) {
    let stage = facts.runtime_stage();
    let nl = facts.df.newline;
    if let Some(image) = image {
        out.push(Edit::replace(stage.from.image_span.clone(), image));
    }
    for inst in &stage.instructions {
        match &inst.body {
            Body::Run { .. } => out.push(Edit::delete(inst.comments_start..inst.span.end)),
            Body::Copy(copy) => {
                if let Some((owner, span)) = &copy.chown
                    && !is_numeric_user(owner)
                    && !is_root(owner)
                {
                    out.push(Edit::replace(span.clone(), NONROOT));
                }
            }
            Body::Healthcheck(Some(form)) if runtime::healthcheck_needs_tools(form) => {
                out.push(Edit::delete(inst.comments_start..inst.span.end));
            }
            _ => to_exec_form(inst, out),
        }
    }
    match facts.last_user(stage) {
        Some((inst, user)) if is_root(user) || !is_numeric_user(user) => {
            if let Body::User(_, span) = &inst.body {
                out.push(Edit::replace(span.clone(), NONROOT));
            }
        }
        Some(_) => {}
        None => {
            let at = stage
                .instructions
                .iter()
                .find(|i| matches!(i.body, Body::Entrypoint(_) | Body::Cmd(_)))
                .map_or_else(|| stage_end(facts, stage), |i| i.comments_start);
            let mut line = format!("USER {NONROOT}{nl}");
            if at == facts.text.len() && !facts.text.ends_with('\n') {
                line = format!("{nl}USER {NONROOT}");
            }
            out.push(Edit::insert(at, line));
        }
    }
}

/// Keeps the runtime image, fixing only what is safe on any image.
fn keep(facts: &Facts<'_>, out: &mut Vec<Edit>) {
    let stage = facts.runtime_stage();
    for inst in &stage.instructions {
        to_exec_form(inst, out);
    }
    if let Some((inst, user)) = facts.last_user(stage)
        && !is_root(user)
        && !is_numeric_user(user)
        && inst.span.start >= stage.from.span.start
        && let Some(uid) = created_uid(stage, user)
        && let Body::User(_, span) = &inst.body
    {
        out.push(Edit::replace(span.clone(), uid));
    }
}

/// The uid a stage gives `user` with `adduser -u N` / `useradd --uid N`.
fn created_uid(stage: &Stage, user: &str) -> Option<String> {
    let name = user.split(':').next().unwrap_or(user);
    stage.instructions.iter().find_map(|inst| {
        let Body::Run { scripts, .. } = &inst.body else {
            return None;
        };
        scripts.iter().find_map(|(script, _)| {
            crate::shell::commands(script, 0)
                .into_iter()
                .find_map(|cmd| {
                    let argv: Vec<String> = cmd.argv().iter().map(|t| t.value.clone()).collect();
                    if !matches!(
                        argv.first().map(String::as_str),
                        Some("adduser" | "useradd")
                    ) || argv.last()? != name
                    {
                        return None;
                    }
                    let pos = argv.iter().position(|a| a == "-u" || a == "--uid")?;
                    argv.get(pos + 1)
                        .filter(|v| v.chars().all(|c| c.is_ascii_digit()))
                        .cloned()
                })
        })
    })
}

/// Turns a shell-form ENTRYPOINT/CMD without shell syntax into exec form.
fn to_exec_form(inst: &Instruction, out: &mut Vec<Edit>) {
    match &inst.body {
        Body::Entrypoint(form @ CommandForm::Shell(_, span))
        | Body::Cmd(form @ CommandForm::Shell(_, span))
            if !runtime::needs_shell(form) =>
        {
            out.push(Edit::replace(
                span.clone(),
                runtime::exec_form(&form.words()),
            ));
        }
        _ => {}
    }
}

/// Appends a distroless runtime stage to a single-stage build.
fn split(facts: &Facts<'_>, image: &str, copies: &[String], out: &mut Vec<Edit>) {
    let stage = facts.runtime_stage();
    let nl = facts.df.newline;
    let builder = match &stage.from.alias {
        Some(alias) => alias.clone(),
        None => {
            let keyword = &facts.text[stage.from.span.start..stage.from.span.start + 4];
            let as_ = if keyword == "from" { " as " } else { " AS " };
            out.push(Edit::insert(
                stage.from.alias_insert_at,
                format!("{as_}{BUILDER_NAME}"),
            ));
            BUILDER_NAME.to_string()
        }
    };
    let last_build = facts
        .builds()
        .filter(|(r, _)| r.stage == stage.index)
        .map(|(r, _)| r.instr)
        .max()
        .unwrap_or(0);
    let cwd = facts.workdir_at(stage, stage.instructions.len());
    let outputs: Vec<_> = facts
        .builds()
        .filter(|(r, _)| r.stage == stage.index)
        .filter_map(|(r, c)| facts.output_of(r, c))
        .collect();
    let mut carried = Vec::new();
    let mut commands = Vec::new();
    if stage
        .instructions
        .iter()
        .any(|i| matches!(i.body, Body::Workdir(_)))
        && cwd != "/"
    {
        carried.push(format!("WORKDIR {cwd}"));
    }
    for (i, inst) in stage.instructions.iter().enumerate() {
        let whole = &facts.text[inst.comments_start..inst.span.end];
        let moved = whole.trim_end_matches(['\n', '\r']).to_string();
        match &inst.body {
            Body::Env(pairs) => {
                let runtime_pairs = pairs.iter().any(|(k, _)| !is_build_env(k));
                let secret = pairs.iter().any(|(k, _)| super::analyse::is_secret_name(k));
                if runtime_pairs && !secret {
                    carried.push(moved.replace('\r', ""));
                }
            }
            Body::Expose(_) | Body::Volume(_) | Body::Other if is_runtime_only(inst) => {
                out.push(Edit::delete(inst.comments_start..inst.span.end));
                carried.push(moved.replace('\r', ""));
            }
            Body::User(..) if i > last_build => {
                out.push(Edit::delete(inst.comments_start..inst.span.end))
            }
            Body::Healthcheck(form) => {
                out.push(Edit::delete(inst.comments_start..inst.span.end));
                if form
                    .as_ref()
                    .is_none_or(|f| !runtime::healthcheck_needs_tools(f))
                {
                    commands.push(exec_line(facts, inst, &outputs, &cwd));
                }
            }
            Body::Entrypoint(_) | Body::Cmd(_) => {
                out.push(Edit::delete(inst.comments_start..inst.span.end));
                commands.push(exec_line(facts, inst, &outputs, &cwd));
            }
            _ => {}
        }
    }
    let stage_text = render(
        RUNTIME_STAGE,
        context! { image, builder, carried, copies => copies.to_vec(), user => NONROOT, commands },
    );
    let mut appended = String::new();
    if !facts.text.ends_with('\n') {
        appended.push_str(nl);
    }
    appended.push_str(nl);
    appended.push_str(&lines(&stage_text, nl));
    out.push(Edit::insert(facts.text.len(), appended));
}

/// The ENTRYPOINT/CMD/HEALTHCHECK line for the new runtime stage: exec form, and a program
/// found through `PATH` in the builder (`/go/bin`) named by its absolute path.
fn exec_line(facts: &Facts<'_>, inst: &Instruction, outputs: &[Output], cwd: &str) -> String {
    let form = match &inst.body {
        Body::Entrypoint(f) | Body::Cmd(f) => f,
        Body::Healthcheck(Some(f)) => f,
        _ => {
            return facts.text[inst.keyword_span.start..inst.span.end]
                .trim_end()
                .to_string();
        }
    };
    let mut words = form.words();
    if let Some(program) = words.first_mut()
        && !program.contains('/')
        && let Some(output) = outputs.iter().find(|o| starts(o, program, cwd))
    {
        let path = match output {
            Output::File(p) => p.clone(),
            Output::Dir(d) => format!("{d}/{program}"),
        };
        if !path.starts_with("/usr/") && !path.starts_with("/bin/") {
            *program = path;
        }
    }
    let prefix = match &inst.body {
        Body::Healthcheck(_) => {
            let head = &facts.text[inst.keyword_span.start..];
            let cmd_at = head
                .to_ascii_uppercase()
                .find(" CMD")
                .map_or(inst.keyword.len(), |i| i + 4);
            head[..cmd_at].to_string()
        }
        _ => inst.keyword.clone(),
    };
    let original_exec = matches!(form, CommandForm::Exec(_)) && words == form.words();
    if original_exec {
        facts.text[inst.keyword_span.start..inst.span.end]
            .trim_end()
            .replace("\r", "")
    } else {
        format!("{prefix} {}", runtime::exec_form(&words))
    }
}

/// LABEL and STOPSIGNAL belong to the image that runs; SHELL and MAINTAINER stay.
fn is_runtime_only(inst: &Instruction) -> bool {
    match inst.body {
        Body::Expose(_) | Body::Volume(_) => true,
        Body::Other => matches!(
            inst.keyword.to_ascii_uppercase().as_str(),
            "LABEL" | "STOPSIGNAL"
        ),
        _ => false,
    }
}

/// Where the runtime stage ends (where a line can be appended to it).
fn stage_end(facts: &Facts<'_>, stage: &Stage) -> usize {
    stage
        .instructions
        .last()
        .map_or(stage.from.span.end, |i| i.span.end)
        .min(facts.text.len())
}

/// `word` in the case style of `like` (`COPY`, `copy`, `Copy`).
fn same_case(word: &str, like: &str) -> String {
    if like.chars().all(|c| c.is_ascii_lowercase()) {
        word.to_ascii_lowercase()
    } else if like.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && like[1..].chars().all(|c| c.is_ascii_lowercase())
    {
        format!("{}{}", &word[..1], word[1..].to_ascii_lowercase())
    } else {
        word.to_string()
    }
}

/// Renders a built-in template; the templates are fixed, so a failure is a bug.
fn render(template: &str, ctx: minijinja::Value) -> String {
    let env = Environment::new();
    env.render_str(template, ctx)
        .expect("built-in template renders")
}

/// Ends every line of `text` with `nl`.
fn lines(text: &str, nl: &str) -> String {
    text.lines().map(|l| format!("{l}{nl}")).collect()
}
