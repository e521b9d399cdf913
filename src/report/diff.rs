//! Unified diffs of rewritten files.

use similar::TextDiff;

use crate::run::FileReport;

/// The unified diff (`a/PATH` → `b/PATH`) of every changed file, concatenated.
pub fn diff(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for report in reports {
        let (Some(old), Some(new)) = (&report.original, &report.rewritten) else {
            continue;
        };
        let a = format!("a/{}", report.path);
        let b = format!("b/{}", report.path);
        let patch = TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(&a, &b)
            .missing_newline_hint(true)
            .to_string();
        out.push_str(&patch);
    }
    out
}
