//! Signing in to the dashboard with GitHub's OAuth web flow, so that members of an organisation
//! see its private repositories: `GET /login` sends the browser to GitHub with a one-time state,
//! `GET /oauth/callback` checks that state, trades the code for a token, asks GitHub who the
//! person is and which of the state's organisations they are an active member of, and keeps only
//! that (never the token) in a signed session cookie; `GET /logout` forgets it. Cookies are
//! signed with HMAC-SHA256, `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` when the dashboard's
//! address is `https`.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::webhook::Hooks;
use crate::dashboard::Visibility;
use crate::store::epoch;

/// The session cookie's name.
pub const SESSION: &str = "harden_session";
/// The cookie that carries the OAuth state between `/login` and `/oauth/callback`.
const STATE: &str = "harden_oauth_state";
/// How long a session lasts.
const SESSION_SECONDS: i64 = 8 * 3600;

/// GitHub's OAuth app, and where the dashboard is.
#[derive(Clone)]
pub struct SignIn {
    /// The OAuth app's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// GitHub's web address (`https://github.com`, or a GitHub Enterprise Server's).
    pub web_url: String,
    /// Its REST API's root.
    pub api_url: String,
    /// The dashboard's own address as browsers reach it (the callback is under it); empty: the
    /// address the server listens on, over `http`.
    pub dashboard_url: String,
    /// The key cookies are signed with (shared by replicas).
    pub key: Vec<u8>,
}

/// What a session remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Session {
    login: String,
    orgs: Vec<String>,
    expires: i64,
}

/// What the dashboard may show to whoever sent `headers`.
pub(super) fn visibility(hooks: &Hooks, headers: &HeaderMap) -> Visibility {
    let Some(signin) = &hooks.signin else { return Visibility::default() };
    let session = signin.session_of(headers, epoch());
    Visibility {
        all: false,
        login: session.as_ref().map(|s| s.login.clone()),
        orgs: session.map(|s| s.orgs).unwrap_or_default(),
        can_sign_in: true,
    }
}

/// `GET /login`.
pub(super) async fn login(State(hooks): State<Arc<Hooks>>) -> Response {
    let Some(signin) = &hooks.signin else { return not_set_up() };
    let Ok(nonce) = nonce() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    let Ok(mut authorize) = url::Url::parse(&format!("{}/login/oauth/authorize", signin.web_url.trim_end_matches('/')))
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    authorize
        .query_pairs_mut()
        .append_pair("client_id", &signin.client_id)
        .append_pair("redirect_uri", &signin.callback())
        .append_pair("scope", "read:org")
        .append_pair("state", &nonce);
    let mut answer = Redirect::to(authorize.as_str()).into_response();
    set_cookie(&mut answer, &signin.cookie(STATE, &signin.seal(&nonce), 600));
    answer
}

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
}

/// `GET /oauth/callback`.
pub(super) async fn callback(
    State(hooks): State<Arc<Hooks>>,
    headers: HeaderMap,
    Query(back): Query<Callback>,
) -> Response {
    let Some(signin) = hooks.signin.clone() else { return not_set_up() };
    let expected = cookie(&headers, STATE).and_then(|value| signin.open::<String>(value));
    let (Some(code), Some(state), Some(expected)) = (back.code, back.state, expected) else {
        return (StatusCode::BAD_REQUEST, "sign-in failed: no code, or no state to check it against\n").into_response();
    };
    if state != expected {
        return (StatusCode::BAD_REQUEST, "sign-in failed: the state does not match\n").into_response();
    }
    let store = hooks.store.clone();
    let Ok(Ok(orgs)) = tokio::task::spawn_blocking(move || store.orgs()).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the dashboard cannot read the state\n").into_response();
    };
    let session = match signin.session(&code, &orgs).await {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "sign-in failed");
            return (StatusCode::BAD_GATEWAY, "sign-in failed: GitHub did not confirm who you are\n").into_response();
        }
    };
    tracing::info!(login = %session.login, orgs = session.orgs.len(), "signed in to the dashboard");
    let mut answer = Redirect::to(&format!("{}/", signin.dashboard_url.trim_end_matches('/'))).into_response();
    set_cookie(&mut answer, &signin.cookie(STATE, "", 0));
    set_cookie(&mut answer, &signin.cookie(SESSION, &signin.seal(&session), SESSION_SECONDS));
    answer
}

/// `GET /logout`.
pub(super) async fn logout(State(hooks): State<Arc<Hooks>>) -> Response {
    let Some(signin) = &hooks.signin else { return not_set_up() };
    let mut answer = Redirect::to(&format!("{}/", signin.dashboard_url.trim_end_matches('/'))).into_response();
    set_cookie(&mut answer, &signin.cookie(SESSION, "", 0));
    answer
}

impl SignIn {
    /// The session a request carries, when its cookie is sealed with this key and has not
    /// expired at `now`.
    fn session_of(&self, headers: &HeaderMap, now: i64) -> Option<Session> {
        cookie(headers, SESSION).and_then(|value| self.open::<Session>(value)).filter(|s| s.expires > now)
    }

    fn callback(&self) -> String {
        format!("{}/oauth/callback", self.dashboard_url.trim_end_matches('/'))
    }

