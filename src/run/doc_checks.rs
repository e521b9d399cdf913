//! Whether the repository checks that its charts' READMEs are what helm-docs makes of their
//! values (a workflow step, a pre-commit hook, a Makefile or nix check that runs `helm-docs`):
//! a values.yaml change without the regenerated README would then fail that check.

use std::path::Path;

use crate::discover;

/// The files, relative to the repository, and the directories whose files are read for a
/// `helm-docs` run.
const CHECK_FILES: &[&str] = &[".pre-commit-config.yaml", "Makefile", ".gitlab-ci.yml", "Taskfile.yml", "justfile"];
const CHECK_DIRS: &[&str] = &[".github/workflows", "nix", "hack", "scripts", "build"];

/// The first place (`nix/checks.nix:165`) where the repository runs helm-docs.
pub(super) fn helm_docs_check(repo: &Path) -> Option<String> {
    let listed = CHECK_FILES.iter().map(|f| repo.join(f));
    let in_dirs = CHECK_DIRS.iter().flat_map(|d| {
        let mut files: Vec<_> =
            std::fs::read_dir(repo.join(d)).into_iter().flatten().flatten().map(|e| e.path()).collect();
        files.sort();
        files
    });
    listed.chain(in_dirs).filter(|p| p.is_file()).find_map(|path| {
        let text = discover::read_text(&path).ok()?;
        let line = runs_helm_docs(&text)?;
        let shown = path.strip_prefix(repo).unwrap_or(&path).display().to_string();
        Some(format!("{shown}:{line}"))
    })
}

/// True when helm-docs writes the README of the chart in `chart`: it has helm-docs's template
/// (`README.md.gotmpl`) or its README says helm-docs made it.
pub(super) fn readme_by_helm_docs(chart: &Path) -> bool {
    chart.join("README.md.gotmpl").is_file()
        || discover::read_text(&chart.join("README.md")).is_ok_and(|text| text.contains("helm-docs"))
}

/// The 1-based line of a text that runs helm-docs (a command, a pre-commit hook's id), not one
/// that only names the package (`pkgs.helm-docs`) or mentions it in a comment.
fn runs_helm_docs(text: &str) -> Option<usize> {
    let runs = |line: &str| {
        let line = line.trim();
        // A URL names where helm-docs comes from (`repo: https://…/helm-docs`), not a run.
        !line.starts_with('#')
            && !line.contains("://")
            && line.match_indices("helm-docs").any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + "helm-docs".len()..].chars().next();
                before.is_none_or(|c| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | ':' | '`' | '('))
                    && after.is_none_or(|c| c.is_whitespace() || matches!(c, '"' | '\'' | ';' | ')' | '`'))
            })
    };
    text.lines().position(runs).map(|i| i + 1)
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
    }
}
