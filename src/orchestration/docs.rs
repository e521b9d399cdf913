//! The `docker run` commands a repository's READMEs document (`docker run -v
//! $HOME/.kube:/root/.kube ghcr.io/acme/tool`): what they ask of the image that only root keeps
//! (a mount in root's home, the host user's private files, the Docker socket), unless they choose
//! a user (`--user`).

use std::path::Path;

use super::{Command, Repository, image_name};

/// `docker run` flags whose value is the next word when written without `=`.
const VALUE_FLAGS: &[&str] = &[
    "-v",
    "--volume",
    "--mount",
    "-e",
    "--env",
    "--env-file",
    "-p",
    "--publish",
    "--name",
    "-w",
    "--workdir",
    "-u",
    "--user",
    "--entrypoint",
    "--network",
    "--net",
    "-l",
    "--label",
    "--platform",
    "-h",
    "--hostname",
    "--add-host",
    "--cap-add",
    "--cap-drop",
    "--device",
    "--restart",
    "--tmpfs",
    "-m",
    "--memory",
    "--cpus",
    "--pull",
    "--security-opt",
    "--ulimit",
    "--dns",
    "--ipc",
    "--pid",
    "--group-add",
    "--log-driver",
    "--log-opt",
    "--shm-size",
    "--stop-signal",
    "--health-cmd",
];

/// What one documented `docker run` that chooses no user asks of its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DocumentedRun {
    /// The image's name, without registry, tag or digest.
    pub image: String,
    /// What it mounts that only root can use there, with where: `README.md:41 (docker run)
    /// mounts …`.
    pub root_need: Option<String>,
    /// The host directories it bind-mounts writable, each with where: (`/var/input`,
    /// `README.md:20 (docker run) bind-mounts $(pwd) at /var/input`). The host's user owns them,
    /// so only root (or that user) writes there in the container.
    pub host_dirs: Vec<(String, String)>,
}

impl Repository {
    /// Reads a README at `path` (relative to the root): each `docker run` (or `podman run`) it
    /// documents, its lines joined where they end with a backslash, that chooses no user and
    /// mounts something only root can use there or a host directory.
    pub fn read_docs(&mut self, path: &Path, text: &str) {
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let start = i;
            let mut command = lines[i].trim_end().to_string();
            while command.ends_with('\\') && i + 1 < lines.len() {
                command.pop();
                i += 1;
                command.push(' ');
                command.push_str(lines[i].trim());
            }
            i += 1;
            if let Some(words) = exec_words(&command) {
                let tool = if command.contains("kubectl exec") { "kubectl exec" } else { "docker exec" };
                let origin = format!("{}:{} ({tool})", path.display(), start + 1);
                let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
                self.documented_execs.push((dir, Command { origin, words, replaces_entrypoint: false }));
                continue;
            }
            let Some(at) = command.find("docker run ").or_else(|| command.find("podman run ")) else { continue };
            let Some((image, mounts, privilege)) = bind_mounts(&command[at + "docker run ".len()..]) else { continue };
            let origin = format!("{}:{} (docker run)", path.display(), start + 1);
            let root_need = privilege.or_else(|| mounts.iter().find_map(|m| need_of(&m.source, &m.target)));
            let host_dirs: Vec<(String, String)> = (mounts.iter())
                .filter(|m| m.writable && is_host_dir(&m.source))
                .map(|m| (m.target.clone(), format!("{origin} bind-mounts {} at {}", m.source, m.target)))
                .collect();
            if root_need.is_some() || !host_dirs.is_empty() {
                let root_need = root_need.map(|need| format!("{origin} {need}"));
                self.documented.push(DocumentedRun { image, root_need, host_dirs });
            }
        }
        self.compose_examples(path, &lines);
    }

    /// The Compose files a README shows (a fenced YAML block with `services:`): each service that
    /// runs an image counts as a Compose file's does (what it asks of root, its command); one that
    /// builds is left to the repository's own Compose files.
    fn compose_examples(&mut self, path: &Path, lines: &[&str]) {
        let mut at = 0;
        while let Some(open) = lines[at..].iter().position(|l| matches!(l.trim(), "```yaml" | "```yml")) {
            let start = at + open + 1;
            let end = lines[start..].iter().position(|l| l.trim() == "```").map_or(lines.len(), |e| start + e);
            at = (end + 1).min(lines.len());
            let Ok(mut doc) = yaml_serde::from_str::<yaml_serde::Value>(&lines[start..end].join("\n")) else {
                continue;
            };
            let Some(services) = doc.get_mut("services").and_then(yaml_serde::Value::as_mapping_mut) else { continue };
            services.retain(|_, service| service.get("build").is_none());
            let origin = std::path::PathBuf::from(format!("{}:{}", path.display(), start));
            self.compose(&doc, path.parent().unwrap_or(Path::new("")), &origin);
        }
    }
}

