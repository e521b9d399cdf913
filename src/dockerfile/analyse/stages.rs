//! Findings about stages other than the runtime: copies from outside the file, and stages that
//! are images of their own (`--target`), whose user harden does not change.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::model::{Body, Copy, Stage};
use super::super::rewrite::leaves_eol_base;
use super::super::users;

/// Copies from outside the file, and runtime-looking stages other than the last.
pub(super) fn findings(facts: &Facts<'_>, out: &mut Vec<Finding>) {
    let df = facts.df;
    let referenced: Vec<bool> = df.stages.iter().map(|s| facts.taken_from(s.index)).collect();
    for stage in &df.stages {
        for inst in &stage.instructions {
            let Body::Copy(Copy { from: Some(from), sources, .. }) = &inst.body else { continue };
            if df.stage_named(from).is_some() {
                continue;
            }
            // A reference with a registry, tag or digest is an image; a bare name may be a build
            // context the build passes.
            let image = from.contains(['/', ':', '@']);
            let message = match (image, from.contains("@sha256:")) {
                (true, true) => {
                    format!("COPY --from={from} copies from another image, pinned by digest, kept as it is")
                }
                // The whole of a non-root image (`COPY --from=…:nonroot . .`) is its files, not its
                // user: a stage with no USER of its own still runs as root.
                (true, false) if whole_non_root_image(facts, stage, from, sources) => format!(
                    "COPY --from={from} copies that image's files but not its user (its programs run as 65532): with no USER of its own, this stage runs its program as root; `USER 65532:65532` gives it the user that image has"
                ),
                (true, false) => format!("COPY --from={from} copies from another image, kept as it is"),
                (false, _) => {
                    format!("COPY --from={from} names no stage: an image or a named build context, kept as it is")
                }
            };
            out.push(Finding::new(&rules::FOREIGN_FROM, inst.line, message))
        }
    }
    let builders = facts.builder_stages();
    let runtime_chain = facts.runtime_chain();
    for stage in &df.stages[..df.stages.len().saturating_sub(1)] {
        let own_command = stage.own_command();
        // Its distroless base past end of life still moves on (HD118).
        let eol =
            if leaves_eol_base(facts, stage) { " (its base past end of life still moves to debian13)" } else { "" };
        // A stage already run by a numeric non-root user (or on a shell-less base that runs as
        // one) leaves nothing to say. (A user of build arguments is as their defaults make it.)
        let user = facts.last_user(stage).map(|(_, u)| users::user_as_built(facts, stage, u).unwrap_or(u.to_string()));
        let hardened = match &user {
            Some(u) => super::is_numeric_user(u) && !u.contains('$') && !super::is_root(u),
            None => facts.base_image(stage).is_some_and(|b| b.family().is_shell_less() && b.default_user_is_nonroot()),
        };
        let root = match (&user, facts.last_user(stage)) {
            (Some(built), Some((_, written))) if super::is_root(built) && built != written => {
                format!("; it runs as root: USER {written} is {built} by its build arguments' defaults")
            }
            _ => String::new(),
        };
        if hardened && own_command.is_some() {
            continue;
        }
        let alias = stage.from.alias.as_deref().unwrap_or_default();
        let targeted = facts.source.orchestration.targets.iter().any(|t| t.eq_ignore_ascii_case(alias));
        // A stage that builds what a later one copies out is a builder, whatever command it
        // kept (kubebuilder's old `ENTRYPOINT ["/start.sh", …]`), unless a build stops at it.
        let builder = builders.contains(&stage.index) && referenced[stage.index] && !targeted;
        if let Some(command) = own_command.filter(|_| !runtime_chain.contains(&stage.index) && !builder) {
            // A development or test stage (`debug`, `e2e-test`) is told, not flagged.
            let development = stage.from.alias.as_deref().is_some_and(crate::orchestration::is_development_name);
            let severity = if development { rules::Severity::Info } else { rules::SECOND_RUNTIME.severity };
            // A user name the file gives fixed ids is written as them here too (HD107).
            let numbered =
                facts.last_user(stage).filter(|_| !facts.is_off(rules::NON_NUMERIC_USER.id)).and_then(|(_, u)| {
                    let ids = (!super::is_numeric_user(u) && !super::is_root(u))
                        .then(|| users::created_ids(&users::stages_but(facts.df, None), facts.text, u))??;
                    Some(format!(" (it writes this stage's USER {u} as {ids}, HD107)"))
                });
            let message = format!(
                "stage {} has its own {}, so it is run on its own (docker build --target {}, or a Compose target); harden changes the runtime and user of the final stage only{}{eol}{root}",
                stage.reference(),
                command.keyword.to_ascii_uppercase(),
                stage.reference(),
                numbered.unwrap_or_default()
            );
            out.push(Finding { severity, ..Finding::new(&rules::SECOND_RUNTIME, command.line, message) });
            named_user(facts, stage, out);
            continue;
        }
        // A stage the build files stop at (`--target examples`) is an image of its own.
        if targeted && !hardened && !runtime_chain.contains(&stage.index) && !facts.is_export_stage(stage) {
            out.push(Finding::new(
                &rules::SECOND_RUNTIME,
                stage.from.line,
                format!(
                    "stage {alias} is built as an image of its own (the repository's build files stop at it: --target {alias}); harden changes the runtime and user of the final stage only{eol}{root}"
                ),
            ));
            continue;
        }
        let copies_from_stage =
            stage.instructions.iter().any(|i| matches!(&i.body, Body::Copy(Copy { from: Some(_), .. })));
        let fat = facts.base_image(stage).is_some_and(|b| b.family().is_fat());
        // A stage that runs tests as it builds (`bats acceptance.bats`) is a check, not an image.
        let tests = stage.instructions.iter().flat_map(|i| i.body.run_commands()).any(runs_tests);
        if !referenced[stage.index] && !builders.contains(&stage.index) && copies_from_stage && fat && !tests {
            out.push(Finding::new(
                &rules::SECOND_RUNTIME,
                stage.from.line,
                format!(
                    "stage {} looks like a second runtime image (docker build --target {}); harden changes the runtime and user of the final stage only",
                    stage.reference(),
                    stage.reference()
                ),
            ));
        }
    }
}

