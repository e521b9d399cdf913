//! The forge client: GitHub's REST API (or GitHub Enterprise Server's, or the sandbox's) through
//! octocrab, with harden's governor in front of every request. Every call names its route as
//! GitHub documents it; answers are read as JSON, so a forge that adds fields never breaks harden.
//! Octocrab retries 5xx answers and dropped connections, which replays POSTs: the callers look
//! before they create.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use http::Method;
use octocrab::Octocrab;
use octocrab::models::{AppId, InstallationId};
use octocrab::secrecy::SecretString;
use octocrab::service::middleware::retry::{NoOpRateLimitMetrics, RetryConfig};
use serde_json::Value;

use super::governor::{Governor, Limits, RateHeaders, Request};

/// How harden authenticates.
#[derive(Clone)]
pub enum Auth {
    /// A token: `GITHUB_TOKEN`, a personal access token, or the sandbox's token.
    Token(SecretString),
    /// A GitHub App: its id and its private key (PEM); harden asks for an installation token for
    /// the repository, and octocrab mints a new one before the old one expires.
    App {
        /// The App's id.
        id: u64,
        /// The App's private key, PEM.
        key: Vec<u8>,
    },
}

/// An answer: its status, its JSON body (`Null` when empty) and its ETag.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// The `ETag` header, for a later conditional read.
    pub etag: Option<String>,
}

/// The App itself, signing with its JWT: for what only the App may ask (its installations, its
/// webhook deliveries).
pub struct AppClient(Octocrab);

impl AppClient {
    /// The App `id` with its private key `key` (PEM), at `api_url`.
    pub fn new(api_url: &str, id: u64, key: &[u8]) -> anyhow::Result<Self> {
        Ok(AppClient(
            Octocrab::builder()
                .base_uri(api_url)
                .with_context(|| format!("--api-url {api_url}"))?
                .app_from_rsa_pem(AppId(id), key)
                .context("the App's private key")?
                .build()?,
        ))
    }

    /// The App's webhook deliveries, newest first, back to `since` (seconds since the epoch):
    /// every page of `GET /app/hook/deliveries`, followed by its `Link: rel="next"` cursor.
    pub async fn hook_deliveries(&self, since: i64) -> anyhow::Result<Vec<Value>> {
        let mut route = Some("/app/hook/deliveries?per_page=100".to_string());
        let mut all = Vec::new();
        while let Some(uri) = route.take() {
            let answer = self.0._get(uri).await.map_err(|e| github_error(e, "listing the App's webhook deliveries"))?;
            let next = answer
                .headers()
                .get(http::header::LINK)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| l.split(',').find(|part| part.contains("rel=\"next\"")))
                .and_then(|part| Some(part[part.find('<')? + 1..part.find('>')?].to_string()));
            let status = answer.status();
            let body = self.0.body_to_string(answer).await.map_err(|e| github_error(e, "reading the deliveries"))?;
            anyhow::ensure!(status.is_success(), "listing the App's webhook deliveries answered {status}: {body}");
            let page: Vec<Value> = serde_json::from_str(&body)?;
            let older = page.iter().any(|d| delivered_at(d).is_some_and(|at| at < since));
            all.extend(page);
            if !older {
                route = next;
            }
        }
        Ok(all)
    }

    /// Asks GitHub to deliver the webhook delivery `id` again.
    pub async fn redeliver(&self, id: u64) -> anyhow::Result<()> {
        let answer = self
            .0
            ._post(format!("/app/hook/deliveries/{id}/attempts"), None::<&()>)
            .await
            .map_err(|e| github_error(e, "asking for a redelivery"))?;
        anyhow::ensure!(answer.status().is_success(), "redelivering {id} answered {}", answer.status());
        Ok(())
    }
}

