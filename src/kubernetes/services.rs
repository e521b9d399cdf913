//! The Services of a file that send traffic to a workload's pods: a numbered target port below
//! 1024 (or, without a target port, the Service's own port) is a port the pod's program binds,
//! even when its container declares none.

use yaml_serde::Value;

use super::workload::Workload;

/// The (Service name, port) of each Service in `docs` whose selector picks the workload's pods
/// and whose traffic goes to a numbered port below 1024.
pub fn low_ports(docs: &[Value], workload: &Workload<'_>) -> Vec<(String, u64)> {
    let Some(labels) = pod_labels(&docs[workload.doc], workload.pod_path) else { return Vec::new() };
    let mut found = Vec::new();
    for service in docs.iter().filter(|d| d.get("kind").and_then(Value::as_str) == Some("Service")) {
        let spec = service.get("spec");
        let Some(selector) = spec.and_then(|s| s.get("selector")).and_then(Value::as_mapping) else { continue };
        let picks = !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v));
        if !picks {
            continue;
        }
        let name = service.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("unnamed");
        for port in spec.and_then(|s| s.get("ports")).and_then(Value::as_sequence).into_iter().flatten() {
            // A named target port is a containerPort's name: the container says it itself.
            let target = match port.get("targetPort") {
                Some(target) => target.as_u64(),
                None => port.get("port").and_then(Value::as_u64),
            };
            if let Some(target) = target.filter(|p| (1..1024).contains(p)) {
                found.push((name.to_string(), target));
            }
        }
    }
    found
}

/// The labels of the pods a workload makes: the `metadata` beside its pod spec.
fn pod_labels<'v>(doc: &'v Value, pod_path: &[&str]) -> Option<&'v yaml_serde::Mapping> {
    let template = pod_path[..pod_path.len().saturating_sub(1)].iter().try_fold(doc, |v, key| v.get(*key))?;
    template.get("metadata")?.get("labels")?.as_mapping()
}
