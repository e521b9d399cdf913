//! Charts the repository also keeps rendered (`helm template` into `deploy/kubernetes/base`, for
//! kustomize users): a change to the chart's values leaves those files stale until they are
//! rendered again, which a check that rendered files are current catches.

use std::path::Path;

use crate::discover;
use crate::finding::Finding;
use crate::orchestration::helm;
use crate::rules;

use super::{FileReport, Status};

/// Adds HK223 to each changed chart values file whose chart the repository keeps rendered (files
/// skipped as `# Source: <chart>/templates/…`), naming those files and the script that renders
/// them, when one does.
pub(super) fn note_kept_renders(reports: &mut [FileReport], repo: &Path) {
    let rendered_of = |name: &str, reports: &[FileReport]| -> Vec<String> {
        let marker = format!("rendered from a Helm chart (# Source: {name}/templates/");
        (reports.iter())
            .filter(|r| r.status == Status::Skipped && r.reason.as_deref().is_some_and(|why| why.starts_with(&marker)))
            .map(|r| shown(&r.path, repo))
            .collect()
    };
    let mut scripts = None;
    for i in 0..reports.len() {
        let report = &reports[i];
        let values = report.source_path.as_deref().filter(|p| discover::is_chart_values(p));
        let Some(chart) = values.filter(|_| report.status == Status::Changed).and_then(Path::parent) else {
            continue;
        };
        let Some(name) = discover::read_text(&chart.join("Chart.yaml")).ok().and_then(|t| helm::chart_name(&t)) else {
            continue;
        };
        let files = rendered_of(&name, reports);
        let Some(first) = files.first() else { continue };
        let scripts = scripts.get_or_insert_with(|| crate::source::owned::script_texts(repo));
        let by = renderer(first, scripts).map(|s| format!(" by {}", s.display())).unwrap_or_default();
        let dir = |f: &String| Path::new(f).parent().map(Path::to_path_buf);
        let listed = match files.len() {
            n if n > 3 && files.iter().all(|f| dir(f) == dir(first)) => {
                format!("the {n} files in {}", dir(first).unwrap_or_default().display())
            }
            n if n > 3 => format!("{} and {} more", files[..3].join(", "), n - 3),
            _ => files.join(", "),
        };
        let note = format!(
            "the chart {name} is also rendered{by} into files kept in the repository ({listed}): render them again after this change and commit them, or a check that rendered files are current fails"
        );
        reports[i].findings.insert(0, Finding::new(&rules::RENDER_INPUT, 1, note));
    }
}

/// A report's path relative to the repository, as it is shown.
fn shown(path: &str, repo: &Path) -> String {
    Path::new(path).strip_prefix(repo).map_or_else(|_| path.to_string(), |p| p.display().to_string())
}

/// The script that runs `helm template` and names the directory the rendered file `file` is in.
fn renderer<'a>(file: &str, scripts: &'a [(std::path::PathBuf, String)]) -> Option<&'a std::path::PathBuf> {
    let dir = Path::new(file).parent()?.to_str().filter(|d| !d.is_empty())?;
    let renders = |text: &str| text.contains("helm template") && text.contains(dir);
    scripts.iter().find(|(_, text)| renders(text)).map(|(script, _)| script)
}
