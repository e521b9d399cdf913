//! What a kustomize patch does to the workloads it aims at that harden must respect: runs them
//! as root, replaces a securityContext or the volumes whole, merges restricted fields in, or
//! lists containers (a sidecar it adds, which a pod-level user would reach too).

use yaml_serde::Value;

use super::has_key;
use crate::rules;

/// What a kustomize patch does to a workload that harden must not undo or lose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patched {
    /// The workloads' name, as the patch's target gives it: a regular expression kustomize
    /// matches against the whole name (`nfd.*`), or the name its own document gives.
    pub name: String,
    /// What it does to the workload.
    pub effect: Effect,
    /// What it does, in words: `sets runAsUser: 0`, `replaces /spec/template/spec/volumes`.
    pub what: String,
    /// The patch file, relative to the repository, once the kustomization that lists it is read.
    pub file: String,
    /// The fields of the restricted profile it sets, which the workload does not lack where
    /// kustomize builds it.
    pub sets: Vec<PatchedField>,
    /// The containers it lists (a strategic merge patch's, by name) that choose no non-root
    /// user of their own: one the workload's manifest does not have is one the patch adds, which
    /// a pod-level user or `runAsNonRoot` would reach too.
    pub containers: Vec<String>,
}

/// What a patch does to a workload's security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// It runs the workload as root (`runAsUser: 0`).
    Root,
    /// It replaces a securityContext, the volumes or the volume mounts whole (JSON 6902
    /// `add`/`replace`), dropping what harden would add there.
    Replaces,
    /// It merges fields into securityContexts (a strategic merge patch): what it sets is there
    /// where kustomize builds the workload, and what it leaves out is harden's to add.
    Merges,
    /// It merges fields into securityContexts in an overlay that builds the workload from a
    /// base elsewhere: what it sets is there only where the overlay builds it, and left out on
    /// purpose where the base is built otherwise, so harden does not add it to the base.
    MergesElsewhere,
    /// It lists containers, and sets nothing harden reads (a sidecar a strategic merge patch adds).
    Lists,
}

/// A field of the restricted profile a patch sets, on the pod or on one of its `containers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchedField {
    /// The container it is set on: its index in `containers` (a JSON 6902 path) or its name (a
    /// strategic merge patch); `None` for the pod.
    pub container: Option<ContainerRef>,
    /// The id of the rule that asks for it (`HK201` for `runAsNonRoot: true`).
    pub rule: &'static str,
}

/// A container of `containers`, as a patch names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerRef {
    /// By its index (`/spec/template/spec/containers/0/securityContext`).
    Index(usize),
    /// By its name, which a strategic merge matches.
    Name(String),
}

impl Patched {
    /// What the patch is where the base it merges into is built from another kustomization's
    /// files (an overlay's patch): the fields it merges are there only where the overlay builds
    /// the workload ([`Effect::MergesElsewhere`]), and the containers it adds run in the pods the
    /// overlay builds ([`Effect::Lists`]).
    pub fn in_overlay(self) -> Vec<Patched> {
        if self.effect != Effect::Merges {
            return vec![self];
        }
        let mut out = Vec::new();
        if !self.containers.is_empty() {
            out.push(Patched { effect: Effect::Lists, sets: Vec::new(), ..self.clone() });
        }
        out.push(Patched { effect: Effect::MergesElsewhere, containers: Vec::new(), ..self });
        out
    }

    /// True when the patch applies to the workload named `name`.
    pub fn applies_to(&self, name: &str) -> bool {
        regex::Regex::new(&format!("^(?:{})$", self.name)).is_ok_and(|re| re.is_match(name))
    }
}

