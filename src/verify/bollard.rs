//! Builds through the Docker Engine API with `bollard`, BuildKit included: no buildx plugin
//! and no docker client needed, only the engine's socket.

use std::collections::HashMap;
use std::path::Path;

use bollard::Docker;
use bollard::models::BuildInfoAux;
use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
use futures_util::StreamExt;

use super::engine::{BuildOptions, Builder, LABEL, tail};

/// The name the Dockerfile gets inside the build context harden sends.
const DOCKERFILE_IN_CONTEXT: &str = ".harden.Dockerfile";

/// A builder on the Engine API.
pub struct BollardBuilder {
    docker: Docker,
    runtime: tokio::runtime::Runtime,
}

impl BollardBuilder {
    /// Connects to the local engine (`DOCKER_HOST`, else the default socket) and checks it answers.
    pub fn connect() -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let docker =
            Docker::connect_with_local_defaults().map_err(|e| format!("cannot reach the Docker engine: {e}"))?;
        runtime.block_on(docker.ping()).map_err(|e| format!("no Docker engine answers: {e}"))?;
        Ok(BollardBuilder { docker, runtime })
    }
}

impl Builder for BollardBuilder {
    fn build(&self, context: &Path, dockerfile: &Path, tag: &str, options: &BuildOptions) -> Result<(), String> {
        if !options.secrets.is_empty() {
            return Err("build secrets need the docker CLI builder (--builder cli)".into());
        }
        let body = context_tar(context, dockerfile).map_err(|e| format!("cannot pack the build context: {e}"))?;
        static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let session =
            format!("harden-{}-{}", std::process::id(), SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let (label_key, label_value) = LABEL.split_once('=').unwrap_or((LABEL, ""));
        let labels = HashMap::from([(label_key, label_value)]);
        let build_args: HashMap<&str, &str> = options.build_args.iter().filter_map(|a| a.split_once('=')).collect();
        let mut builder = BuildImageOptionsBuilder::default()
            .dockerfile(DOCKERFILE_IN_CONTEXT)
            .t(tag)
            .rm(true)
            .version(BuilderVersion::BuilderBuildKit)
            .session(&session)
            .networkmode(&options.network)
            .labels(&labels)
            .buildargs(&build_args);
        if let Some(target) = &options.target {
            builder = builder.target(target);
        }
        if let Some(platform) = &options.platform {
            builder = builder.platform(platform);
        }
        let build = async {
            let mut log = Vec::new();
            let mut stream = self.docker.build_image(builder.build(), None, Some(bollard::body_full(body.into())));
            while let Some(item) = stream.next().await {
                let info = item.map_err(|e| format!("{}\n{e}", tail(&log.join("\n"), 10)))?;
                if let Some(err) = info.error_detail.and_then(|d| d.message) {
                    return Err(format!("{}\n{err}", tail(&log.join("\n"), 10)));
                }
                log.extend(info.stream);
                if let Some(BuildInfoAux::BuildKit(status)) = info.aux {
                    log.extend(status.logs.iter().map(|l| String::from_utf8_lossy(&l.msg).trim_end().to_string()));
                    log.extend(status.vertexes.iter().filter(|v| !v.error.is_empty()).map(|v| v.error.clone()));
                }
            }
            Ok(())
        };
        self.runtime
            .block_on(async { tokio::time::timeout(options.timeout, build).await })
            .unwrap_or_else(|_| Err(format!("the build took longer than {} s", options.timeout.as_secs())))
    }
}

/// The build context as a tar: every file under `context` (not `.git`, links not followed),
/// plus the Dockerfile under [`DOCKERFILE_IN_CONTEXT`], which `.dockerignore` keeps out of
/// `COPY . .` (the engine still reads it).
fn context_tar(context: &Path, dockerfile: &Path) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    add_dir(&mut tar, context, Path::new(""))?;
    let mut ignore = std::fs::read_to_string(context.join(".dockerignore")).unwrap_or_default();
    if !ignore.is_empty() && !ignore.ends_with('\n') {
        ignore.push('\n');
    }
    ignore.push_str(DOCKERFILE_IN_CONTEXT);
    ignore.push('\n');
    append(&mut tar, ".dockerignore", ignore.as_bytes())?;
    append(&mut tar, DOCKERFILE_IN_CONTEXT, &std::fs::read(dockerfile)?)?;
    tar.into_inner()
}

fn add_dir(tar: &mut tar::Builder<Vec<u8>>, dir: &Path, rel: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let path = rel.join(&name);
        if rel.as_os_str().is_empty() && (name == ".git" || name == ".dockerignore") {
            continue;
        }
        if entry.file_type()?.is_dir() {
            add_dir(tar, &entry.path(), &path)?;
        } else {
            tar.append_path_with_name(entry.path(), &path)?;
        }
    }
    Ok(())
}

fn append(tar: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, name, data)
}
