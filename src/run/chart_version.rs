//! Chart repositories lint their charts with chart-testing (`ct lint`), which fails a changed
//! chart whose `Chart.yaml` keeps its version, and publish them with chart-releaser, which
//! releases a chart by its version and so never publishes a change that keeps it: where the
//! repository runs either, each chart whose values harden changes gets its patch version raised
//! in the same change, as its maintainers' own pull requests do.

use std::path::Path;

use crate::discover::{self, Kind};
use crate::finding::Finding;
use crate::kubernetes;
use crate::rules;

use super::{FileReport, Status};

/// Why a changed chart's version must be raised in this repository, with where
/// (`chart-testing's lint (.github/workflows/lint.yaml:30) fails …`): its `ct lint` with the
/// version check on, else its chart-releaser.
pub(super) fn version_check(repo: &Path) -> Option<VersionCheck> {
    let lint = ct_lint_check(repo).map(|at| VersionCheck {
        why: format!("chart-testing's lint ({at}) fails a changed chart whose version stays"),
        by_lint: true,
    });
    lint.or_else(|| {
        chart_releaser(repo).map(|at| VersionCheck {
            why: format!("chart-releaser ({at}) publishes a chart by its version, so a changed chart whose version stays is not published: that version's release exists already"),
            by_lint: false,
        })
    })
}

/// Why a changed chart's version must be raised, and by what.
pub(super) struct VersionCheck {
    /// What needs it, with where (see [`version_check`]).
    pub(super) why: String,
    /// True when a lint fails the change without it; false when only a release of it waits.
    pub(super) by_lint: bool,
}

/// The first place (`.github/workflows/release.yaml:32`) where a workflow the repository runs on
/// every push publishes its charts with chart-releaser (its GitHub Action, or `cr upload`): one
/// run on a release publishes the chart with the version that release gives it.
fn chart_releaser(repo: &Path) -> Option<String> {
    crate::orchestration::workflow_files(repo).into_iter().find_map(|path| {
        let text = discover::read_text(&path).ok()?;
        let at = text.lines().position(|l| {
            let l = l.trim();
            let words: Vec<&str> = l.split_whitespace().collect();
            !l.starts_with('#')
                && (l.contains("helm/chart-releaser-action@") || words.windows(2).any(|w| w == ["cr", "upload"]))
        })?;
        crate::orchestration::runs_on_push(&text).then(|| format!("{}:{}", super::checks::shown(repo, &path), at + 1))
    })
}

/// The first place (`.github/workflows/lint.yaml:30`) where the repository runs `ct lint` with
/// its version check, which is on unless the command or a chart-testing configuration turns it
/// off (`--check-version-increment=false`, `check-version-increment: false`).
fn ct_lint_check(repo: &Path) -> Option<String> {
    let configured_off = ["ct.yaml", "ct.yml", ".ct.yaml", ".github/ct.yaml", ".github/ct.yml", ".github/ct-lint.yaml"]
        .iter()
        .filter_map(|f| discover::read_text(&repo.join(f)).ok())
        .any(|text| version_check_off(&text));
    if configured_off {
        return None;
    }
    super::checks::first_line(repo, |text| {
        let lint = |l: &&str| {
            let l = l.trim();
            !l.starts_with('#')
                && l.split(|c: char| c.is_whitespace() || c == '"')
                    .collect::<Vec<_>>()
                    .windows(2)
                    .any(|w| w == ["ct", "lint"])
        };
        let at = text.lines().position(|l| lint(&l))?;
        let line = text.lines().nth(at)?;
        // The config a command names (`--config .github/configs/ct-lint.yaml`, or with `=`) may
        // turn it off.
        let words: Vec<&str> = line.split_whitespace().collect();
        let named = super::checks::option_value(&words, &["--config"]);
        // One from a variable (`--config $CT_CONFIG`) is each value the file gives it (a job's `env:`).
        let configs: Vec<&str> = match named {
            Some(word) if word.starts_with('$') => super::checks::variable_values(text, word),
            named => named.into_iter().collect(),
        };
        let off_there = !configs.is_empty()
            && configs.iter().all(|f| discover::read_text(&repo.join(f)).is_ok_and(|t| version_check_off(&t)));
        (!version_check_off(line) && !off_there).then_some(at + 1)
    })
}

