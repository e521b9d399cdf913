//! Why a program that runs as root keeps its user: the finding that keeps its runtime image (the
//! user moves only with the image), the one that keeps root itself, or a rule turned off.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::image::ImageRef;
use super::super::model::{Body, Stage};
use super::super::plan::{Plan, RuntimePlan};

/// The findings that keep a runtime image for what it carries or how it starts (a shell, tools,
/// an unknown build), not for anything only root may do.
const IMAGE_REASONS: &[&str] = &[
    rules::SHELL_FORM.id,
    rules::SHELL_SCRIPT_ENTRYPOINT.id,
    rules::UNKNOWN_BUILD_OUTPUT.id,
    rules::UNRESOLVED_BASE.id,
    rules::RUNTIME_NEEDS_SHELL.id,
    rules::CGO_MUSL.id,
    rules::NO_COMMAND.id,
    rules::COMMENT_KEEPS_BASE.id,
];

/// What HD106 adds to say why the user stays: `; harden leaves it so (HD117 says why)`, or
/// nothing where the plan moves it.
pub(super) fn why_kept(facts: &Facts<'_>, plan: &Plan, base: Option<&ImageRef>) -> String {
    // Why a kept runtime image keeps its user too: what the program needs of it (of a shell-less
    // one, of nothing but itself) as another user is not known.
    let unknown = match base.is_some_and(|b| b.family().is_shell_less()) {
        true => ": what the program needs, as another user, is not known",
        false => ": which of that image's files and tools the program needs, as another user, is not known",
    };
    // A volume the runtime declares holds what earlier images wrote there as root.
    let volume = facts.runtime_stage().instructions.iter().find_map(|inst| match &inst.body {
        Body::Volume(paths) => Some(format!(
            ", and the data earlier images wrote to its VOLUME {} stays root's, which another user could not write",
            paths.join(" ")
        )),
        _ => None,
    });
    // What the containers that run the image ask of root says more than "not known".
    let unknown = match facts.source.orchestration.root_needs.first() {
        Some(need) => format!(": {need}"),
        None => unknown.to_string(),
    };
    let unknown = format!("{unknown}{}", volume.unwrap_or_default());
    match kept_for(plan) {
        // A reason to keep the image, not the user: the user moves only with the image, onto
        // one whose contents harden knows (what the program does with a kept image's tools and
        // files as another user is not known).
        Some(why) if matches!(plan.runtime, RuntimePlan::Keep) && IMAGE_REASONS.contains(&why.rule) => {
            format!("; harden keeps the runtime image ({}), and with it the user{unknown}", image_reasons(plan))
        }
        Some(why) if matches!(plan.runtime, RuntimePlan::Keep) => {
            format!("; harden leaves it so ({} says why)", why.rule)
        }
        // A team that keeps its base on purpose (`disable: [HD101]`) keeps its user with it.
        None if matches!(plan.runtime, RuntimePlan::Keep) => [rules::FAT_RUNTIME.id, rules::SINGLE_STAGE.id]
            .into_iter()
            .filter(|_| facts.is_single_stage() || base.is_some_and(|b| b.family().is_fat()))
            .find(|id| facts.is_off(id))
            .map(|id| format!("; harden keeps the runtime image, as {id} is turned off for this file, and with it the user{unknown}"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The finding the plan keeps the user or the runtime for: the one root is kept for, else the
/// first.
fn kept_for(plan: &Plan) -> Option<&crate::finding::Finding> {
    let root_kept = plan.hazards.iter().find(|h| plan.root_kept.as_deref() == Some(h.message.as_str()));
    root_kept.or(plan.hazards.first())
}

/// True where root is what the program or the containers running it need, as far as harden
/// knows: a finding that keeps the user for itself (a low port, a root resource), not the image
/// for what it carries, or what those containers ask of root (the node's files, its PIDs).
pub(super) fn root_needed(facts: &Facts<'_>, plan: &Plan) -> bool {
    let for_itself = kept_for(plan).is_some_and(|why| USER_REASONS.contains(&why.rule));
    !facts.source.orchestration.root_needs.is_empty() || (matches!(plan.runtime, RuntimePlan::Keep) && for_itself)
}

/// What HD101 adds where the plan keeps the runtime: `; harden keeps it (HD131 says why)`, or,
/// where only the user's finding keeps it (a low port, the Docker socket), that the runtime
/// moves to distroless only together with the user, which that finding keeps.
pub(super) fn runtime_kept(plan: &Plan) -> String {
    let image_reason = plan.hazards.iter().any(|h| IMAGE_REASONS.contains(&h.rule));
    match plan.hazards.first() {
        Some(why) if !image_reason && USER_REASONS.contains(&why.rule) => format!(
            "; harden keeps it, as it moves a runtime to distroless only together with its user, which it leaves as it is ({} says why)",
            why.rule
        ),
        Some(_) => format!("; harden keeps it ({})", image_reasons(plan)),
        None => String::new(),
    }
}

/// The findings that keep a program's user (a low port, a write where only root may, a resource
/// only root may use, a drop the entrypoint makes), not its image.
const USER_REASONS: &[&str] = &[
    rules::PRIVILEGED_PORT.id,
    rules::RUNTIME_WRITES.id,
    rules::ROOT_RESOURCE.id,
    rules::RUNS_AS_ROOT.id,
    rules::DATA_STORE.id,
    rules::COMMENT_NEEDS_ROOT.id,
];

/// The findings that keep the runtime image, as HD101 and HD106 point at them: `HD131 says
/// why`, `HD131 and HD135 say why` (each rule once, in the plan's order); the first finding the
/// plan keeps it for where none is a reason of [`IMAGE_REASONS`].
pub(super) fn image_reasons(plan: &Plan) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for hazard in plan.hazards.iter().filter(|h| IMAGE_REASONS.contains(&h.rule)) {
        if !ids.contains(&hazard.rule) {
            ids.push(hazard.rule);
        }
    }
    match ids.as_slice() {
        [] => plan.hazards.first().map(|h| format!("{} says why", h.rule)).unwrap_or_default(),
        [one] => format!("{one} says why"),
        [rest @ .., last] => format!("{} and {last} say why", rest.join(", ")),
    }
}

/// HD106 for a USER of `stage` that takes its user from a build argument (`USER ${RUNAS}`, the
/// uid part) with no default that no build file of the repository passes: the user is then
/// empty, which runs the program as root, unless the build passes one.
pub(super) fn unset_user(facts: &Facts<'_>, stage: &Stage, line: usize, user: &str) -> Option<Finding> {
    let arg = user.split(':').next().and_then(super::super::variables::only_variable)?;
    let passed = facts.source.orchestration.build_args.iter().any(|a| a.name == arg);
    let set = facts.arg_default(stage, arg).is_some() || facts.env_at(stage, stage.instructions.len(), arg).is_some();
    let message = format!(
        "the last USER is {user}, from the build argument {arg}, which has no default and nothing here passes: the user is empty, so the program runs as root unless the build passes one; harden leaves that choice to the build (give {arg} a non-root default)"
    );
    let finding = Finding::new(&rules::RUNS_AS_ROOT, line, message);
    (!passed && !set).then_some(Finding { severity: rules::Severity::Warning, ..finding })
}
