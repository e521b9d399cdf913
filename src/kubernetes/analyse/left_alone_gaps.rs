//! What the containers harden leaves alone still lack of the restricted profile where it hardens
//! the others: its pod-level fixes go on the hardened containers only, so the pod's gaps stay
//! open for the ones left alone, and are said (not fixed) instead of being taken as closed.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::rules::{self, Severity};

use super::Planner;

impl Planner<'_, '_> {
    /// One finding for the containers left alone that lack runAsNonRoot or a confining seccomp
    /// profile (neither they nor their pod setting it), when harden hardens other containers of
    /// the pod, per set of settings they lack: HK201 where the user is open, else HK204; at info
    /// in an example, as its other findings there are.
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
        // The containers that lack the same settings, grouped: one finding each (a DaemonSet's
        // half-dozen helpers were a half-dozen findings), at the first one's line.
        let mut groups: Vec<(Vec<&str>, Vec<&str>, usize)> = Vec::new();
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
            if missing.is_empty() {
                continue;
            }
            match groups.iter_mut().find(|(m, _, _)| *m == missing) {
                Some((_, names, _)) => names.push(c.name.as_str()),
                None => groups.push((missing, vec![c.name.as_str()], c.line)),
            }
        }
        let mut gaps = Vec::new();
        for (missing, names, line) in groups {
            let rule = if missing[0].starts_with("runAsNonRoot") { &rules::RUN_AS_NON_ROOT } else { &rules::SECCOMP };
            let (who, verb, it, why) = match names.as_slice() {
                [one] => (format!("container {one}"), "does", "that container", "its finding says"),
                _ => (format!("containers {}", names.join(", ")), "do", "those containers", "the finding at each says"),
            };
            let message = format!(
                "{id} {who} {verb} not set {}, nor does its pod: harden leaves {it} alone ({why} why), so the pod does not meet the restricted profile",
                missing.join(" or ")
            );
            let finding = Finding::new(rule, line, message);
            let severity = if self.context.example_dir.is_some() { Severity::Info } else { finding.severity };
            gaps.push(Finding { severity, ..finding });
        }
        self.findings.extend(gaps);
    }
}
