//! Edits to an existing runtime stage: converting it to distroless, or keeping its image
//! and fixing only what is safe on any image.

use crate::edit::Edit;
use crate::rules;

use super::super::analyse::{is_numeric_user, is_root};
use super::super::facts::{Facts, SYSTEM_BIN_DIRS};
use super::super::image::ImageRef;
use super::super::model::{ArgWord, Body, CommandForm, Instruction, Stage};
use super::super::plan::{NONROOT, Plan};
use super::super::runtime;
use super::{Style, removal};

/// The global `ARG` that is the whole image of the stage's `FROM` (`FROM ${RUNTIME_IMAGE}`), when
/// it is declared once, has a default and no other `FROM` uses it: changing its default keeps the
/// build argument the file offers.
fn image_arg<'a>(facts: &Facts<'a>, stage: &Stage) -> Option<&'a ArgWord> {
    let image = stage.from.image.as_str();
    let name = image.strip_prefix("${").and_then(|r| r.strip_suffix('}')).or_else(|| image.strip_prefix('$'))?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let mut declared = facts.df.global_args.iter().filter(|a| a.name == name);
    let arg = declared.next().filter(|a| a.default.is_some())?;
    let elsewhere = facts.df.stages.iter().any(|s| s.index != stage.index && s.from.image.contains(name));
    (declared.next().is_none() && !elsewhere).then_some(arg)
}

