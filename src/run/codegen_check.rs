//! The checks that generated files are current (`make manifests` then `git diff --exit-code`):
//! a change to a render's input without its regenerated output fails them, so harden holds such
//! a change back where a check compares that output.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::checks::{check_files, included_makefiles, option_value, shown};
use super::{FileReport, Status};
use crate::discover;
use crate::rules;
use crate::source::make_builds::{made_targets, recipes_run};

/// A make variable (`$(TOOLS_DIR)`).
static MAKE_VARIABLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\$\((\w+)\)").expect("a valid pattern"));

/// A place that fails a build on files that differ from what is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CodegenCheck {
    /// Where (`.github/workflows/ci.yaml:472`).
    pub(super) at: String,
    /// The paths it compares (`git diff --quiet HEAD config/crd`), none for the whole tree.
    paths: Vec<String>,
    /// What the make rules run before it regenerate; none where nothing says (no make rule
    /// harden reads).
    regenerates: Option<Regenerated>,
}

/// What the make rules a check runs first regenerate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Regenerated {
    /// The rules run (`create`, and the `create-helm-charts` it depends on).
    rules: Vec<String>,
    /// The text of their recipes and of the scripts those run.
    text: String,
}

impl Regenerated {
    /// True when `note` names one of the rules, or a file (a manifest, a chart's partial, a
    /// script) the recipes name.
    fn writes_what(&self, note: &str) -> bool {
        let words = self.text.split(|c: char| c.is_whitespace() || "<>=\"';()".contains(c));
        let named = [".yaml", ".yml", ".tpl", ".sh"];
        let mut files = words.map(|w| w.trim_start_matches("./")).filter(|w| named.iter().any(|e| w.ends_with(e)));
        self.rules.iter().any(|rule| note.contains(&format!("`make {rule}`")))
            || files.any(|w| !w.contains('$') && note.contains(w))
    }
}

impl CodegenCheck {
    /// True when the check compares a path `note` (an HK223 finding, which names the files
    /// kept stale and what writes them) names, after running what writes it (or something
    /// harden cannot follow): `make codegen` then `git diff --exit-code` fails on stale CRDs,
    /// not on an install file only a release writes.
    fn covers(&self, note: &str) -> bool {
        let compared = self.paths.is_empty() || self.paths.iter().any(|path| note.contains(path.as_str()));
        compared && self.regenerates.as_ref().is_none_or(|r| r.writes_what(note))
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
        let mut from = 0;
        for i in (0..lines.len()).filter(|&i| fails_on_a_difference(&lines[i..])) {
            let regenerates = regenerated(repo, &path, &lines, from, i);
            let (at, paths) = (format!("{}:{}", shown(repo, &path), i + 1), compared(lines[i]));
            checks.push(CodegenCheck { at, paths, regenerates });
            from = i + 1;
        }
    }
    checks
}

