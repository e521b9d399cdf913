//! Unified diffs of rewritten files.

use similar::TextDiff;

use crate::run::FileReport;

/// The unified diff (`a/PATH` → `b/PATH`, an absolute path without its leading slash, as git
/// writes it) of every changed file, concatenated.
pub fn diff(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for report in reports {
        let (Some(old), Some(new)) = (&report.original, &report.rewritten) else {
            continue;
        };
        let path = report.path.trim_start_matches('/');
        let (a, b) = (format!("a/{path}"), format!("b/{path}"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Kind;
    use crate::run::Status;

    #[test]
    fn an_absolute_path_gets_no_doubled_slash() {
        let mut report = FileReport::new("/srv/app/Dockerfile".into(), Kind::Dockerfile, Status::Changed, None);
        report.original = Some("FROM golang\n".into());
        report.rewritten = Some("FROM golang:1.23\n".into());
        let text = diff(&[report]);
        assert!(text.starts_with("--- a/srv/app/Dockerfile\n+++ b/srv/app/Dockerfile\n"), "{text}");
    }
}
