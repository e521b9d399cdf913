//! Containers left alone for what they need of their user and their files: a data store with no
//! volume for its data, a shell command that writes outside its mounts, an image built here whose
//! Dockerfile keeps its program on root. harden's user (or read-only root) would stop each.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::workload::Workload;
use crate::rules;

/// Servers that keep data on disk, by image name (from any registry: `quay.io/fedora/mysql`,
/// `minio/minio`, `prom/prometheus`): without a volume they write into their image's own
/// directories, as their image's user.
const DATA_STORES: &[&str] = &[
    "minio",
    "prometheus",
    "grafana",
    "loki",
    "mysql",
    "mariadb",
    "postgres",
    "postgresql",
    "mongo",
    "mongodb",
    "redis",
    "valkey",
    "elasticsearch",
    "opensearch",
    "kafka",
    "zookeeper",
    "etcd",
    "rabbitmq",
    "cassandra",
    "clickhouse",
    "influxdb",
];

/// Data stores that write outside their data volume, and what they write there: a socket and pid
/// file under /var/run, a JVM's logs and keystore under its home.
const OUTSIDE_VOLUME_WRITERS: &[(&str, &str)] = &[
    ("mysql", "its socket and pid file under /var/run"),
    ("mariadb", "its socket and pid file under /var/run"),
    ("postgres", "its socket and pid file under /var/run"),
    ("postgresql", "its socket and pid file under /var/run"),
    ("elasticsearch", "its logs and keystore under /usr/share/elasticsearch"),
    ("opensearch", "its logs and keystore under /usr/share/opensearch"),
];

/// Web servers that write outside any volume wherever they run, by a word of the image's name
/// (`nginx`, `nginx-ingress`, `nginx-plus-ingress`, `openresty`): their caches, temporary files
/// and pid file. (`nginx-unprivileged` moves them all to /tmp; `nginx-prometheus-exporter` is
/// no web server.)
const WEB_SERVERS: &[(&str, &str)] = &[
    ("nginx", "its caches and temporary files under /var/cache/nginx and its pid file under /var/run"),
    ("openresty", "its temporary files under /usr/local/openresty/nginx and its pid file under /var/run"),
];

/// What a container whose image runs a web server of [`WEB_SERVERS`] writes, whoever builds it.
fn web_server_writes(image: &str) -> Option<String> {
    let name = crate::orchestration::image_name(image);
    let words: Vec<&str> = name.split(['-', '_', '.']).collect();
    // An exporter (`nginx-prometheus-exporter`) is a program of its own that asks the server.
    if words.iter().any(|w| matches!(*w, "unprivileged" | "exporter")) {
        return None;
    }
    let (server, what) = WEB_SERVERS.iter().find(|(server, _)| words.contains(server))?;
    Some(format!("{server} writes {what}"))
}

