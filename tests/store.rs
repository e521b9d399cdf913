//! The store's contract, checked on both of its implementations: the SQLite file and a
//! PostgreSQL database (a fresh one per test on the server `tests/rig/postgres.sh` starts; set
//! `HARDEN_SKIP_POSTGRES=1` to check SQLite alone). Then what only a shared database must do:
//! workers of two processes claiming from one queue never take a job twice, nor two jobs of one
//! repository at once.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::TestDatabase;
use harden::store::postgres::Postgres;
use harden::store::sqlite::Sqlite;
use harden::store::{Accepted, Delivery, JobState, NewJob, Outcome, PullRecord, RepoRecord, RepoResult, Store};

/// One implementation, opened afresh on the same data each time.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

impl Backend {
    fn open(&self) -> Box<dyn Store> {
        match self {
            Backend::Sqlite(dir) => Box::new(Sqlite::open(&dir.path().join("state/harden.db")).unwrap()),
            Backend::Postgres(db) => Box::new(Postgres::connect(&db.url).unwrap()),
        }
    }
}

/// SQLite, and PostgreSQL unless it is skipped.
fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite(tempfile::tempdir().unwrap())];
    all.extend(TestDatabase::new().map(Backend::Postgres));
    all
}

fn result(repo: &str, outcome: Outcome) -> RepoResult {
    RepoResult { repo: repo.into(), outcome, detail: String::new(), pull: None, requests: 1, at: 5 }
}

#[test]
fn a_sweep_resumes_until_it_finishes_and_keeps_what_it_recorded() {
    for backend in backends() {
        a_sweep_resumes(&backend);
    }
}

fn a_sweep_resumes(backend: &Backend) {
    let store = backend.open();
    let sweep = store.begin_sweep("acme", "1/1", 10).unwrap();
    store.save_result(sweep, &result("acme/api", Outcome::Opened)).unwrap();
    drop(store);
    // Opened again (a new process after a kill): the same sweep, with what it had done.
    let store = backend.open();
    assert_eq!(store.begin_sweep("acme", "1/1", 20).unwrap(), sweep);
    assert_eq!(store.result(sweep, "acme/api").unwrap().unwrap().outcome, Outcome::Opened);
    assert_ne!(store.begin_sweep("acme", "2/2", 20).unwrap(), sweep, "another shard, another sweep");
    store.finish_sweep(sweep, 30).unwrap();
    assert_ne!(store.begin_sweep("acme", "1/1", 40).unwrap(), sweep, "a finished sweep is not resumed");
}

fn job(repo: &str, key: Option<&str>, debounce: bool) -> NewJob {
    NewJob {
        repo: repo.into(),
        kind: "command".into(),
        body: "{}".into(),
        key: key.map(str::to_string),
        debounce,
        not_before: 0,
    }
}

#[test]
fn a_delivery_and_its_job_are_recorded_once() {
    for backend in backends() {
        a_delivery_and_its_job_are_recorded_once_on(backend.open().as_ref());
    }
}

fn a_delivery_and_its_job_are_recorded_once_on(store: &dyn Store) {
    let comment = [job("acme/api", Some("c1"), false)];
    assert_eq!(store.accept("d1", "issue_comment", &comment, 1).unwrap(), Accepted::Queued(1));
    assert_eq!(store.accept("d1", "issue_comment", &comment, 2).unwrap(), Accepted::Redelivery);
    let through_another_hook = store.accept("d2", "issue_comment", &comment, 2).unwrap();
    assert_eq!(through_another_hook, Accepted::Duplicate);
    assert_eq!(store.accept("d3", "ping", &[], 3).unwrap(), Accepted::Recorded);
    let push = [NewJob { kind: "recheck".into(), ..job("acme/api", None, true) }];
    assert_eq!(store.accept("d4", "push", &push, 4).unwrap(), Accepted::Queued(1));
    assert_eq!(store.accept("d5", "push", &push, 5).unwrap(), Accepted::Duplicate, "debounced");
    let added = [job("acme/web", None, false), job("acme/db", None, false)];
    assert_eq!(store.accept("d6", "installation", &added, 6).unwrap(), Accepted::Queued(2));
    assert_eq!(store.jobs().unwrap().len(), 4);
}

