//! Unified diffs of rewritten files.

use similar::TextDiff;

use std::cmp::Reverse;

use crate::discover::Kind;
use crate::finding::Finding;
use crate::rules::Severity;
use crate::run::{FileReport, Status};

/// The findings that say why a Dockerfile keeps its user or its runtime (naming the others), or
/// why a workload or container is left alone, in the order a note prefers them (the user's first).
const KEEPS: &[&str] = &[
    crate::rules::RUNS_AS_ROOT.id,
    crate::rules::FAT_RUNTIME.id,
    crate::rules::UNKNOWN_BUILD_OUTPUT.id,
    crate::rules::PRIVILEGED_PORT_CONTAINER.id,
    crate::rules::HOST_PATH.id,
    crate::rules::HOST_NAMESPACE.id,
    crate::rules::PRIVILEGED.id,
    crate::rules::IMAGE_KEEPS_ROOT.id,
    crate::rules::IMAGE_STARTS_AS_ROOT.id,
    crate::rules::EXAMPLE_OTHER_IMAGE.id,
    crate::rules::UNMOUNTED_DATA_STORE.id,
    crate::rules::SHELL_COMMAND_WRITES.id,
    crate::rules::KUSTOMIZE_REPLACES.id,
    crate::rules::ROOT_COMMAND.id,
    crate::rules::WINDOWS_POD.id,
    crate::rules::BLOCK_DEVICE.id,
    crate::rules::INLINE_CSI_VOLUME.id,
    crate::rules::ROOT_HOME_MOUNT.id,
];

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
/// Dockerfile and unchanged workload manifest left as it is with why, each whose base images
/// `fix --pin` could not pin, and the
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
            // A Dockerfile or workload left as it is, with why: its reason, else what keeps it
            // (the user's or the runtime's finding, which names the others, else the worst not
            // fixed), else that only notes remain. Skipped manifests are too many (RBAC, CRDs).
            Status::Unchanged | Status::Skipped
                if report.status == Status::Unchanged || report.kind == Kind::Dockerfile =>
            {
                let open: Vec<&Finding> = report.findings.iter().filter(|f| !f.fixed).collect();
                // What leaves a workload alone is told at any severity (an example's at info), and
                // so is a kept runtime that points at its reason (`(HD131 says why)`). The user's
                // finding before the runtime's: who the program runs as matters most.
                // A build harden does not follow, said at info, is why the runtime is kept: told
                // before a warning beside it (a tag), but not before an error (a build that fails)
                // nor where nothing above info is open.
                let warned = open.iter().map(|f| f.severity).max() == Some(Severity::Warning);
                let told = |f: &&&Finding| {
                    f.severity > Severity::Info
                        || report.kind == Kind::Kubernetes
                        || pointed_at(f, &open).is_some()
                        || (warned && f.rule == crate::rules::UNKNOWN_BUILD_OUTPUT.id)
                };
                let kept = KEEPS.iter().find_map(|rule| open.iter().filter(told).find(|f| f.rule == *rule));
                let worst = open.iter().filter(|f| f.severity > Severity::Info).min_by_key(|f| Reverse(f.severity));
                let why = match (&report.reason, kept.or(worst)) {
                    (Some(reason), _) => format!(" ({reason})"),
                    // The finding it points at (`harden keeps it (HD130 says why)`) is told too,
                    // as the diff format prints no findings.
                    (None, Some(f)) => match pointed_at(f, &open) {
                        Some(cause) => format!(" ({} {}; {} {})", f.rule, f.message, cause.rule, cause.message),
                        None => format!(" ({} {})", f.rule, f.message),
                    },
                    (None, None) if open.is_empty() => " (nothing to fix)".to_string(),
                    (None, None) => format!(" (nothing to fix but {} at info)", count(open.len())),
                };
                let status = if report.status == Status::Skipped { "skipped" } else { "unchanged" };
                out.push_str(&format!("{}: {status}{why}\n", report.path));
            }
            _ => {}
        }
        if !report.unpinned.is_empty() {
            out.push_str(&format!("{}: not pinned by digest: {}\n", report.path, report.unpinned.join(", ")));
        }
    }
    let summary = super::text::summary(reports, fixing);
    // Where every file was skipped, the plain answer comes first: there is nothing to change.
    match reports.iter().all(|r| r.status == Status::Skipped) {
        true => out.push_str(&format!(
            "{summary}: nothing here for harden to change (`harden scan` says why each file is skipped)\n"
        )),
        false => out.push_str(&format!("{summary} (`harden scan` says why each file is left as it is)\n")),
    }
    out
}

