//! Why a YAML file holds nothing harden hardens, when it does not: no workload (a Compose file,
//! an OLM bundle, an OpenShift Template, another API's kinds), or workloads of a removed API.

use yaml_serde::Value;

use super::workload;

/// Why `docs` hold nothing to harden, or `None` when they hold a workload harden can change.
pub(super) fn reason(docs: &[Value]) -> Option<String> {
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d.get("kind").and_then(Value::as_str)).collect();
    let workloads: Vec<&Value> = docs.iter().filter(|d| is_workload(d)).collect();
    if let Some((api, release)) = workloads.first().and_then(|d| workload::removed_api(d))
        && workloads.iter().all(|d| workload::removed_api(d).is_some())
    {
        return Some(format!(
            "its workloads use {api}, which Kubernetes {release} removed: no supported cluster applies the file as written, so hardening it changes nothing that runs"
        ));
    }
    // A kind with no name (`kind: Deployment`, `spec:` and nothing else): a patch a tool merges
    // onto an object (an apply patch, a strategic merge), which no cluster applies alone.
    let named =
        |d: &&Value| d.get("metadata").is_some_and(|m| m.get("name").is_some() || m.get("generateName").is_some());
    if !workloads.is_empty() && !workloads.iter().any(named) {
        return Some("a patch: its workloads name no object (no metadata.name), so a tool merges it onto one, and the object it is merged onto is where harden makes the change".into());
    }
    if !docs.iter().any(is_workload) {
        // A Compose file by what it holds, whatever its name (`compose/redis.yml`): services
        // with Compose's own keys, an image or a build (or, in an override file, only
        // `environment:` or `volumes:`); a server's configuration may list `services:` too.
        const COMPOSE_KEYS: &[&str] = &[
            "image",
            "build",
            "environment",
            "env_file",
            "volumes",
            "ports",
            "depends_on",
            "entrypoint",
            "healthcheck",
        ];
        let compose = docs.iter().any(|d| {
            d.get("services")
                .and_then(Value::as_mapping)
                .is_some_and(|services| services.values().any(|s| COMPOSE_KEYS.iter().any(|k| s.get(*k).is_some())))
        });
        return Some(match kinds.is_empty() {
            true if compose => "a Compose file (services:), not a Kubernetes manifest".into(),
            true => "not a Kubernetes manifest (no kind)".into(),
            // OLM's bundle carries the operator's Deployment inside, as operator-sdk wrote it.
            // The base operator-sdk starts from (`config/manifests/bases/`) is kept by hand and
            // holds no deployment: the generated copy takes them from the manifests.
            false if kinds.contains(&"ClusterServiceVersion") && !docs.iter().any(csv_deployments) => "an OLM ClusterServiceVersion with no deployments: the base operator-sdk fills in from the manifests harden edits when it renders the bundle, so no pod runs from it as it is".into(),
            false if kinds.contains(&"ClusterServiceVersion") => "an OLM ClusterServiceVersion: operator-sdk generates it, its deployments included, from the manifests harden edits (render the bundle again after them)".into(),
            false if docs.iter().any(openshift_template) => "an OpenShift Template: `oc process` fills in its parameters and makes its objects, so the file is not the manifest that runs".into(),
            // Flux's HelmRelease, Argo CD's Application: a chart kept elsewhere makes the pods.
            false if docs.iter().any(installs_chart) && docs.iter().all(|d| installs_chart(d) || !holds_pods(d)) => format!(
                "{}: it installs a chart from a chart repository with the values it holds, and that chart's templates make the pods; harden hardens a chart's own values.yaml where the chart is in the repository, not the values a release gives a chart kept elsewhere, so its pods are not checked",
                dedup(&docs.iter().filter(|d| installs_chart(d)).filter_map(|d| d.get("kind")?.as_str()).collect::<Vec<_>>()).join(", ")
            ),
            false => {
                // A kind named like a workload in another project's API (volcano's `Job`) says whose.
                // Where custom resources hold pod templates, they are the kinds to name.
                let with_pods = docs.iter().any(holds_pods);
                let named: Vec<String> = docs
                    .iter()
                    .filter(|d| !with_pods || holds_pods(d))
                    .filter_map(|d| {
                        let kind = d.get("kind").and_then(Value::as_str)?;
                        let api = d.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
                        Some(match workload::is_workload_kind(kind) {
                            true => format!("{kind} of {api}"),
                            false => kind.to_string(),
                        })
                    })
                    .collect();
                let named: Vec<&str> = named.iter().map(String::as_str).collect();
                match with_pods {
                    // JobSet, RayJob, LeaderWorkerSet: a controller makes the pods.
                    true => format!(
                        "custom resources whose controller makes pods from the templates they hold (kinds: {}): harden hardens Kubernetes' own workload kinds and Argo Rollouts' Rollout, not the pod templates of these kinds, so they are not checked",
                        dedup(&named).join(", ")
                    ),
                    false => format!("no workload to harden (kinds: {})", dedup(&named).join(", ")),
                }
            }
        });
    }
    None
}

