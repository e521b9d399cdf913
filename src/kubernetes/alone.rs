//! What leaves a workload or a container alone, with the finding that says why: the host's
//! namespaces, paths and ports; a command that needs root; a Windows pod; an official image that
//! starts as root; and the opt-outs a repository asks for.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::rules::{self, Rule};

use super::kustomize::Effect;
use super::workload::{Container, SKIP_CONTAINERS_ANNOTATION, Workload};

mod capabilities;
mod others;
mod ports;
pub(super) mod s6_overlay;
mod volumes;
mod writers;

pub(super) use capabilities::file_capability_containers;
pub(super) use others::{another_projects_image, origin, others_images};
pub(super) use ports::privileged_port_containers;
pub(super) use volumes::{socket_sharing_containers, volume_owner_containers};
pub(super) use writers::{needs_writable_root, root_image_built_here, script_write_containers, unmounted_data_stores};

/// Official images (Docker Hub's library, or a mirror of it) whose entrypoint starts as root to
/// prepare its data directory or bind a low port, then drops to its own user: harden's user,
/// dropped capabilities and read-only root would stop them.
const STARTS_AS_ROOT: &[&str] = &[
    "postgres",
    "mysql",
    "mariadb",
    "mongo",
    "redis",
    "rabbitmq",
    "nginx",
    "httpd",
    "cassandra",
    "zookeeper",
    "wordpress",
];

/// The official image a reference names, when it is one that starts as root: `postgres:16`,
/// `docker.io/library/postgres`, `mirror.example/library/postgres@sha256:…`; not
/// `ghcr.io/acme/postgres`, which is someone's own image.
fn starts_as_root(image: &str) -> Option<&'static str> {
    let path = image.split('@').next()?;
    let parts: Vec<&str> = path.split('/').collect();
    let last = parts.last()?.split(':').next()?;
    let official = match parts.as_slice() {
        [_] => true,
        [first, _] => matches!(*first, "library" | "docker.io" | "index.docker.io"),
        [.., library, _] => *library == "library",
        [] => false,
    };
    STARTS_AS_ROOT.iter().find(|name| official && last.eq_ignore_ascii_case(name)).copied()
}

/// Programs that need root (or a capability harden drops) to do their job.
const ROOT_PROGRAMS: &[&str] = &[
    "chown",
    "chgrp",
    "setcap",
    "useradd",
    "adduser",
    "groupadd",
    "addgroup",
    "apt-get",
    "apt",
    "apk",
    "yum",
    "dnf",
    "microdnf",
    "sysctl",
    "mount",
    "iptables",
    "ip6tables",
    "nft",
];

/// Package installers a container runs at start: they write into the image (site-packages, a
/// global node_modules), which a read-only root filesystem and a non-root user forbid.
const INSTALLERS: &[&str] = &["pip", "pip3", "gem", "npm", "yarn"];

/// Reports the containers whose command or arguments run a program that needs root; `Some`
/// when there is one and the workload must be left alone.
pub(super) fn root_commands(workload: &Workload<'_>, findings: &mut Vec<Finding>) -> Option<()> {
    let mut found = None;
    for c in &workload.containers {
        let words = ["command", "args"]
            .iter()
            .filter_map(|key| c.value.get(*key).and_then(Value::as_sequence))
            .flatten()
            .filter_map(Value::as_str)
            .flat_map(|arg| arg.split(|ch: char| ch.is_whitespace() || ";&|()`".contains(ch)));
        // A container already run by a user other than root runs them as that user: what they
        // need is not root, and harden does not change the user (zookeeper's `chown` of the data
        // directories it just made, as uid 1000).
        let user = |v: &Value| v.get("securityContext")?.get("runAsUser")?.as_u64();
        let non_root = user(c.value).or_else(|| user(workload.pod_value)).is_some_and(|uid| uid != 0);
        let program = words.map(|word| word.rsplit('/').next().unwrap_or(word)).find_map(|word| {
            let root = ROOT_PROGRAMS.iter().filter(|_| !non_root).find(|p| **p == word);
            root.map(|p| (*p, "needs root"))
                .or_else(|| INSTALLERS.iter().find(|p| **p == word).map(|p| (*p, "installs into the image at start")))
        });
        // A mode change needs the file's owner: root, for what the image or a volume holds.
        let chmod = || {
            let command = crate::kubernetes::writes::script_owner_change(c.value)?;
            Some(format!("`{command}` on a file it did not make, which only the file's owner or root may do"))
        };
        let message = match program {
            Some((program, why)) => Some(format!("{program}, which {why}")),
            None => chmod(),
        };
        if let Some(what) = message {
            let message = format!("{} runs {what}; the workload is left alone", c.who(workload));
            findings.push(Finding::new(&rules::ROOT_COMMAND, c.line, message));
            found = Some(());
        }
    }
    found
}