/// What a patch does that harden must respect, for the objects its own documents name (a
/// strategic merge patch), else for `target`, the name its kustomization entry aims it at (a JSON
/// 6902 patch, a list of operations).
pub fn patch_effects(patch: &str, target: Option<&str>) -> Vec<Patched> {
    let mut out = Vec::new();
    for doc in crate::kubernetes::documents_read(patch) {
        let named = doc.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str);
        let Some(name) = named.or(target).map(str::to_string) else { continue };
        let writes = doc.as_sequence().into_iter().flatten().filter_map(|op| {
            let kind = op.get("op")?.as_str()?;
            let path = op.get("path")?.as_str()?;
            let field = path.rsplit('/').next()?;
            (matches!(kind, "add" | "replace") && matches!(field, "securityContext" | "volumes" | "volumeMounts"))
                .then(|| (format!("replaces {path} (op: {kind})"), fields_set(path, op.get("value"))))
        });
        let writes: Vec<(String, Vec<PatchedField>)> = writes.collect();
        let mut sets: Vec<PatchedField> = writes.iter().flat_map(|(_, sets)| sets.iter().cloned()).collect();
        let merged = merged_fields(&doc);
        let containers = userless_containers(&doc);
        if has_key(&doc, "runAsUser", &|v| v.as_u64() == Some(0)) {
            // It sets the user (HK215 tells it): none is missing.
            sets.extend(merged);
            sets.push(PatchedField { container: None, rule: rules::RUN_AS_USER.id });
            out.push(Patched {
                name,
                file: String::new(),
                effect: Effect::Root,
                what: "sets runAsUser: 0".into(),
                sets,
                containers,
            });
        } else if let Some((what, _)) = writes.first() {
            out.push(Patched {
                name,
                file: String::new(),
                effect: Effect::Replaces,
                what: what.clone(),
                sets,
                containers,
            });
        } else if !merged.is_empty() {
            let what = "merges securityContext fields".into();
            out.push(Patched { name, file: String::new(), effect: Effect::Merges, what, sets: merged, containers });
        } else if !containers.is_empty() {
            let what = format!("lists containers {}", containers.join(", "));
            out.push(Patched { name, file: String::new(), effect: Effect::Lists, what, sets, containers });
        }
    }
    out
}

/// The restricted profile's fields a securityContext `value` written at `path` (the pod's, or
/// that of a container in `containers`) sets.
fn fields_set(path: &str, value: Option<&Value>) -> Vec<PatchedField> {
    let segments: Vec<&str> = path.split('/').collect();
    let container = match segments.as_slice() {
        [.., "containers", index, "securityContext"] => match index.parse() {
            Ok(index) => Some(ContainerRef::Index(index)),
            Err(_) => return Vec::new(),
        },
        [.., "spec", "securityContext"] => None,
        _ => return Vec::new(),
    };
    value.map(|value| restricted_fields(value, container)).unwrap_or_default()
}

/// The containers a strategic merge patch `doc` lists that choose no non-root user themselves
/// (neither `runAsNonRoot: true` nor a `runAsUser` above 0), by name.
fn userless_containers(doc: &Value) -> Vec<String> {
    let pod = doc.get("spec").and_then(|s| s.get("template")).and_then(|t| t.get("spec"));
    let lists = ["containers", "initContainers"].into_iter().filter_map(|key| pod?.get(key)?.as_sequence());
    let chooses = |sc: Option<&Value>| {
        let get = |key: &str| sc.and_then(|s| s.get(key));
        get("runAsNonRoot").and_then(Value::as_bool) == Some(true) || get("runAsUser").and_then(Value::as_u64) > Some(0)
    };
    lists
        .flatten()
        .filter(|c| !chooses(c.get("securityContext")))
        .filter_map(|c| Some(c.get("name")?.as_str()?.to_string()))
        .collect()
}

/// The restricted profile's fields a strategic merge patch `doc` sets in its pod's securityContext
/// and in those of its containers, named.
fn merged_fields(doc: &Value) -> Vec<PatchedField> {
    let Some(pod) = doc.get("spec").and_then(|s| s.get("template")).and_then(|t| t.get("spec")) else {
        return Vec::new();
    };
    let mut out: Vec<PatchedField> =
        pod.get("securityContext").map(|sc| restricted_fields(sc, None)).unwrap_or_default();
    for container in pod.get("containers").and_then(Value::as_sequence).into_iter().flatten() {
        if let (Some(name), Some(sc)) =
            (container.get("name").and_then(Value::as_str), container.get("securityContext"))
        {
            out.extend(restricted_fields(sc, Some(ContainerRef::Name(name.to_string()))));
        }
    }
    out
}

