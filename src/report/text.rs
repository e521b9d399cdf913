//! The human-readable report.

use std::fmt::Write;

use crate::discover::Kind;
use crate::run::{FileReport, Status};

/// Said of a file whose rewrite is no security change, so that a reader of `fix` knows `pr`
/// holds it back (issue 10 point 12).
pub(super) const BUILD_EDITS_ONLY: &str = " (build edits only: `harden pr` proposes them beside a security change, \
                                or alone with `propose: all`)";

/// How many files skipped, or directories not walked, for one reason are named one by one.
const NAMED_PER_REASON: usize = 5;

/// One block per file: its status, then one line per finding; a summary at the end.
pub fn text(reports: &[FileReport], fixing: bool) -> String {
    let mut out = String::new();
    // Files skipped and directories not walked for one reason (a repository's hundred
    // `testdata/`, its twenty workflows), each reason's first few by name and the rest as a
    // count at the end.
    let mut passed_over: Vec<((bool, &str), usize)> = Vec::new();
    for report in reports {
        if report.status == Status::Skipped && report.findings.is_empty() {
            let key = (report.kind == Kind::Directory, report.reason.as_deref().unwrap_or_default());
            let at = passed_over.iter().position(|(k, _)| *k == key).unwrap_or_else(|| {
                passed_over.push((key, 0));
                passed_over.len() - 1
            });
            passed_over[at].1 += 1;
            if passed_over[at].1 > NAMED_PER_REASON {
                continue;
            }
        }
        let status = match report.status {
            Status::Changed if fixing => "changed",
            Status::Changed => "can be fixed",
            Status::Unchanged => "unchanged",
            Status::Skipped => "skipped",
            Status::Error => "error",
        };
        let _ = write!(out, "{}: {status}", report.path);
        if let Some(reason) = &report.reason {
            let _ = write!(out, " ({reason})");
        }
        if report.status == Status::Changed && !report.security {
            out.push_str(BUILD_EDITS_ONLY);
        }
        out.push('\n');
        for f in &report.findings {
            let mark = if f.fixed { if fixing { " [fixed]" } else { " [fixable]" } } else { "" };
            let _ =
                writeln!(out, "  {}:{}: {} {} {}{mark}", report.path, f.line, f.severity.as_str(), f.rule, f.message);
        }
    }
    for ((directory, reason), seen) in passed_over.into_iter().filter(|(_, seen)| *seen > NAMED_PER_REASON) {
        let more = seen - NAMED_PER_REASON;
        let what = match (directory, more) {
            (true, 1) => "directory",
            (true, _) => "directories",
            (false, 1) => "file",
            (false, _) => "files",
        };
        let _ = writeln!(out, "and {more} more {what}: skipped ({reason})");
    }
    out.push_str(&summary(reports, fixing));
    out.push('\n');
    out
}

/// The last line: how many files changed (or can be), stayed, were skipped or failed, with the
/// findings and how many were fixed (or are fixable).
pub fn summary(reports: &[FileReport], fixing: bool) -> String {
    let mut counts = [0usize; 4];
    reports.iter().for_each(|r| counts[r.status as usize] += 1);
    let findings: usize = reports.iter().map(|r| r.findings.len()).sum();
    let fixed: usize = reports.iter().flat_map(|r| &r.findings).filter(|f| f.fixed).count();
    let verb = if fixing { "fixed" } else { "fixable" };
    // Directories not walked are listed above, counted apart from the files.
    let directories = reports.iter().filter(|r| r.kind == Kind::Directory).count();
    let not_walked = match directories {
        0 => String::new(),
        1 => " (1 directory not walked)".to_string(),
        n => format!(" ({n} directories not walked)"),
    };
    format!(
        "{}: {} {}, {} unchanged, {} skipped, {}{not_walked}; {}, {fixed} {verb}",
        super::plural(reports.len() - directories, "file"),
        counts[Status::Changed as usize],
        if fixing { "changed" } else { "to change" },
        counts[Status::Unchanged as usize],
        counts[Status::Skipped as usize] - directories,
        super::plural(counts[Status::Error as usize], "error"),
        super::plural(findings, "finding"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::FileReport;

    #[test]
    fn files_skipped_for_one_reason_are_named_five_at_a_time() {
        let skipped = |n: usize, kind: Kind, reason: &str| {
            FileReport::new(format!("f{n}"), kind, Status::Skipped, Some(reason.to_string()))
        };
        let mut reports: Vec<FileReport> =
            (0..8).map(|n| skipped(n, Kind::Kubernetes, "a GitHub Actions workflow")).collect();
        reports.extend((8..10).map(|n| skipped(n, Kind::Kubernetes, "no kind")));
        reports.extend((10..17).map(|n| skipped(n, Kind::Directory, "test data")));
        let out = text(&reports, false);
        assert_eq!(out.lines().filter(|l| l.ends_with("(a GitHub Actions workflow)")).count(), 6, "{out}");
        assert!(out.contains("and 3 more files: skipped (a GitHub Actions workflow)\n"), "{out}");
        assert!(out.contains("f8: skipped (no kind)\nf9: skipped (no kind)\n"), "{out}");
        assert!(out.contains("and 2 more directories: skipped (test data)\n"), "{out}");
        assert!(
            out.contains("10 files: 0 to change, 0 unchanged, 10 skipped, 0 errors (7 directories not walked)"),
            "{out}"
        );
    }
}
