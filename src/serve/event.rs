//! What a webhook delivery asks for, decided from its event name and payload alone: the jobs to
//! queue, or why there is nothing to do. Pure; the refusals that need no question to GitHub
//! (a fork, a commenter GitHub already says has no write access) are decided here, and the job
//! carries them so the worker only has to say so.

use serde::{Deserialize, Serialize};

use super::command::{self, Command};
use super::payload::Payload;

/// Work for a worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// A `/harden` command in a comment.
    Command(CommandJob),
    /// One of harden's pull requests was closed: merged, or declined.
    Closed {
        /// `owner/name`.
        repo: String,
        /// The pull request's number.
        number: u64,
        /// Its web address.
        url: String,
        /// Merged (else declined).
        merged: bool,
    },
    /// The default branch moved: re-check harden's open pull request there.
    Recheck {
        /// `owner/name`.
        repo: String,
    },
    /// A repository the App was just given: a first look, paced.
    FirstLook {
        /// `owner/name`.
        repo: String,
    },
}

impl Job {
    /// The repository it concerns.
    pub fn repo(&self) -> &str {
        match self {
            Job::Command(c) => &c.repo,
            Job::Closed { repo, .. } | Job::Recheck { repo } | Job::FirstLook { repo } => repo,
        }
    }

    /// Its kind, as the store keeps it.
    pub fn kind(&self) -> &'static str {
        match self {
            Job::Command(_) => "command",
            Job::Closed { .. } => "closed",
            Job::Recheck { .. } => "recheck",
            Job::FirstLook { .. } => "first_look",
        }
    }
}

/// A command, who gave it and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandJob {
    /// `owner/name`.
    pub repo: String,
    /// The issue or pull request it was written in.
    pub thread: u64,
    /// The comment's id (harden reacts on it).
    pub comment: u64,
    /// The commenter's login.
    pub author: String,
    /// The command.
    pub command: Command,
    /// Why it is refused without asking GitHub, when it is.
    pub refusal: Option<String>,
}

/// A job to queue and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The job.
    pub job: Job,
    /// Queued once ever under this key.
    pub key: Option<String>,
    /// Not queued when one of its kind already waits for its repository.
    pub debounce: bool,
    /// Seconds to wait before it may run.
    pub delay: i64,
}

/// What a delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// Nothing: the reason.
    Ignore(String),
    /// These jobs.
    Queue(Vec<Queued>),
}

/// How events become jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Seconds a push waits, so that a burst of pushes makes one re-check.
    pub push_debounce: i64,
    /// Seconds between two first looks at repositories the App was given.
    pub first_look_gap: i64,
}

/// The author associations that may hold write permission; anyone else is refused without a
/// question to GitHub.
const MAY_WRITE: [&str; 3] = ["OWNER", "MEMBER", "COLLABORATOR"];

/// The jobs a delivery of `event` with `payload` asks for.
pub fn classify(event: &str, payload: &Payload, pacing: Pacing) -> Intake {
    let repository = payload.repository.as_ref();
    let repo = repository.and_then(|r| r.full_name.clone()).unwrap_or_default();
    match event {
        "issue_comment" => comment(payload, repo),
        "pull_request" => closed(payload, repo),
        "push" => push(payload, repo, pacing),
        "installation" | "installation_repositories" => installed(payload, pacing),
        "ping" => Intake::Ignore("ping: the webhook reaches harden".into()),
        other => Intake::Ignore(format!("harden does not act on `{other}` events")),
    }
}

fn one(job: Job, key: Option<String>, debounce: bool, delay: i64) -> Intake {
    Intake::Queue(vec![Queued { job, key, debounce, delay }])
}