/// The finding for a Windows pod, which the Linux rules do not fit; `None` for a Linux pod.
pub(super) fn windows_pod(workload: &Workload<'_>) -> Option<Finding> {
    let pod = workload.pod_value;
    let os = pod.get("os").and_then(|o| o.get("name")).and_then(Value::as_str);
    // The label's name before Kubernetes 1.14 (`beta.kubernetes.io/os`) still selects.
    let selector = pod.get("nodeSelector");
    let selected = ["kubernetes.io/os", "beta.kubernetes.io/os"]
        .iter()
        .find_map(|label| selector.and_then(|n| n.get(*label)).and_then(Value::as_str));
    let how = match (os, selected) {
        (Some(os), _) if os.eq_ignore_ascii_case("windows") => "os.name",
        (_, Some(sel)) if sel.eq_ignore_ascii_case("windows") => "its node selector",
        _ => return None,
    };
    let message = format!("{} runs on Windows ({how}); the workload is left alone", workload.id());
    Some(Finding::new(&rules::WINDOWS_POD, workload.line, message))
}

/// Reports what ties the workload to the host; `Some` when it must be left alone.
pub(super) fn host_needs(workload: &Workload<'_>, findings: &mut Vec<Finding>) -> Option<()> {
    let pod = workload.pod_value;
    let id = workload.id();
    let mut host = None;
    let left_alone = "; the workload is left alone";
    // Each finding at the key it is about (`hostNetwork:`, `privileged:`), where a reviewer looks.
    let at = |node, path: &[&str], or: usize| workload.key_line(node, path).unwrap_or(or);
    // Why a node's namespace ties the pod to root: what a node agent does there. A pod of
    // another kind (a cloud controller that starts before the pod network) is no agent, and
    // what it does there is not known.
    let network = match workload.kind {
        "DaemonSet" => {
            "in the node's network a node agent may bind the node's low ports or change its routes or rules, which asks root or capabilities, and whether this one does harden cannot tell from here"
        }
        _ => {
            "in the node's network its program shares the node's ports and interfaces, and whether it binds a low port or changes routes or rules there, which asks root or capabilities, harden cannot tell from here"
        }
    };
    let namespaces = [
        ("hostNetwork", network),
        ("hostPID", "it sees the node's processes, which a node agent inspects or signals as root"),
        ("hostIPC", "it shares the node's IPC, as a node agent working with the node's own processes does"),
    ];
    for (key, why) in namespaces {
        if pod.get(key).and_then(Value::as_bool) == Some(true) {
            findings.push(Finding::new(
                &rules::HOST_NAMESPACE,
                at(workload.pod, &[key], workload.line),
                format!("{id} sets {key}: true{left_alone}: {why}"),
            ));
            host = Some(());
        }
    }
    // One finding names every hostPath volume (a node agent mounts a dozen).
    let volumes = pod.get("volumes").and_then(Value::as_sequence).into_iter().flatten().enumerate();
    let (indices, host_paths): (Vec<usize>, Vec<&str>) = volumes
        .filter(|(_, v)| v.get("hostPath").is_some())
        .map(|(i, v)| (i, v.get("name").and_then(Value::as_str).unwrap_or("unnamed")))
        .unzip();
    let first_host_path = (indices.first().and_then(|i| workload.pod.get("volumes")?.items().get(*i)))
        .and_then(|volume| workload.key_line(volume, &["hostPath"]));
    if let Some((last, others)) = host_paths.split_last() {
        let names = match others {
            [] => format!("volume {last}"),
            _ => format!("volumes {} and {last}", others.join(", ")),
        };
        findings.push(Finding::new(
            &rules::HOST_PATH,
            first_host_path.unwrap_or(workload.line),
            format!(
                "{id} mounts hostPath {names}{left_alone}: the node's files are root's, often for root alone to read, and what its program reads or writes there may need root"
            ),
        ));
        host = Some(());
    }
    for c in &workload.containers {
        if super::workload::is_privileged(c.value) {
            findings.push(Finding::new(
                &rules::PRIVILEGED,
                at(c.node, &["securityContext", "privileged"], c.line),
                format!(
                    "{} is privileged{left_alone}: it has every capability and the node's devices, and which of them its program uses harden cannot tell (once you know, drop privileged and add only those capabilities)",
                    c.who(workload)
                ),
            ));
            host = Some(());
        }
        for (i, port) in c.value.get("ports").and_then(Value::as_sequence).into_iter().flatten().enumerate() {
            if let Some(hp) = port.get("hostPort").and_then(Value::as_u64).filter(|&p| p != 0) {
                let item = c.node.get("ports").and_then(|ports| ports.items().get(i));
                // The node's port, not one the container binds: said as such.
                let own = match port.get("containerPort").and_then(Value::as_u64) {
                    Some(cp) => format!(" for its port {cp}"),
                    None => String::new(),
                };
                findings.push(Finding::new(
                    &rules::HOST_PORT,
                    item.and_then(|port| workload.key_line(port, &["hostPort"])).unwrap_or(c.line),
                    format!(
                        "{} takes port {hp} of its node (hostPort){own}, as node agents and ingress daemons do{left_alone}",
                        c.who(workload)
                    ),
                ));
                host = Some(());
            }
        }
    }
    host
}

