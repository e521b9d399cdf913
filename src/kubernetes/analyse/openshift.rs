//! Workloads written for OpenShift, whose restricted SCC gives each pod a user from the
//! namespace's range and refuses a pod that asks for another: harden sets no user there.

use std::path::{Path, PathBuf};

use yaml_serde::Value;

use super::Planner;
use crate::kubernetes::workload::{kind_of, pod_spec};

/// An OpenShift SecurityContextConstraints the repository ships (in a manifest or a chart's
/// template) that refuses what harden would set, with what says which pods it governs.
#[derive(Clone, Debug, Default)]
pub struct Constraints {
    /// Where it is (`deploy/scc.yaml`), relative to the repository.
    pub path: PathBuf,
    /// It lists no seccompProfiles ([`refuses_seccomp`]).
    pub refuses_seccomp: bool,
    /// Its volumes allow no emptyDir ([`refuses_empty_dir`]).
    pub refuses_empty_dir: bool,
    /// The chart whose template it is, which alone it governs.
    chart: Option<PathBuf>,
    /// The service accounts its `users` name, as (namespace, name).
    accounts: Vec<(String, String)>,
    /// The namespaces whose service accounts its `groups` name (`None`: every one).
    namespaces: Vec<Option<String>>,
    /// The workloads its own file runs (`Deployment/operator`).
    workloads: Vec<String>,
}

impl Constraints {
    /// The constraints in `text` (at `path`; a template of the chart in `chart`), when they
    /// refuse a seccomp profile or an emptyDir.
    pub fn read(text: &str, path: &Path, chart: Option<&Path>) -> Option<Self> {
        let (refuses_seccomp, refuses_empty_dir) = (refuses_seccomp(text), refuses_empty_dir(text));
        if !refuses_seccomp && !refuses_empty_dir {
            return None;
        }
        let mut constraints = Constraints {
            path: path.to_path_buf(),
            refuses_seccomp,
            refuses_empty_dir,
            chart: chart.map(Path::to_path_buf),
            ..Default::default()
        };
        for doc in crate::kubernetes::documents_read(text) {
            if doc.get("kind").and_then(Value::as_str) != Some("SecurityContextConstraints") {
                constraints.workloads.extend(workload_id(&doc));
                continue;
            }
            let listed =
                |key: &str| doc.get(key).and_then(Value::as_sequence).into_iter().flatten().filter_map(Value::as_str);
            for user in listed("users") {
                let account = user.strip_prefix("system:serviceaccount:").and_then(|a| a.split_once(':'));
                constraints.accounts.extend(account.map(|(ns, name)| (ns.to_string(), name.to_string())));
            }
            for group in listed("groups") {
                match group {
                    "system:authenticated" | "system:serviceaccounts" => constraints.namespaces.push(None),
                    _ => constraints
                        .namespaces
                        .extend(group.strip_prefix("system:serviceaccounts:").map(|ns| Some(ns.to_string()))),
                }
            }
        }
        Some(constraints)
    }

    /// True when it governs the pods of the manifest at `path` (its `text`): those of its own
    /// file; for a chart's template, its chart's values alone; elsewhere, pods that run as a
    /// service account its `users` or `groups` name (where it names none, RBAC grants it: the
    /// manifests of its directory), except in a manifest that runs a workload its own file runs
    /// too, the variant for clusters without OpenShift (rook's `operator.yaml` beside
    /// `operator-openshift.yaml`).
    pub fn governs(&self, path: &Path, text: &str) -> bool {
        if path == self.path {
            return true;
        }
        if let Some(chart) = &self.chart {
            return path.parent() == Some(chart.as_path());
        }
        let docs: Vec<Value> = crate::kubernetes::documents_read(text).collect();
        if docs.iter().filter_map(workload_id).any(|id| self.workloads.contains(&id)) {
            return false;
        }
        if self.accounts.is_empty() && self.namespaces.is_empty() {
            return path.parent().zip(self.path.parent()).is_some_and(|(here, there)| here.starts_with(there));
        }
        docs.iter().filter_map(|doc| Some((doc, pod_spec(doc)?))).any(|(doc, pod)| {
            let namespace = doc.get("metadata").and_then(|m| m.get("namespace")).and_then(Value::as_str);
            let account = ["serviceAccountName", "serviceAccount"]
                .iter()
                .find_map(|k| pod.get(*k).and_then(Value::as_str))
                .unwrap_or("default");
            let in_namespace = |ns: &str| namespace.is_none_or(|n| n == ns);
            self.accounts.iter().any(|(ns, name)| name == account && in_namespace(ns))
                || self.namespaces.iter().any(|ns| ns.as_deref().is_none_or(in_namespace))
        })
    }
}

/// `Kind/name` of a workload document.
fn workload_id(doc: &Value) -> Option<String> {
    let kind = kind_of(doc)?;
    let name = doc.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str)?;
    Some(format!("{kind}/{name}"))
}

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
    fn constraints_govern_their_file_their_chart_and_the_accounts_they_name() {
        let workload = |name: &str, account: &str| {
            format!(
                "---\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: store\nspec:\n  template:\n    spec:\n      serviceAccountName: {account}\n      containers: []\n"
            )
        };
        let file =
            format!("{SCC}users:\n  - system:serviceaccount:store:operator\n{}", workload("operator", "operator"));
        let scc = Constraints::read(&file, Path::new("deploy/operator-openshift.yaml"), None).unwrap();
        assert!(scc.governs(Path::new("deploy/operator-openshift.yaml"), &file));
        assert!(scc.governs(Path::new("deploy/webhook.yaml"), &workload("webhook", "operator")), "an account it names");
        assert!(!scc.governs(Path::new("deploy/purge.yaml"), &workload("purge", "purge")), "an account it does not");
        let plain = workload("operator", "operator");
        assert!(!scc.governs(Path::new("deploy/operator.yaml"), &plain), "the variant for other clusters");
        let chart =
            Constraints::read(SCC, Path::new("charts/store/templates/scc.yaml"), Some(Path::new("charts/store")));
        let chart = chart.unwrap();
        assert!(chart.governs(Path::new("charts/store/values.yaml"), "image: {}\n"));
        assert!(
            !chart.governs(Path::new("deploy/webhook.yaml"), &workload("webhook", "operator")),
            "its chart's alone"
        );
        assert!(
            Constraints::read(&format!("{SCC}seccompProfiles: ['*']\nvolumes: ['*']\n"), Path::new("s.yaml"), None)
                .is_none()
        );
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
