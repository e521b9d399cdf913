//! `harden sandbox` end to end: the real binary, real git over smart HTTP (clone and push), the
//! REST shapes and status codes, the token, and state that survives a restart.

mod common;

use std::path::Path;

use common::{Sandbox, TOKEN, examples_naive, get, git, send};
use serde_json::{Value, json};

#[tokio::test]
async fn the_rest_api_answers_in_githubs_shapes_behind_the_token() {
    let data = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(data.path(), &[&examples_naive()]);
    let repo_url = format!("{}/api/v3/repos/acme/naive", sandbox.url);

    let (status, body) = get(&repo_url, None).await;
    assert_eq!((status, body["message"].as_str()), (401, Some("Bad credentials")));
    let (status, body) = get(&repo_url, Some("wrong")).await;
    assert_eq!(status, 401, "{body}");

    let (status, repo) = get(&repo_url, Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(repo["full_name"], "acme/naive");
    assert_eq!(repo["default_branch"], "main");
    assert_eq!(repo["owner"]["login"], "acme");
    assert_eq!(repo["clone_url"], format!("{}/acme/naive.git", sandbox.url));
    assert!(repo["id"].as_u64().is_some());

    let (status, body) = get(&format!("{}/api/v3/repos/acme/absent", sandbox.url), Some(TOKEN)).await;
    assert_eq!((status, body["message"].as_str(), body["status"].as_str()), (404, Some("Not Found"), Some("404")));
}

#[tokio::test]
async fn git_clones_and_pushes_and_everything_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let first_id;
    {
        let sandbox = Sandbox::start(data.path(), &[&examples_naive()]);
        first_id = get(&format!("{}/api/v3/repos/acme/naive", sandbox.url), Some(TOKEN)).await.1["id"].clone();

        let (ok, log) = git(work.path(), &["clone", &sandbox.git_url("acme/naive", "wrong"), "denied"]);
        assert!(!ok, "a clone with a wrong token must fail: {log}");

        let (ok, log) = git(work.path(), &["clone", &sandbox.git_url("acme/naive", TOKEN), "clone"]);
        assert!(ok, "{log}");
        let clone = work.path().join("clone");
        let seeded = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/naive/Dockerfile"));
        assert_eq!(std::fs::read_to_string(clone.join("Dockerfile")).unwrap(), seeded.unwrap());
        assert_eq!(git(&clone, &["log", "--format=%s"]).1, "Initial commit\n");

        std::fs::write(clone.join("NOTE"), "pushed\n").unwrap();
        assert!(git(&clone, &["add", "NOTE"]).0);
        assert!(git(&clone, &["commit", "-q", "-m", "a pushed commit"]).0);
        let (ok, log) = git(&clone, &["push", "-q", "origin", "HEAD:refs/heads/harden/all"]);
        assert!(ok, "{log}");
    }
    // Restarted without seeds: the repository, its id and the pushed branch are still there.
    let sandbox = Sandbox::start(data.path(), &[]);
    let (status, repo) = get(&format!("{}/api/v3/repos/acme/naive", sandbox.url), Some(TOKEN)).await;
    assert_eq!((status, &repo["id"]), (200, &first_id));
    let (ok, refs) = git(work.path(), &["ls-remote", &sandbox.git_url("acme/naive", TOKEN)]);
    assert!(ok && refs.contains("refs/heads/harden/all") && refs.contains("refs/heads/main"), "{refs}");
}

