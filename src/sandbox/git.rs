//! The sandbox's git side: bare repositories seeded from local folders, served over smart HTTP by
//! git's own `git http-backend` (clone and push), run as a CGI program per request.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// The bare repository of `owner/name` under the sandbox's git root.
pub fn bare_path(root: &Path, owner: &str, name: &str) -> PathBuf {
    root.join(owner).join(format!("{name}.git"))
}

/// Creates the bare repository at `bare` with one commit on `branch` holding the files of
/// `folder` (what `.gitignore` leaves in), and lets it take pushes. Does nothing when it exists,
/// so a restart keeps what was pushed since.
pub fn seed(bare: &Path, branch: &str, folder: &Path) -> anyhow::Result<()> {
    if bare.join("HEAD").exists() {
        return Ok(());
    }
    // Built beside its place and moved in whole, so a failed seed leaves nothing half made.
    let building = bare.with_extension("seeding");
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&building)?;
    git(&building, None, &["init", "--quiet", "--bare", "--initial-branch", branch])?;
    git(&building, None, &["config", "http.receivepack", "true"])?;
    let work = folder.canonicalize().with_context(|| format!("seed folder {}", folder.display()))?;
    let index_path = building.join("seed-index");
    let with_index = Some((&work, index_path.as_path()));
    git(&building, with_index, &["add", "--all", "."])?;
    git(&building, with_index, &["commit", "--quiet", "--message", "Initial commit"])?;
    std::fs::remove_file(&index_path)?;
    std::fs::rename(&building, bare).with_context(|| format!("moving the seeded repository to {}", bare.display()))
}

/// Creates a bare repository without a commit (GitHub's empty repository), unless it exists.
pub fn init_empty(bare: &Path, branch: &str) -> anyhow::Result<()> {
    if bare.join("HEAD").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(bare)?;
    git(bare, None, &["init", "--quiet", "--bare", "--initial-branch", branch])?;
    git(bare, None, &["config", "http.receivepack", "true"])
}

/// Creates a bare repository with one commit of `files` (path, text) on `branch`, through
/// libgit2 (a thousand of them in seconds), unless it exists.
pub fn generate(bare: &Path, branch: &str, files: &[(String, String)]) -> anyhow::Result<()> {
    if bare.join("HEAD").exists() {
        return Ok(());
    }
    let repo = git2::Repository::init_bare(bare)?;
    repo.config()?.set_bool("http.receivepack", true)?;
    let mut tree = repo.treebuilder(None)?;
    for (path, text) in files {
        let blob = repo.blob(text.as_bytes())?;
        tree.insert(path, blob, 0o100644)?;
    }
    let tree = repo.find_tree(tree.write()?)?;
    let who = git2::Signature::now("sandbox", "sandbox@harden.invalid")?;
    repo.commit(Some(&format!("refs/heads/{branch}")), &who, &who, "Initial commit", &tree, &[])?;
    repo.set_head(&format!("refs/heads/{branch}"))?;
    Ok(())
}

/// Runs git on the bare repository, with a work tree and a private index when given.
fn git(bare: &Path, work: Option<(&PathBuf, &Path)>, args: &[&str]) -> anyhow::Result<()> {
    let mut command = Command::new("git");
    command.args(["-c", "commit.gpgsign=false", "--git-dir"]).arg(bare);
    if let Some((tree, index)) = work {
        command.arg("--work-tree").arg(tree).current_dir(tree).env("GIT_INDEX_FILE", index);
    }
    let output = command
        .args(args)
        .env("GIT_AUTHOR_NAME", "sandbox")
        .env("GIT_AUTHOR_EMAIL", "sandbox@harden.invalid")
        .env("GIT_COMMITTER_NAME", "sandbox")
        .env("GIT_COMMITTER_EMAIL", "sandbox@harden.invalid")
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

/// One smart HTTP request, as the CGI program needs it.
pub struct CgiRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The path below the git root, such as `/acme/api.git/info/refs`.
    pub path_info: &'a str,
    /// The query string, without `?`.
    pub query: &'a str,
    /// The request's content type.
    pub content_type: &'a str,
    /// The request's body.
    pub body: &'a [u8],
}

/// The CGI program's answer.
pub struct CgiResponse {
    /// The HTTP status (from a `Status:` header, 200 otherwise).
    pub status: u16,
    /// The other headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Runs `git http-backend` for `request` over the repositories under `root`.
pub fn http_backend(root: &Path, request: &CgiRequest<'_>) -> anyhow::Result<CgiResponse> {
    let mut child = Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", request.method)
        .env("PATH_INFO", request.path_info)
        .env("QUERY_STRING", request.query)
        .env("CONTENT_TYPE", request.content_type)
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .env("REMOTE_USER", "sandbox")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting git http-backend")?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let body = request.body.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let output = child.wait_with_output().context("running git http-backend")?;
    writer.join().expect("writer thread").context("feeding git http-backend")?;
    parse_cgi(&output.stdout)
}

/// Splits a CGI answer into status, headers and body.
fn parse_cgi(output: &[u8]) -> anyhow::Result<CgiResponse> {
    let split = output.windows(4).position(|w| w == b"\r\n\r\n").map(|at| (at, 4));
    let split = split.or_else(|| output.windows(2).position(|w| w == b"\n\n").map(|at| (at, 2)));
    let Some((end, gap)) = split else { bail!("git http-backend answered without headers") };
    let mut status = 200;
    let mut headers = Vec::new();
    for line in String::from_utf8_lossy(&output[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim().to_string();
        if name.eq_ignore_ascii_case("status") {
            status = value.split_whitespace().next().and_then(|code| code.parse().ok()).unwrap_or(500);
        } else {
            headers.push((name.trim().to_string(), value));
        }
    }
    Ok(CgiResponse { status, headers, body: output[end + gap..].to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgi_answers_split_into_status_headers_and_body() {
        let answer = parse_cgi(b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope").unwrap();
        assert_eq!(answer.status, 404);
        assert_eq!(answer.headers, vec![("Content-Type".to_string(), "text/plain".to_string())]);
        assert_eq!(answer.body, b"nope");
        assert_eq!(parse_cgi(b"Expires: never\n\n\x00\x01").unwrap().status, 200);
        assert!(parse_cgi(b"no headers at all").is_err());
    }

    #[test]
    fn seeding_makes_one_commit_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("src");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("Dockerfile"), "FROM golang\n").unwrap();
        let bare = bare_path(&dir.path().join("git"), "acme", "api");
        seed(&bare, "main", &folder).unwrap();
        std::fs::write(folder.join("extra"), "not seeded twice\n").unwrap();
        seed(&bare, "main", &folder).unwrap();
        let log =
            Command::new("git").arg("--git-dir").arg(&bare).args(["log", "--format=%s", "main"]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&log.stdout), "Initial commit\n");
        let files = Command::new("git").arg("--git-dir").arg(&bare).args(["ls-tree", "--name-only", "main"]).output();
        assert_eq!(String::from_utf8_lossy(&files.unwrap().stdout), "Dockerfile\n");
    }
}
