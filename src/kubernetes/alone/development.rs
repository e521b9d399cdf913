//! Containers whose image a Tiltfile also builds, as root, for its development cluster: Tilt
//! runs the repository's manifests with that image, where harden's `runAsNonRoot` would stop
//! the pods from starting.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::workload::Workload;
use crate::rules;

/// The containers (not left alone already) that run an image a Tiltfile builds as root, when
/// nothing in the manifest chooses a user: they are left alone, each with the call that builds it.
pub(in crate::kubernetes) fn development_root_containers(
    workload: &Workload<'_>,
    alone: &[String],
    context: &crate::kubernetes::Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    super::leave_userless(workload, alone, findings, |c| {
        let image = c.value.get("image").and_then(Value::as_str)?;
        let origin = context.development_root_images.get(&context.image_key(image))?;
        let message = format!(
            "{} runs {image}, which {origin} also builds for its development cluster, from a Dockerfile with no USER: there it runs as root, and harden's runAsNonRoot would stop Tilt's pods from starting; the container is left alone (a numeric USER in that Dockerfile lets harden harden it)",
            c.who(workload)
        );
        Some((&rules::IMAGE_KEEPS_ROOT, message))
    })
}
