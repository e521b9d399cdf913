//! `GET /repos/{owner}/{repo}/collaborators/{username}/permission`: what a user may do, from the
//! sandbox's `--collaborator LOGIN=PERMISSION` list (anyone else has `none`), so commands in
//! comments can be checked against the commenter's permission.

use std::sync::Arc;

use axum::Router;
use axum::extract::State as Extract;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::api::{ApiError, Forge};
use super::extract::OpenRepo;
use super::shapes;

/// The permissions GitHub reports, from the most to the least.
pub const PERMISSIONS: [&str; 5] = ["admin", "maintain", "write", "triage", "read"];

/// The routes.
pub fn routes() -> Router<Arc<Forge>> {
    Router::new().route("/api/v3/repos/{owner}/{repo}/collaborators/{name}/permission", get(permission))
}

async fn permission(Extract(forge): Extract<Arc<Forge>>, repo: OpenRepo) -> Result<Response, ApiError> {
    let login = repo.target.as_str();
    let role = forge.collaborators.get(login).map_or("none", String::as_str);
    // GitHub's `permission` field knows only admin, write, read and none; `role_name` is exact.
    let permission = match role {
        "admin" => "admin",
        "maintain" | "write" => "write",
        "triage" | "read" => "read",
        _ => "none",
    };
    let rank = PERMISSIONS.iter().position(|p| *p == role).unwrap_or(PERMISSIONS.len());
    let mut user = shapes::user(&forge.base_url, login, 3000 + login.len() as u64, "User");
    user["permissions"] = json!({
        "admin": rank == 0, "maintain": rank <= 1, "push": rank <= 2, "triage": rank <= 3, "pull": rank <= 4,
    });
    user["role_name"] = json!(role);
    Ok(axum::Json(json!({"permission": permission, "role_name": role, "user": user})).into_response())
}