/// Why a workload is a fragment another tool merges onto a base (a kustomize patch, listed or
/// commented out; the API server refuses it alone), when it is: a container names no image, or
/// it has no container at all (`hostNetwork: true` alone). The base is where harden edits, and
/// what the patch adds beside it is merged there too.
pub(super) fn patch_fragment(workload: &workload::Workload<'_>) -> Option<String> {
    let id = workload.id();
    if workload.containers.is_empty() {
        return Some(format!("{id} has no containers"));
    }
    let (unnamed, added): (Vec<_>, Vec<_>) = workload.containers.iter().partition(|c| c.value.get("image").is_none());
    if unnamed.is_empty() {
        return None;
    }
    let which = match added.is_empty() {
        true => "its containers".to_string(),
        false => format!("container {}", unnamed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")),
    };
    // A container the patch adds whole (a sidecar, with its image) is merged onto the base as it
    // is, unchecked here: said, so its absence from the findings is no verdict.
    let added = match added.as_slice() {
        [] => String::new(),
        [one] => format!(" (the container {} it adds is not checked here)", one.name),
        more => format!(
            " (the containers {} it adds are not checked here)",
            more.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    Some(format!("{id} names no image for {which}{added}"))
}

/// True for a ClusterServiceVersion that holds deployments (`spec.install.spec.deployments`).
fn csv_deployments(doc: &Value) -> bool {
    let deployments = doc.get("spec").and_then(|s| s.get("install")?.get("spec")?.get("deployments"));
    deployments.and_then(Value::as_sequence).is_some_and(|d| !d.is_empty())
}

/// True for an OpenShift Template (`template.openshift.io/v1`, or the old `v1` one with its
/// `objects:`), not another API's kind of that name (`tinkerbell.org/v1alpha1` `Template`).
fn openshift_template(doc: &Value) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    doc.get("kind").and_then(Value::as_str) == Some("Template")
        && (api.starts_with("template.openshift.io/") || doc.get("objects").is_some())
}

/// True for a document that installs a chart kept elsewhere with values of its own: Flux's
/// HelmRelease, or Argo CD's Application or ApplicationSet whose source names a `chart`.
fn installs_chart(doc: &Value) -> bool {
    fn names_chart(value: &Value) -> bool {
        match value {
            Value::Mapping(map) => map.iter().any(|(k, v)| k.as_str() == Some("chart") || names_chart(v)),
            Value::Sequence(items) => items.iter().any(names_chart),
            _ => false,
        }
    }
    match doc.get("kind").and_then(Value::as_str) {
        Some("HelmRelease") => true,
        Some("Application" | "ApplicationSet") => doc.get("spec").is_some_and(names_chart),
        _ => false,
    }
}

/// True when a document holds containers anywhere (a pod template inside a custom resource, a
/// Tekton Task's steps;
/// an Argo Workflow template's single `container:` or `script:` with an image; a `template:`
/// whose container the controller gives its image).
fn holds_pods(value: &Value) -> bool {
    match value {
        Value::Mapping(map) => map.iter().any(|(key, child)| {
            // Tekton's Task and TaskRun run their `steps` (and `sidecars`) as a pod's containers.
            let containers = matches!(key.as_str(), Some("containers" | "steps" | "sidecars"))
                && child.as_sequence().is_some_and(|list| list.iter().any(|c| c.get("image").is_some()));
            let single = matches!(key.as_str(), Some("container" | "script")) && child.get("image").is_some();
            // A pod template whose controller supplies the image (Argo Events' EventSource and
            // Sensor: `template: {container: {volumeMounts: …}}`).
            let template = key.as_str() == Some("template")
                && (child.get("container").is_some_and(Value::is_mapping)
                    || child.get("containers").is_some_and(Value::is_sequence));
            containers || single || template || holds_pods(child)
        }),
        Value::Sequence(items) => items.iter().any(holds_pods),
        _ => false,
    }
}

/// True for a document of a workload kind.
pub(super) fn is_workload(doc: &Value) -> bool {
    workload::kind_of(doc).is_some()
}

/// The kinds in their order, each once.
fn dedup<'a>(kinds: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for k in kinds {
        if !out.contains(k) {
            out.push(k);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::reason;

    fn docs(text: &str) -> Vec<yaml_serde::Value> {
        text.split("---\n").map(|d| yaml_serde::from_str(d).unwrap()).collect()
    }

    #[test]
    fn a_release_of_a_chart_kept_elsewhere_says_its_chart_makes_the_pods() {
        let release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values:\n    controllers:\n      app:\n        containers:\n          app:\n            image: {repository: ghcr.io/acme/app}\n---\nkind: OCIRepository\n";
        let why = reason(&docs(release)).unwrap();
        assert!(why.starts_with("HelmRelease: it installs a chart") && why.contains("not checked"), "{why}");
        let runner = "kind: AutoscalingRunnerSet\nspec:\n  template:\n    spec:\n      containers:\n        - image: ghcr.io/acme/runner\n";
        assert!(reason(&docs(runner)).unwrap().starts_with("custom resources whose controller makes pods"));
        assert_eq!(reason(&docs("kind: Namespace\n")).unwrap(), "no workload to harden (kinds: Namespace)");
        let directory = "kind: Application\nspec:\n  source:\n    path: apps/web\n";
        assert_eq!(reason(&docs(directory)).unwrap(), "no workload to harden (kinds: Application)");
        let task = "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps:\n    - name: build\n      image: golang:1.26\n      script: go build ./...\n";
        let why = reason(&docs(task)).unwrap();
        assert!(
            why.starts_with("custom resources whose controller makes pods") && why.contains("(kinds: Task)"),
            "{why}"
        );
    }
}
