//! Findings a kustomize patch answers. A workload whose securityContext a patch replaces is left
//! alone (HK226); what a patch sets (`runAsNonRoot: true`, `drop: [ALL]` …), merged or replaced,
//! is not missing where kustomize builds the workload, so it is neither reported nor added.

use crate::finding::Finding;
use crate::kubernetes::Context;
use crate::kubernetes::kustomize::{ContainerRef, PatchedField};
use crate::kubernetes::workload::{Container, Workload};
use crate::rules;

/// The fields the patches applying to `workload` set.
fn fields<'c>(workload: &Workload<'_>, context: &'c Context) -> Vec<&'c PatchedField> {
    context.patched.iter().filter(|p| p.applies_to(&workload.name)).flat_map(|p| &p.sets).collect()
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

/// The rules whose fields the patches set on the pod or on every container of `workload`:
/// harden neither reports nor adds them there (a base given them too would say them twice).
pub(super) fn answered(workload: &Workload<'_>, context: &Context) -> Vec<&'static str> {
    let fields = fields(workload, context);
    let every = |rule: &str| {
        !workload.containers.is_empty()
            && workload.containers.iter().all(|c| fields.iter().any(|f| f.rule == rule && set_on(f, c)))
    };
    rules::ALL.iter().map(|r| r.id).filter(|id| every(id)).collect()
}

/// Removes the findings of fields that the patches applying to `workload` set: on a container's
/// line when set on that container (or on the pod), elsewhere when set on the pod or on every
/// container.
pub(super) fn drop_answered(workload: &Workload<'_>, context: &Context, findings: &mut Vec<Finding>) {
    let fields = fields(workload, context);
    if fields.is_empty() {
        return;
    }
    let set = |rule: &str, c: &Container<'_>| fields.iter().any(|f| f.rule == rule && set_on(f, c));
    findings.retain(|f| match workload.containers.iter().find(|c| c.line == f.line) {
        Some(c) => !set(f.rule, c),
        None => workload.containers.is_empty() || !workload.containers.iter().all(|c| set(f.rule, c)),
    });
}
