//! Workloads: the documents that run pods, and where their pod spec and containers are.

use yaml_serde::Value;

use crate::lines::LineIndex;
use crate::rules_off;

use super::tree::{Node, column};

/// The workload kinds harden hardens, with the path from the document root to the pod spec.
pub const KINDS: &[(&str, &[&str])] = &[
    ("Deployment", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("ReplicationController", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    ("CronJob", &["spec", "jobTemplate", "spec", "template", "spec"]),
    ("Pod", &["spec"]),
    // Argo Rollouts' Deployment (one that points at a Deployment by `workloadRef` has no pod).
    ("Rollout", &["spec", "template", "spec"]),
];

/// True for a kind of [`KINDS`].
pub fn is_workload_kind(kind: &str) -> bool {
    KINDS.iter().any(|(k, _)| *k == kind)
}

/// The kinds a YAML text's `kind:` lines name, at any depth and in lists too (`- kind:
/// "DaemonSet"`), read without parsing it.
pub fn kinds_written(text: &str) -> impl Iterator<Item = &str> {
    let kinds = text.lines().filter_map(|line| line.trim_start_matches([' ', '-']).strip_prefix("kind:"));
    kinds.map(|kind| kind.trim().trim_matches(['"', '\'']))
}

/// The annotation that opts a whole workload out.
pub const SKIP_ANNOTATION: &str = "harden.dev/skip";
/// The annotation that opts named containers out (comma-separated names).
pub const SKIP_CONTAINERS_ANNOTATION: &str = "harden.dev/skip-containers";

/// One workload in a file.
pub struct Workload<'a> {
    /// Index of its document in the file.
    pub doc: usize,
    /// `Deployment`, `CronJob`…
    pub kind: &'static str,
    /// `metadata.name`.
    pub name: String,
    /// 1-based line of its `kind:`.
    pub line: usize,
    /// Path from the document root to the pod spec.
    pub pod_path: &'static [&'static str],
    /// The pod spec, positioned.
    pub pod: &'a Node,
    /// The pod spec, as values.
    pub pod_value: &'a Value,
    /// The lines of the file it is in, which place its keys.
    pub lines: &'a LineIndex,
    /// The workload's annotations.
    pub annotations: Vec<(String, String)>,
    /// Containers and init containers.
    pub containers: Vec<Container<'a>>,
    /// A StatefulSet's `volumeClaimTemplates`, each pod's persistent volumes: each name with
    /// its storage class.
    pub claim_templates: Vec<(String, Option<String>)>,
    /// The (Service, port) of the file's Services that send to its pods on a port below 1024.
    pub service_ports: Vec<(String, u64)>,
}

/// One container or init container of a workload.
pub struct Container<'a> {
    /// `containers` or `initContainers`.
    pub list: &'static str,
    /// Index in its list.
    pub index: usize,
    /// Its `name`.
    pub name: String,
    /// 1-based line of its first key.
    pub line: usize,
    /// Column of its keys.
    pub column: usize,
    /// The container, positioned.
    pub node: &'a Node,
    /// The container, as values.
    pub value: &'a Value,
}

impl Container<'_> {
    /// The container as messages name it: `Deployment/api container app`, `… init container setup`.
    pub fn who(&self, workload: &Workload<'_>) -> String {
        let kind = if self.list == "initContainers" { "init container" } else { "container" };
        format!("{} {kind} {}", workload.id(), self.name)
    }

    /// Where the container mounts a persistent volume it may write (a `persistentVolumeClaim`,
    /// an `ephemeral` claim, a StatefulSet's claim template; not `readOnly`): a fresh one's root
    /// is root's, so another user writes there only with an `fsGroup`.
    pub fn persistent_mount<'v>(&'v self, workload: &Workload<'_>) -> Option<&'v str> {
        let volumes = workload.pod_value.get("volumes").and_then(Value::as_sequence).into_iter().flatten();
        let claimed: Vec<&str> = volumes
            .filter(|v| v.get("persistentVolumeClaim").is_some() || v.get("ephemeral").is_some())
            .filter_map(|v| v.get("name")?.as_str())
            .collect();
        let mounts = self.value.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
        mounts.filter(|m| m.get("readOnly").and_then(Value::as_bool) != Some(true)).find_map(|m| {
            let name = m.get("name")?.as_str()?;
            let persistent = claimed.contains(&name) || workload.claim_templates.iter().any(|(t, _)| t == name);
            persistent.then(|| m.get("mountPath")?.as_str()).flatten()
        })
    }
}

impl Workload<'_> {
    /// True when the pod mounts a persistent volume: a `persistentVolumeClaim` volume, or a
    /// StatefulSet's `volumeClaimTemplates`.
    pub fn mounts_persistent_volume(&self) -> bool {
        let claims = self.pod_value.get("volumes").and_then(Value::as_sequence).into_iter().flatten();
        let claimed = claims.into_iter().any(|v| v.get("persistentVolumeClaim").is_some());
        claimed || !self.claim_templates.is_empty()
    }

    /// The 1-based line of the key `path` leads to below `node` (the pod spec, a container, one
    /// of their list items), where a finding about that key belongs.
    pub fn key_line(&self, node: &Node, path: &[&str]) -> Option<usize> {
        let (last, parents) = path.split_last()?;
        let parent = parents.iter().try_fold(node, |n, key| n.get(key))?;
        Some(self.lines.line_of(parent.entry(last)?.key_range.start))
    }

    /// `Kind/name`, as configuration and messages name it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The annotation `key`, if set.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The rules its `harden.dev/ignore` annotation turns off for it, or what is wrong with the list.
    pub fn ignored_rules(&self) -> Result<Vec<&'static str>, String> {
        let Some(list) = self.annotation(rules_off::ANNOTATION) else { return Ok(Vec::new()) };
        rules_off::parse_ids(list)
            .map_err(|e| format!("{e} in the {} annotation of {}", rules_off::ANNOTATION, self.id()))
    }
}