#[tokio::test]
async fn the_git_data_api_makes_a_verified_commit_on_a_new_branch_that_git_can_clone() {
    use reqwest::Method;
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let sandbox = Sandbox::start(data.path(), &[&examples_naive()]);
    let api = format!("{}/api/v3/repos/acme/naive/git", sandbox.url);

    let (status, main) = get(&format!("{api}/ref/heads/main"), Some(TOKEN)).await;
    assert_eq!((status, main["ref"].as_str()), (200, Some("refs/heads/main")));
    let base = main["object"]["sha"].as_str().unwrap().to_string();
    let (_, base_commit) = get(&format!("{api}/commits/{base}"), Some(TOKEN)).await;
    let base_tree = base_commit["tree"]["sha"].as_str().unwrap().to_string();
    let (_, listing) = get(&format!("{api}/trees/{base_tree}?recursive=1"), Some(TOKEN)).await;
    let paths: Vec<&str> = listing["tree"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"Dockerfile") && paths.contains(&"main.go"), "{paths:?}");

    let hardened = "FROM scratch\nUSER 65532:65532\n";
    let (status, blob) =
        send(Method::POST, &format!("{api}/blobs"), json!({"content": hardened, "encoding": "utf-8"})).await;
    assert_eq!(status, 201);
    let blob_sha = blob["sha"].as_str().unwrap().to_string();
    assert_eq!(blob_sha, harden::propose::fingerprint::blob_sha(hardened.as_bytes()), "git's own blob id");
    let (_, read_back) = get(&format!("{api}/blobs/{blob_sha}"), Some(TOKEN)).await;
    assert_eq!(
        (read_back["encoding"].as_str(), read_back["size"].as_u64()),
        (Some("base64"), Some(hardened.len() as u64))
    );

    let entry = json!({"path": "deploy/Dockerfile", "mode": "100644", "type": "blob", "sha": blob_sha});
    let (status, tree) =
        send(Method::POST, &format!("{api}/trees"), json!({"base_tree": base_tree, "tree": [entry]})).await;
    assert_eq!(status, 201, "{tree}");
    let (status, commit) = send(
        Method::POST,
        &format!("{api}/commits"),
        json!({"message": "harden: test", "tree": tree["sha"], "parents": [base]}),
    )
    .await;
    assert_eq!(status, 201, "{commit}");
    assert_eq!(commit["verification"]["verified"], true, "a commit without an author is signed by the forge");
    assert_eq!(commit["parents"][0]["sha"], base.as_str());

    let new_ref = json!({"ref": "refs/heads/harden/all", "sha": commit["sha"]});
    let (status, created) = send(Method::POST, &format!("{api}/refs"), new_ref.clone()).await;
    assert_eq!((status, created["object"]["sha"].clone()), (201, commit["sha"].clone()));
    let (status, again) = send(Method::POST, &format!("{api}/refs"), new_ref).await;
    assert_eq!((status, again["message"].as_str()), (422, Some("Reference already exists")));

    let (ok, log) = git(work.path(), &["clone", "-q", "-b", "harden/all", &sandbox.git_url("acme/naive", TOKEN), "c"]);
    assert!(ok, "{log}");
    assert_eq!(std::fs::read_to_string(work.path().join("c/deploy/Dockerfile")).unwrap(), hardened);
    assert!(work.path().join("c/main.go").exists(), "the base tree is kept");

    // Moving the branch back to main is not a fast forward: refused unless forced.
    let (status, refused) = send(Method::PATCH, &format!("{api}/refs/heads/harden/all"), json!({"sha": base})).await;
    assert_eq!((status, refused["message"].as_str()), (422, Some("Update is not a fast forward")));
    let (status, _) =
        send(Method::PATCH, &format!("{api}/refs/heads/harden/all"), json!({"sha": base, "force": true})).await;
    assert_eq!(status, 200);
    let (status, _) = send(Method::DELETE, &format!("{api}/refs/heads/harden/all"), Value::Null).await;
    assert_eq!(status, 204);
    assert_eq!(get(&format!("{api}/ref/heads/harden/all"), Some(TOKEN)).await.0, 404);

    let (status, bad) = send(Method::POST, &format!("{api}/commits"), json!({"message": "x"})).await;
    assert_eq!(status, 422, "{bad}");
    let garbled = reqwest::Client::new().post(format!("{api}/blobs")).header("Authorization", format!("token {TOKEN}"));
    let answer = garbled.body("{not json").send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    assert_eq!(answer.json::<Value>().await.unwrap()["message"], "Problems parsing JSON");
}

