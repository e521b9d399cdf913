//! Containers that run another project's image in a repository that builds its own: the user
//! that image needs and where it writes are its own, which harden cannot see from here.

use yaml_serde::Value;

use crate::finding::Finding;
use crate::kubernetes::workload::{Container, Workload};
use crate::rules;

/// The containers (not left alone already) that run an image the repository does not build
/// (nor `ko://`), when it builds some, each reported. In an example (a manifest under
/// `examples/`, `docs/`…, or a walkthrough such as `quick_start.yaml`) every such container is
/// left alone: the example shows how to run another project's software beside this one's.
/// Elsewhere, where the manifests run images the repository builds, any other (a development
/// add-on: a database, Prometheus, a gateway; or a sibling project's image in the same
/// namespace, `ghcr.io/acme/acme-ui` beside `ghcr.io/acme/acme`) is left alone when nothing in
/// the manifest chooses its user; where the manifest does (`runAsNonRoot`, or `runAsUser`), its
/// maintainers have said how it runs, and harden hardens the rest. `host_bound` says the
/// workload is left alone whole for the host it needs.
pub(in crate::kubernetes) fn others_images(
    workload: &Workload<'_>,
    alone: &[String],
    host_bound: bool,
    context: &crate::kubernetes::Context,
    findings: &mut Vec<Finding>,
) -> Vec<String> {
    if context.images_built.is_empty() {
        return Vec::new();
    }
    let Some(dir) = context.example_dir.as_deref() else {
        // `runAsNonRoot` alone stops an image that starts as root; beside a container left alone
        // (a CSI driver's root plugin, whose socket its sidecars share), or in a workload the
        // host it needs leaves alone whole (`hostNetwork`, a privileged container), no user is
        // advised: harden would harden nothing more.
        let advice = match alone.is_empty() && !host_bound {
            true => " (once you know the user it runs as, set runAsUser to it, and harden hardens the rest)",
            false => "",
        };
        return super::leave_userless(workload, alone, findings, |c| {
            let (_, image) = built_elsewhere(c, context).filter(|(i, _)| names_another_project(i, context))?;
            let message = format!(
                "{} runs {image}, {}, and nothing here chooses its user: the user it needs and where it writes are that image's, so the container is left alone{advice}",
                c.who(workload),
                origin(c, context)
            );
            Some((&rules::EXAMPLE_OTHER_IMAGE, message))
        });
    };
    let mut names = Vec::new();
    // A container that already sets all the restricted profile asks has nothing left alone.
    for c in workload.containers.iter().filter(|c| !alone.contains(&c.name) && !sets_everything(workload, c)) {
        let Some((_, image)) = built_elsewhere(c, context) else { continue };
        let message = format!(
            "{} runs {image}, {}, in an example ({dir}): the user it needs and where it writes are that image's, so the container is left alone",
            c.who(workload),
            origin(c, context)
        );
        findings.push(Finding::new(&rules::EXAMPLE_OTHER_IMAGE, c.line, message));
        names.push(c.name.clone());
    }
    names
}

/// True when the container, with its pod, sets every field of the restricted profile harden
/// would: a non-root user, a seccomp profile, no privilege escalation, no capabilities, a
/// read-only root.
fn sets_everything(workload: &Workload<'_>, c: &Container<'_>) -> bool {
    let own = c.value.get("securityContext");
    let pod = workload.pod_value.get("securityContext");
    let either = |key: &str| own.and_then(|s| s.get(key)).or_else(|| pod.and_then(|s| s.get(key)));
    let is = |key: &str, want: bool| own.and_then(|s| s.get(key)).and_then(Value::as_bool) == Some(want);
    let drops = own.and_then(|s| s.get("capabilities")?.get("drop")?.as_sequence().cloned()).unwrap_or_default();
    either("runAsNonRoot").and_then(Value::as_bool) == Some(true)
        && either("seccompProfile").is_some()
        && is("allowPrivilegeEscalation", false)
        && is("readOnlyRootFilesystem", true)
        && drops.iter().any(|d| d.as_str().is_some_and(|d| d.eq_ignore_ascii_case("ALL")))
}

