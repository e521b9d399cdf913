//! The YAML values the build and run files hold: commands, build arguments.

use std::sync::LazyLock;

use regex::Regex;
use yaml_serde::Value;

use super::BuildArg;

/// A command as a list (`[a, b]`) or a string split into words as Compose splits it.
pub(super) fn words(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Sequence(items) => Some(items.iter().filter_map(scalar).collect()),
        Value::String(text) => Some(crate::shell::lex(text, 0).into_iter().map(|t| t.value).collect()),
        _ => None,
    }
}

/// `{K: V}` or `[K=V]`, as Compose and skaffold write build arguments.
pub(super) fn key_values(value: Option<&Value>, origin: &str) -> Vec<BuildArg> {
    let pair = |name: &str, value: String| BuildArg { name: name.into(), value, origin: origin.into() };
    match value {
        Some(Value::Mapping(map)) => {
            map.iter().filter_map(|(k, v)| Some(pair(k.as_str()?, scalar(v).unwrap_or_default()))).collect()
        }
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|kv| kv.split_once('=').map(|(k, v)| pair(k, v.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

/// A scalar as text (a string, number or boolean).
pub(super) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A Go template action (`{{.ImageRegistry}}`, `{{if .On}}`).
static ACTION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{\{.*?\}\}").expect("a valid pattern"));

/// A manifest templated with Go's actions (a test framework's `image:
/// {{.ImageRegistry}}/probes:v0.0.7`) as YAML whose containers can be read for what they run and
/// mount: a line of actions alone (`{{if .On}}`, `{{end}}`) is dropped, and any other action
/// becomes the word `templated`.
pub(super) fn without_template_actions(text: &str) -> String {
    let kept = text.lines().filter(|line| !line.contains("{{") || !ACTION.replace_all(line, "").trim().is_empty());
    kept.map(|line| ACTION.replace_all(line, "templated")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_actions_become_words() {
        let text = "spec:\n  {{if .Privileged}}\n  hostNetwork: true\n  {{end}}\n  containers:\n    - image: {{.ImageRegistry}}/perf-tests/probes:{{.Tag}}\n";
        let plain = without_template_actions(text);
        assert_eq!(
            plain,
            "spec:\n  hostNetwork: true\n  containers:\n    - image: templated/perf-tests/probes:templated"
        );
        let doc: Value = yaml_serde::from_str(&plain).expect("plain YAML");
        assert_eq!(doc["spec"]["containers"][0]["image"].as_str(), Some("templated/perf-tests/probes:templated"));
    }
}
