//! The dashboard end to end: the state filled by a real sweep against the sandbox (with the
//! build proof on the rig's engine), one pull request merged on the forge and read back by
//! `harden sweep status`, then the pages written by `harden dashboard` and served by `harden
//! serve` compared with the state, and opened in headless Chromium by `tests/browser/dashboard.py`
//! (filter, search, sort, dark mode, axe-core, screenshots in `target/dashboard-shots/`).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use common::{Org, Sandbox, Server, TOKEN, docker_available, project, send};
use harden::store::Store;
use serde_json::json;

const ORG: &str = "acme";
/// The key the test server signs its session cookies with.
const KEY: &str = "a session key of at least thirty-two characters";

/// `harden ARGS` against the sandbox with the test token.
fn harden(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
    command.env("GITHUB_TOKEN", TOKEN).args(args).args(["--api-url", &sandbox.api()]);
    command.output().unwrap()
}

/// The rows of a page's pull-request table: repository → (state, bytes saved).
fn rows(html: &str) -> BTreeMap<String, (String, u64)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        // As the browser reads it: minijinja writes `/` as `&#x2f;`.
        let raw = tag[start..].split('"').next()?;
        Some(raw.replace("&#x2f;", "/").replace("&#x27;", "'").replace("&quot;", "\"").replace("&amp;", "&"))
    };
    html.split("<tr data-repo=")
        .skip(1)
        .filter_map(|rest| {
            let tag = format!("data-repo={}", rest.split('>').next()?);
            let saved = attribute(&tag, "data-saved")?.parse().ok()?;
            Some((attribute(&tag, "data-repo")?, (attribute(&tag, "data-state")?, saved)))
        })
        .collect()
}

/// What the store says each shown row must be: the latest pull request's state and saving.
fn expected(store: &dyn Store, include_private: bool) -> BTreeMap<String, (String, u64)> {
    let orgs = store.orgs().unwrap();
    let repos: Vec<_> = orgs.iter().flat_map(|org| store.repos(org).unwrap()).collect();
    let private: Vec<&str> = repos.iter().filter(|r| r.private).map(|r| r.full_name.as_str()).collect();
    let mut out = BTreeMap::new();
    for pull in orgs.iter().flat_map(|org| store.pulls(org).unwrap()) {
        if include_private || !private.contains(&pull.repo.as_str()) {
            let saved = pull.bytes_before.zip(pull.bytes_after).map_or(0, |(b, a)| b.saturating_sub(a));
            out.insert(pull.repo.clone(), (pull.state.clone(), saved));
        }
    }
    out.insert(format!("{ORG}/quiet"), ("opted-out".into(), 0));
    out
}

