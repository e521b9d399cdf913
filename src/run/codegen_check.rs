//! The checks that generated files are current (`make manifests` then `git diff --exit-code`):
//! a change to a render's input without its regenerated output fails them, so harden holds such
//! a change back where a check compares that output.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::checks::{check_files, shown};
use super::{FileReport, Status};
use crate::discover;
use crate::rules;

/// A make variable (`$(TOOLS_DIR)`).
static MAKE_VARIABLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\$\((\w+)\)").expect("a valid pattern"));

/// A place that fails a build on files that differ from what is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CodegenCheck {
    /// Where (`.github/workflows/ci.yaml:472`).
    pub(super) at: String,
    /// The paths it compares (`git diff --quiet HEAD config/crd`), none for the whole tree.
    paths: Vec<String>,
}

impl CodegenCheck {
    /// True when the check compares a path `note` (an HK223 finding, which names the files
    /// kept stale) names.
    fn covers(&self, note: &str) -> bool {
        self.paths.is_empty() || self.paths.iter().any(|path| note.contains(path.as_str()))
    }
}

/// Each place where the repository fails a build on files that differ from what is committed
/// (`git diff --exit-code`, `git status --porcelain`, `git status -s … | grep`), as a check
/// that generated files are current does, in the order the files are read.
pub(super) fn codegen_checks(repo: &Path) -> Vec<CodegenCheck> {
    let mut checks = Vec::new();
    for path in check_files(repo) {
        let Ok(text) = discover::read_text(&path) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        for i in (0..lines.len()).filter(|&i| fails_on_a_difference(&lines[i..])) {
            checks.push(CodegenCheck { at: format!("{}:{}", shown(repo, &path), i + 1), paths: compared(lines[i]) });
        }
    }
    checks
}

/// True when the first of `lines` fails a build on files that differ from what is committed:
/// `git diff --exit-code` (or `--quiet`) as a command of its own, or `git status --porcelain`
/// (or `-s`) whose answer leads to `exit 1` within the few lines after it or that `test -z`
/// tests as a command of its own; not the tree state a
/// version stamp records (`GIT_TREE_STATE=$(shell if [ -z "`git status --porcelain`" ] …)`,
/// `git diff --quiet || echo dirty`).
fn fails_on_a_difference(lines: &[&str]) -> bool {
    let line = lines[0].trim();
    let substituted = ["$(shell", "`git", "$(git", "|| echo"].iter().any(|s| line.contains(s));
    // `test -z "$(git status --porcelain)"` is a command of its own, which fails the step.
    let own_test = ["test -z", "[ -z", "[[ -z"].iter().any(|t| line.starts_with(t));
    if line.starts_with('#') || (substituted && !own_test) {
        return false;
    }
    let diff = (line.contains("git diff") || line.contains("git --no-pager diff"))
        && (line.contains("--exit-code") || line.contains("--quiet"));
    let status = line.contains("git status")
        && (line.contains("--porcelain") || line.contains(" -s ") || line.contains("--short"));
    diff || (status && (own_test || lines.iter().take(8).any(|l| l.contains("exit 1"))))
}

/// The paths a check's `git diff` or `git status` compares (`git diff --quiet HEAD config/crd`,
/// `git diff --exit-code -- go.mod go.sum`), none where it compares the whole tree or names a
/// path harden cannot read (`$(DIR)`).
fn compared(line: &str) -> Vec<String> {
    let Some((_, after)) = ["git diff", "git --no-pager diff", "git status"].iter().find_map(|c| line.split_once(c))
    else {
        return Vec::new();
    };
    // A make variable's `$(NAME)` is written `${NAME}`, so that `)` ends only a substitution.
    let after = MAKE_VARIABLE.replace_all(after, "$${$1}");
    let command = after.split(['|', ';', ')', '&', '`']).next().unwrap_or_default();
    let words: Vec<&str> = command.split_whitespace().map(|w| w.trim_matches(['"', '\''])).collect();
    let paths: Vec<&str> = match words.iter().position(|w| *w == "--") {
        Some(at) => words[at + 1..].to_vec(),
        // A revision (`HEAD`, `origin/main`, `main...HEAD`) is no path.
        None => (words.iter().copied())
            .filter(|w| !w.starts_with('-') && !w.starts_with("HEAD") && !w.contains("..") && !w.starts_with("origin/"))
            .collect(),
    };
    // A path below a variable (`$(TOOLS_DIR)/go.sum`) is known by what follows it.
    let literal = |p: &str| p.rsplit([')', '}']).next().unwrap_or(p).trim_matches('/').to_string();
    let paths: Vec<String> = paths.iter().map(|p| if p.contains('$') { literal(p) } else { p.to_string() }).collect();
    if paths.iter().any(|p| p.is_empty() || p.contains('$') || matches!(p.as_str(), "." | "./" | ":/")) {
        return Vec::new();
    }
    paths.iter().map(|p| p.trim_start_matches("./").trim_end_matches('/').to_string()).collect()
}

