//! Workloads written for OpenShift, whose restricted SCC gives each pod a user from the
//! namespace's range and refuses a pod that asks for another: harden sets no user there.

use yaml_serde::Value;

use super::Planner;

impl Planner<'_, '_> {
    /// Why the platform (OpenShift) chooses the workload's user, when it does: a kustomize patch
    /// or overlay for it (see [`crate::kubernetes::Context::platform_users`]), or [`Self::openshift`].
    pub(super) fn platform_chooses_user(&self) -> Option<String> {
        self.context.platform_users.get(&self.workload.id()).cloned().or_else(|| self.openshift())
    }

    /// Why OpenShift chooses the workload's user: the file is written for it (its path says
    /// `openshift`), or a container asks it to manage the security context
    /// (`MANAGED_SECURITY_CONTEXT=true`, as operators built for OpenShift read it).
    pub(super) fn openshift(&self) -> Option<String> {
        let managed = self.workload.containers.iter().find(|c| {
            let env = c.value.get("env").and_then(Value::as_sequence);
            env.into_iter().flatten().any(|e| {
                let value = e.get("value");
                let on = value.and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case("true"))
                    || value.and_then(Value::as_bool) == Some(true);
                e.get("name").and_then(Value::as_str) == Some("MANAGED_SECURITY_CONTEXT") && on
            })
        });
        match managed {
            Some(c) => Some(format!("container {} sets MANAGED_SECURITY_CONTEXT=true, for OpenShift", c.name)),
            None => self.context.openshift.clone(),
        }
    }
}
