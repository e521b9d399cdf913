//! The dashboard, served live at `/` from the store the server shares: the same pages `harden
//! dashboard --out` writes, with the private repositories of the organisations the signed-in
//! person is a member of (`signin.rs`); public repositories only to anyone else. The pages
//! change nothing, so they take no form and need no CSRF token; every answer carries a strict
//! Content-Security-Policy (scripts from this server only, no inline script) and the usual
//! hardening headers.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::webhook::Hooks;
use crate::dashboard::{Snapshot, pages::Site};
use crate::store::epoch;

/// The policy of every page: nothing but this server's stylesheet and script.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /` and the pages under it.
pub async fn page(State(hooks): State<Arc<Hooks>>, headers: HeaderMap, uri: Uri) -> Response {
    let path = uri.path().to_string();
    if let Some(asset) = crate::dashboard::pages::asset(&path) {
        return answer(asset);
    }
    let store = hooks.store.clone();
    let visibility = super::signin::visibility(&hooks, &headers);
    let rendered = tokio::task::spawn_blocking(move || {
        let snapshot = Snapshot::read(store.as_ref(), &[])?;
        Site { snapshot: &snapshot, visibility: &visibility, now: epoch() }.page(&path)
    })
    .await;
    let page = match rendered {
        Ok(Ok(Some(page))) => page,
        Ok(Ok(None)) => return (StatusCode::NOT_FOUND, "no such page\n").into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), "the dashboard could not be rendered");
            return (StatusCode::SERVICE_UNAVAILABLE, "the dashboard cannot read the state\n").into_response();
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    answer(page)
}

/// A page with the security headers every answer carries.
fn answer(page: crate::dashboard::pages::Page) -> Response {
    (
        [
            (header::CONTENT_TYPE, page.content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        page.body,
    )
        .into_response()
}
