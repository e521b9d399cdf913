//! `harden serve` as a process on a free port: every delivery is authenticated by its signature
//! before anything reads it, bounded in size, recorded by its delivery id (a redelivery, also
//! after a restart, is dropped), and the health checks answer; SIGTERM stops it cleanly. Then
//! the App at work against the sandbox forge, with GitHub's own example payloads (npm
//! `@octokit/webhooks-examples`) made to speak of the sandbox's repository: `/harden` and each
//! subcommand, every refusal, and a crash in the middle of a job.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Sandbox, Server, TOKEN, docker_available, get as forge_get, git};
use harden::serve::signature::sign;
use harden::store::{JobState, Store};
use serde_json::{Value, json};

const SECRET: &str = "the webhook secret";

impl Server {
    fn start(database: &Path, secrets: &[&str]) -> Server {
        Self::start_with(database, secrets, &["--api-url", "http://127.0.0.1:9/api/v3", "--token", "unused"])
    }

    /// Stops it with SIGTERM, as Kubernetes does; its exit code.
    fn terminate(mut self) -> Option<i32> {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap().code()
    }

    /// Stops it with SIGKILL, as a crash would.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// Posts `body` as delivery `id` of `event`, signed with `signature` (or unsigned).
async fn deliver(server: &Server, id: &str, event: &str, body: &[u8], signature: Option<String>) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/webhook", server.url))
        .header("X-GitHub-Delivery", id)
        .header("X-GitHub-Event", event)
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    let answer = request.send().await.unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

async fn get(server: &Server, path: &str) -> u16 {
    reqwest::get(format!("{}{path}", server.url)).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn only_signed_deliveries_are_taken_and_each_once() {
    let state = tempfile::tempdir().unwrap();
    let database = state.path().join("serve.db");
    let server = Server::start(&database, &[SECRET, "the old secret"]);
    assert_eq!((get(&server, "/healthz").await, get(&server, "/readyz").await), (200, 200));

    let comment = br#"{"action":"created","comment":{"id":1,"body":"not a command"}}"#;
    let signed = || Some(sign(SECRET, comment));
    // Unsigned, forged, signed for another body: 401, and nothing recorded (the same id is new below).
    assert_eq!(deliver(&server, "d-1", "issue_comment", comment, None).await.0, 401);
    assert_eq!(deliver(&server, "d-1", "issue_comment", comment, Some(sign("a guess", comment))).await.0, 401);
    let other = sign(SECRET, b"{}");
    assert_eq!(deliver(&server, "d-1", "issue_comment", comment, Some(other)).await.0, 401);
    // Signed: accepted once; GitHub's redelivery of the same id is dropped.
    assert_eq!(
        deliver(&server, "d-1", "issue_comment", comment, signed()).await,
        (200, r#"{"message":"nothing to do: not a /harden command"}"#.into())
    );
    assert_eq!(
        deliver(&server, "d-1", "issue_comment", comment, signed()).await,
        (200, r#"{"message":"already received"}"#.into())
    );
    // The old secret still counts during a rotation.
    let old = deliver(&server, "d-2", "issue_comment", comment, Some(sign("the old secret", comment))).await;
    assert!(old.1.contains("nothing to do"), "{old:?}");
    // Signed but not JSON, or without a delivery id: 400.
    assert_eq!(deliver(&server, "d-3", "issue_comment", b"{not json", Some(sign(SECRET, b"{not json"))).await.0, 400);
    let anonymous = reqwest::Client::new()
        .post(format!("{}/webhook", server.url))
        .header("X-GitHub-Event", "issue_comment")
        .header("X-Hub-Signature-256", sign(SECRET, comment))
        .body(comment.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 400);
    // Larger than GitHub ever sends (25 MB): refused unread.
    let huge = vec![b' '; harden::serve::MAX_BODY + 1];
    assert_eq!(deliver(&server, "d-4", "push", &huge, Some(sign(SECRET, &huge))).await.0, 413);
    assert_eq!(server.terminate(), Some(0), "SIGTERM stops the server cleanly");

    // After a restart on the same state, the delivery is still known.
    let server = Server::start(&database, &[SECRET]);
    assert!(deliver(&server, "d-1", "issue_comment", comment, signed()).await.1.contains("already received"));
    let refused_before = deliver(&server, "d-3", "issue_comment", comment, signed()).await.1;
    assert!(refused_before.contains("nothing to do"), "a refused delivery was not recorded: {refused_before}");
}

#[test]
fn without_a_secret_it_does_not_start() {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database"])
        .arg(state.path().join("serve.db"))
        .env_remove("HARDEN_WEBHOOK_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("webhook secret"));
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args([
            "serve",
            "--webhook-secret",
            SECRET,
            "--token",
            "t",
            "--database",
            "postgres://harden@127.0.0.1:9/harden",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a database that does not answer stops it before it listens");
    assert!(String::from_utf8_lossy(&out.stderr).contains("connecting to PostgreSQL"));
    let out = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["serve", "--webhook-secret", SECRET, "--database"])
        .arg(state.path().join("serve.db"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("HARDEN_APP_ID")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "without a token or an App");
    assert!(String::from_utf8_lossy(&out.stderr).contains("give a token"));
}

/// GitHub's example payloads (npm `@octokit/webhooks-examples`, which `.ci/run` fetches).
fn examples() -> Vec<Value> {
    let path = std::env::var_os("HARDEN_WEBHOOK_EXAMPLES").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap())
            .join(".cache/harden/octokit-webhooks-examples/package/api.github.com/index.json")
    });
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{}: {e}: the example payloads of npm @octokit/webhooks-examples (.ci/run fetches them)", path.display())
    });
    serde_json::from_str(&text).unwrap()
}

/// GitHub's first example of `event` with `action`.
fn example(all: &[Value], event: &str, action: &str) -> Value {
    let group = all.iter().find(|g| g["name"] == event).unwrap_or_else(|| panic!("no {event} examples"));
    let examples = group["examples"].as_array().unwrap();
    examples.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("no {event}.{action} example")).clone()
}

/// The repository of GitHub's example, renamed to the sandbox's `acme/svc`.
fn into_sandbox(mut payload: Value, fork: bool) -> Value {
    let repository = &mut payload["repository"];
    repository["full_name"] = json!(REPO);
    repository["name"] = json!("svc");
    repository["owner"]["login"] = json!("acme");
    repository["default_branch"] = json!("main");
    repository["fork"] = json!(fork);
    payload
}

const REPO: &str = "acme/svc";

/// The sandbox and `harden serve` pointed at it, and what the test needs to talk to both.
struct World {
    sandbox: Sandbox,
    server: Option<Server>,
    _data: tempfile::TempDir,
    state: tempfile::TempDir,
    examples: Vec<Value>,
    deliveries: usize,
    proof: bool,
    /// The server's flags besides its address, database, forge and proof: the test token or the
    /// App's, and any other.
    flags: Vec<String>,
    /// Where the server listens.
    listen: String,
    _seed: tempfile::TempDir,
}

/// The people of the sandbox and their permission: acme owns the repository (GitHub reports an
/// owner as admin), ada may write, tri may only triage, eve has none.
const PEOPLE: [(&str, &str); 4] = [("acme", "admin"), ("ada", "write"), ("tri", "triage"), ("eve", "")];

impl World {
    /// The sandbox with `faults`, and the server: with the build proof on the test rig's engine
    /// when `proof`, else with none.
    fn new(faults: &[&str], proof: bool) -> World {
        let faults: Vec<String> = faults.iter().map(|f| format!("--fault={f}")).collect();
        let mut world = World::unstarted(&faults, proof);
        world.start_server();
        world
    }

