//! The checks a repository runs on the files it generates and keeps: that its charts' READMEs
//! are what helm-docs makes of their values (a workflow step, a pre-commit hook, a Makefile or
//! nix check that runs `helm-docs`), that a chart's schema is what its generator writes; and
//! where such checks are written (`codegen_check` reads them for `git diff --exit-code`). A
//! change to an input without the regenerated files fails them.

use std::path::{Path, PathBuf};

use crate::discover;
use crate::kubernetes::chart::Guard;

/// The files, relative to the repository, where checks are written.
const CHECK_FILES: &[&str] = &[
    ".pre-commit-config.yaml",
    "Makefile",
    ".gitlab-ci.yml",
    ".circleci/config.yml",
    "Taskfile.yml",
    "justfile",
    "Justfile",
    ".justfile",
];
/// The directories, relative to the repository, whose files (and their directories' files) are
/// where checks are written.
const CHECK_DIRS: &[&str] = &[".github/workflows", "nix", "hack", "scripts", "build"];

/// The first place (`nix/checks.nix:165`) where the repository runs helm-docs.
pub(super) fn helm_docs_check(repo: &Path) -> Option<String> {
    first_line(repo, runs_helm_docs)
}

/// `path:line` of the first line `find` finds in the files where checks are written.
pub(super) fn first_line(repo: &Path, find: impl Fn(&str) -> Option<usize>) -> Option<String> {
    check_files(repo).into_iter().find_map(|path| {
        let text = discover::read_text(&path).ok()?;
        let line = find(&text)?;
        Some(format!("{}:{line}", shown(repo, &path)))
    })
}

/// A file of `repo` as shown: relative to it.
pub(super) fn shown(repo: &Path, path: &Path) -> String {
    path.strip_prefix(repo).unwrap_or(path).display().to_string()
}

/// The files where checks are written, in the order they are read: the listed files, those of
/// the listed directories, then the Makefiles they run elsewhere.
pub(super) fn check_files(repo: &Path) -> Vec<PathBuf> {
    let listed = CHECK_FILES.iter().map(|f| repo.join(f));
    // Their files, and those of the directories in them (`hack/actions/check-codegen.sh`).
    let in_dirs = CHECK_DIRS.iter().flat_map(|d| {
        let walk = ignore::WalkBuilder::new(repo.join(d)).standard_filters(false).max_depth(Some(2)).build();
        let mut files: Vec<_> = walk.flatten().map(|e| e.into_path()).collect();
        files.sort();
        files
    });
    let mut files: Vec<PathBuf> = listed.chain(in_dirs).filter(|p| p.is_file()).collect();
    // The makefiles the root Makefile includes (`include make/helm.mk`), where its rules are.
    let included = discover::read_text(&repo.join("Makefile")).map(|text| included_makefiles(repo, &text));
    for path in included.unwrap_or_default() {
        if !files.contains(&path) {
            files.push(path);
        }
    }
    // And the Makefiles they run elsewhere (`make -C install/kubernetes`).
    let run_elsewhere = files.iter().filter_map(|f| discover::read_text(f).ok()).flat_map(|text| {
        let dirs: Vec<PathBuf> = (text.lines())
            .filter_map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                let make = words.iter().position(|w| *w == "make")?;
                Some(repo.join(option_value(&words[make..], &["-C", "--directory"])?).join("Makefile"))
            })
            .collect();
        dirs
    });
    let mut elsewhere: Vec<PathBuf> = run_elsewhere.filter(|p| p.is_file() && !files.contains(p)).collect();
    elsewhere.sort();
    elsewhere.dedup();
    files.into_iter().chain(elsewhere).collect()
}

/// The files a Makefile at the root of `repo` includes (`include make/helm.mk`, `-include
/// make/*.mk`), where they are literal paths or a directory's files of one extension.
pub(super) fn included_makefiles(repo: &Path, makefile: &str) -> Vec<PathBuf> {
    let words = makefile.lines().filter_map(|line| {
        let line = line.trim_end();
        ["include ", "-include ", "sinclude "].iter().find_map(|keyword| line.strip_prefix(keyword))
    });
    let mut out = Vec::new();
    for word in words.flat_map(str::split_whitespace).filter(|w| !w.contains('$')) {
        match word.rsplit_once("/*") {
            Some((dir, ext)) if !ext.contains(['*', '/']) => {
                let listed = std::fs::read_dir(repo.join(dir)).into_iter().flatten().flatten().map(|e| e.path());
                let mut matched: Vec<PathBuf> =
                    listed.filter(|p| p.to_str().is_some_and(|p| p.ends_with(ext)) && p.is_file()).collect();
                matched.sort();
                out.extend(matched);
            }
            Some(_) => {}
            None => out.extend(Some(repo.join(word)).filter(|p| p.is_file())),
        }
    }
    out
}

