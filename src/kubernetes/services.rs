//! The ports below 1024 a pod's program binds without its container declaring them: those of
//! the Services of a file that send traffic to a workload's pods (a numbered target port, or,
//! without one, the Service's own port), and those its environment tells it to listen on.

use yaml_serde::Value;

use super::workload::Workload;

/// The (Service name, port) of each Service in `docs` whose selector picks the workload's pods
/// and whose traffic goes to a numbered port below 1024.
pub fn low_ports(docs: &[Value], workload: &Workload<'_>) -> Vec<(String, u64)> {
    let Some(labels) = pod_labels(&docs[workload.doc], workload.pod_path) else { return Vec::new() };
    let mut found = Vec::new();
    for service in docs.iter().filter(|d| d.get("kind").and_then(Value::as_str) == Some("Service")) {
        let spec = service.get("spec");
        let Some(selector) = spec.and_then(|s| s.get("selector")).and_then(Value::as_mapping) else { continue };
        let picks = !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v));
        if !picks {
            continue;
        }
        let name = service.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("unnamed");
        for port in spec.and_then(|s| s.get("ports")).and_then(Value::as_sequence).into_iter().flatten() {
            // A named target port is a containerPort's name: the container says it itself.
            let target = match port.get("targetPort") {
                Some(target) => target.as_u64(),
                None => port.get("port").and_then(Value::as_u64),
            };
            if let Some(target) = target.filter(|p| (1..1024).contains(p)) {
                found.push((name.to_string(), target));
            }
        }
    }
    found
}

/// The labels of the pods a workload makes: the `metadata` beside its pod spec.
fn pod_labels<'v>(doc: &'v Value, pod_path: &[&str]) -> Option<&'v yaml_serde::Mapping> {
    let template = pod_path[..pod_path.len().saturating_sub(1)].iter().try_fold(doc, |v, key| v.get(*key))?;
    template.get("metadata")?.get("labels")?.as_mapping()
}

/// The word of a container's command that names the port `port` it listens on: an address
/// (`0.0.0.0:443`, `--addr=0.0.0.0:443`) or a flag's value (`--secure-port=443`).
pub fn listen_argument(container: &Value, port: u64) -> Option<&str> {
    let flag_value = |w: &&str| w.starts_with('-') && w.ends_with(&format!("={port}"));
    super::writes::words(container).into_iter().find(|w| w.ends_with(&format!(":{port}")) || flag_value(w))
}

/// A port below 1024 a container's environment tells its program to listen on (`PORT=443`,
/// `LISTEN_ADDR=:443`, `HTTPS_PORT`), as what says so and the port.
pub fn listen_env(container: &Value) -> Option<(String, u64)> {
    let mut env = container.get("env").and_then(Value::as_sequence).into_iter().flatten();
    env.find_map(|e| {
        let name = e.get("name")?.as_str()?;
        let upper = name.to_ascii_uppercase();
        let listens = upper == "PORT"
            || ["LISTEN", "BIND"].iter().any(|w| upper.contains(w))
            || ["SERVER_PORT", "HTTP_PORT", "HTTPS_PORT"].iter().any(|w| upper.ends_with(w));
        let value = e.get("value")?;
        let text = value.as_str().map(str::to_string).or_else(|| value.as_u64().map(|n| n.to_string()))?;
        let port = text.rsplit(':').next()?.parse().ok().filter(|p| (1..1024).contains(p))?;
        listens.then(|| (format!("its environment's {name}={text}"), port))
    })
}

/// The port a container sets with `setting`, the flag (`-port`) or variable (`PORT`) its
/// program's port comes from, when it sets one (`--port=8443`, `PORT=:8443`).
pub fn set_port(container: &Value, setting: &str) -> Option<u64> {
    let value = match setting.starts_with('-') {
        true => super::writes::flag_value(&super::writes::words(container), setting)?.to_string(),
        false => {
            let mut env = container.get("env").and_then(Value::as_sequence).into_iter().flatten();
            let value = env.find(|e| e.get("name").and_then(Value::as_str) == Some(setting))?.get("value")?;
            value.as_str().map(str::to_string).or_else(|| value.as_u64().map(|n| n.to_string()))?
        }
    };
    value.rsplit(':').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(yaml: &str) -> Value {
        yaml_serde::from_str(yaml).expect("test YAML")
    }

    #[test]
    fn a_port_set_by_flag_or_variable_is_read_in_every_form() {
        let flags = container("args: [--listen=0.0.0.0:8443, -port, '9443']\nenv: [{name: PORT, value: 8080}]");
        assert_eq!(set_port(&flags, "-listen"), Some(8443));
        assert_eq!(set_port(&flags, "-port"), Some(9443));
        assert_eq!(set_port(&flags, "PORT"), Some(8080));
        assert_eq!(set_port(&flags, "-addr"), None);
        assert_eq!(set_port(&container("env: [{name: ADDR, value: ':443'}]"), "ADDR"), Some(443));
    }
}
