//! A chart's `values.yaml`, hardened where the chart's templates take securityContexts from it:
//! the templates (with the chart's name), the checks that guard its values, its variants.

use std::path::Path;

use crate::config::Config;
use crate::discover;
use crate::kubernetes;
use crate::orchestration;
use crate::outcome::{Outcome, ParseError};

use super::{checks, repository};

/// Hardens the values file at `path` (its text `text`) of a chart.
pub(super) fn harden(
    path: &Path,
    text: &str,
    config: &Config,
    context: &kubernetes::Context,
) -> Result<Outcome, ParseError> {
    let chart = path.parent().unwrap_or(path);
    let in_chart = |p: &Path| p.strip_prefix(chart).map(Path::to_path_buf).unwrap_or_default();
    // The chart's name is known to every template (`{{ .Chart.Name }}`).
    let name = discover::read_text(&chart.join("Chart.yaml")).ok().and_then(|t| orchestration::helm::chart_name(&t));
    let templates: Vec<(String, String)> = repository::chart_templates(chart, &in_chart)
        .into_iter()
        .map(|(p, text)| {
            let text = name.as_deref().map_or_else(|| text.clone(), |n| orchestration::helm::with_chart_name(&text, n));
            (p.display().to_string(), text)
        })
        .collect();
    let checks = (context.helm_docs_check.as_deref(), context.helm_schema_check.as_deref());
    let guard = checks::chart_guard(chart, &in_chart, checks);
    let variants = repository::chart_values_variants(chart, &in_chart);
    let mut context = context.clone();
    context.openshift = context.openshift.or_else(|| kubernetes::chart::openshift_promised(text));
    kubernetes::chart::harden(text, &templates, &variants, guard.as_ref(), config, &context)
}
