//! The commands people write in comments: `/harden`, `/harden rebase`, `/harden recreate`,
//! `/harden ignore PATH`, `/harden explain`, `/harden help`. Only a comment's first line is
//! read, so a command quoted further down a discussion never runs. Pure.

use serde::{Deserialize, Serialize};

/// What a comment asks harden to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Open or update the repository's hardening pull request, with the build proof.
    Harden,
    /// Regenerate the pull request's branch from the current default branch.
    Rebase,
    /// Propose again what was declined, and replace a branch someone else committed to.
    Recreate,
    /// Leave this path alone from now on (the pull request is updated without it).
    Ignore(String),
    /// Explain each change with the rule catalogue's words.
    Explain,
    /// List the commands.
    Help,
    /// Not a command harden knows, or one without what it needs: the reason.
    Invalid(String),
}

impl Command {
    /// The command's name as written after `/harden` (`harden` for the bare one).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Harden => "harden",
            Command::Rebase => "rebase",
            Command::Recreate => "recreate",
            Command::Ignore(_) => "ignore",
            Command::Explain => "explain",
            Command::Help => "help",
            Command::Invalid(_) => "invalid",
        }
    }
}

/// The commands and what each does, as `/harden help` lists them.
pub const HELP: &[(&str, &str)] = &[
    ("/harden", "open or update this repository's hardening pull request, with the build proof"),
    ("/harden rebase", "regenerate the pull request's branch from the current default branch"),
    ("/harden recreate", "propose again a change that was declined, replacing the branch"),
    ("/harden ignore PATH", "leave PATH alone from now on; the pull request is updated without it"),
    ("/harden explain", "explain each change with the rule catalogue's words"),
    ("/harden help", "list these commands"),
];

/// The command a comment's first line gives, or `None` when it does not start with `/harden`.
pub fn parse(body: &str) -> Option<Command> {
    let line = body.lines().next()?.trim();
    let rest = line.strip_prefix("/harden")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let mut words = rest.split_whitespace();
    let command = match (words.next(), words.next(), words.next()) {
        (None, ..) => Command::Harden,
        (Some("rebase"), None, _) => Command::Rebase,
        (Some("recreate"), None, _) => Command::Recreate,
        (Some("explain"), None, _) => Command::Explain,
        (Some("help"), None, _) => Command::Help,
        (Some("ignore"), Some(path), None) => match valid_path(path) {
            Ok(path) => Command::Ignore(path),
            Err(why) => Command::Invalid(why),
        },
        (Some("ignore"), None, _) => {
            Command::Invalid("`/harden ignore` needs a path: `/harden ignore deploy/job.yaml`".into())
        }
        (Some(_), ..) => {
            let written: String = rest.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(60).collect();
            Command::Invalid(format!("`/harden {written}` is not a command; `/harden help` lists them"))
        }
    };
    Some(command)
}

/// A path inside the repository, as harden's `ignore` configuration takes it.
fn valid_path(path: &str) -> Result<String, String> {
    let path = path.trim_matches('`');
    let inside = !path.is_empty()
        && !path.starts_with('/')
        && !path.split('/').any(|part| part == "..")
        && path.chars().all(|c| !c.is_control());
    if inside {
        Ok(path.trim_start_matches("./").to_string())
    } else {
        Err(format!("`{path}` is not a path inside the repository"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commands() {
        assert_eq!(parse("/harden"), Some(Command::Harden));
        assert_eq!(parse("  /harden  \nthanks!"), Some(Command::Harden));
        assert_eq!(parse("/harden rebase"), Some(Command::Rebase));
        assert_eq!(parse("/harden recreate\r\n"), Some(Command::Recreate));
        assert_eq!(parse("/harden explain"), Some(Command::Explain));
        assert_eq!(parse("/harden help"), Some(Command::Help));
        assert_eq!(parse("/harden ignore ./deploy/job.yaml"), Some(Command::Ignore("deploy/job.yaml".into())));
        assert_eq!(parse("/harden ignore `Dockerfile.dev`"), Some(Command::Ignore("Dockerfile.dev".into())));
    }

    #[test]
    fn only_the_first_line_counts() {
        assert_eq!(parse("Looks good.\n/harden"), None);
        assert_eq!(parse("> /harden\nquoted"), None);
        assert_eq!(parse("/hardened images are nice"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn mistakes_are_invalid_with_a_reason() {
        let invalid = |text: &str| match parse(text) {
            Some(Command::Invalid(why)) => why,
            other => panic!("{text}: {other:?}"),
        };
        assert!(invalid("/harden merge").contains("`/harden merge` is not a command"));
        assert!(invalid("/harden ignore").contains("needs a path"));
        assert!(invalid("/harden ignore ../../etc/passwd").contains("not a path inside"));
        assert!(invalid("/harden ignore /etc").contains("not a path inside"));
        assert!(invalid("/harden ignore a b").contains("is not a command"));
        assert!(invalid("/harden rebase now").contains("is not a command"));
    }
}