/// True for a command that runs tests: bats, `go test`, or a make target named for tests.
fn runs_tests(command: &crate::shell::SimpleCommand) -> bool {
    let argv: Vec<&str> = command.argv().iter().map(|t| t.value.as_str()).collect();
    match argv.as_slice() {
        ["bats", ..] | ["go", "test", ..] => true,
        ["make", targets @ ..] => targets.iter().any(|t| t.starts_with("test") || t.ends_with("test")),
        _ => false,
    }
}

/// HD107 for a stage that is an image of its own and runs as a user name, which the kubelet
/// cannot check under `runAsNonRoot`: the runtime's own finding does not cover it.
fn named_user(facts: &Facts<'_>, stage: &Stage, out: &mut Vec<Finding>) {
    let Some((inst, user)) = facts.last_user(stage) else { return };
    if super::is_numeric_user(user) || super::is_root(user) {
        return;
    }
    let ids = users::created_ids(&users::stages_but(facts.df, None), facts.text, user);
    let write = match (ids, users::nobody_ids(user)) {
        (Some(ids), _) => format!("; the file gives it {ids}: write USER {ids}"),
        (None, Some(ids)) => format!("; nobody has the ids {ids} on every Linux distribution: write USER {ids}"),
        (None, None) => users::numbering_hint(facts, stage, user, facts.base_image(stage)),
    };
    out.push(Finding::new(
        &rules::NON_NUMERIC_USER,
        inst.line,
        format!(
            "stage {} runs as USER {user}, a name; the kubelet cannot verify it is non-root under runAsNonRoot{write}",
            stage.reference()
        ),
    ));
}
/// True when `stage`, which sets no USER, copies the whole file system (`.` or `/`) of `from`,
/// an image whose programs run as a non-root user (distroless `:nonroot`).
fn whole_non_root_image(facts: &Facts<'_>, stage: &Stage, from: &str, sources: &[String]) -> bool {
    let whole = sources.iter().all(|s| matches!(s.as_str(), "." | "/" | "./"));
    let image = super::super::image::ImageRef::parse(from);
    whole && !sources.is_empty() && image.default_user_is_nonroot() && facts.last_user(stage).is_none()
}
