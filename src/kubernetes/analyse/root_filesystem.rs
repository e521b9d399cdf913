//! Whether a container's root file system can be made read-only: not while the program its
//! image runs, or its own `sh -c` command, writes a directory nothing is mounted at (a read-only
//! root would fail its first write, after the rollout looked healthy).

use yaml_serde::Value;

use crate::dockerfile::writes::Written;
use crate::kubernetes::change::{map, string};
use crate::kubernetes::workload::Container;
use crate::kubernetes::writes::{mounts_tmp, script_write, unmounted_write};
use crate::rules;

use super::{Planner, TMP_VOLUME};

/// What the fix of a writable root says of the /tmp volume it adds.
pub const TMP_MOUNTED: &str =
    "; fix sets it and mounts an emptyDir at /tmp, where Go's os.TempDir and many libraries write";
/// What is said in its place where the fix is held back: the advice keeps the volume.
pub const TMP_ADVICE: &str =
    "; set it, with an emptyDir mounted at /tmp, where Go's os.TempDir and many libraries write";

impl<'w> Planner<'w, '_> {
    /// Plans a container's `readOnlyRootFilesystem`; true when harden makes it read-only.
    pub(super) fn root_filesystem(&mut self, c: &Container<'_>, who: &str) -> bool {
        let line = c.line;
        let sc = c.value.get("securityContext");
        let mut made_read_only = false;
        match sc.and_then(|s| s.get("readOnlyRootFilesystem")).and_then(Value::as_bool) {
            Some(true) => {}
            // A writable root asked for in so many words is the program's need (it writes into
            // its image, or something syncs files into it): reported, never flipped.
            Some(false) => self.finding(
                &rules::WRITABLE_ROOT,
                line,
                format!("{who} sets readOnlyRootFilesystem: false on purpose; harden leaves it: mount what it writes and set true"),
                false,
            ),
            // A data store run as a chosen user still writes into its image (its data with no
            // volume for it, postgres's /var/run/postgresql): a read-only root would stop it.
            None if let Some(why) = super::super::alone::needs_writable_root(c.value, &self.context.image_users) => self
                .finding(
                    &rules::WRITABLE_ROOT,
                    line,
                    format!("{who} does not set readOnlyRootFilesystem: true; harden leaves it: {why}; mount volumes there and set true"),
                    false,
                ),
            // A script the image starts writes where harden does not look (s6-overlay's /run,
            // a configuration it renders), unless the container's command starts something else.
            None if let Some((dockerfile, script)) = self.script_started(c) => self.finding(
                &rules::WRITABLE_ROOT,
                line,
                format!(
                    "{who} does not set readOnlyRootFilesystem: true; harden leaves it: its image, built by {}, starts through {script}, and what the script and what it starts write harden does not read: mount volumes there and set true",
                    dockerfile.display()
                ),
                false,
            ),
            // Another project's image writes where its own files say, which harden cannot see
            // from here (calico's kube-controllers, its status file on the root).
            None if let Some(image) = super::super::alone::another_projects_image(c, self.context) => self.finding(
                &rules::WRITABLE_ROOT,
                line,
                format!(
                    "{who} does not set readOnlyRootFilesystem: true; harden leaves it: it runs {image}, {}, so where it writes (logs, caches, a status file) is that image's: mount volumes there and set true",
                    super::super::alone::origin(c, self.context)
                ),
                false,
            ),
            // A development tool syncs files into the image's running containers (Tilt's
            // live_update): a read-only root would stop its updates.
            None if let Some(how) = (c.value.get("image").and_then(Value::as_str))
                .and_then(|i| self.context.synced_images.get(&self.context.image_key(i))) => self.finding(
                &rules::WRITABLE_ROOT,
                line,
                format!("{who} does not set readOnlyRootFilesystem: true; harden leaves it: {how}, which a read-only root would stop; set it where only production runs the manifest (a kustomize patch of the release's overlay)"),
                false,
            ),
            // The /tmp volume a read-only root needs is one the platform would refuse.
            None if let Some(scc) = self.context.empty_dir_refused.as_ref().filter(|_| !mounts_tmp(c.value)) => self
                .finding(
                    &rules::WRITABLE_ROOT,
                    line,
                    format!("{who} does not set readOnlyRootFilesystem: true; harden leaves it: it would mount an emptyDir at /tmp, and {scc} grants a SecurityContextConstraints whose volumes allow no emptyDir, so OpenShift would refuse the pod"),
                    false,
                ),
            // Another language's program, or another project's, built here, writes where harden
            // does not read.
            None if let Some((dockerfile, what)) = self.of_image(c, &self.context.images_not_go) => self.finding(
                &rules::WRITABLE_ROOT,
                line,
                format!(
                    "{who} does not set readOnlyRootFilesystem: true; harden leaves it: its image, built by {}, {what}, and where its program writes (a configuration under its home, caches) harden does not read: mount volumes there and set true",
                    dockerfile.display()
                ),
                false,
            ),
            // A write under the home directory needs a volume there, which harden cannot place
            // (the home is the image's user's).
            None if let Some(why) = self.of_image(c, &self.context.image_home_writes) => self.finding(
                &rules::WRITABLE_ROOT,
                line,
                format!("{who} does not set readOnlyRootFilesystem: true; harden leaves it: {why}, which a read-only root refuses: mount an emptyDir at its home (or point HOME at one) and set true"),
                false,
            ),
            // The /tmp volume would hide what the image keeps there (a CA bundle it copies in).
            None if let Some((dockerfile, at, path)) =
                self.of_image(c, &self.context.image_tmp_files).filter(|_| !mounts_tmp(c.value)) => self
                .finding(
                    &rules::WRITABLE_ROOT,
                    line,
                    format!(
                        "{who} does not set readOnlyRootFilesystem: true; harden leaves it: a read-only root needs an emptyDir at /tmp, which would hide what its image keeps there ({}:{at} puts {path} there): mount volumes where it writes and set true",
                        dockerfile.display()
                    ),
                    false,
                ),
            None => match self.unmounted_write_of(c) {
                Some((dir, write)) => self.finding(
                    &rules::WRITABLE_ROOT,
                    line,
                    format!(
                        "{who} does not set readOnlyRootFilesystem: true; harden leaves it: {}{}, and nothing is mounted at {dir}: mount a volume there{} and set true",
                        write.why,
                        match write.flag.as_deref() {
                            Some(flag) if dir != write.dir => format!(", which the container's {flag} moves to {dir}"),
                            _ => String::new(),
                        },
                        // Temporary files (Go's os.TempDir, a webhook's certificates) need /tmp too.
                        match dir != "/tmp" && !mounts_tmp(c.value) {
                            true => " and an emptyDir at /tmp (for temporary files),",
                            false => "",
                        }
                    ),
                    false,
                ),
                None => {
                    // The /tmp volume harden adds beside it is said, so no reviewer wonders why.
                    let tmp = match mounts_tmp(c.value) {
                        true => "",
                        false => TMP_MOUNTED,
                    };
                    let message = format!("{who} does not set readOnlyRootFilesystem: true{tmp}");
                    self.finding(&rules::WRITABLE_ROOT, line, message, true);
                    let p = self.in_container(c, &["securityContext", "readOnlyRootFilesystem"]);
                    self.set(&rules::WRITABLE_ROOT, p, Value::Bool(true));
                    made_read_only = true;
                }
            },
        }
        made_read_only
    }

    /// A directory the container writes where it mounts nothing: one its image's program writes,
    /// when the repository builds that image, or one its `sh -c` command writes.
    fn unmounted_write_of(&self, c: &Container<'_>) -> Option<(String, Written)> {
        let image = c.value.get("image").and_then(Value::as_str);
        let image_writes = image.and_then(|i| self.context.image_writes.get(&self.context.image_key(i)));
        match image_writes.and_then(|writes| unmounted_write(c.value, writes)) {
            Some((dir, write)) => Some((dir, write.clone())),
            None => script_write(c.value),
        }
    }

    /// What `facts` (one of the context's maps by image name) holds for the container's image.
    fn of_image<'m, T>(&self, c: &Container<'_>, facts: &'m std::collections::BTreeMap<String, T>) -> Option<&'m T> {
        let image = c.value.get("image").and_then(Value::as_str)?;
        facts.get(&self.context.image_key(image))
    }

    /// The Dockerfile and the script of an image built here that starts through one, when the
    /// container runs it as the image starts it (no `command` of its own).
    fn script_started(&self, c: &Container<'_>) -> Option<&(std::path::PathBuf, String)> {
        let image = c.value.get("image").and_then(Value::as_str).filter(|_| c.value.get("command").is_none())?;
        self.context.image_scripts.get(&self.context.image_key(image))
    }

    /// Mounts an emptyDir at /tmp in the containers whose root filesystem becomes read-only.
    pub(super) fn tmp_volume(&mut self, containers: &[&Container<'_>]) {
        if containers.is_empty() {
            return;
        }
        let volumes = self.workload.pod_value.get("volumes").and_then(Value::as_sequence);
        let existing =
            |name: &str| volumes.into_iter().flatten().find(|v| v.get("name").and_then(Value::as_str) == Some(name));
        let name = match existing(TMP_VOLUME) {
            Some(v) if v.get("emptyDir").is_some() => TMP_VOLUME,
            Some(_) => "harden-tmp",
            None => TMP_VOLUME,
        };
        let new_volume = existing(name).is_none();
        if new_volume {
            let volume = map([("name", string(name)), ("emptyDir", Value::Mapping(Default::default()))]);
            match volumes {
                Some(_) => self.append(&rules::WRITABLE_ROOT, self.pod_path(&["volumes"]), volume),
                None => self.set(&rules::WRITABLE_ROOT, self.pod_path(&["volumes"]), Value::Sequence(vec![volume])),
            }
        }
        for c in containers {
            let mount = map([("name", string(name)), ("mountPath", string("/tmp"))]);
            let mounts = self.in_container(c, &["volumeMounts"]);
            match c.value.get("volumeMounts") {
                Some(Value::Sequence(_)) => self.append(&rules::WRITABLE_ROOT, mounts, mount),
                _ => self.set(&rules::WRITABLE_ROOT, mounts, Value::Sequence(vec![mount])),
            }
        }
    }
}