    /// Trades `code` for a token, and asks GitHub who it is and which of `orgs` it is an active
    /// member of. The token is dropped afterwards.
    async fn session(&self, code: &str, orgs: &[String]) -> anyhow::Result<Session> {
        let client =
            reqwest::Client::builder().user_agent("harden").timeout(std::time::Duration::from_secs(10)).build()?;
        let exchange = serde_json::json!({
            "client_id": self.client_id, "client_secret": self.client_secret, "code": code, "redirect_uri": self.callback(),
        });
        let token: serde_json::Value = client
            .post(format!("{}/login/oauth/access_token", self.web_url.trim_end_matches('/')))
            .header(header::ACCEPT, "application/json")
            .json(&exchange)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = token["access_token"].as_str().ok_or_else(|| {
            anyhow::anyhow!("no access token: {}", token["error"].as_str().unwrap_or("unknown error"))
        })?;
        let api = self.api_url.trim_end_matches('/');
        let get = |path: String| {
            client.get(format!("{api}{path}")).bearer_auth(token).header(header::ACCEPT, "application/vnd.github+json")
        };
        let user: serde_json::Value = get("/user".into()).send().await?.error_for_status()?.json().await?;
        let login = user["login"].as_str().ok_or_else(|| anyhow::anyhow!("/user has no login"))?.to_string();
        let mut member = Vec::new();
        for org in orgs {
            let answer = get(format!("/user/memberships/orgs/{org}")).send().await?;
            if !answer.status().is_success() && answer.status() != reqwest::StatusCode::NOT_FOUND {
                // A 403: the App lacks the organisation's Members permission; members see nothing.
                tracing::warn!(%org, status = %answer.status(), "GitHub did not say whether the person is a member");
            }
            if answer.status().is_success() {
                let membership: serde_json::Value = answer.json().await?;
                if membership["state"] == "active" {
                    member.push(org.clone());
                }
            }
        }
        Ok(Session { login, orgs: member, expires: epoch() + SESSION_SECONDS })
    }

    /// `value` as JSON, base64url, then `.` and its HMAC.
    fn seal(&self, value: &impl Serialize) -> String {
        let body =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default());
        format!("{body}.{}", hex::encode(self.mac(body.as_bytes())))
    }

    /// What [`SignIn::seal`] sealed, when its HMAC checks (in constant time).
    fn open<T: for<'de> Deserialize<'de>>(&self, sealed: &str) -> Option<T> {
        let (body, mac) = sealed.split_once('.')?;
        let mut check = Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        check.update(body.as_bytes());
        check.verify_slice(&hex::decode(mac).ok()?).ok()?;
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).ok()?).ok()
    }

    fn mac(&self, body: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }

    fn cookie(&self, name: &str, value: &str, max_age: i64) -> String {
        let secure = if self.dashboard_url.starts_with("https://") { "; Secure" } else { "" };
        format!("{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}")
    }
}

fn set_cookie(answer: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        answer.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The value of cookie `name` in a request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// 16 random bytes from the kernel, as hex.
fn nonce() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(hex::encode(bytes))
}

fn not_set_up() -> Response {
    (StatusCode::NOT_FOUND, "sign-in is not set up on this server (--oauth-client-id)\n").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signin(key: &[u8]) -> SignIn {
        SignIn {
            client_id: "id".into(),
            client_secret: "secret".into(),
            web_url: "https://github.com".into(),
            api_url: "https://api.github.com".into(),
            dashboard_url: "https://harden.example.com".into(),
            key: key.to_vec(),
        }
    }

    #[test]
    fn a_sealed_session_opens_only_with_its_key_and_unchanged() {
        let session = Session { login: "ann".into(), orgs: vec!["acme".into()], expires: 9 };
        let sealed = signin(b"k1").seal(&session);
        assert_eq!(signin(b"k1").open::<Session>(&sealed), Some(session));
        assert_eq!(signin(b"k2").open::<Session>(&sealed), None, "another key");
        let (body, mac) = sealed.split_once('.').unwrap();
        let first = if body.starts_with('A') { 'B' } else { 'A' };
        let forged = format!("{first}{}.{mac}", &body[1..]);
        assert_eq!(signin(b"k1").open::<Session>(&forged), None, "a changed body");
    }

    #[test]
    fn an_expired_session_is_no_session() {
        let signin = signin(b"k");
        let sealed = signin.seal(&Session { login: "ann".into(), orgs: vec!["acme".into()], expires: 100 });
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("{SESSION}={sealed}")).unwrap());
        assert_eq!(signin.session_of(&headers, 99).map(|s| s.login), Some("ann".into()));
        assert_eq!(signin.session_of(&headers, 100), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_on_https() {
        let cookie = signin(b"k").cookie(SESSION, "v", 60);
        assert_eq!(cookie, "harden_session=v; Max-Age=60; Path=/; HttpOnly; SameSite=Lax; Secure");
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; harden_session=xyz; b=2"));
        assert_eq!(super::cookie(&headers, SESSION), Some("xyz"));
        assert_eq!(super::cookie(&headers, "harden"), None);
    }
}