/// The `runAsUser` a container sets, and the one its pod sets.
fn run_as_user(workload: &Workload<'_>, c: &Container<'_>) -> (Option<u64>, Option<u64>) {
    let user = |v: Option<&Value>| v.and_then(|sc| sc.get("runAsUser")).and_then(Value::as_u64);
    (user(c.value.get("securityContext")), user(workload.pod_value.get("securityContext")))
}

/// The containers (not opted out already) that run an official image starting as root, each
/// reported. One the manifest already runs as a non-root user (`runAsUser: 999` on it or its
/// pod) does not start as root: the entrypoint has no user to drop to, and it is hardened.
pub(super) fn root_image_containers(
    workload: &Workload<'_>,
    skipped: &[String],
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let mut names = Vec::new();
    for c in workload.containers.iter().filter(|c| !skipped.contains(&c.name)) {
        let (own, pod) = run_as_user(workload, c);
        if own.or(pod).is_some_and(|uid| uid > 0) {
            continue;
        }
        let Some(image) = c.value.get("image").and_then(Value::as_str) else { continue };
        let Some(official) = starts_as_root(image) else { continue };
        // A `command` replaces the entrypoint that would drop to the image's user: the program
        // then runs as root throughout, and which user it could run as is not known here.
        // A fresh volume's root is root's: the user it is given writes there only as its group.
        let volume = match c.persistent_mount(workload) {
            Some(path) => format!(", with an fsGroup that gives it the volume it may write at {path},"),
            None => String::new(),
        };
        let message = match c.value.get("command") {
            Some(_) => format!(
                "{} runs {image} with a command of its own, which replaces {official}'s entrypoint (the one that starts as root and drops to {official}'s user): it runs as root throughout, and harden cannot tell which user it needs; the container is left alone (set runAsUser to {official}'s user{volume} and harden hardens the rest)",
                c.who(workload)
            ),
            None => format!(
                "{} runs {image}: {official}'s entrypoint starts as root and then drops to its own user; the container is left alone",
                c.who(workload)
            ),
        };
        findings.push(Finding::new(&rules::IMAGE_STARTS_AS_ROOT, c.line, message));
        names.push(c.name.clone());
    }
    names
}