/// Data stores known by what their servers are given, not by their image's name (an image
/// built on `mysql:5.7` under a name of its own): the port they serve and the environment
/// variables only their server's entrypoint reads.
const SERVER_ENVIRONMENTS: &[(&str, u64, &[&str])] = &[
    ("mysql", 3306, &["MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD"]),
    ("mariadb", 3306, &["MARIADB_ROOT_PASSWORD", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MARIADB_RANDOM_ROOT_PASSWORD"]),
    ("postgres", 5432, &["PGDATA", "POSTGRES_INITDB_ARGS", "POSTGRES_HOST_AUTH_METHOD"]),
    ("mongo", 27017, &["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"]),
];

/// The data store a container runs (`redis` for `redis:7.4`; `mysql` for an image that serves
/// 3306 and is given `MYSQL_ROOT_PASSWORD`), when the repository does not build its image: it
/// writes its data, sockets and pid files into its image's own directories.
fn outside_data_store(container: &Value, image_users: &crate::kubernetes::ImageUsers) -> Option<String> {
    let name = crate::orchestration::image_name(container.get("image").and_then(Value::as_str)?);
    if image_users.contains_key(&name) {
        return None;
    }
    // A packager's name may carry the version (`quay.io/fedora/mysql-80`, `postgresql-16`).
    let store = match name.rsplit_once('-') {
        Some((store, version)) if version.chars().all(|c| c.is_ascii_digit()) => store,
        _ => name.as_str(),
    };
    if DATA_STORES.contains(&store) {
        return Some(store.to_string());
    }
    let seq = |key: &str| container.get(key).and_then(Value::as_sequence).cloned().unwrap_or_default();
    let ports: Vec<u64> = seq("ports").iter().filter_map(|p| p.get("containerPort")?.as_u64()).collect();
    let variables: Vec<String> = seq("env").iter().filter_map(|e| Some(e.get("name")?.as_str()?.to_string())).collect();
    SERVER_ENVIRONMENTS
        .iter()
        .find(|(_, port, names)| ports.contains(port) && variables.iter().any(|v| names.contains(&v.as_str())))
        .map(|(store, ..)| store.to_string())
}

/// True when a container mounts something writable other than /tmp.
fn mounts_writable(container: &Value) -> bool {
    let mounts = container.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
    mounts
        .filter(|m| m.get("readOnly").and_then(Value::as_bool) != Some(true))
        .any(|m| m.get("mountPath").and_then(Value::as_str).is_some_and(|p| p.trim_end_matches('/') != "/tmp"))
}

/// Why a container needs a writable root, when it does: it runs a web server (nginx writes its
/// caches under /var/cache/nginx), or a data store the repository does not build with nothing
/// writable mounted for its data, or one that writes beside the data volume (mysql's socket
/// under /var/run, opensearch's logs under its home).
pub(in crate::kubernetes) fn needs_writable_root(
    container: &Value,
    image_users: &crate::kubernetes::ImageUsers,
) -> Option<String> {
    let image = container.get("image").and_then(Value::as_str)?;
    if let Some(why) = web_server_writes(image) {
        return Some(why);
    }
    let store = outside_data_store(container, image_users)?;
    if !mounts_writable(container) {
        return Some(format!(
            "{store} writes its data into its image's own directories, and nothing writable is mounted for it"
        ));
    }
    let (_, what) = OUTSIDE_VOLUME_WRITERS.iter().find(|(name, _)| *name == store)?;
    Some(format!("{store} writes {what}, outside its data volume"))
}

/// The containers (not left alone already) that run a data store the repository does not build
/// with nothing writable mounted but /tmp, when nothing chooses their user: they write their data
/// into their image's directories as its user, which harden's user and read-only root would stop.
pub(in crate::kubernetes) fn unmounted_data_stores(
    workload: &Workload<'_>,
    alone: &[String],
    image_users: &crate::kubernetes::ImageUsers,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    super::leave_userless(workload, alone, findings, |c| {
        let image = c.value.get("image").and_then(Value::as_str)?;
        let name = outside_data_store(c.value, image_users)?;
        if mounts_writable(c.value) {
            return None;
        }
        let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        let message = format!(
            "{} runs {image}, {article} {name} server with nothing writable mounted for its data: it writes into its image's own directories as the image's user, which harden's user and read-only root would stop; the container is left alone; mount a volume at its data directory to harden it",
            c.who(workload)
        );
        Some((&rules::UNMOUNTED_DATA_STORE, message))
    })
}

/// The containers (not left alone already) that run an image the repository builds whose
/// Dockerfile keeps its program running as root (a low port, a root-owned directory it may write,
/// an entrypoint that drops privileges), or that a development tool (Tilt, DevSpace) builds as
/// root, when nothing in the manifest chooses a user: harden's user would break what its
/// Dockerfile analysis kept, or the development cluster's pods.
pub(in crate::kubernetes) fn root_image_built_here(
    workload: &Workload<'_>,
    alone: &[String],
    context: &crate::kubernetes::Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    super::leave_userless(workload, alone, findings, |c| {
        let image = c.value.get("image").and_then(Value::as_str)?;
        let key = context.image_key(image);
        // A development tool runs the manifest with its own build of the image: as root there,
        // harden's runAsNonRoot would stop the development cluster's pods.
        if let Some(how) = context.development_root_images.get(&key) {
            let message = format!(
                "{} runs {image}, which {how}: harden's runAsNonRoot would stop those development pods from starting; the container is left alone (a numeric USER in that Dockerfile lets harden harden it)",
                c.who(workload)
            );
            return Some((&rules::IMAGE_KEEPS_ROOT, message));
        }
        let Some((dockerfile, why)) = context.image_root.get(&key) else {
            return root_image_write(c, workload, image, &key, context);
        };
        // A container that moves the program off its low port (`--port=8443`) needs no root for it.
        let setting = context.image_port_settings.get(&key);
        if setting.and_then(|s| crate::kubernetes::services::set_port(c.value, s)).is_some_and(|p| p >= 1024) {
            return None;
        }
        let why = why.trim_end_matches("; the user is left as it is");
        let message = format!(
            "{} runs {image}, built by {}, whose program keeps root there ({why}); the container is left alone",
            c.who(workload),
            dockerfile.display()
        );
        Some((&rules::IMAGE_KEEPS_ROOT, message))
    })
}

/// Why a container of an image built here that runs as root, and stays so after harden's fix of
/// its Dockerfile, keeps its user: its program writes where nothing writable is mounted, into the
/// image's own directories, which root owns (custom-metrics-apiserver's self-signed certificates
/// under the working directory `/`).
fn root_image_write(
    c: &crate::kubernetes::workload::Container<'_>,
    workload: &Workload<'_>,
    image: &str,
    key: &str,
    context: &crate::kubernetes::Context,
) -> Option<(&'static rules::Rule, String)> {
    let writes = context.image_writes.get(key).filter(|_| context.images_staying_root.contains(key))?;
    let (dir, write) = crate::kubernetes::writes::unmounted_write(c.value, writes)?;
    let moved = write.flag.as_ref().map(|flag| format!(", or point {flag} at one,")).unwrap_or_default();
    // A privileged container keeps root for its privileges too (HK208): a volume would not do.
    let advice = match crate::kubernetes::workload::is_privileged(c.value) {
        true => "; it is privileged too (HK208), so a volume there would not harden it".to_string(),
        false => format!("; mount a volume there{moved} to harden it"),
    };
    let message = format!(
        "{} runs {image}, built here to run as root, and {}, where nothing writable is mounted ({dir}): in the image's own directories, which root owns, a user other than root could not write, so the container is left alone{advice}",
        c.who(workload),
        write.why
    );
    Some((&rules::IMAGE_KEEPS_ROOT, message))
}

/// The containers (not left alone already) whose `sh -c` command writes where nothing writable is
/// mounted, when nothing says who runs them (no user on the pod or the container, an image not
/// built here): they run as their image's user, root for most images, and harden's user could
/// not write there.
pub(in crate::kubernetes) fn script_write_containers(
    workload: &Workload<'_>,
    alone: &[String],
    context: &crate::kubernetes::Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    super::leave_userless(workload, alone, findings, |c| {
        let image = c.value.get("image").and_then(Value::as_str).map(|i| context.image_key(i));
        if image.is_some_and(|i| context.image_users.contains_key(&i)) {
            return None;
        }
        let (dir, write) = crate::kubernetes::writes::script_write(c.value)?;
        let message = format!(
            "{} sets no user, and {}, where nothing writable is mounted ({dir}): a user other than its image's could not write there, so the container is left alone; write under a mounted volume (an emptyDir) instead",
            c.who(workload),
            write.why
        );
        Some((&rules::SHELL_COMMAND_WRITES, message))
    })
}
