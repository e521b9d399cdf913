//! What to do with the forge, decided from what is already there: the pure core of harden's
//! idempotence and of its respect for "no". The forge client gathers the [`Situation`], this
//! module picks one [`Action`], and nothing here talks to a network.

use crate::propose::fingerprint::Meta;

/// The state of harden's earlier pull request for this branch, as the forge reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullState {
    /// Still open.
    Open,
    /// Closed by a human without merging: a "no".
    ClosedUnmerged,
    /// Merged.
    Merged,
}

/// harden's most recent pull request from the branch, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// The pull request's number.
    pub number: u64,
    /// Whether it is open, closed or merged.
    pub state: PullState,
    /// The metadata its body carries (absent when a human removed it).
    pub meta: Option<Meta>,
    /// Whether harden already commented on it (the closed notice or the hands-off notice), so it
    /// never comments twice.
    pub commented: bool,
}

/// What a person asked for beyond the usual run (`/harden rebase`, `/harden recreate`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Request {
    /// The usual run: only what changed is written, and every "no" is respected.
    #[default]
    Auto,
    /// Regenerate the open pull request's branch from the current base even when its inputs did
    /// not change.
    Rebase,
    /// Propose again what was declined (or reverted), and replace a branch someone else
    /// committed to: the person who asked overrides the "no".
    Recreate,
}

/// Everything the decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    /// The fingerprint of this run's inputs.
    pub fingerprint: String,
    /// Whether the rewrite changes at least one file.
    pub changes: bool,
    /// Why the proof failed, when it did: nothing is proposed then.
    pub proof_failure: Option<String>,
    /// Why the proof could not run, when the configuration requires one (`proof: required`):
    /// nothing is proposed then either.
    pub proof_missing: Option<String>,
    /// Files whose rewrite is not a security change, so they are not proposed on their own.
    pub held_back: usize,
    /// harden's earlier pull request, if any.
    pub existing: Option<Existing>,
    /// Whether the branch holds a commit that harden did not author.
    pub foreign_commits: bool,
    /// What was asked for.
    pub request: Request,
}

/// The one thing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write nothing at all (no commit, no edit, no comment), for the reason given.
    Nothing(String),
    /// Create the branch from the base and open a new pull request.
    Open,
    /// Regenerate the branch from the new base and edit the open pull request's body.
    Update(u64),
    /// Close the open pull request: the files no longer need changing.
    Close(u64),
    /// Post one comment on the pull request and change nothing else.
    Comment(u64, Notice),
}

/// The comments harden posts, each at most once per pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The pull request was closed without merging: harden will not propose it again, and says
    /// how to get it back.
    Declined,
    /// Someone else committed to the branch: harden will not push to it again.
    HandsOff,
}

impl Notice {
    /// The comment's text.
    pub fn text(self) -> &'static str {
        match self {
            Notice::Declined => {
                "harden will not propose this change again while the files stay as they are. \
                 To get it back, reopen this pull request or comment `/harden recreate`."
            }
            Notice::HandsOff => {
                "This branch has commits that harden did not make, so harden will not push to it again. \
                 Comment `/harden recreate` to let harden replace the branch."
            }
        }
    }
}

/// Picks the action for `situation`.
pub fn decide(situation: &Situation) -> Action {
    if let Some(reason) = &situation.proof_failure {
        return Action::Nothing(format!("the build proof failed, so nothing is proposed: {reason}"));
    }
    if let Some(reason) = &situation.proof_missing {
        return Action::Nothing(format!(
            "the configuration requires the build proof (proof: required) and it could not run here: {reason}"
        ));
    }
    if situation.request == Request::Recreate {
        return recreate(situation);
    }
    let Some(existing) = &situation.existing else {
        return match (situation.changes, situation.foreign_commits) {
            (true, true) => Action::Nothing(
                "the branch exists with commits harden did not make and no pull request: harden leaves it alone".into(),
            ),
            (true, false) => Action::Open,
            (false, _) => Action::Nothing(nothing_to_change(situation)),
        };
    };
    let same = existing.meta.as_ref().is_some_and(|meta| meta.fingerprint == situation.fingerprint);
    match existing.state {
        PullState::Open if situation.foreign_commits => comment_once(existing, Notice::HandsOff),
        PullState::Open if !situation.changes => Action::Close(existing.number),
        PullState::Open if same && situation.request == Request::Rebase => Action::Update(existing.number),
        PullState::Open if same => Action::Nothing(format!("pull request #{} is up to date", existing.number)),
        PullState::Open => Action::Update(existing.number),
        PullState::ClosedUnmerged if same => comment_once(existing, Notice::Declined),
        PullState::Merged if same => Action::Nothing(format!(
            "pull request #{} was merged from these same inputs, so it was reverted: a revert is a \"no\"",
            existing.number
        )),
        PullState::ClosedUnmerged | PullState::Merged if situation.changes => Action::Open,
        PullState::ClosedUnmerged | PullState::Merged => Action::Nothing(nothing_to_change(situation)),
    }
}