/// The open finding `f` points at for its reason (`(HD130 says why)`; the first of `(HD131 and
/// HD135 say why)`), when there is one.
fn pointed_at<'f>(f: &Finding, open: &[&'f Finding]) -> Option<&'f Finding> {
    let (before, _) = f.message.split_once(" says why)").or_else(|| f.message.split_once(" say why)"))?;
    let rule = before.rsplit('(').next()?.split_whitespace().next()?;
    open.iter().find(|o| o.rule == rule && o.rule != f.rule).copied()
}

/// `1 finding`, `3 findings`.
fn count(n: usize) -> String {
    if n == 1 { "1 finding".into() } else { format!("{n} findings") }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        kept.findings = vec![
            Finding::new(&crate::rules::NOT_PINNED, 1, "alpine:3.22 is not pinned by digest"),
            Finding::new(
                &crate::rules::RUNS_AS_ROOT,
                1,
                "no USER instruction: the program runs as root (HD130 says why)",
            ),
            Finding::new(&crate::rules::FAT_RUNTIME, 1, "the runtime stage runs on alpine:3.22"),
            Finding::new(&crate::rules::SHELL_SCRIPT_ENTRYPOINT, 9, "the program starts through /entrypoint.sh"),
        ];
        let skipped = report("tools/Dockerfile.dev", Status::Skipped, Some("a development image: it runs `go run`"));
        let mut workload = FileReport::new("deploy/app.yaml".into(), Kind::Kubernetes, Status::Unchanged, None);
        workload.findings = vec![
            Finding::new(&crate::rules::RUN_AS_NON_ROOT, 2, "Deployment/app does not set runAsNonRoot: true"),
            Finding::new(&crate::rules::HOST_PATH, 23, "Deployment/app mounts hostPath volume music"),
        ];
        let rbac =
            FileReport::new("deploy/rbac.yaml".into(), Kind::Kubernetes, Status::Skipped, Some("no workload".into()));
        let mut hardened = report("cli/Dockerfile", Status::Unchanged, None);
        hardened.findings = vec![Finding::new(&crate::rules::NOT_PINNED, 1, "golang:1.24 is not pinned by digest")];
        let notes = notes(&[build_only, secure, broken, kept, skipped, hardened, workload, rbac], true);
        let lines: Vec<&str> = notes.lines().collect();
        assert_eq!(lines.len(), 8, "{notes}");
        assert_eq!(lines[5], "cli/Dockerfile: unchanged (nothing to fix but 1 finding at info)");
        assert_eq!(lines[6], "deploy/app.yaml: unchanged (HK210 Deployment/app mounts hostPath volume music)");
        assert!(
            lines[0].starts_with("tools/Dockerfile: changed (build edits only: `harden pr` proposes them"),
            "{notes}"
        );
        assert_eq!(lines[1], "deploy/app.yaml: error (line 4: mapping values are not allowed)");
        assert_eq!(
            lines[2],
            "web/Dockerfile: unchanged (HD106 no USER instruction: the program runs as root (HD130 says why); HD130 the program starts through /entrypoint.sh)"
        );
        assert_eq!(lines[3], "web/Dockerfile: not pinned by digest: alpine:3.22 (connection refused)");
        assert_eq!(lines[4], "tools/Dockerfile.dev: skipped (a development image: it runs `go run`)");
        assert!(
            lines[7].starts_with("8 files: 2 changed, 3 unchanged, 2 skipped, 1 error; 7 findings, 0 fixed"),
            "{notes}"
        );
        assert!(lines[7].ends_with("(`harden scan` says why each file is left as it is)"), "{notes}");
        // A kept runtime told at info that points at its reason comes before a warning beside it.
        let info = |rule, message: &str| Finding { severity: Severity::Info, ..Finding::new(rule, 1, message) };
        let prebuilt_with = |kept: &str| {
            let mut prebuilt = report("alpine/Dockerfile", Status::Unchanged, None);
            prebuilt.findings = vec![
                info(&crate::rules::FAT_RUNTIME, &format!("the runtime stage runs on alpine:3.21; {kept}")),
                info(&crate::rules::UNKNOWN_BUILD_OUTPUT, "no go build of the program in the file"),
                Finding::new(&crate::rules::BASE_END_OF_LIFE, 1, "alpine:3.21 is past end of life"),
            ];
            prebuilt
        };
        let note = super::notes(&[prebuilt_with("harden keeps it (HD131 says why)")], true);
        assert!(
            note.starts_with("alpine/Dockerfile: unchanged (HD101 the runtime stage runs on alpine:3.21"),
            "{note}"
        );
        assert!(note.contains("; HD131 no go build of the program in the file)"), "{note}");
        // Two reasons, said together (`HD131 and HD135 say why`): the first is told.
        let mut two = prebuilt_with("harden keeps it (HD131 and HD135 say why)");
        two.findings.push(info(&crate::rules::RUNTIME_NEEDS_SHELL, "the runtime stage runs `chown`"));
        let note = super::notes(&[two], true);
        assert!(note.contains("(HD101 the runtime stage runs on alpine:3.21; harden keeps it (HD131 and HD135 say why); HD131 no go build"), "{note}");
        // A build harden does not follow, told at info, is why the file is kept, before a
        // warning about a tag (OCM's ubi-micro:latest).
        let mut made = report("build/Dockerfile.addon", Status::Unchanged, None);
        made.findings = vec![
            info(&crate::rules::UNKNOWN_BUILD_OUTPUT, "`make build` builds it, which harden does not follow"),
            Finding::new(&crate::rules::LATEST_TAG, 12, "ubi-micro:latest has no version tag"),
        ];
        let note = super::notes(&[made], true);
        assert!(note.starts_with("build/Dockerfile.addon: unchanged (HD131 `make build` builds it"), "{note}");
        // An error beside it (the build fails) is told first.
        let mut failing = report("agent/Dockerfile", Status::Unchanged, None);
        failing.findings = vec![
            info(&crate::rules::UNKNOWN_BUILD_OUTPUT, "`make build` builds it, which harden does not follow"),
            Finding::new(
                &crate::rules::GO_OLDER_THAN_MODULE,
                1,
                "Go 1.25 builds a module whose go.mod says `go 1.26.0`",
            ),
        ];
        let note = super::notes(&[failing], true);
        assert!(note.starts_with("agent/Dockerfile: unchanged (HD160 Go 1.25"), "{note}");
        // Alone at info (a runtime already shell-less and not root), it leaves nothing to fix.
        let mut hardened = report("Dockerfile.adapter", Status::Unchanged, None);
        hardened.findings = vec![info(&crate::rules::UNKNOWN_BUILD_OUTPUT, "the runtime is already shell-less")];
        let note = super::notes(&[hardened], true);
        assert!(note.starts_with("Dockerfile.adapter: unchanged (nothing to fix but 1 finding at info)"), "{note}");
        // A repository with nothing harden reads says so in plain words.
        let funding = FileReport::new(".github/FUNDING.yml".into(), Kind::Kubernetes, Status::Skipped, None);
        let nothing = super::notes(&[funding], true);
        assert!(
            nothing.ends_with(": nothing here for harden to change (`harden scan` says why each file is skipped)\n"),
            "{nothing}"
        );
    }
}
