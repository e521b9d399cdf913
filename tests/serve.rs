//! `harden serve` as a process on a free port: every delivery is authenticated by its signature
//! before anything reads it, bounded in size, recorded by its delivery id (a redelivery, also
//! after a restart, is dropped), and the health checks answer; SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use harden::serve::signature::sign;

const SECRET: &str = "the webhook secret";

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(database: &Path, secrets: &[&str]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_harden"));
        command.args(["serve", "--listen", "127.0.0.1:0", "--database"]).arg(database);
        for secret in secrets {
            command.args(["--webhook-secret", secret]);
        }
        let mut child = command.env_remove("HARDEN_WEBHOOK_SECRET").stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("serve: listening on ").unwrap_or_else(|| panic!("{line}")).to_string();
        Server { child, url }
    }

    /// Stops it with SIGTERM, as Kubernetes does; its exit code.
    fn terminate(mut self) -> Option<i32> {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap().code()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

    let comment = br#"{"action":"created","comment":{"id":1,"body":"/harden"}}"#;
    let signed = || Some(sign(SECRET, comment));
    // Unsigned, forged, signed for another body: 401, and nothing recorded (the same id is new below).
    assert_eq!(deliver(&server, "d-1", "issue_comment", comment, None).await.0, 401);
    assert_eq!(deliver(&server, "d-1", "issue_comment", comment, Some(sign("a guess", comment))).await.0, 401);
    let other = sign(SECRET, b"{}");
    assert_eq!(deliver(&server, "d-1", "issue_comment", comment, Some(other)).await.0, 401);
    // Signed: accepted once; GitHub's redelivery of the same id is dropped.
    assert_eq!(
        deliver(&server, "d-1", "issue_comment", comment, signed()).await,
        (202, r#"{"message":"accepted"}"#.into())
    );
    assert_eq!(deliver(&server, "d-1", "issue_comment", comment, signed()).await.0, 200);
    // The old secret still counts during a rotation.
    assert_eq!(deliver(&server, "d-2", "issue_comment", comment, Some(sign("the old secret", comment))).await.0, 202);
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
    assert_eq!(deliver(&server, "d-1", "issue_comment", comment, signed()).await.0, 200);
    assert_eq!(
        deliver(&server, "d-3", "issue_comment", comment, signed()).await.0,
        202,
        "a refused delivery was not recorded"
    );
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
        .args(["serve", "--webhook-secret", SECRET, "--database", "postgres://db/harden"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "PostgreSQL is refused with its reason, not half-used");
}
