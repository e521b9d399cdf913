//! Containers that open a raw block device (`volumeDevices`, a PersistentVolumeClaim in
//! `volumeMode: Block`): the kubelet gives a block device no fsGroup, so it stays root's and the
//! disk group's, and a user harden chooses could not open it.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::workload::Workload;
use crate::rules;

/// The containers (not left alone already) that use a raw block device while neither they nor
/// their pod choose a user: each is reported and left alone.
pub(in crate::kubernetes) fn block_device_containers(
    workload: &Workload<'_>,
    alone: &[String],
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let pod_chooses = workload.pod_value.get("securityContext").is_some_and(super::chooses_user);
    let mut names = Vec::new();
    for c in workload.containers.iter().filter(|c| !alone.contains(&c.name)) {
        let devices: Vec<&str> = c
            .value
            .get("volumeDevices")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|d| d.get("devicePath").and_then(Value::as_str))
            .collect();
        if devices.is_empty() || pod_chooses || c.value.get("securityContext").is_some_and(super::chooses_user) {
            continue;
        }
        let message = format!(
            "{} opens the raw block device {} (volumeDevices): the kubelet gives a block device no fsGroup, so only root or the device's group may open it, and no user harden chooses could; the container is left alone (to run it as another user, give that user the device's group in supplementalGroups)",
            c.who(workload),
            devices.join(", ")
        );
        findings.push(Finding::new(&rules::BLOCK_DEVICE, c.line, message));
        names.push(c.name.clone());
    }
    names
}
