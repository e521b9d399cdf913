//! A Helm chart's templates, read roughly for what their containers run: harden edits no
//! template, but an `exec` probe a chart's Deployment runs (`wget -q --spider …`) needs the shell
//! and tools of the image it runs as much as one in a plain manifest does; and the chart's
//! `values.yaml`, where harden hardens its pods, is known by the blocks the templates take from it
//! ([`render`]).

mod action;
mod render;
mod scope;

use std::path::PathBuf;

use yaml_serde::Value;

use super::{Repository, containers, documents};

pub use render::{HELPER_WRITTEN, Rendered, ValuesBlock, render, render_every_branch};

/// What an action that names no value harden can read becomes.
pub const UNKNOWN: &str = "helm-template-value";

impl Repository {
    /// Reads a Helm chart's templates (`templates`: each path with its text) for the containers
    /// they run, their values filled in from the chart's `values.yaml` text.
    pub fn read_chart(&mut self, values: &str, templates: &[(PathBuf, String)]) {
        let values: Value = yaml_serde::from_str(values).unwrap_or(Value::Null);
        for (path, text) in templates {
            for doc in documents(&render(text, &values).text) {
                containers(&doc, &mut self.containers, &path.display().to_string());
            }
        }
    }
}