#[test]
fn a_burst_recorded_at_once_answers_as_one_at_a_time_would() {
    // Two stores of each kind: one takes the burst one delivery at a time, the other at once.
    for (alone, together) in backends().into_iter().zip(backends()) {
        let (alone, together) = (alone.open(), together.open());
        let comment = |id: &str, key: &str, now| Delivery {
            id: id.into(),
            event: "issue_comment".into(),
            jobs: vec![NewJob { body: key.into(), ..job("acme/api", Some(key), false) }],
            now,
        };
        let ping = Delivery { id: "p1".into(), event: "ping".into(), jobs: Vec::new(), now: 1 };
        // Recorded before the burst: its id and its key.
        let before = comment("d0", "c0", 1);
        let burst = [
            comment("d1", "c1", 2),
            comment("d2", "c2", 2),
            comment("d1", "c3", 2),
            comment("d3", "c1", 2),
            comment("d0", "c4", 2),
            comment("d4", "c0", 2),
            ping,
            comment("d5", "c5", 2),
        ];
        for store in [&alone, &together] {
            store.accept(&before.id, &before.event, &before.jobs, before.now).unwrap();
        }
        let one_by_one: Vec<Accepted> =
            burst.iter().map(|d| alone.accept(&d.id, &d.event, &d.jobs, d.now).unwrap()).collect();
        let at_once: Vec<Accepted> = together.accept_all(&burst).into_iter().map(Result::unwrap).collect();
        assert_eq!(at_once, one_by_one);
        let keys = |store: &dyn Store| {
            let mut keys: Vec<String> = store.jobs().unwrap().into_iter().map(|j| j.body).collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(together.as_ref()), keys(alone.as_ref()));
        assert_eq!(keys(together.as_ref()).len(), 4, "c0, c1, c2, c5");
    }
}

#[test]
fn jobs_of_one_repository_run_one_at_a_time_and_a_dead_workers_job_is_taken_again() {
    for backend in backends() {
        jobs_of_one_repository_run_one_at_a_time_and_a_dead_workers_job_is_taken_again_on(backend.open().as_ref());
    }
}

fn jobs_of_one_repository_run_one_at_a_time_and_a_dead_workers_job_is_taken_again_on(store: &dyn Store) {
    for (n, repo) in ["acme/api", "acme/api", "acme/web"].iter().enumerate() {
        store.accept(&format!("d{n}"), "issue_comment", &[job(repo, None, false)], 1).unwrap();
    }
    let first = store.claim_job("w1", 10, 100).unwrap().unwrap();
    let second = store.claim_job("w2", 10, 100).unwrap().unwrap();
    assert_eq!((first.repo.as_str(), second.repo.as_str()), ("acme/api", "acme/web"), "api's second job waits");
    assert!(store.claim_job("w3", 10, 100).unwrap().is_none());
    store.finish_job(first.id, JobState::Done, "opened #1", 20).unwrap();
    let third = store.claim_job("w1", 20, 1000).unwrap().unwrap();
    assert_eq!(third.repo, "acme/api");
    // w2 died holding web's job: once its lease runs out the job is taken again.
    assert!(store.claim_job("w3", 50, 200).unwrap().is_none());
    let again = store.claim_job("w3", 101, 200).unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (second.id, 2));
    assert_eq!(store.requeue_running(Some("w1")).unwrap(), 1, "a stopping worker gives its job back");
    assert_eq!(store.requeue_running(None).unwrap(), 1);
    assert!(store.jobs().unwrap().iter().all(|j| j.state != JobState::Running));
}

#[test]
fn ignored_paths_and_notices_are_kept() {
    for backend in backends() {
        ignored_paths_and_notices_are_kept_on(backend.open().as_ref());
    }
}

fn ignored_paths_and_notices_are_kept_on(store: &dyn Store) {
    store.ignore_path("acme/api", "deploy/job.yaml", 1).unwrap();
    store.ignore_path("acme/api", "deploy/job.yaml", 2).unwrap();
    assert_eq!(store.ignored_paths("acme/api").unwrap(), ["deploy/job.yaml"]);
    assert!(store.ignored_paths("acme/web").unwrap().is_empty());
    assert!(store.first_notice("acme/api", 4, 1).unwrap());
    assert!(!store.first_notice("acme/api", 4, 2).unwrap());
    assert!(store.first_notice("acme/api", 5, 2).unwrap());
}

#[test]
fn repositories_pulls_and_openings_round_trip() {
    for backend in backends() {
        repositories_pulls_and_openings_round_trip_on(backend.open().as_ref());
    }
}