fn comment(payload: &Payload, repo: String) -> Intake {
    let action = payload.action.as_deref().unwrap_or_default();
    if action != "created" {
        return Intake::Ignore(format!("a comment {action}: only new comments are read"));
    }
    let Some(comment) = &payload.comment else { return Intake::Ignore("the comment is missing".into()) };
    let user = comment.user.as_ref();
    let author = user.and_then(|u| u.login.as_deref()).unwrap_or_default();
    if user.and_then(|u| u.kind.as_deref()) == Some("Bot") || author.ends_with("[bot]") {
        return Intake::Ignore(format!("{author} is a bot: bots do not command harden"));
    }
    let Some(command) = command::parse(comment.body.as_deref().unwrap_or_default()) else {
        return Intake::Ignore("not a /harden command".into());
    };
    let thread = payload.issue.as_ref().and_then(|i| i.number);
    let (Some(thread), Some(id), false) = (thread, comment.id, repo.is_empty() || author.is_empty()) else {
        return Intake::Ignore("the comment's repository, issue, id or author is missing".into());
    };
    let association = comment.author_association.as_deref().unwrap_or("NONE");
    let refusal = if payload.repository.as_ref().and_then(|r| r.fork) == Some(true) {
        Some(format!("{repo} is a fork: harden works in the repository it was made for, never in a fork"))
    } else if !MAY_WRITE.contains(&association) {
        Some(format!("only people with write permission on {repo} can command harden"))
    } else {
        None
    };
    let key = format!("comment:{repo}:{id}:{}", comment.updated_at.as_deref().unwrap_or_default());
    let job = CommandJob { repo, thread, comment: id, author: author.into(), command, refusal };
    one(Job::Command(job), Some(key), false, 0)
}

fn closed(payload: &Payload, repo: String) -> Intake {
    let pull = payload.pull_request.as_ref();
    let harden_made = pull.and_then(|p| p.body.as_deref()).is_some_and(|b| b.contains("<!-- harden:meta "));
    match (payload.action.as_deref(), harden_made, pull.and_then(|p| p.number.zip(p.id))) {
        (Some("closed"), true, Some((number, id))) => {
            let pull = pull.expect("a pull request with a number");
            let (merged, url) = (pull.merged == Some(true), pull.html_url.clone().unwrap_or_default());
            // Keyed by the close: the same close through two hooks is one job, a later one is new.
            let key = format!("closed:{id}:{}", pull.closed_at.as_deref().unwrap_or_default());
            one(Job::Closed { repo, number, url, merged }, Some(key), false, 0)
        }
        (Some("closed"), false, _) => Intake::Ignore("not one of harden's pull requests".into()),
        (action, ..) => Intake::Ignore(format!("a pull request {}: only closes matter", action.unwrap_or("event"))),
    }
}

fn push(payload: &Payload, repo: String, pacing: Pacing) -> Intake {
    let branch = payload.repository.as_ref().and_then(|r| r.default_branch.as_deref()).unwrap_or("main");
    let default = format!("refs/heads/{branch}");
    if payload.git_ref.as_deref() != Some(default.as_str()) || payload.deleted == Some(true) || repo.is_empty() {
        return Intake::Ignore("a push to another branch than the default".into());
    }
    one(Job::Recheck { repo }, None, true, pacing.push_debounce)
}

