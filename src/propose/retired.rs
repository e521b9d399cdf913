//! A project its README says is retired or no longer maintained (ingress-nginx's "Retiring",
//! kube-lego's "no longer maintained"): nobody would release what a pull request changes, and
//! an unasked one is noise. Pure: the README's text in, the line that says so out.

/// Phrases that say of the project that nobody maintains it any more.
const RETIRED: &[&str] = &[
    "no longer maintained",
    "no longer being maintained",
    "no longer actively maintained",
    "not maintained anymore",
    "not maintained any more",
    "project is unmaintained",
    "repository is unmaintained",
    "project is deprecated",
    "repository is deprecated",
    "project has been archived",
    "repository has been archived",
    "project has been retired",
    "project is retired",
    "ended active development",
    "repository will no longer be updated",
    "project will no longer be updated",
    "has reached end-of-life",
    "has reached end of life",
];

/// Words a heading says it with: the README's title (`# Ingress NGINX Retirement`, `# x
/// (DEPRECATED)`), or a heading that is only the word (`## Retiring`), not `## Deprecated flags`.
const RETIRED_HEADINGS: &[&str] = &["retirement", "retiring", "retired", "deprecated", "unmaintained"];

/// Where one of a repository's READMEs (each its path and text) says the project is retired, as
/// `README.md:3`, with that line's text.
pub fn retired_readme(readmes: &[(std::path::PathBuf, String)]) -> Option<(String, String)> {
    readmes.iter().find_map(|(name, text)| {
        let (line, said) = retired(text)?;
        Some((format!("{}:{line}", name.display()), said))
    })
}

/// The README's line (1-based) and text that says the project is retired, looked for in its
/// first 40 lines, where a project says so.
pub fn retired(readme: &str) -> Option<(usize, String)> {
    let title = readme.lines().position(|l| l.starts_with("# "));
    readme.lines().take(40).enumerate().find_map(|(i, line)| {
        let lower = line.to_ascii_lowercase();
        let text = lower.trim_start_matches('#').trim();
        let heading = lower.starts_with('#')
            && (RETIRED_HEADINGS.contains(&text)
                || (title == Some(i) && RETIRED_HEADINGS.iter().any(|w| text.contains(w))));
        (heading || RETIRED.iter().any(|p| lower.contains(p)))
            .then(|| (i + 1, line.trim().trim_start_matches(['#', '>']).trim().to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::retired;

    #[test]
    fn a_readme_that_says_the_project_is_retired_is_read_so() {
        assert_eq!(
            retired("# Ingress NGINX Retirement\n\n## Retiring\n"),
            Some((1, "Ingress NGINX Retirement".into()))
        );
        let lego = "# kube-lego\n\n**Note**: This project is no longer maintained. Use cert-manager.\n";
        assert_eq!(retired(lego).map(|(line, _)| line), Some(3));
        let octant =
            "# VMware has ended active development of this project, this repository will no longer be updated.\n";
        assert_eq!(retired(octant).map(|(line, _)| line), Some(1));
        let agent = "> Grafana Agent has reached End-of-Life (EOL) on November 1, 2025.\n> We recommend migrating.\n";
        assert_eq!(retired(agent).map(|(_, said)| said.starts_with("Grafana Agent has reached")), Some(true));
        let lives = [
            "# acme\n\nA maintained fork of x.\n",
            "# op\n\nSupports deprecated APIs.\n",
            "# plan\n\nA retirement calculator.\n",
        ];
        for live in lives {
            assert_eq!(retired(live), None, "{live}");
        }
        let late = format!("# op\n{}This project is no longer maintained upstream of x.\n", "text\n".repeat(50));
        assert_eq!(retired(&late), None, "only the README's opening says it of the project");
    }
}
