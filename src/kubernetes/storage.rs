//! Storage whose files keep the owners their server gives them: an NFS, CephFS or GlusterFS
//! share, which the kubelet gives no fsGroup ("NFS volumes do not support ownership
//! management"). A pod reaches one inline (`volumes[].nfs`), through a claim bound to a
//! PersistentVolume of one (`volumeName`, the volume's `claimRef`, a shared `storageClassName`),
//! or through a claim of a StorageClass whose provisioner makes NFS volumes
//! (nfs-subdir-external-provisioner). Read across the repository's manifests, as the claim and
//! the volume are seldom in the workload's file.

use std::collections::BTreeMap;

use yaml_serde::Value;

/// The volume sources the kubelet manages no ownership of, with what each is.
const UNOWNED_SOURCES: &[(&str, &str)] =
    &[("nfs", "an NFS share"), ("cephfs", "a CephFS share"), ("glusterfs", "a GlusterFS share")];

/// What the repository's manifests say of its shared storage.
#[derive(Debug, Default, Clone)]
pub struct Storage {
    /// PersistentVolumes of a share: name, storage class, the claim its `claimRef` names, what it is.
    volumes: Vec<(String, Option<String>, Option<String>, String)>,
    /// StorageClasses whose provisioner makes NFS volumes, with where each is.
    classes: BTreeMap<String, String>,
    /// Claims: name, the volume it asks for, its storage class, where it is.
    claims: Vec<(String, Option<String>, Option<String>, String)>,
}

impl Storage {
    /// Reads the PersistentVolumes, StorageClasses and claims of a manifest (`path`, as messages
    /// name it).
    pub fn read(&mut self, text: &str, path: &str) {
        if !text.contains("PersistentVolume") && !text.contains("StorageClass") {
            return;
        }
        for doc in super::documents_read(text) {
            let name = doc.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str);
            let (Some(kind), Some(name)) = (doc.get("kind").and_then(Value::as_str), name) else { continue };
            let spec = doc.get("spec");
            let field = |key: &str| spec.and_then(|s| s.get(key)).and_then(Value::as_str).map(str::to_string);
            match kind {
                "PersistentVolume" => {
                    let Some((_, what)) =
                        UNOWNED_SOURCES.iter().find(|(key, _)| spec.and_then(|s| s.get(*key)).is_some())
                    else {
                        continue;
                    };
                    let claim =
                        spec.and_then(|s| s.get("claimRef")).and_then(|c| c.get("name")).and_then(Value::as_str);
                    let what = format!("the PersistentVolume {name} ({path}), {what}");
                    self.volumes.push((name.to_string(), field("storageClassName"), claim.map(str::to_string), what));
                }
                "StorageClass" => {
                    let provisioner = doc.get("provisioner").and_then(Value::as_str).unwrap_or_default();
                    // A CSI driver (`nfs.csi.k8s.io`) may apply fsGroup; the older provisioners
                    // make plain NFS volumes, which it does not.
                    if provisioner.contains("nfs") && !provisioner.contains("csi") {
                        let what = format!("the StorageClass {name} ({path}), whose {provisioner} makes NFS shares");
                        self.classes.insert(name.to_string(), what);
                    }
                }
                "PersistentVolumeClaim" => self.claims.push((
                    name.to_string(),
                    field("volumeName"),
                    field("storageClassName"),
                    path.to_string(),
                )),
                _ => {}
            }
        }
    }

    /// The claims (by name) bound to a share, each with what it is bound to.
    pub fn unowned_claims(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (claim, volume_name, class, _) in &self.claims {
            let volume = self.volumes.iter().find(|(volume, volume_class, claim_ref, _)| {
                volume_name.as_ref() == Some(volume)
                    || claim_ref.as_ref() == Some(claim)
                    || (volume_name.is_none() && class.is_some() && volume_class == class)
            });
            let what =
                volume.map(|v| v.3.clone()).or_else(|| class.as_ref().and_then(|c| self.classes.get(c)).cloned());
            if let Some(what) = what {
                out.insert(claim.clone(), format!("the claim {claim}, bound to {what}"));
            }
        }
        // A volume's `claimRef` binds the claim it names wherever that claim is written.
        for (_, _, claim_ref, what) in &self.volumes {
            if let Some(claim) = claim_ref {
                out.entry(claim.clone()).or_insert_with(|| format!("the claim {claim}, bound to {what}"));
            }
        }
        out
    }

    /// The StorageClasses (by name) whose provisioner makes NFS shares, each with what it is.
    pub fn unowned_classes(&self) -> &BTreeMap<String, String> {
        &self.classes
    }
}

