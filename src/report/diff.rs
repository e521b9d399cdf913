//! Unified diffs of rewritten files.

use similar::TextDiff;

use crate::run::{FileReport, Status};

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

/// What a reader of the diffs alone would miss, for standard error: each file whose diff is
/// build edits only (which `harden pr` holds back), each file in error with its reason, each
/// whose base images `fix --pin` could not pin, and the
/// summary of every file, with where to read why the others are left as they are.
pub fn notes(reports: &[FileReport], fixing: bool) -> String {
    let mut out = String::new();
    for report in reports {
        match report.status {
            Status::Changed if !report.security => {
                let status = if fixing { "changed" } else { "can be fixed" };
                out.push_str(&format!("{}: {status}{}\n", report.path, super::text::BUILD_EDITS_ONLY));
            }
            Status::Error => {
                let reason = report.reason.as_deref().unwrap_or_default();
                out.push_str(&format!("{}: error ({reason})\n", report.path));
            }
            _ => {}
        }
        if !report.unpinned.is_empty() {
            out.push_str(&format!("{}: not pinned by digest: {}\n", report.path, report.unpinned.join(", ")));
        }
    }
    let summary = super::text::summary(reports, fixing);
    out.push_str(&format!("{summary} (`harden scan` says why each file is left as it is)\n"));
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

    #[test]
    fn notes_tell_what_the_diffs_do_not() {
        let report = |path: &str, status: Status, reason: Option<&str>| {
            FileReport::new(path.into(), Kind::Dockerfile, status, reason.map(str::to_string))
        };
        let mut build_only = report("tools/Dockerfile", Status::Changed, None);
        build_only.security = false;
        let mut secure = report("Dockerfile", Status::Changed, None);
        secure.security = true;
        let broken = report("deploy/app.yaml", Status::Error, Some("line 4: mapping values are not allowed"));
        let mut kept = report("web/Dockerfile", Status::Unchanged, None);
        kept.unpinned = vec!["alpine:3.22 (connection refused)".into()];
        let notes = notes(&[build_only, secure, broken, kept], true);
        let lines: Vec<&str> = notes.lines().collect();
        assert_eq!(lines.len(), 4, "{notes}");
        assert!(
            lines[0].starts_with("tools/Dockerfile: changed (build edits only: `harden pr` proposes them"),
            "{notes}"
        );
        assert_eq!(lines[1], "deploy/app.yaml: error (line 4: mapping values are not allowed)");
        assert_eq!(lines[2], "web/Dockerfile: not pinned by digest: alpine:3.22 (connection refused)");
        assert!(
            lines[3].starts_with("4 files: 2 changed, 1 unchanged, 0 skipped, 1 error; 0 findings, 0 fixed"),
            "{notes}"
        );
        assert!(lines[3].ends_with("(`harden scan` says why each file is left as it is)"), "{notes}");
    }
}
