//! Reactions on comments, as harden acknowledges a `/harden` command:
//! `POST /repos/{owner}/{repo}/issues/comments/{id}/reactions` answers 201 for a new reaction and
//! 200 with the existing one when the same user already reacted so (as GitHub does), and `GET`
//! lists them.

use std::sync::Arc;

use axum::Router;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{ApiError, Forge};
use super::extract::{Body, OpenRepo, not_found};
use super::state::{Reaction, now};

/// What GitHub accepts as a reaction's content.
const CONTENTS: [&str; 8] = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"];

/// The routes.
pub fn routes() -> Router<Arc<Forge>> {
    Router::new().route("/api/v3/repos/{owner}/{repo}/issues/comments/{id}/reactions", get(list).post(react))
}

#[derive(Deserialize)]
struct NewReaction {
    content: String,
}

fn reaction_json(forge: &Forge, reaction: &Reaction) -> Value {
    json!({
        "id": reaction.id,
        "node_id": format!("REA_sandbox{}", reaction.id),
        "user": forge.user_json(reaction.user.as_deref()),
        "content": reaction.content,
        "created_at": reaction.created_at,
    })
}

async fn react(
    Extract(forge): Extract<Arc<Forge>>,
    repo: OpenRepo,
    headers: HeaderMap,
    Body(new): Body<NewReaction>,
) -> Result<Response, ApiError> {
    let user = forge.actor(&headers);
    if !CONTENTS.contains(&new.content.as_str()) {
        return Err(ApiError::validation("Reaction", format!("`{}` is not a valid reaction", new.content)));
    }
    let (reaction, fresh) = forge.change(|state| {
        let id = state.next_id();
        let repository = state.repos.get_mut(&repo.full_name).ok_or_else(not_found)?;
        let comment = repository.comments.iter_mut().find(|c| c.id.to_string() == repo.target).ok_or_else(not_found)?;
        if let Some(existing) = comment.reactions.iter().find(|r| r.content == new.content && r.user == user) {
            return Ok((existing.clone(), false));
        }
        let reaction = Reaction { id, user, content: new.content, created_at: now() };
        comment.reactions.push(reaction.clone());
        Ok((reaction, true))
    })?;
    let status = if fresh { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(reaction_json(&forge, &reaction))).into_response())
}

async fn list(Extract(forge): Extract<Arc<Forge>>, repo: OpenRepo) -> Result<Response, ApiError> {
    let state = forge.state.lock().expect("state lock");
    let comment =
        state.repos[&repo.full_name].comments.iter().find(|c| c.id.to_string() == repo.target).ok_or_else(not_found)?;
    let list: Vec<Value> = comment.reactions.iter().map(|r| reaction_json(&forge, r)).collect();
    Ok(axum::Json(list).into_response())
}