fn repositories_pulls_and_openings_round_trip_on(store: &dyn Store) {
    let repo = RepoRecord {
        full_name: "acme/api".into(),
        org: "acme".into(),
        default_branch: "main".into(),
        tree_sha: Some("abc".into()),
        tree_etag: Some("\"abc\"".into()),
        candidates: 2,
        skipped: None,
        has_pull: true,
        waiting: false,
        judged_with: Some("rules".into()),
        seen_at: 7,
        private: true,
    };
    store.save_repo(&repo).unwrap();
    store.save_repo(&RepoRecord { candidates: 3, ..repo.clone() }).unwrap();
    assert_eq!(store.repo("acme/api").unwrap().unwrap(), RepoRecord { candidates: 3, ..repo.clone() });
    store.save_repo(&RepoRecord { full_name: "acme/web".into(), private: false, ..repo.clone() }).unwrap();
    store.save_repo(&RepoRecord { full_name: "other/web".into(), org: "other".into(), ..repo.clone() }).unwrap();
    let names: Vec<(String, bool)> =
        store.repos("acme").unwrap().into_iter().map(|r| (r.full_name, r.private)).collect();
    assert_eq!(names, [("acme/api".to_string(), true), ("acme/web".to_string(), false)]);
    let first = store.begin_sweep("acme", "1/1", 10).unwrap();
    store.finish_sweep(first, 20).unwrap();
    let second = store.begin_sweep("acme", "1/1", 30).unwrap();
    let sweeps = store.sweeps("acme").unwrap();
    assert_eq!(
        sweeps.iter().map(|s| (s.id, s.started_at, s.finished_at)).collect::<Vec<_>>(),
        [(second, 30, None), (first, 10, Some(20))]
    );
    assert!(store.sweeps("other").unwrap().is_empty());
    assert_eq!(store.orgs().unwrap(), ["acme", "other"]);
    let pull = PullRecord {
        repo: "acme/api".into(),
        number: 1,
        url: "http://forge/acme/api/pull/1".into(),
        state: "open".into(),
        fingerprint: Some("f".into()),
        files: vec!["Dockerfile".into()],
        bytes_before: Some(900),
        bytes_after: Some(9),
        findings_fixed: 5,
        findings_remaining: 1,
        blocked_reason: None,
        created_at: 1,
        updated_at: 1,
        packages_before: Some(412),
        packages_after: Some(3),
        shells_removed: Some(1),
        off_root: Some(2),
        restricted: Some(1),
    };
    store.save_pull(&pull).unwrap();
    // A refresh without a proof keeps the sizes the proof measured.
    store.save_pull(&PullRecord { state: "merged".into(), bytes_before: None, updated_at: 2, ..pull.clone() }).unwrap();
    let saved = store.pulls("acme").unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!((saved[0].state.as_str(), saved[0].bytes_before, saved[0].updated_at), ("merged", Some(900), 2));
    assert_eq!(
        (saved[0].packages_before, saved[0].shells_removed, saved[0].off_root, saved[0].restricted),
        (Some(412), Some(1), Some(2), Some(1))
    );
    assert!(store.pulls("acm").unwrap().is_empty(), "an org's pulls are its own");
    for at in [100, 200, 300] {
        store.record_opening("acme", "acme/api", at).unwrap();
    }
    assert_eq!(store.openings_since("acme", 150).unwrap(), [200, 300]);
}

#[test]
fn workers_of_two_replicas_never_take_a_job_twice_nor_two_of_one_repository() {
    let Some(db) = TestDatabase::new() else { return };
    let replicas: Vec<Arc<Postgres>> = (0..2).map(|_| Arc::new(Postgres::connect(&db.url).unwrap())).collect();
    for n in 0..60 {
        let job = NewJob { key: Some(format!("k{n}")), ..job(&format!("acme/svc-{}", n % 6), None, false) };
        replicas[n % 2].accept(&format!("d{n}"), "issue_comment", &[job], 1).unwrap();
    }
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let taken: Arc<Mutex<Vec<i64>>> = Arc::default();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (store, running, taken) = (replicas[w % 2].clone(), running.clone(), taken.clone());
            std::thread::spawn(move || {
                while let Some(job) = store.claim_job(&format!("w{w}"), 10, 1_000).unwrap() {
                    assert!(running.lock().unwrap().insert(job.repo.clone()), "two jobs of {} at once", job.repo);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    running.lock().unwrap().remove(&job.repo);
                    taken.lock().unwrap().push(job.id);
                    store.finish_job(job.id, JobState::Done, "done", 11).unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let mut taken = taken.lock().unwrap().clone();
    taken.sort();
    let before = taken.len();
    taken.dedup();
    assert_eq!((before, taken.len()), (60, 60), "each job taken once");
    assert!(replicas[0].jobs().unwrap().iter().all(|j| j.state == JobState::Done && j.attempts == 1));
}

#[test]
fn a_postgres_url_that_does_not_answer_is_an_error_that_names_the_database() {
    let error = Postgres::connect("postgres://harden@127.0.0.1:9/nothing").err().unwrap();
    assert!(format!("{error:#}").contains("connecting to PostgreSQL"), "{error:#}");
}
