//! The user of each container, where the pod sets none and some containers choose their own:
//! the image's user where the repository builds it with one, the image's or the platform's where
//! a container asks `runAsNonRoot` alone, else harden's; and the users of the images the
//! repository builds.

use yaml_serde::Value;

use crate::rules;

use super::super::workload::Container;
use super::{NONROOT_ID, Planner};

impl Planner<'_, '_> {
    /// Tells that `who_sets` (`Deployment/web sets`) `runAsNonRoot` without a user: the image's or
    /// the platform's to choose, unless one of `containers` runs an image built here that runs
    /// as root, which the kubelet refuses to start where no platform assigns a user (outside
    /// OpenShift).
    pub(super) fn non_root_without_user(&mut self, who_sets: String, line: usize, containers: &[&Container<'_>]) {
        let context = self.context;
        let root = |image: &&str| context.images_staying_root.contains(&context.image_key(image));
        let images = containers.iter().filter_map(|c| c.value.get("image")?.as_str());
        match images.into_iter().find(root).filter(|_| context.openshift.is_none()) {
            Some(image) => {
                let image = context.running_reference(image);
                let message = format!(
                    "{who_sets} runAsNonRoot without a runAsUser, but {image}, built here, runs as root: the kubelet refuses to start it unless the platform (OpenShift) assigns a user; give its Dockerfile a numeric non-root USER, or set runAsUser"
                );
                self.finding(&rules::RUN_AS_USER, line, message, false);
            }
            None => {
                let message = format!(
                    "{who_sets} runAsNonRoot without a runAsUser, so the image or the platform (OpenShift) chooses the user; harden leaves it so"
                );
                self.note(&rules::RUN_AS_USER, line, message);
            }
        }
    }

    /// The numeric user a container's image runs as, when the repository builds that image.
    pub(super) fn image_user(&self, c: &Container<'_>) -> Option<(String, String)> {
        let image = c.value.get("image").and_then(Value::as_str)?;
        let user = self.context.image_user(image)?;
        Some((image.to_string(), user.clone()))
    }

    /// True when every container harden changes runs an image ko builds here and `uid` has no
    /// account in ko's bases (root, distroless's nonroot, nobody): it runs in group 0, root's,
    /// and its own number is the group to give it.
    pub(super) fn ko_user_without_account(&self, uid: u64) -> bool {
        let ko_built = |c: &Container<'_>| {
            let image = c.value.get("image").and_then(Value::as_str);
            image.is_some_and(|i| self.context.running(i).starts_with("ko://"))
        };
        // ko's user is known only on such a base (and with no base overrides).
        uid > 0
            && self.context.ko_user.is_some()
            && !crate::dockerfile::image::standard_account(uid)
            && !self.handled.is_empty()
            && self.handled.iter().all(|c| ko_built(c))
    }

    /// True when every container harden changes runs an image the repository builds with a
    /// numeric non-root user.
    pub(super) fn images_users_known(&self) -> bool {
        !self.handled.is_empty() && self.handled.iter().all(|c| self.image_user(c).is_some())
    }

