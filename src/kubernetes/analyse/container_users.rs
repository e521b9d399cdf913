//! The user of each container, where the pod sets none and some containers choose their own:
//! the image's user where the repository builds it with one, the image's or the platform's where
//! a container asks `runAsNonRoot` alone, else harden's.

use yaml_serde::Value;

use crate::rules;

use super::{NONROOT_ID, Planner};

impl Planner<'_, '_> {
    /// The pod sets no user, and some containers set their own or are left alone: each handled
    /// container without a user gets harden's user and group itself, so `runAsNonRoot` never meets
    /// an image that runs as root, and the containers that chose a user keep their group.
    pub(super) fn user_for_each(&mut self) {
        let handled = self.handled.clone();
        for c in handled {
            let sc = c.value.get("securityContext");
            if sc.and_then(|s| s.get("runAsUser")).is_some() {
                continue;
            }
            if let Some((image, user)) = self.image_user(c) {
                let message = format!(
                    "{} runs {image}, whose Dockerfile here sets USER {user}: harden leaves the user to the image",
                    c.who(self.workload)
                );
                self.finding(&rules::RUN_AS_USER, c.line, message, false);
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
                let message = format!(
                    "{} sets runAsNonRoot without a runAsUser, so the image or the platform (OpenShift) chooses the user; harden leaves it so",
                    c.who(self.workload)
                );
                self.finding(&rules::RUN_AS_USER, c.line, message, false);
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
        }
    }
}
