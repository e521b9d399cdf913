//! Findings a kustomize patch answers. A workload whose securityContext a patch replaces is left
//! alone (HK226); what that patch sets (`runAsNonRoot: true`, `drop: [ALL]` …) is not missing
//! where kustomize builds the workload, so it is not reported as missing.

use crate::finding::Finding;
use crate::kubernetes::Context;
use crate::kubernetes::kustomize::PatchedField;
use crate::kubernetes::workload::{Container, Workload};

/// Removes the findings of fields that the patches applying to `workload` set: on a container's
/// line when set on that container (or on the pod), elsewhere when set on the pod or on every
/// container.
pub(super) fn drop_answered(workload: &Workload<'_>, context: &Context, findings: &mut Vec<Finding>) {
    let fields: Vec<&PatchedField> =
        context.patched.iter().filter(|p| p.applies_to(&workload.name)).flat_map(|p| &p.sets).collect();
    if fields.is_empty() {
        return;
    }
    // A pod's field covers every container; a container's only itself (init containers have
    // their own list).
    let set_on = |rule: &str, c: &Container<'_>| {
        fields
            .iter()
            .any(|f| f.rule == rule && f.container.is_none_or(|index| c.list == "containers" && index == c.index))
    };
    findings.retain(|f| match workload.containers.iter().find(|c| c.line == f.line) {
        Some(c) => !set_on(f.rule, c),
        None => workload.containers.is_empty() || !workload.containers.iter().all(|c| set_on(f.rule, c)),
    });
}
