//! Final stages that are one flavour among a file's images (the one with a shell beside a
//! shell-less one, or one named for its distribution), whose base is their purpose.

use crate::dockerfile::facts::Facts;
use crate::dockerfile::image::Family;
use crate::dockerfile::model::{Body, Stage};
use crate::dockerfile::plan::Refusal;
use crate::rules;

/// Refuses a shell-less runtime for a final stage that is one flavour among the file's images
/// when another flavour, a stage with its own command on scratch or distroless, already is the
/// minimal one (`scratch-release` beside `alpine`): the final stage's shell is its purpose.
pub(in crate::dockerfile) fn shell_flavour(facts: &Facts<'_>) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    let minimal = facts
        .df
        .stages
        .iter()
        .filter(|s| s.index != stage.index)
        .find(|s| s.own_command().is_some() && facts.base_image(s).is_some_and(|b| b.family().is_shell_less()))
        .filter(|minimal| !other_programs(facts, minimal, stage));
    let Some(minimal) = minimal else { return named_flavour(facts) };
    Err((
        &rules::SECOND_RUNTIME,
        stage.from.line,
        format!(
            "stage {} is this file's shell-less image (FROM {}, with its own command), so the final stage on {} is the flavour with a shell, and its base is kept",
            minimal.reference(),
            minimal.from.image,
            stage.from.image
        ),
    ))
}

/// Refuses a shell-less runtime for a final stage named for its base distribution
/// (`final-alpine` on alpine) beside another stage with a command of its own (`final` on
/// busybox): it is the file's flavour of that distribution, published as such (an `-alpine`
/// tag), whose users expect its shell and packages.
fn named_flavour(facts: &Facts<'_>) -> Result<(), Refusal> {
    let stage = facts.runtime_stage();
    let Some(alias) = stage.from.alias.as_deref() else { return Ok(()) };
    let Some(base) = facts.base_image(stage) else { return Ok(()) };
    let distribution = base.short_name().split(':').next().unwrap_or_default().to_ascii_lowercase();
    let named = matches!(base.family(), Family::Alpine | Family::Debian | Family::Ubuntu)
        && alias.to_ascii_lowercase().split(['-', '_', '.']).any(|w| w == distribution);
    // Another runtime: a stage with a command of its own that no stage copies from (a builder).
    let copied_from = |name: &str| {
        let mut all = facts.df.stages.iter().flat_map(|s| &s.instructions);
        all.any(|i| matches!(&i.body, Body::Copy(c) if c.from.as_deref() == Some(name)))
    };
    let mut others = facts.df.stages.iter().filter(|s| s.index != stage.index);
    let other = others.find(|s| s.own_command().is_some() && !copied_from(&s.reference()));
    match other.filter(|_| named) {
        Some(other) => Err((
            &rules::SECOND_RUNTIME,
            stage.from.line,
            format!(
                "the final stage {alias} is named for its base ({distribution}), one flavour beside stage {} (FROM {}, with its own command): its users expect {distribution}'s shell and packages, so its base is kept",
                other.reference(),
                other.from.image
            ),
        )),
        None => Ok(()),
    }
}

/// True when two stages copy only other files from the file's stages (moco's scratch
/// `controller` copies `moco-controller`, its final stage `moco-backup`): two programs' images,
/// not one program's two flavours.
fn other_programs(facts: &Facts<'_>, one: &Stage, other: &Stage) -> bool {
    let copied = |stage: &Stage| -> Vec<String> {
        let from_stages = facts.copied(stage).into_iter().filter(|c| c.copy.from.is_some());
        from_stages.map(|c| c.source.rsplit('/').next().unwrap_or(c.source).to_string()).collect()
    };
    let (ours, theirs) = (copied(one), copied(other));
    !ours.is_empty() && !theirs.is_empty() && !ours.iter().any(|f| theirs.contains(f))
}