/// The containers (not left alone already) that run as root on purpose: `runAsUser: 0` on the
/// container, or on the pod for a container that sets no user of its own. A program run as root
/// may need what root has (capabilities to bind a low port or change its user, a writable root
/// filesystem): dropping them would stop it, so the container is left alone. Each that sets it
/// itself is reported; the pod's finding speaks for those that take the pod's.
pub(super) fn explicit_root_containers(
    workload: &Workload<'_>,
    alone: &[String],
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let mut names = Vec::new();
    for c in workload.containers.iter().filter(|c| !alone.contains(&c.name)) {
        match run_as_user(workload, c) {
            (Some(0), _) => {}
            // The pod's own finding says it for the containers that take its user.
            (None, Some(0)) => {
                names.push(c.name.clone());
                continue;
            }
            _ => continue,
        }
        // One that already drops them and keeps its root read-only has nothing left to lose.
        let sc = c.value.get("securityContext");
        let drops_all = sc.and_then(|s| s.get("capabilities")).and_then(|k| k.get("drop")).and_then(Value::as_sequence);
        let drops_all =
            drops_all.is_some_and(|d| d.iter().any(|c| c.as_str().is_some_and(|c| c.eq_ignore_ascii_case("ALL"))));
        let read_only = sc.and_then(|s| s.get("readOnlyRootFilesystem")).and_then(Value::as_bool) == Some(true);
        let why = match (super::workload::is_privileged(c.value), drops_all && read_only) {
            // A privileged container has every capability whatever it drops.
            (true, _) => "it is privileged, which gives it every capability whatever it drops, and is left as it is",
            (false, true) => {
                "it already drops ALL capabilities and keeps its root filesystem read-only, and is left as it is"
            }
            (false, false) => {
                "it is left alone: dropping its capabilities or making its root filesystem read-only could stop a program that needs root"
            }
        };
        let message = format!("{} runs as root on purpose (runAsUser: 0); {why}", c.who(workload));
        findings.push(Finding::new(&rules::EXPLICIT_ROOT, c.line, message));
        names.push(c.name.clone());
    }
    names
}

/// Leaves alone each container (not left alone already) for which `why` gives the rule and
/// message that say why: the findings are recorded, and the containers' names returned.
pub(super) fn leave_each(
    workload: &Workload<'_>,
    alone: &[String],
    findings: &mut Vec<Finding>,
    why: impl Fn(&Container<'_>) -> Option<(&'static Rule, String)>,
) -> Vec<String> {
    let mut names = Vec::new();
    for c in workload.containers.iter().filter(|c| !alone.contains(&c.name)) {
        if let Some((rule, message)) = why(c) {
            findings.push(Finding::new(rule, c.line, message));
            names.push(c.name.clone());
        }
    }
    names
}

/// [`leave_each`] of the containers for which neither the pod nor the container chooses a user,
/// where `why` says why harden's user would break it.
pub(super) fn leave_userless(
    workload: &Workload<'_>,
    alone: &[String],
    findings: &mut Vec<Finding>,
    why: impl Fn(&Container<'_>) -> Option<(&'static Rule, String)>,
) -> Vec<String> {
    let pod_user = workload.pod_value.get("securityContext").is_some_and(chooses_user);
    leave_each(workload, alone, findings, |c| {
        let own_user = c.value.get("securityContext").is_some_and(chooses_user);
        (!pod_user && !own_user).then(|| why(c)).flatten()
    })
}

/// A workload a kustomize patch runs as root (`runAsUser: 0`: the kubelet refuses a container
/// that runs as root under harden's `runAsNonRoot`), or whose securityContext, volumes or
/// volume mounts a patch replaces whole (what harden adds there would be dropped where it is
/// built): the workload is left alone, reported.
pub(super) fn patched(
    workload: &Workload<'_>,
    context: &crate::kubernetes::Context,
    findings: &mut Vec<Finding>,
) -> Option<()> {
    // Running as root says the most: it wins over a replaced field.
    let applying = || context.patched.iter().filter(|p| p.applies_to(&workload.name));
    let patch =
        applying().find(|p| p.effect == Effect::Root).or_else(|| applying().find(|p| p.effect == Effect::Replaces))?;
    let (rule, why) = match patch.effect {
        Effect::Root => (&rules::EXPLICIT_ROOT, "runAsNonRoot would stop its pods from starting"),
        _ => (&rules::KUSTOMIZE_REPLACES, "what harden adds there would be dropped where kustomize builds it"),
    };
    let message =
        format!("{} is patched by kustomize: {}; the workload is left alone, as {why}", workload.id(), patch.what);
    findings.push(Finding::new(rule, workload.line, message));
    Some(())
}

