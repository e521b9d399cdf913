//! Containers of LinuxServer.io's images. Their s6-overlay init starts as root (through a setuid
//! helper, `s6-overlay-suexec`, when the pod chooses a user), prepares the container (it writes
//! `/run`, owns `/config`) and only then drops to the user `PUID` and `PGID` name: without
//! privilege escalation, its capabilities or a writable root it stops before the program starts.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::workload::Workload;
use crate::orchestration::linuxserver_image;
use crate::rules;

/// The containers (not left alone already) that run a LinuxServer.io image
/// (`lscr.io/linuxserver/…`, `linuxserver/…`, `ghcr.io/linuxserver/…`), each reported and left
/// alone, whatever user the manifest chooses.
pub(in crate::kubernetes) fn s6_overlay_containers(
    workload: &Workload<'_>,
    alone: &[String],
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    super::leave_each(workload, alone, findings, |c| {
        let image = c.value.get("image").and_then(Value::as_str).filter(|i| linuxserver_image(i))?;
        let message = format!(
            "{} runs {image}, a LinuxServer.io image: its s6-overlay init starts as root (through a setuid helper when the pod chooses a user), writes /run and then drops to the user PUID and PGID name; without privilege escalation, its capabilities or a writable root it would not start, so the container is left alone",
            c.who(workload)
        );
        Some((&rules::IMAGE_STARTS_AS_ROOT, message))
    })
}

#[cfg(test)]
mod tests {
    use crate::orchestration::linuxserver_image;

    #[test]
    fn linuxserver_images_are_known_on_any_registry() {
        for image in
            ["lscr.io/linuxserver/pairdrop:1.10.7", "linuxserver/sonarr", "ghcr.io/linuxserver/radarr@sha256:ab"]
        {
            assert!(linuxserver_image(image), "{image}");
        }
        for image in ["ghcr.io/acme/linuxserver:1.0", "linuxserver", "nginx:1.27"] {
            assert!(!linuxserver_image(image), "{image}");
        }
    }
}
