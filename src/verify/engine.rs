//! The container engine behind `harden verify`: one small trait, and its implementation over
//! the Docker command line (BuildKit through `docker buildx build` where the plugin exists,
//! else `DOCKER_BUILDKIT=1 docker build`). Everything harden creates carries the label
//! [`LABEL`] and is removed by [`Engine::remove`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

/// The label on every image and container harden makes.
pub const LABEL: &str = "dev.harden.verify=true";

/// What a build needs besides the Dockerfile.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// `--network` for RUN steps (`none` on engines without a bridge).
    pub network: String,
    /// `--build-arg` values (`NAME=VALUE`).
    pub build_args: Vec<String>,
    /// `--secret` values (`id=NAME,src=PATH` or `id=NAME,env=VAR`), for builds that mount secrets.
    pub secrets: Vec<String>,
    /// `--target` stage.
    pub target: Option<String>,
    /// `--platform`.
    pub platform: Option<String>,
    /// Give up after this long.
    pub timeout: Duration,
}

/// One layer of an image, as `docker history` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layer {
    /// Uncompressed bytes the layer adds.
    pub bytes: u64,
    /// The instruction that made it.
    pub created_by: String,
}

/// How a smoke run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// Still running when the wait was over.
    Running,
    /// Exited with this code.
    Exited(i64),
    /// Could not be started at all.
    NotStarted(String),
}

/// A smoke run: how it ended and the tail of its logs.
#[derive(Debug, Clone)]
pub struct Run {
    /// How it ended.
    pub state: RunState,
    /// The last lines of its output.
    pub logs: String,
}

/// Facts about a built image.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    /// Uncompressed size in bytes.
    pub bytes: u64,
    /// `Config.User`.
    pub user: String,
}

/// Builds images: the `docker` CLI ([`DockerCli`]) or the Engine API (`bollard::BollardBuilder`).
pub trait Builder {
    /// Builds `dockerfile` with the build context `context` as `tag`. `Err` holds the log's tail.
    fn build(&self, context: &Path, dockerfile: &Path, tag: &str, options: &BuildOptions) -> Result<(), String>;
}

/// What `harden verify` asks of a container engine besides building.
pub trait Engine {
    /// Size and user of an image.
    fn inspect(&self, tag: &str) -> Result<ImageFacts, String>;
    /// The layers of an image, oldest first.
    fn history(&self, tag: &str) -> Result<Vec<Layer>, String>;
    /// The image as `docker save` writes it (a tar stream), for measuring compressed size.
    fn save(&self, tag: &str) -> Result<Box<dyn Read>, String>;
    /// The size of one file inside an image.
    fn file_size(&self, tag: &str, path: &str) -> Result<u64, String>;
    /// Runs the image for `wait`, hardened (read-only root, tmpfs /tmp, no capabilities,
    /// no-new-privileges) or as it is, always without a network.
    fn smoke_run(&self, tag: &str, hardened: bool, wait: Duration) -> Run;
    /// Pushes image `tag` to the registry as `reference`.
    fn push(&self, tag: &str, reference: &str) -> Result<(), String>;
    /// Removes images harden made.
    fn remove(&self, tags: &[String]);
}

/// The Docker command line.
pub struct DockerCli {
    bin: PathBuf,
    buildx: bool,
}

impl DockerCli {
    /// True when the buildx plugin is there (then builds go through `docker buildx build`).
    pub fn has_buildx(&self) -> bool {
        self.buildx
    }

    /// Uses `bin` (or `docker` from `PATH`); checks that an engine answers.
    pub fn connect(bin: Option<PathBuf>) -> Result<Self, String> {
        let bin = bin.unwrap_or_else(|| PathBuf::from("docker"));
        let version = Command::new(&bin)
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        if !version.status.success() {
            let said =
                format!("{}{}", String::from_utf8_lossy(&version.stderr), String::from_utf8_lossy(&version.stdout));
            let why = match tail(&said, 3) {
                quiet if quiet.is_empty() => format!("{} version exited with {}", bin.display(), version.status),
                said => said,
            };
            return Err(format!("no Docker engine answers: {why}"));
        }
        let buildx = Command::new(&bin)
            .args(["buildx", "version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Ok(DockerCli { bin, buildx })
    }

    fn docker(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.env("DOCKER_BUILDKIT", "1");
        cmd
    }

    fn output(&self, args: &[&str]) -> Result<String, String> {
        let out = self.docker().args(args).output().map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(tail(&String::from_utf8_lossy(&out.stderr), 10))
        }
    }
}

impl Builder for DockerCli {
    fn build(&self, context: &Path, dockerfile: &Path, tag: &str, options: &BuildOptions) -> Result<(), String> {
        let mut cmd = self.docker();
        if self.buildx {
            cmd.args(["buildx", "build", "--load"]);
        } else {
            cmd.arg("build");
        }
        cmd.args(["--progress", "plain", "--network", &options.network, "--label", LABEL, "-t", tag, "-f"])
            .arg(dockerfile);
        for arg in &options.build_args {
            cmd.args(["--build-arg", arg]);
        }
        for secret in &options.secrets {
            cmd.args(["--secret", secret]);
        }
        if let Some(target) = &options.target {
            cmd.args(["--target", target]);
        }
        if let Some(platform) = &options.platform {
            cmd.args(["--platform", platform]);
        }
        cmd.arg(context);
        let finished = output_within(&mut cmd, options.timeout).map_err(|e| format!("cannot run docker: {e}"))?;
        let log = format!("{}{}", finished.stdout, finished.stderr);
        match finished.status {
            Some(s) if s.success() => Ok(()),
            Some(_) => Err(tail(&log, 15)),
            None => Err(format!("the build took longer than {} s\n{}", options.timeout.as_secs(), tail(&log, 10))),
        }
    }
}

impl Engine for DockerCli {
    fn inspect(&self, tag: &str) -> Result<ImageFacts, String> {
        let out = self.output(&["image", "inspect", "--format", "{{.Size}} {{.Config.User}}", tag])?;
        let mut parts = out.trim().splitn(2, ' ');
        let bytes = parts.next().and_then(|s| s.parse().ok()).ok_or("no size in docker image inspect")?;
        Ok(ImageFacts { bytes, user: parts.next().unwrap_or_default().to_string() })
    }

