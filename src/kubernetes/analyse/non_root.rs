//! The pod's `runAsNonRoot`: where it is set (the pod, or each container beside the user it
//! chooses) and where it is only reported (a platform that chooses the user, an account whose
//! ids are not known, a pod that asks for root).

use yaml_serde::Value;

use crate::rules;

use super::Planner;

impl Planner<'_, '_> {
    /// Reports and fixes the pod's missing `runAsNonRoot`: `explicit_root` where the pod asks for
    /// `runAsUser: 0`, `containers_non_root` and `containers_users` where every container sets
    /// it or a non-root user itself, `platform` why the platform chooses the user.
    pub(super) fn pod_non_root(
        &mut self,
        explicit_root: bool,
        containers_non_root: bool,
        containers_users: bool,
        platform: Option<&str>,
    ) {
        let w = self.workload;
        let (id, line) = (w.id(), w.line);
        let sc = w.pod_value.get("securityContext");
        let get = |key: &str| sc.and_then(|s| s.get(key));
        let why = platform.unwrap_or_default();
        match get("runAsNonRoot").and_then(Value::as_bool) {
            Some(true) => {}
            None if containers_non_root => {}
            // Where the image's user is not known, runAsNonRoot alone could stop the pod outside
            // the platform the patch is for (an image built here with a non-root user is safe,
            // as is one harden's fix gives that user: its second run would add it).
            None if platform.is_some() && !self.images_users_known_after_fix() => self.finding(
                &rules::RUN_AS_NON_ROOT,
                line,
                format!("{id} does not set runAsNonRoot: true; {why}, where the platform chooses the user, and harden does not know the image's user elsewhere"),
                false,
            ),
            None if get("runAsUser").is_none() && let Some(account) = self.any_unknown_account() => self.finding(
                &rules::RUN_AS_NON_ROOT,
                line,
                format!("{id} does not set runAsNonRoot: true; not fixed: {account}"),
                false,
            ),
            _ if explicit_root => self.finding(
                &rules::RUN_AS_NON_ROOT,
                line,
                format!(
                    "{id} does not set runAsNonRoot: true; not fixed, it would stop the pod that asks for runAsUser: 0"
                ),
                false,
            ),
            Some(false) => {
                self.finding(
                    &rules::RUN_AS_NON_ROOT,
                    line,
                    format!("{id} sets runAsNonRoot: false; fix sets true"),
                    true,
                );
                self.set_for_pod(&rules::RUN_AS_NON_ROOT, &["securityContext", "runAsNonRoot"], Value::Bool(true));
            }
            // Where each container chooses its own user, the pod's would reach only containers
            // others inject (a mesh's init container that runs as root, which it would stop).
            None if containers_users && get("runAsUser").is_none() => {
                let message = format!(
                    "{id} does not set runAsNonRoot: true; fix sets it on each container it hardens, beside the user that container chooses: set on the pod, it would also reach the containers harden leaves alone and any a service mesh injects, which may run as root"
                );
                self.finding(&rules::RUN_AS_NON_ROOT, line, message, true);
                self.set_in_containers(&rules::RUN_AS_NON_ROOT, &["securityContext", "runAsNonRoot"], Value::Bool(true));
            }
            None => {
                self.finding(&rules::RUN_AS_NON_ROOT, line, format!("{id} does not set runAsNonRoot: true"), true);
                self.set_for_pod(&rules::RUN_AS_NON_ROOT, &["securityContext", "runAsNonRoot"], Value::Bool(true));
            }
        }
    }
}
