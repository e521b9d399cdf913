//! What harden answers in a thread: the outcome of a command (the pull request and its size
//! table), the list of commands, the explanation of each change, the reason for a refusal. Each
//! reply carries a hidden marker naming the comment it answers, so that a job resumed after a
//! crash never answers twice. Pure.

use std::fmt::Write as _;

use crate::propose::decide::Action;
use crate::propose::pr::Report;
use crate::rules;
use crate::run::FileReport;
use crate::verify::report;

use super::command::HELP;

/// The marker of the reply to comment `comment`.
pub fn marker(comment: u64) -> String {
    format!("<!-- harden:reply {comment} -->")
}

/// `text` as the reply to comment `comment`.
pub fn to(comment: u64, text: &str) -> String {
    format!("{}\n\n{}\n", text.trim_end(), marker(comment))
}

/// What a `/harden` (or `rebase`, `recreate`, `ignore`) run did, with the proof's size table.
pub fn outcome(report: &Report) -> String {
    let at = match &report.pull {
        Some((number, url)) if !url.is_empty() => format!("#{number} ({url})"),
        Some((number, _)) => format!("#{number}"),
        None => "harden's pull request".into(),
    };
    let mut text = match &report.action {
        Action::Open => format!("Opened {at}."),
        Action::Update(_) => format!("Updated {at}."),
        Action::Close(_) => format!("Closed {at}: nothing is left to change."),
        Action::Comment(_, notice) => format!("Nothing pushed to {at}: {}", notice.text()),
        Action::Nothing(reason) => format!("Nothing written: {reason}."),
    };
    if !report.proof.is_empty() {
        let _ = write!(text, "\n\nThe build proof:\n\n{}", report::markdown(&report.proof));
    }
    text
}

/// `/harden help`.
pub fn help() -> String {
    let mut text = String::from("harden answers these commands, on the first line of a comment:\n\n");
    for (command, what) in HELP {
        let _ = writeln!(text, "- `{command}`: {what}");
    }
    text.push_str("\nOnly people with write permission on the repository can command harden.");
    text
}

/// `/harden explain`: each file harden would change, and for each change the rule it resolves
/// in the catalogue's words.
pub fn explain(files: &[FileReport]) -> String {
    let changed: Vec<&FileReport> = files.iter().filter(|f| f.rewritten.is_some()).collect();
    if changed.is_empty() {
        return "harden would change nothing here: every Dockerfile and manifest it found is hardened already (or left alone by the configuration).".into();
    }
    let mut text = String::from("What harden changes, and why:\n");
    for file in changed {
        let _ = write!(text, "\n**`{}`**\n", file.path);
        for finding in file.findings.iter().filter(|f| f.fixed) {
            let Some(rule) = rules::by_id(finding.rule) else { continue };
            let _ =
                writeln!(text, "- line {}, {} `{}`: {} {}", finding.line, rule.id, rule.name, rule.summary, rule.fix);
        }
        for finding in file.findings.iter().filter(|f| !f.fixed) {
            let _ = writeln!(text, "- line {}, {} (not changed): {}", finding.line, finding.rule, finding.message);
        }
    }
    text
}

/// Why a command was refused, in one line.
pub fn refusal(command: &str, reason: &str) -> String {
    format!("harden did not run `{command}`: {reason}.")
}

/// Why a command failed.
pub fn failure(reason: &str) -> String {
    format!("harden could not finish: {}", reason.lines().next().unwrap_or(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;

    #[test]
    fn every_reply_names_the_comment_it_answers() {
        let text = to(42, "Opened #1.");
        assert!(text.starts_with("Opened #1.\n\n"));
        assert!(text.contains(&marker(42)));
        assert!(!text.contains(&marker(4)), "a marker names one comment: {text}");
    }

    #[test]
    fn help_lists_every_command() {
        let text = help();
        for (command, _) in HELP {
            assert!(text.contains(&format!("`{command}`")), "{command}");
        }
    }

    #[test]
    fn explain_uses_the_catalogues_words_for_each_fixed_finding() {
        let mut fixed = Finding::new(&rules::ALL[0], 3, "message");
        fixed.fixed = true;
        let kept = Finding::new(&rules::ALL[1], 5, "left as it is because of X");
        let file = FileReport {
            rewritten: Some("new".into()),
            findings: vec![fixed, kept],
            ..FileReport::new("Dockerfile".into(), crate::discover::Kind::Dockerfile, crate::run::Status::Changed, None)
        };
        let text = explain(&[file]);
        assert!(text.contains("**`Dockerfile`**"));
        assert!(text.contains(&format!("line 3, {}", rules::ALL[0].id)));
        assert!(text.contains(rules::ALL[0].summary) && text.contains(rules::ALL[0].fix));
        assert!(text.contains("left as it is because of X"));
        assert!(explain(&[]).contains("would change nothing"));
    }
}
