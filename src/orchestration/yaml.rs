//! The YAML values the build and run files hold: commands, build arguments.

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
