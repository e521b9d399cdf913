//! Compose files: each service's build (its Dockerfile, arguments, image and stage) and the
//! command it runs the image with.

use std::path::Path;

use yaml_serde::Value;

use super::kubernetes::Container;
use super::{Build, Command, Repository, docs, image_name, key_values, normalise, resolved, scalar, words};

/// Names of Compose files.
pub fn is_compose_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.starts_with("docker-compose") || lower.starts_with("compose"))
        && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
}

impl Repository {
    /// Reads a Compose file's services: the Dockerfile each builds (its context and
    /// `dockerfile`), its build arguments, image name, stage and command; a service that only
    /// runs an image counts like a Kubernetes container of that image.
    pub(super) fn compose(&mut self, doc: &Value, dir: &Path, path: &Path) {
        let Some(services) = doc.get("services").and_then(Value::as_mapping) else { return };
        for (name, service) in services {
            let Some(name) = name.as_str() else { continue };
            let origin = format!("{} (service {name})", path.display());
            let entrypoint = service.get("entrypoint").and_then(words);
            let command = Command::from_parts(&origin, entrypoint, service.get("command").and_then(words));
            let checks: Vec<Command> = service
                .get("healthcheck")
                .and_then(health_check)
                .map(|words| Command { origin: format!("{origin} healthcheck"), words, replaces_entrypoint: false })
                .into_iter()
                .collect();
            let root_need = root_need(service).map(|need| format!("{origin} {need}"));
            let reference = service.get("image").and_then(Value::as_str);
            let image = reference.map(image_name);
            let (context, dockerfile, args) = match service.get("build") {
                Some(Value::String(context)) => (context.clone(), "Dockerfile".to_string(), Vec::new()),
                Some(build) => (
                    build.get("context").and_then(Value::as_str).unwrap_or(".").to_string(),
                    build.get("dockerfile").and_then(Value::as_str).unwrap_or("Dockerfile").to_string(),
                    key_values(build.get("args"), &origin),
                ),
                None => {
                    if let Some(image) = image {
                        let reference = reference.unwrap_or_default().to_string();
                        self.containers.push(Container { image, reference, command, checks, root_need });
                    }
                    continue;
                }
            };
            let target = service.get("build").and_then(|b| b.get("target")).and_then(scalar);
            let dockerfile = normalise(&dir.join(&context).join(&dockerfile));
            self.builds.push(Build {
                dockerfile,
                context: Some((normalise(&dir.join(&context)), origin.clone())),
                images: image.into_iter().collect(),
                args: args.into_iter().filter(resolved).collect(),
                commands: command.into_iter().collect(),
                checks,
                root_needs: root_need.into_iter().collect(),
                target,
                ..Build::default()
            });
        }
    }
}

/// What a service that chooses no user (`user:`), or chooses root, asks of its image that only
/// root has: root itself with privileges (`privileged: true`, `cap_add`), a writable bind mount
/// of a host directory (Docker creates a missing one owned by root, and what an earlier root
/// container wrote there stays root's), or the Docker socket.
fn root_need(service: &Value) -> Option<String> {
    let user = service.get("user").and_then(scalar);
    let root = user.as_deref().is_some_and(|u| matches!(u.split(':').next(), Some("root" | "0")));
    if user.is_some() && !root {
        return None;
    }
    let added = service.get("cap_add").and_then(Value::as_sequence).and_then(|caps| caps.first()).and_then(scalar);
    let privilege = match (service.get("privileged").and_then(Value::as_bool), added) {
        (Some(true), _) => Some(docs::privileged_need("privileged")),
        (_, Some(cap)) => Some(docs::capability_need(&cap)),
        _ if root => Some(format!("runs it as {} (user:)", user.unwrap_or_default())),
        _ => None,
    };
    if privilege.is_some() {
        return privilege;
    }
    let volumes = service.get("volumes").and_then(Value::as_sequence)?;
    volumes.iter().find_map(|volume| {
        let (source, target, read_only) = match volume {
            Value::String(short) => {
                let mut parts = short.split(':');
                let (source, target) = (parts.next()?, parts.next()?);
                (source.to_string(), target.to_string(), parts.next().is_some_and(|mode| mode.split(',').any(|m| m == "ro")))
            }
            long if long.get("type").and_then(Value::as_str) == Some("bind") => (
                long.get("source").and_then(Value::as_str)?.to_string(),
                long.get("target").and_then(Value::as_str)?.to_string(),
                long.get("read_only").and_then(Value::as_bool) == Some(true),
            ),
            _ => return None,
        };
        // A named volume (`data:/data`) is Docker's, filled from the image the first time.
        if !source.starts_with(['.', '/', '~', '$']) || read_only {
            return None;
        }
        if source.ends_with("docker.sock") {
            return Some(docs::socket_need(&source));
        }
        // A file (`./config.yaml:/etc/app/config.yaml`) is read, not written.
        let last = target.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
        (!last.contains('.')).then(|| {
            format!(
                "bind-mounts the host directory {source} at {target}: Docker creates it owned by root when it is missing, and what an earlier root container wrote there stays root's, which a non-root user cannot write"
            )
        })
    })
}