/// Edits the runtime stage into a distroless one: new base, no package or user setup,
/// numeric user and ownership, exec-form commands, no health check that needs curl.
pub fn convert(facts: &Facts<'_>, plan: &Plan, style: &Style, image: Option<&str>, out: &mut Vec<Edit>) {
    let stage = facts.runtime_stage();
    if let Some(image) = image {
        // A stage that only names the image for the runtime alone is where the image is named.
        let alias = facts.alias_parent(stage).filter(|alias| {
            let name = alias.from.alias.as_deref();
            facts.df.stages.iter().all(|s| s.index == stage.index || Some(s.from.image.as_str()) != name)
        });
        let named = alias.unwrap_or(stage);
        out.push(match image_arg(facts, named) {
            Some(arg) => Edit::replace(arg.span.clone(), format!("{}={image}", arg.name)),
            None => Edit::replace(named.from.image_span.clone(), image),
        });
        // distroless :nonroot starts programs in /home/nonroot: a stage that relied on its old
        // image's working directory keeps it.
        let old_dir = facts.base_image(stage).and_then(ImageRef::default_workdir).unwrap_or("/");
        let new_dir = ImageRef::parse(image).default_workdir().unwrap_or("/");
        if old_dir != new_dir && facts.relies_on_workdir(stage).is_some() {
            let lead = if facts.text[..stage.from.span.end].ends_with('\n') { "" } else { style.nl };
            out.push(Edit::insert(
                stage.from.span.end,
                format!("{lead}{}", style.lines(&format!("WORKDIR {old_dir}"))),
            ));
        }
    }
    // Steps the new image could not run go with the old image; a kept image (a prebuilt binary's
    // `:debug` distroless, with its busybox) keeps them.
    let copied = super::super::refusals::copied_paths(facts);
    let entrypoint = facts.entrypoint_and_cmd(stage).0.is_some();
    let removed: Vec<&Instruction> = stage
        .instructions
        .iter()
        .filter(|_| image.is_some())
        .filter(|i| match &i.body {
            Body::Run { .. } => !runtime::runs_copied_program(i, &copied),
            Body::Healthcheck(Some(form)) => runtime::healthcheck_needs_tools(form),
            _ => false,
        })
        .collect();
    modes_into_copies(facts, &removed, &copied, out);
    let orphan_args = args_only_used_by(facts, stage, &removed);
    for inst in removed.iter().copied().chain(orphan_args) {
        out.push(Edit::delete(removal(facts.text, inst)));
    }
    // A name the file creates with fixed ids becomes those ids (its files and volumes are
    // theirs); any other name becomes 65532 (the runtime's own account setup goes with the
    // conversion: only an account another stage makes, and the runtime copies, keeps its ids).
    // A kept base image of another kind (not distroless or scratch) holds the name's ids in its
    // own account database: the name stays (HD107 says how to write them).
    // An owner the new image's own accounts name with those same ids (distroless `nonroot`)
    // is already right: only `USER`, which Kubernetes checks, needs numbers.
    let numeric = |name: &str| super::super::users::ids_under(plan, facts, name);
    let new_image = image.map(ImageRef::parse).or_else(|| facts.base_image(stage).cloned());
    let means = |owner: &str| new_image.as_ref().and_then(|i| i.own_account_ids(owner));
    for inst in &stage.instructions {
        if let Body::Copy(copy) = &inst.body
            && let Some((owner, span)) = &copy.chown
            && !is_numeric_user(owner)
            && !is_root(owner)
            && let Some(ids) = numeric(owner)
            && means(owner) != Some(ids.as_str())
        {
            out.push(Edit::replace(span.clone(), ids));
        }
        if !removed.iter().any(|r| std::ptr::eq(*r, inst)) {
            to_exec_form(inst, plan.runtime_is_shell_less(facts), entrypoint, out);
        }
        // `COPY app /usr/local/bin` names a directory of the old base; distroless has none there,
        // so the file would become `/usr/local/bin` itself: the copy says it is a directory.
        if let Body::Copy(copy) = &inst.body
            && image.is_some()
            && copy.sources.len() == 1
            && SYSTEM_BIN_DIRS.contains(&copy.dest.as_str())
        {
            let end = inst.span.start + facts.text[inst.span.clone()].trim_end().len();
            if facts.text[..end].ends_with(copy.dest.as_str()) {
                out.push(Edit::insert(end, "/".to_string()));
            }
        }
    }
    match facts.last_user(stage) {
        Some((inst, user)) if is_root(user) || !is_numeric_user(user) => {
            // On the kept image, the build arguments the file creates the account with name it.
            let arguments =
                || image.is_none().then(|| super::super::users::runtime_argument_ids(facts, user)).flatten();
            let ids = if is_root(user) { Some(NONROOT.to_string()) } else { numeric(user).or_else(arguments) };
            if let (Body::User(_, span), Some(ids)) = (&inst.body, ids) {
                out.push(Edit::replace(span.clone(), ids));
            }
        }
        Some(_) => {}
        // A `:nonroot` base already runs the program as 65532, numbers the kubelet checks, and
        // so does its replacement (`debian12:debug-nonroot` moved to debian13): a USER would
        // only repeat it (and the file often says so).
        None if facts.base_image(stage).is_some_and(ImageRef::default_user_is_nonroot)
            && new_image.as_ref().is_some_and(ImageRef::default_user_is_nonroot) => {}
        None => {
            let line = style.lines(&format!("USER {NONROOT}"));
            match stage.instructions.iter().find(|i| matches!(i.body, Body::Entrypoint(_) | Body::Cmd(_))) {
                Some(first) => out.push(Edit::insert(first.comments_start, line)),
                None => {
                    let end = stage.instructions.last().map_or(stage.from.span.end, |i| i.span.end);
                    let lead = if facts.text[..end].ends_with('\n') { "" } else { style.nl };
                    out.push(Edit::insert(end, format!("{lead}{line}")));
                }
            }
        }
    }
}

/// The mode a removed `chmod` gave a file the stage copies from the build context or a URL
/// moves into that COPY or ADD (`ADD --chmod=755 https://…`): such a file arrives without the
/// execute bit. A file copied from a stage or an image keeps the mode it was built with.
fn modes_into_copies(facts: &Facts<'_>, removed: &[&Instruction], copied: &[String], out: &mut Vec<Edit>) {
    let stage = facts.runtime_stage();
    let copies = facts.copied(stage);
    for (mode, path) in removed.iter().flat_map(|inst| runtime::chmods(inst, copied)) {
        let last = copies.iter().rev().find(|c| c.target == path);
        if let Some(c) = last.filter(|c| c.copy.from.is_none() && c.copy.chmod.is_none()) {
            let keyword = &stage.instructions[c.index].keyword_span;
            out.push(Edit::insert(keyword.end, format!(" --chmod={mode}")));
        }
    }
}