/// What the make rules run before the check at `lines[at]` (since `lines[from]`) regenerate:
/// the rule a Makefile's check is in, or the `make` commands before a workflow's or script's,
/// followed through their Makefile's rules and the scripts their recipes run. None where no make
/// rule is run or one is not found (a pattern rule, another file's), which says nothing.
fn regenerated(repo: &Path, path: &Path, lines: &[&str], from: usize, at: usize) -> Option<Regenerated> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let mut runs: Vec<(PathBuf, String)> = Vec::new();
    if name == "Makefile" || name == "GNUmakefile" || name.ends_with(".mk") {
        let head = lines[..at].iter().rev().find(|l| !l.starts_with(['\t', ' ', '#']) && !l.trim().is_empty())?;
        let (target, _) = head.split_once(':').filter(|(t, rest)| !t.contains(['=', '$']) && !rest.starts_with('='))?;
        // An included file's rules are read with the root Makefile's.
        let makefile = if name.ends_with(".mk") { repo.join("Makefile") } else { path.to_path_buf() };
        runs.push((makefile, target.split_whitespace().next()?.to_string()));
    }
    // The check's own line runs make too before it compares (`make generate && git diff --exit-code`).
    let before_check = lines[at].split("git ").next().unwrap_or_default();
    // Each command of a line (`make generate && make manifests`), none of a comment's words.
    let code = lines[from..at].iter().chain([&before_check]).filter(|l| !l.trim_start().starts_with('#'));
    for line in code.flat_map(|l| l.split(['&', '|', ';'])) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(make) = words.iter().position(|w| *w == "make") else { continue };
        let elsewhere = option_value(&words[make..], &["-C", "--directory"]);
        let makefile = elsewhere.map_or(repo.join("Makefile"), |d| repo.join(d).join("Makefile"));
        let own: Vec<&str> = (words[make..].iter().copied())
            .filter(|w| Some(*w) != elsewhere && !w.starts_with("-C") && !w.starts_with("--directory"))
            .collect();
        runs.extend(made_targets(&own.join(" ")).into_iter().map(|t| (makefile.clone(), t)));
    }
    let (mut rules_run, mut text) = (Vec::new(), String::new());
    for (makefile, target) in &runs {
        let mut rules = discover::read_text(makefile).ok()?;
        if makefile == &repo.join("Makefile") {
            let included = included_makefiles(repo, &rules);
            rules.extend(included.iter().filter_map(|f| discover::read_text(f).ok()).map(|t| format!("\n{t}")));
        }
        let (run, recipes) = recipes_run(&crate::orchestration::variables_spelled(&rules), target);
        if run.is_empty() {
            return None;
        }
        rules_run.extend(run);
        let base = makefile.parent().unwrap_or(repo);
        for line in recipes {
            let scripts = line.split_whitespace().filter(|w| w.ends_with(".sh") && !w.contains('$'));
            let texts: Vec<String> = scripts.filter_map(|s| discover::read_text(&base.join(s)).ok()).collect();
            text.extend([line, "\n".into()].into_iter().chain(texts));
        }
    }
    (!runs.is_empty()).then_some(Regenerated { rules: rules_run, text })
}

