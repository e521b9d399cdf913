//! The Kubernetes containers of the repository's manifests, as orchestration reads them: the
//! image each runs, its command, and what it asks that only root keeps.

use std::path::Path;

use yaml_serde::Value;

use super::{Command, image_name, without_tag, words};

/// A Kubernetes container (or a Compose service that runs an image it does not build): the name
/// of the image it runs, its command, the commands its probes, hooks or health check run in it,
/// and what it asks that only root keeps.
#[derive(Debug, Clone)]
pub(super) struct Container {
    pub image: String,
    /// The reference as written (`registry.k8s.io/acme/controller:v0.4.0`).
    pub reference: String,
    pub command: Option<Command>,
    pub checks: Vec<Command>,
    pub root_need: Option<String>,
}

/// Where a container runs commands of its own beside its program: `exec` probes and hooks.
const EXEC_HANDLERS: &[&[&str]] = &[
    &["livenessProbe"],
    &["readinessProbe"],
    &["startupProbe"],
    &["lifecycle", "postStart"],
    &["lifecycle", "preStop"],
];

impl super::Repository {
    /// The newest release (`…/ccm:v0.1.68`) each image the manifests run at a plain version is
    /// run at, by its reference without the tag: a manifest pinning an older one runs what an
    /// older Dockerfile built.
    pub fn newest_releases(&self) -> std::collections::BTreeMap<String, String> {
        let mut newest: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
        let running = self.containers.iter().map(|c| &c.reference);
        for reference in running.chain(&self.released) {
            let Some(version) = super::release_version(reference) else { continue };
            let path = without_tag(reference).to_string();
            if newest.get(&path).and_then(|r| super::release_version(r)).is_none_or(|n| version > n) {
                newest.insert(path, reference.clone());
            }
        }
        newest
    }

    /// Reads the images a released version's manifest runs (see [`Repository::newest_releases`]).
    pub fn read_release(&mut self, text: &str) {
        let mut found = Vec::new();
        super::documents(text).for_each(|doc| containers(&doc, &mut found, ""));
        self.released.extend(found.into_iter().map(|c| c.reference));
    }

    /// Reads a Kubernetes manifest's containers. Go template actions in one outside a Helm
    /// chart (whose templates are rendered) are words here: `image: {{.Registry}}/probes:v1`
    /// still names the image, and its volumes still say what it mounts. A workload of an API no
    /// supported cluster serves (`extensions/v1beta1`) runs nowhere, so says nothing.
    pub(super) fn manifest(&mut self, path: &Path, text: &str) {
        let chart = path.components().any(|c| c.as_os_str() == "templates");
        let plain = (text.contains("{{") && !chart).then(|| super::yaml::without_template_actions(text));
        let served = |doc: &Value| crate::kubernetes::workload::removed_api(doc).is_none();
        for doc in super::documents(plain.as_deref().unwrap_or(text)).filter(served) {
            containers(&doc, &mut self.containers, &path.display().to_string());
        }
    }
}

/// Kubernetes containers anywhere in a document (`containers`, `initContainers`), whatever the
/// workload's kind.
pub(super) fn containers(value: &Value, out: &mut Vec<Container>, file: &str) {
    match value {
        Value::Mapping(map) => {
            let pod_user = value.get("securityContext").and_then(|sc| sc.get("runAsUser")).and_then(Value::as_u64);
            // The pod's volumes whose files only root is known to write, by name: the node's
            // directories (hostPath), the node root's, and shares whose files keep the owners
            // their server gives them (NFS, CephFS), which get no fsGroup.
            let root_volumes: Vec<(&str, String)> = value
                .get("volumes")
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    let name = v.get("name")?.as_str()?;
                    if let Some(share) = crate::kubernetes::storage::inline_share(v) {
                        return Some((name, format!("writes to {share} ({name}), whose files keep the owners its server gives them (the kubelet gives it no fsGroup)")));
                    }
                    let path = v.get("hostPath")?.get("path")?.as_str()?;
                    Some((name, format!("mounts the node's {path} (hostPath), whose files are the node's root's")))
                })
                .collect();
            let sockets = socket_mounts(value, pod_user);
            for (key, child) in map {
                if matches!(key.as_str(), Some("containers" | "initContainers"))
                    && let Some(list) = child.as_sequence()
                {
                    for c in list {
                        let Some(image) = c.get("image").and_then(Value::as_str) else { continue };
                        let name = c.get("name").and_then(Value::as_str).unwrap_or("unnamed");
                        let origin = format!("{file} (container {name})");
                        let root_need = root_need(c, pod_user, &root_volumes)
                            .or_else(|| shared_socket(name, &sockets))
                            .map(|need| format!("{origin} {need}"));
                        let checks = EXEC_HANDLERS
                            .iter()
                            .filter_map(|path| {
                                let handler = path.iter().try_fold(c, |v, key| v.get(*key))?;
                                let words = handler.get("exec")?.get("command").and_then(words)?;
                                let origin = format!("{origin} {}", path.join("."));
                                Some(Command { origin, words, replaces_entrypoint: false })
                            })
                            .collect();
                        let args = c.get("args").and_then(words);
                        let command = Command::from_parts(&origin, c.get("command").and_then(words), args);
                        out.push(Container {
                            image: image_name(image),
                            reference: image.to_string(),
                            command,
                            checks,
                            root_need,
                        });
                    }
                } else {
                    containers(child, out, file);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| containers(v, out, file)),
        _ => {}
    }
}

