//! One container's own securityContext: runAsNonRoot, an explicit user, seccomp, privilege
//! escalation, then its root filesystem, capabilities and image reference.

use yaml_serde::Value;

use crate::kubernetes::change::string;
use crate::kubernetes::workload::Container;
use crate::kubernetes::writes::mounts_tmp;
use crate::rules;

use super::Planner;

impl Planner<'_, '_> {
    /// Plans one container; true when its root filesystem becomes read-only and /tmp needs a volume.
    pub(super) fn container(&mut self, c: &Container<'_>) -> bool {
        let line = c.line;
        let who = c.who(self.workload);
        let sc = c.value.get("securityContext");
        let get = |key: &str| sc.and_then(|s| s.get(key));

        if get("runAsNonRoot").and_then(Value::as_bool) == Some(false)
            && get("runAsUser").and_then(Value::as_u64) != Some(0)
        {
            self.finding(&rules::RUN_AS_NON_ROOT, line, format!("{who} sets runAsNonRoot: false; fix sets true"), true);
            let p = self.in_container(c, &["securityContext", "runAsNonRoot"]);
            self.set(&rules::RUN_AS_NON_ROOT, p, Value::Bool(true));
        }
        match get("runAsUser").and_then(Value::as_u64) {
            Some(0) => self.finding(&rules::EXPLICIT_ROOT, line, format!("{who} sets runAsUser: 0"), false),
            Some(uid) if uid < 10000 => self.note(
                &rules::RUN_AS_USER,
                line,
                format!("{who} runs as user {uid}, below 10000; harden never overrides an explicit user"),
            ),
            _ => {}
        }
        if let Some(kind) = get("seccompProfile").and_then(|s| s.get("type")).and_then(Value::as_str)
            && !matches!(kind, "RuntimeDefault" | "Localhost")
        {
            self.finding(
                &rules::SECCOMP,
                line,
                format!("{who} sets seccompProfile {kind}; fix sets RuntimeDefault"),
                true,
            );
            let p = self.in_container(c, &["securityContext", "seccompProfile", "type"]);
            self.set(&rules::SECCOMP, p, string("RuntimeDefault"));
        }
        match get("allowPrivilegeEscalation").and_then(Value::as_bool) {
            Some(false) => {}
            // A privileged container may escalate by definition (the API refuses `false` beside
            // `privileged: true`): HK208 says what matters.
            _ if get("privileged").and_then(Value::as_bool) == Some(true) => {}
            // A capability added for an image built elsewhere may reach its program, when it does
            // not run as root, only through file capabilities (`setcap`), which no_new_privs
            // withholds: sock-shop's java binds port 80 so.
            value if let Some(added) = self.added_for_image_built_elsewhere(c) => {
                let message = match value {
                    Some(true) => format!("{who} sets allowPrivilegeEscalation: true"),
                    _ => format!("{who} does not set allowPrivilegeEscalation: false"),
                };
                let why = format!(
                    "; it adds {added} for an image nothing here builds, whose program, if it does not run as root, gets it only through file capabilities (setcap), which allowPrivilegeEscalation: false withholds: harden leaves it (set it once you know the image needs no file capabilities)"
                );
                self.finding(&rules::PRIVILEGE_ESCALATION, line, message + &why, false);
            }
            value => {
                let message = match value {
                    Some(true) => format!("{who} sets allowPrivilegeEscalation: true; fix sets false"),
                    _ => format!("{who} does not set allowPrivilegeEscalation: false"),
                };
                self.finding(&rules::PRIVILEGE_ESCALATION, line, message, true);
                let p = self.in_container(c, &["securityContext", "allowPrivilegeEscalation"]);
                self.set(&rules::PRIVILEGE_ESCALATION, p, Value::Bool(false));
            }
        }
        let made_read_only = self.root_filesystem(c, &who);
        self.capabilities(c, &who);
        self.image(c, &who, false);
        made_read_only && !mounts_tmp(c.value)
    }

    /// The capabilities a container adds (`NET_BIND_SERVICE`), joined, when its image is one the
    /// repository does not build (one built here is read for `setcap`).
    fn added_for_image_built_elsewhere(&self, c: &Container<'_>) -> Option<String> {
        let image = c.value.get("image").and_then(Value::as_str)?;
        let add = c.value.get("securityContext")?.get("capabilities")?.get("add")?.as_sequence()?;
        let added: Vec<&str> = add.iter().filter_map(Value::as_str).collect();
        (!added.is_empty() && !self.context.builds(image)).then(|| added.join(", "))
    }
}