/// The containers (not left alone already) whose seccomp profile is `Unconfined` in so many
/// words, on themselves or on the pod: what they do needs every system call (rootless BuildKit,
/// a debugger), so harden's profile, dropped capabilities or blocked escalation would stop them.
pub(super) fn unconfined_containers(
    workload: &Workload<'_>,
    alone: &[String],
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let unconfined = |sc: Option<&Value>| {
        sc.and_then(|s| s.get("seccompProfile")).and_then(|p| p.get("type")).and_then(Value::as_str)
            == Some("Unconfined")
    };
    let pod = unconfined(workload.pod_value.get("securityContext"));
    leave_each(workload, alone, findings, |c| {
        (pod || unconfined(c.value.get("securityContext"))).then(|| {
            let message = format!(
                "{} asks for seccompProfile Unconfined on purpose (rootless builders and debuggers need every system call); the container is left alone",
                c.who(workload)
            );
            (&rules::SECCOMP, message)
        })
    })
}

/// True when a security context chooses the user: `runAsUser` set, or `runAsNonRoot: true`.
fn chooses_user(sc: &Value) -> bool {
    sc.get("runAsUser").is_some_and(|u| !u.is_null()) || sc.get("runAsNonRoot").and_then(Value::as_bool) == Some(true)
}

/// The containers the repository opts out of this workload (annotation or configuration).
pub(super) fn skipped_containers(workload: &Workload<'_>, skip: &[String]) -> Vec<String> {
    let id = workload.id();
    let mut names: Vec<String> = workload
        .annotation(SKIP_CONTAINERS_ANNOTATION)
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    names.extend(skip.iter().filter_map(|s| s.strip_prefix(&format!("{id}/"))).map(str::to_string));
    names
}

#[cfg(test)]
mod tests {
    use super::starts_as_root;
    use crate::config::Config;
    use crate::outcome::Outcome;

    /// The HK217 messages and whether the file is rewritten, for a pod whose one container runs
    /// `command`.
    fn root_command(command: &str) -> (Vec<String>, bool) {
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: ghcr.io/acme/c:1\n    command: {command}\n"
        );
        let Ok(Outcome::Hardened { findings, rewritten, .. }) = crate::kubernetes::harden(&text, &Config::default())
        else {
            panic!("{text}")
        };
        let messages = findings.iter().filter(|f| f.rule == "HK217").map(|f| f.message.clone()).collect();
        (messages, rewritten.is_some())
    }

    #[test]
    fn a_command_that_needs_root_leaves_the_workload_alone() {
        for (command, program) in [
            (r#"["sh", "-c", "chown -R 1000:1000 /data"]"#, "chown"),
            (r#"["/bin/sh", "-c", "apt-get update && apt-get install -y curl"]"#, "apt-get"),
            (r#"["/usr/sbin/setcap", "cap_net_bind_service=+ep", "/app"]"#, "setcap"),
            (r#"["sh", "-c", "sysctl -w net.core.somaxconn=1024;exec /app"]"#, "sysctl"),
        ] {
            let (messages, rewritten) = root_command(command);
            assert_eq!(messages.len(), 1, "{command}: {messages:?}");
            assert!(messages[0].contains(&format!("runs {program}, which needs root")), "{messages:?}");
            assert!(!rewritten, "{command}");
        }
        for command in [r#"["/app", "--mount", "/data", "--owner", "chowner"]"#, r#"["/app", "serve"]"#] {
            let (messages, rewritten) = root_command(command);
            assert!(messages.is_empty() && rewritten, "{command}: {messages:?}");
        }
    }

    #[test]
    fn official_images_that_start_as_root_are_known_by_their_reference() {
        for image in [
            "postgres:16",
            "postgres",
            "docker.io/library/postgres:16-alpine",
            "docker.io/nginx:1.27",
            "library/redis:7",
            "mirror.example.com/library/mysql@sha256:0123",
            "registry.acme.io:5000/library/rabbitmq:3-management",
        ] {
            assert!(starts_as_root(image).is_some(), "{image}");
        }
        for image in [
            "ghcr.io/acme/postgres:16",
            "bitnami/postgresql:16",
            "nginxinc/nginx-unprivileged:1.27",
            "acme/redis",
            "busybox:1.36",
            "ghcr.io/acme/api:v1.4.2",
        ] {
            assert_eq!(starts_as_root(image), None, "{image}");
        }
    }
}