    /// [`Planner::images_users_known`] once harden's fix of their Dockerfiles is built: an
    /// image it gives a numeric user counts too.
    pub(super) fn images_users_known_after_fix(&self) -> bool {
        let given = |c: &&Container<'_>| {
            let image = c.value.get("image").and_then(Value::as_str);
            image.is_some_and(|i| self.context.images_given_users.contains(&self.context.image_key(i)))
        };
        !self.handled.is_empty() && self.handled.iter().all(|c| self.image_user(c).is_some() || given(c))
    }

    /// Of a container harden changes that sets no user of its own, the image built here as an
    /// account whose ids are not known, said for a finding: no user harden sets keeps that
    /// image's files its own, and the kubelet cannot check the name under `runAsNonRoot`.
    pub(super) fn unknown_account(&self, c: &Container<'_>) -> Option<String> {
        let own_user = c.value.get("securityContext").and_then(|s| s.get("runAsUser")).is_some();
        let image = c.value.get("image").and_then(Value::as_str).filter(|_| !own_user)?;
        let (dockerfile, account) = self.context.image_account(image)?;
        Some(format!(
            "{image} runs as the account {account}, which {} creates with ids harden cannot tell; write them in its USER (uid:gid), then set runAsUser to that uid",
            dockerfile.display()
        ))
    }

    /// [`Planner::unknown_account`] of the first container harden changes that has one.
    pub(super) fn any_unknown_account(&self) -> Option<String> {
        self.handled.iter().find_map(|c| self.unknown_account(c))
    }

    /// The pod sets no user, and some containers set their own or are left alone: each handled
    /// container without a user gets harden's user and group itself, so `runAsNonRoot` never meets
    /// an image that runs as root, and the containers that chose a user keep their group. True
    /// when some container is given harden's user.
    pub(super) fn user_for_each(&mut self) -> bool {
        let mut given = false;
        let handled = self.handled.clone();
        for c in handled {
            let sc = c.value.get("securityContext");
            if sc.and_then(|s| s.get("runAsUser")).is_some() {
                continue;
            }
            if self.give_named_ids(c) {
                continue;
            }
            if let Some((image, user)) = self.image_user(c) {
                let message = format!(
                    "{} runs {image}, whose Dockerfile here sets USER {user}: harden leaves the user to the image",
                    c.who(self.workload)
                );
                self.note(&rules::RUN_AS_USER, c.line, message);
                continue;
            }
            if let Some(account) = self.unknown_account(c) {
                let message = format!("{} does not set runAsUser: {account}", c.who(self.workload));
                self.finding(&rules::RUN_AS_USER, c.line, message, false);
                continue;
            }
            // runAsNonRoot asked without a user (on the container or the pod) leaves the uid to
            // the image or the platform, as for the whole pod.
            let non_root =
                |sc: Option<&Value>| sc.and_then(|s| s.get("runAsNonRoot")).and_then(Value::as_bool) == Some(true);
            if non_root(sc) || non_root(self.workload.pod_value.get("securityContext")) {
                self.non_root_without_user(format!("{} sets", c.who(self.workload)), c.line, &[c]);
                continue;
            }
            let message = format!("{} does not set runAsUser, and the pod sets none", c.who(self.workload));
            self.finding(&rules::RUN_AS_USER, c.line, message, true);
            self.set(&rules::RUN_AS_USER, self.in_container(c, &["securityContext", "runAsUser"]), NONROOT_ID.into());
            if sc.and_then(|s| s.get("runAsGroup")).is_none() {
                self.set(
                    &rules::RUN_AS_GROUP,
                    self.in_container(c, &["securityContext", "runAsGroup"]),
                    NONROOT_ID.into(),
                );
            }
            given = true;
        }
        given
    }

    /// A container without a user of its own whose image is built here with a `USER` that names
    /// an account with known ids (`USER dex:dex`, `adduser -u 1001`) gets those ids itself: the
    /// kubelet refuses a name under `runAsNonRoot`, and the released images a manifest pins carry
    /// the name even where the Dockerfile now writes the ids. True when the container is such.
    pub(super) fn give_named_ids(&mut self, c: &Container<'_>) -> bool {
        let sc = c.value.get("securityContext");
        if sc.and_then(|s| s.get("runAsUser")).is_some() {
            return false;
        }
        let (Some((image, ids)), Some(name)) = (
            self.image_user(c),
            c.value.get("image").and_then(Value::as_str).and_then(|i| self.context.image_user_name(i)).cloned(),
        ) else {
            return false;
        };
        let mut ids = ids.split(':').map(|id| id.parse::<u64>().ok());
        let (Some(Some(uid)), gid) = (ids.next(), ids.next().flatten()) else { return false };
        let gid = gid.filter(|_| sc.and_then(|s| s.get("runAsGroup")).is_none());
        let group = gid.map(|gid| format!(" and runAsGroup: {gid}")).unwrap_or_default();
        let message = format!(
            "{} runs {image}, whose Dockerfile here sets USER {name}, a name the kubelet cannot check under runAsNonRoot; fix sets runAsUser: {uid}{group}, the ids that account has in the image",
            c.who(self.workload)
        );
        self.finding(&rules::RUN_AS_USER, c.line, message, true);
        self.set(&rules::RUN_AS_USER, self.in_container(c, &["securityContext", "runAsUser"]), uid.into());
        if let Some(gid) = gid {
            self.set(&rules::RUN_AS_GROUP, self.in_container(c, &["securityContext", "runAsGroup"]), gid.into());
        }
        if uid < 10000 {
            let message = format!(
                "{} runs as user {uid}, below 10000, which the image's account has and its files belong to; harden keeps it",
                c.who(self.workload)
            );
            self.note(&rules::RUN_AS_USER, c.line, message);
        }
        true
    }
}