/// True when the first of `lines` fails a build on files that differ from what is committed:
/// `git diff --exit-code` (or `--quiet`) as a command of its own, or `git status --porcelain`
/// (or `-s`) whose answer leads to `exit 1` within the few lines after it or that `test -z`
/// tests as a command of its own (a `git diff` an `if` tests must lead to `exit 1` too); not the
/// tree state a version stamp records (`GIT_TREE_STATE=$(shell if [ -z "`git status
/// --porcelain`" ] …)`, `git diff --quiet || echo dirty`).
fn fails_on_a_difference(lines: &[&str]) -> bool {
    let line = lines[0].trim();
    let substituted = ["$(shell", "`git", "$(git", "|| echo"].iter().any(|s| line.contains(s));
    // `test -z "$(git status --porcelain)"` is a command of its own, which fails the step.
    let own_test = ["test -z", "[ -z", "[[ -z"].iter().any(|t| line.starts_with(t));
    // A condition that tests the answer (`if [[ -n "$(git status --porcelain)" ]]`) fails where it exits.
    let condition = ["if ", "elif "].iter().any(|c| line.starts_with(c));
    let exits = lines.iter().take(8).any(|l| l.contains("exit 1"));
    let tested = condition && [" -n ", " -z "].iter().any(|t| line.contains(t)) && exits;
    if line.starts_with('#') || (substituted && !own_test && !tested) {
        return false;
    }
    let diff = (line.contains("git diff") || line.contains("git --no-pager diff"))
        && (line.contains("--exit-code") || line.contains("--quiet"));
    let status = line.contains("git status")
        && (line.contains("--porcelain") || line.contains(" -s ") || line.contains("--short"));
    // A condition (`if ! git diff-files --quiet; then echo changes=1`) fails only where it exits.
    (diff && (!condition || exits)) || (status && (own_test || exits))
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
        // So is a condition on its answer that exits (ipam-extensions' checks.yaml).
        let tested = "steps:\n  - run: |\n      make build-installer\n      if [[ -n \"$(git status --porcelain)\" ]]; then\n        exit 1\n      fi\n";
        std::fs::write(workflows.join("lint.yaml"), tested).unwrap();
        assert_eq!(places(repo.path()), [".github/workflows/lint.yaml:4"]);
    }

    #[test]
    fn a_check_runs_the_make_rules_of_its_own_line_and_not_a_comments() {
        let repo = tempfile::tempdir().unwrap();
        let makefile = "generate:\n\tcontroller-gen object paths=./api/...\nmanifests:\n\tcontroller-gen crd output:crd:dir=config/crd\nbundle:\n\toperator-sdk generate bundle\n";
        std::fs::write(repo.path().join("Makefile"), makefile).unwrap();
        let workflows = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        let step = "steps:\n  # if this fails, run make generate; make manifests and commit\n  - run: make generate && make manifests && git diff --exit-code\n";
        std::fs::write(workflows.join("lint.yml"), step).unwrap();
        let checks = codegen_checks(repo.path());
        assert_eq!(checks[0].regenerates.as_ref().unwrap().rules, ["generate", "manifests"]);
        assert!(!checks[0].covers("read by `operator-sdk generate bundle`, which writes bundle/: run `make bundle`"));
    }

    #[test]
    fn a_check_covers_what_the_make_rules_it_runs_write() {
        let repo = tempfile::tempdir().unwrap();
        let makefile = "BASE := charts/setup/templates\ncodegen: crds\ncrds:\n\tcontroller-gen crd paths=./...\nrelease:\n\tkustomize build config/default > deploy/install.yaml\n";
        std::fs::write(repo.path().join("Makefile"), makefile).unwrap();
        std::fs::create_dir_all(repo.path().join("k8s")).unwrap();
        let charts = "BASE := charts/setup/templates\ncreate: create-charts\ncreate-charts:\n\tkustomize build kustomize/ns > ${BASE}/_components.tpl\n";
        std::fs::write(repo.path().join("k8s/Makefile"), charts).unwrap();
        let workflows = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        let steps = "steps:\n  - run: |\n      make codegen\n      git diff --exit-code\n  - run: |\n      make -C k8s create\n      git diff --exit-code\n  - run: |\n      if ! git diff-files --quiet; then\n        echo changes=1\n      fi\n";
        std::fs::write(workflows.join("check.yaml"), steps).unwrap();
        let checks = codegen_checks(repo.path());
        // The condition that only records a change is no check.
        assert_eq!(checks.len(), 2);
        let install = "Deployment/api is also in deploy/install.yaml, a file generated by Makefile";
        let partial = "this file is read by `kustomize build` in k8s/Makefile:4, which writes charts/setup/templates/_components.tpl, kept in the repository: run `make create-charts` after this change";
        // `make codegen` writes CRDs, not the install file only a release writes.
        assert!(!checks[0].covers(install) && !checks[0].covers(partial));
        // `make -C k8s create` renders the chart's partial, its path spelled from a variable.
        assert!(checks[1].covers(partial) && !checks[1].covers(install));
    }

    #[test]
    fn a_check_compares_the_paths_it_names_only() {
        assert_eq!(compared("git diff --quiet HEAD config/crd; then"), ["config/crd"]);
        assert_eq!(compared("go mod tidy && git diff --exit-code -- go.mod go.sum"), ["go.mod", "go.sum"]);
        assert!(compared("make generate-all && git diff --exit-code").is_empty());
        assert!(compared("git diff --exit-code origin/main...HEAD -- .").is_empty());
        assert!(compared("git diff --exit-code $(GENERATED_DIRS)").is_empty());
        assert_eq!(compared("@git diff --exit-code -- $(TOOLS_DIR)/go.sum ${TOOLS_DIR}/go.mod"), ["go.sum", "go.mod"]);
        let paths = compared("git diff --quiet HEAD config/crd/");
        let crds = CodegenCheck { at: "Makefile:96".into(), paths, regenerates: None };
        assert!(!crds.covers("this file is read by `kustomize build` in Makefile:63, which writes config/bundle.yaml"));
        assert!(
            crds.covers("this file is read by `controller-gen` in Makefile:20, which writes config/crd/bases/x.yaml")
        );
    }
}
