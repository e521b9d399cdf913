//! Kustomize: the files a kustomization merges onto its bases as patches. A patch is a fragment
//! (often without containers or an image) whose missing parts come from the base, so harden
//! edits the base and never a patch; and a patch that asks for `runAsNonRoot` without a user
//! (OpenShift's overlays do) leaves the user to the platform, so the base it patches gets none.
//! A kustomization's `images:` also gives the tag or digest its manifests' images run with.

use yaml_serde::Value;

mod patch_effects;
mod patched_images;
pub use patch_effects::{ContainerRef, Effect, Patched, PatchedField, patch_effects};
pub use patched_images::patched_images;

/// The names kustomize reads a directory's kustomization from.
pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The patch files a kustomization lists (`patchesStrategicMerge`, `patches[].path`,
/// `patchesJson6902[].path`), as written (relative to the kustomization's directory). Inline
/// patches and unreadable kustomizations give none.
pub fn patch_paths(kustomization: &str) -> Vec<String> {
    let Ok(value) = yaml_serde::from_str::<Value>(kustomization) else { return Vec::new() };
    let mut paths = Vec::new();
    for key in ["patchesStrategicMerge", "patches", "patchesJson6902"] {
        for entry in value.get(key).and_then(Value::as_sequence).into_iter().flatten() {
            let path = entry.as_str().or_else(|| entry.get("path").and_then(Value::as_str));
            // patchesStrategicMerge also takes an inline patch as a string.
            if let Some(path) = path.filter(|p| !p.contains('\n') && !p.trim_start().starts_with(['{', '-'])) {
                paths.push(path.to_string());
            }
        }
    }
    paths
}

/// The files a kustomization's `configMapGenerator` and `secretGenerator` put into a ConfigMap or
/// Secret (`files: [helperPod.yaml, key=path]`), as written, each with its generator's key: data
/// a program reads, not manifests applied.
pub fn generator_files(kustomization: &str) -> Vec<(&'static str, String)> {
    let Ok(value) = yaml_serde::from_str::<Value>(kustomization) else { return Vec::new() };
    let mut out = Vec::new();
    for key in ["configMapGenerator", "secretGenerator"] {
        for generator in value.get(key).and_then(Value::as_sequence).into_iter().flatten() {
            for file in generator.get("files").and_then(Value::as_sequence).into_iter().flatten() {
                if let Some(file) = file.as_str() {
                    let path = file.split_once('=').map_or(file, |(_, path)| path);
                    out.push((key, path.trim().to_string()));
                }
            }
        }
    }
    out
}

/// The resources a kustomization builds on (`resources`, and the older `bases`), as written:
/// files and directories relative to its own directory (remote URLs left out).
pub fn resources(kustomization: &str) -> Vec<String> {
    let Ok(value) = yaml_serde::from_str::<Value>(kustomization) else { return Vec::new() };
    ["resources", "bases"]
        .iter()
        .filter_map(|key| value.get(*key).and_then(Value::as_sequence))
        .flatten()
        .filter_map(Value::as_str)
        .filter(|r| !r.contains("://") && !r.starts_with("github.com/"))
        .map(str::to_string)
        .collect()
}

/// The components a kustomization takes in (`components`), as written: directories relative to
/// its own directory, each with a kustomization of `kind: Component` whose `images:` and
/// patches apply to what the kustomization builds.
pub fn components(kustomization: &str) -> Vec<String> {
    let Ok(value) = yaml_serde::from_str::<Value>(kustomization) else { return Vec::new() };
    let listed = value.get("components").and_then(Value::as_sequence).into_iter().flatten();
    listed.filter_map(Value::as_str).filter(|c| !c.contains("://")).map(str::to_string).collect()
}

/// The kinds a patch changes, when none is a workload's (`CustomResourceDefinition`, a
/// scorecard `Configuration`): those its documents name (a strategic merge patch), else its
/// entry's `target` kind (a JSON 6902 patch, a list of operations). `None` when a workload is
/// among them or no kind is told.
pub fn patched_kinds_without_workload(patch: &str, target: &PatchTarget) -> Option<String> {
    let docs = super::documents_read(patch);
    let mut kinds: Vec<String> = docs.filter_map(|doc| doc.get("kind")?.as_str().map(str::to_string)).collect();
    if kinds.is_empty() {
        kinds.extend(target.kind.clone());
    }
    kinds.dedup();
    let workload = |kind: &String| super::workload::is_workload_kind(kind);
    (!kinds.is_empty() && !kinds.iter().any(workload)).then(|| kinds.join(", "))
}

/// The `Kind/name` of each workload in a file.
pub fn workload_ids(text: &str) -> Vec<String> {
    let kinds = super::workload::KINDS.iter().map(|(kind, _)| *kind);
    let docs = super::documents_read(text);
    let kinds: Vec<&str> = kinds.collect();
    docs.filter_map(|doc| {
        let kind = doc.get("kind").and_then(Value::as_str).filter(|k| kinds.contains(k))?;
        let name = doc.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str)?;
        Some(format!("{kind}/{name}"))
    })
    .collect()
}

