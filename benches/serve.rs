//! `harden serve` under bursts of webhook deliveries on loopback (run by `bench/serve.sh`, which
//! says what it measures). A Rust client on its own runtime: 200 connections opened first, then
//! released together, each sending one signed delivery and timing its answer.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harden::serve::signature::sign;
use harden::store::Store;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "bench-secret";
const BURST: usize = 200;

fn main() {
    let examples = std::env::var("HARDEN_WEBHOOK_EXAMPLES").expect("HARDEN_WEBHOOK_EXAMPLES (bench/serve.sh sets it)");
    let rounds: usize = std::env::var("HARDEN_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(examples).unwrap()).unwrap();
    let example = all
        .iter()
        .filter(|g| g["name"] == "issue_comment")
        .flat_map(|g| g["examples"].as_array().unwrap())
        .find(|e| e["action"] == "created")
        .unwrap()
        .clone();
    println!(
        "| state | deliveries | answered 202 | jobs recorded | accepted per second | p50 | p99 | max | memory at rest | memory after |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("serve.db");
    bench("SQLite", sqlite.to_str().unwrap(), &example, rounds);
    if let Ok(url) = std::env::var("HARDEN_BENCH_POSTGRES") {
        bench("PostgreSQL", &url, &example, rounds);
    }
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A forge that takes connections and never answers: the worker holds its job as it would during
/// a build, and the deliveries are answered meanwhile.
fn silent_forge() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    format!("http://{address}/api/v3")
}

fn start(database: &str) -> Server {
    let forge = silent_forge();
    let mut child = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["serve", "--listen", "127.0.0.1:0", "--webhook-secret", SECRET, "--database", database])
        .args(["--token", "unused", "--api-url", &forge, "--workers", "1", "--verify", "false"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let address = line.trim().strip_prefix("serve: listening on http://").unwrap().to_string();
    Server(child, address)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap()
}

fn bench(name: &str, database: &str, example: &Value, rounds: usize) {
    let server = start(database);
    std::thread::sleep(Duration::from_secs(1));
    let at_rest = rss_kib(server.0.id());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (mut latencies, mut accepted, mut busy) = (Vec::new(), 0, Duration::ZERO);
    for round in 0..rounds {
        let requests: Vec<Vec<u8>> = (0..BURST)
            .map(|i| {
                let mut payload = example.clone();
                payload["comment"]["id"] = json!(10_000_000 + round * BURST + i);
                payload["comment"]["body"] = json!("/harden");
                let body = serde_json::to_vec(&payload).unwrap();
                let head = format!(
                    "POST /webhook HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-GitHub-Delivery: bench-{round}-{i}\r\nX-GitHub-Event: issue_comment\r\nX-Hub-Signature-256: {}\r\nConnection: close\r\n\r\n",
                    body.len(),
                    sign(SECRET, &body)
                );
                [head.into_bytes(), body].concat()
            })
            .collect();
        let (answers, wall) = runtime.block_on(burst(&server.1, requests));
        busy += wall;
        for (status, latency) in answers {
            accepted += usize::from(status == 202);
            latencies.push(latency);
        }
    }
    let after = rss_kib(server.0.id());
    drop(server);
    let jobs = if database.starts_with("postgres") {
        harden::store::postgres::Postgres::connect(database).unwrap().jobs().unwrap().len()
    } else {
        harden::store::sqlite::Sqlite::open(Path::new(database)).unwrap().jobs().unwrap().len()
    };
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64() * 1e3;
    let sent = latencies.len();
    println!(
        "| {name} | {sent} | {accepted} | {jobs} | {:.0}/s | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MB | {:.1} MB |",
        sent as f64 / busy.as_secs_f64(),
        at(0.50),
        at(0.99),
        at(1.0),
        at_rest as f64 / 1024.0,
        after as f64 / 1024.0
    );
    assert!(
        accepted == sent && jobs == sent,
        "{name}: lost deliveries: {sent} sent, {accepted} answered 202, {jobs} jobs"
    );
}

/// Opens one connection per request, then sends them all at once; each answer's status and time,
/// and the burst's wall time.
async fn burst(address: &str, requests: Vec<Vec<u8>>) -> (Vec<(u16, Duration)>, Duration) {
    let go = Arc::new(tokio::sync::Barrier::new(requests.len() + 1));
    let mut tasks = Vec::new();
    for request in requests {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let go = go.clone();
        tasks.push(tokio::spawn(async move {
            go.wait().await;
            let start = Instant::now();
            stream.write_all(&request).await.unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await.unwrap();
            let status = std::str::from_utf8(&answer[9..12]).unwrap().parse().unwrap();
            (status, start.elapsed())
        }));
    }
    let start = Instant::now();
    go.wait().await;
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    (answers, start.elapsed())
}