/// What else checks the values.yaml of the chart in `chart` (`rel` gives a path in it relative
/// to it), so that harden proposes no change to it: its tests, a helm-docs README or a schema the
/// repository regenerates (`checks`: where it runs helm-docs, and a schema generator), or its
/// schema, which lets through only values that pass it.
pub(super) fn chart_guard(
    chart: &Path,
    rel: &dyn Fn(&Path) -> PathBuf,
    (helm_docs, schema_generator): (Option<&str>, Option<&str>),
) -> Option<Guard> {
    let schema = chart.join("values.schema.json");
    let docs = helm_docs.filter(|_| readme_by_helm_docs(chart)).map(|at| Guard::Docs(at.to_string()));
    let docs = docs.or_else(|| docs_written_for(chart).map(Guard::Docs));
    let generated = schema_generator.filter(|_| schema.is_file()).map(|at| Guard::GeneratedSchema(at.to_string()));
    let validated = schema.is_file().then(|| Guard::Schema(discover::read_text(&schema).ok()));
    Guard::of_tests(&super::repository::chart_tests(chart, rel)).or(docs).or(generated).or(validated)
}

/// The 1-based line of a text that runs a values.schema.json generator (`helm schema`, the
/// helm-values-schema-json plugin; `helm-schema`), not one that installs it.
pub(super) fn runs_schema_generator(text: &str) -> Option<usize> {
    let runs = |line: &str| {
        let words: Vec<&str> = line.trim().trim_start_matches(['-', '@']).split_whitespace().collect();
        !line.trim_start().starts_with('#')
            && (words.windows(2).any(|w| w == ["helm", "schema"]) || words.first() == Some(&"helm-schema"))
    };
    text.lines().position(runs).map(|i| i + 1)
}

/// True when helm-docs writes the README of the chart in `chart`: it has helm-docs's template
/// (`README.md.gotmpl`) or its README says helm-docs made it.
fn readme_by_helm_docs(chart: &Path) -> bool {
    chart.join("README.md.gotmpl").is_file()
        || discover::read_text(&chart.join("README.md")).is_ok_and(|text| text.contains("helm-docs"))
}

/// Where a helm-docs command writes the docs of the chart in `chart` to a file it names, often
/// outside the chart (`$(HELM_DOCS) -c deploy/charts/x -o ../../../Documentation/x.md`): a
/// values change changes that file, which the check regenerates.
fn docs_written_for(chart: &Path) -> Option<String> {
    let repo = super::repo_root(chart);
    let chart = chart.canonicalize().ok()?;
    let rel = chart.strip_prefix(&repo).ok()?.to_str()?.to_string();
    first_line(&repo, |text| {
        let named = |line: &str| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let root = option_value(&words, &["-c", "--chart-search-root"]);
            line.to_ascii_lowercase().replace('_', "-").contains("helm-docs")
                && option_value(&words, &["-o", "--output-file"]).is_some()
                && root.map(|r| r.trim_start_matches("./").trim_end_matches('/')) == Some(rel.as_str())
        };
        crate::source::rendered::logical_lines(text).into_iter().find(|(_, l)| named(l)).map(|(i, _)| i + 1)
    })
}

/// The value a command's words give one of the option's `names`, written `--config FILE` or
/// `--config=FILE`.
pub(super) fn option_value<'a>(words: &[&'a str], names: &[&str]) -> Option<&'a str> {
    words.iter().enumerate().find_map(|(i, word)| match word.split_once('=') {
        Some((name, value)) if names.contains(&name) => Some(value),
        _ if names.contains(word) => words.get(i + 1).copied(),
        _ => None,
    })
}

