//! Containers whose image's binary carries file capabilities (`setcap`): the restricted profile's
//! `allowPrivilegeEscalation: false` sets no_new_privs, under which exec grants no file
//! capability, so the program would lose what its Dockerfile gave it.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::workload::Workload;
use crate::rules;

/// The containers (not left alone already) that run an image the repository builds whose
/// binary gets capabilities from `setcap`, each reported.
pub(in crate::kubernetes) fn file_capability_containers(
    workload: &Workload<'_>,
    alone: &[String],
    context: &crate::kubernetes::Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let mut names = Vec::new();
    for c in workload.containers.iter().filter(|c| !alone.contains(&c.name)) {
        let Some(image) = c.value.get("image").and_then(Value::as_str) else { continue };
        let name = crate::orchestration::image_name(context.running(image));
        let Some((dockerfile, line, caps)) = context.image_file_capabilities.get(&name) else { continue };
        let instead = match caps.iter().any(|c| c == "NET_BIND_SERVICE") {
            true => {
                "; to harden it, let the pod bind low ports with the sysctl net.ipv4.ip_unprivileged_port_start and drop the setcap step"
            }
            false => "",
        };
        let message = format!(
            "{} runs {image}, whose binary gets {} from setcap ({}:{line}): exec grants a file capability only where new privileges are allowed, so allowPrivilegeEscalation: false would take it away; the container is left alone{instead}",
            c.who(workload),
            caps.join(", "),
            dockerfile.display()
        );
        findings.push(Finding::new(&rules::FILE_CAPABILITY, c.line, message));
        names.push(c.name.clone());
    }
    names
}