/// The image a container runs that the repository, which builds some, does not build, where the
/// container is another project's to configure: in an example, or outside one where the image's
/// name says it is another project's (`names_another_project`). What it writes is that image's,
/// which harden cannot see from here.
pub(in crate::kubernetes) fn another_projects_image(
    c: &Container<'_>,
    context: &crate::kubernetes::Context,
) -> Option<String> {
    if context.images_built.is_empty() {
        return None;
    }
    let (image, named) = built_elsewhere(c, context)?;
    (context.example_dir.is_some() || names_another_project(&image, context)).then_some(named)
}

/// Where the image a container runs that the repository does not build comes from, as a
/// message says it: nowhere here, or an older release of one it builds.
pub(in crate::kubernetes) fn origin(c: &Container<'_>, context: &crate::kubernetes::Context) -> String {
    let newer = c.value.get("image").and_then(Value::as_str).and_then(|i| context.newer_release(i));
    match newer {
        Some(newer) => {
            format!("an older release of an image this repository builds ({newer}), which an older Dockerfile built")
        }
        None => "which harden finds built nowhere in this repository".to_string(),
    }
}

/// The image a container runs (as it runs, and as the report names it), when the repository
/// does not build it.
fn built_elsewhere(c: &Container<'_>, context: &crate::kubernetes::Context) -> Option<(String, String)> {
    let written = c.value.get("image").and_then(Value::as_str)?;
    let image = context.running_reference(written);
    let named = match context.renamed_by(written) {
        Some(kustomization) => format!("{written} ({image}, as {kustomization} names it)"),
        // A chart's template whose values leave the image empty (`{{ .Values.image }}:{{ .Values.tag }}`).
        None if written.split([':', '/', '@']).all(|part| part == crate::orchestration::helm::UNKNOWN) => {
            "an image the chart's values leave empty (given when it is installed)".to_string()
        }
        None => image.to_string(),
    };
    (!context.builds(written)).then_some((image, named))
}

/// True when an image not built here is another project's by its name. Only where the
/// repository's manifests run its own images is a namespaced image in the project's namespace
/// told apart: there it may be a sibling project's (`ghcr.io/acme/acme-ui`, built in another
/// repository) as much as elsewhere. One in a namespace and of a name that say nothing of the
/// project's (`centos/tools` beside `github.com/acme/fleet`) is another project's wherever it
/// runs. A bare name is an official image when it names a release (`kong:3.9`, `consul:1.4.3`)
/// wherever the manifests are; a bare `controller:latest` is a placeholder kustomize or make sets
/// to the project's own.
fn names_another_project(reference: &str, context: &crate::kubernetes::Context) -> bool {
    match crate::orchestration::image_namespace(reference) {
        Some(_) => context.runs_own_images || context.foreign_image(reference),
        None => versioned(reference) || untagged_official(reference),
    }
}

/// True for a bare name with no tag that names a system's or a language's official image
/// (`busybox`, `ubuntu`, `python`), not a placeholder a build sets (`controller`).
fn untagged_official(reference: &str) -> bool {
    !reference.contains([':', '@']) && !crate::dockerfile::image::ImageRef::parse(reference).is_application_image()
}

/// True when a reference's tag names a release (`3.9`, `v1.2.0`), not `latest` or a branch.
fn versioned(reference: &str) -> bool {
    let path = reference.split('@').next().unwrap_or(reference);
    let tag = path.rsplit('/').next().and_then(|last| last.split_once(':')).map(|(_, tag)| tag);
    tag.is_some_and(|t| {
        t.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || (c == 'v' && t[1..].starts_with(|d: char| d.is_ascii_digit())))
    })
}