/// The kind of a document that is a workload of [`KINDS`]: in Kubernetes' own API groups (Argo
/// Rollouts' for `Rollout`), or in another's with the same pod template (OpenKruise's
/// `StatefulSet`); a `Job` of `batch.volcano.sh`, with its pods under `tasks`, is not one.
pub fn kind_of(value: &Value) -> Option<&str> {
    let kind = value.get("kind")?.as_str()?;
    let (_, pod_path) = KINDS.iter().find(|(k, _)| *k == kind)?;
    let api = value.get("apiVersion").and_then(Value::as_str).unwrap_or("v1");
    let group = api.split_once('/').map_or("", |(group, _)| group);
    let own = matches!(group, "" | "apps" | "batch" | "extensions" | "argoproj.io");
    let pod = pod_path.iter().try_fold(value, |v, key| v.get(*key));
    (own || pod.is_some_and(Value::is_mapping)).then_some(kind)
}

/// The pod spec of a workload document (one [`kind_of`] knows), where [`KINDS`] says it is.
pub fn pod_spec(value: &Value) -> Option<&Value> {
    let kind = kind_of(value)?;
    let (_, pod_path) = KINDS.iter().find(|(k, _)| *k == kind)?;
    pod_path.iter().try_fold(value, |v, key| v.get(*key))
}

/// True when a container's securityContext sets `privileged: true`: it has every capability
/// and the node's devices.
pub fn is_privileged(container: &Value) -> bool {
    let sc = container.get("securityContext");
    sc.and_then(|sc| sc.get("privileged")).and_then(Value::as_bool) == Some(true)
}

/// The API version a workload document uses that Kubernetes has removed, with the release that
/// removed it (`extensions/v1beta1`, 1.16): no supported cluster applies it as written.
pub fn removed_api(value: &Value) -> Option<(&str, &'static str)> {
    kind_of(value)?;
    let api = value.get("apiVersion")?.as_str()?;
    let removed_in = match api {
        "extensions/v1beta1" | "apps/v1beta1" | "apps/v1beta2" => "1.16",
        "batch/v1beta1" | "batch/v2alpha1" => "1.25",
        _ => return None,
    };
    Some((api, removed_in))
}

/// The workload a document holds, if it is one of [`KINDS`] with a pod spec.
pub fn find<'a>(
    text: &str,
    lines: &'a LineIndex,
    doc: usize,
    value: &'a Value,
    node: &'a Node,
) -> Option<Workload<'a>> {
    let kind_value = kind_of(value)?;
    let &(kind, pod_path) = KINDS.iter().find(|(k, _)| *k == kind_value)?;
    let mut pod = node;
    let mut pod_value = value;
    for key in pod_path {
        pod = pod.get(key)?;
        pod_value = pod_value.get(*key)?;
    }
    if !matches!(pod, Node::Map { .. }) {
        return None;
    }
    let metadata = value.get("metadata");
    // A name the API server completes (`generateName: migrate-`) is shown as written.
    let name = metadata
        .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
        .and_then(Value::as_str)
        .unwrap_or("unnamed")
        .to_string();
    let annotations = metadata
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_mapping)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), scalar_text(v)?))).collect())
        .unwrap_or_default();
    let mut containers = Vec::new();
    for list in ["initContainers", "containers"] {
        let (Some(items), Some(values)) = (pod.get(list), pod_value.get(list).and_then(Value::as_sequence)) else {
            continue;
        };
        for (index, (node, value)) in items.items().iter().zip(values).enumerate() {
            let Node::Map { entries, .. } = node else { continue };
            let Some(first) = entries.first() else { continue };
            containers.push(Container {
                list,
                index,
                name: value.get("name").and_then(Value::as_str).unwrap_or("unnamed").to_string(),
                line: lines.line_of(first.key_range.start),
                column: column(text, first.key_range.start),
                node,
                value,
            });
        }
    }
    let line = node.entry("kind").map_or(1, |e| lines.line_of(e.key_range.start));
    let templates = value.get("spec").and_then(|s| s.get("volumeClaimTemplates")).and_then(Value::as_sequence);
    let claim_templates = (templates.into_iter().flatten())
        .map(|t| {
            let name = t.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("unnamed");
            let class = t.get("spec").and_then(|s| s.get("storageClassName")).and_then(Value::as_str);
            (name.to_string(), class.map(str::to_string))
        })
        .collect();
    let service_ports = Vec::new();
    Some(Workload {
        doc,
        kind,
        name,
        line,
        pod_path,
        pod,
        pod_value,
        lines,
        annotations,
        containers,
        claim_templates,
        service_ports,
    })
}

/// A scalar value as text (`"true"`, `true` and `yes` all read as written).
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
