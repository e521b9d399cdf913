//! Containers whose volumes' owner harden cannot give to a user it chooses: a raw block device
//! (`volumeDevices`, a claim in `volumeMode: Block`), which the kubelet gives no fsGroup, so it
//! stays root's and the disk group's; an inline CSI volume, whose files its driver writes with
//! owners and modes of its own (cert-manager's csi-driver: root's, 0440, unless the volume asks
//! for a group), which the kubelet gives fsGroup only where the driver asks; and a volume mounted
//! in root's home (`/root`), where the program looks for what it reads as `$HOME`, which another
//! user's home is not; and a share whose files keep the owners its server gives them (NFS,
//! CephFS, GlusterFS), which the kubelet gives no fsGroup either.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::Context;
use crate::kubernetes::storage::{inline_share, is_socket_mount};
use crate::kubernetes::workload::Workload;
use crate::rules;

/// The containers (not left alone already) whose volumes no user harden chooses could use: a raw
/// block device, an inline CSI volume, a mount in root's home, a share that keeps its server's
/// owners. Each is reported and left alone.
pub(in crate::kubernetes) fn volume_owner_containers(
    workload: &Workload<'_>,
    alone: &[String],
    context: &Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let mut names = block_device_containers(workload, alone, findings);
    let seen = |names: &[String]| [alone, names].concat();
    names.extend(inline_csi_containers(workload, &seen(&names), findings));
    names.extend(root_home_containers(workload, &seen(&names), findings));
    names.extend(share_containers(workload, &seen(&names), context, findings));
    names
}

/// The containers (not left alone already) that write to a share whose files keep the owners
/// its server gives them (an inline `nfs:` volume, a claim bound to an NFS PersistentVolume or
/// provisioner here) while neither they nor their pod choose a user, nor does an image built here
/// with a non-root user: each is reported and left alone, as fsGroup does not reach such a share
/// and no user harden chooses is known to write it.
fn share_containers(
    workload: &Workload<'_>,
    alone: &[String],
    context: &Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let volumes = workload.pod_value.get("volumes").and_then(Value::as_sequence).into_iter().flatten();
    let mut shares: Vec<(&str, String)> = volumes
        .filter_map(|v| {
            let name = v.get("name")?.as_str()?;
            if let Some(what) = inline_share(v) {
                return Some((name, what.to_string()));
            }
            let claim = v.get("persistentVolumeClaim")?.get("claimName")?.as_str()?;
            Some((name, context.unowned_claims.get(claim)?.clone()))
        })
        .collect();
    for (name, class) in &workload.claim_templates {
        if let Some(what) = class.as_ref().and_then(|c| context.unowned_classes.get(c)) {
            shares.push((name, format!("the claim template {name}, of {what}")));
        }
    }
    super::leave_userless(workload, alone, findings, |c| {
        // An image built here with a non-root user keeps it: no owner changes.
        let image = c.value.get("image").and_then(Value::as_str).unwrap_or_default();
        if context.image_user(image).is_some_and(|u| u.split(':').next() != Some("0")) {
            return None;
        }
        let mounts = c.value.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
        let writable = mounts.filter(|m| m.get("readOnly").and_then(Value::as_bool) != Some(true));
        let mounted: Vec<String> = writable
            .filter_map(|m| shares.iter().find(|(name, _)| Some(*name) == m.get("name").and_then(Value::as_str)))
            .map(|(name, what)| format!("{name} ({what})"))
            .collect();
        (!mounted.is_empty()).then(|| (&rules::SHARED_VOLUME, format!(
            "{} writes to the volume {}: the kubelet gives such a share no fsGroup (its files keep the owners its server gives them), so no user harden chooses is known to write it; the container is left alone (run it as the user that owns the share's files, or have the server map its writes to that user)",
            c.who(workload),
            mounted.join(", ")
        )))
    })
}

/// The containers (not left alone already, choosing no user) that share a socket directory (a
/// volume named or mounted for sockets: `socket-dir`, `/csi`, `/var/run/sock`) with a container
/// left alone that chooses no user either, and so may run as root: a socket either of them makes
/// there is its user's (mode 755 under the usual umask), and a process of another user may not
/// connect to it (a CSI driver's endpoint, and its sidecar). Each is reported and left alone.
pub(in crate::kubernetes) fn socket_sharing_containers(
    workload: &Workload<'_>,
    alone: &[String],
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    let pod_user = workload.pod_value.get("securityContext").is_some_and(super::chooses_user);
    let mounts = |c: &Value| -> Vec<(String, String)> {
        let mounts = c.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
        mounts
            .filter_map(|m| Some((m.get("name")?.as_str()?.to_string(), m.get("mountPath")?.as_str()?.to_string())))
            .collect()
    };
    let is_socket = |(name, path): &(String, String)| is_socket_mount(name, path);
    // The socket directories of the containers left alone that choose no user, with who they are.
    let rooted: Vec<(String, String)> = workload
        .containers
        .iter()
        .filter(|c| alone.contains(&c.name) && !pod_user)
        .filter(|c| !c.value.get("securityContext").is_some_and(super::chooses_user))
        .flat_map(|c| mounts(c.value).into_iter().filter(is_socket).map(|(volume, _)| (volume, c.name.clone())))
        .collect();
    super::leave_userless(workload, alone, findings, |c| {
        let shared = mounts(c.value).into_iter().find_map(|(volume, _)| rooted.iter().find(|(v, _)| *v == volume))?;
        let (volume, other) = shared;
        Some((
            &rules::SHARED_VOLUME,
            format!(
                "{} shares the socket volume {volume} with container {other}, which harden leaves running as its image's user (root, or not known): whichever of the two makes a socket there (a CSI driver its endpoint, for the sidecar to connect to), the socket is its user's, and the other, as another user, may not connect to it, so the container is left alone (run both as one user, or have the socket made for a group both share)",
                c.who(workload)
            ),
        ))
    })
}

