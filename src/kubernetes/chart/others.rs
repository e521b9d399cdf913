//! What else a chart ships beside `values.yaml` that the new values must agree with: its other
//! values files (a user one of them sets is not paired with a default group), and its
//! `values.schema.json` (the new values must still pass it).

use yaml_serde::Value;

use super::super::change::{Change, Seg};

/// Drops the user fields (runAsNonRoot, the user, the group) harden would write into a value
/// that one of the chart's other values files sets a user in (`values-pro.yaml`'s
/// `securityContext.runAsUser: 10001`): Helm merges that file over the defaults, so a default
/// group beside its user would pair ids the chart never chose. Each value's path and the
/// reason, once.
pub(super) fn users_chosen_by_variants(
    changes: &mut Vec<Change>,
    variants: &[(String, String)],
) -> Vec<(Vec<String>, String)> {
    let parsed: Vec<(&String, Value)> =
        variants.iter().filter_map(|(path, text)| Some((path, yaml_serde::from_str(text).ok()?))).collect();
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    changes.retain(|change| {
        let keys: Vec<String> =
            change.path.iter().map_while(|s| if let Seg::Key(k) = s { Some(k.clone()) } else { None }).collect();
        let Some((_, at)) = keys.split_last().filter(|(f, _)| USER_FIELDS.contains(&f.as_str()))
        else {
            return true;
        };
        let chosen = parsed.iter().find_map(|(file, values)| {
            let value = at.iter().try_fold(values, |v, k| v.get(k.as_str()))?;
            let user = ["runAsUser", "runAsGroup"].iter().find_map(|f| Some((f, value.get(f)?.as_u64()?)))?;
            Some(format!(
                "{file} sets {}: {} in {}, and Helm merges that file over these defaults: harden leaves the user to it (a default group or runAsNonRoot beside it would be one the chart never chose)",
                user.0,
                user.1,
                at.join(".")
            ))
        });
        match chosen {
            Some(why) => {
                if !out.iter().any(|(a, _)| a == at) {
                    out.push((at.to_vec(), why));
                }
                false
            }
            None => true,
        }
    });
    // Nor runAsNonRoot at another level (the pod's, beside a container's user a values file
    // chooses): without the user there, an image that runs as a name would be refused.
    if !out.is_empty() || parsed.iter().any(|(_, values)| chooses_user(values)) {
        changes.retain(|change| !matches!(change.path.last(), Some(Seg::Key(k)) if USER_FIELDS.contains(&k.as_str())));
    }
    out
}

/// True when values set a user or group in a securityContext (`securityContext.runAsUser`,
/// `controller.podSecurityContext.runAsGroup`), at any depth.
fn chooses_user(values: &Value) -> bool {
    let Some(map) = values.as_mapping() else { return false };
    map.iter().any(|(key, value)| {
        let context = key.as_str().is_some_and(|k| k.ends_with("ecurityContext"));
        let user = || ["runAsUser", "runAsGroup"].iter().any(|f| value.get(f).is_some_and(Value::is_u64));
        (context && user()) || chooses_user(value)
    })
}

/// The fields that say who a pod or container runs as.
const USER_FIELDS: &[&str] = &["runAsNonRoot", "runAsUser", "runAsGroup"];

/// Why the chart is meant for OpenShift too, when its values say it adapts its securityContexts to
/// it (Bitnami's and VictoriaMetrics' `global.compatibility.openshift.adaptSecurityContext: auto`)
/// or carry a switch for an OpenShift flavour (tekton-operator's `openshift: {enabled: false}`):
/// OpenShift's restricted SCC chooses each pod's user and refuses one asked for, and a user
/// harden writes into a value that no template adapts would reach it.
pub fn openshift_promised(values_text: &str) -> Option<String> {
    let adapted = values_text.lines().enumerate().find_map(|(at, line)| {
        let setting = line.trim_start().strip_prefix("adaptSecurityContext:")?;
        let setting = setting.split(" #").next().unwrap_or_default().trim().trim_matches(['"', '\'']);
        (!setting.is_empty() && setting != "disabled")
            .then(|| format!("values.yaml:{} sets adaptSecurityContext: {setting}, for OpenShift", at + 1))
    });
    // A top-level key so named (`openshift:`, `isOpenShift:`), not a comment or a nested value.
    let switch = || {
        values_text.lines().enumerate().find_map(|(at, line)| {
            let (key, _) = line.split_once(':').filter(|_| line.starts_with(|c: char| c.is_ascii_alphabetic()))?;
            key.to_ascii_lowercase()
                .contains("openshift")
                .then(|| format!("values.yaml:{} has an `{key}` switch, for OpenShift", at + 1))
        })
    };
    adapted.or_else(switch)
}

