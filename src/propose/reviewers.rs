//! Reviewers from CODEOWNERS: the owners of the files a pull request changes, as GitHub would
//! request them (the last matching pattern wins, a pattern without owners clears them).

use std::collections::BTreeSet;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Where GitHub looks for CODEOWNERS, in its order: the first that exists is used.
pub const CODEOWNERS_PATHS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/// The reviewers to request, in the shape of GitHub's "request reviewers" call.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reviewers {
    /// User logins, without the `@`.
    pub users: BTreeSet<String>,
    /// Team slugs (the part after `@org/`).
    pub teams: BTreeSet<String>,
}

/// A line of CODEOWNERS that could not be read, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The line number.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
}

/// The owners of `paths` under the CODEOWNERS text `codeowners`, and the lines that were skipped.
/// Each line is its own matcher because the last matching line wins over a whole path, parents
/// included, not per path component as in gitignore. Owners given by e-mail are left out: GitHub
/// cannot request a review from an address.
pub fn reviewers(codeowners: &str, paths: &[&str]) -> (Reviewers, Vec<BadLine>) {
    let mut rules: Vec<(Gitignore, Vec<&str>)> = Vec::new();
    let mut bad = Vec::new();
    for (index, raw) in codeowners.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or_default().trim();
        let mut words = line.split_whitespace();
        let Some(pattern) = words.next().filter(|p| !p.starts_with('#')) else { continue };
        let skip = |reason: String| BadLine { line: index + 1, reason };
        if pattern.starts_with('!') {
            bad.push(skip(format!("`{pattern}`: CODEOWNERS has no negation")));
            continue;
        }
        let mut builder = GitignoreBuilder::new("");
        match builder.add_line(None, pattern).and_then(|b| b.build()) {
            Ok(matcher) => rules.push((matcher, words.collect())),
            Err(error) => bad.push(skip(format!("`{pattern}`: {error}"))),
        }
    }
    let mut found = Reviewers::default();
    for path in paths {
        let owners =
            rules.iter().rev().find(|(matcher, _)| matcher.matched_path_or_any_parents(path, false).is_ignore());
        for owner in owners.map(|(_, owners)| owners.as_slice()).unwrap_or_default() {
            match owner.strip_prefix('@').map(|name| name.split_once('/')) {
                Some(Some((_org, team))) => found.teams.insert(team.to_string()),
                Some(None) => found.users.insert(owner[1..].to_string()),
                None => false,
            };
        }
    }
    (found, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODEOWNERS: &str = "\
# Platform owns everything by default
*                       @acme/platform
/deploy/                @acme/sre @alice    # manifests
Dockerfile              @bob dev@acme.example
/vendor/
!/keep/
";

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_last_matching_pattern_wins() {
        let (found, _) = reviewers(CODEOWNERS, &["deploy/web.yaml"]);
        assert_eq!(found.teams, set(&["sre"]));
        assert_eq!(found.users, set(&["alice"]));
        let (found, _) = reviewers(CODEOWNERS, &["cmd/api/Dockerfile"]);
        assert_eq!((found.users, found.teams), (set(&["bob"]), set(&[])));
        let (found, _) = reviewers(CODEOWNERS, &["main.go"]);
        assert_eq!((found.users, found.teams), (set(&[]), set(&["platform"])));
    }

    #[test]
    fn owners_of_several_files_are_joined() {
        let (found, _) = reviewers(CODEOWNERS, &["Dockerfile", "deploy/web.yaml"]);
        assert_eq!(found.users, set(&["alice", "bob"]));
        assert_eq!(found.teams, set(&["sre"]));
    }

    #[test]
    fn a_pattern_without_owners_clears_them() {
        let (found, _) = reviewers(CODEOWNERS, &["vendor/lib/Dockerfile"]);
        assert_eq!(found, Reviewers::default());
    }

    #[test]
    fn unreadable_lines_are_reported_with_their_number_and_skipped() {
        let (_, bad) = reviewers(CODEOWNERS, &["main.go"]);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 6);
        assert!(bad[0].reason.contains("negation"));
    }
}
