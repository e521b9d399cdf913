//! Containers whose image's binary carries file capabilities (`setcap`): under the restricted
//! profile's `allowPrivilegeEscalation: false` (no_new_privs) exec keeps a file capability only
//! where the container's own capabilities hold it, and the profile lets a container add back
//! none but NET_BIND_SERVICE.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::workload::Workload;
use crate::rules;

/// The containers (not left alone already) that run an image the repository builds whose
/// binary gets capabilities from `setcap` other than NET_BIND_SERVICE, the one capability the
/// restricted profile lets a container add back: each is reported and left alone.
pub(in crate::kubernetes) fn file_capability_containers(
    workload: &Workload<'_>,
    alone: &[String],
    context: &crate::kubernetes::Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let mut names = Vec::new();
    for c in workload.containers.iter().filter(|c| !alone.contains(&c.name)) {
        let Some(image) = c.value.get("image").and_then(Value::as_str) else { continue };
        let Some((dockerfile, line, caps)) = context.file_capabilities(image) else { continue };
        let others: Vec<&str> = caps.iter().map(String::as_str).filter(|c| *c != "NET_BIND_SERVICE").collect();
        if others.is_empty() {
            continue;
        }
        let message = format!(
            "{} runs {image}, whose binary gets {} from setcap ({}:{line}): under allowPrivilegeEscalation: false a file capability is kept only where the container's capabilities hold it, and the restricted profile lets a container add none but NET_BIND_SERVICE; the container is left alone",
            c.who(workload),
            others.join(", "),
            dockerfile.display()
        );
        findings.push(Finding::new(&rules::FILE_CAPABILITY, c.line, message));
        names.push(c.name.clone());
    }
    names
}