#[tokio::test]
async fn pull_requests_and_comments_keep_state_and_refuse_a_second_open_one() {
    use reqwest::Method;
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let pulls_url;
    {
        let sandbox = Sandbox::start(data.path(), &[&examples_naive()]);
        let (ok, log) = git(work.path(), &["clone", "-q", &sandbox.git_url("acme/naive", TOKEN), "c"]);
        assert!(ok, "{log}");
        let clone = work.path().join("c");
        std::fs::write(clone.join("NOTE"), "x\n").unwrap();
        assert!(git(&clone, &["add", "NOTE"]).0 && git(&clone, &["commit", "-qm", "x"]).0);
        assert!(git(&clone, &["push", "-q", "origin", "HEAD:refs/heads/harden/all"]).0);
        pulls_url = format!("{}/api/v3/repos/acme/naive/pulls", sandbox.url);

        let new = json!({"title": "Harden", "head": "acme:harden/all", "base": "main", "body": "first"});
        let (status, pull) = send(Method::POST, &pulls_url, new.clone()).await;
        assert_eq!(status, 201, "{pull}");
        assert_eq!((pull["number"].as_u64(), pull["state"].as_str()), (Some(1), Some("open")));
        assert_eq!(pull["head"]["ref"], "harden/all");
        assert!(pull["head"]["sha"].as_str().is_some_and(|sha| sha.len() == 40));

        let (status, again) = send(Method::POST, &pulls_url, new).await;
        assert_eq!((status, again["message"].as_str()), (422, Some("Validation Failed")));
        assert_eq!(again["errors"][0]["message"], "A pull request already exists for acme:harden/all.");
        let missing = json!({"title": "x", "head": "nope", "base": "main"});
        assert_eq!(send(Method::POST, &pulls_url, missing).await.0, 422);

        let (status, listed) = get(&format!("{pulls_url}?state=open&head=acme:harden/all"), Some(TOKEN)).await;
        assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(1)));
        assert_eq!(get(&format!("{pulls_url}?head=acme:other"), Some(TOKEN)).await.1, json!([]));

        let (status, edited) = send(Method::PATCH, &format!("{pulls_url}/1"), json!({"body": "second"})).await;
        assert_eq!((status, edited["body"].as_str()), (200, Some("second")));

        let comments_url = format!("{}/api/v3/repos/acme/naive/issues/1/comments", sandbox.url);
        let (status, comment) = send(Method::POST, &comments_url, json!({"body": "a notice"})).await;
        assert_eq!((status, comment["body"].as_str()), (201, Some("a notice")));

        let labels_url = format!("{}/api/v3/repos/acme/naive/issues/1/labels", sandbox.url);
        let (status, labels) = send(Method::POST, &labels_url, json!({"labels": ["security", "harden"]})).await;
        assert_eq!((status, labels.as_array().map(Vec::len)), (200, Some(2)));
        let (_, labels) = send(Method::POST, &labels_url, json!(["harden"])).await;
        let names: Vec<&str> = labels.as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["security", "harden"], "adding a label twice keeps one");
        assert_eq!(get(&format!("{pulls_url}/1"), Some(TOKEN)).await.1["labels"][1]["name"], "harden");
        let nowhere = format!("{}/api/v3/repos/acme/naive/issues/7/labels", sandbox.url);
        assert_eq!(send(Method::POST, &nowhere, json!(["x"])).await.0, 404);

        let (status, closed) = send(Method::PATCH, &format!("{pulls_url}/1"), json!({"state": "closed"})).await;
        assert_eq!((status, closed["state"].as_str()), (200, Some("closed")));
        assert!(closed["closed_at"].as_str().is_some());
        assert_eq!(get(&pulls_url, Some(TOKEN)).await.1, json!([]), "closed pull requests leave the open list");
    }
    let sandbox = Sandbox::start(data.path(), &[]);
    let pulls_url = pulls_url.replace(&pulls_url[..pulls_url.find("/api/").unwrap()], &sandbox.url);
    let (_, all) = get(&format!("{pulls_url}?state=all"), Some(TOKEN)).await;
    assert_eq!(all[0]["body"], "second", "the pull request survives a restart: {all}");
    assert_eq!(all[0]["state"], "closed");
    let comments_url = format!("{}/api/v3/repos/acme/naive/issues/1/comments", sandbox.url);
    let (_, comments) = get(&comments_url, Some(TOKEN)).await;
    assert_eq!(comments[0]["body"], "a notice");
    assert_eq!(get(&format!("{pulls_url}/9"), Some(TOKEN)).await.0, 404);

    // Lists are paged as on GitHub, with a Link header to the other pages.
    for i in 0..4 {
        assert_eq!(send(Method::POST, &comments_url, json!({"body": format!("more {i}")})).await.0, 201);
    }
    let answer = reqwest::Client::new()
        .get(format!("{comments_url}?per_page=2&page=2"))
        .header("Authorization", format!("token {TOKEN}"))
        .send()
        .await
        .unwrap();
    let link = answer.headers()["link"].to_str().unwrap().to_string();
    let page: Value = answer.json().await.unwrap();
    let bodies: Vec<&str> = page.as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["more 1", "more 2"]);
    for rel in [("prev", 1), ("next", 3), ("last", 3), ("first", 1)] {
        let expected = format!("<{comments_url}?per_page=2&page={}>; rel=\"{}\"", rel.1, rel.0);
        assert!(link.contains(&expected), "{expected} in {link}");
    }
    let (_, first) = get(&comments_url, Some(TOKEN)).await;
    assert_eq!(first.as_array().unwrap().len(), 5, "30 to a page by default");
}
