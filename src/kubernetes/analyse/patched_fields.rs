//! Findings a kustomize patch answers. A workload whose securityContext a patch replaces is left
//! alone (HK226); what a patch sets (`runAsNonRoot: true`, `drop: [ALL]` …), merged or replaced,
//! is not missing where kustomize builds the workload, so it is neither reported nor added. What
//! an overlay merges into a base built elsewhere too is not added to the base either: the other
//! builds go without it on purpose, and the finding says so.

use crate::finding::Finding;
use crate::kubernetes::Context;
use crate::kubernetes::kustomize::{ContainerRef, Effect, Patched, PatchedField};
use crate::kubernetes::workload::{Container, Workload};
use crate::rules;

/// The fields the patches applying to `workload` set, each with its patch: those an overlay
/// merges into a base built elsewhere too (`elsewhere`), or those that are there wherever
/// kustomize builds it.
fn fields<'c>(workload: &Workload<'_>, context: &'c Context, elsewhere: bool) -> Vec<(&'c PatchedField, &'c Patched)> {
    let applying = |p: &&Patched| (p.effect == Effect::MergesElsewhere) == elsewhere && p.applies_to(&workload.name);
    let patches = context.patched.iter().filter(applying);
    patches.flat_map(|p| p.sets.iter().map(move |f| (f, p))).collect()
}

/// True when `field` is set on `c`: on the pod (which covers every container), or on `c` itself
/// (init containers have their own list).
fn set_on(field: &PatchedField, c: &Container<'_>) -> bool {
    match &field.container {
        None => true,
        Some(ContainerRef::Index(index)) => c.list == "containers" && *index == c.index,
        Some(ContainerRef::Name(name)) => c.list == "containers" && *name == c.name,
    }
}

/// The rules whose fields the patches set on the pod or on every container of `workload` (those
/// an overlay merges into a base built elsewhere too, with `elsewhere`): harden does not add
/// them there (a base given them too would say them twice, or give them to builds that go
/// without them).
pub(super) fn answered(workload: &Workload<'_>, context: &Context, elsewhere: bool) -> Vec<&'static str> {
    let fields = fields(workload, context, elsewhere);
    let every = |rule: &str| {
        !workload.containers.is_empty()
            && workload.containers.iter().all(|c| fields.iter().any(|(f, _)| f.rule == rule && set_on(f, c)))
    };
    rules::ALL.iter().map(|r| r.id).filter(|id| every(id)).collect()
}

/// The patch among `fields`' that sets the field of `finding`'s rule: on the container of the
/// finding's line (or on the pod), else, for a finding elsewhere, on the pod or every container.
fn setting<'c>(
    workload: &Workload<'_>,
    fields: &[(&PatchedField, &'c Patched)],
    finding: &Finding,
) -> Option<&'c Patched> {
    let on = |c: &Container<'_>| fields.iter().find(|(f, _)| f.rule == finding.rule && set_on(f, c)).map(|(_, p)| *p);
    match workload.containers.iter().find(|c| c.line == finding.line) {
        Some(c) => on(c),
        None if workload.containers.is_empty() => None,
        None => workload.containers.iter().map(on).collect::<Option<Vec<_>>>()?.first().copied(),
    }
}

/// Removes the findings of fields that the patches applying to `workload` set wherever
/// kustomize builds it.
pub(super) fn drop_answered(workload: &Workload<'_>, context: &Context, findings: &mut Vec<Finding>) {
    let fields = fields(workload, context, false);
    if !fields.is_empty() {
        findings.retain(|f| setting(workload, &fields, f).is_none());
    }
}

/// Tells, on the findings of fields an overlay merges into this base, that harden leaves them to
/// the overlay (at info: a choice made on purpose): the base is built without them elsewhere, so
/// the fields are not added.
pub(super) fn leave_to_overlays(workload: &Workload<'_>, context: &Context, findings: &mut [Finding]) {
    let fields = fields(workload, context, true);
    for f in findings.iter_mut() {
        let Some(patch) = setting(workload, &fields, f) else { continue };
        // A finding that names the patch already says what it does.
        if !f.message.contains(&patch.file) {
            super::not_fixed(f);
            f.severity = rules::Severity::Info;
            f.message = format!(
                "{}: {}, this one among them, only where that kustomization builds the workload; other builds of this file go without it, so harden leaves it to the overlay",
                f.message, patch.what
            );
        }
    }
}
