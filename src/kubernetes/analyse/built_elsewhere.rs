//! The user of a container in a repository that builds no image (a GitOps repository's
//! deployments, a chart of another project's program, or of its own built elsewhere): that
//! image's own, which harden cannot read here. A uid of harden's would not own the files the
//! image gives its user (a data directory, a virtualenv), and `runAsNonRoot` without one fails an
//! image whose `USER` is a name. With its user not known, it may run as root, whose program may
//! need its capabilities and setuid helpers (GitLab's Omnibus binds port 80, changes users and
//! owns its directories). (Where the repository builds images, one its manifests run under a
//! name harden does not tie to a build is most likely its own, and is hardened whole.)

use yaml_serde::Value;

use super::not_fixed;
use crate::finding::Finding;
use crate::kubernetes::Context;
use crate::kubernetes::change::{Change, Op, Seg};
use crate::kubernetes::workload::{Container, Workload};
use crate::orchestration::helm;
use crate::rules;

/// The fields that choose who a pod runs as, and those that take a root program's privileges.
const LEFT_WITH_THE_USER: &[&str] =
    &["runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "allowPrivilegeEscalation", "capabilities"];

/// Drops the user harden would choose for a workload (its `runAsUser`, with the group, the
/// fsGroup and `runAsNonRoot` that go with it), and the privileges it would take from a program
/// that may run as root (no privilege escalation, drop ALL), when the repository's builds were
/// read, make no image, and one of the containers it changes (not in `alone`) runs an image
/// (not `ko://`); their findings say why instead.
pub(super) fn leave_users(
    workload: &Workload<'_>,
    alone: &[String],
    context: &Context,
    findings: &mut [Finding],
    changes: &mut Vec<Change>,
) {
    let key_in_context = |change: &Change| {
        let at = change.path.iter().position(|s| *s == Seg::Key("securityContext".to_string()))?;
        match change.path.get(at + 1) {
            Some(Seg::Key(key)) => Some(key.clone()),
            _ => None,
        }
    };
    let chooses_user = |c: &Change| {
        key_in_context(c).is_some_and(|k| k == "runAsUser") && matches!(&c.op, Op::Set(v) if v.as_u64().is_some())
    };
    if !context.images_read || !context.images_built.is_empty() || !changes.iter().any(chooses_user) {
        return;
    }
    let handled = workload.containers.iter().filter(|c| !alone.contains(&c.name));
    let foreign = handled.filter_map(|c| c.value.get("image").and_then(Value::as_str)).find(|i| !context.builds(i));
    let Some(image) = foreign.map(|i| context.running_reference(i).replace(helm::UNKNOWN, "*")) else { return };
    // A container that chooses its own user (a sidecar's `runAsUser: 1000`) has said how it
    // runs: its privileges are taken as before.
    let own_user: Vec<&Container<'_>> = workload
        .containers
        .iter()
        .filter(|c| {
            c.value
                .get("securityContext")
                .and_then(|s| s.get("runAsUser"))
                .and_then(Value::as_u64)
                .is_some_and(|u| u > 0)
        })
        .collect();
    let of_own_user = |change: &Change| {
        own_user.iter().any(|c| {
            change.path.windows(2).any(|w| w[0] == Seg::Key(c.list.to_string()) && w[1] == Seg::Index(c.index))
        })
    };
    changes.retain(|c| of_own_user(c) || !key_in_context(c).is_some_and(|k| LEFT_WITH_THE_USER.contains(&k.as_str())));
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
    let left = |f: &Finding| match privileges.contains(&f.rule) {
        true => !own_user.iter().any(|c| c.line == f.line),
        false => user_rules.contains(&f.rule),
    };
    for f in findings.iter_mut().filter(|f| f.fixed && left(f)) {
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

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: IMAGE\n";

    /// The rewritten manifest running `image` (None when unchanged) and its findings, in a
    /// repository building `built`.
    fn run(image: &str, built: &[&str], read: bool) -> (Option<String>, Vec<crate::finding::Finding>) {
        let images_built = built.iter().map(|b| b.to_string()).collect();
        let context = Context { images_built, images_read: read, ..Context::default() };
        let text = DEPLOYMENT.replace("IMAGE", image);
        match crate::kubernetes::harden_with(&text, &Config::default(), &context) {
            Ok(Outcome::Hardened { rewritten, findings, .. }) => (rewritten, findings),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_deployment_of_an_image_built_elsewhere_keeps_its_user_and_privileges() {
        let (new, findings) = run("ghcr.io/acme/web:v1.2.0", &[], true);
        let new = new.expect("the rest is hardened");
        assert!(new.contains("type: RuntimeDefault") && new.contains("readOnlyRootFilesystem: true"), "{new}");
        for field in ["runAsUser", "runAsNonRoot", "runAsGroup", "allowPrivilegeEscalation", "capabilities"] {
            assert!(!new.contains(field), "{field} is the image's: {new}");
        }
        let user = findings.iter().find(|f| f.rule == "HK202").unwrap();
        assert!(
            !user.fixed && user.message.contains("ghcr.io/acme/web:v1.2.0, which nothing in this repository builds")
        );
        assert!(findings.iter().any(|f| f.rule == "HK206" && !f.fixed && f.message.contains("may run as root")));
    }

    #[test]
    fn an_image_built_here_or_in_a_repository_that_builds_one_or_not_read_is_hardened_whole() {
        // An image the manifests name otherwise than the build harden reads is most likely its own.
        for (image, built, read) in [
            ("ghcr.io/acme/web:v1.2.0", &["web"][..], true),
            ("ghcr.io/acme/web:v1.2.0", &["manager"][..], true),
            ("ko://example.com/web", &[][..], true),
            ("ghcr.io/acme/web:v1.2.0", &[][..], false),
        ] {
            let (new, _) = run(image, built, read);
            let new = new.unwrap();
            assert!(new.contains("runAsUser: 65532") && new.contains("- ALL"), "{image}: {new}");
        }
    }

    const TEMPLATE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: translate\nspec:\n  template:\n    spec:\n      securityContext:\n        {{- toYaml .Values.podSecurityContext | nindent 8 }}\n      containers:\n      - name: web\n        image: weblate/weblate:4.2.2\n        securityContext:\n          {{- toYaml .Values.securityContext | nindent 10 }}\n";

    /// The new values and the findings of the chart with `values`, in a repository building `built`.
    fn chart(values: &str, built: &[&str], read: bool) -> (Value, Vec<crate::finding::Finding>) {
        let templates = [("templates/web.yaml".to_string(), TEMPLATE.to_string())];
        let images_built = built.iter().map(|b| b.to_string()).collect();
        let context = Context { images_built, images_read: read, ..Context::default() };
        let outcome = crate::kubernetes::chart::harden(values, &templates, &[], None, &Config::default(), &context);
        let Ok(Outcome::Hardened { rewritten: Some(new), findings, .. }) = outcome else { panic!("{outcome:?}") };
        (yaml_serde::from_str(&new).unwrap(), findings)
    }

    #[test]
    fn a_chart_of_an_image_built_elsewhere_keeps_its_user_and_privileges() {
        let (new, findings) = chart("podSecurityContext:\n  fsGroup: 1000\nsecurityContext: {}\n", &[], true);
        let pod = &new["podSecurityContext"];
        assert!(pod.get("runAsUser").is_none() && pod.get("runAsNonRoot").is_none(), "{new:?}");
        assert_eq!(pod["seccompProfile"]["type"], Value::from("RuntimeDefault"), "the rest is hardened");
        assert!(new["securityContext"].get("capabilities").is_none(), "a root program's privileges stay: {new:?}");
        assert!(findings.iter().any(|f| f.rule == "HK205" && !f.fixed && f.message.contains("may run as root")));
        let user = findings.iter().find(|f| f.rule == "HK202").unwrap();
        assert!(!user.fixed && user.message.contains("weblate/weblate:4.2.2, which nothing in this repository builds"));
    }

    #[test]
    fn a_chart_of_an_image_built_here_of_a_user_the_values_choose_or_not_read_is_hardened_whole() {
        let empty = "podSecurityContext: {}\nsecurityContext: {}\n";
        let (new, _) = chart(empty, &["weblate"], true);
        assert_eq!(new["podSecurityContext"]["runAsUser"], Value::from(65532));
        // The sweep's first look judges the chart as a whole run would.
        let (new, _) = chart(empty, &[], false);
        assert_eq!(new["podSecurityContext"]["runAsUser"], Value::from(65532));
        let (new, _) = chart("podSecurityContext:\n  runAsUser: 1000\nsecurityContext: {}\n", &[], true);
        assert_eq!(new["podSecurityContext"]["runAsNonRoot"], Value::Bool(true), "the values chose the user: {new:?}");
        assert_eq!(new["securityContext"]["allowPrivilegeEscalation"], Value::Bool(false));
    }
}
