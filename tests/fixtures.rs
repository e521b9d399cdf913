//! Before/after fixture pairs: `tests/fixtures/<case>/input/` is a small repository,
//! `expected/` holds every Dockerfile and YAML file as `harden fix --write` must leave it and
//! `report.txt`, the findings it must print. Run with `UPDATE_FIXTURES=1` to rewrite
//! the expectations after a deliberate change, then review the diff.

use std::path::{Path, PathBuf};

use harden::report;
use harden::run::{self, Status};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The Dockerfiles and YAML files of a tree: the files harden may rewrite.
fn handled_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap();
        if path.is_dir() {
            out.extend(handled_files(&path));
        } else if harden::discover::is_dockerfile_name(name) || harden::discover::is_yaml_name(name) {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Runs one case; returns the differences from the expectations.
fn run_case(case: &Path, update: bool) -> Vec<String> {
    let input = case.join("input");
    let expected = case.join("expected");
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    copy_tree(&input, &repo);
    std::fs::create_dir(repo.join(".git")).unwrap();

    let reports = run::run(std::slice::from_ref(&repo), true);
    let prefix = format!("{}/", repo.display());
    let text = report::text(&reports, true).replace(&prefix, "");
    let mut problems = Vec::new();
    let mut compare = |rel: &Path, actual: &str| {
        let want = expected.join(rel);
        if update {
            std::fs::create_dir_all(want.parent().unwrap()).unwrap();
            std::fs::write(&want, actual).unwrap();
        } else {
            match std::fs::read_to_string(&want) {
                Ok(w) if w == actual => {}
                Ok(w) => problems.push(format!("{} differs:\n--- expected\n{w}\n--- actual\n{actual}", want.display())),
                Err(_) => problems.push(format!("{} is missing", want.display())),
            }
        }
    };
    compare(Path::new("report.txt"), &text);
    for file in handled_files(&repo) {
        let rel = file.strip_prefix(&repo).unwrap();
        compare(rel, &std::fs::read_to_string(&file).unwrap());
    }

    // Idempotence: a second fix over the written files changes nothing.
    for again in run::run(std::slice::from_ref(&repo), false) {
        if again.status == Status::Changed {
            let diff = report::diff(std::slice::from_ref(&again));
            problems.push(format!("{}: a second fix changes it again:\n{diff}", case.display()));
        }
    }
    problems
}

#[test]
fn fixtures_match_their_expectations() {
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    let k8s = cases.iter().filter(|c| c.file_name().unwrap().to_str().unwrap().starts_with("k8s-")).count();
    assert!(cases.len() - k8s >= 25, "at least 25 Dockerfile cases, found {}", cases.len() - k8s);
    assert!(k8s >= 20, "at least 20 Kubernetes cases, found {k8s}");
    let problems: Vec<String> = cases.iter().flat_map(|c| run_case(c, update)).collect();
    assert!(problems.is_empty(), "{} problems:\n\n{}", problems.len(), problems.join("\n\n"));
}