/// True for a volume mount of a socket directory, by the volume's name or where it is mounted
/// (`socket-dir`, `/var/run/sock`, a CSI sidecar's `/csi`): containers sharing it talk over a
/// socket one of them makes there.
pub fn is_socket_mount(volume: &str, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    volume.contains("sock") || path.contains("sock") || path == "/csi" || path.ends_with("/csi")
}

/// What an inline volume source is, where it is a share the kubelet manages no ownership of.
pub fn inline_share(volume: &Value) -> Option<&'static str> {
    UNOWNED_SOURCES.iter().find(|(key, _)| volume.get(*key).is_some()).map(|(_, what)| *what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_bound_to_a_share_by_name_class_or_claim_ref() {
        let mut storage = Storage::default();
        storage.read(
            "kind: PersistentVolume\nmetadata: {name: nfs}\nspec:\n  nfs: {server: nfs-server, path: /}\n---\nkind: PersistentVolume\nmetadata: {name: disk}\nspec:\n  storageClassName: fast\n  csi: {driver: pd.csi.storage.gke.io}\n",
            "nfs-pv.yaml",
        );
        storage.read(
            "kind: PersistentVolumeClaim\nmetadata: {name: shared}\nspec: {volumeName: nfs}\n---\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {storageClassName: fast}\n",
            "claims.yaml",
        );
        storage.read(
            "kind: PersistentVolume\nmetadata: {name: ceph}\nspec:\n  storageClassName: manual\n  cephfs: {monitors: [a]}\n  claimRef: {name: reports}\n",
            "ceph.yaml",
        );
        let claims = storage.unowned_claims();
        assert_eq!(claims["shared"], "the claim shared, bound to the PersistentVolume nfs (nfs-pv.yaml), an NFS share");
        assert!(claims["reports"].contains("a CephFS share"), "{claims:?}");
        assert!(!claims.contains_key("data"), "a CSI disk's claim is not a share: {claims:?}");
    }

    #[test]
    fn a_claim_of_an_nfs_provisioner_class_is_a_share_but_not_of_a_csi_driver() {
        let mut storage = Storage::default();
        storage.read(
            "kind: StorageClass\nmetadata: {name: nfs-client}\nprovisioner: k8s-sigs.io/nfs-subdir-external-provisioner\n---\nkind: StorageClass\nmetadata: {name: nfs-csi}\nprovisioner: nfs.csi.k8s.io\n---\nkind: PersistentVolumeClaim\nmetadata: {name: media}\nspec: {storageClassName: nfs-client}\n---\nkind: PersistentVolumeClaim\nmetadata: {name: cache}\nspec: {storageClassName: nfs-csi}\n",
            "storage.yaml",
        );
        let claims = storage.unowned_claims();
        assert!(claims["media"].contains("nfs-subdir-external-provisioner makes NFS shares"), "{claims:?}");
        assert!(!claims.contains_key("cache"), "{claims:?}");
        assert!(storage.unowned_classes().contains_key("nfs-client"));
    }

    #[test]
    fn a_manifest_that_does_not_parse_is_read_up_to_its_error() {
        let mut storage = Storage::default();
        let text = "kind: PersistentVolume\nmetadata: {name: nfs}\nspec: {nfs: {server: s}}\n---\nkind: PersistentVolumeClaim\nmetadata: {name: [x\n---\nkind: PersistentVolumeClaim\n";
        storage.read(text, "broken.yaml");
        assert_eq!(storage.volumes.len(), 1, "the volume before the error, and then an end");
    }

    #[test]
    fn inline_shares_are_known_by_their_source() {
        let volume: Value = yaml_serde::from_str("name: data\nnfs: {server: s, path: /exports}").unwrap();
        assert_eq!(inline_share(&volume), Some("an NFS share"));
        let volume: Value = yaml_serde::from_str("name: data\npersistentVolumeClaim: {claimName: x}").unwrap();
        assert_eq!(inline_share(&volume), None);
    }
}