/// Keeps the runtime image, fixing only what is safe on any image: exec-form commands, and a
/// user name the file creates with a fixed uid (or `nobody`) turned into its ids, or into the
/// build arguments it creates it with (`USER ${APP_UID}:${APP_GID}`). On a kept image
/// neither is needed, so a rule turned off (HD115, HD107) keeps its part as it is.
pub fn keep(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Edit>) {
    let stage = facts.runtime_stage();
    let entrypoint = facts.entrypoint_and_cmd(stage).0.is_some();
    for inst in stage.instructions.iter().filter(|_| !facts.is_off(rules::SHELL_FORM.id)) {
        to_exec_form(inst, plan.runtime_is_shell_less(facts), entrypoint, out);
    }
    if let Some((inst, user)) = facts.last_user(stage)
        && !facts.is_off(rules::NON_NUMERIC_USER.id)
        && !is_root(user)
        && let Some(uid) = match is_numeric_user(user) {
            false => super::super::users::ids_under(plan, facts, user)
                .or_else(|| super::super::users::runtime_argument_ids(facts, user)),
            // `USER ${NAME}:${NAME}`, a name the file creates with build arguments' ids.
            true => super::super::users::runtime_argument_ids(facts, user),
        }
        && let Body::User(_, span) = &inst.body
    {
        out.push(Edit::replace(span.clone(), uid));
    }
}

/// Gives a stage run on its own (with its own ENTRYPOINT or CMD) that runs as a user name the
/// file creates with fixed ids those ids (`USER nonroot:nonroot` → `USER 65532:65532`, HD107),
/// whatever harden does with the final stage: the same user, which the kubelet can check under
/// `runAsNonRoot`.
pub fn number_side_users(facts: &Facts<'_>, out: &mut Vec<Edit>) {
    if facts.is_off(rules::NON_NUMERIC_USER.id) {
        return;
    }
    let stages = super::super::users::stages_but(facts.df, None);
    for stage in facts.side_images() {
        let Some((inst, user)) = facts.last_user(stage) else { continue };
        let ids = (!is_numeric_user(user) && !is_root(user))
            .then(|| super::super::users::created_ids(&stages, facts.text, user))
            .flatten();
        if let (Some(ids), Body::User(_, span)) = (ids, &inst.body) {
            out.push(Edit::replace(span.clone(), ids));
        }
    }
}

/// ARGs of the stage that only the removed instructions use.
fn args_only_used_by<'a>(facts: &Facts<'a>, stage: &'a Stage, removed: &[&Instruction]) -> Vec<&'a Instruction> {
    let text_of = |i: &Instruction| &facts.text[i.span.clone()];
    let uses = |i: &Instruction, name: &str| {
        let t = text_of(i);
        t.contains(&format!("${name}")) || t.contains(&format!("${{{name}"))
    };
    stage
        .instructions
        .iter()
        .filter(|inst| match &inst.body {
            Body::Arg(args) => args.iter().all(|(name, _)| {
                let used_by_removed = removed.iter().any(|r| uses(r, name));
                let used_elsewhere = stage
                    .instructions
                    .iter()
                    .filter(|i| !removed.iter().any(|r| std::ptr::eq(*r, *i)) && !std::ptr::eq(*i, *inst))
                    .any(|i| uses(i, name));
                used_by_removed && !used_elsewhere
            }),
            _ => false,
        })
        .collect()
}

/// Turns a shell-form ENTRYPOINT, CMD or HEALTHCHECK CMD without shell syntax into exec form.
/// Where the runtime keeps its shell, a CMD under an ENTRYPOINT (`entrypoint`) stays: its words
/// reach the entrypoint as `/bin/sh -c …`, which exec form would change.
fn to_exec_form(inst: &Instruction, shell_less: bool, entrypoint: bool, out: &mut Vec<Edit>) {
    if matches!(inst.body, Body::Cmd(_)) && entrypoint && !shell_less {
        return;
    }
    match &inst.body {
        // A bare `CMD` has no words to write in exec form.
        Body::Entrypoint(form @ CommandForm::Shell(text, span)) | Body::Cmd(form @ CommandForm::Shell(text, span))
            if !runtime::needs_shell(form) && !text.trim().is_empty() =>
        {
            out.push(Edit::replace(span.clone(), runtime::exec_form(&form.words())));
        }
        // A health check gets no signals: its shell form matters only where there is no shell.
        Body::Healthcheck(Some(form @ CommandForm::Shell(_, span))) if shell_less && !runtime::needs_shell(form) => {
            out.push(Edit::replace(span.clone(), runtime::exec_form(&form.words())));
        }
        _ => {}
    }
}