/// The containers (not left alone already) that mount a volume in root's home (`/root`,
/// `/root/.kube`) while neither they nor their pod choose a user: each is reported and left alone.
fn root_home_containers(workload: &Workload<'_>, alone: &[String], findings: &mut Vec<Finding>) -> Vec<String> {
    super::leave_userless(workload, alone, findings, |c| {
        let mounts = c.value.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
        let path = mounts
            .filter_map(|m| m.get("mountPath").and_then(Value::as_str))
            .find(|p| *p == "/root" || p.starts_with("/root/"))?;
        // Its arguments may name the path itself (`--config=/root/.kwok/kwok.yaml`): not found
        // through $HOME, but behind root's home, which other users cannot enter.
        let words = ["command", "args"].into_iter().filter_map(|k| c.value.get(k).and_then(Value::as_sequence));
        let named = words.flatten().filter_map(Value::as_str).find(|w| w.contains(path));
        let message = match named {
            Some(word) => format!(
                "{} mounts a volume at {path}, in root's home, and reads it there (`{word}`): root's home is closed to other users (mode 700 in most images), so the container is left alone (mount it outside /root)",
                c.who(workload)
            ),
            None => format!(
                "{} mounts a volume at {path}, in root's home, where its program finds what it reads as $HOME: another user has another home, so the container is left alone (mount it in the home of the user the image runs as, or set HOME, and harden hardens the rest)",
                c.who(workload)
            ),
        };
        Some((&rules::ROOT_HOME_MOUNT, message))
    })
}

/// The containers (not left alone already) that use a raw block device while neither they nor
/// their pod choose a user: each is reported and left alone.
fn block_device_containers(workload: &Workload<'_>, alone: &[String], findings: &mut Vec<Finding>) -> Vec<String> {
    super::leave_userless(workload, alone, findings, |c| {
        let devices = c.value.get("volumeDevices").and_then(Value::as_sequence).into_iter().flatten();
        let devices: Vec<&str> = devices.filter_map(|d| d.get("devicePath").and_then(Value::as_str)).collect();
        (!devices.is_empty()).then(|| (&rules::BLOCK_DEVICE, format!(
            "{} opens the raw block device {} (volumeDevices): the kubelet gives a block device no fsGroup, so only root or the device's group may open it, and no user harden chooses could; the container is left alone (to run it as another user, give that user the device's group in supplementalGroups)",
            c.who(workload),
            devices.join(", ")
        )))
    })
}

/// The containers (not left alone already) that mount an inline CSI volume while neither they
/// nor their pod choose a user: each is reported and left alone.
fn inline_csi_containers(workload: &Workload<'_>, alone: &[String], findings: &mut Vec<Finding>) -> Vec<String> {
    let volumes = workload.pod_value.get("volumes").and_then(Value::as_sequence).into_iter().flatten();
    // A volume that asks its driver for harden's group (`csi.cert-manager.io/fs-group: "65532"`)
    // is readable by harden's user.
    let harden_group = |csi: &Value| {
        let attributes = csi.get("volumeAttributes").and_then(Value::as_mapping).into_iter().flatten();
        attributes.into_iter().any(|(k, v)| {
            let key = k.as_str().unwrap_or_default().to_ascii_lowercase();
            (key.ends_with("fs-group") || key.ends_with("fsgroup")) && v.as_str() == Some("65532")
        })
    };
    let inline: Vec<(&str, &str)> = volumes
        .filter_map(|v| {
            let csi = v.get("csi").filter(|csi| !harden_group(csi))?;
            let driver = csi.get("driver").and_then(Value::as_str).unwrap_or("its driver");
            Some((v.get("name")?.as_str()?, driver))
        })
        .collect();
    super::leave_userless(workload, alone, findings, |c| {
        let mounts = c.value.get("volumeMounts").and_then(Value::as_sequence).into_iter().flatten();
        let mounted: Vec<String> = mounts
            .filter_map(|m| m.get("name").and_then(Value::as_str))
            .filter_map(|name| inline.iter().find(|(v, _)| *v == name))
            .map(|(name, driver)| format!("{name} ({driver})"))
            .collect();
        let then = match mounted.iter().any(|m| m.contains("(csi.cert-manager.io)")) {
            true => "set csi.cert-manager.io/fs-group: \"65532\" in its volumeAttributes, and harden moves it to 65532",
            false => "have the driver give the files a group, then run as a user in it",
        };
        (!mounted.is_empty()).then(|| (&rules::INLINE_CSI_VOLUME, format!(
            "{} mounts the inline CSI volume {}: its driver writes the files with owners and modes of its own (cert-manager's csi-driver: root's, 0440, unless the volume asks for a group) and the kubelet gives such a volume fsGroup only where the driver asks, so no user harden chooses is known to read them; the container is left alone ({then})",
            c.who(workload),
            mounted.join(", ")
        )))
    })
}