#[tokio::test]
async fn the_dashboard_shows_the_campaign_as_the_state_records_it() {
    let proof = docker_available();
    let naive = project("examples/naive");
    let org = Org::new()
        .repo("api", Some(&naive), &[], json!({}))
        .repo("billing", Some(&project("tests/verify/cgo")), &[], json!({}))
        .repo("vault", Some(&naive), &[], json!({"private": true}))
        .repo("quiet", Some(&naive), &[(".github/harden.yml", "sweep:\n  enabled: false\n")], json!({}))
        .repo("lib", None, &[("go.mod", "module example.com/lib\n\ngo 1.22\n")], json!({}));
    let (data, state) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let solo = format!("solo/app={}", naive.display());
    let forge_args =
        ["--user", "ann=ann-token", "--oauth-app", "cid=csecret", "--oauth-user", "ann", "--member", "acme=ann"];
    let sandbox =
        Sandbox::start_with(data.path(), &[&solo], &[&["--seed-org", &org.seed(ORG)][..], &forge_args].concat());
    let db = state.path().join("harden.db");
    let db_arg = db.to_str().unwrap();
    let verify = if proof { "true" } else { "false" };
    let swept =
        harden(&sandbox, &["sweep", "--org", ORG, "--state", db_arg, "--verify", verify, "--mutation-gap-ms", "10"]);
    assert!(swept.status.success(), "{}", String::from_utf8_lossy(&swept.stderr));
    // A maintainer merges one; the campaign's status reads it back from the forge.
    let (status, _) =
        send(reqwest::Method::PUT, &format!("{}/repos/{ORG}/billing/pulls/1/merge", sandbox.api()), json!({})).await;
    assert_eq!(status, 200, "the merge");
    let refreshed = harden(&sandbox, &["sweep", "status", "--org", ORG, "--state", db_arg]);
    assert!(refreshed.status.success(), "{}", String::from_utf8_lossy(&refreshed.stderr));
    // A single `harden pr` records itself, and the repository it found, in the same state.
    let single = harden(&sandbox, &["pr", "--repo", "solo/app", "--state", db_arg, "--verify", "false"]);
    assert!(single.status.success(), "{}", String::from_utf8_lossy(&single.stderr));

    let store = harden::store::sqlite::Sqlite::open(&db).unwrap();
    let solo = store.repo("solo/app").unwrap().expect("harden pr recorded the repository");
    assert!(!solo.private && store.pulls("solo").unwrap()[0].state == "open", "{solo:?}");
    let pulls = store.pulls(ORG).unwrap();
    assert_eq!(pulls.len(), 3, "api, billing and vault each got one: {pulls:?}");
    assert!(pulls.iter().any(|p| p.repo == "acme/billing" && p.state == "merged"), "{pulls:?}");
    // The example service's image and its Deployment's container move off root and its pod is
    // made restricted; the cgo service has an image and no manifest.
    let moved: Vec<(&str, Option<u64>, Option<u64>)> =
        pulls.iter().map(|p| (p.repo.as_str(), p.off_root, p.restricted)).collect();
    assert_eq!(
        moved,
        [("acme/api", Some(2), Some(1)), ("acme/billing", Some(1), Some(0)), ("acme/vault", Some(2), Some(1))]
    );
    if proof {
        assert!(pulls.iter().all(|p| p.bytes_before > p.bytes_after && p.packages_after.is_some()), "{pulls:?}");
    }

    // The static site: private repositories only when asked for.
    let site = tempfile::tempdir().unwrap();
    let written = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["dashboard", "--state", db_arg, "--out"])
        .arg(site.path())
        .output()
        .unwrap();
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let index = std::fs::read_to_string(site.path().join("index.html")).unwrap();
    assert_eq!(rows(&index), expected(&store, false));
    assert!(!index.contains("vault") && !site.path().join("repo/acme/vault.html").exists());
    assert!(site.path().join("repo/acme/api.html").exists() && site.path().join("sweep/1.html").exists());
    let all = tempfile::tempdir().unwrap();
    let written = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["dashboard", "--include-private", "--state", db_arg, "--out"])
        .arg(all.path())
        .output()
        .unwrap();
    assert!(written.status.success());
    assert_eq!(rows(&std::fs::read_to_string(all.path().join("index.html")).unwrap()), expected(&store, true));

    // The live pages: the same rows, from the server's store.
    let (web, api) = (sandbox.url.clone(), sandbox.api());
    let oauth =
        ["--oauth-client-id", "cid", "--oauth-client-secret", "csecret", "--session-key", KEY, "--web-url", &web];
    let server = Server::start_with(
        &db,
        &["s"],
        &[&["--verify", "false", "--token", TOKEN, "--api-url", &api][..], &oauth].concat(),
    );
    let url = format!("{}/", server.url);
    let page = reqwest::get(&url).await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(rows(&page.text().await.unwrap()), expected(&store, false));
    assert_eq!(reqwest::get(format!("{url}repo/acme/vault.html")).await.unwrap().status(), 404);
    signed_in_pages_show_the_members_private_repositories(&url, &store).await;
    let browsed = browse(&url, &expected(&store, false), &expected(&store, true));
    drop(server);
    browsed.unwrap_or_else(|why| panic!("{why}"));
}

