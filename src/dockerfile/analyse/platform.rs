//! A runtime built on the build machine's platform (HD157): `FROM --platform=$BUILDPLATFORM` on
//! the final stage of a cross-compiling build gives every platform's image the build machine's
//! base layers.

use crate::finding::Finding;
use crate::rules;

use super::super::facts::Facts;
use super::super::model::Body;
use super::super::plan::{Plan, RuntimePlan};
use super::super::{refusals, runtime};

/// The runtime stage's `FROM --platform=$BUILDPLATFORM`, when the Go build it ships is
/// cross-compiled for the target (`GOARCH=$TARGETARCH`, or tonistiigi/xx's `xx-go`): its image
/// should be the target's. `Some(true)` when the flag can go (after `plan`, the stage runs
/// nothing, which would then need emulation), `Some(false)` when it still runs something. `None`
/// for a single stage `plan` splits: the new runtime stage is the target's already.
pub fn runtime_on_build_platform(facts: &Facts<'_>, plan: &Plan) -> Option<bool> {
    let stage = facts.runtime_stage();
    let platform = stage.from.platform.as_deref()?;
    let on_build_platform = matches!(platform, "$BUILDPLATFORM" | "${BUILDPLATFORM}");
    if !on_build_platform || facts.parent_stage(stage).is_some() || matches!(plan.runtime, RuntimePlan::Split { .. }) {
        return None;
    }
    let cross_compiled = facts.builds().filter(|(r, c)| facts.ships(r, c)).any(|(run, cmd)| {
        let built_in = &facts.df.stages[run.stage];
        let goarch =
            cmd.env_value("GOARCH").map(str::to_string).or_else(|| facts.env_at(built_in, run.instr, "GOARCH"));
        let text = &facts.text[built_in.instructions[run.instr].span.clone()];
        goarch.is_some_and(|arch| arch.contains("TARGETARCH")) || text.contains("xx-go")
    });
    // A conversion to distroless drops the steps but those that run the copied program.
    let converted = matches!(plan.runtime, RuntimePlan::Convert { image: Some(_) });
    let copied = refusals::copied_paths(facts);
    let stays = |i: &&super::super::model::Instruction| !converted || runtime::runs_copied_program(i, &copied);
    let runs = stage.instructions.iter().filter(|i| matches!(i.body, Body::Run { .. })).any(|i| stays(&i));
    cross_compiled.then_some(!runs)
}

/// HD157 at the runtime stage's `FROM`.
pub(super) fn findings(facts: &Facts<'_>, plan: &Plan, out: &mut Vec<Finding>) {
    let Some(droppable) = runtime_on_build_platform(facts, plan) else { return };
    let what = match droppable {
        true => "drop --platform from this FROM: the binary is already built for the target",
        false => {
            "drop --platform from this FROM once the stage runs nothing (its RUN would then need emulation for other platforms); harden leaves it"
        }
    };
    let message = format!(
        "the runtime stage is built FROM --platform=$BUILDPLATFORM, but the Go build it ships is cross-compiled for $TARGETARCH: a multi-platform build gives every image the build machine's base layers; {what}"
    );
    out.push(Finding::new(&rules::RUNTIME_BUILD_PLATFORM, facts.runtime_stage().from.line, message));
}
