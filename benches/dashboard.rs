//! The dashboard's benchmark (run by bench/dashboard.sh): a state of 1,000 repositories with
//! 5,000 pull requests and three sweeps, then the time `harden serve` takes to answer the main
//! page (goal: median under 100 ms) and the time `harden dashboard --out` takes to write the
//! whole site (goal: under 2 s), each the median of several runs of the real binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harden::store::{Outcome, PullRecord, RepoRecord, RepoResult, Store, sqlite::Sqlite};

const REPOS: usize = 1_000;
const PULLS_PER_REPO: u64 = 5;
const SWEEPS: i64 = 3;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("harden.db");
    fill(&Sqlite::open(&db).expect("the state"));

    let mut builds: Vec<Duration> = (0..5)
        .map(|i| {
            let out = dir.path().join(format!("site-{i}"));
            let started = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_harden"))
                .args(["dashboard", "--include-private", "--state"])
                .arg(&db)
                .arg("--out")
                .arg(&out)
                .stdout(Stdio::null())
                .status()
                .expect("harden dashboard runs");
            assert!(status.success());
            started.elapsed()
        })
        .collect();
    let pages = std::fs::read_dir(dir.path().join("site-0/repo/acme")).map(|d| d.count()).unwrap_or(0);

    let mut server = Command::new(env!("CARGO_BIN_EXE_harden"))
        .args(["serve", "--listen", "127.0.0.1:0", "--webhook-secret", "s", "--token", "t", "--verify", "false"])
        .args(["--api-url", "http://127.0.0.1:9/api/v3", "--database"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("harden serve runs");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("its output")).read_line(&mut line).expect("it says where");
    let address = line.trim().trim_start_matches("serve: listening on http://").to_string();
    let mut answers: Vec<Duration> = (0..25).map(|_| get(&address)).collect();
    let _ = server.kill();
    let _ = server.wait();

    let (build, answer) = (median(&mut builds), median(&mut answers));
    println!("dashboard: {REPOS} repositories, {} pull requests, {SWEEPS} sweeps", REPOS as u64 * PULLS_PER_REPO);
    println!(
        "  harden serve, GET /: median {:.1} ms, max {:.1} ms (goal: median under 100 ms: {})",
        ms(answer),
        ms(*answers.iter().max().unwrap_or(&answer)),
        verdict(answer < Duration::from_millis(100))
    );
    println!(
        "  harden dashboard --out: median {:.2} s for {pages} repository pages and the rest (goal: under 2 s: {})",
        build.as_secs_f64(),
        verdict(build < Duration::from_secs(2))
    );
}

/// One `GET /` on a fresh connection, read to the end.
fn get(address: &str) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).expect("the server answers");
    stream.write_all(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").expect("the request");
    let mut page = Vec::new();
    stream.read_to_end(&mut page).expect("the answer");
    assert!(page.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&page[..page.len().min(200)]));
    started.elapsed()
}

/// The state of a large campaign, written through the store as the sweeps write it.
fn fill(store: &Sqlite) {
    let states = ["open", "merged", "closed", "open", "merged"];
    for r in 0..REPOS {
        let name = format!("acme/svc-{r:04}");
        let record = RepoRecord {
            full_name: name.clone(),
            org: "acme".into(),
            default_branch: "main".into(),
            tree_sha: Some(format!("{r:040}")),
            tree_etag: None,
            candidates: 2,
            skipped: None,
            has_pull: true,
            waiting: r % 7 == 0,
            judged_with: None,
            seen_at: 1_700_000_000,
            private: r % 10 == 0,
        };
        store.save_repo(&record).expect("a repository");
        for n in 1..=PULLS_PER_REPO {
            let at = 1_700_000_000 + (r as i64 * 3_600) + n as i64 * 86_400;
            let pull = PullRecord {
                files: vec!["Dockerfile".into(), "deploy/app.yaml".into()],
                bytes_before: Some(800_000_000 + r as u64),
                bytes_after: Some(6_000_000 + n),
                findings_fixed: 9,
                findings_remaining: 1,
                updated_at: at + 86_400,
                packages_before: Some(150),
                packages_after: Some(3),
                shells_removed: Some(1),
                ..PullRecord::seen(&name, n, &format!("https://github.com/{name}/pull/{n}"), states[n as usize - 1], at)
            };
            store.save_pull(&pull).expect("a pull request");
        }
    }
    for s in 0..SWEEPS {
        let sweep = store.begin_sweep("acme", "1/1", 1_700_000_000 + s * 86_400).expect("a sweep");
        for r in 0..REPOS {
            let result = RepoResult {
                repo: format!("acme/svc-{r:04}"),
                outcome: if r % 7 == 0 { Outcome::Scheduled } else { Outcome::UpToDate },
                detail: "up to date".into(),
                pull: Some(PULLS_PER_REPO),
                requests: 2,
                at: 1_700_000_000 + s * 86_400,
            };
            store.save_result(sweep, &result).expect("a result");
        }
        store.finish_sweep(sweep, 1_700_000_000 + s * 86_400 + 600).expect("the sweep's end");
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}