/// When a listed delivery was made (seconds since the epoch).
pub fn delivered_at(delivery: &Value) -> Option<i64> {
    let at = delivery["delivered_at"].as_str()?;
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

/// Marks a path as an absolute route, not one under the repository (see [`GitHub::get_at`]).
const ABSOLUTE: &str = "absolute:";

fn absolute(route: &str) -> String {
    format!("{ABSOLUTE}{route}")
}

/// One forge, speaking for one repository (relative routes are under `/repos/{owner}/{name}`);
/// [`GitHub::for_repo`] speaks for another through the same connection, governor and counters.
#[derive(Clone)]
pub struct GitHub {
    /// Retries 5xx answers and dropped connections (so it may replay a request that was done).
    crab: Octocrab,
    /// Never retries: for creates a replay would double.
    once: Octocrab,
    /// The token, when harden was given one (an App's installation tokens come from `crab`).
    token: Option<SecretString>,
    repo: String,
    governor: Arc<Mutex<Governor>>,
    counts: Arc<Counts>,
}

/// What a connection has sent, across every repository it spoke for.
#[derive(Debug, Default)]
struct Counts {
    /// Mutating requests.
    writes: AtomicUsize,
    /// Every request.
    requests: AtomicUsize,
    /// Requests that spent rate limit (all but `304 Not Modified`).
    spent: AtomicUsize,
}

/// A conditional read's answer.
#[derive(Debug)]
pub enum Conditional {
    /// `304 Not Modified`: what was read last time still holds (and it cost no rate limit).
    NotModified,
    /// The resource (or `None` on 404), with its new ETag.
    Fresh(Option<Value>, Option<String>),
}

/// The page size of lists, GitHub's largest.
const PAGE: usize = 100;

/// How many times a rate-limited request is sent again after octocrab's own retries.
const RATE_LIMIT_RETRIES: usize = 2;

/// What a connection speaks for, which decides an App's installation.
#[derive(Debug, Clone)]
pub enum Scope {
    /// One repository, `owner/name`.
    Repo(String, String),
    /// Every repository of an organisation (an App: its installation on the organisation).
    Org(String),
    /// An App's installation, by id.
    Installation(u64),
}

impl GitHub {
    /// Connects to the API at `api_url` for the repository `owner/name`.
    pub async fn connect(api_url: &str, auth: Auth, owner: &str, name: &str, limits: Limits) -> anyhow::Result<Self> {
        Self::connect_scoped(api_url, auth, Scope::Repo(owner.into(), name.into()), limits).await
    }

    /// The installations of the GitHub App `id` (signing with `key`): their ids and the accounts
    /// (organisations or users) they are installed on.
    pub async fn installations(api_url: &str, id: u64, key: &[u8]) -> anyhow::Result<Vec<(u64, String)>> {
        let listed: Vec<Value> = AppClient::new(api_url, id, key)?
            .0
            .get("/app/installations?per_page=100", None::<&()>)
            .await
            .map_err(|e| github_error(e, "listing the App's installations"))?;
        Ok(listed
            .iter()
            .filter_map(|i| Some((i["id"].as_u64()?, i["account"]["login"].as_str()?.to_string())))
            .collect())
    }

    /// Connects to the API at `api_url` for what `scope` names.
    pub async fn connect_scoped(api_url: &str, auth: Auth, scope: Scope, limits: Limits) -> anyhow::Result<Self> {
        let repo = match &scope {
            Scope::Repo(owner, name) => format!("{owner}/{name}"),
            Scope::Org(org) => format!("{org}/"),
            Scope::Installation(id) => format!("installation-{id}/"),
        };
        let builder = |retry: RetryConfig| -> anyhow::Result<octocrab::OctocrabBuilder<_, _, _, _>> {
            Ok(Octocrab::builder()
                .base_uri(api_url)
                .with_context(|| format!("--api-url {api_url}"))?
                .add_retry_config(retry)
                .set_connect_timeout(Some(Duration::from_secs(10)))
                .set_read_timeout(Some(Duration::from_secs(60))))
        };
        let retried = || RetryConfig::HandleRateLimits {
            metrics: std::sync::Arc::new(NoOpRateLimitMetrics),
            max_retries: 3,
            min_wait_seconds: 60,
            retry_on_forbidden: false,
        };
        let (crab, once, token) = match auth {
            Auth::Token(token) => (
                builder(retried())?.personal_token(token.clone()).build()?,
                builder(RetryConfig::None)?.personal_token(token.clone()).build()?,
                Some(token),
            ),
            Auth::App { id, key } => {
                let app = |retry| -> anyhow::Result<Octocrab> {
                    Ok(builder(retry)?.app_from_rsa_pem(AppId(id), &key).context("the App's private key")?.build()?)
                };
                let (app, app_once) = (app(retried())?, app(RetryConfig::None)?);
                let installation = match &scope {
                    Scope::Repo(owner, name) => {
                        app.apps()
                            .get_repository_installation(owner, name)
                            .await
                            .map_err(|e| {
                                github_error(e, &format!("finding the installation of App {id} on {owner}/{name}"))
                            })?
                            .id
                            .0
                    }
                    Scope::Org(org) => {
                        app.apps()
                            .get_org_installation(org)
                            .await
                            .map_err(|e| github_error(e, &format!("finding the installation of App {id} on {org}")))?
                            .id
                            .0
                    }
                    Scope::Installation(installation) => *installation,
                };
                let installation = InstallationId(installation);
                let (crab, _) = app
                    .installation_and_token(installation)
                    .await
                    .map_err(|e| github_error(e, "minting an installation token"))?;
                (crab, app_once.installation(installation)?, None)
            }
        };
        let client = GitHub {
            crab,
            once,
            token,
            repo,
            governor: Arc::new(Mutex::new(Governor::new(limits))),
            counts: Arc::default(),
        };
        Ok(client)
    }

    /// The same connection (its authentication, governor and counters) speaking for
    /// `owner/name`: one governor paces every request a sweep sends.
    pub fn for_repo(&self, owner: &str, name: &str) -> GitHub {
        GitHub { repo: format!("{owner}/{name}"), ..self.clone() }
    }

    /// The token git must use: the one harden was given, or an installation token that will not
    /// expire in the next minutes (octocrab mints a new one when the cached one is about to).
    pub async fn git_token(&self) -> anyhow::Result<SecretString> {
        match &self.token {
            Some(token) => Ok(token.clone()),
            None => self.crab.installation_token().await.map_err(|e| github_error(e, "minting an installation token")),
        }
    }

    /// How many mutating requests this connection has sent.
    pub fn writes(&self) -> usize {
        self.counts.writes.load(Ordering::Relaxed)
    }

    /// How many requests this connection has sent, and how many of them spent rate limit.
    pub fn requests(&self) -> (usize, usize) {
        (self.counts.requests.load(Ordering::Relaxed), self.counts.spent.load(Ordering::Relaxed))
    }

    /// `GET` an absolute route (`/orgs/{org}/repos`); `None` on 404.
    pub async fn get_at(&self, route: &str) -> anyhow::Result<Option<Value>> {
        self.get(&absolute(route)).await
    }

    /// Every item of an absolute route's list, page by page (at most 1,000).
    pub async fn list_at(&self, route: &str) -> anyhow::Result<Vec<Value>> {
        self.list(&absolute(route)).await
    }

    /// A conditional `GET` of an absolute route: with the ETag of the last read, an unchanged
    /// resource answers `304`, which costs no rate limit.
    pub async fn get_if_changed(&self, route: &str, etag: Option<&str>) -> anyhow::Result<Conditional> {
        let route = absolute(route);
        let mut headers = http::HeaderMap::new();
        if let Some(tag) = etag.and_then(|t| http::HeaderValue::from_str(t).ok()) {
            headers.insert(http::header::IF_NONE_MATCH, tag);
        }
        let answer = self.send_with(&self.crab, Method::GET, &route, None, Request::Read, Some(headers)).await?;
        match answer.status {
            304 => Ok(Conditional::NotModified),
            404 => Ok(Conditional::Fresh(None, None)),
            200..=299 => Ok(Conditional::Fresh(Some(answer.body), answer.etag)),
            _ => Err(failure(&Method::GET, &self.route(&route), &answer)),
        }
    }

    /// `GET /repos/{owner}/{repo}{path}`; `None` on 404.
    pub async fn get(&self, path: &str) -> anyhow::Result<Option<Value>> {
        let answer = self.send(Method::GET, path, None, Request::Read).await?;
        match answer.status {
            404 => Ok(None),
            200..=299 => Ok(Some(answer.body)),
            _ => Err(failure(&Method::GET, &self.route(path), &answer)),
        }
    }

    /// Every item of a list, page by page, 100 at a time; at most 1,000 items.
    pub async fn list(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        self.paged(path, 10).await
    }

    /// Every item of an absolute route's list, however long (an organisation's repositories):
    /// up to 100,000 items.
    pub async fn list_all_at(&self, route: &str) -> anyhow::Result<Vec<Value>> {
        self.paged(&absolute(route), 1000).await
    }

    async fn paged(&self, path: &str, pages: usize) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let joint = if path.contains('?') { '&' } else { '?' };
        for page in 1..=pages {
            let answer = self.get(&format!("{path}{joint}per_page={PAGE}&page={page}")).await?.unwrap_or(Value::Null);
            let batch = answer.as_array().cloned().unwrap_or_default();
            let last = batch.len() < PAGE;
            items.extend(batch);
            if last {
                break;
            }
        }
        Ok(items)
    }

    /// A mutation on `/repos/{owner}/{repo}{path}` that must answer 2xx.
    pub async fn write(&self, method: Method, path: &str, body: &Value, request: Request) -> anyhow::Result<Value> {
        let answer = self.try_write(method.clone(), path, body, request).await?;
        if (200..300).contains(&answer.status) {
            Ok(answer.body)
        } else {
            Err(failure(&method, &self.route(path), &answer))
        }
    }

    /// A mutation whose refusal the caller handles (a 422 for "already exists", say).
    pub async fn try_write(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        request: Request,
    ) -> anyhow::Result<Answer> {
        self.counts.writes.fetch_add(1, Ordering::Relaxed);
        self.send(method, path, Some(body), request).await
    }

    /// A `POST` sent exactly once, for a create that a replay would double (a comment): `None`
    /// when the outcome is unknown (a 5xx or a dropped connection), so the caller looks before it
    /// tries again.
    pub async fn post_once(&self, path: &str, body: &Value) -> anyhow::Result<Option<Value>> {
        self.counts.writes.fetch_add(1, Ordering::Relaxed);
        match self.send_with(&self.once, Method::POST, path, Some(body), Request::Content, None).await {
            Ok(answer) if (200..300).contains(&answer.status) => Ok(Some(answer.body)),
            Ok(answer) if answer.status >= 500 => Ok(None),
            Ok(answer) => Err(failure(&Method::POST, &self.route(path), &answer)),
            Err(error) => {
                tracing::warn!(%error, "no answer; looking before trying again");
                Ok(None)
            }
        }
    }

    /// The route a path names: paths that start with `/repos/` or [`ABSOLUTE`] stand as they
    /// are, the others are under this repository.
    fn route(&self, path: &str) -> String {
        match path.strip_prefix(ABSOLUTE) {
            Some(route) => route.to_string(),
            None if path.is_empty() || path.starts_with('/') && !path.starts_with("/repos/") => {
                format!("/repos/{}{path}", self.repo)
            }
            None => path.to_string(),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>, request: Request) -> anyhow::Result<Answer> {
        self.send_with(&self.crab, method, path, body, request, None).await
    }

    async fn send_with(
        &self,
        crab: &Octocrab,
        method: Method,
        path: &str,
        body: Option<&Value>,
        request: Request,
        headers: Option<http::HeaderMap>,
    ) -> anyhow::Result<Answer> {
        let route = self.route(path);
        for attempt in 0..=RATE_LIMIT_RETRIES {
            let wait = self.governor.lock().expect("governor").wait(Instant::now(), request);
            tokio::time::sleep(wait).await;
            self.governor.lock().expect("governor").sent(Instant::now(), request);
            self.counts.requests.fetch_add(1, Ordering::Relaxed);
            let response = match method {
                Method::GET => crab._get_with_headers(route.as_str(), headers.clone()).await,
                Method::POST => crab._post(route.as_str(), body).await,
                Method::PATCH => crab._patch(route.as_str(), body).await,
                Method::DELETE => crab._delete(route.as_str(), body).await,
                _ => bail!("harden does not send {method}"),
            }
            .map_err(|e| github_error(e, &format!("{method} {route}")))?;
            let status = response.status().as_u16();
            if status != 304 {
                self.counts.spent.fetch_add(1, Ordering::Relaxed);
            }
            let etag = response.headers().get(http::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
            let rate = rate_headers(response.headers());
            let text =
                self.crab.body_to_string(response).await.map_err(|e| github_error(e, &format!("{method} {route}")))?;
            tracing::debug!(%method, %route, status, "forge answered");
            let epoch = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let limited = self.governor.lock().expect("governor").received(Instant::now(), epoch, status, &rate);
            match limited {
                Some(wait) if attempt < RATE_LIMIT_RETRIES => {
                    tracing::warn!(%method, %route, status, seconds = wait.as_secs(), "rate limited; waiting");
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), etag }),
            }
        }
        unreachable!("the last attempt returns")
    }
}

fn rate_headers(headers: &http::HeaderMap) -> RateHeaders {
    let number = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    RateHeaders {
        retry_after: number("retry-after"),
        remaining: number("x-ratelimit-remaining"),
        reset: number("x-ratelimit-reset"),
    }
}

/// An error for an answer that was not what the caller needed, with GitHub's own message.
fn failure(method: &Method, route: &str, answer: &Answer) -> anyhow::Error {
    let message = answer.body.get("message").and_then(Value::as_str).unwrap_or("no message");
    let details: Vec<&str> =
        answer.body["errors"].as_array().into_iter().flatten().filter_map(|e| e["message"].as_str()).collect();
    let details = if details.is_empty() { String::new() } else { format!(" ({})", details.join("; ")) };
    anyhow::anyhow!("{method} {route} answered {}: {message}{details}", answer.status)
}

/// Octocrab's errors print only "GitHub" for API errors: name the status and GitHub's message.
fn github_error(error: octocrab::Error, doing: &str) -> anyhow::Error {
    match error {
        octocrab::Error::GitHub { source, .. } => {
            anyhow::anyhow!("{doing}: {} {}", source.status_code, source.message)
        }
        other => anyhow::anyhow!("{doing}: {other}"),
    }
}