/// The 1-based line of a text that runs helm-docs (a command, a pre-commit hook's id), not one
/// that only names the package (`pkgs.helm-docs`) or mentions it in a comment.
fn runs_helm_docs(text: &str) -> Option<usize> {
    let runs = |raw: &str| {
        let line = raw.trim();
        let words: Vec<&str> = line.trim_start_matches(['@', '-']).split_whitespace().collect();
        // A make rule's head (`deps: bin/helm-docs`) or a variable's value (`HELM_DOCS_BIN :=
        // helm-docs`) names it without running it…
        let rule = !raw.starts_with([' ', '\t'])
            && raw.split_once(':').is_some_and(|(target, rest)| {
                !target.contains(['=', '$', '"', '\'', '#']) && !rest.starts_with('=') && !target.trim().is_empty()
            });
        let assignment = words.get(1).is_some_and(|w| matches!(*w, "=" | ":=" | "?=" | "+=" | "!="));
        // …and a recipe runs it through such a variable (`$(HELM_DOCS_BIN) -c deploy/charts/`).
        let by_variable = words.first().and_then(|w| variable_value(text, w)).is_some_and(|value| {
            value.rsplit('/').next().is_some_and(|name| name.trim_matches(['"', '\'']) == "helm-docs")
        });
        // A URL names where helm-docs comes from (`repo: https://…/helm-docs`), not a run; nor
        // does a command that installs or links it (`@ln -sf helm-docs-1.5.0 bin/helm-docs`).
        let installs = line.trim_start_matches(['@', '-']).split_whitespace().next().is_some_and(|command| {
            matches!(command, "ln" | "cp" | "mv" | "chmod" | "mkdir" | "curl" | "wget" | "rm" | "install" | "tar")
        });
        // Its image run as a step (`uses: docker://jnorwood/helm-docs:v1.10.0`, `docker run
        // jnorwood/helm-docs:v1.14.2`) is a run, tag and all.
        let image_run = line.split_whitespace().any(|word| {
            // A Makefile's variable names it (`$(HELMDOCS_IMAGE)`, set to jnorwood/helm-docs:v1.14.2).
            let word = variable_value(text, word).unwrap_or(word);
            let image = word.trim_matches(['"', '\'']).strip_prefix("docker://");
            let image = image.or(line.contains("docker run").then_some(word));
            image
                .and_then(|i| i.rsplit_once('/'))
                .is_some_and(|(_, name)| name.split([':', '@']).next() == Some("helm-docs"))
        });
        !line.starts_with('#')
            && !installs
            && !rule
            && !assignment
            && (image_run
                || by_variable
                || !line.contains("://")
                    && line.match_indices("helm-docs").any(|(at, _)| {
                        let before = line[..at].chars().next_back();
                        let after = line[at + "helm-docs".len()..].chars().next();
                        before.is_none_or(|c| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | ':' | '`' | '('))
                            && after.is_none_or(|c| c.is_whitespace() || matches!(c, '"' | '\'' | ';' | ')' | '`'))
                    }))
    };
    text.lines().position(runs).map(|i| i + 1)
}

/// The value `text` first sets the variable `word` refers to (see [`variable_values`]).
fn variable_value<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    variable_values(text, word).into_iter().next()
}