/// True when a chart-testing configuration or command turns the version check off: in so many
/// words, or by linting every chart (`--all`, `all: true`), which, as chart-testing documents,
/// checks no version increment.
fn version_check_off(text: &str) -> bool {
    let all = text.lines().any(|l| l.split_whitespace().any(|w| w == "--all") || l.replace(' ', "") == "all:true");
    let text = text.replace(' ', "");
    all || ["check-version-increment:false", "check-version-increment=false", "check-version-incrementfalse"]
        .iter()
        .any(|off| text.contains(off))
}

/// Adds to `reports` a change to the `Chart.yaml` of each chart whose `values.yaml` harden
/// changes, raising its patch version, since `why` (see [`version_check`]) the change needs it;
/// where the version cannot be raised, the values' report says so.
pub(super) fn raise_chart_versions(reports: &mut Vec<FileReport>, check: &VersionCheck) {
    let why = check.why.as_str();
    let mut out = Vec::with_capacity(reports.len());
    for mut report in reports.drain(..) {
        let values = report.source_path.clone().filter(|p| discover::is_chart_values(p));
        let Some(values) = values.filter(|_| report.status == Status::Changed) else {
            out.push(report);
            continue;
        };
        let name = if values.with_file_name("Chart.yml").is_file() { "Chart.yml" } else { "Chart.yaml" };
        let chart = values.with_file_name(name);
        let shown = Path::new(&report.path).with_file_name(name).display().to_string();
        let original = discover::read_text(&chart);
        // Published with the program's next release, which gives the chart its version.
        if let Some(version) =
            original.as_deref().ok().and_then(kubernetes::chart::app_version).filter(|_| !check.by_lint)
        {
            report.findings.push(Finding::new(
                &rules::CHART_VERSION,
                1,
                format!("{why}; but its version is its appVersion ({version}), which each release of the program sets: harden does not raise it, and the change is published with the next release"),
            ));
            out.push(report);
            continue;
        }
        let outcome = match original {
            Ok(original) => kubernetes::chart::raise_patch(&original).map(|raised| (original, raised)),
            Err(_) => Err("its Chart.yaml cannot be read".to_string()),
        };
        match outcome {
            Ok((original, raised)) => {
                let message = format!(
                    "the chart's version goes from {} to {} with the change to its values: {why}",
                    raised.from, raised.to
                );
                let mut finding = Finding::new(&rules::CHART_VERSION, raised.line, message);
                finding.fixed = true;
                let reason = "its version, raised with the change to the chart's values.yaml";
                let mut bump = FileReport::new(shown, Kind::Kubernetes, Status::Changed, Some(reason.into()));
                bump.findings = vec![finding];
                bump.original = Some(original);
                bump.rewritten = Some(raised.text);
                bump.source_path = Some(chart);
                // It goes with the values' security change, and only with it.
                bump.security = true;
                out.push(report);
                out.push(bump);
            }
            Err(cannot) => {
                report.findings.push(Finding::new(
                    &rules::CHART_VERSION,
                    1,
                    format!("{why}, and harden does not raise this one: {cannot}; raise it with the change"),
                ));
                out.push(report);
            }
        }
    }
    *reports = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_releaser_needs_a_raised_version_unless_ct_lint_says_it_first() {
        let repo = tempfile::tempdir().unwrap();
        let workflows = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        let steps = "jobs:\n  release:\n    steps:\n      # helm/chart-releaser-action@v1 once\n      - uses: helm/chart-releaser-action@v1.7.0\n";
        let pushed = format!("on:\n  push:\n    branches: [main]\n{steps}");
        std::fs::write(workflows.join("release.yaml"), pushed).unwrap();
        let why = version_check(repo.path()).unwrap().why;
        assert!(why.starts_with("chart-releaser (.github/workflows/release.yaml:8) publishes"), "{why}");
        let upload =
            "on: [push]\njobs:\n  release:\n    steps:\n      - run: cr upload --owner acme --git-repo charts\n";
        std::fs::write(workflows.join("release.yaml"), upload).unwrap();
        assert!(version_check(repo.path()).unwrap().why.contains("(.github/workflows/release.yaml:5)"));
        // One run on a release publishes the chart with that release's version.
        let released = format!("on:\n  release:\n    types: [published]\n{steps}");
        std::fs::write(workflows.join("release.yaml"), released).unwrap();
        assert!(version_check(repo.path()).is_none());
        std::fs::write(workflows.join("lint.yaml"), "- run: ct lint\n").unwrap();
        let why = version_check(repo.path()).unwrap().why;
        assert!(why.starts_with("chart-testing's lint (.github/workflows/lint.yaml:1)"), "{why}");
    }

    #[test]
    fn ct_lint_counts_where_its_version_check_is_on() {
        let repo = tempfile::tempdir().unwrap();
        let workflows = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        let lint = "steps:\n  # ct lint in a comment\n  - run: ct lint --config .github/configs/ct.yaml\n";
        std::fs::write(workflows.join("lint.yaml"), lint).unwrap();
        assert_eq!(ct_lint_check(repo.path()).as_deref(), Some(".github/workflows/lint.yaml:3"));
        // The configuration the command names turns the check off.
        std::fs::create_dir_all(repo.path().join(".github/configs")).unwrap();
        std::fs::write(repo.path().join(".github/configs/ct.yaml"), "check-version-increment: false\n").unwrap();
        assert_eq!(ct_lint_check(repo.path()), None);
        let named_with_equals = "- run: ct lint --config=.github/configs/ct.yaml --validate-maintainers=false\n";
        std::fs::write(workflows.join("lint.yaml"), named_with_equals).unwrap();
        assert_eq!(ct_lint_check(repo.path()), None, "--config=FILE names it too");
        let by_variable = "jobs:\n  lint:\n    env:\n      CT_CONFIG: .github/configs/ct.yaml\n    steps:\n      - run: ct lint --config $CT_CONFIG\n";
        std::fs::write(workflows.join("lint.yaml"), by_variable).unwrap();
        assert_eq!(ct_lint_check(repo.path()), None, "the file its job's env names");
        let elsewhere = by_variable.replace("CT_CONFIG: .github/configs/ct.yaml", "CT_CONFIG: ct-on.yaml");
        std::fs::write(workflows.join("lint.yaml"), elsewhere).unwrap();
        assert_eq!(
            ct_lint_check(repo.path()).as_deref(),
            Some(".github/workflows/lint.yaml:6"),
            "one that keeps it on"
        );
        // So does the command itself, or a configuration where chart-testing looks for one.
        std::fs::write(workflows.join("lint.yaml"), "- run: ct lint --check-version-increment=false\n").unwrap();
        assert_eq!(ct_lint_check(repo.path()), None);
        std::fs::write(workflows.join("lint.yaml"), "- run: ct lint --config .ct/ct-lint.yml --all\n").unwrap();
        assert_eq!(ct_lint_check(repo.path()), None, "--all checks no version increment");
        std::fs::write(workflows.join("lint.yaml"), "- run: ct lint\n").unwrap();
        assert!(ct_lint_check(repo.path()).is_some());
        std::fs::write(repo.path().join("ct.yaml"), "check-version-increment: false\n").unwrap();
        assert_eq!(ct_lint_check(repo.path()), None);
    }
}