/// GitHub's OAuth web flow against the sandbox, step by step without following redirects: the
/// state checked, the session cookie set with its flags, the member's private repository shown;
/// a forged or missing session shows public repositories only.
async fn signed_in_pages_show_the_members_private_repositories(url: &str, store: &dyn Store) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let location = |r: &reqwest::Response| r.headers()["location"].to_str().unwrap().to_string();
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).find(|c| c.starts_with(name))
    };
    let login = client.get(format!("{url}login")).send().await.unwrap();
    assert_eq!(login.status(), 303, "GET /login redirects to the forge");
    let state_cookie = cookie(&login, "harden_oauth_state=").expect("the state cookie");
    assert!(state_cookie.contains("HttpOnly") && state_cookie.contains("SameSite=Lax"), "{state_cookie}");
    let authorize = client.get(location(&login)).send().await.unwrap();
    let back = location(&authorize);
    assert!(back.starts_with(&format!("{url}oauth/callback?code=")), "{back}");
    let state = state_cookie.split(';').next().unwrap().to_string();
    // Without the state cookie (another browser, a forged link) the code is refused.
    assert_eq!(client.get(&back).send().await.unwrap().status(), 400);
    let callback = client.get(&back).header("cookie", &state).send().await.unwrap();
    assert_eq!(callback.status(), 303, "{:?}", callback.text().await);
    let session = cookie(&callback, "harden_session=").expect("the session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
    let session = session.split(';').next().unwrap().to_string();
    let page = client.get(url).header("cookie", &session).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Signed in as ann"), "{page}");
    assert_eq!(rows(&page), expected(store, true), "a member sees acme's private repository");
    let vault = client.get(format!("{url}repo/acme/vault.html")).header("cookie", &session).send().await.unwrap();
    assert_eq!(vault.status(), 200);
    let forged = format!("{}x", session);
    let page = client.get(url).header("cookie", &forged).send().await.unwrap().text().await.unwrap();
    assert_eq!(rows(&page), expected(store, false), "a forged session sees public repositories only");
    let out = client.get(format!("{url}logout")).header("cookie", &session).send().await.unwrap();
    assert!(cookie(&out, "harden_session=").is_some_and(|c| c.contains("Max-Age=0")), "logout forgets the session");
}

/// Opens the served dashboard in headless Chromium (tests/browser/dashboard.py), unless
/// HARDEN_SKIP_BROWSER is set.
fn browse(
    url: &str,
    rows: &BTreeMap<String, (String, u64)>,
    signed_in: &BTreeMap<String, (String, u64)>,
) -> Result<(), String> {
    if std::env::var_os("HARDEN_SKIP_BROWSER").is_some() {
        eprintln!("HARDEN_SKIP_BROWSER is set: the browser checks are SKIPPED");
        return Ok(());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let expect = dir.path().join("expect.json");
    let listed = |rows: &BTreeMap<String, (String, u64)>| -> Vec<serde_json::Value> {
        rows.iter().map(|(repo, (state, saved))| json!({"repo": repo, "state": state, "saved": saved})).collect()
    };
    std::fs::write(&expect, json!({"rows": listed(rows), "hidden": ["acme/vault"]}).to_string()).unwrap();
    let members = dir.path().join("signed-in.json");
    std::fs::write(&members, json!({"rows": listed(signed_in), "hidden": []}).to_string()).unwrap();
    let axe = std::env::var("HARDEN_AXE").map_err(|_| {
        "HARDEN_AXE is not set: run tests/browser/setup.sh and export its output as HARDEN_AXE (or set HARDEN_SKIP_BROWSER=1)"
            .to_string()
    })?;
    let out = Command::new("python3")
        .arg(root.join("tests/browser/dashboard.py"))
        .args(["--url", url, "--axe", &axe, "--expect"])
        .arg(&expect)
        .arg("--signed-in")
        .arg(&members)
        .arg("--shots")
        .arg(root.join("target/dashboard-shots"))
        .output()
        .map_err(|e| e.to_string())?;
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("{printed}");
    if out.status.success() { Ok(()) } else { Err(format!("the browser checks failed:\n{printed}")) }
}
