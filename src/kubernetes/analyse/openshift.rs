//! Workloads written for OpenShift, whose restricted SCC gives each pod a user from the
//! namespace's range and refuses a pod that asks for another: harden sets no user there.

use yaml_serde::Value;

use super::Planner;

/// True for a manifest or template that holds an OpenShift SecurityContextConstraints with no
/// `seccompProfiles`: "an unset or empty value means that no profiles may be specified by the
/// pod or container", so a pod that sets one is refused under it.
pub fn refuses_seccomp(text: &str) -> bool {
    text.contains("kind: SecurityContextConstraints") && !text.contains("seccompProfiles")
}

/// True for a manifest or template that holds an OpenShift SecurityContextConstraints whose
/// `volumes` list (at the top level, as the kind writes it) allows no emptyDir: a pod that mounts
/// one is refused under it.
pub fn refuses_empty_dir(text: &str) -> bool {
    if !text.contains("kind: SecurityContextConstraints") {
        return false;
    }
    let mut lines = text.lines().skip_while(|l| !l.starts_with("volumes:"));
    let Some(first) = lines.next() else { return false };
    // `volumes: [configMap, secret]` on one line, or a list below it up to the next top-level key.
    let listed: Vec<&str> = match first.trim_start_matches("volumes:").trim() {
        "" => lines.take_while(|l| !l.starts_with(|c: char| c.is_ascii_alphabetic())).collect(),
        inline => vec![inline],
    };
    let allows = |l: &&str| {
        let item = l.trim().trim_start_matches('-').trim().trim_matches(['"', '\'', '[', ']']);
        item.split(',').any(|v| matches!(v.trim().trim_matches(['"', '\'']), "emptyDir" | "*"))
    };
    !listed.iter().any(allows)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const SCC: &str = "apiVersion: security.openshift.io/v1\nkind: SecurityContextConstraints\nmetadata:\n  name: store\nrunAsUser:\n  type: MustRunAs\n";

    #[test]
    fn constraints_without_seccomp_profiles_refuse_one() {
        assert!(refuses_seccomp(SCC));
        assert!(!refuses_seccomp(&format!("{SCC}seccompProfiles:\n  - runtime/default\n")));
        assert!(!refuses_seccomp("kind: Deployment\n"));
    }

    #[test]
    fn constraints_whose_volumes_leave_out_empty_dir_refuse_one() {
        assert!(refuses_empty_dir(&format!("{SCC}volumes:\n  - configMap\n  - secret\nusers: []\n")));
        assert!(!refuses_empty_dir(&format!("{SCC}volumes:\n- configMap\n- emptyDir\n")));
        assert!(!refuses_empty_dir(&format!("{SCC}volumes: ['*']\n")));
        assert!(refuses_empty_dir(&format!("{SCC}volumes: [configMap, secret]\n")));
        assert!(!refuses_empty_dir(SCC), "no volumes list: not this check's to judge");
    }
}
