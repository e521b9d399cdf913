//! securityContext fields Kubernetes does not know where they are written (HK230): a misspelt
//! one (`allowPrivilegedEscalation`), or a container's field in the pod's securityContext
//! (`readOnlyRootFilesystem`). The API server drops such a field, or refuses the object under
//! strict field validation; either way the setting it means is not made.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::workload::Workload;
use crate::rules;

/// The fields of a pod's securityContext (PodSecurityContext).
const POD_FIELDS: &[&str] = &[
    "appArmorProfile",
    "fsGroup",
    "fsGroupChangePolicy",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxChangePolicy",
    "seLinuxOptions",
    "seccompProfile",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "sysctls",
    "windowsOptions",
];

/// The fields of a container's securityContext (SecurityContext).
const CONTAINER_FIELDS: &[&str] = &[
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "capabilities",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxOptions",
    "seccompProfile",
    "windowsOptions",
];

/// HK230 for each field of the workload's pod or container securityContexts that Kubernetes
/// does not know there.
pub(super) fn findings(workload: &Workload<'_>, out: &mut Vec<Finding>) {
    let mut check = |sc: Option<&Value>, known: &[&str], other: &[&str], node, line: usize, whose: String| {
        let keys = sc.and_then(Value::as_mapping).into_iter().flatten().filter_map(|(k, _)| k.as_str());
        for key in keys.filter(|k| !known.contains(k)) {
            // At the field itself, where its author looks.
            let line = workload.key_line(node, &["securityContext", key]).unwrap_or(line);
            let what = match (other.contains(&key), similar(key, known)) {
                (true, _) => format!(
                    "a field only {} has",
                    if known == POD_FIELDS { "a container's securityContext" } else { "the pod's securityContext" }
                ),
                (false, Some(meant)) => format!("no field Kubernetes knows (did you mean {meant}?)"),
                (false, None) => "no field Kubernetes knows".to_string(),
            };
            let message = format!(
                "{whose} securityContext has {key}, {what}: the API server drops it, or refuses the object under strict field validation, so what it asks is not set"
            );
            out.push(Finding::new(&rules::UNKNOWN_SECURITY_FIELD, line, message));
        }
    };
    check(
        workload.pod_value.get("securityContext"),
        POD_FIELDS,
        CONTAINER_FIELDS,
        workload.pod,
        workload.line,
        format!("{}'s pod", workload.id()),
    );
    for c in &workload.containers {
        let (sc, whose) = (c.value.get("securityContext"), format!("{}'s", c.who(workload)));
        check(sc, CONTAINER_FIELDS, POD_FIELDS, c.node, c.line, whose);
    }
}

/// The known field `key` is most likely a misspelling of: the one with the longest common
/// prefix, ignoring case, of at least six letters.
fn similar<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let common = |k: &str| {
        key.to_ascii_lowercase().chars().zip(k.to_ascii_lowercase().chars()).take_while(|(a, b)| a == b).count()
    };
    known.iter().copied().map(|k| (common(k), k)).filter(|(n, _)| *n >= 6).max_by_key(|(n, _)| *n).map(|(_, k)| k)
}