/// The socket directories the pod's containers that choose no non-root user mount: each
/// volume's name with the container's.
fn socket_mounts(pod: &Value, pod_user: Option<u64>) -> Vec<(String, String)> {
    let lists = ["containers", "initContainers"].into_iter().filter_map(|k| pod.get(k)?.as_sequence());
    let userless = |c: &&Value| {
        let own = c.get("securityContext").and_then(|sc| sc.get("runAsUser")).and_then(Value::as_u64);
        own.or(pod_user).is_none_or(|uid| uid == 0)
    };
    lists
        .flatten()
        .filter(userless)
        .flat_map(|c| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("unnamed").to_string();
            let mounts = c.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
            mounts
                .filter_map(|m| Some((m.get("name")?.as_str()?, m.get("mountPath")?.as_str()?)))
                .filter(|(volume, path)| crate::kubernetes::storage::is_socket_mount(volume, path))
                .map(|(volume, _)| (volume.to_string(), name.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What a container that shares a socket directory with another that chooses no user (and so
/// may run as root) asks: a socket that one makes there is its user's, which another user may not
/// connect to.
fn shared_socket(container: &str, sockets: &[(String, String)]) -> Option<String> {
    let mine = sockets.iter().filter(|(_, c)| c == container);
    let (volume, other) =
        mine.into_iter().find_map(|(v, _)| sockets.iter().find(|(ov, oc)| ov == v && oc != container))?;
    Some(format!(
        "shares the socket volume {volume} with container {other}, which may run as root: a socket it makes there is its user's, which another user may not connect to"
    ))
}

/// What a container that chooses no non-root user asks that only root keeps: capabilities
/// beyond NET_BIND_SERVICE, or privileged mode (Kubernetes gives a non-root process none of
/// them), a port below 1024 its environment sets, or a volume only root is known to write
/// (`root_volumes`: the pod's hostPath volumes and shares by name, each with what the mount
/// means): a hostPath it mounts, a share it mounts writable.
fn root_need(container: &Value, pod_user: Option<u64>, root_volumes: &[(&str, String)]) -> Option<String> {
    let sc = container.get("securityContext");
    let user = sc.and_then(|sc| sc.get("runAsUser")).and_then(Value::as_u64).or(pod_user);
    if user.is_some_and(|uid| uid > 0) {
        return None;
    }
    let mounts = container.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
    // A share mounted read-only is only read; a hostPath's files are root's either way, but one
    // only read (the node's /etc/localtime) is the weakest reason: privileges and writes first.
    let mounted: Vec<(&str, bool)> = mounts
        .filter_map(|m| Some((m.get("name")?.as_str()?, m.get("readOnly").and_then(Value::as_bool) == Some(true))))
        .collect();
    let need = |read: bool| {
        mounted.iter().filter(|(_, read_only)| *read_only == read).find_map(|(mount, _)| {
            let (_, need) = root_volumes.iter().find(|(name, _)| name == mount)?;
            (!read || need.starts_with("mounts the node's")).then(|| need.clone())
        })
    };
    if crate::kubernetes::workload::is_privileged(container) {
        return Some("runs privileged, whose capabilities only root keeps".into());
    }
    if let Some(need) = need(false) {
        return Some(need);
    }
    let added = sc.and_then(|sc| sc.get("capabilities")).and_then(|c| c.get("add")).and_then(Value::as_sequence);
    let added: Vec<&str> =
        added.into_iter().flatten().filter_map(Value::as_str).filter(|c| *c != "NET_BIND_SERVICE").collect();
    let capabilities = match added.as_slice() {
        [] => None,
        [one] => Some(format!(
            "adds the capability {one}, which only root keeps (Kubernetes gives a non-root process no capabilities)"
        )),
        many => Some(format!(
            "adds the capabilities {}, which only root keeps (Kubernetes gives a non-root process no capabilities)",
            many.join(", ")
        )),
    };
    let listens = || {
        let (what, port) = crate::kubernetes::services::listen_env(container)?;
        Some(format!(
            "listens on port {port} ({what}), which some runtimes (CRI-O, containerd before 2.0) let no non-root user bind"
        ))
    };
    capabilities
        .or_else(listens)
        .or_else(|| need(true).map(|need| need.replacen("(hostPath)", "(hostPath, read-only)", 1)))
}

impl super::Repository {
    /// What the containers whose `command` starts one of `started` (a program a Dockerfile's
    /// image starts, `edgesite-agent` for `/edgesite-agent`) ask that only root keeps: a manifest
    /// that names the image otherwise (`edgesite-agent-amd64`, an image table in a script) still
    /// runs that Dockerfile's program.
    /// They join `needs`, each once.
    pub fn add_command_root_needs(&self, needs: &mut Vec<String>, started: &[String]) {
        let starts = |c: &&Container| {
            let first = c.command.as_ref().filter(|cmd| cmd.replaces_entrypoint).and_then(|cmd| cmd.words.first());
            first.is_some_and(|w| w.starts_with('/') && started.iter().any(|s| w.rsplit('/').next() == Some(s)))
        };
        for need in self.containers.iter().filter(starts).filter_map(|c| c.root_need.as_ref()) {
            if !needs.contains(need) {
                needs.push(need.clone());
            }
        }
    }
}