/// The restricted profile's fields a securityContext `value` sets, on `container` (the pod's
/// for `None`).
fn restricted_fields(value: &Value, container: Option<ContainerRef>) -> Vec<PatchedField> {
    let is = |key: &str, want: bool| value.get(key).and_then(Value::as_bool) == Some(want);
    let id_at_least = |key: &str, low: u64| value.get(key).and_then(Value::as_u64).is_some_and(|id| id >= low);
    let drops = value.get("capabilities").and_then(|c| c.get("drop")).and_then(Value::as_sequence);
    let seccomp = value.get("seccompProfile").and_then(|p| p.get("type")).and_then(Value::as_str);
    [
        (&rules::RUN_AS_NON_ROOT, is("runAsNonRoot", true)),
        (&rules::RUN_AS_USER, id_at_least("runAsUser", 10000)),
        (&rules::RUN_AS_GROUP, id_at_least("runAsGroup", 1)),
        (&rules::SECCOMP, matches!(seccomp, Some("RuntimeDefault" | "Localhost"))),
        (&rules::PRIVILEGE_ESCALATION, is("allowPrivilegeEscalation", false)),
        (&rules::CAPABILITIES, drops.is_some_and(|d| d.iter().any(|c| c.as_str() == Some("ALL")))),
        (&rules::WRITABLE_ROOT, is("readOnlyRootFilesystem", true)),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(rule, _)| PatchedField { container: container.clone(), rule: rule.id })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_which_objects_a_patch_runs_as_root_or_whose_fields_it_replaces() {
        let kustomization =
            "kind: Component\npatches:\n- path: root.yaml\n  target:\n    name: updater\n- path: merge.yaml\n";
        let targets: Vec<(String, Option<String>)> =
            super::super::patch_targets(kustomization).into_iter().map(|t| (t.path, t.name)).collect();
        assert_eq!(targets, [("root.yaml".to_string(), Some("updater".to_string())), ("merge.yaml".to_string(), None)]);
        let ops = "- op: add\n  path: /spec/template/spec/containers/0/securityContext\n  value:\n    runAsUser: 0\n    allowPrivilegeEscalation: false\n";
        let sets = vec![
            PatchedField { container: Some(ContainerRef::Index(0)), rule: "HK205" },
            PatchedField { container: None, rule: "HK202" },
        ];
        let what = "sets runAsUser: 0".into();
        let root = Patched {
            name: "updater".into(),
            file: String::new(),
            effect: Effect::Root,
            what,
            sets,
            containers: Vec::new(),
        };
        assert_eq!(patch_effects(ops, Some("updater")), [root]);
        let merge = "kind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsUser: 0\n";
        assert_eq!(patch_effects(merge, None)[0].name, "agent");
        let sidecar = "kind: Deployment\nmetadata:\n  name: controller-manager\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-rbac-proxy\n        image: gcr.io/kubebuilder/kube-rbac-proxy:v0.4.1\n      - name: manager\n        args: [--metrics-addr=127.0.0.1:8080]\n      - name: agent\n        securityContext:\n          runAsUser: 1000\n";
        let listed = &patch_effects(sidecar, None)[0];
        assert_eq!(
            (listed.effect, listed.containers.as_slice()),
            (Effect::Lists, ["kube-rbac-proxy", "manager"].map(String::from).as_slice()),
            "but one that chooses its user"
        );
        let mounts = "- op: add\n  path: /spec/template/spec/volumes\n  value: []\n";
        let replaced = &patch_effects(mounts, Some("nfd.*"))[0];
        assert_eq!(
            (replaced.effect, replaced.what.as_str()),
            (Effect::Replaces, "replaces /spec/template/spec/volumes (op: add)")
        );
        assert!(replaced.applies_to("nfd-worker") && !replaced.applies_to("other-nfd-worker"));
        assert!(patch_effects("- op: add\n  path: /x\n  value: {runAsUser: 1000}\n", Some("updater")).is_empty());
    }

    #[test]
    fn tells_which_restricted_fields_a_replacing_patch_sets_and_where() {
        let ops = "- op: add\n  path: /spec/template/spec/containers/1/securityContext\n  value:\n    allowPrivilegeEscalation: false\n    capabilities: {drop: [ALL]}\n    readOnlyRootFilesystem: false\n    runAsNonRoot: true\n    runAsUser: 1000\n- op: replace\n  path: /spec/template/spec/securityContext\n  value: {seccompProfile: {type: RuntimeDefault}, runAsUser: 65532, runAsGroup: 65532}\n";
        let sets = &patch_effects(ops, Some("api"))[0].sets;
        let at = |container: Option<ContainerRef>| {
            sets.iter().filter(|f| f.container == container).map(|f| f.rule).collect::<Vec<_>>()
        };
        assert_eq!(
            at(Some(ContainerRef::Index(1))),
            ["HK201", "HK205", "HK206"],
            "a low user and a writable root are not what is asked"
        );
        assert_eq!(at(None), ["HK202", "HK203", "HK204"]);
        let merge = "kind: Deployment\nmetadata:\n  name: controller\nspec:\n  template:\n    spec:\n      containers:\n      - name: manager\n        securityContext:\n          readOnlyRootFilesystem: true\n          allowPrivilegeEscalation: false\n";
        let merged = &patch_effects(merge, None)[0];
        assert_eq!(merged.effect, Effect::Merges);
        let manager = Some(ContainerRef::Name("manager".into()));
        assert_eq!(
            merged.sets.iter().map(|f| (f.container.clone(), f.rule)).collect::<Vec<_>>(),
            [(manager.clone(), "HK205"), (manager, "HK207")]
        );
        let lower = "- op: add\n  path: /spec/template/spec/containers/0/securityContext\n  value: {capabilities: {drop: [all]}}\n";
        assert!(patch_effects(lower, Some("api"))[0].sets.is_empty(), "Pod Security admission reads only ALL");
    }
}