fn installed(payload: &Payload, pacing: Pacing) -> Intake {
    let listed = match payload.action.as_deref() {
        Some("created") => &payload.repositories,
        Some("added") => &payload.repositories_added,
        other => return Intake::Ignore(format!("an installation {}: nothing to look at", other.unwrap_or("event"))),
    };
    let repos: Vec<String> = listed.iter().flatten().filter_map(|r| r.full_name.clone()).collect();
    if repos.is_empty() {
        return Intake::Ignore("the installation names no repositories".into());
    }
    let gap = pacing.first_look_gap;
    let installation = payload.installation.as_ref().and_then(|i| i.id).unwrap_or_default();
    Intake::Queue(
        repos
            .into_iter()
            .enumerate()
            .map(|(i, repo)| Queued {
                key: Some(format!("first-look:{installation}:{repo}")),
                job: Job::FirstLook { repo },
                debounce: false,
                delay: i as i64 * gap,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn classify(event: &str, payload: &Value, pacing: Pacing) -> Intake {
        super::classify(event, &serde_json::from_value(payload.clone()).unwrap(), pacing)
    }

    const PACING: Pacing = Pacing { push_debounce: 60, first_look_gap: 600 };

    fn comment(action: &str, body: &str, user_type: &str, association: &str, fork: bool) -> Value {
        json!({
            "action": action,
            "issue": {"number": 4},
            "comment": {"id": 99, "body": body, "updated_at": "2026-12-01T10:00:00Z", "author_association": association,
                        "user": {"login": "ada", "type": user_type}},
            "repository": {"full_name": "acme/api", "fork": fork, "default_branch": "main"},
        })
    }

    fn command_job(intake: Intake) -> (CommandJob, Option<String>) {
        match intake {
            Intake::Queue(mut queued) if queued.len() == 1 => match queued.remove(0) {
                Queued { job: Job::Command(job), key, .. } => (job, key),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_owners_command_is_queued_once_by_comment_and_edit_time() {
        let (job, key) =
            command_job(classify("issue_comment", &comment("created", "/harden", "User", "OWNER", false), PACING));
        assert_eq!((job.repo.as_str(), job.thread, job.comment, job.author.as_str()), ("acme/api", 4, 99, "ada"));
        assert_eq!((job.command, job.refusal), (Command::Harden, None));
        assert_eq!(key.as_deref(), Some("comment:acme/api:99:2026-12-01T10:00:00Z"));
    }

    #[test]
    fn edits_bots_and_other_comments_are_ignored() {
        for (payload, why) in [
            (comment("edited", "/harden", "User", "OWNER", false), "only new comments"),
            (comment("created", "/harden", "Bot", "NONE", false), "bots do not command"),
            (comment("created", "great work\n/harden", "User", "OWNER", false), "not a /harden command"),
        ] {
            match classify("issue_comment", &payload, PACING) {
                Intake::Ignore(reason) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn forks_and_commenters_without_write_access_are_refused_without_asking_github() {
        let (job, _) =
            command_job(classify("issue_comment", &comment("created", "/harden", "User", "OWNER", true), PACING));
        assert!(job.refusal.unwrap().contains("is a fork"));
        for association in ["NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN"] {
            let payload = comment("created", "/harden", "User", association, false);
            let (job, _) = command_job(classify("issue_comment", &payload, PACING));
            assert!(job.refusal.unwrap().contains("write permission"), "{association}");
        }
        for association in ["MEMBER", "COLLABORATOR"] {
            let payload = comment("created", "/harden rebase", "User", association, false);
            let (job, _) = command_job(classify("issue_comment", &payload, PACING));
            assert_eq!((job.command, job.refusal), (Command::Rebase, None), "{association}: asked of GitHub later");
        }
    }

    #[test]
    fn harden_closed_pull_requests_pushes_and_installations() {
        let closed = json!({"action": "closed", "repository": {"full_name": "acme/api"},
            "pull_request": {"id": 7, "number": 3, "merged": false, "body": "x\n<!-- harden:meta {} -->",
                             "closed_at": "2026-12-01T10:00:00Z"}});
        assert!(matches!(classify("pull_request", &closed, PACING),
            Intake::Queue(q) if q[0].job == Job::Closed { repo: "acme/api".into(), number: 3, url: String::new(), merged: false }
                && q[0].key.as_deref() == Some("closed:7:2026-12-01T10:00:00Z")));
        let human = json!({"action": "closed", "repository": {"full_name": "acme/api"},
            "pull_request": {"id": 8, "number": 4, "merged": true, "body": "a fix"}});
        assert!(matches!(classify("pull_request", &human, PACING), Intake::Ignore(_)));
        let push = |r: &str| json!({"ref": r, "repository": {"full_name": "acme/api", "default_branch": "main"}});
        assert!(matches!(classify("push", &push("refs/heads/main"), PACING),
            Intake::Queue(q) if q[0].debounce && q[0].delay == 60 && q[0].job == Job::Recheck { repo: "acme/api".into() }));
        assert!(matches!(classify("push", &push("refs/heads/feature"), PACING), Intake::Ignore(_)));
        let installed = json!({"action": "created", "installation": {"id": 5},
            "repositories": [{"full_name": "acme/api"}, {"full_name": "acme/web"}]});
        match classify("installation", &installed, PACING) {
            Intake::Queue(q) => {
                assert_eq!(q.iter().map(|q| q.delay).collect::<Vec<_>>(), [0, 600], "paced");
                assert_eq!(q[1].key.as_deref(), Some("first-look:5:acme/web"));
            }
            other => panic!("{other:?}"),
        }
        let added =
            json!({"action": "added", "installation": {"id": 5}, "repositories_added": [{"full_name": "acme/db"}]});
        assert!(matches!(classify("installation_repositories", &added, PACING), Intake::Queue(q) if q.len() == 1));
        assert!(matches!(classify("star", &json!({}), PACING), Intake::Ignore(_)));
    }
}