/// `docker exec` (or `docker compose exec`, `kubectl exec`) flags whose value is the next word
/// when written without `=`.
const EXEC_VALUE_FLAGS: &[&str] =
    &["-u", "--user", "-e", "--env", "-w", "--workdir", "-c", "--container", "-n", "--namespace"];

/// The command a documented `docker exec -it app /bin/bash` (also `docker compose exec api sh`,
/// `kubectl exec -it pod -- go version -m app`) runs in a running container: its words after the
/// container's name.
fn exec_words(command: &str) -> Option<Vec<String>> {
    let at = ["docker exec ", "docker compose exec ", "docker-compose exec ", "podman exec ", "kubectl exec "]
        .iter()
        .find_map(|c| command.find(c).map(|at| at + c.len()))?;
    // Written in a sentence (`` run `docker exec -it app sh` to look inside ``), it ends at its quote.
    let command = command[at..].split('`').next().unwrap_or_default();
    let words: Vec<String> = crate::shell::lex(command, 0).into_iter().map(|t| t.value).collect();
    let mut rest = words.iter().map(String::as_str);
    let mut named = false;
    while let Some(word) = rest.next() {
        match word {
            "--" => break,
            flag if EXEC_VALUE_FLAGS.contains(&flag) => {
                rest.next();
            }
            flag if flag.starts_with('-') => {}
            _ if !named => named = true,
            first => return Some(std::iter::once(first).chain(rest).map(str::to_string).collect()),
        }
    }
    let words: Vec<String> = rest.map(str::to_string).collect();
    (named && !words.is_empty()).then_some(words)
}

/// One bind mount a `docker run` gives its container.
struct BindMount {
    /// The host path.
    source: String,
    /// Where it appears in the container.
    target: String,
    /// Mounted writable (no `ro`).
    writable: bool,
}

/// The image a `docker run` (its words after `run`) starts, the bind mounts it gives it and the
/// privilege it grants root (`--privileged`, `--cap-add`, the host's process namespace), when it
/// chooses no user.
fn bind_mounts(args: &str) -> Option<(String, Vec<BindMount>, Option<String>)> {
    let words: Vec<String> = crate::shell::lex(args, 0).into_iter().map(|t| t.value).collect();
    let mut mounts = Vec::new();
    let mut privilege = None;
    let mut image = None;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let (flag, value) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with('-') => (flag, Some(value.to_string())),
            _ => (word, None),
        };
        if !flag.starts_with('-') {
            image = Some(image_name(word));
            break;
        }
        let value = match value {
            Some(value) => Some(value),
            None if VALUE_FLAGS.contains(&flag) => {
                i += 1;
                words.get(i).cloned()
            }
            None => None,
        };
        match (flag, value) {
            ("-u" | "--user", _) => return None,
            ("-v" | "--volume", Some(value)) => mounts.extend(volume(&value)),
            ("--mount", Some(value)) => mounts.extend(mount(&value)),
            ("--privileged", _) => privilege = Some(privileged_need("--privileged")),
            ("--cap-add", Some(cap)) => privilege = Some(capability_need(&cap)),
            ("--pid", Some(ns)) if ns == "host" => {
                privilege =
                    Some("runs it in the host's process namespace (--pid=host), whose processes only root reads".into())
            }
            _ => {}
        }
        i += 1;
    }
    let image = image.filter(|i| !i.is_empty() && !i.starts_with('$'))?;
    Some((image, mounts, privilege))
}