/// `/harden recreate`: the person overrides every "no" (a decline, a revert, someone else's
/// commits on the branch); only a rewrite with nothing to change still writes nothing.
fn recreate(situation: &Situation) -> Action {
    match (&situation.existing, situation.changes) {
        (Some(existing), true) if existing.state == PullState::Open => Action::Update(existing.number),
        (Some(existing), false) if existing.state == PullState::Open => Action::Close(existing.number),
        (_, true) => Action::Open,
        (_, false) => Action::Nothing(nothing_to_change(situation)),
    }
}

/// "nothing to change", and the files held back for having only edits that are no security change.
fn nothing_to_change(situation: &Situation) -> String {
    match situation.held_back {
        0 => "nothing to change".into(),
        n => format!(
            "nothing to change that is a security change: {} would only get build-flag, cache-mount or command-form edits, which harden proposes only beside a security change (`propose: all` proposes them)",
            crate::report::plural(n, "file")
        ),
    }
}

fn comment_once(existing: &Existing, notice: Notice) -> Action {
    if existing.commented {
        Action::Nothing(format!("pull request #{} was already told: {}", existing.number, notice.text()))
    } else {
        Action::Comment(existing.number, notice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(fingerprint: &str) -> Option<Meta> {
        Some(Meta { fingerprint: fingerprint.into(), rules: "r".into(), files: vec!["Dockerfile".into()] })
    }

    fn situation(existing: Option<Existing>) -> Situation {
        Situation {
            fingerprint: "new".into(),
            changes: true,
            proof_failure: None,
            proof_missing: None,
            held_back: 0,
            existing,
            foreign_commits: false,
            request: Request::Auto,
        }
    }

    fn pull(state: PullState, fingerprint: &str) -> Option<Existing> {
        Some(Existing { number: 7, state, meta: meta(fingerprint), commented: false })
    }

    #[test]
    fn a_first_run_opens_one_pull_request() {
        assert_eq!(decide(&situation(None)), Action::Open);
        let clean = Situation { changes: false, ..situation(None) };
        assert!(matches!(decide(&clean), Action::Nothing(_)));
    }

    #[test]
    fn a_branch_someone_else_made_is_never_pushed_to() {
        let taken = Situation { foreign_commits: true, ..situation(None) };
        assert!(matches!(decide(&taken), Action::Nothing(reason) if reason.contains("did not make")));
    }

    #[test]
    fn a_failed_proof_proposes_nothing_even_over_an_open_pull_request() {
        let failed = Situation { proof_failure: Some("after image failed to build".into()), ..situation(None) };
        assert!(matches!(decide(&failed), Action::Nothing(reason) if reason.contains("after image failed")));
        let over_open = Situation { proof_failure: Some("x".into()), ..situation(pull(PullState::Open, "old")) };
        assert!(matches!(decide(&over_open), Action::Nothing(_)));
    }

    #[test]
    fn a_required_proof_that_could_not_run_proposes_nothing() {
        let missing = Situation { proof_missing: Some("no Docker engine answers".into()), ..situation(None) };
        assert!(
            matches!(decide(&missing), Action::Nothing(reason) if reason.contains("proof: required") && reason.contains("no Docker engine"))
        );
    }

    #[test]
    fn files_held_back_as_no_security_change_are_named_in_the_reason() {
        let cosmetic = Situation { changes: false, held_back: 2, ..situation(None) };
        assert!(matches!(decide(&cosmetic), Action::Nothing(reason) if reason.contains("2 files would only get")));
        let closed = Situation { changes: false, held_back: 1, ..situation(pull(PullState::Open, "old")) };
        assert_eq!(decide(&closed), Action::Close(7), "an open pull request with no security change left is closed");
    }

    #[test]
    fn the_same_fingerprint_writes_nothing() {
        assert!(matches!(decide(&situation(pull(PullState::Open, "new"))), Action::Nothing(_)));
    }

    #[test]
    fn changed_inputs_update_the_same_pull_request() {
        assert_eq!(decide(&situation(pull(PullState::Open, "old"))), Action::Update(7));
        let stripped = Some(Existing { meta: None, ..pull(PullState::Open, "x").unwrap() });
        assert_eq!(decide(&situation(stripped)), Action::Update(7));
    }

    #[test]
    fn an_open_pull_request_that_is_no_longer_needed_is_closed() {
        let fixed_by_hand = Situation { changes: false, ..situation(pull(PullState::Open, "old")) };
        assert_eq!(decide(&fixed_by_hand), Action::Close(7));
    }

    #[test]
    fn a_declined_pull_request_is_never_recreated_and_told_once() {
        let declined = situation(pull(PullState::ClosedUnmerged, "new"));
        assert_eq!(decide(&declined), Action::Comment(7, Notice::Declined));
        let told = Some(Existing { commented: true, ..pull(PullState::ClosedUnmerged, "new").unwrap() });
        assert!(matches!(decide(&situation(told)), Action::Nothing(_)));
    }

    #[test]
    fn new_inputs_after_a_decline_or_a_merge_open_a_new_pull_request() {
        assert_eq!(decide(&situation(pull(PullState::ClosedUnmerged, "old"))), Action::Open);
        assert_eq!(decide(&situation(pull(PullState::Merged, "old"))), Action::Open);
        let reverted = situation(pull(PullState::Merged, "new"));
        assert!(matches!(decide(&reverted), Action::Nothing(reason) if reason.contains("reverted")));
        let merged_clean = Situation { changes: false, ..situation(pull(PullState::Merged, "new")) };
        assert!(matches!(decide(&merged_clean), Action::Nothing(_)));
    }

    #[test]
    fn rebase_regenerates_an_up_to_date_pull_request_and_nothing_else() {
        let asked = |existing| Situation { request: Request::Rebase, ..situation(existing) };
        assert_eq!(decide(&asked(pull(PullState::Open, "new"))), Action::Update(7));
        assert_eq!(decide(&asked(None)), Action::Open);
        let declined = asked(pull(PullState::ClosedUnmerged, "new"));
        assert_eq!(decide(&declined), Action::Comment(7, Notice::Declined), "a rebase does not override a no");
        let touched = Situation { foreign_commits: true, ..asked(pull(PullState::Open, "new")) };
        assert_eq!(decide(&touched), Action::Comment(7, Notice::HandsOff));
    }

    #[test]
    fn recreate_overrides_every_no() {
        let asked = |existing| Situation { request: Request::Recreate, ..situation(existing) };
        assert_eq!(decide(&asked(pull(PullState::ClosedUnmerged, "new"))), Action::Open);
        assert_eq!(decide(&asked(pull(PullState::Merged, "new"))), Action::Open, "a revert too");
        let touched = Situation { foreign_commits: true, ..asked(pull(PullState::Open, "new")) };
        assert_eq!(decide(&touched), Action::Update(7), "the branch is replaced");
        let taken = Situation { foreign_commits: true, ..asked(None) };
        assert_eq!(decide(&taken), Action::Open);
        let clean = Situation { changes: false, ..asked(pull(PullState::ClosedUnmerged, "new")) };
        assert!(matches!(decide(&clean), Action::Nothing(_)));
        let failed = Situation { proof_failure: Some("x".into()), ..asked(None) };
        assert!(matches!(decide(&failed), Action::Nothing(_)), "never over a failed proof");
    }

    #[test]
    fn a_human_commit_stops_all_pushes_and_is_told_once() {
        let touched = Situation { foreign_commits: true, ..situation(pull(PullState::Open, "old")) };
        assert_eq!(decide(&touched), Action::Comment(7, Notice::HandsOff));
        let told = Some(Existing { commented: true, ..pull(PullState::Open, "old").unwrap() });
        let touched_told = Situation { foreign_commits: true, ..situation(told) };
        assert!(matches!(decide(&touched_told), Action::Nothing(_)));
        let no_change = Situation { foreign_commits: true, changes: false, ..situation(pull(PullState::Open, "new")) };
        assert_eq!(decide(&no_change), Action::Comment(7, Notice::HandsOff));
    }
}