/// The values `text` sets the variable `word` refers to (`$(NAME)`, `${NAME}`, `$NAME`), in
/// its order: each `NAME = value` line's (or `?=`, `:=`, a workflow `env:`'s `NAME: value`,
/// a shell's `NAME=value`).
pub(super) fn variable_values<'a>(text: &'a str, word: &str) -> Vec<&'a str> {
    let Some(name) = word.strip_prefix('$') else { return Vec::new() };
    let name = name.trim_matches(['(', ')', '{', '}', '"', '\'']);
    let values = text.lines().filter_map(|line| {
        let rest = line.trim().trim_start_matches("export ").strip_prefix(name)?;
        let rest = rest.trim_start().trim_start_matches([':', '?']);
        rest.strip_prefix('=').or_else(|| line.trim().strip_prefix(name)?.strip_prefix(':'))
    });
    values.map(|value| value.trim().trim_matches(['"', '\''])).filter(|value| !value.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_helm_docs_is_told_from_a_mention() {
        assert_eq!(runs_helm_docs("buildInputs = [\n  pkgs.helm-docs\n];\n"), None);
        assert_eq!(runs_helm_docs("# helm-docs renders the README\n"), None);
        assert_eq!(runs_helm_docs("check:\n\thelm-docs --chart-search-root=charts\n"), Some(2));
        let hook = "repos:\n  - repo: https://github.com/norwoodj/helm-docs\n    hooks:\n      - id: helm-docs\n";
        assert_eq!(runs_helm_docs(hook), Some(4));
        assert_eq!(runs_helm_docs("      - run: helm-docs && git diff --exit-code\n"), Some(1));
        assert_eq!(runs_helm_docs("uses: losisin/helm-docs-github-action@v1\n"), None);
        assert_eq!(runs_helm_docs("  - uses: docker://jnorwood/helm-docs:v1.10.0\n"), Some(1), "its image as a step");
        assert_eq!(runs_helm_docs("\tdocker run --rm -v $(PWD):/w jnorwood/helm-docs:v1.14.2\n"), Some(1));
        assert_eq!(runs_helm_docs("  image: docker.io/jnorwood/helm-docs:v1\n"), None, "named, not run");
        let variable = "HELMDOCS_IMAGE = docker.io/jnorwood/helm-docs:v1.14.2\ndocs:\n\tdocker run --rm -v $(CURDIR):/helm-docs $(HELMDOCS_IMAGE)\n";
        assert_eq!(runs_helm_docs(variable), Some(3), "the image a variable names");
        let installed = "bin/helm-docs: bin/helm-docs-1.5.0\n\t@ln -sf helm-docs-1.5.0 bin/helm-docs\ndocs: bin/helm-docs\n\tbin/helm-docs -c charts/\n";
        assert_eq!(runs_helm_docs(installed), Some(4), "the link that installs it and the rule needing it are no run");
        let by_variable = "deps: bin/controller-gen bin/helm-docs\nHELM_DOCS_BIN := helm-docs\ngen-helm-docs:\n\t$(HELM_DOCS_BIN) -s file -c deploy/charts/\n";
        assert_eq!(runs_helm_docs(by_variable), Some(4), "run through the variable naming it");
    }

    /// An empty repository with its workflows directory.
    fn repository_with_workflows() -> (tempfile::TempDir, PathBuf) {
        let repo = tempfile::tempdir().unwrap();
        let workflows = repo.path().join(".github/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        (repo, workflows)
    }

    #[test]
    fn the_makefiles_the_root_one_includes_are_read() {
        let (repo, _) = repository_with_workflows();
        std::fs::create_dir_all(repo.path().join("make")).unwrap();
        std::fs::write(repo.path().join("Makefile"), "include make/build.mk\n-include make/*.mk\ninclude $(EXTRA)\n")
            .unwrap();
        std::fs::write(repo.path().join("make/build.mk"), "build:\n\tgo build ./...\n").unwrap();
        let helm = "HELM_DOCS_IMG ?= jnorwood/helm-docs:v1.14.2\nhelm-docs:\n\tdocker run --rm $(HELM_DOCS_IMG)\n";
        std::fs::write(repo.path().join("make/helm.mk"), helm).unwrap();
        assert_eq!(helm_docs_check(repo.path()).as_deref(), Some("make/helm.mk:3"));
    }

    #[test]
    fn a_makefile_a_check_runs_elsewhere_is_read() {
        let (repo, workflows) = repository_with_workflows();
        std::fs::write(workflows.join("lint.yaml"), "steps:\n  - run: make -C install/kubernetes\n").unwrap();
        assert_eq!(helm_docs_check(repo.path()), None);
        let dir = repo.path().join("install/kubernetes");
        std::fs::create_dir_all(&dir).unwrap();
        let makefile =
            "HELMDOCS_IMAGE = docker.io/jnorwood/helm-docs:v1.14.2\ndocs:\n\tdocker run --rm $(HELMDOCS_IMAGE)\n";
        std::fs::write(dir.join("Makefile"), makefile).unwrap();
        assert_eq!(helm_docs_check(repo.path()).as_deref(), Some("install/kubernetes/Makefile:3"));
    }

    #[test]
    fn a_chart_guard_that_blocks_a_change_comes_before_the_schema_that_lets_one_through() {
        assert_eq!(
            runs_schema_generator(
                "helm plugin install https://github.com/losisin/helm-values-schema-json.git
"
            ),
            None
        );
        assert_eq!(runs_schema_generator("  run: |\n    helm schema\n"), Some(2));
        let chart = tempfile::tempdir().unwrap();
        std::fs::write(chart.path().join("values.schema.json"), "{}").unwrap();
        let rel = |p: &Path| p.to_path_buf();
        assert_eq!(chart_guard(chart.path(), &rel, (None, None)), Some(Guard::Schema(Some("{}".into()))));
        let generated = chart_guard(chart.path(), &rel, (None, Some("ci.yaml:48")));
        assert_eq!(generated, Some(Guard::GeneratedSchema("ci.yaml:48".into())), "a regenerated schema blocks");
        std::fs::create_dir_all(chart.path().join("tests")).unwrap();
        std::fs::write(
            chart.path().join("tests/deploy_test.yaml"),
            "asserts:\n  - isNull:\n      path: spec.template.spec.securityContext\n",
        )
        .unwrap();
        let tests = chart_guard(chart.path(), &rel, (None, Some("ci.yaml:48")));
        assert!(matches!(tests, Some(Guard::Tests(_))), "the chart's tests come first: {tests:?}");
    }
}