/// Why the chart's `schema` (its values.schema.json) refuses `values` (the new values.yaml) where
/// it did not refuse `before` (the values as they were): the first error and where that the old
/// values did not have (a schema that asks for a value the defaults leave for the user to set,
/// external-dns's `policy`, refuses both alike), or that the schema cannot be read or needs what
/// is not here (a remote reference); `None` when the values pass as well as before.
pub(super) fn schema_refuses(schema: &str, before: &str, values: &str) -> Option<String> {
    let schema: serde_json::Value = match serde_json::from_str(schema) {
        Ok(schema) => schema,
        Err(e) => return Some(format!("the schema does not parse: {e}")),
    };
    let validator = match jsonschema::validator_for(&schema) {
        Ok(validator) => validator,
        Err(e) => return Some(format!("harden cannot use the schema here: {e}")),
    };
    let errors = |text: &str| -> Vec<String> {
        let Ok(values) = yaml_serde::from_str::<serde_json::Value>(text) else { return Vec::new() };
        validator.iter_errors(&values).map(|e| format!("{} {e}", e.instance_path())).collect()
    };
    let old = errors(before);
    let values: serde_json::Value = yaml_serde::from_str(values).ok()?;
    let error = validator.iter_errors(&values).find(|e| !old.contains(&format!("{} {e}", e.instance_path())))?;
    let at = error.instance_path().to_string();
    Some(format!("{} {error}", if at.is_empty() { "at the top:".to_string() } else { format!("at {at}:") }))
}

/// The values path of a chart's own switch for a read-only root (Reloader's
/// `reloader.readOnlyRootFileSystem`, whose template sets the field and mounts /tmp with it):
/// a boolean key so named outside any securityContext, off in the defaults.
pub(super) fn read_only_switch(values: &Value) -> Option<String> {
    fn find(value: &Value, path: &mut Vec<String>) -> Option<String> {
        for (key, child) in value.as_mapping()? {
            let key = key.as_str()?;
            if key.to_ascii_lowercase().contains("securitycontext") {
                continue;
            }
            path.push(key.to_string());
            if key.eq_ignore_ascii_case("readOnlyRootFilesystem") && child.as_bool() == Some(false) {
                return Some(path.join("."));
            }
            if let Some(found) = find(child, path) {
                return Some(found);
            }
            path.pop();
        }
        None
    }
    find(values, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::{openshift_promised, schema_refuses};
    use yaml_serde::Value;

    #[test]
    fn an_openshift_switch_or_adapted_contexts_promise_openshift() {
        let adapted = "global:\n  compatibility:\n    openshift:\n      adaptSecurityContext: auto\n";
        assert_eq!(
            openshift_promised(adapted).unwrap(),
            "values.yaml:4 sets adaptSecurityContext: auto, for OpenShift"
        );
        let switch = "nameOverride: \"\"\n## the OpenShift flavour\nopenshift:\n  enabled: false\n";
        assert!(openshift_promised(switch).unwrap().starts_with("values.yaml:3 has an `openshift` switch"));
        assert!(openshift_promised("image:\n  repository: quay.io/openshift/origin-cli\n").is_none());
        assert!(openshift_promised("adaptSecurityContext: disabled\n# openshift: true\n").is_none());
    }

    #[test]
    fn a_schema_refuses_only_what_the_new_values_bring() {
        let schema = r#"{"type": "object", "properties": {"policy": {"type": "string"}, "securityContext": {"type": "object", "additionalProperties": false, "properties": {"runAsNonRoot": {"type": "boolean"}}}}}"#;
        let before = "policy: null\nsecurityContext: {}\n";
        let hardened = "policy: null\nsecurityContext:\n  runAsNonRoot: true\n";
        assert_eq!(schema_refuses(schema, before, hardened), None, "the defaults' own null policy is not harden's");
        let refused = "policy: null\nsecurityContext:\n  capabilities: {drop: [ALL]}\n";
        let why = schema_refuses(schema, before, refused).unwrap();
        assert!(why.starts_with("at /securityContext:") && why.contains("capabilities"), "{why}");
    }

    #[test]
    fn a_chart_switch_for_a_read_only_root_is_found_outside_security_contexts() {
        let values: Value = yaml_serde::from_str(
            "reloader:\n  readOnlyRootFileSystem: false\n  securityContext:\n    readOnlyRootFilesystem: false\n",
        )
        .unwrap();
        assert_eq!(super::read_only_switch(&values).as_deref(), Some("reloader.readOnlyRootFileSystem"));
        let contexts: Value =
            yaml_serde::from_str("containerSecurityContext:\n  readOnlyRootFilesystem: false\n").unwrap();
        assert_eq!(super::read_only_switch(&contexts), None);
    }
}