/// True for a kustomization that builds for OpenShift (a directory on its path names it:
/// `config/overlays/openshift`): OpenShift gives each pod a user from its namespace's range and
/// refuses others, so the workloads it builds on must leave the user to the platform.
pub fn is_openshift(kustomization: &std::path::Path) -> bool {
    kustomization.parent().is_some_and(names_openshift)
}

/// True when a path names OpenShift in a directory or its file name (`deploy/openshift/`,
/// `operator_openshift.yaml`): what it holds is written for that platform.
pub fn names_openshift(path: &std::path::Path) -> bool {
    path.components().any(|c| c.as_os_str().to_str().is_some_and(|n| n.to_ascii_lowercase().contains("openshift")))
}

/// What a kustomization's `images:` entry sets for the image it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageOverride {
    /// `newTag`, when set.
    pub tag: Option<String>,
    /// True when it sets a `digest`.
    pub digest: bool,
    /// `newName`, when set: the image that runs instead of the one the manifest names (a
    /// placeholder such as `controller` becoming `ghcr.io/acme/operator`).
    pub new_name: Option<String>,
    /// The kustomization that sets it, relative to the repository.
    pub kustomization: String,
    /// True when a Makefile or script sets the whole reference as it deploys (`kustomize edit set
    /// image controller=${IMG}`): its tag and digest are the build's, not the manifest's.
    pub by_script: bool,
}

/// The images a kustomization's `images:` gives a tag, a digest or another name, by the name its
/// manifests use (`name`), with what it sets; `kustomization` is the file's path, for messages.
pub fn image_overrides(text: &str, kustomization: &str) -> Vec<(String, ImageOverride)> {
    let Ok(value) = yaml_serde::from_str::<Value>(text) else { return Vec::new() };
    let entries = value.get("images").and_then(Value::as_sequence).into_iter().flatten();
    entries
        .filter_map(|entry| {
            let name = entry.get("name").and_then(Value::as_str)?;
            let tag = entry
                .get("newTag")
                .and_then(|t| t.as_str().map(str::to_string).or_else(|| Some(t.as_f64()?.to_string())))
                // `newTag: latest` is no version either.
                .filter(|t| t != "latest");
            let digest = entry.get("digest").and_then(Value::as_str).is_some();
            let new_name = entry.get("newName").and_then(Value::as_str).map(str::to_string);
            let kustomization = kustomization.to_string();
            (tag.is_some() || digest || new_name.is_some())
                .then(|| (name.to_string(), ImageOverride { tag, digest, new_name, kustomization, by_script: false }))
        })
        .collect()
}

/// A patch file of a kustomization and what its entry's `target` aims it at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchTarget {
    /// The file, as the kustomization names it.
    pub path: String,
    /// The target's `name`, when it names one.
    pub name: Option<String>,
    /// The target's `kind`, when it names one.
    pub kind: Option<String>,
}

/// The patch files of a kustomization (as [`patch_paths`]) with the name and kind their entry's
/// `target` aims them at, where it names them.
pub fn patch_targets(kustomization: &str) -> Vec<PatchTarget> {
    let Ok(value) = yaml_serde::from_str::<Value>(kustomization) else { return Vec::new() };
    let entries: Vec<&Value> = ["patches", "patchesJson6902"]
        .into_iter()
        .flat_map(|key| value.get(key).and_then(Value::as_sequence))
        .flatten()
        .collect();
    let target = |path: &str, field: &str| {
        let entry = entries.iter().find(|e| e.get("path").and_then(Value::as_str) == Some(path))?;
        entry.get("target")?.get(field)?.as_str().map(str::to_string)
    };
    patch_paths(kustomization)
        .into_iter()
        .map(|path| PatchTarget { name: target(&path, "name"), kind: target(&path, "kind"), path })
        .collect()
}

/// The `Kind/name` of each object in a patch that sets `runAsNonRoot: true` and no `runAsUser`
/// anywhere: the platform is to choose its user.
pub fn platform_chooses_user(patch: &str) -> Vec<String> {
    let mut out = Vec::new();
    for doc in super::documents_read(patch) {
        let (Some(kind), Some(name)) = (
            doc.get("kind").and_then(Value::as_str),
            doc.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str),
        ) else {
            continue;
        };
        if has_key(&doc, "runAsNonRoot", &|v| v.as_bool() == Some(true)) && !has_key(&doc, "runAsUser", &|_| true) {
            out.push(format!("{kind}/{name}"));
        }
    }
    out
}

