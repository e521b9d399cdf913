//! A Helm chart's templates, read roughly for what their containers run: harden edits no chart,
//! but an `exec` probe a chart's Deployment runs (`wget -q --spider …`) needs the shell and tools
//! of the image it runs as much as one in a plain manifest does.
//!
//! Rendering is approximate and pure: a line that is only a template action (`{{- if … }}`,
//! `{{- toYaml .Values.resources | nindent 12 }}`) is dropped, and an action inside a line is
//! replaced by the `values.yaml` value it names (`{{ .Values.image.repository }}`), or by its
//! quoted default, or by a word no image is called.

use std::path::PathBuf;

use yaml_serde::Value;

use super::{Repository, containers, documents, scalar};

/// What an action that names no value harden can read becomes.
const UNKNOWN: &str = "helm-template-value";

impl Repository {
    /// Reads a Helm chart's templates (`templates`: each path with its text) for the containers
    /// they run, their values filled in from the chart's `values.yaml` text.
    pub fn read_chart(&mut self, values: &str, templates: &[(PathBuf, String)]) {
        let values: Value = yaml_serde::from_str(values).unwrap_or(Value::Null);
        for (path, text) in templates {
            for doc in documents(&render(text, &values)) {
                containers(&doc, &mut self.containers, &path.display().to_string());
            }
        }
    }
}

/// The template as YAML, its actions filled in from `values`.
pub(super) fn render(template: &str, values: &Value) -> String {
    let mut out = String::with_capacity(template.len());
    for line in template.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("{{") && trimmed.ends_with("}}") && trimmed.matches("{{").count() == 1 {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            let Some(end) = rest[start..].find("}}") else { break };
            out.push_str(&rest[..start]);
            out.push_str(&action_value(&rest[start + 2..start + end], values));
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

/// The value an action inside a line stands for: the first `.Values.` path it names, where
/// `values` has a scalar there; else its first quoted string (`default "8080"`).
fn action_value(action: &str, values: &Value) -> String {
    let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
    let looked_up = action.split(|c: char| c.is_whitespace() || c == '(' || c == ')').find_map(|word| {
        let path = word.strip_prefix(".Values.")?;
        scalar(path.split('.').try_fold(values, |v, key| v.get(key))?)
    });
    let quoted = || action.contains("default").then(|| action.split('"').nth(1).map(str::to_string)).flatten();
    looked_up.or_else(quoted).unwrap_or_else(|| UNKNOWN.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Value {
        yaml_serde::from_str("image:\n  repository: ghcr.io/acme/relay\n  tag: 1.4.0\nport: 8080\n").unwrap()
    }

    #[test]
    fn actions_take_their_values_and_control_lines_go() {
        let template = "spec:\n  {{- with .Values.nodeSelector }}\n  nodeSelector:\n    {{- toYaml . | nindent 4 }}\n  {{- end }}\n  containers:\n    - image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n      ports:\n        - containerPort: {{ .Values.port }}\n";
        let rendered = render(template, &values());
        assert!(rendered.contains("image: \"ghcr.io/acme/relay:1.4.0\""), "{rendered}");
        assert!(rendered.contains("containerPort: 8080"), "{rendered}");
        assert!(!rendered.contains("{{"), "{rendered}");
        let parsed: Value = yaml_serde::from_str(&rendered).unwrap();
        assert!(parsed.get("spec").and_then(|s| s.get("containers")).is_some());
    }

    #[test]
    fn an_unknown_value_takes_its_quoted_default_or_names_nothing() {
        assert_eq!(action_value(" .Values.missing | default \"9090\" ", &values()), "9090");
        assert_eq!(action_value(" include \"relay.fullname\" . ", &values()), UNKNOWN);
        assert_eq!(action_value(" .Release.Name ", &values()), UNKNOWN);
    }
}