    /// The sandbox with `sandbox_args` besides its people, and no server yet.
    fn unstarted(sandbox_args: &[String], proof: bool) -> World {
        let seed = common::service();
        let data = tempfile::tempdir().unwrap();
        let mut args = sandbox_args.to_vec();
        for (login, permission) in PEOPLE {
            args.extend(["--user".to_string(), format!("{login}={login}-token")]);
            if !permission.is_empty() {
                args.extend(["--collaborator".to_string(), format!("{login}={permission}")]);
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let sandbox = Sandbox::start_with(data.path(), &[&format!("{REPO}={}", seed.path().display())], &args);
        World {
            sandbox,
            server: None,
            _data: data,
            state: tempfile::tempdir().unwrap(),
            examples: examples(),
            deliveries: 0,
            proof,
            flags: vec!["--token".into(), TOKEN.into()],
            listen: "127.0.0.1:0".into(),
            _seed: seed,
        }
    }

    fn start_server(&mut self) {
        let api = self.sandbox.api();
        let mut args = vec!["--api-url", &api, "--mutation-gap-ms", "20", "--workers", "2"];
        args.extend(self.flags.iter().map(String::as_str));
        if !self.proof {
            args.extend(["--docker", "/nonexistent/docker"]);
        }
        self.server = Some(Server::start_at(&self.listen, &self.database(), &[SECRET], &args));
    }

    fn database(&self) -> PathBuf {
        self.state.path().join("serve.db")
    }

    fn server(&self) -> &Server {
        self.server.as_ref().unwrap()
    }

    /// Sends `payload` as a new delivery of `event`; the status and message.
    async fn deliver(&mut self, event: &str, payload: &Value) -> (u16, String) {
        self.deliveries += 1;
        let id = format!("delivery-{}", self.deliveries);
        let body = serde_json::to_vec(payload).unwrap();
        deliver(self.server(), &id, event, &body, Some(sign(SECRET, &body))).await
    }

    /// A REST call to the sandbox as `login` (or as the bot's token).
    async fn call(&self, method: reqwest::Method, path: &str, login: Option<&str>, body: Value) -> Value {
        let token = login.map_or(TOKEN.to_string(), |l| format!("{l}-token"));
        let answer = reqwest::Client::new()
            .request(method, format!("{}/repos/{REPO}{path}", self.sandbox.api()))
            .header("Authorization", format!("token {token}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        answer.json().await.unwrap()
    }

    async fn open_issue(&self, login: &str) -> u64 {
        let issue = self.call(reqwest::Method::POST, "/issues", Some(login), json!({"title": "smaller images?"})).await;
        issue["number"].as_u64().unwrap()
    }

    /// `login` writes `body` in thread `number`; GitHub's example `issue_comment.created` payload for it.
    async fn comment(&self, login: &str, number: u64, body: &str) -> Value {
        let made = self
            .call(reqwest::Method::POST, &format!("/issues/{number}/comments"), Some(login), json!({"body": body}))
            .await;
        let mut payload = into_sandbox(example(&self.examples, "issue_comment", "created"), false);
        payload["issue"]["number"] = json!(number);
        for field in ["id", "body", "user", "author_association", "created_at", "updated_at"] {
            payload["comment"][field] = made[field].clone();
        }
        payload["sender"] = made["user"].clone();
        payload
    }

    /// The thread's comments.
    async fn thread(&self, number: u64) -> Vec<Value> {
        let path = format!("{}/repos/{REPO}/issues/{number}/comments", self.sandbox.api());
        forge_get(&path, Some(TOKEN)).await.1.as_array().unwrap().clone()
    }

    /// The reactions on a comment, as `(user, content)`.
    async fn reactions(&self, comment: &Value) -> Vec<String> {
        let path =
            format!("{}/repos/{REPO}/issues/comments/{}/reactions", self.sandbox.api(), comment["comment"]["id"]);
        let list = forge_get(&path, Some(TOKEN)).await.1;
        list.as_array().unwrap().iter().map(|r| r["content"].as_str().unwrap().to_string()).collect()
    }

    async fn pulls(&self) -> Vec<Value> {
        let path = format!("{}/repos/{REPO}/pulls?state=all", self.sandbox.api());
        forge_get(&path, Some(TOKEN)).await.1.as_array().unwrap().clone()
    }

    /// Waits until every job the server queued is finished.
    async fn settled(&self) -> Vec<harden::store::JobRecord> {
        let start = Instant::now();
        loop {
            let store = harden::store::sqlite::Sqlite::open(&self.database()).unwrap();
            let jobs = store.jobs().unwrap();
            if jobs.iter().all(|j| matches!(j.state, JobState::Done | JobState::Failed)) {
                return jobs;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "jobs still running: {jobs:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Replies harden wrote in a thread (its own comments, told apart by their marker).
fn replies(thread: &[Value]) -> Vec<String> {
    thread
        .iter()
        .filter_map(|c| c["body"].as_str())
        .filter(|b| b.contains("<!-- harden:reply "))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn an_owners_harden_opens_exactly_one_proven_pull_request() {
    let proof = docker_available();
    let mut world = World::new(&[], proof);
    let issue = world.open_issue("acme").await;
    let asked = world.comment("acme", issue, "/harden").await;
    assert_eq!(asked["comment"]["author_association"], "OWNER");
    assert_eq!(world.deliver("issue_comment", &asked).await.0, 202);
    // The same comment through a second hook (another delivery id), and then edited: nothing new.
    assert_eq!(
        world.deliver("issue_comment", &asked).await,
        (200, r#"{"message":"its work is queued already"}"#.into())
    );
    let mut edited = asked.clone();
    edited["action"] = json!("edited");
    assert!(world.deliver("issue_comment", &edited).await.1.contains("only new comments are read"));
    let jobs = world.settled().await;
    assert_eq!(jobs.len(), 1, "{jobs:#?}");

    let pulls = world.pulls().await;
    assert_eq!(pulls.len(), 1, "exactly one pull request");
    let body = pulls[0]["body"].as_str().unwrap();
    assert!(body.contains("<!-- harden:meta "));
    assert_eq!(world.reactions(&asked).await, ["eyes", "rocket"]);
    let answered = replies(&world.thread(issue).await);
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert!(answered[0].starts_with(&format!("Opened #{}", pulls[0]["number"])), "{}", answered[0]);
    if proof {
        assert!(body.contains("| before |"), "the body carries the proof's table:\n{body}");
        assert!(answered[0].contains("The build proof:") && answered[0].contains("proven"), "{}", answered[0]);
    } else {
        assert!(body.contains("skipped"), "{body}");
    }
}

/// Commits a change to main, as a person would, and pushes it.
fn push_to_main(world: &World) {
    change_main(world, "README.md", |_| "# svc\n".into());
}

/// Commits `change` of `file` to main, as a person would, and pushes it.
fn change_main(world: &World, file: &str, change: impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().unwrap();
    let (ok, log) = git(dir.path(), &["clone", "-q", &world.sandbox.git_url(REPO, TOKEN), "main"]);
    assert!(ok, "{log}");
    let main = dir.path().join("main");
    let before = std::fs::read_to_string(main.join(file)).unwrap_or_default();
    std::fs::write(main.join(file), change(&before)).unwrap();
    assert!(git(&main, &["add", file]).0);
    assert!(git(&main, &["commit", "-qm", "a person's change"]).0);
    let (ok, log) = git(&main, &["push", "-q", "origin", "main"]);
    assert!(ok, "{log}");
}

#[tokio::test]
async fn each_subcommand_does_what_it_says() {
    let mut world = World::new(&[], false);
    let issue = world.open_issue("ada").await;
    let asked = world.comment("ada", issue, "/harden").await;
    assert_eq!(asked["comment"]["author_association"], "COLLABORATOR", "write access, asked of GitHub");
    world.deliver("issue_comment", &asked).await;
    world.settled().await;
    let pull = world.pulls().await[0].clone();
    let number = pull["number"].as_u64().unwrap();

    // help and explain answer in the thread; explain writes nothing to the forge.
    let help = world.comment("ada", issue, "/harden help").await;
    world.deliver("issue_comment", &help).await;
    let explain = world.comment("ada", issue, "/harden explain").await;
    world.deliver("issue_comment", &explain).await;
    let unknown = world.comment("ada", issue, "/harden merge").await;
    world.deliver("issue_comment", &unknown).await;
    world.settled().await;
    let answered = replies(&world.thread(issue).await);
    assert!(answered[1].contains("`/harden ignore PATH`"), "{}", answered[1]);
    assert!(answered[2].contains("**`Dockerfile`**") && answered[2].contains("HD106"), "{}", answered[2]);
    assert!(answered[3].contains("`/harden merge` is not a command"), "{}", answered[3]);
    assert_eq!(world.reactions(&unknown).await, ["eyes", "confused"]);
    assert_eq!(world.pulls().await.len(), 1);

    // ignore: the pull request is updated without that file, and the store remembers it.
    assert!(pull["body"].as_str().unwrap().contains("deploy/app.yaml"));
    let ignore = world.comment("ada", issue, "/harden ignore deploy/app.yaml").await;
    world.deliver("issue_comment", &ignore).await;
    world.settled().await;
    let pulls = world.pulls().await;
    assert_eq!(pulls.len(), 1);
    assert!(!pulls[0]["body"].as_str().unwrap().contains("deploy/app.yaml"), "{}", pulls[0]["body"]);
    let store = harden::store::sqlite::Sqlite::open(&world.database()).unwrap();
    assert_eq!(store.ignored_paths(REPO).unwrap(), ["deploy/app.yaml"]);

    // rebase, written on the pull request itself, after main moved: the same pull request on the
    // new main.
    push_to_main(&world);
    let main = forge_get(&format!("{}/repos/{REPO}/git/ref/heads/main", world.sandbox.api()), Some(TOKEN)).await.1;
    let rebase = world.comment("ada", number, "/harden rebase").await;
    world.deliver("issue_comment", &rebase).await;
    world.settled().await;
    let pulls = world.pulls().await;
    assert_eq!(pulls.len(), 1);
    let head = world
        .call(
            reqwest::Method::GET,
            &format!("/git/commits/{}", pulls[0]["head"]["sha"].as_str().unwrap()),
            None,
            Value::Null,
        )
        .await;
    assert_eq!(head["parents"][0]["sha"], main["object"]["sha"], "the branch sits on the new main");
    assert_eq!(world.reactions(&rebase).await, ["eyes", "rocket"]);
    assert!(replies(&world.thread(number).await).iter().any(|r| r.starts_with(&format!("Updated #{number}"))));

    // A person declines it; the closed event is recorded; recreate proposes it again.
    world.call(reqwest::Method::PATCH, &format!("/pulls/{number}"), None, json!({"state": "closed"})).await;
    let mut closed = into_sandbox(example(&world.examples, "pull_request", "closed"), false);
    closed["number"] = json!(number);
    closed["pull_request"] = world.call(reqwest::Method::GET, &format!("/pulls/{number}"), None, Value::Null).await;
    assert_eq!(world.deliver("pull_request", &closed).await.0, 202);
    world.settled().await;
    let recorded = store.pulls("acme").unwrap();
    assert_eq!(recorded.iter().find(|p| p.number == number).unwrap().state, "closed");
    let plain = world.comment("ada", issue, "/harden").await;
    world.deliver("issue_comment", &plain).await;
    world.settled().await;
    assert_eq!(world.pulls().await.len(), 1, "a plain /harden respects the no");
    let recreate = world.comment("ada", issue, "/harden recreate").await;
    world.deliver("issue_comment", &recreate).await;
    world.settled().await;
    let pulls = world.pulls().await;
    assert_eq!(pulls.len(), 2, "recreate opens a new pull request after the decline");
    assert_eq!(pulls.iter().filter(|p| p["state"] == "open").count(), 1);
    // The /harden jobs recorded themselves: the server's dashboard shows the repository's new
    // pull request (a public repository, as the forge said).
    let page = reqwest::get(format!("{}/", world.server().url)).await.unwrap().text().await.unwrap();
    let row = page.split("<tr data-repo=").nth(1).unwrap_or_default();
    assert!(row.starts_with("\"acme&#x2f;svc\" data-state=\"open\""), "{page}");
    assert!(page.matches("<tr data-repo=").count() == 1, "{page}");
}

#[tokio::test]
async fn every_refusal_is_a_thumbs_down_with_its_reason_told_once_per_thread_and_nothing_runs() {
    let mut world = World::new(&[], false);
    let issue = world.open_issue("eve").await;
    // No permission at all: GitHub's author_association already says so.
    let first = world.comment("eve", issue, "/harden").await;
    assert_eq!(first["comment"]["author_association"], "NONE");
    world.deliver("issue_comment", &first).await;
    let again = world.comment("eve", issue, "/harden recreate").await;
    world.deliver("issue_comment", &again).await;
    // Triage only: a collaborator, so harden asks GitHub for the permission, and refuses.
    let other = world.open_issue("tri").await;
    let triage = world.comment("tri", other, "/harden").await;
    assert_eq!(triage["comment"]["author_association"], "COLLABORATOR");
    world.deliver("issue_comment", &triage).await;
    // A fork, even for someone with write access.
    let third = world.open_issue("ada").await;
    let mut fork = world.comment("ada", third, "/harden").await;
    fork["repository"]["fork"] = json!(true);
    world.deliver("issue_comment", &fork).await;
    // A bot's command is not read at all.
    let mut bot = world.comment("ada", third, "/harden").await;
    bot["comment"]["user"]["type"] = json!("Bot");
    bot["comment"]["user"]["login"] = json!("renovate[bot]");
    assert!(world.deliver("issue_comment", &bot).await.1.contains("bots do not command harden"));
    let jobs = world.settled().await;
    assert_eq!(jobs.len(), 4, "{jobs:#?}");
    assert!(jobs.iter().all(|j| j.outcome.as_deref().unwrap_or_default().starts_with("refused")), "{jobs:#?}");

    for refused in [&first, &again, &triage, &fork] {
        assert_eq!(world.reactions(refused).await, ["-1"]);
    }
    assert!(world.reactions(&bot).await.is_empty());
    let told = replies(&world.thread(issue).await);
    assert_eq!(told.len(), 1, "once per thread: {told:#?}");
    assert!(told[0].contains("only people with write permission on acme/svc"), "{}", told[0]);
    assert!(replies(&world.thread(other).await)[0].contains("only people with write permission"));
    assert!(replies(&world.thread(third).await)[0].contains("is a fork"));
    assert!(world.pulls().await.is_empty(), "nothing was built or proposed");
    let branches =
        forge_get(&format!("{}/repos/{REPO}/git/matching-refs/heads/harden", world.sandbox.api()), Some(TOKEN)).await.1;
    assert_eq!(branches, json!([]));
}

#[tokio::test]
async fn a_crash_in_the_middle_of_a_job_ends_with_one_pull_request_and_one_reply() {
    // Opening the pull request takes three seconds: harden is killed while it waits.
    let mut world = World::new(&["slow:POST:/pulls"], false);
    let issue = world.open_issue("ada").await;
    let asked = world.comment("ada", issue, "/harden").await;
    assert_eq!(world.deliver("issue_comment", &asked).await.0, 202);
    let start = Instant::now();
    let branch = format!("{}/repos/{REPO}/git/ref/heads/harden/all", world.sandbox.api());
    while forge_get(&branch, Some(TOKEN)).await.0 != 200 {
        assert!(start.elapsed() < Duration::from_secs(60), "the job never pushed its branch");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    world.server.take().unwrap().kill();
    world.start_server();
    let jobs = world.settled().await;
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].state, jobs[0].attempts), (JobState::Done, 2), "{jobs:#?}");
    assert_eq!(world.pulls().await.len(), 1, "one pull request");
    assert_eq!(replies(&world.thread(issue).await).len(), 1, "one reply");
    assert_eq!(world.reactions(&asked).await, ["eyes", "rocket"]);
}

#[tokio::test]
async fn two_replicas_on_one_postgresql_run_each_of_200_deliveries_jobs_once() {
    let Some(database) = common::TestDatabase::new() else { return };
    let url = database.url.clone();

    let mut world = World::new(&[], false);
    world.server.take().unwrap().kill();
    let api = world.sandbox.api();
    let replica = || {
        let args = ["--api-url", &api, "--token", TOKEN, "--mutation-gap-ms", "5", "--docker", "/nonexistent/docker"];
        Server::start_with(Path::new(&url), &[SECRET], &args)
    };
    let replicas = [replica(), replica()];
    // 100 comments, each arriving through two hooks, one at each replica: 200 deliveries at once.
    let mut comments = Vec::new();
    for n in 0..100 {
        let issue = if n % 10 == 0 { world.open_issue("ada").await } else { comments.last().map(|(i, _)| *i).unwrap() };
        comments.push((issue, world.comment("ada", issue, "/harden help").await));
    }
    let mut sent = Vec::new();
    for (n, (_, payload)) in comments.iter().enumerate() {
        let body = serde_json::to_vec(payload).unwrap();
        for (hook, server) in replicas.iter().enumerate() {
            let (url, body) = (server.url.clone(), body.clone());
            sent.push(tokio::spawn(async move {
                let answer = reqwest::Client::new()
                    .post(format!("{url}/webhook"))
                    .header("X-GitHub-Delivery", format!("hook{hook}-{n}"))
                    .header("X-GitHub-Event", "issue_comment")
                    .header("X-Hub-Signature-256", sign(SECRET, &body))
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                answer.status().as_u16()
            }));
        }
    }
    let mut statuses = Vec::new();
    for answer in sent {
        statuses.push(answer.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 100, "one of each pair queues the job");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 100, "the other finds it queued");

    let store = harden::store::postgres::Postgres::connect(&url).unwrap();
    let start = Instant::now();
    let jobs = loop {
        let jobs = store.jobs().unwrap();
        if jobs.iter().all(|j| j.state == JobState::Done) {
            break jobs;
        }
        assert!(start.elapsed() < Duration::from_secs(180), "jobs still waiting: {jobs:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(jobs.len(), 100);
    assert!(jobs.iter().all(|j| j.attempts == 1), "{jobs:#?}");
    for (issue, payload) in comments.iter().step_by(10) {
        let answered = replies(&world.thread(*issue).await);
        assert_eq!(answered.len(), 10, "one reply to each of the thread's ten commands");
        assert_eq!(world.reactions(payload).await, ["eyes", "rocket"]);
    }
    for replica in replicas {
        assert_eq!(replica.terminate(), Some(0));
    }
    drop(store);
}

#[tokio::test]
async fn deliveries_that_failed_while_the_server_was_down_are_asked_for_again_when_it_starts() {
    let (_keys, key, public) = common::app_keys();
    // The server's address is known before it runs: the forge delivers there and fails meanwhile.
    let listen = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let sandbox_args = [
        "--app-id=42".to_string(),
        format!("--app-public-key={}", public.display()),
        format!("--webhook=http://{listen}/webhook"),
        format!("--webhook-secret={SECRET}"),
    ];
    let mut world = World::unstarted(&sandbox_args, false);
    world.flags = vec!["--app-id".into(), "42".into(), "--app-key".into(), key.display().to_string()];
    world.listen = listen;
    let issue = world.open_issue("ada").await;
    world
        .call(reqwest::Method::POST, &format!("/issues/{issue}/comments"), Some("ada"), json!({"body": "/harden"}))
        .await;
    let state = world._data.path().join("state.json");
    let deliveries = || -> Vec<Value> {
        let state: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
        state["hook_deliveries"].as_array().cloned().unwrap_or_default()
    };
    let start = Instant::now();
    while deliveries().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "the forge never tried to deliver");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(deliveries()[0]["status_code"], 0, "nothing answered: {:?}", deliveries());

    world.start_server();
    let start = Instant::now();
    while world.pulls().await.is_empty() || replies(&world.thread(issue).await).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the failed delivery was never redelivered: {:?}",
            deliveries()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    world.settled().await;
    let attempts = deliveries();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!((attempts[1]["redelivery"].clone(), attempts[1]["status_code"].clone()), (json!(true), json!(202)));
    assert_eq!(attempts[0]["guid"], attempts[1]["guid"], "a redelivery keeps its delivery id");
    assert_eq!(world.pulls().await.len(), 1);
    assert_eq!(replies(&world.thread(issue).await).len(), 1);
}

#[tokio::test]
async fn past_its_limit_of_requests_under_way_it_answers_503_at_once() {
    use tokio::io::AsyncWriteExt;
    let state = tempfile::tempdir().unwrap();
    let args = ["--api-url", "http://127.0.0.1:9/api/v3", "--token", "unused", "--max-concurrent-requests", "1"];
    let server = Server::start_with(&state.path().join("serve.db"), &[SECRET], &args);
    // A delivery whose body never comes holds the one slot.
    let mut slow = tokio::net::TcpStream::connect(server.url.trim_start_matches("http://")).await.unwrap();
    slow.write_all(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let busy = reqwest::get(format!("{}/healthz", server.url)).await.unwrap();
    assert_eq!(busy.status().as_u16(), 503);
    assert_eq!(busy.headers()["retry-after"], "1");
    assert!(start.elapsed() < Duration::from_secs(1), "refused at once");
    drop(slow);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get(&server, "/healthz").await, 200, "the slot is free again");
}

/// The deployment files stay true to the server: what they pass exists, they pass harden's own
/// scan, and the App manifest asks for what the server needs and nothing more. (checkov and
/// hadolint judge them in tests/run.sh.)
#[test]
fn the_deployment_files_pass_harden_and_name_only_flags_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scan = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["scan", "--fail-on", "info"])
        .arg(root.join("deploy"))
        .output()
        .unwrap();
    assert_eq!(scan.status.code(), Some(0), "{}", String::from_utf8_lossy(&scan.stdout));
    let help = Command::new(env!("CARGO_BIN_EXE_harden")).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let manifest = std::fs::read_to_string(root.join("deploy/kubernetes.yaml")).unwrap();
    let dockerfile = std::fs::read_to_string(root.join("deploy/Dockerfile")).unwrap();
    let flags: Vec<&str> = manifest
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .chain(dockerfile.lines().filter(|l| l.starts_with("CMD")))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '"' || c == '='))
        .filter(|w| w.starts_with("--") && w[2..].starts_with(|c: char| c.is_ascii_lowercase()))
        .collect();
    assert!(flags.len() >= 6, "{flags:?}");
    for flag in flags {
        assert!(
            help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}=")),
            "{flag} is not a flag of harden serve"
        );
    }
    for mount in ["/etc/harden/app-key", "/etc/harden/webhook-secret", "/etc/harden/database"] {
        assert!(manifest.contains(mount), "{mount}");
    }
    assert!(!manifest.contains("secretKeyRef"), "secrets are mounted as files, not put in the environment");
    let app: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("deploy/github-app.json")).unwrap()).unwrap();
    assert_eq!(
        app["default_permissions"],
        json!({"contents": "write", "pull_requests": "write", "issues": "write", "metadata": "read"})
    );
    assert_eq!(app["default_events"], json!(["issue_comment", "pull_request", "push"]));
    assert!(app["hook_attributes"]["url"].as_str().unwrap().ends_with("/webhook"));
}

#[tokio::test]
async fn an_installation_gets_paced_first_looks_and_a_push_to_main_re_checks_the_pull_request_once() {
    let mut world = World::unstarted(&[], false);
    // The debounce leaves the second push of the burst time to arrive while the first's re-check
    // still waits, however loaded the machine running the tests is.
    world.flags.extend(["--push-debounce-seconds", "5", "--first-look-gap-seconds", "3600"].map(String::from));
    world.start_server();
    let mut installed = example(&world.examples, "installation", "created");
    installed["repositories"] =
        json!([{"full_name": REPO, "name": "svc"}, {"full_name": "acme/later", "name": "later"}]);
    assert_eq!(world.deliver("installation", &installed).await, (202, r#"{"message":"queued 2 jobs"}"#.into()));
    let store = harden::store::sqlite::Sqlite::open(&world.database()).unwrap();
    let done = |kind: &str, n: usize| {
        let jobs = store.jobs().unwrap();
        jobs.iter().filter(|j| j.kind == kind && j.state == JobState::Done).count() >= n
    };
    let start = Instant::now();
    while !done("first_look", 1) {
        assert!(start.elapsed() < Duration::from_secs(60), "{:#?}", store.jobs().unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pulls = world.pulls().await;
    assert_eq!(pulls.len(), 1, "the first look opened the pull request");
    let later = store.jobs().unwrap().into_iter().find(|j| j.repo == "acme/later").unwrap();
    assert_eq!(later.state, JobState::Queued, "the second look waits for the pace");

    // Two pushes to main in a burst (the Dockerfile changed): one re-check updates the pull request.
    change_main(&world, "Dockerfile", |text| format!("{text}EXPOSE 8080\n"));
    let main = forge_get(&format!("{}/repos/{REPO}/git/ref/heads/main", world.sandbox.api()), Some(TOKEN)).await.1;
    let mut push = into_sandbox(example_of(&world.examples, "push"), false);
    push["ref"] = json!("refs/heads/main");
    push["deleted"] = json!(false);
    assert_eq!(world.deliver("push", &push).await.0, 202);
    assert_eq!(world.deliver("push", &push).await.1, r#"{"message":"its work is queued already"}"#);
    let mut elsewhere = push.clone();
    elsewhere["ref"] = json!("refs/heads/feature");
    assert!(world.deliver("push", &elsewhere).await.1.contains("another branch"));
    let start = Instant::now();
    while !done("recheck", 1) {
        assert!(start.elapsed() < Duration::from_secs(60), "{:#?}", store.jobs().unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(store.jobs().unwrap().iter().filter(|j| j.kind == "recheck").count(), 1);
    let pulls = world.pulls().await;
    assert_eq!(pulls.len(), 1, "a push never opens a second pull request");
    let head = pulls[0]["head"]["sha"].as_str().unwrap();
    let head = world.call(reqwest::Method::GET, &format!("/git/commits/{head}"), None, Value::Null).await;
    assert_eq!(head["parents"][0]["sha"], main["object"]["sha"], "the pull request was updated onto the new main");
}

/// GitHub's first example of `event`, whatever its action.
fn example_of(all: &[Value], event: &str) -> Value {
    let group = all.iter().find(|g| g["name"] == event).unwrap_or_else(|| panic!("no {event} examples"));
    group["examples"][0].clone()
}
