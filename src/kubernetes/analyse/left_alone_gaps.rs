//! What the containers harden leaves alone still lack of the restricted profile where it hardens
//! the others: its pod-level fixes go on the hardened containers only, so the pod's gaps stay
//! open for the ones left alone, and are said (not fixed) instead of being taken as closed.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::rules::{self, Severity};

use super::Planner;

impl Planner<'_, '_> {
    /// One finding per container left alone that lacks runAsNonRoot or a confining seccomp
    /// profile (neither it nor its pod setting it), when harden hardens other containers of the
    /// pod: HK201 where the user is open, else HK204; at info in an example, as its other
    /// findings there are.
    pub(super) fn left_alone_gaps(&mut self) {
        if self.handled.is_empty() || self.whole_pod() {
            return;
        }
        let id = self.workload.id();
        let pod = self.workload.pod_value.get("securityContext");
        let non_root = |v: &Value| v.as_bool() == Some(true);
        let confined =
            |v: &Value| matches!(v.get("type").and_then(Value::as_str), Some("RuntimeDefault" | "Localhost"));
        let left_alone = self.workload.containers.iter().filter(|c| !self.handled.iter().any(|h| h.name == c.name));
        let mut gaps = Vec::new();
        for c in left_alone {
            let lacks = |key: &str, ok: &dyn Fn(&Value) -> bool| {
                let set = |sc: Option<&Value>| sc.and_then(|s| s.get(key)).is_some_and(ok);
                !set(pod) && !set(c.value.get("securityContext"))
            };
            let missing: Vec<&str> = [
                lacks("runAsNonRoot", &non_root).then_some("runAsNonRoot: true"),
                lacks("seccompProfile", &confined).then_some("a seccompProfile of RuntimeDefault"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let rule = match missing.first() {
                Some(&"runAsNonRoot: true") => &rules::RUN_AS_NON_ROOT,
                Some(_) => &rules::SECCOMP,
                None => continue,
            };
            let message = format!(
                "{id} container {} does not set {}, nor does its pod: harden leaves that container alone (its finding says why), so the pod does not meet the restricted profile",
                c.name,
                missing.join(" or ")
            );
            let finding = Finding::new(rule, c.line, message);
            let severity = if self.context.example_dir.is_some() { Severity::Info } else { finding.severity };
            gaps.push(Finding { severity, ..finding });
        }
        self.findings.extend(gaps);
    }
}
