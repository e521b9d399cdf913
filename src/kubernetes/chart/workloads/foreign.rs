//! The user of a chart's container whose image nothing in the repository builds (a chart of
//! another project's program, or of its own built elsewhere): that image's own, which harden
//! cannot read here. A uid of harden's would not own the files the image gives its user (a data
//! directory, a virtualenv), and `runAsNonRoot` without one fails an image whose `USER` is a name.
//! With its user not known, it may run as root, whose program may need its capabilities and
//! setuid helpers (GitLab's Omnibus binds port 80, changes users and owns its directories).

use yaml_serde::Value;

use super::Moved;
use crate::finding::Finding;
use crate::kubernetes::analyse::not_fixed;
use crate::kubernetes::workload::Workload;
use crate::kubernetes::{Context, change::Op};
use crate::rules;

/// The fields that choose who a pod runs as, and those that take a root program's privileges.
const LEFT_WITH_THE_USER: &[&str] =
    &["runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "allowPrivilegeEscalation", "capabilities"];

/// Drops the user harden would choose for a workload (its `runAsUser`, with the group, the
/// fsGroup and `runAsNonRoot` that go with it), and the privileges it would take from a program
/// that may run as root (no privilege escalation, drop ALL), when one of its containers runs an
/// image the repository does not build; their findings say why instead.
pub(super) fn leave_users(
    workload: &Workload<'_>,
    context: &Context,
    findings: &mut [Finding],
    changes: &mut Result<Vec<Moved>, String>,
) {
    let Some(moved) = changes.as_mut().ok().filter(|_| context.images_read) else { return };
    let chooses_user = |(_, inside, op): &Moved| {
        inside.last().is_some_and(|k| k == "runAsUser") && matches!(op, Op::Set(v) if v.as_u64().is_some())
    };
    if !moved.iter().any(chooses_user) {
        return;
    }
    let foreign = workload.containers.iter().find_map(|c| {
        let image = c.value.get("image").and_then(Value::as_str).filter(|i| !context.builds(i))?;
        Some(context.running_reference(image).replace(crate::orchestration::helm::UNKNOWN, "*"))
    });
    let Some(image) = foreign else { return };
    moved.retain(|(_, inside, _)| !inside.first().is_some_and(|k| LEFT_WITH_THE_USER.contains(&k.as_str())));
    let which = match image.as_str() {
        "*" => "its image's name comes from values harden does not render, so the user it runs as is not known here"
            .to_string(),
        named => format!(
            "it runs {named}, which nothing in this repository builds: the user it runs as, and the files that user owns, are that image's"
        ),
    };
    let why = format!(
        "; {which}, so harden chooses none (set runAsUser to the uid the image runs as, and runAsNonRoot: true)"
    );
    let user_rules = [rules::RUN_AS_NON_ROOT.id, rules::RUN_AS_USER.id, rules::RUN_AS_GROUP.id, rules::FS_GROUP.id];
    let privileges = [rules::PRIVILEGE_ESCALATION.id, rules::CAPABILITIES.id];
    for f in findings.iter_mut().filter(|f| f.fixed && (user_rules.contains(&f.rule) || privileges.contains(&f.rule))) {
        not_fixed(f);
        match f.rule {
            rule if rule == rules::RUN_AS_USER.id => f.message.push_str(&why),
            rule if privileges.contains(&rule) => f.message.push_str(
                "; with its image's user not known (HK202), it may run as root, whose program may need its capabilities and setuid helpers (to bind a low port, change its user, own its files): harden leaves them",
            ),
            _ => f.message.push_str("; harden chooses no user for an image built elsewhere (HK202 says why)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use yaml_serde::Value;

    use crate::config::Config;
    use crate::kubernetes::Context;
    use crate::outcome::Outcome;

    const TEMPLATE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: translate\nspec:\n  template:\n    spec:\n      securityContext:\n        {{- toYaml .Values.podSecurityContext | nindent 8 }}\n      containers:\n      - name: web\n        image: weblate/weblate:4.2.2\n        securityContext:\n          {{- toYaml .Values.securityContext | nindent 10 }}\n";

    /// The new values and the findings of the chart with `values`, in a repository building `built`.
    fn run(values: &str, built: &[&str]) -> (Value, Vec<crate::finding::Finding>) {
        let templates = [("templates/web.yaml".to_string(), TEMPLATE.to_string())];
        let images_built = built.iter().map(|b| b.to_string()).collect();
        let context = Context { images_built, images_read: true, ..Context::default() };
        let outcome = super::super::super::harden(values, &templates, &[], None, &Config::default(), &context);
        let Ok(Outcome::Hardened { rewritten: Some(new), findings, .. }) = outcome else { panic!("{outcome:?}") };
        (yaml_serde::from_str(&new).unwrap(), findings)
    }

    #[test]
    fn an_image_built_elsewhere_keeps_its_own_user() {
        let (new, findings) = run("podSecurityContext:\n  fsGroup: 1000\nsecurityContext: {}\n", &[]);
        let pod = &new["podSecurityContext"];
        assert!(pod.get("runAsUser").is_none() && pod.get("runAsNonRoot").is_none(), "{new:?}");
        assert_eq!(pod["seccompProfile"]["type"], Value::from("RuntimeDefault"), "the rest is hardened");
        assert!(new["securityContext"].get("capabilities").is_none(), "a root program's privileges stay: {new:?}");
        assert!(findings.iter().any(|f| f.rule == "HK205" && !f.fixed && f.message.contains("may run as root")));
        let user = findings.iter().find(|f| f.rule == "HK202").unwrap();
        assert!(!user.fixed && user.message.contains("weblate/weblate:4.2.2, which nothing in this repository builds"));
    }

    #[test]
    fn without_the_repositorys_images_read_no_image_is_called_foreign() {
        let templates = [("templates/web.yaml".to_string(), TEMPLATE.to_string())];
        let values = "podSecurityContext: {}\nsecurityContext: {}\n";
        let outcome =
            super::super::super::harden(values, &templates, &[], None, &Config::default(), &Context::default());
        let Ok(Outcome::Hardened { rewritten: Some(new), .. }) = outcome else { panic!("{outcome:?}") };
        assert!(
            new.contains("runAsUser: 65532"),
            "the sweep's first look judges the chart as a whole run would: {new}"
        );
    }

    #[test]
    fn an_image_built_here_or_a_user_the_values_choose_is_hardened_whole() {
        let (new, _) = run("podSecurityContext: {}\nsecurityContext: {}\n", &["weblate"]);
        assert_eq!(new["podSecurityContext"]["runAsUser"], Value::from(65532));
        let (new, _) = run("podSecurityContext:\n  runAsUser: 1000\nsecurityContext: {}\n", &[]);
        assert_eq!(new["podSecurityContext"]["runAsNonRoot"], Value::Bool(true), "the values chose the user: {new:?}");
        assert_eq!(new["securityContext"]["allowPrivilegeEscalation"], Value::Bool(false));
    }
}
