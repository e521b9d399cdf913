//! Containers that listen on a port below 1024 and choose no user: harden's non-root user could
//! not bind it on every runtime.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::services::{listen_argument, listen_env};
use crate::kubernetes::workload::{Container, Workload};
use crate::rules;

/// The containers (not left alone already) that listen on a port below 1024, by a
/// `containerPort` or a probe's port, and choose no user: harden's non-root user could not bind
/// it on every runtime (CRI-O, or containerd before 2.0). Each is reported.
pub(in crate::kubernetes) fn privileged_port_containers(
    workload: &Workload<'_>,
    alone: &[String],
    context: &crate::kubernetes::Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    super::leave_userless(workload, alone, findings, |c| {
        // A binary given NET_BIND_SERVICE by setcap binds low ports as any user.
        let image = c.value.get("image").and_then(Value::as_str).unwrap_or_default();
        if context.file_capabilities(image).is_some_and(|(_, _, caps)| caps.iter().any(|c| c == "NET_BIND_SERVICE")) {
            return None;
        }
        let ports: Vec<(Option<&str>, u64)> = c
            .value
            .get("ports")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get("name").and_then(Value::as_str), p.get("containerPort")?.as_u64()?)))
            .collect();
        let probe_port = ["livenessProbe", "readinessProbe", "startupProbe"].iter().find_map(|probe| {
            let handler = c.value.get(*probe)?;
            let port = ["httpGet", "tcpSocket", "grpc"].iter().find_map(|h| handler.get(*h)?.get("port"))?;
            let number = port.as_u64().or_else(|| {
                let name = port.as_str()?;
                ports.iter().find(|(n, _)| *n == Some(name)).map(|(_, p)| *p)
            })?;
            Some((format!("its {probe}"), number))
        });
        // A container that declares no port may still be the one a Service sends to, unless
        // another container of the pod declares that port.
        let declared = |port: u64| {
            workload
                .containers
                .iter()
                .flat_map(|o| o.value.get("ports").and_then(Value::as_sequence))
                .flatten()
                .any(|p| p.get("containerPort").and_then(Value::as_u64) == Some(port))
        };
        // Nor when another container's command names the port (`--addr=0.0.0.0:443`).
        let named_by = |o: &Container<'_>, port: u64| listen_argument(o.value, port).is_some();
        let named_elsewhere =
            |port: u64| workload.containers.iter().any(|o| o.name != c.name && named_by(o, port)) && !named_by(c, port);
        let served = workload
            .service_ports
            .iter()
            .filter(|(_, port)| ports.is_empty() && !declared(*port) && !named_elsewhere(*port))
            .map(|(service, port)| (format!("the Service {service} sends to it"), *port));
        let (what, port) = ports
            .iter()
            .map(|(_, p)| ("containerPort".to_string(), *p))
            .chain(probe_port)
            .chain(listen_env(c.value))
            .chain(served)
            .find(|(_, port)| (1..1024).contains(port))?;
        // The argument that makes the program bind it (`--secure-port=443`) is what to change.
        let (what, how) = match listen_argument(c.value, port) {
            Some(argument) => {
                // A flag (`--secure-port=443`) is what to set; a bare address is the argument itself.
                let flag = argument.split_once('=').filter(|_| argument.starts_with('-'));
                let how = flag.map(|(flag, _)| format!(" (set {flag})")).unwrap_or_default();
                (format!("its argument `{argument}`"), how)
            }
            // Or the image's own flag or variable (`-port`), whose default is the low port.
            None => {
                let setting = context.image_port_settings.get(&context.image_key(image));
                (what, setting.map(|s| format!(" (set {s}, which its program's port comes from)")).unwrap_or_default())
            }
        };
        // The port of an image built elsewhere is its program's: moved only where it lets it.
        let move_it = match context.images_read && !context.builds(image) {
            true => "where its image lets it (nothing here builds it), move it",
            false => "move it",
        };
        let message = format!(
            "{} listens on port {port} ({what}): some runtimes (CRI-O, containerd before 2.0) let no non-root user bind a port below 1024; the container is left alone; {move_it} to a port of 1024 or more{how} and map it with the Service's targetPort",
            c.who(workload)
        );
        Some((&rules::PRIVILEGED_PORT_CONTAINER, message))
    })
}