    fn history(&self, tag: &str) -> Result<Vec<Layer>, String> {
        let out =
            self.output(&["history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", tag])?;
        let mut layers: Vec<Layer> = out
            .lines()
            .filter_map(|line| {
                let (size, by) = line.split_once('\t')?;
                Some(Layer { bytes: size.trim().parse().ok()?, created_by: clean_created_by(by) })
            })
            .collect();
        layers.reverse();
        Ok(layers)
    }

    fn save(&self, tag: &str) -> Result<Box<dyn Read>, String> {
        let child = self
            .docker()
            .args(["save", tag])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        child.stdout.map(|s| Box::new(s) as Box<dyn Read>).ok_or_else(|| "docker save gave no output".into())
    }

    fn file_size(&self, tag: &str, path: &str) -> Result<u64, String> {
        let id = self.output(&["create", "--label", LABEL, tag])?.trim().to_string();
        let size = (|| {
            let mut child = self
                .docker()
                .args(["cp", &format!("{id}:{path}"), "-"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| e.to_string())?;
            let stdout = child.stdout.take().ok_or("no output")?;
            let mut archive = tar::Archive::new(stdout);
            let mut total = 0;
            for entry in archive.entries().map_err(|e| e.to_string())? {
                total += entry.map_err(|e| e.to_string())?.header().size().unwrap_or(0);
            }
            let _ = child.wait();
            Ok::<u64, String>(total)
        })();
        let _ = self.output(&["rm", "-f", &id]);
        size
    }

    fn smoke_run(&self, tag: &str, hardened: bool, wait: Duration) -> Run {
        let mut args = vec!["run", "-d", "--network", "none", "--label", LABEL];
        if hardened {
            args.extend(["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]);
        }
        args.push(tag);
        let id = match self.output(&args) {
            Ok(id) => id.trim().to_string(),
            Err(e) => return Run { state: RunState::NotStarted(e.clone()), logs: e },
        };
        let start = Instant::now();
        let state = loop {
            let status = self.output(&["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", &id]);
            match status.as_deref().map(str::trim) {
                Ok(s) if s.starts_with("false") => {
                    break RunState::Exited(s.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(-1));
                }
                Ok(_) if start.elapsed() >= wait => break RunState::Running,
                Ok(_) => std::thread::sleep(Duration::from_millis(250)),
                Err(e) => break RunState::NotStarted(e.clone()),
            }
        };
        let logs = self
            .docker()
            .args(["logs", "--tail", "20", &id])
            .output()
            .map(|o| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
            .unwrap_or_default();
        let _ = self.output(&["rm", "-f", &id]);
        Run { state, logs: tail(&logs, 20) }
    }

    fn push(&self, tag: &str, reference: &str) -> Result<(), String> {
        self.output(&["tag", tag, reference])?;
        let pushed = self.output(&["push", reference]).map(|_| ());
        let _ = self.output(&["image", "rm", reference]);
        pushed
    }

    fn remove(&self, tags: &[String]) {
        for tag in tags {
            let _ = self.output(&["image", "rm", "-f", tag]);
        }
    }
}

/// How a command run by [`output_within`] ended.
pub struct Finished {
    /// Its exit status; `None` when it ran past the limit and was killed.
    pub status: Option<std::process::ExitStatus>,
    /// What it wrote to standard output.
    pub stdout: String,
    /// What it wrote to standard error.
    pub stderr: String,
}

/// Runs `cmd` (no input), killing it when it runs longer than `limit`; its output is read on
/// threads, so a chatty command cannot block on a full pipe.
pub fn output_within(cmd: &mut Command, limit: Duration) -> std::io::Result<Finished> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let out_reader = std::thread::spawn(move || read_all(out.as_mut()));
    let err_reader = std::thread::spawn(move || read_all(err.as_mut()));
    let start = Instant::now();
    let status = loop {
        match child.try_wait()? {
            Some(status) => break Some(status),
            None if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    Ok(Finished {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    })
}

fn read_all(stream: Option<&mut impl Read>) -> String {
    let mut text = String::new();
    if let Some(s) = stream {
        let _ = s.read_to_string(&mut text);
    }
    text
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `docker history`'s CreatedBy without the `/bin/sh -c #(nop)` noise.
fn clean_created_by(by: &str) -> String {
    let by = by.trim();
    let by = by.strip_prefix("/bin/sh -c #(nop) ").unwrap_or(by);
    by.strip_prefix("/bin/sh -c ").map_or_else(|| by.to_string(), |rest| format!("RUN {rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_limit_is_stopped_and_one_within_it_gives_its_output() {
        let started = Instant::now();
        let slow = output_within(Command::new("sleep").arg("5"), Duration::from_millis(200)).unwrap();
        assert!(slow.status.is_none() && started.elapsed() < Duration::from_secs(3));
        let quick =
            output_within(Command::new("sh").args(["-c", "echo out; echo err >&2"]), Duration::from_secs(5)).unwrap();
        assert!(quick.status.is_some_and(|s| s.success()));
        assert_eq!((quick.stdout.as_str(), quick.stderr.as_str()), ("out\n", "err\n"));
    }
}