/// True when a bind mount's source is a directory of the host (`$(pwd)`, `./data`, `/srv/app`),
/// not a named volume or a device.
fn is_host_dir(source: &str) -> bool {
    source.starts_with(['/', '.', '$', '~', '%']) && !source.starts_with("/dev/") && !source.ends_with(".sock")
}

/// `-v SOURCE:TARGET[:MODE]`: the source and target of a bind mount (a named volume has none),
/// and whether it is writable (no `ro` mode).
fn volume(value: &str) -> Option<BindMount> {
    let mut parts = value.split(':');
    let (source, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let writable = !parts.next().is_some_and(|mode| mode.split(',').any(|m| m == "ro"));
    Some(BindMount { source, target, writable })
}

/// `--mount type=bind,source=…,target=…`: the source and target of a bind mount, and whether it
/// is writable (no `readonly`).
fn mount(value: &str) -> Option<BindMount> {
    let field = |names: &[&str]| {
        value
            .split(',')
            .find_map(|kv| kv.split_once('=').filter(|(k, _)| names.contains(k)).map(|(_, v)| v.to_string()))
    };
    (field(&["type"]).as_deref() == Some("bind")).then_some(())?;
    let writable = !value.split(',').any(|kv| matches!(kv, "readonly" | "ro" | "readonly=true" | "ro=true"));
    Some(BindMount { source: field(&["source", "src"])?, target: field(&["target", "destination", "dst"])?, writable })
}

/// What a run that grants privileges (`--privileged`, Compose's `privileged`: `written`) asks of
/// root, whose privileges they are.
pub(super) fn privileged_need(written: &str) -> String {
    format!("runs it {written}, whose privileges are root's")
}

/// What a run that adds a capability asks of root: a capability added is in a non-root user's
/// bounding set only, never in its effective set.
pub(super) fn capability_need(capability: &str) -> String {
    format!("adds it {capability}, a capability only root holds")
}

/// What a mount of the Docker socket at `source` asks of root.
pub(super) fn socket_need(source: &str) -> String {
    format!("mounts the Docker socket ({source}), which only root (or the socket's group) may use")
}

/// What a bind mount of `source` at `target` needs of root, if anything.
fn need_of(source: &str, target: &str) -> Option<String> {
    if source.ends_with("docker.sock") {
        return Some(socket_need(source));
    }
    if target == "/root" || target.starts_with("/root/") {
        return Some(format!(
            "mounts {source} at {target}, in root's home, where a non-root user neither reads nor looks (its home is another)"
        ));
    }
    let home = ["~", "$HOME", "${HOME}", "/home/", "/Users/"];
    home.iter().any(|h| source.starts_with(h)).then(|| {
        format!(
            "mounts the host user's {source}, whose private files (mode 0600: keys, passwords, a kubeconfig) only root or that user (`--user $(id -u):$(id -g)`) can read in the container"
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_documented_exec_runs_its_command_in_the_container() {
        let words = |line: &str| exec_words(line).map(|w| w.join(" "));
        assert_eq!(words("docker exec -it golang-pgo-app-1 /bin/bash").as_deref(), Some("/bin/bash"));
        assert_eq!(words("$ docker compose exec -u 0 api sh -c 'ls /data'").as_deref(), Some("sh -c ls /data"));
        assert_eq!(
            words("kubectl exec -it deploy/api -n shop -- go version -m /app").as_deref(),
            Some("go version -m /app")
        );
        assert_eq!(words("Run `docker exec -it app bash` to look inside.").as_deref(), Some("bash"));
        assert_eq!(words("docker exec -it app"), None, "no command");
        assert_eq!(words("docker run -it app sh"), None);
    }

    use std::path::Path;

    use super::*;

    fn runs(text: &str) -> Vec<DocumentedRun> {
        let mut repo = Repository::default();
        repo.read_docs(Path::new("README.md"), text);
        repo.documented
    }

    /// What the documented runs need of root, by image.
    fn needs(text: &str) -> Vec<(String, String)> {
        runs(text).into_iter().filter_map(|r| Some((r.image, r.root_need?))).collect()
    }

    #[test]
    fn mounts_only_root_can_use_are_found_with_their_image_and_line() {
        let found = needs(
            "Run it:\n\n    docker run --rm -it \\\n      -v $HOME/.kube:/root/.kube \\\n      ghcr.io/acme/tool:v1 check\n",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "tool");
        assert!(found[0].1.starts_with("README.md:3 (docker run) mounts $HOME/.kube at /root/.kube"));
        let home = needs("$ docker run -v ~/.kube:/kube -e KUBECONFIG=/kube/config acme/tool");
        assert!(home[0].1.contains("the host user's ~/.kube"));
        let socket =
            needs("docker run --mount type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock acme/tool");
        assert!(socket[0].1.contains("Docker socket"));
    }

    #[test]
    fn a_compose_example_that_runs_the_image_as_root_is_a_need() {
        let readme = "Run it:\n```yaml\nservices:\n  disks:\n    image: acme/disk-exporter\n    privileged: true\n    user: root\n  web:\n    build: .\n    privileged: true\n```\n";
        let mut repo = Repository::default();
        repo.read_docs(Path::new("README.md"), readme);
        let needs: Vec<(&str, Option<&str>)> =
            repo.containers.iter().map(|c| (c.image.as_str(), c.root_need.as_deref())).collect();
        assert_eq!(
            needs,
            [("disk-exporter", Some("README.md:2 (service disks) runs it privileged, whose privileges are root's"))]
        );
        assert!(repo.builds.is_empty(), "a service that builds is the repository's Compose file's to say");
    }

    #[test]
    fn privileges_granted_are_roots_needs() {
        let privileged =
            needs("  docker run -d -p 9256:9256 --privileged -v /proc:/host/proc acme/procs --procfs /host/proc");
        assert_eq!(
            privileged,
            [(
                "procs".to_string(),
                "README.md:1 (docker run) runs it --privileged, whose privileges are root's".to_string()
            )]
        );
        assert!(needs("docker run --cap-add=NET_ADMIN acme/tool")[0].1.contains("adds it NET_ADMIN"));
        assert!(needs("docker run --pid host acme/top")[0].1.contains("host's process namespace"));
        assert!(needs("docker run --pid=container:x acme/top").is_empty());
        assert!(runs("docker run --privileged --user 1000 acme/tool").is_empty());
    }

    #[test]
    fn runs_that_choose_a_user_or_mount_nothing_of_roots_need_nothing() {
        assert!(runs("docker run --user $(id -u):$(id -g) -v $HOME/.kube:/root/.kube acme/tool").is_empty());
        assert!(runs("docker run -u=1000 -v ~/.aws:/root/.aws acme/tool").is_empty());
        assert!(needs("docker run -v $(pwd):/work -p 8080:8080 acme/tool lint /work").is_empty());
        assert!(runs("docker run -v data:/data acme/tool").is_empty());
        // A mount given after the image is the program's argument, not Docker's.
        assert!(runs("docker run acme/tool -v /root/x:/y").is_empty());
    }

    #[test]
    fn writable_host_directories_are_kept_with_where_they_are_mounted() {
        let found = runs("```\ndocker run -d -v $(pwd):/var/input -v ./conf:/etc/tool:ro acme/converter\n```\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].image, "converter");
        assert_eq!(
            found[0].host_dirs,
            [("/var/input".to_string(), "README.md:2 (docker run) bind-mounts $(pwd) at /var/input".to_string())]
        );
        assert!(runs("docker run --mount type=bind,source=/srv/in,target=/in,readonly acme/tool").is_empty());
    }
}