/// Holds back the change to each manifest whose workloads a generated file the repository
/// keeps also holds (HK223), where one of `checks` (see [`codegen_checks`]) compares that file,
/// failing a build on it left stale: the pull request would fail it, and harden runs no
/// generator. The findings stay, none fixed.
pub(super) fn hold_back_stale_inputs(reports: &mut [FileReport], checks: &[CodegenCheck]) {
    for report in reports.iter_mut().filter(|r| r.status == Status::Changed) {
        let stale = report.findings.iter().find(|f| f.rule == rules::RENDER_INPUT.id);
        let Some(check) = stale.and_then(|note| checks.iter().find(|c| c.covers(&note.message))) else { continue };
        report.reason = Some(format!(
            "harden proposes no change to it: {} fails a build whose generated files are not what the generator writes, and harden does not run the generator (HK223 names it); the findings say what to set",
            check.at
        ));
        report.status = Status::Unchanged;
        report.rewritten = None;
        report.security = false;
        report.findings.iter_mut().for_each(crate::kubernetes::analyse::not_fixed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each check of `repo` is.
    fn places(repo: &Path) -> Vec<String> {
        codegen_checks(repo).into_iter().map(|c| c.at).collect()
    }

    #[test]
    fn a_check_that_generated_files_are_current_is_found() {
        let repo = tempfile::tempdir().unwrap();
        let workflows = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        std::fs::write(workflows.join("build.yaml"), "steps:\n  - run: make test\n").unwrap();
        assert!(places(repo.path()).is_empty());
        let codegen =
            "steps:\n  - run: make codegen\n  # git diff --exit-code in a comment\n  - run: git diff --exit-code\n";
        std::fs::write(workflows.join("codegen.yaml"), codegen).unwrap();
        assert_eq!(places(repo.path()), [".github/workflows/codegen.yaml:4"]);
        // A script in a directory of hack/ that greps `git status -s`.
        std::fs::remove_file(workflows.join("codegen.yaml")).unwrap();
        let actions = repo.path().join("hack/actions");
        std::fs::create_dir_all(&actions).unwrap();
        let script = "#!/bin/sh\nif git status -s examples/ | grep -q .; then exit 1; fi\n";
        std::fs::write(actions.join("check-codegen.sh"), script).unwrap();
        let checks = codegen_checks(repo.path());
        assert_eq!(checks[0].at, "hack/actions/check-codegen.sh:2");
        assert_eq!(checks[0].paths, ["examples"]);
        // A version stamp's tree state is no check.
        std::fs::remove_file(actions.join("check-codegen.sh")).unwrap();
        let stamp = "GIT_TREE_STATE=$(shell if [ -z \"`git status --porcelain`\" ]; then echo clean; fi)\nDIRTY=$(shell git diff --quiet || echo dirty)\n";
        std::fs::write(repo.path().join("Makefile"), stamp).unwrap();
        assert!(places(repo.path()).is_empty());
        // `test -z "$(git status --porcelain)"` as a step's command of its own is a check.
        std::fs::write(
            workflows.join("lint.yaml"),
            "steps:\n  - run: |\n      make -C deploy\n      test -z \"$(git status --porcelain)\"\n",
        )
        .unwrap();
        assert_eq!(places(repo.path()), [".github/workflows/lint.yaml:4"]);
    }

    #[test]
    fn a_check_compares_the_paths_it_names_only() {
        assert_eq!(compared("git diff --quiet HEAD config/crd; then"), ["config/crd"]);
        assert_eq!(compared("go mod tidy && git diff --exit-code -- go.mod go.sum"), ["go.mod", "go.sum"]);
        assert!(compared("make generate-all && git diff --exit-code").is_empty());
        assert!(compared("git diff --exit-code origin/main...HEAD -- .").is_empty());
        assert!(compared("git diff --exit-code $(GENERATED_DIRS)").is_empty());
        assert_eq!(compared("@git diff --exit-code -- $(TOOLS_DIR)/go.sum ${TOOLS_DIR}/go.mod"), ["go.sum", "go.mod"]);
        let crds = CodegenCheck { at: "Makefile:96".into(), paths: compared("git diff --quiet HEAD config/crd/") };
        assert!(!crds.covers("this file is read by `kustomize build` in Makefile:63, which writes config/bundle.yaml"));
        assert!(
            crds.covers("this file is read by `controller-gen` in Makefile:20, which writes config/crd/bases/x.yaml")
        );
    }
}