/// True when some mapping under `value` has `key` with a value `ok` accepts.
pub(super) fn has_key(value: &Value, key: &str, ok: &dyn Fn(&Value) -> bool) -> bool {
    match value {
        Value::Mapping(map) => map.iter().any(|(k, v)| (k.as_str() == Some(key) && ok(v)) || has_key(v, key, ok)),
        Value::Sequence(items) => items.iter().any(|v| has_key(v, key, ok)),
        _ => false,
    }
}

/// The patches a script adds to a kustomization with `kustomize edit add patch --path NAME`
/// (a Makefile's recipe before a build), each with its 1-based line: a patch no kustomization
/// lists that kustomize still applies.
pub fn added_patches(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in script.lines().enumerate().filter(|(_, l)| l.contains("edit add patch")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let path = words.iter().enumerate().find_map(|(j, w)| match *w {
            "--path" => words.get(j + 1).copied(),
            w => w.strip_prefix("--path="),
        });
        if let Some(path) = path.map(|p| p.trim_matches(['"', '\'', ';'])).filter(|p| !p.contains('$')) {
            out.push((i + 1, path.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_patch_files() {
        let text = "resources:\n- ../../base\npatchesStrategicMerge:\n- manager_patch.yaml\n- |-\n  apiVersion: v1\n  kind: Service\npatches:\n- path: security_patch.yaml\n  target:\n    kind: Deployment\n- patch: |-\n    - op: add\npatchesJson6902:\n- path: json_patch.yaml\n  target: {kind: Deployment, name: x}\n";
        assert_eq!(patch_paths(text), ["manager_patch.yaml", "security_patch.yaml", "json_patch.yaml"]);
        assert!(patch_paths("resources: [a.yaml]\n").is_empty());
        assert!(patch_paths(": not yaml: [").is_empty());
    }

    #[test]
    fn reads_resources_workloads_and_openshift_overlays() {
        let text = "resources:\n- ../../default\n- webhook.yaml\n- https://example.com/x.yaml\nbases:\n- ../base\n";
        assert_eq!(resources(text), ["../../default", "webhook.yaml", "../base"]);
        let docs = "kind: Service\nmetadata:\n  name: s\n---\nkind: Deployment\nmetadata:\n  name: manager\n";
        assert_eq!(workload_ids(docs), ["Deployment/manager"]);
        assert!(is_openshift(std::path::Path::new("config/overlays/openshift/kustomization.yaml")));
        assert!(!is_openshift(std::path::Path::new("config/default/kustomization.yaml")));
    }

    #[test]
    fn reads_the_tags_digests_and_names_images_are_given() {
        let text = "images:\n- name: example/manager\n  newName: ghcr.io/example/manager\n  newTag: v1.9.0\n- name: example/agent\n  digest: sha256:0123\n- name: example/renamed\n  newName: example/other\n- name: example/floating\n  newTag: latest\n";
        let overrides = image_overrides(text, "config/manager/kustomization.yaml");
        assert_eq!(overrides.len(), 3, "a floating tag sets nothing");
        assert_eq!(overrides[0].0, "example/manager");
        assert_eq!(overrides[0].1.tag.as_deref(), Some("v1.9.0"));
        assert_eq!(overrides[0].1.new_name.as_deref(), Some("ghcr.io/example/manager"));
        assert!(!overrides[0].1.digest && overrides[1].1.digest && overrides[1].1.tag.is_none());
        assert_eq!((overrides[2].1.new_name.as_deref(), overrides[2].1.tag.as_deref()), (Some("example/other"), None));
        assert_eq!(components("components:\n- ../image/oss\n- https://example.com/c\n"), ["../image/oss"]);
        assert!(image_overrides(": [", "k.yaml").is_empty());
    }

    #[test]
    fn tells_which_objects_leave_the_user_to_the_platform() {
        let openshift = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: manager\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile:\n          type: RuntimeDefault\n";
        assert_eq!(platform_chooses_user(openshift), ["Deployment/manager"]);
        let with_user = openshift.replace("runAsNonRoot: true", "runAsNonRoot: true\n        runAsUser: 1000");
        assert!(platform_chooses_user(&with_user).is_empty());
        assert!(platform_chooses_user("kind: Deployment\nmetadata:\n  name: m\nspec:\n  replicas: 2\n").is_empty());
    }

    #[test]
    fn a_script_adds_patches_by_path() {
        let make = "deploy:\n\tcd config/default ;\\\n\t$(KUSTOMIZE) edit add patch --path manager_image_pull_secret.yaml ;\\\n\tkustomize edit add patch --path=\"env_override.yaml\"\n\tkustomize edit add patch --path $(PATCH)\n";
        assert_eq!(
            added_patches(make),
            [(3, "manager_image_pull_secret.yaml".into()), (4, "env_override.yaml".into())]
        );
    }
}
