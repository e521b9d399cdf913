//! A Helm chart's templates, read roughly for what their containers run: harden edits no
//! template, but an `exec` probe a chart's Deployment runs (`wget -q --spider …`) needs the shell
//! and tools of the image it runs as much as one in a plain manifest does; and the chart's
//! `values.yaml`, where harden hardens its pods, is known by the blocks the templates take from it
//! ([`render`]).

mod action;
mod render;
mod scope;
mod text;

use std::path::PathBuf;

use yaml_serde::Value;

use super::{Repository, containers, documents};

pub use render::{HELPER_WRITTEN, Rendered, ValuesBlock, render, render_every_branch};

/// What an action that names no value harden can read becomes.
pub const UNKNOWN: &str = "helm-template-value";

/// The chart's name, as its `Chart.yaml` gives it.
pub fn chart_name(chart_yaml: &str) -> Option<String> {
    let chart: Value = yaml_serde::from_str(chart_yaml).ok()?;
    chart.get("name")?.as_str().map(str::to_string)
}

/// `template` with `.Chart.Name` written as the chart's `name` (a string the rendering reads as
/// itself), so the workloads and containers it names are told by name (`container relay`), not as
/// values harden cannot read.
pub fn with_chart_name(template: &str, name: &str) -> String {
    template.replace(".Chart.Name", &format!("{name:?}"))
}

impl Repository {
    /// Reads a Helm chart's templates (`templates`: each path with its text) for the containers
    /// they run, their values filled in from the chart's `values.yaml` text and its name from
    /// its `Chart.yaml` text.
    pub fn read_chart(&mut self, chart_yaml: &str, values: &str, templates: &[(PathBuf, String)]) {
        let values: Value = yaml_serde::from_str(values).unwrap_or(Value::Null);
        let name = chart_name(chart_yaml);
        for (path, text) in templates {
            let text = name.as_deref().map_or_else(|| text.clone(), |n| with_chart_name(text, n));
            for doc in documents(&render(&text, &values).text) {
                containers(&doc, &mut self.containers, &path.display().to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_name_is_rendered_as_itself() {
        let name = chart_name("apiVersion: v2\nname: relay\nversion: 0.4.2\n").unwrap();
        let template = with_chart_name("containers:\n  - name: {{ .Chart.Name }}\n    image: x\n", &name);
        let rendered = render(&template, &Value::Null).text;
        assert!(rendered.contains("- name: relay\n"), "{rendered}");
        assert_eq!(chart_name(": ["), None);
        // What the chart's containers ask of root names them as the chart names them.
        let mut repository = Repository::default();
        let template = "spec:\n  containers:\n  - name: {{ .Chart.Name }}\n    image: x\n    securityContext: {privileged: true}\n";
        repository.read_chart("name: relay\n", "", &[(PathBuf::from("templates/ds.yaml"), template.into())]);
        let need = repository.containers[0].root_need.as_deref().unwrap_or_default();
        assert!(need.starts_with("templates/ds.yaml (container relay) runs privileged"), "{need}");
    }
}