/// The command a Compose health check runs in the container, as Docker runs it: `["CMD", …]`
/// as written, `["CMD-SHELL", text]` or a bare string through `/bin/sh -c`; `None` when it is
/// disabled (`disable: true`, `["NONE"]`).
fn health_check(check: &Value) -> Option<Vec<String>> {
    if check.get("disable").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let shell = |text: String| vec!["/bin/sh".to_string(), "-c".to_string(), text];
    match check.get("test")? {
        Value::String(text) => Some(shell(text.clone())),
        Value::Sequence(items) => {
            let words: Vec<String> = items.iter().filter_map(scalar).collect();
            match words.split_first() {
                Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
                Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => Some(shell(rest.join(" "))),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::BuildArg;
    use super::*;

    #[test]
    fn compose_services_name_their_dockerfile_command_and_args() {
        let mut repo = Repository::default();
        repo.read(
            Path::new("compose.yaml"),
            "services:\n  api:\n    build:\n      context: ./api\n      dockerfile: Dockerfile.prod\n      args:\n        GO_IMG: golang:1.22\n        CWD: ${CWD}\n    image: ghcr.io/acme/api:1\n    command: /app/api --port 8080\n  worker:\n    build: worker\n    entrypoint: [\"sh\", \"-c\"]\n    command: [\"exec /app/worker\"]\n",
        );
        let api = repo.for_dockerfile(Path::new("api/Dockerfile.prod"));
        assert_eq!(
            api.build_args,
            [BuildArg {
                name: "GO_IMG".into(),
                value: "golang:1.22".into(),
                origin: "compose.yaml (service api)".into()
            }]
        );
        assert_eq!(api.commands[0].words, ["/app/api", "--port", "8080"]);
        assert!(!api.commands[0].replaces_entrypoint);
        let worker = repo.for_dockerfile(Path::new("worker/Dockerfile"));
        assert_eq!(worker.commands[0].words, ["sh", "-c", "exec /app/worker"]);
        assert!(worker.commands[0].replaces_entrypoint);
    }

    #[test]
    fn writable_bind_mounts_of_directories_need_root() {
        let need = |yaml: &str| root_need(&yaml_serde::from_str(yaml).unwrap());
        assert!(need("volumes: [./data:/data]").unwrap().starts_with("bind-mounts the host directory ./data at /data"));
        assert!(need("volumes: [{type: bind, source: /srv/app, target: /var/lib/app}]").is_some());
        assert!(need("volumes: [/var/run/docker.sock:/var/run/docker.sock]").unwrap().contains("Docker socket"));
        // Read-only, a file, a named volume, or a user the service chooses: nothing root keeps.
        assert!(need("volumes: ['./data:/data:ro']").is_none());
        assert!(need("volumes: [./app.yaml:/etc/app/app.yaml]").is_none());
        assert!(need("volumes: [data:/data]").is_none());
        assert!(need("user: '1000:1000'\nvolumes: [./data:/data]").is_none());
    }

    #[test]
    fn root_chosen_or_privileges_granted_are_needs() {
        let need = |yaml: &str| root_need(&yaml_serde::from_str(yaml).unwrap());
        assert_eq!(need("user: root").unwrap(), "runs it as root (user:)");
        assert_eq!(need("user: '0:0'\nprivileged: true").unwrap(), "runs it privileged, whose privileges are root's");
        assert!(need("cap_add: [SYS_RAWIO]").unwrap().contains("adds it SYS_RAWIO"));
        assert!(need("user: '65534'\nprivileged: true").is_none(), "privileges a non-root user cannot use");
    }

    #[test]
    fn health_checks_run_as_docker_runs_them() {
        let check = |yaml: &str| health_check(&yaml_serde::from_str(yaml).unwrap());
        assert_eq!(check("test: [CMD, /app, health]").unwrap(), ["/app", "health"]);
        assert_eq!(check("test: [CMD-SHELL, curl -f localhost || exit 1]").unwrap()[..2], ["/bin/sh", "-c"]);
        assert_eq!(check("test: wget -q localhost").unwrap()[2], "wget -q localhost");
        assert!(check("test: [NONE]").is_none() && check("test: [CMD, curl]\ndisable: true").is_none());
    }
}
