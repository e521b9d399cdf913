//! Review requests: `POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers`, as GitHub
//! takes it (`reviewers` are logins, `team_reviewers` team slugs), each asked at most once.

use std::sync::Arc;

use axum::extract::State as Extract;
use axum::response::Response;
use serde::Deserialize;

use super::api::{ApiError, Forge};
use super::extract::{Body, OpenRepo, created, not_found};
use super::pulls::{find_mut, pull_json};

#[derive(Deserialize)]
pub(super) struct Wanted {
    #[serde(default)]
    reviewers: Vec<String>,
    #[serde(default)]
    team_reviewers: Vec<String>,
}

/// Asks the users and teams to review; answers the pull request, as GitHub does.
pub(super) async fn request(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    Body(wanted): Body<Wanted>,
) -> Result<Response, ApiError> {
    let pull = forge.change(|state| {
        let pulls = &mut state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?.pulls;
        let pull = find_mut(pulls, &repo.target)?;
        for (asked, list) in [(&wanted.reviewers, &mut pull.reviewers), (&wanted.team_reviewers, &mut pull.teams)] {
            for name in asked {
                if !list.contains(name) {
                    list.push(name.clone());
                }
            }
        }
        Ok(pull.clone())
    })?;
    let state = forge.state.lock().expect("state lock");
    Ok(created(pull_json(&forge.base_url, &repo, &state.repos[&repo.full_name], &pull)))
}
